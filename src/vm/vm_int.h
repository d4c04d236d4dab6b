/* vm internals shared by decode.c, compile.c, interp.c and instance.c. Not for other modules.
 *
 * A module is decoded into the structures below, then each function body is validated and
 * translated in one pass (compile.c) into internal code: a stream of 32-bit words, each
 * instruction an opcode word followed by its operands. Operands are frame slot numbers (a frame is
 * an array of 64-bit cells: parameters, then locals, then the operand stack, whose height at every
 * point is known statically), immediates, or absolute code positions for branches. See
 * docs/engine.md for the design and the fuel model. */
#ifndef OUTLAYER_VM_INT_H
#define OUTLAYER_VM_INT_H

#include "vm/vm.h"

#include <stdatomic.h>

/* Structural limits of the decoder, each with its reason. Beyond them a module is refused with
 * VM_ERR_LIMIT (or VM_ERR_MALFORMED where the spec defines it) and a message naming the limit. */
#define VM_MAX_TYPES 100000u        /* far above real programs, bounds memory per module */
#define VM_MAX_FUNCS 1000000u       /* as above */
#define VM_MAX_PARAMS 1000u         /* host calls copy arguments on the native stack */
#define VM_MAX_RESULTS 1000u
#define VM_MAX_LOCALS 50000u        /* per function: bounds frame size */
#define VM_MAX_IMPORTS 100000u
#define VM_MAX_EXPORTS 100000u
#define VM_MAX_GLOBALS 1000000u
#define VM_MAX_SEGMENTS 100000u
#define VM_MAX_TABLES 100000u
#define VM_MAX_BR_TABLE 1000000u    /* entries of one br_table */
#define VM_MAX_BLOCK_DEPTH 10000u   /* nesting of blocks in one function */
#define VM_MAX_OPERAND_HEIGHT 100000u /* operand stack height in one function */
#define VM_MAX_CODE_WORDS (256u << 20) /* translated words per function (1 GiB): guards 32-bit targets */

#define VM_PAGE 65536u

/* A branch target with this bit set is a loop header (a FUEL_CHECK): the branch does the check and
 * the charge itself and continues after it, saving a dispatch per iteration. */
#define VM_LOOP_TARGET 0x80000000u

/* Internal opcodes. Each line: name. Operand layouts are documented in compile.c beside emitters. */
#define VM_OPS(X)                                                                                          \
    X(FUEL) X(FUEL_CHECK) X(BR) X(BR_IF) X(BR_UNLESS) X(BR_TABLE) X(RETURN) X(CALL) X(CALL_INDIRECT)     \
    X(UNREACHABLE) X(COPY) X(CONST32) X(CONST64) X(SELECT) X(GLOBAL_GET) X(GLOBAL_SET)                  \
    X(I32_LOAD) X(I64_LOAD) X(I32_LOAD8_S) X(I32_LOAD8_U) X(I32_LOAD16_S) X(I32_LOAD16_U)                 \
    X(I64_LOAD8_S) X(I64_LOAD8_U) X(I64_LOAD16_S) X(I64_LOAD16_U) X(I64_LOAD32_S) X(I64_LOAD32_U)        \
    X(I32_STORE) X(I64_STORE) X(STORE8) X(STORE16)                                                        \
    X(MEMORY_SIZE) X(MEMORY_GROW) X(MEMORY_INIT) X(DATA_DROP) X(MEMORY_COPY) X(MEMORY_FILL)               \
    X(TABLE_GET) X(TABLE_SET) X(TABLE_SIZE) X(TABLE_GROW) X(TABLE_FILL) X(TABLE_COPY) X(TABLE_INIT)      \
    X(ELEM_DROP) X(REF_FUNC)                                                                              \
    X(I32_EQZ) X(I32_CLZ) X(I32_CTZ) X(I32_POPCNT) X(I64_EQZ) X(I64_CLZ) X(I64_CTZ) X(I64_POPCNT)       \
    X(F32_ABS) X(F32_NEG) X(F32_CEIL) X(F32_FLOOR) X(F32_TRUNC) X(F32_NEAREST) X(F32_SQRT)               \
    X(F64_ABS) X(F64_NEG) X(F64_CEIL) X(F64_FLOOR) X(F64_TRUNC) X(F64_NEAREST) X(F64_SQRT)               \
    X(I32_WRAP_I64) X(I32_TRUNC_F32_S) X(I32_TRUNC_F32_U) X(I32_TRUNC_F64_S) X(I32_TRUNC_F64_U)          \
    X(I64_EXTEND_I32_S) X(I64_EXTEND_I32_U) X(I64_TRUNC_F32_S) X(I64_TRUNC_F32_U) X(I64_TRUNC_F64_S)     \
    X(I64_TRUNC_F64_U) X(F32_CONVERT_I32_S) X(F32_CONVERT_I32_U) X(F32_CONVERT_I64_S)                    \
    X(F32_CONVERT_I64_U) X(F32_DEMOTE_F64) X(F64_CONVERT_I32_S) X(F64_CONVERT_I32_U)                     \
    X(F64_CONVERT_I64_S) X(F64_CONVERT_I64_U) X(F64_PROMOTE_F32)                                          \
    X(I32_EXTEND8_S) X(I32_EXTEND16_S) X(I64_EXTEND8_S) X(I64_EXTEND16_S) X(I64_EXTEND32_S)             \
    X(I32_TRUNC_SAT_F32_S) X(I32_TRUNC_SAT_F32_U) X(I32_TRUNC_SAT_F64_S) X(I32_TRUNC_SAT_F64_U)          \
    X(I64_TRUNC_SAT_F32_S) X(I64_TRUNC_SAT_F32_U) X(I64_TRUNC_SAT_F64_S) X(I64_TRUNC_SAT_F64_U)          \
    X(I32_EQ) X(I32_NE) X(I32_LT_S) X(I32_LT_U) X(I32_GT_S) X(I32_GT_U) X(I32_LE_S) X(I32_LE_U)          \
    X(I32_GE_S) X(I32_GE_U) X(I64_EQ) X(I64_NE) X(I64_LT_S) X(I64_LT_U) X(I64_GT_S) X(I64_GT_U)         \
    X(I64_LE_S) X(I64_LE_U) X(I64_GE_S) X(I64_GE_U) X(F32_EQ) X(F32_NE) X(F32_LT) X(F32_GT) X(F32_LE)   \
    X(F32_GE) X(F64_EQ) X(F64_NE) X(F64_LT) X(F64_GT) X(F64_LE) X(F64_GE)                                \
    X(I32_ADD) X(I32_SUB) X(I32_MUL) X(I32_DIV_S) X(I32_DIV_U) X(I32_REM_S) X(I32_REM_U) X(I32_AND)      \
    X(I32_OR) X(I32_XOR) X(I32_SHL) X(I32_SHR_S) X(I32_SHR_U) X(I32_ROTL) X(I32_ROTR)                    \
    X(I64_ADD) X(I64_SUB) X(I64_MUL) X(I64_DIV_S) X(I64_DIV_U) X(I64_REM_S) X(I64_REM_U) X(I64_AND)      \
    X(I64_OR) X(I64_XOR) X(I64_SHL) X(I64_SHR_S) X(I64_SHR_U) X(I64_ROTL) X(I64_ROTR)                    \
    X(F32_ADD) X(F32_SUB) X(F32_MUL) X(F32_DIV) X(F32_MIN) X(F32_MAX) X(F32_COPYSIGN)                    \
    X(F64_ADD) X(F64_SUB) X(F64_MUL) X(F64_DIV) X(F64_MIN) X(F64_MAX) X(F64_COPYSIGN)                    \
    X(I32_ADD_I) X(I32_SUB_I) X(I32_AND_I) X(I32_OR_I) X(I32_XOR_I) X(I32_SHL_I) X(I32_SHR_S_I)          \
    X(I32_SHR_U_I) X(I32_MUL_I) X(I64_ADD_I) X(I64_AND_I) X(I64_SHL_I) X(I64_SHR_U_I) X(I64_SHR_S_I)      \
    X(I32_EQ_I) X(I32_NE_I) X(I32_LT_S_I) X(I32_LT_U_I) X(I32_GT_S_I) X(I32_GT_U_I) X(I32_LE_S_I)        \
    X(I32_LE_U_I) X(I32_GE_S_I) X(I32_GE_U_I) X(I32_ROTL_I) X(I32_ROTR_I) X(I64_SUB_I) X(I64_OR_I)        \
    X(I64_XOR_I) X(I64_MUL_I) X(I64_ROTL_I) X(I64_ROTR_I) X(I64_EQ_I) X(I64_NE_I) X(I64_LT_U_I)          \
    X(I64_GT_U_I) X(I64_LT_S_I) X(I64_GT_S_I)                                                             \
    X(BR_IF_I32_EQ_I) X(BR_IF_I32_NE_I) X(BR_IF_I32_LT_S_I) X(BR_IF_I32_LT_U_I) X(BR_IF_I32_GT_S_I)      \
    X(BR_IF_I32_GT_U_I) X(BR_IF_I32_LE_S_I) X(BR_IF_I32_LE_U_I) X(BR_IF_I32_GE_S_I) X(BR_IF_I32_GE_U_I)  \
    X(BR_IF_I64_EQ) X(BR_IF_I64_NE) X(BR_IF_I64_LT_S) X(BR_IF_I64_LT_U) X(BR_IF_I64_GT_S) X(BR_IF_I64_GT_U) \
    X(BR_IF_I64_EQ_I) X(BR_IF_I64_NE_I) X(BR_IF_I64_LT_S_I) X(BR_IF_I64_LT_U_I) X(BR_IF_I64_GT_S_I)      \
    X(BR_IF_I64_GT_U_I) X(I32_STORE_I) X(I64_STORE_I) X(STORE8_I) X(STORE16_I)                            \
    X(BR_IF_I32_EQZ) X(BR_IF_I32_EQ) X(BR_IF_I32_NE) X(BR_IF_I32_LT_S) X(BR_IF_I32_LT_U)                 \
    X(BR_IF_I32_GT_S) X(BR_IF_I32_GT_U) X(BR_IF_I32_LE_S) X(BR_IF_I32_LE_U) X(BR_IF_I32_GE_S)            \
    X(BR_IF_I32_GE_U)

typedef enum vm_op {
#define X(n) OP_##n,
    VM_OPS(X)
#undef X
        OP__COUNT
} vm_op;

/* A function type, interned per module. */
typedef struct vm_type {
    uint32_t nparams, nresults;
    uint8_t *types; /* nparams + nresults value types; owned by the module */
    vm_valtype *vtypes; /* the same as the public enum (for vm_functype); owned; NULL for host types */
} vm_type;

typedef struct vm_limits_t {
    uint32_t min, max;
    bool has_max;
} vm_limits_t;

typedef struct vm_tabletype {
    uint8_t elem; /* VM_FUNCREF or VM_EXTERNREF */
    vm_limits_t lim;
} vm_tabletype;

/* A constant expression (globals, segment offsets, element items). */
typedef enum { CE_I32, CE_I64, CE_F32, CE_F64, CE_GLOBAL, CE_NULL, CE_FUNC } vm_cekind;
typedef struct vm_constexpr {
    uint8_t kind;
    uint64_t v; /* value bits, or global/func index */
} vm_constexpr;

typedef struct vm_globaldef {
    uint8_t type;
    bool mut;
    vm_constexpr init;
} vm_globaldef;

typedef struct vm_importdef {
    char *module, *name; /* owned, NUL-terminated (names may also contain NUL bytes: see lengths) */
    uint32_t module_len, name_len;
    uint8_t kind;
    uint32_t type; /* func: type index */
    vm_tabletype table;
    vm_limits_t mem;
    uint8_t gtype;
    bool gmut;
} vm_importdef;

typedef struct vm_exportdef {
    char *name;
    uint32_t name_len;
    uint8_t kind;
    uint32_t idx;
} vm_exportdef;

enum { SEG_ACTIVE, SEG_PASSIVE, SEG_DECLARATIVE };

typedef struct vm_elemseg {
    uint8_t mode, type;
    uint32_t table;
    vm_constexpr offset;
    uint32_t count;
    vm_constexpr *items; /* owned */
} vm_elemseg;

typedef struct vm_dataseg {
    uint8_t mode;
    uint32_t mem;
    vm_constexpr offset;
    uint32_t len;
    uint8_t *bytes; /* owned copy */
} vm_dataseg;

/* A function: imported (code == NULL) or defined. */
typedef struct vm_funcdef {
    uint32_t type;
    uint32_t nlocals;    /* params + declared locals */
    uint32_t frame_size; /* cells: locals + max operand height + 1 */
    uint32_t *code;      /* translated code, owned; NULL for imports */
    uint32_t code_len;
    const uint8_t *body; /* during compilation only: the body bytes */
    uint32_t body_len;
    uint64_t body_off; /* offset of the body in the binary, for messages */
} vm_funcdef;

struct vm_module {
    atomic_uint refs; /* the creator's reference plus one per instance */
    vm_module_config cfg;
    uint32_t ntypes;
    vm_type *types;
    uint32_t nimports;
    vm_importdef *imports;
    uint32_t nfuncs, nfunc_imports;
    vm_funcdef *funcs;
    uint32_t ntables, ntable_imports;
    vm_tabletype *tables;
    uint32_t nmems, nmem_imports;
    vm_limits_t *mems;
    uint32_t nglobals, nglobal_imports;
    vm_globaldef *globals;
    uint32_t nexports;
    vm_exportdef *exports;
    bool has_start;
    uint32_t start;
    uint32_t nelems;
    vm_elemseg *elems;
    uint32_t ndatas;
    vm_dataseg *datas;
    bool has_datacount;
    uint32_t datacount;
    uint8_t *func_refd; /* nfuncs flags: function is referenced outside function bodies (C.refs) */
};

/* Runtime objects. */
typedef struct vm_memory {
    uint8_t *data;
    uint64_t size; /* bytes */
    uint32_t pages, max_pages; /* max_pages: module max combined with the instance cap */
    uint32_t module_max;
    uint64_t peak;
    bool limit_hit;
} vm_memory;

typedef struct vm_table {
    vm_ref *elems;
    uint32_t size, max;
    uint8_t type;
} vm_table;

typedef struct vm_global {
    uint64_t val;
    uint8_t type;
    bool mut;
} vm_global;

/* A function instance: what funcref values point to. */
typedef struct vm_funcinst {
    vm_instance *inst;       /* owning instance (NULL for host functions) */
    const vm_funcdef *def;   /* defined function, or NULL for host */
    const vm_type *type;     /* signature */
    vm_host_fn host;
    void *host_user;
    vm_type host_type; /* host functions own their type here */
} vm_funcinst;

typedef struct vm_frame {
    const uint32_t *ip, *code;
    uint64_t *fp;
    vm_instance *inst;
} vm_frame;

struct vm_host_call {
    vm_instance *inst; /* the instance whose code made the call (its memory is the one seen) */
    vm_instance *top;  /* the instance vm_call ran on: fuel and trap message live there */
    void *user;
    uint64_t bytes; /* bytes moved through vm_host_mem/read/write, for the per-64-byte charge */
};

struct vm_instance {
    const vm_module *mod;
    void *user;
    vm_funcinst **funcs;   /* nfuncs pointers (imports point into other instances / import set) */
    vm_funcinst *own_funcs; /* defined functions, owned */
    vm_table **tables;
    vm_table *own_tables;
    vm_memory **mems;
    vm_memory *own_mems;
    vm_global **globals;
    vm_global *own_globals;
    vm_ref **elem_refs; /* per element segment: evaluated items (NULL when dropped/empty) */
    uint32_t *elem_len;
    uint8_t *data_dropped;
    vm_funcinst *host_funcs; /* copies of imported host functions, owned */
    uint32_t nhost_funcs;

    /* Execution state. */
    uint64_t fuel;
    atomic_int interrupt; /* the instance's own flag */
    atomic_int *intr;     /* the flag polled: &interrupt or the embedder's */
    uint64_t *stack;
    uint32_t stack_slots;
    vm_frame *frames;
    uint32_t max_depth;
    uint32_t max_table_elems;
    bool running;
    int32_t exit_code;
    char trap_msg[256];
};

/* LEB128 readers shared by the decoder and the translator. Each advances *p past what it read and
 * returns NULL, or the reason the integer is malformed (the caller adds the offset). */
static inline const char *vm__leb_u32(const uint8_t **p, const uint8_t *end, uint32_t *out) {
    uint64_t v = 0;
    for (unsigned shift = 0;; shift += 7) {
        if (*p >= end) return "unexpected end while reading an integer";
        uint8_t b = *(*p)++;
        if (shift == 28 && (b & 0x70)) return "integer too large";
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) break;
        if (shift == 28) return "integer representation too long";
    }
    *out = (uint32_t)v;
    return NULL;
}

/* Signed LEB128 of `bits` bits (32, 33 or 64): the unused bits of the last byte must extend the sign. */
static inline const char *vm__leb_s(const uint8_t **p, const uint8_t *end, unsigned bits, int64_t *out) {
    uint64_t v = 0;
    unsigned shift = 0;
    uint8_t b;
    unsigned maxbytes = (bits + 6) / 7;
    for (unsigned i = 0;; i++) {
        if (*p >= end) return "unexpected end while reading an integer";
        b = *(*p)++;
        if (i == maxbytes - 1) {
            unsigned used = bits - 7 * i; /* bits taken from this byte */
            if (b & 0x80) return "integer representation too long";
            int8_t rest = (int8_t)(b << 1) >> 1; /* sign-extend 7 bits */
            int8_t top = (int8_t)(rest >> (used - 1));
            if (top != 0 && top != -1) return "integer too large";
        }
        v |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80)) break;
    }
    if (shift < 64 && (b & 0x40)) v |= ~(uint64_t)0 << shift;
    *out = (int64_t)v;
    return NULL;
}

/* decode.c */
vm_status vm__decode(vm_module *m, const uint8_t *bytes, size_t len, vm_error *err);
void vm__module_clear(vm_module *m);
/* compile.c */
vm_status vm__compile_func(vm_module *m, uint32_t fidx, vm_error *err);
/* interp.c: runs f with its arguments already at inst->stack[0..]; results left there. */
vm_trap vm__run(vm_instance *inst, vm_funcinst *f);
/* shared helpers */
vm_status vm__errf(vm_error *err, vm_status code, uint64_t off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
bool vm__types_equal(const vm_type *a, const vm_type *b);
vm_trap vm__trapf(vm_instance *inst, vm_trap t, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Grows memory by delta pages; returns the old page count or -1. Never charges fuel. */
int64_t vm__memory_grow(vm_memory *mem, uint32_t delta);
int64_t vm__table_grow(vm_table *t, uint32_t delta, vm_ref init, uint32_t cap);

#endif
