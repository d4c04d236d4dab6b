/* vm: malformed and invalid modules are refused with an error that names the problem and its
 * byte offset; limits are named; hostile bytes never crash. */
#include "test.h"
#include "vm/vm.h"

#define HDR 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00
/* type 0: [] -> [i32]; function 0 of type 0 exported as "f" */
#define PRE HDR, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f, 0x03, 0x02, 0x01, 0x00, 0x07, 0x05, 0x01, 0x01, 0x66, 0x00, 0x00

static vm_error load_err(const uint8_t *b, size_t n) {
    vm_error err;
    vm_module *m = vm_module_new(b, n, NULL, &err);
    if (m) T_FAIL("module unexpectedly accepted");
    ASSERT_TRUE(err.msg[0] != 0);
    return err;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t next(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)rng;
}

int main(void) {
    vm_error e;
    {
        const uint8_t b[] = {'a', 's', 'm', 0, 1, 0, 0, 0};
        e = load_err(b, sizeof b);
        ASSERT_EQ(e.code, VM_ERR_MALFORMED);
        ASSERT_CONTAINS(e.msg, "magic header not detected");
        ASSERT_EQ_U64(e.offset, 0);
    }
    {
        const uint8_t b[] = {0, 'a', 's', 'm', 2, 0, 0, 0};
        e = load_err(b, sizeof b);
        ASSERT_CONTAINS(e.msg, "unknown binary version");
        ASSERT_EQ_U64(e.offset, 4);
    }
    {
        const uint8_t b[] = {HDR, 0x01, 0x0a, 0x01, 0x60};
        e = load_err(b, sizeof b);
        ASSERT_EQ(e.code, VM_ERR_MALFORMED);
        ASSERT_CONTAINS(e.msg, "section size 10 out of bounds");
        ASSERT_EQ_U64(e.offset, 10);
    }
    {
        /* body: no locals, i64.const 0, end — but the function returns i32 */
        const uint8_t b[] = {PRE, 0x0a, 0x06, 0x01, 0x04, 0x00, 0x42, 0x00, 0x0b};
        e = load_err(b, sizeof b);
        ASSERT_EQ(e.code, VM_ERR_INVALID);
        ASSERT_CONTAINS(e.msg, "type mismatch");
        ASSERT_CONTAINS(e.msg, "at byte offset 34");
        ASSERT_EQ_U64(e.offset, 34);
    }
    {
        const uint8_t b[] = {PRE, 0x0a, 0x05, 0x01, 0x03, 0x00, 0xff, 0x0b};
        e = load_err(b, sizeof b);
        ASSERT_EQ(e.code, VM_ERR_MALFORMED);
        ASSERT_CONTAINS(e.msg, "illegal opcode 0xff");
        ASSERT_EQ_U64(e.offset, 31);
    }
    {
        /* i32.const with a 6-byte LEB */
        const uint8_t b[] = {PRE, 0x0a, 0x0b, 0x01, 0x09, 0x00, 0x41, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x0b};
        e = load_err(b, sizeof b);
        ASSERT_EQ(e.code, VM_ERR_MALFORMED);
        ASSERT_CONTAINS(e.msg, "integer representation too long");
    }
    {
        /* function and code counts differ */
        const uint8_t b[] = {PRE};
        e = load_err(b, sizeof b);
        ASSERT_CONTAINS(e.msg, "function and code section have inconsistent lengths");
    }
    {
        /* a valid module, then the limits: module size, memory cap, call depth */
        const uint8_t ok[] = {PRE, 0x0a, 0x06, 0x01, 0x04, 0x00, 0x41, 0x2a, 0x0b};
        vm_module_config mc;
        vm_module_config_default(&mc);
        mc.max_module_bytes = 20;
        ASSERT_TRUE(vm_module_new(ok, sizeof ok, &mc, &e) == NULL);
        ASSERT_EQ(e.code, VM_ERR_LIMIT);
        ASSERT_CONTAINS(e.msg, "max_module_bytes");
        vm_module *m = vm_module_new(ok, sizeof ok, NULL, &e);
        ASSERT_TRUE(m != NULL);
        vm_instance *inst = vm_instance_new(m, NULL, NULL, &e);
        ASSERT_TRUE(inst != NULL);
        vm_value r[1];
        ASSERT_EQ(vm_call(inst, "f", NULL, 0, r, 1), VM_TRAP_NONE);
        ASSERT_EQ(r[0].of.i32, 42);
        ASSERT_EQ(vm_call(inst, "g", NULL, 0, r, 1), VM_TRAP_HOST);
        ASSERT_CONTAINS(vm_trap_message(inst), "no exported function named \"g\"");
        vm_instance_free(inst);
        vm_module_free(m);
    }
    {
        /* (memory 10): refused under a cap of 5 pages, with the limit named */
        const uint8_t b[] = {HDR, 0x05, 0x03, 0x01, 0x00, 0x0a};
        vm_module *m = vm_module_new(b, sizeof b, NULL, &e);
        ASSERT_TRUE(m != NULL);
        vm_instance_config ic;
        vm_instance_config_default(&ic);
        ic.max_memory_pages = 5;
        ASSERT_TRUE(vm_instance_new(m, NULL, &ic, &e) == NULL);
        ASSERT_EQ(e.code, VM_ERR_LIMIT);
        ASSERT_CONTAINS(e.msg, "max_memory_pages");
        vm_module_free(m);
    }
    {
        /* (func $f call $f) exported: unbounded recursion ends with a stack-exhausted trap */
        const uint8_t b[] = {HDR, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00, 0x07, 0x05, 0x01,
                             0x01, 0x66, 0x00, 0x00, 0x0a, 0x06, 0x01, 0x04, 0x00, 0x10, 0x00, 0x0b};
        vm_module *m = vm_module_new(b, sizeof b, NULL, &e);
        if (!m) T_FAIL("load: %s", e.msg);
        vm_instance *inst = vm_instance_new(m, NULL, NULL, &e);
        ASSERT_EQ(vm_call(inst, "f", NULL, 0, NULL, 0), VM_TRAP_STACK_EXHAUSTED);
        ASSERT_STREQ(vm_trap_message(inst), "call stack exhausted");
        vm_instance_free(inst);
        vm_module_free(m);
    }
    {
        /* disabled features are refused with the feature named; the same bytes load by default */
        const uint8_t mv[] = {HDR, 0x01, 0x06, 0x01, 0x60, 0x00, 0x02, 0x7f, 0x7f};
        vm_module_config mc;
        vm_module_config_default(&mc);
        vm_module *m = vm_module_new(mv, sizeof mv, &mc, &e);
        ASSERT_TRUE(m != NULL);
        vm_module_free(m);
        mc.disabled_features = VM_FEATURE_MULTI_VALUE;
        ASSERT_TRUE(vm_module_new(mv, sizeof mv, &mc, &e) == NULL);
        ASSERT_EQ(e.code, VM_ERR_INVALID);
        ASSERT_CONTAINS(e.msg, "feature not enabled: multi-value");
        /* body: i32.const 1, i32.extend8_s, end */
        const uint8_t se[] = {PRE, 0x0a, 0x07, 0x01, 0x05, 0x00, 0x41, 0x01, 0xc0, 0x0b};
        m = vm_module_new(se, sizeof se, NULL, &e);
        ASSERT_TRUE(m != NULL);
        vm_module_free(m);
        mc.disabled_features = VM_FEATURE_SIGN_EXT;
        ASSERT_TRUE(vm_module_new(se, sizeof se, &mc, &e) == NULL);
        ASSERT_CONTAINS(e.msg, "feature not enabled: sign-extension");
    }
    {
        /* memory_min_pages raises the start size (NEAR's 1024 pages), still under the cap */
        const uint8_t b[] = {HDR, 0x05, 0x03, 0x01, 0x00, 0x01};
        vm_module *m = vm_module_new(b, sizeof b, NULL, &e);
        vm_instance_config ic;
        vm_instance_config_default(&ic);
        ic.memory_min_pages = 16;
        vm_instance *inst = vm_instance_new(m, NULL, &ic, &e);
        ASSERT_TRUE(inst != NULL);
        ASSERT_EQ_U64(vm_memory_size(inst), 16 * 65536);
        vm_instance_free(inst);
        ic.max_memory_pages = 8;
        ASSERT_TRUE(vm_instance_new(m, NULL, &ic, &e) == NULL);
        ASSERT_CONTAINS(e.msg, "max_memory_pages");
        vm_module_free(m);
    }
    {
        /* hostile bytes: random buffers and random mutations of a valid module never crash, and
         * every refusal has a message */
        const uint8_t ok[] = {PRE, 0x0a, 0x06, 0x01, 0x04, 0x00, 0x41, 0x2a, 0x0b};
        uint8_t buf[256];
        for (int i = 0; i < 20000; i++) {
            size_t n;
            if (i % 2) {
                n = sizeof ok;
                memcpy(buf, ok, n);
                for (int k = 0; k < 1 + i % 4; k++) buf[next() % n] = (uint8_t)next();
            } else {
                n = 8 + next() % 64;
                memcpy(buf, ok, 8);
                for (size_t k = 8; k < n; k++) buf[k] = (uint8_t)(next() % 16 == 0 ? next() : next() % 14);
            }
            vm_module *m = vm_module_new(buf, n, NULL, &e);
            if (!m) {
                ASSERT_TRUE(e.code != VM_OK && e.msg[0]);
                continue;
            }
            vm_instance_config ic;
            vm_instance_config_default(&ic);
            ic.fuel = 10000;
            vm_instance *inst = vm_instance_new(m, NULL, &ic, &e);
            if (inst) {
                vm_value r[4];
                (void)vm_call(inst, "f", NULL, 0, r, 4);
                vm_instance_free(inst);
            }
            vm_module_free(m);
        }
    }
    return 0;
}
