/* worker internals shared between its files. */
#ifndef OUTLAYER_WORKER_INT_H
#define OUTLAYER_WORKER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "near/near.h"
#include "worker/worker.h"

/* Limits applied in the child between fork and exec (inherited by everything it starts). 0 = none. */
typedef struct wk_proc_limits {
    uint64_t as_bytes;   /* RLIMIT_AS */
    uint64_t cpu_s;      /* RLIMIT_CPU */
    uint64_t nproc;      /* RLIMIT_NPROC (binds only a non-root uid) */
    uint64_t fsize;      /* RLIMIT_FSIZE */
    unsigned timeout_ms; /* wall clock; the whole process group is killed when it passes */
    int uid, gid;        /* switch to this user when running as root (-1 = stay) */
} wk_proc_limits;

typedef struct wk_proc_result {
    bool exited;         /* normal exit (exit_code valid) */
    int exit_code;
    int signal;          /* the signal that ended it, 0 if it exited */
    bool timed_out;      /* killed by us at the wall-clock limit */
    char *log;           /* the tail of stdout+stderr, NUL-terminated (owned) */
    size_t log_len;
    bool log_truncated;  /* older output was dropped */
    uint64_t wall_ms;
} wk_proc_result;

/* Runs argv (argv[0] an absolute path) with exactly envp, stdin /dev/null, stdout and stderr captured
 * into a tail buffer of log_max bytes, in cwd (NULL = ours), under lim. Returns 0 when the process ran
 * (see res) or an error (fork/pipe/exec failure). Safe to call from several threads. res->log is
 * owned by the caller (wk_proc_result_free). */
int wk_proc_run(const char *const *argv, const char *const *envp, const char *cwd, const wk_proc_limits *lim,
                size_t log_max, wk_proc_result *res, ol_err *err);
void wk_proc_result_free(wk_proc_result *res);

/* Absolute path of an executable found in our PATH (then /usr/bin, /bin); false when absent. */
bool wk_find_exe(const char *name, char *out, size_t cap);

/* sha256 helpers (libsodium). */
void wk_sha256(const uint8_t *data, size_t len, uint8_t out[32]);

/* Milliseconds on the monotonic clock. */
uint64_t wk_now_ms(void);

/* Set by the task loop on a second SIGINT/SIGTERM: running child processes are killed. */
extern _Atomic int wk_proc_abort;

/* The builder's version in the module cache index: bump it when the same commit would build
 * differently (new flags, new toolchain), so old entries are not served for new builds. */
#define WORKER_BUILDER_VERSION "outlayer-worker-1"

/* The chain side (chain.c): an RPC client, the nonce manager and the worker key as signer. */
typedef struct wk_chain {
    near_rpc *rpc;
    near_nonce_mgr *nonces;
    near_signer *signer;
    char contract[NEAR_ACCOUNT_ID_MAX + 1];
} wk_chain;
int wk_chain_open(wk_chain *c, const char *rpc_url, const char *contract, const near_credentials *key, ol_err *err);
void wk_chain_close(wk_chain *c);
/* get_request at final blocks; *out NULL when the contract answers null. */
int wk_chain_get_request(wk_chain *c, long long request_id, struct json_t **out, ol_err *err);
int wk_chain_height(wk_chain *c, uint64_t *height, ol_err *err);
/* resolve_execution {request_id, response, report}; *already when the contract says the request was
 * resolved or settled before (success for us). tx_hash gets the transaction's hash when sent. */
int wk_chain_resolve(wk_chain *c, long long request_id, const struct json_t *response, const struct json_t *report,
                     bool *already, char tx_hash[64], ol_err *err);
/* Pure checks (no I/O): the task's payload against the request on chain (NULL = not pending); and
 * whether need_ms still fits before the yield window (created_height + yield_blocks) closes. */
bool wk_request_matches(const struct json_t *chain_req, const struct json_t *payload, char *why, size_t cap);
bool wk_window_ok(uint64_t created_height, uint64_t now_height, unsigned yield_blocks, unsigned block_ms, uint64_t need_ms,
                  char *why, size_t cap);

/* The worker key's allowance policy. The worker key is a function-call key of the operator account:
 * its gas comes out of the key's allowance. wk_key_check reads the key; when its allowance is below
 * min and an operator full-access signer is given, it re-adds the same key with a fresh allowance of
 * topup (DeleteKey + AddKey in one transaction of the operator account, so the key is never absent);
 * without that signer it only reports. A full-access or unlimited key needs nothing. */
typedef struct wk_key_state {
    bool full_access, unlimited, refreshed;
    near_u128 allowance; /* before any refresh */
} wk_key_state;
int wk_key_check(wk_chain *c, near_signer *operator_signer, near_u128 min, near_u128 topup, wk_key_state *out,
                 ol_err *err);

/* The task loop's settings (strings borrowed for its lifetime). */
typedef struct wk_loop_settings {
    const char *api_base_url, *token, *worker_id;
    unsigned slots, poll_timeout_s, heartbeat_s;
    bool compile, execute;
    const worker_build_config *build;
    near_credentials key; /* the worker's key: signs the seeds (and, with the reporter, resolutions) */
    wk_chain *chain;      /* NULL: no chain (tasks are run and completed, nothing is resolved) */
    bool monitor;         /* page list_pending_requests into tasks (needs chain) */
    unsigned monitor_interval_ms;
    unsigned yield_blocks, block_ms; /* the yield window and the shortest block time to expect */
    near_signer *operator_signer;    /* optional: refreshes the worker key's allowance */
    near_u128 key_min, key_topup;    /* allowance policy (see wk_key_check) */
    unsigned key_check_ms;           /* 0: no checks */
} wk_loop_settings;
typedef wk_loop_settings wk_loop;

/* The monitor (chain.c). Its cursor is the next request id to look at: every pending request below it
 * has its task in the coordinator. The cursor is kept in the coordinator (GET/PUT /monitor/cursor/NAME,
 * NAME = the contract id), read at start and after any error, and advanced with compare-and-set only
 * past requests whose task creation succeeded. */
typedef struct wk_monitor {
    long long cursor; /* next from_id */
    long long stored; /* the value last read from or written to the store; -1 = absent */
    bool known;       /* false: read the store before the next page */
    bool more;        /* the last page was full: the next one can follow at once */
} wk_monitor;
/* Where pages come from and go to (the chain and coordinator in production; a fake in the tests).
 * list: *page = JSON array of requests with id >= from_id, ascending (caller decrefs). create: makes
 * the request's execute task (idempotent), *created when it is new. cursor_get: *found false when
 * absent. cursor_cas: set to value when the stored one equals expected (-1 = absent); otherwise *ok
 * false and *current = the stored value (-1 = absent). next_id (may be NULL): the contract's next
 * request id, checked against a stored cursor when it is read (a cursor past it is from another chain
 * or contract, and paging restarts from 0). Each returns nonzero on a transport error. */
typedef struct wk_monitor_io {
    void *ctx;
    int (*list)(void *ctx, long long from_id, unsigned limit, struct json_t **page, ol_err *err);
    int (*create)(void *ctx, const struct json_t *request, bool *created, ol_err *err);
    int (*cursor_get)(void *ctx, long long *value, bool *found, ol_err *err);
    int (*cursor_cas)(void *ctx, long long value, long long expected, bool *ok, long long *current, ol_err *err);
    int (*next_id)(void *ctx, long long *next_id, ol_err *err);
} wk_monitor_io;
/* One page: reads the cursor if not known, lists page_size requests from it, creates their tasks and
 * stores the advance. *created = new tasks. On error the cursor stays at the first request not handed
 * over and is re-read next time. m->more tells whether the page was full. */
int wk_monitor_step(wk_monitor *m, const wk_monitor_io *io, unsigned page_size, size_t *created, ol_err *err);
/* wk_monitor_step against the chain (list_pending_requests at final blocks) and the coordinator. */
int wk_monitor_page(wk_chain *c, const wk_loop *L, wk_monitor *m, size_t *created, ol_err *err);

/* Runs the slots until SIGINT/SIGTERM; returns the exit status. */
int wk_loop_run(const wk_loop_settings *s);

/* An HTTP request to the coordinator (bearer token of L). Returns the status (0 = transport error,
 * err set); *out (owned by the caller) gets the body. abortable: a shutdown cancels it. */
long wk_http(const wk_loop *L, const char *method, const char *path, const char *ctype, const void *body, size_t body_len,
             long timeout_ms, bool abortable, char **out, size_t *out_len, ol_err *err);

/* The module of a request's source: the coordinator's cache (unless force_rebuild), else built under
 * a build lock and uploaded; WasmUrl sources are downloaded and checked. Same conventions as
 * worker_build_git. */
struct json_t;
int wk_get_module(const wk_loop *L, const struct json_t *source, bool force_rebuild, worker_build_result *res,
                  bool *cached, ol_err *err);

/* Runs an execute task with its module: fills *result (a JSON object, owned by the caller) and
 * returns 0, or returns nonzero with error (a message for the coordinator) and *retry. */
typedef int (*wk_executor)(const wk_loop *L, const struct json_t *task, const worker_build_result *module, bool cached,
                           struct json_t **result, char *error, size_t error_cap, bool *retry);
/* Registers the executor; without one the worker does not claim execute tasks. */
void worker_set_executor(wk_executor fn);
/* The executor of exec.c (when src/wasi is in the build). */
int wk_exec_task(const wk_loop *L, const struct json_t *task, const worker_build_result *module, bool cached,
                 struct json_t **result, char *error, size_t error_cap, bool *retry);

#endif
