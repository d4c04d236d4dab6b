/* Database layer: a fixed pool of connections to SQLite (WAL) or PostgreSQL (libpq). Statements use
 * $1..$N in both dialects: SQLite takes "$1" as a named parameter and we bind it by name; PostgreSQL
 * gets them natively through PQprepare/PQexecPrepared. Prepared statements are cached per connection
 * by the SQL text's pointer. Values travel as text. */
#include "coordinator/coordinator_int.h"

#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STMT_CACHE 96 /* distinct statements per connection; the store has fewer than this */

typedef struct stmt_slot {
    const char *sql;
    sqlite3_stmt *st; /* SQLite */
    int pg_index;     /* PostgreSQL: prepared as "s<index>" */
} stmt_slot;

struct co_conn {
    co_dialect dialect;
    sqlite3 *lite;
    PGconn *pg;
    stmt_slot stmts[STMT_CACHE];
    int nstmts;
    bool busy;
};

struct co_db {
    co_dialect dialect;
    char *url;
    co_conn *conns;
    size_t n;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

co_dialect co_db_dialect(const co_db *db) { return db->dialect; }

static int open_sqlite(co_conn *c, const char *path, ol_err *err) {
    int rc = sqlite3_open_v2(path, &c->lite, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        ol_err_set(err, CO_ERR_DB, "sqlite: cannot open %s: %s", path, c->lite ? sqlite3_errmsg(c->lite) : "out of memory");
        sqlite3_close(c->lite);
        c->lite = NULL;
        return CO_ERR_DB;
    }
    sqlite3_busy_timeout(c->lite, 30000);
    char *msg = NULL;
    /* WAL: readers do not block the writer. synchronous=FULL: a committed claim or completion
     * survives power loss, not only a killed process. */
    rc = sqlite3_exec(c->lite, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;", NULL, NULL,
                      &msg);
    if (rc != SQLITE_OK) {
        ol_err_set(err, CO_ERR_DB, "sqlite: %s: %s", path, msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return CO_ERR_DB;
    }
    return 0;
}

static int open_pg(co_conn *c, const char *url, ol_err *err) {
    c->pg = PQconnectdb(url);
    if (!c->pg || PQstatus(c->pg) != CONNECTION_OK) {
        const char *m = c->pg ? PQerrorMessage(c->pg) : "out of memory";
        ol_err_set(err, CO_ERR_DB, "postgres: cannot connect: %.200s", m);
        for (char *p = err ? err->msg : NULL; p && *p; p++)
            if (*p == '\n') *p = ' ';
        PQfinish(c->pg);
        c->pg = NULL;
        return CO_ERR_DB;
    }
    PGresult *r = PQexec(c->pg, "SET client_min_messages TO warning");
    PQclear(r);
    return 0;
}

int co_db_open(const char *url, size_t pool, co_db **out, ol_err *err) {
    *out = NULL;
    if (pool < 1) pool = 1;
    co_db *db = calloc(1, sizeof *db);
    if (!db) return ol_err_set(err, CO_ERR_DB, "db: out of memory");
    db->dialect = (strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0) ? CO_PG : CO_SQLITE;
    db->url = strdup(url);
    db->conns = calloc(pool, sizeof *db->conns);
    db->n = pool;
    pthread_mutex_init(&db->mu, NULL);
    pthread_cond_init(&db->cv, NULL);
    if (!db->url || !db->conns) {
        co_db_close(db);
        return ol_err_set(err, CO_ERR_DB, "db: out of memory");
    }
    for (size_t i = 0; i < pool; i++) {
        co_conn *c = &db->conns[i];
        c->dialect = db->dialect;
        int rc = db->dialect == CO_PG ? open_pg(c, url, err) : open_sqlite(c, url, err);
        if (rc) {
            co_db_close(db);
            return rc;
        }
    }
    *out = db;
    return 0;
}

static void conn_close(co_conn *c) {
    for (int i = 0; i < c->nstmts; i++)
        if (c->stmts[i].st) sqlite3_finalize(c->stmts[i].st);
    c->nstmts = 0;
    if (c->lite) sqlite3_close(c->lite);
    if (c->pg) PQfinish(c->pg);
    c->lite = NULL;
    c->pg = NULL;
}

void co_db_close(co_db *db) {
    if (!db) return;
    for (size_t i = 0; db->conns && i < db->n; i++) conn_close(&db->conns[i]);
    free(db->conns);
    free(db->url);
    pthread_mutex_destroy(&db->mu);
    pthread_cond_destroy(&db->cv);
    free(db);
}

co_conn *co_db_acquire(co_db *db) {
    pthread_mutex_lock(&db->mu);
    for (;;) {
        for (size_t i = 0; i < db->n; i++) {
            if (!db->conns[i].busy) {
                db->conns[i].busy = true;
                pthread_mutex_unlock(&db->mu);
                co_conn *c = &db->conns[i];
                /* A PostgreSQL connection that broke (server restart) is reset before use. */
                if (c->pg && PQstatus(c->pg) != CONNECTION_OK) {
                    PQreset(c->pg);
                    c->nstmts = 0;
                }
                return c;
            }
        }
        pthread_cond_wait(&db->cv, &db->mu);
    }
}

void co_db_release(co_db *db, co_conn *c) {
    pthread_mutex_lock(&db->mu);
    c->busy = false;
    pthread_cond_signal(&db->cv);
    pthread_mutex_unlock(&db->mu);
}

void co_rows_free(co_rows *r) {
    if (!r || !r->cells) return;
    for (size_t i = 0; i < r->nrows * r->ncols; i++) free(r->cells[i]);
    free(r->cells);
    r->cells = NULL;
    r->nrows = r->ncols = 0;
}

/* Appends one row (ncols cells) to r; false on OOM. */
static bool rows_grow(co_rows *r, size_t *cap) {
    size_t need;
    if (!ol_add_size(r->nrows, 1, &need) || !ol_mul_size(need, r->ncols ? r->ncols : 1, &need)) return false;
    if (need <= *cap) return true;
    size_t nc = *cap ? *cap * 2 : 16 * (r->ncols ? r->ncols : 1);
    while (nc < need) nc *= 2;
    size_t bytes;
    if (!ol_mul_size(nc, sizeof(char *), &bytes)) return false;
    char **cells = realloc(r->cells, bytes);
    if (!cells) return false;
    r->cells = cells;
    *cap = nc;
    return true;
}

static int exec_sqlite(co_conn *c, const char *sql, int n, const char *const *params, co_rows *out,
                       long long *out_changes, ol_err *err) {
    sqlite3_stmt *st = NULL;
    for (int i = 0; i < c->nstmts; i++)
        if (c->stmts[i].sql == sql) st = c->stmts[i].st;
    if (!st) {
        int rc = sqlite3_prepare_v3(c->lite, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
        if (rc != SQLITE_OK) return ol_err_set(err, CO_ERR_DB, "sqlite: prepare: %s", sqlite3_errmsg(c->lite));
        if (c->nstmts < STMT_CACHE) c->stmts[c->nstmts++] = (stmt_slot){sql, st, 0};
        else {
            sqlite3_finalize(st);
            return ol_err_set(err, CO_ERR_DB, "sqlite: statement cache full (STMT_CACHE)");
        }
    }
    for (int i = 0; i < n; i++) {
        char name[16];
        snprintf(name, sizeof name, "$%d", i + 1);
        int idx = sqlite3_bind_parameter_index(st, name);
        if (idx == 0) continue;
        if (params[i]) sqlite3_bind_text(st, idx, params[i], -1, SQLITE_TRANSIENT);
        else sqlite3_bind_null(st, idx);
    }
    int rc = 0;
    size_t cap = 0;
    if (out) {
        memset(out, 0, sizeof *out);
        out->ncols = (size_t)sqlite3_column_count(st);
    }
    for (;;) {
        int s = sqlite3_step(st);
        if (s == SQLITE_DONE) break;
        if (s != SQLITE_ROW) {
            int ext = sqlite3_extended_errcode(c->lite);
            rc = ol_err_set(err, ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY ? CO_ERR_CONFLICT
                                                                                                         : CO_ERR_DB,
                            "sqlite: %s", sqlite3_errmsg(c->lite));
            break;
        }
        if (!out) continue;
        if (!rows_grow(out, &cap)) {
            rc = ol_err_set(err, CO_ERR_DB, "sqlite: out of memory reading rows");
            break;
        }
        for (size_t k = 0; k < out->ncols; k++) {
            const unsigned char *t = sqlite3_column_text(st, (int)k);
            char *v = NULL;
            if (t) {
                v = strdup((const char *)t);
                if (!v) {
                    rc = ol_err_set(err, CO_ERR_DB, "sqlite: out of memory reading rows");
                    break;
                }
            }
            out->cells[out->nrows * out->ncols + k] = v;
        }
        if (rc) {
            out->nrows++;
            break;
        }
        out->nrows++;
    }
    if (out_changes) *out_changes = sqlite3_changes(c->lite);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc && out) co_rows_free(out);
    return rc;
}

static int pg_result_error(co_conn *c, PGresult *r, ol_err *err) {
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    int code = state && strcmp(state, "23505") == 0 ? CO_ERR_CONFLICT : CO_ERR_DB;
    const char *m = PQresultErrorMessage(r);
    ol_err_set(err, code, "postgres: %.200s", m && *m ? m : PQerrorMessage(c->pg));
    for (char *p = err ? err->msg : NULL; p && *p; p++)
        if (*p == '\n') *p = ' ';
    return code;
}

static int exec_pg(co_conn *c, const char *sql, int n, const char *const *params, co_rows *out, long long *out_changes,
                   ol_err *err) {
    int idx = -1;
    for (int i = 0; i < c->nstmts; i++)
        if (c->stmts[i].sql == sql) idx = c->stmts[i].pg_index;
    char name[16];
    if (idx < 0) {
        if (c->nstmts >= STMT_CACHE) return ol_err_set(err, CO_ERR_DB, "postgres: statement cache full (STMT_CACHE)");
        idx = c->nstmts;
        snprintf(name, sizeof name, "s%d", idx);
        PGresult *r = PQprepare(c->pg, name, sql, 0, NULL);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            int rc = pg_result_error(c, r, err);
            PQclear(r);
            return rc;
        }
        PQclear(r);
        c->stmts[c->nstmts++] = (stmt_slot){sql, NULL, idx};
    }
    snprintf(name, sizeof name, "s%d", idx);
    PGresult *r = PQexecPrepared(c->pg, name, n, params, NULL, NULL, 0);
    ExecStatusType s = PQresultStatus(r);
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
        int rc = pg_result_error(c, r, err);
        PQclear(r);
        if (PQstatus(c->pg) != CONNECTION_OK) c->nstmts = 0; /* prepared statements die with the session */
        return rc;
    }
    int rc = 0;
    if (out) {
        memset(out, 0, sizeof *out);
        out->nrows = (size_t)PQntuples(r);
        out->ncols = (size_t)PQnfields(r);
        size_t cells;
        if (!ol_mul_size(out->nrows, out->ncols, &cells) || !(out->cells = calloc(cells ? cells : 1, sizeof(char *)))) {
            rc = ol_err_set(err, CO_ERR_DB, "postgres: out of memory reading rows");
            out->nrows = 0;
        } else {
            for (size_t i = 0; i < out->nrows && !rc; i++)
                for (size_t k = 0; k < out->ncols; k++) {
                    if (PQgetisnull(r, (int)i, (int)k)) continue;
                    char *v = strdup(PQgetvalue(r, (int)i, (int)k));
                    if (!v) {
                        rc = ol_err_set(err, CO_ERR_DB, "postgres: out of memory reading rows");
                        break;
                    }
                    out->cells[i * out->ncols + k] = v;
                }
        }
    }
    if (out_changes) {
        const char *t = PQcmdTuples(r);
        *out_changes = t && *t ? atoll(t) : 0;
    }
    PQclear(r);
    if (rc && out) co_rows_free(out);
    return rc;
}

int co_exec(co_conn *c, const char *sql, int nparams, const char *const *params, co_rows *out, long long *out_changes,
            ol_err *err) {
    return c->dialect == CO_PG ? exec_pg(c, sql, nparams, params, out, out_changes, err)
                               : exec_sqlite(c, sql, nparams, params, out, out_changes, err);
}

int co_exec_script(co_conn *c, const char *sql, ol_err *err) {
    if (c->dialect == CO_PG) {
        PGresult *r = PQexec(c->pg, sql);
        ExecStatusType s = PQresultStatus(r);
        int rc = 0;
        if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) rc = pg_result_error(c, r, err);
        PQclear(r);
        return rc;
    }
    char *msg = NULL;
    int rc = sqlite3_exec(c->lite, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        ol_err_set(err, CO_ERR_DB, "sqlite: %s", msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return CO_ERR_DB;
    }
    return 0;
}

int co_begin(co_conn *c, ol_err *err) { return co_exec_script(c, c->dialect == CO_PG ? "BEGIN" : "BEGIN IMMEDIATE", err); }
int co_commit(co_conn *c, ol_err *err) { return co_exec_script(c, "COMMIT", err); }
void co_rollback(co_conn *c) { co_exec_script(c, "ROLLBACK", NULL); }
