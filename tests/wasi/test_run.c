/* wasi: runs the real guest programs (built by guests/CMakeLists.txt) through wasi_run and checks
 * every outcome, the limits, determinism, the WASI surface (wasicheck) and the preopened directory. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "test.h"
#include "wasi/wasi.h"

static uint8_t *load(const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.wasm", OUTLAYER_GUEST_DIR, name);
    FILE *f = fopen(path, "rb");
    if (!f) T_FAIL("cannot open %s (build the guests target)", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n);
    ASSERT_TRUE(b && fread(b, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* Runs guest name with cfg (stdin from in) and returns the result; the run itself must not fail. */
static void run_guest(const char *name, wasi_config *cfg, const char *in, wasi_result *res)
{
    size_t len;
    uint8_t *m = load(name, &len);
    cfg->stdin_data = (const uint8_t *)in;
    cfg->stdin_len = in ? strlen(in) : 0;
    ol_err err;
    ol_err_clear(&err);
    int rc = wasi_run(m, len, cfg, res, &err);
    if (rc) T_FAIL("wasi_run(%s) failed: %s", name, err.msg);
    free(m);
}

static char *out_str(const wasi_result *r)
{
    static char buf[1 << 16];
    size_t n = r->out_len < sizeof buf - 1 ? r->out_len : sizeof buf - 1;
    if (n) memcpy(buf, r->out, n);
    buf[n] = 0;
    return buf;
}

static void test_echo(void)
{
    wasi_config c;
    wasi_config_default(&c);
    const char *env[] = {"NEAR_SENDER_ID=alice.near", "NEAR_BLOCK_HEIGHT=12345"};
    c.env = env;
    c.nenv = 2;
    wasi_result r;
    run_guest("echo", &c, "  hello, world\n", &r);
    ASSERT_EQ(r.outcome, WASI_OUTCOME_OK);
    ASSERT_STREQ(out_str(&r), "alice.near said \"hello, world\" at block 12345");
    ASSERT_TRUE(r.fuel_used > 0);
    ASSERT_EQ_U64(r.stdout_bytes, r.out_len);
    wasi_result_free(&r);
}

static void test_random_deterministic(void)
{
    wasi_config c;
    wasi_config_default(&c);
    c.deterministic_clock = c.deterministic_random = true;
    c.timestamp_ns = 1700000000000000000ull;
    memset(c.seed, 7, 32);
    const char *in = "{\"min\":0,\"max\":4294967295}";
    wasi_result a, b, d;
    run_guest("random", &c, in, &a);
    run_guest("random", &c, in, &b);
    ASSERT_EQ(a.outcome, WASI_OUTCOME_OK);
    ASSERT_CONTAINS(out_str(&a), "{\"random_number\":");
    ASSERT_EQ(a.out_len, b.out_len);
    ASSERT_TRUE(memcmp(a.out, b.out, a.out_len) == 0);
    ASSERT_EQ_U64(a.fuel_used, b.fuel_used);
    /* The number is the first 8 bytes of the ChaCha20 keystream (little-endian), as documented. */
    uint8_t ks[8];
    static const uint8_t nonce[8];
    crypto_stream_chacha20(ks, sizeof ks, nonce, c.seed);
    uint64_t x = 0;
    for (int i = 7; i >= 0; i--) x = x << 8 | ks[i];
    char want[64];
    snprintf(want, sizeof want, "{\"random_number\":%llu}", (unsigned long long)(x % 4294967296ull));
    ASSERT_STREQ(out_str(&a), want);
    memset(c.seed, 8, 32);
    run_guest("random", &c, in, &d);
    ASSERT_TRUE(d.out_len != a.out_len || memcmp(a.out, d.out, a.out_len) != 0);
    wasi_result_free(&a);
    wasi_result_free(&b);
    wasi_result_free(&d);

    /* bad input: the guest fails with its own message on stderr and exit code 1 */
    wasi_config_default(&c);
    run_guest("random", &c, "{\"min\":5,\"max\":1}", &a);
    ASSERT_EQ(a.outcome, WASI_OUTCOME_EXIT);
    ASSERT_EQ(a.exit_code, 1);
    ASSERT_TRUE(a.err_len > 0);
    wasi_result_free(&a);
}

static void test_fuel(void)
{
    wasi_config c;
    wasi_config_default(&c);
    c.fuel = 1000000;
    wasi_result r;
    run_guest("loop", &c, NULL, &r);
    ASSERT_EQ(r.outcome, WASI_OUTCOME_OUT_OF_FUEL);
    ASSERT_CONTAINS(r.message, "fuel");
    ASSERT_TRUE(r.fuel_used <= c.fuel);
    /* within one straight-line block: loop's body is a handful of operators */
    ASSERT_TRUE(c.fuel - r.fuel_used < 64);
    wasi_result_free(&r);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_timeout(void)
{
    wasi_config c;
    wasi_config_default(&c);
    c.fuel = UINT64_MAX / 2;
    c.timeout_ms = 500;
    wasi_result r;
    double t0 = now_s();
    run_guest("loop", &c, NULL, &r);
    double dt = now_s() - t0;
    ASSERT_EQ(r.outcome, WASI_OUTCOME_TIMEOUT);
    ASSERT_CONTAINS(r.message, "500 ms");
    if (!(dt >= 0.45 && dt < 1.5)) T_FAIL("timeout took %.3f s", dt);
    wasi_result_free(&r);
}

static void test_memory_limit(void)
{
    wasi_config c;
    wasi_config_default(&c);
    c.max_memory_bytes = 64u << 20;
    wasi_result r;
    run_guest("alloc", &c, NULL, &r);
    ASSERT_EQ(r.outcome, WASI_OUTCOME_MEMORY_LIMIT);
    ASSERT_CONTAINS(r.message, "memory limit");
    ASSERT_TRUE(r.peak_memory_bytes <= (64u << 20));
    ASSERT_TRUE(r.peak_memory_bytes > (32u << 20));
    wasi_result_free(&r);
}

static void test_output_limit(void)
{
    wasi_config c;
    wasi_config_default(&c);
    c.max_stdout_bytes = 10000;
    wasi_result r;
    run_guest("spam", &c, NULL, &r);
    ASSERT_EQ(r.outcome, WASI_OUTCOME_OUTPUT_LIMIT);
    ASSERT_CONTAINS(r.message, "stdout limit of 10000 bytes");
    ASSERT_EQ(r.out_len, 10000);
    ASSERT_EQ_U64(r.stdout_bytes, 10000);
    ASSERT_TRUE(memcmp(r.out, "line 0: all work", 16) == 0);
    wasi_result_free(&r);

    /* stderr has its own limit: random's error message is longer than 10 bytes */
    wasi_config_default(&c);
    c.max_stderr_bytes = 10;
    run_guest("random", &c, "{\"min\":5,\"max\":1}", &r);
    ASSERT_EQ(r.outcome, WASI_OUTCOME_OUTPUT_LIMIT);
    ASSERT_CONTAINS(r.message, "stderr limit of 10 bytes");
    ASSERT_EQ(r.err_len, 10);
    ASSERT_TRUE(memcmp(r.err, "random: ma", 10) == 0);
    wasi_result_free(&r);
}

static void test_trap_and_exit(void)
{
    wasi_config c;
    wasi_config_default(&c);
    wasi_result r;
    run_guest("trap", &c, NULL, &r);
    ASSERT_EQ(r.outcome, WASI_OUTCOME_TRAP);
    ASSERT_CONTAINS(r.message, "unreachable");
    ASSERT_STREQ(out_str(&r), "before the trap\n"); /* nothing written before the trap is lost */
    wasi_result_free(&r);
    run_guest("exitcode", &c, "7", &r);
    ASSERT_EQ(r.outcome, WASI_OUTCOME_EXIT);
    ASSERT_EQ(r.exit_code, 7);
    ASSERT_STREQ(out_str(&r), "bye\n");
    wasi_result_free(&r);
    run_guest("exitcode", &c, "0", &r);
    ASSERT_EQ(r.outcome, WASI_OUTCOME_OK);
    ASSERT_EQ(r.exit_code, 0);
    wasi_result_free(&r);
}

static void test_invalid_modules(void)
{
    wasi_config c;
    wasi_config_default(&c);
    wasi_result r;
    ol_err err;
    uint8_t junk[1000];
    randombytes_buf(junk, sizeof junk);
    ASSERT_EQ(wasi_run(junk, sizeof junk, &c, &r, &err), 0);
    ASSERT_EQ(r.outcome, WASI_OUTCOME_INVALID_MODULE);
    ASSERT_CONTAINS(r.message, "invalid module: ");
    ASSERT_TRUE(strlen(r.message) > strlen("invalid module: "));
    wasi_result_free(&r);

    /* (module (type (func)) (import "env" "foo" (func (type 0))) (func (type 0)) (export "_start" (func 1))) */
    static const uint8_t imp[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
                                  0x02, 0x0b, 0x01, 0x03, 'e',  'n',  'v',  0x03, 'f',  'o',  'o',  0x00, 0x00,
                                  0x03, 0x02, 0x01, 0x00, 0x07, 0x0a, 0x01, 0x06, '_',  's',  't',  'a',  'r',
                                  't',  0x00, 0x01, 0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b};
    ASSERT_EQ(wasi_run(imp, sizeof imp, &c, &r, &err), 0);
    ASSERT_EQ(r.outcome, WASI_OUTCOME_INVALID_MODULE);
    ASSERT_CONTAINS(r.message, "env.foo");
    wasi_result_free(&r);

    /* a WASI function imported with the wrong signature: the engine refuses to link, naming it */
    static const uint8_t badsig[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
                                     0x02, 0x23, 0x01, 0x16, 'w', 'a', 's', 'i', '_', 's', 'n', 'a', 'p', 's', 'h',
                                     'o', 't', '_', 'p', 'r', 'e', 'v', 'i', 'e', 'w', '1', 0x08, 'f', 'd', '_', 'w',
                                     'r', 'i', 't', 'e', 0x00, 0x00, 0x03, 0x02, 0x01, 0x00, 0x07, 0x0a, 0x01, 0x06,
                                     '_', 's', 't', 'a', 'r', 't', 0x00, 0x01, 0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b};
    ASSERT_EQ(wasi_run(badsig, sizeof badsig, &c, &r, &err), 0);
    ASSERT_EQ(r.outcome, WASI_OUTCOME_INVALID_MODULE);
    ASSERT_CONTAINS(r.message, "fd_write");
    wasi_result_free(&r);

    /* a valid module without _start: (module (func) (export "main" (func 0))) */
    static const uint8_t nostart[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60,
                                      0x00, 0x00, 0x03, 0x02, 0x01, 0x00, 0x07, 0x08, 0x01, 0x04, 'm',  'a',
                                      'i',  'n',  0x00, 0x00, 0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b};
    ASSERT_EQ(wasi_run(nostart, sizeof nostart, &c, &r, &err), 0);
    ASSERT_EQ(r.outcome, WASI_OUTCOME_INVALID_MODULE);
    ASSERT_CONTAINS(r.message, "_start");
    wasi_result_free(&r);

    /* the module size limit, at the boundary */
    c.max_module_bytes = sizeof nostart - 1;
    ASSERT_EQ(wasi_run(nostart, sizeof nostart, &c, &r, &err), 0);
    ASSERT_EQ(r.outcome, WASI_OUTCOME_INVALID_MODULE);
    ASSERT_CONTAINS(r.message, "module size limit");
    wasi_result_free(&r);
    c.max_module_bytes = sizeof nostart;
    ASSERT_EQ(wasi_run(nostart, sizeof nostart, &c, &r, &err), 0);
    ASSERT_CONTAINS(r.message, "_start"); /* got past the size check */
    wasi_result_free(&r);
}

static void test_config_errors(void)
{
    wasi_config c;
    wasi_config_default(&c);
    const char *env[] = {"NOEQUALS"};
    c.env = env;
    c.nenv = 1;
    size_t len;
    uint8_t *m = load("echo", &len);
    wasi_result r;
    ol_err err;
    ASSERT_EQ(wasi_run(m, len, &c, &r, &err), WASI_ERR_CONFIG);
    ASSERT_CONTAINS(err.msg, "KEY=VALUE");
    wasi_result_free(&r);
    wasi_config_default(&c);
    c.preopen_host = "/nonexistent/dir/for/outlayer";
    ASSERT_EQ(wasi_run(m, len, &c, &r, &err), WASI_ERR_CONFIG);
    ASSERT_CONTAINS(err.msg, "/nonexistent/dir/for/outlayer");
    wasi_result_free(&r);
    free(m);
}

/* Finds the line starting with key in the guest's output; returns the rest of it. */
static const char *line(const char *out, const char *key)
{
    static char buf[512];
    size_t kl = strlen(key);
    for (const char *p = out; p && *p;) {
        if (strncmp(p, key, kl) == 0 && p[kl] == ' ') {
            const char *e = strchr(p, '\n');
            size_t n = e ? (size_t)(e - p - kl - 1) : strlen(p + kl + 1);
            if (n >= sizeof buf) n = sizeof buf - 1;
            memcpy(buf, p + kl + 1, n);
            buf[n] = 0;
            return buf;
        }
        p = strchr(p, '\n');
        if (p) p++;
    }
    T_FAIL("no line '%s' in:\n%s", key, out);
}

static void test_wasicheck(void)
{
    wasi_config c;
    wasi_config_default(&c);
    const char *args[] = {"wasicheck.wasm", "one", "two words"};
    const char *env[] = {"A=1", "NEAR_SENDER_ID=bob.near"};
    c.args = args;
    c.nargs = 3;
    c.env = env;
    c.nenv = 2;
    c.deterministic_clock = c.deterministic_random = true;
    c.timestamp_ns = 1000000000000000000ull;
    memset(c.seed, 0x42, 32);
    wasi_result r, r2;
    run_guest("wasicheck", &c, "", &r);
    ASSERT_EQ(r.outcome, WASI_OUTCOME_OK);
    const char *o = out_str(&r);
    ASSERT_STREQ(line(o, "argc"), "3");
    ASSERT_STREQ(line(o, "argv[2]"), "two words");
    ASSERT_STREQ(line(o, "envc"), "2");
    ASSERT_CONTAINS(o, "env NEAR_SENDER_ID=bob.near\n");
    ASSERT_STREQ(line(o, "clock_errnos"), "0 0 0");
    ASSERT_STREQ(line(o, "clock_res"), "1");
    ASSERT_STREQ(line(o, "bad_clock"), "28");
    unsigned long long rt = strtoull(line(o, "realtime"), NULL, 10);
    ASSERT_TRUE(rt > c.timestamp_ns && rt < c.timestamp_ns + r.fuel_used + 1000000);
    ASSERT_STREQ(line(o, "fdstat 0"), "errno 0 type 0");
    ASSERT_STREQ(line(o, "fdstat 3"), "errno 8 type -1");
    ASSERT_STREQ(line(o, "sock_accept"), "8"); /* fd 3 is not open without a preopen */
    ASSERT_STREQ(line(o, "sched_yield"), "0");
    ASSERT_STREQ(line(o, "slept_ns_at_least_5ms"), "1");
    ASSERT_STREQ(line(o, "poll_stdin"), "1 revents 8193"); /* wasi-libc POLLRDNORM 0x1 | POLLHUP 0x2000: all read */
    /* 16 random bytes: the first 16 bytes of the ChaCha20 keystream (nothing else draws before) */
    uint8_t ks[16];
    static const uint8_t nonce[8];
    crypto_stream_chacha20(ks, sizeof ks, nonce, c.seed);
    char hex[40];
    ol_hex_encode(ks, sizeof ks, hex);
    char want[64];
    snprintf(want, sizeof want, "0 %s", hex);
    ASSERT_STREQ(line(o, "random_get"), want);
    /* deterministic mode: byte for byte, fuel for fuel */
    char first[1 << 16];
    ol_strlcpy(first, o, sizeof first);
    run_guest("wasicheck", &c, "", &r2);
    ASSERT_STREQ(out_str(&r2), first);
    ASSERT_EQ_U64(r.fuel_used, r2.fuel_used);
    wasi_result_free(&r);
    wasi_result_free(&r2);

    /* real mode: the host clock and a real 5 ms sleep */
    wasi_config_default(&c);
    double t0 = now_s();
    run_guest("wasicheck", &c, "", &r);
    ASSERT_EQ(r.outcome, WASI_OUTCOME_OK);
    ASSERT_TRUE(now_s() - t0 >= 0.005);
    rt = strtoull(line(out_str(&r), "realtime"), NULL, 10);
    ASSERT_TRUE(rt / 1000000000ull >= (unsigned long long)time(NULL) - 5);
    ASSERT_STREQ(line(out_str(&r), "slept_ns_at_least_5ms"), "1");
    wasi_result_free(&r);
}

static void test_preopen(void)
{
    char dir[] = "/tmp/outlayer-wasi-XXXXXX";
    ASSERT_TRUE(mkdtemp(dir) != NULL);
    char p[512];
    snprintf(p, sizeof p, "%s/data.txt", dir);
    FILE *f = fopen(p, "w");
    ASSERT_TRUE(f != NULL);
    fputs("hello from the host", f);
    fclose(f);
    snprintf(p, sizeof p, "%s/escape", dir);
    ASSERT_EQ(symlink("/etc/hostname", p), 0);

    wasi_config c;
    wasi_config_default(&c);
    c.preopen_host = dir;
    c.preopen_guest = "/data";
    wasi_result r;
    run_guest("wasicheck", &c, "/data/data.txt", &r);
    ASSERT_EQ(r.outcome, WASI_OUTCOME_OK);
    const char *o = out_str(&r);
    ASSERT_STREQ(line(o, "fdstat 3"), "errno 0 type 3");
    ASSERT_STREQ(line(o, "read /data/data.txt"), "ok 19 hello from the host");
    ASSERT_STREQ(line(o, "write_open /data/data.txt"), "errno 69"); /* EROFS */
    wasi_result_free(&r);

    run_guest("wasicheck", &c, "/data/../etc/passwd", &r);
    ASSERT_EQ(r.outcome, WASI_OUTCOME_OK);
    ASSERT_STREQ(line(out_str(&r), "read /data/../etc/passwd"), "errno 76"); /* ENOTCAPABLE */
    wasi_result_free(&r);

    run_guest("wasicheck", &c, "/data/escape", &r);
    ASSERT_EQ(r.outcome, WASI_OUTCOME_OK);
    const char *v = line(out_str(&r), "read /data/escape");
    if (strcmp(v, "errno 76") != 0 && strcmp(v, "errno 32") != 0) T_FAIL("symlink escape not refused: %s", v);
    wasi_result_free(&r);

    /* fd_readdir: entries in name order, with their types */
    run_guest("wasicheck", &c, "ls:/data", &r);
    ASSERT_EQ(r.outcome, WASI_OUTCOME_OK);
    ASSERT_CONTAINS(out_str(&r), "entry data.txt type 4\nentry escape type 7\n"); /* WASI regular, symlink */
    wasi_result_free(&r);

    run_guest("wasicheck", &c, "/data/missing.txt", &r);
    ASSERT_STREQ(line(out_str(&r), "read /data/missing.txt"), "errno 44"); /* ENOENT */
    wasi_result_free(&r);

    unlink(p);
    snprintf(p, sizeof p, "%s/data.txt", dir);
    unlink(p);
    rmdir(dir);
}

int main(void)
{
    if (sodium_init() < 0) T_FAIL("sodium_init");
    test_echo();
    test_random_deterministic();
    test_fuel();
    test_timeout();
    test_memory_limit();
    test_output_limit();
    test_trap_and_exit();
    test_invalid_modules();
    test_config_errors();
    test_wasicheck();
    test_preopen();
    printf("test_wasi_run: ok\n");
    return 0;
}
