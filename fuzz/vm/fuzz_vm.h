/* fuzz_vm: the engine's fuzz entry point, shared by the libFuzzer target (fuzz_vm.c linked with
 * -fsanitize=fuzzer) and the corpus replay program that runs in every build (replay.c). */
#ifndef OUTLAYER_FUZZ_VM_H
#define OUTLAYER_FUZZ_VM_H

#include <stddef.h>
#include <stdint.h>

/* Runs one input through decode, validation, instantiation and every exported function, checking
 * invariants (abort() on a violation). Always returns 0, as libFuzzer requires. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* How far inputs got, summed over every call of LLVMFuzzerTestOneInput in this process (for the
 * replay test's report and its "the corpus reaches execution" check). Not thread-safe; libFuzzer and
 * the replay run inputs one at a time. */
typedef struct fuzz_vm_stats {
    uint64_t inputs;       /* inputs seen */
    uint64_t decoded;      /* vm_module_new succeeded */
    uint64_t instantiated; /* vm_instance_new succeeded */
    uint64_t calls;        /* exported functions called */
    uint64_t returned;     /* calls that returned without a trap */
} fuzz_vm_stats;

extern fuzz_vm_stats fuzz_vm_totals;

#endif
