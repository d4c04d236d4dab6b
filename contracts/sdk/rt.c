/* rt: the freestanding runtime under the SDK: the arena allocator, the mem* functions clang expects in a
 * -nostdlib wasm build, small string helpers and a tiny formatter (no libc printf in contracts). */
#include <stdarg.h>

#include "sdk.h"

#ifdef __wasm__
/* clang lowers struct copies and zeroing to these calls even with -ffreestanding. MVP wasm has no
 * memory.copy/fill, and NEAR charges per executed instruction, so the bulk of each copy moves 8 bytes per
 * step (wasm loads and stores need no alignment; the type below tells clang so). */
typedef uint64_t __attribute__((aligned(1), may_alias)) u64_unaligned;

void *memcpy(void *dst, const void *src, size_t n) {
    unsigned char *d = dst;
    const unsigned char *s = src;
    for (; n >= 8; n -= 8, d += 8, s += 8) *(u64_unaligned *)d = *(const u64_unaligned *)s;
    while (n--) *d++ = *s++;
    return dst;
}
void *memmove(void *dst, const void *src, size_t n) {
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (d <= s || d >= s + n) return memcpy(dst, src, n); /* forward copy is safe */
    while (n >= 8) {
        n -= 8;
        *(u64_unaligned *)(d + n) = *(const u64_unaligned *)(s + n);
    }
    while (n--) d[n] = s[n];
    return dst;
}
void *memset(void *dst, int c, size_t n) {
    unsigned char *d = dst;
    uint64_t w = (uint64_t)(unsigned char)c * 0x0101010101010101ull;
    for (; n >= 8; n -= 8, d += 8) *(u64_unaligned *)d = w;
    while (n--) *d++ = (unsigned char)c;
    return dst;
}
int memcmp(const void *a, const void *b, size_t n) {
    const unsigned char *x = a, *y = b;
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
    return 0;
}

/* Bump allocator from __heap_base (set by wasm-ld) upwards, growing memory by whole 64 KiB pages. */
extern unsigned char __heap_base;
static uintptr_t heap_top, heap_last;

static void *arena_take(size_t n) {
    if (!heap_top) heap_top = (uintptr_t)&__heap_base;
    uintptr_t start = (heap_top + 7u) & ~(uintptr_t)7u;
    if (n > SIZE_MAX - start) sdk_panic("out of memory");
    uintptr_t end = start + n;
    uintptr_t limit = (uintptr_t)__builtin_wasm_memory_size(0) * 65536u;
    if (end > limit) {
        size_t pages = (end - limit + 65535u) / 65536u;
        if (__builtin_wasm_memory_grow(0, pages) == (size_t)-1) sdk_panic("out of memory");
    }
    heap_top = end;
    heap_last = start;
    unsigned char *p = (unsigned char *)start;
    memset(p, 0, n);
    return p;
}
#else
/* Native: one static arena reset by the test double before each call, so a panic (longjmp) leaks
 * nothing. */
static unsigned char native_heap[SDK_NATIVE_HEAP_BYTES] __attribute__((aligned(16)));
static size_t heap_top, heap_last;

void sdk__heap_reset(void) {
    heap_top = 0;
    heap_last = 0;
}

static void *arena_take(size_t n) {
    size_t start = (heap_top + 7u) & ~(size_t)7u;
    if (start > sizeof native_heap || n > sizeof native_heap - start) sdk_panic("out of memory");
    heap_top = start + n;
    heap_last = start;
    memset(native_heap + start, 0, n);
    return native_heap + start;
}
#endif

void *sdk_alloc(size_t n) { return arena_take(n ? n : 1); }

void *sdk_realloc(void *p, size_t old_n, size_t n) {
    if (!p) return sdk_alloc(n);
    if (n <= old_n) return p;
#ifdef __wasm__
    uintptr_t addr = (uintptr_t)p;
#else
    size_t addr = (size_t)((unsigned char *)p - native_heap);
#endif
    if (addr == heap_last) {
        /* Last block: extend in place (take only the difference). */
        size_t saved_last = heap_last;
        heap_top = addr + old_n;
        arena_take(n - old_n);
        heap_last = saved_last;
        return p;
    }
    void *q = sdk_alloc(n);
    memcpy(q, p, old_n);
    return q;
}

char *sdk_strndup(const char *s, size_t n) {
    char *d = sdk_alloc(n + 1);
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

size_t sdk_strlen(const char *s) {
    size_t n = 0;
    while (s[n]) n++;
    return n;
}

bool sdk_streq(const char *a, const char *b) {
    while (*a && *a == *b) a++, b++;
    return *a == *b;
}

bool sdk_memeq(const void *a, size_t an, const void *b, size_t bn) { return an == bn && memcmp(a, b, an) == 0; }

typedef struct fmt_out {
    char *buf;
    size_t cap, len;
} fmt_out;

static void fmt_put(fmt_out *o, const char *s, size_t n) {
    for (size_t i = 0; i < n && o->len + 1 < o->cap; i++) o->buf[o->len++] = s[i];
}

static void fmt_u64(fmt_out *o, uint64_t v) {
    char tmp[24];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    fmt_put(o, tmp + i, sizeof tmp - i);
}

static size_t fmt_v(char *buf, size_t cap, const char *fmt, va_list ap) {
    fmt_out o = {buf, cap, 0};
    if (!cap) return 0;
    for (const char *f = fmt; *f; f++) {
        if (*f != '%') {
            fmt_put(&o, f, 1);
            continue;
        }
        f++;
        switch (*f) {
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s) s = "(null)";
            fmt_put(&o, s, sdk_strlen(s));
            break;
        }
        case 'd': {
            int v = va_arg(ap, int);
            if (v < 0) {
                fmt_put(&o, "-", 1);
                fmt_u64(&o, (uint64_t)0 - (uint64_t)(int64_t)v);
            } else {
                fmt_u64(&o, (uint64_t)v);
            }
            break;
        }
        case 'U': fmt_u64(&o, va_arg(ap, uint64_t)); break;
        case 'Q': {
            const u128 *q = va_arg(ap, const u128 *);
            char tmp[40];
            size_t n = u128_to_dec(*q, tmp);
            fmt_put(&o, tmp, n);
            break;
        }
        case '%': fmt_put(&o, "%", 1); break;
        case 0: f--; break;
        default: fmt_put(&o, "%?", 2); break;
        }
    }
    o.buf[o.len] = 0;
    return o.len;
}

size_t sdk_fmt(char *buf, size_t cap, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    size_t n = fmt_v(buf, cap, fmt, ap);
    va_end(ap);
    return n;
}

void sdk_panicf(const char *fmt, ...) {
    static char msg[SDK_PANIC_MAX_BYTES + 1];
    va_list ap;
    va_start(ap, fmt);
    fmt_v(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sdk_panic(msg);
}
