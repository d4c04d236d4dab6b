/* u128 decimal text and NEAR amounts ("1.5 NEAR" <-> 1500000000000000000000000 yoctoNEAR). */
#include "near/near.h"

#include <string.h>
#include <strings.h>

#define U128_MAX (~(near_u128)0)

int near_u128_parse(const char *s, size_t len, near_u128 *out, ol_err *err) {
    if (len == 0) return ol_err_set(err, NEAR_EINVAL, "u128: empty number");
    if (len > 64) return ol_err_set(err, NEAR_EINVAL, "u128: %zu characters is too long for a u128", len);
    near_u128 v = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < '0' || c > '9') {
            if (c >= 0x21 && c < 0x7f)
                return ol_err_set(err, NEAR_EINVAL, "u128: invalid character '%c' at position %zu", c, i);
            return ol_err_set(err, NEAR_EINVAL, "u128: invalid byte 0x%02x at position %zu", c, i);
        }
        unsigned d = c - '0';
        if (v > (U128_MAX - d) / 10) return ol_err_set(err, NEAR_EINVAL, "u128: value overflows 2^128-1");
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

void near_u128_format(near_u128 v, char out[NEAR_U128_STR]) {
    char tmp[NEAR_U128_STR];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + (unsigned)(v % 10));
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
    out[n] = 0;
}

static bool ieq(const char *a, size_t n, const char *b) { return strlen(b) == n && strncasecmp(a, b, n) == 0; }

int near_amount_parse(const char *s, near_u128 *out_yocto, ol_err *err) {
    if (!s) return ol_err_set(err, NEAR_EINVAL, "amount: missing");
    size_t len = strlen(s);
    if (len > 128) return ol_err_set(err, NEAR_EINVAL, "amount: %zu characters is too long", len);
    const char *end = s + len;
    const char *num_end = s;
    while (num_end < end && ((*num_end >= '0' && *num_end <= '9') || *num_end == '.')) num_end++;
    const char *unit = num_end;
    while (unit < end && *unit == ' ') unit++;
    size_t unit_len = (size_t)(end - unit);
    bool yocto;
    if (unit_len == 0 || ieq(unit, unit_len, "near") || ieq(unit, unit_len, "n"))
        yocto = false;
    else if (ieq(unit, unit_len, "yocto") || ieq(unit, unit_len, "yoctonear"))
        yocto = true;
    else
        return ol_err_set(err, NEAR_EINVAL,
                          "amount: unknown unit or character at position %zu (use NEAR or yoctoNEAR)",
                          (size_t)(unit - s));
    if (num_end == s) return ol_err_set(err, NEAR_EINVAL, "amount: no number before the unit");
    const char *dot = memchr(s, '.', (size_t)(num_end - s));
    if (dot && memchr(dot + 1, '.', (size_t)(num_end - dot - 1)))
        return ol_err_set(err, NEAR_EINVAL, "amount: more than one decimal point");
    size_t int_len = dot ? (size_t)(dot - s) : (size_t)(num_end - s);
    size_t frac_len = dot ? (size_t)(num_end - dot - 1) : 0;
    if (int_len == 0 && frac_len == 0) return ol_err_set(err, NEAR_EINVAL, "amount: no digits");
    if (yocto && dot) return ol_err_set(err, NEAR_EINVAL, "amount: yoctoNEAR amounts are whole numbers");
    near_u128 ip = 0, fp = 0;
    ol_err sub;
    if (int_len && near_u128_parse(s, int_len, &ip, &sub))
        return ol_err_set(err, NEAR_EINVAL, "amount: %s", sub.msg);
    if (yocto) {
        *out_yocto = ip;
        return 0;
    }
    if (frac_len > 24)
        return ol_err_set(err, NEAR_EINVAL, "amount: %zu decimals, NEAR has at most 24 (1 yoctoNEAR = 1e-24 NEAR)",
                          frac_len);
    if (frac_len && near_u128_parse(dot + 1, frac_len, &fp, &sub))
        return ol_err_set(err, NEAR_EINVAL, "amount: %s", sub.msg);
    for (size_t i = frac_len; i < 24; i++) fp *= 10;
    if (ip > (U128_MAX - fp) / NEAR_ONE_NEAR) return ol_err_set(err, NEAR_EINVAL, "amount: overflows u128 yoctoNEAR");
    *out_yocto = ip * NEAR_ONE_NEAR + fp;
    return 0;
}

void near_amount_format(near_u128 yocto, char out[NEAR_AMOUNT_STR]) {
    char ip[NEAR_U128_STR], fp[NEAR_U128_STR];
    near_u128_format(yocto / NEAR_ONE_NEAR, ip);
    near_u128 f = yocto % NEAR_ONE_NEAR;
    /* 24 fraction digits with leading zeros, then trailing zeros trimmed */
    for (int i = 23; i >= 0; i--) {
        fp[i] = (char)('0' + (unsigned)(f % 10));
        f /= 10;
    }
    int n = 24;
    while (n > 0 && fp[n - 1] == '0') n--;
    fp[n] = 0;
    size_t o = strlen(ip);
    memcpy(out, ip, o);
    if (n) {
        out[o++] = '.';
        memcpy(out + o, fp, (size_t)n);
        o += (size_t)n;
    }
    memcpy(out + o, " NEAR", 6);
}
