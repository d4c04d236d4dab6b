/* fuzz_sandbox_rpc: the sandbox's whole JSON-RPC request path (envelope parsing, parameter forms, block
 * references, queries, transaction decoding and validation, views) over a real chain in a temporary
 * --home, without sockets. Invariants: every answer is one JSON object with jsonrpc "2.0" and exactly one
 * of result / error; errors carry name, cause.name and code; HTTP 500 only for INTERNAL_ERROR. The chain
 * never waits (wait_ms 0) and fast-forwards at most 3 blocks per request. */
#include "sandbox/sandbox_int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
void sb_fuzz_check(sb_chain *c, const uint8_t *data, size_t size);

static sb_chain *chain(void) {
    static sb_chain c;
    static int ready;
    if (!ready) {
        char dir[] = "/tmp/fuzz_sandbox_rpc.XXXXXX";
        ol_err err;
        if (!mkdtemp(dir) || sb_chain_open(&c, dir, &err)) {
            fprintf(stderr, "fuzz_sandbox_rpc: %s\n", err.msg);
            abort();
        }
        c.wait_ms = 0;
        c.fast_forward_max = 3;
        ol_log_set_level(OL_LOG_OFF);
        ready = 1;
    }
    return &c;
}

void sb_fuzz_check(sb_chain *c, const uint8_t *data, size_t size) {
    char *out = NULL;
    size_t n = 0;
    int status = sb_rpc_handle(c, (const char *)data, size, &out, &n);
    if (!out) abort();
    json_error_t je;
    json_t *r = json_loadb(out, n, 0, &je);
    if (!json_is_object(r)) abort();
    const char *v = json_string_value(json_object_get(r, "jsonrpc"));
    if (!v || strcmp(v, "2.0") != 0) abort();
    json_t *res = json_object_get(r, "result"), *e = json_object_get(r, "error");
    if (!!res == !!e) abort();
    if (e) {
        const char *name = json_string_value(json_object_get(e, "name"));
        const char *cause = json_string_value(json_object_get(json_object_get(e, "cause"), "name"));
        if (!name || !cause || !json_is_integer(json_object_get(e, "code"))) abort();
        if (status == 500 && strcmp(name, "INTERNAL_ERROR") != 0) abort();
        if (status != 200 && status != 400 && status != 408 && status != 500) abort();
    } else if (status != 200) {
        abort();
    }
    json_decref(r);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sb_chain *c = chain();
    pthread_mutex_lock(&c->mu);
    ol_err err;
    if (sb_chain_produce(c, &err)) abort();
    pthread_mutex_unlock(&c->mu);
    sb_fuzz_check(c, data, size);
    return 0;
}
