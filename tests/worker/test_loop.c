/* The task loop against a real outlayer-coordinator (SQLite) and real outlayer-worker processes on
 * 127.0.0.1: compile tasks built from local git repositories and put in the coordinator's cache; a
 * second task for the same commit served from the cache; a user's compile error failing the task
 * without retry; several tasks over two slots; SIGTERM finishing the running task and exiting; a
 * second SIGTERM releasing a running task's lease back to the queue. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../coordinator/harness.h"
#include "test.h"

#define ADMIN "test-admin-token-0123456789"

static int port;
static char tok[80];

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...) {
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    if (system(cmd) != 0)
        T_FAIL("command failed: %s", cmd);
}

/* A repository with a Makefile whose recipe is given; returns URL and commit. */
static void make_repo(const char *name, const char *recipe, char *url, size_t ucap, char *commit) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s/%s", h_tmpdir(), name);
    sh("rm -rf '%s' && mkdir -p '%s' && git -C '%s' init -q", dir, dir, dir);
    char p[600];
    snprintf(p, sizeof p, "%s/main.c", dir);
    FILE *f = fopen(p, "w");
    fputs("#include <stdio.h>\nint main(void) { puts(\"hi\"); return 0; }\n", f);
    fclose(f);
    snprintf(p, sizeof p, "%s/Makefile", dir);
    f = fopen(p, "w");
    fprintf(f, "app.wasm: main.c\n%s\n\t$(CC) -O2 -o $@ main.c\n", recipe);
    fclose(f);
    sh("cd '%s' && git add -A && git -c user.name=t -c user.email=t@t commit -qm init", dir);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "git -C '%s' rev-parse HEAD", dir);
    FILE *pp = popen(cmd, "r");
    ASSERT_TRUE(pp && fgets(commit, 65, pp));
    pclose(pp);
    commit[strcspn(commit, "\n")] = 0;
    snprintf(url, ucap, "file://%s", dir);
}

static long long create_compile(long long request_id, const char *url, const char *commit, bool force) {
    char body[2048];
    snprintf(body, sizeof body,
             "{\"request_id\":%lld,\"data_id\":\"d%lld\",\"kind\":\"compile\",\"payload\":{\"source\":{\"GitHub\":"
             "{\"repo\":\"%s\",\"commit\":\"%s\"}},\"params\":{\"force_rebuild\":%s}}}",
             request_id, request_id, url, commit, force ? "true" : "false");
    h_resp r = h_post(port, "/tasks", tok, body);
    if (r.status != 201)
        T_FAIL("create: %ld %s", r.status, r.body);
    long long id = h_json_int(r.body, "task_id");
    h_resp_free(&r);
    return id;
}

/* Waits until the task's state is one of want ("done", "failed", ...); returns its JSON (static). */
static const char *wait_state(long long id, const char *want, int timeout_ms) {
    static char body[65536];
    long long until = now_ms() + timeout_ms;
    char path[64], st[32] = "";
    snprintf(path, sizeof path, "/public/jobs/%lld", id);
    while (now_ms() < until) {
        h_resp r = h_get(port, path, NULL);
        ASSERT_EQ(r.status, 200);
        h_json_str(r.body, "state", st, sizeof st);
        snprintf(body, sizeof body, "%s", r.body);
        h_resp_free(&r);
        if (strstr(want, st))
            return body;
        usleep(50000);
    }
    T_FAIL("task %lld did not reach %s (state %s): %s", id, want, st, body);
}

static pid_t start_worker(const char *name, int slots) {
    const char *bin = getenv("OUTLAYER_WORKER_BIN");
    ASSERT_TRUE(bin != NULL);
    pid_t p = fork();
    if (p == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        char base[64], t[120], id[80], sl[32];
        snprintf(base, sizeof base, "API_BASE_URL=http://127.0.0.1:%d", port);
        snprintf(t, sizeof t, "API_AUTH_TOKEN=%s", tok);
        snprintf(id, sizeof id, "WORKER_ID=%s", name);
        snprintf(sl, sizeof sl, "WORKER_SLOTS=%d", slots);
        putenv(base);
        putenv(t);
        putenv(id);
        putenv(sl);
        putenv((char *)"ALLOWED_SOURCE_SCHEMES=file");
        putenv((char *)"POLL_TIMEOUT_SECONDS=2");
        putenv((char *)"HEARTBEAT_SECONDS=1");
        putenv((char *)"COMPILE_TIMEOUT_SECONDS=30");
        putenv((char *)"LOG_LEVEL=warn");
        putenv((char *)"OUTLAYER_ENV_FILE=/dev/null");
        char kf[600];
        snprintf(kf, sizeof kf, "WORKER_KEY_FILE=%s/keys/%s.json", h_tmpdir(), name);
        putenv(kf);
        execl(bin, "outlayer-worker", (char *)NULL);
        _exit(127);
    }
    return p;
}

static int wait_exit(pid_t p, int timeout_ms) {
    long long until = now_ms() + timeout_ms;
    int st;
    while (now_ms() < until) {
        if (waitpid(p, &st, WNOHANG) == p)
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        usleep(20000);
    }
    kill(p, SIGKILL);
    waitpid(p, &st, 0);
    T_FAIL("worker did not exit within %d ms", timeout_ms);
}

int main(void) {
    h_init("worker-loop");
    chmod(h_tmpdir(), 0755); /* the build user clones from here */
    char data_dir[400], dd[450];
    snprintf(data_dir, sizeof data_dir, "%s/data", h_tmpdir());
    snprintf(dd, sizeof dd, "DATA_DIR=%s", data_dir);
    const char *env[] = {dd, "ADMIN_BEARER_TOKEN=" ADMIN, "TASK_LEASE_MS=3000", NULL};
    const char *create_args[] = {"token", "create", "--name", "w1", NULL};
    char out[256];
    ASSERT_EQ(h_run_coord_cli(create_args, env, out, sizeof out), 0);
    memcpy(tok, out, 64);
    tok[64] = 0;
    int idx = h_start_coord(data_dir, env);
    port = h_coord_port(idx);

    char url[600], commit[65], bad_url[600], bad_commit[65], slow_url[600], slow_commit[65];
    make_repo("ok", "\t@true", url, sizeof url, commit);
    make_repo("bad", "\t@echo 'main.c:1: error: nope' && exit 1", bad_url, sizeof bad_url, bad_commit);
    make_repo("slow", "\tsleep 3", slow_url, sizeof slow_url, slow_commit);

    pid_t w = start_worker("wk-a", 2);
    /* 1. a compile task: built, uploaded, indexed */
    long long t1 = create_compile(1, url, commit, false);
    const char *j = wait_state(t1, "done", 30000);
    char hash[80];
    h_json_str(j, "result.module_hash", hash, sizeof hash);
    ASSERT_EQ(strlen(hash), 64);
    ASSERT_CONTAINS(j, "\"cached\":false");
    char path[128];
    snprintf(path, sizeof path, "/public/modules/%s", hash);
    h_resp r = h_get(port, path, NULL);
    ASSERT_EQ(r.status, 200);
    h_resp_free(&r);

    /* 2. the same commit again: from the cache, no build */
    long long t2 = create_compile(2, url, commit, false);
    j = wait_state(t2, "done", 30000);
    ASSERT_CONTAINS(j, "\"cached\":true");
    ASSERT_CONTAINS(j, hash);
    /* force_rebuild builds again, to the same bytes */
    long long t3 = create_compile(3, url, commit, true);
    j = wait_state(t3, "done", 30000);
    ASSERT_CONTAINS(j, "\"cached\":false");
    ASSERT_CONTAINS(j, hash);

    /* 3. the user's compile error: failed, not retried, message and log tail kept */
    long long t4 = create_compile(4, bad_url, bad_commit, false);
    j = wait_state(t4, "failed", 30000);
    ASSERT_CONTAINS(j, "compile error");
    ASSERT_CONTAINS(j, "nope");
    ASSERT_EQ(h_json_int(j, "attempt"), 1);

#ifdef OUTLAYER_WORKER_EXEC
    /* 3b. execute tasks: run on the module (from the cache), the response and hashes come back */
    {
        char body[2048];
        snprintf(body, sizeof body,
                 "{\"request_id\":30,\"data_id\":\"d30\",\"kind\":\"execute\",\"payload\":{\"source\":{\"GitHub\":"
                 "{\"repo\":\"%s\",\"commit\":\"%s\"}},\"input_data\":\"\",\"sender_id\":\"alice.near\"}}",
                 url, commit);
        r = h_post(port, "/tasks", tok, body);
        ASSERT_EQ(r.status, 201);
        long long te = h_json_int(r.body, "task_id");
        h_resp_free(&r);
        j = wait_state(te, "done", 30000);
        ASSERT_CONTAINS(j, "\"output\":{\"Text\":\"hi\\n\"}");
        ASSERT_CONTAINS(j, "\"success\":true");
        ASSERT_CONTAINS(j, "cached module");
        ASSERT_CONTAINS(j, "output_hash");
        ASSERT_CONTAINS(j, "seed_signature");
    }
#endif

    /* 4. several tasks over two slots */
    long long ids[4];
    long long t0 = now_ms();
    for (int i = 0; i < 4; i++)
        ids[i] = create_compile(10 + i, slow_url, slow_commit, true);
    for (int i = 0; i < 4; i++)
        wait_state(ids[i], "done", 60000);
    long long took = now_ms() - t0;
    fprintf(stderr, "4 slow builds (3 s each) on 2 slots: %lld ms\n", took);
    ASSERT_TRUE(took < 11000); /* serial would be 12+ s */

    /* 5. SIGTERM while a task runs: it is finished, then the worker exits 0 */
    long long t5 = create_compile(20, slow_url, slow_commit, true);
    wait_state(t5, "leased", 10000);
    usleep(500000); /* the claim's answer has reached the worker */
    kill(w, SIGTERM);
    ASSERT_EQ(wait_exit(w, 20000), 0);
    wait_state(t5, "done", 1000);

    /* 6. two signals: the running build is killed and its lease released back to the queue */
    w = start_worker("wk-b", 1);
    long long t6 = create_compile(21, slow_url, slow_commit, true);
    wait_state(t6, "leased", 10000);
    usleep(300000);
    kill(w, SIGTERM);
    usleep(100000);
    kill(w, SIGTERM);
    ASSERT_EQ(wait_exit(w, 5000), 0);
    j = wait_state(t6, "queued", 2000);
    ASSERT_CONTAINS(j, "released");

    /* ... and another worker picks it up */
    w = start_worker("wk-c", 1);
    wait_state(t6, "done", 30000);
    kill(w, SIGTERM);
    ASSERT_EQ(wait_exit(w, 10000), 0);
    h_cleanup();
    printf("ok\n");
    return 0;
}
