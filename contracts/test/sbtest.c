/* sbtest: a small NEAR contract in freestanding C for the sandbox tests (tests/sandbox). Built with
 * clang --target=wasm32-unknown-unknown -mcpu=mvp -nostdlib. Arguments and results are raw bytes. */
#include <stdint.h>

#define IMPORT(n) __attribute__((import_module("env"), import_name(n)))
#define EXPORT(n) __attribute__((export_name(n)))
IMPORT("input") void input(uint64_t reg);
IMPORT("register_len") uint64_t register_len(uint64_t reg);
IMPORT("read_register") void read_register(uint64_t reg, uint64_t ptr);
IMPORT("value_return") void value_return(uint64_t len, uint64_t ptr);
IMPORT("log_utf8") void log_utf8(uint64_t len, uint64_t ptr);
IMPORT("panic_utf8") void panic_utf8(uint64_t len, uint64_t ptr);
IMPORT("storage_write") uint64_t storage_write(uint64_t kl, uint64_t kp, uint64_t vl, uint64_t vp, uint64_t reg);
IMPORT("storage_read") uint64_t storage_read(uint64_t kl, uint64_t kp, uint64_t reg);
IMPORT("attached_deposit") void attached_deposit(uint64_t ptr);
IMPORT("current_account_id") void current_account_id(uint64_t reg);
IMPORT("predecessor_account_id") void predecessor_account_id(uint64_t reg);
IMPORT("promise_create") uint64_t promise_create(uint64_t al, uint64_t ap, uint64_t ml, uint64_t mp, uint64_t gl,
                                                 uint64_t gp, uint64_t amount_ptr, uint64_t gas);
IMPORT("promise_then") uint64_t promise_then(uint64_t idx, uint64_t al, uint64_t ap, uint64_t ml, uint64_t mp, uint64_t gl,
                                             uint64_t gp, uint64_t amount_ptr, uint64_t gas);
IMPORT("promise_return") void promise_return(uint64_t idx);
IMPORT("promise_results_count") uint64_t promise_results_count(void);
IMPORT("promise_result") uint64_t promise_result(uint64_t idx, uint64_t reg);
IMPORT("promise_yield_create") uint64_t promise_yield_create(uint64_t ml, uint64_t mp, uint64_t al, uint64_t ap, uint64_t gas,
                                                             uint64_t weight, uint64_t reg);
IMPORT("promise_yield_resume") uint32_t promise_yield_resume(uint64_t dl, uint64_t dp, uint64_t pl, uint64_t pp);
IMPORT("sha256") void sha256(uint64_t len, uint64_t ptr, uint64_t reg);
IMPORT("keccak256") void keccak256(uint64_t len, uint64_t ptr, uint64_t reg);
IMPORT("keccak512") void keccak512(uint64_t len, uint64_t ptr, uint64_t reg);

static uint8_t buf[8192];
static uint8_t out[8192];

static uint64_t ptr(const void *p) { return (uint64_t)(uintptr_t)p; }
static uint64_t slen(const char *s) {
    uint64_t n = 0;
    while (s[n]) n++;
    return n;
}
static void cpy(uint8_t *d, const uint8_t *s, uint64_t n) {
    for (uint64_t i = 0; i < n; i++) d[i] = s[i];
}
static void log_str(const char *s) { log_utf8(slen(s), ptr(s)); }
static void panic_str(const char *s) { panic_utf8(slen(s), ptr(s)); }
static uint64_t read_input(void) {
    input(0);
    uint64_t n = register_len(0);
    if (n > sizeof buf) {
        panic_str("input too big");
    }
    read_register(0, ptr(buf));
    return n;
}
static void ret_str(const char *s) { value_return(slen(s), ptr(s)); }

/* echo: logs "echo called" and returns its input */
EXPORT("echo") void echo(void) {
    uint64_t n = read_input();
    log_str("echo called");
    value_return(n, ptr(buf));
}

/* set: stores the input under "k"; get: returns it */
EXPORT("set") void set(void) {
    uint64_t n = read_input();
    storage_write(1, ptr("k"), n, ptr(buf), 1);
}
EXPORT("get") void get(void) {
    if (storage_read(1, ptr("k"), 0)) {
        uint64_t n = register_len(0);
        read_register(0, ptr(buf));
        value_return(n, ptr(buf));
    }
}

EXPORT("boom") void boom(void) {
    log_str("before panic");
    panic_str("boom");
}

/* deposit: returns the attached deposit's low 64 bits in decimal */
EXPORT("deposit") void deposit(void) {
    uint8_t d[16];
    attached_deposit(ptr(d));
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | d[i];
    char s[24];
    int k = 23;
    s[k] = 0;
    do {
        s[--k] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    ret_str(s + k);
}

EXPORT("burn") void burn(void) {
    volatile uint64_t x = 1;
    for (;;) x = x * 3 + 1;
}

/* call: input = "<account>|<method>|<args>"; calls it with the attached deposit and 30 Tgas, then
 * on_result on itself with 20 Tgas; returns the callback's result */
EXPORT("call") void call(void) {
    uint64_t n = read_input(), a = 0, m;
    while (a < n && buf[a] != '|') a++;
    m = a + 1;
    while (m < n && buf[m] != '|') m++;
    uint8_t d[16];
    attached_deposit(ptr(d));
    uint64_t p = promise_create(a, ptr(buf), m - a - 1, ptr(buf + a + 1), m < n ? n - m - 1 : 0, ptr(buf + m + 1), ptr(d),
                                30000000000000ull);
    current_account_id(1);
    uint64_t self_len = register_len(1);
    read_register(1, ptr(out));
    static const uint8_t zero[16];
    uint64_t t = promise_then(p, self_len, ptr(out), 9, ptr("on_result"), 0, ptr(""), ptr(zero), 20000000000000ull);
    promise_return(t);
}

EXPORT("on_result") void on_result(void) {
    if (promise_results_count() != 1) panic_str("no results!");
    uint64_t r = promise_result(0, 2);
    if (r == 1) {
        uint64_t n = register_len(2);
        cpy(out, (const uint8_t *)"ok:", 3);
        if (n > sizeof out - 3) n = 0;
        read_register(2, ptr(out + 3));
        log_utf8(n + 3, ptr(out));
        value_return(n + 3, ptr(out));
    } else {
        log_str("failed");
        ret_str("failed");
    }
}

/* yield: creates a yield calling on_yield with the input as arguments, stores the data id under "yid" and
 * returns the yield promise (the transaction ends with the callback's value) */
EXPORT("yield") void yield(void) {
    uint64_t n = read_input();
    uint64_t p = promise_yield_create(8, ptr("on_yield"), n, ptr(buf), 20000000000000ull, 0, 3);
    read_register(3, ptr(out));
    storage_write(3, ptr("yid"), 32, ptr(out), 4);
    promise_return(p);
}
EXPORT("yid") void yid(void) {
    if (storage_read(3, ptr("yid"), 0)) {
        read_register(0, ptr(out));
        value_return(32, ptr(out));
    }
}
/* resume: input = 32-byte data id ‖ payload; returns "1" or "0" */
EXPORT("resume") void resume(void) {
    uint64_t n = read_input();
    if (n < 32) panic_str("short");
    uint32_t r = promise_yield_resume(32, ptr(buf), n - 32, ptr(buf + 32));
    ret_str(r ? "1" : "0");
}
/* on_yield: stores "resumed:<payload>" or "timeout" under "y" */
EXPORT("on_yield") void on_yield(void) {
    uint64_t r = promise_result(0, 5);
    if (r == 1) {
        uint64_t n = register_len(5);
        cpy(out, (const uint8_t *)"resumed:", 8);
        if (n > sizeof out - 8) n = 0;
        read_register(5, ptr(out + 8));
        storage_write(1, ptr("y"), n + 8, ptr(out), 6);
        value_return(n + 8, ptr(out));
    } else {
        storage_write(1, ptr("y"), 7, ptr("timeout"), 6);
        ret_str("timeout");
    }
}
EXPORT("y") void y(void) {
    if (storage_read(1, ptr("y"), 0)) {
        uint64_t n = register_len(0);
        read_register(0, ptr(out));
        value_return(n, ptr(out));
    }
}
/* hash: sha256 of the input */
EXPORT("hash") void hash(void) {
    uint64_t n = read_input();
    sha256(n, ptr(buf), 0);
    read_register(0, ptr(out));
    value_return(32, ptr(out));
}
/* keccak: keccak256 ‖ keccak512 of the input (96 bytes) */
EXPORT("keccak") void keccak(void) {
    uint64_t n = read_input();
    keccak256(n, ptr(buf), 0);
    read_register(0, ptr(out));
    keccak512(n, ptr(buf), 0);
    read_register(0, ptr(out + 32));
    value_return(96, ptr(out));
}
