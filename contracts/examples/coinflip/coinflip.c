/* coinflip: how a contract integrates with OutLayer (see coinflip.h and docs/contracts.md).
 *
 *   flip_coin     checks the stake and the bank, reserves the possible payout, calls
 *                 outlayer.request_execution(random guest, response_format Json) with CF_FEE_DEPOSIT taken
 *                 from the stake, then on_flip_result on itself, and returns that promise.
 *   on_flip_result  reads OutLayer's answer: a JSON number (or {"random_number": n}, {"result": n}, {"value":
 *                 n}) decides the side by parity (even = Heads); null or a failed call refunds the stake.
 *
 * The random guest is run with input {"min":0,"max":1}. */
#include "coinflip.h"

#include "../../sdk/sdk.h"

#define KEY_STATE "STATE"

typedef struct cf_state {
    sdk_bytes owner, outlayer, source;
    uint64_t games, wins, losses, refunds;
    u128 reserved; /* payouts promised to games in flight */
} cf_state;

static void state_save(const cf_state *s) {
    sdk_bin b;
    sdk_bin_init(&b);
    sdk_bin_u8(&b, 1);
    sdk_bin_bytes(&b, s->owner.p, s->owner.n);
    sdk_bin_bytes(&b, s->outlayer.p, s->outlayer.n);
    sdk_bin_bytes(&b, s->source.p, s->source.n);
    sdk_bin_u64(&b, s->games);
    sdk_bin_u64(&b, s->wins);
    sdk_bin_u64(&b, s->losses);
    sdk_bin_u64(&b, s->refunds);
    sdk_bin_u128(&b, s->reserved);
    sdk_storage_write(KEY_STATE, sizeof KEY_STATE - 1, b.buf, b.len);
}

static void state_load(cf_state *s, const char *m) {
    sdk_bytes raw;
    if (!sdk_storage_read(KEY_STATE, sizeof KEY_STATE - 1, &raw))
        sdk_panicf("%s: the contract is not initialized (call new first)", m);
    sdk_bin b;
    sdk_bin_reader(&b, raw.p, raw.n, "coinflip state");
    if (sdk_bin_get_u8(&b) != 1) sdk_panic("corrupt state: coinflip state version");
    s->owner = sdk_bin_get_bytes(&b);
    s->outlayer = sdk_bin_get_bytes(&b);
    s->source = sdk_bin_get_bytes(&b);
    s->games = sdk_bin_get_u64(&b);
    s->wins = sdk_bin_get_u64(&b);
    s->losses = sdk_bin_get_u64(&b);
    s->refunds = sdk_bin_get_u64(&b);
    s->reserved = sdk_bin_get_u128(&b);
}

static u128 lit(const char *s) {
    u128 v;
    if (!u128_parse(s, sdk_strlen(s), &v)) sdk_panic("bad constant");
    return v;
}

static sdk_bytes account_arg(const char *m, const sdk_json *args, const char *key, bool required) {
    const sdk_json *v = sdk_json_get(args, key);
    if (sdk_json_is_null(v)) {
        if (required) sdk_panicf("%s: missing argument %s", m, key);
        return (sdk_bytes){NULL, 0};
    }
    if (v->type != SDK_JSON_STRING || !sdk_account_id_valid(v->s, v->len))
        sdk_panicf("%s: %s is not a valid NEAR account id", m, key);
    return (sdk_bytes){v->s, v->len};
}

SDK_METHOD(cf_new, "new") {
    sdk_json *args = sdk_input_json_object("new");
    if (sdk_storage_has(KEY_STATE, sizeof KEY_STATE - 1)) sdk_panic("new: the contract is already initialized");
    for (size_t i = 0; i < args->len; i++)
        if (!sdk_streq(args->keys[i], "outlayer_id") && !sdk_streq(args->keys[i], "source") &&
            !sdk_streq(args->keys[i], "owner_id"))
            sdk_panic("new: unknown argument (expected outlayer_id, source, owner_id)");
    cf_state s = {0};
    s.outlayer = account_arg("new", args, "outlayer_id", true);
    s.owner = account_arg("new", args, "owner_id", false);
    if (!s.owner.p) s.owner = sdk_predecessor_account_id();
    const sdk_json *src = sdk_json_get(args, "source");
    if (!src || src->type != SDK_JSON_OBJECT || src->len != 1)
        sdk_panic("new: source must be OutLayer's source object, {\"GitHub\":{...}} or {\"WasmUrl\":{...}}");
    sdk_jw w;
    sdk_jw_init(&w, CF_MAX_SOURCE_BYTES, "new: source (CF_MAX_SOURCE_BYTES)");
    sdk_jw_value(&w, src);
    s.source = (sdk_bytes){sdk_jw_finish(&w), w.len};
    state_save(&s);
}

SDK_METHOD(cf_flip_coin, "flip_coin") {
    const char *m = "flip_coin";
    sdk_json *args = sdk_input_json_object(m);
    cf_state s;
    state_load(&s, m);
    const sdk_json *c = sdk_json_get(args, "choice");
    if (!c || c->type != SDK_JSON_STRING || !(sdk_streq(c->s, "Heads") || sdk_streq(c->s, "Tails")))
        sdk_panic("flip_coin: choice must be \"Heads\" or \"Tails\"");
    if (args->len != 1) sdk_panic("flip_coin: the only argument is choice");
    u128 stake = sdk_attached_deposit(), min = lit(CF_MIN_STAKE), max = lit(CF_MAX_STAKE);
    if (u128_cmp(stake, min) < 0)
        sdk_panicf("flip_coin: the stake %Q is below the minimum %Q (it must cover OutLayer's fee deposit)", &stake,
                   &min);
    if (u128_cmp(stake, max) > 0) sdk_panicf("flip_coin: the stake %Q is above the maximum %Q", &stake, &max);
    uint64_t need_gas = CF_REQUEST_GAS + CF_CALLBACK_GAS + CF_OWN_GAS;
    if (sdk_prepaid_gas() < need_gas)
        sdk_panicf("flip_coin: attach at least %U gas (OutLayer request + callback + this call)", need_gas);

    /* the bank must be able to pay double even if OutLayer keeps the whole fee deposit */
    u128 fee = lit(CF_FEE_DEPOSIT), payout, needed, have;
    u128_add(stake, stake, &payout);
    needed = u128_add_sat(u128_add_sat(s.reserved, payout), u128_add_sat(fee, lit(CF_STORAGE_RESERVE)));
    have = sdk_account_balance();
    if (u128_cmp(have, needed) < 0)
        sdk_panicf("flip_coin: the bank cannot cover a win of %Q right now; try a smaller stake", &payout);
    s.reserved = u128_add_sat(s.reserved, payout);
    uint64_t game = s.games++;
    state_save(&s);

    sdk_bytes self = sdk_current_account_id();
    sdk_bytes player = sdk_predecessor_account_id();
    sdk_jw a;
    sdk_jw_init(&a, 8192, "request arguments");
    sdk_jw_obj_open(&a);
    sdk_jw_key(&a, "source");
    sdk_jw_json(&a, s.source.p, s.source.n);
    sdk_jw_key(&a, "input_data");
    sdk_jw_str(&a, "{\"min\":0,\"max\":1}");
    sdk_jw_key(&a, "response_format");
    sdk_jw_str(&a, "Json");
    sdk_jw_key(&a, "resource_limits");
    sdk_jw_obj_open(&a);
    sdk_jw_key(&a, "max_instructions");
    sdk_jw_u64(&a, CF_MAX_INSTRUCTIONS);
    sdk_jw_key(&a, "max_execution_seconds");
    sdk_jw_u64(&a, CF_MAX_SECONDS);
    sdk_jw_obj_close(&a);
    sdk_jw_key(&a, "payer_account_id");
    sdk_jw_strn(&a, self.p, self.n);
    sdk_jw_obj_close(&a);
    sdk_jw_finish(&a);

    sdk_jw cb;
    sdk_jw_init(&cb, 1024, "callback arguments");
    sdk_jw_obj_open(&cb);
    sdk_jw_key(&cb, "game_id");
    sdk_jw_u64(&cb, game);
    sdk_jw_key(&cb, "player");
    sdk_jw_strn(&cb, player.p, player.n);
    sdk_jw_key(&cb, "choice");
    sdk_jw_str(&cb, c->s);
    sdk_jw_key(&cb, "stake");
    sdk_jw_u128(&cb, stake);
    sdk_jw_obj_close(&cb);
    sdk_jw_finish(&cb);

    uint64_t p = sdk_promise_call(s.outlayer.p, s.outlayer.n, "request_execution", a.buf, a.len, fee, CF_REQUEST_GAS);
    uint64_t t = sdk_promise_then(p, self.p, self.n, "on_flip_result", cb.buf, cb.len, U128_ZERO, CF_CALLBACK_GAS);
    sdk_promise_return(t);
}

/* The random number in OutLayer's answer, or false when there is none. */
static bool random_number(const sdk_json *v, uint64_t *out) {
    if (!v) return false;
    if (v->type == SDK_JSON_NUMBER) return sdk_json_u64(v, out);
    if (v->type == SDK_JSON_OBJECT) {
        static const char *const keys[] = {"random_number", "result", "value", "number"};
        for (int i = 0; i < 4; i++)
            if (random_number(sdk_json_get(v, keys[i]), out)) return true;
    }
    return false;
}

SDK_METHOD(cf_on_flip_result, "on_flip_result") {
    const char *m = "on_flip_result";
    sdk_require_private(m);
    sdk_json *args = sdk_input_json_object(m);
    cf_state s;
    state_load(&s, m);
    uint64_t game = 0;
    sdk_json_u64(sdk_json_get(args, "game_id"), &game);
    const sdk_json *pj = sdk_json_get(args, "player"), *cj = sdk_json_get(args, "choice"), *sj = sdk_json_get(args, "stake");
    u128 stake;
    if (!pj || !cj || !sj || sj->type != SDK_JSON_STRING || !u128_parse(sj->s, sj->len, &stake))
        sdk_panic("on_flip_result: malformed callback arguments");
    u128 payout;
    u128_add(stake, stake, &payout);
    if (!u128_sub(s.reserved, payout, &s.reserved)) s.reserved = U128_ZERO;

    uint64_t n = 0;
    bool have = false;
    if (sdk_promise_results_count() == 1) {
        sdk_bytes res;
        if (sdk_promise_result(0, &res) == 1) {
            sdk_json_err e;
            sdk_json *v = sdk_json_parse(res.p, res.n, 64 * 1024, &e);
            have = random_number(v, &n);
        }
    }
    const char *outcome = have ? (n % 2 == 0 ? "Heads" : "Tails") : NULL;
    bool won = outcome && sdk_streq(outcome, cj->s);
    u128 paid = U128_ZERO;
    if (!outcome) {
        paid = stake; /* no answer: the player gets the stake back, the bank absorbs any fee */
        s.refunds++;
    } else if (won) {
        paid = payout;
        s.wins++;
    } else {
        s.losses++;
    }
    state_save(&s);
    if (!u128_is_zero(paid)) sdk_promise_transfer(pj->s, pj->len, paid);

    sdk_jw w;
    sdk_jw_init(&w, 1024, "on_flip_result result");
    sdk_jw_obj_open(&w);
    sdk_jw_key(&w, "game_id");
    sdk_jw_u64(&w, game);
    sdk_jw_key(&w, "player");
    sdk_jw_strn(&w, pj->s, pj->len);
    sdk_jw_key(&w, "choice");
    sdk_jw_strn(&w, cj->s, cj->len);
    sdk_jw_key(&w, "outcome");
    if (outcome) sdk_jw_str(&w, outcome);
    else sdk_jw_null(&w);
    sdk_jw_key(&w, "won");
    sdk_jw_bool(&w, won);
    sdk_jw_key(&w, "paid");
    sdk_jw_u128(&w, paid);
    sdk_jw_obj_close(&w);
    const char *r = sdk_jw_finish(&w);
    sdk_log(r);
    sdk_return(r, w.len);
}

SDK_METHOD(cf_get_stats, "get_stats") {
    cf_state s;
    state_load(&s, "get_stats");
    sdk_jw w;
    sdk_jw_init(&w, 1024, "get_stats result");
    sdk_jw_obj_open(&w);
    sdk_jw_key(&w, "games");
    sdk_jw_u64(&w, s.games);
    sdk_jw_key(&w, "wins");
    sdk_jw_u64(&w, s.wins);
    sdk_jw_key(&w, "losses");
    sdk_jw_u64(&w, s.losses);
    sdk_jw_key(&w, "refunds");
    sdk_jw_u64(&w, s.refunds);
    sdk_jw_key(&w, "reserved");
    sdk_jw_u128(&w, s.reserved);
    sdk_jw_obj_close(&w);
    const char *r = sdk_jw_finish(&w);
    sdk_return(r, w.len);
}

SDK_METHOD(cf_get_config, "get_config") {
    cf_state s;
    state_load(&s, "get_config");
    sdk_jw w;
    sdk_jw_init(&w, 4096, "get_config result");
    sdk_jw_obj_open(&w);
    sdk_jw_key(&w, "owner_id");
    sdk_jw_strn(&w, s.owner.p, s.owner.n);
    sdk_jw_key(&w, "outlayer_id");
    sdk_jw_strn(&w, s.outlayer.p, s.outlayer.n);
    sdk_jw_key(&w, "source");
    sdk_jw_json(&w, s.source.p, s.source.n);
    sdk_jw_obj_close(&w);
    const char *r = sdk_jw_finish(&w);
    sdk_return(r, w.len);
}
