/* contracts/examples/coinflip: stake checks, the request it sends to OutLayer (accepted by the real
 * OutLayer contract code), and full rounds: win pays double, loss keeps the stake, a null answer (failure
 * or timeout) and a failed call return the stake. */
#include "examples/coinflip/coinflip.h"
#include "host_double.h"
#include "outlayer/outlayer.h"
#include "test.h"

#define CF "coinflip.near"
#define OUTLAYER "outlayer.near"
#define PLAYER "player.near"
#define STAKE "1000000000000000000000000" /* 1 NEAR */
#define BANK "100000000000000000000000000" /* 100 NEAR */

static const hd_outcome *O;

static const hd_outcome *call(void (*m)(void), const char *pred, const char *args, const char *deposit) {
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

static const char *SOURCE =
    "{\"GitHub\":{\"repo\":\"https://github.com/outlayer/random\",\"commit\":\"0123456789abcdef\"}}";

static void setup(const char *bank) {
    hd_reset(CF, hd_u128(bank));
    char args[512];
    snprintf(args, sizeof args, "{\"outlayer_id\":\"" OUTLAYER "\",\"source\":%s}", SOURCE);
    call(cf_new, "deployer.near", args, NULL);
    ok();
}

static char req_args[4096], cb_args[1024];

/* Flips and checks the promises: request_execution on OutLayer, then on_flip_result on itself. */
static void flip(const char *choice) {
    char args[64];
    snprintf(args, sizeof args, "{\"choice\":\"%s\"}", choice);
    call(cf_flip_coin, PLAYER, args, STAKE);
    ok();
    const hd_action *r = hd_find_action(O, HD_ACT_FUNCTION_CALL, 0), *t = hd_find_action(O, HD_ACT_FUNCTION_CALL, 1);
    ASSERT_TRUE(r && t);
    ASSERT_STREQ(r->receiver, OUTLAYER);
    ASSERT_STREQ(r->method, "request_execution");
    ASSERT_TRUE(u128_cmp(r->amount, hd_u128(CF_FEE_DEPOSIT)) == 0);
    ASSERT_EQ_U64(r->gas, CF_REQUEST_GAS);
    ASSERT_STREQ(t->receiver, CF);
    ASSERT_STREQ(t->method, "on_flip_result");
    ASSERT_EQ(t->after, (int64_t)r->promise);
    ASSERT_TRUE(O->returned_promise && O->returned_promise_idx == t->promise);
    snprintf(req_args, sizeof req_args, "%s", r->args);
    snprintf(cb_args, sizeof cb_args, "%s", t->args);
}

static const hd_outcome *callback(int status, const char *payload) {
    hd_call_opts o = {0};
    o.predecessor = CF;
    o.args = cb_args;
    o.promise_results = 1;
    o.promise_status = status;
    o.payload = payload;
    O = hd_call(cf_on_flip_result, &o);
    return O;
}

static void test_checks(void) {
    setup(BANK);
    call(cf_flip_coin, PLAYER, "{\"choice\":\"Edge\"}", STAKE);
    ASSERT_STREQ(O->panic_msg, "flip_coin: choice must be \"Heads\" or \"Tails\"");
    call(cf_flip_coin, PLAYER, "{\"choice\":\"Heads\"}", "19999999999999999999999");
    ASSERT_STREQ(O->panic_msg, "flip_coin: the stake 19999999999999999999999 is below the minimum "
                               "20000000000000000000000 (it must cover OutLayer's fee deposit)");
    call(cf_flip_coin, PLAYER, "{\"choice\":\"Heads\"}", "10000000000000000000000001");
    ASSERT_STREQ(O->panic_msg, "flip_coin: the stake 10000000000000000000000001 is above the maximum "
                               "10000000000000000000000000");
    hd_call_opts o = {0};
    o.predecessor = PLAYER;
    o.args = "{\"choice\":\"Heads\"}";
    o.deposit = hd_u128(STAKE);
    o.prepaid_gas = 149 * HD_TGAS;
    O = hd_call(cf_flip_coin, &o);
    ASSERT_STREQ(O->panic_msg, "flip_coin: attach at least 150000000000000 gas (OutLayer request + callback + this call)");
    call(cf_on_flip_result, PLAYER, "{}", NULL);
    ASSERT_STREQ(O->panic_msg, "on_flip_result is private: only coinflip.near may call it");

    /* a small bank refuses stakes it could not pay out */
    setup("1000000000000000000000000"); /* 1 NEAR */
    call(cf_flip_coin, PLAYER, "{\"choice\":\"Heads\"}", STAKE);
    ASSERT_STREQ(O->panic_msg, "flip_coin: the bank cannot cover a win of 2000000000000000000000000 right now; "
                               "try a smaller stake");
}

/* The request coinflip sends is accepted by the OutLayer contract, and OutLayer's callback result for a Json
 * answer is what coinflip's callback then parses. Returns OutLayer's return value for the given output. */
static char *through_outlayer(const char *json_output, bool fail) {
    static char ret[256];
    hd_reset(OUTLAYER, hd_u128(BANK));
    call(ol_new, "owner.near", "{\"owner_id\":\"owner.near\",\"operator_id\":\"op.near\"}", NULL);
    ok();
    call(ol_request_execution, CF, req_args, CF_FEE_DEPOSIT);
    ok();
    const hd_action *y = hd_find_action(O, HD_ACT_YIELD, 0);
    uint8_t data_id[32];
    memcpy(data_id, y->data_id, 32);
    char resolve[512];
    if (fail)
        snprintf(resolve, sizeof resolve, "{\"request_id\":0,\"response\":{\"success\":false,\"error\":\"trap\","
                                          "\"resources_used\":{\"instructions\":10,\"time_ms\":1}}}");
    else
        snprintf(resolve, sizeof resolve, "{\"request_id\":0,\"response\":{\"success\":true,\"output\":{\"Json\":%s},"
                                          "\"resources_used\":{\"instructions\":21043,\"time_ms\":6}}}",
                 json_output);
    call(ol_resolve_execution, "op.near", resolve, NULL);
    ok();
    O = hd_run_yield(ol_on_execution_response, data_id);
    ok();
    /* the unused fee deposit goes back to coinflip, the payer */
    ASSERT_TRUE(!u128_is_zero(hd_transferred_to(O, CF)));
    snprintf(ret, sizeof ret, "%s", O->ret);
    return ret;
}

static void test_rounds(void) {
    u128 stake = hd_u128(STAKE), two;
    u128_add(stake, stake, &two);

    /* win: Heads on an even number pays double */
    setup(BANK);
    flip("Heads");
    ASSERT_CONTAINS(req_args, "\"response_format\":\"Json\"");
    ASSERT_CONTAINS(req_args, "\"payer_account_id\":\"coinflip.near\"");
    char *answer = through_outlayer("{\"random_number\":4}", false);
    ASSERT_STREQ(answer, "{\"random_number\":4}");
    setup(BANK);
    flip("Heads");
    callback(1, answer);
    ok();
    ASSERT_TRUE(u128_cmp(hd_transferred_to(O, PLAYER), two) == 0);
    ASSERT_CONTAINS(O->ret, "\"outcome\":\"Heads\",\"won\":true,\"paid\":\"2000000000000000000000000\"");

    /* loss: the stake stays with the bank */
    flip("Tails");
    callback(1, "{\"random_number\":4}");
    ok();
    ASSERT_EQ(O->nactions, 0);
    ASSERT_CONTAINS(O->ret, "\"outcome\":\"Heads\",\"won\":false,\"paid\":\"0\"");

    /* a plain number works too; odd = Tails */
    flip("Tails");
    callback(1, "7");
    ASSERT_CONTAINS(O->ret, "\"outcome\":\"Tails\",\"won\":true");

    /* a failed run: OutLayer returns null, the stake comes back */
    answer = through_outlayer(NULL, true);
    ASSERT_STREQ(answer, "null");
    setup(BANK);
    flip("Heads");
    callback(1, answer);
    ok();
    ASSERT_TRUE(u128_cmp(hd_transferred_to(O, PLAYER), stake) == 0);
    ASSERT_CONTAINS(O->ret, "\"outcome\":null,\"won\":false");

    /* a timeout also answers null; a failed call to OutLayer (refused request) refunds as well */
    flip("Heads");
    callback(2, NULL);
    ok();
    ASSERT_TRUE(u128_cmp(hd_transferred_to(O, PLAYER), stake) == 0);

    call(cf_get_stats, PLAYER, "", NULL);
    ASSERT_STREQ(O->ret, "{\"games\":2,\"wins\":0,\"losses\":0,\"refunds\":2,\"reserved\":\"0\"}");
    call(cf_get_config, PLAYER, "", NULL);
    ASSERT_CONTAINS(O->ret, "\"outlayer_id\":\"outlayer.near\"");
}

int main(void) {
    test_checks();
    test_rounds();
    puts("test_contracts_coinflip: ok");
    return 0;
}
