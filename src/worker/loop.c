/* The task loop: N slots, each claiming a task from the coordinator by long poll with this worker's
 * capabilities, heartbeating its lease while it works, and completing or failing it (both idempotent
 * on the coordinator). Modules come from the coordinator's content-addressed cache when the index
 * knows (repository, commit, target, builder version), else they are built under a build lock and
 * uploaded. SIGINT/SIGTERM: stop claiming, finish what is running, exit; a second signal releases the
 * running tasks' leases (fail with retry) and exits at once. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "worker/worker_int.h"

/* An HTTP answer from the coordinator beyond this is refused (a module is the largest: its cap). */
#define WK_HTTP_RESP_MAX ((size_t)WORKER_MODULE_MAX_BYTES + 4096u)
/* Pause after a coordinator error before the next claim: no hot loop while it is down. */
#define WK_ERROR_BACKOFF_MS 1000u
/* A build lock lasts this long unless its holder renews it (every third of it while building): a
 * crashed holder blocks others for at most this long. */
#define WK_BUILD_LOCK_TTL_MS 6000u
/* The task error text sent to the coordinator (its CO_ERROR_MAX is 4096). */
#define WK_TASK_ERROR_MAX 4000u

static atomic_int g_stop;      /* 1: stop claiming; 2: release running tasks and exit */
static wk_executor g_executor; /* NULL: this worker does not execute */

void worker_set_executor(wk_executor fn) { g_executor = fn; }

/* ---- HTTP client ---- */

typedef struct buf {
    char *p;
    size_t len, cap, max;
} buf;

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud) {
    buf *b = ud;
    size_t n = size * nmemb, need;
    if (!ol_add_size(b->len, n + 1, &need) || need > b->max)
        return 0;
    if (need > b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 4096;
        while (nc < need)
            nc *= 2;
        char *np = realloc(b->p, nc);
        if (!np)
            return 0;
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->len, ptr, n);
    b->len += n;
    b->p[b->len] = 0;
    return n;
}

/* Aborts a long poll on shutdown, but only before its answer starts arriving: a claim the coordinator
 * already granted is taken and worked on. (A claim granted in the instant of the abort is lost to us;
 * its lease expires and the task is queued again.) */
static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow) {
    (void)dltotal, (void)ultotal, (void)ulnow;
    const bool *abortable = ud;
    return *abortable && dlnow == 0 && atomic_load(&g_stop) ? 1 : 0;
}

/* One request. Returns the HTTP status (0 on transport failure, with err set); *out (owned, may be
 * NULL) and *out_len get the body. */
long wk_http(const wk_loop *L, const char *method, const char *path, const char *ctype, const void *body, size_t body_len,
             long timeout_ms, bool abortable, char **out, size_t *out_len, ol_err *err) {
    if (out)
        *out = NULL;
    if (out_len)
        *out_len = 0;
    CURL *c = curl_easy_init();
    if (!c) {
        ol_err_set(err, 1, "curl_easy_init failed");
        return 0;
    }
    char url[2048 + 512], auth[300], ct[96];
    snprintf(url, sizeof url, "%s%s", L->api_base_url, path);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", L->token);
    snprintf(ct, sizeof ct, "Content-Type: %s", ctype ? ctype : "application/json");
    struct curl_slist *h = curl_slist_append(NULL, auth);
    h = curl_slist_append(h, ct);
    h = curl_slist_append(h, "Expect:");
    buf b = {.max = WK_HTTP_RESP_MAX};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &abortable);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    else
        ol_err_set(err, 1, "coordinator %s %s: %s", method, path, curl_easy_strerror(rc));
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    if (out && status) {
        *out = b.p;
        if (out_len)
            *out_len = b.len;
    } else {
        free(b.p);
    }
    return status;
}

static long post_json(const wk_loop *L, const char *path, json_t *body, long timeout_ms, bool abortable, json_t **out,
                      ol_err *err) {
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (!text) {
        ol_err_set(err, 1, "cannot encode a request to %s", path);
        return 0;
    }
    char *resp = NULL;
    size_t rl = 0;
    long st = wk_http(L, "POST", path, NULL, text, strlen(text), timeout_ms, abortable, &resp, &rl, err);
    free(text);
    if (out) {
        *out = NULL;
        if (resp && rl)
            *out = json_loadb(resp, rl, 0, NULL);
    }
    if (st >= 400)
        ol_err_set(err, 1, "coordinator %s: HTTP %ld: %.200s", path, st, resp ? resp : "");
    free(resp);
    return st;
}

/* ---- leases ---- */

typedef struct lease {
    const wk_loop *L;
    long long task_id, attempt;
    long period_ms; /* heartbeat period: HEARTBEAT_SECONDS, at most a third of the lease */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    atomic_bool lost;
    pthread_t hb;
} lease;

static void *heartbeat_thread(void *p) {
    lease *ls = p;
    char path[96];
    snprintf(path, sizeof path, "/tasks/%lld/heartbeat", ls->task_id);
    pthread_mutex_lock(&ls->mu);
    while (!ls->done) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += ls->period_ms / 1000;
        ts.tv_nsec += (ls->period_ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&ls->cv, &ls->mu, &ts);
        if (ls->done)
            break;
        pthread_mutex_unlock(&ls->mu);
        ol_err e;
        long st = post_json(ls->L, path, json_pack("{s:s,s:I}", "worker_id", ls->L->worker_id, "attempt", (json_int_t)ls->attempt),
                            10000, false, NULL, &e);
        if (st == 409 || st == 404) {
            OL_WARN("task %lld: lease lost (%s); its result will be refused", ls->task_id, e.msg);
            atomic_store(&ls->lost, true);
        } else if (st != 200) {
            OL_WARN("task %lld: heartbeat failed: %s", ls->task_id, e.msg);
        }
        pthread_mutex_lock(&ls->mu);
    }
    pthread_mutex_unlock(&ls->mu);
    return NULL;
}

static int finish(const wk_loop *L, lease *ls, json_t *result, const char *error, bool retry) {
    char path[96];
    ol_err e;
    json_t *body;
    if (result) {
        snprintf(path, sizeof path, "/tasks/%lld/complete", ls->task_id);
        body = json_pack("{s:s,s:I,s:o}", "worker_id", L->worker_id, "attempt", (json_int_t)ls->attempt, "result", result);
    } else {
        snprintf(path, sizeof path, "/tasks/%lld/fail", ls->task_id);
        char msg[WK_TASK_ERROR_MAX + 1];
        ol_strlcpy(msg, error ? error : "failed", sizeof msg);
        body = json_pack("{s:s,s:I,s:s,s:b}", "worker_id", L->worker_id, "attempt", (json_int_t)ls->attempt, "error", msg,
                         "retry", retry);
    }
    /* Completion is idempotent: retry transport failures a few times. */
    for (int i = 0; i < 5; i++) {
        long st = post_json(L, path, json_incref(body), 10000, false, NULL, &e);
        if (st == 200) {
            json_decref(body);
            return 0;
        }
        if (st >= 400 && st < 500) {
            OL_WARN("task %lld: %s refused: %s", ls->task_id, path, e.msg);
            break;
        }
        usleep(500000);
    }
    json_decref(body);
    return 1;
}

/* ---- modules: cache or build ---- */

static char *url_escape(const char *s) {
    char *r = curl_easy_escape(NULL, s, 0);
    return r;
}

/* Looks the module up in the coordinator's index and downloads it; true when found and intact. */
static bool cache_get(const wk_loop *L, const char *repo, const char *commit, const char *target, worker_build_result *res) {
    char *er = url_escape(repo), *ec = url_escape(commit), *et = url_escape(target);
    char path[3000];
    snprintf(path, sizeof path, "/public/modules/lookup?repo=%s&commit=%s&target=%s&builder_version=%s", er ? er : "",
             ec ? ec : "", et ? et : "", WORKER_BUILDER_VERSION);
    curl_free(er);
    curl_free(ec);
    curl_free(et);
    char *resp = NULL;
    size_t rl = 0;
    ol_err e;
    long st = wk_http(L, "GET", path, NULL, NULL, 0, 10000, false, &resp, &rl, &e);
    json_t *o = st == 200 && resp ? json_loadb(resp, rl, 0, NULL) : NULL;
    free(resp);
    const char *hash = o ? json_string_value(json_object_get(o, "hash")) : NULL;
    bool ok = false;
    if (hash && strlen(hash) == 64) {
        snprintf(path, sizeof path, "/modules/%s", hash);
        char *bytes = NULL;
        size_t n = 0;
        st = wk_http(L, "GET", path, NULL, NULL, 0, 30000, false, &bytes, &n, &e);
        if (st == 200 && bytes) {
            uint8_t h[32];
            char hex[65];
            wk_sha256((const uint8_t *)bytes, n, h);
            ol_hex_encode(h, 32, hex);
            if (strcmp(hex, hash) == 0) {
                res->wasm = (uint8_t *)bytes;
                res->wasm_len = n;
                memcpy(res->sha256, h, 32);
                memcpy(res->sha256_hex, hex, 65);
                res->status = WORKER_BUILD_OK;
                ol_strlcpy(res->kind, "cache", sizeof res->kind);
                bytes = NULL;
                ok = true;
            } else {
                OL_WARN("cache: module %s arrived with sha256 %s; ignoring it", hash, hex);
            }
        }
        free(bytes);
    }
    json_decref(o);
    return ok;
}

static void cache_put(const wk_loop *L, const char *repo, const char *commit, const char *target, const worker_build_result *r) {
    char path[128];
    ol_err e;
    snprintf(path, sizeof path, "/modules/%s", r->sha256_hex);
    long st = wk_http(L, "PUT", path, "application/wasm", r->wasm, r->wasm_len, 60000, false, NULL, NULL, &e);
    if (st != 200 && st != 201) {
        OL_WARN("cache: upload of %s failed: HTTP %ld %s", r->sha256_hex, st, st ? "" : e.msg);
        return;
    }
    st = post_json(L, "/modules/index",
                   json_pack("{s:s,s:s,s:s,s:s,s:s}", "repo", repo, "commit", commit, "target", target, "builder_version",
                             WORKER_BUILDER_VERSION, "hash", r->sha256_hex),
                   10000, false, NULL, &e);
    if (st != 200)
        OL_WARN("cache: index of %s failed: %s", r->sha256_hex, e.msg);
}

static bool lock(const wk_loop *L, const char *key, bool acquire) {
    json_t *out = NULL;
    ol_err e;
    json_t *body = acquire ? json_pack("{s:s,s:s,s:I}", "key", key, "worker_id", L->worker_id, "ttl_ms", (json_int_t)WK_BUILD_LOCK_TTL_MS)
                           : json_pack("{s:s,s:s}", "key", key, "worker_id", L->worker_id);
    long st = post_json(L, acquire ? "/locks/acquire" : "/locks/release", body, 10000, false, &out, &e);
    bool got = st == 200 && json_is_true(json_object_get(out, acquire ? "acquired" : "released"));
    json_decref(out);
    return got;
}

typedef struct renewer {
    const wk_loop *L;
    const char *key;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
} renewer;

static void *renew_thread(void *p) {
    renewer *r = p;
    pthread_mutex_lock(&r->mu);
    while (!r->done) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += WK_BUILD_LOCK_TTL_MS / 3000u;
        pthread_cond_timedwait(&r->cv, &r->mu, &ts);
        if (r->done)
            break;
        pthread_mutex_unlock(&r->mu);
        lock(r->L, r->key, true); /* the holder re-acquiring extends the lock */
        pthread_mutex_lock(&r->mu);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

int wk_get_module(const wk_loop *L, const json_t *source, bool force_rebuild, worker_build_result *res, bool *cached,
                  ol_err *err) {
    memset(res, 0, sizeof *res);
    *cached = false;
    json_t *gh = json_object_get(source, "GitHub");
    json_t *wu = json_object_get(source, "WasmUrl");
    if (!gh && json_is_object(source) && json_object_get(source, "repo"))
        gh = (json_t *)source; /* the older code_source shape */
    if (wu) {
        const char *url = json_string_value(json_object_get(wu, "url")), *hash = json_string_value(json_object_get(wu, "hash"));
        return worker_fetch_wasm(L->build, url ? url : "", hash ? hash : "", res, err);
    }
    if (!gh) {
        res->status = WORKER_BUILD_BAD_SOURCE;
        snprintf(res->message, sizeof res->message, "source must be {\"GitHub\":{...}} or {\"WasmUrl\":{...}}");
        return 0;
    }
    const char *repo = json_string_value(json_object_get(gh, "repo"));
    const char *commit = json_string_value(json_object_get(gh, "commit"));
    const char *target = json_string_value(json_object_get(gh, "build_target"));
    if (!target || !*target)
        target = "wasm32-wasi";
    if (!repo || !commit) {
        res->status = WORKER_BUILD_BAD_SOURCE;
        snprintf(res->message, sizeof res->message, "source.GitHub needs \"repo\" and \"commit\"");
        return 0;
    }
    if (!force_rebuild && cache_get(L, repo, commit, target, res)) {
        *cached = true;
        return 0;
    }
    char key[700];
    snprintf(key, sizeof key, "build:%.500s:%.64s:%.32s", repo, commit, target);
    bool locked = lock(L, key, true);
    if (!locked) {
        /* Another worker builds it: wait for its result. Its lock expires within WK_BUILD_LOCK_TTL_MS
         * when it dies; then we take the lock and build ourselves. */
        uint64_t until = wk_now_ms() + (uint64_t)L->build->timeout_s * 1000u + 10000u;
        while (!locked && wk_now_ms() < until && atomic_load(&g_stop) < 2) {
            usleep(500000);
            if (cache_get(L, repo, commit, target, res)) {
                *cached = true;
                return 0;
            }
            locked = lock(L, key, true);
        }
    }
    renewer rn = {.L = L, .key = key};
    pthread_mutex_init(&rn.mu, NULL);
    pthread_cond_init(&rn.cv, NULL);
    pthread_t rt;
    bool renewing = locked && pthread_create(&rt, NULL, renew_thread, &rn) == 0;
    int rc = worker_build_git(L->build, repo, commit, target, res, err);
    if (rc == 0 && res->status == WORKER_BUILD_OK)
        cache_put(L, repo, commit, target, res);
    if (renewing) {
        pthread_mutex_lock(&rn.mu);
        rn.done = true;
        pthread_cond_signal(&rn.cv);
        pthread_mutex_unlock(&rn.mu);
        pthread_join(rt, NULL);
    }
    pthread_cond_destroy(&rn.cv);
    pthread_mutex_destroy(&rn.mu);
    if (locked)
        lock(L, key, false);
    return rc;
}

/* ---- one task ---- */

static bool retryable(worker_build_status s) {
    return s == WORKER_BUILD_SANDBOX || s == WORKER_BUILD_INTERNAL;
}

static void fail_build(const wk_loop *L, lease *ls, const worker_build_result *r) {
    char msg[WK_TASK_ERROR_MAX + 1];
    size_t tail = r->log_len > 2500 ? 2500 : r->log_len;
    snprintf(msg, sizeof msg, "build failed (%s): %s%s%.*s", worker_build_status_name(r->status), r->message,
             tail ? "\n--- build log (tail) ---\n" : "", (int)tail, r->log ? r->log + r->log_len - tail : "");
    finish(L, ls, NULL, msg, retryable(r->status));
}

/* Before an execute task runs: the request must be pending on chain exactly as the task says, and
 * the yield window must leave time for the build (when not cached, at most the build cap) and the run.
 * On refusal the task is failed without retry (it times out on chain and the payer is refunded). */
static bool chain_precheck(const wk_loop *L, json_t *task, lease *ls) {
    json_t *payload = json_object_get(task, "payload");
    long long rid = (long long)json_integer_value(json_object_get(task, "request_id"));
    json_t *onchain = NULL;
    ol_err e;
    char why[256];
    if (wk_chain_get_request(L->chain, rid, &onchain, &e) != 0) {
        snprintf(why, sizeof why, "reading request %lld from chain failed: %.180s", rid, e.msg);
        finish(L, ls, NULL, why, true);
        return false;
    }
    bool ok = wk_request_matches(onchain, payload, why, sizeof why);
    if (ok) {
        uint64_t now = 0;
        json_t *lim = json_object_get(onchain, "resource_limits");
        json_t *secs = json_object_get(lim, "max_execution_seconds");
        uint64_t run_ms = (json_is_integer(secs) ? (uint64_t)json_integer_value(secs) : WORKER_MAX_SECONDS_DEFAULT) * 1000u;
        uint64_t need = run_ms + 5000u; /* + sending the resolution */
        if (wk_chain_height(L->chain, &now, &e) != 0) {
            snprintf(why, sizeof why, "reading the chain height failed: %.200s", e.msg);
            json_decref(onchain);
            finish(L, ls, NULL, why, true);
            return false;
        }
        ok = wk_window_ok((uint64_t)json_integer_value(json_object_get(onchain, "block_height")), now, L->yield_blocks,
                          L->block_ms, need, why, sizeof why);
    }
    json_decref(onchain);
    if (!ok) {
        OL_WARN("task %lld (request %lld): %s", ls->task_id, rid, why);
        finish(L, ls, NULL, why, false);
    }
    return ok;
}

/* After a run: resolve_execution on chain (when there is a chain), then the task's completion with
 * the transaction's hash. A failed resolution is retried by another attempt (the contract takes the
 * first resolution only, so a repeat is harmless). */
static void report_and_finish(const wk_loop *L, json_t *task, lease *ls, json_t *result) {
    if (L->chain) {
        long long rid = (long long)json_integer_value(json_object_get(task, "request_id"));
        bool already = false;
        char tx[64];
        ol_err e;
        int rc = wk_chain_resolve(L->chain, rid, json_object_get(result, "response"), json_object_get(result, "report"),
                                  &already, tx, &e);
        if (rc != 0) {
            char why[300];
            snprintf(why, sizeof why, "resolve_execution failed: %s", e.msg);
            OL_WARN("task %lld (request %lld): %s", ls->task_id, rid, why);
            json_decref(result);
            /* The contract refusing the resolution is deterministic: another attempt would fail alike. */
            finish(L, ls, NULL, why, rc != NEAR_ERPC_CONTRACT);
            return;
        }
        json_object_set_new(result, "resolve_tx", json_string(tx));
        json_object_set_new(result, "already_resolved", json_boolean(already));
    }
    finish(L, ls, result, NULL, false);
}

static void *monitor_thread(void *p) {
    const wk_loop *L = p;
    wk_monitor m = {0}; /* the cursor is read from the coordinator before the first page */
    while (!atomic_load(&g_stop)) {
        size_t created = 0;
        ol_err e;
        if (wk_monitor_page(L->chain, L, &m, &created, &e) != 0)
            OL_WARN("monitor: %s", e.msg);
        else if (created)
            OL_INFO("monitor: %zu new task(s), cursor %lld", created, m.cursor);
        if (!m.more)
            usleep(L->monitor_interval_ms * 1000u);
    }
    return NULL;
}

/* Keeps the worker key funded (wk_key_check) every key_check_ms. */
static void *key_thread(void *p) {
    const wk_loop *L = p;
    while (!atomic_load(&g_stop)) {
        wk_key_state st;
        ol_err e;
        char a[NEAR_AMOUNT_STR], m[NEAR_AMOUNT_STR], t[NEAR_AMOUNT_STR];
        if (wk_key_check(L->chain, L->operator_signer, L->key_min, L->key_topup, &st, &e) != 0) {
            OL_WARN("worker key: %s", e.msg);
        } else if (!st.full_access && !st.unlimited && st.allowance < L->key_min) {
            near_amount_format(st.allowance, a);
            near_amount_format(L->key_min, m);
            near_amount_format(L->key_topup, t);
            if (st.refreshed)
                OL_INFO("worker key: allowance %s was below %s; re-added with %s", a, m, t);
            else
                OL_WARN("worker key: allowance %s is below %s and no OPERATOR_KEY_FILE is set to refresh it", a, m);
        }
        for (unsigned waited = 0; waited < L->key_check_ms && !atomic_load(&g_stop); waited += 100)
            usleep(100 * 1000u);
    }
    return NULL;
}

static void run_task(const wk_loop *L, json_t *task, long long lease_ms) {
    lease ls = {.L = L};
    ls.period_ms = (long)L->heartbeat_s * 1000;
    if (lease_ms > 0 && ls.period_ms > lease_ms / 3)
        ls.period_ms = (long)(lease_ms / 3);
    if (ls.period_ms < 50)
        ls.period_ms = 50;
    ls.task_id = (long long)json_integer_value(json_object_get(task, "task_id"));
    ls.attempt = (long long)json_integer_value(json_object_get(task, "attempt"));
    const char *kind = json_string_value(json_object_get(task, "kind"));
    json_t *payload = json_object_get(task, "payload");
    pthread_mutex_init(&ls.mu, NULL);
    pthread_cond_init(&ls.cv, NULL);
    bool hb = pthread_create(&ls.hb, NULL, heartbeat_thread, &ls) == 0;
    OL_INFO("task %lld (%s, request %lld, attempt %lld) claimed", ls.task_id, kind ? kind : "?",
            (long long)json_integer_value(json_object_get(task, "request_id")), ls.attempt);

    json_t *params = json_object_get(payload, "params");
    bool force = json_is_true(json_object_get(params, "force_rebuild"));
    bool execute = !(kind && strcmp(kind, "compile") == 0);
    if (execute && L->chain && !chain_precheck(L, task, &ls))
        goto out;
    json_t *source = json_object_get(payload, "source");
    if (!source)
        source = json_object_get(payload, "code_source");
    worker_build_result mod;
    bool cached = false;
    ol_err e;
    int mrc = wk_get_module(L, source, force, &mod, &cached, &e);
    if (atomic_load(&g_stop) >= 2) {
        finish(L, &ls, NULL, "worker shutting down; task released", true);
    } else if (mrc != 0) {
        finish(L, &ls, NULL, e.msg, true);
    } else if (mod.status != WORKER_BUILD_OK && execute && L->chain && !retryable(mod.status)) {
        /* The user's build failed: answer the request with the classified message (base fee only),
         * rather than letting it time out. The raw log stays with the operator. */
        OL_WARN("task %lld: %s: %s", ls.task_id, worker_build_status_name(mod.status), mod.message);
        char msg[WORKER_ERROR_TEXT_MAX + 64];
        bool plain = strncmp(mod.message, "build", 5) == 0 || strcmp(mod.kind, "url") == 0;
        snprintf(msg, sizeof msg, "%s%s", plain ? "" : "build failed: ", mod.message);
        json_t *result = json_pack("{s:{s:b,s:s,s:{s:I,s:I}},s:s,s:s}", "response", "success", 0, "error", msg,
                                   "resources_used", "instructions", (json_int_t)0, "time_ms", (json_int_t)0, "build_status",
                                   worker_build_status_name(mod.status), "build_log_tail",
                                   mod.log ? mod.log + (mod.log_len > 2000 ? mod.log_len - 2000 : 0) : "");
        if (!result) /* the log tail was not UTF-8 */
            result = json_pack("{s:{s:b,s:s,s:{s:I,s:I}},s:s}", "response", "success", 0, "error", msg, "resources_used",
                               "instructions", (json_int_t)0, "time_ms", (json_int_t)0, "build_status",
                               worker_build_status_name(mod.status));
        if (result)
            report_and_finish(L, task, &ls, result);
        else
            fail_build(L, &ls, &mod);
    } else if (mod.status != WORKER_BUILD_OK) {
        OL_WARN("task %lld: %s: %s", ls.task_id, worker_build_status_name(mod.status), mod.message);
        fail_build(L, &ls, &mod);
    } else if (kind && strcmp(kind, "compile") == 0) {
        json_t *result = json_pack("{s:s,s:I,s:s,s:I,s:b}", "module_hash", mod.sha256_hex, "size", (json_int_t)mod.wasm_len,
                                   "builder", mod.kind, "build_ms", (json_int_t)mod.build_ms, "cached", cached);
        finish(L, &ls, result, NULL, false);
    } else if (g_executor) {
        json_t *result = NULL;
        char error[WK_TASK_ERROR_MAX + 1] = "";
        bool retry = false;
        if (g_executor(L, task, &mod, cached, &result, error, sizeof error, &retry) == 0 && result)
            report_and_finish(L, task, &ls, result);
        else
            finish(L, &ls, NULL, *error ? error : "execution failed", retry);
    } else {
        finish(L, &ls, NULL, "this worker cannot execute (no executor); released", true);
    }
    worker_build_result_free(&mod);
out:
    pthread_mutex_lock(&ls.mu);
    ls.done = true;
    pthread_cond_signal(&ls.cv);
    pthread_mutex_unlock(&ls.mu);
    if (hb)
        pthread_join(ls.hb, NULL);
    pthread_cond_destroy(&ls.cv);
    pthread_mutex_destroy(&ls.mu);
    OL_INFO("task %lld done", ls.task_id);
}

static void *slot_thread(void *p) {
    const wk_loop *L = p;
    while (!atomic_load(&g_stop)) {
        json_t *caps = json_array();
        if (L->compile)
            json_array_append_new(caps, json_string("compile"));
        if (L->execute && g_executor)
            json_array_append_new(caps, json_string("execute"));
        if (json_array_size(caps) == 0) {
            json_decref(caps);
            OL_ERROR("worker: no capability left (execution needs an executor); stopping");
            atomic_store(&g_stop, 1);
            break;
        }
        json_t *out = NULL;
        ol_err e;
        long wait_ms = (long)L->poll_timeout_s * 1000;
        long st = post_json(L, "/tasks/claim",
                            json_pack("{s:s,s:o,s:I}", "worker_id", L->worker_id, "capabilities", caps, "wait_ms", (json_int_t)wait_ms),
                            wait_ms + 15000, true, &out, &e);
        json_t *task = json_object_get(out, "task");
        if (st == 200 && json_is_object(task)) {
            if (atomic_load(&g_stop) >= 2) {
                lease ls = {.L = L};
                ls.task_id = (long long)json_integer_value(json_object_get(task, "task_id"));
                ls.attempt = (long long)json_integer_value(json_object_get(task, "attempt"));
                finish(L, &ls, NULL, "worker shutting down; task released", true);
            } else {
                run_task(L, task, (long long)json_integer_value(json_object_get(out, "lease_ms")));
            }
        } else if (st != 204 && !atomic_load(&g_stop)) {
            OL_WARN("worker: claim failed: %s", st ? e.msg : e.msg);
            usleep(WK_ERROR_BACKOFF_MS * 1000u);
        }
        json_decref(out);
    }
    return NULL;
}

int wk_loop_run(const wk_loop_settings *s) {
    wk_loop L = *s;
    char id[80];
    if (!L.worker_id || !*L.worker_id) {
        char host[48] = "host";
        gethostname(host, sizeof host - 1);
        for (char *c = host; *c; c++)
            if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '-'))
                *c = '-';
        snprintf(id, sizeof id, "worker-%.40s-%d", host, (int)getpid());
        L.worker_id = id;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (L.compile) {
        ol_err e;
        if (worker_sandbox_check(L.build, &e) != 0) {
            fprintf(stderr, "outlayer worker: %s\n", e.msg);
            return 1;
        }
    }
    atomic_store(&g_stop, 0);
    pthread_t th[64];
    bool joined[64] = {0};
    unsigned n = 0;
    for (; n < L.slots && n < 64; n++)
        if (pthread_create(&th[n], NULL, slot_thread, &L) != 0)
            break;
    if (n == 0) {
        fprintf(stderr, "outlayer worker: cannot start a task slot\n");
        return 1;
    }
    pthread_t mon;
    bool mon_on = L.monitor && L.chain && pthread_create(&mon, NULL, monitor_thread, &L) == 0;
    pthread_t keys;
    bool keys_on = L.key_check_ms && L.chain && pthread_create(&keys, NULL, key_thread, &L) == 0;
    OL_INFO("worker %s: %u slots on %s (compile %s, execute %s)", L.worker_id, n, L.api_base_url, L.compile ? "on" : "off",
            L.execute && g_executor ? "on" : "off");
    /* Signals: the first stops claiming, the second releases. A watcher thread exits with the slots. */
    for (;;) {
        struct timespec ts = {0, 200 * 1000 * 1000};
        int sig = sigtimedwait(&sigs, NULL, &ts);
        if (sig > 0) {
            int level = atomic_fetch_add(&g_stop, 1) + 1;
            if (level >= 2)
                wk_proc_abort = 1;
            OL_INFO("worker: signal %d: %s", sig, level == 1 ? "finishing running tasks (again to release them)" : "releasing tasks");
        }
        if (atomic_load(&g_stop)) {
            bool all = true;
            for (unsigned i = 0; i < n; i++) {
                if (!joined[i] && pthread_tryjoin_np(th[i], NULL) == 0)
                    joined[i] = true;
                if (!joined[i])
                    all = false;
            }
            if (all)
                break;
        }
    }
    if (mon_on)
        pthread_join(mon, NULL);
    if (keys_on)
        pthread_join(keys, NULL);
    OL_INFO("worker %s: stopped", L.worker_id);
    return 0;
}
