/* Nonce manager, multi-key signer and the re-sign loop, against tests/near/rpc_server.mjs (which
 * rejects a nonce not above the key's current one with NEAR's InvalidNonce error, like a node).
 * Usage: test_near_nonce NODE SERVER_SCRIPT */
#include "near/near.h"
#include "test.h"

#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;
static pid_t server_pid;
static char url[64];

static void start_server(const char *node, const char *script) {
    int out[2], in[2];
    ASSERT_EQ(pipe(out), 0);
    ASSERT_EQ(pipe(in), 0); /* the server exits when this pipe closes */
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    posix_spawn_file_actions_addclose(&fa, in[1]);
    char *argv[] = {(char *)node, (char *)script, NULL};
    ASSERT_EQ(posix_spawn(&server_pid, node, &fa, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    close(out[1]);
    close(in[0]);
    FILE *f = fdopen(out[0], "r");
    char line[128];
    if (!fgets(line, sizeof line, f)) T_FAIL("rpc_server.mjs printed nothing (node_modules missing? run npm ci)");
    int port = 0;
    ASSERT_EQ(sscanf(line, "PORT %d", &port), 1);
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    fclose(f);
}

static near_secret_key seed_key(uint8_t b) {
    uint8_t seed[32];
    for (int i = 0; i < 32; i++) seed[i] = (uint8_t)(b ? b : i);
    near_secret_key sk;
    near_public_key pk;
    ol_err err;
    ASSERT_EQ(near_key_from_seed(seed, &sk, &pk, &err), 0);
    return sk;
}

#define THREADS 8
#define PER_THREAD 5
static near_nonce_mgr *g_mgr;
static near_signer *g_signer;
static uint64_t g_nonces[THREADS * PER_THREAD];

static void *worker(void *arg) {
    int t = (int)(intptr_t)arg;
    for (int i = 0; i < PER_THREAD; i++) {
        char args[64];
        int n = snprintf(args, sizeof args, "{\"t\":%d,\"i\":%d}", t, i);
        json_t *r;
        near_send_info info;
        near_rpc_error d;
        ol_err err;
        if (near_send_call(g_mgr, g_signer, "app.test", "run", (const uint8_t *)args, (size_t)n, 30000000000000ull, 0,
                           NULL, &r, &info, &d, &err))
            T_FAIL("thread %d tx %d: %s", t, i, err.msg);
        near_outcome_kind kind;
        ASSERT_EQ(near_rpc_outcome(r, &kind, NULL, NULL, &d, &err), 0);
        ASSERT_EQ(kind, NEAR_OUTCOME_SUCCESS_VALUE);
        json_decref(r);
        g_nonces[t * PER_THREAD + i] = info.nonce;
    }
    return NULL;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc != 3) T_FAIL("usage: %s NODE SERVER_SCRIPT", argv[0]);
    start_server(argv[1], argv[2]);
    ol_err err;
    near_rpc_opts o = {.url = url, .timeout_ms = 5000, .backoff_ms = 20};
    near_rpc *rpc = near_rpc_new(&o, &err);
    ASSERT_TRUE(rpc != NULL);

    /* 1. nonces: first from view_access_key (alice's key is at 100), then local increments */
    near_nonce_mgr *m = near_nonce_mgr_new(rpc, &err);
    near_secret_key alice = seed_key(0);
    near_public_key apk;
    ASSERT_EQ(near_secret_key_public(&alice, &apk, &err), 0);
    uint64_t n1, n2;
    ASSERT_EQ(near_nonce_next(m, "alice.test", &apk, &n1, NULL, &err), 0);
    ASSERT_EQ(near_nonce_next(m, "alice.test", &apk, &n2, NULL, &err), 0);
    ASSERT_EQ_U64(n1, 101);
    ASSERT_EQ_U64(n2, 102);
    near_public_key unknown;
    ASSERT_EQ(near_public_key_parse("ed25519:11111111111111111111111111111111", &unknown, &err), 0);
    ASSERT_EQ(near_nonce_next(m, "alice.test", &unknown, &n1, NULL, &err), NEAR_ERPC_UNKNOWN_KEY);
    near_nonce_mgr_free(m);

    /* 2. 8 threads x 5 transactions through one key: all succeed, no nonce is used twice */
    g_mgr = near_nonce_mgr_new(rpc, &err);
    g_signer = near_signer_new("alice.test", &alice, 1, &err);
    ASSERT_TRUE(g_signer != NULL);
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++) ASSERT_EQ(pthread_create(&th[t], NULL, worker, (void *)(intptr_t)t), 0);
    for (int t = 0; t < THREADS; t++) pthread_join(th[t], NULL);
    qsort(g_nonces, THREADS * PER_THREAD, sizeof g_nonces[0], cmp_u64);
    for (int i = 1; i < THREADS * PER_THREAD; i++) ASSERT_TRUE(g_nonces[i] != g_nonces[i - 1]);
    printf("test_nonce: %d concurrent transactions, nonces %llu..%llu\n", THREADS * PER_THREAD,
           (unsigned long long)g_nonces[0], (unsigned long long)g_nonces[THREADS * PER_THREAD - 1]);

    /* 3. another process used the key meanwhile: our cache is stale, InvalidNonce -> re-sign once */
    near_nonce_mgr *other = near_nonce_mgr_new(rpc, &err);
    json_t *r;
    near_send_info info;
    near_rpc_error d;
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ(near_send_call(other, g_signer, "app.test", "other", NULL, 0, 1, 0, NULL, &r, &info, &d, &err), 0);
        json_decref(r);
    }
    uint64_t top = info.nonce;
    ASSERT_EQ(near_send_call(g_mgr, g_signer, "app.test", "stale", NULL, 0, 1, 0, NULL, &r, &info, &d, &err), 0);
    json_decref(r);
    ASSERT_EQ(info.resigns, 1);
    ASSERT_EQ_U64(info.nonce, top + 1);
    near_nonce_mgr_free(other);
    near_signer_free(g_signer);
    near_nonce_mgr_free(g_mgr);

    /* 4. two keys in rotation */
    near_secret_key keys[2] = {seed_key(7), seed_key(9)};
    near_signer *rot = near_signer_new("rot.test", keys, 2, &err);
    m = near_nonce_mgr_new(rpc, &err);
    size_t used[4];
    for (int i = 0; i < 4; i++) {
        ASSERT_EQ(near_send_call(m, rot, "app.test", "run", NULL, 0, 1, 0, "NONE", &r, &info, &d, &err), 0);
        json_decref(r);
        used[i] = info.key_index;
        ASSERT_EQ_U64(info.nonce, (uint64_t)(i / 2 + 1));
    }
    ASSERT_EQ(used[0], 0);
    ASSERT_EQ(used[1], 1);
    ASSERT_EQ(used[2], 0);
    ASSERT_EQ(used[3], 1);
    near_signer_free(rot);
    near_nonce_mgr_free(m);

    /* 5. errors that are not nonce problems are returned at once */
    g_signer = near_signer_new("alice.test", &alice, 1, &err);
    m = near_nonce_mgr_new(rpc, &err);
    ASSERT_EQ(near_send_call(m, g_signer, "Bad.Receiver", "x", NULL, 0, 1, 0, NULL, &r, &info, &d, &err), NEAR_EINVAL);
    ASSERT_CONTAINS(err.msg, "receiver_id");
    ASSERT_TRUE(near_signer_new("alice.test", keys, 0, &err) == NULL);
    ASSERT_CONTAINS(err.msg, "NEAR_SIGNER_MAX_KEYS");
    near_signer_free(g_signer);
    near_nonce_mgr_free(m);
    near_rpc_free(rpc);
    kill(server_pid, SIGTERM);
    waitpid(server_pid, NULL, 0);
    puts("test_nonce: ok");
    return 0;
}
