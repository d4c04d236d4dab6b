/* u128: unsigned 128-bit arithmetic on two 64-bit halves. Written without __int128 so the wasm build
 * needs no compiler-rt helpers (__multi3, __udivti3) and native and wasm compute the same way. */
#include "sdk.h"

int u128_cmp(u128 a, u128 b) {
    if (a.hi != b.hi) return a.hi < b.hi ? -1 : 1;
    if (a.lo != b.lo) return a.lo < b.lo ? -1 : 1;
    return 0;
}

bool u128_add(u128 a, u128 b, u128 *out) {
    u128 r;
    bool c1 = __builtin_add_overflow(a.lo, b.lo, &r.lo);
    bool c2 = __builtin_add_overflow(a.hi, b.hi, &r.hi);
    bool c3 = __builtin_add_overflow(r.hi, (uint64_t)c1, &r.hi);
    *out = r;
    return !(c2 || c3);
}

bool u128_sub(u128 a, u128 b, u128 *out) {
    if (u128_cmp(a, b) < 0) return false;
    u128 r;
    r.lo = a.lo - b.lo;
    r.hi = a.hi - b.hi - (a.lo < b.lo);
    *out = r;
    return true;
}

/* 64 x 64 -> 128 with 32-bit limbs. */
static u128 mul64(uint64_t a, uint64_t b) {
    uint64_t a0 = (uint32_t)a, a1 = a >> 32, b0 = (uint32_t)b, b1 = b >> 32;
    uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    uint64_t mid = (p00 >> 32) + (uint32_t)p01 + (uint32_t)p10;
    u128 r;
    r.lo = (mid << 32) | (uint32_t)p00;
    r.hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
    return r;
}

bool u128_mul(u128 a, u128 b, u128 *out) {
    if (a.hi && b.hi) return false;
    u128 r = mul64(a.lo, b.lo);
    /* cross terms must fit in the high half */
    u128 c1 = mul64(a.hi, b.lo), c2 = mul64(a.lo, b.hi);
    if (c1.hi || c2.hi) return false;
    uint64_t hi = r.hi;
    if (__builtin_add_overflow(hi, c1.lo, &hi)) return false;
    if (__builtin_add_overflow(hi, c2.lo, &hi)) return false;
    r.hi = hi;
    *out = r;
    return true;
}

u128 u128_add_sat(u128 a, u128 b) {
    u128 r;
    return u128_add(a, b, &r) ? r : U128_MAX;
}

u128 u128_mul_sat(u128 a, u128 b) {
    u128 r;
    return u128_mul(a, b, &r) ? r : U128_MAX;
}

u128 u128_divmod_u32(u128 a, uint32_t d, uint32_t *rem) {
    uint32_t limbs[4] = {(uint32_t)(a.hi >> 32), (uint32_t)a.hi, (uint32_t)(a.lo >> 32), (uint32_t)a.lo};
    uint64_t r = 0;
    for (int i = 0; i < 4; i++) {
        uint64_t cur = (r << 32) | limbs[i];
        limbs[i] = (uint32_t)(cur / d);
        r = cur % d;
    }
    if (rem) *rem = (uint32_t)r;
    return (u128){((uint64_t)limbs[2] << 32) | limbs[3], ((uint64_t)limbs[0] << 32) | limbs[1]};
}

bool u128_parse(const char *s, size_t n, u128 *out) {
    if (n == 0 || n > 39) return false;
    if (n > 1 && s[0] == '0') return false;
    u128 v = U128_ZERO;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        if (!u128_mul(v, u128_from_u64(10), &v)) return false;
        if (!u128_add(v, u128_from_u64((uint64_t)(s[i] - '0')), &v)) return false;
    }
    *out = v;
    return true;
}

size_t u128_to_dec(u128 a, char *buf) {
    char tmp[40];
    size_t i = sizeof tmp;
    do {
        uint32_t r;
        a = u128_divmod_u32(a, 10, &r);
        tmp[--i] = (char)('0' + r);
    } while (!u128_is_zero(a));
    size_t n = sizeof tmp - i;
    for (size_t k = 0; k < n; k++) buf[k] = tmp[i + k];
    buf[n] = 0;
    return n;
}

void u128_to_le(u128 a, uint8_t out[16]) {
    for (int i = 0; i < 8; i++) {
        out[i] = (uint8_t)(a.lo >> (8 * i));
        out[8 + i] = (uint8_t)(a.hi >> (8 * i));
    }
}

u128 u128_from_le(const uint8_t in[16]) {
    u128 r = U128_ZERO;
    for (int i = 0; i < 8; i++) {
        r.lo |= (uint64_t)in[i] << (8 * i);
        r.hi |= (uint64_t)in[8 + i] << (8 * i);
    }
    return r;
}
