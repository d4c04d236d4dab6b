/* secrets: encrypted secrets stored on chain by their owner for a program (DESIGN.md §5, reference §1.10
 * and §1.11), with exact storage deposits.
 *
 * Key: s ‖ owner ‖ 0 ‖ accessor (canonical JSON) ‖ 0 ‖ profile. Entry: version, created_at, updated_at,
 * storage_deposit, ciphertext (base64 text), access condition (canonical JSON). Per owner, an index
 * u ‖ owner lists the owner's (accessor, profile) pairs for list_user_secrets.
 *
 * Deposits: each entry records exactly what its storage cost when it was written, measured with
 * storage_usage (so the index growth it caused is included). An update charges or refunds only the change:
 * new deposit = old deposit ± cost(change); the caller pays attached + old deposit >= new deposit and gets
 * the rest back, so an update can never refund more than was paid (the original's "deposit theft" bug). A
 * delete refunds the recorded deposit. Access patterns are matched against the whole account id (anchored)
 * by the keystore; the contract validates their shape. */
#include "outlayer_int.h"

static const sdk_map SECRETS = {OL_PREFIX_SECRET, 1};
static const sdk_map USERS = {OL_PREFIX_USER, 1};

typedef struct accessor {
    bool repo;
    const char *a, *branch; /* a = repo or hash */
    size_t an, bn;
    bool has_branch;
} accessor;

typedef struct entry {
    uint64_t created, updated;
    u128 deposit;
    sdk_bytes enc, access;
} entry;

static bool profile_ok(const char *s, size_t n) {
    if (n == 0 || n > OL_MAX_PROFILE_BYTES) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static bool printable(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f) return false;
    return true;
}

static accessor parse_accessor(const char *m, const sdk_json *args) {
    const sdk_json *v = ol__opt_obj(m, args, "accessor");
    if (!v) sdk_panicf("%s: missing argument accessor", m);
    if (v->len != 1) sdk_panicf("%s: accessor must be {\"Repo\":{...}} or {\"WasmHash\":{...}}", m);
    accessor a = {0};
    char mm[64];
    const sdk_json *repo = ol__opt_obj(m, v, "Repo");
    const sdk_json *hash = ol__opt_obj(m, v, "WasmHash");
    if (repo) {
        static const char *const keys[] = {"repo", "branch", NULL};
        sdk_fmt(mm, sizeof mm, "%s: accessor.Repo", m);
        ol__only_keys(mm, repo, keys);
        a.repo = true;
        a.a = ol__req_str(mm, repo, "repo", OL_MAX_REPO_BYTES, &a.an);
        if (!printable(a.a, a.an)) sdk_panicf("%s: accessor.Repo.repo must be printable ASCII without spaces", m);
        a.has_branch = ol__opt_str(mm, repo, "branch", OL_MAX_BRANCH_BYTES, &a.branch, &a.bn);
        if (a.has_branch && (a.bn == 0 || !printable(a.branch, a.bn)))
            sdk_panicf("%s: accessor.Repo.branch must be non-empty printable ASCII without spaces", m);
    } else if (hash) {
        static const char *const keys[] = {"hash", NULL};
        sdk_fmt(mm, sizeof mm, "%s: accessor.WasmHash", m);
        ol__only_keys(mm, hash, keys);
        a.a = ol__req_str(mm, hash, "hash", 64, &a.an);
        bool ok = a.an == 64;
        for (size_t i = 0; ok && i < a.an; i++)
            ok = (a.a[i] >= '0' && a.a[i] <= '9') || (a.a[i] >= 'a' && a.a[i] <= 'f');
        if (!ok) sdk_panicf("%s: accessor.WasmHash.hash must be 64 lowercase hex characters", m);
    } else {
        sdk_panicf("%s: accessor must be {\"Repo\":{...}} or {\"WasmHash\":{...}}", m);
    }
    return a;
}

static sdk_bytes accessor_json(const accessor *a, bool with_branch) {
    sdk_jw w;
    sdk_jw_init(&w, 2048, "accessor");
    sdk_jw_obj_open(&w);
    if (a->repo) {
        sdk_jw_key(&w, "Repo");
        sdk_jw_obj_open(&w);
        sdk_jw_key(&w, "repo");
        sdk_jw_strn(&w, a->a, a->an);
        sdk_jw_key(&w, "branch");
        if (with_branch && a->has_branch) sdk_jw_strn(&w, a->branch, a->bn);
        else sdk_jw_null(&w);
        sdk_jw_obj_close(&w);
    } else {
        sdk_jw_key(&w, "WasmHash");
        sdk_jw_obj_open(&w);
        sdk_jw_key(&w, "hash");
        sdk_jw_strn(&w, a->a, a->an);
        sdk_jw_obj_close(&w);
    }
    sdk_jw_obj_close(&w);
    return (sdk_bytes){sdk_jw_finish(&w), w.len};
}

static sdk_bytes secret_key(sdk_bytes owner, sdk_bytes acc, const char *profile, size_t pn) {
    size_t n = owner.n + 1 + acc.n + 1 + pn;
    char *k = sdk_alloc(n);
    memcpy(k, owner.p, owner.n);
    k[owner.n] = 0;
    memcpy(k + owner.n + 1, acc.p, acc.n);
    k[owner.n + 1 + acc.n] = 0;
    memcpy(k + owner.n + 2 + acc.n, profile, pn);
    return (sdk_bytes){k, n};
}

/* ---- access conditions ---- */

static void check_op(const char *m, const sdk_json *o) {
    static const char *const ops[] = {"Gte", "Lte", "Gt", "Lt", "Eq", "Ne", NULL};
    const char *s;
    size_t n;
    s = ol__req_str(m, o, "operator", 8, &n);
    for (const char *const *p = ops; *p; p++)
        if (sdk_memeq(s, n, *p, sdk_strlen(*p))) return;
    sdk_panicf("%s: operator must be one of Gte, Lte, Gt, Lt, Eq, Ne", m);
}

static void check_access(const char *method, const sdk_json *v, unsigned depth) {
    char m[96];
    if (depth > OL_MAX_ACCESS_DEPTH)
        sdk_panicf("%s: access nests deeper than OL_MAX_ACCESS_DEPTH (%U)", method, (uint64_t)OL_MAX_ACCESS_DEPTH);
    if (v->type == SDK_JSON_STRING && sdk_memeq(v->s, v->len, "AllowAll", 8)) return;
    if (v->type != SDK_JSON_OBJECT || v->len != 1 || v->items[0]->type != SDK_JSON_OBJECT)
        sdk_panicf("%s: access must be \"AllowAll\" or one of {\"Whitelist\"|\"AccountPattern\"|\"NearBalance\"|"
                   "\"FtBalance\"|\"NftOwned\"|\"DaoMember\"|\"Logic\"|\"Not\": {...}}",
                   method);
    const char *tag = v->keys[0];
    const sdk_json *b = v->items[0];
    sdk_fmt(m, sizeof m, "%s: access.%s", method, tag);
    u128 amount;
    if (sdk_streq(tag, "Whitelist")) {
        static const char *const k[] = {"accounts", NULL};
        ol__only_keys(m, b, k);
        const sdk_json *a = sdk_json_get(b, "accounts");
        if (!a || a->type != SDK_JSON_ARRAY || a->len == 0 || a->len > OL_MAX_ACCESS_ITEMS)
            sdk_panicf("%s: accounts must be an array of 1 to %U account ids", m, (uint64_t)OL_MAX_ACCESS_ITEMS);
        for (size_t i = 0; i < a->len; i++)
            if (a->items[i]->type != SDK_JSON_STRING || !sdk_account_id_valid(a->items[i]->s, a->items[i]->len))
                sdk_panicf("%s: accounts[%U] is not a valid NEAR account id", m, (uint64_t)i);
    } else if (sdk_streq(tag, "AccountPattern")) {
        static const char *const k[] = {"pattern", NULL};
        ol__only_keys(m, b, k);
        size_t n;
        const char *p = ol__req_str(m, b, "pattern", OL_MAX_PATTERN_BYTES, &n);
        if (!printable(p, n)) sdk_panicf("%s: pattern must be printable ASCII without spaces", m);
    } else if (sdk_streq(tag, "NearBalance")) {
        static const char *const k[] = {"operator", "value", NULL};
        ol__only_keys(m, b, k);
        check_op(m, b);
        if (!ol__opt_u128(m, b, "value", &amount)) sdk_panicf("%s: missing argument value", m);
    } else if (sdk_streq(tag, "FtBalance")) {
        static const char *const k[] = {"contract", "operator", "value", NULL};
        ol__only_keys(m, b, k);
        ol__req_account(m, b, "contract");
        check_op(m, b);
        if (!ol__opt_u128(m, b, "value", &amount)) sdk_panicf("%s: missing argument value", m);
    } else if (sdk_streq(tag, "NftOwned")) {
        static const char *const k[] = {"contract", "token_id", NULL};
        ol__only_keys(m, b, k);
        ol__req_account(m, b, "contract");
        const char *t;
        size_t tn;
        ol__opt_str(m, b, "token_id", 256, &t, &tn);
    } else if (sdk_streq(tag, "DaoMember")) {
        static const char *const k[] = {"dao_contract", "role", NULL};
        ol__only_keys(m, b, k);
        ol__req_account(m, b, "dao_contract");
        size_t rn;
        ol__req_str(m, b, "role", 64, &rn);
    } else if (sdk_streq(tag, "Logic")) {
        static const char *const k[] = {"operator", "conditions", NULL};
        ol__only_keys(m, b, k);
        size_t on;
        const char *op = ol__req_str(m, b, "operator", 4, &on);
        if (!sdk_memeq(op, on, "And", 3) && !sdk_memeq(op, on, "Or", 2))
            sdk_panicf("%s: operator must be And or Or", m);
        const sdk_json *c = sdk_json_get(b, "conditions");
        if (!c || c->type != SDK_JSON_ARRAY || c->len == 0 || c->len > OL_MAX_ACCESS_ITEMS)
            sdk_panicf("%s: conditions must be an array of 1 to %U conditions", m, (uint64_t)OL_MAX_ACCESS_ITEMS);
        for (size_t i = 0; i < c->len; i++) check_access(method, c->items[i], depth + 1);
    } else if (sdk_streq(tag, "Not")) {
        static const char *const k[] = {"condition", NULL};
        ol__only_keys(m, b, k);
        const sdk_json *c = sdk_json_get(b, "condition");
        if (!c) sdk_panicf("%s: missing argument condition", m);
        check_access(method, c, depth + 1);
    } else {
        sdk_panicf("%s: unknown access condition", method);
    }
}

static sdk_bytes parse_access(const char *m, const sdk_json *args, const char *key) {
    const sdk_json *v = sdk_json_get(args, key);
    if (sdk_json_is_null(v)) sdk_panicf("%s: missing argument %s", m, key);
    check_access(m, v, 1);
    sdk_jw w;
    char what[64];
    sdk_fmt(what, sizeof what, "%s: %s (OL_MAX_ACCESS_JSON_BYTES)", m, key);
    sdk_jw_init(&w, OL_MAX_ACCESS_JSON_BYTES, sdk_strndup(what, sdk_strlen(what)));
    sdk_jw_value(&w, v);
    return (sdk_bytes){sdk_jw_finish(&w), w.len};
}

static sdk_bytes parse_enc(const char *m, const sdk_json *args) {
    size_t n;
    const char *s = ol__req_str(m, args, "encrypted_secrets_base64", OL_MAX_SECRETS_B64_BYTES, &n);
    uint8_t *d;
    size_t dn;
    if (!sdk_base64_decode(s, n, &d, &dn)) sdk_panicf("%s: encrypted_secrets_base64 is not valid base64", m);
    return (sdk_bytes){s, n};
}

static const char *parse_profile(const char *m, const sdk_json *args, size_t *pn) {
    const char *p = ol__req_str(m, args, "profile", OL_MAX_PROFILE_BYTES, pn);
    if (!profile_ok(p, *pn)) sdk_panicf("%s: profile must be 1-64 of [A-Za-z0-9_-]", m);
    return p;
}

/* ---- entries and index ---- */

static sdk_bytes entry_encode(const entry *e) {
    sdk_bin b;
    sdk_bin_init(&b);
    sdk_bin_u8(&b, 1);
    sdk_bin_u64(&b, e->created);
    sdk_bin_u64(&b, e->updated);
    sdk_bin_u128(&b, e->deposit);
    sdk_bin_bytes(&b, e->enc.p, e->enc.n);
    sdk_bin_bytes(&b, e->access.p, e->access.n);
    return (sdk_bytes){(const char *)b.buf, b.len};
}

static bool entry_load(sdk_bytes key, entry *e) {
    sdk_bytes raw;
    if (!sdk_map_get(&SECRETS, key.p, key.n, &raw)) return false;
    sdk_bin b;
    sdk_bin_reader(&b, raw.p, raw.n, "secret entry");
    if (sdk_bin_get_u8(&b) != 1) sdk_panic("corrupt state: unknown secret entry version");
    e->created = sdk_bin_get_u64(&b);
    e->updated = sdk_bin_get_u64(&b);
    e->deposit = sdk_bin_get_u128(&b);
    e->enc = sdk_bin_get_bytes(&b);
    e->access = sdk_bin_get_bytes(&b);
    return true;
}

static void entry_save(sdk_bytes key, const entry *e) {
    sdk_bytes v = entry_encode(e);
    sdk_map_set(&SECRETS, key.p, key.n, v.p, v.n);
}

typedef struct index_item {
    sdk_bytes acc, profile;
} index_item;

static size_t index_load(sdk_bytes owner, index_item **items) {
    sdk_bytes raw;
    if (!sdk_map_get(&USERS, owner.p, owner.n, &raw)) {
        *items = NULL;
        return 0;
    }
    sdk_bin b;
    sdk_bin_reader(&b, raw.p, raw.n, "secrets index");
    size_t cap = 8, n = 0;
    index_item *v = sdk_alloc(cap * sizeof *v);
    while (b.pos < b.rn) {
        if (n == cap) {
            v = sdk_realloc(v, cap * sizeof *v, cap * 2 * sizeof *v);
            cap *= 2;
        }
        v[n].acc = sdk_bin_get_bytes(&b);
        v[n].profile = sdk_bin_get_bytes(&b);
        n++;
    }
    *items = v;
    return n;
}

static void index_save(sdk_bytes owner, const index_item *items, size_t n) {
    if (n == 0) {
        sdk_map_remove(&USERS, owner.p, owner.n);
        return;
    }
    sdk_bin b;
    sdk_bin_init(&b);
    for (size_t i = 0; i < n; i++) {
        sdk_bin_bytes(&b, items[i].acc.p, items[i].acc.n);
        sdk_bin_bytes(&b, items[i].profile.p, items[i].profile.n);
    }
    sdk_map_set(&USERS, owner.p, owner.n, b.buf, b.len);
}

static size_t index_find(const index_item *items, size_t n, sdk_bytes acc, const char *p, size_t pn) {
    for (size_t i = 0; i < n; i++)
        if (sdk_memeq(items[i].acc.p, items[i].acc.n, acc.p, acc.n) && sdk_memeq(items[i].profile.p, items[i].profile.n, p, pn))
            return i;
    return n;
}

/* Writes the entry (new or updated), settles the deposit against attached, refunds the rest. */
static void write_with_deposit(const char *m, sdk_bytes owner, sdk_bytes acc, const char *profile, size_t pn,
                               entry *e, bool is_new, u128 old_deposit) {
    u128 attached = sdk_attached_deposit();
    sdk_bytes key = secret_key(owner, acc, profile, pn);
    uint64_t before = sdk_storage_usage();
    if (is_new) {
        index_item *items;
        size_t n = index_load(owner, &items);
        if (n >= OL_MAX_SECRETS_PER_ACCOUNT)
            sdk_panicf("%s: %s already has %U secret entries (limit OL_MAX_SECRETS_PER_ACCOUNT)", m, owner.p,
                       (uint64_t)n);
        index_item *grown = sdk_alloc((n + 1) * sizeof *grown);
        if (n) memcpy(grown, items, n * sizeof *grown);
        grown[n].acc = acc;
        grown[n].profile = (sdk_bytes){profile, pn};
        index_save(owner, grown, n + 1);
    }
    e->deposit = old_deposit;
    entry_save(key, e);
    uint64_t after = sdk_storage_usage();
    u128 need;
    if (after >= before) {
        need = u128_add_sat(old_deposit, ol__storage_cost(after - before));
    } else if (!u128_sub(old_deposit, ol__storage_cost(before - after), &need)) {
        need = U128_ZERO;
    }
    u128 avail = u128_add_sat(attached, old_deposit);
    if (u128_cmp(avail, need) < 0)
        sdk_panicf("%s: the entry's storage costs %Q yoctoNEAR; attached %Q plus its current deposit %Q is not enough",
                   m, &need, &attached, &old_deposit);
    e->deposit = need;
    entry_save(key, e); /* same size */
    u128 refund;
    u128_sub(avail, need, &refund);
    if (!u128_is_zero(refund)) sdk_promise_transfer(owner.p, owner.n, refund);
    char msg[200];
    sdk_fmt(msg, sizeof msg, "%s: storage deposit %Q yoctoNEAR, refunded %Q", m, &need, &refund);
    sdk_log(msg);
}

SDK_METHOD(ol_store_secrets, "store_secrets") {
    static const char *const keys[] = {"accessor", "profile", "encrypted_secrets_base64", "access", NULL};
    const char *m = "store_secrets";
    sdk_json *args = sdk_input_json_object(m);
    ol__only_keys(m, args, keys);
    sdk_bytes owner = sdk_predecessor_account_id();
    accessor a = parse_accessor(m, args);
    size_t pn;
    const char *profile = parse_profile(m, args, &pn);
    entry e = {0};
    e.enc = parse_enc(m, args);
    e.access = parse_access(m, args, "access");
    sdk_bytes acc = accessor_json(&a, true);
    sdk_bytes key = secret_key(owner, acc, profile, pn);
    entry old;
    bool exists = entry_load(key, &old);
    uint64_t now = sdk_block_timestamp();
    e.created = exists ? old.created : now; /* an update keeps created_at */
    e.updated = now;
    write_with_deposit(m, owner, acc, profile, pn, &e, !exists, exists ? old.deposit : U128_ZERO);
}

SDK_METHOD(ol_update_access, "update_access") {
    static const char *const keys[] = {"accessor", "profile", "access", NULL};
    const char *m = "update_access";
    sdk_json *args = sdk_input_json_object(m);
    ol__only_keys(m, args, keys);
    sdk_bytes owner = sdk_predecessor_account_id();
    accessor a = parse_accessor(m, args);
    size_t pn;
    const char *profile = parse_profile(m, args, &pn);
    sdk_bytes access = parse_access(m, args, "access");
    sdk_bytes acc = accessor_json(&a, true);
    entry e;
    if (!entry_load(secret_key(owner, acc, profile, pn), &e))
        sdk_panicf("update_access: %s has no secrets for this accessor and profile", owner.p);
    e.access = access;
    e.updated = sdk_block_timestamp();
    write_with_deposit(m, owner, acc, profile, pn, &e, false, e.deposit);
}

SDK_METHOD(ol_delete_secrets, "delete_secrets") {
    static const char *const keys[] = {"accessor", "profile", NULL};
    const char *m = "delete_secrets";
    sdk_require_no_deposit(m);
    sdk_json *args = sdk_input_json_object(m);
    ol__only_keys(m, args, keys);
    sdk_bytes owner = sdk_predecessor_account_id();
    accessor a = parse_accessor(m, args);
    size_t pn;
    const char *profile = parse_profile(m, args, &pn);
    sdk_bytes acc = accessor_json(&a, true);
    sdk_bytes key = secret_key(owner, acc, profile, pn);
    entry e;
    if (!entry_load(key, &e)) sdk_panicf("delete_secrets: %s has no secrets for this accessor and profile", owner.p);
    sdk_map_remove(&SECRETS, key.p, key.n);
    index_item *items;
    size_t n = index_load(owner, &items);
    size_t i = index_find(items, n, acc, profile, pn);
    if (i < n) {
        items[i] = items[n - 1];
        index_save(owner, items, n - 1);
    }
    if (!u128_is_zero(e.deposit)) sdk_promise_transfer(owner.p, owner.n, e.deposit);
    char msg[160];
    sdk_fmt(msg, sizeof msg, "delete_secrets: refunded %Q yoctoNEAR", &e.deposit);
    sdk_log(msg);
}

static void write_entry_view(sdk_jw *w, const entry *e) {
    sdk_jw_key(w, "created_at");
    sdk_jw_u64(w, e->created);
    sdk_jw_key(w, "updated_at");
    sdk_jw_u64(w, e->updated);
    sdk_jw_key(w, "storage_deposit");
    sdk_jw_u128(w, e->deposit);
    sdk_jw_key(w, "access");
    sdk_jw_json(w, e->access.p, e->access.n);
}

SDK_METHOD(ol_get_secrets, "get_secrets") {
    static const char *const keys[] = {"accessor", "profile", "owner", NULL};
    const char *m = "get_secrets";
    sdk_json *args = sdk_input_json_object(m);
    ol__only_keys(m, args, keys);
    accessor a = parse_accessor(m, args);
    size_t pn;
    const char *profile = parse_profile(m, args, &pn);
    sdk_bytes owner = ol__req_account(m, args, "owner");
    entry e;
    bool found = entry_load(secret_key(owner, accessor_json(&a, true), profile, pn), &e);
    bool wildcard = false;
    if (!found && a.repo && a.has_branch) /* a branch falls back to the entry stored for every branch */
        found = wildcard = entry_load(secret_key(owner, accessor_json(&a, false), profile, pn), &e);
    if (!found) {
        sdk_return_str("null");
        return;
    }
    sdk_jw w;
    sdk_jw_init(&w, 64 * 1024, "get_secrets result");
    sdk_jw_obj_open(&w);
    sdk_jw_key(&w, "encrypted_secrets");
    sdk_jw_strn(&w, e.enc.p, e.enc.n);
    write_entry_view(&w, &e);
    sdk_jw_key(&w, "branch");
    if (a.repo && a.has_branch && !wildcard) sdk_jw_strn(&w, a.branch, a.bn);
    else sdk_jw_null(&w);
    sdk_jw_obj_close(&w);
    ol__return_json(&w);
}

SDK_METHOD(ol_secrets_exist, "secrets_exist") {
    static const char *const keys[] = {"accessor", "profile", "owner", NULL};
    const char *m = "secrets_exist";
    sdk_json *args = sdk_input_json_object(m);
    ol__only_keys(m, args, keys);
    accessor a = parse_accessor(m, args);
    size_t pn;
    const char *profile = parse_profile(m, args, &pn);
    sdk_bytes owner = ol__req_account(m, args, "owner");
    sdk_bytes key = secret_key(owner, accessor_json(&a, true), profile, pn);
    sdk_return_str(sdk_map_has(&SECRETS, key.p, key.n) ? "true" : "false");
}

SDK_METHOD(ol_list_user_secrets, "list_user_secrets") {
    static const char *const keys[] = {"account_id", NULL};
    const char *m = "list_user_secrets";
    sdk_json *args = sdk_input_json_object(m);
    ol__only_keys(m, args, keys);
    sdk_bytes owner = ol__req_account(m, args, "account_id");
    index_item *items;
    size_t n = index_load(owner, &items);
    sdk_jw w;
    sdk_jw_init(&w, 4u * 1024 * 1024, "list_user_secrets result");
    sdk_jw_arr_open(&w);
    for (size_t i = 0; i < n; i++) {
        entry e;
        if (!entry_load(secret_key(owner, items[i].acc, items[i].profile.p, items[i].profile.n), &e))
            sdk_panic("corrupt state: secrets index");
        sdk_jw_obj_open(&w);
        sdk_jw_key(&w, "accessor");
        sdk_jw_json(&w, items[i].acc.p, items[i].acc.n);
        sdk_jw_key(&w, "profile");
        sdk_jw_strn(&w, items[i].profile.p, items[i].profile.n);
        write_entry_view(&w, &e);
        sdk_jw_obj_close(&w);
    }
    sdk_jw_arr_close(&w);
    ol__return_json(&w);
}

/* What store_secrets would hold as the entry's deposit: for a new entry its measured bytes (entry record +
 * index growth), for an existing one its current deposit adjusted by the size change. */
SDK_METHOD(ol_estimate_storage_cost, "estimate_storage_cost") {
    static const char *const keys[] = {"accessor", "profile", "owner", "encrypted_secrets_base64", "access", NULL};
    const char *m = "estimate_storage_cost";
    sdk_json *args = sdk_input_json_object(m);
    ol__only_keys(m, args, keys);
    accessor a = parse_accessor(m, args);
    size_t pn;
    const char *profile = parse_profile(m, args, &pn);
    sdk_bytes owner = ol__req_account(m, args, "owner");
    entry e = {0};
    e.enc = parse_enc(m, args);
    e.access = parse_access(m, args, "access");
    sdk_bytes acc = accessor_json(&a, true);
    sdk_bytes key = secret_key(owner, acc, profile, pn);
    uint64_t value_n = entry_encode(&e).n;
    entry old;
    u128 cost;
    if (entry_load(key, &old)) {
        uint64_t old_n = entry_encode(&old).n;
        if (value_n >= old_n) cost = u128_add_sat(old.deposit, ol__storage_cost(value_n - old_n));
        else if (!u128_sub(old.deposit, ol__storage_cost(old_n - value_n), &cost)) cost = U128_ZERO;
    } else {
        uint64_t bytes = 1 + key.n + value_n + 40; /* record: prefix + key + value + NEAR's 40 */
        uint64_t item = 4 + acc.n + 4 + pn;
        bytes += item;
        if (!sdk_map_has(&USERS, owner.p, owner.n)) bytes += 1 + owner.n + 40;
        cost = ol__storage_cost(bytes);
    }
    char buf[44];
    buf[0] = '"';
    size_t n = u128_to_dec(cost, buf + 1);
    buf[n + 1] = '"';
    sdk_return(buf, n + 2);
}
