/* sandbox runtime: runs a contract method in src/vm with NEAR's host functions (§1). Gas is fuel times
 * regular_op_cost; host functions charge their base and per-byte costs as fuel. Storage writes go straight
 * to SQLite inside the receipt's savepoint, so a failing call is undone by the caller's rollback. */
#include "sandbox/runtime.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define OP_COST 822756ull /* regular_op_cost: gas per fuel unit */
#define G_BASE 264768111ull
#define G_LOAD_BASE 35445963ull
#define G_LOAD_BYTE 1089295ull
#define G_READ_MEM 2609863200ull
#define G_READ_MEM_B 3801333ull
#define G_WRITE_MEM 2803794861ull
#define G_WRITE_MEM_B 2723772ull
#define G_READ_REG 2517165186ull
#define G_READ_REG_B 98562ull
#define G_WRITE_REG 2865522486ull
#define G_WRITE_REG_B 3801564ull
#define G_UTF8 3111779061ull
#define G_UTF8_B 291580479ull
#define G_LOG 3543313050ull
#define G_LOG_B 13198791ull
#define G_SW 64196736000ull
#define G_SW_KB 70482867ull
#define G_SW_VB 31018539ull
#define G_SR 56356845749ull
#define G_SR_KB 30952533ull
#define G_SR_VB 5611004ull
#define G_SRM 53473030500ull
#define G_SRM_KB 38220384ull
#define G_SRM_VB 11531556ull
#define G_SHK 54039896625ull
#define G_SHK_B 30790845ull
#define G_TRIE 2280000000ull
#define G_SHA 4540970250ull
#define G_SHA_B 24117351ull
#define G_ED 210000000000ull
#define G_ED_B 9000000ull

/* ---- module cache ------------------------------------------------------------------------------------ */
typedef struct cached {
    uint8_t hash[32];
    vm_module *m;
    uint64_t used;
} cached;
static cached g_cache[SB_MODULE_CACHE];
static uint64_t g_tick;

static vm_module *module_for(sb_chain *c, const uint8_t hash[32], size_t *code_len, sb_call *call, ol_err *err) {
    for (int i = 0; i < SB_MODULE_CACHE; i++)
        if (g_cache[i].m && memcmp(g_cache[i].hash, hash, 32) == 0) {
            g_cache[i].used = ++g_tick;
            *code_len = vm_module_import_count(g_cache[i].m); /* replaced below */
            sqlite3_stmt *st;
            if (sb_prepare(c->db, "SELECT length(code) FROM code WHERE hash=?", &st) == SQLITE_OK) {
                sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
                *code_len = sqlite3_step(st) == SQLITE_ROW ? (size_t)sqlite3_column_int64(st, 0) : 0;
                sb_release(st);
            }
            return g_cache[i].m;
        }
    sqlite3_stmt *st;
    if (sb_prepare(c->db, "SELECT code FROM code WHERE hash=?", &st) != SQLITE_OK) {
        ol_err_set(err, -1, "sqlite: %s", sqlite3_errmsg(c->db));
        return NULL;
    }
    sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
    vm_module *m = NULL;
    if (sqlite3_step(st) == SQLITE_ROW) {
        vm_module_config cfg;
        vm_module_config_default(&cfg);
        cfg.max_module_bytes = NEAR_MAX_CODE_BYTES;
        cfg.disabled_features = VM_FEATURE_MULTI_VALUE; /* NEAR refuses multi-value (reference §7) */
        vm_error ve;
        *code_len = (size_t)sqlite3_column_bytes(st, 0);
        m = vm_module_new(sqlite3_column_blob(st, 0), *code_len, &cfg, &ve);
        if (!m) {
            snprintf(call->err_display, sizeof call->err_display, "PrepareError: Deserialization (%s)", ve.msg);
            call->error = json_pack("{s:{s:s}}", "CompilationError", "PrepareError", "Deserialization");
            snprintf(call->err_debug, sizeof call->err_debug, "CompilationError(PrepareError(Deserialization))");
        }
    } else {
        call->error = json_pack("{s:{s:{s:s}}}", "CompilationError", "CodeDoesNotExist", "account_id", call->account);
        snprintf(call->err_debug, sizeof call->err_debug, "CompilationError(CodeDoesNotExist { account_id: \"%s\" })",
                 call->account);
    }
    sb_release(st);
    if (!m) return NULL;
    int victim = 0;
    for (int i = 1; i < SB_MODULE_CACHE; i++)
        if (g_cache[i].used < g_cache[victim].used) victim = i;
    if (g_cache[victim].m) vm_module_free(g_cache[victim].m);
    g_cache[victim].m = m;
    memcpy(g_cache[victim].hash, hash, 32);
    g_cache[victim].used = ++g_tick;
    return m;
}

void sb_runtime_cleanup(void) {
    for (int i = 0; i < SB_MODULE_CACHE; i++)
        if (g_cache[i].m) vm_module_free(g_cache[i].m), g_cache[i].m = NULL;
}

/* ---- host helpers ------------------------------------------------------------------------------------ */
#define CTX(hc) ((sb_call *)vm_instance_user(vm_host_instance(hc)))
#define U64MAX UINT64_MAX

static vm_trap host_fail(vm_host_call *hc, sb_call *x, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static vm_trap host_fail(vm_host_call *hc, sb_call *x, const char *name, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->err_display, sizeof x->err_display, fmt, ap);
    va_end(ap);
    snprintf(x->err_debug, sizeof x->err_debug, "HostError(%s)", name);
    x->host_failed = true;
    return vm_host_trap(hc, "%s", x->err_display);
}

static vm_trap charge(vm_host_call *hc, uint64_t gas) {
    uint64_t units = gas / OP_COST + (gas % OP_COST != 0);
    vm_trap t = vm_host_charge(hc, units);
    if (t) {
        sb_call *x = CTX(hc);
        x->out_of_gas = true;
    }
    return t;
}

static vm_trap charge2(vm_host_call *hc, uint64_t base, uint64_t per, uint64_t n) {
    uint64_t g;
    if (!ol_mul_u64(per, n, &g) || !ol_add_u64(g, base, &g)) g = UINT64_MAX;
    return charge(hc, g);
}

static sb_reg *reg_find(sb_call *x, uint64_t id) {
    for (size_t i = 0; i < x->n_regs; i++)
        if (x->regs[i].id == id) return &x->regs[i];
    return NULL;
}

static vm_trap reg_set(vm_host_call *hc, sb_call *x, uint64_t id, const void *p, size_t n) {
    vm_trap t = charge2(hc, G_WRITE_REG, G_WRITE_REG_B, n);
    if (t) return t;
    if (n > SB_MAX_REGISTER_BYTES)
        return host_fail(hc, x, "MemoryAccessViolation", "register over %u bytes", SB_MAX_REGISTER_BYTES);
    sb_reg *r = reg_find(x, id);
    if (!r) {
        if (x->n_regs >= SB_MAX_REGISTERS)
            return host_fail(hc, x, "MemoryAccessViolation", "more than %d registers", SB_MAX_REGISTERS);
        r = &x->regs[x->n_regs++];
        r->id = id;
        r->data = NULL;
        r->len = 0;
    }
    uint8_t *d = malloc(n ? n : 1);
    if (!d) return host_fail(hc, x, "MemoryAccessViolation", "out of memory");
    if (n) memcpy(d, p, n);
    size_t total = x->reg_bytes - r->len + n;
    if (total > SB_REGISTERS_MEMORY) {
        free(d);
        return host_fail(hc, x, "MemoryAccessViolation", "registers over %u bytes", SB_REGISTERS_MEMORY);
    }
    free(r->data);
    r->data = d;
    r->len = n;
    x->reg_bytes = total;
    return VM_TRAP_NONE;
}

/* Reads (len, ptr) from memory, or register ptr when len == u64::MAX. *out valid until the host fn returns. */
static vm_trap read_arg(vm_host_call *hc, sb_call *x, uint64_t len, uint64_t ptr, const uint8_t **out, size_t *n) {
    vm_trap t;
    if (len == U64MAX) {
        sb_reg *r = reg_find(x, ptr);
        if (!r) return host_fail(hc, x, "InvalidRegisterId { register_id: ..}", "register %llu is not set", (unsigned long long)ptr);
        if ((t = charge2(hc, G_READ_REG, G_READ_REG_B, r->len))) return t;
        *out = r->data;
        *n = r->len;
        return VM_TRAP_NONE;
    }
    if ((t = charge2(hc, G_READ_MEM, G_READ_MEM_B, len))) return t;
    const uint8_t *p = len ? vm_host_mem(hc, ptr, len) : (const uint8_t *)"";
    if (!p) return host_fail(hc, x, "MemoryAccessViolation", "memory access out of bounds");
    *out = p;
    *n = (size_t)len;
    return VM_TRAP_NONE;
}

static vm_trap read_u128(vm_host_call *hc, sb_call *x, uint64_t ptr, near_u128 *v) {
    uint8_t b[16];
    vm_trap t = charge2(hc, G_READ_MEM, G_READ_MEM_B, 16);
    if (t) return t;
    if (!vm_host_read(hc, ptr, b, 16)) return host_fail(hc, x, "MemoryAccessViolation", "memory access out of bounds");
    *v = 0;
    for (int i = 15; i >= 0; i--) *v = (*v << 8) | b[i];
    return VM_TRAP_NONE;
}

static vm_trap write_u128(vm_host_call *hc, sb_call *x, uint64_t ptr, near_u128 v) {
    uint8_t b[16];
    for (int i = 0; i < 16; i++) b[i] = (uint8_t)(v >> (8 * i));
    vm_trap t = charge2(hc, G_WRITE_MEM, G_WRITE_MEM_B, 16);
    if (t) return t;
    if (!vm_host_write(hc, ptr, b, 16)) return host_fail(hc, x, "MemoryAccessViolation", "memory access out of bounds");
    return VM_TRAP_NONE;
}

static vm_trap no_view(vm_host_call *hc, sb_call *x, const char *name) {
    if (!x->view) return VM_TRAP_NONE;
    snprintf(x->err_display, sizeof x->err_display, "%s is not allowed in view calls", name);
    snprintf(x->err_debug, sizeof x->err_debug, "HostError(ProhibitedInView { method_name: \"%s\" })", name);
    x->host_failed = true;
    return vm_host_trap(hc, "%s", x->err_display);
}

/* Reads a string argument for logs/panics: len == u64::MAX means NUL-terminated (bounded). */
static vm_trap read_str(vm_host_call *hc, sb_call *x, uint64_t len, uint64_t ptr, char **out, size_t *n) {
    if (len == U64MAX) {
        size_t k = 0;
        uint8_t ch;
        for (;;) {
            if (k > SB_MAX_LOG_TOTAL) return host_fail(hc, x, "TotalLogLengthExceeded", "string over %u bytes", SB_MAX_LOG_TOTAL);
            if (!vm_host_read(hc, ptr + k, &ch, 1)) return host_fail(hc, x, "MemoryAccessViolation", "memory access out of bounds");
            if (!ch) break;
            k++;
        }
        len = k;
    }
    if (len > SB_MAX_LOG_TOTAL) return host_fail(hc, x, "TotalLogLengthExceeded", "string over %u bytes", SB_MAX_LOG_TOTAL);
    vm_trap t = charge2(hc, G_UTF8, G_UTF8_B, len);
    if (t) return t;
    const uint8_t *p = len ? vm_host_mem(hc, ptr, len) : (const uint8_t *)"";
    if (!p) return host_fail(hc, x, "MemoryAccessViolation", "memory access out of bounds");
    *out = malloc(len + 1);
    if (!*out) return host_fail(hc, x, "MemoryAccessViolation", "out of memory");
    memcpy(*out, p, len);
    (*out)[len] = 0;
    *n = len;
    /* UTF-8 check via jansson */
    json_t *s = json_stringn(*out, len);
    if (!s || memchr(*out, 0, len)) {
        json_decref(s);
        free(*out);
        *out = NULL;
        return host_fail(hc, x, "BadUTF8", "String encoding is bad UTF-8 sequence.");
    }
    json_decref(s);
    return VM_TRAP_NONE;
}

/* ---- host functions --------------------------------------------------------------------------------- */
#define HOST(name) static vm_trap h_##name(vm_host_call *hc, const uint64_t *a, uint64_t *res)
#define X sb_call *x = CTX(hc); (void)x; vm_trap t_ = charge(hc, G_BASE); if (t_) return t_

HOST(read_register) {
    X;
    (void)res;
    sb_reg *r = reg_find(x, a[0]);
    if (!r) return host_fail(hc, x, "InvalidRegisterId", "register %llu is not set", (unsigned long long)a[0]);
    vm_trap t = charge2(hc, G_READ_REG + G_WRITE_MEM, G_READ_REG_B + G_WRITE_MEM_B, r->len);
    if (t) return t;
    if (r->len && !vm_host_write(hc, a[1], r->data, r->len))
        return host_fail(hc, x, "MemoryAccessViolation", "memory access out of bounds");
    return VM_TRAP_NONE;
}
HOST(register_len) {
    X;
    sb_reg *r = reg_find(x, a[0]);
    res[0] = r ? r->len : U64MAX;
    return VM_TRAP_NONE;
}
HOST(write_register) {
    X;
    (void)res;
    const uint8_t *p;
    size_t n;
    vm_trap t = charge2(hc, G_READ_MEM, G_READ_MEM_B, a[1]);
    if (t) return t;
    p = a[1] ? vm_host_mem(hc, a[2], a[1]) : (const uint8_t *)"";
    if (!p) return host_fail(hc, x, "MemoryAccessViolation", "memory access out of bounds");
    n = (size_t)a[1];
    return reg_set(hc, x, a[0], p, n);
}
HOST(current_account_id) {
    X;
    (void)res;
    return reg_set(hc, x, a[0], x->account, strlen(x->account));
}
HOST(signer_account_id) {
    X;
    (void)res;
    vm_trap t = no_view(hc, x, "signer_account_id");
    return t ? t : reg_set(hc, x, a[0], x->signer, strlen(x->signer));
}
HOST(signer_account_pk) {
    X;
    (void)res;
    vm_trap t = no_view(hc, x, "signer_account_pk");
    if (t) return t;
    uint8_t b[1 + NEAR_SECP256K1_PK];
    b[0] = x->signer_pk.type;
    size_t n = near_key_len(x->signer_pk.type);
    memcpy(b + 1, x->signer_pk.data, n);
    return reg_set(hc, x, a[0], b, n + 1);
}
HOST(predecessor_account_id) {
    X;
    (void)res;
    vm_trap t = no_view(hc, x, "predecessor_account_id");
    return t ? t : reg_set(hc, x, a[0], x->predecessor, strlen(x->predecessor));
}
HOST(input) {
    X;
    (void)res;
    return reg_set(hc, x, a[0], x->input, x->input_len);
}
HOST(block_index) {
    X;
    res[0] = x->height;
    return VM_TRAP_NONE;
}
HOST(block_timestamp) {
    X;
    res[0] = x->timestamp;
    return VM_TRAP_NONE;
}
HOST(epoch_height) {
    X;
    res[0] = 1;
    return VM_TRAP_NONE;
}
HOST(storage_usage) {
    X;
    res[0] = x->acc->storage_usage;
    return VM_TRAP_NONE;
}
HOST(account_balance) {
    X;
    (void)res;
    return write_u128(hc, x, a[0], x->acc->amount);
}
HOST(account_locked_balance) {
    X;
    (void)res;
    return write_u128(hc, x, a[0], x->acc->locked);
}
HOST(attached_deposit) {
    X;
    (void)res;
    return write_u128(hc, x, a[0], x->deposit);
}
HOST(prepaid_gas) {
    X;
    vm_trap t = no_view(hc, x, "prepaid_gas");
    res[0] = x->prepaid_gas;
    return t;
}
HOST(used_gas) {
    X;
    vm_trap t = no_view(hc, x, "used_gas");
    res[0] = (x->fuel_start - vm_get_fuel(vm_host_instance(hc))) * OP_COST + x->load_gas;
    return t;
}
HOST(random_seed) {
    X;
    (void)res;
    return reg_set(hc, x, a[0], x->random_seed, 32);
}
HOST(chain_id) {
    X;
    (void)res;
    return reg_set(hc, x, a[0], "sandbox", 7);
}
HOST(current_contract_code) {
    X;
    static const uint8_t zero[32];
    if (memcmp(x->acc->code_hash, zero, 32) == 0) {
        res[0] = 0;
        return VM_TRAP_NONE;
    }
    res[0] = 1; /* local code; global contracts are not supported */
    return reg_set(hc, x, a[0], x->acc->code_hash, 32);
}
HOST(refund_to_account_id) {
    X;
    (void)res;
    vm_trap t = no_view(hc, x, "refund_to_account_id");
    /* promise_set_refund_to is not supported, so refunds always go to the predecessor */
    return t ? t : reg_set(hc, x, a[0], x->predecessor, strlen(x->predecessor));
}
HOST(validator_stake) {
    X;
    (void)res;
    const uint8_t *p;
    size_t n;
    vm_trap t = read_arg(hc, x, a[0], a[1], &p, &n);
    return t ? t : write_u128(hc, x, a[2], 0);
}
HOST(validator_total_stake) {
    X;
    (void)res;
    return write_u128(hc, x, a[0], 0);
}
HOST(sha256) {
    X;
    (void)res;
    const uint8_t *p;
    size_t n;
    vm_trap t = read_arg(hc, x, a[0], a[1], &p, &n);
    if (t || (t = charge2(hc, G_SHA, G_SHA_B, n))) return t;
    uint8_t h[32];
    crypto_hash_sha256(h, p, n);
    return reg_set(hc, x, a[2], h, 32);
}

/* Keccak-f[1600] for keccak256/keccak512 (Ethereum padding 0x01), written from the FIPS 202 description. */
static const uint64_t KRC[24] = {
    0x0000000000000001ull, 0x0000000000008082ull, 0x800000000000808aull, 0x8000000080008000ull, 0x000000000000808bull,
    0x0000000080000001ull, 0x8000000080008081ull, 0x8000000000008009ull, 0x000000000000008aull, 0x0000000000000088ull,
    0x0000000080008009ull, 0x000000008000000aull, 0x000000008000808bull, 0x800000000000008bull, 0x8000000000008089ull,
    0x8000000000008003ull, 0x8000000000008002ull, 0x8000000000000080ull, 0x000000000000800aull, 0x800000008000000aull,
    0x8000000080008081ull, 0x8000000000008080ull, 0x0000000080000001ull, 0x8000000080008008ull};
static const int KROT[25] = {0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14};
static uint64_t rol(uint64_t v, int n) { return n ? (v << n) | (v >> (64 - n)) : v; }
static void keccak_f(uint64_t s[25]) {
    for (int r = 0; r < 24; r++) {
        uint64_t c[5], d, b[25];
        for (int i = 0; i < 5; i++) c[i] = s[i] ^ s[i + 5] ^ s[i + 10] ^ s[i + 15] ^ s[i + 20];
        for (int i = 0; i < 5; i++) {
            d = c[(i + 4) % 5] ^ rol(c[(i + 1) % 5], 1);
            for (int j = 0; j < 25; j += 5) s[j + i] ^= d;
        }
        for (int xx = 0; xx < 5; xx++)
            for (int y = 0; y < 5; y++) b[y + 5 * ((2 * xx + 3 * y) % 5)] = rol(s[xx + 5 * y], KROT[xx + 5 * y]);
        for (int y = 0; y < 25; y += 5)
            for (int xx = 0; xx < 5; xx++) s[y + xx] = b[y + xx] ^ (~b[y + (xx + 1) % 5] & b[y + (xx + 2) % 5]);
        s[0] ^= KRC[r];
    }
}
static void keccak(const uint8_t *in, size_t n, uint8_t *out, size_t outlen) {
    uint64_t s[25] = {0};
    size_t rate = 200 - 2 * outlen;
    uint8_t blk[200];
    while (n >= rate) {
        for (size_t i = 0; i < rate / 8; i++) {
            uint64_t w = 0;
            for (int k = 7; k >= 0; k--) w = (w << 8) | in[8 * i + (size_t)k];
            s[i] ^= w;
        }
        keccak_f(s);
        in += rate, n -= rate;
    }
    memset(blk, 0, rate);
    memcpy(blk, in, n);
    blk[n] ^= 0x01;
    blk[rate - 1] ^= 0x80;
    for (size_t i = 0; i < rate / 8; i++) {
        uint64_t w = 0;
        for (int k = 7; k >= 0; k--) w = (w << 8) | blk[8 * i + (size_t)k];
        s[i] ^= w;
    }
    keccak_f(s);
    for (size_t i = 0; i < outlen; i++) out[i] = (uint8_t)(s[i / 8] >> (8 * (i % 8)));
}
HOST(keccak256) {
    X;
    (void)res;
    const uint8_t *p;
    size_t n;
    vm_trap t = read_arg(hc, x, a[0], a[1], &p, &n);
    if (t || (t = charge2(hc, 5879491275ull, 21471105ull, n))) return t;
    uint8_t h[32];
    keccak(p, n, h, 32);
    return reg_set(hc, x, a[2], h, 32);
}
HOST(keccak512) {
    X;
    (void)res;
    const uint8_t *p;
    size_t n;
    vm_trap t = read_arg(hc, x, a[0], a[1], &p, &n);
    if (t || (t = charge2(hc, 5811388236ull, 36649701ull, n))) return t;
    uint8_t h[64];
    keccak(p, n, h, 64);
    return reg_set(hc, x, a[2], h, 64);
}
HOST(ed25519_verify) {
    X;
    const uint8_t *sig, *msg, *pk;
    size_t ns, nm, np;
    vm_trap t = read_arg(hc, x, a[0], a[1], &sig, &ns);
    if (t) return t;
    if (ns != 64) return host_fail(hc, x, "Ed25519VerifyInvalidInput", "signature must be 64 bytes, got %zu", ns);
    uint8_t s[64];
    memcpy(s, sig, 64);
    if ((t = read_arg(hc, x, a[4], a[5], &pk, &np))) return t;
    if (np != 32) return host_fail(hc, x, "Ed25519VerifyInvalidInput", "public key must be 32 bytes, got %zu", np);
    uint8_t k[32];
    memcpy(k, pk, 32);
    if ((t = read_arg(hc, x, a[2], a[3], &msg, &nm)) || (t = charge2(hc, G_ED, G_ED_B, nm))) return t;
    res[0] = crypto_sign_verify_detached(s, msg, nm, k) == 0;
    return VM_TRAP_NONE;
}
HOST(value_return) {
    X;
    (void)res;
    const uint8_t *p;
    size_t n;
    vm_trap t = read_arg(hc, x, a[0], a[1], &p, &n);
    if (t) return t;
    if (n > NEAR_MAX_ARGS_BYTES) return host_fail(hc, x, "ReturnedValueLengthExceeded", "returned value over %u bytes", NEAR_MAX_ARGS_BYTES);
    uint8_t *d = malloc(n ? n : 1);
    if (!d) return host_fail(hc, x, "MemoryAccessViolation", "out of memory");
    if (n) memcpy(d, p, n);
    free(x->ret);
    x->ret = d;
    x->ret_len = n;
    x->has_ret = true;
    return VM_TRAP_NONE;
}
HOST(panic) {
    X;
    (void)a, (void)res;
    snprintf(x->err_display, sizeof x->err_display, "Smart contract panicked: explicit guest panic");
    snprintf(x->err_debug, sizeof x->err_debug, "HostError(GuestPanic { panic_msg: \"explicit guest panic\" })");
    x->host_failed = true;
    return vm_host_trap(hc, "%s", x->err_display);
}
HOST(panic_utf8) {
    X;
    (void)res;
    char *s;
    size_t n;
    vm_trap t = read_str(hc, x, a[0], a[1], &s, &n);
    if (t) return t;
    snprintf(x->err_display, sizeof x->err_display, "Smart contract panicked: %s", s);
    snprintf(x->err_debug, sizeof x->err_debug, "HostError(GuestPanic { panic_msg: \"%s\" })", s);
    free(s);
    x->host_failed = true;
    return vm_host_trap(hc, "%s", x->err_display);
}
static vm_trap add_log(vm_host_call *hc, sb_call *x, char *s, size_t n) {
    if (json_array_size(x->logs) >= SB_MAX_LOGS) {
        free(s);
        return host_fail(hc, x, "NumberOfLogsExceeded", "more than %d logs", SB_MAX_LOGS);
    }
    if (x->log_bytes + n > SB_MAX_LOG_TOTAL) {
        free(s);
        return host_fail(hc, x, "TotalLogLengthExceeded", "logs over %u bytes", SB_MAX_LOG_TOTAL);
    }
    x->log_bytes += n;
    vm_trap t = charge2(hc, G_LOG, G_LOG_B, n);
    if (!t) json_array_append_new(x->logs, json_stringn(s, n));
    free(s);
    return t;
}
HOST(log_utf8) {
    X;
    (void)res;
    char *s;
    size_t n;
    vm_trap t = read_str(hc, x, a[0], a[1], &s, &n);
    return t ? t : add_log(hc, x, s, n);
}
HOST(log_utf16) {
    X;
    (void)res;
    uint64_t len = a[0];
    if (len == U64MAX) {
        uint64_t k = 0;
        uint8_t u[2];
        for (;;) {
            if (k > 2 * SB_MAX_LOG_TOTAL) return host_fail(hc, x, "TotalLogLengthExceeded", "log too long");
            if (!vm_host_read(hc, a[1] + k, u, 2)) return host_fail(hc, x, "MemoryAccessViolation", "memory access out of bounds");
            if (!u[0] && !u[1]) break;
            k += 2;
        }
        len = k;
    }
    if (len % 2 || len > 2 * SB_MAX_LOG_TOTAL) return host_fail(hc, x, "BadUTF16", "String encoding is bad UTF-16 sequence.");
    const uint8_t *p = len ? vm_host_mem(hc, a[1], len) : (const uint8_t *)"";
    if (!p) return host_fail(hc, x, "MemoryAccessViolation", "memory access out of bounds");
    char *s = malloc(len * 2 + 1);
    if (!s) return host_fail(hc, x, "MemoryAccessViolation", "out of memory");
    size_t o = 0;
    for (uint64_t i = 0; i < len; i += 2) {
        uint32_t cp = (uint32_t)p[i] | ((uint32_t)p[i + 1] << 8);
        if (cp >= 0xD800 && cp <= 0xDBFF && i + 3 < len) {
            uint32_t lo = (uint32_t)p[i + 2] | ((uint32_t)p[i + 3] << 8);
            if (lo < 0xDC00 || lo > 0xDFFF) goto bad;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 2;
        } else if (cp >= 0xD800 && cp <= 0xDFFF) {
            goto bad;
        }
        if (cp < 0x80) s[o++] = (char)cp;
        else if (cp < 0x800) s[o++] = (char)(0xC0 | (cp >> 6)), s[o++] = (char)(0x80 | (cp & 0x3F));
        else if (cp < 0x10000)
            s[o++] = (char)(0xE0 | (cp >> 12)), s[o++] = (char)(0x80 | ((cp >> 6) & 0x3F)), s[o++] = (char)(0x80 | (cp & 0x3F));
        else
            s[o++] = (char)(0xF0 | (cp >> 18)), s[o++] = (char)(0x80 | ((cp >> 12) & 0x3F)),
            s[o++] = (char)(0x80 | ((cp >> 6) & 0x3F)), s[o++] = (char)(0x80 | (cp & 0x3F));
    }
    return add_log(hc, x, s, o);
bad:
    free(s);
    return host_fail(hc, x, "BadUTF16", "String encoding is bad UTF-16 sequence.");
}
HOST(abort) {
    X;
    (void)res;
    snprintf(x->err_display, sizeof x->err_display, "Smart contract panicked: abort (line %u col %u)", (unsigned)a[2],
             (unsigned)a[3]);
    snprintf(x->err_debug, sizeof x->err_debug, "HostError(GuestPanic { panic_msg: \"abort\" })");
    x->host_failed = true;
    return vm_host_trap(hc, "%s", x->err_display);
}

/* storage */
static int data_get(sb_call *x, const uint8_t *k, size_t kn, uint8_t **v, size_t *vn) {
    sqlite3_stmt *st;
    if (sb_prepare(x->db, "SELECT value FROM data WHERE account_id=? AND key=?", &st) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, x->account, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, kn ? (const void *)k : "", (int)kn, SQLITE_STATIC);
    int rc = sqlite3_step(st), ret = 0;
    if (rc == SQLITE_ROW) {
        *vn = (size_t)sqlite3_column_bytes(st, 0);
        *v = malloc(*vn ? *vn : 1);
        if (*v) {
            if (*vn) memcpy(*v, sqlite3_column_blob(st, 0), *vn);
            ret = 1;
        } else {
            ret = -1;
        }
    } else if (rc != SQLITE_DONE) {
        ret = -1;
    }
    sb_release(st);
    return ret;
}

/* Records a storage change for EXPERIMENTAL_changes (inside the receipt's savepoint). */
static void record_change(sb_call *x, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, bool deleted) {
    sqlite3_stmt *st;
    if (sb_prepare(x->db, "INSERT INTO changes(height, account_id, key, value, receipt_id) VALUES(?,?,?,?,?)", &st) != SQLITE_OK)
        return;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)x->height);
    sqlite3_bind_text(st, 2, x->account, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, kn ? (const void *)k : "", (int)kn, SQLITE_STATIC);
    if (!deleted) sqlite3_bind_blob(st, 4, vn ? (const void *)v : "", (int)vn, SQLITE_STATIC);
    sqlite3_bind_blob(st, 5, x->receipt_id, 32, SQLITE_STATIC);
    sqlite3_step(st);
    sb_release(st);
}

static vm_trap read_key(vm_host_call *hc, sb_call *x, uint64_t len, uint64_t ptr, uint8_t **k, size_t *kn) {
    const uint8_t *p;
    vm_trap t = read_arg(hc, x, len, ptr, &p, kn);
    if (t) return t;
    if (*kn > SB_MAX_STORAGE_KEY) return host_fail(hc, x, "KeyLengthExceeded", "storage key over %u bytes", SB_MAX_STORAGE_KEY);
    *k = malloc(*kn ? *kn : 1);
    if (!*k) return host_fail(hc, x, "MemoryAccessViolation", "out of memory");
    if (*kn) memcpy(*k, p, *kn);
    return VM_TRAP_NONE;
}

HOST(storage_write) {
    X;
    vm_trap t = no_view(hc, x, "storage_write");
    if (t) return t;
    uint8_t *k = NULL, *old = NULL;
    size_t kn, vn, on = 0;
    const uint8_t *v;
    if ((t = read_key(hc, x, a[0], a[1], &k, &kn))) return t;
    if ((t = read_arg(hc, x, a[2], a[3], &v, &vn))) goto out;
    if (vn > SB_MAX_STORAGE_VALUE) {
        t = host_fail(hc, x, "ValueLengthExceeded", "storage value over %u bytes", SB_MAX_STORAGE_VALUE);
        goto out;
    }
    if ((t = charge(hc, G_SW + G_SW_KB * kn + G_SW_VB * vn + G_TRIE * 2))) goto out;
    int had = data_get(x, k, kn, &old, &on);
    if (had < 0) {
        t = host_fail(hc, x, "StorageError", "storage read failed");
        goto out;
    }
    sqlite3_stmt *st;
    if (sb_prepare(x->db, "INSERT OR REPLACE INTO data(account_id, key, value) VALUES(?,?,?)", &st) !=
        SQLITE_OK) {
        t = host_fail(hc, x, "StorageError", "storage write failed");
        goto out;
    }
    sqlite3_bind_text(st, 1, x->account, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, kn ? (const void *)k : "", (int)kn, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, vn ? (const void *)v : "", (int)vn, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sb_release(st);
    if (rc != SQLITE_DONE) {
        t = host_fail(hc, x, "StorageError", "storage write failed");
        goto out;
    }
    record_change(x, k, kn, v, vn, false);
    if (had) {
        x->acc->storage_usage = x->acc->storage_usage + vn - on;
        if ((t = charge(hc, 32117307ull * on))) goto out;
        t = reg_set(hc, x, a[4], old, on);
    } else {
        x->acc->storage_usage += kn + vn + SB_RECORD_EXTRA_BYTES;
    }
    res[0] = had ? 1 : 0;
out:
    free(k);
    free(old);
    return t;
}
HOST(storage_read) {
    X;
    uint8_t *k = NULL, *v = NULL;
    size_t kn, vn = 0;
    vm_trap t = read_key(hc, x, a[0], a[1], &k, &kn);
    if (t) return t;
    int had = data_get(x, k, kn, &v, &vn);
    free(k);
    if (had < 0) return host_fail(hc, x, "StorageError", "storage read failed");
    if ((t = charge(hc, G_SR + G_SR_KB * kn + G_SR_VB * vn + G_TRIE))) goto out;
    if (had) t = reg_set(hc, x, a[2], v, vn);
    res[0] = had ? 1 : 0;
out:
    free(v);
    return t;
}
HOST(storage_remove) {
    X;
    vm_trap t = no_view(hc, x, "storage_remove");
    if (t) return t;
    uint8_t *k = NULL, *v = NULL;
    size_t kn, vn = 0;
    if ((t = read_key(hc, x, a[0], a[1], &k, &kn))) return t;
    int had = data_get(x, k, kn, &v, &vn);
    if (had < 0) {
        t = host_fail(hc, x, "StorageError", "storage read failed");
        goto out;
    }
    if ((t = charge(hc, G_SRM + G_SRM_KB * kn + G_SRM_VB * vn + G_TRIE))) goto out;
    if (had) {
        sqlite3_stmt *st;
        if (sb_prepare(x->db, "DELETE FROM data WHERE account_id=? AND key=?", &st) == SQLITE_OK) {
            sqlite3_bind_text(st, 1, x->account, -1, SQLITE_STATIC);
            sqlite3_bind_blob(st, 2, kn ? (const void *)k : "", (int)kn, SQLITE_STATIC);
            sqlite3_step(st);
            sb_release(st);
        }
        record_change(x, k, kn, NULL, 0, true);
        uint64_t drop = kn + vn + SB_RECORD_EXTRA_BYTES;
        x->acc->storage_usage = x->acc->storage_usage > drop ? x->acc->storage_usage - drop : 0;
        t = reg_set(hc, x, a[2], v, vn);
    }
    res[0] = had ? 1 : 0;
out:
    free(k);
    free(v);
    return t;
}
HOST(storage_has_key) {
    X;
    uint8_t *k = NULL, *v = NULL;
    size_t kn, vn = 0;
    vm_trap t = read_key(hc, x, a[0], a[1], &k, &kn);
    if (t) return t;
    if ((t = charge2(hc, G_SHK + G_TRIE, G_SHK_B, kn))) {
        free(k);
        return t;
    }
    int had = data_get(x, k, kn, &v, &vn);
    free(k);
    free(v);
    if (had < 0) return host_fail(hc, x, "StorageError", "storage read failed");
    res[0] = had ? 1 : 0;
    return VM_TRAP_NONE;
}
HOST(deprecated) {
    X;
    (void)a, (void)res;
    return host_fail(hc, x, "Deprecated { method_name: \"storage_iter\" }", "storage iterators are deprecated");
}
HOST(unsupported) {
    X;
    (void)a, (void)res;
    return host_fail(hc, x, "Unsupported", "this host function is not supported by outlayer sandbox");
}
HOST(gas) {
    (void)a, (void)res;
    return charge(hc, 0);
}

/* ---- promises (§1.5) and yield/resume (§1.6) ------------------------------------------------------- */
static vm_trap read_account(vm_host_call *hc, sb_call *x, uint64_t len, uint64_t ptr, char out[NEAR_ACCOUNT_ID_MAX + 1]) {
    const uint8_t *p;
    size_t n;
    vm_trap t = read_arg(hc, x, len, ptr, &p, &n);
    if (t) return t;
    if (n > NEAR_ACCOUNT_ID_MAX || near_account_id_check((const char *)p, n, NULL))
        return host_fail(hc, x, "InvalidAccountId", "account id is invalid");
    memcpy(out, p, n);
    out[n] = 0;
    return VM_TRAP_NONE;
}

static vm_trap new_receipt(vm_host_call *hc, sb_call *x, const char *receiver, size_t *out) {
    if (x->n_promises >= SB_MAX_PROMISES)
        return host_fail(hc, x, "NumberPromisesExceeded", "more than %d promises", SB_MAX_PROMISES);
    /* action_receipt_creation: send fee burnt, exec fee reserved */
    bool sir = strcmp(receiver, x->account) == 0;
    uint64_t send = sb_arc_fee(sir, false), ex = sb_arc_fee(sir, true);
    vm_trap t = charge(hc, send + ex);
    if (t) return t;
    x->promise_gas += send + ex;
    x->promise_used += ex;
    sb_new_receipt *r = realloc(x->receipts, (x->n_receipts + 1) * sizeof *r);
    sb_promise *p = realloc(x->promises, (x->n_promises + 1) * sizeof *p);
    if (r) x->receipts = r;
    if (p) x->promises = p;
    if (!r || !p) return host_fail(hc, x, "MemoryAccessViolation", "out of memory");
    memset(&x->receipts[x->n_receipts], 0, sizeof *r);
    ol_strlcpy(x->receipts[x->n_receipts].receiver, receiver, NEAR_ACCOUNT_ID_MAX + 1);
    x->promises[x->n_promises] = (sb_promise){.joint = false, .receipt = x->n_receipts};
    x->n_receipts++;
    *out = x->n_promises++;
    return VM_TRAP_NONE;
}

static void new_data_id(sb_call *x, uint8_t out[32]) {
    uint8_t buf[48];
    memcpy(buf, x->action_hash, 32);
    for (int i = 0; i < 8; i++) buf[32 + i] = (uint8_t)(x->height >> (8 * i));
    uint64_t n = x->data_counter++;
    for (int i = 0; i < 8; i++) buf[40 + i] = (uint8_t)(n >> (8 * i));
    crypto_hash_sha256(out, buf, sizeof buf);
}

/* Makes receipt ri wait on every receipt under promise pi. */
static vm_trap add_dependency(vm_host_call *hc, sb_call *x, uint64_t pi, size_t ri) {
    if (pi >= x->n_promises) return host_fail(hc, x, "InvalidPromiseIndex", "promise index %llu is invalid", (unsigned long long)pi);
    sb_promise *p = &x->promises[pi];
    size_t n = p->joint ? p->n_members : 1;
    for (size_t k = 0; k < n; k++) {
        size_t dep = p->joint ? p->members[k] : p->receipt;
        sb_new_receipt *d = &x->receipts[dep], *cb = &x->receipts[ri];
        if (cb->n_inputs >= SB_MAX_INPUT_DEPS)
            return host_fail(hc, x, "NumberInputDataDependenciesExceeded", "more than %d dependencies", SB_MAX_INPUT_DEPS);
        sb_data_receiver *o = realloc(d->outputs, (d->n_outputs + 1) * sizeof *o);
        uint8_t(*in)[32] = realloc(cb->inputs, (cb->n_inputs + 1) * sizeof *in);
        if (o) d->outputs = o;
        if (in) cb->inputs = in;
        if (!o || !in) return host_fail(hc, x, "MemoryAccessViolation", "out of memory");
        new_data_id(x, cb->inputs[cb->n_inputs]);
        memcpy(d->outputs[d->n_outputs].data_id, cb->inputs[cb->n_inputs], 32);
        ol_strlcpy(d->outputs[d->n_outputs].receiver, cb->receiver, NEAR_ACCOUNT_ID_MAX + 1);
        d->n_outputs++;
        cb->n_inputs++;
        /* data receipt creation (send + exec fee): burnt here, since data receipts have no outcome of their own */
        uint64_t fee = 2 * 36486732312ull;
        vm_trap t = charge(hc, fee);
        if (t) return t;
        x->promise_gas += fee;
    }
    return VM_TRAP_NONE;
}

static vm_trap batch_receipt(vm_host_call *hc, sb_call *x, uint64_t pi, sb_new_receipt **out) {
    if (pi >= x->n_promises) return host_fail(hc, x, "InvalidPromiseIndex", "promise index %llu is invalid", (unsigned long long)pi);
    if (x->promises[pi].joint) return host_fail(hc, x, "CannotAppendActionToJointPromise", "cannot append an action to a joint promise");
    *out = &x->receipts[x->promises[pi].receipt];
    return VM_TRAP_NONE;
}

static vm_trap push_action(vm_host_call *hc, sb_call *x, sb_new_receipt *r, const near_action *a, uint64_t weight) {
    if (r->n_actions >= NEAR_MAX_ACTIONS) return host_fail(hc, x, "NewReceiptValidationError", "more than %d actions", NEAR_MAX_ACTIONS);
    bool sir = strcmp(r->receiver, x->account) == 0;
    uint64_t send = sb_action_fee(a, sir, false), ex = sb_action_fee(a, sir, true), g = 0;
    if (a->kind == NEAR_ACTION_FUNCTION_CALL) g = a->u.call.gas;
    uint64_t total;
    if (!ol_add_u64(send, ex, &total) || !ol_add_u64(total, g, &total)) total = UINT64_MAX;
    vm_trap t = charge(hc, total);
    if (t) return t;
    near_u128 dep = a->kind == NEAR_ACTION_TRANSFER ? a->u.transfer.deposit : a->kind == NEAR_ACTION_FUNCTION_CALL ? a->u.call.deposit : 0;
    if (dep > x->acc->amount) {
        char b1[NEAR_U128_STR], b2[NEAR_U128_STR];
        near_u128_format(dep, b1);
        near_u128_format(x->acc->amount, b2);
        return host_fail(hc, x, "BalanceExceeded", "Exceeded the account balance: %s > %s", b1, b2);
    }
    if (r->n_actions == r->cap_actions) {
        size_t nc = r->cap_actions ? r->cap_actions * 2 : 4;
        near_action *na = realloc(r->actions, nc * sizeof *na);
        if (na) r->actions = na;
        uint64_t *nw = realloc(r->weights, nc * sizeof *nw);
        if (nw) r->weights = nw;
        if (!na || !nw) return host_fail(hc, x, "MemoryAccessViolation", "out of memory");
        r->cap_actions = nc;
    }
    x->acc->amount -= dep;
    x->promise_gas += total;
    x->promise_used += ex + g;
    r->actions[r->n_actions] = *a;
    r->weights[r->n_actions] = weight;
    r->n_actions++;
    return VM_TRAP_NONE;
}

static void *dup_bytes(const void *p, size_t n) {
    uint8_t *d = malloc(n + 1);
    if (d) {
        if (n) memcpy(d, p, n);
        d[n] = 0;
    }
    return d;
}

static vm_trap fc_action(vm_host_call *hc, sb_call *x, uint64_t pi, uint64_t mlen, uint64_t mptr, uint64_t alen,
                         uint64_t aptr, uint64_t amount_ptr, uint64_t gas, uint64_t weight) {
    sb_new_receipt *r = NULL;
    vm_trap t = batch_receipt(hc, x, pi, &r);
    if (t) return t;
    const uint8_t *p;
    size_t n;
    if ((t = read_arg(hc, x, mlen, mptr, &p, &n))) return t;
    if (n == 0) return host_fail(hc, x, "EmptyMethodName", "method name is empty");
    if (n > NEAR_MAX_METHOD_NAME || memchr(p, 0, n)) return host_fail(hc, x, "NewReceiptValidationError", "method name is invalid");
    char *name = dup_bytes(p, n);
    if ((t = read_arg(hc, x, alen, aptr, &p, &n))) {
        free(name);
        return t;
    }
    uint8_t *args = dup_bytes(p, n);
    near_action a = {.kind = NEAR_ACTION_FUNCTION_CALL};
    a.u.call.method_name = name;
    a.u.call.args = args;
    a.u.call.args_len = n;
    a.u.call.gas = gas;
    if (!name || !args || (t = read_u128(hc, x, amount_ptr, &a.u.call.deposit)) || (t = push_action(hc, x, r, &a, weight))) {
        free(name);
        free(args);
        return t ? t : host_fail(hc, x, "MemoryAccessViolation", "out of memory");
    }
    return VM_TRAP_NONE;
}

/* A FunctionCall with zero deposit (yield callbacks). */
static vm_trap fc_action_deposit0(vm_host_call *hc, sb_call *x, uint64_t pi, uint64_t mlen, uint64_t mptr, uint64_t alen,
                                  uint64_t aptr, uint64_t gas, uint64_t weight) {
    sb_new_receipt *r = NULL;
    vm_trap t = batch_receipt(hc, x, pi, &r);
    if (t) return t;
    const uint8_t *p;
    size_t n;
    if ((t = read_arg(hc, x, mlen, mptr, &p, &n))) return t;
    if (n == 0) return host_fail(hc, x, "EmptyMethodName", "method name is empty");
    if (n > NEAR_MAX_METHOD_NAME || memchr(p, 0, n)) return host_fail(hc, x, "NewReceiptValidationError", "method name is invalid");
    char *name = dup_bytes(p, n);
    if ((t = read_arg(hc, x, alen, aptr, &p, &n))) {
        free(name);
        return t;
    }
    uint8_t *args = dup_bytes(p, n);
    near_action a = {.kind = NEAR_ACTION_FUNCTION_CALL};
    a.u.call.method_name = name;
    a.u.call.args = args;
    a.u.call.args_len = n;
    a.u.call.gas = gas;
    if (!name || !args || (t = push_action(hc, x, r, &a, weight))) {
        free(name);
        free(args);
        return t ? t : host_fail(hc, x, "MemoryAccessViolation", "out of memory");
    }
    return VM_TRAP_NONE;
}

HOST(promise_batch_create) {
    X;
    vm_trap t = no_view(hc, x, "promise_batch_create");
    char acc[NEAR_ACCOUNT_ID_MAX + 1];
    size_t idx;
    if (t || (t = read_account(hc, x, a[0], a[1], acc)) || (t = new_receipt(hc, x, acc, &idx))) return t;
    res[0] = idx;
    return VM_TRAP_NONE;
}
HOST(promise_batch_then) {
    X;
    vm_trap t = no_view(hc, x, "promise_batch_then");
    char acc[NEAR_ACCOUNT_ID_MAX + 1];
    size_t idx;
    if (t || (t = read_account(hc, x, a[1], a[2], acc))) return t;
    if (a[0] >= x->n_promises) return host_fail(hc, x, "InvalidPromiseIndex", "promise index is invalid");
    if ((t = new_receipt(hc, x, acc, &idx)) || (t = add_dependency(hc, x, a[0], x->promises[idx].receipt))) return t;
    res[0] = idx;
    return VM_TRAP_NONE;
}
HOST(promise_create) {
    X;
    vm_trap t = no_view(hc, x, "promise_batch_create");
    char acc[NEAR_ACCOUNT_ID_MAX + 1];
    size_t idx;
    if (t || (t = read_account(hc, x, a[0], a[1], acc)) || (t = new_receipt(hc, x, acc, &idx)) ||
        (t = fc_action(hc, x, idx, a[2], a[3], a[4], a[5], a[6], a[7], 0)))
        return t;
    res[0] = idx;
    return VM_TRAP_NONE;
}
HOST(promise_then) {
    X;
    vm_trap t = no_view(hc, x, "promise_batch_then");
    char acc[NEAR_ACCOUNT_ID_MAX + 1];
    size_t idx;
    if (t || (t = read_account(hc, x, a[1], a[2], acc))) return t;
    if (a[0] >= x->n_promises) return host_fail(hc, x, "InvalidPromiseIndex", "promise index is invalid");
    if ((t = new_receipt(hc, x, acc, &idx)) || (t = add_dependency(hc, x, a[0], x->promises[idx].receipt)) ||
        (t = fc_action(hc, x, idx, a[3], a[4], a[5], a[6], a[7], a[8], 0)))
        return t;
    res[0] = idx;
    return VM_TRAP_NONE;
}
HOST(promise_and) {
    X;
    vm_trap t = no_view(hc, x, "promise_and");
    if (t) return t;
    if (a[1] > SB_MAX_INPUT_DEPS) return host_fail(hc, x, "NumberInputDataDependenciesExceeded", "too many promises");
    if ((t = charge2(hc, 1465013400ull, 5452176ull, a[1]))) return t;
    size_t *m = calloc(a[1] ? a[1] * SB_MAX_INPUT_DEPS : 1, sizeof *m);
    size_t n = 0;
    if (!m) return host_fail(hc, x, "MemoryAccessViolation", "out of memory");
    for (uint64_t i = 0; i < a[1]; i++) {
        uint8_t b[8];
        if (!vm_host_read(hc, a[0] + 8 * i, b, 8)) {
            free(m);
            return host_fail(hc, x, "MemoryAccessViolation", "memory access out of bounds");
        }
        uint64_t pi = 0;
        for (int k = 7; k >= 0; k--) pi = (pi << 8) | b[k];
        if (pi >= x->n_promises) {
            free(m);
            return host_fail(hc, x, "InvalidPromiseIndex", "promise index %llu is invalid", (unsigned long long)pi);
        }
        sb_promise *p = &x->promises[pi];
        for (size_t k = 0; k < (p->joint ? p->n_members : 1) && n < SB_MAX_INPUT_DEPS; k++) m[n++] = p->joint ? p->members[k] : p->receipt;
    }
    if (x->n_promises >= SB_MAX_PROMISES) {
        free(m);
        return host_fail(hc, x, "NumberPromisesExceeded", "more than %d promises", SB_MAX_PROMISES);
    }
    sb_promise *np = realloc(x->promises, (x->n_promises + 1) * sizeof *np);
    if (!np) {
        free(m);
        return host_fail(hc, x, "MemoryAccessViolation", "out of memory");
    }
    x->promises = np;
    x->promises[x->n_promises] = (sb_promise){.joint = true, .members = m, .n_members = n};
    res[0] = x->n_promises++;
    return VM_TRAP_NONE;
}
HOST(promise_batch_action_create_account) {
    X;
    (void)res;
    sb_new_receipt *r = NULL;
    vm_trap t = no_view(hc, x, "promise_batch_action_create_account");
    if (t || (t = batch_receipt(hc, x, a[0], &r))) return t;
    near_action act = {.kind = NEAR_ACTION_CREATE_ACCOUNT};
    return push_action(hc, x, r, &act, 0);
}
HOST(promise_batch_action_deploy_contract) {
    X;
    (void)res;
    sb_new_receipt *r = NULL;
    const uint8_t *p;
    size_t n;
    vm_trap t = no_view(hc, x, "promise_batch_action_deploy_contract");
    if (t || (t = batch_receipt(hc, x, a[0], &r)) || (t = read_arg(hc, x, a[1], a[2], &p, &n))) return t;
    if (n > NEAR_MAX_CODE_BYTES) return host_fail(hc, x, "ContractSizeExceeded", "code over %u bytes", NEAR_MAX_CODE_BYTES);
    near_action act = {.kind = NEAR_ACTION_DEPLOY_CONTRACT};
    uint8_t *code = dup_bytes(p, n);
    if (!code) return host_fail(hc, x, "MemoryAccessViolation", "out of memory");
    act.u.deploy.code = code;
    act.u.deploy.code_len = n;
    if ((t = push_action(hc, x, r, &act, 0))) free(code);
    return t;
}
HOST(promise_batch_action_function_call) {
    X;
    (void)res;
    vm_trap t = no_view(hc, x, "promise_batch_action_function_call");
    return t ? t : fc_action(hc, x, a[0], a[1], a[2], a[3], a[4], a[5], a[6], 0);
}
HOST(promise_batch_action_function_call_weight) {
    X;
    (void)res;
    vm_trap t = no_view(hc, x, "promise_batch_action_function_call_weight");
    return t ? t : fc_action(hc, x, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]);
}
HOST(promise_batch_action_transfer) {
    X;
    (void)res;
    sb_new_receipt *r = NULL;
    vm_trap t = no_view(hc, x, "promise_batch_action_transfer");
    if (t || (t = batch_receipt(hc, x, a[0], &r))) return t;
    near_action act = {.kind = NEAR_ACTION_TRANSFER};
    if ((t = read_u128(hc, x, a[1], &act.u.transfer.deposit))) return t;
    return push_action(hc, x, r, &act, 0);
}
static vm_trap read_pk(vm_host_call *hc, sb_call *x, uint64_t len, uint64_t ptr, near_public_key *pk) {
    const uint8_t *p;
    size_t n;
    vm_trap t = read_arg(hc, x, len, ptr, &p, &n);
    if (t) return t;
    memset(pk, 0, sizeof *pk);
    if (n < 1 || near_key_len(p[0]) == 0 || n != 1 + near_key_len(p[0]) || p[0] == NEAR_KEY_MLDSA65)
        return host_fail(hc, x, "InvalidPublicKey", "public key is invalid");
    pk->type = p[0];
    memcpy(pk->data, p + 1, n - 1);
    return VM_TRAP_NONE;
}
HOST(promise_batch_action_add_key_with_full_access) {
    X;
    (void)res;
    sb_new_receipt *r = NULL;
    vm_trap t = no_view(hc, x, "promise_batch_action_add_key_with_full_access");
    near_action act = {.kind = NEAR_ACTION_ADD_KEY};
    if (t || (t = batch_receipt(hc, x, a[0], &r)) || (t = read_pk(hc, x, a[1], a[2], &act.u.add_key.public_key))) return t;
    act.u.add_key.access_key.permission = NEAR_PERM_FULL_ACCESS;
    return push_action(hc, x, r, &act, 0);
}
HOST(promise_batch_action_add_key_with_function_call) {
    X;
    (void)res;
    sb_new_receipt *r = NULL;
    vm_trap t = no_view(hc, x, "promise_batch_action_add_key_with_function_call");
    near_action act = {.kind = NEAR_ACTION_ADD_KEY};
    near_access_key *k = &act.u.add_key.access_key;
    char recv[NEAR_ACCOUNT_ID_MAX + 1];
    near_u128 allowance;
    if (t || (t = batch_receipt(hc, x, a[0], &r)) || (t = read_pk(hc, x, a[1], a[2], &act.u.add_key.public_key)) ||
        (t = read_u128(hc, x, a[4], &allowance)) || (t = read_account(hc, x, a[5], a[6], recv)))
        return t;
    const uint8_t *p;
    size_t n;
    if ((t = read_arg(hc, x, a[7], a[8], &p, &n))) return t;
    if (n > NEAR_MAX_METHOD_NAMES_BYTES) return host_fail(hc, x, "NewReceiptValidationError", "method names over %d bytes", NEAR_MAX_METHOD_NAMES_BYTES);
    char *names = dup_bytes(p, n), *rid = strdup(recv);
    const char **list = calloc(n / 2 + 2, sizeof *list);
    if (!names || !rid || !list) {
        free(names), free(rid), free(list);
        return host_fail(hc, x, "MemoryAccessViolation", "out of memory");
    }
    size_t cnt = 0;
    if (n) {
        for (char *s = names, *e; s; s = e) {
            e = strchr(s, ',');
            if (e) *e++ = 0;
            if (!*s) {
                free(names), free(rid), free(list);
                return host_fail(hc, x, "EmptyMethodName", "method name is empty");
            }
            list[cnt++] = s;
        }
    }
    k->permission = NEAR_PERM_FUNCTION_CALL;
    k->has_allowance = allowance != 0;
    k->allowance = allowance;
    k->receiver_id = rid;
    k->method_names = list;
    k->n_method_names = cnt;
    /* names[] backs list[]: keep it as list[cnt] (freed with the action) */
    list[cnt] = names;
    if ((t = push_action(hc, x, r, &act, 0))) free(names), free(rid), free(list);
    return t;
}
HOST(promise_batch_action_delete_key) {
    X;
    (void)res;
    sb_new_receipt *r = NULL;
    vm_trap t = no_view(hc, x, "promise_batch_action_delete_key");
    near_action act = {.kind = NEAR_ACTION_DELETE_KEY};
    if (t || (t = batch_receipt(hc, x, a[0], &r)) || (t = read_pk(hc, x, a[1], a[2], &act.u.delete_key.public_key))) return t;
    return push_action(hc, x, r, &act, 0);
}
HOST(promise_batch_action_delete_account) {
    X;
    (void)res;
    sb_new_receipt *r = NULL;
    char ben[NEAR_ACCOUNT_ID_MAX + 1];
    vm_trap t = no_view(hc, x, "promise_batch_action_delete_account");
    if (t || (t = batch_receipt(hc, x, a[0], &r)) || (t = read_account(hc, x, a[1], a[2], ben))) return t;
    near_action act = {.kind = NEAR_ACTION_DELETE_ACCOUNT};
    char *b = strdup(ben);
    if (!b) return host_fail(hc, x, "MemoryAccessViolation", "out of memory");
    act.u.delete_account.beneficiary_id = b;
    if ((t = push_action(hc, x, r, &act, 0))) free(b);
    return t;
}
HOST(promise_results_count) {
    X;
    vm_trap t = no_view(hc, x, "promise_results_count");
    res[0] = x->n_results;
    return t;
}
HOST(promise_result) {
    X;
    vm_trap t = no_view(hc, x, "promise_result");
    if (t) return t;
    if (a[0] >= x->n_results) return host_fail(hc, x, "InvalidPromiseResultIndex", "promise result index %llu is invalid", (unsigned long long)a[0]);
    if (x->result_ok[a[0]] == 1) {
        if ((t = reg_set(hc, x, a[1], x->result_data[a[0]], x->result_len[a[0]]))) return t;
        res[0] = 1;
    } else {
        res[0] = 2;
    }
    return VM_TRAP_NONE;
}
HOST(promise_return) {
    X;
    (void)res;
    vm_trap t = no_view(hc, x, "promise_return");
    if (t || (t = charge(hc, 560152386ull))) return t;
    if (a[0] >= x->n_promises) return host_fail(hc, x, "InvalidPromiseIndex", "promise index %llu is invalid", (unsigned long long)a[0]);
    if (x->promises[a[0]].joint) return host_fail(hc, x, "CannotReturnJointPromise", "cannot return a joint promise");
    x->returned_promise = (long)x->promises[a[0]].receipt;
    return VM_TRAP_NONE;
}
HOST(promise_yield_create) {
    X;
    vm_trap t = no_view(hc, x, "promise_yield_create");
    if (t) return t;
    const uint8_t *p;
    size_t n;
    if ((t = read_arg(hc, x, a[0], a[1], &p, &n))) return t;
    size_t name_len = n;
    if ((t = charge2(hc, 153411779276ull, 15643988ull, name_len + (a[2] == U64MAX ? 0 : a[2])))) return t;
    size_t idx;
    if ((t = new_receipt(hc, x, x->account, &idx))) return t;
    sb_new_receipt *r = &x->receipts[x->promises[idx].receipt];
    r->is_yield = true;
    uint8_t(*in)[32] = malloc(sizeof *in);
    if (!in) return host_fail(hc, x, "MemoryAccessViolation", "out of memory");
    r->inputs = in;
    new_data_id(x, r->inputs[0]);
    r->n_inputs = 1;
    if ((t = fc_action_deposit0(hc, x, idx, a[0], a[1], a[2], a[3], a[4], a[5]))) return t;
    if ((t = reg_set(hc, x, a[6], r->inputs[0], 32))) return t;
    res[0] = idx;
    return VM_TRAP_NONE;
}
HOST(promise_yield_resume) {
    X;
    vm_trap t = no_view(hc, x, "promise_yield_resume");
    if (t) return t;
    const uint8_t *p;
    size_t n;
    uint8_t did[32];
    if ((t = read_arg(hc, x, a[0], a[1], &p, &n))) return t;
    if (n != 32) return host_fail(hc, x, "DataIdMalformed", "data id must be 32 bytes, got %zu", n);
    memcpy(did, p, 32);
    if (a[2] != U64MAX && a[2] > SB_MAX_YIELD_PAYLOAD)
        return host_fail(hc, x, "YieldPayloadLength { length: %llu, limit: 1024 }", "Yield resume payload is %llu bytes, limit 1024",
                         (unsigned long long)a[2]);
    if ((t = charge2(hc, 1195627285210ull, 47683715ull, a[2] == U64MAX ? 0 : a[2]))) return t;
    if ((t = read_arg(hc, x, a[2], a[3], &p, &n))) return t;
    if (n > SB_MAX_YIELD_PAYLOAD) return host_fail(hc, x, "YieldPayloadLength", "Yield resume payload is %zu bytes, limit 1024", n);
    res[0] = 0;
    for (size_t i = 0; i < x->n_resumes; i++)
        if (memcmp(x->resumes[i].data_id, did, 32) == 0) return VM_TRAP_NONE;
    sqlite3_stmt *st;
    int pending = 0;
    if (sb_prepare(x->db, "SELECT 1 FROM yields WHERE data_id=? AND account_id=? AND status=0", &st) == SQLITE_OK) {
        sqlite3_bind_blob(st, 1, did, 32, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, x->account, -1, SQLITE_STATIC);
        pending = sqlite3_step(st) == SQLITE_ROW;
        sb_release(st);
    }
    if (!pending) return VM_TRAP_NONE;
    sb_resume *rs = realloc(x->resumes, (x->n_resumes + 1) * sizeof *rs);
    uint8_t *pl = dup_bytes(p, n);
    if (rs) x->resumes = rs;
    if (!rs || !pl) {
        free(pl);
        return host_fail(hc, x, "MemoryAccessViolation", "out of memory");
    }
    memcpy(x->resumes[x->n_resumes].data_id, did, 32);
    x->resumes[x->n_resumes].payload = pl;
    x->resumes[x->n_resumes].len = n;
    x->n_resumes++;
    res[0] = 1;
    return VM_TRAP_NONE;
}

void sb_promises_free(sb_call *x) {
    for (size_t i = 0; i < x->n_receipts; i++) {
        sb_new_receipt *r = &x->receipts[i];
        for (size_t k = 0; k < r->n_actions; k++) {
            near_action *a = &r->actions[k];
            if (a->kind == NEAR_ACTION_FUNCTION_CALL) free((void *)a->u.call.method_name), free((void *)a->u.call.args);
            if (a->kind == NEAR_ACTION_DEPLOY_CONTRACT) free((void *)a->u.deploy.code);
            if (a->kind == NEAR_ACTION_DELETE_ACCOUNT) free((void *)a->u.delete_account.beneficiary_id);
            if (a->kind == NEAR_ACTION_ADD_KEY && a->u.add_key.access_key.permission == NEAR_PERM_FUNCTION_CALL) {
                near_access_key *k2 = &a->u.add_key.access_key;
                free((void *)k2->method_names[k2->n_method_names]);
                free((void *)k2->receiver_id);
                free((void *)k2->method_names);
            }
        }
        free(r->actions);
        free(r->weights);
        free(r->inputs);
        free(r->outputs);
    }
    free(x->receipts);
    x->receipts = NULL;
    x->n_receipts = 0;
    for (size_t i = 0; i < x->n_promises; i++) free(x->promises[i].members);
    free(x->promises);
    x->promises = NULL;
    x->n_promises = 0;
    for (size_t i = 0; i < x->n_resumes; i++) free(x->resumes[i].payload);
    free(x->resumes);
    x->resumes = NULL;
    x->n_resumes = 0;
}

void sb_promises_distribute_gas(sb_call *x) {
    uint64_t used = x->gas_burnt + x->promise_used;
    if (x->prepaid_gas <= used) return;
    uint64_t unused = x->prepaid_gas - used, total = 0;
    near_action *last = NULL;
    for (size_t i = 0; i < x->n_receipts; i++)
        for (size_t k = 0; k < x->receipts[i].n_actions; k++) total += x->receipts[i].weights[k];
    if (!total) return;
    uint64_t given = 0;
    for (size_t i = 0; i < x->n_receipts; i++)
        for (size_t k = 0; k < x->receipts[i].n_actions; k++) {
            uint64_t w = x->receipts[i].weights[k];
            if (!w) continue;
            uint64_t share = (uint64_t)(((unsigned __int128)unused * w) / total);
            x->receipts[i].actions[k].u.call.gas += share;
            given += share;
            last = &x->receipts[i].actions[k];
        }
    if (last) last->u.call.gas += unused - given;
    x->promise_used += unused;
}

typedef struct host_def {
    const char *name;
    uint8_t nparams;
    uint8_t result; /* 0 none, 1 i64, 2 i32 */
    vm_host_fn fn;
} host_def;

static const host_def HOSTS[] = {
    {"read_register", 2, 0, h_read_register},
    {"register_len", 1, 1, h_register_len},
    {"write_register", 3, 0, h_write_register},
    {"current_account_id", 1, 0, h_current_account_id},
    {"signer_account_id", 1, 0, h_signer_account_id},
    {"signer_account_pk", 1, 0, h_signer_account_pk},
    {"predecessor_account_id", 1, 0, h_predecessor_account_id},
    {"input", 1, 0, h_input},
    {"block_index", 0, 1, h_block_index},
    {"block_height", 0, 1, h_block_index},
    {"block_timestamp", 0, 1, h_block_timestamp},
    {"epoch_height", 0, 1, h_epoch_height},
    {"storage_usage", 0, 1, h_storage_usage},
    {"account_balance", 1, 0, h_account_balance},
    {"account_locked_balance", 1, 0, h_account_locked_balance},
    {"attached_deposit", 1, 0, h_attached_deposit},
    {"prepaid_gas", 0, 1, h_prepaid_gas},
    {"used_gas", 0, 1, h_used_gas},
    {"random_seed", 1, 0, h_random_seed},
    {"chain_id", 1, 0, h_chain_id},
    {"validator_stake", 3, 0, h_validator_stake},
    {"validator_total_stake", 1, 0, h_validator_total_stake},
    {"sha256", 3, 0, h_sha256},
    {"keccak256", 3, 0, h_keccak256},
    {"keccak512", 3, 0, h_keccak512},
    {"ripemd160", 3, 0, h_unsupported},
    {"ecrecover", 7, 1, h_unsupported},
    {"ed25519_verify", 6, 1, h_ed25519_verify},
    {"p256_verify", 6, 1, h_unsupported},
    {"alt_bn128_g1_multiexp", 3, 0, h_unsupported},
    {"alt_bn128_g1_sum", 3, 0, h_unsupported},
    {"alt_bn128_pairing_check", 2, 1, h_unsupported},
    {"bls12381_p1_sum", 3, 1, h_unsupported},
    {"bls12381_p2_sum", 3, 1, h_unsupported},
    {"bls12381_g1_multiexp", 3, 1, h_unsupported},
    {"bls12381_g2_multiexp", 3, 1, h_unsupported},
    {"bls12381_map_fp_to_g1", 3, 1, h_unsupported},
    {"bls12381_map_fp2_to_g2", 3, 1, h_unsupported},
    {"bls12381_p1_decompress", 3, 1, h_unsupported},
    {"bls12381_p2_decompress", 3, 1, h_unsupported},
    {"bls12381_pairing_check", 2, 1, h_unsupported},
    {"storage_write", 5, 1, h_storage_write},
    {"storage_read", 3, 1, h_storage_read},
    {"storage_remove", 3, 1, h_storage_remove},
    {"storage_has_key", 2, 1, h_storage_has_key},
    {"storage_iter_prefix", 2, 1, h_deprecated},
    {"storage_iter_range", 4, 1, h_deprecated},
    {"storage_iter_next", 3, 1, h_deprecated},
    {"value_return", 2, 0, h_value_return},
    {"panic", 0, 0, h_panic},
    {"panic_utf8", 2, 0, h_panic_utf8},
    {"log_utf8", 2, 0, h_log_utf8},
    {"log_utf16", 2, 0, h_log_utf16},
    {"sandbox_debug_log", 2, 0, h_log_utf8},
    {"promise_create", 8, 1, h_promise_create},
    {"promise_then", 9, 1, h_promise_then},
    {"promise_and", 2, 1, h_promise_and},
    {"promise_batch_create", 2, 1, h_promise_batch_create},
    {"promise_batch_then", 3, 1, h_promise_batch_then},
    {"promise_batch_action_create_account", 1, 0, h_promise_batch_action_create_account},
    {"promise_batch_action_deploy_contract", 3, 0, h_promise_batch_action_deploy_contract},
    {"promise_batch_action_function_call", 7, 0, h_promise_batch_action_function_call},
    {"promise_batch_action_function_call_weight", 8, 0, h_promise_batch_action_function_call_weight},
    {"promise_batch_action_transfer", 2, 0, h_promise_batch_action_transfer},
    {"promise_batch_action_stake", 4, 0, h_unsupported},
    {"promise_batch_action_add_key_with_full_access", 4, 0, h_promise_batch_action_add_key_with_full_access},
    {"promise_batch_action_add_key_with_function_call", 9, 0, h_promise_batch_action_add_key_with_function_call},
    {"promise_batch_action_delete_key", 3, 0, h_promise_batch_action_delete_key},
    {"promise_batch_action_delete_account", 3, 0, h_promise_batch_action_delete_account},
    {"promise_batch_action_deploy_global_contract", 3, 0, h_unsupported},
    {"promise_batch_action_deploy_global_contract_by_account_id", 3, 0, h_unsupported},
    {"promise_batch_action_use_global_contract", 3, 0, h_unsupported},
    {"promise_batch_action_use_global_contract_by_account_id", 3, 0, h_unsupported},
    {"promise_set_refund_to", 3, 0, h_unsupported},
    {"promise_results_count", 0, 1, h_promise_results_count},
    {"promise_result", 2, 1, h_promise_result},
    {"promise_return", 1, 0, h_promise_return},
    {"promise_yield_create", 7, 1, h_promise_yield_create},
    {"promise_yield_resume", 4, 2, h_promise_yield_resume},
    {"promise_yield_create_with_id", 9, 1, h_unsupported},
    {"promise_yield_resume_with_yield_id", 4, 2, h_unsupported},
    {"current_contract_code", 1, 1, h_current_contract_code},
    {"refund_to_account_id", 1, 0, h_refund_to_account_id},
};

static vm_imports *g_imports;

static bool add_host(vm_imports *imp, const char *name, unsigned nparams, unsigned result, vm_host_fn fn) {
    static const vm_valtype I64[10] = {VM_I64, VM_I64, VM_I64, VM_I64, VM_I64, VM_I64, VM_I64, VM_I64, VM_I64, VM_I64};
    static const vm_valtype I32[4] = {VM_I32, VM_I32, VM_I32, VM_I32};
    static const vm_valtype R64[1] = {VM_I64}, R32[1] = {VM_I32};
    vm_functype ft = {.params = I64, .nparams = nparams, .results = result == 1 ? R64 : R32, .nresults = result ? 1 : 0};
    if (strcmp(name, "abort") == 0) ft.params = I32;
    if (strcmp(name, "gas") == 0) ft.params = I32;
    return vm_imports_add_func(imp, "env", name, &ft, fn, NULL);
}

static vm_imports *imports(void) {
    if (g_imports) return g_imports;
    vm_imports *imp = vm_imports_new();
    if (!imp) return NULL;
    bool ok = add_host(imp, "abort", 4, 0, h_abort) && add_host(imp, "gas", 1, 0, h_gas);
    for (size_t i = 0; ok && i < sizeof HOSTS / sizeof HOSTS[0]; i++)
        ok = add_host(imp, HOSTS[i].name, HOSTS[i].nparams, HOSTS[i].result, HOSTS[i].fn);
    if (!ok) {
        vm_imports_free(imp);
        return NULL;
    }
    return g_imports = imp;
}

/* ---- running a method ------------------------------------------------------------------------------ */
static void set_prepare_error(sb_call *x, const char *what, const char *detail) {
    x->error = json_pack("{s:{s:s}}", "CompilationError", "PrepareError", what);
    snprintf(x->err_debug, sizeof x->err_debug, "CompilationError(PrepareError(%s))", what);
    snprintf(x->err_display, sizeof x->err_display, "PrepareError: %s (%s)", what, detail);
}

int sb_run(sb_chain *c, const uint8_t code_hash[32], const char *method, sb_call *x, ol_err *err) {
    x->db = c->db;
    if (!x->logs) x->logs = json_array();
    size_t code_len = 0;
    vm_module *m = module_for(c, code_hash, &code_len, x, err);
    if (!m) return x->error ? 0 : -1;
    x->load_gas = G_LOAD_BASE + G_LOAD_BYTE * code_len;
    /* deploy rules: imports only from env, functions only, no imported memory (§1.0) */
    for (uint32_t i = 0; i < vm_module_import_count(m); i++) {
        vm_import_desc d;
        vm_module_import(m, i, &d);
        if (d.kind == VM_EXTERN_MEMORY) return set_prepare_error(x, "Memory", "imported memory"), 0;
        if (strcmp(d.module, "env") != 0 || d.kind != VM_EXTERN_FUNC)
            return set_prepare_error(x, "Instantiate", d.module), 0;
    }
    if (!*method) {
        x->error = json_pack("{s:s}", "MethodResolveError", "MethodEmptyName");
        snprintf(x->err_debug, sizeof x->err_debug, "MethodResolveError(MethodEmptyName)");
        return 0;
    }
    vm_functype ft;
    if (!vm_module_export_functype(m, method, &ft)) {
        x->error = json_pack("{s:s}", "MethodResolveError", "MethodNotFound");
        snprintf(x->err_debug, sizeof x->err_debug, "MethodResolveError(MethodNotFound)");
        return 0;
    }
    if (ft.nparams || ft.nresults) {
        x->error = json_pack("{s:s}", "MethodResolveError", "MethodInvalidSignature");
        snprintf(x->err_debug, sizeof x->err_debug, "MethodResolveError(MethodInvalidSignature)");
        return 0;
    }
    vm_imports *imp = imports();
    if (!imp) return ol_err_set(err, -1, "out of memory"), -1;
    uint64_t limit = x->view ? SB_MAX_GAS_BURNT : (x->prepaid_gas < SB_MAX_GAS_BURNT ? x->prepaid_gas : SB_MAX_GAS_BURNT);
    if (x->load_gas > limit) {
        x->gas_burnt = limit;
        x->out_of_gas = true;
        goto gas_error;
    }
    vm_instance_config ic;
    vm_instance_config_default(&ic);
    x->fuel_start = (limit - x->load_gas) / OP_COST;
    ic.fuel = x->fuel_start;
    ic.max_memory_pages = SB_MAX_MEMORY_PAGES;
    ic.memory_min_pages = SB_INITIAL_MEMORY_PAGES;
    ic.stack_slots = SB_STACK_SLOTS;
    ic.max_call_depth = SB_MAX_CALL_DEPTH;
    ic.user = x;
    vm_error ve;
    vm_instance *inst = vm_instance_new(m, imp, &ic, &ve);
    if (!inst) {
        if (ve.code == VM_ERR_UNLINKABLE) {
            x->error = json_pack("{s:{s:s}}", "CompilationError", "PrepareError", "Instantiate");
            snprintf(x->err_debug, sizeof x->err_debug, "LinkError { msg: \"%s\" }", ve.msg);
            snprintf(x->err_display, sizeof x->err_display, "%s", ve.msg);
            return 0;
        }
        x->error = json_pack("{s:s}", "ExecutionError", ve.msg);
        snprintf(x->err_debug, sizeof x->err_debug, "WasmTrap(InstantiateError(\"%s\"))", ve.msg);
        return 0;
    }
    vm_trap tr = vm_call(inst, method, NULL, 0, NULL, 0);
    uint64_t used_fuel = x->fuel_start - vm_get_fuel(inst);
    uint64_t total = x->load_gas + used_fuel * OP_COST;
    x->gas_burnt = total > x->promise_used ? total - x->promise_used : 0;
    if (x->gas_burnt > limit) x->gas_burnt = limit;
    const char *tmsg = vm_trap_message(inst);
    char tcopy[200];
    ol_strlcpy(tcopy, tmsg, sizeof tcopy);
    vm_instance_free(inst);
    if (tr == VM_TRAP_NONE) return 0;
    if (tr == VM_TRAP_OUT_OF_FUEL || x->out_of_gas) {
        x->gas_burnt = limit;
    gas_error:
        if (!x->view && x->prepaid_gas < SB_MAX_GAS_BURNT) {
            x->error = json_pack("{s:s}", "ExecutionError", "Exceeded the prepaid gas.");
            snprintf(x->err_debug, sizeof x->err_debug, "HostError(GasExceeded)");
        } else {
            x->error = json_pack("{s:s}", "ExecutionError", "Exceeded the maximum amount of gas allowed to burn per contract.");
            snprintf(x->err_debug, sizeof x->err_debug, "HostError(GasLimitExceeded)");
        }
        return 0;
    }
    if (x->host_failed) {
        x->error = json_pack("{s:s}", "ExecutionError", x->err_display);
        return 0;
    }
    char disp[300];
    snprintf(disp, sizeof disp, "WebAssembly trap: %s", tcopy);
    x->error = json_pack("{s:s}", "ExecutionError", disp);
    snprintf(x->err_debug, sizeof x->err_debug, "WasmTrap(%s)", tcopy);
    return 0;
}

void sb_call_free(sb_call *x) {
    for (size_t i = 0; i < x->n_regs; i++) free(x->regs[i].data);
    x->n_regs = 0;
    free(x->ret);
    x->ret = NULL;
    json_decref(x->logs);
    x->logs = NULL;
    json_decref(x->error);
    x->error = NULL;
    sb_promises_free(x);
}
