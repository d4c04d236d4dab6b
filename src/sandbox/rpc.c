/* sandbox JSON-RPC: NEAR's methods and error envelope (../shared/reference/near-protocol.md §4) over
 * ol_http. Every handler takes the chain mutex; send_tx and tx wait on the chain's condition variable
 * (released while waiting) until the requested execution level or SB_WAIT_TIMEOUT_MS (then 408). */
#include "sandbox/runtime.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct rpc_out {
    int http;
    json_t *result; /* exactly one of result / error */
    json_t *error;
} rpc_out;

static void set_error(rpc_out *o, int http, const char *name, const char *cause, json_t *info, json_t *data, int code,
                      const char *message) {
    o->http = http;
    o->error = json_pack("{s:s,s:{s:s,s:o},s:i,s:s,s:o}", "name", name, "cause", "name", cause, "info",
                         info ? info : json_object(), "code", code, "message", message, "data",
                         data ? data : json_null());
}

static void handler_error(rpc_out *o, const char *cause, json_t *info, json_t *data) {
    set_error(o, 200, "HANDLER_ERROR", cause, info, data, -32000, "Server error");
}

static void parse_error(rpc_out *o, const char *msg) {
    set_error(o, 400, "REQUEST_VALIDATION_ERROR", "PARSE_ERROR", json_pack("{s:s}", "error_message", msg),
              json_string(msg), -32700, "Parse error");
}

static void internal_error(rpc_out *o, const char *msg) {
    set_error(o, 500, "INTERNAL_ERROR", "INTERNAL_ERROR", json_pack("{s:s}", "error_message", msg), json_string(msg),
              -32000, "Server error");
}

static void block_info(json_t *obj, const sb_block *b) {
    json_object_set_new(obj, "block_height", json_integer((json_int_t)b->height));
    json_object_set_new(obj, "block_hash", sb_hash_json(b->hash));
}

/* Resolves {finality} / {block_id} / [block_id] / nothing to a block; false with o set when unknown. */
static bool resolve_block(sb_chain *c, const json_t *params, sb_block *out, rpc_out *o) {
    const json_t *id = NULL;
    if (json_is_array(params)) id = json_array_get(params, 0);
    else if (json_is_object(params)) id = json_object_get(params, "block_id");
    if (json_is_object(params) && json_object_get(params, "sync_checkpoint")) {
        const char *s = json_string_value(json_object_get(params, "sync_checkpoint"));
        if (s && (strcmp(s, "genesis") == 0 || strcmp(s, "earliest_available") == 0)) {
            id = NULL;
            if (sb_block_get_height(c, c->genesis_height, out, NULL) == 0) return true;
        }
    }
    ol_err e;
    int rc;
    if (json_is_integer(id)) {
        rc = json_integer_value(id) < 0 ? 1 : sb_block_get_height(c, (uint64_t)json_integer_value(id), out, &e);
    } else if (json_is_string(id)) {
        uint8_t h[32];
        rc = ol_base58_decode_exact(json_string_value(id), json_string_length(id), h, 32, NULL) ? 1
                                                                                               : sb_block_get_hash(c, h, out, &e);
    } else if (id && !json_is_null(id)) {
        parse_error(o, "block_id must be a height or a base58 hash");
        return false;
    } else {
        rc = sb_block_get_height(c, c->height, out, &e);
    }
    if (rc == 0) return true;
    if (rc < 0) {
        internal_error(o, e.msg);
        return false;
    }
    char *txt = json_dumps(id, JSON_ENCODE_ANY);
    handler_error(o, "UNKNOWN_BLOCK", json_pack("{s:s}", "block_reference", txt ? txt : "?"),
                  json_string("DB Not Found Error: BLOCK HEIGHT or HASH"));
    free(txt);
    return false;
}

static void chunk_hash(const sb_block *b, uint8_t out[32]) {
    /* one chunk per block; its hash only has to be unique and stable */
    uint8_t buf[33];
    memcpy(buf, b->hash, 32);
    buf[32] = 'c';
    crypto_hash_sha256(out, buf, sizeof buf);
}

static json_t *chunk_header(const sb_block *b) {
    uint8_t ch[32], zero[32] = {0};
    chunk_hash(b, ch);
    return json_pack("{s:o,s:o,s:o,s:o,s:o,s:i,s:I,s:I,s:i,s:I,s:I,s:s,s:s,s:s,s:o,s:o,s:[],s:s}", "chunk_hash",
                     sb_hash_json(ch), "prev_block_hash", sb_hash_json(b->prev_hash), "outcome_root", sb_hash_json(zero),
                     "prev_state_root", sb_hash_json(zero), "encoded_merkle_root", sb_hash_json(zero), "encoded_length", 8,
                     "height_created", (json_int_t)b->height, "height_included", (json_int_t)b->height, "shard_id", 0,
                     "gas_used", (json_int_t)0, "gas_limit", (json_int_t)1000000000000000ll, "rent_paid", "0",
                     "validator_reward", "0", "balance_burnt", "0", "outgoing_receipts_root", sb_hash_json(zero),
                     "tx_root", sb_hash_json(zero), "validator_proposals", "signature",
                     "ed25519:1111111111111111111111111111111111111111111111111111111111111111");
}

static json_t *block_view(sb_chain *c, const sb_block *b) {
    uint8_t zero[32] = {0};
    char ts[32];
    snprintf(ts, sizeof ts, "%llu", (unsigned long long)b->ts);
    near_u128 supply = (near_u128)SB_GENESIS_NEAR * NEAR_ONE_NEAR;
    return json_pack(
        "{s:s,s:{s:I,s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:[b],s:o,s:I,s:s,s:o,s:[],s:[b],s:s,s:I,s:s,s:s,"
        "s:o,s:[],s:o,s:o,s:o,s:o,s:o,s:[],s:s,s:i},s:[o]}",
        "author", SB_ROOT_ACCOUNT, "header", "height", (json_int_t)b->height, "prev_height",
        (json_int_t)(b->height ? b->height - 1 : 0), "epoch_id", sb_hash_json(zero), "next_epoch_id", sb_hash_json(zero),
        "hash", sb_hash_json(b->hash), "prev_hash", sb_hash_json(b->prev_hash), "prev_state_root", sb_hash_json(zero),
        "block_body_hash", sb_hash_json(zero), "chunk_receipts_root", sb_hash_json(zero), "chunk_headers_root",
        sb_hash_json(zero), "chunk_tx_root", sb_hash_json(zero), "outcome_root", sb_hash_json(zero), "chunks_included", 1,
        "challenges_root", sb_hash_json(zero), "timestamp", (json_int_t)b->ts, "timestamp_nanosec", ts, "random_value",
        sb_hash_json(b->hash), "validator_proposals", "chunk_mask", 1, "gas_price", OL_STR(SB_GAS_PRICE),
        "block_ordinal", (json_int_t)b->height + 1, "rent_paid", "0", "validator_reward", "0", "total_supply",
        sb_u128_json(supply), "challenges_result", "last_final_block", sb_hash_json(b->hash), "last_ds_final_block",
        sb_hash_json(b->hash), "next_bp_hash", sb_hash_json(zero), "block_merkle_root", sb_hash_json(zero),
        "epoch_sync_data_hash", json_null(), "approvals", "signature",
        "ed25519:1111111111111111111111111111111111111111111111111111111111111111", "latest_protocol_version", 73,
        "chunks", chunk_header(b));
}

static json_t *status_view(sb_chain *c) {
    sb_block head, gen;
    if (sb_block_get_height(c, c->height, &head, NULL) || sb_block_get_height(c, c->genesis_height, &gen, NULL))
        return NULL;
    char t1[64], t2[64];
    time_t s1 = (time_t)(head.ts / 1000000000ull), s2 = (time_t)(gen.ts / 1000000000ull);
    struct tm tm;
    strftime(t1, sizeof t1, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&s1, &tm));
    strftime(t2, sizeof t2, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&s2, &tm));
    uint8_t zero[32] = {0};
    return json_pack("{s:{s:s,s:s,s:s,s:s},s:s,s:i,s:i,s:[{s:s}],s:{s:o,s:I,s:o,s:s,s:b,s:o,s:I,s:s,s:o,s:I},s:n,"
                     "s:n,s:s,s:s,s:I,s:o}",
                     "version", "version", "outlayer-sandbox", "build", "outlayer", "commit", "", "rustc_version", "",
                     "chain_id", "sandbox", "protocol_version", 73, "latest_protocol_version", 73, "validators",
                     "account_id", SB_ROOT_ACCOUNT, "sync_info", "latest_block_hash", sb_hash_json(head.hash),
                     "latest_block_height", (json_int_t)head.height, "latest_state_root", sb_hash_json(zero),
                     "latest_block_time", t1, "syncing", 0, "earliest_block_hash", sb_hash_json(gen.hash),
                     "earliest_block_height", (json_int_t)gen.height, "earliest_block_time", t2, "epoch_id",
                     sb_hash_json(zero), "epoch_start_height", (json_int_t)gen.height, "validator_account_id",
                     "validator_public_key", "node_public_key",
                     "ed25519:11111111111111111111111111111111", "node_key", "ed25519:11111111111111111111111111111111",
                     "uptime_sec", (json_int_t)0, "genesis_hash", sb_hash_json(gen.hash));
}

static json_t *protocol_config(sb_chain *c) {
    char gt[64];
    time_t s = (time_t)(c->genesis_ts / 1000000000ull);
    struct tm tm;
    strftime(gt, sizeof gt, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&s, &tm));
    return json_pack("{s:i,s:s,s:s,s:I,s:i,s:i,s:I,s:s,s:s,s:{s:s,s:{},s:{},s:{s:i,s:s}},s:I,s:[i,i]}",
                     "protocol_version", 73, "genesis_time", gt, "chain_id", "sandbox", "genesis_height",
                     (json_int_t)c->genesis_height, "num_block_producer_seats", 1, "epoch_length", 43200, "gas_limit",
                     (json_int_t)1000000000000000ll, "min_gas_price", OL_STR(SB_GAS_PRICE), "max_gas_price",
                     "10000000000000000000000", "runtime_config", "storage_amount_per_byte", "10000000000000000000",
                     "transaction_costs", "wasm_config", "account_creation_config",
                     "min_allowed_top_level_account_length", 65, "registrar_account_id", "registrar",
                     "transaction_validity_period", (json_int_t)SB_TX_VALIDITY_BLOCKS, "minimum_stake_ratio", 1, 6250);
}

/* ---- query ---------------------------------------------------------------------------------------- */
static void unknown_account(rpc_out *o, const char *id, const sb_block *b) {
    char msg[160];
    snprintf(msg, sizeof msg, "account %s does not exist while viewing", id);
    handler_error(o, "UNKNOWN_ACCOUNT",
                  json_pack("{s:s,s:I,s:o}", "requested_account_id", id, "block_height", (json_int_t)b->height,
                            "block_hash", sb_hash_json(b->hash)),
                  json_string(msg));
}

static json_t *b64(const uint8_t *p, size_t n) {
    size_t cap = ol_base64_encoded_len(n) + 1;
    char *s = malloc(cap);
    json_t *j = NULL;
    if (s && ol_base64_encode(p, n, s, cap, NULL) == 0) j = json_string(s);
    free(s);
    return j ? j : json_string("");
}

static bool b64_arg(const json_t *v, uint8_t **out, size_t *n, rpc_out *o, const char *field) {
    const char *s = json_string_value(v);
    if (!s) s = "";
    size_t len = strlen(s), cap = ol_base64_decoded_max(len);
    *out = malloc(cap + 1);
    ol_err e;
    if (!*out || ol_base64_decode(s, len, *out, cap + 1, n, &e)) {
        char msg[320];
        snprintf(msg, sizeof msg, "%s: %s", field, *out ? e.msg : "out of memory");
        free(*out);
        *out = NULL;
        parse_error(o, msg);
        return false;
    }
    return true;
}

/* query call_function: runs the method with the view context inside a savepoint that is always rolled back. */
static void view_call(sb_chain *c, json_t *p, const char *id, sb_account *acc, const sb_block *b, rpc_out *o) {
    const char *method = json_string_value(json_object_get(p, "method_name"));
    if (!method) return parse_error(o, "missing field `method_name`");
    uint8_t *args;
    size_t n;
    if (!b64_arg(json_object_get(p, "args_base64"), &args, &n, o, "args_base64")) return;
    sb_call x = {.view = true, .account = id, .signer = id, .predecessor = id, .input = args, .input_len = n,
                 .height = b->height, .timestamp = b->ts, .acc = acc, .returned_promise = -1,
                 .yield_blocks = c->yield_blocks};
    memcpy(x.random_seed, b->hash, 32);
    ol_err e;
    if (sb_exec(c, "SAVEPOINT view", &e)) {
        free(args);
        return internal_error(o, e.msg);
    }
    int rc = sb_run(c, acc->code_hash, method, &x, &e);
    sb_exec(c, "ROLLBACK TO view", NULL);
    sb_exec(c, "RELEASE view", NULL);
    if (rc) {
        internal_error(o, e.msg);
    } else if (x.error) {
        char msg[600];
        snprintf(msg, sizeof msg, "wasm execution failed with error: %s", x.err_debug);
        o->result = json_pack("{s:s,s:O}", "error", msg, "logs", x.logs);
    } else {
        json_t *bytes = json_array();
        for (size_t i = 0; x.has_ret && i < x.ret_len; i++) json_array_append_new(bytes, json_integer(x.ret[i]));
        o->result = json_pack("{s:o,s:O}", "result", bytes, "logs", x.logs);
    }
    if (o->result) block_info(o->result, b);
    sb_call_free(&x);
    free(args);
}

static void query(sb_chain *c, json_t *params, rpc_out *o) {
    json_t *p = params;
    json_t *own = NULL;
    if (json_is_array(params)) {
        /* path form ["account/<id>", data]: always optimistic */
        const char *path = json_string_value(json_array_get(params, 0));
        const char *data = json_string_value(json_array_get(params, 1));
        if (!path) return parse_error(o, "query path must be a string");
        char buf[1024];
        if (!ol_strlcpy(buf, path, sizeof buf)) return parse_error(o, "query path too long");
        char *kind = buf, *a1 = strchr(kind, '/'), *a2 = NULL;
        if (!a1) return parse_error(o, "query path needs <kind>/<account_id>");
        *a1++ = 0;
        if ((a2 = strchr(a1, '/'))) *a2++ = 0;
        own = json_pack("{s:s,s:s}", "account_id", a1, "finality", "optimistic");
        if (strcmp(kind, "account") == 0) json_object_set_new(own, "request_type", json_string("view_account"));
        else if (strcmp(kind, "access_key") == 0 && a2) {
            json_object_set_new(own, "request_type", json_string("view_access_key"));
            json_object_set_new(own, "public_key", json_string(a2));
        } else if (strcmp(kind, "access_key") == 0)
            json_object_set_new(own, "request_type", json_string("view_access_key_list"));
        else if (strcmp(kind, "code") == 0) json_object_set_new(own, "request_type", json_string("view_code"));
        else if (strcmp(kind, "contract") == 0 || strcmp(kind, "call") == 0) {
            uint8_t bin[4096];
            size_t bn = 0;
            if (data && *data && ol_base58_decode(data, strlen(data), bin, sizeof bin - 1, &bn, NULL)) {
                json_decref(own);
                return parse_error(o, "query data must be base58");
            }
            bool call = strcmp(kind, "call") == 0;
            json_object_set_new(own, "request_type", json_string(call ? "call_function" : "view_state"));
            json_object_set_new(own, call ? "args_base64" : "prefix_base64", b64(bin, bn));
            if (call) json_object_set_new(own, "method_name", json_string(a2 ? a2 : ""));
        } else {
            json_decref(own);
            return parse_error(o, "unknown query path kind");
        }
        p = own;
    }
    if (!json_is_object(p)) return parse_error(o, "query params must be an object");
    const char *rt = json_string_value(json_object_get(p, "request_type"));
    const char *id = json_string_value(json_object_get(p, "account_id"));
    sb_block b;
    if (!rt) {
        parse_error(o, "missing field `request_type`");
        goto out;
    }
    if (!id || !near_account_id_valid(id)) {
        parse_error(o, "invalid account_id");
        goto out;
    }
    if (!resolve_block(c, p, &b, o)) goto out;
    sb_account acc;
    ol_err e;
    int rc = sb_account_get(c, id, &acc, &e);
    if (rc < 0) {
        internal_error(o, e.msg);
        goto out;
    }
    if (strcmp(rt, "view_account") == 0) {
        if (rc) {
            unknown_account(o, id, &b);
            goto out;
        }
        o->result = json_pack("{s:o,s:o,s:o,s:I,s:i}", "amount", sb_u128_json(acc.amount), "locked",
                              sb_u128_json(acc.locked), "code_hash", sb_hash_json(acc.code_hash), "storage_usage",
                              (json_int_t)acc.storage_usage, "storage_paid_at", 0);
    } else if (strcmp(rt, "view_access_key") == 0) {
        const char *pks = json_string_value(json_object_get(p, "public_key"));
        near_public_key pk;
        if (!pks || near_public_key_parse(pks, &pk, &e)) {
            parse_error(o, "invalid public_key");
            goto out;
        }
        if (rc) {
            unknown_account(o, id, &b);
            goto out;
        }
        char pkt[NEAR_KEY_STR];
        near_public_key_format(&pk, pkt);
        sb_key k;
        rc = sb_key_get(c, id, pkt, &k, &e);
        if (rc < 0) {
            internal_error(o, e.msg);
            goto out;
        }
        if (rc == 1) {
            char msg[256];
            snprintf(msg, sizeof msg, "access key %s does not exist while viewing", pkt);
            o->result = json_pack("{s:s,s:[]}", "error", msg, "logs");
        } else {
            o->result = json_pack("{s:I,s:o}", "nonce", (json_int_t)k.nonce, "permission", sb_key_permission_json(&k));
            sb_key_clear(&k);
        }
    } else if (strcmp(rt, "view_access_key_list") == 0) {
        if (rc) {
            unknown_account(o, id, &b);
            goto out;
        }
        json_t *keys = json_array();
        sqlite3_stmt *st;
        if (sb_prepare(c->db, "SELECT public_key FROM access_keys WHERE account_id=? ORDER BY public_key", &st) == SQLITE_OK) {
            sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
            while (sqlite3_step(st) == SQLITE_ROW) {
                const char *pkt = (const char *)sqlite3_column_text(st, 0);
                sb_key k;
                if (sb_key_get(c, id, pkt, &k, NULL) != 0) continue;
                json_array_append_new(keys, json_pack("{s:s,s:{s:I,s:o}}", "public_key", pkt, "access_key", "nonce",
                                                      (json_int_t)k.nonce, "permission", sb_key_permission_json(&k)));
                sb_key_clear(&k);
            }
            sb_release(st);
        }
        o->result = json_pack("{s:o}", "keys", keys);
    } else if (strcmp(rt, "view_code") == 0 || strcmp(rt, "call_function") == 0) {
        if (rc) {
            unknown_account(o, id, &b);
            goto out;
        }
        static const uint8_t zero[32];
        bool call = strcmp(rt, "call_function") == 0;
        if (memcmp(acc.code_hash, zero, 32) == 0) {
            if (call) {
                char msg[200];
                snprintf(msg, sizeof msg,
                         "wasm execution failed with error: CompilationError(CodeDoesNotExist { account_id: \"%s\" })",
                         id);
                o->result = json_pack("{s:s,s:[]}", "error", msg, "logs");
            } else {
                handler_error(o, "NO_CONTRACT_CODE",
                              json_pack("{s:s,s:I,s:o}", "contract_account_id", id, "block_height", (json_int_t)b.height,
                                        "block_hash", sb_hash_json(b.hash)),
                              json_sprintf("Contract code for contract ID #%s has never been observed on the node", id));
            }
            goto out;
        }
        if (call) {
            view_call(c, p, id, &acc, &b, o);
            goto out;
        }
        sqlite3_stmt *st;
        if (sb_prepare(c->db, "SELECT code FROM code WHERE hash=?", &st) == SQLITE_OK) {
            sqlite3_bind_blob(st, 1, acc.code_hash, 32, SQLITE_STATIC);
            if (sqlite3_step(st) == SQLITE_ROW)
                o->result = json_pack("{s:o,s:o}", "code_base64",
                                      b64(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0)), "hash",
                                      sb_hash_json(acc.code_hash));
            sb_release(st);
        }
        if (!o->result) internal_error(o, "code record missing");
    } else if (strcmp(rt, "view_state") == 0) {
        if (rc) {
            unknown_account(o, id, &b);
            goto out;
        }
        uint8_t *prefix;
        size_t pn;
        if (!b64_arg(json_object_get(p, "prefix_base64"), &prefix, &pn, o, "prefix_base64")) goto out;
        json_t *values = json_array();
        sqlite3_stmt *st;
        if (sb_prepare(c->db, "SELECT key, value FROM data WHERE account_id=? AND substr(key,1,?)=? ORDER BY key", &st) == SQLITE_OK) {
            sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 2, (sqlite3_int64)pn);
            sqlite3_bind_blob(st, 3, prefix, (int)pn, SQLITE_STATIC);
            size_t bytes = 0;
            while (sqlite3_step(st) == SQLITE_ROW) {
                bytes += (size_t)sqlite3_column_bytes(st, 0) + (size_t)sqlite3_column_bytes(st, 1);
                if (bytes > SB_VIEW_STATE_MAX) break;
                json_array_append_new(values,
                                      json_pack("{s:o,s:o}", "key",
                                                b64(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0)),
                                                "value",
                                                b64(sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1))));
            }
            sb_release(st);
            if (bytes > SB_VIEW_STATE_MAX) {
                free(prefix);
                json_decref(values);
                handler_error(o, "TOO_LARGE_CONTRACT_STATE",
                              json_pack("{s:s,s:I,s:o}", "contract_account_id", id, "block_height", (json_int_t)b.height,
                                        "block_hash", sb_hash_json(b.hash)),
                              json_sprintf("State of contract %s is too large to be viewed", id));
                goto out;
            }
        }
        free(prefix);
        o->result = json_pack("{s:o}", "values", values);
    } else {
        char msg[128];
        snprintf(msg, sizeof msg, "unknown variant `%.64s`", rt);
        parse_error(o, msg);
        goto out;
    }
    if (o->result) block_info(o->result, &b);
out:
    json_decref(own);
}

/* ---- transactions ------------------------------------------------------------------------------------ */
static int level_rank(const char *w) {
    if (!w || strcmp(w, "EXECUTED_OPTIMISTIC") == 0 || strcmp(w, "EXECUTED") == 0 || strcmp(w, "FINAL") == 0) return 2;
    if (strcmp(w, "INCLUDED") == 0 || strcmp(w, "INCLUDED_FINAL") == 0) return 1;
    if (strcmp(w, "NONE") == 0) return 0;
    return -1;
}

static void invalid_tx(rpc_out *o, json_t *txerr_full) {
    /* txerr_full = {"TxExecutionError":{"InvalidTxError":...}} */
    handler_error(o, "INVALID_TRANSACTION", json_deep_copy(txerr_full), txerr_full);
}

/* Waits (mu held) for hash to reach rank; fills o. */
static void wait_tx(sb_chain *c, const uint8_t hash[32], const char *wait, bool experimental, rpc_out *o) {
    int rank = level_rank(wait);
    const char *level = wait ? wait : "EXECUTED_OPTIMISTIC";
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += c->wait_ms / 1000;
    dl.tv_nsec += (c->wait_ms % 1000) * 1000000;
    if (dl.tv_nsec >= 1000000000) dl.tv_sec++, dl.tv_nsec -= 1000000000;
    for (;;) {
        json_t *txerr = NULL;
        sb_tx_stage st = sb_tx_stage_of(c, hash, &txerr);
        if (st == SB_TX_INVALID) return invalid_tx(o, txerr ? txerr : json_object());
        json_decref(txerr);
        if (rank == 0 && st != SB_TX_UNKNOWN) {
            o->result = json_pack("{s:s}", "final_execution_status", "NONE");
            return;
        }
        if ((rank == 1 && st >= SB_TX_INCLUDED) || (rank == 2 && st == SB_TX_EXECUTED)) {
            o->result = sb_tx_result(c, hash, experimental, st == SB_TX_EXECUTED && rank == 2 ? level : "INCLUDED");
            if (!o->result) internal_error(o, "transaction result unavailable");
            return;
        }
        if (rank == 0) {
            char h[64];
            ol_base58_encode(hash, 32, h, sizeof h, NULL);
            return handler_error(o, "UNKNOWN_TRANSACTION", json_pack("{s:s}", "requested_transaction_hash", h),
                                 json_sprintf("Transaction %s doesn't exist", h));
        }
        if (c->stopping) dl.tv_sec = 0, dl.tv_nsec = 0;
        if (c->stopping || c->wait_ms <= 0 || pthread_cond_timedwait(&c->cond, &c->mu, &dl) != 0) {
            struct timespec now;
            clock_gettime(CLOCK_REALTIME, &now);
            if (now.tv_sec > dl.tv_sec || (now.tv_sec == dl.tv_sec && now.tv_nsec >= dl.tv_nsec)) {
                o->http = 408;
                o->error = json_pack("{s:s,s:{s:s,s:{}},s:i,s:s,s:s}", "name", "HANDLER_ERROR", "cause", "name",
                                     "TIMEOUT_ERROR", "info", "code", -32000, "message", "Server error", "data",
                                     "Timeout");
                return;
            }
        }
    }
}

static const char *param_str(json_t *params, const char *key, size_t pos) {
    if (json_is_array(params)) return json_string_value(json_array_get(params, pos));
    return json_string_value(json_object_get(params, key));
}

static void send_tx(sb_chain *c, json_t *params, const char *wait, bool async, rpc_out *o) {
    const char *b64s = param_str(params, "signed_tx_base64", 0);
    if (!b64s) return parse_error(o, "missing field `signed_tx_base64`");
    if (level_rank(wait) < 0) return parse_error(o, "unknown wait_until");
    uint8_t hash[32];
    char signer[NEAR_ACCOUNT_ID_MAX + 1];
    json_t *txerr = NULL;
    ol_err e;
    int rc = sb_tx_submit(c, b64s, hash, signer, &txerr, &e);
    if (rc == SB_SUBMIT_PARSE) return parse_error(o, e.msg);
    if (rc == SB_SUBMIT_INTERNAL) return internal_error(o, e.msg);
    if (async) {
        json_decref(txerr);
        o->result = sb_hash_json(hash);
        return;
    }
    if (rc == SB_SUBMIT_INVALID) return invalid_tx(o, json_pack("{s:{s:o}}", "TxExecutionError", "InvalidTxError", txerr));
    wait_tx(c, hash, wait, false, o);
}

static void tx_status(sb_chain *c, json_t *params, bool experimental, rpc_out *o) {
    const char *wait = json_is_object(params) ? json_string_value(json_object_get(params, "wait_until")) : NULL;
    if (level_rank(wait) < 0) return parse_error(o, "unknown wait_until");
    const char *b64s = json_is_object(params) ? json_string_value(json_object_get(params, "signed_tx_base64")) : NULL;
    if (json_is_array(params) && json_array_size(params) == 1) b64s = json_string_value(json_array_get(params, 0));
    uint8_t hash[32];
    if (b64s) {
        char signer[NEAR_ACCOUNT_ID_MAX + 1];
        json_t *txerr = NULL;
        ol_err e;
        int rc = sb_tx_submit(c, b64s, hash, signer, &txerr, &e);
        if (rc == SB_SUBMIT_PARSE) return parse_error(o, e.msg);
        if (rc == SB_SUBMIT_INTERNAL) return internal_error(o, e.msg);
        if (rc == SB_SUBMIT_INVALID)
            return invalid_tx(o, json_pack("{s:{s:o}}", "TxExecutionError", "InvalidTxError", txerr));
    } else {
        const char *h = param_str(params, "tx_hash", 0), *sender = param_str(params, "sender_account_id", 1);
        if (!h || !sender) return parse_error(o, "missing field `tx_hash` or `sender_account_id`");
        if (ol_base58_decode_exact(h, strlen(h), hash, 32, NULL)) return parse_error(o, "tx_hash must be base58 of 32 bytes");
        if (!near_account_id_valid(sender)) return parse_error(o, "invalid sender_account_id");
    }
    wait_tx(c, hash, wait, experimental, o);
}

static void fast_forward(sb_chain *c, json_t *params, rpc_out *o) {
    json_t *d = json_object_get(params, "delta_height");
    if (!json_is_integer(d) || json_integer_value(d) < 0 || json_integer_value(d) > c->fast_forward_max) {
        char msg[96];
        snprintf(msg, sizeof msg, "delta_height must be an integer in 0..=%ld (SB_FAST_FORWARD_MAX)", c->fast_forward_max);
        return parse_error(o, msg);
    }
    for (json_int_t i = 0; i < json_integer_value(d); i++) {
        ol_err e;
        if (sb_chain_produce(c, &e)) return internal_error(o, e.msg);
    }
    pthread_cond_broadcast(&c->cond);
    o->result = json_object();
}

/* EXPERIMENTAL_changes: data_changes of accounts in one block (recorded by storage_write/remove); the other
 * change types are answered with an empty list. */
static void changes(sb_chain *c, json_t *params, rpc_out *o) {
    if (!json_is_object(params)) return parse_error(o, "params must be an object");
    const char *type = json_string_value(json_object_get(params, "changes_type"));
    if (!type) return parse_error(o, "missing field `changes_type`");
    sb_block b;
    if (!resolve_block(c, params, &b, o)) return;
    json_t *list = json_array();
    if (strcmp(type, "data_changes") == 0) {
        json_t *ids = json_object_get(params, "account_ids");
        uint8_t *prefix;
        size_t pn;
        if (!json_is_array(ids)) {
            json_decref(list);
            return parse_error(o, "missing field `account_ids`");
        }
        if (!b64_arg(json_object_get(params, "key_prefix_base64"), &prefix, &pn, o, "key_prefix_base64")) {
            json_decref(list);
            return;
        }
        size_t i;
        json_t *id;
        json_array_foreach(ids, i, id) {
            sqlite3_stmt *st;
            if (!json_is_string(id) ||
                sb_prepare(c->db, "SELECT key, value, receipt_id FROM changes WHERE height=? AND account_id=?"
                                   " AND substr(key,1,?)=? ORDER BY rowid", &st) != SQLITE_OK)
                continue;
            sqlite3_bind_int64(st, 1, (sqlite3_int64)b.height);
            sqlite3_bind_text(st, 2, json_string_value(id), -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 3, (sqlite3_int64)pn);
            sqlite3_bind_blob(st, 4, pn ? (const void *)prefix : "", (int)pn, SQLITE_STATIC);
            while (sqlite3_step(st) == SQLITE_ROW) {
                bool del = sqlite3_column_type(st, 1) == SQLITE_NULL;
                json_t *ch = json_pack("{s:s,s:o}", "account_id", json_string_value(id), "key_base64",
                                       b64(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0)));
                if (!del)
                    json_object_set_new(ch, "value_base64",
                                        b64(sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1)));
                json_array_append_new(list, json_pack("{s:{s:s,s:o},s:s,s:o}", "cause", "type", "receipt_processing",
                                                      "receipt_hash", sb_hash_json(sqlite3_column_blob(st, 2)), "type",
                                                      del ? "data_deletion" : "data_update", "change", ch));
            }
            sb_release(st);
        }
        free(prefix);
    } else if (strcmp(type, "account_changes") != 0 && strcmp(type, "all_access_key_changes") != 0 &&
               strcmp(type, "single_access_key_changes") != 0 && strcmp(type, "contract_code_changes") != 0) {
        json_decref(list);
        return parse_error(o, "unknown changes_type");
    }
    o->result = json_pack("{s:o,s:o}", "block_hash", sb_hash_json(b.hash), "changes", list);
}

static void dispatch(sb_chain *c, const char *method, json_t *params, rpc_out *o) {
    sb_block b;
    if (strcmp(method, "status") == 0) {
        o->result = status_view(c);
        if (!o->result) internal_error(o, "status unavailable");
    } else if (strcmp(method, "block") == 0) {
        if (resolve_block(c, params, &b, o)) o->result = block_view(c, &b);
    } else if (strcmp(method, "chunk") == 0) {
        json_t *p = params;
        const char *ch = json_is_array(p) ? json_string_value(json_array_get(p, 0))
                                          : json_string_value(json_object_get(p, "chunk_id"));
        bool found = false;
        if (ch) {
            /* chunk hashes are derived from block hashes: scan recent blocks (bounded) */
            uint8_t want[32], got[32];
            if (ol_base58_decode_exact(ch, strlen(ch), want, 32, NULL) == 0)
                for (uint64_t h = c->height + 1; h-- > 0 && c->height - h < 100000;) {
                    if (sb_block_get_height(c, h, &b, NULL)) break;
                    chunk_hash(&b, got);
                    if (memcmp(got, want, 32) == 0) {
                        found = true;
                        break;
                    }
                }
        } else {
            json_t *ref = json_is_array(p) ? json_array_get(json_array_get(p, 0), 0) : NULL;
            json_t *tmp = ref ? json_pack("{s:O}", "block_id", ref) : json_incref(p);
            found = resolve_block(c, tmp, &b, o);
            json_decref(tmp);
            if (!found) return;
        }
        if (!found)
            return handler_error(o, "UNKNOWN_CHUNK", json_pack("{s:s}", "chunk_hash", ch ? ch : ""),
                                 json_string("Chunk Missing (unavailable on the node)"));
        json_t *txs = json_array(), *rcs = json_array();
        sb_chunk_contents(c, b.height, txs, rcs);
        o->result = json_pack("{s:s,s:o,s:o,s:o}", "author", SB_ROOT_ACCOUNT, "header", chunk_header(&b), "transactions",
                              txs, "receipts", rcs);
    } else if (strcmp(method, "gas_price") == 0) {
        if (resolve_block(c, params, &b, o)) o->result = json_pack("{s:s}", "gas_price", OL_STR(SB_GAS_PRICE));
    } else if (strcmp(method, "query") == 0) {
        query(c, params, o);
    } else if (strcmp(method, "send_tx") == 0) {
        const char *w = json_is_object(params) ? json_string_value(json_object_get(params, "wait_until")) : NULL;
        send_tx(c, params, w, false, o);
    } else if (strcmp(method, "broadcast_tx_commit") == 0) {
        send_tx(c, params, "EXECUTED_OPTIMISTIC", false, o);
    } else if (strcmp(method, "broadcast_tx_async") == 0) {
        send_tx(c, params, NULL, true, o);
    } else if (strcmp(method, "tx") == 0) {
        tx_status(c, params, false, o);
    } else if (strcmp(method, "EXPERIMENTAL_tx_status") == 0) {
        tx_status(c, params, true, o);
    } else if (strcmp(method, "EXPERIMENTAL_protocol_config") == 0) {
        if (resolve_block(c, params, &b, o)) o->result = protocol_config(c);
    } else if (strcmp(method, "validators") == 0) {
        o->result = json_pack("{s:[{s:s,s:s,s:b,s:s,s:[i],s:I,s:I,s:I,s:I}],s:[{s:s,s:s,s:s,s:[i]}],s:[],s:[],s:[],"
                              "s:[],s:I,s:i}",
                              "current_validators", "account_id", SB_ROOT_ACCOUNT, "public_key",
                              "ed25519:11111111111111111111111111111111", "is_slashed", 0, "stake", "0", "shards", 0,
                              "num_produced_blocks", (json_int_t)c->height, "num_expected_blocks", (json_int_t)c->height,
                              "num_produced_chunks", (json_int_t)c->height, "num_expected_chunks", (json_int_t)c->height,
                              "next_validators", "account_id", SB_ROOT_ACCOUNT, "public_key",
                              "ed25519:11111111111111111111111111111111", "stake", "0", "shards", 0,
                              "current_fishermen", "next_fishermen", "current_proposals", "prev_epoch_kickout",
                              "epoch_start_height", (json_int_t)c->genesis_height, "epoch_height", 1);
    } else if (strcmp(method, "EXPERIMENTAL_receipt") == 0) {
        const char *rid = param_str(params, "receipt_id", 0);
        uint8_t id[32];
        if (!rid || ol_base58_decode_exact(rid, strlen(rid), id, 32, NULL))
            return parse_error(o, "receipt_id must be base58 of 32 bytes");
        o->result = sb_receipt_json(c, id);
        if (!o->result)
            handler_error(o, "UNKNOWN_RECEIPT", json_pack("{s:s}", "receipt_id", rid),
                          json_sprintf("Receipt with id %s has never been observed on this node", rid));
    } else if (strcmp(method, "EXPERIMENTAL_changes") == 0) {
        changes(c, params, o);
    } else if (strcmp(method, "network_info") == 0) {
        o->result = json_pack("{s:[],s:i,s:i,s:i,s:i,s:[]}", "active_peers", "num_active_peers", 0, "peer_max_count", 0,
                              "sent_bytes_per_sec", 0, "received_bytes_per_sec", 0, "known_producers");
    } else if (strcmp(method, "sandbox_fast_forward") == 0) {
        fast_forward(c, params, o);
    } else {
        set_error(o, 400, "REQUEST_VALIDATION_ERROR", "METHOD_NOT_FOUND", json_pack("{s:s}", "method_name", method),
                  json_string(method), -32601, "Method not found");
    }
}

int sb_rpc_handle(sb_chain *c, const char *body, size_t len, char **out, size_t *out_len) {
    rpc_out o = {.http = 200};
    json_error_t je;
    json_t *req = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je), *id = NULL;
    if (!json_is_object(req)) {
        char msg[256];
        snprintf(msg, sizeof msg, "invalid JSON-RPC request: %s", req ? "not an object" : je.text);
        parse_error(&o, msg);
    } else {
        id = json_object_get(req, "id");
        const char *method = json_string_value(json_object_get(req, "method"));
        json_t *params = json_object_get(req, "params");
        if (!method) {
            parse_error(&o, "missing field `method`");
        } else if (params && !json_is_object(params) && !json_is_array(params) && !json_is_null(params)) {
            parse_error(&o, "params must be an object or an array");
        } else {
            json_t *p = params && !json_is_null(params) ? params : json_array();
            if (p != params) params = p;
            else json_incref(p);
            pthread_mutex_lock(&c->mu);
            dispatch(c, method, p, &o);
            pthread_mutex_unlock(&c->mu);
            json_decref(p);
        }
    }
    json_t *resp = json_pack("{s:s,s:O}", "jsonrpc", "2.0", "id", id ? id : json_null());
    if (o.error) json_object_set_new(resp, "error", o.error);
    else json_object_set_new(resp, "result", o.result ? o.result : json_null());
    *out = json_dumps(resp, JSON_COMPACT);
    *out_len = *out ? strlen(*out) : 0;
    json_decref(resp);
    json_decref(req);
    return *out ? o.http : 500;
}

static void on_rpc(const ol_http_request *req, ol_http_response *resp, void *ctx) {
    char *out;
    size_t n;
    int status = sb_rpc_handle(ctx, req->body, req->body_len, &out, &n);
    if (!out) return ol_http_error(resp, 500, "internal", "out of memory");
    ol_http_take_body(resp, status, "application/json", out, n);
}

static void on_status(const ol_http_request *req, ol_http_response *resp, void *ctx) {
    sb_chain *c = ctx;
    pthread_mutex_lock(&c->mu);
    json_t *s = status_view(c);
    pthread_mutex_unlock(&c->mu);
    if (!s) return ol_http_error(resp, 500, "internal", "status unavailable");
    ol_http_json(resp, 200, s);
}

int sb_rpc_register(ol_http_server *s, sb_chain *c, ol_err *err) {
    if (ol_http_route(s, "POST", "/", SB_RPC_BODY_MAX, on_rpc, c, err) ||
        ol_http_route(s, "GET", "/status", 0, on_status, c, err))
        return -1;
    return 0;
}
