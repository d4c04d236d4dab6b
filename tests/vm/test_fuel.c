/* vm: every rule of the fuel model (docs/engine.md), exact counts, out-of-fuel behaviour and
 * metering off. The modules come from tests/vm/fuel.wat (compiled by wat2wasm at build time). */
#include "test.h"
#include "vm/vm.h"

static uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) T_FAIL("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n);
    if (!b || fread(b, 1, (size_t)n, f) != (size_t)n) T_FAIL("cannot read %s", path);
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* host.touch(addr, n): reads n bytes of memory through the bounded API. */
static vm_trap touch(vm_host_call *call, const uint64_t *args, uint64_t *results) {
    (void)results;
    if (!vm_host_mem(call, (uint32_t)args[0], (uint32_t)args[1])) return vm_host_trap(call, "touch out of bounds");
    return VM_TRAP_NONE;
}

static vm_module *mod;
static vm_imports *imp;

static vm_instance *fresh(uint64_t fuel) {
    vm_instance_config cfg;
    vm_instance_config_default(&cfg);
    cfg.fuel = fuel;
    vm_error err;
    vm_instance *inst = vm_instance_new(mod, imp, &cfg, &err);
    if (!inst) T_FAIL("instantiate: %s", err.msg);
    return inst;
}

/* Runs name(arg) with a large budget and returns the fuel it used. */
static uint64_t cost(const char *name, int nargs, uint32_t arg) {
    const uint64_t budget = 1000000000;
    vm_instance *inst = fresh(budget);
    vm_value a = {.type = VM_I32, .of.i32 = arg}, r[1];
    vm_trap t = vm_call(inst, name, &a, (uint32_t)nargs, r, 1);
    if (t != VM_TRAP_NONE) T_FAIL("%s trapped: %s", name, vm_trap_message(inst));
    uint64_t used = budget - vm_get_fuel(inst);
    vm_instance_free(inst);
    return used;
}

/* The smallest budget with which name(arg) completes, found by search; checks that one less traps
 * with VM_TRAP_OUT_OF_FUEL and never charges more than the budget. */
static void check_exact_budget(const char *name, int nargs, uint32_t arg, uint64_t expect) {
    vm_value a = {.type = VM_I32, .of.i32 = arg}, r[1];
    vm_instance *inst = fresh(expect);
    ASSERT_EQ(vm_call(inst, name, &a, (uint32_t)nargs, r, 1), VM_TRAP_NONE);
    ASSERT_EQ_U64(vm_get_fuel(inst), 0);
    vm_instance_free(inst);
    if (expect == 0) return;
    inst = fresh(expect - 1);
    ASSERT_EQ(vm_call(inst, name, &a, (uint32_t)nargs, r, 1), VM_TRAP_OUT_OF_FUEL);
    ASSERT_STREQ(vm_trap_message(inst), "out of fuel");
    ASSERT_TRUE(vm_get_fuel(inst) <= expect - 1); /* never more than the budget was charged */
    vm_instance_free(inst);
}

int main(int argc, char **argv) {
    if (argc < 2) T_FAIL("usage: test_fuel fuel.wasm");
    size_t len;
    uint8_t *bytes = read_file(argv[1], &len);
    vm_error err;
    mod = vm_module_new(bytes, len, NULL, &err);
    if (!mod) T_FAIL("load: %s", err.msg);
    imp = vm_imports_new();
    static const vm_valtype p2[2] = {VM_I32, VM_I32};
    vm_functype ft = {p2, 2, NULL, 0};
    ASSERT_TRUE(vm_imports_add_func(imp, "host", "touch", &ft, touch, NULL));

    /* every operator costs 1 ... */
    ASSERT_EQ_U64(cost("straight", 0, 0), 3);
    /* ... except nop, drop, block, loop, end (and else, return, unreachable) */
    ASSERT_EQ_U64(cost("zero_cost", 0, 0), 1);
    ASSERT_EQ_U64(cost("call", 0, 0), 2);
    /* loops: 8 per iteration + 1 on exit */
    ASSERT_EQ_U64(cost("loop", 1, 1), 9);
    ASSERT_EQ_U64(cost("loop", 1, 10), 81);
    ASSERT_EQ_U64(cost("loop", 1, 1000), 8001);
    /* bulk memory: 1 per started 64 bytes, at the boundaries */
    ASSERT_EQ_U64(cost("fill", 1, 0), 4);
    ASSERT_EQ_U64(cost("fill", 1, 1), 5);
    ASSERT_EQ_U64(cost("fill", 1, 64), 5);
    ASSERT_EQ_U64(cost("fill", 1, 65), 6);
    ASSERT_EQ_U64(cost("fill", 1, 65536), 4 + 1024);
    ASSERT_EQ_U64(cost("copy", 1, 63), 5);
    ASSERT_EQ_U64(cost("copy", 1, 128), 6);
    ASSERT_EQ_U64(cost("copy", 1, 129), 7);
    /* table bulk operations: 1 per element */
    ASSERT_EQ_U64(cost("tfill", 1, 0), 4);
    ASSERT_EQ_U64(cost("tfill", 1, 16), 20);
    /* memory.grow: 1024 per page requested, charged whether or not the grow succeeds */
    ASSERT_EQ_U64(cost("grow", 1, 0), 2);
    ASSERT_EQ_U64(cost("grow", 1, 1), 2 + 1024);
    ASSERT_EQ_U64(cost("grow", 1, 100), 2 + 100 * 1024); /* beyond the max of 4: fails, still charged */
    {
        vm_instance *inst = fresh(1000000);
        vm_value a = {.type = VM_I32, .of.i32 = 100}, r[1];
        ASSERT_EQ(vm_call(inst, "grow", &a, 1, r, 1), VM_TRAP_NONE);
        ASSERT_EQ(r[0].of.i32, 0xffffffffu);
        vm_instance_free(inst);
    }
    /* host calls: 100 + 1 per started 64 bytes moved */
    ASSERT_EQ_U64(cost("host", 1, 0), 3 + 100);
    ASSERT_EQ_U64(cost("host", 1, 64), 3 + 100 + 1);
    ASSERT_EQ_U64(cost("host", 1, 65), 3 + 100 + 2);

    /* A block is charged in full on entry: with one unit too few nothing of it runs. */
    check_exact_budget("straight", 0, 0, 3);
    check_exact_budget("loop", 1, 10, 81);
    check_exact_budget("fill", 1, 65, 6);
    check_exact_budget("grow", 1, 1, 1026);
    check_exact_budget("host", 1, 65, 105);
    {
        /* the grow is not performed when its charge cannot be paid */
        vm_instance *inst = fresh(1025);
        vm_value a = {.type = VM_I32, .of.i32 = 1}, r[1];
        ASSERT_EQ(vm_call(inst, "grow", &a, 1, r, 1), VM_TRAP_OUT_OF_FUEL);
        ASSERT_EQ_U64(vm_memory_size(inst), 65536);
        vm_instance_free(inst);
    }
    {
        /* out of fuel mid-loop: the used fuel never exceeds the budget, and stops within one block */
        vm_instance *inst = fresh(1000);
        vm_value a = {.type = VM_I32, .of.i32 = 1000000}, r[1];
        ASSERT_EQ(vm_call(inst, "loop", &a, 1, r, 1), VM_TRAP_OUT_OF_FUEL);
        ASSERT_TRUE(vm_get_fuel(inst) < 8); /* less than one loop body left */
        /* fuel can be added and the instance used again */
        vm_set_fuel(inst, 100);
        a.of.i32 = 10;
        ASSERT_EQ(vm_call(inst, "loop", &a, 1, r, 1), VM_TRAP_NONE);
        ASSERT_EQ_U64(vm_get_fuel(inst), 100 - 81);
        vm_instance_free(inst);
    }
    {
        /* interrupt flag: a set flag stops the next loop back-edge or call */
        vm_instance *inst = fresh(1000000);
        vm_interrupt(inst);
        vm_value a = {.type = VM_I32, .of.i32 = 10}, r[1];
        ASSERT_EQ(vm_call(inst, "loop", &a, 1, r, 1), VM_TRAP_INTERRUPTED);
        vm_interrupt_reset(inst);
        ASSERT_EQ(vm_call(inst, "loop", &a, 1, r, 1), VM_TRAP_NONE);
        vm_instance_free(inst);
    }
    vm_imports_free(imp);
    vm_module_free(mod);

    /* metering off: nothing is charged */
    vm_module_config mc;
    vm_module_config_default(&mc);
    mc.metering = false;
    mod = vm_module_new(bytes, len, &mc, &err);
    if (!mod) T_FAIL("load: %s", err.msg);
    imp = vm_imports_new();
    ASSERT_TRUE(vm_imports_add_func(imp, "host", "touch", &ft, touch, NULL));
    ASSERT_EQ_U64(cost("loop", 1, 1000), 0);
    ASSERT_EQ_U64(cost("straight", 0, 0), 0);
    vm_imports_free(imp);
    vm_module_free(mod);
    free(bytes);
    return 0;
}
