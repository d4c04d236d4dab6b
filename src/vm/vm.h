/* vm: OutLayer's WebAssembly engine. Decodes and validates WebAssembly 2.0 core modules (no SIMD),
 * translates each function once into internal code, and interprets it with deterministic fuel
 * metering (docs/engine.md). No I/O and no global mutable state: a vm_module is immutable once made
 * and may be shared by any number of instances on any threads; a vm_instance is used by one thread
 * at a time (only vm_interrupt may be called from another thread).
 *
 * Ownership: every *_new returns an object the caller owns and frees with the matching *_free.
 * Byte buffers passed in are borrowed for the duration of the call only. */
#ifndef OUTLAYER_VM_H
#define OUTLAYER_VM_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Limits and defaults, each with its reason. */
/* 64 MiB: the largest module a worker accepts by default; real programs are far smaller. */
#define VM_DEFAULT_MAX_MODULE_BYTES (64u << 20)
/* 10 million elements: more than any real program needs, small enough to bound memory (80 MB). */
#define VM_DEFAULT_MAX_TABLE_ELEMS 10000000u
/* 10,000 wasm frames: deep enough for recursive programs, bounded so memory stays predictable. The
 * interpreter does not recurse on the native stack for wasm-to-wasm calls. */
#define VM_DEFAULT_MAX_CALL_DEPTH 10000u
/* 1M cells (8 MiB) of value stack: locals and operands of all live frames. */
#define VM_DEFAULT_STACK_SLOTS (1u << 20)
/* Host functions may call back into wasm; this many nested entries at most (native stack bound). */
#define VM_MAX_REENTRY 64u

typedef struct vm_module vm_module;
typedef struct vm_instance vm_instance;
typedef struct vm_imports vm_imports;
typedef struct vm_host_call vm_host_call;

/* Value types, with their binary encodings. */
typedef enum vm_valtype {
    VM_I32 = 0x7F,
    VM_I64 = 0x7E,
    VM_F32 = 0x7D,
    VM_F64 = 0x7C,
    VM_FUNCREF = 0x70,
    VM_EXTERNREF = 0x6F,
} vm_valtype;

/* A reference. NULL is the null reference of either type. A funcref points to an engine-owned
 * function object; an externref is whatever the embedder passed in (never dereferenced). */
typedef void *vm_ref;

/* A typed value. Floats travel as their bit patterns so that NaN payloads are preserved exactly. */
typedef struct vm_value {
    vm_valtype type;
    union {
        uint32_t i32;
        uint64_t i64;
        uint32_t f32; /* bits */
        uint64_t f64; /* bits */
        vm_ref ref;
    } of;
} vm_value;

/* Error codes of vm_error.code. */
typedef enum vm_status {
    VM_OK = 0,
    VM_ERR_MALFORMED,     /* the binary does not decode */
    VM_ERR_INVALID,       /* it decodes but does not validate */
    VM_ERR_UNLINKABLE,    /* an import is missing or has the wrong type */
    VM_ERR_UNINSTANTIABLE, /* a segment is out of bounds or the start function trapped */
    VM_ERR_LIMIT,         /* a configured limit was exceeded (the message names it) */
    VM_ERR_NOMEM,         /* allocation failed */
    VM_ERR_ARG,           /* the embedder passed something wrong (unknown export, wrong arity...) */
} vm_status;

/* An error with a message; offset is the byte offset in the module binary where decoding or
 * validation failed (or 0 when it does not apply). */
typedef struct vm_error {
    vm_status code;
    uint64_t offset;
    char msg[256];
} vm_error;

/* Trap kinds returned by calls. VM_TRAP_NONE means the call returned normally. */
typedef enum vm_trap {
    VM_TRAP_NONE = 0,
    VM_TRAP_UNREACHABLE,
    VM_TRAP_MEMORY_OOB,
    VM_TRAP_TABLE_OOB,
    VM_TRAP_INDIRECT_NULL,
    VM_TRAP_INDIRECT_TYPE,
    VM_TRAP_UNINITIALIZED_ELEMENT,
    VM_TRAP_DIV_ZERO,
    VM_TRAP_INT_OVERFLOW,
    VM_TRAP_INVALID_CONVERSION,
    VM_TRAP_STACK_EXHAUSTED, /* call depth or value stack cap */
    VM_TRAP_OUT_OF_FUEL,
    VM_TRAP_INTERRUPTED, /* vm_interrupt was called */
    VM_TRAP_HOST,        /* a host function trapped; the message is its own */
    VM_TRAP_EXIT,        /* a host function asked to end the run (e.g. proc_exit); see vm_exit_code */
    VM_TRAP_NOMEM,
} vm_trap;

/* A short stable name for a trap kind ("out of fuel", "integer divide by zero", ...). */
const char *vm_trap_name(vm_trap t);

/* ---- Modules ---- */

/* Wasm 2.0 features that an embedder can refuse (NEAR, for instance, refuses multi-value). */
#define VM_FEATURE_SIGN_EXT 0x01u        /* i32.extend8_s ... */
#define VM_FEATURE_SAT_FLOAT_TO_INT 0x02u /* i32.trunc_sat_f32_s ... */
#define VM_FEATURE_MULTI_VALUE 0x04u     /* several results, blocks with params */
#define VM_FEATURE_BULK_MEMORY 0x08u     /* memory.copy/fill/init, data.drop, table.copy/init, passive segments */
#define VM_FEATURE_REFERENCE_TYPES 0x10u /* ref.*, table.get/set/grow/size/fill, typed select, several tables */
#define VM_FEATURE_MUTABLE_GLOBALS 0x20u /* importing or exporting mutable globals */

typedef struct vm_module_config {
    bool metering;           /* emit fuel charges (default true); off only for benchmarks */
    uint32_t disabled_features; /* VM_FEATURE_* bits refused with VM_ERR_INVALID naming the feature */
    uint64_t max_module_bytes; /* 0 = VM_DEFAULT_MAX_MODULE_BYTES */
} vm_module_config;

void vm_module_config_default(vm_module_config *cfg);

/* Decodes, validates and translates bytes[0..len). Returns NULL and fills err on failure; err->msg
 * names what is wrong and err->offset where. cfg may be NULL for defaults. */
vm_module *vm_module_new(const uint8_t *bytes, size_t len, const vm_module_config *cfg, vm_error *err);
/* Drops the caller's reference; the module is freed when no instance uses it any more. */
void vm_module_free(vm_module *m);

typedef enum vm_extern_kind { VM_EXTERN_FUNC = 0, VM_EXTERN_TABLE = 1, VM_EXTERN_MEMORY = 2, VM_EXTERN_GLOBAL = 3 } vm_extern_kind;

/* A function signature. The arrays are owned by whoever made the struct (the module for
 * introspection results, the caller when adding host functions). */
typedef struct vm_functype {
    const vm_valtype *params;
    uint32_t nparams;
    const vm_valtype *results;
    uint32_t nresults;
} vm_functype;

/* Import and export introspection; strings are owned by the module and are not NUL-safe for
 * names with embedded zeros (names are UTF-8 and NUL-terminated here; the lengths are exact). */
typedef struct vm_import_desc {
    const char *module;
    const char *name;
    vm_extern_kind kind;
    vm_functype func; /* when kind == VM_EXTERN_FUNC */
} vm_import_desc;

uint32_t vm_module_import_count(const vm_module *m);
void vm_module_import(const vm_module *m, uint32_t i, vm_import_desc *out);
uint32_t vm_module_export_count(const vm_module *m);
const char *vm_module_export_name(const vm_module *m, uint32_t i, vm_extern_kind *out_kind);
/* The signature of an exported function; false if there is no such function export. */
bool vm_module_export_functype(const vm_module *m, const char *name, vm_functype *out);

/* ---- Imports ---- */

/* A host function. args holds the arguments as 64-bit cells (i32 and f32 in the low 32 bits, refs
 * as pointers cast to uintptr_t); results must be filled the same way. Return VM_TRAP_NONE, or the
 * value of vm_host_trap / vm_host_exit / vm_host_charge. */
typedef vm_trap (*vm_host_fn)(vm_host_call *call, const uint64_t *args, uint64_t *results);

/* An import set. Entries are looked up by (module, name) at instantiation. */
vm_imports *vm_imports_new(void);
void vm_imports_free(vm_imports *imp);
/* Adds a host function; the signature arrays are copied. user is passed back through
 * vm_host_user. Returns false on allocation failure. */
bool vm_imports_add_func(vm_imports *imp, const char *module, const char *name, const vm_functype *type,
                         vm_host_fn fn, void *user);
/* Makes every export of inst importable as (module, export name). inst must outlive any instance
 * that links to it. */
bool vm_imports_add_instance(vm_imports *imp, const char *module, vm_instance *inst);

/* ---- Instances ---- */

typedef struct vm_instance_config {
    uint64_t fuel;              /* initial fuel, also used by the start function (default: UINT64_MAX) */
    uint32_t max_memory_pages;  /* cap below the module's own maximum (0 = 65536) */
    uint32_t max_table_elems;   /* cap on any table's size (0 = VM_DEFAULT_MAX_TABLE_ELEMS) */
    uint32_t max_call_depth;    /* wasm call frames (0 = VM_DEFAULT_MAX_CALL_DEPTH) */
    uint32_t stack_slots;       /* 64-bit value stack cells (0 = VM_DEFAULT_STACK_SLOTS) */
    uint32_t memory_min_pages;  /* if nonzero, the module's own memory starts with at least this many
                                   pages (NEAR gives every contract 1024); the cap still applies */
    void *user;                 /* returned by vm_instance_user and vm_host_instance_user */
    atomic_int *interrupt_flag; /* if set, the interrupt flag polled by this instance (borrowed; must
                                   outlive it): a wall-clock timer can then stop the start function
                                   before vm_instance_new returns by storing 1 in it */
} vm_instance_config;

void vm_instance_config_default(vm_instance_config *cfg);

/* Links m against imp (may be NULL when m has no imports), allocates memories, tables and globals,
 * applies active segments and runs the start function. On failure returns NULL and fills err
 * (VM_ERR_UNLINKABLE names the import; VM_ERR_UNINSTANTIABLE names the segment or the trap).
 * The instance holds a reference to m: vm_module_free may be called before the instance is freed.
 * An instance that fails after it may have stored references to its
 * functions in imported tables or globals is kept alive, owned by imp, until vm_imports_free. */
vm_instance *vm_instance_new(const vm_module *m, vm_imports *imp, const vm_instance_config *cfg,
                             vm_error *err);
void vm_instance_free(vm_instance *inst);
void *vm_instance_user(const vm_instance *inst);
const vm_module *vm_instance_module(const vm_instance *inst);

/* Calls the exported function name with nargs arguments (types must match the signature) and
 * writes up to nresults results. Returns the trap, VM_TRAP_NONE on success. When an argument is
 * wrong, returns VM_TRAP_HOST with a message. After a trap, vm_trap_message tells more. */
vm_trap vm_call(vm_instance *inst, const char *name, const vm_value *args, uint32_t nargs, vm_value *results,
                uint32_t nresults);
/* The same for export names given with a length (names may contain NUL bytes). */
vm_trap vm_call_n(vm_instance *inst, const char *name, size_t name_len, const vm_value *args, uint32_t nargs,
                  vm_value *results, uint32_t nresults);
bool vm_global_get_n(const vm_instance *inst, const char *name, size_t name_len, vm_value *out);
bool vm_module_export_functype_n(const vm_module *m, const char *name, size_t name_len, vm_functype *out);
/* Message of the last trap (never NULL; "" when none). Owned by the instance, valid until the next call. */
const char *vm_trap_message(const vm_instance *inst);
/* Exit code given to vm_host_exit by the last run that ended with VM_TRAP_EXIT. */
int32_t vm_exit_code(const vm_instance *inst);

/* Reads an exported global's current value; false if there is no such global export. */
bool vm_global_get(const vm_instance *inst, const char *name, vm_value *out);

/* Fuel: remaining units. Setting it is allowed between calls and from host functions. */
void vm_set_fuel(vm_instance *inst, uint64_t fuel);
uint64_t vm_get_fuel(const vm_instance *inst);

/* Sets the interrupt flag: the running call (on any thread) stops with VM_TRAP_INTERRUPTED at the
 * next loop back-edge or call. Async-signal-safe and thread-safe. The flag stays set (and later
 * calls stop at once) until vm_interrupt_reset. */
void vm_interrupt(vm_instance *inst);
void vm_interrupt_reset(vm_instance *inst);

/* Memory 0 of the instance (own or imported): size in bytes and the largest size it reached. */
uint64_t vm_memory_size(const vm_instance *inst);
uint64_t vm_memory_peak(const vm_instance *inst);
/* True when a memory.grow was refused because of max_memory_pages (not the module's own max). */
bool vm_memory_limit_hit(const vm_instance *inst);
/* Bounds-checked copies in and out of memory 0; false when [addr, addr+len) is out of bounds. */
bool vm_memory_read(const vm_instance *inst, uint64_t addr, void *dst, size_t len);
bool vm_memory_write(vm_instance *inst, uint64_t addr, const void *src, size_t len);

/* ---- Inside host functions ---- */

void *vm_host_user(const vm_host_call *call);          /* the user pointer given with the function */
vm_instance *vm_host_instance(vm_host_call *call);     /* the instance that made the call */
/* Bounds-checked view of the caller's memory 0: a pointer to len bytes at addr, or NULL when out of
 * bounds or there is no memory. Valid until the host function returns. Counts toward the host
 * call's per-64-byte fuel charge. */
uint8_t *vm_host_mem(vm_host_call *call, uint64_t addr, uint64_t len);
bool vm_host_read(vm_host_call *call, uint64_t addr, void *dst, uint64_t len);
bool vm_host_write(vm_host_call *call, uint64_t addr, const void *src, uint64_t len);
/* Records a trap message and returns VM_TRAP_HOST. */
vm_trap vm_host_trap(vm_host_call *call, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Records an exit code and returns VM_TRAP_EXIT. */
vm_trap vm_host_exit(vm_host_call *call, int32_t code);
/* Charges extra fuel; returns VM_TRAP_OUT_OF_FUEL (with nothing charged) if not enough is left. */
vm_trap vm_host_charge(vm_host_call *call, uint64_t units);

#endif
