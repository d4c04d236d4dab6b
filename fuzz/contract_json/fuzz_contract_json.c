/* fuzz_contract_json: the contract SDK's strict JSON reader and compact writer (contracts/sdk/json.c).
 *
 * Invariants checked on every input (not just "no crash"):
 *   - a refused input names a problem and an offset inside the input;
 *   - an accepted input re-serialises to compact JSON that the reader accepts again, and re-serialising
 *     that gives the same bytes (the writer's output is canonical and always valid, strings stay valid UTF-8);
 *   - the strict u64 accessor agrees with a plain decimal re-parse.
 * Inputs above 64 KiB are skipped (the per-call arena is bounded; contracts cap their input anyway). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "fuzz_contract_json: invariant failed: %s\n", what);
        abort();
    }
}

static void walk_numbers(const sdk_json *v) {
    if (v->type == SDK_JSON_NUMBER) {
        uint64_t u;
        if (sdk_json_u64(v, &u)) {
            char buf[24];
            size_t n = sdk_fmt(buf, sizeof buf, "%U", u);
            check(n == v->len && memcmp(buf, v->s, n) == 0, "u64 accessor round trip");
        }
    } else if (v->type == SDK_JSON_ARRAY || v->type == SDK_JSON_OBJECT) {
        for (size_t i = 0; i < v->len; i++) walk_numbers(v->items[i]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 65536) return 0;
    sdk__heap_reset();
    sdk_json_err err;
    sdk_json *v = sdk_json_parse((const char *)data, size, size, &err);
    if (!v) {
        check(err.msg[0] != 0, "error has a message");
        check(err.offset <= size, "error offset inside the input");
        return 0;
    }
    walk_numbers(v);
    sdk_jw w1;
    sdk_jw_init(&w1, 8u * 1024 * 1024, "fuzz");
    sdk_jw_value(&w1, v);
    sdk_jw_finish(&w1);
    sdk_json *v2 = sdk_json_parse(w1.buf, w1.len, w1.len, &err);
    check(v2 != NULL, "writer output parses");
    sdk_jw w2;
    sdk_jw_init(&w2, 8u * 1024 * 1024, "fuzz");
    sdk_jw_value(&w2, v2);
    check(w1.len == w2.len && memcmp(w1.buf, w2.buf, w1.len) == 0, "canonical form is stable");
    return 0;
}
