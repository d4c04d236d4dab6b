/* requests: the execution lifecycle of the OutLayer contract (../shared/DESIGN.md §5).
 *
 *   request_execution  validate, price, yield (callback on_execution_response), store the request and its
 *                      id in the pending index, charge its storage to the deposit, emit execution_requested
 *   resolve_execution  operator only; first call wins (the request is marked resolved); the response is
 *                      normalised and resumed, or kept in state when above the 1024-byte resume payload
 *   on_execution_response  private: settle (charge <= fee budget, refund the rest), emit
 *                      execution_completed, return the output to the caller in the request's format
 *   cancel_stale_execution  the sender, after the yield window, when the request is still there
 *
 * Money: payment = the attached deposit. storage_deposit = what the request's own storage costs (measured
 * with storage_usage). fee budget = payment - storage_deposit, at least the estimate. The charge is never
 * more than the fee budget; the payer gets payment - charge back; a timeout charges nothing. Prices are
 * recorded with the request, so a later set_pricing never changes what a pending request pays. */
#include "outlayer_int.h"

enum { FMT_TEXT = 0, FMT_JSON = 1, FMT_BYTES = 2 };
static const char *const FMT_NAMES[] = {"Text", "Json", "Bytes"};

typedef struct req {
    uint8_t resolved, format, compile_only;
    uint64_t id;
    uint8_t data_id[32];
    uint64_t block_height, timestamp;
    u128 payment, storage_deposit;
    uint64_t max_instructions;
    u128 base_fee, per_million_instructions_fee, per_ms_fee, per_compile_ms_fee; /* pricing at request time */
    sdk_bytes sender, payer, view;
} req;

static const sdk_map REQUESTS = {OL_PREFIX_REQUEST, 1};
static const sdk_map RESULTS = {OL_PREFIX_RESULT, 1};

static sdk_bytes id_key(uint64_t id) {
    uint8_t *k = sdk_alloc(8);
    sdk_u64_be(id, k);
    return (sdk_bytes){(const char *)k, 8};
}

static void req_save(const req *r) {
    sdk_bin b;
    sdk_bin_init(&b);
    sdk_bin_u8(&b, 1); /* record version */
    sdk_bin_u8(&b, r->resolved);
    sdk_bin_u8(&b, r->format);
    sdk_bin_u8(&b, r->compile_only);
    sdk_bin_u64(&b, r->id);
    sdk_bin_fixed(&b, r->data_id, 32);
    sdk_bin_u64(&b, r->block_height);
    sdk_bin_u64(&b, r->timestamp);
    sdk_bin_u128(&b, r->payment);
    sdk_bin_u128(&b, r->storage_deposit);
    sdk_bin_u64(&b, r->max_instructions);
    sdk_bin_u128(&b, r->base_fee);
    sdk_bin_u128(&b, r->per_million_instructions_fee);
    sdk_bin_u128(&b, r->per_ms_fee);
    sdk_bin_u128(&b, r->per_compile_ms_fee);
    sdk_bin_bytes(&b, r->sender.p, r->sender.n);
    sdk_bin_bytes(&b, r->payer.p, r->payer.n);
    sdk_bin_bytes(&b, r->view.p, r->view.n);
    sdk_bytes k = id_key(r->id);
    sdk_map_set(&REQUESTS, k.p, k.n, b.buf, b.len);
}

static bool req_load(uint64_t id, req *r) {
    sdk_bytes k = id_key(id), raw;
    if (!sdk_map_get(&REQUESTS, k.p, k.n, &raw)) return false;
    sdk_bin b;
    sdk_bin_reader(&b, raw.p, raw.n, "request record");
    if (sdk_bin_get_u8(&b) != 1) sdk_panic("corrupt state: unknown request record version");
    r->resolved = sdk_bin_get_u8(&b);
    r->format = sdk_bin_get_u8(&b);
    r->compile_only = sdk_bin_get_u8(&b);
    r->id = sdk_bin_get_u64(&b);
    sdk_bin_get_fixed(&b, r->data_id, 32);
    r->block_height = sdk_bin_get_u64(&b);
    r->timestamp = sdk_bin_get_u64(&b);
    r->payment = sdk_bin_get_u128(&b);
    r->storage_deposit = sdk_bin_get_u128(&b);
    r->max_instructions = sdk_bin_get_u64(&b);
    r->base_fee = sdk_bin_get_u128(&b);
    r->per_million_instructions_fee = sdk_bin_get_u128(&b);
    r->per_ms_fee = sdk_bin_get_u128(&b);
    r->per_compile_ms_fee = sdk_bin_get_u128(&b);
    r->sender = sdk_bin_get_bytes(&b);
    r->payer = sdk_bin_get_bytes(&b);
    r->view = sdk_bin_get_bytes(&b);
    if (r->format > FMT_BYTES) sdk_panic("corrupt state: request format");
    return true;
}

/* ---- pending index: sorted u64 LE ids under one key ---- */

static uint64_t idx_get(const uint8_t *p, size_t i) {
    uint64_t v = 0;
    for (int k = 0; k < 8; k++) v |= (uint64_t)p[i * 8 + k] << (8 * k);
    return v;
}

static void pending_add(uint64_t id) {
    sdk_bytes cur;
    if (!sdk_storage_read(OL_KEY_PENDING, 1, &cur)) cur.n = 0;
    if (cur.n / 8 >= OL_MAX_PENDING_REQUESTS)
        sdk_panicf("request_execution: too many pending requests (limit OL_MAX_PENDING_REQUESTS = %U); try again "
                   "after some settle",
                   (uint64_t)OL_MAX_PENDING_REQUESTS);
    uint8_t *buf = sdk_alloc(cur.n + 8);
    if (cur.n) memcpy(buf, cur.p, cur.n);
    for (int k = 0; k < 8; k++) buf[cur.n + k] = (uint8_t)(id >> (8 * k)); /* ids only grow: stays sorted */
    sdk_storage_write(OL_KEY_PENDING, 1, buf, cur.n + 8);
}

/* Index of the first id >= id in the sorted index. */
static size_t lower_bound(const uint8_t *p, size_t n, uint64_t id) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (idx_get(p, mid) < id) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static void pending_remove(uint64_t id) {
    sdk_bytes cur;
    if (!sdk_storage_read(OL_KEY_PENDING, 1, &cur)) return;
    size_t n = cur.n / 8;
    size_t i = lower_bound((const uint8_t *)cur.p, n, id);
    if (i == n || idx_get((const uint8_t *)cur.p, i) != id) return;
    if (n == 1) {
        sdk_storage_remove(OL_KEY_PENDING, 1);
        return;
    }
    uint8_t *buf = sdk_alloc(cur.n - 8);
    memcpy(buf, cur.p, i * 8);
    memcpy(buf + i * 8, cur.p + (i + 1) * 8, cur.n - (i + 1) * 8);
    sdk_storage_write(OL_KEY_PENDING, 1, buf, cur.n - 8);
}

/* ---- pricing ---- */

static u128 estimate_cost(const ol_state *st, uint64_t max_instructions, uint64_t max_seconds, bool compile_only) {
    if (compile_only) return st->base_fee;
    u128 c = st->base_fee;
    c = u128_add_sat(c, u128_mul_sat(u128_from_u64(max_instructions / 1000000u), st->per_million_instructions_fee));
    c = u128_add_sat(c, u128_mul_sat(u128_from_u64(max_seconds * 1000u), st->per_ms_fee));
    return c;
}

/* What a run costs at the prices recorded with the request (a later set_pricing does not change what a
 * pending request pays). */
static u128 usage_cost(const req *r, uint64_t instructions, uint64_t time_ms, uint64_t compile_ms) {
    u128 c = r->base_fee;
    c = u128_add_sat(c, u128_mul_sat(u128_from_u64(instructions / 1000000u), r->per_million_instructions_fee));
    c = u128_add_sat(c, u128_mul_sat(u128_from_u64(time_ms), r->per_ms_fee));
    c = u128_add_sat(c, u128_mul_sat(u128_from_u64(compile_ms), r->per_compile_ms_fee));
    return c;
}

static u128 fee_budget(const req *r) {
    u128 b;
    return u128_sub(r->payment, r->storage_deposit, &b) ? b : U128_ZERO;
}

/* ---- argument validation ---- */

static bool printable(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f) return false;
    return true;
}

static const char *req_printable(const char *m, const sdk_json *o, const char *key, size_t max, size_t *n) {
    const char *s = ol__req_str(m, o, key, max, n);
    if (!printable(s, *n)) sdk_panicf("%s: %s must be printable ASCII without spaces", m, key);
    return s;
}

static void build_target(const char *m, const sdk_json *o, sdk_jw *w) {
    const char *t;
    size_t n;
    sdk_jw_key(w, "build_target");
    if (!ol__opt_str(m, o, "build_target", OL_MAX_BUILD_TARGET_BYTES, &t, &n)) {
        sdk_jw_str(w, OL_DEFAULT_BUILD_TARGET);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        char c = t[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            sdk_panicf("%s: build_target must be made of [a-z0-9_-], like wasm32-wasip1", m);
    }
    if (n == 0) sdk_panicf("%s: build_target must not be empty", m);
    sdk_jw_strn(w, t, n);
}

static bool is_hex64(const char *s, size_t n) {
    if (n != 64) return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
    return true;
}

static bool has_prefix(const char *s, size_t n, const char *p) {
    size_t pn = sdk_strlen(p);
    return n > pn && sdk_memeq(s, pn, p, pn);
}

/* Writes the normalised source; returns true for a WasmUrl source. */
static bool write_source(const sdk_json *args, sdk_jw *w) {
    const char *m = "request_execution";
    const sdk_json *src = ol__opt_obj(m, args, "source");
    const sdk_json *old = ol__opt_obj(m, args, "code_source");
    if (src && old) sdk_panic("request_execution: give either source or code_source, not both");
    if (!src && !old) sdk_panic("request_execution: missing argument source");
    const sdk_json *gh = old;
    if (src) {
        if (src->len != 1) sdk_panic("request_execution: source must have exactly one of GitHub or WasmUrl");
        gh = ol__opt_obj("request_execution: source", src, "GitHub");
        const sdk_json *url = ol__opt_obj("request_execution: source", src, "WasmUrl");
        if (!gh && !url) sdk_panic("request_execution: source must be {\"GitHub\":{...}} or {\"WasmUrl\":{...}}");
        if (url) {
            static const char *const keys[] = {"url", "hash", "build_target", NULL};
            const char *mm = "request_execution: source.WasmUrl";
            ol__only_keys(mm, url, keys);
            size_t un, hn;
            const char *u = req_printable(mm, url, "url", OL_MAX_URL_BYTES, &un);
            if (!has_prefix(u, un, "https://") && !has_prefix(u, un, "http://") && !has_prefix(u, un, "ipfs://") &&
                !has_prefix(u, un, "ar://"))
                sdk_panic("request_execution: source.WasmUrl url must start with https://, http://, ipfs:// or ar://");
            const char *h = ol__req_str(mm, url, "hash", 64, &hn);
            if (!is_hex64(h, hn))
                sdk_panic("request_execution: source.WasmUrl hash must be the sha256 of the module as 64 lowercase "
                          "hex characters");
            sdk_jw_obj_open(w);
            sdk_jw_key(w, "WasmUrl");
            sdk_jw_obj_open(w);
            sdk_jw_key(w, "url");
            sdk_jw_strn(w, u, un);
            sdk_jw_key(w, "hash");
            sdk_jw_strn(w, h, hn);
            build_target(mm, url, w);
            sdk_jw_obj_close(w);
            sdk_jw_obj_close(w);
            return true;
        }
    }
    static const char *const keys[] = {"repo", "commit", "build_target", NULL};
    const char *mm = src ? "request_execution: source.GitHub" : "request_execution: code_source";
    ol__only_keys(mm, gh, keys);
    size_t rn, cn;
    const char *repo = req_printable(mm, gh, "repo", OL_MAX_REPO_BYTES, &rn);
    const char *commit = req_printable(mm, gh, "commit", OL_MAX_COMMIT_BYTES, &cn);
    sdk_jw_obj_open(w);
    sdk_jw_key(w, "GitHub");
    sdk_jw_obj_open(w);
    sdk_jw_key(w, "repo");
    sdk_jw_strn(w, repo, rn);
    sdk_jw_key(w, "commit");
    sdk_jw_strn(w, commit, cn);
    build_target(mm, gh, w);
    sdk_jw_obj_close(w);
    sdk_jw_obj_close(w);
    return false;
}

typedef struct limits {
    uint64_t instr, mem, secs;
} limits;

static uint64_t limit_field(const char *method, const sdk_json *rl, const char *key, uint64_t def, uint64_t cap) {
    uint64_t v;
    char m[80];
    sdk_fmt(m, sizeof m, "%s: resource_limits", method);
    if (!rl || !ol__opt_u64(m, rl, key, &v)) return def;
    if (v == 0) sdk_panicf("%s: resource_limits.%s must be at least 1", method, key);
    if (v > cap) sdk_panicf("%s: resource_limits.%s %U exceeds the cap of %U", method, key, v, cap);
    return v;
}

static limits parse_limits(const char *m, const sdk_json *args) {
    const sdk_json *rl = ol__opt_obj(m, args, "resource_limits");
    if (rl) {
        static const char *const keys[] = {"max_instructions", "max_memory_mb", "max_execution_seconds", NULL};
        char mm[80];
        sdk_fmt(mm, sizeof mm, "%s: resource_limits", m);
        ol__only_keys(mm, rl, keys);
    }
    limits l;
    l.instr = limit_field(m, rl, "max_instructions", OL_DEFAULT_MAX_INSTRUCTIONS, OL_CAP_MAX_INSTRUCTIONS);
    l.mem = limit_field(m, rl, "max_memory_mb", OL_DEFAULT_MAX_MEMORY_MB, OL_CAP_MAX_MEMORY_MB);
    l.secs = limit_field(m, rl, "max_execution_seconds", OL_DEFAULT_MAX_EXECUTION_SECONDS, OL_CAP_MAX_EXECUTION_SECONDS);
    return l;
}

static int parse_format(const char *m, const sdk_json *args) {
    const char *s;
    size_t n;
    if (!ol__opt_str(m, args, "response_format", 16, &s, &n)) return FMT_TEXT;
    for (int i = 0; i <= FMT_BYTES; i++)
        if (sdk_memeq(s, n, FMT_NAMES[i], sdk_strlen(FMT_NAMES[i]))) return i;
    sdk_panicf("%s: response_format must be \"Text\", \"Json\" or \"Bytes\"", m);
}

static bool profile_valid(const char *s, size_t n) {
    if (n == 0 || n > OL_MAX_PROFILE_BYTES) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static void write_secrets_ref(const sdk_json *args, sdk_jw *w) {
    const sdk_json *sr = ol__opt_obj("request_execution", args, "secrets_ref");
    sdk_jw_key(w, "secrets_ref");
    if (!sr) {
        sdk_jw_null(w);
        return;
    }
    static const char *const keys[] = {"profile", "account_id", NULL};
    const char *m = "request_execution: secrets_ref";
    ol__only_keys(m, sr, keys);
    size_t pn;
    const char *p = ol__req_str(m, sr, "profile", OL_MAX_PROFILE_BYTES, &pn);
    if (!profile_valid(p, pn)) sdk_panic("request_execution: secrets_ref.profile must be 1-64 of [A-Za-z0-9_-]");
    sdk_bytes acc = ol__req_account(m, sr, "account_id");
    sdk_jw_obj_open(w);
    sdk_jw_key(w, "profile");
    sdk_jw_strn(w, p, pn);
    sdk_jw_key(w, "account_id");
    sdk_jw_strn(w, acc.p, acc.n);
    sdk_jw_obj_close(w);
}

static void check_gas(void) {
    uint64_t need = OL_CALLBACK_GAS + OL_REQUEST_OWN_GAS;
    uint64_t pre = sdk_prepaid_gas(), used = sdk_used_gas();
    if (pre < used || pre - used < need)
        sdk_panicf("request_execution: prepaid gas of %U is too little: attach at least %U gas (50 Tgas reserved "
                   "for the on_execution_response callback + 15 Tgas for request_execution)",
                   pre, need);
}

/* ---- request_execution ---- */

/* The arguments of request_execution after validation. */
typedef struct req_args {
    sdk_jw src; /* normalised source JSON */
    bool wasm_url, force_rebuild, compile_only;
    limits lim;
    const char *input;
    size_t input_n;
} req_args;

static void parse_request_args(const char *m, const sdk_json *args, req_args *a) {
    sdk_jw_init(&a->src, 4096, "request_execution: source");
    a->wasm_url = write_source(args, &a->src);
    sdk_jw_finish(&a->src);
    a->lim = parse_limits(m, args);
    a->input = "";
    a->input_n = 0;
    ol__opt_str(m, args, "input_data", OL_MAX_INPUT_BYTES, &a->input, &a->input_n);
    a->force_rebuild = a->compile_only = false;
    const sdk_json *params = ol__opt_obj(m, args, "params");
    if (params) {
        static const char *const pk[] = {"force_rebuild", "compile_only", NULL};
        ol__only_keys("request_execution: params", params, pk);
        ol__opt_bool("request_execution: params", params, "force_rebuild", &a->force_rebuild);
        ol__opt_bool("request_execution: params", params, "compile_only", &a->compile_only);
    }
    if (a->force_rebuild && a->wasm_url)
        sdk_panic("request_execution: params.force_rebuild is not allowed for a WasmUrl source (nothing is built)");
    if (a->compile_only && a->input_n)
        sdk_panic("request_execution: params.compile_only requires an empty input_data");
    if (a->compile_only && a->wasm_url)
        sdk_panic("request_execution: params.compile_only is not allowed for a WasmUrl source (nothing is built)");
}

/* The request's view object (get_request, list_pending_requests), stored as written so views cost no
 * re-encoding. Validates secrets_ref on the way. */
static sdk_bytes write_view(const req *r, const req_args *a, const sdk_json *args, const char *data_hex) {
    sdk_jw v;
    sdk_jw_init(&v, 512 * 1024, "request_execution: request record");
    sdk_jw_obj_open(&v);
    sdk_jw_key(&v, "request_id");
    sdk_jw_u64(&v, r->id);
    sdk_jw_key(&v, "data_id");
    sdk_jw_str(&v, data_hex);
    sdk_jw_key(&v, "sender_id");
    sdk_jw_strn(&v, r->sender.p, r->sender.n);
    sdk_jw_key(&v, "payer_account_id");
    sdk_jw_strn(&v, r->payer.p, r->payer.n);
    sdk_jw_key(&v, "source");
    sdk_jw_json(&v, a->src.buf, a->src.len);
    sdk_jw_key(&v, "resource_limits");
    sdk_jw_obj_open(&v);
    sdk_jw_key(&v, "max_instructions");
    sdk_jw_u64(&v, a->lim.instr);
    sdk_jw_key(&v, "max_memory_mb");
    sdk_jw_u64(&v, a->lim.mem);
    sdk_jw_key(&v, "max_execution_seconds");
    sdk_jw_u64(&v, a->lim.secs);
    sdk_jw_obj_close(&v);
    sdk_jw_key(&v, "input_data");
    sdk_jw_strn(&v, a->input, a->input_n);
    write_secrets_ref(args, &v);
    sdk_jw_key(&v, "response_format");
    sdk_jw_str(&v, FMT_NAMES[r->format]);
    sdk_jw_key(&v, "params");
    sdk_jw_obj_open(&v);
    sdk_jw_key(&v, "force_rebuild");
    sdk_jw_bool(&v, a->force_rebuild);
    sdk_jw_key(&v, "compile_only");
    sdk_jw_bool(&v, a->compile_only);
    sdk_jw_obj_close(&v);
    sdk_jw_key(&v, "payment");
    sdk_jw_u128(&v, r->payment);
    sdk_jw_key(&v, "block_height");
    sdk_jw_u64(&v, r->block_height);
    sdk_jw_key(&v, "timestamp");
    sdk_jw_u64(&v, r->timestamp);
    sdk_jw_obj_close(&v);
    return (sdk_bytes){sdk_jw_finish(&v), v.len};
}

static void emit_requested(const req *r, const req_args *a, const char *data_hex) {
    sdk_jw ev;
    sdk_jw_init(&ev, SDK_LOG_MAX_BYTES, "execution_requested event");
    sdk_jw_arr_open(&ev);
    sdk_jw_obj_open(&ev);
    sdk_jw_key(&ev, "request_id");
    sdk_jw_u64(&ev, r->id);
    sdk_jw_key(&ev, "data_id");
    sdk_jw_str(&ev, data_hex);
    sdk_jw_key(&ev, "sender_id");
    sdk_jw_strn(&ev, r->sender.p, r->sender.n);
    sdk_jw_key(&ev, "source");
    sdk_jw_json(&ev, a->src.buf, a->src.len);
    sdk_jw_key(&ev, "payment");
    sdk_jw_u128(&ev, r->payment);
    sdk_jw_key(&ev, "block_height");
    sdk_jw_u64(&ev, r->block_height);
    sdk_jw_obj_close(&ev);
    sdk_jw_arr_close(&ev);
    sdk_emit_event("near-outlayer", "1.0.0", "execution_requested", sdk_jw_finish(&ev), ev.len);
}

SDK_METHOD(ol_request_execution, "request_execution") {
    static const char *const keys[] = {"source",  "code_source",     "resource_limits",  "input_data", "secrets_ref",
                                       "response_format", "payer_account_id", "params",     NULL};
    const char *m = "request_execution";
    sdk_json *args = sdk_input_json_object(m);
    ol__only_keys(m, args, keys);
    ol_state st;
    ol__state_load(&st, m);
    if (st.paused) sdk_panic("request_execution: the contract is paused: new requests are refused");
    check_gas();

    req r = {0};
    r.id = st.next_request_id;
    r.sender = sdk_predecessor_account_id();
    if (!ol__opt_account(m, args, "payer_account_id", &r.payer)) r.payer = r.sender;
    r.payment = sdk_attached_deposit();
    r.block_height = sdk_block_height();
    r.timestamp = sdk_block_timestamp();
    r.format = (uint8_t)parse_format(m, args);
    req_args a;
    parse_request_args(m, args, &a);
    r.max_instructions = a.lim.instr;
    r.compile_only = a.compile_only;
    r.base_fee = st.base_fee;
    r.per_million_instructions_fee = st.per_million_instructions_fee;
    r.per_ms_fee = st.per_ms_fee;
    r.per_compile_ms_fee = st.per_compile_ms_fee;
    u128 estimate = estimate_cost(&st, a.lim.instr, a.lim.secs, a.compile_only);

    /* the yield: its callback gets only the id; everything else is read from state */
    char cb_args[48];
    size_t cb_n = sdk_fmt(cb_args, sizeof cb_args, "{\"request_id\":%U}", r.id);
    uint64_t storage_before = sdk_storage_usage();
    uint64_t yield = sdk_yield_create("on_execution_response", cb_args, cb_n, OL_CALLBACK_GAS, 1, r.data_id);
    char data_hex[65];
    sdk_hex_encode(r.data_id, 32, data_hex);
    r.view = write_view(&r, &a, args, data_hex);

    req_save(&r);
    pending_add(r.id);
    st.next_request_id++;
    ol__state_save(&st);

    /* the request's storage, measured, is paid from the deposit (and returned at settlement) */
    uint64_t bytes = sdk_storage_usage() - storage_before;
    r.storage_deposit = ol__storage_cost(bytes);
    u128 required = u128_add_sat(estimate, r.storage_deposit);
    if (u128_cmp(r.payment, required) < 0)
        sdk_panicf("request_execution: attached deposit %Q yoctoNEAR is less than the required %Q (estimated cost "
                   "%Q + storage of %U bytes %Q)",
                   &r.payment, &required, &estimate, bytes, &r.storage_deposit);
    req_save(&r); /* same size: the deposit field is fixed-width */
    emit_requested(&r, &a, data_hex);
    sdk_promise_return(yield);
}

/* ---- resolve_execution ---- */

/* Normalises response.output into w as {"Text":s} | {"Json":v} | {"Bytes":"<base64>"}; it must match the
 * request's response_format. */
static void write_output(const sdk_json *out, const req *r, sdk_jw *w) {
    const char *m = "resolve_execution: response.output";
    if (out->type != SDK_JSON_OBJECT || out->len != 1)
        sdk_panicf("%s must be {\"Text\":...}, {\"Json\":...} or {\"Bytes\":...}", m);
    const char *tag = out->keys[0];
    const sdk_json *v = out->items[0];
    const char *want = FMT_NAMES[r->format];
    if (!sdk_streq(tag, "Text") && !sdk_streq(tag, "Json") && !sdk_streq(tag, "Bytes"))
        sdk_panicf("%s must be {\"Text\":...}, {\"Json\":...} or {\"Bytes\":...}", m);
    if (!sdk_streq(tag, want))
        sdk_panicf("%s is %s but request %U asked for response_format %s", m, tag, r->id, want);
    sdk_jw_obj_open(w);
    sdk_jw_key(w, tag);
    if (r->format == FMT_TEXT) {
        if (v->type != SDK_JSON_STRING) sdk_panicf("%s.Text must be a string", m);
        if (v->len > OL_MAX_OUTPUT_BYTES)
            sdk_panicf("%s is %U bytes, more than OL_MAX_OUTPUT_BYTES (%U)", m, (uint64_t)v->len,
                       (uint64_t)OL_MAX_OUTPUT_BYTES);
        sdk_jw_strn(w, v->s, v->len);
    } else if (r->format == FMT_JSON) {
        sdk_jw tmp;
        sdk_jw_init(&tmp, OL_MAX_OUTPUT_BYTES, "resolve_execution: response.output.Json (OL_MAX_OUTPUT_BYTES)");
        sdk_jw_value(&tmp, v);
        sdk_jw_json(w, tmp.buf, tmp.len);
    } else {
        const uint8_t *bytes = NULL;
        size_t n = 0;
        if (v->type == SDK_JSON_STRING) {
            uint8_t *d;
            if (!sdk_base64_decode(v->s, v->len, &d, &n)) sdk_panicf("%s.Bytes is not valid base64", m);
            bytes = d;
        } else if (v->type == SDK_JSON_ARRAY) {
            if (v->len > OL_MAX_OUTPUT_BYTES)
                sdk_panicf("%s is %U bytes, more than OL_MAX_OUTPUT_BYTES (%U)", m, (uint64_t)v->len,
                           (uint64_t)OL_MAX_OUTPUT_BYTES);
            uint8_t *d = sdk_alloc(v->len + 1);
            for (size_t i = 0; i < v->len; i++) {
                uint64_t b;
                if (!sdk_json_u64(v->items[i], &b) || b > 255)
                    sdk_panicf("%s.Bytes must be base64 or an array of numbers 0-255", m);
                d[i] = (uint8_t)b;
            }
            bytes = d;
            n = v->len;
        } else {
            sdk_panicf("%s.Bytes must be base64 or an array of numbers 0-255", m);
        }
        if (n > OL_MAX_OUTPUT_BYTES)
            sdk_panicf("%s is %U bytes, more than OL_MAX_OUTPUT_BYTES (%U)", m, (uint64_t)n,
                       (uint64_t)OL_MAX_OUTPUT_BYTES);
        size_t bn;
        char *b64 = sdk_base64_encode(bytes, n, &bn);
        sdk_jw_strn(w, b64, bn);
    }
    sdk_jw_obj_close(w);
}

static void write_hash(const sdk_json *report, const char *key, sdk_jw *w) {
    const char *s;
    size_t n;
    char m[64];
    sdk_fmt(m, sizeof m, "resolve_execution: report");
    sdk_jw_key(w, key);
    if (!report || !ol__opt_str(m, report, key, 64, &s, &n)) {
        sdk_jw_null(w);
        return;
    }
    if (!is_hex64(s, n)) sdk_panicf("resolve_execution: report.%s must be 64 lowercase hex characters", key);
    sdk_jw_strn(w, s, n);
}

/* What resolve_execution charges against: the usage a response reports. */
typedef struct usage {
    bool success;
    uint64_t instr, time_ms, compile_ms;
} usage;

/* Validates response and report and writes the normalised resolution into w: {success, output, error,
 * resources_used, compilation_note, wasm_hash, input_hash, output_hash, worker_public_key}. */
static void write_resolution(const char *m, const sdk_json *args, const req *r, sdk_jw *w, usage *u) {
    const sdk_json *resp = ol__opt_obj(m, args, "response");
    if (!resp) sdk_panic("resolve_execution: missing argument response");
    static const char *const rkeys[] = {"success", "output", "error", "resources_used", "compilation_note", NULL};
    const char *rm = "resolve_execution: response";
    ol__only_keys(rm, resp, rkeys);
    bool success;
    if (!ol__opt_bool(rm, resp, "success", &success)) sdk_panic("resolve_execution: missing argument response.success");
    const sdk_json *ru = ol__opt_obj(rm, resp, "resources_used");
    if (!ru) sdk_panic("resolve_execution: missing argument response.resources_used");
    static const char *const ukeys[] = {"instructions", "time_ms", "compile_time_ms", NULL};
    const char *um = "resolve_execution: response.resources_used";
    ol__only_keys(um, ru, ukeys);
    uint64_t instr, time_ms, compile_ms = 0;
    if (!ol__opt_u64(um, ru, "instructions", &instr))
        sdk_panic("resolve_execution: missing argument response.resources_used.instructions");
    if (!ol__opt_u64(um, ru, "time_ms", &time_ms))
        sdk_panic("resolve_execution: missing argument response.resources_used.time_ms");
    bool has_compile = ol__opt_u64(um, ru, "compile_time_ms", &compile_ms);
    if (instr > r->max_instructions)
        sdk_panicf("resolve_execution: response.resources_used.instructions %U exceeds request %U's max_instructions "
                   "%U",
                   instr, r->id, r->max_instructions);
    const char *err = NULL, *note = NULL;
    size_t err_n = 0, note_n = 0;
    ol__opt_str(rm, resp, "error", OL_MAX_ERROR_BYTES, &err, &err_n);
    ol__opt_str(rm, resp, "compilation_note", OL_MAX_COMPILATION_NOTE_BYTES, &note, &note_n);
    const sdk_json *out = sdk_json_get(resp, "output");
    const sdk_json *report = ol__opt_obj(m, args, "report");
    if (report) {
        static const char *const hk[] = {"wasm_hash", "input_hash", "output_hash", NULL};
        ol__only_keys("resolve_execution: report", report, hk);
    }

    /* the normalised resolution */
    sdk_jw_init(w, SDK_JSON_MAX_INPUT, "resolve_execution: resolution");
    sdk_jw_obj_open(w);
    sdk_jw_key(w, "success");
    sdk_jw_bool(w, success);
    sdk_jw_key(w, "output");
    if (sdk_json_is_null(out)) sdk_jw_null(w);
    else write_output(out, r, w);
    sdk_jw_key(w, "error");
    if (err) sdk_jw_strn(w, err, err_n);
    else sdk_jw_null(w);
    sdk_jw_key(w, "resources_used");
    sdk_jw_obj_open(w);
    sdk_jw_key(w, "instructions");
    sdk_jw_u64(w, instr);
    sdk_jw_key(w, "time_ms");
    sdk_jw_u64(w, time_ms);
    sdk_jw_key(w, "compile_time_ms");
    if (has_compile) sdk_jw_u64(w, compile_ms);
    else sdk_jw_null(w);
    sdk_jw_obj_close(w);
    sdk_jw_key(w, "compilation_note");
    if (note) sdk_jw_strn(w, note, note_n);
    else sdk_jw_null(w);
    write_hash(report, "wasm_hash", w);
    write_hash(report, "input_hash", w);
    write_hash(report, "output_hash", w);
    sdk_bytes pk = sdk_signer_account_pk();
    sdk_jw_key(w, "worker_public_key");
    if (pk.n == 33 && pk.p[0] == 0) {
        char *b58 = sdk_base58_encode((const uint8_t *)pk.p + 1, 32);
        char key[80];
        sdk_fmt(key, sizeof key, "ed25519:%s", b58);
        sdk_jw_str(w, key);
    } else if (pk.n == 65 && pk.p[0] == 1) {
        char *b58 = sdk_base58_encode((const uint8_t *)pk.p + 1, 64);
        char key[120];
        sdk_fmt(key, sizeof key, "secp256k1:%s", b58);
        sdk_jw_str(w, key);
    } else {
        sdk_jw_null(w);
    }
    sdk_jw_obj_close(w);
    sdk_jw_finish(w);
    u->success = success;
    u->instr = instr;
    u->time_ms = time_ms;
    u->compile_ms = compile_ms;
}

SDK_METHOD(ol_resolve_execution, "resolve_execution") {
    static const char *const keys[] = {"request_id", "response", "report", NULL};
    const char *m = "resolve_execution";
    sdk_require_no_deposit(m);
    sdk_json *args = sdk_input_json_object(m);
    ol__only_keys(m, args, keys);
    ol_state st;
    ol__state_load(&st, m);
    sdk_bytes pred = sdk_predecessor_account_id();
    if (!sdk_memeq(pred.p, pred.n, st.operator_id.p, st.operator_id.n))
        sdk_panicf("resolve_execution: only the operator %s may resolve executions (caller: %s)", st.operator_id.p,
                   pred.p);
    uint64_t id;
    if (!ol__opt_u64(m, args, "request_id", &id)) sdk_panic("resolve_execution: missing argument request_id");
    req r;
    if (!req_load(id, &r))
        sdk_panicf("resolve_execution: request %U not found (already settled, cancelled, or never created)", id);
    if (r.resolved) sdk_panicf("resolve_execution: request %U was already resolved; the first resolution wins", id);

    sdk_jw w;
    usage u;
    write_resolution(m, args, &r, &w, &u);

    const char *payload = w.buf;
    size_t payload_n = w.len;
    if (w.len > OL_YIELD_PAYLOAD_MAX) {
        /* too large to resume with: keep it in state until the callback; its storage must fit in what the
         * deposit leaves after the fee this response will be charged */
        sdk_bytes k = id_key(id);
        uint64_t before = sdk_storage_usage();
        sdk_map_set(&RESULTS, k.p, k.n, w.buf, w.len);
        uint64_t bytes = sdk_storage_usage() - before;
        u128 need = ol__storage_cost(bytes);
        u128 fee = u.success ? usage_cost(&r, u.instr, u.time_ms, u.compile_ms) : r.base_fee;
        u128 budget = fee_budget(&r);
        fee = u128_min(fee, budget);
        u128 left;
        u128_sub(budget, fee, &left);
        if (u128_cmp(need, left) > 0)
            sdk_panicf("resolve_execution: keeping the %U-byte response of request %U until settlement needs %Q "
                       "yoctoNEAR of storage, but its deposit leaves only %Q after fees; resolve with a shorter "
                       "output or a failure",
                       (uint64_t)w.len, id, &need, &left);
        payload = "{\"stored\":true}";
        payload_n = sdk_strlen(payload);
    }
    r.resolved = 1;
    req_save(&r);
    if (!sdk_yield_resume(r.data_id, payload, payload_n))
        sdk_panicf("resolve_execution: the yield of request %U is no longer pending (its %U-block window has "
                   "passed)",
                   id, OL_YIELD_WINDOW_BLOCKS);
    char msg[96];
    sdk_fmt(msg, sizeof msg, "resolved request %U (success: %s)", id, u.success ? "true" : "false");
    sdk_log(msg);
}

/* ---- settlement ---- */

static void emit_completed(const req *r, bool success, const char *error, size_t error_n, const sdk_json *res,
                           u128 charged, u128 refunded) {
    sdk_jw ev;
    sdk_jw_init(&ev, SDK_LOG_MAX_BYTES, "execution_completed event");
    sdk_jw_arr_open(&ev);
    sdk_jw_obj_open(&ev);
    sdk_jw_key(&ev, "request_id");
    sdk_jw_u64(&ev, r->id);
    sdk_jw_key(&ev, "sender_id");
    sdk_jw_strn(&ev, r->sender.p, r->sender.n);
    sdk_jw_key(&ev, "success");
    sdk_jw_bool(&ev, success);
    sdk_jw_key(&ev, "error_message");
    if (error) sdk_jw_strn(&ev, error, error_n);
    else sdk_jw_null(&ev);
    sdk_jw_key(&ev, "resources_used");
    sdk_jw_value(&ev, sdk_json_get(res, "resources_used"));
    sdk_jw_key(&ev, "payment_charged");
    sdk_jw_u128(&ev, charged);
    sdk_jw_key(&ev, "payment_refunded");
    sdk_jw_u128(&ev, refunded);
    static const char *const names[] = {"wasm_hash", "input_hash", "output_hash", "worker_public_key"};
    for (int i = 0; i < 4; i++) {
        sdk_jw_key(&ev, names[i]);
        sdk_jw_value(&ev, sdk_json_get(res, names[i]));
    }
    sdk_jw_obj_close(&ev);
    sdk_jw_arr_close(&ev);
    sdk_emit_event("near-outlayer", "1.0.0", "execution_completed", sdk_jw_finish(&ev), ev.len);
}

/* Removes the request and everything it keeps, and refunds the payer; returns the refund. */
static u128 close_request(const req *r, u128 charged) {
    sdk_bytes k = id_key(r->id);
    sdk_map_remove(&REQUESTS, k.p, k.n);
    sdk_map_remove(&RESULTS, k.p, k.n);
    pending_remove(r->id);
    u128 refund;
    if (!u128_sub(r->payment, charged, &refund)) refund = U128_ZERO; /* charged <= budget <= payment */
    if (!u128_is_zero(refund)) sdk_promise_transfer(r->payer.p, r->payer.n, refund);
    return refund;
}

SDK_METHOD(ol_on_execution_response, "on_execution_response") {
    const char *m = "on_execution_response";
    sdk_require_private(m);
    sdk_json *args = sdk_input_json_object(m);
    uint64_t id;
    if (!ol__opt_u64(m, args, "request_id", &id)) sdk_panic("on_execution_response: missing argument request_id");
    if (sdk_promise_results_count() != 1) sdk_panic("on_execution_response: expected exactly one promise result");
    ol_state st;
    ol__state_load(&st, m);
    req r;
    if (!req_load(id, &r)) {
        char msg[96];
        sdk_fmt(msg, sizeof msg, "request %U is no longer pending (cancelled); nothing to settle", id);
        sdk_log(msg);
        sdk_return_str("null");
        return;
    }
    sdk_bytes payload;
    int status = sdk_promise_result(0, &payload);
    sdk_json *res = NULL;
    if (status == 1) {
        sdk_json_err e;
        res = sdk_json_parse(payload.p, payload.n, SDK_JSON_MAX_INPUT, &e);
        if (res && sdk_json_get(res, "stored")) {
            sdk_bytes k = id_key(id), stored;
            if (!sdk_map_get(&RESULTS, k.p, k.n, &stored)) sdk_panic("corrupt state: stored resolution missing");
            res = sdk_json_parse(stored.p, stored.n, SDK_JSON_MAX_INPUT, &e);
        }
        if (!res || res->type != SDK_JSON_OBJECT) sdk_panic("corrupt state: resolution payload");
    }

    if (!res) {
        /* nobody answered within the window: our failure, the payer gets everything back */
        u128 refund = close_request(&r, U128_ZERO);
        ol__state_save(&st);
        emit_completed(&r, false, "timeout", 7, NULL, U128_ZERO, refund);
        sdk_return_str("null");
        return;
    }

    bool success = sdk_json_get(res, "success")->b;
    const sdk_json *ru = sdk_json_get(res, "resources_used");
    uint64_t instr = 0, time_ms = 0, compile_ms = 0;
    sdk_json_u64(sdk_json_get(ru, "instructions"), &instr);
    sdk_json_u64(sdk_json_get(ru, "time_ms"), &time_ms);
    sdk_json_u64(sdk_json_get(ru, "compile_time_ms"), &compile_ms);
    u128 cost = success ? usage_cost(&r, instr, time_ms, compile_ms) : r.base_fee;
    u128 charged = u128_min(cost, fee_budget(&r));
    u128 refund = close_request(&r, charged);
    st.total_executions++;
    st.total_fees_collected = u128_add_sat(st.total_fees_collected, charged);
    st.fees_available = u128_add_sat(st.fees_available, charged);
    ol__state_save(&st);
    const sdk_json *err = sdk_json_get(res, "error");
    emit_completed(&r, success, sdk_json_is_null(err) ? NULL : err->s, sdk_json_is_null(err) ? 0 : err->len, res,
                   charged, refund);

    const sdk_json *out = sdk_json_get(res, "output");
    if (!success || sdk_json_is_null(out)) {
        sdk_return_str("null");
        return;
    }
    sdk_jw w;
    sdk_jw_init(&w, SDK_JSON_MAX_INPUT, "callback result");
    const sdk_json *v = out->items[0];
    if (r.format == FMT_JSON) sdk_jw_value(&w, v);
    else sdk_jw_strn(&w, v->s, v->len); /* Text, or Bytes already as base64 */
    ol__return_json(&w);
}

/* ---- cancel_stale_execution ---- */

SDK_METHOD(ol_cancel_stale_execution, "cancel_stale_execution") {
    static const char *const keys[] = {"request_id", NULL};
    const char *m = "cancel_stale_execution";
    sdk_require_no_deposit(m);
    sdk_json *args = sdk_input_json_object(m);
    ol__only_keys(m, args, keys);
    uint64_t id;
    if (!ol__opt_u64(m, args, "request_id", &id)) sdk_panic("cancel_stale_execution: missing argument request_id");
    req r;
    if (!req_load(id, &r)) sdk_panicf("cancel_stale_execution: request %U not found", id);
    sdk_bytes pred = sdk_predecessor_account_id();
    if (!sdk_memeq(pred.p, pred.n, r.sender.p, r.sender.n))
        sdk_panicf("cancel_stale_execution: only the sender %s of request %U may cancel it", r.sender.p, id);
    /* a resolved request's callback is already queued: give it a second window before anyone may cancel, so a
     * sender cannot race the settlement of work that was done */
    uint64_t h = sdk_block_height();
    uint64_t deadline = r.block_height + (r.resolved ? 2 : 1) * OL_YIELD_WINDOW_BLOCKS;
    if (h <= deadline)
        sdk_panicf("cancel_stale_execution: request %U is not stale: its yield window ends at block %U (now %U)", id,
                   deadline, h);
    u128 refund = close_request(&r, U128_ZERO);
    emit_completed(&r, false, "cancelled: stale", 16, NULL, U128_ZERO, refund);
}

/* ---- views ---- */

SDK_METHOD(ol_get_request, "get_request") {
    static const char *const keys[] = {"request_id", NULL};
    sdk_json *args = sdk_input_json_object("get_request");
    ol__only_keys("get_request", args, keys);
    uint64_t id;
    if (!ol__opt_u64("get_request", args, "request_id", &id)) sdk_panic("get_request: missing argument request_id");
    req r;
    if (!req_load(id, &r)) {
        sdk_return_str("null");
        return;
    }
    sdk_return(r.view.p, r.view.n);
}

SDK_METHOD(ol_list_pending_requests, "list_pending_requests") {
    static const char *const keys[] = {"from_id", "limit", NULL};
    const char *m = "list_pending_requests";
    sdk_json *args = sdk_input_json_object(m);
    ol__only_keys(m, args, keys);
    uint64_t from = 0, limit = OL_LIST_DEFAULT_LIMIT;
    ol__opt_u64(m, args, "from_id", &from);
    if (ol__opt_u64(m, args, "limit", &limit)) {
        if (limit == 0) sdk_panic("list_pending_requests: limit must be at least 1");
        if (limit > OL_LIST_MAX_LIMIT)
            sdk_panicf("list_pending_requests: limit %U exceeds the maximum of %U", limit, OL_LIST_MAX_LIMIT);
    }
    sdk_bytes idx;
    if (!sdk_storage_read(OL_KEY_PENDING, 1, &idx)) idx.n = 0;
    size_t n = idx.n / 8;
    size_t i = lower_bound((const uint8_t *)idx.p, n, from);
    sdk_jw w;
    sdk_jw_init(&w, 4u * 1024 * 1024, "list_pending_requests result");
    sdk_jw_arr_open(&w);
    for (uint64_t k = 0; i < n && k < limit; i++, k++) {
        req r;
        if (!req_load(idx_get((const uint8_t *)idx.p, i), &r)) sdk_panic("corrupt state: pending index");
        if (k > 0 && w.len + r.view.n + 2 > OL_LIST_MAX_BYTES) break; /* page full: continue from the last id + 1 */
        sdk_jw_json(&w, r.view.p, r.view.n);
    }
    sdk_jw_arr_close(&w);
    ol__return_json(&w);
}

SDK_METHOD(ol_estimate_execution_cost, "estimate_execution_cost") {
    static const char *const keys[] = {"resource_limits", "params", NULL};
    const char *m = "estimate_execution_cost";
    sdk_json *args = sdk_input_json_object(m);
    ol__only_keys(m, args, keys);
    ol_state st;
    ol__state_load(&st, m);
    limits l = parse_limits(m, args);
    bool compile_only = false;
    const sdk_json *params = ol__opt_obj(m, args, "params");
    if (params) ol__opt_bool(m, params, "compile_only", &compile_only);
    u128 c = estimate_cost(&st, l.instr, l.secs, compile_only);
    char buf[44];
    buf[0] = '"';
    size_t n = u128_to_dec(c, buf + 1);
    buf[n + 1] = '"';
    sdk_return(buf, n + 2);
}
