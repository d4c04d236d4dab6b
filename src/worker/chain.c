/* The worker's side of the chain: the reporter (resolve_execution signed with the worker key through
 * src/near's nonce manager; "already resolved" is success), the check that a task is a real pending
 * request (re-read with get_request at final blocks and compared field by field: a forged task cannot
 * get a real request resolved), the yield-window check, and the monitor (pages list_pending_requests
 * at final blocks from a cursor kept in the coordinator and creates one execute task per request; task
 * creation is idempotent on the coordinator, so a repeated page duplicates nothing). */
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

/* ---- the monitor ----
 * The cursor is "the next request id to look at": every pending request below it has been handed to
 * the coordinator (its task exists; create is idempotent), so it is never skipped. It lives in the
 * coordinator (GET/PUT /monitor/cursor/:name, compare-and-set) so a restart continues where the last
 * monitor stopped. Request ids are assigned in increasing order by the contract and read at final
 * blocks, so a request that appears later always has an id above every id seen so far. */

int wk_monitor_step(wk_monitor *m, const wk_monitor_io *io, unsigned page_size, size_t *created, ol_err *err) {
    *created = 0;
    m->more = false;
    if (!m->known) {
        bool found = false;
        long long v = 0;
        if (io->cursor_get(io->ctx, &v, &found, err))
            return 1;
        m->cursor = found ? v : 0;
        m->stored = found ? v : -1;
        long long chain_next = 0;
        if (found && v > 0 && io->next_id) {
            /* A cursor past the contract's next request id belongs to another deployment (a chain reset
             * under a kept coordinator): starting there would skip every new request. */
            if (io->next_id(io->ctx, &chain_next, err))
                return 1;
            if (v > chain_next) {
                OL_WARN("monitor: the stored cursor %lld is past the contract's next request id %lld (a new chain or"
                        " contract?); paging from 0",
                        v, chain_next);
                m->cursor = 0;
            }
        }
        m->known = true;
    }
    json_t *page = NULL;
    if (io->list(io->ctx, m->cursor, page_size, &page, err)) {
        m->known = false; /* re-read the cursor after an error */
        return 1;
    }
    if (!json_is_array(page)) {
        json_decref(page);
        m->known = false;
        return ol_err_set(err, 1, "list_pending_requests did not return an array");
    }
    long long next = m->cursor;
    bool full = json_array_size(page) >= page_size;
    int rc = 0;
    size_t i;
    json_t *r;
    json_array_foreach(page, i, r) {
        json_t *rid = json_object_get(r, "request_id");
        if (!json_is_integer(rid) || json_integer_value(rid) < 0 ||
            !json_string_value(json_object_get(r, "data_id"))) {
            OL_WARN("monitor: a pending request without request_id or data_id; skipped");
            continue;
        }
        long long id = json_integer_value(rid);
        if (id < m->cursor)
            continue; /* not asked for (the contract pages from from_id) */
        bool made = false;
        if ((rc = io->create(io->ctx, r, &made, err))) {
            next = id; /* not handed over: the cursor stops at it, the next step retries it */
            break;
        }
        if (made)
            (*created)++;
        if (id >= next)
            next = id + 1;
    }
    json_decref(page);
    ol_err e2, *ce = rc ? &e2 : err;
    /* Store the advance with compare-and-set: another monitor may have moved it; never backwards. */
    for (int tries = 0; next != m->stored && tries < 4; tries++) {
        bool ok = false;
        long long cur = -1;
        if (io->cursor_cas(io->ctx, next, m->stored, &ok, &cur, ce)) {
            m->known = false;
            return 1;
        }
        if (ok) {
            m->stored = next;
            break;
        }
        m->stored = cur; /* someone else's value */
        if (cur >= next) {
            next = cur; /* another monitor got further: continue from there */
            break;
        }
    }
    m->cursor = next;
    if (rc)
        m->known = false;
    else
        m->more = full;
    return rc;
}

/* The real page source, task creation and cursor store: the chain and the coordinator. */
typedef struct io_ctx {
    wk_chain *c;
    const wk_loop *L;
} io_ctx;

static int io_list(void *ctx, long long from_id, unsigned limit, json_t **page, ol_err *err) {
    io_ctx *x = ctx;
    return view(x->c, "list_pending_requests",
                json_pack("{s:I,s:I}", "from_id", (json_int_t)from_id, "limit", (json_int_t)limit), page, err);
}

static int io_create(void *ctx, const json_t *r, bool *created, ol_err *err) {
    io_ctx *x = ctx;
    json_t *rid = json_object_get(r, "request_id");
    const char *sender = json_string_value(json_object_get(r, "sender_id"));
    json_t *body = json_pack("{s:O,s:s,s:s,s:O}", "request_id", rid, "data_id",
                             json_string_value(json_object_get(r, "data_id")), "kind", "execute", "payload", r);
    if (body && sender)
        json_object_set_new(body, "account", json_string(sender));
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    char *resp = NULL;
    ol_err e;
    long st = text ? wk_http(x->L, "POST", "/tasks", NULL, text, strlen(text), 10000, false, &resp, NULL, &e) : 0;
    free(text);
    free(resp);
    *created = st == 201;
    if (st != 200 && st != 201)
        return ol_err_set(err, 1, "monitor: creating the task of request %lld failed (HTTP %ld%s%s)",
                          (long long)json_integer_value(rid), st, st ? "" : ": ", st ? "" : e.msg);
    return 0;
}

static int io_next_id(void *ctx, long long *next_id, ol_err *err) {
    io_ctx *x = ctx;
    json_t *st;
    if (view(x->c, "get_stats", json_object(), &st, err))
        return 1;
    json_t *n = json_object_get(st, "next_request_id");
    int rc = 0;
    if (json_is_integer(n) && json_integer_value(n) >= 0)
        *next_id = json_integer_value(n);
    else
        rc = ol_err_set(err, 1, "get_stats has no next_request_id");
    json_decref(st);
    return rc;
}

static void cursor_path(const io_ctx *x, char *out, size_t cap) { snprintf(out, cap, "/monitor/cursor/%s", x->c->contract); }

static int io_cursor_get(void *ctx, long long *value, bool *found, ol_err *err) {
    io_ctx *x = ctx;
    char path[160], *resp = NULL;
    cursor_path(x, path, sizeof path);
    ol_err e;
    long st = wk_http(x->L, "GET", path, NULL, NULL, 0, 10000, false, &resp, NULL, &e);
    *found = false;
    int rc = 0;
    if (st == 200) {
        json_t *o = resp ? json_loads(resp, 0, NULL) : NULL;
        json_t *v = json_object_get(o, "value");
        if (json_is_integer(v) && json_integer_value(v) >= 0) {
            *value = json_integer_value(v);
            *found = true;
        } else {
            rc = ol_err_set(err, 1, "monitor: the coordinator's cursor answer has no value");
        }
        json_decref(o);
    } else if (st != 404) {
        rc = ol_err_set(err, 1, "monitor: reading the cursor failed (HTTP %ld%s%s)", st, st ? "" : ": ", st ? "" : e.msg);
    }
    free(resp);
    return rc;
}

static int io_cursor_cas(void *ctx, long long value, long long expected, bool *ok, long long *current, ol_err *err) {
    io_ctx *x = ctx;
    char path[160], body[96], *resp = NULL;
    cursor_path(x, path, sizeof path);
    if (expected < 0)
        snprintf(body, sizeof body, "{\"value\":%lld,\"expected\":null}", value);
    else
        snprintf(body, sizeof body, "{\"value\":%lld,\"expected\":%lld}", value, expected);
    ol_err e;
    long st = wk_http(x->L, "PUT", path, "application/json", body, strlen(body), 10000, false, &resp, NULL, &e);
    int rc = 0;
    *ok = st == 200;
    if (st == 409) {
        json_t *o = resp ? json_loads(resp, 0, NULL) : NULL;
        json_t *c = json_object_get(o, "current");
        *current = json_is_integer(c) ? json_integer_value(c) : -1;
        json_decref(o);
    } else if (st != 200) {
        rc = ol_err_set(err, 1, "monitor: storing the cursor failed (HTTP %ld%s%s)", st, st ? "" : ": ", st ? "" : e.msg);
    }
    free(resp);
    return rc;
}

int wk_monitor_page(wk_chain *c, const wk_loop *L, wk_monitor *m, size_t *created, ol_err *err) {
    io_ctx x = {c, L};
    wk_monitor_io io = {&x, io_list, io_create, io_cursor_get, io_cursor_cas, io_next_id};
    return wk_monitor_step(m, &io, WK_MONITOR_PAGE, created, err);
}

/* ---- the worker key's allowance ---- */

int wk_key_check(wk_chain *c, near_signer *operator_signer, near_u128 min, near_u128 topup, wk_key_state *out,
                 ol_err *err) {
    memset(out, 0, sizeof *out);
    const char *account = near_signer_account(c->signer);
    const near_public_key *pk = near_signer_public_key(c->signer, 0);
    json_t *r = NULL;
    near_rpc_error d;
    if (near_rpc_view_access_key(c->rpc, account, pk, NEAR_FINAL, &r, &d, err))
        return ol_err_set(err, 1, "reading the worker key of %s: %s", account, err->msg);
    json_t *perm = json_object_get(r, "permission");
    if (json_is_string(perm)) {
        out->full_access = true;
        json_decref(r);
        return 0;
    }
    json_t *fc = json_object_get(perm, "FunctionCall");
    json_t *al = json_object_get(fc, "allowance");
    if (!fc) {
        json_decref(r);
        return ol_err_set(err, 1, "the worker key of %s has an unknown permission", account);
    }
    if (!al || json_is_null(al)) {
        out->unlimited = true;
        json_decref(r);
        return 0;
    }
    const char *as = json_string_value(al);
    int rc = as ? near_u128_parse(as, strlen(as), &out->allowance, err) : ol_err_set(err, 1, "allowance is not a string");
    json_decref(r);
    if (rc)
        return ol_err_set(err, 1, "the worker key's allowance: %s", err->msg);
    if (out->allowance >= min || !operator_signer)
        return 0;
    const char *methods[] = {"resolve_execution"};
    near_action acts[2];
    memset(acts, 0, sizeof acts);
    acts[0].kind = NEAR_ACTION_DELETE_KEY;
    acts[0].u.delete_key.public_key = *pk;
    acts[1].kind = NEAR_ACTION_ADD_KEY;
    acts[1].u.add_key.public_key = *pk;
    acts[1].u.add_key.access_key.permission = NEAR_PERM_FUNCTION_CALL;
    acts[1].u.add_key.access_key.has_allowance = true;
    acts[1].u.add_key.access_key.allowance = topup;
    acts[1].u.add_key.access_key.receiver_id = c->contract;
    acts[1].u.add_key.access_key.method_names = methods;
    acts[1].u.add_key.access_key.n_method_names = 1;
    near_send_info info;
    if (near_send_actions(c->nonces, operator_signer, account, acts, 2, "FINAL", &r, &info, &d, err))
        return ol_err_set(err, 1, "refreshing the worker key's allowance: %s", err->msg);
    near_outcome_kind kind;
    rc = near_rpc_outcome(r, &kind, NULL, NULL, &d, err);
    json_decref(r);
    if (rc)
        return ol_err_set(err, 1, "refreshing the worker key's allowance failed: %s", err->msg);
    /* the re-added key starts a new nonce sequence: let the nonce manager re-read it */
    near_nonce_invalidate(c->nonces, account, pk, 0);
    out->refreshed = true;
    return 0;
}
