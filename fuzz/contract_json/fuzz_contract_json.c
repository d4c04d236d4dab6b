/* fuzz_contract_json: the contract SDK's strict JSON reader and compact writer (contracts/sdk/json.c), and
 * the OutLayer contract's argument decoders behind it (contracts/outlayer), run through the host double.
 *
 * Invariants checked on every input (not just "no crash"):
 *   - a refused input names a problem and an offset inside the input;
 *   - an accepted input re-serialises to compact JSON that the reader accepts again, and re-serialising
 *     that gives the same bytes (the writer's output is canonical and always valid, strings stay valid UTF-8);
 *   - the strict u64 accessor agrees with a plain decimal re-parse;
 *   - given as arguments to the contract's methods, the input either succeeds or panics with a message that
 *     starts with the method's name (every panic names the method and the argument or rule), never with a
 *     host error, "out of memory" or "corrupt state".
 * Inputs above 64 KiB are skipped (the per-call arena is bounded; contracts cap their input anyway). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_double.h"
#include "outlayer/outlayer.h"
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

static void run_method(void (*m)(void), const char *name, const char *pred, const uint8_t *data, size_t size) {
    hd_call_opts o = {0};
    o.predecessor = pred;
    o.args = size ? (const char *)data : "";
    o.args_len = size;
    o.deposit = hd_u128("1000000000000000000000000");
    const hd_outcome *r = hd_call(m, &o);
    if (!r->panicked) return;
    size_t n = strlen(name);
    if (strncmp(r->panic_msg, name, n) != 0 || (r->panic_msg[n] != ':' && r->panic_msg[n] != ' ')) {
        fprintf(stderr, "fuzz_contract_json: %s panicked with \"%s\"\n", name, r->panic_msg);
        abort();
    }
}

/* A fresh chain with one pending request (id 0) and one stored secret, then every decoder on the input. */
static void contract_round(const uint8_t *data, size_t size) {
    hd_reset("outlayer.near", hd_u128("1000000000000000000000000000"));
    hd_call_opts o = {0};
    o.predecessor = "owner.near";
    o.args = "{\"owner_id\":\"owner.near\",\"operator_id\":\"op.near\"}";
    check(!hd_call(ol_new, &o)->panicked, "new");
    o.predecessor = "alice.near";
    o.args = "{\"source\":{\"GitHub\":{\"repo\":\"r\",\"commit\":\"c\"}}}";
    o.deposit = hd_u128("1000000000000000000000000");
    check(!hd_call(ol_request_execution, &o)->panicked, "request_execution seed");
    run_method(ol_request_execution, "request_execution", "alice.near", data, size);
    run_method(ol_resolve_execution, "resolve_execution", "op.near", data, size);
    run_method(ol_cancel_stale_execution, "cancel_stale_execution", "alice.near", data, size);
    run_method(ol_set_pricing, "set_pricing", "owner.near", data, size);
    run_method(ol_list_pending_requests, "list_pending_requests", "alice.near", data, size);
    run_method(ol_estimate_execution_cost, "estimate_execution_cost", "alice.near", data, size);
    run_method(ol_store_secrets, "store_secrets", "alice.near", data, size);
    run_method(ol_update_access, "update_access", "alice.near", data, size);
    run_method(ol_get_secrets, "get_secrets", "alice.near", data, size);
    run_method(ol_estimate_storage_cost, "estimate_storage_cost", "alice.near", data, size);
    run_method(ol_withdraw_fees, "withdraw_fees", "owner.near", data, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 65536) return 0;
    contract_round(data, size);
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
