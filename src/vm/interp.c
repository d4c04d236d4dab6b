/* The interpreter: one function, one dispatch per internal instruction (computed goto; a switch
 * when VM_SWITCH_DISPATCH is defined, for debugging and for compilers without labels-as-values).
 * pc (ip), frame pointer (fp), fuel and the memory base live in locals and are written back before
 * anything that can observe them (host calls, traps, return). Wasm-to-wasm calls do not recurse
 * on the native stack: frames go to the instance's frame array, bounded by max_call_depth. */
#include "vm/vm_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the engine assumes a little-endian host (memory is accessed with memcpy of native integers)"
#endif

static inline float F32(uint64_t x) {
    union {
        uint32_t u;
        float f;
    } c = {(uint32_t)x};
    return c.f;
}
static inline uint64_t FB32(float f) {
    union {
        float f;
        uint32_t u;
    } c = {f};
    return c.u;
}
static inline double F64(uint64_t x) {
    union {
        uint64_t u;
        double f;
    } c = {x};
    return c.f;
}
static inline uint64_t FB64(double f) {
    union {
        double f;
        uint64_t u;
    } c = {f};
    return c.u;
}

/* ceil/floor/trunc/nearest/sqrt/demote/promote must return a quiet (arithmetic) NaN for any NaN. */
static inline float q32(float x) { return x != x ? x + x : x; }
static inline double q64(double x) { return x != x ? x + x : x; }

static float fmin32(float a, float b) {
    if (a != a || b != b) return a + b; /* NaN in, NaN out (quieted) */
    if (a == 0 && b == 0) return signbit(a) ? a : b;
    return a < b ? a : b;
}
static float fmax32(float a, float b) {
    if (a != a || b != b) return a + b;
    if (a == 0 && b == 0) return signbit(a) ? b : a;
    return a > b ? a : b;
}
static double fmin64(double a, double b) {
    if (a != a || b != b) return a + b;
    if (a == 0 && b == 0) return signbit(a) ? a : b;
    return a < b ? a : b;
}
static double fmax64(double a, double b) {
    if (a != a || b != b) return a + b;
    if (a == 0 && b == 0) return signbit(a) ? b : a;
    return a > b ? a : b;
}

static inline uint32_t rotl32(uint32_t x, uint32_t n) {
    n &= 31;
    return n ? (x << n) | (x >> (32 - n)) : x;
}
static inline uint32_t rotr32(uint32_t x, uint32_t n) {
    n &= 31;
    return n ? (x >> n) | (x << (32 - n)) : x;
}
static inline uint64_t rotl64(uint64_t x, uint64_t n) {
    n &= 63;
    return n ? (x << n) | (x >> (64 - n)) : x;
}
static inline uint64_t rotr64(uint64_t x, uint64_t n) {
    n &= 63;
    return n ? (x >> n) | (x << (64 - n)) : x;
}

bool vm__types_equal(const vm_type *a, const vm_type *b) {
    return a == b || (a->nparams == b->nparams && a->nresults == b->nresults &&
                      memcmp(a->types, b->types, a->nparams + a->nresults) == 0);
}

vm_trap vm__trapf(vm_instance *inst, vm_trap t, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(inst->trap_msg, sizeof inst->trap_msg, fmt, ap);
    va_end(ap);
    return t;
}

/* Masks host results to the invariant "i32/f32 are stored zero-extended". */
static void mask_results(const vm_type *t, uint64_t *r) {
    for (uint32_t k = 0; k < t->nresults; k++) {
        uint8_t ty = t->types[t->nparams + k];
        if (ty == VM_I32 || ty == VM_F32) r[k] = (uint32_t)r[k];
    }
}

/* Calls a host function with its arguments at args; results are written back to args[0..]. */
static vm_trap host_call(vm_instance *top, vm_instance *caller, vm_funcinst *f, uint64_t *args) {
    uint64_t res[VM_MAX_RESULTS];
    bool metered = (caller ? caller : top)->mod->cfg.metering;
    if (metered && top->fuel < 100) return vm__trapf(top, VM_TRAP_OUT_OF_FUEL, "out of fuel");
    if (metered) top->fuel -= 100;
    vm_host_call hc = {caller ? caller : top, top, f->host_user, 0};
    memset(res, 0, f->type->nresults * sizeof *res);
    vm_trap t = f->host(&hc, args, res);
    uint64_t cost = metered ? hc.bytes / 64 + (hc.bytes % 64 != 0) : 0;
    if (cost > top->fuel) {
        top->fuel = 0;
        if (t == VM_TRAP_NONE) return vm__trapf(top, VM_TRAP_OUT_OF_FUEL, "out of fuel");
    } else {
        top->fuel -= cost;
    }
    if (t != VM_TRAP_NONE) return t;
    mask_results(f->type, res);
    memcpy(args, res, f->type->nresults * sizeof *res);
    return VM_TRAP_NONE;
}

#define TRAP(kind, msg)                                                                                    \
    do {                                                                                                   \
        trap = (kind);                                                                                     \
        tmsg = (msg);                                                                                      \
        goto trapped;                                                                                      \
    } while (0)

#define S(k) fp[ip[k]]
#define LOAD_MEM()                                                                                         \
    do {                                                                                                   \
        vm_memory *m_ = cur->mod->nmems ? cur->mems[0] : NULL;                                             \
        mem = m_ ? m_->data : NULL;                                                                        \
        memsz = m_ ? m_->size : 0;                                                                         \
    } while (0)

#ifdef VM_SWITCH_DISPATCH
#define DISPATCH() goto dispatch
#define CASE(n) case OP_##n:
#else
#define DISPATCH() goto *labels[*ip]
#define CASE(n) L_##n:
#endif

/* Extra charges of bulk operations and memory.grow apply only to metered modules. */
#define BULK_CHARGE(n)                                                                                     \
    do {                                                                                                   \
        if (cur->mod->cfg.metering) FUEL_CHARGE(n);                                                        \
    } while (0)
#define FUEL_CHARGE(n)                                                                                     \
    do {                                                                                                   \
        uint64_t n_ = (n);                                                                                 \
        if (__builtin_expect(fuel < n_, 0)) TRAP(VM_TRAP_OUT_OF_FUEL, "out of fuel");                      \
        fuel -= n_;                                                                                        \
    } while (0)

/* Takes a branch to code position t (see VM_LOOP_TARGET). */
#define JUMP(t)                                                                                            \
    do {                                                                                                   \
        uint32_t t_ = (t);                                                                                 \
        if (t_ & VM_LOOP_TARGET) {                                                                         \
            ip = code_base + (t_ & ~VM_LOOP_TARGET);                                                       \
            if (__builtin_expect(atomic_load_explicit(inst->intr, memory_order_relaxed) != 0, 0))    \
                TRAP(VM_TRAP_INTERRUPTED, "interrupted");                                                  \
            FUEL_CHARGE(ip[1]);                                                                            \
            ip += 2;                                                                                       \
        } else {                                                                                           \
            ip = code_base + t_;                                                                           \
        }                                                                                                  \
    } while (0)

#define BIN(name, T, expr)                                                                                 \
    CASE(name) {                                                                                           \
        T a = (T)S(2), b = (T)S(3);                                                                        \
        S(1) = (expr);                                                                                     \
        ip += 4;                                                                                           \
        DISPATCH();                                                                                        \
    }
#define BINI(name, T, expr)                                                                                \
    CASE(name) {                                                                                           \
        T a = (T)S(2), b = (T)(int64_t)(int32_t)ip[3];                                                     \
        S(1) = (expr);                                                                                     \
        ip += 4;                                                                                           \
        DISPATCH();                                                                                        \
    }
#define UN(name, T, expr)                                                                                  \
    CASE(name) {                                                                                           \
        T a = (T)S(2);                                                                                     \
        S(1) = (expr);                                                                                     \
        ip += 3;                                                                                           \
        DISPATCH();                                                                                        \
    }
#define FBIN32(name, expr)                                                                                 \
    CASE(name) {                                                                                           \
        float a = F32(S(2)), b = F32(S(3));                                                                \
        S(1) = (expr);                                                                                     \
        ip += 4;                                                                                           \
        DISPATCH();                                                                                        \
    }
#define FBIN64(name, expr)                                                                                 \
    CASE(name) {                                                                                           \
        double a = F64(S(2)), b = F64(S(3));                                                               \
        S(1) = (expr);                                                                                     \
        ip += 4;                                                                                           \
        DISPATCH();                                                                                        \
    }
#define FUN32(name, expr)                                                                                  \
    CASE(name) {                                                                                           \
        float a = F32(S(2));                                                                               \
        S(1) = (expr);                                                                                     \
        ip += 3;                                                                                           \
        DISPATCH();                                                                                        \
    }
#define FUN64(name, expr)                                                                                  \
    CASE(name) {                                                                                           \
        double a = F64(S(2));                                                                              \
        S(1) = (expr);                                                                                     \
        ip += 3;                                                                                           \
        DISPATCH();                                                                                        \
    }
#define BRCMP(name, T, cmp)                                                                                \
    CASE(name) {                                                                                           \
        T a = (T)S(1), b = (T)S(2);                                                                        \
        if (a cmp b) {                                                                                     \
            JUMP(ip[3]);                                                                                   \
        } else {                                                                                           \
            FUEL_CHARGE(ip[4]);                                                                            \
            ip += 5;                                                                                       \
        }                                                                                                  \
        DISPATCH();                                                                                        \
    }
/* Compare with an immediate and branch: a imm target fuel. */
#define BRCMPI(name, T, cmp)                                                                               \
    CASE(name) {                                                                                           \
        T a = (T)S(1), b = (T)(int64_t)(int32_t)ip[2];                                                     \
        if (a cmp b) {                                                                                     \
            JUMP(ip[3]);                                                                                   \
        } else {                                                                                           \
            FUEL_CHARGE(ip[4]);                                                                            \
            ip += 5;                                                                                       \
        }                                                                                                  \
        DISPATCH();                                                                                        \
    }
#define LOAD(name, T, CT, size)                                                                            \
    CASE(name) {                                                                                           \
        uint64_t ea = (uint64_t)(uint32_t)S(2) + ip[3];                                                    \
        if (__builtin_expect(ea + (size) > memsz, 0)) TRAP(VM_TRAP_MEMORY_OOB, "out of bounds memory access"); \
        T v;                                                                                               \
        memcpy(&v, mem + ea, sizeof v);                                                                    \
        S(1) = (uint64_t)(CT)v;                                                                            \
        ip += 4;                                                                                           \
        DISPATCH();                                                                                        \
    }
#define STORE(name, T)                                                                                     \
    CASE(name) {                                                                                           \
        uint64_t ea = (uint64_t)(uint32_t)S(1) + ip[3];                                                    \
        if (__builtin_expect(ea + sizeof(T) > memsz, 0)) TRAP(VM_TRAP_MEMORY_OOB, "out of bounds memory access"); \
        T v = (T)S(2);                                                                                     \
        memcpy(mem + ea, &v, sizeof v);                                                                    \
        ip += 4;                                                                                           \
        DISPATCH();                                                                                        \
    }

#define STOREI(name, T)                                                                                    \
    CASE(name) {                                                                                           \
        uint64_t ea = (uint64_t)(uint32_t)S(1) + ip[3];                                                    \
        if (__builtin_expect(ea + sizeof(T) > memsz, 0)) TRAP(VM_TRAP_MEMORY_OOB, "out of bounds memory access"); \
        T v = (T)(int64_t)(int32_t)ip[2];                                                                  \
        memcpy(mem + ea, &v, sizeof v);                                                                    \
        ip += 4;                                                                                           \
        DISPATCH();                                                                                        \
    }

/* Range checks for trapping float-to-int conversions. */
#define TRUNC(name, FT, FX, IT, lo_ok, hi_ok)                                                              \
    CASE(name) {                                                                                           \
        FT a = FX(S(2));                                                                                   \
        if (a != a) TRAP(VM_TRAP_INVALID_CONVERSION, "invalid conversion to integer");                     \
        if (!(lo_ok) || !(hi_ok)) TRAP(VM_TRAP_INT_OVERFLOW, "integer overflow");                          \
        S(1) = (uint64_t)(IT)a;                                                                            \
        ip += 3;                                                                                           \
        DISPATCH();                                                                                        \
    }
#define TRUNC_SAT(name, FT, FX, IT, UT, lo_ok, hi_ok, MINV, MAXV)                                          \
    CASE(name) {                                                                                           \
        FT a = FX(S(2));                                                                                   \
        IT r;                                                                                              \
        if (a != a) r = 0;                                                                                 \
        else if (!(lo_ok)) r = MINV;                                                                       \
        else if (!(hi_ok)) r = MAXV;                                                                       \
        else r = (IT)a;                                                                                    \
        S(1) = (uint64_t)(UT)r;                                                                            \
        ip += 3;                                                                                           \
        DISPATCH();                                                                                        \
    }

vm_trap vm__run(vm_instance *inst, vm_funcinst *fn) {
#ifndef VM_SWITCH_DISPATCH
    static const void *const labels[] = {
#define X(n) &&L_##n,
        VM_OPS(X)
#undef X
    };
#endif
    vm_trap trap = VM_TRAP_NONE;
    const char *tmsg = NULL;
    uint64_t *fp = inst->stack;
    uint64_t *const stack_end = inst->stack + inst->stack_slots;
    vm_frame *const frames = inst->frames;
    uint32_t depth = 0;
    const uint32_t max_depth = inst->max_depth;
    uint64_t fuel;
    vm_instance *cur = fn->inst;
    const uint32_t *ip, *code_base;
    uint8_t *mem;
    uint64_t memsz;
    vm_funcinst *callee;
    uint64_t *nfp;

    if (fn->host) return host_call(inst, NULL, fn, inst->stack);
    fuel = inst->fuel;
    if (fn->def->frame_size > inst->stack_slots) {
        trap = VM_TRAP_STACK_EXHAUSTED;
        tmsg = "call stack exhausted";
        goto trapped;
    }
    memset(fp + fn->type->nparams, 0, (fn->def->nlocals - fn->type->nparams) * sizeof *fp);
    code_base = ip = fn->def->code;
    LOAD_MEM();
#ifdef VM_SWITCH_DISPATCH
dispatch:
    switch ((vm_op)*ip) {
#else
    DISPATCH();
#endif

    CASE(FUEL) {
        FUEL_CHARGE(ip[1]);
        ip += 2;
        DISPATCH();
    }
    CASE(FUEL_CHECK) {
        if (__builtin_expect(atomic_load_explicit(inst->intr, memory_order_relaxed) != 0, 0))
            TRAP(VM_TRAP_INTERRUPTED, "interrupted");
        FUEL_CHARGE(ip[1]);
        ip += 2;
        DISPATCH();
    }
    CASE(BR) {
        JUMP(ip[1]);
        DISPATCH();
    }
    CASE(BR_IF) {
        if ((uint32_t)S(1)) {
            JUMP(ip[2]);
        } else {
            FUEL_CHARGE(ip[3]);
            ip += 4;
        }
        DISPATCH();
    }
    CASE(BR_UNLESS) {
        if (!(uint32_t)S(1)) {
            JUMP(ip[2]);
        } else {
            FUEL_CHARGE(ip[3]);
            ip += 4;
        }
        DISPATCH();
    }
    CASE(BR_TABLE) {
        uint32_t i = (uint32_t)S(1), n = ip[2];
        if (i > n) i = n;
        JUMP(ip[3 + i]);
        DISPATCH();
    }
    CASE(RETURN) {
        if (depth == 0) goto done;
        depth--;
        ip = frames[depth].ip;
        fp = frames[depth].fp;
        if (frames[depth].inst != cur) {
            cur = frames[depth].inst;
            LOAD_MEM();
        }
        code_base = frames[depth].code;
        DISPATCH();
    }
    CASE(CALL) {
        callee = cur->funcs[ip[1]];
        nfp = fp + ip[2];
        ip += 3;
        goto do_call;
    }
    CASE(CALL_INDIRECT) {
        vm_table *tab = cur->tables[ip[2]];
        uint32_t i = (uint32_t)S(3);
        if (i >= tab->size) TRAP(VM_TRAP_TABLE_OOB, "undefined element");
        callee = (vm_funcinst *)tab->elems[i];
        if (!callee) TRAP(VM_TRAP_UNINITIALIZED_ELEMENT, "uninitialized element");
        if (!vm__types_equal(callee->type, &cur->mod->types[ip[1]])) TRAP(VM_TRAP_INDIRECT_TYPE, "indirect call type mismatch");
        nfp = fp + ip[4];
        ip += 5;
        goto do_call;
    }
    CASE(UNREACHABLE) { TRAP(VM_TRAP_UNREACHABLE, "unreachable"); }
    CASE(COPY) {
        S(1) = S(2);
        ip += 3;
        DISPATCH();
    }
    CASE(CONST32) {
        S(1) = ip[2];
        ip += 3;
        DISPATCH();
    }
    CASE(CONST64) {
        S(1) = (uint64_t)ip[2] | ((uint64_t)ip[3] << 32);
        ip += 4;
        DISPATCH();
    }
    CASE(SELECT) {
        S(1) = (uint32_t)S(4) ? S(2) : S(3);
        ip += 5;
        DISPATCH();
    }
    CASE(GLOBAL_GET) {
        S(1) = cur->globals[ip[2]]->val;
        ip += 3;
        DISPATCH();
    }
    CASE(GLOBAL_SET) {
        cur->globals[ip[1]]->val = S(2);
        ip += 3;
        DISPATCH();
    }
    LOAD(I32_LOAD, uint32_t, uint32_t, 4)
    LOAD(I64_LOAD, uint64_t, uint64_t, 8)
    LOAD(I32_LOAD8_S, int8_t, uint32_t, 1)
    LOAD(I32_LOAD8_U, uint8_t, uint32_t, 1)
    LOAD(I32_LOAD16_S, int16_t, uint32_t, 2)
    LOAD(I32_LOAD16_U, uint16_t, uint32_t, 2)
    LOAD(I64_LOAD8_S, int8_t, int64_t, 1)
    LOAD(I64_LOAD8_U, uint8_t, uint64_t, 1)
    LOAD(I64_LOAD16_S, int16_t, int64_t, 2)
    LOAD(I64_LOAD16_U, uint16_t, uint64_t, 2)
    LOAD(I64_LOAD32_S, int32_t, int64_t, 4)
    LOAD(I64_LOAD32_U, uint32_t, uint64_t, 4)
    STORE(I32_STORE, uint32_t)
    STORE(I64_STORE, uint64_t)
    STORE(STORE8, uint8_t)
    STORE(STORE16, uint16_t)
    STOREI(I32_STORE_I, uint32_t)
    STOREI(I64_STORE_I, uint64_t)
    STOREI(STORE8_I, uint8_t)
    STOREI(STORE16_I, uint16_t)
    CASE(MEMORY_SIZE) {
        S(1) = cur->mems[0]->pages;
        ip += 2;
        DISPATCH();
    }
    CASE(MEMORY_GROW) {
        uint32_t delta = (uint32_t)S(2);
        BULK_CHARGE((uint64_t)delta * 1024);
        int64_t r = vm__memory_grow(cur->mems[0], delta);
        S(1) = (uint32_t)r;
        LOAD_MEM();
        ip += 3;
        DISPATCH();
    }
    CASE(MEMORY_INIT) {
        uint32_t seg = ip[1], d = (uint32_t)S(2), s = (uint32_t)S(3), n = (uint32_t)S(4);
        BULK_CHARGE(n / 64 + (n % 64 != 0));
        const vm_dataseg *ds = &cur->mod->datas[seg];
        uint64_t len = cur->data_dropped[seg] ? 0 : ds->len;
        if ((uint64_t)s + n > len || (uint64_t)d + n > memsz) TRAP(VM_TRAP_MEMORY_OOB, "out of bounds memory access");
        if (n) memcpy(mem + d, ds->bytes + s, n);
        ip += 5;
        DISPATCH();
    }
    CASE(DATA_DROP) {
        cur->data_dropped[ip[1]] = 1;
        ip += 2;
        DISPATCH();
    }
    CASE(MEMORY_COPY) {
        uint32_t d = (uint32_t)S(1), s = (uint32_t)S(2), n = (uint32_t)S(3);
        BULK_CHARGE(n / 64 + (n % 64 != 0));
        if ((uint64_t)s + n > memsz || (uint64_t)d + n > memsz) TRAP(VM_TRAP_MEMORY_OOB, "out of bounds memory access");
        if (n) memmove(mem + d, mem + s, n);
        ip += 4;
        DISPATCH();
    }
    CASE(MEMORY_FILL) {
        uint32_t d = (uint32_t)S(1), v = (uint32_t)S(2), n = (uint32_t)S(3);
        BULK_CHARGE(n / 64 + (n % 64 != 0));
        if ((uint64_t)d + n > memsz) TRAP(VM_TRAP_MEMORY_OOB, "out of bounds memory access");
        if (n) memset(mem + d, (int)(uint8_t)v, n);
        ip += 4;
        DISPATCH();
    }
    CASE(TABLE_GET) {
        vm_table *t = cur->tables[ip[2]];
        uint32_t i = (uint32_t)S(3);
        if (i >= t->size) TRAP(VM_TRAP_TABLE_OOB, "out of bounds table access");
        S(1) = (uint64_t)(uintptr_t)t->elems[i];
        ip += 4;
        DISPATCH();
    }
    CASE(TABLE_SET) {
        vm_table *t = cur->tables[ip[1]];
        uint32_t i = (uint32_t)S(2);
        if (i >= t->size) TRAP(VM_TRAP_TABLE_OOB, "out of bounds table access");
        t->elems[i] = (vm_ref)(uintptr_t)S(3);
        ip += 4;
        DISPATCH();
    }
    CASE(TABLE_SIZE) {
        S(1) = cur->tables[ip[2]]->size;
        ip += 3;
        DISPATCH();
    }
    CASE(TABLE_GROW) {
        vm_table *t = cur->tables[ip[2]];
        vm_ref init = (vm_ref)(uintptr_t)S(3);
        uint32_t n = (uint32_t)S(4);
        int64_t r = vm__table_grow(t, n, init, inst->max_table_elems);
        S(1) = (uint32_t)r;
        ip += 5;
        DISPATCH();
    }
    CASE(TABLE_FILL) {
        vm_table *t = cur->tables[ip[1]];
        uint32_t i = (uint32_t)S(2), n = (uint32_t)S(4);
        vm_ref v = (vm_ref)(uintptr_t)S(3);
        BULK_CHARGE(n);
        if ((uint64_t)i + n > t->size) TRAP(VM_TRAP_TABLE_OOB, "out of bounds table access");
        for (uint32_t k = 0; k < n; k++) t->elems[i + k] = v;
        ip += 5;
        DISPATCH();
    }
    CASE(TABLE_COPY) {
        vm_table *td = cur->tables[ip[1]], *ts = cur->tables[ip[2]];
        uint32_t d = (uint32_t)S(3), s = (uint32_t)S(4), n = (uint32_t)S(5);
        BULK_CHARGE(n);
        if ((uint64_t)s + n > ts->size || (uint64_t)d + n > td->size) TRAP(VM_TRAP_TABLE_OOB, "out of bounds table access");
        if (n) memmove(td->elems + d, ts->elems + s, n * sizeof(vm_ref));
        ip += 6;
        DISPATCH();
    }
    CASE(TABLE_INIT) {
        vm_table *t = cur->tables[ip[1]];
        uint32_t seg = ip[2], d = (uint32_t)S(3), s = (uint32_t)S(4), n = (uint32_t)S(5);
        BULK_CHARGE(n);
        uint64_t len = cur->elem_len[seg];
        if ((uint64_t)s + n > len || (uint64_t)d + n > t->size) TRAP(VM_TRAP_TABLE_OOB, "out of bounds table access");
        if (n) memcpy(t->elems + d, cur->elem_refs[seg] + s, n * sizeof(vm_ref));
        ip += 6;
        DISPATCH();
    }
    CASE(ELEM_DROP) {
        cur->elem_len[ip[1]] = 0;
        ip += 2;
        DISPATCH();
    }
    CASE(REF_FUNC) {
        S(1) = (uint64_t)(uintptr_t)cur->funcs[ip[2]];
        ip += 3;
        DISPATCH();
    }

    UN(I32_EQZ, uint32_t, a == 0)
    UN(I32_CLZ, uint32_t, a ? (uint32_t)__builtin_clz(a) : 32u)
    UN(I32_CTZ, uint32_t, a ? (uint32_t)__builtin_ctz(a) : 32u)
    UN(I32_POPCNT, uint32_t, (uint32_t)__builtin_popcount(a))
    UN(I64_EQZ, uint64_t, a == 0)
    UN(I64_CLZ, uint64_t, a ? (uint64_t)__builtin_clzll(a) : 64u)
    UN(I64_CTZ, uint64_t, a ? (uint64_t)__builtin_ctzll(a) : 64u)
    UN(I64_POPCNT, uint64_t, (uint64_t)__builtin_popcountll(a))
    UN(F32_ABS, uint32_t, a & 0x7fffffffu)
    UN(F32_NEG, uint32_t, a ^ 0x80000000u)
    FUN32(F32_CEIL, FB32(q32(ceilf(a))))
    FUN32(F32_FLOOR, FB32(q32(floorf(a))))
    FUN32(F32_TRUNC, FB32(q32(truncf(a))))
    FUN32(F32_NEAREST, FB32(q32(nearbyintf(a))))
    FUN32(F32_SQRT, FB32(q32(sqrtf(a))))
    UN(F64_ABS, uint64_t, a & 0x7fffffffffffffffull)
    UN(F64_NEG, uint64_t, a ^ 0x8000000000000000ull)
    FUN64(F64_CEIL, FB64(q64(ceil(a))))
    FUN64(F64_FLOOR, FB64(q64(floor(a))))
    FUN64(F64_TRUNC, FB64(q64(trunc(a))))
    FUN64(F64_NEAREST, FB64(q64(nearbyint(a))))
    FUN64(F64_SQRT, FB64(q64(sqrt(a))))
    UN(I32_WRAP_I64, uint64_t, (uint32_t)a)
    TRUNC(I32_TRUNC_F32_S, float, F32, int32_t, a >= -2147483648.0f, a < 2147483648.0f)
    TRUNC(I32_TRUNC_F32_U, float, F32, uint32_t, a > -1.0f, a < 4294967296.0f)
    TRUNC(I32_TRUNC_F64_S, double, F64, int32_t, a > -2147483649.0, a < 2147483648.0)
    TRUNC(I32_TRUNC_F64_U, double, F64, uint32_t, a > -1.0, a < 4294967296.0)
    UN(I64_EXTEND_I32_S, uint64_t, (uint64_t)(int64_t)(int32_t)(uint32_t)a)
    UN(I64_EXTEND_I32_U, uint64_t, (uint32_t)a)
    TRUNC(I64_TRUNC_F32_S, float, F32, int64_t, a >= -9223372036854775808.0f, a < 9223372036854775808.0f)
    TRUNC(I64_TRUNC_F32_U, float, F32, uint64_t, a > -1.0f, a < 18446744073709551616.0f)
    TRUNC(I64_TRUNC_F64_S, double, F64, int64_t, a >= -9223372036854775808.0, a < 9223372036854775808.0)
    TRUNC(I64_TRUNC_F64_U, double, F64, uint64_t, a > -1.0, a < 18446744073709551616.0)
    UN(F32_CONVERT_I32_S, uint32_t, FB32((float)(int32_t)a))
    UN(F32_CONVERT_I32_U, uint32_t, FB32((float)a))
    UN(F32_CONVERT_I64_S, uint64_t, FB32((float)(int64_t)a))
    UN(F32_CONVERT_I64_U, uint64_t, FB32((float)a))
    FUN64(F32_DEMOTE_F64, FB32(q32((float)a)))
    UN(F64_CONVERT_I32_S, uint32_t, FB64((double)(int32_t)a))
    UN(F64_CONVERT_I32_U, uint32_t, FB64((double)a))
    UN(F64_CONVERT_I64_S, uint64_t, FB64((double)(int64_t)a))
    UN(F64_CONVERT_I64_U, uint64_t, FB64((double)a))
    FUN32(F64_PROMOTE_F32, FB64(q64((double)a)))
    UN(I32_EXTEND8_S, uint32_t, (uint32_t)(int32_t)(int8_t)(uint8_t)a)
    UN(I32_EXTEND16_S, uint32_t, (uint32_t)(int32_t)(int16_t)(uint16_t)a)
    UN(I64_EXTEND8_S, uint64_t, (uint64_t)(int64_t)(int8_t)(uint8_t)a)
    UN(I64_EXTEND16_S, uint64_t, (uint64_t)(int64_t)(int16_t)(uint16_t)a)
    UN(I64_EXTEND32_S, uint64_t, (uint64_t)(int64_t)(int32_t)(uint32_t)a)
    TRUNC_SAT(I32_TRUNC_SAT_F32_S, float, F32, int32_t, uint32_t, a >= -2147483648.0f, a < 2147483648.0f, INT32_MIN, INT32_MAX)
    TRUNC_SAT(I32_TRUNC_SAT_F32_U, float, F32, uint32_t, uint32_t, a > -1.0f, a < 4294967296.0f, 0, UINT32_MAX)
    TRUNC_SAT(I32_TRUNC_SAT_F64_S, double, F64, int32_t, uint32_t, a > -2147483649.0, a < 2147483648.0, INT32_MIN, INT32_MAX)
    TRUNC_SAT(I32_TRUNC_SAT_F64_U, double, F64, uint32_t, uint32_t, a > -1.0, a < 4294967296.0, 0, UINT32_MAX)
    TRUNC_SAT(I64_TRUNC_SAT_F32_S, float, F32, int64_t, uint64_t, a >= -9223372036854775808.0f, a < 9223372036854775808.0f, INT64_MIN, INT64_MAX)
    TRUNC_SAT(I64_TRUNC_SAT_F32_U, float, F32, uint64_t, uint64_t, a > -1.0f, a < 18446744073709551616.0f, 0, UINT64_MAX)
    TRUNC_SAT(I64_TRUNC_SAT_F64_S, double, F64, int64_t, uint64_t, a >= -9223372036854775808.0, a < 9223372036854775808.0, INT64_MIN, INT64_MAX)
    TRUNC_SAT(I64_TRUNC_SAT_F64_U, double, F64, uint64_t, uint64_t, a > -1.0, a < 18446744073709551616.0, 0, UINT64_MAX)

    BIN(I32_EQ, uint32_t, a == b)
    BIN(I32_NE, uint32_t, a != b)
    BIN(I32_LT_S, uint32_t, (int32_t)a < (int32_t)b)
    BIN(I32_LT_U, uint32_t, a < b)
    BIN(I32_GT_S, uint32_t, (int32_t)a > (int32_t)b)
    BIN(I32_GT_U, uint32_t, a > b)
    BIN(I32_LE_S, uint32_t, (int32_t)a <= (int32_t)b)
    BIN(I32_LE_U, uint32_t, a <= b)
    BIN(I32_GE_S, uint32_t, (int32_t)a >= (int32_t)b)
    BIN(I32_GE_U, uint32_t, a >= b)
    BIN(I64_EQ, uint64_t, a == b)
    BIN(I64_NE, uint64_t, a != b)
    BIN(I64_LT_S, uint64_t, (int64_t)a < (int64_t)b)
    BIN(I64_LT_U, uint64_t, a < b)
    BIN(I64_GT_S, uint64_t, (int64_t)a > (int64_t)b)
    BIN(I64_GT_U, uint64_t, a > b)
    BIN(I64_LE_S, uint64_t, (int64_t)a <= (int64_t)b)
    BIN(I64_LE_U, uint64_t, a <= b)
    BIN(I64_GE_S, uint64_t, (int64_t)a >= (int64_t)b)
    BIN(I64_GE_U, uint64_t, a >= b)
    FBIN32(F32_EQ, a == b)
    FBIN32(F32_NE, a != b)
    FBIN32(F32_LT, a < b)
    FBIN32(F32_GT, a > b)
    FBIN32(F32_LE, a <= b)
    FBIN32(F32_GE, a >= b)
    FBIN64(F64_EQ, a == b)
    FBIN64(F64_NE, a != b)
    FBIN64(F64_LT, a < b)
    FBIN64(F64_GT, a > b)
    FBIN64(F64_LE, a <= b)
    FBIN64(F64_GE, a >= b)

    BIN(I32_ADD, uint32_t, (uint32_t)(a + b))
    BIN(I32_SUB, uint32_t, (uint32_t)(a - b))
    BIN(I32_MUL, uint32_t, (uint32_t)(a * b))
    CASE(I32_DIV_S) {
        int32_t a = (int32_t)(uint32_t)S(2), b = (int32_t)(uint32_t)S(3);
        if (b == 0) TRAP(VM_TRAP_DIV_ZERO, "integer divide by zero");
        if (a == INT32_MIN && b == -1) TRAP(VM_TRAP_INT_OVERFLOW, "integer overflow");
        S(1) = (uint32_t)(a / b);
        ip += 4;
        DISPATCH();
    }
    CASE(I32_DIV_U) {
        uint32_t a = (uint32_t)S(2), b = (uint32_t)S(3);
        if (b == 0) TRAP(VM_TRAP_DIV_ZERO, "integer divide by zero");
        S(1) = a / b;
        ip += 4;
        DISPATCH();
    }
    CASE(I32_REM_S) {
        int32_t a = (int32_t)(uint32_t)S(2), b = (int32_t)(uint32_t)S(3);
        if (b == 0) TRAP(VM_TRAP_DIV_ZERO, "integer divide by zero");
        S(1) = (b == -1) ? 0 : (uint32_t)(a % b);
        ip += 4;
        DISPATCH();
    }
    CASE(I32_REM_U) {
        uint32_t a = (uint32_t)S(2), b = (uint32_t)S(3);
        if (b == 0) TRAP(VM_TRAP_DIV_ZERO, "integer divide by zero");
        S(1) = a % b;
        ip += 4;
        DISPATCH();
    }
    BIN(I32_AND, uint32_t, a & b)
    BIN(I32_OR, uint32_t, a | b)
    BIN(I32_XOR, uint32_t, a ^ b)
    BIN(I32_SHL, uint32_t, (uint32_t)(a << (b & 31)))
    BIN(I32_SHR_S, uint32_t, (uint32_t)((int32_t)a >> (b & 31)))
    BIN(I32_SHR_U, uint32_t, a >> (b & 31))
    BIN(I32_ROTL, uint32_t, rotl32(a, b))
    BIN(I32_ROTR, uint32_t, rotr32(a, b))
    BIN(I64_ADD, uint64_t, a + b)
    BIN(I64_SUB, uint64_t, a - b)
    BIN(I64_MUL, uint64_t, a * b)
    CASE(I64_DIV_S) {
        int64_t a = (int64_t)S(2), b = (int64_t)S(3);
        if (b == 0) TRAP(VM_TRAP_DIV_ZERO, "integer divide by zero");
        if (a == INT64_MIN && b == -1) TRAP(VM_TRAP_INT_OVERFLOW, "integer overflow");
        S(1) = (uint64_t)(a / b);
        ip += 4;
        DISPATCH();
    }
    CASE(I64_DIV_U) {
        uint64_t a = S(2), b = S(3);
        if (b == 0) TRAP(VM_TRAP_DIV_ZERO, "integer divide by zero");
        S(1) = a / b;
        ip += 4;
        DISPATCH();
    }
    CASE(I64_REM_S) {
        int64_t a = (int64_t)S(2), b = (int64_t)S(3);
        if (b == 0) TRAP(VM_TRAP_DIV_ZERO, "integer divide by zero");
        S(1) = (b == -1) ? 0 : (uint64_t)(a % b);
        ip += 4;
        DISPATCH();
    }
    CASE(I64_REM_U) {
        uint64_t a = S(2), b = S(3);
        if (b == 0) TRAP(VM_TRAP_DIV_ZERO, "integer divide by zero");
        S(1) = a % b;
        ip += 4;
        DISPATCH();
    }
    BIN(I64_AND, uint64_t, a & b)
    BIN(I64_OR, uint64_t, a | b)
    BIN(I64_XOR, uint64_t, a ^ b)
    BIN(I64_SHL, uint64_t, a << (b & 63))
    BIN(I64_SHR_S, uint64_t, (uint64_t)((int64_t)a >> (b & 63)))
    BIN(I64_SHR_U, uint64_t, a >> (b & 63))
    BIN(I64_ROTL, uint64_t, rotl64(a, b))
    BIN(I64_ROTR, uint64_t, rotr64(a, b))
    FBIN32(F32_ADD, FB32(a + b))
    FBIN32(F32_SUB, FB32(a - b))
    FBIN32(F32_MUL, FB32(a * b))
    FBIN32(F32_DIV, FB32(a / b))
    FBIN32(F32_MIN, FB32(fmin32(a, b)))
    FBIN32(F32_MAX, FB32(fmax32(a, b)))
    CASE(F32_COPYSIGN) {
        S(1) = ((uint32_t)S(2) & 0x7fffffffu) | ((uint32_t)S(3) & 0x80000000u);
        ip += 4;
        DISPATCH();
    }
    FBIN64(F64_ADD, FB64(a + b))
    FBIN64(F64_SUB, FB64(a - b))
    FBIN64(F64_MUL, FB64(a * b))
    FBIN64(F64_DIV, FB64(a / b))
    FBIN64(F64_MIN, FB64(fmin64(a, b)))
    FBIN64(F64_MAX, FB64(fmax64(a, b)))
    CASE(F64_COPYSIGN) {
        S(1) = (S(2) & 0x7fffffffffffffffull) | (S(3) & 0x8000000000000000ull);
        ip += 4;
        DISPATCH();
    }

    BINI(I32_ADD_I, uint32_t, (uint32_t)(a + b))
    BINI(I32_SUB_I, uint32_t, (uint32_t)(a - b))
    BINI(I32_AND_I, uint32_t, a & b)
    BINI(I32_OR_I, uint32_t, a | b)
    BINI(I32_XOR_I, uint32_t, a ^ b)
    BINI(I32_SHL_I, uint32_t, (uint32_t)(a << (b & 31)))
    BINI(I32_SHR_S_I, uint32_t, (uint32_t)((int32_t)a >> (b & 31)))
    BINI(I32_SHR_U_I, uint32_t, a >> (b & 31))
    BINI(I32_MUL_I, uint32_t, (uint32_t)(a * b))
    BINI(I64_ADD_I, uint64_t, a + b)
    BINI(I64_AND_I, uint64_t, a & b)
    BINI(I64_SHL_I, uint64_t, a << (b & 63))
    BINI(I64_SHR_U_I, uint64_t, a >> (b & 63))
    BINI(I64_SHR_S_I, uint64_t, (uint64_t)((int64_t)a >> (b & 63)))
    BINI(I32_EQ_I, uint32_t, a == b)
    BINI(I32_NE_I, uint32_t, a != b)
    BINI(I32_LT_S_I, uint32_t, (int32_t)a < (int32_t)b)
    BINI(I32_LT_U_I, uint32_t, a < b)
    BINI(I32_GT_S_I, uint32_t, (int32_t)a > (int32_t)b)
    BINI(I32_GT_U_I, uint32_t, a > b)
    BINI(I32_LE_S_I, uint32_t, (int32_t)a <= (int32_t)b)
    BINI(I32_LE_U_I, uint32_t, a <= b)
    BINI(I32_GE_S_I, uint32_t, (int32_t)a >= (int32_t)b)
    BINI(I32_GE_U_I, uint32_t, a >= b)
    BINI(I32_ROTL_I, uint32_t, rotl32(a, b))
    BINI(I32_ROTR_I, uint32_t, rotr32(a, b))
    BINI(I64_SUB_I, uint64_t, a - b)
    BINI(I64_OR_I, uint64_t, a | b)
    BINI(I64_XOR_I, uint64_t, a ^ b)
    BINI(I64_MUL_I, uint64_t, a * b)
    BINI(I64_ROTL_I, uint64_t, rotl64(a, b))
    BINI(I64_ROTR_I, uint64_t, rotr64(a, b))
    BINI(I64_EQ_I, uint64_t, a == b)
    BINI(I64_NE_I, uint64_t, a != b)
    BINI(I64_LT_U_I, uint64_t, a < b)
    BINI(I64_GT_U_I, uint64_t, a > b)
    BINI(I64_LT_S_I, uint64_t, (int64_t)a < (int64_t)b)
    BINI(I64_GT_S_I, uint64_t, (int64_t)a > (int64_t)b)

    CASE(BR_IF_I32_EQZ) { TRAP(VM_TRAP_HOST, "internal error: unfused BR_IF_I32_EQZ"); }
    BRCMP(BR_IF_I32_EQ, uint32_t, ==)
    BRCMP(BR_IF_I32_NE, uint32_t, !=)
    BRCMP(BR_IF_I32_LT_S, int32_t, <)
    BRCMP(BR_IF_I32_LT_U, uint32_t, <)
    BRCMP(BR_IF_I32_GT_S, int32_t, >)
    BRCMP(BR_IF_I32_GT_U, uint32_t, >)
    BRCMP(BR_IF_I32_LE_S, int32_t, <=)
    BRCMP(BR_IF_I32_LE_U, uint32_t, <=)
    BRCMP(BR_IF_I32_GE_S, int32_t, >=)
    BRCMP(BR_IF_I32_GE_U, uint32_t, >=)
    BRCMPI(BR_IF_I32_EQ_I, uint32_t, ==)
    BRCMPI(BR_IF_I32_NE_I, uint32_t, !=)
    BRCMPI(BR_IF_I32_LT_S_I, int32_t, <)
    BRCMPI(BR_IF_I32_LT_U_I, uint32_t, <)
    BRCMPI(BR_IF_I32_GT_S_I, int32_t, >)
    BRCMPI(BR_IF_I32_GT_U_I, uint32_t, >)
    BRCMPI(BR_IF_I32_LE_S_I, int32_t, <=)
    BRCMPI(BR_IF_I32_LE_U_I, uint32_t, <=)
    BRCMPI(BR_IF_I32_GE_S_I, int32_t, >=)
    BRCMPI(BR_IF_I32_GE_U_I, uint32_t, >=)
    BRCMP(BR_IF_I64_EQ, uint64_t, ==)
    BRCMP(BR_IF_I64_NE, uint64_t, !=)
    BRCMP(BR_IF_I64_LT_S, int64_t, <)
    BRCMP(BR_IF_I64_LT_U, uint64_t, <)
    BRCMP(BR_IF_I64_GT_S, int64_t, >)
    BRCMP(BR_IF_I64_GT_U, uint64_t, >)
    BRCMPI(BR_IF_I64_EQ_I, uint64_t, ==)
    BRCMPI(BR_IF_I64_NE_I, uint64_t, !=)
    BRCMPI(BR_IF_I64_LT_S_I, int64_t, <)
    BRCMPI(BR_IF_I64_LT_U_I, uint64_t, <)
    BRCMPI(BR_IF_I64_GT_S_I, int64_t, >)
    BRCMPI(BR_IF_I64_GT_U_I, uint64_t, >)
#ifdef VM_SWITCH_DISPATCH
    default: TRAP(VM_TRAP_HOST, "internal error: bad opcode");
    }
#endif

do_call:
    if (callee->host) {
        inst->fuel = fuel;
        trap = host_call(inst, cur, callee, nfp);
        fuel = inst->fuel;
        if (trap != VM_TRAP_NONE) goto trapped_msg_set;
        LOAD_MEM();
        DISPATCH();
    } else {
        const vm_funcdef *d = callee->def;
        if (__builtin_expect(depth + 1 >= max_depth || nfp + d->frame_size > stack_end, 0))
            TRAP(VM_TRAP_STACK_EXHAUSTED, "call stack exhausted");
        frames[depth].ip = ip;
        frames[depth].fp = fp;
        frames[depth].inst = cur;
        frames[depth].code = code_base;
        depth++;
        fp = nfp;
        uint32_t np = callee->type->nparams;
        if (d->nlocals > np) memset(fp + np, 0, (d->nlocals - np) * sizeof *fp);
        if (callee->inst != cur) {
            cur = callee->inst;
            LOAD_MEM();
        }
        code_base = ip = d->code;
        DISPATCH();
    }

done:
    inst->fuel = fuel;
    return VM_TRAP_NONE;
trapped:
    inst->fuel = fuel;
    snprintf(inst->trap_msg, sizeof inst->trap_msg, "%s", tmsg);
    return trap;
trapped_msg_set:
    inst->fuel = fuel;
    return trap;
}
