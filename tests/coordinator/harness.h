/* Test harness for the coordinator: real servers started by the test on 127.0.0.1 (PostgreSQL from
 * /usr/lib/postgresql/15/bin, redis-server, outlayer-coordinator processes) and a small HTTP client.
 * Everything started is stopped at exit, and also when an assertion aborts (SIGABRT handler). */
#ifndef OUTLAYER_TEST_COORD_HARNESS_H
#define OUTLAYER_TEST_COORD_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct h_resp {
    long status;
    char *body; /* NUL-terminated, owned; h_resp_free */
    size_t len;
} h_resp;

void h_init(const char *name); /* temp dir, cleanup handlers */
const char *h_tmpdir(void);
int h_free_port(void);

/* PostgreSQL: returns a DATABASE_URL (static buffer) or aborts with a message. */
const char *h_start_pg(void);
void h_stop_pg(void);
/* Stops the PostgreSQL started by h_start_pg (fast shutdown, data kept) and starts it again on the
 * same port: for tests of a database that goes away and comes back. */
void h_pg_down(void);
void h_pg_up(void);
/* redis-server --save '' --appendonly no; returns REDIS_URL. */
const char *h_start_redis(void);
void h_stop_redis(void);

/* Starts outlayer-coordinator (path from env OUTLAYER_COORDINATOR_BIN) with extra "NAME=VALUE"
 * settings in env (NULL-terminated) and a data dir; returns its index; waits until /health answers. */
int h_start_coord(const char *data_dir, const char *const *env);
void h_kill_coord(int idx, int sig); /* sends sig and waits for exit */
int h_coord_port(int idx);
/* Runs outlayer-coordinator with args (NULL-terminated) and env; captures stdout; returns exit status. */
int h_run_coord_cli(const char *const *args, const char *const *env, char *out, size_t cap);

h_resp h_req(int port, const char *method, const char *path, const char *token, const char *body, size_t body_len);
h_resp h_post(int port, const char *path, const char *token, const char *json);
h_resp h_get(int port, const char *path, const char *token);
void h_resp_free(h_resp *r);
/* GET-like request with one extra header line; body holds the response headers followed by the body. */
h_resp h_req_hdr(int port, const char *method, const char *path, const char *header);
long long h_json_int(const char *json, const char *dotted_path); /* "task.attempt"; aborts if absent */
const char *h_json_str(const char *json, const char *dotted_path, char *buf, size_t cap);

void h_cleanup(void);

#endif
