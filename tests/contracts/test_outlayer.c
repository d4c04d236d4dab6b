/* contracts/outlayer: every method's rules through the host double: caps and defaults, deposit and gas
 * checks, fee arithmetic at the edges, first-resolve-wins, timeouts and late resolves, the large-output
 * path, cancel_stale_execution, admin access control, upgrade/migrate, views, secrets deposits, and the
 * exact panic messages. */
#include "host_double.h"
#include "outlayer/outlayer.h"
#include "outlayer/outlayer_limits.h"
#include "test.h"

#define OWNER "owner.near"
#define OPERATOR "operator.near"
#define ALICE "alice.near"
#define NEAR1 "1000000000000000000000000"
#define DEP01 "100000000000000000000000" /* 0.1 NEAR */

static const hd_outcome *O;

static const hd_outcome *call_as(void (*m)(void), const char *pred, const char *args, const char *deposit) {
    hd_call_opts o = {0};
    o.predecessor = pred;
    o.args = args;
    o.deposit = deposit ? hd_u128(deposit) : U128_ZERO;
    O = hd_call(m, &o);
    return O;
}

static void ok(void) {
    if (O->panicked) T_FAIL("unexpected panic: %s", O->panic_msg);
}

static void panics(const char *msg) {
    if (!O->panicked) T_FAIL("expected panic \"%s\", got success", msg);
    ASSERT_STREQ(O->panic_msg, msg);
}

static void panics_with(const char *part) {
    if (!O->panicked) T_FAIL("expected panic containing \"%s\", got success", part);
    ASSERT_CONTAINS(O->panic_msg, part);
}

static char *dec(u128 v) {
    static char bufs[8][48];
    static int i;
    char *b = bufs[i++ % 8];
    u128_to_dec(v, b);
    return b;
}

static u128 add(u128 a, u128 b) {
    u128 r;
    if (!u128_add(a, b, &r)) abort();
    return r;
}
static u128 sub(u128 a, u128 b) {
    u128 r;
    if (!u128_sub(a, b, &r)) abort();
    return r;
}
static u128 mul(u128 a, uint64_t b) {
    u128 r;
    if (!u128_mul(a, u128_from_u64(b), &r)) abort();
    return r;
}
#define ASSERT_U128(a, b) ASSERT_STREQ(dec(a), dec(b))

static void setup(void) {
    hd_reset("outlayer.near", hd_u128(NEAR1));
    call_as(ol_new, OWNER, "{\"owner_id\":\"" OWNER "\",\"operator_id\":\"" OPERATOR "\"}", NULL);
    ok();
}

static const char *SRC = "\"source\":{\"GitHub\":{\"repo\":\"https://github.com/x/random\",\"commit\":\"abc\"}}";

/* Sends request_execution with extra args (after the source), returns the request id (from the view). */
typedef struct rq {
    uint64_t id;
    uint8_t data_id[32];
    uint64_t storage_bytes;
} rq;

static rq request(const char *extra, const char *deposit) {
    char args[70000 + 512];
    snprintf(args, sizeof args, "{%s%s%s}", SRC, extra[0] ? "," : "", extra);
    call_as(ol_request_execution, ALICE, args, deposit);
    ok();
    const hd_action *y = hd_find_action(O, HD_ACT_YIELD, 0);
    ASSERT_TRUE(y != NULL);
    ASSERT_STREQ(y->method, "on_execution_response");
    ASSERT_EQ_U64(y->gas, OL_CALLBACK_GAS);
    ASSERT_TRUE(O->returned_promise && O->returned_promise_idx == y->promise);
    rq r;
    memcpy(r.data_id, y->data_id, 32);
    sscanf(y->args, "{\"request_id\":%" SCNu64 "}", &r.id);
    r.storage_bytes = O->storage_usage_after - O->storage_usage_before;
    return r;
}

static const hd_outcome *resolve(uint64_t id, const char *response, const char *extra) {
    char args[200000];
    snprintf(args, sizeof args, "{\"request_id\":%" PRIu64 ",\"response\":%s%s}", id, response, extra ? extra : "");
    return call_as(ol_resolve_execution, OPERATOR, args, NULL);
}

static const hd_outcome *settle(const rq *r) {
    O = hd_run_yield(ol_on_execution_response, r->data_id);
    ASSERT_TRUE(O != NULL);
    return O;
}

static const char *last_event(const hd_outcome *o) {
    for (int i = o->nlogs - 1; i >= 0; i--)
        if (strncmp(o->logs[i], "EVENT_JSON:", 11) == 0) return o->logs[i];
    return NULL;
}

static u128 storage_cost(uint64_t bytes) { return mul(u128_from_u64(OL_STORAGE_PRICE_PER_BYTE), bytes); }

static u128 BASE, PER_M, PER_MS, PER_CMS;

static void test_init_and_views(void) {
    setup();
    call_as(ol_new, OWNER, "{\"owner_id\":\"" OWNER "\"}", NULL);
    panics("new: the contract is already initialized");
    call_as(ol_get_pricing, ALICE, "", NULL);
    ok();
    ASSERT_STREQ(O->ret, "{\"base_fee\":\"1000000000000000000000\",\"per_million_instructions_fee\":\"100000000000000\","
                         "\"per_ms_fee\":\"100000000000000000\",\"per_compile_ms_fee\":\"100000000000000000\"}");
    call_as(ol_get_config, ALICE, "", NULL);
    ASSERT_STREQ(O->ret, "{\"owner_id\":\"owner.near\",\"operator_id\":\"operator.near\",\"paused\":false,"
                         "\"state_version\":1}");
    call_as(ol_is_paused, ALICE, "", NULL);
    ASSERT_STREQ(O->ret, "false");
    call_as(ol_get_max_limits, ALICE, "", NULL);
    ASSERT_STREQ(O->ret, "{\"max_instructions\":100000000000,\"max_memory_mb\":1024,\"max_execution_seconds\":60,"
                         "\"max_input_bytes\":65536,\"max_output_bytes\":65536,\"yield_window_blocks\":200}");
    /* estimate: base + floor(1e9/1e6)*1e14 + 10*1000*1e17 */
    call_as(ol_estimate_execution_cost, ALICE, "{}", NULL);
    ASSERT_STREQ(O->ret, "\"2000100000000000000000\"");
    call_as(ol_estimate_execution_cost, ALICE, "{\"resource_limits\":{\"max_instructions\":1999999}}", NULL);
    ASSERT_STREQ(O->ret, "\"2000000100000000000000\"");
    call_as(ol_estimate_execution_cost, ALICE, "{\"params\":{\"compile_only\":true}}", NULL);
    ASSERT_STREQ(O->ret, "\"1000000000000000000000\"");
    call_as(ol_get_request, ALICE, "{\"request_id\":7}", NULL);
    ASSERT_STREQ(O->ret, "null");

    hd_reset("outlayer.near", hd_u128(NEAR1));
    call_as(ol_get_pricing, ALICE, "", NULL);
    panics("get_pricing: the contract is not initialized (call new first)");
    call_as(ol_new, OWNER, "{\"owner_id\":\"Bad!\"}", NULL);
    panics("new: owner_id is not a valid NEAR account id");
    call_as(ol_new, OWNER, "{}", NULL);
    panics("new: missing argument owner_id");
    call_as(ol_new, OWNER, "{\"owner_id\":\"o.near\",\"x\":1}", NULL);
    panics("new: unknown argument \"x\"");
    call_as(ol_new, OWNER, "{\"owner_id\":\"o.near\"}", NULL);
    ok();
    call_as(ol_get_config, ALICE, "", NULL);
    ASSERT_CONTAINS(O->ret, "\"operator_id\":\"o.near\""); /* operator defaults to the owner */
}

static void test_request_defaults_and_event(void) {
    setup();
    rq r = request("", DEP01);
    ASSERT_EQ_U64(r.id, 0);
    char hex[65];
    sdk_hex_encode(r.data_id, 32, hex);
    const char *ev = last_event(O);
    char want[2048];
    snprintf(want, sizeof want,
             "EVENT_JSON:{\"standard\":\"near-outlayer\",\"version\":\"1.0.0\",\"event\":\"execution_requested\","
             "\"data\":[{\"request_id\":0,\"data_id\":\"%s\",\"sender_id\":\"alice.near\",\"source\":{\"GitHub\":"
             "{\"repo\":\"https://github.com/x/random\",\"commit\":\"abc\",\"build_target\":\"wasm32-wasip1\"}},"
             "\"payment\":\"100000000000000000000000\",\"block_height\":100}]}",
             hex);
    ASSERT_STREQ(ev, want);
    call_as(ol_get_request, ALICE, "{\"request_id\":0}", NULL);
    snprintf(want, sizeof want,
             "{\"request_id\":0,\"data_id\":\"%s\",\"sender_id\":\"alice.near\",\"payer_account_id\":\"alice.near\","
             "\"source\":{\"GitHub\":{\"repo\":\"https://github.com/x/random\",\"commit\":\"abc\",\"build_target\":"
             "\"wasm32-wasip1\"}},\"resource_limits\":{\"max_instructions\":1000000000,\"max_memory_mb\":128,"
             "\"max_execution_seconds\":10},\"input_data\":\"\",\"secrets_ref\":null,\"response_format\":\"Text\","
             "\"params\":{\"force_rebuild\":false,\"compile_only\":false},\"payment\":\"100000000000000000000000\","
             "\"block_height\":100,\"timestamp\":1700000000000000000}",
             hex);
    ASSERT_STREQ(O->ret, want);
    call_as(ol_list_pending_requests, ALICE, "{}", NULL);
    ASSERT_EQ(O->ret[0], '[');
    ASSERT_TRUE(strncmp(O->ret + 1, want, strlen(want)) == 0);

    /* the older code_source shape, WasmUrl, everything explicit */
    r = request("\"resource_limits\":{\"max_instructions\":5},\"response_format\":\"Json\",\"input_data\":\"hi\","
                "\"payer_account_id\":\"bob.near\",\"secrets_ref\":{\"profile\":\"default\",\"account_id\":\"bob.near\"},"
                "\"params\":{\"force_rebuild\":true}",
                DEP01);
    call_as(ol_get_request, ALICE, "{\"request_id\":1}", NULL);
    ASSERT_CONTAINS(O->ret, "\"payer_account_id\":\"bob.near\"");
    ASSERT_CONTAINS(O->ret, "\"resource_limits\":{\"max_instructions\":5,\"max_memory_mb\":128,\"max_execution_seconds\":10}");
    ASSERT_CONTAINS(O->ret, "\"secrets_ref\":{\"profile\":\"default\",\"account_id\":\"bob.near\"}");
    ASSERT_CONTAINS(O->ret, "\"params\":{\"force_rebuild\":true,\"compile_only\":false}");
    call_as(ol_request_execution, ALICE,
            "{\"code_source\":{\"repo\":\"r\",\"commit\":\"c\",\"build_target\":\"wasm32-wasip2\"}}", DEP01);
    ok();
    call_as(ol_get_request, ALICE, "{\"request_id\":2}", NULL);
    ASSERT_CONTAINS(O->ret, "\"source\":{\"GitHub\":{\"repo\":\"r\",\"commit\":\"c\",\"build_target\":\"wasm32-wasip2\"}}");
    call_as(ol_request_execution, ALICE,
            "{\"source\":{\"WasmUrl\":{\"url\":\"https://x/y.wasm\",\"hash\":"
            "\"0000000000000000000000000000000000000000000000000000000000000000\"}}}",
            DEP01);
    ok();
}

#define REQ(extra) "{\"source\":{\"GitHub\":{\"repo\":\"r\",\"commit\":\"c\"}}" extra "}"

static void test_request_validation(void) {
    setup();
    struct {
        const char *args, *msg;
    } cases[] = {
        {REQ(",\"resource_limits\":{\"max_instructions\":100000000001}"),
         "request_execution: resource_limits.max_instructions 100000000001 exceeds the cap of 100000000000"},
        {REQ(",\"resource_limits\":{\"max_memory_mb\":1025}"),
         "request_execution: resource_limits.max_memory_mb 1025 exceeds the cap of 1024"},
        {REQ(",\"resource_limits\":{\"max_execution_seconds\":61}"),
         "request_execution: resource_limits.max_execution_seconds 61 exceeds the cap of 60"},
        {REQ(",\"resource_limits\":{\"max_execution_seconds\":0}"),
         "request_execution: resource_limits.max_execution_seconds must be at least 1"},
        {REQ(",\"resource_limits\":{\"max_instructions\":-1}"),
         "request_execution: resource_limits: max_instructions must be a non-negative integer that fits in 64 bits"},
        {REQ(",\"resource_limits\":{\"max_gpus\":1}"), "request_execution: resource_limits: unknown argument \"max_gpus\""},
        {REQ(",\"response_format\":\"Xml\""), "request_execution: response_format must be \"Text\", \"Json\" or \"Bytes\""},
        {REQ(",\"payer_account_id\":\"NOPE\""), "request_execution: payer_account_id is not a valid NEAR account id"},
        {REQ(",\"colour\":1"), "request_execution: unknown argument \"colour\""},
        {REQ(",\"input_data\":5"), "request_execution: input_data must be a string"},
        {REQ(",\"params\":{\"compile_only\":true},\"input_data\":\"x\""),
         "request_execution: params.compile_only requires an empty input_data"},
        {REQ(",\"secrets_ref\":{\"profile\":\"a b\",\"account_id\":\"bob.near\"}"),
         "request_execution: secrets_ref.profile must be 1-64 of [A-Za-z0-9_-]"},
        {"{}", "request_execution: missing argument source"},
        {"{\"source\":{\"GitHub\":{\"repo\":\"r\",\"commit\":\"c\"}},\"code_source\":{}}",
         "request_execution: give either source or code_source, not both"},
        {"{\"source\":{\"Svn\":{}}}", "request_execution: source must be {\"GitHub\":{...}} or {\"WasmUrl\":{...}}"},
        {"{\"source\":{\"GitHub\":{\"repo\":\"r\"}}}", "request_execution: source.GitHub: missing argument commit"},
        {"{\"source\":{\"GitHub\":{\"repo\":\"has space\",\"commit\":\"c\"}}}",
         "request_execution: source.GitHub: repo must be printable ASCII without spaces"},
        {"{\"source\":{\"GitHub\":{\"repo\":\"r\",\"commit\":\"c\",\"build_target\":\"../x\"}}}",
         "request_execution: source.GitHub: build_target must be made of [a-z0-9_-], like wasm32-wasip1"},
        {"{\"source\":{\"WasmUrl\":{\"url\":\"file:///etc/passwd\",\"hash\":\"00\"}}}",
         "request_execution: source.WasmUrl url must start with https://, http://, ipfs:// or ar://"},
        {"{\"source\":{\"WasmUrl\":{\"url\":\"https://x\",\"hash\":\"ABCD\"}}}",
         "request_execution: source.WasmUrl hash must be the sha256 of the module as 64 lowercase hex characters"},
        {"{\"source\":{\"WasmUrl\":{\"url\":\"https://x\",\"hash\":"
         "\"0000000000000000000000000000000000000000000000000000000000000000\"}},\"params\":{\"force_rebuild\":true}}",
         "request_execution: params.force_rebuild is not allowed for a WasmUrl source (nothing is built)"},
        {"{\"source\":1,}", "request_execution: invalid JSON arguments: object: trailing comma at byte 12"},
        {"[]", "request_execution: arguments must be a JSON object"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        call_as(ol_request_execution, ALICE, cases[i].args, DEP01);
        panics(cases[i].msg);
    }
    /* caps are inclusive */
    call_as(ol_request_execution, ALICE,
            REQ(",\"resource_limits\":{\"max_instructions\":100000000000,\"max_memory_mb\":1024,\"max_execution_seconds\":60}"),
            NEAR1);
    ok();

    /* input_data: 65536 bytes accepted (its storage is paid), 65537 refused */
    static char big[65537 + 300];
    int n = snprintf(big, sizeof big, "{\"source\":{\"GitHub\":{\"repo\":\"r\",\"commit\":\"c\"}},\"input_data\":\"");
    memset(big + n, 'a', 65536);
    memcpy(big + n + 65536, "\"}", 3);
    call_as(ol_request_execution, ALICE, big, NEAR1);
    ok();
    ASSERT_TRUE(O->storage_usage_after - O->storage_usage_before > 65536);
    memset(big + n, 'a', 65537);
    memcpy(big + n + 65537, "\"}", 3);
    call_as(ol_request_execution, ALICE, big, NEAR1);
    panics("request_execution: input_data is 65537 bytes, more than the limit of 65536");
}

static void test_deposit_and_gas(void) {
    /* measure the storage of one request, then attach exactly estimate + storage, and one yocto less */
    setup();
    /* the payment is part of the stored request: measure with a deposit of the same digit count */
    rq r = request("", "99999999999999999999999");
    u128 estimate = hd_u128("2000100000000000000000");
    u128 required = add(estimate, storage_cost(r.storage_bytes));
    ASSERT_TRUE(r.storage_bytes > 400 && r.storage_bytes < 1200);

    char want[512];
    snprintf(want, sizeof want,
             "request_execution: attached deposit %s yoctoNEAR is less than the required %s (estimated cost %s + "
             "storage of %" PRIu64 " bytes %s)",
             dec(sub(required, u128_from_u64(1))), dec(required), dec(estimate), r.storage_bytes,
             dec(storage_cost(r.storage_bytes)));
    setup();
    call_as(ol_request_execution, ALICE, "{" "\"source\":{\"GitHub\":{\"repo\":\"https://github.com/x/random\",\"commit\":\"abc\"}}}",
            dec(sub(required, u128_from_u64(1))));
    panics(want);
    ASSERT_EQ(hd_storage_count(), 1); /* only the state: everything rolled back */
    call_as(ol_request_execution, ALICE, "{" "\"source\":{\"GitHub\":{\"repo\":\"https://github.com/x/random\",\"commit\":\"abc\"}}}",
            dec(required));
    ok();
    call_as(ol_request_execution, ALICE, REQ(""), NULL);
    panics_with("request_execution: attached deposit 0 yoctoNEAR is less than the required");

    /* gas: 65 Tgas on top of what is already used */
    hd_call_opts o = {0};
    o.predecessor = ALICE;
    o.args = REQ("");
    o.deposit = hd_u128(DEP01);
    o.used_gas = 2 * HD_TGAS;
    o.prepaid_gas = 67 * HD_TGAS - 1;
    O = hd_call(ol_request_execution, &o);
    panics("request_execution: prepaid gas of 66999999999999 is too little: attach at least 65000000000000 gas "
           "(50 Tgas reserved for the on_execution_response callback + 15 Tgas for request_execution)");
    o.prepaid_gas = 67 * HD_TGAS;
    O = hd_call(ol_request_execution, &o);
    ok();
}

static void test_settlement(void) {
    setup();
    u128 start = hd_balance();
    u128 pay = hd_u128(DEP01);
    rq r = request("", DEP01);
    call_as(ol_get_request, OPERATOR, "{\"request_id\":0}", NULL);
    ASSERT_TRUE(strcmp(O->ret, "null") != 0);

    /* access control and argument checks on resolve */
    call_as(ol_resolve_execution, ALICE, "{\"request_id\":0,\"response\":{}}", NULL);
    panics("resolve_execution: only the operator operator.near may resolve executions (caller: alice.near)");
    resolve(0, "{\"resources_used\":{\"instructions\":1,\"time_ms\":1}}", NULL);
    panics("resolve_execution: missing argument response.success");
    resolve(0, "{\"success\":true}", NULL);
    panics("resolve_execution: missing argument response.resources_used");
    resolve(0, "{\"success\":true,\"resources_used\":{\"instructions\":1000000001,\"time_ms\":1}}", NULL);
    panics("resolve_execution: response.resources_used.instructions 1000000001 exceeds request 0's max_instructions "
           "1000000000");
    resolve(0, "{\"success\":true,\"output\":{\"Json\":1},\"resources_used\":{\"instructions\":1,\"time_ms\":1}}", NULL);
    panics("resolve_execution: response.output is Json but request 0 asked for response_format Text");
    resolve(0, "{\"success\":true,\"resources_used\":{\"instructions\":1,\"time_ms\":1}}",
            ",\"report\":{\"wasm_hash\":\"xyz\"}");
    panics("resolve_execution: report.wasm_hash must be 64 lowercase hex characters");
    call_as(ol_resolve_execution, OPERATOR, "{\"request_id\":0,\"response\":{}}", "1");
    panics("resolve_execution does not accept a deposit");
    resolve(7, "{\"success\":true,\"resources_used\":{\"instructions\":1,\"time_ms\":1}}", NULL);
    panics("resolve_execution: request 7 not found (already settled, cancelled, or never created)");

    /* 2_500_000 instructions -> 2 M (floor), 30 ms, 1000 ms compile */
    const char *h = "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"";
    char rep[400];
    snprintf(rep, sizeof rep, ",\"report\":{\"wasm_hash\":%s,\"input_hash\":%s,\"output_hash\":%s}", h, h, h);
    resolve(0, "{\"success\":true,\"output\":{\"Text\":\"heads\"},\"error\":null,\"resources_used\":{\"instructions\":"
               "2500000,\"time_ms\":30,\"compile_time_ms\":1000},\"compilation_note\":\"built\"}",
            rep);
    ok();
    ASSERT_EQ(hd_yield_state(r.data_id), 2);
    resolve(0, "{\"success\":false,\"resources_used\":{\"instructions\":0,\"time_ms\":0}}", NULL);
    panics("resolve_execution: request 0 was already resolved; the first resolution wins");

    settle(&r);
    ok();
    u128 cost = add(add(BASE, mul(PER_M, 2)), add(mul(PER_MS, 30), mul(PER_CMS, 1000)));
    u128 refund = sub(pay, cost);
    ASSERT_U128(hd_transferred_to(O, ALICE), refund);
    ASSERT_STREQ(O->ret, "\"heads\"");
    char want[1500];
    snprintf(want, sizeof want,
             "EVENT_JSON:{\"standard\":\"near-outlayer\",\"version\":\"1.0.0\",\"event\":\"execution_completed\",\"data\":"
             "[{\"request_id\":0,\"sender_id\":\"alice.near\",\"success\":true,\"error_message\":null,\"resources_used\":"
             "{\"instructions\":2500000,\"time_ms\":30,\"compile_time_ms\":1000},\"payment_charged\":\"%s\","
             "\"payment_refunded\":\"%s\",\"wasm_hash\":%s,\"input_hash\":%s,\"output_hash\":%s,"
             "\"worker_public_key\":\"ed25519:%s\"}]}",
             dec(cost), dec(refund), h, h, h, "US517G5965aydkZ46HS38QLi7UQiSojurfbQfKCELFx");
    ASSERT_STREQ(last_event(O), want);
    /* everything the request stored is gone; the contract kept exactly the fee */
    ASSERT_EQ(hd_storage_count(), 1);
    ASSERT_U128(hd_balance(), add(start, cost));
    call_as(ol_get_stats, ALICE, "", NULL);
    snprintf(want, sizeof want,
             "{\"total_executions\":1,\"total_fees_collected\":\"%s\",\"fees_available\":\"%s\",\"pending_requests\":0,"
             "\"next_request_id\":1}",
             dec(cost), dec(cost));
    ASSERT_STREQ(O->ret, want);
    resolve(0, "{\"success\":true,\"resources_used\":{\"instructions\":1,\"time_ms\":1}}", NULL);
    panics("resolve_execution: request 0 not found (already settled, cancelled, or never created)");
}

static void test_formats_and_failure(void) {
    setup();
    rq r = request("\"response_format\":\"Json\"", DEP01);
    resolve(r.id, "{\"success\":true,\"output\":{\"Json\":{\"random_number\": 57, \"s\":[1,\"x\"]}},"
                  "\"resources_used\":{\"instructions\":0,\"time_ms\":0}}",
            NULL);
    ok();
    settle(&r);
    ASSERT_STREQ(O->ret, "{\"random_number\":57,\"s\":[1,\"x\"]}");
    /* zero usage = base fee only */
    ASSERT_U128(hd_transferred_to(O, ALICE), sub(hd_u128(DEP01), BASE));

    r = request("\"response_format\":\"Bytes\"", DEP01);
    resolve(r.id, "{\"success\":true,\"output\":{\"Bytes\":[104,105,0,255]},\"resources_used\":{\"instructions\":0,"
                  "\"time_ms\":0}}",
            NULL);
    ok();
    settle(&r);
    ASSERT_STREQ(O->ret, "\"aGkA/w==\"");
    r = request("\"response_format\":\"Bytes\"", DEP01);
    resolve(r.id, "{\"success\":true,\"output\":{\"Bytes\":[256]},\"resources_used\":{\"instructions\":0,\"time_ms\":0}}",
            NULL);
    panics("resolve_execution: response.output.Bytes must be base64 or an array of numbers 0-255");
    resolve(r.id, "{\"success\":true,\"output\":{\"Bytes\":\"aGk=\"},\"resources_used\":{\"instructions\":0,\"time_ms\":0}}",
            NULL);
    ok();
    settle(&r);
    ASSERT_STREQ(O->ret, "\"aGk=\"");

    /* a failed run keeps only the base fee, whatever it used, and returns null */
    r = request("", DEP01);
    resolve(r.id, "{\"success\":false,\"error\":\"trap: unreachable\",\"resources_used\":{\"instructions\":999000000,"
                  "\"time_ms\":9000}}",
            NULL);
    ok();
    settle(&r);
    ASSERT_STREQ(O->ret, "null");
    ASSERT_U128(hd_transferred_to(O, ALICE), sub(hd_u128(DEP01), BASE));
    ASSERT_CONTAINS(last_event(O), "\"success\":false,\"error_message\":\"trap: unreachable\"");

    /* success without output returns null but charges usage */
    r = request("", DEP01);
    resolve(r.id, "{\"success\":true,\"resources_used\":{\"instructions\":1000000,\"time_ms\":0}}", NULL);
    settle(&r);
    ASSERT_STREQ(O->ret, "null");
    ASSERT_U128(hd_transferred_to(O, ALICE), sub(hd_u128(DEP01), add(BASE, PER_M)));
}

static void test_fee_edges(void) {
    /* huge prices: the charge saturates and is capped at the fee budget (payment - storage deposit) */
    setup();
    /* compile time is not in the estimate, so a huge compile price passes the deposit check */
    call_as(ol_set_pricing, OWNER, "{\"per_compile_ms_fee\":\"340282366920938463463374607431768211455\"}", NULL);
    ok();
    rq r = request("", NEAR1);
    resolve(r.id, "{\"success\":true,\"output\":{\"Text\":\"x\"},\"resources_used\":{\"instructions\":"
                  "1000000000,\"time_ms\":18446744073709551615,\"compile_time_ms\":18446744073709551615}}",
            NULL);
    ok();
    settle(&r);
    ok();
    /* refund = the request's storage deposit exactly: nothing more than was paid is ever charged */
    ASSERT_U128(hd_transferred_to(O, ALICE), storage_cost(r.storage_bytes));
    ASSERT_CONTAINS(last_event(O), "\"payment_charged\":\"");

    /* a base fee at u128 max makes every estimate impossible to pay, with a clear message */
    call_as(ol_set_pricing, OWNER, "{\"base_fee\":\"340282366920938463463374607431768211455\"}", NULL);
    ok();
    call_as(ol_request_execution, ALICE, REQ(""), NEAR1);
    panics_with("is less than the required 340282366920938463463374607431768211455");
    call_as(ol_set_pricing, OWNER, "{\"base_fee\":\"340282366920938463463374607431768211456\"}", NULL);
    panics("set_pricing: base_fee must be a decimal string of yoctoNEAR (an unsigned 128-bit integer)");
    call_as(ol_set_pricing, OWNER, "{\"base_fee\":1}", NULL);
    panics("set_pricing: base_fee must be a decimal string of yoctoNEAR (an unsigned 128-bit integer)");
    call_as(ol_set_pricing, ALICE, "{\"base_fee\":\"0\"}", NULL);
    panics("set_pricing: only the owner owner.near may call this (caller: alice.near)");

    /* prices are fixed when a request is made: a later set_pricing does not change what it pays */
    call_as(ol_set_pricing, OWNER, "{\"base_fee\":\"1000\",\"per_compile_ms_fee\":\"0\"}", NULL);
    ok();
    r = request("", DEP01);
    call_as(ol_set_pricing, OWNER, "{\"base_fee\":\"99999999999999999999999\"}", NULL);
    ok();
    resolve(r.id, "{\"success\":false,\"resources_used\":{\"instructions\":0,\"time_ms\":0}}", NULL);
    ok();
    settle(&r);
    ASSERT_U128(hd_transferred_to(O, ALICE), sub(hd_u128(DEP01), u128_from_u64(1000)));

    /* zero prices: nothing charged, full refund */
    call_as(ol_set_pricing, OWNER, "{\"base_fee\":\"0\",\"per_million_instructions_fee\":\"0\",\"per_ms_fee\":\"0\","
                                   "\"per_compile_ms_fee\":\"0\"}",
            NULL);
    ok();
    r = request("", DEP01);
    resolve(r.id, "{\"success\":true,\"resources_used\":{\"instructions\":5,\"time_ms\":5}}", NULL);
    settle(&r);
    ASSERT_U128(hd_transferred_to(O, ALICE), hd_u128(DEP01));
}

static void test_timeout_late_and_cancel(void) {
    setup();
    u128 start = hd_balance();
    rq r = request("", DEP01);
    ASSERT_TRUE(hd_run_yield(ol_on_execution_response, r.data_id) == NULL); /* window still open */
    hd_set_block(100 + OL_YIELD_WINDOW_BLOCKS, 1700000100000000000ull);
    /* the window has closed: a late resolve fails and changes nothing */
    resolve(r.id, "{\"success\":true,\"resources_used\":{\"instructions\":1,\"time_ms\":1}}", NULL);
    panics("resolve_execution: the yield of request 0 is no longer pending (its 200-block window has passed)");
    settle(&r);
    ok();
    ASSERT_STREQ(O->ret, "null");
    ASSERT_U128(hd_transferred_to(O, ALICE), hd_u128(DEP01)); /* the whole deposit */
    ASSERT_CONTAINS(last_event(O), "\"success\":false,\"error_message\":\"timeout\",\"resources_used\":null,"
                                   "\"payment_charged\":\"0\",\"payment_refunded\":\"100000000000000000000000\"");
    ASSERT_EQ(hd_storage_count(), 1);
    ASSERT_U128(hd_balance(), start);
    resolve(r.id, "{\"success\":true,\"resources_used\":{\"instructions\":1,\"time_ms\":1}}", NULL);
    panics("resolve_execution: request 0 not found (already settled, cancelled, or never created)");

    /* cancel_stale_execution */
    setup();
    r = request("\"payer_account_id\":\"bob.near\"", DEP01);
    call_as(ol_cancel_stale_execution, "mallory.near", "{\"request_id\":0}", NULL);
    panics("cancel_stale_execution: only the sender alice.near of request 0 may cancel it");
    hd_set_block(300, 1);
    call_as(ol_cancel_stale_execution, ALICE, "{\"request_id\":0}", NULL);
    panics("cancel_stale_execution: request 0 is not stale: its yield window ends at block 300 (now 300)");
    hd_set_block(301, 1);
    call_as(ol_cancel_stale_execution, ALICE, "{\"request_id\":0}", NULL);
    ok();
    ASSERT_U128(hd_transferred_to(O, "bob.near"), hd_u128(DEP01));
    ASSERT_EQ(hd_storage_count(), 1);
    call_as(ol_cancel_stale_execution, ALICE, "{\"request_id\":0}", NULL);
    panics("cancel_stale_execution: request 0 not found");
    /* the timeout callback that comes later finds nothing to settle and pays nothing */
    settle(&r);
    ok();
    ASSERT_STREQ(O->ret, "null");
    ASSERT_EQ(O->nactions, 0);

    /* a resolved request whose callback is overdue: cancellable only after a second window */
    setup();
    r = request("", DEP01);
    resolve(r.id, "{\"success\":true,\"resources_used\":{\"instructions\":0,\"time_ms\":0}}", NULL);
    ok();
    hd_set_block(301, 1);
    call_as(ol_cancel_stale_execution, ALICE, "{\"request_id\":0}", NULL);
    panics("cancel_stale_execution: request 0 is not stale: its yield window ends at block 500 (now 301)");
    hd_set_block(501, 1);
    call_as(ol_cancel_stale_execution, ALICE, "{\"request_id\":0}", NULL);
    ok();
    ASSERT_U128(hd_transferred_to(O, ALICE), hd_u128(DEP01));
    ASSERT_EQ(hd_storage_count(), 1);
}

static void test_large_output(void) {
    setup();
    rq r = request("", NEAR1);
    /* 1100 bytes of text: the response exceeds the 1024-byte resume payload */
    static char resp[70000 + 200], text[65537 + 1];
    memset(text, 'z', 1100);
    text[1100] = 0;
    snprintf(resp, sizeof resp, "{\"success\":true,\"output\":{\"Text\":\"%s\"},\"resources_used\":{\"instructions\":0,"
                                "\"time_ms\":0}}",
             text);
    resolve(r.id, resp, NULL);
    ok();
    ASSERT_TRUE(O->storage_usage_after > O->storage_usage_before + 1100); /* kept in state */
    settle(&r);
    ok();
    ASSERT_EQ(O->ret_len, 1102);
    ASSERT_TRUE(O->ret[0] == '"' && memcmp(O->ret + 1, text, 1100) == 0);
    ASSERT_EQ(hd_storage_count(), 1);

    /* the 64 KiB cap, at the boundary */
    r = request("", NEAR1);
    memset(text, 'z', 65537);
    text[65537] = 0;
    snprintf(resp, sizeof resp, "{\"success\":true,\"output\":{\"Text\":\"%s\"},\"resources_used\":{\"instructions\":0,"
                                "\"time_ms\":0}}",
             text);
    resolve(r.id, resp, NULL);
    panics("resolve_execution: response.output is 65537 bytes, more than OL_MAX_OUTPUT_BYTES (65536)");
    text[65536] = 0;
    snprintf(resp, sizeof resp, "{\"success\":true,\"output\":{\"Text\":\"%s\"},\"resources_used\":{\"instructions\":0,"
                                "\"time_ms\":0}}",
             text);
    resolve(r.id, resp, NULL);
    ok();
    settle(&r);
    ASSERT_EQ(O->ret_len, 65538);

    /* the output's storage must fit in the deposit: 0.1 NEAR cannot hold 64 KiB (0.65 NEAR) */
    r = request("", DEP01);
    resolve(r.id, resp, NULL);
    panics_with("resolve_execution: keeping the ");
    ASSERT_CONTAINS(O->panic_msg, "resolve with a shorter output or a failure");
    ASSERT_EQ(hd_yield_state(r.data_id), 1); /* nothing happened: a short failure can still resolve it */
    resolve(r.id, "{\"success\":false,\"error\":\"output too large\",\"resources_used\":{\"instructions\":0,"
                  "\"time_ms\":0}}",
            NULL);
    ok();
}

static void test_list_pending(void) {
    setup();
    rq r[4];
    for (int i = 0; i < 4; i++) r[i] = request("", DEP01);
    resolve(1, "{\"success\":true,\"resources_used\":{\"instructions\":0,\"time_ms\":0}}", NULL);
    settle(&r[1]);
    call_as(ol_list_pending_requests, ALICE, "{}", NULL);
    ASSERT_TRUE(strstr(O->ret, "\"request_id\":0,") && !strstr(O->ret, "\"request_id\":1,") &&
                strstr(O->ret, "\"request_id\":2,") && strstr(O->ret, "\"request_id\":3,"));
    ASSERT_TRUE(strstr(O->ret, "\"request_id\":0,") < strstr(O->ret, "\"request_id\":2,"));
    call_as(ol_list_pending_requests, ALICE, "{\"from_id\":1,\"limit\":1}", NULL);
    ok();
    ASSERT_TRUE(strncmp(O->ret, "[{\"request_id\":2,", 17) == 0);
    ASSERT_TRUE(!strstr(O->ret, "\"request_id\":3,"));
    call_as(ol_list_pending_requests, ALICE, "{\"from_id\":4}", NULL);
    ASSERT_STREQ(O->ret, "[]");
    call_as(ol_list_pending_requests, ALICE, "{\"limit\":101}", NULL);
    panics("list_pending_requests: limit 101 exceeds the maximum of 100");
    call_as(ol_list_pending_requests, ALICE, "{\"limit\":0}", NULL);
    panics("list_pending_requests: limit must be at least 1");
    call_as(ol_list_pending_requests, ALICE, "{\"limit\":100}", NULL);
    ok();
    call_as(ol_get_stats, ALICE, "", NULL);
    ASSERT_CONTAINS(O->ret, "\"pending_requests\":3,\"next_request_id\":4");

    /* pages stop at OL_LIST_MAX_BYTES: 20 requests with 64 KiB inputs come in pages, none lost */
    setup();
    static char big[65536 + 300];
    int n = snprintf(big, sizeof big, "{\"source\":{\"GitHub\":{\"repo\":\"r\",\"commit\":\"c\"}},\"input_data\":\"");
    memset(big + n, 'a', 65536);
    memcpy(big + n + 65536, "\"}", 3);
    for (int i = 0; i < 20; i++) {
        call_as(ol_request_execution, ALICE, big, NEAR1);
        ok();
    }
    uint64_t from = 0;
    int seen = 0, pages = 0;
    for (;;) {
        char args[64];
        snprintf(args, sizeof args, "{\"from_id\":%" PRIu64 ",\"limit\":100}", from);
        call_as(ol_list_pending_requests, ALICE, args, NULL);
        ok();
        ASSERT_TRUE(O->ret_len <= OL_LIST_MAX_BYTES);
        int in_page = 0;
        uint64_t last = 0;
        for (const char *p = O->ret; (p = strstr(p, "{\"request_id\":")); p++) {
            ASSERT_EQ_U64(strtoull(p + 14, NULL, 10), from + (uint64_t)in_page);
            last = strtoull(p + 14, NULL, 10);
            in_page++;
        }
        if (!in_page) break;
        ASSERT_TRUE(in_page < 20);
        seen += in_page;
        pages++;
        from = last + 1;
    }
    ASSERT_EQ(seen, 20);
    ASSERT_TRUE(pages >= 2);
}

static void test_admin(void) {
    setup();
    call_as(ol_set_paused, ALICE, "{\"paused\":true}", NULL);
    panics("set_paused: only the owner owner.near may call this (caller: alice.near)");
    rq r = request("", DEP01);
    call_as(ol_set_paused, OWNER, "{\"paused\":true}", NULL);
    ok();
    call_as(ol_request_execution, ALICE, REQ(""), DEP01);
    panics("request_execution: the contract is paused: new requests are refused");
    /* pending work still completes while paused */
    resolve(r.id, "{\"success\":true,\"resources_used\":{\"instructions\":0,\"time_ms\":0}}", NULL);
    ok();
    settle(&r);
    ok();
    call_as(ol_set_paused, OWNER, "{\"paused\":false}", "1");
    panics("set_paused does not accept a deposit");
    call_as(ol_set_paused, OWNER, "{\"paused\":\"no\"}", NULL);
    panics("set_paused: paused must be true or false");
    call_as(ol_set_paused, OWNER, "{\"paused\":false}", NULL);
    ok();

    call_as(ol_set_operator, ALICE, "{\"new_operator_id\":\"w.near\"}", NULL);
    panics("set_operator: only the owner owner.near may call this (caller: alice.near)");
    call_as(ol_set_operator, OWNER, "{\"new_operator_id\":\"w.near\"}", NULL);
    ok();
    r = request("", DEP01);
    resolve(r.id, "{\"success\":true,\"resources_used\":{\"instructions\":0,\"time_ms\":0}}", NULL);
    panics("resolve_execution: only the operator w.near may resolve executions (caller: operator.near)");

    call_as(ol_set_owner, OWNER, "{\"new_owner_id\":\"boss.near\"}", NULL);
    ok();
    call_as(ol_set_owner, OWNER, "{\"new_owner_id\":\"owner.near\"}", NULL);
    panics("set_owner: only the owner boss.near may call this (caller: owner.near)");

    /* fees: one settled request charged BASE */
    call_as(ol_withdraw_fees, ALICE, "{}", NULL);
    panics("withdraw_fees: only the owner boss.near may call this (caller: alice.near)");
    char args[200];
    snprintf(args, sizeof args, "{\"amount\":\"%s\"}", dec(add(BASE, u128_from_u64(1))));
    call_as(ol_withdraw_fees, "boss.near", args, NULL);
    char want[300];
    snprintf(want, sizeof want, "withdraw_fees: amount %s exceeds the fees available, %s", dec(add(BASE, u128_from_u64(1))),
             dec(BASE));
    panics(want);
    call_as(ol_withdraw_fees, "boss.near", "{\"amount\":\"1\",\"receiver_id\":\"treasury.near\"}", NULL);
    ok();
    ASSERT_U128(hd_transferred_to(O, "treasury.near"), u128_from_u64(1));
    call_as(ol_withdraw_fees, "boss.near", "{}", NULL);
    ok();
    ASSERT_U128(hd_transferred_to(O, "boss.near"), sub(BASE, u128_from_u64(1)));
    call_as(ol_withdraw_fees, "boss.near", "{}", NULL);
    panics("withdraw_fees: no fees to withdraw");

    /* upgrade and migrate */
    static const char wasm[] = "\0asm\1\0\0\0";
    hd_call_opts o = {0};
    o.predecessor = ALICE;
    o.args = wasm;
    o.args_len = 8;
    O = hd_call(ol_upgrade, &o);
    panics("upgrade: only the owner boss.near may call this (caller: alice.near)");
    o.predecessor = "boss.near";
    o.args = "{}";
    o.args_len = 2;
    O = hd_call(ol_upgrade, &o);
    panics("upgrade: the input must be a WebAssembly module (raw bytes starting with \\0asm)");
    o.args = wasm;
    o.args_len = 8;
    O = hd_call(ol_upgrade, &o);
    ok();
    const hd_action *d = hd_find_action(O, HD_ACT_DEPLOY, 0), *f = hd_find_action(O, HD_ACT_FUNCTION_CALL, 0);
    ASSERT_TRUE(d && f && d->promise == f->promise);
    ASSERT_STREQ(d->receiver, "outlayer.near");
    ASSERT_EQ(d->code_len, 8);
    ASSERT_STREQ(f->method, "migrate");
    ASSERT_TRUE(O->returned_promise);
    call_as(ol_migrate, "boss.near", "{}", NULL);
    panics("migrate is private: only outlayer.near may call it");
    call_as(ol_migrate, "outlayer.near", "{}", NULL);
    ok();
    ASSERT_STREQ(O->logs[0], "migrate: state at version 1");
    call_as(ol_on_execution_response, ALICE, "{\"request_id\":0}", NULL);
    panics("on_execution_response is private: only outlayer.near may call it");
}

/* ---- secrets ---- */

#define ACC "\"accessor\":{\"Repo\":{\"repo\":\"github.com/a/b\",\"branch\":\"main\"}}"
#define ENC(x) "\"encrypted_secrets_base64\":\"" x "\""

static void test_secrets(void) {
    setup();
    uint64_t base_usage = hd_storage_usage();
    const char *store = "{" ACC ",\"profile\":\"default\"," ENC("c2VjcmV0") ",\"access\":\"AllowAll\"}";
    call_as(ol_estimate_storage_cost, ALICE,
            "{" ACC ",\"profile\":\"default\",\"owner\":\"alice.near\"," ENC("c2VjcmV0") ",\"access\":\"AllowAll\"}", NULL);
    ok();
    char est[64];
    snprintf(est, sizeof est, "%s", O->ret);

    call_as(ol_store_secrets, ALICE, store, "1");
    panics_with("store_secrets: the entry's storage costs ");
    call_as(ol_store_secrets, ALICE, store, NEAR1);
    ok();
    uint64_t bytes1 = hd_storage_usage() - base_usage;
    u128 dep1 = storage_cost(bytes1);
    char want[64];
    snprintf(want, sizeof want, "\"%s\"", dec(dep1));
    ASSERT_STREQ(est, want); /* the estimate is exact */
    ASSERT_U128(hd_transferred_to(O, ALICE), sub(hd_u128(NEAR1), dep1));

    /* update to a larger ciphertext: pays only the difference */
    const char *bigger = "{" ACC ",\"profile\":\"default\"," ENC("c2VjcmV0c2VjcmV0c2VjcmV0") ",\"access\":\"AllowAll\"}";
    call_as(ol_store_secrets, ALICE, bigger, "0");
    panics_with("store_secrets: the entry's storage costs ");
    call_as(ol_store_secrets, ALICE, bigger, NEAR1);
    ok();
    uint64_t bytes2 = hd_storage_usage() - base_usage;
    ASSERT_EQ_U64(bytes2, bytes1 + 16);
    ASSERT_U128(hd_transferred_to(O, ALICE), sub(hd_u128(NEAR1), storage_cost(16)));

    /* shrink with nothing attached: exactly the difference comes back, never more */
    call_as(ol_store_secrets, ALICE, store, NULL);
    ok();
    ASSERT_U128(hd_transferred_to(O, ALICE), storage_cost(16));
    ASSERT_EQ_U64(hd_storage_usage() - base_usage, bytes1);

    /* get (with the wildcard fallback), exist, list */
    call_as(ol_get_secrets, ALICE, "{" ACC ",\"profile\":\"default\",\"owner\":\"alice.near\"}", NULL);
    snprintf(want, sizeof want, "\"storage_deposit\":\"%s\"", dec(dep1));
    ASSERT_CONTAINS(O->ret, want);
    ASSERT_CONTAINS(O->ret, "\"encrypted_secrets\":\"c2VjcmV0\"");
    ASSERT_CONTAINS(O->ret, "\"branch\":\"main\"");
    call_as(ol_get_secrets, ALICE,
            "{\"accessor\":{\"Repo\":{\"repo\":\"github.com/a/b\",\"branch\":\"dev\"}},\"profile\":\"default\","
            "\"owner\":\"alice.near\"}",
            NULL);
    ASSERT_STREQ(O->ret, "null");
    call_as(ol_store_secrets, ALICE,
            "{\"accessor\":{\"Repo\":{\"repo\":\"github.com/a/b\"}},\"profile\":\"default\"," ENC("d2lsZA==")
            ",\"access\":{\"AccountPattern\":{\"pattern\":\"^[a-z]+\\\\.near$\"}}}",
            NEAR1);
    ok();
    call_as(ol_get_secrets, ALICE,
            "{\"accessor\":{\"Repo\":{\"repo\":\"github.com/a/b\",\"branch\":\"dev\"}},\"profile\":\"default\","
            "\"owner\":\"alice.near\"}",
            NULL);
    ASSERT_CONTAINS(O->ret, "\"encrypted_secrets\":\"d2lsZA==\"");
    ASSERT_CONTAINS(O->ret, "\"branch\":null");
    call_as(ol_secrets_exist, ALICE,
            "{\"accessor\":{\"Repo\":{\"repo\":\"github.com/a/b\",\"branch\":\"dev\"}},\"profile\":\"default\","
            "\"owner\":\"alice.near\"}",
            NULL);
    ASSERT_STREQ(O->ret, "false");
    call_as(ol_secrets_exist, ALICE, "{" ACC ",\"profile\":\"default\",\"owner\":\"alice.near\"}", NULL);
    ASSERT_STREQ(O->ret, "true");
    call_as(ol_list_user_secrets, ALICE, "{\"account_id\":\"alice.near\"}", NULL);
    ASSERT_TRUE(strncmp(O->ret, "[{\"accessor\":{\"Repo\":{\"repo\":\"github.com/a/b\",\"branch\":\"main\"}},\"profile\":"
                                "\"default\",\"created_at\":",
                        91) == 0);
    ASSERT_CONTAINS(O->ret, "\"access\":{\"AccountPattern\":{\"pattern\":\"^[a-z]+\\\\.near$\"}}");

    /* update_access keeps created_at and settles the size change */
    call_as(ol_update_access, ALICE,
            "{" ACC ",\"profile\":\"default\",\"access\":{\"Whitelist\":{\"accounts\":[\"bob.near\",\"carol.near\"]}}}",
            NEAR1);
    ok();
    call_as(ol_update_access, "bob.near", "{" ACC ",\"profile\":\"default\",\"access\":\"AllowAll\"}", NULL);
    panics("update_access: bob.near has no secrets for this accessor and profile");

    /* deletes refund exactly what was recorded; storage returns to where it was */
    call_as(ol_delete_secrets, ALICE, "{" ACC ",\"profile\":\"default\"}", NULL);
    ok();
    call_as(ol_delete_secrets, ALICE, "{\"accessor\":{\"Repo\":{\"repo\":\"github.com/a/b\"}},\"profile\":\"default\"}", NULL);
    ok();
    ASSERT_EQ_U64(hd_storage_usage(), base_usage);
    call_as(ol_delete_secrets, ALICE, "{" ACC ",\"profile\":\"default\"}", NULL);
    panics("delete_secrets: alice.near has no secrets for this accessor and profile");
    call_as(ol_list_user_secrets, ALICE, "{\"account_id\":\"alice.near\"}", NULL);
    ASSERT_STREQ(O->ret, "[]");
    /* the contract's balance is unchanged by the whole secrets round trip */
    ASSERT_U128(hd_balance(), hd_u128(NEAR1));

    struct {
        const char *args, *msg;
    } bad[] = {
        {"{" ACC ",\"profile\":\"a/b\"," ENC("eA==") ",\"access\":\"AllowAll\"}",
         "store_secrets: profile must be 1-64 of [A-Za-z0-9_-]"},
        {"{" ACC ",\"profile\":\"p\"," ENC("eA=") ",\"access\":\"AllowAll\"}",
         "store_secrets: encrypted_secrets_base64 is not valid base64"},
        {"{" ACC ",\"profile\":\"p\"," ENC("eA==") ",\"access\":\"DenyAll\"}",
         "store_secrets: access must be \"AllowAll\" or one of {\"Whitelist\"|\"AccountPattern\"|\"NearBalance\"|"
         "\"FtBalance\"|\"NftOwned\"|\"DaoMember\"|\"Logic\"|\"Not\": {...}}"},
        {"{" ACC ",\"profile\":\"p\"," ENC("eA==") ",\"access\":{\"Whitelist\":{\"accounts\":[\"Bad\"]}}}",
         "store_secrets: access.Whitelist: accounts[0] is not a valid NEAR account id"},
        {"{" ACC ",\"profile\":\"p\"," ENC("eA==") ",\"access\":{\"NearBalance\":{\"operator\":\"Gte\",\"value\":\"-1\"}}}",
         "store_secrets: access.NearBalance: value must be a decimal string of yoctoNEAR (an unsigned 128-bit integer)"},
        {"{" ACC ",\"profile\":\"p\"," ENC("eA==") ",\"access\":{\"FtBalance\":{\"contract\":\"ft.near\",\"operator\":"
         "\"Most\",\"value\":\"1\"}}}",
         "store_secrets: access.FtBalance: operator must be one of Gte, Lte, Gt, Lt, Eq, Ne"},
        {"{" ACC ",\"profile\":\"p\"," ENC("eA==") ",\"access\":{\"Logic\":{\"operator\":\"Xor\",\"conditions\":[\"AllowAll\"]}}}",
         "store_secrets: access.Logic: operator must be And or Or"},
        {"{" ACC ",\"profile\":\"p\"," ENC("eA==") ",\"access\":{\"Not\":{\"condition\":{\"Not\":{\"condition\":{\"Not\":"
         "{\"condition\":{\"Not\":{\"condition\":{\"Not\":{\"condition\":{\"Not\":{\"condition\":{\"Not\":{\"condition\":"
         "{\"Not\":{\"condition\":\"AllowAll\"}}}}}}}}}}}}}}}}}",
         "store_secrets: access nests deeper than OL_MAX_ACCESS_DEPTH (8)"},
        {"{\"accessor\":{\"WasmHash\":{\"hash\":\"abc\"}},\"profile\":\"p\"," ENC("eA==") ",\"access\":\"AllowAll\"}",
         "store_secrets: accessor.WasmHash.hash must be 64 lowercase hex characters"},
        {"{\"accessor\":{\"Git\":{}},\"profile\":\"p\"," ENC("eA==") ",\"access\":\"AllowAll\"}",
         "store_secrets: accessor must be {\"Repo\":{...}} or {\"WasmHash\":{...}}"},
        {"{" ACC ",\"profile\":\"p\"," ENC("eA==") "}", "store_secrets: missing argument access"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        call_as(ol_store_secrets, ALICE, bad[i].args, NEAR1);
        panics(bad[i].msg);
    }
    /* a valid nested condition of every kind is accepted */
    call_as(ol_store_secrets, ALICE,
            "{\"accessor\":{\"WasmHash\":{\"hash\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}},"
            "\"profile\":\"p\"," ENC("eA==") ",\"access\":{\"Logic\":{\"operator\":\"Or\",\"conditions\":["
            "{\"NearBalance\":{\"operator\":\"Gte\",\"value\":\"1\"}},"
            "{\"FtBalance\":{\"contract\":\"ft.near\",\"operator\":\"Lt\",\"value\":\"5\"}},"
            "{\"NftOwned\":{\"contract\":\"nft.near\",\"token_id\":null}},"
            "{\"DaoMember\":{\"dao_contract\":\"dao.near\",\"role\":\"council\"}},"
            "{\"Not\":{\"condition\":{\"Whitelist\":{\"accounts\":[\"eve.near\"]}}}}]}}}",
            NEAR1);
    ok();
}

int main(void) {
    BASE = hd_u128(OL_DEFAULT_BASE_FEE);
    PER_M = hd_u128(OL_DEFAULT_PER_MILLION_INSTRUCTIONS);
    PER_MS = hd_u128(OL_DEFAULT_PER_MS);
    PER_CMS = hd_u128(OL_DEFAULT_PER_COMPILE_MS);
    test_init_and_views();
    test_request_defaults_and_event();
    test_request_validation();
    test_deposit_and_gas();
    test_settlement();
    test_formats_and_failure();
    test_fee_edges();
    test_timeout_late_and_cancel();
    test_large_output();
    test_list_pending();
    test_admin();
    test_secrets();
    puts("test_contracts_outlayer: ok");
    return 0;
}
