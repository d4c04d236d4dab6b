/* bench.h: what every benchmark program shares. Each program defines `uint32_t run(void)` that
 * does the work and returns a checksum, then says BENCH_MAIN. Three builds of one source:
 *   - a WASI command or a native program: main() prints "<name> <checksum as 8 hex digits>";
 *   - -DFREESTANDING (clang --target=wasm32 -nostdlib): no imports at all, exports bench() which
 *     returns the checksum (for wabt's wasm-interp --run-all-exports and plain V8 export calls).
 * -DQUICK selects a small size (tests and quick runs); the full size takes ~0.1-0.3 s natively.
 * Everything lives in static arrays: there is no allocator in the freestanding build. */
#ifndef BENCH_H
#define BENCH_H

#include <stddef.h>
#include <stdint.h>

#ifdef QUICK
#define BENCH_SIZE(full, quick) (quick)
#else
#define BENCH_SIZE(full, quick) (full)
#endif

#ifdef FREESTANDING
/* clang may turn loops into calls to these; the freestanding build has no libc to supply them. */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n)
{
    unsigned char *p = d;
    while (n--) *p++ = (unsigned char)c;
    return d;
}
void *memcpy(void *d, const void *s, size_t n)
{
    unsigned char *p = d;
    const unsigned char *q = s;
    while (n--) *p++ = *q++;
    return d;
}
#define BENCH_MAIN(name)                                                                                   \
    uint32_t bench(void);                                                                                  \
    uint32_t bench(void) { return run(); }
#define bench_sqrt(x) __builtin_sqrt(x)
#else
#include <math.h>
#include <stdio.h>
#include <string.h>
#define BENCH_MAIN(name)                                                                                   \
    int main(void)                                                                                         \
    {                                                                                                      \
        printf("%s %08x\n", name, (unsigned)run());                                                        \
        return 0;                                                                                          \
    }
#define bench_sqrt(x) sqrt(x)
#endif

/* xorshift32: the deterministic input of every program. */
static inline uint32_t bench_rand(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

#endif
