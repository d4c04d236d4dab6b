/* fuzz_vm: libFuzzer target for the WebAssembly engine (docs/fuzzing.md).
 *
 * Each input is taken as a module binary. It is decoded, validated and translated; if that works, it
 * is instantiated against an import set with a do-nothing host function for every function import
 * (other imports are left missing, so such modules stop at linking), under a small fuel budget and
 * memory and table caps; then every exported function is called with zero arguments of its types.
 * All of it runs twice on fresh instances and the two runs must agree exactly (traps, fuel left,
 * results, final memory): the engine must be deterministic. Then the module is translated again with
 * metering off and run as far as the metered run stayed within its fuel: traps, results and memory
 * must be the same (fuel charges must not change what a program does). Other invariants: an error always names
 * its problem (non-empty message), fuel never grows past the budget, memory never grows past the cap.
 * Everything allocated is freed before returning, so LeakSanitizer checks the whole lifecycle. */
#include "fuzz_vm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm/vm.h"

/* Limits of one run, each with its reason. */
/* 64 KiB: enough for every section kind and many functions, small enough to keep runs fast. */
#define FUZZ_MAX_INPUT (64u << 10)
/* Fuel for the start function and again for each exported call: bounds the time of one input. */
#define FUZZ_FUEL 100000u
/* Memory cap: 16 pages (1 MiB) keeps RSS low under ASan while still exercising memory.grow failure. */
#define FUZZ_MAX_PAGES 16u
/* Table cap: a module may declare millions of elements; a few thousand exercise the same paths. */
#define FUZZ_MAX_TABLE 4096u
/* Value stack: 64 Ki cells (512 KiB) instead of the default 8 MiB, so stack exhaustion is reached fast. */
#define FUZZ_STACK_SLOTS (1u << 16)
/* Exported functions called per run: bounds the time of modules with thousands of exports. */
#define FUZZ_MAX_CALLS 32u

fuzz_vm_stats fuzz_vm_totals;

#define CHECK(cond, ...)                                                                                   \
    do {                                                                                                   \
        if (!(cond)) {                                                                                     \
            fprintf(stderr, "fuzz_vm: invariant failed: %s: ", #cond);                                     \
            fprintf(stderr, __VA_ARGS__);                                                                  \
            fputc('\n', stderr);                                                                           \
            abort();                                                                                       \
        }                                                                                                  \
    } while (0)

/* What one run observed, compared between the two runs. */
typedef struct run_trace {
    vm_status inst_status;
    char inst_msg[sizeof(((vm_error *)0)->msg)];
    uint64_t fuel_after_start;
    uint32_t ncalls;
    struct {
        vm_trap trap;
        uint64_t fuel_left;
        uint64_t results_hash;
    } calls[FUZZ_MAX_CALLS];
    uint64_t mem_size, mem_hash;
    /* index of the first call that ran out of fuel (FUZZ_MAX_CALLS when none) */
    uint32_t first_out_of_fuel;
} run_trace;

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

/* The do-nothing host function: results are zero (null for references). user holds nresults. */
static vm_trap dummy_host(vm_host_call *call, const uint64_t *args, uint64_t *results)
{
    (void)args;
    size_t n = (size_t)(uintptr_t)vm_host_user(call);
    if (n) memset(results, 0, n * sizeof *results);
    return VM_TRAP_NONE;
}

static void check_error(const vm_error *err, const char *what)
{
    CHECK(err->code != VM_OK, "%s failed with code VM_OK", what);
    CHECK(memchr(err->msg, 0, sizeof err->msg) != NULL, "%s: message not terminated", what);
    CHECK(err->msg[0] != 0, "%s failed (code %d) with an empty message", what, (int)err->code);
}

/* Hashes a call's results; references count only as null / non-null (their addresses differ by run). */
static uint64_t hash_results(const vm_value *res, uint32_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t bits = 0;
        switch (res[i].type) {
        case VM_I32:
        case VM_F32: bits = res[i].of.i32; break;
        case VM_I64:
        case VM_F64: bits = res[i].of.i64; break;
        case VM_FUNCREF:
        case VM_EXTERNREF: bits = res[i].of.ref != NULL; break;
        }
        h = fnv(h, &res[i].type, sizeof res[i].type);
        h = fnv(h, &bits, sizeof bits);
    }
    return h;
}

/* Calls every exported function (up to max_calls) with zero arguments, recording into t. */
static void call_exports(vm_instance *inst, const vm_module *m, uint32_t max_calls, run_trace *t)
{
    uint32_t nexp = vm_module_export_count(m);
    for (uint32_t i = 0; i < nexp && t->ncalls < max_calls; i++) {
        vm_extern_kind kind;
        const char *name = vm_module_export_name(m, i, &kind);
        CHECK(name != NULL, "export %u has no name", i);
        if (kind == VM_EXTERN_GLOBAL) {
            vm_value g;
            (void)vm_global_get(inst, name, &g);
            continue;
        }
        vm_functype ft;
        if (kind != VM_EXTERN_FUNC || !vm_module_export_functype(m, name, &ft)) continue;
        vm_value *args = calloc(ft.nparams ? ft.nparams : 1, sizeof *args);
        vm_value *res = calloc(ft.nresults ? ft.nresults : 1, sizeof *res);
        CHECK(args && res, "out of memory for %u params, %u results", ft.nparams, ft.nresults);
        for (uint32_t k = 0; k < ft.nparams; k++) args[k].type = ft.params[k];
        vm_set_fuel(inst, FUZZ_FUEL);
        vm_trap trap = vm_call(inst, name, args, ft.nparams, res, ft.nresults);
        uint64_t left = vm_get_fuel(inst);
        CHECK(left <= FUZZ_FUEL, "fuel after a call is %llu, above the budget %u", (unsigned long long)left,
              FUZZ_FUEL);
        const char *tn = vm_trap_name(trap);
        CHECK(tn && tn[0], "trap %d has no name", (int)trap);
        CHECK(vm_trap_message(inst) != NULL, "vm_trap_message returned NULL");
        fuzz_vm_totals.calls++;
        if (trap == VM_TRAP_NONE) {
            fuzz_vm_totals.returned++;
            for (uint32_t k = 0; k < ft.nresults; k++)
                CHECK(res[k].type == ft.results[k], "result %u has type 0x%x, the signature says 0x%x", k,
                      (unsigned)res[k].type, (unsigned)ft.results[k]);
        }
        if (trap == VM_TRAP_OUT_OF_FUEL && t->first_out_of_fuel == FUZZ_MAX_CALLS) t->first_out_of_fuel = t->ncalls;
        t->calls[t->ncalls].trap = trap;
        t->calls[t->ncalls].fuel_left = left;
        t->calls[t->ncalls].results_hash = trap == VM_TRAP_NONE ? hash_results(res, ft.nresults) : 0;
        t->ncalls++;
        free(args);
        free(res);
    }
}

/* One full run over a decoded module: link, instantiate, call (at most max_calls exports), record,
 * free. */
static void run_once(const vm_module *m, uint32_t max_calls, run_trace *t)
{
    memset(t, 0, sizeof *t);
    t->first_out_of_fuel = FUZZ_MAX_CALLS;
    vm_imports *imp = vm_imports_new();
    CHECK(imp != NULL, "vm_imports_new failed");
    uint32_t nimp = vm_module_import_count(m);
    for (uint32_t i = 0; i < nimp; i++) {
        vm_import_desc d;
        vm_module_import(m, i, &d);
        CHECK(d.module && d.name, "import %u has no names", i);
        if (d.kind != VM_EXTERN_FUNC) continue;
        CHECK(vm_imports_add_func(imp, d.module, d.name, &d.func, dummy_host, (void *)(uintptr_t)d.func.nresults),
              "vm_imports_add_func failed");
    }
    vm_instance_config cfg;
    vm_instance_config_default(&cfg);
    cfg.fuel = FUZZ_FUEL;
    cfg.max_memory_pages = FUZZ_MAX_PAGES;
    cfg.max_table_elems = FUZZ_MAX_TABLE;
    cfg.stack_slots = FUZZ_STACK_SLOTS;
    vm_error err;
    memset(&err, 0, sizeof err);
    vm_instance *inst = vm_instance_new(m, imp, &cfg, &err);
    if (!inst) {
        check_error(&err, "vm_instance_new");
        t->inst_status = err.code;
        memcpy(t->inst_msg, err.msg, sizeof t->inst_msg);
        vm_imports_free(imp);
        return;
    }
    fuzz_vm_totals.instantiated++;
    t->fuel_after_start = vm_get_fuel(inst);
    CHECK(t->fuel_after_start <= FUZZ_FUEL, "fuel after instantiation is %llu, above the budget",
          (unsigned long long)t->fuel_after_start);
    call_exports(inst, m, max_calls, t);

    uint64_t size = vm_memory_size(inst);
    CHECK(size <= (uint64_t)FUZZ_MAX_PAGES * 65536u, "memory is %llu bytes, above the cap of %u pages",
          (unsigned long long)size, FUZZ_MAX_PAGES);
    CHECK(vm_memory_peak(inst) >= size, "memory peak below its size");
    t->mem_size = size;
    t->mem_hash = 0xcbf29ce484222325ull;
    uint8_t chunk[4096];
    for (uint64_t off = 0; off < size; off += sizeof chunk) {
        size_t n = size - off < sizeof chunk ? (size_t)(size - off) : sizeof chunk;
        CHECK(vm_memory_read(inst, off, chunk, n), "vm_memory_read inside the memory failed");
        t->mem_hash = fnv(t->mem_hash, chunk, n);
    }
    CHECK(!vm_memory_read(inst, size, chunk, 1), "vm_memory_read past the end succeeded");
    vm_instance_free(inst);
    vm_imports_free(imp);
}

/* Metering must not change what a program does: the run of the same module translated without fuel
 * charges (b) must agree with the metered run (a) up to the metered run's first out-of-fuel trap. */
static void compare_metering(const run_trace *a, const run_trace *b)
{
    CHECK(a->inst_status == b->inst_status, "instantiation with and without metering differs: %d vs %d (%s)",
          (int)a->inst_status, (int)b->inst_status, b->inst_msg);
    CHECK(a->first_out_of_fuel == b->ncalls || a->ncalls == b->ncalls, "number of calls differs");
    for (uint32_t i = 0; i < b->ncalls; i++) {
        CHECK(a->calls[i].trap == b->calls[i].trap, "call %u: trap with metering %s, without %s", i,
              vm_trap_name(a->calls[i].trap), vm_trap_name(b->calls[i].trap));
        CHECK(a->calls[i].results_hash == b->calls[i].results_hash, "call %u: results differ with metering off", i);
    }
    if (a->first_out_of_fuel == FUZZ_MAX_CALLS)
        CHECK(a->mem_size == b->mem_size && a->mem_hash == b->mem_hash, "final memory differs with metering off");
}

static void compare_runs(const run_trace *a, const run_trace *b)
{
    CHECK(a->inst_status == b->inst_status, "instantiation differs between runs: %d vs %d", (int)a->inst_status,
          (int)b->inst_status);
    CHECK(strcmp(a->inst_msg, b->inst_msg) == 0, "instantiation message differs: \"%s\" vs \"%s\"", a->inst_msg,
          b->inst_msg);
    CHECK(a->fuel_after_start == b->fuel_after_start, "start function fuel differs: %llu vs %llu",
          (unsigned long long)a->fuel_after_start, (unsigned long long)b->fuel_after_start);
    CHECK(a->ncalls == b->ncalls, "number of calls differs");
    for (uint32_t i = 0; i < a->ncalls; i++) {
        CHECK(a->calls[i].trap == b->calls[i].trap, "call %u: trap differs: %s vs %s", i,
              vm_trap_name(a->calls[i].trap), vm_trap_name(b->calls[i].trap));
        CHECK(a->calls[i].fuel_left == b->calls[i].fuel_left, "call %u: fuel left differs: %llu vs %llu", i,
              (unsigned long long)a->calls[i].fuel_left, (unsigned long long)b->calls[i].fuel_left);
        CHECK(a->calls[i].results_hash == b->calls[i].results_hash, "call %u: results differ", i);
    }
    CHECK(a->mem_size == b->mem_size && a->mem_hash == b->mem_hash, "final memory differs between runs");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_vm_totals.inputs++;
    if (size > FUZZ_MAX_INPUT) return 0;
    vm_module_config mcfg;
    vm_module_config_default(&mcfg);
    vm_error err;
    memset(&err, 0, sizeof err);
    vm_module *m = vm_module_new(data, size, &mcfg, &err);
    if (!m) {
        check_error(&err, "vm_module_new");
        CHECK(err.offset <= size, "error offset %llu is past the end of the %zu-byte input",
              (unsigned long long)err.offset, size);
        return 0;
    }
    fuzz_vm_totals.decoded++;
    run_trace first, second;
    run_once(m, FUZZ_MAX_CALLS, &first);
    run_once(m, FUZZ_MAX_CALLS, &second);
    compare_runs(&first, &second);
    vm_module_free(m);

    /* The same module without metering, run only as far as the metered run stayed within its fuel
     * (past that an unmetered loop could run forever). A start function that trapped may have run out
     * of fuel (the status does not say which trap), so such modules are not run unmetered. */
    if (first.inst_status == VM_ERR_UNINSTANTIABLE) return 0;
    mcfg.metering = false;
    vm_module *u = vm_module_new(data, size, &mcfg, &err);
    CHECK(u != NULL, "the module loads with metering but not without: %s", err.msg);
    run_trace unmetered;
    run_once(u, first.first_out_of_fuel, &unmetered);
    compare_metering(&first, &unmetered);
    vm_module_free(u);
    return 0;
}
