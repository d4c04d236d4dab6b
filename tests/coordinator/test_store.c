/* The store's task state machine and the module cache, driven directly with explicit clock values
 * (no sleeping): idempotent create, claim order and capabilities, lease fencing by attempt, heartbeat
 * extension, expiry → re-queue → failed when attempts run out, idempotent completion and failure,
 * compile → execute release, build locks, token hashing and revocation, migrations re-run, and the
 * cache's verification and LRU eviction. SQLite in a temp dir; with argument "pg", a PostgreSQL
 * started here. */
#include "coordinator/coordinator_int.h"
#include "harness.h"
#include "test.h"

#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static co_db *db;
static ol_err err;

#define OK(x)                                                                                                          \
    do {                                                                                                               \
        if ((x) != 0) T_FAIL("%s failed: %s", #x, err.msg);                                                           \
    } while (0)

static int64_t create(long long rid, const char *data_id, int kind, int max_attempts, bool wait, bool *created) {
    co_task_new t = {rid, data_id, kind, "alice.near", "{\"in\":1}", max_attempts, wait};
    int64_t id;
    bool c;
    OK(co_task_create(db, &t, 1000, &id, &c, &err));
    if (created) *created = c;
    return id;
}

static long long jint(json_t *o, const char *k) { return (long long)json_integer_value(json_object_get(o, k)); }
static const char *jstr(json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

static void test_tasks(void) {
    bool created;
    int64_t a = create(1, "d1", CO_CAP_EXECUTE, 2, false, &created);
    ASSERT_TRUE(created);
    ASSERT_EQ(create(1, "d1", CO_CAP_EXECUTE, 2, false, &created), a);
    ASSERT_TRUE(!created);
    int64_t b = create(2, "d2", CO_CAP_COMPILE, 3, false, NULL);
    json_t *t;
    /* capability filter: an execute-only worker skips the compile task */
    OK(co_task_claim(db, "wx", CO_CAP_EXECUTE, 2000, 500, &t, &err));
    ASSERT_EQ(jint(t, "task_id"), a);
    ASSERT_EQ(jint(t, "attempt"), 1);
    ASSERT_EQ(jint(t, "lease_until_ms"), 2500);
    json_decref(t);
    OK(co_task_claim(db, "wx", CO_CAP_EXECUTE, 2000, 500, &t, &err));
    ASSERT_TRUE(t == NULL);
    OK(co_task_claim(db, "wc", CO_CAP_COMPILE | CO_CAP_EXECUTE, 2000, 500, &t, &err));
    ASSERT_EQ(jint(t, "task_id"), b);
    json_decref(t);
    /* heartbeat extends; a stranger cannot */
    int64_t until;
    OK(co_task_heartbeat(db, a, "wx", 1, 2400, 500, &until, &err));
    ASSERT_EQ(until, 2900);
    ASSERT_EQ(co_task_heartbeat(db, a, "wy", 1, 2400, 500, &until, &err), CO_ERR_CONFLICT);
    ASSERT_EQ(co_task_heartbeat(db, 999999, "wx", 1, 2400, 500, &until, &err), CO_ERR_NOT_FOUND);
    /* not expired at 2800 (extended), expired at 3000 */
    long long n;
    OK(co_task_reap(db, 2800, &n, &err));
    ASSERT_EQ(n, 1); /* b's lease (2500) expired, a's (2900) did not */
    OK(co_task_reap(db, 3000, &n, &err));
    ASSERT_EQ(n, 1);
    OK(co_task_get(db, a, false, &t, &err));
    ASSERT_STREQ(jstr(t, "state"), "queued");
    json_decref(t);
    /* the old holder cannot heartbeat any more, but its completion is still the one that counts
     * while nobody holds a newer lease */
    ASSERT_EQ(co_task_heartbeat(db, a, "wx", 1, 3000, 500, &until, &err), CO_ERR_CONFLICT);
    /* second lease of a: attempt 2 = max_attempts; expiry → failed */
    OK(co_task_claim(db, "wy", CO_CAP_EXECUTE, 3100, 500, &t, &err));
    ASSERT_EQ(jint(t, "task_id"), a);
    ASSERT_EQ(jint(t, "attempt"), 2);
    json_decref(t);
    bool already;
    ASSERT_EQ(co_task_complete(db, a, "wx", 1, "{}", 3200, &already, &err), CO_ERR_CONFLICT); /* fenced */
    OK(co_task_reap(db, 4000, &n, &err));
    OK(co_task_get(db, a, false, &t, &err));
    ASSERT_STREQ(jstr(t, "state"), "failed");
    ASSERT_CONTAINS(jstr(t, "error"), "no attempts left");
    json_decref(t);
    /* only the last holder may still complete it: the work was done after all */
    ASSERT_EQ(co_task_complete(db, a, "wx", 1, "{}", 4050, &already, &err), CO_ERR_CONFLICT);
    OK(co_task_complete(db, a, "wy", 2, "{\"late\":1}", 4060, &already, &err));
    ASSERT_TRUE(!already);
    OK(co_task_get(db, a, false, &t, &err));
    ASSERT_STREQ(jstr(t, "state"), "done");
    json_decref(t);
    /* b: requeued once (attempt 1 of 3); claim, complete, complete again */
    OK(co_task_claim(db, "wc", CO_CAP_COMPILE, 4100, 500, &t, &err));
    ASSERT_EQ(jint(t, "task_id"), b);
    ASSERT_EQ(jint(t, "attempt"), 2);
    json_decref(t);
    OK(co_task_complete(db, b, "wc", 2, "{\"r\":1}", 4200, &already, &err));
    ASSERT_TRUE(!already);
    OK(co_task_complete(db, b, "wc", 2, "{\"r\":1}", 4300, &already, &err));
    ASSERT_TRUE(already);
    ASSERT_EQ(co_task_complete(db, b, "wz", 2, "{\"r\":2}", 4300, &already, &err), CO_ERR_CONFLICT);
    OK(co_task_get(db, b, false, &t, &err));
    ASSERT_EQ(jint(json_object_get(t, "result"), "r"), 1);
    ASSERT_EQ(jint(t, "done_ms"), 4200);
    json_decref(t);
    /* a late completion from the holder of the latest attempt is accepted if nobody re-leased it */
    int64_t c = create(3, "d3", CO_CAP_EXECUTE, 3, false, NULL);
    OK(co_task_claim(db, "w1", CO_CAP_EXECUTE, 5000, 100, &t, &err));
    json_decref(t);
    OK(co_task_reap(db, 5200, &n, &err));
    OK(co_task_complete(db, c, "w1", 1, "1", 5300, &already, &err));
    OK(co_task_get(db, c, false, &t, &err));
    ASSERT_STREQ(jstr(t, "state"), "done");
    json_decref(t);
    /* fail: retry with attempts left → queued; idempotent; without retry → failed */
    int64_t d = create(4, "d4", CO_CAP_EXECUTE, 3, false, NULL);
    OK(co_task_claim(db, "w1", CO_CAP_EXECUTE, 6000, 100, &t, &err));
    json_decref(t);
    const char *st;
    OK(co_task_fail(db, d, "w1", 1, "flaky", true, 6010, &already, &st, &err));
    ASSERT_STREQ(st, "queued");
    OK(co_task_fail(db, d, "w1", 1, "flaky", true, 6020, &already, &st, &err));
    ASSERT_TRUE(already);
    OK(co_task_claim(db, "w2", CO_CAP_EXECUTE, 6030, 100, &t, &err));
    json_decref(t);
    OK(co_task_fail(db, d, "w2", 2, "broken", false, 6040, &already, &st, &err));
    ASSERT_STREQ(st, "failed");
    /* compile → execute */
    int64_t cc = create(5, "d5", CO_CAP_COMPILE, 3, false, NULL);
    int64_t ee = create(5, "d5", CO_CAP_EXECUTE, 3, true, NULL);
    OK(co_task_get(db, ee, false, &t, &err));
    ASSERT_STREQ(jstr(t, "state"), "waiting");
    json_decref(t);
    OK(co_task_claim(db, "w1", CO_CAP_EXECUTE, 7000, 100, &t, &err));
    ASSERT_TRUE(t == NULL);
    OK(co_task_claim(db, "w1", CO_CAP_COMPILE, 7000, 100, &t, &err));
    ASSERT_EQ(jint(t, "task_id"), cc);
    json_decref(t);
    OK(co_task_complete(db, cc, "w1", 1, "{}", 7010, &already, &err));
    OK(co_task_claim(db, "w1", CO_CAP_EXECUTE, 7020, 100, &t, &err));
    ASSERT_EQ(jint(t, "task_id"), ee);
    json_decref(t);
    /* an execute created after its compile is done starts queued */
    int64_t ee2 = create(5, "d5b", CO_CAP_EXECUTE, 3, true, NULL);
    OK(co_task_get(db, ee2, false, &t, &err));
    ASSERT_STREQ(jstr(t, "state"), "queued"); /* no compile task exists for d5b */
    json_decref(t);
    /* listing */
    json_t *list;
    OK(co_task_list(db, "alice.near", "failed", 0, 10, &list, &err));
    ASSERT_EQ(json_array_size(list), 1);
    json_decref(list);
    OK(co_task_list(db, NULL, NULL, 1, 2, &list, &err));
    ASSERT_EQ(json_array_size(list), 2);
    json_decref(list);
}

static void test_tokens_locks(void) {
    char tok[65], name[CO_TOKEN_NAME_MAX + 1];
    OK(co_token_create(db, "alpha", tok, &err));
    ASSERT_EQ(strlen(tok), 64);
    ASSERT_EQ(co_token_create(db, "alpha", tok, &err), CO_ERR_CONFLICT);
    OK(co_token_check(db, tok, name, &err));
    ASSERT_STREQ(name, "alpha");
    /* only the hash is stored */
    co_conn *c = co_db_acquire(db);
    co_rows r;
    OK(co_exec(c, "SELECT hash FROM tokens WHERE name = 'alpha'", 0, NULL, &r, NULL, &err));
    co_db_release(db, c);
    ASSERT_TRUE(strcmp(co_cell(&r, 0, 0), tok) != 0);
    ASSERT_EQ(strlen(co_cell(&r, 0, 0)), 64);
    co_rows_free(&r);
    OK(co_token_revoke(db, "alpha", &err));
    ASSERT_EQ(co_token_check(db, tok, name, &err), CO_ERR_NOT_FOUND);
    ASSERT_EQ(co_token_revoke(db, "alpha", &err), CO_ERR_NOT_FOUND);
    bool got;
    char holder[CO_WORKER_ID_MAX + 1];
    OK(co_lock_acquire(db, "k", "w1", 1000, 100, &got, holder, &err));
    ASSERT_TRUE(got);
    OK(co_lock_acquire(db, "k", "w2", 1050, 100, &got, holder, &err));
    ASSERT_TRUE(!got);
    ASSERT_STREQ(holder, "w1");
    OK(co_lock_acquire(db, "k", "w2", 1200, 100, &got, holder, &err)); /* expired → taken over */
    ASSERT_TRUE(got);
    bool rel;
    OK(co_lock_release(db, "k", "w1", &rel, &err));
    ASSERT_TRUE(!rel);
    OK(co_lock_release(db, "k", "w2", &rel, &err));
    ASSERT_TRUE(rel);
}

static void hash_of(const void *p, size_t n, char out[65]) {
    unsigned char h[32];
    crypto_hash_sha256(h, p, n);
    ol_hex_encode(h, 32, out);
}

static void test_cache(void) {
    char dir[400];
    snprintf(dir, sizeof dir, "%s/cache", h_tmpdir());
    co_cache *cache;
    OK(co_cache_open(db, dir, 2500, &cache, &err)); /* room for two 1000-byte modules */
    char m[3][1000], h[3][65];
    for (int i = 0; i < 3; i++) {
        memset(m[i], 'a' + i, sizeof m[i]);
        hash_of(m[i], sizeof m[i], h[i]);
    }
    bool existed;
    ASSERT_EQ(co_cache_put(cache, h[1], m[0], sizeof m[0], &existed, &err), CO_ERR_INVALID);
    ASSERT_CONTAINS(err.msg, "hash to");
    OK(co_cache_put(cache, h[0], m[0], sizeof m[0], &existed, &err));
    ASSERT_TRUE(!existed);
    usleep(2000);
    OK(co_cache_put(cache, h[1], m[1], sizeof m[1], &existed, &err));
    usleep(2000);
    void *out;
    size_t len;
    OK(co_cache_get(cache, h[0], &out, &len, &err)); /* 0 becomes the most recently used */
    ASSERT_EQ(len, 1000);
    ASSERT_TRUE(memcmp(out, m[0], len) == 0);
    free(out);
    usleep(2000);
    OK(co_cache_put(cache, h[2], m[2], sizeof m[2], &existed, &err)); /* over budget: evicts 1 */
    ASSERT_EQ(co_cache_get(cache, h[1], &out, &len, &err), CO_ERR_NOT_FOUND);
    OK(co_cache_get(cache, h[0], &out, &len, &err));
    free(out);
    OK(co_cache_get(cache, h[2], &out, &len, &err));
    free(out);
    char file[600];
    snprintf(file, sizeof file, "%s/%s.wasm", dir, h[1]);
    ASSERT_TRUE(access(file, F_OK) != 0); /* the evicted file is gone */
    long long bytes, count;
    OK(co_module_total(db, &bytes, &count, &err));
    ASSERT_EQ(bytes, 2000);
    ASSERT_EQ(count, 2);
    /* a module larger than the whole budget is refused */
    char big[3000];
    memset(big, 'z', sizeof big);
    char hb[65];
    hash_of(big, sizeof big, hb);
    ASSERT_EQ(co_cache_put(cache, hb, big, sizeof big, &existed, &err), CO_ERR_INVALID);
    /* a file removed behind the cache's back is reported missing and dropped */
    snprintf(file, sizeof file, "%s/%s.wasm", dir, h[2]);
    unlink(file);
    ASSERT_EQ(co_cache_get(cache, h[2], &out, &len, &err), CO_ERR_NOT_FOUND);
    json_t *info;
    ASSERT_EQ(co_module_info(db, h[2], &info, &err), CO_ERR_NOT_FOUND);
    co_cache_close(cache);
}

/* The pricing interface src/near will implement: a source that answers, then fails (the cached answer
 * is kept), and no source at all (503). Driven through the real router without sockets. */
static int pricing_calls;
static int pricing_fetch(void *ctx, char **out, ol_err *e) {
    pricing_calls++;
    if (pricing_calls > 1) return ol_err_set(e, 1, "rpc down");
    *out = strdup((const char *)ctx);
    return 0;
}

static int dispatch_get(co_server *s, const char *target, char *body, size_t cap) {
    ol_http_request req;
    memset(&req, 0, sizeof req);
    char t[256];
    snprintf(t, sizeof t, "%s", target);
    ASSERT_EQ(ol_http_parse_target(&req, t), 0);
    req.method = "GET";
    req.body = "";
    ol_http_response resp;
    ol_http_dispatch(s->http, &req, &resp);
    snprintf(body, cap, "%.*s", (int)resp.body_len, resp.body ? resp.body : "");
    ol_http_response_free(&resp);
    return resp.status;
}

static void test_pricing(void) {
    char dir[400];
    snprintf(dir, sizeof dir, "%s/pricing", h_tmpdir());
    co_settings set = {.host = "127.0.0.1", .data_dir = dir, .database_url = "", .redis_url = "", .admin_token = "",
                       .lease_ms = 30000, .max_attempts = 3, .cache_budget_bytes = 1 << 20, .module_max_bytes = 1 << 16,
                       .rate_per_minute = 0, .active_window_ms = 60000, .max_connections = 4, .db_pool = 1};
    co_server *s;
    OK(co_server_new(&set, &s, &err));
    char body[512];
    ASSERT_EQ(dispatch_get(s, "/public/pricing", body, sizeof body), 503);
    ASSERT_CONTAINS(body, "pricing_unavailable");
    static const char price[] = "{\"base_fee\":\"1000\",\"per_million_instructions_fee\":\"5\"}";
    s->pricing = (coordinator_pricing_source){pricing_fetch, (void *)price};
    ASSERT_EQ(dispatch_get(s, "/public/pricing", body, sizeof body), 200);
    ASSERT_STREQ(body, price);
    s->pricing_at_ms = 0; /* force a refresh: the source fails, the last answer stays */
    ASSERT_EQ(dispatch_get(s, "/public/pricing", body, sizeof body), 200);
    ASSERT_STREQ(body, price);
    ASSERT_EQ(pricing_calls, 2);
    co_server_free(s);
}

int main(int argc, char **argv) {
    bool pg = argc > 1 && strcmp(argv[1], "pg") == 0;
    h_init("store");
    ASSERT_TRUE(sodium_init() >= 0);
    ol_log_set_level(OL_LOG_WARN);
    char url[400];
    if (pg) snprintf(url, sizeof url, "%s", h_start_pg());
    else snprintf(url, sizeof url, "%s/store.db", h_tmpdir());
    OK(co_db_open(url, 2, &db, &err));
    OK(co_store_migrate(db, &err));
    OK(co_store_migrate(db, &err)); /* applying again is a no-op */
    int v;
    OK(co_store_schema_version(db, &v, &err));
    ASSERT_EQ(v, 2);
    test_tasks();
    test_tokens_locks();
    test_cache();
    test_pricing();
    co_db_close(db);
    /* a bad database URL is an error naming the problem, not a crash */
    ASSERT_EQ(co_db_open("postgres://nobody@127.0.0.1:1/x", 1, &db, &err), CO_ERR_DB);
    ASSERT_CONTAINS(err.msg, "postgres: cannot connect");
    ASSERT_EQ(co_db_open("/nonexistent-dir/x/y.db", 1, &db, &err), CO_ERR_DB);
    ASSERT_CONTAINS(err.msg, "sqlite: cannot open");
    printf("ok (%s)\n", pg ? "pg" : "sqlite");
    return 0;
}
