/* vm: an interrupt flag owned by the embedder stops a start function that never ends, before
 * vm_instance_new returns (the WASI runtime's wall-clock timer relies on it). */
#include <pthread.h>
#include <time.h>

#include "test.h"
#include "vm/vm.h"

static atomic_int flag;

static void *set_later(void *arg) {
    (void)arg;
    struct timespec ts = {0, 100 * 1000000L};
    nanosleep(&ts, NULL);
    atomic_store(&flag, 1);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 2) T_FAIL("usage: test_vm_interrupt startloop.wasm");
    FILE *f = fopen(argv[1], "rb");
    if (!f) T_FAIL("cannot open %s", argv[1]);
    uint8_t buf[4096];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    vm_error err;
    vm_module *m = vm_module_new(buf, len, NULL, &err);
    if (!m) T_FAIL("load: %s", err.msg);
    vm_instance_config cfg;
    vm_instance_config_default(&cfg); /* unlimited fuel: only the interrupt can stop it */
    atomic_init(&flag, 0);
    cfg.interrupt_flag = &flag;
    pthread_t th;
    pthread_create(&th, NULL, set_later, NULL);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    vm_instance *inst = vm_instance_new(m, NULL, &cfg, &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    pthread_join(th, NULL);
    ASSERT_TRUE(inst == NULL);
    ASSERT_EQ(err.code, VM_ERR_UNINSTANTIABLE);
    ASSERT_CONTAINS(err.msg, "interrupted");
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    ASSERT_TRUE(s < 10.0);
    vm_module_free(m);
    return 0;
}
