/* The executor on the real guest programs (guests/, built with clang --target=wasm32-wasi): the
 * NEAR_* environment, deterministic randomness from the request's seed (same request = same bytes,
 * another data id = another seed), the response formats, and every failure a user must see named:
 * nonzero exit, trap, out of fuel, time limit, output limit, limits above their caps, secrets_ref. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "near/near.h"
#include "test.h"
#include "worker/worker.h"

static uint8_t *load(const char *name, size_t *len) {
    char p[1024];
    snprintf(p, sizeof p, "%s/%s.wasm", OUTLAYER_GUEST_DIR, name);
    FILE *f = fopen(p, "rb");
    if (!f)
        T_FAIL("cannot open %s", p);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n);
    ASSERT_EQ(fread(b, 1, (size_t)n, f), n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

static near_secret_key sk;

/* Runs guest with the request JSON; returns the response (caller decrefs) and the report in *rep. */
static json_t *run(const char *guest, const char *request_json, json_t **rep) {
    size_t len;
    uint8_t *wasm = load(guest, &len);
    json_error_t je;
    json_t *req = json_loads(request_json, 0, &je);
    if (!req)
        T_FAIL("bad test JSON: %s", je.text);
    worker_exec_params p = {.wasm = wasm, .wasm_len = len, .request = req};
    ol_err err;
    const char *data_id = json_string_value(json_object_get(req, "data_id"));
    ASSERT_EQ(worker_request_seed(&sk, data_id ? data_id : "x", p.seed, NULL, &err), 0);
    json_t *resp = NULL, *report = NULL;
    if (worker_execute(&p, &resp, &report, &err) != 0)
        T_FAIL("worker_execute: %s", err.msg);
    char *s = json_dumps(resp, JSON_COMPACT);
    fprintf(stderr, "%s -> %.300s\n", guest, s);
    free(s);
    json_decref(req);
    free(wasm);
    if (rep)
        *rep = report;
    else
        json_decref(report);
    return resp;
}

/* A field; "output" is unwrapped from its format tag ({"Text":s}, {"Json":v}, {"Bytes":b64}). */
static const char *str(json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    if (strcmp(k, "output") == 0 && json_is_object(v) && json_object_size(v) == 1)
        v = json_object_iter_value(json_object_iter(v));
    return json_string_value(v);
}
static json_t *out_of(json_t *o) {
    json_t *v = json_object_get(o, "output");
    return json_is_object(v) && json_object_size(v) == 1 ? json_object_iter_value(json_object_iter(v)) : NULL;
}
static bool ok(json_t *o) { return json_is_true(json_object_get(o, "success")); }

#define DID "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"

int main(void) {
    ASSERT_TRUE(sodium_init() >= 0);
    uint8_t kseed[32] = {7};
    near_public_key pk;
    ol_err err;
    ASSERT_EQ(near_key_from_seed(kseed, &sk, &pk, &err), 0);

    /* echo: input and the NEAR context */
    json_t *rep;
    json_t *r = run("echo",
                    "{\"data_id\":\"" DID "\",\"input_data\":\"  hi  \",\"sender_id\":\"alice.test.near\",\"block_height\":123,"
                    "\"timestamp\":1700000000000000000,\"request_id\":5}",
                    &rep);
    ASSERT_TRUE(ok(r));
    ASSERT_STREQ(str(r, "output"), "alice.test.near said \"hi\" at block 123");
    ASSERT_TRUE(json_integer_value(json_object_get(json_object_get(r, "resources_used"), "instructions")) > 0);
    ASSERT_EQ(strlen(str(rep, "wasm_hash")), 64);
    uint8_t h[32];
    char hex[65];
    crypto_hash_sha256(h, (const uint8_t *)"  hi  ", 6);
    ol_hex_encode(h, 32, hex);
    ASSERT_STREQ(str(rep, "input_hash"), hex);
    const char *o = "alice.test.near said \"hi\" at block 123";
    crypto_hash_sha256(h, (const uint8_t *)o, strlen(o));
    ol_hex_encode(h, 32, hex);
    ASSERT_STREQ(str(rep, "output_hash"), hex);
    json_decref(r);
    json_decref(rep);

    /* a long output arrives intact (the large-output path on chain starts at 1024 bytes) */
    char big[6000 + 200];
    char *in = malloc(5001);
    for (int i = 0; i < 5000; i++)
        in[i] = (char)('a' + i % 26);
    in[5000] = 0;
    snprintf(big, sizeof big, "{\"data_id\":\"" DID "\",\"input_data\":\"%s\",\"sender_id\":\"bob.near\",\"block_height\":1}", in);
    r = run("echo", big, NULL);
    ASSERT_TRUE(ok(r));
    ASSERT_CONTAINS(str(r, "output"), in);
    json_decref(r);
    free(in);

    /* random: reproducible for one request, different for another data id */
    const char *rq = "{\"data_id\":\"" DID "\",\"input_data\":\"{\\\"min\\\":1,\\\"max\\\":1000000000}\","
                     "\"response_format\":\"Json\"}";
    json_t *r1 = run("random", rq, NULL), *r2 = run("random", rq, NULL);
    ASSERT_TRUE(ok(r1) && ok(r2));
    ASSERT_TRUE(json_equal(out_of(r1), out_of(r2)));
    ASSERT_TRUE(json_equal(json_object_get(json_object_get(r1, "resources_used"), "instructions"),
                           json_object_get(json_object_get(r2, "resources_used"), "instructions")));
    ASSERT_TRUE(json_is_integer(json_object_get(out_of(r1), "random_number")));
    ASSERT_TRUE(json_object_get(json_object_get(r1, "output"), "Json") != NULL);
    json_t *r3 = run("random",
                     "{\"data_id\":\"ffb2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90\",\"input_data\":"
                     "\"{\\\"min\\\":1,\\\"max\\\":1000000000}\",\"response_format\":\"Json\"}",
                     NULL);
    ASSERT_TRUE(!json_equal(out_of(r1), out_of(r3)));
    json_decref(r1);
    json_decref(r2);
    json_decref(r3);

    /* Bytes: base64 of stdout */
    r = run("echo", "{\"data_id\":\"" DID "\",\"input_data\":\"x\",\"sender_id\":\"a.near\",\"block_height\":7,"
                    "\"response_format\":\"Bytes\"}", NULL);
    ASSERT_STREQ(str(r, "output"), "YS5uZWFyIHNhaWQgIngiIGF0IGJsb2NrIDc="); /* a.near said "x" at block 7 */
    json_decref(r);
    /* Json that is not JSON */
    r = run("echo", "{\"data_id\":\"" DID "\",\"input_data\":\"x\",\"response_format\":\"Json\"}", NULL);
    ASSERT_TRUE(!ok(r));
    ASSERT_CONTAINS(str(r, "error"), "not valid JSON");
    json_decref(r);

    /* failures, each named */
    r = run("exitcode", "{\"data_id\":\"" DID "\",\"input_data\":\"1\"}", NULL);
    ASSERT_TRUE(!ok(r));
    ASSERT_CONTAINS(str(r, "error"), "exited with code 1");
    json_decref(r);
    r = run("trap", "{\"data_id\":\"" DID "\"}", NULL);
    ASSERT_TRUE(!ok(r));
    ASSERT_CONTAINS(str(r, "error"), "trap");
    json_decref(r);
    r = run("loop", "{\"data_id\":\"" DID "\",\"resource_limits\":{\"max_instructions\":1000000}}", NULL);
    ASSERT_TRUE(!ok(r));
    ASSERT_CONTAINS(str(r, "error"), "out of fuel");
    long long used = json_integer_value(json_object_get(json_object_get(r, "resources_used"), "instructions"));
    ASSERT_TRUE(used > 990000 && used <= 1000000); /* never more than the budget */
    json_decref(r);
    r = run("loop", "{\"data_id\":\"" DID "\",\"resource_limits\":{\"max_instructions\":100000000000,\"max_execution_seconds\":1}}",
            NULL);
    ASSERT_TRUE(!ok(r));
    ASSERT_CONTAINS(str(r, "error"), "time limit exceeded");
    json_decref(r);
    r = run("spam", "{\"data_id\":\"" DID "\"}", NULL);
    ASSERT_TRUE(!ok(r));
    ASSERT_CONTAINS(str(r, "error"), "output over 65536 bytes");
    json_decref(r);
    r = run("alloc", "{\"data_id\":\"" DID "\",\"resource_limits\":{\"max_memory_mb\":16}}", NULL);
    ASSERT_TRUE(!ok(r));
    fprintf(stderr, "alloc: %s\n", str(r, "error"));
    json_decref(r);
    r = run("echo", "{\"data_id\":\"" DID "\",\"resource_limits\":{\"max_memory_mb\":4096}}", NULL);
    ASSERT_TRUE(!ok(r));
    ASSERT_CONTAINS(str(r, "error"), "max_memory_mb = 4096 is outside 1..1024");
    json_decref(r);
    r = run("echo", "{\"data_id\":\"" DID "\",\"secrets_ref\":{\"profile\":\"p\",\"account_id\":\"a.near\"}}", NULL);
    ASSERT_TRUE(!ok(r));
    ASSERT_CONTAINS(str(r, "error"), "secrets");
    json_decref(r);
    printf("ok\n");
    return 0;
}
