/* sandbox state: SQLite records for accounts, access keys, blocks and metadata. The schema is created
 * on first open; WAL journal: a committed block survives a kill of the process (synchronous=NORMAL is
 * durable against process death in WAL mode; only an OS crash could lose the last blocks). */
#include "sandbox/sandbox_int.h"

#include <stdlib.h>
#include <string.h>

static const char *const SCHEMA =
    "CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS accounts(id TEXT PRIMARY KEY, amount TEXT NOT NULL, locked TEXT NOT NULL,"
    " code_hash BLOB NOT NULL, storage_usage INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS access_keys(account_id TEXT NOT NULL, public_key TEXT NOT NULL,"
    " nonce INTEGER NOT NULL, full INTEGER NOT NULL, allowance TEXT, receiver TEXT, methods TEXT,"
    " PRIMARY KEY(account_id, public_key));"
    "CREATE TABLE IF NOT EXISTS code(hash BLOB PRIMARY KEY, code BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS data(account_id TEXT NOT NULL, key BLOB NOT NULL, value BLOB NOT NULL,"
    " PRIMARY KEY(account_id, key));"
    "CREATE TABLE IF NOT EXISTS blocks(height INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE,"
    " prev_hash BLOB NOT NULL, ts INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS pool(seq INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE, raw BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS txs(hash BLOB PRIMARY KEY, signer TEXT NOT NULL, raw BLOB NOT NULL,"
    " height INTEGER NOT NULL, error TEXT, receipt_id BLOB, outcome TEXT);"
    "CREATE TABLE IF NOT EXISTS receipts(id BLOB PRIMARY KEY, seq INTEGER NOT NULL, tx_hash BLOB,"
    " predecessor TEXT NOT NULL, receiver TEXT NOT NULL, body BLOB NOT NULL, pending INTEGER NOT NULL,"
    " ready_height INTEGER NOT NULL, is_refund INTEGER NOT NULL, outcome TEXT, height INTEGER,"
    " waiting INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS rdata(data_id BLOB PRIMARY KEY, ok INTEGER NOT NULL, data BLOB);"
    "CREATE TABLE IF NOT EXISTS rwait(data_id BLOB PRIMARY KEY, receipt_id BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS yields(data_id BLOB PRIMARY KEY, account_id TEXT NOT NULL,"
    " expires_at INTEGER NOT NULL, status INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS yields_due ON yields(status, expires_at);"
    "CREATE TABLE IF NOT EXISTS changes(height INTEGER NOT NULL, account_id TEXT NOT NULL, key BLOB NOT NULL,"
    " value BLOB, receipt_id BLOB NOT NULL);"
    "CREATE INDEX IF NOT EXISTS changes_at ON changes(height, account_id);"
    "CREATE INDEX IF NOT EXISTS receipts_ready ON receipts(pending, ready_height, seq);"
    "CREATE INDEX IF NOT EXISTS receipts_tx ON receipts(tx_hash);";

/* ---- prepared-statement cache: SQL text -> statement, per connection. Callers pair sb_prepare with
 * sb_release (reset, or finalize for a statement made because the cached one was in use). Used with the
 * chain mutex held (or before any thread starts). */
#define SB_STMT_CACHE 96 /* distinct SQL texts of the sandbox are fewer than this */
typedef struct stmt_entry {
    sqlite3 *db;
    char *sql;
    sqlite3_stmt *st;
    bool in_use;
} stmt_entry;
static stmt_entry g_stmts[SB_STMT_CACHE];

int sb_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **out) {
    stmt_entry *free_slot = NULL;
    for (int i = 0; i < SB_STMT_CACHE; i++) {
        stmt_entry *e = &g_stmts[i];
        if (!e->st) {
            if (!free_slot) free_slot = e;
            continue;
        }
        if (e->db == db && strcmp(e->sql, sql) == 0) {
            if (e->in_use) break; /* nested use of the same SQL: a private statement */
            e->in_use = true;
            *out = e->st;
            return SQLITE_OK;
        }
    }
    int rc = sqlite3_prepare_v3(db, sql, -1, free_slot ? SQLITE_PREPARE_PERSISTENT : 0, out, NULL);
    if (rc != SQLITE_OK || !free_slot) return rc;
    free_slot->sql = strdup(sql);
    if (!free_slot->sql) return SQLITE_OK; /* uncached; sb_release finalizes it */
    free_slot->db = db;
    free_slot->st = *out;
    free_slot->in_use = true;
    return SQLITE_OK;
}

void sb_release(sqlite3_stmt *st) {
    if (!st) return;
    for (int i = 0; i < SB_STMT_CACHE; i++)
        if (g_stmts[i].st == st) {
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            g_stmts[i].in_use = false;
            return;
        }
    sqlite3_finalize(st);
}

void sb_stmt_cache_clear(sqlite3 *db) {
    for (int i = 0; i < SB_STMT_CACHE; i++)
        if (g_stmts[i].st && g_stmts[i].db == db) {
            sqlite3_finalize(g_stmts[i].st);
            free(g_stmts[i].sql);
            memset(&g_stmts[i], 0, sizeof g_stmts[i]);
        }
}

static int db_fail(sb_chain *c, ol_err *err, const char *what) {
    return ol_err_set(err, -1, "sqlite: %s: %s", what, sqlite3_errmsg(c->db)), -1;
}

int sb_exec(sb_chain *c, const char *sql, ol_err *err) {
    char *msg = NULL;
    if (sqlite3_exec(c->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        ol_err_set(err, -1, "sqlite: %.60s: %s", sql, msg ? msg : "error");
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

int sb_db_open(sb_chain *c, const char *path, ol_err *err) {
    if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        ol_err_set(err, -1, "sqlite: cannot open %s: %s", path, c->db ? sqlite3_errmsg(c->db) : "out of memory");
        sqlite3_close(c->db);
        c->db = NULL;
        return -1;
    }
    sqlite3_busy_timeout(c->db, 5000);
    if (sb_exec(c, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=OFF;", err) ||
        sb_exec(c, SCHEMA, err))
        return -1;
    return 0;
}

static int prep(sb_chain *c, const char *sql, sqlite3_stmt **st, ol_err *err) {
    if (sb_prepare(c->db, sql, st) != SQLITE_OK) return db_fail(c, err, "prepare");
    return 0;
}

static void u128_text(near_u128 v, char out[NEAR_U128_STR]) { near_u128_format(v, out); }

static near_u128 col_u128(sqlite3_stmt *st, int i) {
    near_u128 v = 0;
    const char *s = (const char *)sqlite3_column_text(st, i);
    if (s) near_u128_parse(s, strlen(s), &v, NULL);
    return v;
}

int sb_account_get(sb_chain *c, const char *id, sb_account *out, ol_err *err) {
    sqlite3_stmt *st;
    if (prep(c, "SELECT amount, locked, code_hash, storage_usage FROM accounts WHERE id=?", &st, err)) return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st), ret;
    if (rc == SQLITE_ROW) {
        memset(out, 0, sizeof *out);
        out->amount = col_u128(st, 0);
        out->locked = col_u128(st, 1);
        if (sqlite3_column_bytes(st, 2) == 32) memcpy(out->code_hash, sqlite3_column_blob(st, 2), 32);
        out->storage_usage = (uint64_t)sqlite3_column_int64(st, 3);
        ret = 0;
    } else if (rc == SQLITE_DONE) {
        ret = 1;
    } else {
        ret = db_fail(c, err, "account get");
    }
    sb_release(st);
    return ret;
}

int sb_account_put(sb_chain *c, const char *id, const sb_account *a, ol_err *err) {
    sqlite3_stmt *st;
    char am[NEAR_U128_STR], lo[NEAR_U128_STR];
    u128_text(a->amount, am);
    u128_text(a->locked, lo);
    if (prep(c, "INSERT OR REPLACE INTO accounts(id, amount, locked, code_hash, storage_usage) VALUES(?,?,?,?,?)",
             &st, err))
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, am, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, lo, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, a->code_hash, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)a->storage_usage);
    int ret = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(c, err, "account put");
    sb_release(st);
    return ret;
}

static int exec_id(sb_chain *c, const char *sql, const char *id, ol_err *err) {
    sqlite3_stmt *st;
    if (prep(c, sql, &st, err)) return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int ret = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(c, err, "delete");
    sb_release(st);
    return ret;
}

int sb_account_delete(sb_chain *c, const char *id, ol_err *err) {
    if (exec_id(c, "DELETE FROM accounts WHERE id=?", id, err) ||
        exec_id(c, "DELETE FROM access_keys WHERE account_id=?", id, err) ||
        exec_id(c, "DELETE FROM data WHERE account_id=?", id, err))
        return -1;
    return 0;
}

void sb_key_clear(sb_key *k) {
    free(k->methods_json);
    k->methods_json = NULL;
}

int sb_key_get(sb_chain *c, const char *id, const char *pk, sb_key *out, ol_err *err) {
    sqlite3_stmt *st;
    memset(out, 0, sizeof *out);
    if (prep(c, "SELECT nonce, full, allowance, receiver, methods FROM access_keys WHERE account_id=? AND public_key=?",
             &st, err))
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, pk, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st), ret;
    if (rc == SQLITE_ROW) {
        out->nonce = (uint64_t)sqlite3_column_int64(st, 0);
        out->full = sqlite3_column_int(st, 1) != 0;
        if (sqlite3_column_type(st, 2) != SQLITE_NULL) {
            out->has_allowance = true;
            out->allowance = col_u128(st, 2);
        }
        const char *r = (const char *)sqlite3_column_text(st, 3);
        if (r) ol_strlcpy(out->receiver, r, sizeof out->receiver);
        const char *m = (const char *)sqlite3_column_text(st, 4);
        out->methods_json = strdup(m ? m : "[]");
        ret = out->methods_json ? 0 : (ol_err_set(err, -1, "out of memory"), -1);
    } else if (rc == SQLITE_DONE) {
        ret = 1;
    } else {
        ret = db_fail(c, err, "key get");
    }
    sb_release(st);
    return ret;
}

int sb_key_put(sb_chain *c, const char *id, const char *pk, const sb_key *k, ol_err *err) {
    sqlite3_stmt *st;
    char al[NEAR_U128_STR];
    if (prep(c,
             "INSERT OR REPLACE INTO access_keys(account_id, public_key, nonce, full, allowance, receiver, methods)"
             " VALUES(?,?,?,?,?,?,?)",
             &st, err))
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, pk, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)k->nonce);
    sqlite3_bind_int(st, 4, k->full);
    if (!k->full && k->has_allowance) {
        u128_text(k->allowance, al);
        sqlite3_bind_text(st, 5, al, -1, SQLITE_STATIC);
    }
    if (!k->full) {
        sqlite3_bind_text(st, 6, k->receiver, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 7, k->methods_json ? k->methods_json : "[]", -1, SQLITE_STATIC);
    }
    int ret = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(c, err, "key put");
    sb_release(st);
    return ret;
}

int sb_key_delete(sb_chain *c, const char *id, const char *pk, ol_err *err) {
    sqlite3_stmt *st;
    if (prep(c, "DELETE FROM access_keys WHERE account_id=? AND public_key=?", &st, err)) return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, pk, -1, SQLITE_STATIC);
    int ret = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(c, err, "key delete");
    sb_release(st);
    return ret;
}

json_t *sb_key_permission_json(const sb_key *k) {
    if (k->full) return json_string("FullAccess");
    json_t *methods = json_loads(k->methods_json ? k->methods_json : "[]", 0, NULL);
    if (!methods) methods = json_array();
    return json_pack("{s:{s:o,s:s,s:o}}", "FunctionCall", "allowance",
                     k->has_allowance ? sb_u128_json(k->allowance) : json_null(), "receiver_id", k->receiver,
                     "method_names", methods);
}

uint64_t sb_key_storage_bytes(const sb_key *k) {
    /* PublicKey (1 + 32) + AccessKey { nonce u64, permission enum } + record overhead */
    uint64_t n = 33 + 8 + 1 + SB_RECORD_EXTRA_BYTES;
    if (!k->full) {
        n += 1 + (k->has_allowance ? 16 : 0) + 4 + strlen(k->receiver) + 4;
        json_t *m = json_loads(k->methods_json ? k->methods_json : "[]", 0, NULL);
        size_t i;
        json_t *v;
        json_array_foreach(m, i, v) n += 4 + json_string_length(v);
        json_decref(m);
    }
    return n;
}

static int block_row(sb_chain *c, sqlite3_stmt *st, sb_block *out, ol_err *err) {
    int rc = sqlite3_step(st), ret;
    if (rc == SQLITE_ROW) {
        out->height = (uint64_t)sqlite3_column_int64(st, 0);
        out->ts = (uint64_t)sqlite3_column_int64(st, 3);
        memcpy(out->hash, sqlite3_column_blob(st, 1), 32);
        memcpy(out->prev_hash, sqlite3_column_blob(st, 2), 32);
        ret = 0;
    } else if (rc == SQLITE_DONE) {
        ret = 1;
    } else {
        ret = db_fail(c, err, "block get");
    }
    sb_release(st);
    return ret;
}

int sb_block_get_height(sb_chain *c, uint64_t h, sb_block *out, ol_err *err) {
    sqlite3_stmt *st;
    if (prep(c, "SELECT height, hash, prev_hash, ts FROM blocks WHERE height=?", &st, err)) return -1;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)h);
    return block_row(c, st, out, err);
}

int sb_block_get_hash(sb_chain *c, const uint8_t hash[32], sb_block *out, ol_err *err) {
    sqlite3_stmt *st;
    if (prep(c, "SELECT height, hash, prev_hash, ts FROM blocks WHERE hash=?", &st, err)) return -1;
    sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
    return block_row(c, st, out, err);
}

int sb_meta_get_u64(sb_chain *c, const char *k, uint64_t *out, ol_err *err) {
    sqlite3_stmt *st;
    if (prep(c, "SELECT v FROM meta WHERE k=?", &st, err)) return -1;
    sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st), ret;
    if (rc == SQLITE_ROW) {
        *out = (uint64_t)sqlite3_column_int64(st, 0);
        ret = 0;
    } else {
        ret = rc == SQLITE_DONE ? 1 : db_fail(c, err, "meta get");
    }
    sb_release(st);
    return ret;
}

int sb_meta_put_u64(sb_chain *c, const char *k, uint64_t v, ol_err *err) {
    sqlite3_stmt *st;
    if (prep(c, "INSERT OR REPLACE INTO meta(k, v) VALUES(?,?)", &st, err)) return -1;
    sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)v);
    int ret = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(c, err, "meta put");
    sb_release(st);
    return ret;
}
