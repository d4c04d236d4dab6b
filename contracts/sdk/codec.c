/* codec: hex, base64 (standard alphabet, padded, strict) and base58 (NEAR key encoding). */
#include "sdk.h"

static const char HEX[] = "0123456789abcdef";

void sdk_hex_encode(const uint8_t *in, size_t n, char *out) {
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = HEX[in[i] >> 4];
        out[2 * i + 1] = HEX[in[i] & 15];
    }
    out[2 * n] = 0;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool sdk_hex_decode(const char *in, size_t n, uint8_t *out, size_t *out_n) {
    if (n % 2) return false;
    for (size_t i = 0; i < n; i += 2) {
        int h = hexval(in[i]), l = hexval(in[i + 1]);
        if (h < 0 || l < 0) return false;
        out[i / 2] = (uint8_t)(h << 4 | l);
    }
    *out_n = n / 2;
    return true;
}

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *sdk_base64_encode(const uint8_t *in, size_t n, size_t *out_n) {
    size_t len = (n + 2) / 3 * 4;
    char *out = sdk_alloc(len + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n) v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n) v |= in[i + 2];
        out[o++] = B64[(v >> 18) & 63];
        out[o++] = B64[(v >> 12) & 63];
        out[o++] = i + 1 < n ? B64[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? B64[v & 63] : '=';
    }
    out[o] = 0;
    if (out_n) *out_n = o;
    return out;
}

static int b64val(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

bool sdk_base64_decode(const char *in, size_t n, uint8_t **out, size_t *out_n) {
    if (n % 4) return false;
    size_t pad = 0;
    if (n && in[n - 1] == '=') pad++;
    if (n > 1 && in[n - 2] == '=') pad++;
    uint8_t *buf = sdk_alloc(n / 4 * 3 + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        int v[4];
        bool last = i + 4 == n;
        for (int k = 0; k < 4; k++) {
            char c = in[i + k];
            if (c == '=' && last && (size_t)k >= 4 - pad) {
                v[k] = 0;
                continue;
            }
            v[k] = b64val(c);
            if (v[k] < 0) return false;
        }
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        buf[o++] = (uint8_t)(w >> 16);
        if (!(last && pad == 2)) buf[o++] = (uint8_t)(w >> 8);
        if (!(last && pad >= 1)) buf[o++] = (uint8_t)w;
        /* canonical: the bits dropped by padding must be zero */
        if (last && pad == 2 && (w & 0xFFFF)) return false;
        if (last && pad == 1 && (w & 0xFF)) return false;
    }
    *out = buf;
    *out_n = o;
    return true;
}

static const char B58[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

char *sdk_base58_encode(const uint8_t *in, size_t n) {
    if (n > 64) sdk_panic("base58: input longer than 64 bytes");
    uint8_t digits[96] = {0}; /* base-58 digits, little-endian; 64 bytes need at most 88 */
    size_t nd = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t carry = in[i];
        for (size_t j = 0; j < nd; j++) {
            carry += (uint32_t)digits[j] << 8;
            digits[j] = (uint8_t)(carry % 58);
            carry /= 58;
        }
        while (carry) {
            digits[nd++] = (uint8_t)(carry % 58);
            carry /= 58;
        }
    }
    size_t zeros = 0;
    while (zeros < n && in[zeros] == 0) zeros++;
    char *out = sdk_alloc(zeros + nd + 1);
    size_t o = 0;
    for (size_t i = 0; i < zeros; i++) out[o++] = '1';
    for (size_t i = nd; i > 0; i--) out[o++] = B58[digits[i - 1]];
    out[o] = 0;
    return out;
}
