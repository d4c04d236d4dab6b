/* base: what every module shares. Errors as values with a bounded message, checked arithmetic on
 * untrusted sizes, and bounded string copies. No allocation on the error path. */
#ifndef OUTLAYER_BASE_H
#define OUTLAYER_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An error: a code (0 = ok, otherwise module-defined) and a message made with snprintf. */
typedef struct ol_err {
    int code;
    char msg[256];
} ol_err;

/* Sets err (if not NULL) and returns code. The message is truncated to fit, never overflows. */
int ol_err_set(ol_err *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int ol_err_setv(ol_err *err, int code, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));
void ol_err_clear(ol_err *err);

/* Copies src into dst (capacity cap > 0), always terminating; returns false when src was truncated. */
bool ol_strlcpy(char *dst, const char *src, size_t cap);

/* Checked arithmetic: return false on overflow and leave *out unspecified. */
static inline bool ol_add_size(size_t a, size_t b, size_t *out) { return !__builtin_add_overflow(a, b, out); }
static inline bool ol_mul_size(size_t a, size_t b, size_t *out) { return !__builtin_mul_overflow(a, b, out); }
static inline bool ol_add_u64(uint64_t a, uint64_t b, uint64_t *out) { return !__builtin_add_overflow(a, b, out); }
static inline bool ol_mul_u64(uint64_t a, uint64_t b, uint64_t *out) { return !__builtin_mul_overflow(a, b, out); }

/* Lowercase hex of n bytes into out (capacity >= 2n+1). */
void ol_hex_encode(const uint8_t *in, size_t n, char *out);

#endif
