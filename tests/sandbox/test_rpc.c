/* The sandbox's JSON-RPC request path without sockets: NEAR's error envelope and HTTP codes for bad
 * requests, genesis contents, parameter forms, a reopened chain keeping its blocks, and the fuzz corpus
 * (fuzz/sandbox_rpc/corpus) replayed through the fuzz target's invariants. Usage: test_sandbox_rpc CORPUS_DIR */
#include "sandbox/sandbox_int.h"
#include "test.h"

#include <dirent.h>
#include <jansson.h>
#include <unistd.h>

void sb_fuzz_check(sb_chain *c, const uint8_t *data, size_t size);

static int call(sb_chain *c, const char *req, json_t **out) {
    char *s;
    size_t n;
    int status = sb_rpc_handle(c, req, strlen(req), &s, &n);
    ASSERT_TRUE(s != NULL);
    *out = json_loadb(s, n, 0, NULL);
    ASSERT_TRUE(json_is_object(*out));
    free(s);
    return status;
}

static const char *cause(json_t *r) {
    return json_string_value(json_object_get(json_object_get(json_object_get(r, "error"), "cause"), "name"));
}

static void produce(sb_chain *c, int n) {
    ol_err e;
    pthread_mutex_lock(&c->mu);
    for (int i = 0; i < n; i++) ASSERT_EQ(sb_chain_produce(c, &e), 0);
    pthread_mutex_unlock(&c->mu);
}

int main(int argc, char **argv) {
    ASSERT_TRUE(argc == 2);
    ol_log_set_level(OL_LOG_WARN);
    char home[] = "/tmp/test_sandbox_rpc.XXXXXX";
    ASSERT_TRUE(mkdtemp(home) != NULL);
    sb_chain c;
    ol_err e;
    ASSERT_EQ(sb_chain_open(&c, home, &e), 0);
    c.wait_ms = 0;
    c.fast_forward_max = 5;
    produce(&c, 3);
    json_t *r;

    /* envelope: parse error, not an object, unknown method, bad params */
    ASSERT_EQ(call(&c, "{not json", &r), 400);
    ASSERT_STREQ(cause(r), "PARSE_ERROR");
    ASSERT_EQ(json_integer_value(json_object_get(json_object_get(r, "error"), "code")), -32700);
    json_decref(r);
    ASSERT_EQ(call(&c, "[1]", &r), 400);
    json_decref(r);
    ASSERT_EQ(call(&c, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"nope\",\"params\":[]}", &r), 400);
    ASSERT_STREQ(cause(r), "METHOD_NOT_FOUND");
    ASSERT_EQ(json_integer_value(json_object_get(r, "id")), 7);
    ASSERT_EQ(json_integer_value(json_object_get(json_object_get(r, "error"), "code")), -32601);
    json_decref(r);
    ASSERT_EQ(call(&c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"block\",\"params\":5}", &r), 400);
    json_decref(r);

    /* genesis: test.near with 1e9 NEAR and one full-access key; block 0 exists; status reports the head */
    ASSERT_EQ(call(&c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"query\",\"params\":{\"request_type\":\"view_account\","
                       "\"account_id\":\"test.near\",\"finality\":\"final\"}}",
                   &r),
              200);
    ASSERT_STREQ(json_string_value(json_object_get(json_object_get(r, "result"), "amount")),
                 "1000000000000000000000000000000000");
    json_decref(r);
    ASSERT_EQ(call(&c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"query\",\"params\":[\"access_key/test.near\",\"\"]}", &r), 200);
    ASSERT_EQ(json_array_size(json_object_get(json_object_get(r, "result"), "keys")), 1);
    ASSERT_STREQ(json_string_value(json_object_get(json_object_get(json_array_get(json_object_get(json_object_get(r, "result"), "keys"), 0), "access_key"), "permission")),
                 "FullAccess");
    json_decref(r);
    ASSERT_EQ(call(&c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"block\",\"params\":{\"block_id\":0}}", &r), 200);
    ASSERT_EQ(json_integer_value(json_object_get(json_object_get(json_object_get(r, "result"), "header"), "height")), 0);
    json_decref(r);
    ASSERT_EQ(call(&c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"gas_price\",\"params\":[null]}", &r), 200);
    ASSERT_STREQ(json_string_value(json_object_get(json_object_get(r, "result"), "gas_price")), "100000000");
    json_decref(r);
    ASSERT_EQ(call(&c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"block\",\"params\":{\"finality\":\"final\"}}", &r), 200);
    ASSERT_STREQ(json_string_value(json_object_get(json_object_get(json_object_get(r, "result"), "header"), "gas_price")),
                 "100000000");
    json_decref(r);
    ASSERT_EQ(call(&c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"EXPERIMENTAL_protocol_config\",\"params\":{\"finality\":\"final\"}}", &r), 200);
    ASSERT_STREQ(json_string_value(json_object_get(json_object_get(r, "result"), "min_gas_price")), "100000000");
    json_decref(r);
    ASSERT_EQ(call(&c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"status\"}", &r), 200);
    ASSERT_EQ(json_integer_value(json_object_get(json_object_get(json_object_get(r, "result"), "sync_info"),
                                                 "latest_block_height")),
              3);
    json_decref(r);

    /* NEAR-shaped handler errors */
    ASSERT_EQ(call(&c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"query\",\"params\":{\"request_type\":\"view_account\","
                       "\"account_id\":\"ghost.near\",\"finality\":\"final\"}}",
                   &r),
              200);
    ASSERT_STREQ(cause(r), "UNKNOWN_ACCOUNT");
    ASSERT_STREQ(json_string_value(json_object_get(json_object_get(r, "error"), "data")),
                 "account ghost.near does not exist while viewing");
    json_decref(r);
    ASSERT_EQ(call(&c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"query\",\"params\":{\"request_type\":\"view_access_key\","
                       "\"account_id\":\"test.near\",\"public_key\":\"ed25519:11111111111111111111111111111111\","
                       "\"finality\":\"final\"}}",
                   &r),
              200);
    ASSERT_CONTAINS(json_string_value(json_object_get(json_object_get(r, "result"), "error")), "does not exist while viewing");
    json_decref(r);
    ASSERT_EQ(call(&c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"block\",\"params\":{\"block_id\":99999}}", &r), 200);
    ASSERT_STREQ(cause(r), "UNKNOWN_BLOCK");
    json_decref(r);
    ASSERT_EQ(call(&c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"query\",\"params\":{\"request_type\":\"view_code\","
                       "\"account_id\":\"test.near\",\"finality\":\"final\"}}",
                   &r),
              200);
    ASSERT_STREQ(cause(r), "NO_CONTRACT_CODE");
    json_decref(r);
    ASSERT_EQ(call(&c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"send_tx\",\"params\":{\"signed_tx_base64\":\"%%%\"}}", &r), 400);
    ASSERT_STREQ(cause(r), "PARSE_ERROR");
    json_decref(r);
    ASSERT_EQ(call(&c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tx\",\"params\":[\"11111111111111111111111111111111\","
                       "\"test.near\"]}",
                   &r),
              408);
    ASSERT_STREQ(cause(r), "TIMEOUT_ERROR");
    json_decref(r);
    ASSERT_EQ(call(&c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tx\",\"params\":{\"tx_hash\":\"11111111111111111111111111111111\","
                       "\"sender_account_id\":\"test.near\",\"wait_until\":\"NONE\"}}",
                   &r),
              200);
    ASSERT_STREQ(cause(r), "UNKNOWN_TRANSACTION");
    json_decref(r);
    ASSERT_EQ(call(&c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"sandbox_fast_forward\",\"params\":{\"delta_height\":6}}", &r),
              400);
    json_decref(r);
    ASSERT_EQ(call(&c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"sandbox_fast_forward\",\"params\":{\"delta_height\":5}}", &r),
              200);
    json_decref(r);
    ASSERT_EQ_U64(c.height, 8);

    /* the fuzz corpus, through the fuzz target's invariants */
    DIR *d = opendir(argv[1]);
    ASSERT_TRUE(d != NULL);
    struct dirent *ent;
    int files = 0;
    while ((ent = readdir(d))) {
        if (ent->d_name[0] == '.') continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", argv[1], ent->d_name);
        FILE *f = fopen(path, "rb");
        ASSERT_TRUE(f != NULL);
        static uint8_t buf[1 << 20];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        sb_fuzz_check(&c, buf, n);
        files++;
    }
    closedir(d);
    ASSERT_TRUE(files >= 20);

    /* reopening keeps every produced block */
    uint64_t h = c.height;
    uint8_t head[32];
    memcpy(head, c.head_hash, 32);
    sb_chain_close(&c);
    ASSERT_EQ(sb_chain_open(&c, home, &e), 0);
    ASSERT_EQ_U64(c.height, h);
    ASSERT_TRUE(memcmp(c.head_hash, head, 32) == 0);
    sb_chain_close(&c);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", home);
    ASSERT_EQ(system(cmd), 0);
    printf("ok - sandbox rpc envelope, genesis, corpus of %d, reopen\n", files);
    return 0;
}
