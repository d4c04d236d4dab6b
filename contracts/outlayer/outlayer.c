/* outlayer: contract state, argument helpers, init, admin methods, upgrade/migrate and the small views.
 * Executions are in requests.c, secrets in secrets.c. */
#include "outlayer_int.h"

/* ---- state ------------------------------------------------------------------------------------ */

static void state_decode(ol_state *st, sdk_bytes raw) {
    sdk_bin b;
    sdk_bin_reader(&b, raw.p, raw.n, "contract state");
    st->version = sdk_bin_get_u8(&b);
    if (st->version != OL_STATE_VERSION)
        sdk_panicf("contract state is at version %d but this code reads version %d: call migrate", (int)st->version,
                   (int)OL_STATE_VERSION);
    st->owner = sdk_bin_get_bytes(&b);
    st->operator_id = sdk_bin_get_bytes(&b);
    st->paused = sdk_bin_get_u8(&b) != 0;
    st->base_fee = sdk_bin_get_u128(&b);
    st->per_million_instructions_fee = sdk_bin_get_u128(&b);
    st->per_ms_fee = sdk_bin_get_u128(&b);
    st->per_compile_ms_fee = sdk_bin_get_u128(&b);
    st->next_request_id = sdk_bin_get_u64(&b);
    st->total_executions = sdk_bin_get_u64(&b);
    st->total_fees_collected = sdk_bin_get_u128(&b);
    st->fees_available = sdk_bin_get_u128(&b);
}

void ol__state_load(ol_state *st, const char *method) {
    sdk_bytes raw;
    if (!sdk_storage_read(OL_KEY_STATE, sizeof OL_KEY_STATE - 1, &raw))
        sdk_panicf("%s: the contract is not initialized (call new first)", method);
    state_decode(st, raw);
}

void ol__state_save(const ol_state *st) {
    sdk_bin b;
    sdk_bin_init(&b);
    sdk_bin_u8(&b, OL_STATE_VERSION);
    sdk_bin_bytes(&b, st->owner.p, st->owner.n);
    sdk_bin_bytes(&b, st->operator_id.p, st->operator_id.n);
    sdk_bin_u8(&b, st->paused);
    sdk_bin_u128(&b, st->base_fee);
    sdk_bin_u128(&b, st->per_million_instructions_fee);
    sdk_bin_u128(&b, st->per_ms_fee);
    sdk_bin_u128(&b, st->per_compile_ms_fee);
    sdk_bin_u64(&b, st->next_request_id);
    sdk_bin_u64(&b, st->total_executions);
    sdk_bin_u128(&b, st->total_fees_collected);
    sdk_bin_u128(&b, st->fees_available);
    sdk_storage_write(OL_KEY_STATE, sizeof OL_KEY_STATE - 1, b.buf, b.len);
}

void ol__require_owner(const ol_state *st, const char *method) {
    sdk_bytes pred = sdk_predecessor_account_id();
    if (!sdk_memeq(pred.p, pred.n, st->owner.p, st->owner.n))
        sdk_panicf("%s: only the owner %s may call this (caller: %s)", method, st->owner.p, pred.p);
}

u128 ol__storage_cost(uint64_t bytes) {
    return u128_mul_sat(u128_from_u64(bytes), u128_from_u64(OL_STORAGE_PRICE_PER_BYTE));
}

void ol__return_json(sdk_jw *w) {
    const char *s = sdk_jw_finish(w);
    sdk_return(s, w->len);
}

/* ---- argument helpers ------------------------------------------------------------------------- */

void ol__only_keys(const char *method, const sdk_json *args, const char *const *allowed) {
    for (size_t i = 0; i < args->len; i++) {
        bool ok = false;
        for (const char *const *a = allowed; *a; a++)
            if (sdk_memeq(args->keys[i], args->key_lens[i], *a, sdk_strlen(*a))) ok = true;
        if (!ok) {
            /* the key is valid UTF-8 (the reader checked) but may be long or hold control bytes */
            char shown[65];
            size_t n = 0;
            for (size_t k = 0; k < args->key_lens[i] && n < 64; k++) {
                char c = args->keys[i][k];
                shown[n++] = (c >= 0x20 && c < 0x7f) ? c : '?';
            }
            shown[n] = 0;
            sdk_panicf("%s: unknown argument \"%s\"", method, shown);
        }
    }
}

static const sdk_json *member(const sdk_json *obj, const char *key) {
    const sdk_json *v = sdk_json_get(obj, key);
    return (v && v->type != SDK_JSON_NULL) ? v : NULL;
}

bool ol__opt_str(const char *method, const sdk_json *obj, const char *key, size_t max, const char **s, size_t *len) {
    const sdk_json *v = member(obj, key);
    if (!v) return false;
    if (v->type != SDK_JSON_STRING) sdk_panicf("%s: %s must be a string", method, key);
    if (v->len > max) sdk_panicf("%s: %s is %U bytes, more than the limit of %U", method, key, (uint64_t)v->len,
                                 (uint64_t)max);
    *s = v->s;
    if (len) *len = v->len;
    return true;
}

const char *ol__req_str(const char *method, const sdk_json *obj, const char *key, size_t max, size_t *len) {
    const char *s;
    size_t n;
    if (!ol__opt_str(method, obj, key, max, &s, &n)) sdk_panicf("%s: missing argument %s", method, key);
    if (n == 0) sdk_panicf("%s: %s must not be empty", method, key);
    if (len) *len = n;
    return s;
}

bool ol__opt_u64(const char *method, const sdk_json *obj, const char *key, uint64_t *out) {
    const sdk_json *v = member(obj, key);
    if (!v) return false;
    if (!sdk_json_u64(v, out))
        sdk_panicf("%s: %s must be a non-negative integer that fits in 64 bits", method, key);
    return true;
}

bool ol__opt_bool(const char *method, const sdk_json *obj, const char *key, bool *out) {
    const sdk_json *v = member(obj, key);
    if (!v) return false;
    if (v->type != SDK_JSON_BOOL) sdk_panicf("%s: %s must be true or false", method, key);
    *out = v->b;
    return true;
}

bool ol__opt_u128(const char *method, const sdk_json *obj, const char *key, u128 *out) {
    const sdk_json *v = member(obj, key);
    if (!v) return false;
    if (v->type != SDK_JSON_STRING || !u128_parse(v->s, v->len, out))
        sdk_panicf("%s: %s must be a decimal string of yoctoNEAR (an unsigned 128-bit integer)", method, key);
    return true;
}

const sdk_json *ol__opt_obj(const char *method, const sdk_json *obj, const char *key) {
    const sdk_json *v = member(obj, key);
    if (v && v->type != SDK_JSON_OBJECT) sdk_panicf("%s: %s must be an object", method, key);
    return v;
}

bool ol__opt_account(const char *method, const sdk_json *obj, const char *key, sdk_bytes *out) {
    const char *s;
    size_t n;
    if (!ol__opt_str(method, obj, key, 64, &s, &n)) {
        const sdk_json *v = member(obj, key);
        if (v) sdk_panicf("%s: %s is not a valid NEAR account id", method, key);
        return false;
    }
    if (!sdk_account_id_valid(s, n)) sdk_panicf("%s: %s is not a valid NEAR account id", method, key);
    out->p = s;
    out->n = n;
    return true;
}

sdk_bytes ol__req_account(const char *method, const sdk_json *obj, const char *key) {
    sdk_bytes b;
    const sdk_json *v = member(obj, key);
    if (v && v->type == SDK_JSON_STRING && v->len > 64)
        sdk_panicf("%s: %s is not a valid NEAR account id", method, key);
    if (!ol__opt_account(method, obj, key, &b)) sdk_panicf("%s: missing argument %s", method, key);
    return b;
}

/* ---- init ------------------------------------------------------------------------------------- */

SDK_METHOD(ol_new, "new") {
    static const char *const keys[] = {"owner_id", "operator_id", NULL};
    sdk_require_no_deposit("new");
    sdk_json *args = sdk_input_json_object("new");
    ol__only_keys("new", args, keys);
    if (sdk_storage_has(OL_KEY_STATE, sizeof OL_KEY_STATE - 1))
        sdk_panic("new: the contract is already initialized");
    ol_state st = {0};
    st.version = OL_STATE_VERSION;
    st.owner = ol__req_account("new", args, "owner_id");
    if (!ol__opt_account("new", args, "operator_id", &st.operator_id)) st.operator_id = st.owner;
    u128_parse(OL_DEFAULT_BASE_FEE, sizeof OL_DEFAULT_BASE_FEE - 1, &st.base_fee);
    u128_parse(OL_DEFAULT_PER_MILLION_INSTRUCTIONS, sizeof OL_DEFAULT_PER_MILLION_INSTRUCTIONS - 1,
               &st.per_million_instructions_fee);
    u128_parse(OL_DEFAULT_PER_MS, sizeof OL_DEFAULT_PER_MS - 1, &st.per_ms_fee);
    u128_parse(OL_DEFAULT_PER_COMPILE_MS, sizeof OL_DEFAULT_PER_COMPILE_MS - 1, &st.per_compile_ms_fee);
    ol__state_save(&st);
}

/* ---- admin ------------------------------------------------------------------------------------ */

SDK_METHOD(ol_set_owner, "set_owner") {
    static const char *const keys[] = {"new_owner_id", NULL};
    sdk_require_no_deposit("set_owner");
    sdk_json *args = sdk_input_json_object("set_owner");
    ol__only_keys("set_owner", args, keys);
    ol_state st;
    ol__state_load(&st, "set_owner");
    ol__require_owner(&st, "set_owner");
    st.owner = ol__req_account("set_owner", args, "new_owner_id");
    ol__state_save(&st);
}

SDK_METHOD(ol_set_operator, "set_operator") {
    static const char *const keys[] = {"new_operator_id", NULL};
    sdk_require_no_deposit("set_operator");
    sdk_json *args = sdk_input_json_object("set_operator");
    ol__only_keys("set_operator", args, keys);
    ol_state st;
    ol__state_load(&st, "set_operator");
    ol__require_owner(&st, "set_operator");
    st.operator_id = ol__req_account("set_operator", args, "new_operator_id");
    ol__state_save(&st);
}

SDK_METHOD(ol_set_paused, "set_paused") {
    static const char *const keys[] = {"paused", NULL};
    sdk_require_no_deposit("set_paused");
    sdk_json *args = sdk_input_json_object("set_paused");
    ol__only_keys("set_paused", args, keys);
    ol_state st;
    ol__state_load(&st, "set_paused");
    ol__require_owner(&st, "set_paused");
    if (!ol__opt_bool("set_paused", args, "paused", &st.paused)) sdk_panic("set_paused: missing argument paused");
    ol__state_save(&st);
}

SDK_METHOD(ol_set_pricing, "set_pricing") {
    static const char *const keys[] = {"base_fee", "per_million_instructions_fee", "per_ms_fee",
                                       "per_compile_ms_fee", NULL};
    sdk_require_no_deposit("set_pricing");
    sdk_json *args = sdk_input_json_object("set_pricing");
    ol__only_keys("set_pricing", args, keys);
    ol_state st;
    ol__state_load(&st, "set_pricing");
    ol__require_owner(&st, "set_pricing");
    ol__opt_u128("set_pricing", args, "base_fee", &st.base_fee);
    ol__opt_u128("set_pricing", args, "per_million_instructions_fee", &st.per_million_instructions_fee);
    ol__opt_u128("set_pricing", args, "per_ms_fee", &st.per_ms_fee);
    ol__opt_u128("set_pricing", args, "per_compile_ms_fee", &st.per_compile_ms_fee);
    ol__state_save(&st);
}

/* withdraw_fees {amount?, receiver_id?}: sends collected fees (all of them by default) to receiver_id
 * (default: the owner). Only fees are withdrawable: deposits of pending requests and secrets stay. */
SDK_METHOD(ol_withdraw_fees, "withdraw_fees") {
    static const char *const keys[] = {"amount", "receiver_id", NULL};
    sdk_require_no_deposit("withdraw_fees");
    sdk_json *args = sdk_input_json_object("withdraw_fees");
    ol__only_keys("withdraw_fees", args, keys);
    ol_state st;
    ol__state_load(&st, "withdraw_fees");
    ol__require_owner(&st, "withdraw_fees");
    u128 amount = st.fees_available;
    if (ol__opt_u128("withdraw_fees", args, "amount", &amount) && u128_cmp(amount, st.fees_available) > 0)
        sdk_panicf("withdraw_fees: amount %Q exceeds the fees available, %Q", &amount, &st.fees_available);
    if (u128_is_zero(amount)) sdk_panic("withdraw_fees: no fees to withdraw");
    sdk_bytes to = st.owner;
    ol__opt_account("withdraw_fees", args, "receiver_id", &to);
    u128_sub(st.fees_available, amount, &st.fees_available);
    ol__state_save(&st);
    sdk_promise_transfer(to.p, to.n, amount);
    char msg[160];
    sdk_fmt(msg, sizeof msg, "withdrew %Q yoctoNEAR of fees to %s", &amount, to.p);
    sdk_log(msg);
}

/* upgrade: the input is the new contract code (raw bytes, not JSON). Deploys it to this account and then
 * calls migrate on the new code in the same receipt batch, so a failing migrate reverts the deploy. */
SDK_METHOD(ol_upgrade, "upgrade") {
    ol_state st;
    sdk_require_no_deposit("upgrade");
    ol__state_load(&st, "upgrade");
    ol__require_owner(&st, "upgrade");
    sdk_bytes code = sdk_input();
    if (code.n < 8 || !sdk_memeq(code.p, 4, "\0asm", 4))
        sdk_panic("upgrade: the input must be a WebAssembly module (raw bytes starting with \\0asm)");
    if (code.n > OL_MAX_CODE_BYTES)
        sdk_panicf("upgrade: code of %U bytes exceeds NEAR's max_contract_size of %U bytes", (uint64_t)code.n,
                   (uint64_t)OL_MAX_CODE_BYTES);
    uint64_t p = sdk_promise_deploy_and_call(code.p, code.n, "migrate", "{}", 2, OL_MIGRATE_GAS);
    sdk_promise_return(p);
}

/* migrate: private. Converts the stored state to OL_STATE_VERSION. Version 1 is the first layout, so today
 * it only checks the version; a future layout adds its conversion here, keyed on the stored version. */
SDK_METHOD(ol_migrate, "migrate") {
    sdk_require_private("migrate");
    sdk_bytes raw;
    if (!sdk_storage_read(OL_KEY_STATE, sizeof OL_KEY_STATE - 1, &raw))
        sdk_panic("migrate: the contract is not initialized");
    if (raw.n == 0) sdk_panic("migrate: corrupt state (empty)");
    uint8_t v = (uint8_t)raw.p[0];
    if (v > OL_STATE_VERSION)
        sdk_panicf("migrate: stored state version %d is newer than this code (%d)", (int)v, (int)OL_STATE_VERSION);
    if (v < 1) sdk_panicf("migrate: unknown state version %d", (int)v);
    ol_state st;
    ol__state_load(&st, "migrate"); /* validates the whole record */
    ol__state_save(&st);
    char msg[80];
    sdk_fmt(msg, sizeof msg, "migrate: state at version %d", (int)OL_STATE_VERSION);
    sdk_log(msg);
}

/* ---- small views ------------------------------------------------------------------------------ */

SDK_METHOD(ol_get_pricing, "get_pricing") {
    ol_state st;
    ol__state_load(&st, "get_pricing");
    sdk_jw w;
    sdk_jw_init(&w, 1024, "get_pricing result");
    sdk_jw_obj_open(&w);
    sdk_jw_key(&w, "base_fee");
    sdk_jw_u128(&w, st.base_fee);
    sdk_jw_key(&w, "per_million_instructions_fee");
    sdk_jw_u128(&w, st.per_million_instructions_fee);
    sdk_jw_key(&w, "per_ms_fee");
    sdk_jw_u128(&w, st.per_ms_fee);
    sdk_jw_key(&w, "per_compile_ms_fee");
    sdk_jw_u128(&w, st.per_compile_ms_fee);
    sdk_jw_obj_close(&w);
    ol__return_json(&w);
}

SDK_METHOD(ol_get_max_limits, "get_max_limits") {
    sdk_jw w;
    sdk_jw_init(&w, 1024, "get_max_limits result");
    sdk_jw_obj_open(&w);
    sdk_jw_key(&w, "max_instructions");
    sdk_jw_u64(&w, OL_CAP_MAX_INSTRUCTIONS);
    sdk_jw_key(&w, "max_memory_mb");
    sdk_jw_u64(&w, OL_CAP_MAX_MEMORY_MB);
    sdk_jw_key(&w, "max_execution_seconds");
    sdk_jw_u64(&w, OL_CAP_MAX_EXECUTION_SECONDS);
    sdk_jw_key(&w, "max_input_bytes");
    sdk_jw_u64(&w, OL_MAX_INPUT_BYTES);
    sdk_jw_key(&w, "max_output_bytes");
    sdk_jw_u64(&w, OL_MAX_OUTPUT_BYTES);
    sdk_jw_key(&w, "yield_window_blocks");
    sdk_jw_u64(&w, OL_YIELD_WINDOW_BLOCKS);
    sdk_jw_obj_close(&w);
    ol__return_json(&w);
}

SDK_METHOD(ol_get_stats, "get_stats") {
    ol_state st;
    ol__state_load(&st, "get_stats");
    sdk_bytes pend;
    uint64_t npending = sdk_storage_read(OL_KEY_PENDING, 1, &pend) ? pend.n / 8 : 0;
    sdk_jw w;
    sdk_jw_init(&w, 1024, "get_stats result");
    sdk_jw_obj_open(&w);
    sdk_jw_key(&w, "total_executions");
    sdk_jw_u64(&w, st.total_executions);
    sdk_jw_key(&w, "total_fees_collected");
    sdk_jw_u128(&w, st.total_fees_collected);
    sdk_jw_key(&w, "fees_available");
    sdk_jw_u128(&w, st.fees_available);
    sdk_jw_key(&w, "pending_requests");
    sdk_jw_u64(&w, npending);
    sdk_jw_key(&w, "next_request_id");
    sdk_jw_u64(&w, st.next_request_id);
    sdk_jw_obj_close(&w);
    ol__return_json(&w);
}

SDK_METHOD(ol_get_config, "get_config") {
    ol_state st;
    ol__state_load(&st, "get_config");
    sdk_jw w;
    sdk_jw_init(&w, 1024, "get_config result");
    sdk_jw_obj_open(&w);
    sdk_jw_key(&w, "owner_id");
    sdk_jw_strn(&w, st.owner.p, st.owner.n);
    sdk_jw_key(&w, "operator_id");
    sdk_jw_strn(&w, st.operator_id.p, st.operator_id.n);
    sdk_jw_key(&w, "paused");
    sdk_jw_bool(&w, st.paused);
    sdk_jw_key(&w, "state_version");
    sdk_jw_u64(&w, st.version);
    sdk_jw_obj_close(&w);
    ol__return_json(&w);
}

SDK_METHOD(ol_is_paused, "is_paused") {
    ol_state st;
    ol__state_load(&st, "is_paused");
    sdk_return_str(st.paused ? "true" : "false");
}
