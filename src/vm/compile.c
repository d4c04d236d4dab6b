/* Validation and translation of function bodies, in one pass.
 *
 * The operand stack height is known at every instruction, so each stack entry gets a fixed frame
 * slot (nlocals + depth) and instructions address slots directly: `i32.add` becomes
 * `I32_ADD dst a b`. Entries are tracked lazily: a `local.get` or a constant pushes a reference to
 * the local's slot or the constant itself, and the consumer reads it from there, so most
 * `local.get`/`const` cost nothing at run time. Pending references are written to their own slots
 * ("materialised") wherever their value could otherwise be lost or another path joins: before a
 * local they alias is written, at block boundaries, for call arguments and branch values. A
 * `local.set` right after the instruction that produced its value rewrites that instruction's
 * destination instead of copying. Compare-and-branch pairs fuse into one instruction.
 *
 * Fuel (docs/engine.md): each straight-line block starts with a FUEL instruction (or, after a
 * conditional branch, a fuel operand of the branch itself) whose amount is the sum of the costs of
 * the Wasm operators in the block, patched as the block is translated. */
#include "vm/vm_int.h"

#include <stdlib.h>
#include <string.h>

enum { K_FUNC, K_BLOCK, K_LOOP, K_IF };

typedef struct ctl {
    uint8_t kind;
    bool unreachable; /* stack-polymorphic after br/return/unreachable (validation) */
    bool dead;        /* the whole block is unreachable code: nothing is emitted */
    bool has_else;
    uint32_t nparams, nresults;
    const uint8_t *ptypes, *rtypes;
    uint32_t height;   /* operand height at entry, below the params */
    uint32_t loop_pos; /* loop: code position of its head */
    uint32_t else_fix; /* if: position of the BR_UNLESS target operand, 0 once patched */
    uint32_t fix_head; /* chain of operand positions to patch with the end position */
} ctl;

/* A pending stack entry's source: its own slot, a local's slot, or a constant. */
enum { SRC_SLOT, SRC_CONST };

typedef struct cc {
    vm_module *m;
    vm_funcdef *f;
    const uint8_t *p, *end, *base;
    vm_error *err;
    uint32_t *code;
    uint32_t len, cap;
    uint8_t *ltypes; /* local types */
    uint32_t nlocals;
    uint8_t *vt;    /* stack types (0 = unknown) */
    uint8_t *vkind; /* SRC_SLOT or SRC_CONST */
    uint32_t *vs;   /* source slot */
    uint64_t *vc;   /* constant value */
    uint32_t h, hcap, maxh;
    ctl *c;
    uint32_t nc, ccap;
    uint32_t fuel_pos; /* operand holding the current block's cost (0: none) */
    uint32_t last_op;  /* position of the last simple instruction's opcode (0: none) */
    uint32_t last_dst; /* position of its dst operand */
    bool metering;
    bool oom;
} cc;

#define OFF(c) ((uint64_t)((c)->p - (c)->base))
#define FAIL(c, code, ...) return vm__errf((c)->err, code, OFF(c), __VA_ARGS__)
#define TRY(x)                                                                                             \
    do {                                                                                                   \
        vm_status s_ = (x);                                                                                \
        if (s_) return s_;                                                                                 \
    } while (0)

/* ---- reading ---- */

static vm_status rbyte(cc *c, uint8_t *out) {
    if (c->p >= c->end) FAIL(c, VM_ERR_MALFORMED, "unexpected end of function body");
    *out = *c->p++;
    return VM_OK;
}

static vm_status ru32(cc *c, uint32_t *out) {
    const char *why = vm__leb_u32(&c->p, c->end, out);
    if (why) FAIL(c, VM_ERR_MALFORMED, "%s", why);
    return VM_OK;
}

static vm_status rsleb(cc *c, unsigned bits, int64_t *out) {
    const char *why = vm__leb_s(&c->p, c->end, bits, out);
    if (why) FAIL(c, VM_ERR_MALFORMED, "%s", why);
    return VM_OK;
}

/* ---- emitting ---- */

static bool reachable(cc *c) { return !c->c[c->nc - 1].unreachable && !c->c[c->nc - 1].dead; }

static vm_status grow_code(cc *c, uint32_t n) {
    if (c->len + n > c->cap) {
        uint64_t ncap = (uint64_t)c->cap * 2 + n + 64;
        if (ncap > VM_MAX_CODE_WORDS) FAIL(c, VM_ERR_LIMIT, "function too large after translation (limit %u words)", VM_MAX_CODE_WORDS);
        uint32_t *nc = realloc(c->code, ncap * sizeof *nc);
        if (!nc) FAIL(c, VM_ERR_NOMEM, "out of memory translating a function");
        c->code = nc;
        c->cap = (uint32_t)ncap;
    }
    return VM_OK;
}

/* Emits an instruction of n words (op + operands). Returns the position of the opcode. */
static vm_status emit(cc *c, uint32_t *pos, uint32_t n, const uint32_t *w) {
    TRY(grow_code(c, n));
    if (pos) *pos = c->len;
    memcpy(c->code + c->len, w, n * sizeof *w);
    c->len += n;
    return VM_OK;
}

#define EMIT(c, ...)                                                                                       \
    do {                                                                                                   \
        const uint32_t w_[] = {__VA_ARGS__};                                                               \
        TRY(emit(c, NULL, (uint32_t)(sizeof w_ / sizeof w_[0]), w_));                                      \
        (c)->last_op = 0;                                                                                  \
    } while (0)

static void charge(cc *c, uint32_t n) {
    if (c->metering && c->fuel_pos && reachable(c)) c->code[c->fuel_pos] += n;
}

/* Starts a new straight-line block with its own FUEL (check = also poll the interrupt flag). */
static vm_status fuel_begin(cc *c, bool check) {
    if (!reachable(c)) return VM_OK;
    c->last_op = 0;
    if (!c->metering && !check) {
        c->fuel_pos = 0;
        return VM_OK;
    }
    EMIT(c, check ? OP_FUEL_CHECK : OP_FUEL, 0);
    c->fuel_pos = c->metering ? c->len - 1 : 0;
    return VM_OK;
}

/* ---- the operand stack ---- */

static uint32_t slot_of(cc *c, uint32_t i) { return c->nlocals + i; }

static vm_status push(cc *c, uint8_t t) {
    if (c->h >= c->hcap) {
        uint32_t n = c->hcap * 2 + 16;
        if (n > VM_MAX_OPERAND_HEIGHT + 16) FAIL(c, VM_ERR_LIMIT, "operand stack too high (limit %u)", VM_MAX_OPERAND_HEIGHT);
        uint8_t *vt = realloc(c->vt, n);
        if (vt) c->vt = vt;
        uint8_t *vk = realloc(c->vkind, n);
        if (vk) c->vkind = vk;
        uint32_t *vs = realloc(c->vs, n * sizeof *vs);
        if (vs) c->vs = vs;
        uint64_t *vc = realloc(c->vc, n * sizeof *vc);
        if (vc) c->vc = vc;
        if (!vt || !vk || !vs || !vc) FAIL(c, VM_ERR_NOMEM, "out of memory");
        c->hcap = n;
    }
    c->vt[c->h] = t;
    c->vkind[c->h] = SRC_SLOT;
    c->vs[c->h] = slot_of(c, c->h);
    c->h++;
    if (c->h > c->maxh) c->maxh = c->h;
    return VM_OK;
}

static bool is_64bit(uint8_t t) { return t == VM_I64 || t == VM_F64 || t == VM_FUNCREF || t == VM_EXTERNREF; }

/* Writes constant v of type t to slot dst. */
static vm_status emit_const(cc *c, uint32_t dst, uint8_t t, uint64_t v) {
    if (is_64bit(t)) EMIT(c, OP_CONST64, dst, (uint32_t)v, (uint32_t)(v >> 32));
    else EMIT(c, OP_CONST32, dst, (uint32_t)v);
    return VM_OK;
}

/* Writes entry i to its own slot if it is pending elsewhere. */
static vm_status materialize(cc *c, uint32_t i) {
    uint32_t s = slot_of(c, i);
    if (c->vkind[i] == SRC_CONST) {
        if (reachable(c)) TRY(emit_const(c, s, c->vt[i], c->vc[i]));
    } else if (c->vs[i] != s) {
        if (reachable(c)) EMIT(c, OP_COPY, s, c->vs[i]);
    }
    c->vkind[i] = SRC_SLOT;
    c->vs[i] = s;
    return VM_OK;
}

static vm_status materialize_from(cc *c, uint32_t from) {
    uint32_t len = c->len;
    for (uint32_t i = from; i < c->h; i++) TRY(materialize(c, i));
    if (c->len != len) c->last_op = 0;
    return VM_OK;
}

/* Pops one value of type want (0 = any). Returns its type and entry index (the entry stays
 * readable until the next push). */
static vm_status pop(cc *c, uint8_t want, uint8_t *got, uint32_t *idx) {
    ctl *b = &c->c[c->nc - 1];
    if (c->h == b->height) {
        if (b->unreachable) {
            if (got) *got = want;
            if (idx) *idx = UINT32_MAX;
            return VM_OK;
        }
        FAIL(c, VM_ERR_INVALID, "type mismatch: operand stack underflow");
    }
    c->h--;
    uint8_t t = c->vt[c->h];
    if (want && t && t != want) FAIL(c, VM_ERR_INVALID, "type mismatch: expected 0x%02x, found 0x%02x", want, t);
    if (got) *got = t ? t : want;
    if (idx) *idx = c->h;
    return VM_OK;
}

/* Slot to read entry idx from; a pending constant is materialised into its own slot first. */
static vm_status src_slot(cc *c, uint32_t idx, uint32_t *out) {
    if (idx == UINT32_MAX) {
        *out = 0;
        return VM_OK;
    }
    if (c->vkind[idx] == SRC_CONST) {
        /* The entry is already popped; emit the constant into its slot (which is free). */
        uint32_t s = slot_of(c, idx);
        if (reachable(c)) TRY(emit_const(c, s, c->vt[idx], c->vc[idx]));
        c->vkind[idx] = SRC_SLOT;
        c->vs[idx] = s;
    }
    *out = c->vs[idx];
    return VM_OK;
}

/* Emits a simple instruction whose operand 1 is its destination (the new top of stack), and
 * remembers it for the local.set peephole. */
static vm_status emit_simple(cc *c, uint32_t n, const uint32_t *w) {
    if (!reachable(c)) return VM_OK;
    uint32_t pos;
    TRY(emit(c, &pos, n, w));
    c->last_op = pos;
    c->last_dst = pos + 1;
    return VM_OK;
}

/* ---- control ---- */

static vm_status push_ctl(cc *c, uint8_t kind, uint32_t np, const uint8_t *pt, uint32_t nr, const uint8_t *rt) {
    if (c->nc >= c->ccap) {
        uint32_t n = c->ccap * 2 + 8;
        if (n > VM_MAX_BLOCK_DEPTH + 8) FAIL(c, VM_ERR_LIMIT, "blocks nested too deeply (limit %u)", VM_MAX_BLOCK_DEPTH);
        ctl *nc = realloc(c->c, n * sizeof *nc);
        if (!nc) FAIL(c, VM_ERR_NOMEM, "out of memory");
        c->c = nc;
        c->ccap = n;
    }
    ctl *b = &c->c[c->nc];
    memset(b, 0, sizeof *b);
    b->kind = kind;
    b->nparams = np, b->ptypes = pt, b->nresults = nr, b->rtypes = rt;
    b->height = c->h - np;
    b->dead = c->nc ? (c->c[c->nc - 1].unreachable || c->c[c->nc - 1].dead) : false;
    c->nc++;
    return VM_OK;
}

static vm_status read_blocktype(cc *c, uint32_t *np, const uint8_t **pt, uint32_t *nr, const uint8_t **rt) {
    if (c->p >= c->end) FAIL(c, VM_ERR_MALFORMED, "unexpected end of function body");
    uint8_t b = *c->p;
    if (b == 0x40) {
        c->p++;
        *np = *nr = 0;
        *pt = *rt = NULL;
        return VM_OK;
    }
    if (b == VM_I32 || b == VM_I64 || b == VM_F32 || b == VM_F64 || b == VM_FUNCREF || b == VM_EXTERNREF) {
        /* a stable one-element array for each value type (ctl frames move when the array grows) */
        static const uint8_t single[256] = {[VM_I32] = VM_I32, [VM_I64] = VM_I64, [VM_F32] = VM_F32,
                                            [VM_F64] = VM_F64, [VM_FUNCREF] = VM_FUNCREF, [VM_EXTERNREF] = VM_EXTERNREF};
        c->p++;
        *np = 0, *pt = NULL;
        *nr = 1, *rt = &single[b];
        return VM_OK;
    }
    int64_t idx;
    TRY(rsleb(c, 33, &idx));
    if (idx < 0) FAIL(c, VM_ERR_MALFORMED, "malformed block type");
    if ((uint64_t)idx >= c->m->ntypes) FAIL(c, VM_ERR_INVALID, "unknown type %lld", (long long)idx);
    const vm_type *t = &c->m->types[idx];
    if ((t->nparams || t->nresults > 1) && (c->m->cfg.disabled_features & VM_FEATURE_MULTI_VALUE))
        FAIL(c, VM_ERR_INVALID, "feature not enabled: multi-value (block type %lld)", (long long)idx);
    *np = t->nparams, *pt = t->types;
    *nr = t->nresults, *rt = t->types + t->nparams;
    return VM_OK;
}

/* The label types of block depth l: params for loops, results otherwise. */
static void label_types(const ctl *b, uint32_t *n, const uint8_t **t) {
    if (b->kind == K_LOOP) {
        *n = b->nparams, *t = b->ptypes;
    } else {
        *n = b->nresults, *t = b->rtypes;
    }
}

/* Checks that the top n entries match types t (without popping). */
static vm_status check_top(cc *c, uint32_t n, const uint8_t *t) {
    ctl *b = &c->c[c->nc - 1];
    for (uint32_t k = 0; k < n; k++) {
        uint32_t want = t[n - 1 - k];
        if (c->h < b->height + k + 1) {
            if (b->unreachable) continue;
            FAIL(c, VM_ERR_INVALID, "type mismatch: not enough values for the branch");
        }
        uint8_t got = c->vt[c->h - 1 - k];
        if (got && got != want) FAIL(c, VM_ERR_INVALID, "type mismatch in branch values");
    }
    return VM_OK;
}

/* Adds a fixup site for block depth l, or returns the known target (loops). */
static void add_target(cc *c, uint32_t l, uint32_t site) {
    ctl *b = &c->c[c->nc - 1 - l];
    if (b->kind == K_LOOP) {
        c->code[site] = b->loop_pos | VM_LOOP_TARGET;
    } else {
        c->code[site] = b->fix_head;
        b->fix_head = site;
    }
}

/* Where the k-th value of label l goes: the function's label returns, so its values go to the
 * frame's first slots; other labels own the slots above their entry height. */
static uint32_t label_slot(cc *c, const ctl *b, uint32_t k) {
    return b->kind == K_FUNC ? k : slot_of(c, b->height + k);
}


/* Would a branch to label l need moves? */
static bool needs_moves(cc *c, uint32_t l) {
    ctl *b = &c->c[c->nc - 1 - l];
    uint32_t n;
    const uint8_t *t;
    label_types(b, &n, &t);
    if (!reachable(c) || n == 0) return false;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t i = c->h - n + k;
        if (c->vkind[i] == SRC_CONST || c->vs[i] != label_slot(c, b, k)) return true;
    }
    return false;
}

/* Emits the moves that put the top n values into label l's slots. Does not change the
 * compile-time stack (the code may be on one path only). Destinations are at or below the
 * values' own slots, so ascending order is safe for stack slots; a value read from a local that
 * an earlier move of the same branch overwrites (only possible for the function's label, whose
 * destinations start at slot 0) is first saved in its own slot. */
static vm_status branch_moves(cc *c, uint32_t l) {
    ctl *b = &c->c[c->nc - 1 - l];
    uint32_t n;
    const uint8_t *t;
    label_types(b, &n, &t);
    if (!reachable(c) || n == 0) return VM_OK;
    uint32_t from = c->h - n;
    uint32_t src[64];
    uint32_t *srcs = n <= 64 ? src : malloc(n * sizeof *srcs);
    if (!srcs) FAIL(c, VM_ERR_NOMEM, "out of memory");
    vm_status st = VM_OK;
    for (uint32_t k = 0; k < n && !st; k++) {
        uint32_t i = from + k;
        srcs[k] = c->vs[i];
        if (c->vkind[i] == SRC_SLOT && c->vs[i] < c->nlocals && c->vs[i] < k && b->kind == K_FUNC) {
            const uint32_t w[] = {OP_COPY, slot_of(c, i), c->vs[i]};
            st = emit(c, NULL, 3, w);
            srcs[k] = slot_of(c, i);
        }
    }
    for (uint32_t k = 0; k < n && !st; k++) {
        uint32_t i = from + k, dst = label_slot(c, b, k);
        if (c->vkind[i] == SRC_CONST) {
            st = emit_const(c, dst, c->vt[i], c->vc[i]);
        } else if (srcs[k] != dst) {
            const uint32_t w[] = {OP_COPY, dst, srcs[k]};
            st = emit(c, NULL, 3, w);
        }
    }
    if (srcs != src) free(srcs);
    c->last_op = 0;
    return st;
}

/* An unconditional branch (br, return, a br_table stub): moves, then a jump or a return. */
static vm_status emit_branch(cc *c, uint32_t l) {
    TRY(branch_moves(c, l));
    if (c->c[c->nc - 1 - l].kind == K_FUNC) {
        EMIT(c, OP_RETURN);
    } else {
        EMIT(c, OP_BR, 0);
        add_target(c, l, c->len - 1);
    }
    return VM_OK;
}

static void set_unreachable(cc *c) {
    ctl *b = &c->c[c->nc - 1];
    c->h = b->height;
    b->unreachable = true;
    c->last_op = 0;
}

static vm_status do_end(cc *c) {
    ctl *b = &c->c[c->nc - 1];
    if (b->kind == K_IF && !b->has_else) {
        /* the implicit else passes the params through: they must equal the results */
        if (b->nparams != b->nresults || (b->nparams && memcmp(b->ptypes, b->rtypes, b->nparams)))
            FAIL(c, VM_ERR_INVALID, "type mismatch: if without else must have matching param and result types");
    }
    /* the results must be exactly on the stack */
    uint32_t h0 = c->h;
    for (uint32_t k = 0; k < b->nresults; k++) TRY(pop(c, b->rtypes[b->nresults - 1 - k], NULL, NULL));
    if (c->h != b->height) FAIL(c, VM_ERR_INVALID, "type mismatch: values remaining on the stack at the end of a block");
    bool live = reachable(c);
    if (live) c->h = h0; /* live code has exactly the results on the stack: entries are in place */
    if (b->kind == K_FUNC) {
        if (live) TRY(emit_branch(c, 0));
        if (b->fix_head) {
            uint32_t here = c->len;
            EMIT(c, OP_RETURN);
            for (uint32_t s = b->fix_head; s;) {
                uint32_t next = c->code[s];
                c->code[s] = here;
                s = next;
            }
        }
        c->nc--;
        return VM_OK;
    }
    if (live) TRY(materialize_from(c, b->height));
    uint32_t here = c->len;
    for (uint32_t s = b->fix_head; s;) {
        uint32_t next = c->code[s];
        c->code[s] = here;
        s = next;
    }
    if (b->else_fix) c->code[b->else_fix] = here;
    bool join = b->fix_head != 0 || b->kind == K_IF || b->unreachable;
    bool dead = b->dead;
    c->h = b->height;
    for (uint32_t k = 0; k < b->nresults; k++) TRY(push(c, b->rtypes[k]));
    c->nc--;
    if (join && !dead) TRY(fuel_begin(c, false));
    c->last_op = 0;
    return VM_OK;
}

/* ---- instruction tables ---- */

/* Simple numeric operators 0x45..0xc4: internal op, operand types and result type. op 0 with
 * in1 set means "reinterpret/identity": the value is unchanged, only its type. */
typedef struct numop {
    uint16_t op;
    uint8_t in1, in2, out;
} numop;

#define I32 VM_I32
#define I64 VM_I64
#define F32 VM_F32
#define F64 VM_F64
#define U(o, a, r) {OP_##o, a, 0, r}
#define B(o, a, r) {OP_##o, a, a, r}
#define ID(a, r) {OP__COUNT, a, 0, r}
static const numop numops[0xc5 - 0x45] = {
    U(I32_EQZ, I32, I32), B(I32_EQ, I32, I32), B(I32_NE, I32, I32), B(I32_LT_S, I32, I32), B(I32_LT_U, I32, I32),
    B(I32_GT_S, I32, I32), B(I32_GT_U, I32, I32), B(I32_LE_S, I32, I32), B(I32_LE_U, I32, I32),
    B(I32_GE_S, I32, I32), B(I32_GE_U, I32, I32),
    U(I64_EQZ, I64, I32), B(I64_EQ, I64, I32), B(I64_NE, I64, I32), B(I64_LT_S, I64, I32), B(I64_LT_U, I64, I32),
    B(I64_GT_S, I64, I32), B(I64_GT_U, I64, I32), B(I64_LE_S, I64, I32), B(I64_LE_U, I64, I32),
    B(I64_GE_S, I64, I32), B(I64_GE_U, I64, I32),
    B(F32_EQ, F32, I32), B(F32_NE, F32, I32), B(F32_LT, F32, I32), B(F32_GT, F32, I32), B(F32_LE, F32, I32),
    B(F32_GE, F32, I32),
    B(F64_EQ, F64, I32), B(F64_NE, F64, I32), B(F64_LT, F64, I32), B(F64_GT, F64, I32), B(F64_LE, F64, I32),
    B(F64_GE, F64, I32),
    U(I32_CLZ, I32, I32), U(I32_CTZ, I32, I32), U(I32_POPCNT, I32, I32), B(I32_ADD, I32, I32),
    B(I32_SUB, I32, I32), B(I32_MUL, I32, I32), B(I32_DIV_S, I32, I32), B(I32_DIV_U, I32, I32),
    B(I32_REM_S, I32, I32), B(I32_REM_U, I32, I32), B(I32_AND, I32, I32), B(I32_OR, I32, I32),
    B(I32_XOR, I32, I32), B(I32_SHL, I32, I32), B(I32_SHR_S, I32, I32), B(I32_SHR_U, I32, I32),
    B(I32_ROTL, I32, I32), B(I32_ROTR, I32, I32),
    U(I64_CLZ, I64, I64), U(I64_CTZ, I64, I64), U(I64_POPCNT, I64, I64), B(I64_ADD, I64, I64),
    B(I64_SUB, I64, I64), B(I64_MUL, I64, I64), B(I64_DIV_S, I64, I64), B(I64_DIV_U, I64, I64),
    B(I64_REM_S, I64, I64), B(I64_REM_U, I64, I64), B(I64_AND, I64, I64), B(I64_OR, I64, I64),
    B(I64_XOR, I64, I64), B(I64_SHL, I64, I64), B(I64_SHR_S, I64, I64), B(I64_SHR_U, I64, I64),
    B(I64_ROTL, I64, I64), B(I64_ROTR, I64, I64),
    U(F32_ABS, F32, F32), U(F32_NEG, F32, F32), U(F32_CEIL, F32, F32), U(F32_FLOOR, F32, F32),
    U(F32_TRUNC, F32, F32), U(F32_NEAREST, F32, F32), U(F32_SQRT, F32, F32), B(F32_ADD, F32, F32),
    B(F32_SUB, F32, F32), B(F32_MUL, F32, F32), B(F32_DIV, F32, F32), B(F32_MIN, F32, F32),
    B(F32_MAX, F32, F32), B(F32_COPYSIGN, F32, F32),
    U(F64_ABS, F64, F64), U(F64_NEG, F64, F64), U(F64_CEIL, F64, F64), U(F64_FLOOR, F64, F64),
    U(F64_TRUNC, F64, F64), U(F64_NEAREST, F64, F64), U(F64_SQRT, F64, F64), B(F64_ADD, F64, F64),
    B(F64_SUB, F64, F64), B(F64_MUL, F64, F64), B(F64_DIV, F64, F64), B(F64_MIN, F64, F64),
    B(F64_MAX, F64, F64), B(F64_COPYSIGN, F64, F64),
    U(I32_WRAP_I64, I64, I32), U(I32_TRUNC_F32_S, F32, I32), U(I32_TRUNC_F32_U, F32, I32),
    U(I32_TRUNC_F64_S, F64, I32), U(I32_TRUNC_F64_U, F64, I32), U(I64_EXTEND_I32_S, I32, I64),
    ID(I32, I64) /* i64.extend_i32_u: i32 values are kept zero-extended */, U(I64_TRUNC_F32_S, F32, I64),
    U(I64_TRUNC_F32_U, F32, I64), U(I64_TRUNC_F64_S, F64, I64), U(I64_TRUNC_F64_U, F64, I64),
    U(F32_CONVERT_I32_S, I32, F32), U(F32_CONVERT_I32_U, I32, F32), U(F32_CONVERT_I64_S, I64, F32),
    U(F32_CONVERT_I64_U, I64, F32), U(F32_DEMOTE_F64, F64, F32), U(F64_CONVERT_I32_S, I32, F64),
    U(F64_CONVERT_I32_U, I32, F64), U(F64_CONVERT_I64_S, I64, F64), U(F64_CONVERT_I64_U, I64, F64),
    U(F64_PROMOTE_F32, F32, F64), ID(F32, I32), ID(F64, I64), ID(I32, F32), ID(I64, F64),
    U(I32_EXTEND8_S, I32, I32), U(I32_EXTEND16_S, I32, I32), U(I64_EXTEND8_S, I64, I64),
    U(I64_EXTEND16_S, I64, I64), U(I64_EXTEND32_S, I64, I64),
};

/* Immediate forms: op with a constant second operand. */
static uint16_t imm_form(uint16_t op) {
    switch (op) {
    case OP_I32_ADD: return OP_I32_ADD_I;
    case OP_I32_SUB: return OP_I32_SUB_I;
    case OP_I32_AND: return OP_I32_AND_I;
    case OP_I32_OR: return OP_I32_OR_I;
    case OP_I32_XOR: return OP_I32_XOR_I;
    case OP_I32_SHL: return OP_I32_SHL_I;
    case OP_I32_SHR_S: return OP_I32_SHR_S_I;
    case OP_I32_SHR_U: return OP_I32_SHR_U_I;
    case OP_I32_MUL: return OP_I32_MUL_I;
    case OP_I64_ADD: return OP_I64_ADD_I;
    case OP_I64_AND: return OP_I64_AND_I;
    case OP_I64_SHL: return OP_I64_SHL_I;
    case OP_I64_SHR_U: return OP_I64_SHR_U_I;
    case OP_I64_SHR_S: return OP_I64_SHR_S_I;
    case OP_I32_EQ: return OP_I32_EQ_I;
    case OP_I32_NE: return OP_I32_NE_I;
    case OP_I32_LT_S: return OP_I32_LT_S_I;
    case OP_I32_LT_U: return OP_I32_LT_U_I;
    case OP_I32_GT_S: return OP_I32_GT_S_I;
    case OP_I32_GT_U: return OP_I32_GT_U_I;
    case OP_I32_LE_S: return OP_I32_LE_S_I;
    case OP_I32_LE_U: return OP_I32_LE_U_I;
    case OP_I32_GE_S: return OP_I32_GE_S_I;
    case OP_I32_GE_U: return OP_I32_GE_U_I;
    case OP_I32_ROTL: return OP_I32_ROTL_I;
    case OP_I32_ROTR: return OP_I32_ROTR_I;
    case OP_I64_SUB: return OP_I64_SUB_I;
    case OP_I64_OR: return OP_I64_OR_I;
    case OP_I64_XOR: return OP_I64_XOR_I;
    case OP_I64_MUL: return OP_I64_MUL_I;
    case OP_I64_ROTL: return OP_I64_ROTL_I;
    case OP_I64_ROTR: return OP_I64_ROTR_I;
    case OP_I64_EQ: return OP_I64_EQ_I;
    case OP_I64_NE: return OP_I64_NE_I;
    case OP_I64_LT_U: return OP_I64_LT_U_I;
    case OP_I64_GT_U: return OP_I64_GT_U_I;
    case OP_I64_LT_S: return OP_I64_LT_S_I;
    case OP_I64_GT_S: return OP_I64_GT_S_I;
    default: return 0;
    }
}

/* The operator with its operands swapped (a op b == b op' a), or 0. */
static uint16_t swapped(uint16_t op) {
    switch (op) {
    case OP_I32_ADD: case OP_I32_MUL: case OP_I32_AND: case OP_I32_OR: case OP_I32_XOR: case OP_I32_EQ:
    case OP_I32_NE: case OP_I64_ADD: case OP_I64_MUL: case OP_I64_AND: case OP_I64_OR: case OP_I64_XOR:
    case OP_I64_EQ: case OP_I64_NE:
        return op;
    case OP_I32_LT_S: return OP_I32_GT_S;
    case OP_I32_LT_U: return OP_I32_GT_U;
    case OP_I32_GT_S: return OP_I32_LT_S;
    case OP_I32_GT_U: return OP_I32_LT_U;
    case OP_I32_LE_S: return OP_I32_GE_S;
    case OP_I32_LE_U: return OP_I32_GE_U;
    case OP_I32_GE_S: return OP_I32_LE_S;
    case OP_I32_GE_U: return OP_I32_LE_U;
    case OP_I64_LT_S: return OP_I64_GT_S;
    case OP_I64_LT_U: return OP_I64_GT_U;
    case OP_I64_GT_S: return OP_I64_LT_S;
    case OP_I64_GT_U: return OP_I64_LT_U;
    default: return 0;
    }
}

/* Fused compare-and-branch forms. */
static uint16_t branch_form(uint16_t op) {
    switch (op) {
    case OP_I32_EQZ: return OP_BR_IF_I32_EQZ;
    case OP_I32_EQ: return OP_BR_IF_I32_EQ;
    case OP_I32_NE: return OP_BR_IF_I32_NE;
    case OP_I32_LT_S: return OP_BR_IF_I32_LT_S;
    case OP_I32_LT_U: return OP_BR_IF_I32_LT_U;
    case OP_I32_GT_S: return OP_BR_IF_I32_GT_S;
    case OP_I32_GT_U: return OP_BR_IF_I32_GT_U;
    case OP_I32_LE_S: return OP_BR_IF_I32_LE_S;
    case OP_I32_LE_U: return OP_BR_IF_I32_LE_U;
    case OP_I32_GE_S: return OP_BR_IF_I32_GE_S;
    case OP_I32_GE_U: return OP_BR_IF_I32_GE_U;
    case OP_I32_EQ_I: return OP_BR_IF_I32_EQ_I;
    case OP_I32_NE_I: return OP_BR_IF_I32_NE_I;
    case OP_I32_LT_S_I: return OP_BR_IF_I32_LT_S_I;
    case OP_I32_LT_U_I: return OP_BR_IF_I32_LT_U_I;
    case OP_I32_GT_S_I: return OP_BR_IF_I32_GT_S_I;
    case OP_I32_GT_U_I: return OP_BR_IF_I32_GT_U_I;
    case OP_I32_LE_S_I: return OP_BR_IF_I32_LE_S_I;
    case OP_I32_LE_U_I: return OP_BR_IF_I32_LE_U_I;
    case OP_I32_GE_S_I: return OP_BR_IF_I32_GE_S_I;
    case OP_I32_GE_U_I: return OP_BR_IF_I32_GE_U_I;
    case OP_I64_EQ: return OP_BR_IF_I64_EQ;
    case OP_I64_NE: return OP_BR_IF_I64_NE;
    case OP_I64_LT_S: return OP_BR_IF_I64_LT_S;
    case OP_I64_LT_U: return OP_BR_IF_I64_LT_U;
    case OP_I64_GT_S: return OP_BR_IF_I64_GT_S;
    case OP_I64_GT_U: return OP_BR_IF_I64_GT_U;
    case OP_I64_EQ_I: return OP_BR_IF_I64_EQ_I;
    case OP_I64_NE_I: return OP_BR_IF_I64_NE_I;
    case OP_I64_LT_S_I: return OP_BR_IF_I64_LT_S_I;
    case OP_I64_LT_U_I: return OP_BR_IF_I64_LT_U_I;
    case OP_I64_GT_S_I: return OP_BR_IF_I64_GT_S_I;
    case OP_I64_GT_U_I: return OP_BR_IF_I64_GT_U_I;
    default: return 0;
    }
}


static vm_status numeric(cc *c, const numop *n) {
    uint32_t ia = UINT32_MAX, ib = UINT32_MAX;
    if (n->op == OP__COUNT) { /* identity: retype the top entry */
        TRY(pop(c, n->in1, NULL, &ia));
        c->h++;
        if (ia != UINT32_MAX) c->vt[ia] = n->out;
        else {
            c->h--;
            TRY(push(c, n->out));
        }
        c->last_op = 0;
        return VM_OK;
    }
    if (n->in2) TRY(pop(c, n->in2, NULL, &ib));
    TRY(pop(c, n->in1, NULL, &ia));
    uint32_t sa, sb;
    uint16_t op = n->op;
    if (n->in2 && ia != UINT32_MAX && ib != UINT32_MAX && c->vkind[ia] == SRC_CONST && c->vkind[ib] != SRC_CONST &&
        swapped(op) && imm_form(swapped(op))) {
        uint32_t t = ia; /* constant first: swap so the constant becomes the immediate */
        ia = ib, ib = t;
        op = swapped(op);
    }
    if (n->in2 && ib != UINT32_MAX && c->vkind[ib] == SRC_CONST && imm_form(op) &&
        (n->in1 == VM_I32 || (int64_t)c->vc[ib] == (int32_t)c->vc[ib])) {
        uint32_t imm = (uint32_t)c->vc[ib];
        TRY(src_slot(c, ia, &sa));
        TRY(push(c, n->out));
        const uint32_t w[] = {imm_form(op), slot_of(c, c->h - 1), sa, imm};
        return emit_simple(c, 4, w);
    }
    TRY(src_slot(c, ia, &sa));
    if (n->in2) {
        TRY(src_slot(c, ib, &sb));
        TRY(push(c, n->out));
        const uint32_t w[] = {n->op, slot_of(c, c->h - 1), sa, sb};
        return emit_simple(c, 4, w);
    }
    TRY(push(c, n->out));
    const uint32_t w[] = {n->op, slot_of(c, c->h - 1), sa};
    return emit_simple(c, 3, w);
}

/* Alignment and offset of a memory instruction. */
static vm_status memarg(cc *c, uint32_t natural_log2, uint32_t *offset) {
    uint32_t align;
    TRY(ru32(c, &align));
    TRY(ru32(c, offset));
    if (align > natural_log2) FAIL(c, VM_ERR_INVALID, "alignment must not be larger than natural");
    if (c->m->nmems == 0) FAIL(c, VM_ERR_INVALID, "unknown memory 0");
    return VM_OK;
}

static vm_status load(cc *c, uint16_t op, uint8_t t, uint32_t nat) {
    uint32_t off, ia, sa;
    TRY(memarg(c, nat, &off));
    TRY(pop(c, VM_I32, NULL, &ia));
    TRY(src_slot(c, ia, &sa));
    TRY(push(c, t));
    const uint32_t w[] = {op, slot_of(c, c->h - 1), sa, off};
    charge(c, 1);
    return emit_simple(c, 4, w);
}

static vm_status store(cc *c, uint16_t op, uint8_t t, uint32_t nat) {
    uint32_t off, ia, iv, sa, sv;
    TRY(memarg(c, nat, &off));
    TRY(pop(c, t, NULL, &iv));
    TRY(pop(c, VM_I32, NULL, &ia));
    charge(c, 1);
    if (iv != UINT32_MAX && c->vkind[iv] == SRC_CONST && (int64_t)c->vc[iv] == (int32_t)c->vc[iv]) {
        uint16_t iop = op == OP_I32_STORE ? OP_I32_STORE_I : op == OP_I64_STORE ? OP_I64_STORE_I
                     : op == OP_STORE8 ? OP_STORE8_I : OP_STORE16_I;
        TRY(src_slot(c, ia, &sa));
        if (reachable(c)) EMIT(c, iop, sa, (uint32_t)c->vc[iv], off);
        return VM_OK;
    }
    TRY(src_slot(c, iv, &sv));
    TRY(src_slot(c, ia, &sa));
    if (reachable(c)) EMIT(c, op, sa, sv, off);
    return VM_OK;
}

/* local.set / local.tee. */
static vm_status set_local(cc *c, uint32_t l, bool tee) {
    if (l >= c->nlocals) FAIL(c, VM_ERR_INVALID, "unknown local %u", l);
    uint32_t i;
    TRY(pop(c, c->ltypes[l], NULL, &i));
    if (i == UINT32_MAX || !reachable(c)) {
        if (tee) TRY(push(c, c->ltypes[l]));
        return VM_OK;
    }
    /* the value is the local itself: nothing to do */
    if (c->vkind[i] == SRC_SLOT && c->vs[i] == l) {
        c->h++;
        if (!tee) c->h--;
        return VM_OK;
    }
    bool aliased = false;
    for (uint32_t k = 0; k < i; k++)
        if (c->vkind[k] == SRC_SLOT && c->vs[k] == l) aliased = true;
    if (aliased) {
        for (uint32_t k = 0; k < i; k++)
            if (c->vkind[k] == SRC_SLOT && c->vs[k] == l) TRY(materialize(c, k));
        c->last_op = 0;
    }
    if (c->last_op && c->vkind[i] == SRC_SLOT && c->vs[i] == slot_of(c, i) && c->code[c->last_dst] == slot_of(c, i)) {
        c->code[c->last_dst] = l; /* the producer writes the local directly */
    } else if (c->vkind[i] == SRC_CONST) {
        TRY(emit_const(c, l, c->vt[i], c->vc[i]));
    } else {
        EMIT(c, OP_COPY, l, c->vs[i]);
    }
    c->last_op = 0;
    if (tee) {
        c->h++;
        c->vkind[i] = SRC_SLOT;
        c->vs[i] = l;
    }
    return VM_OK;
}

/* Emits a call's instruction with arguments in place; then pops params, pushes results. */
static vm_status call_common(cc *c, const vm_type *t, uint32_t nw, const uint32_t *w_in) {
    uint32_t h0 = c->h;
    for (uint32_t k = 0; k < t->nparams; k++) TRY(pop(c, t->types[t->nparams - 1 - k], NULL, NULL));
    uint32_t base = c->h;
    /* the arguments were entries base..h0-1 (fewer in unreachable code): materialise them */
    if (reachable(c))
        for (uint32_t k = base; k < h0; k++) TRY(materialize(c, k));
    if (reachable(c)) {
        uint32_t w[8];
        memcpy(w, w_in, nw * sizeof *w);
        w[nw] = slot_of(c, base);
        TRY(emit(c, NULL, nw + 1, w));
        c->last_op = 0;
    }
    for (uint32_t k = 0; k < t->nresults; k++) TRY(push(c, t->types[t->nparams + k]));
    /* the callee's frame extends beyond our operand stack: reserve room for its parameters here */
    uint32_t need = base + (t->nparams > t->nresults ? t->nparams : t->nresults);
    if (need > c->maxh) c->maxh = need;
    return VM_OK;
}

static vm_status check_table(cc *c, uint32_t t) {
    if (t >= c->m->ntables) FAIL(c, VM_ERR_INVALID, "unknown table %u", t);
    return VM_OK;
}

static vm_status check_elem(cc *c, uint32_t e) {
    if (e >= c->m->nelems) FAIL(c, VM_ERR_INVALID, "unknown elem segment %u", e);
    return VM_OK;
}

static vm_status check_data(cc *c, uint32_t d) {
    if (d >= c->m->ndatas) FAIL(c, VM_ERR_INVALID, "unknown data segment %u", d);
    if (!c->m->has_datacount) FAIL(c, VM_ERR_MALFORMED, "data count section required");
    return VM_OK;
}

/* Pops n operands of the given types (last first) and returns their slots in order. */
static vm_status pop_slots(cc *c, uint32_t n, const uint8_t *types, uint32_t *slots) {
    uint32_t idx[8];
    for (uint32_t k = 0; k < n; k++) TRY(pop(c, types[n - 1 - k], NULL, &idx[n - 1 - k]));
    for (uint32_t k = 0; k < n; k++) TRY(src_slot(c, idx[k], &slots[k]));
    return VM_OK;
}

static vm_status prefixed(cc *c) {
    uint32_t sub;
    TRY(ru32(c, &sub));
    uint32_t s[5];
    if (sub <= 7) {
        static const numop sat[8] = {
            U(I32_TRUNC_SAT_F32_S, F32, I32), U(I32_TRUNC_SAT_F32_U, F32, I32), U(I32_TRUNC_SAT_F64_S, F64, I32),
            U(I32_TRUNC_SAT_F64_U, F64, I32), U(I64_TRUNC_SAT_F32_S, F32, I64), U(I64_TRUNC_SAT_F32_U, F32, I64),
            U(I64_TRUNC_SAT_F64_S, F64, I64), U(I64_TRUNC_SAT_F64_U, F64, I64),
        };
        charge(c, 1);
        return numeric(c, &sat[sub]);
    }
    charge(c, 1);
    switch (sub) {
    case 8: { /* memory.init seg mem */
        uint32_t seg;
        uint8_t z = 0;
        TRY(ru32(c, &seg));
        TRY(check_data(c, seg));
        TRY(rbyte(c, &z));
        if (z != 0) FAIL(c, VM_ERR_MALFORMED, "zero byte expected");
        if (c->m->nmems == 0) FAIL(c, VM_ERR_INVALID, "unknown memory 0");
        static const uint8_t ty[3] = {I32, I32, I32};
        TRY(pop_slots(c, 3, ty, s));
        if (reachable(c)) EMIT(c, OP_MEMORY_INIT, seg, s[0], s[1], s[2]);
        return VM_OK;
    }
    case 9: {
        uint32_t seg;
        TRY(ru32(c, &seg));
        TRY(check_data(c, seg));
        if (reachable(c)) EMIT(c, OP_DATA_DROP, seg);
        return VM_OK;
    }
    case 10: {
        uint8_t z1 = 0, z2 = 0;
        TRY(rbyte(c, &z1));
        TRY(rbyte(c, &z2));
        if (z1 || z2) FAIL(c, VM_ERR_MALFORMED, "zero byte expected");
        if (c->m->nmems == 0) FAIL(c, VM_ERR_INVALID, "unknown memory 0");
        static const uint8_t ty[3] = {I32, I32, I32};
        TRY(pop_slots(c, 3, ty, s));
        if (reachable(c)) EMIT(c, OP_MEMORY_COPY, s[0], s[1], s[2]);
        return VM_OK;
    }
    case 11: {
        uint8_t z = 0;
        TRY(rbyte(c, &z));
        if (z) FAIL(c, VM_ERR_MALFORMED, "zero byte expected");
        if (c->m->nmems == 0) FAIL(c, VM_ERR_INVALID, "unknown memory 0");
        static const uint8_t ty[3] = {I32, I32, I32};
        TRY(pop_slots(c, 3, ty, s));
        if (reachable(c)) EMIT(c, OP_MEMORY_FILL, s[0], s[1], s[2]);
        return VM_OK;
    }
    case 12: { /* table.init seg table */
        uint32_t seg, t;
        TRY(ru32(c, &seg));
        TRY(ru32(c, &t));
        TRY(check_table(c, t));
        TRY(check_elem(c, seg));
        if (c->m->elems[seg].type != c->m->tables[t].elem) FAIL(c, VM_ERR_INVALID, "type mismatch: table.init element type");
        static const uint8_t ty[3] = {I32, I32, I32};
        TRY(pop_slots(c, 3, ty, s));
        if (reachable(c)) EMIT(c, OP_TABLE_INIT, t, seg, s[0], s[1], s[2]);
        return VM_OK;
    }
    case 13: {
        uint32_t seg;
        TRY(ru32(c, &seg));
        TRY(check_elem(c, seg));
        if (reachable(c)) EMIT(c, OP_ELEM_DROP, seg);
        return VM_OK;
    }
    case 14: { /* table.copy dst src */
        uint32_t td, ts;
        TRY(ru32(c, &td));
        TRY(ru32(c, &ts));
        TRY(check_table(c, td));
        TRY(check_table(c, ts));
        if (c->m->tables[td].elem != c->m->tables[ts].elem) FAIL(c, VM_ERR_INVALID, "type mismatch: table.copy element types");
        static const uint8_t ty[3] = {I32, I32, I32};
        TRY(pop_slots(c, 3, ty, s));
        if (reachable(c)) EMIT(c, OP_TABLE_COPY, td, ts, s[0], s[1], s[2]);
        return VM_OK;
    }
    case 15: { /* table.grow: init n -> old */
        uint32_t t;
        TRY(ru32(c, &t));
        TRY(check_table(c, t));
        uint8_t ty[2] = {c->m->tables[t].elem, I32};
        TRY(pop_slots(c, 2, ty, s));
        TRY(push(c, I32));
        if (reachable(c)) EMIT(c, OP_TABLE_GROW, slot_of(c, c->h - 1), t, s[0], s[1]);
        return VM_OK;
    }
    case 16: {
        uint32_t t;
        TRY(ru32(c, &t));
        TRY(check_table(c, t));
        TRY(push(c, I32));
        const uint32_t w[] = {OP_TABLE_SIZE, slot_of(c, c->h - 1), t};
        return emit_simple(c, 3, w);
    }
    case 17: { /* table.fill: i val n */
        uint32_t t;
        TRY(ru32(c, &t));
        TRY(check_table(c, t));
        uint8_t ty[3] = {I32, c->m->tables[t].elem, I32};
        TRY(pop_slots(c, 3, ty, s));
        if (reachable(c)) EMIT(c, OP_TABLE_FILL, t, s[0], s[1], s[2]);
        return VM_OK;
    }
    default:
        c->p--;
        FAIL(c, VM_ERR_MALFORMED, "illegal opcode 0xfc %u", sub);
    }
}

/* Emits a conditional branch on the already popped condition entry ic, fused with the compare
 * that produced it when possible, with the fuel operand for the fallthrough block. Returns the
 * position of the target operand. negate: branch when the condition is false. */
static vm_status cond_branch(cc *c, bool negate, uint32_t ic, uint32_t *target_site) {
    uint32_t sc;
    *target_site = 0;
    if (!reachable(c)) return VM_OK;
    if (c->last_op && ic != UINT32_MAX && c->vkind[ic] == SRC_SLOT && c->vs[ic] == slot_of(c, ic) &&
        c->code[c->last_dst] == slot_of(c, ic) && c->last_op + 1 == c->last_dst) {
        uint32_t op = c->code[c->last_op];
        uint16_t bf = branch_form((uint16_t)op);
        if (bf && !negate) {
            uint32_t a = c->code[c->last_op + 2];
            uint32_t b = op == OP_I32_EQZ ? 0 : c->code[c->last_op + 3];
            c->len = c->last_op;
            c->last_op = 0;
            if (op == OP_I32_EQZ) EMIT(c, OP_BR_UNLESS, a, 0, 0);
            else EMIT(c, bf, a, b, 0, 0);
            goto done;
        }
        if (negate && op == OP_I32_EQZ) { /* if (eqz x): go to else when x != 0 */
            uint32_t a = c->code[c->last_op + 2];
            c->len = c->last_op;
            c->last_op = 0;
            EMIT(c, OP_BR_IF, a, 0, 0);
            goto done;
        }
    }
    TRY(src_slot(c, ic, &sc));
    EMIT(c, negate ? OP_BR_UNLESS : OP_BR_IF, sc, 0, 0);
done:
    *target_site = c->len - 2;
    c->fuel_pos = c->metering ? c->len - 1 : 0;
    c->last_op = 0;
    return VM_OK;
}

/* Refuses operators of disabled features. */
static vm_status check_feature(cc *c, uint8_t op, uint32_t sub) {
    uint32_t off = c->m->cfg.disabled_features, need = 0;
    if (!off) return VM_OK;
    if (op >= 0xc0 && op <= 0xc4) need = VM_FEATURE_SIGN_EXT;
    else if (op == 0xd0 || op == 0xd1 || op == 0xd2 || op == 0x25 || op == 0x26 || op == 0x1c)
        need = VM_FEATURE_REFERENCE_TYPES;
    else if (op == 0xfc && sub <= 7) need = VM_FEATURE_SAT_FLOAT_TO_INT;
    else if (op == 0xfc && sub <= 14) need = VM_FEATURE_BULK_MEMORY;
    else if (op == 0xfc) need = VM_FEATURE_REFERENCE_TYPES;
    if (need & off) {
        static const char *const names[] = {"sign-extension", "non-trapping float-to-int", "multi-value",
                                            "bulk memory", "reference types", "mutable globals"};
        FAIL(c, VM_ERR_INVALID, "feature not enabled: %s (opcode 0x%02x)", names[__builtin_ctz(need)], op);
    }
    return VM_OK;
}

static vm_status instr(cc *c, uint8_t op) {
    uint32_t x, y, ia, sa;
    if (c->m->cfg.disabled_features) {
        uint32_t sub = 0;
        if (op == 0xfc) {
            const uint8_t *save = c->p;
            TRY(ru32(c, &sub));
            c->p = save;
        }
        TRY(check_feature(c, op, sub));
    }
    switch (op) {
    case 0x00: /* unreachable */
        if (reachable(c)) EMIT(c, OP_UNREACHABLE);
        set_unreachable(c);
        return VM_OK;
    case 0x01: return VM_OK; /* nop */
    case 0x02:
    case 0x03: { /* block, loop */
        uint32_t np, nr;
        const uint8_t *pt, *rt;
        TRY(read_blocktype(c, &np, &pt, &nr, &rt));
        TRY(materialize_from(c, c->c[c->nc - 1].height));
        for (uint32_t k = 0; k < np; k++) TRY(pop(c, pt[np - 1 - k], NULL, NULL));
        for (uint32_t k = 0; k < np; k++) TRY(push(c, pt[k]));
        TRY(push_ctl(c, op == 0x02 ? K_BLOCK : K_LOOP, np, pt, nr, rt));
        ctl *b = &c->c[c->nc - 1];
        if (op == 0x03) {
            b->loop_pos = c->len;
            TRY(fuel_begin(c, true));
        }
        return VM_OK;
    }
    case 0x04: { /* if */
        uint32_t np, nr, site, ic;
        const uint8_t *pt, *rt;
        TRY(read_blocktype(c, &np, &pt, &nr, &rt));
        charge(c, 1);
        TRY(pop(c, VM_I32, NULL, &ic));
        /* params and everything below must be in their slots on both arms: before the branch */
        TRY(materialize_from(c, c->c[c->nc - 1].height));
        for (uint32_t k = 0; k < np; k++) TRY(pop(c, pt[np - 1 - k], NULL, NULL));
        for (uint32_t k = 0; k < np; k++) TRY(push(c, pt[k]));
        TRY(cond_branch(c, true, ic, &site));
        TRY(push_ctl(c, K_IF, np, pt, nr, rt));
        ctl *b = &c->c[c->nc - 1];
        b->else_fix = site;
        return VM_OK;
    }
    case 0x05: { /* else */
        ctl *b = &c->c[c->nc - 1];
        if (b->kind != K_IF || b->has_else) FAIL(c, VM_ERR_INVALID, "else without matching if");
        for (uint32_t k = 0; k < b->nresults; k++) TRY(pop(c, b->rtypes[b->nresults - 1 - k], NULL, NULL));
        if (c->h != b->height) FAIL(c, VM_ERR_INVALID, "type mismatch: values remaining on the stack before else");
        c->h += b->nresults;
        if (reachable(c)) {
            TRY(materialize_from(c, b->height));
            EMIT(c, OP_BR, 0);
            c->code[c->len - 1] = b->fix_head;
            b->fix_head = c->len - 1;
        }
        c->h = b->height;
        for (uint32_t k = 0; k < b->nparams; k++) TRY(push(c, b->ptypes[k]));
        b->has_else = true;
        b->unreachable = false;
        if (b->else_fix) {
            c->code[b->else_fix] = c->len;
            b->else_fix = 0;
        }
        TRY(fuel_begin(c, false));
        return VM_OK;
    }
    case 0x0b: return do_end(c);
    case 0x0c: { /* br */
        TRY(ru32(c, &x));
        if (x >= c->nc) FAIL(c, VM_ERR_INVALID, "unknown label %u", x);
        uint32_t n;
        const uint8_t *t;
        label_types(&c->c[c->nc - 1 - x], &n, &t);
        TRY(check_top(c, n, t));
        charge(c, 1);
        if (reachable(c)) TRY(emit_branch(c, x));
        set_unreachable(c);
        return VM_OK;
    }
    case 0x0d: { /* br_if */
        TRY(ru32(c, &x));
        if (x >= c->nc) FAIL(c, VM_ERR_INVALID, "unknown label %u", x);
        charge(c, 1);
        uint32_t n, ic;
        const uint8_t *t;
        label_types(&c->c[c->nc - 1 - x], &n, &t);
        TRY(pop(c, VM_I32, NULL, &ic));
        if (!reachable(c)) { /* [t* i32] -> [t*]: the values take the label's types */
            for (uint32_t k = 0; k < n; k++) TRY(pop(c, t[n - 1 - k], NULL, NULL));
            for (uint32_t k = 0; k < n; k++) TRY(push(c, t[k]));
            return VM_OK;
        }
        TRY(check_top(c, n, t));
        if (needs_moves(c, x)) {
            /* BR_UNLESS cond skip (fuel of the fallthrough); moves; branch; skip: */
            uint32_t sc;
            TRY(src_slot(c, ic, &sc));
            EMIT(c, OP_BR_UNLESS, sc, 0, 0);
            uint32_t site = c->len - 2, fuel_site = c->len - 1;
            TRY(emit_branch(c, x));
            c->code[site] = c->len;
            c->fuel_pos = c->metering ? fuel_site : 0;
        } else {
            uint32_t site;
            TRY(cond_branch(c, false, ic, &site));
            if (c->c[c->nc - 1 - x].kind == K_FUNC) {
                /* chain on the function label: patched to its final RETURN */
                c->code[site] = c->c[0].fix_head;
                c->c[0].fix_head = site;
            } else {
                add_target(c, x, site);
            }
        }
        c->last_op = 0;
        return VM_OK;
    }
    case 0x0e: { /* br_table */
        uint32_t n;
        TRY(ru32(c, &n));
        if (n > VM_MAX_BR_TABLE) FAIL(c, VM_ERR_LIMIT, "br_table too large: %u entries (limit %u)", n, VM_MAX_BR_TABLE);
        if ((uint64_t)n > (uint64_t)(c->end - c->p)) FAIL(c, VM_ERR_MALFORMED, "unexpected end: br_table length");
        uint32_t *labels = malloc(((size_t)n + 1) * sizeof *labels);
        if (!labels) FAIL(c, VM_ERR_NOMEM, "out of memory");
        vm_status st = VM_OK;
        for (uint32_t k = 0; k <= n && !st; k++) {
            st = ru32(c, &labels[k]);
            if (!st && labels[k] >= c->nc) st = vm__errf(c->err, VM_ERR_INVALID, OFF(c), "unknown label %u", labels[k]);
        }
        uint32_t ic = UINT32_MAX, sc = 0;
        if (!st) st = pop(c, VM_I32, NULL, &ic);
        if (!st) {
            uint32_t arity;
            const uint8_t *dt;
            label_types(&c->c[c->nc - 1 - labels[n]], &arity, &dt);
            for (uint32_t k = 0; k <= n && !st; k++) {
                uint32_t ln;
                const uint8_t *lt;
                label_types(&c->c[c->nc - 1 - labels[k]], &ln, &lt);
                if (ln != arity) st = vm__errf(c->err, VM_ERR_INVALID, OFF(c), "type mismatch: br_table labels have different arities");
                else st = check_top(c, ln, lt);
            }
        }
        charge(c, 1);
        if (!st && reachable(c)) {
            st = src_slot(c, ic, &sc);
            uint32_t tpos = 0;
            if (!st) st = grow_code(c, n + 4);
            if (!st) {
                tpos = c->len;
                c->code[c->len++] = OP_BR_TABLE;
                c->code[c->len++] = sc;
                c->code[c->len++] = n;
                c->len += n + 1;
                c->last_op = 0;
            }
            for (uint32_t k = 0; k <= n && !st; k++) {
                uint32_t site = tpos + 3 + k, l = labels[k];
                if (!needs_moves(c, l) && c->c[c->nc - 1 - l].kind != K_FUNC) {
                    add_target(c, l, site);
                } else if (!needs_moves(c, l)) {
                    c->code[site] = c->c[0].fix_head;
                    c->c[0].fix_head = site;
                } else {
                    c->code[site] = c->len;
                    st = emit_branch(c, l);
                }
            }
        }
        free(labels);
        TRY(st);
        set_unreachable(c);
        return VM_OK;
    }
    case 0x0f: { /* return */
        ctl *f = &c->c[0];
        TRY(check_top(c, f->nresults, f->rtypes));
        charge(c, 0);
        if (reachable(c)) TRY(emit_branch(c, c->nc - 1));
        set_unreachable(c);
        return VM_OK;
    }
    case 0x10: { /* call */
        TRY(ru32(c, &x));
        if (x >= c->m->nfuncs) FAIL(c, VM_ERR_INVALID, "unknown function %u", x);
        charge(c, 1);
        const uint32_t w[] = {OP_CALL, x};
        return call_common(c, &c->m->types[c->m->funcs[x].type], 2, w);
    }
    case 0x11: { /* call_indirect type table */
        TRY(ru32(c, &x));
        TRY(ru32(c, &y));
        if (y >= c->m->ntables) FAIL(c, VM_ERR_INVALID, "unknown table %u", y);
        if (y != 0 && (c->m->cfg.disabled_features & VM_FEATURE_REFERENCE_TYPES))
            FAIL(c, VM_ERR_INVALID, "feature not enabled: reference types (call_indirect on table %u)", y);
        if (x >= c->m->ntypes) FAIL(c, VM_ERR_INVALID, "unknown type %u", x);
        if (c->m->tables[y].elem != VM_FUNCREF) FAIL(c, VM_ERR_INVALID, "type mismatch: call_indirect on a table of externref");
        charge(c, 1);
        TRY(pop(c, VM_I32, NULL, &ia));
        /* the index entry sits just above the arguments: its own slot is not written by them */
        TRY(src_slot(c, ia, &sa));
        const uint32_t w[] = {OP_CALL_INDIRECT, x, y, sa};
        return call_common(c, &c->m->types[x], 4, w);
    }
    case 0x1a: /* drop */
        TRY(pop(c, 0, NULL, NULL));
        return VM_OK;
    case 0x1b:
    case 0x1c: { /* select */
        uint8_t t = 0;
        if (op == 0x1c) {
            TRY(ru32(c, &x));
            if (x != 1) FAIL(c, VM_ERR_INVALID, "invalid result arity for typed select");
            uint8_t vt = 0;
            TRY(rbyte(c, &vt));
            if (vt != VM_I32 && vt != VM_I64 && vt != VM_F32 && vt != VM_F64 && vt != VM_FUNCREF && vt != VM_EXTERNREF)
                FAIL(c, VM_ERR_MALFORMED, "malformed value type in select");
            t = vt;
        }
        charge(c, 1);
        uint32_t ic, i1, i2, s1, s2, sc;
        uint8_t t1, t2;
        TRY(pop(c, VM_I32, NULL, &ic));
        TRY(pop(c, t, &t2, &i2));
        TRY(pop(c, t ? t : t2, &t1, &i1));
        if (!t) {
            if (t1 == VM_FUNCREF || t1 == VM_EXTERNREF || t2 == VM_FUNCREF || t2 == VM_EXTERNREF)
                FAIL(c, VM_ERR_INVALID, "type mismatch: select without type on reference values");
            if (t1 && t2 && t1 != t2) FAIL(c, VM_ERR_INVALID, "type mismatch in select");
            t = t1 ? t1 : t2;
        }
        TRY(src_slot(c, i1, &s1));
        TRY(src_slot(c, i2, &s2));
        TRY(src_slot(c, ic, &sc));
        TRY(push(c, t));
        const uint32_t w[] = {OP_SELECT, slot_of(c, c->h - 1), s1, s2, sc};
        return emit_simple(c, 5, w);
    }
    case 0x20: { /* local.get */
        TRY(ru32(c, &x));
        if (x >= c->nlocals) FAIL(c, VM_ERR_INVALID, "unknown local %u", x);
        charge(c, 1);
        TRY(push(c, c->ltypes[x]));
        c->vs[c->h - 1] = x;
        c->last_op = 0;
        return VM_OK;
    }
    case 0x21:
    case 0x22:
        TRY(ru32(c, &x));
        charge(c, 1);
        return set_local(c, x, op == 0x22);
    case 0x23: { /* global.get */
        TRY(ru32(c, &x));
        if (x >= c->m->nglobals) FAIL(c, VM_ERR_INVALID, "unknown global %u", x);
        charge(c, 1);
        TRY(push(c, c->m->globals[x].type));
        const uint32_t w[] = {OP_GLOBAL_GET, slot_of(c, c->h - 1), x};
        return emit_simple(c, 3, w);
    }
    case 0x24: { /* global.set */
        TRY(ru32(c, &x));
        if (x >= c->m->nglobals) FAIL(c, VM_ERR_INVALID, "unknown global %u", x);
        if (!c->m->globals[x].mut) FAIL(c, VM_ERR_INVALID, "global is immutable");
        charge(c, 1);
        TRY(pop(c, c->m->globals[x].type, NULL, &ia));
        TRY(src_slot(c, ia, &sa));
        if (reachable(c)) EMIT(c, OP_GLOBAL_SET, x, sa);
        return VM_OK;
    }
    case 0x25: { /* table.get */
        TRY(ru32(c, &x));
        TRY(check_table(c, x));
        charge(c, 1);
        TRY(pop(c, VM_I32, NULL, &ia));
        TRY(src_slot(c, ia, &sa));
        TRY(push(c, c->m->tables[x].elem));
        const uint32_t w[] = {OP_TABLE_GET, slot_of(c, c->h - 1), x, sa};
        return emit_simple(c, 4, w);
    }
    case 0x26: { /* table.set */
        TRY(ru32(c, &x));
        TRY(check_table(c, x));
        charge(c, 1);
        uint32_t s[2];
        uint8_t ty[2] = {VM_I32, c->m->tables[x].elem};
        TRY(pop_slots(c, 2, ty, s));
        if (reachable(c)) EMIT(c, OP_TABLE_SET, x, s[0], s[1]);
        return VM_OK;
    }
    case 0x28: return load(c, OP_I32_LOAD, I32, 2);
    case 0x29: return load(c, OP_I64_LOAD, I64, 3);
    case 0x2a: return load(c, OP_I32_LOAD, F32, 2);
    case 0x2b: return load(c, OP_I64_LOAD, F64, 3);
    case 0x2c: return load(c, OP_I32_LOAD8_S, I32, 0);
    case 0x2d: return load(c, OP_I32_LOAD8_U, I32, 0);
    case 0x2e: return load(c, OP_I32_LOAD16_S, I32, 1);
    case 0x2f: return load(c, OP_I32_LOAD16_U, I32, 1);
    case 0x30: return load(c, OP_I64_LOAD8_S, I64, 0);
    case 0x31: return load(c, OP_I64_LOAD8_U, I64, 0);
    case 0x32: return load(c, OP_I64_LOAD16_S, I64, 1);
    case 0x33: return load(c, OP_I64_LOAD16_U, I64, 1);
    case 0x34: return load(c, OP_I64_LOAD32_S, I64, 2);
    case 0x35: return load(c, OP_I64_LOAD32_U, I64, 2);
    case 0x36: return store(c, OP_I32_STORE, I32, 2);
    case 0x37: return store(c, OP_I64_STORE, I64, 3);
    case 0x38: return store(c, OP_I32_STORE, F32, 2);
    case 0x39: return store(c, OP_I64_STORE, F64, 3);
    case 0x3a: return store(c, OP_STORE8, I32, 0);
    case 0x3b: return store(c, OP_STORE16, I32, 1);
    case 0x3c: return store(c, OP_STORE8, I64, 0);
    case 0x3d: return store(c, OP_STORE16, I64, 1);
    case 0x3e: return store(c, OP_I32_STORE, I64, 2);
    case 0x3f:
    case 0x40: { /* memory.size, memory.grow */
        uint8_t z = 0;
        TRY(rbyte(c, &z));
        if (z != 0) FAIL(c, VM_ERR_MALFORMED, "zero byte expected");
        if (c->m->nmems == 0) FAIL(c, VM_ERR_INVALID, "unknown memory 0");
        charge(c, 1);
        if (op == 0x3f) {
            TRY(push(c, I32));
            const uint32_t w[] = {OP_MEMORY_SIZE, slot_of(c, c->h - 1)};
            return emit_simple(c, 2, w);
        }
        TRY(pop(c, I32, NULL, &ia));
        TRY(src_slot(c, ia, &sa));
        TRY(push(c, I32));
        if (reachable(c)) EMIT(c, OP_MEMORY_GROW, slot_of(c, c->h - 1), sa);
        return VM_OK;
    }
    case 0x41:
    case 0x42:
    case 0x43:
    case 0x44: { /* constants: pending until used */
        uint64_t v;
        uint8_t t = 0;
        if (op == 0x41) {
            int64_t s;
            TRY(rsleb(c, 32, &s));
            v = (uint32_t)s, t = I32;
        } else if (op == 0x42) {
            int64_t s;
            TRY(rsleb(c, 64, &s));
            v = (uint64_t)s, t = I64;
        } else if (op == 0x43) {
            if (c->end - c->p < 4) FAIL(c, VM_ERR_MALFORMED, "unexpected end of function body");
            uint32_t b;
            memcpy(&b, c->p, 4);
            c->p += 4;
            v = b, t = F32;
        } else {
            if (c->end - c->p < 8) FAIL(c, VM_ERR_MALFORMED, "unexpected end of function body");
            memcpy(&v, c->p, 8);
            c->p += 8;
            t = F64;
        }
        charge(c, 1);
        TRY(push(c, t));
        c->vkind[c->h - 1] = SRC_CONST;
        c->vc[c->h - 1] = v;
        c->last_op = 0;
        return VM_OK;
    }
    case 0xd0: { /* ref.null t */
        uint8_t t = 0;
        TRY(rbyte(c, &t));
        if (t != VM_FUNCREF && t != VM_EXTERNREF) FAIL(c, VM_ERR_MALFORMED, "malformed reference type");
        charge(c, 1);
        TRY(push(c, t));
        c->vkind[c->h - 1] = SRC_CONST;
        c->vc[c->h - 1] = 0;
        c->last_op = 0;
        return VM_OK;
    }
    case 0xd1: { /* ref.is_null */
        uint8_t t = 0;
        TRY(pop(c, 0, &t, &ia));
        if (t && t != VM_FUNCREF && t != VM_EXTERNREF) FAIL(c, VM_ERR_INVALID, "type mismatch: ref.is_null on a number");
        charge(c, 1);
        TRY(src_slot(c, ia, &sa));
        TRY(push(c, I32));
        const uint32_t w[] = {OP_I64_EQZ, slot_of(c, c->h - 1), sa};
        return emit_simple(c, 3, w);
    }
    case 0xd2: { /* ref.func */
        TRY(ru32(c, &x));
        if (x >= c->m->nfuncs) FAIL(c, VM_ERR_INVALID, "unknown function %u", x);
        if (!c->m->func_refd[x]) FAIL(c, VM_ERR_INVALID, "undeclared function reference %u", x);
        charge(c, 1);
        TRY(push(c, VM_FUNCREF));
        const uint32_t w[] = {OP_REF_FUNC, slot_of(c, c->h - 1), x};
        return emit_simple(c, 3, w);
    }
    case 0xfc: return prefixed(c);
    default:
        if (op >= 0x45 && op <= 0xc4) {
            charge(c, 1);
            return numeric(c, &numops[op - 0x45]);
        }
        c->p--;
        FAIL(c, VM_ERR_MALFORMED, "illegal opcode 0x%02x", op);
    }
}

vm_status vm__compile_func(vm_module *m, uint32_t fidx, vm_error *err) {
    vm_funcdef *f = &m->funcs[fidx];
    const vm_type *ft = &m->types[f->type];
    cc c0, *c = &c0;
    memset(c, 0, sizeof *c);
    c->m = m;
    c->f = f;
    c->p = f->body;
    c->end = f->body + f->body_len;
    c->base = f->body - f->body_off;
    c->err = err;
    c->metering = m->cfg.metering;
    vm_status st = VM_OK;

    /* locals */
    uint32_t ngroups;
    uint64_t total = ft->nparams;
    const uint8_t *groups_at;
    if ((st = ru32(c, &ngroups))) goto out;
    groups_at = c->p;
    for (uint32_t g = 0; g < ngroups; g++) {
        uint32_t n;
        uint8_t t = 0;
        if ((st = ru32(c, &n)) || (st = rbyte(c, &t))) goto out;
        if (t != VM_I32 && t != VM_I64 && t != VM_F32 && t != VM_F64 && t != VM_FUNCREF && t != VM_EXTERNREF) {
            c->p--;
            st = vm__errf(err, VM_ERR_MALFORMED, OFF(c), "malformed value type 0x%02x in locals", t);
            goto out;
        }
        total += n;
        if (total > UINT32_MAX) {
            st = vm__errf(err, VM_ERR_MALFORMED, OFF(c), "too many locals");
            goto out;
        }
    }
    if (total > VM_MAX_LOCALS) {
        st = vm__errf(err, VM_ERR_LIMIT, OFF(c), "too many locals: %llu (limit %u)", (unsigned long long)total, VM_MAX_LOCALS);
        goto out;
    }
    c->nlocals = (uint32_t)total;
    c->ltypes = malloc(total + 1);
    if (!c->ltypes) {
        st = vm__errf(err, VM_ERR_NOMEM, 0, "out of memory");
        goto out;
    }
    memcpy(c->ltypes, ft->types, ft->nparams);
    {
        const uint8_t *save = c->p;
        c->p = groups_at;
        uint32_t k = ft->nparams;
        for (uint32_t g = 0; g < ngroups; g++) {
            uint32_t n;
            uint8_t t = 0;
            (void)ru32(c, &n);
            (void)rbyte(c, &t);
            memset(c->ltypes + k, t, n);
            k += n;
        }
        c->p = save;
    }

    /* the function's own block */
    if ((st = push_ctl(c, K_FUNC, 0, NULL, ft->nresults, ft->types + ft->nparams))) goto out;
    if ((st = fuel_begin(c, true))) goto out;
    while (c->nc > 0) {
        uint8_t op = 0;
        if (c->p >= c->end) {
            st = vm__errf(err, VM_ERR_MALFORMED, OFF(c), "unexpected end of function body: END opcode expected");
            goto out;
        }
        op = *c->p++;
        if ((st = instr(c, op))) goto out;
    }
    if (c->p != c->end) {
        st = vm__errf(err, VM_ERR_MALFORMED, OFF(c), "section size mismatch: code after the function's end");
        goto out;
    }
    f->nlocals = c->nlocals;
    f->frame_size = c->nlocals + c->maxh + 2;
    f->code = c->code;
    f->code_len = c->len;
    c->code = NULL;
out:
    free(c->code);
    free(c->ltypes);
    free(c->vt);
    free(c->vkind);
    free(c->vs);
    free(c->vc);
    free(c->c);
    return st;
}
