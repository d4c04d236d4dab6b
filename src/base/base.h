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


/* ---- encodings (src/base/encoding.c; owner: near helper) -------------------------------------------
 * base58 (Bitcoin alphabet), base64 (standard alphabet, '=' padding required) and hex decoding. The
 * decoders are strict (one spelling per byte string; whitespace, bad padding and non-zero unused bits
 * are rejected) and their errors name the bad character and its 0-based position. Nothing allocates:
 * the caller passes the output buffer and its capacity; base58/base64 output is NUL-terminated. */
enum {
    OL_ENC_EINVAL = 1,  /* malformed input (bad character, padding, odd length) */
    OL_ENC_ESPACE = 2,  /* output buffer too small */
    OL_ENC_ETOOBIG = 3, /* input over the limit below */
    OL_ENC_ELENGTH = 4, /* decoded length differs from the expected one */
};
/* base58 is quadratic; NEAR uses it for 32-byte hashes and keys (largest: ML-DSA-65 signature, 3309 bytes). */
#define OL_BASE58_MAX_BYTES 4096
#define OL_BASE58_MAX_CHARS 5600 /* >= ceil(4096 * log(256)/log(58)) */
/* base64 carries contract code and arguments (4 MiB each on NEAR) inside a transaction; 8 MiB leaves room. */
#define OL_BASE64_MAX_BYTES (8 * 1024 * 1024)

size_t ol_base58_encoded_max(size_t n); /* capacity (with NUL) enough for n bytes */
int ol_base58_encode(const uint8_t *in, size_t n, char *out, size_t cap, ol_err *err);
int ol_base58_decode(const char *in, size_t len, uint8_t *out, size_t cap, size_t *out_len, ol_err *err);
/* Decodes and requires exactly want bytes (hashes, keys), else OL_ENC_ELENGTH. */
int ol_base58_decode_exact(const char *in, size_t len, uint8_t *out, size_t want, ol_err *err);
size_t ol_base64_encoded_len(size_t n); /* characters without the NUL */
int ol_base64_encode(const uint8_t *in, size_t n, char *out, size_t cap, ol_err *err);
size_t ol_base64_decoded_max(size_t len); /* bytes enough for len characters */
int ol_base64_decode(const char *in, size_t len, uint8_t *out, size_t cap, size_t *out_len, ol_err *err);
/* Hex, either case, even length. */
int ol_hex_decode(const char *in, size_t len, uint8_t *out, size_t cap, size_t *out_len, ol_err *err);
/* ---- end encodings ---- */

#endif
