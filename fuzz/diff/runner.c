/* fuzz/diff/runner: runs a module from binaryen's translate-to-fuzz on OutLayer's engine and prints
 * a transcript that fuzz/diff/runner.mjs prints identically on V8: every exported function is
 * called in export order with zero arguments; each fuzzing-support log call and each result is a
 * line; a trap is "trap" ("trap stack" for call-stack exhaustion, whose depth legitimately differs
 * between engines); NaNs are printed as "nan" (their bits may differ: V8 does not keep f32 payloads).
 * Usage: runner FILE.wasm. Exit 0 when the module ran, 2 when it did not instantiate. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm/vm.h"

static void print_val(vm_valtype t, uint64_t bits)
{
    switch (t) {
    case VM_I32: printf(" i32:%" PRId32, (int32_t)(uint32_t)bits); break;
    case VM_I64: printf(" i64:%" PRId64, (int64_t)bits); break;
    case VM_F32: {
        uint32_t b = (uint32_t)bits;
        if ((b & 0x7f800000u) == 0x7f800000u && (b & 0x7fffffu)) printf(" f32:nan");
        else printf(" f32:%08" PRIx32, b);
        break;
    }
    case VM_F64:
        if ((bits & 0x7ff0000000000000ull) == 0x7ff0000000000000ull && (bits & 0xfffffffffffffull)) printf(" f64:nan");
        else printf(" f64:%016" PRIx64, bits);
        break;
    default: printf(" ref:%s", bits ? "nonnull" : "null"); break;
    }
}

static vm_trap log_fn(vm_host_call *call, const uint64_t *args, uint64_t *results)
{
    (void)results;
    printf("log");
    print_val((vm_valtype)(uintptr_t)vm_host_user(call), args[0]);
    printf("\n");
    return VM_TRAP_NONE;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: runner FILE.wasm\n");
        return 64;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 66;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *bytes = malloc(n > 0 ? (size_t)n : 1);
    if (!bytes || fread(bytes, 1, (size_t)n, f) != (size_t)n) return 66;
    fclose(f);
    vm_error err;
    vm_module *m = vm_module_new(bytes, (size_t)n, NULL, &err);
    if (!m) {
        printf("invalid\n");
        fprintf(stderr, "runner: %s\n", err.msg);
        return 2;
    }
    vm_imports *imp = vm_imports_new();
    static const char *const names[4] = {"log-i32", "log-i64", "log-f32", "log-f64"};
    static const vm_valtype types[4] = {VM_I32, VM_I64, VM_F32, VM_F64};
    for (int i = 0; i < 4; i++) {
        vm_functype ft = {&types[i], 1, NULL, 0};
        vm_imports_add_func(imp, "fuzzing-support", names[i], &ft, log_fn, (void *)(uintptr_t)types[i]);
    }
    vm_instance_config ic;
    vm_instance_config_default(&ic);
    ic.fuel = UINT64_MAX;
    vm_instance *inst = vm_instance_new(m, imp, &ic, &err);
    if (!inst) {
        printf("uninstantiable\n");
        fprintf(stderr, "runner: %s\n", err.msg);
        return 2;
    }
    uint32_t ne = vm_module_export_count(m);
    for (uint32_t i = 0; i < ne; i++) {
        vm_extern_kind k;
        const char *name = vm_module_export_name(m, i, &k);
        vm_functype ft;
        if (k != VM_EXTERN_FUNC || !vm_module_export_functype(m, name, &ft)) continue;
        printf("call %s\n", name);
        vm_value args[64], res[64];
        if (ft.nparams > 64 || ft.nresults > 64) continue;
        for (uint32_t a = 0; a < ft.nparams; a++) {
            memset(&args[a], 0, sizeof args[a]);
            args[a].type = ft.params[a];
        }
        vm_trap t = vm_call(inst, name, args, ft.nparams, res, ft.nresults);
        if (t == VM_TRAP_STACK_EXHAUSTED) {
            printf("trap stack\n");
        } else if (t != VM_TRAP_NONE) {
            printf("trap\n");
        } else {
            printf("result");
            for (uint32_t r = 0; r < ft.nresults; r++) print_val(res[r].type, res[r].type == VM_I32 || res[r].type == VM_F32 ? res[r].of.i32 : res[r].of.i64);
            printf("\n");
        }
    }
    vm_instance_free(inst);
    vm_imports_free(imp);
    vm_module_free(m);
    free(bytes);
    return 0;
}
