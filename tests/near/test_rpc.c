/* JSON-RPC client against a real HTTP server on 127.0.0.1 (tests/near/rpc_server.mjs, started here
 * with node) answering with NEAR's response and error shapes: every typed method, every error class,
 * retries of transient failures only, timeouts, and transactions signed by us and decoded by the
 * server with near-api-js.
 * Usage: test_near_rpc NODE SERVER_SCRIPT */
#include "near/near.h"
#include "test.h"

#include <jansson.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static pid_t server_pid;
static char url[64];
static int server_stdin = -1;

static void start_server(const char *node, const char *script) {
    int fds[2], in[2];
    ASSERT_EQ(pipe(fds), 0);
    ASSERT_EQ(pipe(in), 0); /* the server exits when this pipe closes, i.e. when we exit or crash */
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    posix_spawn_file_actions_addclose(&fa, in[1]);
    char *argv[] = {(char *)node, (char *)script, NULL};
    ASSERT_EQ(posix_spawn(&server_pid, node, &fa, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    close(in[0]);
    server_stdin = in[1];
    FILE *f = fdopen(fds[0], "r");
    char line[128];
    if (!fgets(line, sizeof line, f)) T_FAIL("rpc_server.mjs printed nothing (node_modules missing? run npm ci)");
    int port = 0;
    ASSERT_EQ(sscanf(line, "PORT %d", &port), 1);
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    fclose(f); /* the server keeps running; it only wrote one line */
}

static void stop_server(void) {
    if (server_pid > 0) {
        kill(server_pid, SIGTERM);
        waitpid(server_pid, NULL, 0);
        server_pid = 0;
    }
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static near_rpc *client(long timeout_ms, int retries) {
    ol_err err;
    near_rpc_opts o = {.url = url, .timeout_ms = timeout_ms, .max_retries = retries, .backoff_ms = 50};
    near_rpc *r = near_rpc_new(&o, &err);
    if (!r) T_FAIL("near_rpc_new: %s", err.msg);
    return r;
}

static long count_of(near_rpc *rpc, const char *key) {
    json_t *c;
    ol_err err;
    if (near_rpc_call(rpc, "test_counts", NULL, &c, NULL, &err)) T_FAIL("test_counts: %s", err.msg);
    long n = (long)json_integer_value(json_object_get(c, key));
    json_decref(c);
    return n;
}

static void test_reads(near_rpc *rpc) {
    json_t *r;
    near_rpc_error d;
    ol_err err;
    ASSERT_EQ(near_rpc_status(rpc, &r, &d, &err), 0);
    ASSERT_STREQ(json_string_value(json_object_get(r, "chain_id")), "test");
    json_decref(r);
    uint8_t h[32];
    uint64_t height = 0;
    ASSERT_EQ(near_rpc_block_hash(rpc, NEAR_FINAL, h, &height, &d, &err), 0);
    ASSERT_EQ(height, 1000);
    ASSERT_EQ(near_rpc_block(rpc, (near_block_ref){.height = 1000}, &r, &d, &err), 0);
    const char *chunk = json_string_value(json_object_get(json_array_get(json_object_get(r, "chunks"), 0), "chunk_hash"));
    ASSERT_TRUE(chunk != NULL);
    json_t *c;
    ASSERT_EQ(near_rpc_chunk(rpc, chunk, NEAR_FINAL, 0, &c, &d, &err), 0);
    ASSERT_EQ(json_integer_value(json_object_get(json_object_get(c, "header"), "height_included")), 1000);
    json_decref(c);
    json_decref(r);
    ASSERT_EQ(near_rpc_chunk(rpc, "11111111111111111111111111111111", NEAR_FINAL, 0, &c, &d, &err),
              NEAR_ERPC_UNKNOWN_BLOCK);
    ASSERT_STREQ(d.cause, "UNKNOWN_CHUNK");
    ASSERT_EQ(near_rpc_chunk(rpc, NULL, (near_block_ref){.height = 1000}, 0, &c, &d, &err), 0);
    json_decref(c);
    ASSERT_EQ(near_rpc_block(rpc, (near_block_ref){.height = 999}, &r, &d, &err), NEAR_ERPC_UNKNOWN_BLOCK);
    ASSERT_CONTAINS(err.msg, "UNKNOWN_BLOCK");
    ASSERT_EQ(d.attempts, 1);
    near_u128 price = 0;
    ASSERT_EQ(near_rpc_gas_price(rpc, NULL, &price, &d, &err), 0);
    ASSERT_TRUE(price == 100000000);
    ASSERT_EQ(near_rpc_protocol_config(rpc, NEAR_FINAL, &r, &d, &err), 0);
    ASSERT_STREQ(json_string_value(json_object_get(json_object_get(r, "runtime_config"), "storage_amount_per_byte")),
                 "10000000000000000000");
    json_decref(r);

    /* accounts and keys */
    ASSERT_EQ(near_rpc_view_account(rpc, "alice.test", NEAR_OPTIMISTIC, &r, &d, &err), 0);
    ASSERT_STREQ(json_string_value(json_object_get(r, "amount")), "1000000000000000000000000");
    json_decref(r);
    ASSERT_EQ(near_rpc_view_account(rpc, "missing.test", NEAR_FINAL, &r, &d, &err), NEAR_ERPC_UNKNOWN_ACCOUNT);
    ASSERT_CONTAINS(err.msg, "UNKNOWN_ACCOUNT: account missing.test does not exist while viewing");
    ASSERT_STREQ(d.name, "HANDLER_ERROR");
    ASSERT_EQ(near_rpc_view_account(rpc, "legacy.test", NEAR_FINAL, &r, &d, &err), NEAR_ERPC_UNKNOWN_ACCOUNT);
    ASSERT_EQ(near_rpc_view_account(rpc, "Bad", NEAR_FINAL, &r, &d, &err), NEAR_EINVAL);
    near_public_key pk, other;
    ASSERT_EQ(near_public_key_parse("ed25519:FAe4sisG95oZ42w7buUn5qEE4TAnfTTFPiguZUHmhiF", &pk, &err), 0);
    ASSERT_EQ(near_rpc_view_access_key(rpc, "alice.test", &pk, NEAR_FINAL, &r, &d, &err), 0);
    ASSERT_TRUE(json_integer_value(json_object_get(r, "nonce")) >= 100);
    json_decref(r);
    ASSERT_EQ(near_public_key_parse("ed25519:11111111111111111111111111111111", &other, &err), 0);
    ASSERT_EQ(near_rpc_view_access_key(rpc, "alice.test", &other, NEAR_FINAL, &r, &d, &err), NEAR_ERPC_UNKNOWN_KEY);
    ASSERT_CONTAINS(err.msg, "access key ed25519:11111111111111111111111111111111 does not exist while viewing");
    ASSERT_EQ(near_rpc_view_access_key_list(rpc, "alice.test", NEAR_FINAL, &r, &d, &err), 0);
    ASSERT_EQ(json_array_size(json_object_get(r, "keys")), 1);
    json_decref(r);

    /* contract views */
    uint8_t *out;
    size_t n;
    json_t *logs;
    ASSERT_EQ(near_rpc_call_function(rpc, "alice.test", "get", (const uint8_t *)"{\"a\":1}", 7, NEAR_OPTIMISTIC, &out,
                                     &n, &logs, &d, &err), 0);
    ASSERT_STREQ((char *)out, "{\"echo\":{\"a\":1}}");
    ASSERT_EQ(n, strlen("{\"echo\":{\"a\":1}}"));
    ASSERT_STREQ(json_string_value(json_array_get(logs, 0)), "log1");
    free(out);
    json_decref(logs);
    ASSERT_EQ(near_rpc_call_function(rpc, "panic.test", "get", NULL, 0, NEAR_FINAL, &out, &n, NULL, &d, &err),
              NEAR_ERPC_CONTRACT);
    ASSERT_STREQ(d.message, "boom: bad args");
    ASSERT_CONTAINS(err.msg, "boom: bad args");
    ASSERT_EQ(near_rpc_call_function(rpc, "alice.test", "nope", NULL, 0, NEAR_FINAL, &out, &n, NULL, &d, &err),
              NEAR_ERPC_CONTRACT);
    ASSERT_CONTAINS(err.msg, "MethodNotFound");
    ASSERT_EQ(near_rpc_view_state(rpc, "alice.test", (const uint8_t *)"k", 1, NEAR_FINAL, &r, &d, &err), 0);
    ASSERT_EQ(json_array_size(json_object_get(r, "values")), 1);
    json_decref(r);
    ASSERT_EQ(near_rpc_view_code(rpc, "alice.test", NEAR_FINAL, &r, &d, &err), 0);
    ASSERT_STREQ(json_string_value(json_object_get(r, "code_base64")), "AGFzbQEAAAA=");
    json_decref(r);
    ASSERT_EQ(near_rpc_view_code(rpc, "bob.test", NEAR_FINAL, &r, &d, &err), NEAR_ERPC_NO_CODE);
    ASSERT_CONTAINS(err.msg, "NO_CONTRACT_CODE");
    ASSERT_EQ(near_rpc_call(rpc, "no_such_method", NULL, &r, &d, &err), NEAR_ERPC_REQUEST);
    ASSERT_STREQ(d.cause, "METHOD_NOT_FOUND");
}

static void test_failures(void) {
    near_rpc *rpc = client(2000, 3);
    json_t *r;
    near_rpc_error d;
    ol_err err;
    /* two 503 (HTML body) then success: retried with backoff 50 + 100 ms */
    double t0 = now_ms();
    ASSERT_EQ(near_rpc_view_account(rpc, "flaky.test", NEAR_FINAL, &r, &d, &err), 0);
    double dt = now_ms() - t0;
    json_decref(r);
    ASSERT_EQ(d.attempts, 3);
    ASSERT_EQ(count_of(rpc, "query/flaky.test"), 3);
    ASSERT_TRUE(dt >= 150);
    /* HTTP 500 INTERNAL_ERROR: transient, 1 + 3 attempts, then a server error */
    ASSERT_EQ(near_rpc_view_account(rpc, "broken.test", NEAR_FINAL, &r, &d, &err), NEAR_ERPC_SERVER);
    ASSERT_EQ(d.attempts, 4);
    ASSERT_EQ(d.http_status, 500);
    ASSERT_EQ(count_of(rpc, "query/broken.test"), 4);
    ASSERT_CONTAINS(err.msg, "storage error");
    ASSERT_CONTAINS(err.msg, "after 4 attempts");
    /* 200 with a body that is not JSON: not retried */
    ASSERT_EQ(near_rpc_view_account(rpc, "garbage.test", NEAR_FINAL, &r, &d, &err), NEAR_ERPC_SERVER);
    ASSERT_EQ(d.attempts, 1);
    ASSERT_CONTAINS(err.msg, "not a JSON-RPC object");
    /* handler errors are not retried */
    ASSERT_EQ(near_rpc_view_account(rpc, "missing.test", NEAR_FINAL, &r, &d, &err), NEAR_ERPC_UNKNOWN_ACCOUNT);
    ASSERT_EQ(d.attempts, 1);
    /* TIMEOUT_ERROR with HTTP 408: retried, then a timeout */
    ASSERT_EQ(near_rpc_tx_status(rpc, "11111111111111111111111111111111", "timeout.test", NULL, false, &r, &d, &err),
              NEAR_ERPC_TIMEOUT);
    ASSERT_EQ(d.http_status, 408);
    ASSERT_EQ(d.attempts, 4);
    near_rpc_free(rpc);

    /* our own timeout: the server answers after 3 s, we give up after 300 ms, retried once */
    rpc = client(300, 1);
    t0 = now_ms();
    ASSERT_EQ(near_rpc_view_account(rpc, "slow.test", NEAR_FINAL, &r, &d, &err), NEAR_ERPC_TIMEOUT);
    dt = now_ms() - t0;
    ASSERT_EQ(d.attempts, 2);
    ASSERT_TRUE(dt >= 600 && dt < 2500);
    ASSERT_CONTAINS(err.msg, "within 300 ms");
    near_rpc_free(rpc);

    /* nothing listening: transport error */
    near_rpc_opts o = {.url = "http://127.0.0.1:1", .max_retries = -1};
    rpc = near_rpc_new(&o, &err);
    ASSERT_EQ(near_rpc_status(rpc, &r, &d, &err), NEAR_ERPC_TRANSPORT);
    ASSERT_EQ(d.attempts, 1);
    near_rpc_free(rpc);
    o.url = "ftp://x";
    ASSERT_TRUE(near_rpc_new(&o, &err) == NULL);
    ASSERT_CONTAINS(err.msg, "http://");
    o.url = "http://x";
    o.max_retries = NEAR_RPC_MAX_RETRIES + 1;
    ASSERT_TRUE(near_rpc_new(&o, &err) == NULL);
    ASSERT_CONTAINS(err.msg, "NEAR_RPC_MAX_RETRIES");
}

static char *signed_b64(const char *receiver, uint64_t nonce, const uint8_t block_hash[32], const char *method,
                        char hash58[64]) {
    ol_err err;
    near_secret_key sk;
    ASSERT_EQ(near_secret_key_parse("ed25519:1GMkH3brNXiNNs1tiFZHu4yZSRrzJwxi5wB9bHFtMikjwpAW9DMZzU2Pqakc5it8X3N5vPm"
                                    "qdN7KF4CCUpmKhq", &sk, &err), 0);
    near_action a = {.kind = NEAR_ACTION_FUNCTION_CALL};
    a.u.call.method_name = method;
    a.u.call.args = (const uint8_t *)"{}";
    a.u.call.args_len = 2;
    a.u.call.gas = 30000000000000ull;
    near_transaction tx = {.signer_id = "alice.test", .nonce = nonce, .receiver_id = receiver, .actions = &a,
                           .n_actions = 1};
    ASSERT_EQ(near_secret_key_public(&sk, &tx.public_key, &err), 0);
    memcpy(tx.block_hash, block_hash, 32);
    near_signed_transaction stx;
    uint8_t h[32];
    ASSERT_EQ(near_tx_sign(&tx, &sk, &stx, h, &err), 0);
    if (hash58) ASSERT_EQ(ol_base58_encode(h, 32, hash58, 64, &err), 0);
    char *b64;
    ASSERT_EQ(near_signed_tx_base64(&stx, &b64, &err), 0);
    return b64;
}

static void test_transactions(near_rpc *rpc) {
    json_t *r;
    near_rpc_error d;
    ol_err err;
    uint8_t bh[32], zero[32] = {0};
    ASSERT_EQ(near_rpc_block_hash(rpc, NEAR_FINAL, bh, NULL, &d, &err), 0);
    char hash[64];
    char *tx = signed_b64("app.test", 101, bh, "run", hash);
    ASSERT_EQ(near_rpc_send_tx(rpc, tx, "EXECUTED_OPTIMISTIC", &r, &d, &err), 0);
    near_outcome_kind kind;
    uint8_t *value;
    size_t n;
    ASSERT_EQ(near_rpc_outcome(r, &kind, &value, &n, &d, &err), 0);
    ASSERT_EQ(kind, NEAR_OUTCOME_SUCCESS_VALUE);
    ASSERT_STREQ((char *)value, "\"done\"");
    free(value);
    ASSERT_STREQ(json_string_value(json_object_get(json_object_get(r, "transaction_outcome"), "id")), hash);
    json_decref(r);
    /* the same signed transaction again: idempotent */
    ASSERT_EQ(near_rpc_send_tx(rpc, tx, NULL, &r, &d, &err), 0);
    json_decref(r);
    free(tx);
    /* a different transaction with a used nonce */
    tx = signed_b64("app.test", 101, bh, "other", NULL);
    ASSERT_EQ(near_rpc_send_tx(rpc, tx, NULL, &r, &d, &err), NEAR_ERPC_INVALID_NONCE);
    ASSERT_EQ(d.tx_nonce, 101);
    ASSERT_EQ(d.ak_nonce, 101);
    ASSERT_STREQ(d.tx_error, "InvalidNonce");
    ASSERT_CONTAINS(err.msg, "InvalidNonce (tx nonce 101, access key nonce 101)");
    ASSERT_EQ(d.attempts, 1);
    free(tx);
    tx = signed_b64("app.test", 102, zero, "run", NULL);
    ASSERT_EQ(near_rpc_broadcast_tx_commit(rpc, tx, &r, &d, &err), NEAR_ERPC_EXPIRED);
    ASSERT_STREQ(d.tx_error, "Expired");
    free(tx);
    /* a contract panic comes back as an outcome Failure */
    tx = signed_b64("panic.test", 103, bh, "run", NULL);
    ASSERT_EQ(near_rpc_broadcast_tx_commit(rpc, tx, &r, &d, &err), 0);
    ASSERT_EQ(near_rpc_outcome(r, &kind, &value, &n, &d, &err), NEAR_ERPC_CONTRACT);
    ASSERT_STREQ(d.message, "Smart contract panicked: boom");
    ASSERT_CONTAINS(err.msg, "action 0 failed: Smart contract panicked: boom");
    json_decref(r);
    free(tx);
    /* wait_until NONE: nothing to report yet */
    tx = signed_b64("app.test", 104, bh, "run", hash);
    ASSERT_EQ(near_rpc_send_tx(rpc, tx, "NONE", &r, &d, &err), 0);
    ASSERT_EQ(near_rpc_outcome(r, &kind, NULL, NULL, &d, &err), 0);
    ASSERT_EQ(kind, NEAR_OUTCOME_PENDING);
    json_decref(r);
    free(tx);
    ASSERT_EQ(near_rpc_send_tx(rpc, "AAAA", "SOMETIME", &r, &d, &err), NEAR_EINVAL);
    /* the status of that transaction by hash, both methods */
    ASSERT_EQ(near_rpc_tx_status(rpc, hash, "alice.test", "FINAL", false, &r, &d, &err), 0);
    ASSERT_TRUE(json_object_get(r, "receipts") == NULL);
    json_decref(r);
    ASSERT_EQ(near_rpc_tx_status(rpc, hash, "alice.test", NULL, true, &r, &d, &err), 0);
    ASSERT_TRUE(json_is_array(json_object_get(r, "receipts")));
    json_decref(r);
    ASSERT_EQ(near_rpc_tx_status(rpc, "11111111111111111111111111111111", "alice.test", NULL, false, &r, &d, &err),
              NEAR_ERPC_UNKNOWN_TX);
    /* async broadcast returns the hash we computed */
    char ahash[64], got[64];
    tx = signed_b64("app.test", 105, bh, "run", ahash);
    ASSERT_EQ(near_rpc_broadcast_tx_async(rpc, tx, got, sizeof got, &d, &err), 0);
    ASSERT_STREQ(got, ahash);
    free(tx);
}

int main(int argc, char **argv) {
    if (argc != 3) T_FAIL("usage: %s NODE SERVER_SCRIPT", argv[0]);
    start_server(argv[1], argv[2]);
    near_rpc *rpc = client(5000, 2);
    test_reads(rpc);
    test_transactions(rpc);
    near_rpc_free(rpc);
    test_failures();
    stop_server();
    puts("test_rpc: ok");
    return 0;
}
