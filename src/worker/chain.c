/* The worker's side of the chain: the reporter (resolve_execution signed with the worker key through
 * src/near's nonce manager; "already resolved" is success), the check that a task is a real pending
 * request (re-read with get_request at final blocks and compared field by field: a forged task cannot
 * get a real request resolved), the yield-window check, and the monitor (pages list_pending_requests
 * at final blocks and creates one execute task per request; task creation is idempotent on the
 * coordinator, so a restart that pages from the start again misses nothing and duplicates nothing). */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "worker/worker_int.h"

/* Gas for resolve_execution: the contract resumes the yield and, for outputs over the resume payload,
 * stores the output; 100 Tgas leaves room for both (the callback has its own reserve). */
#define WK_RESOLVE_GAS 100000000000000ull
/* The contract's error text for a second resolution, and for a request already settled. */
#define WK_ALREADY_RESOLVED "was already resolved"
#define WK_ALREADY_SETTLED "already settled"
/* list_pending_requests page size (the contract's maximum is 100). */
#define WK_MONITOR_PAGE 100

int wk_chain_open(wk_chain *c, const char *rpc_url, const char *contract, const near_credentials *key, ol_err *err) {
    memset(c, 0, sizeof *c);
    if (!ol_strlcpy(c->contract, contract, sizeof c->contract))
        return ol_err_set(err, 1, "contract id too long");
    near_rpc_opts o = {.url = rpc_url};
    if (!(c->rpc = near_rpc_new(&o, err)))
        return 1;
    if (!(c->nonces = near_nonce_mgr_new(c->rpc, err)) ||
        !(c->signer = near_signer_new(key->account_id, &key->secret_key, 1, err))) {
        wk_chain_close(c);
        return 1;
    }
    return 0;
}

void wk_chain_close(wk_chain *c) {
    if (c->signer)
        near_signer_free(c->signer);
    if (c->nonces)
        near_nonce_mgr_free(c->nonces);
    if (c->rpc)
        near_rpc_free(c->rpc);
    memset(c, 0, sizeof *c);
}

/* A view call with JSON arguments at final blocks; *out is the parsed JSON value (caller decrefs). */
static int view(wk_chain *c, const char *method, json_t *args, json_t **out, ol_err *err) {
    *out = NULL;
    char *a = json_dumps(args, JSON_COMPACT);
    json_decref(args);
    if (!a)
        return ol_err_set(err, 1, "cannot encode %s arguments", method);
    uint8_t *res = NULL;
    size_t n = 0;
    near_rpc_error d;
    int rc = near_rpc_call_function(c->rpc, c->contract, method, (const uint8_t *)a, strlen(a), NEAR_FINAL, &res, &n, NULL,
                                    &d, err);
    free(a);
    if (rc)
        return rc;
    json_error_t je;
    *out = json_loadb((const char *)res, n, JSON_DECODE_ANY, &je);
    free(res);
    if (!*out)
        return ol_err_set(err, 1, "%s returned invalid JSON: %s", method, je.text);
    return 0;
}

int wk_chain_height(wk_chain *c, uint64_t *height, ol_err *err) {
    uint8_t hash[32];
    near_rpc_error d;
    return near_rpc_block_hash(c->rpc, NEAR_FINAL, hash, height, &d, err);
}

int wk_chain_get_request(wk_chain *c, long long request_id, json_t **out, ol_err *err) {
    json_t *v;
    int rc = view(c, "get_request", json_pack("{s:I}", "request_id", (json_int_t)request_id), &v, err);
    if (rc)
        return rc;
    if (json_is_null(v)) {
        json_decref(v);
        v = NULL;
    }
    *out = v;
    return 0;
}

/* The fields a task's payload must share with the request on chain: what is run and with what. */
static const char *const match_fields[] = {"request_id", "data_id", "sender_id", "source", "input_data",
                                           "resource_limits", "response_format", "secrets_ref", "params"};

bool wk_request_matches(const json_t *chain_req, const json_t *payload, char *why, size_t cap) {
    if (!chain_req) {
        snprintf(why, cap, "the request is not pending on chain (resolved, timed out or never made)");
        return false;
    }
    for (size_t i = 0; i < sizeof match_fields / sizeof match_fields[0]; i++) {
        const json_t *a = json_object_get(chain_req, match_fields[i]), *b = json_object_get(payload, match_fields[i]);
        bool a_none = !a || json_is_null(a), b_none = !b || json_is_null(b);
        if (a_none && b_none)
            continue;
        if (a_none != b_none || !json_equal(a, b)) {
            snprintf(why, cap, "the task's %s differs from the request on chain; refusing to run it", match_fields[i]);
            return false;
        }
    }
    return true;
}

bool wk_window_ok(uint64_t created_height, uint64_t now_height, unsigned yield_blocks, unsigned block_ms, uint64_t need_ms,
                  char *why, size_t cap) {
    uint64_t end = created_height + yield_blocks;
    uint64_t left_blocks = end > now_height ? end - now_height : 0;
    uint64_t left_ms = left_blocks * block_ms;
    if (left_ms < need_ms) {
        snprintf(why, cap, "the yield window has %llu blocks (~%llu ms) left, less than the %llu ms this task may need",
                 (unsigned long long)left_blocks, (unsigned long long)left_ms, (unsigned long long)need_ms);
        return false;
    }
    return true;
}

int wk_chain_resolve(wk_chain *c, long long request_id, const json_t *response, const json_t *report, bool *already,
                     char tx_hash[64], ol_err *err) {
    *already = false;
    tx_hash[0] = 0;
    json_t *args = json_pack("{s:I,s:O}", "request_id", (json_int_t)request_id, "response", response);
    if (args && report)
        json_object_set(args, "report", (json_t *)report);
    char *a = args ? json_dumps(args, JSON_COMPACT) : NULL;
    json_decref(args);
    if (!a)
        return ol_err_set(err, 1, "cannot encode resolve_execution arguments");
    json_t *result = NULL;
    near_send_info info;
    near_rpc_error d;
    memset(&d, 0, sizeof d);
    int rc = near_send_call(c->nonces, c->signer, c->contract, "resolve_execution", (const uint8_t *)a, strlen(a),
                            WK_RESOLVE_GAS, 0, "EXECUTED_OPTIMISTIC", &result, &info, &d, err);
    free(a);
    if (rc == 0) {
        ol_strlcpy(tx_hash, info.hash, 64);
        near_outcome_kind kind;
        uint8_t *value = NULL;
        size_t vl = 0;
        memset(&d, 0, sizeof d);
        rc = near_rpc_outcome(result, &kind, &value, &vl, &d, err);
        free(value);
    }
    json_decref(result);
    if (rc && (strstr(d.message, WK_ALREADY_RESOLVED) || strstr(d.message, WK_ALREADY_SETTLED) ||
               strstr(err ? err->msg : "", WK_ALREADY_RESOLVED))) {
        *already = true; /* the first resolution won; ours is not needed */
        ol_err_clear(err);
        return 0;
    }
    return rc;
}

/* ---- the monitor ---- */

int wk_monitor_page(wk_chain *c, const wk_loop *L, long long *cursor, size_t *created, ol_err *err) {
    *created = 0;
    json_t *page;
    json_t *args = json_pack("{s:I,s:I}", "from_id", (json_int_t)*cursor, "limit", (json_int_t)WK_MONITOR_PAGE);
    int rc = view(c, "list_pending_requests", args, &page, err);
    if (rc)
        return rc;
    if (!json_is_array(page)) {
        json_decref(page);
        return ol_err_set(err, 1, "list_pending_requests did not return an array");
    }
    size_t i;
    json_t *r;
    long long last = *cursor - 1;
    json_array_foreach(page, i, r) {
        json_t *rid = json_object_get(r, "request_id");
        const char *data_id = json_string_value(json_object_get(r, "data_id"));
        const char *sender = json_string_value(json_object_get(r, "sender_id"));
        if (!json_is_integer(rid) || !data_id) {
            OL_WARN("monitor: a pending request without request_id or data_id; skipped");
            continue;
        }
        json_t *body = json_pack("{s:I,s:s,s:s,s:O}", "request_id", json_integer_value(rid), "data_id", data_id, "kind",
                                 "execute", "payload", r);
        if (sender)
            json_object_set_new(body, "account", json_string(sender));
        char *text = json_dumps(body, JSON_COMPACT);
        json_decref(body);
        char *resp = NULL;
        ol_err e;
        long st = text ? wk_http(L, "POST", "/tasks", NULL, text, strlen(text), 10000, false, &resp, NULL, &e) : 0;
        free(text);
        free(resp);
        if (st == 201)
            (*created)++;
        else if (st != 200) {
            json_decref(page);
            return ol_err_set(err, 1, "monitor: creating the task of request %lld failed (HTTP %ld)",
                              (long long)json_integer_value(rid), st);
        }
        last = json_integer_value(rid);
    }
    /* A full page: continue after its last id; a short one: the end, start from the top next time
     * (requests are answered or time out within the yield window, so the list stays short). */
    *cursor = json_array_size(page) == WK_MONITOR_PAGE ? last + 1 : 0;
    json_decref(page);
    return 0;
}
