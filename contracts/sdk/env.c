/* env: typed wrappers over the NEAR host functions: context, input/return, panics and logs, storage,
 * storage maps, promises, yield/resume, NEP-297 events, and the binary record codec for state. */
#include "near_host.h"
#include "sdk.h"


static sdk_bytes read_reg(uint64_t reg) {
    uint64_t n = near_register_len(reg);
    sdk_bytes b = {"", 0};
    if (n == UINT64_MAX) return b;
    if (n > SIZE_MAX - 1) sdk_panic("register too large");
    char *p = sdk_alloc((size_t)n + 1);
    near_read_register(reg, NEAR_PTR(p));
    p[n] = 0;
    b.p = p;
    b.n = (size_t)n;
    return b;
}

/* Cuts a message so that it never ends inside a UTF-8 sequence (the host refuses bad UTF-8). */
static size_t utf8_trim(const char *s, size_t n) {
    size_t i = n;
    size_t back = 0;
    while (i > 0 && back < 4 && ((unsigned char)s[i - 1] & 0xC0) == 0x80) i--, back++;
    if (i == 0) return n;
    unsigned char lead = (unsigned char)s[i - 1];
    size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (lead >= 0x80 && back + 1 < need) return i - 1;
    return n;
}

void sdk_panic(const char *msg) {
    size_t n = sdk_strlen(msg);
    if (n > SDK_PANIC_MAX_BYTES) n = SDK_PANIC_MAX_BYTES;
    n = utf8_trim(msg, n);
    near_panic_utf8(n, NEAR_PTR(msg));
    __builtin_unreachable();
}

void sdk_log(const char *msg) {
    size_t n = sdk_strlen(msg);
    if (n > SDK_LOG_MAX_BYTES) n = utf8_trim(msg, SDK_LOG_MAX_BYTES);
    near_log_utf8(n, NEAR_PTR(msg));
}

sdk_bytes sdk_input(void) {
    near_input(SDK_REGISTER);
    return read_reg(SDK_REGISTER);
}

sdk_json *sdk_input_json_object(const char *method) {
    sdk_bytes in = sdk_input();
    if (in.n == 0) {
        static const char empty[] = "{}";
        in.p = empty;
        in.n = 2;
    }
    sdk_json_err err;
    sdk_json *v = sdk_json_parse(in.p, in.n, SDK_JSON_MAX_INPUT, &err);
    if (!v) sdk_panicf("%s: invalid JSON arguments: %s at byte %U", method, err.msg, (uint64_t)err.offset);
    if (v->type != SDK_JSON_OBJECT) sdk_panicf("%s: arguments must be a JSON object", method);
    return v;
}

void sdk_return(const char *p, size_t n) { near_value_return(n, NEAR_PTR(p)); }

sdk_bytes sdk_current_account_id(void) {
    near_current_account_id(SDK_REGISTER);
    return read_reg(SDK_REGISTER);
}
sdk_bytes sdk_predecessor_account_id(void) {
    near_predecessor_account_id(SDK_REGISTER);
    return read_reg(SDK_REGISTER);
}
sdk_bytes sdk_signer_account_id(void) {
    near_signer_account_id(SDK_REGISTER);
    return read_reg(SDK_REGISTER);
}
sdk_bytes sdk_signer_account_pk(void) {
    near_signer_account_pk(SDK_REGISTER);
    return read_reg(SDK_REGISTER);
}

u128 sdk_attached_deposit(void) {
    uint8_t b[16];
    near_attached_deposit(NEAR_PTR(b));
    return u128_from_le(b);
}
u128 sdk_account_balance(void) {
    uint8_t b[16];
    near_account_balance(NEAR_PTR(b));
    return u128_from_le(b);
}
uint64_t sdk_block_height(void) { return near_block_index(); }
uint64_t sdk_block_timestamp(void) { return near_block_timestamp(); }
uint64_t sdk_prepaid_gas(void) { return near_prepaid_gas(); }
uint64_t sdk_used_gas(void) { return near_used_gas(); }
uint64_t sdk_storage_usage(void) { return near_storage_usage(); }

void sdk_require_private(const char *method) {
    sdk_bytes self = sdk_current_account_id(), pred = sdk_predecessor_account_id();
    if (!sdk_memeq(self.p, self.n, pred.p, pred.n))
        sdk_panicf("%s is private: only %s may call it", method, self.p);
}

void sdk_require_no_deposit(const char *method) {
    if (!u128_is_zero(sdk_attached_deposit())) sdk_panicf("%s does not accept a deposit", method);
}

bool sdk_account_id_valid(const char *s, size_t n) {
    if (n < 2 || n > 64) return false;
    bool prev_sep = true; /* no separator at the start */
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        bool sep = c == '-' || c == '_' || c == '.';
        if (!alnum && !sep) return false;
        if (sep && prev_sep) return false;
        prev_sep = sep;
    }
    return !prev_sep;
}

static void check_key(size_t kn) {
    if (kn > SDK_MAX_STORAGE_KEY)
        sdk_panicf("storage key of %U bytes exceeds NEAR's limit of %U bytes", (uint64_t)kn,
                   (uint64_t)SDK_MAX_STORAGE_KEY);
}

bool sdk_storage_read(const void *key, size_t kn, sdk_bytes *out) {
    check_key(kn);
    if (!near_storage_read(kn, NEAR_PTR(key), SDK_REGISTER)) return false;
    if (out) *out = read_reg(SDK_REGISTER);
    return true;
}
bool sdk_storage_has(const void *key, size_t kn) {
    check_key(kn);
    return near_storage_has_key(kn, NEAR_PTR(key)) == 1;
}
void sdk_storage_write(const void *key, size_t kn, const void *val, size_t vn) {
    check_key(kn);
    near_storage_write(kn, NEAR_PTR(key), vn, NEAR_PTR(val), SDK_REGISTER);
}
bool sdk_storage_remove(const void *key, size_t kn) {
    check_key(kn);
    return near_storage_remove(kn, NEAR_PTR(key), SDK_REGISTER) == 1;
}

sdk_bytes sdk_map_key(const sdk_map *m, const void *k, size_t kn) {
    if (kn > SDK_MAX_STORAGE_KEY || m->prefix_len > SDK_MAX_STORAGE_KEY - kn)
        sdk_panicf("storage key exceeds NEAR's limit of %U bytes", (uint64_t)SDK_MAX_STORAGE_KEY);
    char *p = sdk_alloc(m->prefix_len + kn + 1);
    memcpy(p, m->prefix, m->prefix_len);
    memcpy(p + m->prefix_len, k, kn);
    return (sdk_bytes){p, m->prefix_len + kn};
}
bool sdk_map_get(const sdk_map *m, const void *k, size_t kn, sdk_bytes *out) {
    sdk_bytes key = sdk_map_key(m, k, kn);
    return sdk_storage_read(key.p, key.n, out);
}
void sdk_map_set(const sdk_map *m, const void *k, size_t kn, const void *v, size_t vn) {
    sdk_bytes key = sdk_map_key(m, k, kn);
    sdk_storage_write(key.p, key.n, v, vn);
}
bool sdk_map_remove(const sdk_map *m, const void *k, size_t kn) {
    sdk_bytes key = sdk_map_key(m, k, kn);
    return sdk_storage_remove(key.p, key.n);
}
bool sdk_map_has(const sdk_map *m, const void *k, size_t kn) {
    sdk_bytes key = sdk_map_key(m, k, kn);
    return sdk_storage_has(key.p, key.n);
}

void sdk_u64_be(uint64_t v, uint8_t out[8]) {
    for (int i = 0; i < 8; i++) out[i] = (uint8_t)(v >> (56 - 8 * i));
}

uint64_t sdk_promise_transfer(const char *account, size_t an, u128 amount) {
    uint8_t amt[16];
    u128_to_le(amount, amt);
    uint64_t p = near_promise_batch_create(an, NEAR_PTR(account));
    near_promise_batch_action_transfer(p, NEAR_PTR(amt));
    return p;
}

uint64_t sdk_promise_call(const char *account, size_t an, const char *method, const char *args, size_t argn,
                          u128 deposit, uint64_t gas) {
    uint8_t amt[16];
    u128_to_le(deposit, amt);
    return near_promise_create(an, NEAR_PTR(account), sdk_strlen(method), NEAR_PTR(method), argn, NEAR_PTR(args),
                               NEAR_PTR(amt), gas);
}

uint64_t sdk_promise_then(uint64_t after, const char *account, size_t an, const char *method, const char *args,
                          size_t argn, u128 deposit, uint64_t gas) {
    uint8_t amt[16];
    u128_to_le(deposit, amt);
    return near_promise_then(after, an, NEAR_PTR(account), sdk_strlen(method), NEAR_PTR(method), argn,
                             NEAR_PTR(args), NEAR_PTR(amt), gas);
}

void sdk_promise_return(uint64_t idx) { near_promise_return(idx); }
uint64_t sdk_promise_results_count(void) { return near_promise_results_count(); }

int sdk_promise_result(uint64_t idx, sdk_bytes *out) {
    uint64_t r = near_promise_result(idx, SDK_REGISTER);
    if (r == 1) {
        if (out) *out = read_reg(SDK_REGISTER);
        return 1;
    }
    return (int)r;
}

uint64_t sdk_yield_create(const char *method, const char *args, size_t argn, uint64_t gas, uint64_t weight,
                          uint8_t data_id[32]) {
    uint64_t p = near_promise_yield_create(sdk_strlen(method), NEAR_PTR(method), argn, NEAR_PTR(args), gas, weight,
                                           SDK_REGISTER);
    sdk_bytes id = read_reg(SDK_REGISTER);
    if (id.n != 32) sdk_panic("promise_yield_create returned a data id that is not 32 bytes");
    memcpy(data_id, id.p, 32);
    return p;
}

int sdk_yield_resume(const uint8_t data_id[32], const char *payload, size_t n) {
    return (int)near_promise_yield_resume(32, NEAR_PTR(data_id), n, NEAR_PTR(payload));
}

uint64_t sdk_promise_deploy_and_call(const char *code, size_t code_n, const char *method, const char *args,
                                     size_t argn, uint64_t gas) {
    sdk_bytes self = sdk_current_account_id();
    uint8_t zero[16] = {0};
    uint64_t p = near_promise_batch_create(self.n, NEAR_PTR(self.p));
    near_promise_batch_action_deploy_contract(p, code_n, NEAR_PTR(code));
    near_promise_batch_action_function_call(p, sdk_strlen(method), NEAR_PTR(method), argn, NEAR_PTR(args),
                                            NEAR_PTR(zero), gas);
    return p;
}

void sdk_emit_event(const char *standard, const char *version, const char *event, const char *data_json,
                    size_t data_n) {
    sdk_jw w;
    sdk_jw_init(&w, SDK_LOG_MAX_BYTES, "event log line");
    sdk_jw_raw(&w, "EVENT_JSON:", 11);
    sdk_jw_obj_open(&w);
    sdk_jw_key(&w, "standard");
    sdk_jw_str(&w, standard);
    sdk_jw_key(&w, "version");
    sdk_jw_str(&w, version);
    sdk_jw_key(&w, "event");
    sdk_jw_str(&w, event);
    sdk_jw_key(&w, "data");
    sdk_jw_json(&w, data_json, data_n);
    sdk_jw_obj_close(&w);
    const char *line = sdk_jw_finish(&w);
    near_log_utf8(w.len, NEAR_PTR(line));
}

/* ---- binary records ---- */

void sdk_bin_init(sdk_bin *b) {
    memset(b, 0, sizeof *b);
    b->cap = 128;
    b->buf = sdk_alloc(b->cap);
}

static void bin_put(sdk_bin *b, const void *p, size_t n) {
    if (n > b->cap - b->len) {
        size_t nc = b->cap * 2 + n;
        b->buf = sdk_realloc(b->buf, b->cap, nc);
        b->cap = nc;
    }
    memcpy(b->buf + b->len, p, n);
    b->len += n;
}

void sdk_bin_u8(sdk_bin *b, uint8_t v) { bin_put(b, &v, 1); }
void sdk_bin_u64(sdk_bin *b, uint64_t v) {
    uint8_t t[8];
    for (int i = 0; i < 8; i++) t[i] = (uint8_t)(v >> (8 * i));
    bin_put(b, t, 8);
}
void sdk_bin_u128(sdk_bin *b, u128 v) {
    uint8_t t[16];
    u128_to_le(v, t);
    bin_put(b, t, 16);
}
void sdk_bin_bytes(sdk_bin *b, const void *p, size_t n) {
    uint8_t t[4] = {(uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16), (uint8_t)(n >> 24)};
    bin_put(b, t, 4);
    bin_put(b, p, n);
}
void sdk_bin_fixed(sdk_bin *b, const void *p, size_t n) { bin_put(b, p, n); }

void sdk_bin_reader(sdk_bin *b, const void *p, size_t n, const char *what) {
    memset(b, 0, sizeof *b);
    b->rd = p;
    b->rn = n;
    b->what = what;
}

static const uint8_t *bin_take(sdk_bin *b, size_t n) {
    if (n > b->rn - b->pos) sdk_panicf("corrupt state: %s is truncated", b->what);
    const uint8_t *p = b->rd + b->pos;
    b->pos += n;
    return p;
}

uint8_t sdk_bin_get_u8(sdk_bin *b) { return *bin_take(b, 1); }
uint64_t sdk_bin_get_u64(sdk_bin *b) {
    const uint8_t *t = bin_take(b, 8);
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)t[i] << (8 * i);
    return v;
}
u128 sdk_bin_get_u128(sdk_bin *b) { return u128_from_le(bin_take(b, 16)); }
sdk_bytes sdk_bin_get_bytes(sdk_bin *b) {
    const uint8_t *t = bin_take(b, 4);
    size_t n = (size_t)t[0] | (size_t)t[1] << 8 | (size_t)t[2] << 16 | (size_t)t[3] << 24;
    const uint8_t *p = bin_take(b, n);
    return (sdk_bytes){sdk_strndup((const char *)p, n), n};
}
void sdk_bin_get_fixed(sdk_bin *b, void *out, size_t n) { memcpy(out, bin_take(b, n), n); }
