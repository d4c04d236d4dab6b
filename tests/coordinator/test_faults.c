/* Fault tests of issue 7, against real coordinator processes:
 *  vanish  — a worker claims and disappears: the lease expires, another worker gets the task (attempt
 *            2) and finishes it; the vanished worker's late completion is refused.
 *  sigkill — the coordinator is killed with SIGKILL while workers run, and restarted on the same store:
 *            every task ends done, none is completed by two leases.
 *  twocoord (PostgreSQL) — two coordinators on one database, eight concurrent workers, 1,000 tasks:
 *            each task claimed once and completed exactly once.
 * Usage: test_coordinator_faults sqlite|pg */
#include "harness.h"
#include "test.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char tok[80];
static atomic_int g_port[2];
static atomic_bool g_stop;

static long long mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void make_token(const char *const *env) {
    const char *args[] = {"token", "create", "--name", "faults", NULL};
    char out[256];
    ASSERT_EQ(h_run_coord_cli(args, env, out, sizeof out), 0);
    memcpy(tok, out, 64);
    tok[64] = 0;
}

static long long create_task(int port, long long rid) {
    char body[160];
    snprintf(body, sizeof body, "{\"request_id\":%lld,\"data_id\":\"f%lld\"}", rid, rid);
    for (int tries = 0; tries < 200; tries++) {
        h_resp r = h_post(port, "/tasks", tok, body);
        if (r.status == 201 || r.status == 200) {
            long long id = h_json_int(r.body, "task_id");
            h_resp_free(&r);
            return id;
        }
        h_resp_free(&r);
        usleep(20000);
    }
    T_FAIL("could not create task %lld", rid);
}

static void test_vanish(const char *data_dir, const char *const *env_extra) {
    const char *env[8] = {"TASK_LEASE_MS=600", NULL};
    for (int i = 0; env_extra[i]; i++) env[1 + i] = env_extra[i];
    int idx = h_start_coord(data_dir, env);
    int port = h_coord_port(idx);
    long long id = create_task(port, 1);
    h_resp a = h_post(port, "/tasks/claim", tok, "{\"worker_id\":\"vanishing\",\"capabilities\":[\"execute\"]}");
    ASSERT_EQ(a.status, 200);
    ASSERT_EQ(h_json_int(a.body, "task.task_id"), id);
    h_resp_free(&a);
    /* ... and the worker vanishes. Another one waits for work. */
    long long t0 = mono_ms();
    h_resp b = h_post(port, "/tasks/claim", tok,
                      "{\"worker_id\":\"steady\",\"capabilities\":[\"execute\"],\"wait_ms\":10000}");
    long long took = mono_ms() - t0;
    ASSERT_EQ(b.status, 200);
    ASSERT_EQ(h_json_int(b.body, "task.task_id"), id);
    ASSERT_EQ(h_json_int(b.body, "task.attempt"), 2);
    h_resp_free(&b);
    fprintf(stderr, "vanish: re-leased to another worker %lld ms after the claim (lease 600 ms)\n", took);
    ASSERT_TRUE(took >= 500 && took < 3000);
    char path[64];
    snprintf(path, sizeof path, "/tasks/%lld/complete", id);
    h_resp c = h_post(port, path, tok, "{\"worker_id\":\"steady\",\"attempt\":2,\"result\":{\"by\":\"steady\"}}");
    ASSERT_EQ(c.status, 200);
    h_resp_free(&c);
    /* the vanished worker comes back late: refused, result unchanged */
    c = h_post(port, path, tok, "{\"worker_id\":\"vanishing\",\"attempt\":1,\"result\":{\"by\":\"vanishing\"}}");
    ASSERT_EQ(c.status, 409);
    h_resp_free(&c);
    snprintf(path, sizeof path, "/public/jobs/%lld", id);
    c = h_get(port, path, NULL);
    ASSERT_CONTAINS(c.body, "\"by\":\"steady\"");
    ASSERT_CONTAINS(c.body, "\"worker_id\":\"steady\"");
    h_resp_free(&c);
    h_kill_coord(idx, SIGTERM);
}

/* ---- workers that survive coordinator restarts ---- */

#define MAX_TASKS 1100
typedef struct ledger {
    pthread_mutex_t mu;
    int completions[MAX_TASKS + 1]; /* distinct (worker, attempt) that got 200 for a completion */
    char who[MAX_TASKS + 1][48];
    int claims[MAX_TASKS + 1];
    atomic_int done;
} ledger;
static ledger L;

typedef struct worker_arg {
    int n;
    int coord; /* which g_port to use */
    long long first_id;
} worker_arg;

static void *worker_main(void *p) {
    worker_arg *w = p;
    char wid[32], body[256], path[96];
    snprintf(wid, sizeof wid, "w%d", w->n);
    snprintf(body, sizeof body, "{\"worker_id\":\"%s\",\"capabilities\":[\"execute\"],\"wait_ms\":300}", wid);
    while (!atomic_load(&g_stop)) {
        h_resp r = h_post(atomic_load(&g_port[w->coord]), "/tasks/claim", tok, body);
        if (r.status != 200) {
            h_resp_free(&r);
            if (r.status == 0) usleep(50000); /* coordinator down: retry */
            continue;
        }
        long long id = h_json_int(r.body, "task.task_id"), att = h_json_int(r.body, "task.attempt");
        h_resp_free(&r);
        long long slot = id - w->first_id + 1;
        ASSERT_TRUE(slot >= 1 && slot <= MAX_TASKS);
        pthread_mutex_lock(&L.mu);
        L.claims[slot]++;
        pthread_mutex_unlock(&L.mu);
        snprintf(path, sizeof path, "/tasks/%lld/complete", id);
        char cb[256];
        snprintf(cb, sizeof cb, "{\"worker_id\":\"%s\",\"attempt\":%lld,\"result\":{\"w\":\"%s\"}}", wid, att, wid);
        for (;;) { /* retry through restarts until the coordinator answers */
            h_resp c = h_post(atomic_load(&g_port[w->coord]), path, tok, cb);
            long st = c.status;
            h_resp_free(&c);
            if (st == 200) {
                pthread_mutex_lock(&L.mu);
                char me[48];
                snprintf(me, sizeof me, "%s#%lld", wid, att);
                if (strcmp(L.who[slot], me) != 0) { /* count each lease once (a retry may see already_completed) */
                    L.completions[slot]++;
                    snprintf(L.who[slot], sizeof L.who[slot], "%s", me);
                    atomic_fetch_add(&L.done, 1);
                }
                pthread_mutex_unlock(&L.mu);
                break;
            }
            if (st == 409) break; /* lease lost: someone else has it */
            if (st != 0 && st != 503) T_FAIL("complete: unexpected status %ld", st);
            usleep(50000);
            if (atomic_load(&g_stop)) break;
        }
    }
    return NULL;
}

static void run_workers(int nworkers, int ncoords, long long first_id, int ntasks, int kill_at, int *coord_idx,
                        const char *data_dir, const char *const *env, long long timeout_ms) {
    pthread_t th[16];
    worker_arg args[16];
    atomic_store(&g_stop, false);
    for (int i = 0; i < nworkers; i++) {
        args[i] = (worker_arg){i, i % ncoords, first_id};
        pthread_create(&th[i], NULL, worker_main, &args[i]);
    }
    long long t0 = mono_ms();
    bool killed = false;
    while (atomic_load(&L.done) < ntasks && mono_ms() - t0 < timeout_ms) {
        if (kill_at > 0 && !killed && atomic_load(&L.done) >= kill_at) {
            h_kill_coord(*coord_idx, SIGKILL);
            fprintf(stderr, "sigkill: coordinator killed after %d completions\n", atomic_load(&L.done));
            usleep(200000);
            *coord_idx = h_start_coord(data_dir, env);
            atomic_store(&g_port[0], h_coord_port(*coord_idx));
            killed = true;
        }
        usleep(10000);
    }
    long long took = mono_ms() - t0;
    atomic_store(&g_stop, true);
    for (int i = 0; i < nworkers; i++) pthread_join(th[i], NULL);
    fprintf(stderr, "%d workers, %d coordinator(s): %d tasks completed in %lld ms (%.0f tasks/s)\n", nworkers, ncoords,
            atomic_load(&L.done), took, atomic_load(&L.done) * 1000.0 / (double)(took ? took : 1));
    if (kill_at > 0) ASSERT_TRUE(killed);
}

static long long done_before;

static long long done_count(int port) {
    h_resp r = h_get(port, "/public/stats", NULL);
    long long n = h_json_int(r.body, "tasks_by_state.done");
    h_resp_free(&r);
    return n;
}

static void check_exactly_once(int port, int ntasks, bool single_claim) {
    for (int i = 1; i <= ntasks; i++) {
        if (L.completions[i] != 1) T_FAIL("task slot %d completed %d times", i, L.completions[i]);
        if (single_claim && L.claims[i] != 1) T_FAIL("task slot %d claimed %d times", i, L.claims[i]);
    }
    h_resp r = h_get(port, "/public/stats", NULL);
    ASSERT_EQ(h_json_int(r.body, "tasks_by_state.done"), done_before + ntasks);
    ASSERT_EQ(h_json_int(r.body, "tasks_by_state.queued"), 0);
    ASSERT_EQ(h_json_int(r.body, "tasks_by_state.leased"), 0);
    h_resp_free(&r);
}

static void test_sigkill(const char *data_dir, const char *const *env_extra) {
    memset(L.completions, 0, sizeof L.completions);
    memset(L.claims, 0, sizeof L.claims);
    memset(L.who, 0, sizeof L.who);
    atomic_store(&L.done, 0);
    const char *env[8] = {"TASK_LEASE_MS=1500", NULL};
    for (int i = 0; env_extra[i]; i++) env[1 + i] = env_extra[i];
    int idx = h_start_coord(data_dir, env);
    int port = h_coord_port(idx);
    done_before = done_count(port);
    const int n = 300;
    long long first = 0;
    for (int i = 0; i < n; i++) {
        long long id = create_task(port, 1000 + i);
        if (i == 0) first = id;
        ASSERT_EQ(id, first + i);
    }
    atomic_store(&g_port[0], port);
    run_workers(4, 1, first, n, 100, &idx, data_dir, env, 60000);
    check_exactly_once(h_coord_port(idx), n, false);
    h_kill_coord(idx, SIGTERM);
}

static void test_two_coordinators(const char *data_dir, const char *const *env_extra) {
    memset(L.completions, 0, sizeof L.completions);
    memset(L.claims, 0, sizeof L.claims);
    memset(L.who, 0, sizeof L.who);
    atomic_store(&L.done, 0);
    const char *env[8] = {"TASK_LEASE_MS=30000", NULL};
    for (int i = 0; env_extra[i]; i++) env[1 + i] = env_extra[i];
    char dir2[500];
    snprintf(dir2, sizeof dir2, "%s-b", data_dir);
    int a = h_start_coord(data_dir, env), b = h_start_coord(dir2, env);
    atomic_store(&g_port[0], h_coord_port(a));
    atomic_store(&g_port[1], h_coord_port(b));
    done_before = done_count(h_coord_port(a));
    const int n = 1000;
    long long first = 0;
    for (int i = 0; i < n; i++) {
        long long id = create_task(h_coord_port(i % 2 ? b : a), 100000 + i);
        if (i == 0) first = id;
        ASSERT_EQ(id, first + i);
    }
    run_workers(8, 2, first, n, 0, &a, data_dir, env, 90000);
    check_exactly_once(h_coord_port(a), n, true);
    h_kill_coord(a, SIGTERM);
    h_kill_coord(b, SIGTERM);
}

/* The database goes away and comes back: requests meanwhile get 503 store_unavailable (nothing
 * half-done), and the coordinator serves again once PostgreSQL is back, without a restart. */
static void test_pg_restart(const char *data_dir, const char *const *env_extra) {
    int idx = h_start_coord(data_dir, env_extra);
    int port = h_coord_port(idx);
    long long id = create_task(port, 900000);
    h_pg_down();
    h_resp r = h_get(port, "/public/stats", NULL);
    ASSERT_EQ(r.status, 503);
    ASSERT_CONTAINS(r.body, "store_unavailable");
    h_resp_free(&r);
    r = h_get(port, "/health", NULL);
    ASSERT_EQ(r.status, 503);
    h_resp_free(&r);
    h_pg_up();
    /* each pooled connection notices the restart once and reconnects */
    long st = 0;
    long long att = 0;
    for (int i = 0; i < 40 && st != 200; i++) {
        r = h_post(port, "/tasks/claim", tok, "{\"worker_id\":\"after\",\"capabilities\":[\"execute\"]}");
        st = r.status;
        if (st == 200) {
            ASSERT_EQ(h_json_int(r.body, "task.task_id"), id);
            att = h_json_int(r.body, "task.attempt");
        }
        else ASSERT_TRUE(st == 503 || st == 401 || st == 204);
        h_resp_free(&r);
        if (st != 200) usleep(100000);
    }
    ASSERT_EQ(st, 200);
    char path[64], body[128];
    snprintf(path, sizeof path, "/tasks/%lld/complete", id);
    snprintf(body, sizeof body, "{\"worker_id\":\"after\",\"attempt\":%lld,\"result\":1}", att);
    r = h_post(port, path, tok, body);
    ASSERT_EQ(r.status, 200);
    h_resp_free(&r);
    h_kill_coord(idx, SIGTERM);
}

int main(int argc, char **argv) {
    if (argc < 2) T_FAIL("usage: %s sqlite|pg", argv[0]);
    bool pg = strcmp(argv[1], "pg") == 0;
    h_init("faults");
    pthread_mutex_init(&L.mu, NULL);
    char data_dir[400], dburl[300], rurl[200];
    snprintf(data_dir, sizeof data_dir, "%s/data", h_tmpdir());
    const char *extra[4] = {NULL};
    if (pg) {
        snprintf(dburl, sizeof dburl, "DATABASE_URL=%s", h_start_pg());
        extra[0] = dburl;
    }
    char dd[450];
    snprintf(dd, sizeof dd, "DATA_DIR=%s", data_dir);
    const char *cli_env[] = {dd, extra[0], NULL};
    make_token(cli_env);
    test_vanish(data_dir, extra);
    test_sigkill(data_dir, extra);
    if (pg) {
        test_pg_restart(data_dir, extra);
        snprintf(rurl, sizeof rurl, "REDIS_URL=%s", h_start_redis());
        extra[1] = rurl;
        test_two_coordinators(data_dir, extra);
    }
    printf("ok (%s)\n", argv[1]);
    return 0;
}
