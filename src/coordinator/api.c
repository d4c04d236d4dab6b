/* The coordinator's HTTP API: route table, authentication (worker bearer tokens, admin token), rate
 * limits on public endpoints, request validation, and the handlers over the store, the module cache
 * and the wake-ups. Every refusal is a JSON error with a stable code and changes nothing. The
 * endpoints are listed in docs/coordinator.md. */
#include "coordinator/coordinator_int.h"

#include <jansson.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CO_POLL_SLICE_MS 1000 /* a waiting claim re-reads the database at least this often */

enum { AUTH_PUBLIC, AUTH_WORKER, AUTH_ADMIN, AUTH_WORKER_OR_ADMIN };

typedef struct call {
    co_server *s;
    const ol_http_request *req;
    ol_http_response *resp;
    char who[CO_TOKEN_NAME_MAX + 8]; /* token name, or "admin" */
    bool admin;
} call;

typedef void (*api_fn)(call *c);

typedef struct endpoint {
    const char *method, *pattern;
    int auth;
    bool rate_limited;
    size_t body_max; /* 0 = default; (size_t)-1 = module upload limit from settings */
    api_fn fn;
} endpoint;

/* ---- helpers ---- */

static void store_error(call *c, const ol_err *e) {
    switch (e->code) {
    case CO_ERR_NOT_FOUND: ol_http_error(c->resp, 404, "not_found", "%s", e->msg); break;
    case CO_ERR_CONFLICT: ol_http_error(c->resp, 409, "conflict", "%s", e->msg); break;
    case CO_ERR_INVALID: ol_http_error(c->resp, 400, "invalid", "%s", e->msg); break;
    default:
        OL_ERROR("api: %s %s: %s", c->req->method, c->req->path, e->msg);
        ol_http_error(c->resp, 503, "store_unavailable", "the store failed; retry later");
    }
}

static bool id_char(char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
           ch == '-' || ch == ':';
}

/* Worker ids, token names, data ids, lock keys: a restricted alphabet so they are safe in logs,
 * metrics and file names. */

bool co_valid_name(const char *s, size_t max) {
    size_t n = 0;
    for (; s[n]; n++)
        if (n >= max || !id_char(s[n])) return false;
    return n > 0;
}

static bool valid_account(const char *s) {
    size_t n = strlen(s);
    if (n < 2 || n > CO_ACCOUNT_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-')) return false;
    }
    return true;
}

static bool printable(const char *s) {
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 && *s != '\t') return false;
    return true;
}

/* Parses the body as a JSON object; on failure answers 400 and returns NULL. */
static json_t *body_object(call *c) {
    json_t *o;
    ol_err e;
    if (ol_json_parse_object(c->req->body, c->req->body_len, &o, &e)) {
        ol_http_error(c->resp, 400, "bad_json", "%s", e.msg);
        return NULL;
    }
    return o;
}

static bool bad_field(call *c, int rc, const ol_err *e) {
    if (rc) ol_http_error(c->resp, 400, "invalid_field", "%s", e->msg);
    return rc != 0;
}

static bool get_worker_id(call *c, json_t *o, const char **out) {
    ol_err e;
    if (bad_field(c, ol_json_str(o, "worker_id", true, CO_WORKER_ID_MAX, out, &e), &e)) return false;
    if (!co_valid_name(*out, CO_WORKER_ID_MAX)) {
        ol_http_error(c->resp, 400, "invalid_field",
                      "field \"worker_id\" must be 1..%d characters of A-Z a-z 0-9 . _ - :", CO_WORKER_ID_MAX);
        return false;
    }
    return true;
}

static bool path_id(call *c, int64_t *out) {
    const char *s = c->req->params[0];
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*end || end == s || v <= 0 || s[0] == '+' || s[0] == ' ') {
        ol_http_error(c->resp, 400, "invalid_id", "task id must be a positive integer");
        return false;
    }
    *out = v;
    return true;
}

static bool query_ll(call *c, const char *name, long long def, long long min, long long max, long long *out) {
    const char *v = ol_http_query(c->req, name);
    *out = def;
    if (!v) return true;
    char *end;
    long long x = strtoll(v, &end, 10);
    if (*end || end == v || x < min || x > max) {
        ol_http_error(c->resp, 400, "invalid_parameter", "query parameter \"%s\" must be an integer within %lld..%lld",
                      name, min, max);
        return false;
    }
    *out = x;
    return true;
}

static int64_t now_ms(void) { return co_now_ms(); }
static void token_forget_all(co_server *s);

static uint64_t fnv1a(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* Records that a worker was seen, skipping the write when one was made for it less than
 * CO_SEEN_INTERVAL_MS ago (a busy worker would otherwise double the writes of every claim); the
 * status shown may lag by that much. /workers/heartbeat always writes. */
static void seen(call *c, const char *worker, const char *status) {
    co_server *s = c->s;
    int64_t now = now_ms();
    co_seen_slot *slot = &s->seen[fnv1a(worker) % CO_SEEN_CACHE];
    pthread_mutex_lock(&s->seen_mu);
    bool fresh = strcmp(slot->worker, worker) == 0 && now - slot->written_ms < CO_SEEN_INTERVAL_MS;
    if (!fresh) {
        ol_strlcpy(slot->worker, worker, sizeof slot->worker);
        ol_strlcpy(slot->status, status, sizeof slot->status);
        slot->written_ms = now;
    }
    pthread_mutex_unlock(&s->seen_mu);
    if (!fresh) co_worker_seen(s->db, worker, c->who, status, now, NULL);
}

/* ---- public ---- */

static void h_health(call *c) {
    int v = 0;
    ol_err e;
    if (co_store_schema_version(c->s->db, &v, &e)) {
        ol_http_error(c->resp, 503, "store_unavailable", "store does not answer");
        return;
    }
    json_t *o = json_pack("{s:s,s:s,s:i,s:s}", "status", "ok", "store", co_db_dialect(c->s->db) == CO_PG ? "postgres" : "sqlite",
                          "schema_version", v, "redis",
                          c->s->set.redis_url && *c->s->set.redis_url ? (co_wake_redis_up(c->s->wake) ? "up" : "down")
                                                                      : "off");
    ol_http_json(c->resp, 200, o);
}

static void h_metrics(call *c) {
    co_metrics *m = &c->s->metrics;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) {
        ol_http_error(c->resp, 500, "internal", "out of memory");
        return;
    }
    fprintf(f, "# HELP outlayer_http_requests_total HTTP responses by status class.\n"
               "# TYPE outlayer_http_requests_total counter\n");
    for (int k = 1; k <= 5; k++)
        fprintf(f, "outlayer_http_requests_total{class=\"%dxx\"} %lld\n", k, (long long)atomic_load(&m->http_requests[k]));
    struct {
        const char *name, *help;
        atomic_llong *v;
    } counters[] = {
        {"outlayer_tasks_created_total", "Tasks created (not counting idempotent repeats).", &m->tasks_created},
        {"outlayer_tasks_claimed_total", "Leases handed out.", &m->tasks_claimed},
        {"outlayer_tasks_completed_total", "Tasks completed.", &m->tasks_completed},
        {"outlayer_tasks_failed_total", "Failures reported by workers.", &m->tasks_failed},
        {"outlayer_tasks_lease_expired_total", "Leases that expired and were reaped.", &m->tasks_requeued},
        {"outlayer_claims_empty_total", "Claims that ended without a task.", &m->claims_empty},
        {"outlayer_rate_limited_total", "Requests refused by the rate limiter.", &m->rate_limited},
        {"outlayer_auth_failures_total", "Requests refused for missing, bad or revoked credentials.", &m->auth_failures},
        {"outlayer_modules_uploaded_total", "Modules uploaded.", &m->modules_uploaded},
        {"outlayer_modules_served_total", "Modules served.", &m->modules_served},
    };
    for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++)
        fprintf(f, "# HELP %s %s\n# TYPE %s counter\n%s %lld\n", counters[i].name, counters[i].help, counters[i].name,
                counters[i].name, (long long)atomic_load(counters[i].v));
    json_t *st = NULL;
    ol_err e;
    if (co_stats(c->s->db, now_ms(), c->s->set.active_window_ms, &st, &e) == 0) {
        fprintf(f, "# HELP outlayer_tasks Tasks by state.\n# TYPE outlayer_tasks gauge\n");
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(st, "tasks_by_state"), k, v)
            fprintf(f, "outlayer_tasks{state=\"%s\"} %lld\n", k, (long long)json_integer_value(v));
        fprintf(f, "# HELP outlayer_workers_active Workers seen within the active window.\n"
                   "# TYPE outlayer_workers_active gauge\noutlayer_workers_active %lld\n",
                (long long)json_integer_value(json_object_get(st, "active_workers")));
        fprintf(f, "# HELP outlayer_module_cache_bytes Bytes in the module cache.\n"
                   "# TYPE outlayer_module_cache_bytes gauge\noutlayer_module_cache_bytes %lld\n",
                (long long)json_integer_value(json_object_get(st, "module_bytes")));
        json_decref(st);
        fprintf(f, "# HELP outlayer_store_up 1 when the store answers.\n# TYPE outlayer_store_up gauge\noutlayer_store_up 1\n");
    } else {
        fprintf(f, "# HELP outlayer_store_up 1 when the store answers.\n# TYPE outlayer_store_up gauge\noutlayer_store_up 0\n");
    }
    fprintf(f, "# HELP outlayer_redis_up 1 when Redis is configured and connected.\n# TYPE outlayer_redis_up gauge\n"
               "outlayer_redis_up %d\n",
            co_wake_redis_up(c->s->wake) ? 1 : 0);
    fclose(f);
    ol_http_take_body(c->resp, 200, "text/plain; version=0.0.4", buf, len);
}

static void h_jobs(call *c) {
    long long limit, offset;
    if (!query_ll(c, "limit", 50, 1, CO_PAGE_MAX, &limit) || !query_ll(c, "offset", 0, 0, 1000000000LL, &offset)) return;
    const char *account = ol_http_query(c->req, "account");
    const char *state = ol_http_query(c->req, "state");
    if (account && !valid_account(account)) {
        ol_http_error(c->resp, 400, "invalid_parameter", "\"account\" is not a valid NEAR account id");
        return;
    }
    if (state && strcmp(state, "waiting") && strcmp(state, "queued") && strcmp(state, "leased") && strcmp(state, "done") &&
        strcmp(state, "failed")) {
        ol_http_error(c->resp, 400, "invalid_parameter", "\"state\" must be waiting, queued, leased, done or failed");
        return;
    }
    json_t *a;
    ol_err e;
    if (co_task_list(c->s->db, account, state, offset, limit, &a, &e)) return store_error(c, &e);
    json_t *o = json_pack("{s:o,s:I,s:I}", "jobs", a, "limit", (json_int_t)limit, "offset", (json_int_t)offset);
    ol_http_json(c->resp, 200, o);
}

static void h_job(call *c) {
    int64_t id;
    if (!path_id(c, &id)) return;
    json_t *t;
    ol_err e;
    if (co_task_get(c->s->db, id, false, &t, &e)) return store_error(c, &e);
    ol_http_json(c->resp, 200, t);
}

static void h_workers(call *c) {
    json_t *a;
    ol_err e;
    if (co_worker_list(c->s->db, now_ms(), c->s->set.active_window_ms, &a, &e)) return store_error(c, &e);
    ol_http_json(c->resp, 200, json_pack("{s:o}", "workers", a));
}

static void h_stats(call *c) {
    json_t *o;
    ol_err e;
    if (co_stats(c->s->db, now_ms(), c->s->set.active_window_ms, &o, &e)) return store_error(c, &e);
    ol_http_json(c->resp, 200, o);
}

#define PRICING_TTL_MS 60000 /* the contract's pricing changes rarely; re-read at most once a minute */

static void h_pricing(call *c) {
    co_server *s = c->s;
    if (!s->pricing.fetch) {
        ol_http_error(c->resp, 503, "pricing_unavailable", "no NEAR client is wired to read the contract's pricing");
        return;
    }
    pthread_mutex_lock(&s->pricing_mu);
    int64_t now = now_ms();
    if (!s->pricing_json || now - s->pricing_at_ms > PRICING_TTL_MS) {
        char *j = NULL;
        ol_err e;
        if (s->pricing.fetch(s->pricing.ctx, &j, &e) == 0 && j) {
            free(s->pricing_json);
            s->pricing_json = j;
            s->pricing_at_ms = now;
        } else if (!s->pricing_json) {
            pthread_mutex_unlock(&s->pricing_mu);
            ol_http_error(c->resp, 503, "pricing_unavailable", "reading pricing from the contract failed: %s", e.msg);
            return;
        }
    }
    ol_http_text(c->resp, 200, "application/json", s->pricing_json);
    pthread_mutex_unlock(&s->pricing_mu);
}

static void h_module_info(call *c) {
    const char *hash = c->req->params[0];
    if (!co_is_sha256_hex(hash)) {
        ol_http_error(c->resp, 400, "invalid_hash", "module hash must be 64 lowercase hex digits");
        return;
    }
    json_t *o;
    ol_err e;
    if (co_module_info(c->s->db, hash, &o, &e)) return store_error(c, &e);
    ol_http_json(c->resp, 200, o);
}

/* A full git commit id: 40 (SHA-1) or 64 (SHA-256) hex digits. Branch names and short ids move or
 * become ambiguous, so they are never index keys (DESIGN.md §4: resolve a branch once, then cache). */
static bool full_commit_id(const char *s) {
    size_t n = 0;
    for (; s[n]; n++)
        if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f') || (s[n] >= 'A' && s[n] <= 'F'))) return false;
    return n == 40 || n == 64;
}

static bool index_key_from(call *c, const char *repo, const char *commit, const char *target, const char *builder) {
    if (!repo || !commit || !target || !builder) {
        ol_http_error(c->resp, 400, "invalid_field", "repo, commit, target and builder_version are required");
        return false;
    }
    if (!full_commit_id(commit)) {
        ol_http_error(c->resp, 400, "invalid_field",
                      "commit must be a full 40- or 64-hex commit id (branch names are resolved first, never cached)");
        return false;
    }
    if (strlen(repo) > CO_REPO_MAX || strlen(commit) > CO_COMMIT_MAX || strlen(target) > CO_TARGET_MAX ||
        strlen(builder) > CO_TARGET_MAX || !printable(repo) || !*repo || !co_valid_name(commit, CO_COMMIT_MAX) ||
        !co_valid_name(target, CO_TARGET_MAX) || !co_valid_name(builder, CO_TARGET_MAX)) {
        ol_http_error(c->resp, 400, "invalid_field",
                      "repo (<= %d printable), commit (<= %d), target and builder_version (<= %d; A-Z a-z 0-9 . _ - :)",
                      CO_REPO_MAX, CO_COMMIT_MAX, CO_TARGET_MAX);
        return false;
    }
    return true;
}

static void h_module_lookup(call *c) {
    const char *repo = ol_http_query(c->req, "repo"), *commit = ol_http_query(c->req, "commit"),
               *target = ol_http_query(c->req, "target"), *builder = ol_http_query(c->req, "builder_version");
    if (!index_key_from(c, repo, commit, target, builder)) return;
    char hash[65];
    ol_err e;
    if (co_index_get(c->s->db, repo, commit, target, builder, hash, &e)) return store_error(c, &e);
    json_t *o;
    if (co_module_info(c->s->db, hash, &o, &e)) return store_error(c, &e);
    ol_http_json(c->resp, 200, o);
}

/* ---- worker: tasks ---- */

static void h_task_create(call *c) {
    json_t *o = body_object(c);
    if (!o) return;
    ol_err e;
    long long request_id = 0, max_attempts = c->s->set.max_attempts;
    const char *data_id, *kind = NULL, *account = NULL;
    bool wait = false;
    if (bad_field(c, ol_json_int(o, "request_id", true, 0, INT64_MAX, &request_id, &e), &e) ||
        bad_field(c, ol_json_str(o, "data_id", true, CO_DATA_ID_MAX, &data_id, &e), &e) ||
        bad_field(c, ol_json_str(o, "kind", false, 16, &kind, &e), &e) ||
        bad_field(c, ol_json_str(o, "account", false, CO_ACCOUNT_MAX, &account, &e), &e) ||
        bad_field(c, ol_json_int(o, "max_attempts", false, 1, 20, &max_attempts, &e), &e) ||
        bad_field(c, ol_json_bool(o, "wait_for_compile", false, &wait, &e), &e))
        goto out;
    if (!co_valid_name(data_id, CO_DATA_ID_MAX)) {
        ol_http_error(c->resp, 400, "invalid_field", "field \"data_id\" must be 1..%d characters of A-Z a-z 0-9 . _ - :",
                      CO_DATA_ID_MAX);
        goto out;
    }
    int k = CO_CAP_EXECUTE;
    if (kind && strcmp(kind, "compile") == 0) k = CO_CAP_COMPILE;
    else if (kind && strcmp(kind, "execute") != 0) {
        ol_http_error(c->resp, 400, "invalid_field", "field \"kind\" must be \"execute\" or \"compile\"");
        goto out;
    }
    if (account && !valid_account(account)) {
        ol_http_error(c->resp, 400, "invalid_field", "field \"account\" is not a valid NEAR account id");
        goto out;
    }
    json_t *payload = json_object_get(o, "payload");
    char *ptext = payload ? json_dumps(payload, JSON_COMPACT | JSON_ENCODE_ANY) : strdup("{}");
    if (!ptext) {
        ol_http_error(c->resp, 400, "invalid_field", "field \"payload\" could not be encoded");
        goto out;
    }
    if (strlen(ptext) > CO_PAYLOAD_MAX) {
        ol_http_error(c->resp, 400, "invalid_field", "field \"payload\" is larger than %d bytes (CO_PAYLOAD_MAX)",
                      CO_PAYLOAD_MAX);
        free(ptext);
        goto out;
    }
    co_task_new t = {request_id, data_id, k, account, ptext, (int)max_attempts, wait};
    int64_t id = 0;
    bool created = false;
    int rc = co_task_create(c->s->db, &t, now_ms(), &id, &created, &e);
    free(ptext);
    if (rc) {
        store_error(c, &e);
        goto out;
    }
    if (created) {
        atomic_fetch_add(&c->s->metrics.tasks_created, 1);
        co_wake_notify(c->s->wake);
    }
    ol_http_json(c->resp, created ? 201 : 200, json_pack("{s:I,s:b}", "task_id", (json_int_t)id, "created", created));
out:
    json_decref(o);
}

static void h_task_claim(call *c) {
    json_t *o = body_object(c);
    if (!o) return;
    ol_err e;
    const char *worker;
    long long wait_ms = 0;
    if (!get_worker_id(c, o, &worker) ||
        bad_field(c, ol_json_int(o, "wait_ms", false, 0, CO_CLAIM_WAIT_MAX_MS, &wait_ms, &e), &e))
        goto out;
    json_t *caps = json_object_get(o, "capabilities");
    int capmask = 0;
    if (!json_is_array(caps) || json_array_size(caps) == 0 || json_array_size(caps) > 4) {
        ol_http_error(c->resp, 400, "invalid_field",
                      "field \"capabilities\" must be a non-empty array of \"execute\" and/or \"compile\"");
        goto out;
    }
    size_t i;
    json_t *v;
    json_array_foreach(caps, i, v) {
        const char *s = json_string_value(v);
        if (s && strcmp(s, "execute") == 0) capmask |= CO_CAP_EXECUTE;
        else if (s && strcmp(s, "compile") == 0) capmask |= CO_CAP_COMPILE;
        else {
            ol_http_error(c->resp, 400, "invalid_field", "capability must be \"execute\" or \"compile\"");
            goto out;
        }
    }
    if (wait_ms > c->s->set.long_poll_cap_ms) wait_ms = c->s->set.long_poll_cap_ms;
    seen(c, worker, "idle");
    int64_t deadline = now_ms() + wait_ms;
    for (;;) {
        uint64_t seq = co_wake_seq(c->s->wake);
        json_t *task = NULL;
        if (co_task_claim(c->s->db, worker, capmask, now_ms(), c->s->set.lease_ms, &task, &e)) {
            store_error(c, &e);
            goto out;
        }
        if (task) {
            atomic_fetch_add(&c->s->metrics.tasks_claimed, 1);
            seen(c, worker, "busy");
            ol_http_json(c->resp, 200, json_pack("{s:o,s:I}", "task", task, "lease_ms", (json_int_t)c->s->set.lease_ms));
            goto out;
        }
        int64_t left = deadline - now_ms();
        if (left <= 0 || atomic_load(&c->s->stopping)) break;
        co_wake_wait(c->s->wake, seq, left < CO_POLL_SLICE_MS ? left : CO_POLL_SLICE_MS);
    }
    atomic_fetch_add(&c->s->metrics.claims_empty, 1);
    ol_http_text(c->resp, 204, "application/json", "");
out:
    json_decref(o);
}

/* Common part of heartbeat/complete/fail: path id, worker_id, attempt. */
static json_t *lease_body(call *c, int64_t *id, const char **worker, long long *attempt) {
    if (!path_id(c, id)) return NULL;
    json_t *o = body_object(c);
    if (!o) return NULL;
    ol_err e;
    if (!get_worker_id(c, o, worker) || bad_field(c, ol_json_int(o, "attempt", true, 1, 1000000, attempt, &e), &e)) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static void h_task_heartbeat(call *c) {
    int64_t id, until;
    const char *worker;
    long long attempt;
    json_t *o = lease_body(c, &id, &worker, &attempt);
    if (!o) return;
    ol_err e;
    if (co_task_heartbeat(c->s->db, id, worker, attempt, now_ms(), c->s->set.lease_ms, &until, &e)) store_error(c, &e);
    else {
        seen(c, worker, "busy");
        ol_http_json(c->resp, 200, json_pack("{s:I,s:I}", "task_id", (json_int_t)id, "lease_until_ms", (json_int_t)until));
    }
    json_decref(o);
}

static void h_task_complete(call *c) {
    int64_t id;
    const char *worker;
    long long attempt;
    json_t *o = lease_body(c, &id, &worker, &attempt);
    if (!o) return;
    json_t *result = json_object_get(o, "result");
    if (!result) {
        ol_http_error(c->resp, 400, "invalid_field", "field \"result\" is required");
        json_decref(o);
        return;
    }
    char *text = json_dumps(result, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!text || strlen(text) > CO_RESULT_MAX) {
        ol_http_error(c->resp, 400, "invalid_field", "field \"result\" is larger than %d bytes (CO_RESULT_MAX)",
                      CO_RESULT_MAX);
        free(text);
        json_decref(o);
        return;
    }
    bool already = false;
    ol_err e;
    if (co_task_complete(c->s->db, id, worker, attempt, text, now_ms(), &already, &e)) store_error(c, &e);
    else {
        if (!already) {
            atomic_fetch_add(&c->s->metrics.tasks_completed, 1);
            co_wake_notify(c->s->wake); /* a compile may have released an execute task */
        }
        seen(c, worker, "idle");
        ol_http_json(c->resp, 200,
                     json_pack("{s:I,s:s,s:b}", "task_id", (json_int_t)id, "state", "done", "already_completed", already));
    }
    free(text);
    json_decref(o);
}

static void h_task_fail(call *c) {
    int64_t id;
    const char *worker;
    long long attempt;
    json_t *o = lease_body(c, &id, &worker, &attempt);
    if (!o) return;
    ol_err e;
    const char *error;
    bool retry = true;
    if (bad_field(c, ol_json_str(o, "error", true, CO_ERROR_MAX, &error, &e), &e) ||
        bad_field(c, ol_json_bool(o, "retry", false, &retry, &e), &e)) {
        json_decref(o);
        return;
    }
    bool already = false;
    const char *state = NULL;
    if (co_task_fail(c->s->db, id, worker, attempt, error, retry, now_ms(), &already, &state, &e)) store_error(c, &e);
    else {
        if (!already) {
            atomic_fetch_add(&c->s->metrics.tasks_failed, 1);
            if (strcmp(state, "queued") == 0) co_wake_notify(c->s->wake);
        }
        seen(c, worker, "idle");
        ol_http_json(c->resp, 200, json_pack("{s:I,s:s,s:b}", "task_id", (json_int_t)id, "state", state, "already", already));
    }
    json_decref(o);
}

static void h_worker_heartbeat(call *c) {
    json_t *o = body_object(c);
    if (!o) return;
    const char *worker, *status = NULL;
    ol_err e;
    if (get_worker_id(c, o, &worker) && !bad_field(c, ol_json_str(o, "status", false, 16, &status, &e), &e)) {
        if (status && strcmp(status, "idle") && strcmp(status, "busy") && strcmp(status, "draining")) {
            ol_http_error(c->resp, 400, "invalid_field", "field \"status\" must be idle, busy or draining");
        } else if (co_worker_seen(c->s->db, worker, c->who, status ? status : "idle", now_ms(), &e)) {
            store_error(c, &e);
        } else {
            ol_http_json(c->resp, 200, json_pack("{s:s,s:I}", "worker_id", worker, "server_time_ms", (json_int_t)now_ms()));
        }
    }
    json_decref(o);
}

/* ---- worker: modules and locks ---- */

static void h_module_put(call *c) {
    const char *hash = c->req->params[0];
    bool existed = false;
    ol_err e;
    if (!co_is_sha256_hex(hash)) {
        ol_http_error(c->resp, 400, "invalid_hash", "module hash must be 64 lowercase hex digits");
        return;
    }
    if (c->req->body_len == 0) {
        ol_http_error(c->resp, 400, "empty_module", "the request body (the module bytes) is empty");
        return;
    }
    if (co_cache_put(c->s->cache, hash, c->req->body, c->req->body_len, &existed, &e)) {
        if (e.code == CO_ERR_INVALID) ol_http_error(c->resp, 400, "hash_mismatch", "%s", e.msg);
        else store_error(c, &e);
        return;
    }
    atomic_fetch_add(&c->s->metrics.modules_uploaded, 1);
    ol_http_json(c->resp, existed ? 200 : 201,
                 json_pack("{s:s,s:I,s:b}", "hash", hash, "size", (json_int_t)c->req->body_len, "existed", existed));
}

static void h_module_get(call *c) {
    void *bytes;
    size_t len;
    ol_err e;
    if (co_cache_get(c->s->cache, c->req->params[0], &bytes, &len, &e)) {
        if (e.code == CO_ERR_INVALID) ol_http_error(c->resp, 400, "invalid_hash", "%s", e.msg);
        else store_error(c, &e);
        return;
    }
    atomic_fetch_add(&c->s->metrics.modules_served, 1);
    ol_http_take_body(c->resp, 200, "application/wasm", bytes, len);
    ol_http_set_header(c->resp, "X-Module-Sha256", c->req->params[0]);
}

static void h_index_put(call *c) {
    json_t *o = body_object(c);
    if (!o) return;
    const char *repo, *commit, *target, *builder, *hash;
    ol_err e;
    if (bad_field(c, ol_json_str(o, "repo", true, CO_REPO_MAX, &repo, &e), &e) ||
        bad_field(c, ol_json_str(o, "commit", true, CO_COMMIT_MAX, &commit, &e), &e) ||
        bad_field(c, ol_json_str(o, "target", true, CO_TARGET_MAX, &target, &e), &e) ||
        bad_field(c, ol_json_str(o, "builder_version", true, CO_TARGET_MAX, &builder, &e), &e) ||
        bad_field(c, ol_json_str(o, "hash", true, 64, &hash, &e), &e) || !index_key_from(c, repo, commit, target, builder))
        goto out;
    if (!co_is_sha256_hex(hash)) {
        ol_http_error(c->resp, 400, "invalid_hash", "field \"hash\" must be 64 lowercase hex digits");
        goto out;
    }
    json_t *info;
    if (co_module_info(c->s->db, hash, &info, &e)) {
        store_error(c, &e); /* index only what the cache holds */
        goto out;
    }
    json_decref(info);
    if (co_index_put(c->s->db, repo, commit, target, builder, hash, now_ms(), &e)) store_error(c, &e);
    else ol_http_json(c->resp, 200, json_pack("{s:s}", "hash", hash));
out:
    json_decref(o);
}

static void h_lock_acquire(call *c) {
    json_t *o = body_object(c);
    if (!o) return;
    const char *key, *worker;
    long long ttl = 60000;
    ol_err e;
    if (bad_field(c, ol_json_str(o, "key", true, CO_LOCK_KEY_MAX, &key, &e), &e) || !get_worker_id(c, o, &worker) ||
        bad_field(c, ol_json_int(o, "ttl_ms", false, 1, CO_LOCK_TTL_MAX_MS, &ttl, &e), &e))
        goto out;
    if (!printable(key) || !*key) {
        ol_http_error(c->resp, 400, "invalid_field", "field \"key\" must be printable text");
        goto out;
    }
    bool got;
    char holder[CO_WORKER_ID_MAX + 1];
    if (co_lock_acquire(c->s->db, key, worker, now_ms(), ttl, &got, holder, &e)) store_error(c, &e);
    else ol_http_json(c->resp, 200, json_pack("{s:b,s:s}", "acquired", got, "holder", holder));
out:
    json_decref(o);
}

static void h_lock_release(call *c) {
    json_t *o = body_object(c);
    if (!o) return;
    const char *key, *worker;
    ol_err e;
    bool released = false;
    if (!bad_field(c, ol_json_str(o, "key", true, CO_LOCK_KEY_MAX, &key, &e), &e) && get_worker_id(c, o, &worker)) {
        if (co_lock_release(c->s->db, key, worker, &released, &e)) store_error(c, &e);
        else ol_http_json(c->resp, 200, json_pack("{s:b}", "released", released));
    }
    json_decref(o);
}

/* ---- monitor cursors ---- */

static bool cursor_name(call *c, const char **out) {
    *out = c->req->params[0];
    if (!co_valid_name(*out, CO_CURSOR_NAME_MAX)) {
        ol_http_error(c->resp, 400, "invalid_name",
                      "cursor name must be 1..%d characters of A-Z a-z 0-9 . _ - : (CO_CURSOR_NAME_MAX)", CO_CURSOR_NAME_MAX);
        return false;
    }
    return true;
}

static void h_cursor_get(call *c) {
    const char *name;
    if (!cursor_name(c, &name)) return;
    long long v;
    int64_t at;
    ol_err e;
    if (co_cursor_get(c->s->db, name, &v, &at, &e)) store_error(c, &e);
    else ol_http_json(c->resp, 200, json_pack("{s:s,s:I,s:I}", "name", name, "value", (json_int_t)v, "updated_ms",
                                              (json_int_t)at));
}

/* PUT {"value": N, "expected": M?}: "expected" absent = set; a number = compare-and-set against the
 * stored value; null = only when the cursor does not exist yet. A failed compare answers 409
 * cursor_conflict with "current" (null when absent). */
static void h_cursor_put(call *c) {
    const char *name;
    if (!cursor_name(c, &name)) return;
    json_t *o = body_object(c);
    if (!o) return;
    long long value = 0, expected = -1;
    const long long *exp = NULL;
    ol_err e;
    if (bad_field(c, ol_json_int(o, "value", true, 0, CO_CURSOR_VALUE_MAX, &value, &e), &e)) goto out;
    json_t *x = json_object_get(o, "expected");
    if (x && json_is_null(x)) {
        exp = &expected; /* -1: must not exist */
    } else if (x) {
        if (bad_field(c, ol_json_int(o, "expected", false, 0, CO_CURSOR_VALUE_MAX, &expected, &e), &e)) goto out;
        exp = &expected;
    }
    long long cur = -1;
    int rc = co_cursor_set(c->s->db, name, value, exp, now_ms(), &cur, &e);
    if (rc == CO_ERR_CONFLICT) {
        json_t *body = json_pack("{s:{s:s,s:s},s:o}", "error", "code", "cursor_conflict", "message", e.msg, "current",
                                 cur < 0 ? json_null() : json_integer(cur));
        ol_http_json(c->resp, 409, body);
    } else if (rc) {
        store_error(c, &e);
    } else {
        ol_http_json(c->resp, 200, json_pack("{s:s,s:I}", "name", name, "value", (json_int_t)value));
    }
out:
    json_decref(o);
}

/* ---- admin ---- */

static void h_token_create(call *c) {
    json_t *o = body_object(c);
    if (!o) return;
    const char *name;
    ol_err e;
    if (!bad_field(c, ol_json_str(o, "name", true, CO_TOKEN_NAME_MAX, &name, &e), &e)) {
        if (!co_valid_name(name, CO_TOKEN_NAME_MAX)) {
            ol_http_error(c->resp, 400, "invalid_field", "field \"name\" must be 1..%d characters of A-Z a-z 0-9 . _ - :",
                          CO_TOKEN_NAME_MAX);
        } else {
            char token[65];
            if (co_token_create(c->s->db, name, token, &e)) store_error(c, &e);
            else ol_http_json(c->resp, 201, json_pack("{s:s,s:s}", "name", name, "token", token));
            sodium_memzero(token, sizeof token);
        }
    }
    json_decref(o);
}

static void h_token_revoke(call *c) {
    ol_err e;
    if (!co_valid_name(c->req->params[0], CO_TOKEN_NAME_MAX)) {
        ol_http_error(c->resp, 400, "invalid_name", "bad token name");
        return;
    }
    token_forget_all(c->s);
    if (co_token_revoke(c->s->db, c->req->params[0], &e)) store_error(c, &e);
    else ol_http_json(c->resp, 200, json_pack("{s:s,s:b}", "name", c->req->params[0], "revoked", 1));
}

static void h_token_list(call *c) {
    json_t *a;
    ol_err e;
    if (co_token_list(c->s->db, &a, &e)) store_error(c, &e);
    else ol_http_json(c->resp, 200, json_pack("{s:o}", "tokens", a));
}

/* ---- routing, authentication, rate limits ---- */

static const endpoint endpoints[] = {
    {"GET", "/health", AUTH_PUBLIC, false, 0, h_health},
    {"GET", "/metrics", AUTH_PUBLIC, false, 0, h_metrics},
    {"GET", "/public/jobs", AUTH_PUBLIC, true, 0, h_jobs},
    {"GET", "/public/jobs/:id", AUTH_PUBLIC, true, 0, h_job},
    {"GET", "/public/workers", AUTH_PUBLIC, true, 0, h_workers},
    {"GET", "/public/stats", AUTH_PUBLIC, true, 0, h_stats},
    {"GET", "/public/pricing", AUTH_PUBLIC, true, 0, h_pricing},
    {"GET", "/public/modules/lookup", AUTH_PUBLIC, true, 0, h_module_lookup},
    {"GET", "/public/modules/:hash", AUTH_PUBLIC, true, 0, h_module_info},
    {"POST", "/tasks", AUTH_WORKER_OR_ADMIN, false, CO_PAYLOAD_MAX + 4096, h_task_create},
    {"POST", "/tasks/claim", AUTH_WORKER, false, 0, h_task_claim},
    {"POST", "/tasks/:id/heartbeat", AUTH_WORKER, false, 0, h_task_heartbeat},
    {"POST", "/tasks/:id/complete", AUTH_WORKER, false, CO_RESULT_MAX + 4096, h_task_complete},
    {"POST", "/tasks/:id/fail", AUTH_WORKER, false, CO_ERROR_MAX + 4096, h_task_fail},
    {"POST", "/workers/heartbeat", AUTH_WORKER, false, 0, h_worker_heartbeat},
    {"PUT", "/modules/:hash", AUTH_WORKER, false, (size_t)-1, h_module_put},
    {"GET", "/modules/:hash", AUTH_WORKER, false, 0, h_module_get},
    {"POST", "/modules/index", AUTH_WORKER, false, 0, h_index_put},
    {"POST", "/locks/acquire", AUTH_WORKER, false, 0, h_lock_acquire},
    {"POST", "/locks/release", AUTH_WORKER, false, 0, h_lock_release},
    {"GET", "/monitor/cursor/:name", AUTH_WORKER, false, 0, h_cursor_get},
    {"PUT", "/monitor/cursor/:name", AUTH_WORKER, false, 0, h_cursor_put},
    {"POST", "/admin/tokens", AUTH_ADMIN, false, 0, h_token_create},
    {"GET", "/admin/tokens", AUTH_ADMIN, false, 0, h_token_list},
    {"POST", "/admin/tokens/:name/revoke", AUTH_ADMIN, false, 0, h_token_revoke},
};
#define N_ENDPOINTS (sizeof endpoints / sizeof endpoints[0])

typedef struct route_ctx {
    co_server *s;
    const endpoint *ep;
} route_ctx;


static const char *bearer(const ol_http_request *req) {
    const char *h = ol_http_header(req, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0) return NULL;
    h += 7;
    while (*h == ' ') h++;
    return *h ? h : NULL;
}

static bool is_admin(co_server *s, const char *tok) {
    if (!s->set.admin_token || !*s->set.admin_token || !tok) return false;
    /* Constant time: compare digests of equal length, whatever the lengths of the inputs. */
    uint8_t a[crypto_hash_sha256_BYTES], b[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(a, (const uint8_t *)tok, strlen(tok));
    crypto_hash_sha256(b, (const uint8_t *)s->set.admin_token, strlen(s->set.admin_token));
    return sodium_memcmp(a, b, sizeof a) == 0;
}

/* Accepted worker tokens are remembered for CO_TOKEN_CACHE_MS by their sha256, so a busy worker does
 * not cost a query per request. Revocation through this coordinator clears the cache at once; a
 * revocation elsewhere (another coordinator, the CLI) takes effect here within CO_TOKEN_CACHE_MS. */
static void token_digest(const char *tok, uint8_t out[32]) { crypto_hash_sha256(out, (const uint8_t *)tok, strlen(tok)); }

static bool token_cached(co_server *s, const char *tok, char name[CO_TOKEN_NAME_MAX + 1]) {
    uint8_t d[32];
    token_digest(tok, d);
    co_token_slot *slot = &s->tokens[d[0] % CO_TOKEN_CACHE];
    bool hit = false;
    pthread_mutex_lock(&s->seen_mu);
    if (slot->until_ms > now_ms() && sodium_memcmp(slot->digest, d, 32) == 0) {
        ol_strlcpy(name, slot->name, CO_TOKEN_NAME_MAX + 1);
        hit = true;
    }
    pthread_mutex_unlock(&s->seen_mu);
    return hit;
}

static void token_remember(co_server *s, const char *tok, const char *name) {
    uint8_t d[32];
    token_digest(tok, d);
    co_token_slot *slot = &s->tokens[d[0] % CO_TOKEN_CACHE];
    pthread_mutex_lock(&s->seen_mu);
    memcpy(slot->digest, d, 32);
    ol_strlcpy(slot->name, name, sizeof slot->name);
    slot->until_ms = now_ms() + CO_TOKEN_CACHE_MS;
    pthread_mutex_unlock(&s->seen_mu);
}

static void token_forget_all(co_server *s) {
    pthread_mutex_lock(&s->seen_mu);
    memset(s->tokens, 0, sizeof s->tokens);
    pthread_mutex_unlock(&s->seen_mu);
}

static bool authenticate(call *c, int auth) {
    const char *tok = bearer(c->req);
    if (auth == AUTH_ADMIN || auth == AUTH_WORKER_OR_ADMIN) {
        if (is_admin(c->s, tok)) {
            ol_strlcpy(c->who, "admin", sizeof c->who);
            c->admin = true;
            return true;
        }
        if (auth == AUTH_ADMIN) {
            atomic_fetch_add(&c->s->metrics.auth_failures, 1);
            if (!c->s->set.admin_token || !*c->s->set.admin_token)
                ol_http_error(c->resp, 403, "admin_disabled", "admin endpoints are off: ADMIN_BEARER_TOKEN is not set");
            else {
                ol_http_error(c->resp, 401, "unauthorized", "admin bearer token required");
                ol_http_set_header(c->resp, "WWW-Authenticate", "Bearer");
            }
            return false;
        }
    }
    if (!tok || strlen(tok) > 128) {
        atomic_fetch_add(&c->s->metrics.auth_failures, 1);
        ol_http_error(c->resp, 401, "unauthorized", "worker bearer token required (Authorization: Bearer TOKEN)");
        ol_http_set_header(c->resp, "WWW-Authenticate", "Bearer");
        return false;
    }
    ol_err e;
    char name[CO_TOKEN_NAME_MAX + 1];
    if (token_cached(c->s, tok, name)) {
        ol_strlcpy(c->who, name, sizeof c->who);
        return true;
    }
    int rc = co_token_check(c->s->db, tok, name, &e);
    if (rc == 0) token_remember(c->s, tok, name);
    if (rc == CO_ERR_NOT_FOUND) {
        atomic_fetch_add(&c->s->metrics.auth_failures, 1);
        ol_http_error(c->resp, 401, "unauthorized", "unknown or revoked worker token");
        ol_http_set_header(c->resp, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
        return false;
    }
    if (rc) {
        store_error(c, &e);
        return false;
    }
    ol_strlcpy(c->who, name, sizeof c->who);
    return true;
}

/* True when origin is listed in the comma-separated allow list (or the list is "*"). */
static bool origin_allowed(const char *list, const char *origin) {
    if (!list || !*list || !origin || !*origin) return false;
    if (strcmp(list, "*") == 0) return true;
    size_t ol = strlen(origin);
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == ',') p++;
        const char *e = p;
        while (*e && *e != ',') e++;
        const char *t = e;
        while (t > p && t[-1] == ' ') t--;
        if ((size_t)(t - p) == ol && strncmp(p, origin, ol) == 0) return true;
        p = e;
    }
    return false;
}

static void entry(const ol_http_request *req, ol_http_response *resp, void *ctx) {
    route_ctx *rc = ctx;
    call c = {.s = rc->s, .req = req, .resp = resp};
    if (rc->ep->rate_limited) {
        char key[96];
        snprintf(key, sizeof key, "ip:%s", req->remote_ip[0] ? req->remote_ip : "local");
        int retry = 60;
        if (!co_rate_allow(rc->s->wake, key, rc->s->set.rate_per_minute, &retry)) {
            atomic_fetch_add(&rc->s->metrics.rate_limited, 1);
            ol_http_error(resp, 429, "rate_limited", "more than %lld requests a minute from this address",
                          rc->s->set.rate_per_minute);
            char r[16];
            snprintf(r, sizeof r, "%d", retry);
            ol_http_set_header(resp, "Retry-After", r);
            goto count;
        }
    }
    if (rc->ep->auth != AUTH_PUBLIC && !authenticate(&c, rc->ep->auth)) goto count;
    rc->ep->fn(&c);
count:
    if (rc->ep->auth == AUTH_PUBLIC) {
        const char *origin = ol_http_header(req, "Origin");
        if (origin_allowed(rc->s->set.cors_origins, origin) && strlen(origin) < 128 && printable(origin)) {
            ol_http_set_header(resp, "Access-Control-Allow-Origin", origin);
            ol_http_set_header(resp, "Vary", "Origin");
        }
    }
    OL_DEBUG("http: %s %s -> %d (%s)", req->method, req->path, resp->status, c.who[0] ? c.who : "anonymous");
    if (resp->status >= 100 && resp->status < 600) atomic_fetch_add(&rc->s->metrics.http_requests[resp->status / 100], 1);
}

static void *reaper_main(void *arg) {
    co_server *s = arg;
    int64_t interval = s->set.lease_ms / 4;
    if (interval < 50) interval = 50;
    if (interval > 1000) interval = 1000;
    pthread_mutex_lock(&s->reaper_mu);
    while (!atomic_load(&s->stopping)) {
        pthread_mutex_unlock(&s->reaper_mu);
        long long n = 0;
        ol_err e;
        if (co_task_reap(s->db, co_now_ms(), &n, &e)) OL_WARN("reaper: %s", e.msg);
        else if (n > 0) {
            OL_INFO("reaper: %lld expired lease(s) returned to the queue or failed", n);
            atomic_fetch_add(&s->metrics.tasks_requeued, n);
            co_wake_notify(s->wake);
        }
        pthread_mutex_lock(&s->reaper_mu);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += (long)(interval % 1000) * 1000000L;
        ts.tv_sec += interval / 1000 + ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        if (!atomic_load(&s->stopping)) pthread_cond_timedwait(&s->reaper_cv, &s->reaper_mu, &ts);
    }
    pthread_mutex_unlock(&s->reaper_mu);
    return NULL;
}

static void join_path(char *out, size_t cap, const char *dir, const char *name) { snprintf(out, cap, "%s/%s", dir, name); }

int co_server_new(const co_settings *set, co_server **out, ol_err *err) {
    *out = NULL;
    if (sodium_init() < 0) return ol_err_set(err, CO_ERR_IO, "libsodium failed to initialise");
    co_server *s = calloc(1, sizeof *s);
    if (!s) return ol_err_set(err, CO_ERR_IO, "out of memory");
    s->set = *set;
    pthread_mutex_init(&s->reaper_mu, NULL);
    pthread_cond_init(&s->reaper_cv, NULL);
    pthread_mutex_init(&s->pricing_mu, NULL);
    pthread_mutex_init(&s->seen_mu, NULL);
    int rc = 0;
    char path[1100];
    const char *url = set->database_url;
    if (!url || !*url) {
        ol_err e2;
        /* the cache dir creation also creates the data dir */
        join_path(path, sizeof path, set->data_dir, "modules");
        co_cache *tmp;
        if ((rc = co_cache_open(NULL, path, 1, &tmp, &e2))) {
            free(s);
            return ol_err_set(err, rc, "data directory: %s", e2.msg);
        }
        co_cache_close(tmp);
        join_path(path, sizeof path, set->data_dir, "coordinator.db");
        url = path;
    }
    if ((rc = co_db_open(url, set->db_pool, &s->db, err))) goto fail;
    if ((rc = co_store_migrate(s->db, err))) goto fail;
    char cdir[1100];
    join_path(cdir, sizeof cdir, set->data_dir, "modules");
    if ((rc = co_cache_open(s->db, cdir, set->cache_budget_bytes, &s->cache, err))) goto fail;
    if ((rc = co_wake_open(set->redis_url, &s->wake, err))) goto fail;
    if (!(s->http = ol_http_server_new())) {
        rc = ol_err_set(err, CO_ERR_IO, "out of memory");
        goto fail;
    }
    route_ctx *ctxs = calloc(N_ENDPOINTS, sizeof *ctxs);
    if (!ctxs) {
        rc = ol_err_set(err, CO_ERR_IO, "out of memory");
        goto fail;
    }
    s->route_ctxs = ctxs; /* owned by the server, freed in co_server_free */
    for (size_t i = 0; i < N_ENDPOINTS; i++) {
        ctxs[i] = (route_ctx){s, &endpoints[i]};
        size_t body_max = endpoints[i].body_max == (size_t)-1 ? (size_t)set->module_max_bytes : endpoints[i].body_max;
        if ((rc = ol_http_route(s->http, endpoints[i].method, endpoints[i].pattern, body_max, entry, &ctxs[i], err)))
            goto fail;
    }
    *out = s;
    return 0;
fail:
    co_server_free(s);
    return rc;
}

int co_server_start(co_server *s, ol_err *err) {
    int rc = ol_http_server_start(s->http, s->set.host, s->set.port, s->set.max_connections, err);
    if (rc) return rc;
    if (pthread_create(&s->reaper, NULL, reaper_main, s) == 0) s->reaper_started = true;
    return 0;
}

void co_server_stop(co_server *s) {
    atomic_store(&s->stopping, true);
    if (s->wake) co_wake_shutdown(s->wake); /* wakes long polls so the HTTP server can stop */
    pthread_mutex_lock(&s->reaper_mu);
    pthread_cond_broadcast(&s->reaper_cv);
    pthread_mutex_unlock(&s->reaper_mu);
    if (s->reaper_started) {
        pthread_join(s->reaper, NULL);
        s->reaper_started = false;
    }
    if (s->http) ol_http_server_stop(s->http);
}

void co_server_free(co_server *s) {
    if (!s) return;
    co_server_stop(s);
    ol_http_server_free(s->http);
    co_wake_close(s->wake);
    co_cache_close(s->cache);
    co_db_close(s->db);
    free(s->pricing_json);
    free(s->route_ctxs);
    pthread_mutex_destroy(&s->reaper_mu);
    pthread_cond_destroy(&s->reaper_cv);
    pthread_mutex_destroy(&s->pricing_mu);
    pthread_mutex_destroy(&s->seen_mu);
    free(s);
}
