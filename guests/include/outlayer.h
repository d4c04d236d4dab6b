/* outlayer.h: the guest SDK for programs that OutLayer runs (WASI preview 1 commands, C, built with
 * clang --target=wasm32-wasi and wasi-libc). Header-only so that a program is one .c file.
 *
 * The contract a worker keeps with a guest:
 *   - the request's input bytes are the program's stdin (read them all with outlayer_read_input);
 *   - what the program writes to stdout is the result (outlayer_write_output);
 *   - stderr is a log for the operator, never returned on chain;
 *   - the NEAR context (NEAR_SENDER_ID, NEAR_BLOCK_HEIGHT, NEAR_BLOCK_TIMESTAMP, ...) and the caller's
 *     decrypted secrets are environment variables (outlayer_env, outlayer_env_u64);
 *   - exit status 0 means success; anything else is a failure (outlayer_fail writes a reason and exits).
 *
 * Ownership: outlayer_read_input returns a buffer the program owns (free it, or let exit reclaim it). */
#ifndef OUTLAYER_GUEST_H
#define OUTLAYER_GUEST_H

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Largest input the SDK reads: the contract accepts at most 64 KiB of input, `outlayer run` more;
 * 16 MiB keeps a runaway stdin from eating the guest's memory. */
#define OUTLAYER_MAX_INPUT_BYTES (16u << 20)

/* Writes a message to stderr and exits with status 1. */
static inline __attribute__((noreturn, format(printf, 1, 2))) void outlayer_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

/* Reads all of stdin into a NUL-terminated buffer (the NUL is not counted in *out_len). Fails the
 * program when the input exceeds OUTLAYER_MAX_INPUT_BYTES or cannot be read. The caller owns the
 * buffer. */
static inline char *outlayer_read_input(size_t *out_len)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    if (!buf) outlayer_fail("outlayer: out of memory reading input");
    for (;;) {
        if (cap - len < 2) {
            if (cap >= OUTLAYER_MAX_INPUT_BYTES) outlayer_fail("outlayer: input larger than %u bytes", OUTLAYER_MAX_INPUT_BYTES);
            size_t ncap = cap * 2;
            char *nb = realloc(buf, ncap);
            if (!nb) outlayer_fail("outlayer: out of memory reading input");
            buf = nb;
            cap = ncap;
        }
        ssize_t n = read(0, buf + len, cap - len - 1);
        if (n < 0) {
            if (errno == EINTR) continue;
            outlayer_fail("outlayer: cannot read input: %s", strerror(errno));
        }
        if (n == 0) break;
        len += (size_t)n;
    }
    buf[len] = 0;
    if (out_len) *out_len = len;
    return buf;
}

/* Writes len bytes to stdout, all of them or fails the program. */
static inline void outlayer_write_output(const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(1, p, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            exit(2); /* stdout is gone (e.g. the output limit): nothing useful left to say */
        }
        p += n;
        len -= (size_t)n;
    }
}

static inline void outlayer_write_str(const char *s) { outlayer_write_output(s, strlen(s)); }

/* printf to stdout, through a bounded buffer (longer results: use outlayer_write_output). */
static inline __attribute__((format(printf, 1, 2))) void outlayer_printf(const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0) outlayer_fail("outlayer: bad format");
    if ((size_t)n >= sizeof buf) outlayer_fail("outlayer: output line longer than %zu bytes", sizeof buf - 1);
    outlayer_write_output(buf, (size_t)n);
}

/* The environment variable name, or def when it is not set. */
static inline const char *outlayer_env(const char *name, const char *def)
{
    const char *v = getenv(name);
    return v ? v : def;
}

/* The environment variable name as an unsigned decimal, or def when unset; fails on garbage. */
static inline uint64_t outlayer_env_u64(const char *name, uint64_t def)
{
    const char *v = getenv(name);
    if (!v || !*v) return def;
    uint64_t x = 0;
    for (const char *p = v; *p; p++) {
        if (*p < '0' || *p > '9') outlayer_fail("outlayer: %s is not a number", name);
        uint64_t d = (uint64_t)(*p - '0');
        if (x > (UINT64_MAX - d) / 10) outlayer_fail("outlayer: %s is too large", name);
        x = x * 10 + d;
    }
    return x;
}

/* Finds "key" in a flat JSON object and parses its value as a signed 64-bit integer. Returns 0 when
 * found, -1 when the key is absent, -2 when the value is not an integer. A small helper for examples,
 * not a JSON parser: it does not handle nested objects with the same key. */
static inline int outlayer_json_int(const char *json, const char *key, int64_t *out)
{
    size_t kl = strlen(key);
    for (const char *p = json; (p = strchr(p, '"')) != NULL; p++) {
        if (strncmp(p + 1, key, kl) != 0 || p[1 + kl] != '"') continue;
        const char *q = p + 2 + kl;
        while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r') q++;
        if (*q != ':') continue;
        q++;
        while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r') q++;
        int neg = 0;
        if (*q == '-') { neg = 1; q++; }
        if (*q < '0' || *q > '9') return -2;
        uint64_t x = 0;
        while (*q >= '0' && *q <= '9') {
            uint64_t d = (uint64_t)(*q - '0');
            if (x > ((uint64_t)INT64_MAX + 1 - d) / 10) return -2;
            x = x * 10 + d;
            q++;
        }
        if (*q == '.' || *q == 'e' || *q == 'E') return -2;
        if (!neg && x > (uint64_t)INT64_MAX) return -2;
        *out = neg ? (int64_t)(0 - x) : (int64_t)x;
        return 0;
    }
    return -1;
}

#endif
