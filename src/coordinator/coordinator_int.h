/* coordinator internals shared by its files: limits, the database layer (SQLite or PostgreSQL behind
 * one interface), the store (schema, migrations, task state machine, tokens, workers, modules), the
 * wake-up/rate-limit layer (in process or Redis) and the server object. */
#ifndef OUTLAYER_COORDINATOR_INT_H
#define OUTLAYER_COORDINATOR_INT_H

#include "coordinator/coordinator.h"

#include <pthread.h>
#include <stdatomic.h>

struct json_t;

/* ---- limits (DESIGN.md §6); each error that hits one names it ---- */
#define CO_WORKER_ID_MAX 64        /* worker ids: [A-Za-z0-9._:-], short enough for logs and metrics */
#define CO_TOKEN_NAME_MAX 64       /* same alphabet as worker ids */
#define CO_DATA_ID_MAX 128         /* NEAR data ids are 32 bytes = 64 hex; room for other encodings */
#define CO_ACCOUNT_MAX 64          /* NEAR account ids are at most 64 characters */
#define CO_PAYLOAD_MAX (256 * 1024) /* task payload JSON: 64 KiB input plus source, limits, context */
#define CO_RESULT_MAX (192 * 1024)  /* result JSON: 64 KiB output (base64 grows it) plus metadata */
#define CO_ERROR_MAX 4096          /* failure text kept per task */
#define CO_CLAIM_WAIT_MAX_MS 60000 /* longest long poll; below the HTTP idle timeout (120 s) */
#define CO_PAGE_MAX 100            /* rows per page in the read API */
#define CO_LOCK_TTL_MAX_MS 600000  /* a build lock lasts at most 10 min; builds are capped at 60 s */
#define CO_REPO_MAX 512            /* repository URL */
#define CO_LOCK_KEY_MAX 1024       /* build lock keys name repository, commit and target (worker: "build:repo:commit:target") */
#define CO_COMMIT_MAX 128          /* commit id (40 or 64 hex) */
#define CO_TARGET_MAX 64           /* build target, builder version */
#define CO_RATE_TABLE_MAX 4096     /* distinct clients tracked by the in-process rate limiter */
#define CO_CURSOR_NAME_MAX 64      /* monitor cursor names: same alphabet as worker ids (one per contract/monitor) */
/* Cursor values are request ids: u64 on chain, but JSON integers here are parsed as signed 64-bit and
 * stored as BIGINT, so 0..INT64_MAX; a contract's counter will not reach 2^63. */
#define CO_CURSOR_VALUE_MAX INT64_MAX

/* capabilities / task kinds */
enum { CO_CAP_EXECUTE = 1, CO_CAP_COMPILE = 2 };

/* error codes carried in ol_err.code by the store; the API maps them to HTTP statuses */
enum {
    CO_OK = 0,
    CO_ERR_DB = 1,        /* database failure: 500/503 */
    CO_ERR_NOT_FOUND = 2, /* 404 */
    CO_ERR_CONFLICT = 3,  /* 409: lease lost, already done by someone else, name taken */
    CO_ERR_INVALID = 4,   /* 400 */
    CO_ERR_IO = 5,        /* file system: 500 */
};

/* ---- database layer (db.c) ----
 * A pool of connections to one database. SQL uses $1..$N placeholders in both dialects; values go
 * in and come out as text (NULL = SQL NULL). Statements given by pointer are prepared once per
 * connection and cached by that pointer, so pass string literals. */
typedef enum co_dialect { CO_SQLITE, CO_PG } co_dialect;
typedef struct co_db co_db;
typedef struct co_conn co_conn;
typedef struct co_rows {
    size_t nrows, ncols;
    char **cells; /* row-major, owned; NULL cell = SQL NULL */
} co_rows;
/* url: "postgres://..." / "postgresql://..." or a SQLite file path. pool >= 1. */
int co_db_open(const char *url, size_t pool, co_db **out, ol_err *err);
void co_db_close(co_db *db);
co_dialect co_db_dialect(const co_db *db);
co_conn *co_db_acquire(co_db *db); /* blocks until a connection is free */
void co_db_release(co_db *db, co_conn *c);
/* Runs one statement (prepared, cached). out (may be NULL) receives the rows; caller frees with
 * co_rows_free. *out_changes (may be NULL) = rows changed. Unique violations → CO_ERR_CONFLICT. */
int co_exec(co_conn *c, const char *sql, int nparams, const char *const *params, co_rows *out, long long *out_changes,
            ol_err *err);
/* Runs SQL text without preparing (DDL, BEGIN/COMMIT, several statements for SQLite). */
int co_exec_script(co_conn *c, const char *sql, ol_err *err);
int co_begin(co_conn *c, ol_err *err); /* BEGIN IMMEDIATE on SQLite */
int co_commit(co_conn *c, ol_err *err);
void co_rollback(co_conn *c);
void co_rows_free(co_rows *r);
static inline const char *co_cell(const co_rows *r, size_t row, size_t col) { return r->cells[row * r->ncols + col]; }

/* ---- store (store.c) ---- */
int co_store_migrate(co_db *db, ol_err *err);
int co_store_schema_version(co_db *db, int *out, ol_err *err);
int64_t co_now_ms(void);

typedef struct co_task_new {
    long long request_id;
    const char *data_id;
    int kind;             /* CO_CAP_EXECUTE or CO_CAP_COMPILE */
    const char *account;  /* may be NULL */
    const char *payload;  /* JSON text */
    int max_attempts;
    bool wait_for_compile; /* execute task starts 'waiting' until the compile task of the same request is done */
} co_task_new;
/* Creates the task unless one with (request_id, data_id, kind) exists; either way *out_id is its id
 * and *out_created says which. */
int co_task_create(co_db *db, const co_task_new *t, int64_t now, int64_t *out_id, bool *out_created, ol_err *err);
/* Returns expired leases to the queue (or fails them when attempts are used up); *out_n = how many. */
int co_task_reap(co_db *db, int64_t now, long long *out_n, ol_err *err);
/* Leases the oldest queued task whose kind is in caps to worker. *out_task = JSON object of the task
 * (caller decrefs) or NULL when none is queued. */
int co_task_claim(co_db *db, const char *worker, int caps, int64_t now, int64_t lease_ms, struct json_t **out_task,
                  ol_err *err);
int co_task_heartbeat(co_db *db, int64_t id, const char *worker, long long attempt, int64_t now, int64_t lease_ms,
                      int64_t *out_until, ol_err *err);
/* Completes the lease (worker, attempt). Idempotent: the same call again → 0 with *out_already. */
int co_task_complete(co_db *db, int64_t id, const char *worker, long long attempt, const char *result, int64_t now,
                     bool *out_already, ol_err *err);
/* Gives up the lease: requeued when retry and attempts remain, else failed. *out_state = new state. */
int co_task_fail(co_db *db, int64_t id, const char *worker, long long attempt, const char *error, bool retry,
                 int64_t now, bool *out_already, const char **out_state, ol_err *err);
int co_task_get(co_db *db, int64_t id, bool with_payload, struct json_t **out, ol_err *err);
int co_task_list(co_db *db, const char *account, const char *state, long long offset, long long limit,
                 struct json_t **out, ol_err *err);
int co_stats(co_db *db, int64_t now, int64_t active_window_ms, struct json_t **out, ol_err *err);

int co_worker_seen(co_db *db, const char *worker, const char *token_name, const char *status, int64_t now, ol_err *err);
int co_worker_list(co_db *db, int64_t now, int64_t active_window_ms, struct json_t **out, ol_err *err);

/* tokens: stored as sha256 hex of the token text */
int co_token_create(co_db *db, const char *name, char out_token[65], ol_err *err);
int co_token_revoke(co_db *db, const char *name, ol_err *err);
int co_token_check(co_db *db, const char *token, char out_name[CO_TOKEN_NAME_MAX + 1], ol_err *err); /* NOT_FOUND if bad */
int co_token_list(co_db *db, struct json_t **out, ol_err *err);

/* module metadata and build locks (files are handled by cache.c) */
int co_module_put(co_db *db, const char *hash, long long size, int64_t now, ol_err *err);
int co_module_touch(co_db *db, const char *hash, int64_t now, long long *out_size, ol_err *err); /* NOT_FOUND */
int co_module_delete(co_db *db, const char *hash, ol_err *err);
int co_module_total(co_db *db, long long *out_bytes, long long *out_count, ol_err *err);
int co_module_lru(co_db *db, long long limit, co_rows *out, ol_err *err); /* hash, size; oldest use first */
int co_module_info(co_db *db, const char *hash, struct json_t **out, ol_err *err);
int co_index_put(co_db *db, const char *repo, const char *commit, const char *target, const char *builder,
                 const char *hash, int64_t now, ol_err *err);
int co_index_get(co_db *db, const char *repo, const char *commit, const char *target, const char *builder,
                 char out_hash[65], ol_err *err); /* NOT_FOUND */
int co_lock_acquire(co_db *db, const char *key, const char *owner, int64_t now, int64_t ttl_ms, bool *out_got,
                    char out_holder[CO_WORKER_ID_MAX + 1], ol_err *err);
int co_lock_release(co_db *db, const char *key, const char *owner, bool *out_released, ol_err *err);

/* monitor cursors: name -> value (the next request id a chain monitor looks at) */
int co_cursor_get(co_db *db, const char *name, long long *out_value, int64_t *out_updated_ms, ol_err *err); /* NOT_FOUND */
/* Sets the cursor. expected NULL: unconditional upsert. *expected >= 0: compare-and-set, only when the
 * stored value equals it; *expected < 0: only when the cursor does not exist yet. A failed compare
 * returns CO_ERR_CONFLICT with *out_current = the stored value (-1 when absent). */
int co_cursor_set(co_db *db, const char *name, long long value, const long long *expected, int64_t now,
                  long long *out_current, ol_err *err);

/* ---- module cache files (cache.c) ---- */
typedef struct co_cache co_cache;
int co_cache_open(co_db *db, const char *dir, long long budget_bytes, co_cache **out, ol_err *err);
void co_cache_close(co_cache *c);
/* Verifies sha256(bytes) == hash, writes the file atomically, records it, evicts LRU over budget. */
int co_cache_put(co_cache *c, const char *hash, const void *bytes, size_t len, bool *out_existed, ol_err *err);
/* Reads and verifies; a corrupt or missing file is removed and reported as CO_ERR_NOT_FOUND. *out is
 * malloc'd (caller frees). */
int co_cache_get(co_cache *c, const char *hash, void **out, size_t *out_len, ol_err *err);
int co_cache_evict(co_cache *c, long long *out_evicted, ol_err *err);
bool co_is_sha256_hex(const char *s);
/* 1..max characters of A-Z a-z 0-9 . _ - : (worker ids, token names, data ids). */
bool co_valid_name(const char *s, size_t max);

/* ---- wake-ups and rate limits (wake.c) ---- */
typedef struct co_wake co_wake;
/* redis_url may be empty (in process only). A Redis that is down at start is retried later. */
int co_wake_open(const char *redis_url, co_wake **out, ol_err *err);
void co_wake_close(co_wake *w);
uint64_t co_wake_seq(co_wake *w);
void co_wake_notify(co_wake *w); /* a task became claimable (here and, through Redis, elsewhere) */
/* Waits until the sequence moves past seen or timeout_ms passes; returns quickly on shutdown. */
void co_wake_wait(co_wake *w, uint64_t seen, int64_t timeout_ms);
void co_wake_shutdown(co_wake *w);
bool co_wake_redis_up(co_wake *w);
/* Fixed one-minute window per key; false when over limit (then *out_retry_s is set). */
bool co_rate_allow(co_wake *w, const char *key, long long per_minute, int *out_retry_s);

/* ---- pricing from the contract (pricing.c, through src/near) ----
 * A pricing source that view-calls get_pricing and get_max_limits on contract at rpc_url; free with
 * co_near_pricing_free. The answer is {pricing fields..., "max_limits": {...}|null, "contract_id"}. */
int co_near_pricing_new(const char *rpc_url, const char *contract, coordinator_pricing_source *out, ol_err *err);
void co_near_pricing_free(coordinator_pricing_source *src);

/* ---- the server (api.c) ---- */
typedef struct co_settings {
    const char *host;
    int port;
    const char *data_dir;
    const char *database_url;
    const char *redis_url;
    const char *admin_token;
    bool require_auth;
    int64_t lease_ms;
    int max_attempts;
    long long cache_budget_bytes;
    long long module_max_bytes;
    long long rate_per_minute;
    int64_t active_window_ms;
    unsigned max_connections;
    size_t db_pool;
    int64_t long_poll_cap_ms; /* claims wait at most this (CO_CLAIM_WAIT_MAX_MS; the fuzzer sets 0) */
    const char *cors_origins; /* comma-separated origins allowed to read the public endpoints from a browser; "*" = any */
} co_settings;

typedef struct co_metrics {
    atomic_llong http_requests[6]; /* by status class 1xx..5xx (index 1..5) */
    atomic_llong tasks_created, tasks_claimed, tasks_completed, tasks_failed, tasks_requeued, claims_empty;
    atomic_llong rate_limited, auth_failures, modules_uploaded, modules_served;
} co_metrics;

#define CO_SEEN_CACHE 256      /* workers whose last "seen" write is remembered */
#define CO_SEEN_INTERVAL_MS 1000 /* a worker's last-seen time is written at most this often per status */
typedef struct co_seen_slot {
    char worker[CO_WORKER_ID_MAX + 1];
    char status[12];
    int64_t written_ms;
} co_seen_slot;

#define CO_TOKEN_CACHE 64       /* accepted worker tokens remembered (by sha256) */
#define CO_TOKEN_CACHE_MS 2000  /* how long; bounds how late a revocation made elsewhere takes effect */
typedef struct co_token_slot {
    uint8_t digest[32];
    char name[CO_TOKEN_NAME_MAX + 1];
    int64_t until_ms;
} co_token_slot;

typedef struct co_server {
    co_settings set;
    pthread_mutex_t seen_mu; /* guards seen[] and tokens[] */
    co_seen_slot seen[CO_SEEN_CACHE];
    co_token_slot tokens[CO_TOKEN_CACHE];
    co_db *db;
    co_cache *cache;
    co_wake *wake;
    ol_http_server *http;
    void *route_ctxs; /* one per endpoint (api.c), owned */
    co_metrics metrics;
    atomic_bool stopping;
    pthread_t reaper;
    bool reaper_started;
    pthread_mutex_t reaper_mu;
    pthread_cond_t reaper_cv;
    coordinator_pricing_source pricing;
    pthread_mutex_t pricing_mu;
    char *pricing_json;
    int64_t pricing_at_ms;
} co_server;

/* Opens the store (migrating it), cache and wake-ups and registers the routes; does not listen. */
int co_server_new(const co_settings *set, co_server **out, ol_err *err);
int co_server_start(co_server *s, ol_err *err); /* listens and starts the lease reaper */
void co_server_stop(co_server *s);
void co_server_free(co_server *s);

#endif
