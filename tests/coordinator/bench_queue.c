/* Benchmark (not a test): create → claim → complete cycles per second through the coordinator's HTTP
 * API (one keep-alive connection, a real outlayer-coordinator process) beside a baseline that issues
 * the same SQL directly through the store functions in this process, on SQLite and on PostgreSQL
 * (started here). Prints both rates and their ratio.
 * Usage: bench_coordinator_queue [cycles]   (OUTLAYER_COORDINATOR_BIN names the server binary) */
#include "coordinator/coordinator_int.h"
#include "harness.h"
#include "test.h"

#include <curl/curl.h>
#include <jansson.h>
#include <signal.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double bench_direct(const char *url, int n) {
    co_db *db;
    ol_err err;
    if (co_db_open(url, 1, &db, &err) || co_store_migrate(db, &err)) T_FAIL("%s", err.msg);
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        char did[32];
        snprintf(did, sizeof did, "b%d", i);
        co_task_new t = {500000 + i, did, CO_CAP_EXECUTE, NULL, "{}", 3, false};
        int64_t id;
        bool created, already;
        json_t *task;
        if (co_task_create(db, &t, co_now_ms(), &id, &created, &err)) T_FAIL("%s", err.msg);
        if (co_task_claim(db, "bench", CO_CAP_EXECUTE, co_now_ms(), 30000, &task, &err) || !task) T_FAIL("claim");
        long long att = (long long)json_integer_value(json_object_get(task, "attempt"));
        int64_t tid = (int64_t)json_integer_value(json_object_get(task, "task_id"));
        json_decref(task);
        if (co_task_complete(db, tid, "bench", att, "{}", co_now_ms(), &already, &err)) T_FAIL("%s", err.msg);
    }
    double rate = n / (now_s() - t0);
    co_db_close(db);
    return rate;
}

typedef struct sink {
    char buf[8192];
    size_t len;
} sink;

static size_t on_data(char *p, size_t sz, size_t n, void *ud) {
    sink *s = ud;
    size_t k = sz * n;
    if (s->len + k >= sizeof s->buf) k = sizeof s->buf - 1 - s->len;
    memcpy(s->buf + s->len, p, k);
    s->len += k;
    s->buf[s->len] = 0;
    return sz * n;
}

static long post(CURL *c, int port, const char *path, const char *body, sink *out) {
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    out->len = 0;
    out->buf[0] = 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    if (curl_easy_perform(c) != CURLE_OK) return 0;
    long st = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
    return st;
}

static double bench_http(int port, const char *token, int n) {
    CURL *c = curl_easy_init();
    char auth[400];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    struct curl_slist *h = curl_slist_append(NULL, auth);
    h = curl_slist_append(h, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    sink s;
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        char body[256], path[64];
        snprintf(body, sizeof body, "{\"request_id\":%d,\"data_id\":\"h%d\"}", 700000 + i, i);
        if (post(c, port, "/tasks", body, &s) != 201) T_FAIL("create: %s", s.buf);
        if (post(c, port, "/tasks/claim", "{\"worker_id\":\"bench\",\"capabilities\":[\"execute\"]}", &s) != 200)
            T_FAIL("claim: %s", s.buf);
        long long id = h_json_int(s.buf, "task.task_id"), att = h_json_int(s.buf, "task.attempt");
        snprintf(path, sizeof path, "/tasks/%lld/complete", id);
        snprintf(body, sizeof body, "{\"worker_id\":\"bench\",\"attempt\":%lld,\"result\":{}}", att);
        if (post(c, port, path, body, &s) != 200) T_FAIL("complete: %s", s.buf);
    }
    double rate = n / (now_s() - t0);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return rate;
}

static void run(const char *name, const char *dburl, int n) {
    char dd[400], data_dir[300], url_env[400], direct_url[400];
    memset(url_env, 0, sizeof url_env);
    snprintf(data_dir, sizeof data_dir, "%s/%s", h_tmpdir(), name);
    snprintf(dd, sizeof dd, "DATA_DIR=%s", data_dir);
    snprintf(url_env, sizeof url_env, "DATABASE_URL=%s", dburl ? dburl : "");
    if (dburl) snprintf(direct_url, sizeof direct_url, "%s", dburl);
    else snprintf(direct_url, sizeof direct_url, "%s/%s-direct.db", h_tmpdir(), name);
    double direct = bench_direct(direct_url, n);
    const char *env[] = {dd, url_env, "RATE_LIMIT_PER_MINUTE=0", NULL};
    const char *args[] = {"token", "create", "--name", "bench", NULL};
    char out[256];
    if (h_run_coord_cli(args, env, out, sizeof out) != 0) T_FAIL("token create failed");
    out[64] = 0;
    int idx = h_start_coord(data_dir, env);
    double http = bench_http(h_coord_port(idx), out, n);
    h_kill_coord(idx, SIGTERM);
    printf("%-10s direct SQL %8.0f cycles/s   coordinator HTTP %8.0f cycles/s   ratio %.2f\n", name, direct, http,
           http / direct);
    fflush(stdout);
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 1000;
    if (n < 1) n = 1000;
    h_init("bench");
    if (sodium_init() < 0) return 1;
    ol_log_set_level(OL_LOG_WARN);
    printf("create -> claim -> complete, %d cycles each, one client\n", n);
    run("sqlite", NULL, n);
    run("postgres", h_start_pg(), n);
    return 0;
}
