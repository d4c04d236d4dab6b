/* NEAR JSON-RPC client over libcurl (reference §4). One POST per attempt with a fresh easy handle,
 * a capped response buffer, and a classification of every failure into NEAR_ERPC_* so callers can act
 * on it (re-read the nonce, refresh the block hash, report the contract's message). Only transient
 * failures are retried, with exponential backoff. */
#include "near/near.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct near_rpc {
    char *url;
    long timeout_ms, connect_timeout_ms, backoff_ms, backoff_max_ms;
    int max_retries;
    atomic_ulong next_id;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;
static void curl_init(void) { curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

near_rpc *near_rpc_new(const near_rpc_opts *o, ol_err *err) {
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK) {
        ol_err_set(err, NEAR_ERPC_TRANSPORT, "rpc: curl_global_init failed");
        return NULL;
    }
    if (!o || !o->url || (strncmp(o->url, "http://", 7) != 0 && strncmp(o->url, "https://", 8) != 0)) {
        ol_err_set(err, NEAR_EINVAL, "rpc: URL must start with http:// or https://");
        return NULL;
    }
    if (o->max_retries > NEAR_RPC_MAX_RETRIES) {
        ol_err_set(err, NEAR_ELIMIT, "rpc: max_retries %d exceeds NEAR_RPC_MAX_RETRIES (%d)", o->max_retries,
                   NEAR_RPC_MAX_RETRIES);
        return NULL;
    }
    near_rpc *r = calloc(1, sizeof *r);
    if (!r || !(r->url = strdup(o->url))) {
        free(r);
        ol_err_set(err, NEAR_ENOMEM, "rpc: out of memory");
        return NULL;
    }
    r->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 30000;
    r->connect_timeout_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 5000;
    r->max_retries = o->max_retries < 0 ? 0 : o->max_retries == 0 ? 3 : o->max_retries;
    r->backoff_ms = o->backoff_ms > 0 ? o->backoff_ms : 200;
    r->backoff_max_ms = o->backoff_max_ms > 0 ? o->backoff_max_ms : 5000;
    atomic_init(&r->next_id, 1);
    return r;
}

void near_rpc_free(near_rpc *rpc) {
    if (!rpc) return;
    free(rpc->url);
    free(rpc);
}

/* ---- one HTTP exchange ---- */
typedef struct resp_buf {
    char *data;
    size_t len, cap;
    bool too_big;
} resp_buf;

static size_t on_data(char *p, size_t size, size_t n, void *ud) {
    resp_buf *b = ud;
    size_t add = size * n, need;
    if (!ol_add_size(b->len, add, &need) || need + 1 > NEAR_RPC_MAX_RESPONSE) {
        b->too_big = true;
        return 0; /* aborts the transfer */
    }
    if (need + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 16384;
        while (cap < need + 1) cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d) return 0;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, add);
    b->len = need;
    b->data[b->len] = 0;
    return add;
}

static void set_detail(near_rpc_error *d, int code, long http) {
    if (!d) return;
    d->code = code;
    d->http_status = http;
}

/* Performs one POST; 0 with *body (malloc'd) and *http, or a transport/timeout error. */
static int post_once(near_rpc *rpc, const char *payload, char **body, long *http, ol_err *err) {
    CURL *c = curl_easy_init();
    if (!c) return ol_err_set(err, NEAR_ENOMEM, "rpc: curl_easy_init failed");
    resp_buf b = {0};
    char curl_msg[CURL_ERROR_SIZE] = "";
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, rpc->url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, rpc->timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, rpc->connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_msg);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    CURLcode rc = curl_easy_perform(c);
    int out = 0;
    if (rc == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, http);
        *body = b.data ? b.data : strdup("");
        b.data = NULL;
    } else if (b.too_big) {
        out = ol_err_set(err, NEAR_ERPC_SERVER, "rpc: response exceeds NEAR_RPC_MAX_RESPONSE (%d bytes)",
                         NEAR_RPC_MAX_RESPONSE);
    } else if (rc == CURLE_OPERATION_TIMEDOUT) {
        out = ol_err_set(err, NEAR_ERPC_TIMEOUT, "rpc: no answer from %s within %ld ms", rpc->url, rpc->timeout_ms);
    } else {
        out = ol_err_set(err, NEAR_ERPC_TRANSPORT, "rpc: %s: %s", rpc->url, curl_msg[0] ? curl_msg : curl_easy_strerror(rc));
    }
    free(b.data);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return out;
}

/* ---- error envelope ---- */
static const char *jstr(const json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

static void copy(char *dst, size_t cap, const char *s) { ol_strlcpy(dst, s ? s : "", cap); }

/* Short JSON text of v for messages (bounded). */
static void dump(const json_t *v, char *out, size_t cap) {
    char *s = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    copy(out, cap, s ? s : "null");
    free(s);
}

/* InvalidTxError object (from error.data.TxExecutionError or an outcome Failure): fills the
 * variant and nonces; returns the NEAR_ERPC_* code it maps to. */
static int invalid_tx(const json_t *itx, near_rpc_error *d) {
    const char *variant = json_string_value(itx);
    const json_t *inner = NULL;
    if (!variant && json_is_object(itx) && json_object_size(itx) == 1) {
        void *it = json_object_iter((json_t *)itx);
        variant = json_object_iter_key(it);
        inner = json_object_iter_value(it);
    }
    if (!variant) variant = "unknown";
    if (d) {
        copy(d->tx_error, sizeof d->tx_error, variant);
        if (inner) {
            d->tx_nonce = (uint64_t)json_integer_value(json_object_get(inner, "tx_nonce"));
            d->ak_nonce = (uint64_t)json_integer_value(json_object_get(inner, "ak_nonce"));
        }
    }
    if (!strcmp(variant, "InvalidNonce")) return NEAR_ERPC_INVALID_NONCE;
    if (!strcmp(variant, "Expired")) return NEAR_ERPC_EXPIRED;
    return NEAR_ERPC_INVALID_TX;
}

static int classify_error(const json_t *e, long http, near_rpc_error *d, ol_err *err) {
    const char *name = jstr(e, "name");
    const json_t *cause = json_object_get(e, "cause");
    const char *cname = jstr(cause, "name");
    const json_t *data = json_object_get(e, "data");
    const char *msg = jstr(e, "message");
    char text[512];
    if (json_is_string(data)) copy(text, sizeof text, json_string_value(data));
    else if (data) dump(data, text, sizeof text);
    else copy(text, sizeof text, msg ? msg : "no message");
    if (d) {
        copy(d->name, sizeof d->name, name);
        copy(d->cause, sizeof d->cause, cname);
        copy(d->message, sizeof d->message, text);
    }
    int code;
    const json_t *itx = json_object_get(json_object_get(data, "TxExecutionError"), "InvalidTxError");
    if (cname && !strcmp(cname, "UNKNOWN_ACCOUNT")) code = NEAR_ERPC_UNKNOWN_ACCOUNT;
    else if (cname && !strcmp(cname, "UNKNOWN_ACCESS_KEY")) code = NEAR_ERPC_UNKNOWN_KEY;
    else if (cname && (!strcmp(cname, "UNKNOWN_BLOCK") || !strcmp(cname, "UNKNOWN_CHUNK") ||
                       !strcmp(cname, "UNKNOWN_EPOCH")))
        code = NEAR_ERPC_UNKNOWN_BLOCK;
    else if (cname && !strcmp(cname, "UNKNOWN_TRANSACTION")) code = NEAR_ERPC_UNKNOWN_TX;
    else if (cname && !strcmp(cname, "NO_CONTRACT_CODE")) code = NEAR_ERPC_NO_CODE;
    else if (cname && !strcmp(cname, "TIMEOUT_ERROR")) code = NEAR_ERPC_TIMEOUT;
    else if (itx) code = invalid_tx(itx, d);
    else if (cname && !strcmp(cname, "INVALID_TRANSACTION")) code = NEAR_ERPC_INVALID_TX;
    else if (cname && !strcmp(cname, "CONTRACT_EXECUTION_ERROR")) code = NEAR_ERPC_CONTRACT;
    else if (name && !strcmp(name, "REQUEST_VALIDATION_ERROR")) code = NEAR_ERPC_REQUEST;
    else if (name && !strcmp(name, "INTERNAL_ERROR")) code = NEAR_ERPC_SERVER;
    else if (!name && json_is_string(data) && strstr(text, "does not exist while viewing") && !strncmp(text, "account ", 8))
        code = NEAR_ERPC_UNKNOWN_ACCOUNT; /* legacy nodes: no "cause", only the data string */
    else if (!name && json_is_string(data) && !strcmp(text, "Timeout")) code = NEAR_ERPC_TIMEOUT;
    else if (http == 408) code = NEAR_ERPC_TIMEOUT;
    else if (http >= 500) code = NEAR_ERPC_SERVER;
    else if (!name) code = NEAR_ERPC_SERVER;
    else code = NEAR_ERPC_HANDLER;
    set_detail(d, code, http);
    const char *what = cname ? cname : name ? name : "error";
    if (code == NEAR_ERPC_INVALID_NONCE && d)
        return ol_err_set(err, code, "rpc: invalid transaction: InvalidNonce (tx nonce %llu, access key nonce %llu)",
                          (unsigned long long)d->tx_nonce, (unsigned long long)d->ak_nonce);
    if (itx && d) return ol_err_set(err, code, "rpc: invalid transaction: %s: %s", d->tx_error, text);
    return ol_err_set(err, code, "rpc: %s: %s", what, text);
}

/* Query results that carry an "error" string instead of an error envelope (reference §4.1). */
static int classify_result_error(const char *e, near_rpc_error *d, ol_err *err) {
    int code;
    if (strstr(e, "access key") && strstr(e, "does not exist")) code = NEAR_ERPC_UNKNOWN_KEY;
    else if (!strncmp(e, "account ", 8) && strstr(e, "does not exist")) code = NEAR_ERPC_UNKNOWN_ACCOUNT;
    else if (strstr(e, "wasm execution failed") || strstr(e, "FunctionCallError")) code = NEAR_ERPC_CONTRACT;
    else code = NEAR_ERPC_HANDLER;
    /* the contract's own words: the panic message when there is one */
    const char *pm = strstr(e, "panic_msg: \"");
    char text[512];
    if (code == NEAR_ERPC_CONTRACT && pm) {
        pm += 12;
        const char *end = strstr(pm, "\" }");
        size_t n = end ? (size_t)(end - pm) : strlen(pm);
        if (n >= sizeof text) n = sizeof text - 1;
        memcpy(text, pm, n);
        text[n] = 0;
    } else {
        copy(text, sizeof text, e);
    }
    if (d) {
        set_detail(d, code, 200);
        copy(d->message, sizeof d->message, text);
    }
    return ol_err_set(err, code, "rpc: %s", code == NEAR_ERPC_CONTRACT && pm ? text : e);
}

static bool transient(int code) {
    return code == NEAR_ERPC_TRANSPORT || code == NEAR_ERPC_TIMEOUT || code == NEAR_ERPC_SERVER;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* One attempt: POST, parse, classify. On success *result is the "result" member. */
static int attempt(near_rpc *rpc, const char *payload, json_t **result, bool *retry_ok, near_rpc_error *d,
                   ol_err *err) {
    char *body = NULL;
    long http = 0;
    int rc = post_once(rpc, payload, &body, &http, err);
    *retry_ok = true;
    if (rc) {
        set_detail(d, rc, 0);
        return rc;
    }
    json_error_t je;
    json_t *root = json_loads(body, 0, &je);
    if (!root || !json_is_object(root)) {
        /* e.g. a proxy's HTML 502 page: only 5xx/408 are worth retrying */
        rc = http == 408 ? NEAR_ERPC_TIMEOUT : NEAR_ERPC_SERVER;
        *retry_ok = http == 408 || http >= 500;
        set_detail(d, rc, http);
        ol_err_set(err, rc, "rpc: HTTP %ld with a body that is not a JSON-RPC object (%.80s)", http, body);
        json_decref(root);
        free(body);
        return rc;
    }
    free(body);
    json_t *e = json_object_get(root, "error");
    json_t *res = json_object_get(root, "result");
    if (e) {
        rc = classify_error(e, http, d, err);
        *retry_ok = transient(rc);
    } else if (!res || http != 200) {
        rc = http >= 500 || http == 408 ? (http == 408 ? NEAR_ERPC_TIMEOUT : NEAR_ERPC_SERVER) : NEAR_ERPC_SERVER;
        *retry_ok = http >= 500 || http == 408;
        set_detail(d, rc, http);
        ol_err_set(err, rc, "rpc: HTTP %ld without %s", http, res ? "success status" : "\"result\" or \"error\"");
    } else if (json_is_object(res) && json_is_string(json_object_get(res, "error"))) {
        rc = classify_result_error(jstr(res, "error"), d, err);
        *retry_ok = false;
    } else {
        *result = json_incref(res);
    }
    json_decref(root);
    return rc;
}

int near_rpc_call(near_rpc *rpc, const char *method, json_t *params, json_t **result, near_rpc_error *detail,
                  ol_err *err) {
    near_rpc_error scratch;
    near_rpc_error *d = detail ? detail : &scratch;
    memset(d, 0, sizeof *d);
    *result = NULL;
    if (!params) params = json_array();
    unsigned long id = atomic_fetch_add(&rpc->next_id, 1);
    json_t *req = json_pack("{s:s, s:I, s:s, s:o}", "jsonrpc", "2.0", "id", (json_int_t)id, "method", method,
                            "params", params);
    char *payload = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (!payload) return ol_err_set(err, NEAR_ENOMEM, "rpc: cannot build the %s request", method);
    int rc = 0;
    long delay = rpc->backoff_ms;
    for (int i = 0; i <= rpc->max_retries; i++) {
        bool retry_ok;
        d->attempts = i + 1;
        rc = attempt(rpc, payload, result, &retry_ok, d, err);
        if (!rc || !retry_ok || i == rpc->max_retries) break;
        sleep_ms(delay);
        delay = delay * 2 > rpc->backoff_max_ms ? rpc->backoff_max_ms : delay * 2;
    }
    free(payload);
    if (rc && d->attempts > 1 && err) {
        char prev[sizeof err->msg];
        ol_strlcpy(prev, err->msg, sizeof prev);
        ol_err_set(err, rc, "%s (after %d attempts)", prev, d->attempts);
    }
    return rc;
}

/* ---- typed methods ---- */
static json_t *with_ref(json_t *o, near_block_ref ref) {
    if (ref.finality) json_object_set_new(o, "finality", json_string(ref.finality));
    else if (ref.hash) json_object_set_new(o, "block_id", json_string(ref.hash));
    else json_object_set_new(o, "block_id", json_integer((json_int_t)ref.height));
    return o;
}

int near_rpc_status(near_rpc *rpc, json_t **result, near_rpc_error *detail, ol_err *err) {
    return near_rpc_call(rpc, "status", json_array(), result, detail, err);
}

int near_rpc_block(near_rpc *rpc, near_block_ref ref, json_t **result, near_rpc_error *detail, ol_err *err) {
    return near_rpc_call(rpc, "block", with_ref(json_object(), ref), result, detail, err);
}

int near_rpc_block_hash(near_rpc *rpc, near_block_ref ref, uint8_t out[32], uint64_t *height, near_rpc_error *detail,
                        ol_err *err) {
    json_t *b;
    int rc = near_rpc_block(rpc, ref, &b, detail, err);
    if (rc) return rc;
    json_t *hdr = json_object_get(b, "header");
    const char *h = jstr(hdr, "hash");
    ol_err sub;
    if (!h) rc = ol_err_set(err, NEAR_ERPC_SERVER, "rpc: block without header.hash");
    else if (ol_base58_decode_exact(h, strlen(h), out, 32, &sub))
        rc = ol_err_set(err, NEAR_ERPC_SERVER, "rpc: block header.hash: %s", sub.msg);
    else if (height)
        *height = (uint64_t)json_integer_value(json_object_get(hdr, "height"));
    json_decref(b);
    return rc;
}

int near_rpc_chunk(near_rpc *rpc, const char *chunk_hash, near_block_ref ref, uint64_t shard_id, json_t **result,
                   near_rpc_error *detail, ol_err *err) {
    json_t *p;
    if (chunk_hash) {
        p = json_pack("{s:s}", "chunk_id", chunk_hash);
    } else {
        p = json_pack("{s:I}", "shard_id", (json_int_t)shard_id);
        if (ref.hash) json_object_set_new(p, "block_id", json_string(ref.hash));
        else json_object_set_new(p, "block_id", json_integer((json_int_t)ref.height));
    }
    return near_rpc_call(rpc, "chunk", p, result, detail, err);
}

int near_rpc_gas_price(near_rpc *rpc, const near_block_ref *ref, near_u128 *price, near_rpc_error *detail,
                       ol_err *err) {
    json_t *p = json_array();
    if (!ref) json_array_append_new(p, json_null());
    else if (ref->hash) json_array_append_new(p, json_string(ref->hash));
    else json_array_append_new(p, json_integer((json_int_t)ref->height));
    json_t *r;
    int rc = near_rpc_call(rpc, "gas_price", p, &r, detail, err);
    if (rc) return rc;
    const char *s = jstr(r, "gas_price");
    ol_err sub;
    if (!s) rc = ol_err_set(err, NEAR_ERPC_SERVER, "rpc: gas_price: result without a \"gas_price\" string");
    else if (near_u128_parse(s, strlen(s), price, &sub))
        rc = ol_err_set(err, NEAR_ERPC_SERVER, "rpc: gas_price \"%.48s\": %s", s, sub.msg);
    json_decref(r);
    return rc;
}

int near_rpc_protocol_config(near_rpc *rpc, near_block_ref ref, json_t **result, near_rpc_error *detail, ol_err *err) {
    return near_rpc_call(rpc, "EXPERIMENTAL_protocol_config", with_ref(json_object(), ref), result, detail, err);
}

static int query(near_rpc *rpc, json_t *p, near_block_ref ref, json_t **result, near_rpc_error *detail,
                 ol_err *err) {
    if (!p) return ol_err_set(err, NEAR_ENOMEM, "rpc: cannot build the query");
    return near_rpc_call(rpc, "query", with_ref(p, ref), result, detail, err);
}

static int check_account(const char *id, ol_err *err) {
    ol_err sub;
    if (!id || near_account_id_check(id, strlen(id), &sub))
        return ol_err_set(err, NEAR_EINVAL, "rpc: %s", id ? sub.msg : "account id missing");
    return 0;
}

int near_rpc_view_account(near_rpc *rpc, const char *account_id, near_block_ref ref, json_t **result,
                          near_rpc_error *detail, ol_err *err) {
    int rc = check_account(account_id, err);
    if (rc) return rc;
    return query(rpc, json_pack("{s:s, s:s}", "request_type", "view_account", "account_id", account_id), ref, result,
                 detail, err);
}

int near_rpc_view_access_key(near_rpc *rpc, const char *account_id, const near_public_key *pk, near_block_ref ref,
                             json_t **result, near_rpc_error *detail, ol_err *err) {
    int rc = check_account(account_id, err);
    if (rc) return rc;
    char k[NEAR_KEY_STR];
    near_public_key_format(pk, k);
    return query(rpc,
                 json_pack("{s:s, s:s, s:s}", "request_type", "view_access_key", "account_id", account_id,
                           "public_key", k),
                 ref, result, detail, err);
}

int near_rpc_view_access_key_list(near_rpc *rpc, const char *account_id, near_block_ref ref, json_t **result,
                                  near_rpc_error *detail, ol_err *err) {
    int rc = check_account(account_id, err);
    if (rc) return rc;
    return query(rpc, json_pack("{s:s, s:s}", "request_type", "view_access_key_list", "account_id", account_id), ref,
                 result, detail, err);
}

static char *b64_of(const uint8_t *p, size_t n, ol_err *err) {
    size_t cap = ol_base64_encoded_len(n) + 1;
    char *s = malloc(cap);
    if (!s) {
        ol_err_set(err, NEAR_ENOMEM, "rpc: out of memory");
        return NULL;
    }
    if (ol_base64_encode(p, n, s, cap, err)) {
        free(s);
        return NULL;
    }
    return s;
}

int near_rpc_call_function(near_rpc *rpc, const char *account_id, const char *method, const uint8_t *args,
                           size_t args_len, near_block_ref ref, uint8_t **out, size_t *out_len, json_t **logs,
                           near_rpc_error *detail, ol_err *err) {
    int rc = check_account(account_id, err);
    if (rc) return rc;
    char *a = b64_of(args, args_len, err);
    if (!a) return err ? err->code : NEAR_ENOMEM;
    json_t *r;
    rc = query(rpc,
               json_pack("{s:s, s:s, s:s, s:s}", "request_type", "call_function", "account_id", account_id,
                         "method_name", method, "args_base64", a),
               ref, &r, detail, err);
    free(a);
    if (rc) return rc;
    json_t *bytes = json_object_get(r, "result");
    size_t n = json_array_size(bytes);
    uint8_t *buf = json_is_array(bytes) ? malloc(n + 1) : NULL;
    if (!buf) {
        json_decref(r);
        return ol_err_set(err, NEAR_ERPC_SERVER, "rpc: call_function result without a \"result\" byte array");
    }
    for (size_t i = 0; i < n; i++) {
        json_int_t v = json_integer_value(json_array_get(bytes, i));
        if (!json_is_integer(json_array_get(bytes, i)) || v < 0 || v > 255) {
            free(buf);
            json_decref(r);
            return ol_err_set(err, NEAR_ERPC_SERVER, "rpc: call_function result byte %zu is not 0..255", i);
        }
        buf[i] = (uint8_t)v;
    }
    buf[n] = 0;
    *out = buf;
    *out_len = n;
    if (logs) *logs = json_incref(json_object_get(r, "logs"));
    json_decref(r);
    return 0;
}

int near_rpc_view_state(near_rpc *rpc, const char *account_id, const uint8_t *prefix, size_t prefix_len,
                        near_block_ref ref, json_t **result, near_rpc_error *detail, ol_err *err) {
    int rc = check_account(account_id, err);
    if (rc) return rc;
    char *p = b64_of(prefix, prefix_len, err);
    if (!p) return err ? err->code : NEAR_ENOMEM;
    rc = query(rpc,
               json_pack("{s:s, s:s, s:s}", "request_type", "view_state", "account_id", account_id, "prefix_base64", p),
               ref, result, detail, err);
    free(p);
    return rc;
}

int near_rpc_view_code(near_rpc *rpc, const char *account_id, near_block_ref ref, json_t **result,
                       near_rpc_error *detail, ol_err *err) {
    int rc = check_account(account_id, err);
    if (rc) return rc;
    return query(rpc, json_pack("{s:s, s:s}", "request_type", "view_code", "account_id", account_id), ref, result,
                 detail, err);
}

static bool valid_wait(const char *w) {
    static const char *ok[] = {"NONE", "INCLUDED", "EXECUTED_OPTIMISTIC", "INCLUDED_FINAL", "EXECUTED", "FINAL"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (!strcmp(w, ok[i])) return true;
    return false;
}

int near_rpc_send_tx(near_rpc *rpc, const char *signed_tx_base64, const char *wait_until, json_t **result,
                     near_rpc_error *detail, ol_err *err) {
    if (wait_until && !valid_wait(wait_until))
        return ol_err_set(err, NEAR_EINVAL, "rpc: unknown wait_until level '%.32s'", wait_until);
    json_t *p = json_pack("{s:s}", "signed_tx_base64", signed_tx_base64);
    if (wait_until) json_object_set_new(p, "wait_until", json_string(wait_until));
    return near_rpc_call(rpc, "send_tx", p, result, detail, err);
}

int near_rpc_broadcast_tx_async(near_rpc *rpc, const char *signed_tx_base64, char *hash_out, size_t cap,
                                near_rpc_error *detail, ol_err *err) {
    json_t *r;
    int rc = near_rpc_call(rpc, "broadcast_tx_async", json_pack("[s]", signed_tx_base64), &r, detail, err);
    if (rc) return rc;
    const char *h = json_string_value(r);
    if (!h) rc = ol_err_set(err, NEAR_ERPC_SERVER, "rpc: broadcast_tx_async result is not a hash string");
    else if (!ol_strlcpy(hash_out, h, cap)) rc = ol_err_set(err, NEAR_ELIMIT, "rpc: hash longer than %zu", cap);
    json_decref(r);
    return rc;
}

int near_rpc_broadcast_tx_commit(near_rpc *rpc, const char *signed_tx_base64, json_t **result,
                                 near_rpc_error *detail, ol_err *err) {
    return near_rpc_call(rpc, "broadcast_tx_commit", json_pack("[s]", signed_tx_base64), result, detail, err);
}

int near_rpc_tx_status(near_rpc *rpc, const char *tx_hash, const char *sender_id, const char *wait_until,
                       bool experimental, json_t **result, near_rpc_error *detail, ol_err *err) {
    int rc = check_account(sender_id, err);
    if (rc) return rc;
    if (wait_until && !valid_wait(wait_until))
        return ol_err_set(err, NEAR_EINVAL, "rpc: unknown wait_until level '%.32s'", wait_until);
    json_t *p = json_pack("{s:s, s:s}", "tx_hash", tx_hash, "sender_account_id", sender_id);
    if (wait_until) json_object_set_new(p, "wait_until", json_string(wait_until));
    return near_rpc_call(rpc, experimental ? "EXPERIMENTAL_tx_status" : "tx", p, result, detail, err);
}

/* ---- outcomes ---- */
/* The most useful text of an ActionError kind: the contract's panic/trap string when present. */
static void failure_text(const json_t *failure, char *out, size_t cap) {
    const json_t *kind = json_object_get(json_object_get(failure, "ActionError"), "kind");
    const json_t *fce = json_object_get(kind, "FunctionCallError");
    const char *exec = jstr(fce, "ExecutionError");
    if (exec) copy(out, cap, exec);
    else dump(kind ? kind : failure, out, cap);
}

int near_rpc_outcome(const json_t *result, near_outcome_kind *kind, uint8_t **value, size_t *value_len,
                     near_rpc_error *detail, ol_err *err) {
    if (value) *value = NULL;
    if (value_len) *value_len = 0;
    const json_t *st = json_object_get(result, "status");
    if (!st || json_is_string(st)) {
        *kind = NEAR_OUTCOME_PENDING; /* "Started", "NotStarted", or absent with wait_until NONE/INCLUDED */
        return 0;
    }
    const json_t *sv = json_object_get(st, "SuccessValue");
    if (json_is_string(sv)) {
        *kind = NEAR_OUTCOME_SUCCESS_VALUE;
        const char *s = json_string_value(sv);
        size_t cap = ol_base64_decoded_max(strlen(s)) + 1, n;
        uint8_t *buf = malloc(cap);
        if (!buf) return ol_err_set(err, NEAR_ENOMEM, "rpc: out of memory");
        ol_err sub;
        if (ol_base64_decode(s, strlen(s), buf, cap, &n, &sub)) {
            free(buf);
            return ol_err_set(err, NEAR_ERPC_SERVER, "rpc: SuccessValue: %s", sub.msg);
        }
        buf[n] = 0;
        if (value) {
            *value = buf;
            if (value_len) *value_len = n;
        } else {
            free(buf);
        }
        return 0;
    }
    if (json_object_get(st, "SuccessReceiptId")) {
        *kind = NEAR_OUTCOME_SUCCESS_RECEIPT;
        return 0;
    }
    const json_t *f = json_object_get(st, "Failure");
    if (!f) {
        char t[128];
        dump(st, t, sizeof t);
        return ol_err_set(err, NEAR_ERPC_SERVER, "rpc: unknown outcome status %s", t);
    }
    near_rpc_error scratch;
    near_rpc_error *d = detail ? detail : &scratch;
    memset(d, 0, sizeof *d);
    const json_t *itx = json_object_get(f, "InvalidTxError");
    if (itx) {
        int code = invalid_tx(itx, d);
        dump(itx, d->message, sizeof d->message);
        set_detail(d, code, 200);
        return ol_err_set(err, code, "rpc: transaction failed: InvalidTxError: %s", d->message);
    }
    failure_text(f, d->message, sizeof d->message);
    set_detail(d, NEAR_ERPC_CONTRACT, 200);
    const json_t *idx = json_object_get(json_object_get(f, "ActionError"), "index");
    if (json_is_integer(idx))
        return ol_err_set(err, NEAR_ERPC_CONTRACT, "rpc: action %lld failed: %s", (long long)json_integer_value(idx),
                          d->message);
    return ol_err_set(err, NEAR_ERPC_CONTRACT, "rpc: transaction failed: %s", d->message);
}
