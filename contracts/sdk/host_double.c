/* host_double: the NEAR host in memory, for native tests (see host_double.h). Behaviour follows
 * ../shared/reference/near-protocol.md §1 for every function defined here; host errors become panics
 * whose message starts with "HostError:". */
#include "host_double.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "near_host.h"

typedef struct kv {
    char *k, *v;
    size_t kn, vn;
} kv;

typedef struct yield_rec {
    uint8_t data_id[32];
    char method[257];
    char *args;
    size_t args_len;
    uint64_t created;
    int state; /* 1 pending, 2 resumed, 3 done */
    char *payload;
    size_t payload_len;
} yield_rec;

typedef struct chain {
    char current[65];
    u128 balance;
    uint64_t height, timestamp;
    kv *store;
    size_t nstore, capstore;
    uint64_t usage;
    yield_rec *yields;
    size_t nyields;
    uint64_t yield_counter;
} chain;

static chain C;
static hd_outcome OUT;
static jmp_buf panic_jmp;
static bool in_call;

/* per-call context */
static struct {
    const hd_call_opts *o;
    const char *pred, *signer;
    uint8_t pk[33];
    char *regs[100];
    size_t reg_len[100];
    bool reg_set[100];
    size_t log_bytes;
    uint64_t npromises;
} X;

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) abort();
    return p;
}
static char *xdup(const void *p, size_t n) {
    char *d = xmalloc(n + 1);
    if (n) memcpy(d, p, n);
    d[n] = 0;
    return d;
}

__attribute__((noreturn)) static void host_panic(const char *msg) {
    if (!in_call) {
        fprintf(stderr, "host_double: panic outside hd_call: %s\n", msg);
        abort();
    }
    snprintf(OUT.panic_msg, sizeof OUT.panic_msg, "%s", msg);
    OUT.panicked = true;
    longjmp(panic_jmp, 1);
}

/* ---- chain state copy (rollback) ---- */

static chain chain_copy(const chain *c) {
    chain d = *c;
    d.store = xmalloc((c->capstore ? c->capstore : 1) * sizeof(kv));
    for (size_t i = 0; i < c->nstore; i++) {
        d.store[i].k = xdup(c->store[i].k, c->store[i].kn);
        d.store[i].v = xdup(c->store[i].v, c->store[i].vn);
        d.store[i].kn = c->store[i].kn;
        d.store[i].vn = c->store[i].vn;
    }
    d.yields = xmalloc((c->nyields ? c->nyields : 1) * sizeof(yield_rec));
    for (size_t i = 0; i < c->nyields; i++) {
        d.yields[i] = c->yields[i];
        d.yields[i].args = xdup(c->yields[i].args, c->yields[i].args_len);
        d.yields[i].payload = c->yields[i].payload ? xdup(c->yields[i].payload, c->yields[i].payload_len) : NULL;
    }
    return d;
}

static void chain_free(chain *c) {
    for (size_t i = 0; i < c->nstore; i++) {
        free(c->store[i].k);
        free(c->store[i].v);
    }
    free(c->store);
    for (size_t i = 0; i < c->nyields; i++) {
        free(c->yields[i].args);
        free(c->yields[i].payload);
    }
    free(c->yields);
    c->store = NULL;
    c->yields = NULL;
    c->nstore = c->capstore = c->nyields = 0;
}

static void outcome_clear(void) {
    free(OUT.ret);
    for (int i = 0; i < OUT.nlogs; i++) free(OUT.logs[i]);
    for (int i = 0; i < OUT.nactions; i++) free(OUT.actions[i].args);
    memset(&OUT, 0, sizeof OUT);
}

void hd_reset(const char *current, u128 balance) {
    chain_free(&C);
    outcome_clear();
    memset(&C, 0, sizeof C);
    snprintf(C.current, sizeof C.current, "%s", current);
    C.balance = balance;
    C.height = 100;
    C.timestamp = 1700000000000000000ull;
}

void hd_set_block(uint64_t height, uint64_t timestamp_ns) {
    C.height = height;
    C.timestamp = timestamp_ns;
}
uint64_t hd_block_height(void) { return C.height; }
u128 hd_balance(void) { return C.balance; }
uint64_t hd_storage_usage(void) { return C.usage; }
size_t hd_storage_count(void) { return C.nstore; }

static kv *find_kv(const void *k, size_t kn) {
    for (size_t i = 0; i < C.nstore; i++)
        if (C.store[i].kn == kn && memcmp(C.store[i].k, k, kn) == 0) return &C.store[i];
    return NULL;
}

const char *hd_storage_get(const void *key, size_t kn, size_t *vn) {
    kv *e = find_kv(key, kn);
    if (!e) return NULL;
    if (vn) *vn = e->vn;
    return e->v;
}

static void clear_regs(void) {
    for (int i = 0; i < 100; i++) {
        free(X.regs[i]);
        X.regs[i] = NULL;
        X.reg_set[i] = false;
    }
}

static const uint8_t DEFAULT_PK[33] = {0, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
                                       7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7};

const hd_outcome *hd_call(void (*method)(void), const hd_call_opts *opts) {
    static const hd_call_opts none;
    if (!opts) opts = &none;
    outcome_clear();
    clear_regs();
    memset(&X, 0, sizeof X);
    X.o = opts;
    X.pred = opts->predecessor ? opts->predecessor : "alice.near";
    X.signer = opts->signer ? opts->signer : X.pred;
    memcpy(X.pk, opts->signer_pk ? opts->signer_pk : DEFAULT_PK, 33);

    chain saved = chain_copy(&C);
    u128 bal;
    if (!u128_add(C.balance, opts->deposit, &bal)) abort();
    C.balance = bal;
    OUT.storage_usage_before = C.usage;
    sdk__heap_reset();
    in_call = true;
    if (setjmp(panic_jmp) == 0) {
        method();
        in_call = false;
        chain_free(&saved);
        /* transfers leave the account when the receipt succeeds */
        for (int i = 0; i < OUT.nactions; i++) {
            if (OUT.actions[i].type == HD_ACT_TRANSFER || OUT.actions[i].type == HD_ACT_FUNCTION_CALL) {
                if (!u128_sub(C.balance, OUT.actions[i].amount, &C.balance)) {
                    fprintf(stderr, "host_double: balance exceeded by a transfer\n");
                    abort();
                }
            }
        }
    } else {
        in_call = false;
        chain_free(&C);
        C = saved;
        /* a failed receipt emits no promises */
        for (int i = 0; i < OUT.nactions; i++) free(OUT.actions[i].args);
        OUT.nactions = 0;
        OUT.returned_promise = false;
    }
    OUT.storage_usage_after = C.usage;
    clear_regs();
    return &OUT;
}

int hd_yield_state(const uint8_t data_id[32]) {
    for (size_t i = 0; i < C.nyields; i++)
        if (memcmp(C.yields[i].data_id, data_id, 32) == 0) return C.yields[i].state;
    return 0;
}

const hd_outcome *hd_run_yield(void (*callback)(void), const uint8_t data_id[32]) {
    yield_rec *y = NULL;
    for (size_t i = 0; i < C.nyields; i++)
        if (memcmp(C.yields[i].data_id, data_id, 32) == 0) y = &C.yields[i];
    if (!y || y->state == 3) return NULL;
    if (y->state == 1 && C.height < y->created + HD_YIELD_TIMEOUT) return NULL;
    y->state = 3; /* the runtime removes the yield before running the callback */
    hd_call_opts o = {0};
    o.predecessor = C.current;
    o.args = y->args;
    o.args_len = y->args_len;
    o.promise_results = 1;
    if (y->payload) {
        o.promise_status = 1;
        o.payload = y->payload;
        o.payload_len = y->payload_len;
    } else {
        o.promise_status = 2;
    }
    char *args = y->args, *payload = y->payload; /* keep alive across the state copy */
    y->args = xdup(args, y->args_len);
    y->payload = payload ? xdup(payload, y->payload_len) : NULL;
    o.args = args;
    o.payload = payload;
    const hd_outcome *r = hd_call(callback, &o);
    free(args);
    free(payload);
    return r;
}

const hd_action *hd_find_action(const hd_outcome *o, hd_action_type type, int nth) {
    for (int i = 0; i < o->nactions; i++)
        if (o->actions[i].type == type && nth-- == 0) return &o->actions[i];
    return NULL;
}

u128 hd_transferred_to(const hd_outcome *o, const char *receiver) {
    u128 sum = U128_ZERO;
    for (int i = 0; i < o->nactions; i++)
        if (o->actions[i].type == HD_ACT_TRANSFER && strcmp(o->actions[i].receiver, receiver) == 0)
            u128_add(sum, o->actions[i].amount, &sum);
    return sum;
}

u128 hd_u128(const char *dec) {
    u128 v;
    if (!u128_parse(dec, strlen(dec), &v)) abort();
    return v;
}

/* ---- host functions ---- */

static void set_reg(uint64_t reg, const void *p, size_t n) {
    if (reg >= 100) host_panic("HostError: MemoryAccessViolation (register id >= 100)");
    free(X.regs[reg]);
    X.regs[reg] = xdup(p, n);
    X.reg_len[reg] = n;
    X.reg_set[reg] = true;
}

/* Reads a (len, ptr) pair; len == UINT64_MAX means "ptr is a register id". */
static const char *mem_or_reg(uint64_t len, uint64_t ptr, size_t *n) {
    if (len == UINT64_MAX) {
        if (ptr >= 100 || !X.reg_set[ptr]) host_panic("HostError: InvalidRegisterId");
        *n = X.reg_len[ptr];
        return X.regs[ptr];
    }
    *n = (size_t)len;
    return (const char *)(uintptr_t)ptr;
}

void near_read_register(uint64_t reg, uint64_t ptr) {
    if (reg >= 100 || !X.reg_set[reg]) host_panic("HostError: InvalidRegisterId");
    memcpy((void *)(uintptr_t)ptr, X.regs[reg], X.reg_len[reg]);
}
uint64_t near_register_len(uint64_t reg) {
    if (reg >= 100 || !X.reg_set[reg]) return UINT64_MAX;
    return X.reg_len[reg];
}
void near_current_account_id(uint64_t reg) { set_reg(reg, C.current, strlen(C.current)); }
void near_signer_account_id(uint64_t reg) { set_reg(reg, X.signer, strlen(X.signer)); }
void near_signer_account_pk(uint64_t reg) { set_reg(reg, X.pk, 33); }
void near_predecessor_account_id(uint64_t reg) { set_reg(reg, X.pred, strlen(X.pred)); }
void near_input(uint64_t reg) {
    const char *a = X.o->args ? X.o->args : "";
    set_reg(reg, a, X.o->args_len ? X.o->args_len : strlen(a));
}
uint64_t near_block_index(void) { return C.height; }
uint64_t near_block_timestamp(void) { return C.timestamp; }
uint64_t near_storage_usage(void) { return C.usage; }
void near_account_balance(uint64_t ptr) { u128_to_le(C.balance, (uint8_t *)(uintptr_t)ptr); }
void near_attached_deposit(uint64_t ptr) { u128_to_le(X.o->deposit, (uint8_t *)(uintptr_t)ptr); }
uint64_t near_prepaid_gas(void) { return X.o->prepaid_gas ? X.o->prepaid_gas : 300 * HD_TGAS; }
uint64_t near_used_gas(void) { return X.o->used_gas ? X.o->used_gas : 2 * HD_TGAS; }

void near_value_return(uint64_t len, uint64_t ptr) {
    size_t n;
    const char *p = mem_or_reg(len, ptr, &n);
    free(OUT.ret);
    OUT.ret = xdup(p, n);
    OUT.ret_len = n;
    OUT.has_return = true;
}

static bool utf8_ok(const unsigned char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        size_t k = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
        if (!k || i + k > n) return false;
        for (size_t j = 1; j < k; j++)
            if ((s[i + j] & 0xC0) != 0x80) return false;
        i += k;
    }
    return true;
}

void near_panic_utf8(uint64_t len, uint64_t ptr) {
    size_t n;
    const char *p = (const char *)(uintptr_t)ptr;
    n = len == UINT64_MAX ? strlen(p) : (size_t)len;
    if (!utf8_ok((const unsigned char *)p, n)) host_panic("HostError: BadUTF8");
    char buf[2048];
    snprintf(buf, sizeof buf, "%.*s", (int)(n < sizeof buf - 1 ? n : sizeof buf - 1), p);
    host_panic(buf);
}

void near_log_utf8(uint64_t len, uint64_t ptr) {
    const char *p = (const char *)(uintptr_t)ptr;
    size_t n = len == UINT64_MAX ? strlen(p) : (size_t)len;
    if (!utf8_ok((const unsigned char *)p, n)) host_panic("HostError: BadUTF8");
    if (OUT.nlogs >= HD_MAX_LOGS) host_panic("HostError: NumberOfLogsExceeded");
    if (X.log_bytes + n > HD_MAX_LOG_BYTES) host_panic("HostError: TotalLogLengthExceeded");
    X.log_bytes += n;
    OUT.logs[OUT.nlogs++] = xdup(p, n);
}

static void check_key(size_t kn) {
    if (kn > 2048) host_panic("HostError: KeyLengthExceeded");
}

uint64_t near_storage_write(uint64_t klen, uint64_t kptr, uint64_t vlen, uint64_t vptr, uint64_t reg) {
    size_t kn, vn;
    const char *k = mem_or_reg(klen, kptr, &kn);
    check_key(kn);
    const char *v = mem_or_reg(vlen, vptr, &vn);
    kv *e = find_kv(k, kn);
    if (e) {
        set_reg(reg, e->v, e->vn);
        C.usage = C.usage - e->vn + vn;
        free(e->v);
        e->v = xdup(v, vn);
        e->vn = vn;
        return 1;
    }
    if (C.nstore == C.capstore) {
        C.capstore = C.capstore ? C.capstore * 2 : 16;
        C.store = realloc(C.store, C.capstore * sizeof(kv));
        if (!C.store) abort();
    }
    C.store[C.nstore++] = (kv){xdup(k, kn), xdup(v, vn), kn, vn};
    C.usage += kn + vn + 40;
    return 0;
}

uint64_t near_storage_read(uint64_t klen, uint64_t kptr, uint64_t reg) {
    size_t kn;
    const char *k = mem_or_reg(klen, kptr, &kn);
    check_key(kn);
    kv *e = find_kv(k, kn);
    if (!e) return 0;
    set_reg(reg, e->v, e->vn);
    return 1;
}

uint64_t near_storage_remove(uint64_t klen, uint64_t kptr, uint64_t reg) {
    size_t kn;
    const char *k = mem_or_reg(klen, kptr, &kn);
    check_key(kn);
    kv *e = find_kv(k, kn);
    if (!e) return 0;
    set_reg(reg, e->v, e->vn);
    C.usage -= e->kn + e->vn + 40;
    free(e->k);
    free(e->v);
    *e = C.store[--C.nstore];
    return 1;
}

uint64_t near_storage_has_key(uint64_t klen, uint64_t kptr) {
    size_t kn;
    const char *k = mem_or_reg(klen, kptr, &kn);
    check_key(kn);
    return find_kv(k, kn) != NULL;
}

static hd_action *new_action(hd_action_type t, uint64_t promise) {
    if (OUT.nactions >= HD_MAX_ACTIONS) host_panic("host_double: too many promise actions");
    hd_action *a = &OUT.actions[OUT.nactions++];
    memset(a, 0, sizeof *a);
    a->type = t;
    a->promise = promise;
    a->after = -1;
    return a;
}

static void copy_str(char *dst, size_t cap, const char *p, size_t n, const char *what) {
    if (n >= cap) host_panic(what);
    memcpy(dst, p, n);
    dst[n] = 0;
}

static void check_account(const char *p, size_t n) {
    if (!sdk_account_id_valid(p, n)) host_panic("HostError: InvalidAccountId");
}

uint64_t near_promise_batch_create(uint64_t alen, uint64_t aptr) {
    size_t n;
    const char *a = mem_or_reg(alen, aptr, &n);
    check_account(a, n);
    uint64_t idx = X.npromises++;
    /* a placeholder action records the receiver of an empty batch */
    hd_action *act = new_action(HD_ACT_TRANSFER, idx);
    copy_str(act->receiver, sizeof act->receiver, a, n, "HostError: InvalidAccountId");
    act->type = (hd_action_type)-1;
    return idx;
}

static hd_action *batch_slot(uint64_t idx, hd_action_type t) {
    const char *recv = NULL;
    for (int i = 0; i < OUT.nactions; i++)
        if (OUT.actions[i].promise == idx) recv = OUT.actions[i].receiver;
    if (!recv || idx >= X.npromises) host_panic("HostError: InvalidPromiseIndex");
    /* reuse the placeholder if it is still empty */
    for (int i = 0; i < OUT.nactions; i++) {
        if (OUT.actions[i].promise == idx && OUT.actions[i].type == (hd_action_type)-1) {
            OUT.actions[i].type = t;
            return &OUT.actions[i];
        }
    }
    char r[65];
    snprintf(r, sizeof r, "%s", recv);
    hd_action *a = new_action(t, idx);
    snprintf(a->receiver, sizeof a->receiver, "%s", r);
    return a;
}

void near_promise_batch_action_transfer(uint64_t idx, uint64_t amount_ptr) {
    hd_action *a = batch_slot(idx, HD_ACT_TRANSFER);
    a->amount = u128_from_le((const uint8_t *)(uintptr_t)amount_ptr);
}

void near_promise_batch_action_deploy_contract(uint64_t idx, uint64_t code_len, uint64_t code_ptr) {
    size_t n;
    mem_or_reg(code_len, code_ptr, &n);
    hd_action *a = batch_slot(idx, HD_ACT_DEPLOY);
    a->code_len = n;
}

void near_promise_batch_action_function_call(uint64_t idx, uint64_t mlen, uint64_t mptr, uint64_t arglen,
                                             uint64_t argptr, uint64_t amount_ptr, uint64_t gas) {
    size_t mn, an;
    const char *m = mem_or_reg(mlen, mptr, &mn);
    const char *args = mem_or_reg(arglen, argptr, &an);
    if (mn == 0) host_panic("HostError: EmptyMethodName");
    hd_action *a = batch_slot(idx, HD_ACT_FUNCTION_CALL);
    copy_str(a->method, sizeof a->method, m, mn, "HostError: method name too long");
    a->args = xdup(args, an);
    a->args_len = an;
    a->amount = u128_from_le((const uint8_t *)(uintptr_t)amount_ptr);
    a->gas = gas;
}

uint64_t near_promise_create(uint64_t alen, uint64_t aptr, uint64_t mlen, uint64_t mptr, uint64_t arglen,
                             uint64_t argptr, uint64_t amount_ptr, uint64_t gas) {
    uint64_t idx = near_promise_batch_create(alen, aptr);
    near_promise_batch_action_function_call(idx, mlen, mptr, arglen, argptr, amount_ptr, gas);
    return idx;
}

uint64_t near_promise_then(uint64_t after, uint64_t alen, uint64_t aptr, uint64_t mlen, uint64_t mptr,
                           uint64_t arglen, uint64_t argptr, uint64_t amount_ptr, uint64_t gas) {
    if (after >= X.npromises) host_panic("HostError: InvalidPromiseIndex");
    uint64_t idx = near_promise_create(alen, aptr, mlen, mptr, arglen, argptr, amount_ptr, gas);
    for (int i = 0; i < OUT.nactions; i++)
        if (OUT.actions[i].promise == idx) OUT.actions[i].after = (int64_t)after;
    return idx;
}

uint64_t near_promise_results_count(void) { return (uint64_t)X.o->promise_results; }

uint64_t near_promise_result(uint64_t idx, uint64_t reg) {
    if (idx >= (uint64_t)X.o->promise_results) host_panic("HostError: InvalidPromiseResultIndex");
    if (X.o->promise_status == 1) {
        const char *p = X.o->payload ? X.o->payload : "";
        set_reg(reg, p, X.o->payload_len ? X.o->payload_len : strlen(p));
        return 1;
    }
    return 2;
}

void near_promise_return(uint64_t idx) {
    if (idx >= X.npromises) host_panic("HostError: InvalidPromiseIndex");
    OUT.returned_promise = true;
    OUT.returned_promise_idx = idx;
}

uint64_t near_promise_yield_create(uint64_t mlen, uint64_t mptr, uint64_t arglen, uint64_t argptr, uint64_t gas,
                                   uint64_t weight, uint64_t reg) {
    size_t mn, an;
    const char *m = mem_or_reg(mlen, mptr, &mn);
    const char *args = mem_or_reg(arglen, argptr, &an);
    if (mn == 0) host_panic("HostError: EmptyMethodName");
    if (gas == 0 && weight == 0) host_panic("HostError: FunctionCallZeroAttachedGas");
    uint64_t idx = X.npromises++;
    hd_action *a = new_action(HD_ACT_YIELD, idx);
    snprintf(a->receiver, sizeof a->receiver, "%s", C.current);
    copy_str(a->method, sizeof a->method, m, mn, "HostError: method name too long");
    a->args = xdup(args, an);
    a->args_len = an;
    a->gas = gas;
    a->gas_weight = weight;
    /* a deterministic, unique data id */
    uint64_t n = ++C.yield_counter;
    for (int i = 0; i < 32; i++) a->data_id[i] = (uint8_t)(0xA0 + i);
    for (int i = 0; i < 8; i++) a->data_id[i] = (uint8_t)(n >> (8 * i));
    C.yields = realloc(C.yields, (C.nyields + 1) * sizeof(yield_rec));
    if (!C.yields) abort();
    yield_rec *y = &C.yields[C.nyields++];
    memset(y, 0, sizeof *y);
    memcpy(y->data_id, a->data_id, 32);
    snprintf(y->method, sizeof y->method, "%s", a->method);
    y->args = xdup(args, an);
    y->args_len = an;
    y->created = C.height;
    y->state = 1;
    set_reg(reg, a->data_id, 32);
    return idx;
}

uint32_t near_promise_yield_resume(uint64_t idlen, uint64_t idptr, uint64_t plen, uint64_t pptr) {
    size_t idn, pn;
    const char *id = mem_or_reg(idlen, idptr, &idn);
    if (idn != 32) host_panic("HostError: DataIdMalformed");
    const char *p = mem_or_reg(plen, pptr, &pn);
    if (pn > HD_YIELD_PAYLOAD_MAX) host_panic("HostError: YieldPayloadLength");
    for (size_t i = 0; i < C.nyields; i++) {
        yield_rec *y = &C.yields[i];
        if (memcmp(y->data_id, id, 32) != 0) continue;
        if (y->state == 3) return 0;
        if (y->state == 1 && C.height >= y->created + HD_YIELD_TIMEOUT) return 0; /* timed out */
        if (y->state == 1) {
            y->payload = xdup(p, pn);
            y->payload_len = pn;
            y->state = 2;
        }
        return 1; /* later resumes succeed but their payload is dropped, as on NEAR */
    }
    return 0;
}
