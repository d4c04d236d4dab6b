/* Errors as values: see base.h. */
#include "base/base.h"

#include <stdio.h>
#include <string.h>

int ol_err_setv(ol_err *err, int code, const char *fmt, va_list ap) {
    if (err) {
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    }
    return code;
}

int ol_err_set(ol_err *err, int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    ol_err_setv(err, code, fmt, ap);
    va_end(ap);
    return code;
}

void ol_err_clear(ol_err *err) {
    if (err) {
        err->code = 0;
        err->msg[0] = 0;
    }
}

bool ol_strlcpy(char *dst, const char *src, size_t cap) {
    size_t n = strlen(src);
    bool fits = n < cap;
    if (!fits) n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = 0;
    return fits;
}

void ol_hex_encode(const uint8_t *in, size_t n, char *out) {
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = 0;
}
