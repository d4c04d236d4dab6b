/* The store: schema and versioned migrations, and every query of the coordinator, written once for
 * both dialects (SQLite and PostgreSQL differ only in the id column type and in the claim's
 * FOR UPDATE SKIP LOCKED).
 *
 * Task state machine (a task is one phase, compile or execute, of one chain request):
 *
 *   waiting --(its compile task done)--> queued --claim--> leased --complete--> done
 *                                          ^                 |  \--fail(retry, attempts left)--> queued
 *                                          |                 |  \--fail(no retry / attempts used)--> failed
 *                                          +--lease expired--+  (failed instead when attempts are used up)
 *
 * A lease is named by (worker, attempt): attempt is the attempts counter after the claim, so a worker
 * whose lease expired and was given to someone else can no longer heartbeat, complete or fail it.
 * A completion from the holder of the latest attempt is accepted even after its lease expired as long
 * as nobody claimed the task again (also when the expiry used up the attempts and failed the task:
 * the work was done after all); repeating a completion is answered as already done. */
#include "coordinator/coordinator_int.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t co_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *i64s(char *buf, long long v) {
    snprintf(buf, 24, "%lld", v);
    return buf;
}
#define I64S(v) i64s((char[24]){0}, (long long)(v))

static int run(co_db *db, const char *sql, int n, const char *const *p, co_rows *out, long long *changes, ol_err *err) {
    co_conn *c = co_db_acquire(db);
    int rc = co_exec(c, sql, n, p, out, changes, err);
    co_db_release(db, c);
    return rc;
}

static long long cell_ll(const co_rows *r, size_t row, size_t col) {
    const char *s = co_cell(r, row, col);
    return s ? atoll(s) : 0;
}

/* ---- schema ---- */

#define SCHEMA_V1(ID)                                                                                                 \
    "CREATE TABLE tasks (id " ID ", request_id BIGINT NOT NULL, data_id TEXT NOT NULL,"                                \
    " kind TEXT NOT NULL CHECK (kind IN ('execute','compile')),"                                                      \
    " state TEXT NOT NULL CHECK (state IN ('waiting','queued','leased','done','failed')),"                            \
    " account TEXT, worker TEXT, lease_until BIGINT, attempts INTEGER NOT NULL DEFAULT 0,"                            \
    " max_attempts INTEGER NOT NULL, payload TEXT NOT NULL, result TEXT, error TEXT,"                                 \
    " created_ms BIGINT NOT NULL, updated_ms BIGINT NOT NULL, done_ms BIGINT,"                                        \
    " UNIQUE (request_id, data_id, kind));"                                                                           \
    "CREATE INDEX tasks_queue ON tasks (state, kind, id);"                                                            \
    "CREATE INDEX tasks_lease ON tasks (state, lease_until);"                                                         \
    "CREATE INDEX tasks_account ON tasks (account, id);"                                                              \
    "CREATE INDEX tasks_worker ON tasks (worker, state);"                                                             \
    "CREATE TABLE workers (worker_id TEXT PRIMARY KEY, token_name TEXT, status TEXT NOT NULL,"                        \
    " last_seen_ms BIGINT NOT NULL, created_ms BIGINT NOT NULL);"                                                     \
    "CREATE TABLE tokens (name TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, created_ms BIGINT NOT NULL,"              \
    " revoked_ms BIGINT);"                                                                                            \
    "CREATE TABLE modules (hash TEXT PRIMARY KEY, size BIGINT NOT NULL, created_ms BIGINT NOT NULL,"                  \
    " last_used_ms BIGINT NOT NULL, uses BIGINT NOT NULL DEFAULT 0);"                                                 \
    "CREATE INDEX modules_lru ON modules (last_used_ms);"                                                             \
    "CREATE TABLE module_index (repo TEXT NOT NULL, commit_id TEXT NOT NULL, target TEXT NOT NULL,"                    \
    " builder TEXT NOT NULL, hash TEXT NOT NULL, created_ms BIGINT NOT NULL,"                                         \
    " PRIMARY KEY (repo, commit_id, target, builder));"                                                               \
    "CREATE TABLE build_locks (key TEXT PRIMARY KEY, owner TEXT NOT NULL, until_ms BIGINT NOT NULL);"

#define SCHEMA_V2                                                                                                     \
    "CREATE TABLE monitor_cursors (name TEXT PRIMARY KEY, value BIGINT NOT NULL CHECK (value >= 0),"                  \
    " updated_ms BIGINT NOT NULL);"

typedef struct migration {
    int version;
    const char *sqlite, *pg;
} migration;

/* Append new versions at the end; never edit an applied one. */
static const migration migrations[] = {
    {1, SCHEMA_V1("INTEGER PRIMARY KEY AUTOINCREMENT"), SCHEMA_V1("BIGSERIAL PRIMARY KEY")},
    /* 2: monitor cursors (the next request id a chain monitor looks at), shared by all workers */
    {2, SCHEMA_V2, SCHEMA_V2},
};

int co_store_migrate(co_db *db, ol_err *err) {
    co_conn *c = co_db_acquire(db);
    bool pg = co_db_dialect(db) == CO_PG;
    int rc = co_begin(c, err);
    if (rc) goto out;
    /* Several coordinators may start at once on one PostgreSQL: one migrates, the others wait. */
    if (pg && (rc = co_exec_script(c, "SELECT pg_advisory_xact_lock(7007001)", err))) goto fail;
    if ((rc = co_exec_script(c,
                             "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
                             " applied_ms BIGINT NOT NULL)",
                             err)))
        goto fail;
    co_rows r;
    if ((rc = co_exec(c, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", 0, NULL, &r, NULL, err))) goto fail;
    long long have = cell_ll(&r, 0, 0);
    co_rows_free(&r);
    int latest = migrations[sizeof migrations / sizeof migrations[0] - 1].version;
    if (have > latest) {
        rc = ol_err_set(err, CO_ERR_DB, "database schema version %lld is newer than this coordinator (%d)", have, latest);
        goto fail;
    }
    for (size_t i = 0; i < sizeof migrations / sizeof migrations[0]; i++) {
        const migration *m = &migrations[i];
        if (m->version <= have) continue;
        if ((rc = co_exec_script(c, pg ? m->pg : m->sqlite, err))) goto fail;
        const char *p[] = {I64S(m->version), I64S(co_now_ms())};
        if ((rc = co_exec(c, "INSERT INTO schema_migrations (version, applied_ms) VALUES ($1, $2)", 2, p, NULL, NULL, err)))
            goto fail;
        OL_INFO("store: applied migration %d", m->version);
    }
    rc = co_commit(c, err);
    goto out;
fail:
    co_rollback(c);
out:
    co_db_release(db, c);
    return rc;
}

int co_store_schema_version(co_db *db, int *out, ol_err *err) {
    co_rows r;
    int rc = run(db, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", 0, NULL, &r, NULL, err);
    if (rc) return rc;
    *out = (int)cell_ll(&r, 0, 0);
    co_rows_free(&r);
    return 0;
}

/* ---- tasks ---- */

#define TASK_COLS                                                                                                     \
    "id, request_id, data_id, kind, state, account, worker, lease_until, attempts, max_attempts, created_ms,"         \
    " updated_ms, done_ms, error, result, payload"

static const char *kind_name(int kind) { return kind == CO_CAP_COMPILE ? "compile" : "execute"; }

static json_t *json_text_or_null(const char *s) {
    if (!s) return json_null();
    json_t *v = json_loads(s, JSON_DECODE_ANY, NULL);
    return v ? v : json_string(s);
}

static json_t *task_json(const co_rows *r, size_t i, bool with_payload) {
    json_t *o = json_object();
    const char *account = co_cell(r, i, 5), *worker = co_cell(r, i, 6), *error = co_cell(r, i, 13);
    json_object_set_new(o, "task_id", json_integer(cell_ll(r, i, 0)));
    json_object_set_new(o, "request_id", json_integer(cell_ll(r, i, 1)));
    json_object_set_new(o, "data_id", json_string(co_cell(r, i, 2) ? co_cell(r, i, 2) : ""));
    json_object_set_new(o, "kind", json_string(co_cell(r, i, 3) ? co_cell(r, i, 3) : ""));
    json_object_set_new(o, "state", json_string(co_cell(r, i, 4) ? co_cell(r, i, 4) : ""));
    json_object_set_new(o, "account", account ? json_string(account) : json_null());
    json_object_set_new(o, "worker_id", worker ? json_string(worker) : json_null());
    json_object_set_new(o, "lease_until_ms", co_cell(r, i, 7) ? json_integer(cell_ll(r, i, 7)) : json_null());
    json_object_set_new(o, "attempt", json_integer(cell_ll(r, i, 8)));
    json_object_set_new(o, "max_attempts", json_integer(cell_ll(r, i, 9)));
    json_object_set_new(o, "created_ms", json_integer(cell_ll(r, i, 10)));
    json_object_set_new(o, "updated_ms", json_integer(cell_ll(r, i, 11)));
    json_object_set_new(o, "done_ms", co_cell(r, i, 12) ? json_integer(cell_ll(r, i, 12)) : json_null());
    json_object_set_new(o, "error", error ? json_string(error) : json_null());
    json_object_set_new(o, "result", json_text_or_null(co_cell(r, i, 14)));
    if (with_payload) json_object_set_new(o, "payload", json_text_or_null(co_cell(r, i, 15)));
    return o;
}

int co_task_create(co_db *db, const co_task_new *t, int64_t now, int64_t *out_id, bool *out_created, ol_err *err) {
    co_conn *c = co_db_acquire(db);
    int rc = co_begin(c, err);
    co_rows r = {0};
    if (rc) goto out;
    const char *state = "queued";
    const char *error = NULL;
    char errbuf[CO_ERROR_MAX];
    if (t->kind == CO_CAP_EXECUTE && t->wait_for_compile) {
        const char *p[] = {I64S(t->request_id), t->data_id};
        if ((rc = co_exec(c, "SELECT state, error FROM tasks WHERE request_id = $1 AND data_id = $2 AND kind = 'compile'",
                          2, p, &r, NULL, err)))
            goto fail;
        if (r.nrows) {
            const char *cs = co_cell(&r, 0, 0);
            if (strcmp(cs, "failed") == 0) {
                state = "failed";
                snprintf(errbuf, sizeof errbuf, "compile failed: %s", co_cell(&r, 0, 1) ? co_cell(&r, 0, 1) : "");
                error = errbuf;
            } else if (strcmp(cs, "done") != 0) {
                state = "waiting";
            }
        }
        co_rows_free(&r);
    }
    const char *p[] = {I64S(t->request_id), t->data_id, kind_name(t->kind), state, t->account, I64S(t->max_attempts),
                       t->payload, error, I64S(now)};
    if ((rc = co_exec(c,
                      "INSERT INTO tasks (request_id, data_id, kind, state, account, max_attempts, payload, error,"
                      " created_ms, updated_ms, done_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9,"
                      " CASE WHEN $4 = 'failed' THEN CAST($9 AS BIGINT) ELSE NULL END)"
                      " ON CONFLICT (request_id, data_id, kind) DO NOTHING RETURNING id",
                      9, p, &r, NULL, err)))
        goto fail;
    if (r.nrows) {
        *out_id = cell_ll(&r, 0, 0);
        *out_created = true;
    } else {
        co_rows_free(&r);
        const char *q[] = {I64S(t->request_id), t->data_id, kind_name(t->kind)};
        if ((rc = co_exec(c, "SELECT id FROM tasks WHERE request_id = $1 AND data_id = $2 AND kind = $3", 3, q, &r, NULL,
                          err)))
            goto fail;
        if (!r.nrows) {
            rc = ol_err_set(err, CO_ERR_DB, "task vanished during create");
            goto fail;
        }
        *out_id = cell_ll(&r, 0, 0);
        *out_created = false;
    }
    co_rows_free(&r);
    rc = co_commit(c, err);
    goto out;
fail:
    co_rows_free(&r);
    co_rollback(c);
out:
    co_db_release(db, c);
    return rc;
}

/* The error of a task whose last lease expired with no attempts left. Its last holder may still
 * complete it (nobody else can hold it any more). */
#define LEASE_EXHAUSTED "lease expired and no attempts left"

int co_task_reap(co_db *db, int64_t now, long long *out_n, ol_err *err) {
    const char *p[] = {I64S(now)};
    return run(db,
               "UPDATE tasks SET state = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END,"
               " error = CASE WHEN attempts >= max_attempts THEN '" LEASE_EXHAUSTED "' ELSE error END,"
               " done_ms = CASE WHEN attempts >= max_attempts THEN CAST($1 AS BIGINT) ELSE NULL END,"
               " lease_until = NULL, updated_ms = $1 WHERE state = 'leased' AND lease_until < $1",
               1, p, NULL, out_n, err);
}

static const char SQL_CLAIM_SQLITE[] =
    "UPDATE tasks SET state = 'leased', worker = $1, lease_until = $2, attempts = attempts + 1, updated_ms = $3"
    " WHERE id = (SELECT id FROM tasks WHERE state = 'queued' AND kind IN ($4, $5) ORDER BY id LIMIT 1)"
    " RETURNING " TASK_COLS;
static const char SQL_CLAIM_PG[] =
    "UPDATE tasks SET state = 'leased', worker = $1, lease_until = $2, attempts = attempts + 1, updated_ms = $3"
    " WHERE id = (SELECT id FROM tasks WHERE state = 'queued' AND kind IN ($4, $5) ORDER BY id LIMIT 1"
    " FOR UPDATE SKIP LOCKED) RETURNING " TASK_COLS;

int co_task_claim(co_db *db, const char *worker, int caps, int64_t now, int64_t lease_ms, json_t **out_task,
                  ol_err *err) {
    *out_task = NULL;
    const char *k1 = (caps & CO_CAP_EXECUTE) ? "execute" : "compile";
    const char *k2 = (caps & CO_CAP_COMPILE) ? "compile" : "execute";
    const char *p[] = {worker, I64S(now + lease_ms), I64S(now), k1, k2};
    co_rows r;
    int rc = run(db, co_db_dialect(db) == CO_PG ? SQL_CLAIM_PG : SQL_CLAIM_SQLITE, 5, p, &r, NULL, err);
    if (rc) return rc;
    if (r.nrows) *out_task = task_json(&r, 0, true);
    co_rows_free(&r);
    return 0;
}

/* Explains why a lease operation matched nothing. */
static int lease_error(co_db *db, int64_t id, const char *worker, long long attempt, ol_err *err) {
    const char *p[] = {I64S(id)};
    co_rows r;
    int rc = run(db, "SELECT state, worker, attempts FROM tasks WHERE id = $1", 1, p, &r, NULL, err);
    if (rc) return rc;
    if (!r.nrows) {
        co_rows_free(&r);
        return ol_err_set(err, CO_ERR_NOT_FOUND, "task %lld does not exist", (long long)id);
    }
    const char *state = co_cell(&r, 0, 0), *holder = co_cell(&r, 0, 1);
    long long att = cell_ll(&r, 0, 2);
    if (!holder || strcmp(holder, worker) != 0 || att != attempt)
        rc = ol_err_set(err, CO_ERR_CONFLICT, "lease lost: task %lld is at attempt %lld (state %s), not %s's attempt %lld",
                        (long long)id, att, state, worker, attempt);
    else
        rc = ol_err_set(err, CO_ERR_CONFLICT, "task %lld is %s; the lease is over", (long long)id, state);
    co_rows_free(&r);
    return rc;
}

int co_task_heartbeat(co_db *db, int64_t id, const char *worker, long long attempt, int64_t now, int64_t lease_ms,
                      int64_t *out_until, ol_err *err) {
    const char *p[] = {I64S(now + lease_ms), I64S(now), I64S(id), worker, I64S(attempt)};
    long long n = 0;
    int rc = run(db,
                 "UPDATE tasks SET lease_until = $1, updated_ms = $2 WHERE id = $3 AND state = 'leased'"
                 " AND worker = $4 AND attempts = $5",
                 5, p, NULL, &n, err);
    if (rc) return rc;
    if (n == 0) return lease_error(db, id, worker, attempt, err);
    *out_until = now + lease_ms;
    return 0;
}

int co_task_complete(co_db *db, int64_t id, const char *worker, long long attempt, const char *result, int64_t now,
                     bool *out_already, ol_err *err) {
    *out_already = false;
    co_conn *c = co_db_acquire(db);
    co_rows r = {0};
    int rc = co_begin(c, err);
    if (rc) goto out;
    const char *p[] = {result, I64S(now), I64S(id), worker, I64S(attempt)};
    if ((rc = co_exec(c,
                      "UPDATE tasks SET state = 'done', result = $1, done_ms = $2, updated_ms = $2, lease_until = NULL,"
                      " error = NULL WHERE id = $3 AND worker = $4 AND attempts = $5 AND (state IN ('leased', 'queued')"
                      " OR (state = 'failed' AND error = '" LEASE_EXHAUSTED "'))"
                      " RETURNING kind, request_id, data_id",
                      5, p, &r, NULL, err)))
        goto fail;
    if (r.nrows && strcmp(co_cell(&r, 0, 0), "compile") == 0) {
        const char *q[] = {co_cell(&r, 0, 1), co_cell(&r, 0, 2), I64S(now)};
        if ((rc = co_exec(c,
                          "UPDATE tasks SET state = 'queued', updated_ms = $3 WHERE request_id = $1 AND data_id = $2"
                          " AND kind = 'execute' AND state = 'waiting'",
                          3, q, NULL, NULL, err)))
            goto fail;
    }
    bool changed = r.nrows > 0;
    co_rows_free(&r);
    if ((rc = co_commit(c, err))) goto out;
    co_db_release(db, c);
    if (changed) return 0;
    /* Nothing matched: a repeat of this very completion, or a lost lease. */
    const char *q[] = {I64S(id)};
    if ((rc = run(db, "SELECT state, worker, attempts FROM tasks WHERE id = $1", 1, q, &r, NULL, err))) return rc;
    if (r.nrows && strcmp(co_cell(&r, 0, 0), "done") == 0 && co_cell(&r, 0, 1) &&
        strcmp(co_cell(&r, 0, 1), worker) == 0 && cell_ll(&r, 0, 2) == attempt) {
        *out_already = true;
        co_rows_free(&r);
        return 0;
    }
    co_rows_free(&r);
    return lease_error(db, id, worker, attempt, err);
fail:
    co_rows_free(&r);
    co_rollback(c);
out:
    co_db_release(db, c);
    return rc;
}

int co_task_fail(co_db *db, int64_t id, const char *worker, long long attempt, const char *error, bool retry,
                 int64_t now, bool *out_already, const char **out_state, ol_err *err) {
    *out_already = false;
    *out_state = NULL;
    co_conn *c = co_db_acquire(db);
    co_rows r = {0};
    int rc = co_begin(c, err);
    if (rc) goto out;
    const char *p[] = {error, I64S(now), I64S(id), worker, I64S(attempt), retry ? "1" : "0"};
    if ((rc = co_exec(c,
                      "UPDATE tasks SET state = CASE WHEN $6 = '1' AND attempts < max_attempts THEN 'queued' ELSE"
                      " 'failed' END, error = $1, updated_ms = $2, lease_until = NULL,"
                      " done_ms = CASE WHEN $6 = '1' AND attempts < max_attempts THEN NULL ELSE CAST($2 AS BIGINT) END"
                      " WHERE id = $3 AND state = 'leased' AND worker = $4 AND attempts = $5"
                      " RETURNING state, kind, request_id, data_id",
                      6, p, &r, NULL, err)))
        goto fail;
    if (r.nrows && strcmp(co_cell(&r, 0, 0), "failed") == 0 && strcmp(co_cell(&r, 0, 1), "compile") == 0) {
        char msg[CO_ERROR_MAX];
        snprintf(msg, sizeof msg, "compile failed: %s", error);
        const char *q[] = {co_cell(&r, 0, 2), co_cell(&r, 0, 3), I64S(now), msg};
        if ((rc = co_exec(c,
                          "UPDATE tasks SET state = 'failed', error = $4, updated_ms = $3, done_ms = $3"
                          " WHERE request_id = $1 AND data_id = $2 AND kind = 'execute' AND state = 'waiting'",
                          4, q, NULL, NULL, err)))
            goto fail;
    }
    bool changed = r.nrows > 0;
    if (changed) *out_state = strcmp(co_cell(&r, 0, 0), "failed") == 0 ? "failed" : "queued";
    co_rows_free(&r);
    if ((rc = co_commit(c, err))) goto out;
    co_db_release(db, c);
    if (changed) return 0;
    const char *q[] = {I64S(id)};
    if ((rc = run(db, "SELECT state, worker, attempts FROM tasks WHERE id = $1", 1, q, &r, NULL, err))) return rc;
    if (r.nrows && co_cell(&r, 0, 1) && strcmp(co_cell(&r, 0, 1), worker) == 0 && cell_ll(&r, 0, 2) == attempt &&
        (strcmp(co_cell(&r, 0, 0), "failed") == 0 || strcmp(co_cell(&r, 0, 0), "queued") == 0)) {
        *out_already = true;
        *out_state = strcmp(co_cell(&r, 0, 0), "failed") == 0 ? "failed" : "queued";
        co_rows_free(&r);
        return 0;
    }
    co_rows_free(&r);
    return lease_error(db, id, worker, attempt, err);
fail:
    co_rows_free(&r);
    co_rollback(c);
out:
    co_db_release(db, c);
    return rc;
}

int co_task_get(co_db *db, int64_t id, bool with_payload, json_t **out, ol_err *err) {
    const char *p[] = {I64S(id)};
    co_rows r;
    int rc = run(db, "SELECT " TASK_COLS " FROM tasks WHERE id = $1", 1, p, &r, NULL, err);
    if (rc) return rc;
    if (!r.nrows) {
        co_rows_free(&r);
        return ol_err_set(err, CO_ERR_NOT_FOUND, "task %lld does not exist", (long long)id);
    }
    *out = task_json(&r, 0, with_payload);
    co_rows_free(&r);
    return 0;
}

int co_task_list(co_db *db, const char *account, const char *state, long long offset, long long limit, json_t **out,
                 ol_err *err) {
    const char *p[] = {account, state, I64S(limit), I64S(offset)};
    co_rows r;
    int rc = run(db,
                 "SELECT " TASK_COLS " FROM tasks WHERE (CAST($1 AS TEXT) IS NULL OR account = $1) AND (CAST($2 AS TEXT) IS NULL OR state = $2)"
                 " ORDER BY id DESC LIMIT CAST($3 AS INTEGER) OFFSET CAST($4 AS INTEGER)",
                 4, p, &r, NULL, err);
    if (rc) return rc;
    json_t *a = json_array();
    for (size_t i = 0; i < r.nrows; i++) json_array_append_new(a, task_json(&r, i, false));
    co_rows_free(&r);
    *out = a;
    return 0;
}

int co_stats(co_db *db, int64_t now, int64_t active_window_ms, json_t **out, ol_err *err) {
    co_rows r;
    int rc = run(db, "SELECT kind, state, COUNT(*) FROM tasks GROUP BY kind, state", 0, NULL, &r, NULL, err);
    if (rc) return rc;
    json_t *o = json_object(), *by = json_object();
    static const char *const states[] = {"waiting", "queued", "leased", "done", "failed"};
    for (size_t s = 0; s < 5; s++) json_object_set_new(by, states[s], json_integer(0));
    json_t *kinds = json_object();
    long long total = 0;
    for (size_t i = 0; i < r.nrows; i++) {
        long long n = cell_ll(&r, i, 2);
        const char *st = co_cell(&r, i, 1), *k = co_cell(&r, i, 0);
        json_t *cur = json_object_get(by, st);
        json_object_set_new(by, st, json_integer((cur ? json_integer_value(cur) : 0) + n));
        json_t *ko = json_object_get(kinds, k);
        if (!ko) json_object_set_new(kinds, k, ko = json_object());
        json_object_set_new(ko, st, json_integer(n));
        total += n;
    }
    co_rows_free(&r);
    json_object_set_new(o, "tasks_total", json_integer(total));
    json_object_set_new(o, "tasks_by_state", by);
    json_object_set_new(o, "tasks_by_kind", kinds);
    const char *p[] = {I64S(now - active_window_ms)};
    if ((rc = run(db, "SELECT COUNT(*) FROM workers WHERE last_seen_ms >= $1", 1, p, &r, NULL, err))) {
        json_decref(o);
        return rc;
    }
    json_object_set_new(o, "active_workers", json_integer(cell_ll(&r, 0, 0)));
    co_rows_free(&r);
    if ((rc = run(db, "SELECT COUNT(DISTINCT account) FROM tasks WHERE account IS NOT NULL", 0, NULL, &r, NULL, err))) {
        json_decref(o);
        return rc;
    }
    json_object_set_new(o, "unique_accounts", json_integer(cell_ll(&r, 0, 0)));
    co_rows_free(&r);
    long long bytes = 0, count = 0;
    if ((rc = co_module_total(db, &bytes, &count, err))) {
        json_decref(o);
        return rc;
    }
    json_object_set_new(o, "modules", json_integer(count));
    json_object_set_new(o, "module_bytes", json_integer(bytes));
    *out = o;
    return 0;
}

/* ---- workers ---- */

int co_worker_seen(co_db *db, const char *worker, const char *token_name, const char *status, int64_t now, ol_err *err) {
    const char *p[] = {worker, token_name, status, I64S(now)};
    return run(db,
               "INSERT INTO workers (worker_id, token_name, status, last_seen_ms, created_ms) VALUES ($1, $2, $3, $4, $4)"
               " ON CONFLICT (worker_id) DO UPDATE SET token_name = excluded.token_name, status = excluded.status,"
               " last_seen_ms = excluded.last_seen_ms",
               4, p, NULL, NULL, err);
}

int co_worker_list(co_db *db, int64_t now, int64_t active_window_ms, json_t **out, ol_err *err) {
    co_rows r;
    int rc = run(db,
                 "SELECT w.worker_id, w.token_name, w.status, w.last_seen_ms, w.created_ms,"
                 " (SELECT COUNT(*) FROM tasks t WHERE t.worker = w.worker_id AND t.state = 'done'),"
                 " (SELECT COUNT(*) FROM tasks t WHERE t.worker = w.worker_id AND t.state = 'failed'),"
                 " (SELECT COUNT(*) FROM tasks t WHERE t.worker = w.worker_id AND t.state = 'leased')"
                 " FROM workers w ORDER BY w.last_seen_ms DESC LIMIT 1000",
                 0, NULL, &r, NULL, err);
    if (rc) return rc;
    json_t *a = json_array();
    for (size_t i = 0; i < r.nrows; i++) {
        long long seen = cell_ll(&r, i, 3);
        bool active = now - seen <= active_window_ms;
        json_t *w = json_object();
        json_object_set_new(w, "worker_id", json_string(co_cell(&r, i, 0)));
        json_object_set_new(w, "token_name", co_cell(&r, i, 1) ? json_string(co_cell(&r, i, 1)) : json_null());
        json_object_set_new(w, "status", json_string(active ? co_cell(&r, i, 2) : "offline"));
        json_object_set_new(w, "heartbeat", json_string(active ? "alive" : "stale"));
        json_object_set_new(w, "last_seen_ms", json_integer(seen));
        json_object_set_new(w, "seconds_since_seen", json_integer((now - seen) / 1000));
        json_object_set_new(w, "first_seen_ms", json_integer(cell_ll(&r, i, 4)));
        json_object_set_new(w, "tasks_done", json_integer(cell_ll(&r, i, 5)));
        json_object_set_new(w, "tasks_failed", json_integer(cell_ll(&r, i, 6)));
        json_object_set_new(w, "tasks_leased", json_integer(cell_ll(&r, i, 7)));
        json_array_append_new(a, w);
    }
    co_rows_free(&r);
    *out = a;
    return 0;
}

/* ---- tokens ---- */

static void sha256_hex(const void *data, size_t len, char out[65]) {
    uint8_t h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, data, len);
    ol_hex_encode(h, sizeof h, out);
}

int co_token_create(co_db *db, const char *name, char out_token[65], ol_err *err) {
    uint8_t raw[32];
    char token[65];
    randombytes_buf(raw, sizeof raw);
    ol_hex_encode(raw, sizeof raw, token);
    sodium_memzero(raw, sizeof raw);
    char hash[65];
    sha256_hex(token, 64, hash);
    const char *p[] = {name, hash, I64S(co_now_ms())};
    int rc = run(db, "INSERT INTO tokens (name, hash, created_ms) VALUES ($1, $2, $3)", 3, p, NULL, NULL, err);
    if (rc == 0) memcpy(out_token, token, 65); /* *out_token is only written on success */
    sodium_memzero(token, sizeof token);
    if (rc == CO_ERR_CONFLICT) return ol_err_set(err, CO_ERR_CONFLICT, "a token named \"%s\" already exists", name);
    return rc;
}

int co_token_revoke(co_db *db, const char *name, ol_err *err) {
    const char *p[] = {name, I64S(co_now_ms())};
    long long n = 0;
    int rc = run(db, "UPDATE tokens SET revoked_ms = $2 WHERE name = $1 AND revoked_ms IS NULL", 2, p, NULL, &n, err);
    if (rc) return rc;
    if (n == 0) return ol_err_set(err, CO_ERR_NOT_FOUND, "no active token named \"%s\"", name);
    return 0;
}

int co_token_check(co_db *db, const char *token, char out_name[CO_TOKEN_NAME_MAX + 1], ol_err *err) {
    char hash[65];
    sha256_hex(token, strlen(token), hash);
    const char *p[] = {hash};
    co_rows r;
    int rc = run(db, "SELECT name FROM tokens WHERE hash = $1 AND revoked_ms IS NULL", 1, p, &r, NULL, err);
    if (rc) return rc;
    if (!r.nrows) {
        co_rows_free(&r);
        return ol_err_set(err, CO_ERR_NOT_FOUND, "unknown or revoked token");
    }
    ol_strlcpy(out_name, co_cell(&r, 0, 0), CO_TOKEN_NAME_MAX + 1);
    co_rows_free(&r);
    return 0;
}

int co_token_list(co_db *db, json_t **out, ol_err *err) {
    co_rows r;
    int rc = run(db, "SELECT name, created_ms, revoked_ms FROM tokens ORDER BY name", 0, NULL, &r, NULL, err);
    if (rc) return rc;
    json_t *a = json_array();
    for (size_t i = 0; i < r.nrows; i++) {
        json_t *t = json_object();
        json_object_set_new(t, "name", json_string(co_cell(&r, i, 0)));
        json_object_set_new(t, "created_ms", json_integer(cell_ll(&r, i, 1)));
        json_object_set_new(t, "revoked_ms", co_cell(&r, i, 2) ? json_integer(cell_ll(&r, i, 2)) : json_null());
        json_array_append_new(a, t);
    }
    co_rows_free(&r);
    *out = a;
    return 0;
}

/* ---- modules, index, build locks ---- */

int co_module_put(co_db *db, const char *hash, long long size, int64_t now, ol_err *err) {
    const char *p[] = {hash, I64S(size), I64S(now)};
    return run(db,
               "INSERT INTO modules (hash, size, created_ms, last_used_ms) VALUES ($1, $2, $3, $3)"
               " ON CONFLICT (hash) DO UPDATE SET last_used_ms = excluded.last_used_ms, size = excluded.size",
               3, p, NULL, NULL, err);
}

int co_module_touch(co_db *db, const char *hash, int64_t now, long long *out_size, ol_err *err) {
    const char *p[] = {hash, I64S(now)};
    co_rows r;
    int rc = run(db, "UPDATE modules SET last_used_ms = $2, uses = uses + 1 WHERE hash = $1 RETURNING size", 2, p, &r,
                 NULL, err);
    if (rc) return rc;
    if (!r.nrows) rc = ol_err_set(err, CO_ERR_NOT_FOUND, "module %s is not in the cache", hash);
    else if (out_size) *out_size = cell_ll(&r, 0, 0);
    co_rows_free(&r);
    return rc;
}

int co_module_delete(co_db *db, const char *hash, ol_err *err) {
    const char *p[] = {hash};
    return run(db, "DELETE FROM modules WHERE hash = $1", 1, p, NULL, NULL, err);
}

int co_module_total(co_db *db, long long *out_bytes, long long *out_count, ol_err *err) {
    co_rows r;
    int rc = run(db, "SELECT COALESCE(SUM(size), 0), COUNT(*) FROM modules", 0, NULL, &r, NULL, err);
    if (rc) return rc;
    *out_bytes = cell_ll(&r, 0, 0);
    *out_count = cell_ll(&r, 0, 1);
    co_rows_free(&r);
    return 0;
}

int co_module_lru(co_db *db, long long limit, co_rows *out, ol_err *err) {
    const char *p[] = {I64S(limit)};
    return run(db, "SELECT hash, size FROM modules ORDER BY last_used_ms, hash LIMIT CAST($1 AS INTEGER)", 1, p, out,
               NULL, err);
}

int co_module_info(co_db *db, const char *hash, json_t **out, ol_err *err) {
    const char *p[] = {hash};
    co_rows r;
    int rc = run(db, "SELECT hash, size, created_ms, last_used_ms, uses FROM modules WHERE hash = $1", 1, p, &r, NULL, err);
    if (rc) return rc;
    if (!r.nrows) {
        co_rows_free(&r);
        return ol_err_set(err, CO_ERR_NOT_FOUND, "module %s is not in the cache", hash);
    }
    *out = json_pack("{s:s,s:I,s:I,s:I,s:I}", "hash", co_cell(&r, 0, 0), "size", (json_int_t)cell_ll(&r, 0, 1),
                     "created_ms", (json_int_t)cell_ll(&r, 0, 2), "last_used_ms", (json_int_t)cell_ll(&r, 0, 3), "uses",
                     (json_int_t)cell_ll(&r, 0, 4));
    co_rows_free(&r);
    return 0;
}

int co_index_put(co_db *db, const char *repo, const char *commit, const char *target, const char *builder,
                 const char *hash, int64_t now, ol_err *err) {
    const char *p[] = {repo, commit, target, builder, hash, I64S(now)};
    return run(db,
               "INSERT INTO module_index (repo, commit_id, target, builder, hash, created_ms) VALUES ($1, $2, $3, $4, $5, $6)"
               " ON CONFLICT (repo, commit_id, target, builder) DO UPDATE SET hash = excluded.hash,"
               " created_ms = excluded.created_ms",
               6, p, NULL, NULL, err);
}

int co_index_get(co_db *db, const char *repo, const char *commit, const char *target, const char *builder,
                 char out_hash[65], ol_err *err) {
    const char *p[] = {repo, commit, target, builder};
    co_rows r;
    int rc = run(db,
                 "SELECT i.hash FROM module_index i JOIN modules m ON m.hash = i.hash WHERE i.repo = $1"
                 " AND i.commit_id = $2 AND i.target = $3 AND i.builder = $4",
                 4, p, &r, NULL, err);
    if (rc) return rc;
    if (!r.nrows) rc = ol_err_set(err, CO_ERR_NOT_FOUND, "no cached module for this repository, commit and target");
    else ol_strlcpy(out_hash, co_cell(&r, 0, 0), 65);
    co_rows_free(&r);
    return rc;
}

int co_lock_acquire(co_db *db, const char *key, const char *owner, int64_t now, int64_t ttl_ms, bool *out_got,
                    char out_holder[CO_WORKER_ID_MAX + 1], ol_err *err) {
    const char *p[] = {key, owner, I64S(now + ttl_ms), I64S(now)};
    co_rows r;
    int rc = run(db,
                 "INSERT INTO build_locks (key, owner, until_ms) VALUES ($1, $2, $3) ON CONFLICT (key) DO UPDATE"
                 " SET owner = excluded.owner, until_ms = excluded.until_ms"
                 " WHERE build_locks.until_ms < $4 OR build_locks.owner = excluded.owner RETURNING owner",
                 4, p, &r, NULL, err);
    if (rc) return rc;
    *out_got = r.nrows > 0;
    co_rows_free(&r);
    out_holder[0] = 0;
    if (*out_got) {
        ol_strlcpy(out_holder, owner, CO_WORKER_ID_MAX + 1);
        return 0;
    }
    const char *q[] = {key};
    if ((rc = run(db, "SELECT owner FROM build_locks WHERE key = $1", 1, q, &r, NULL, err))) return rc;
    if (r.nrows) ol_strlcpy(out_holder, co_cell(&r, 0, 0), CO_WORKER_ID_MAX + 1);
    co_rows_free(&r);
    return 0;
}

int co_lock_release(co_db *db, const char *key, const char *owner, bool *out_released, ol_err *err) {
    const char *p[] = {key, owner};
    long long n = 0;
    int rc = run(db, "DELETE FROM build_locks WHERE key = $1 AND owner = $2", 2, p, NULL, &n, err);
    *out_released = n > 0;
    return rc;
}

/* ---- monitor cursors ---- */

int co_cursor_get(co_db *db, const char *name, long long *out_value, int64_t *out_updated_ms, ol_err *err) {
    const char *p[] = {name};
    co_rows r;
    int rc = run(db, "SELECT value, updated_ms FROM monitor_cursors WHERE name = $1", 1, p, &r, NULL, err);
    if (rc) return rc;
    if (!r.nrows) rc = ol_err_set(err, CO_ERR_NOT_FOUND, "no monitor cursor named \"%s\"", name);
    else {
        *out_value = cell_ll(&r, 0, 0);
        if (out_updated_ms) *out_updated_ms = cell_ll(&r, 0, 1);
    }
    co_rows_free(&r);
    return rc;
}

int co_cursor_set(co_db *db, const char *name, long long value, const long long *expected, int64_t now,
                  long long *out_current, ol_err *err) {
    long long n = 0;
    int rc;
    if (!expected) {
        const char *p[] = {name, I64S(value), I64S(now)};
        rc = run(db,
                 "INSERT INTO monitor_cursors (name, value, updated_ms) VALUES ($1, $2, $3) ON CONFLICT (name) DO UPDATE"
                 " SET value = excluded.value, updated_ms = excluded.updated_ms",
                 3, p, NULL, &n, err);
        if (!rc && out_current) *out_current = value;
        return rc;
    }
    if (*expected < 0) {
        /* expected "absent": only creates */
        const char *p[] = {name, I64S(value), I64S(now)};
        rc = run(db, "INSERT INTO monitor_cursors (name, value, updated_ms) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
                 3, p, NULL, &n, err);
    } else {
        const char *p[] = {name, I64S(value), I64S(now), I64S(*expected)};
        rc = run(db, "UPDATE monitor_cursors SET value = $2, updated_ms = $3 WHERE name = $1 AND value = $4", 4, p, NULL, &n,
                 err);
    }
    if (rc) return rc;
    if (n > 0) {
        if (out_current) *out_current = value;
        return 0;
    }
    /* the compare failed: report what is there now */
    long long cur = -1;
    ol_err e2;
    int g = co_cursor_get(db, name, &cur, NULL, &e2);
    if (g && g != CO_ERR_NOT_FOUND) return ol_err_set(err, g, "%s", e2.msg);
    if (out_current) *out_current = g ? -1 : cur;
    if (g)
        return ol_err_set(err, CO_ERR_CONFLICT, "monitor cursor \"%s\" does not exist (expected %lld)", name, *expected);
    if (*expected < 0)
        return ol_err_set(err, CO_ERR_CONFLICT, "monitor cursor \"%s\" already exists (value %lld)", name, cur);
    return ol_err_set(err, CO_ERR_CONFLICT, "monitor cursor \"%s\" is %lld, not the expected %lld", name, cur, *expected);
}
