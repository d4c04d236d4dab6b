/* The coordinator's integration suite over HTTP against a real outlayer-coordinator process.
 * Usage: test_coordinator_api sqlite|pg redis|noredis — the same checks run against SQLite and a
 * PostgreSQL started here, with Redis (started here) on or off. */
#include "base/base.h"
#include "harness.h"
#include "test.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ADMIN "test-admin-token-0123456789"

static int port;
static char tok[80];
static bool with_pricing; /* the redis configurations also read pricing from a NEAR RPC endpoint */

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A NEAR JSON-RPC endpoint for the contract views the coordinator reads (get_pricing, get_max_limits),
 * answering in NEAR's query/call_function shape: result bytes as an array of integers. A real local
 * server on loopback: the sandbox chain is another module. */
static atomic_int rpc_calls;
static void fake_rpc(const ol_http_request *req, ol_http_response *resp, void *ctx) {
    json_t *in = json_loadb(req->body, req->body_len, 0, NULL);
    const char *method = json_string_value(json_object_get(json_object_get(in, "params"), "method_name"));
    const char *rtype = json_string_value(json_object_get(json_object_get(in, "params"), "request_type"));
    const char *fin = json_string_value(json_object_get(json_object_get(in, "params"), "finality"));
    const char *text = NULL;
    if (rtype && strcmp(rtype, "call_function") == 0 && fin && strcmp(fin, "final") == 0 && method) {
        if (strcmp(method, "get_pricing") == 0)
            text = "{\"base_fee\":\"10000000000000000000000\",\"per_million_instructions_fee\":\"1000000000000000\","
                   "\"per_ms_fee\":\"1000000000000000000\",\"per_compile_ms_fee\":\"2000000000000000000\"}";
        else if (strcmp(method, "get_max_limits") == 0)
            text = "{\"max_instructions\":100000000000,\"max_memory_mb\":1024,\"max_execution_seconds\":60}";
    }
    atomic_fetch_add(&rpc_calls, 1);
    json_t *out;
    if (text) {
        json_t *bytes = json_array();
        for (const char *p = text; *p; p++) json_array_append_new(bytes, json_integer((unsigned char)*p));
        out = json_pack("{s:s,s:O,s:{s:o,s:[],s:I,s:s}}", "jsonrpc", "2.0", "id", json_object_get(in, "id"), "result",
                        "result", bytes, "logs", "block_height", (json_int_t)10, "block_hash",
                        "11111111111111111111111111111111");
    } else {
        out = json_pack("{s:s,s:O,s:{s:i,s:s,s:s}}", "jsonrpc", "2.0", "id", json_object_get(in, "id"), "error", "code",
                        -32000, "message", "Server error", "name", "HANDLER_ERROR");
    }
    json_decref(in);
    ol_http_json(resp, 200, out);
}

static long long tasks_total(void) {
    h_resp r = h_get(port, "/public/stats", NULL);
    ASSERT_EQ(r.status, 200);
    long long n = h_json_int(r.body, "tasks_total");
    h_resp_free(&r);
    return n;
}

/* Posts and expects status and (when code != NULL) the JSON error code. */
static void expect(const char *method, const char *path, const char *token, const char *body, long status, const char *code) {
    h_resp r = h_req(port, method, path, token, body, body ? strlen(body) : 0);
    if (r.status != status) T_FAIL("%s %s: status %ld, expected %ld: %s", method, path, r.status, status, r.body);
    if (code) {
        char want[96];
        snprintf(want, sizeof want, "\"code\":\"%s\"", code);
        ASSERT_CONTAINS(r.body, want);
    }
    h_resp_free(&r);
}

typedef struct claim_arg {
    const char *worker, *caps;
    int wait_ms;
    long status;
    char body[4096];
    long long took_ms;
} claim_arg;

static void *claim_thread(void *p) {
    claim_arg *a = p;
    char body[256];
    snprintf(body, sizeof body, "{\"worker_id\":\"%s\",\"capabilities\":%s,\"wait_ms\":%d}", a->worker, a->caps, a->wait_ms);
    long long t0 = now_ms();
    h_resp r = h_post(port, "/tasks/claim", tok, body);
    a->took_ms = now_ms() - t0;
    a->status = r.status;
    snprintf(a->body, sizeof a->body, "%s", r.body ? r.body : "");
    h_resp_free(&r);
    return NULL;
}

static claim_arg claim(const char *worker, const char *caps, int wait_ms) {
    claim_arg a = {worker, caps, wait_ms, 0, "", 0};
    claim_thread(&a);
    return a;
}

static long long create(long long request_id, const char *data_id, const char *extra, long status) {
    char body[512];
    snprintf(body, sizeof body, "{\"request_id\":%lld,\"data_id\":\"%s\"%s%s}", request_id, data_id, extra ? "," : "",
             extra ? extra : "");
    h_resp r = h_post(port, "/tasks", tok, body);
    if (r.status != status) T_FAIL("create: %ld %s", r.status, r.body);
    long long id = h_json_int(r.body, "task_id");
    h_resp_free(&r);
    return id;
}

static void lease_op(long long id, const char *op, const char *worker, long long attempt, const char *extra, long status,
                     const char *contains) {
    char path[128], body[512];
    snprintf(path, sizeof path, "/tasks/%lld/%s", id, op);
    snprintf(body, sizeof body, "{\"worker_id\":\"%s\",\"attempt\":%lld%s%s}", worker, attempt, extra ? "," : "",
             extra ? extra : "");
    h_resp r = h_post(port, path, tok, body);
    if (r.status != status) T_FAIL("%s: %ld %s", path, r.status, r.body);
    if (contains) ASSERT_CONTAINS(r.body, contains);
    h_resp_free(&r);
}

static void test_auth_and_bad_input(void) {
    long long before = tasks_total();
    const char *ok = "{\"request_id\":1,\"data_id\":\"d1\"}";
    expect("POST", "/tasks", NULL, ok, 401, "unauthorized");
    expect("POST", "/tasks", "0000000000000000000000000000000000000000000000000000000000000000", ok, 401, "unauthorized");
    expect("POST", "/tasks", "not-even-hex", ok, 401, "unauthorized");
    expect("POST", "/tasks/claim", NULL, "{}", 401, "unauthorized");
    expect("POST", "/tasks/1/complete", NULL, "{}", 401, "unauthorized");
    expect("PUT", "/modules/00", NULL, "x", 401, "unauthorized");
    expect("POST", "/admin/tokens", tok, "{\"name\":\"x\"}", 401, "unauthorized"); /* worker token is not admin */
    expect("POST", "/tasks", tok, "{\"request_id\":1,", 400, "bad_json");
    expect("POST", "/tasks", tok, "[1,2]", 400, "bad_json");
    expect("POST", "/tasks", tok, "", 400, "bad_json");
    expect("POST", "/tasks", tok, "{\"request_id\":\"1\",\"data_id\":\"d1\"}", 400, "invalid_field");
    expect("POST", "/tasks", tok, "{\"request_id\":-1,\"data_id\":\"d1\"}", 400, "invalid_field");
    expect("POST", "/tasks", tok, "{\"request_id\":1,\"data_id\":\"bad id\"}", 400, "invalid_field");
    expect("POST", "/tasks", tok, "{\"request_id\":1,\"data_id\":\"d1\",\"kind\":\"mine\"}", 400, "invalid_field");
    expect("POST", "/tasks", tok, "{\"request_id\":1,\"data_id\":\"d1\",\"account\":\"UPPER\"}", 400, "invalid_field");
    expect("POST", "/tasks", tok, "{\"request_id\":1,\"data_id\":\"d1\",\"request_id\":2}", 400, "bad_json"); /* duplicate key */
    /* oversized body: refused before it is read */
    size_t big = 300 * 1024;
    char *b = malloc(big + 1);
    memset(b, ' ', big);
    b[big] = 0;
    b[0] = '{';
    b[big - 1] = '}';
    expect("POST", "/tasks", tok, b, 413, "body_too_large");
    free(b);
    expect("POST", "/tasks/claim", tok, "{\"worker_id\":\"w1\",\"capabilities\":[]}", 400, "invalid_field");
    expect("POST", "/tasks/claim", tok, "{\"worker_id\":\"w1\",\"capabilities\":[\"mine\"]}", 400, "invalid_field");
    expect("POST", "/tasks/claim", tok, "{\"worker_id\":\"w 1\",\"capabilities\":[\"execute\"]}", 400, "invalid_field");
    expect("POST", "/tasks/claim", tok, "{\"worker_id\":\"w1\",\"capabilities\":[\"execute\"],\"wait_ms\":999999}", 400,
           "invalid_field");
    expect("POST", "/tasks/999999/heartbeat", tok, "{\"worker_id\":\"w1\",\"attempt\":1}", 404, "not_found");
    expect("POST", "/tasks/999999/complete", tok, "{\"worker_id\":\"w1\",\"attempt\":1,\"result\":1}", 404, "not_found");
    expect("POST", "/tasks/abc/complete", tok, "{}", 400, "invalid_id");
    expect("POST", "/tasks/-5/fail", tok, "{}", 400, "invalid_id");
    expect("GET", "/public/jobs/0", NULL, NULL, 400, "invalid_id");
    expect("GET", "/public/jobs/424242", NULL, NULL, 404, "not_found");
    expect("GET", "/public/jobs?limit=1000", NULL, NULL, 400, "invalid_parameter");
    expect("GET", "/public/jobs?state=weird", NULL, NULL, 400, "invalid_parameter");
    expect("GET", "/nope", NULL, NULL, 404, "not_found");
    expect("DELETE", "/tasks", tok, NULL, 405, "method_not_allowed");
    if (!with_pricing) expect("GET", "/public/pricing", NULL, NULL, 503, "pricing_unavailable");
    ASSERT_EQ(tasks_total(), before); /* nothing above changed state */
}

static void test_lifecycle(void) {
    long long id = create(10, "aa10", "\"account\":\"alice.near\",\"payload\":{\"input\":\"hi\"}", 201);
    ASSERT_EQ(create(10, "aa10", NULL, 200), id); /* idempotent */
    claim_arg c = claim("w1", "[\"execute\"]", 0);
    ASSERT_EQ(c.status, 200);
    ASSERT_EQ(h_json_int(c.body, "task.task_id"), id);
    ASSERT_EQ(h_json_int(c.body, "task.attempt"), 1);
    char buf[64];
    ASSERT_STREQ(h_json_str(c.body, "task.payload.input", buf, sizeof buf), "hi");
    ASSERT_EQ(claim("w2", "[\"execute\"]", 0).status, 204); /* nothing else queued */
    lease_op(id, "heartbeat", "w1", 1, NULL, 200, "lease_until_ms");
    lease_op(id, "heartbeat", "w2", 1, NULL, 409, "lease lost");
    lease_op(id, "complete", "w1", 2, "\"result\":{\"x\":1}", 409, "conflict");
    lease_op(id, "complete", "w1", 1, "\"result\":{\"output\":\"ok\"}", 200, "\"already_completed\":false");
    lease_op(id, "complete", "w1", 1, "\"result\":{\"output\":\"ok\"}", 200, "\"already_completed\":true");
    lease_op(id, "complete", "w2", 1, "\"result\":{\"output\":\"evil\"}", 409, "conflict");
    lease_op(id, "fail", "w1", 1, "\"error\":\"late\"", 409, "conflict");
    char path[64];
    snprintf(path, sizeof path, "/public/jobs/%lld", id);
    h_resp r = h_get(port, path, NULL);
    ASSERT_EQ(r.status, 200);
    ASSERT_CONTAINS(r.body, "\"state\":\"done\"");
    ASSERT_CONTAINS(r.body, "\"output\":\"ok\"");
    h_resp_free(&r);

    /* fail with retry → queued again, attempt 2; fail without retry → failed */
    long long id2 = create(11, "aa11", "\"max_attempts\":3", 201);
    c = claim("w1", "[\"execute\"]", 0);
    ASSERT_EQ(h_json_int(c.body, "task.task_id"), id2);
    lease_op(id2, "fail", "w1", 1, "\"error\":\"transient\",\"retry\":true", 200, "\"state\":\"queued\"");
    lease_op(id2, "fail", "w1", 1, "\"error\":\"transient\",\"retry\":true", 200, "\"already\":true");
    c = claim("w2", "[\"execute\"]", 0);
    ASSERT_EQ(h_json_int(c.body, "task.task_id"), id2);
    ASSERT_EQ(h_json_int(c.body, "task.attempt"), 2);
    lease_op(id2, "fail", "w2", 2, "\"error\":\"bad module\",\"retry\":false", 200, "\"state\":\"failed\"");
    expect("POST", "/tasks/claim", tok, "{\"worker_id\":\"w1\",\"capabilities\":[\"execute\"]}", 204, NULL);

    /* paging and by account */
    r = h_get(port, "/public/jobs?account=alice.near&limit=1", NULL);
    ASSERT_EQ(r.status, 200);
    ASSERT_CONTAINS(r.body, "\"request_id\":10");
    ASSERT_TRUE(!strstr(r.body, "\"payload\"")); /* inputs are not public */
    h_resp_free(&r);
    r = h_get(port, "/public/jobs?limit=1&offset=0&state=failed", NULL);
    ASSERT_CONTAINS(r.body, "\"request_id\":11");
    h_resp_free(&r);
}

static void test_phases(void) {
    long long cid = create(20, "bb20", "\"kind\":\"compile\"", 201);
    long long eid = create(20, "bb20", "\"kind\":\"execute\",\"wait_for_compile\":true", 201);
    ASSERT_EQ(claim("ex", "[\"execute\"]", 0).status, 204); /* execute waits for its compile */
    claim_arg c = claim("cc", "[\"compile\"]", 0);
    ASSERT_EQ(c.status, 200);
    ASSERT_EQ(h_json_int(c.body, "task.task_id"), cid);
    /* an execute-only worker waiting in a long poll is woken by the compile's completion */
    claim_arg waiter = {"ex", "[\"execute\"]", 5000, 0, "", 0};
    pthread_t th;
    pthread_create(&th, NULL, claim_thread, &waiter);
    usleep(300000);
    lease_op(cid, "complete", "cc", 1, "\"result\":{\"wasm_hash\":\"00\"}", 200, NULL);
    pthread_join(th, NULL);
    ASSERT_EQ(waiter.status, 200);
    ASSERT_EQ(h_json_int(waiter.body, "task.task_id"), eid);
    ASSERT_TRUE(waiter.took_ms < 2500);
    lease_op(eid, "complete", "ex", 1, "\"result\":{}", 200, NULL);
    /* a failed compile fails its waiting execute */
    long long c2 = create(21, "bb21", "\"kind\":\"compile\"", 201);
    long long e2 = create(21, "bb21", "\"wait_for_compile\":true", 201);
    c = claim("cc", "[\"compile\"]", 0);
    ASSERT_EQ(h_json_int(c.body, "task.task_id"), c2);
    lease_op(c2, "fail", "cc", 1, "\"error\":\"does not build\",\"retry\":false", 200, "failed");
    char path[64];
    snprintf(path, sizeof path, "/public/jobs/%lld", e2);
    h_resp r = h_get(port, path, NULL);
    ASSERT_CONTAINS(r.body, "\"state\":\"failed\"");
    ASSERT_CONTAINS(r.body, "compile failed: does not build");
    h_resp_free(&r);
}

static void test_long_poll(void) {
    claim_arg a = {"lp", "[\"execute\",\"compile\"]", 8000, 0, "", 0};
    pthread_t th;
    pthread_create(&th, NULL, claim_thread, &a);
    usleep(400000);
    long long id = create(30, "cc30", NULL, 201);
    pthread_join(th, NULL);
    ASSERT_EQ(a.status, 200);
    ASSERT_EQ(h_json_int(a.body, "task.task_id"), id);
    fprintf(stderr, "long poll: claimed %lld ms after the claim started (task created at ~400 ms)\n", a.took_ms);
    ASSERT_TRUE(a.took_ms < 1600);
    lease_op(id, "complete", "lp", 1, "\"result\":null", 200, NULL);
    /* an empty long poll ends at its deadline with 204 */
    claim_arg e = claim("lp", "[\"execute\"]", 700);
    ASSERT_EQ(e.status, 204);
    ASSERT_TRUE(e.took_ms >= 650 && e.took_ms < 3000);
}

static void test_tokens(void) {
    h_resp r = h_post(port, "/admin/tokens", ADMIN, "{\"name\":\"w-api\"}");
    ASSERT_EQ(r.status, 201);
    char t2[80];
    h_json_str(r.body, "token", t2, sizeof t2);
    h_resp_free(&r);
    expect("POST", "/admin/tokens", ADMIN, "{\"name\":\"w-api\"}", 409, "conflict");
    expect("POST", "/admin/tokens", ADMIN "x", "{\"name\":\"zz\"}", 401, "unauthorized");
    expect("POST", "/workers/heartbeat", t2, "{\"worker_id\":\"w-api-1\",\"status\":\"idle\"}", 200, NULL);
    expect("POST", "/admin/tokens/w-api/revoke", ADMIN, NULL, 200, NULL);
    expect("POST", "/admin/tokens/w-api/revoke", ADMIN, NULL, 404, "not_found");
    expect("POST", "/workers/heartbeat", t2, "{\"worker_id\":\"w-api-1\"}", 401, "unauthorized");
    r = h_get(port, "/admin/tokens", ADMIN);
    ASSERT_CONTAINS(r.body, "\"name\":\"w-api\"");
    ASSERT_TRUE(!strstr(r.body, t2)); /* never shown again */
    h_resp_free(&r);
    r = h_get(port, "/public/workers", NULL);
    ASSERT_CONTAINS(r.body, "\"worker_id\":\"w-api-1\"");
    ASSERT_CONTAINS(r.body, "\"heartbeat\":\"alive\"");
    h_resp_free(&r);
}

static void sha256hex(const void *p, size_t n, char out[65]) {
    unsigned char h[32];
    crypto_hash_sha256(h, p, n);
    for (int i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", h[i]);
}

static void test_modules(const char *data_dir) {
    char mod[1000];
    for (size_t i = 0; i < sizeof mod; i++) mod[i] = (char)(i * 7);
    char hash[65], path[200];
    sha256hex(mod, sizeof mod, hash);
    char wrong[65];
    memcpy(wrong, hash, 65);
    wrong[0] = wrong[0] == 'a' ? 'b' : 'a';
    snprintf(path, sizeof path, "/modules/%s", wrong);
    h_resp r = h_req(port, "PUT", path, tok, mod, sizeof mod);
    ASSERT_EQ(r.status, 400);
    ASSERT_CONTAINS(r.body, "hash_mismatch");
    h_resp_free(&r);
    snprintf(path, sizeof path, "/modules/%s", hash);
    expect("PUT", path, tok, "", 400, "empty_module");
    expect("PUT", "/modules/ABC", tok, "x", 400, "invalid_hash");
    r = h_req(port, "PUT", path, tok, mod, sizeof mod);
    ASSERT_EQ(r.status, 201);
    h_resp_free(&r);
    r = h_req(port, "PUT", path, tok, mod, sizeof mod);
    ASSERT_EQ(r.status, 200);
    h_resp_free(&r);
    r = h_get(port, path, tok);
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(r.len, sizeof mod);
    ASSERT_TRUE(memcmp(r.body, mod, sizeof mod) == 0);
    h_resp_free(&r);
    char body[512];
    snprintf(body, sizeof body,
             "{\"repo\":\"https://github.com/o/r\",\"commit\":\"0123abcd0123abcd0123abcd0123abcd0123abcd\",\"target\":\"wasm32-wasip1\","
             "\"builder_version\":\"1\",\"hash\":\"%s\"}",
             hash);
    expect("POST", "/modules/index", tok, body, 200, NULL);
    r = h_get(port, "/public/modules/lookup?repo=https%3A%2F%2Fgithub.com%2Fo%2Fr&commit=0123abcd0123abcd0123abcd0123abcd0123abcd&target=wasm32-wasip1&builder_version=1",
              NULL);
    ASSERT_EQ(r.status, 200);
    ASSERT_CONTAINS(r.body, hash);
    h_resp_free(&r);
    expect("GET", "/public/modules/lookup?repo=x&commit=0123abcd0123abcd0123abcd0123abcd0123abcd&target=wasm32-wasip1&builder_version=2", NULL, NULL,
           404, "not_found");
    expect("GET", "/public/modules/lookup?repo=x&commit=main&target=wasm32-wasip1&builder_version=1", NULL, NULL, 400,
           "invalid_field");
    /* corrupt the stored file: the read detects it, drops it, and the index no longer answers */
    char file[600];
    snprintf(file, sizeof file, "%s/modules/%s.wasm", data_dir, hash);
    FILE *f = fopen(file, "r+b");
    ASSERT_TRUE(f);
    fputc('X', f);
    fclose(f);
    r = h_get(port, path, tok);
    ASSERT_EQ(r.status, 404);
    ASSERT_CONTAINS(r.body, "no longer match");
    h_resp_free(&r);
    snprintf(path, sizeof path, "/public/modules/%s", hash);
    expect("GET", path, NULL, NULL, 404, "not_found");
    /* build locks */
    expect("POST", "/locks/acquire", tok, "{\"key\":\"build:o/r@0123\",\"worker_id\":\"w1\",\"ttl_ms\":60000}", 200, NULL);
    r = h_post(port, "/locks/acquire", tok, "{\"key\":\"build:o/r@0123\",\"worker_id\":\"w2\"}");
    ASSERT_CONTAINS(r.body, "\"acquired\":false");
    ASSERT_CONTAINS(r.body, "\"holder\":\"w1\"");
    h_resp_free(&r);
    r = h_post(port, "/locks/release", tok, "{\"key\":\"build:o/r@0123\",\"worker_id\":\"w2\"}");
    ASSERT_CONTAINS(r.body, "\"released\":false");
    h_resp_free(&r);
    r = h_post(port, "/locks/release", tok, "{\"key\":\"build:o/r@0123\",\"worker_id\":\"w1\"}");
    ASSERT_CONTAINS(r.body, "\"released\":true");
    h_resp_free(&r);
    r = h_post(port, "/locks/acquire", tok, "{\"key\":\"build:o/r@0123\",\"worker_id\":\"w2\"}");
    ASSERT_CONTAINS(r.body, "\"acquired\":true");
    h_resp_free(&r);
    /* keys carry a whole repository URL (up to 512) plus commit and target */
    char lk[1200];
    int n = snprintf(lk, sizeof lk, "{\"key\":\"build:https://example.com/");
    memset(lk + n, 'r', 700);
    n += 700;
    snprintf(lk + n, sizeof lk - (size_t)n, ":0123abcd:wasm32-wasip1\",\"worker_id\":\"w1\",\"ttl_ms\":90000}");
    r = h_post(port, "/locks/acquire", tok, lk);
    ASSERT_EQ(r.status, 200);
    ASSERT_CONTAINS(r.body, "\"acquired\":true");
    h_resp_free(&r);
}

static void test_metrics_and_rate_limit(void) {
    h_resp r = h_get(port, "/metrics", NULL);
    ASSERT_EQ(r.status, 200);
    ASSERT_CONTAINS(r.body, "# TYPE outlayer_tasks gauge");
    ASSERT_CONTAINS(r.body, "outlayer_tasks{state=\"done\"}");
    ASSERT_CONTAINS(r.body, "outlayer_auth_failures_total");
    h_resp_free(&r);
    /* RATE_LIMIT_PER_MINUTE=300 for this process: the 301st public request in a minute is refused */
    int limited = 0, ok = 0;
    for (int i = 0; i < 330; i++) {
        r = h_get(port, "/public/stats", NULL);
        if (r.status == 429) {
            limited++;
            ASSERT_CONTAINS(r.body, "rate_limited");
        } else if (r.status == 200) {
            ok++;
        }
        h_resp_free(&r);
    }
    ASSERT_TRUE(limited > 0);
    ASSERT_TRUE(ok <= 300);
    /* CORS: the dashboard's origin may read public endpoints, others get no grant */
    r = h_req_hdr(port, "GET", "/health", "Origin: https://dash.example");
    ASSERT_CONTAINS(r.body, "Access-Control-Allow-Origin: https://dash.example");
    h_resp_free(&r);
    r = h_req_hdr(port, "GET", "/health", "Origin: https://evil.example");
    ASSERT_TRUE(!strstr(r.body, "Access-Control-Allow-Origin"));
    h_resp_free(&r);
    /* /health and worker endpoints are not public-rate-limited */
    expect("GET", "/health", NULL, NULL, 200, NULL);
    expect("POST", "/workers/heartbeat", tok, "{\"worker_id\":\"w1\"}", 200, NULL);
}

/* Monitor cursors: worker-authenticated, absent until set, compare-and-set so concurrent monitors never
 * move one backwards, bad input refused with a stable code. */
static atomic_long cursor_moves;
static void *cursor_racer(void *arg) {
    (void)arg;
    for (int i = 0; i < 25; i++) {
        h_resp r = h_get(port, "/monitor/cursor/race", tok);
        ASSERT_EQ(r.status, 200);
        long long v = h_json_int(r.body, "value");
        h_resp_free(&r);
        char body[96];
        snprintf(body, sizeof body, "{\"value\":%lld,\"expected\":%lld}", v + 1, v);
        r = h_req(port, "PUT", "/monitor/cursor/race", tok, body, strlen(body));
        if (r.status == 200) atomic_fetch_add(&cursor_moves, 1);
        else if (r.status != 409) T_FAIL("cursor race: status %ld: %s", r.status, r.body);
        else ASSERT_CONTAINS(r.body, "\"code\":\"cursor_conflict\"");
        h_resp_free(&r);
    }
    return NULL;
}

static void test_cursors(void) {
    expect("GET", "/monitor/cursor/m1", NULL, NULL, 401, "unauthorized");
    expect("PUT", "/monitor/cursor/m1", NULL, "{\"value\":1}", 401, "unauthorized");
    expect("GET", "/monitor/cursor/m1", tok, NULL, 404, "not_found");
    /* expected null: create only when absent */
    expect("PUT", "/monitor/cursor/m1", tok, "{\"value\":5,\"expected\":null}", 200, NULL);
    expect("PUT", "/monitor/cursor/m1", tok, "{\"value\":6,\"expected\":null}", 409, "cursor_conflict");
    h_resp r = h_get(port, "/monitor/cursor/m1", tok);
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(h_json_int(r.body, "value"), 5);
    ASSERT_TRUE(h_json_int(r.body, "updated_ms") > 0);
    h_resp_free(&r);
    /* compare-and-set: a stale monitor (expected 3) cannot move it; the 409 names the current value */
    r = h_req(port, "PUT", "/monitor/cursor/m1", tok, "{\"value\":4,\"expected\":3}", 24);
    ASSERT_EQ(r.status, 409);
    ASSERT_CONTAINS(r.body, "\"cursor_conflict\"");
    ASSERT_EQ(h_json_int(r.body, "current"), 5);
    h_resp_free(&r);
    expect("PUT", "/monitor/cursor/m1", tok, "{\"value\":9,\"expected\":5}", 200, NULL);
    expect("PUT", "/monitor/cursor/nope", tok, "{\"value\":9,\"expected\":5}", 409, "cursor_conflict");
    /* unconditional set, and the largest value */
    expect("PUT", "/monitor/cursor/m1", tok, "{\"value\":9223372036854775807}", 200, NULL);
    r = h_get(port, "/monitor/cursor/m1", tok);
    ASSERT_EQ(h_json_int(r.body, "value"), 9223372036854775807LL);
    h_resp_free(&r);
    /* bad input */
    expect("PUT", "/monitor/cursor/m1", tok, "{\"value\":-1}", 400, "invalid_field");
    expect("PUT", "/monitor/cursor/m1", tok, "{\"value\":\"7\"}", 400, "invalid_field");
    expect("PUT", "/monitor/cursor/m1", tok, "{\"value\":1.5}", 400, "invalid_field");
    expect("PUT", "/monitor/cursor/m1", tok, "{}", 400, "invalid_field");
    expect("PUT", "/monitor/cursor/m1", tok, "{\"value\":1,\"expected\":-2}", 400, "invalid_field");
    expect("PUT", "/monitor/cursor/m1", tok, "{\"value\":18446744073709551615}", 400, "bad_json");
    expect("PUT", "/monitor/cursor/m1", tok, "[1]", 400, "bad_json");
    expect("GET", "/monitor/cursor/bad%20name", tok, NULL, 400, "invalid_name");
    expect("GET", "/monitor/cursor/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", tok, NULL, 400,
           "invalid_name"); /* 65 characters: over CO_CURSOR_NAME_MAX */
    expect("DELETE", "/monitor/cursor/m1", tok, NULL, 405, "method_not_allowed");
    /* concurrent compare-and-set: every successful move is +1 from what was read, so the final value
     * equals the number of successes (none lost, none doubled, never backwards) */
    expect("PUT", "/monitor/cursor/race", tok, "{\"value\":0}", 200, NULL);
    atomic_store(&cursor_moves, 0);
    pthread_t th[4];
    for (int i = 0; i < 4; i++) pthread_create(&th[i], NULL, cursor_racer, NULL);
    for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
    r = h_get(port, "/monitor/cursor/race", tok);
    ASSERT_EQ(h_json_int(r.body, "value"), atomic_load(&cursor_moves));
    ASSERT_TRUE(atomic_load(&cursor_moves) >= 25);
    h_resp_free(&r);
}

int main(int argc, char **argv) {
    if (argc < 3) T_FAIL("usage: %s sqlite|pg redis|noredis", argv[0]);
    bool pg = strcmp(argv[1], "pg") == 0, redis = strcmp(argv[2], "redis") == 0;
    h_init("api");
    if (sodium_init() < 0) T_FAIL("sodium");
    char data_dir[400], dburl[300] = "", rurl[200] = "";
    snprintf(data_dir, sizeof data_dir, "%s/data", h_tmpdir());
    if (pg) snprintf(dburl, sizeof dburl, "DATABASE_URL=%s", h_start_pg());
    if (redis) snprintf(rurl, sizeof rurl, "REDIS_URL=%s", h_start_redis());
    char dd[450];
    snprintf(dd, sizeof dd, "DATA_DIR=%s", data_dir);
    const char *env[] = {dd, "ADMIN_BEARER_TOKEN=" ADMIN, "RATE_LIMIT_PER_MINUTE=300",
                         "CORS_ALLOWED_ORIGINS=http://localhost:3000, https://dash.example", pg ? dburl : "UNUSED_X=1",
                         redis ? rurl : "UNUSED_Y=1", NULL};
    /* the token CLI works against the same store, before the server runs */
    const char *create_args[] = {"token", "create", "--name", "w1", NULL};
    char out[256];
    ASSERT_EQ(h_run_coord_cli(create_args, env, out, sizeof out), 0);
    ASSERT_EQ(strlen(out), 65); /* 64 hex + newline */
    memcpy(tok, out, 64);
    tok[64] = 0;
    ASSERT_EQ(h_run_coord_cli(create_args, env, out, sizeof out), 1); /* name taken */
    const char *bad_args[] = {"token", "create", NULL};
    ASSERT_EQ(h_run_coord_cli(bad_args, env, out, sizeof out), 2);
    const char *bad_cfg[] = {"--task-lease-ms", "5", NULL};
    ASSERT_EQ(h_run_coord_cli(bad_cfg, env, out, sizeof out), 2);
    const char *list_args[] = {"token", "list", NULL};
    ASSERT_EQ(h_run_coord_cli(list_args, env, out, sizeof out), 0);
    ASSERT_CONTAINS(out, "w1\tactive");
    static char help[16384];
    const char *help_args[] = {"--help", NULL};
    ASSERT_EQ(h_run_coord_cli(help_args, env, help, sizeof help), 0);
    ASSERT_CONTAINS(help, "TASK_LEASE_MS");
    ASSERT_CONTAINS(help, "--task-lease-ms");
    ASSERT_CONTAINS(help, "token create --name NAME");

    /* NEAR RPC for pricing (redis configurations) */
    with_pricing = redis;
    ol_http_server *rpc = ol_http_server_new();
    ol_err rerr;
    ASSERT_EQ(ol_http_route(rpc, "POST", "/", 0, fake_rpc, NULL, &rerr), 0);
    ASSERT_EQ(ol_http_server_start(rpc, "127.0.0.1", 0, 8, &rerr), 0);
    char rpc_env[128];
    snprintf(rpc_env, sizeof rpc_env, "NEAR_RPC_URL=http://127.0.0.1:%d", ol_http_server_port(rpc));
    const char *env_run[12];
    size_t ne = 0;
    for (; env[ne]; ne++) env_run[ne] = env[ne];
    if (with_pricing) {
        env_run[ne++] = rpc_env;
        env_run[ne++] = "OUTLAYER_CONTRACT_ID=outlayer.test.near";
    }
    env_run[ne] = NULL;
    if (with_pricing) {
        /* NEAR_RPC_URL without a contract is a configuration error naming the missing setting */
        const char *no_contract[] = {dd, rpc_env, "PORT=0", NULL};
        const char *none[] = {NULL};
        char o2[256];
        ASSERT_EQ(h_run_coord_cli(none, no_contract, o2, sizeof o2), 2);
    }
    int idx = h_start_coord(data_dir, env_run);
    port = h_coord_port(idx);
    h_resp r = h_get(port, "/health", NULL);
    ASSERT_EQ(r.status, 200);
    ASSERT_CONTAINS(r.body, pg ? "\"store\":\"postgres\"" : "\"store\":\"sqlite\"");
    h_resp_free(&r);
    if (redis) {
        bool up = false;
        for (int i = 0; i < 60 && !up; i++) {
            r = h_get(port, "/health", NULL);
            up = strstr(r.body, "\"redis\":\"up\"") != NULL;
            h_resp_free(&r);
            if (!up) usleep(50000);
        }
        ASSERT_TRUE(up);
    }
    if (with_pricing) {
        r = h_get(port, "/public/pricing", NULL);
        ASSERT_EQ(r.status, 200);
        char b[64];
        ASSERT_STREQ(h_json_str(r.body, "base_fee", b, sizeof b), "10000000000000000000000");
        ASSERT_STREQ(h_json_str(r.body, "contract_id", b, sizeof b), "outlayer.test.near");
        ASSERT_EQ(h_json_int(r.body, "max_limits.max_execution_seconds"), 60);
        h_resp_free(&r);
        int calls = atomic_load(&rpc_calls);
        r = h_get(port, "/public/pricing", NULL); /* cached: no new RPC call */
        ASSERT_EQ(r.status, 200);
        h_resp_free(&r);
        ASSERT_EQ(atomic_load(&rpc_calls), calls);
    }
    test_auth_and_bad_input();
    test_lifecycle();
    test_phases();
    test_long_poll();
    test_tokens();
    test_modules(data_dir);
    test_metrics_and_rate_limit();
    test_cursors();
    if (redis) {
        /* losing Redis loses nothing: the coordinator keeps serving from the store */
        h_stop_redis();
        long long id = create(40, "dd40", NULL, 201);
        claim_arg c = claim("w1", "[\"execute\"]", 2000);
        ASSERT_EQ(c.status, 200);
        ASSERT_EQ(h_json_int(c.body, "task.task_id"), id);
        lease_op(id, "complete", "w1", 1, "\"result\":1", 200, NULL);
        r = h_get(port, "/health", NULL);
        ASSERT_CONTAINS(r.body, "\"redis\":\"down\"");
        h_resp_free(&r);
    }
    /* revoked from the command line (another process): refused here within the token cache time (2 s) */
    const char *revoke_args[] = {"token", "revoke", "--name", "w1", NULL};
    ASSERT_EQ(h_run_coord_cli(revoke_args, env, out, sizeof out), 0);
    usleep(2200000);
    expect("POST", "/workers/heartbeat", tok, "{\"worker_id\":\"w1\"}", 401, "unauthorized");
    h_kill_coord(idx, SIGTERM);
    ol_http_server_free(rpc);
    printf("ok (%s, %s)\n", argv[1], argv[2]);
    return 0;
}
