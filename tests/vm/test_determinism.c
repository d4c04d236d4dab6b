/* vm: the same module and input give the same result and the same fuel in every build. The
 * expected values are pinned here; ctest runs this test in the release build and in the
 * sanitizer build (scripts/test), so a difference between builds fails one of them. */
#include "test.h"
#include "vm/vm.h"

/* The result agrees with node (V8) running the same module. The fuel is pinned from the first run;
 * change it only with a deliberate change of the fuel model (docs/engine.md). */
#define EXPECT_RESULT 1654571279776ull
#define EXPECT_FUEL 4393133ull

int main(int argc, char **argv) {
    if (argc < 2) T_FAIL("usage: test_vm_determinism determinism.wasm");
    FILE *f = fopen(argv[1], "rb");
    if (!f) T_FAIL("cannot open %s", argv[1]);
    static uint8_t buf[1 << 16];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    vm_error err;
    vm_module *m = vm_module_new(buf, len, NULL, &err);
    if (!m) T_FAIL("load: %s", err.msg);
    const uint64_t budget = 100000000000ull;
    for (int round = 0; round < 2; round++) {
        vm_instance_config cfg;
        vm_instance_config_default(&cfg);
        cfg.fuel = budget;
        vm_instance *inst = vm_instance_new(m, NULL, &cfg, &err);
        if (!inst) T_FAIL("instantiate: %s", err.msg);
        vm_value r[1];
        vm_trap t = vm_call(inst, "run", NULL, 0, r, 1);
        if (t != VM_TRAP_NONE) T_FAIL("run trapped: %s", vm_trap_message(inst));
        uint64_t used = budget - vm_get_fuel(inst);
        printf("result %llu fuel %llu\n", (unsigned long long)r[0].of.i64, (unsigned long long)used);
        ASSERT_EQ_U64(r[0].of.i64, EXPECT_RESULT);
        ASSERT_EQ_U64(used, EXPECT_FUEL);
        vm_instance_free(inst);
    }
    vm_module_free(m);
    return 0;
}
