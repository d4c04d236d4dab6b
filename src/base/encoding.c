/* encodings: base58 (Bitcoin alphabet, as NEAR uses for hashes and keys), base64 (RFC 4648 standard
 * alphabet with '=' padding, as NEAR uses for blobs) and hex decoding. Every decoder is strict: one
 * canonical spelling per byte string, and an error that names the offending character and its
 * position. No allocation: callers pass the output buffer and its capacity. */
#include "base/base.h"

#include <string.h>

static const char b58_alphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
static const char b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Describes character c for an error message without echoing control bytes raw. */
static const char *char_desc(unsigned char c, char buf[16]) {
    if (c >= 0x21 && c < 0x7f) {
        buf[0] = '\'';
        buf[1] = (char)c;
        buf[2] = '\'';
        buf[3] = 0;
    } else {
        static const char digits[] = "0123456789abcdef";
        memcpy(buf, "byte 0x", 7);
        buf[7] = digits[c >> 4];
        buf[8] = digits[c & 15];
        buf[9] = 0;
    }
    return buf;
}

static int b58_value(unsigned char c) {
    const char *p = c ? memchr(b58_alphabet, c, sizeof b58_alphabet - 1) : NULL;
    return p ? (int)(p - b58_alphabet) : -1;
}

static int b64_value(unsigned char c) {
    const char *p = c ? memchr(b64_alphabet, c, sizeof b64_alphabet - 1) : NULL;
    return p ? (int)(p - b64_alphabet) : -1;
}

size_t ol_base58_encoded_max(size_t n) {
    /* log(256)/log(58) = 1.3658; 138/100 rounds up, +1 for rounding and +1 for the terminator. */
    return n * 138 / 100 + 2;
}

int ol_base58_encode(const uint8_t *in, size_t n, char *out, size_t cap, ol_err *err) {
    if (n > OL_BASE58_MAX_BYTES)
        return ol_err_set(err, OL_ENC_ETOOBIG, "base58: input of %zu bytes exceeds OL_BASE58_MAX_BYTES (%d)", n,
                          OL_BASE58_MAX_BYTES);
    size_t zeros = 0;
    while (zeros < n && in[zeros] == 0) zeros++;
    /* Big-endian base-58 digits of the number, least significant last, in a scratch buffer. */
    uint8_t digits[OL_BASE58_MAX_BYTES * 138 / 100 + 1];
    size_t ndig = 0;
    for (size_t i = zeros; i < n; i++) {
        unsigned carry = in[i];
        for (size_t j = 0; j < ndig; j++) {
            carry += (unsigned)digits[j] << 8;
            digits[j] = (uint8_t)(carry % 58);
            carry /= 58;
        }
        while (carry) {
            digits[ndig++] = (uint8_t)(carry % 58);
            carry /= 58;
        }
    }
    size_t total = zeros + ndig;
    if (total + 1 > cap)
        return ol_err_set(err, OL_ENC_ESPACE, "base58: output needs %zu bytes, buffer has %zu", total + 1, cap);
    for (size_t i = 0; i < zeros; i++) out[i] = '1';
    for (size_t j = 0; j < ndig; j++) out[zeros + j] = b58_alphabet[digits[ndig - 1 - j]];
    out[total] = 0;
    return 0;
}

int ol_base58_decode(const char *in, size_t len, uint8_t *out, size_t cap, size_t *out_len, ol_err *err) {
    char cb[16];
    if (len > OL_BASE58_MAX_CHARS)
        return ol_err_set(err, OL_ENC_ETOOBIG, "base58: input of %zu characters exceeds OL_BASE58_MAX_CHARS (%d)",
                          len, OL_BASE58_MAX_CHARS);
    size_t zeros = 0;
    while (zeros < len && in[zeros] == '1') zeros++;
    /* Little-endian bytes of the number. */
    uint8_t bytes[OL_BASE58_MAX_CHARS];
    size_t nb = 0;
    for (size_t i = zeros; i < len; i++) {
        int v = b58_value((unsigned char)in[i]);
        if (v < 0)
            return ol_err_set(err, OL_ENC_EINVAL, "base58: invalid character %s at position %zu",
                              char_desc((unsigned char)in[i], cb), i);
        unsigned carry = (unsigned)v;
        for (size_t j = 0; j < nb; j++) {
            carry += (unsigned)bytes[j] * 58;
            bytes[j] = (uint8_t)carry;
            carry >>= 8;
        }
        while (carry) {
            bytes[nb++] = (uint8_t)carry;
            carry >>= 8;
        }
    }
    size_t total = zeros + nb;
    if (total > cap)
        return ol_err_set(err, OL_ENC_ESPACE, "base58: decodes to %zu bytes, buffer has %zu", total, cap);
    memset(out, 0, zeros);
    for (size_t j = 0; j < nb; j++) out[zeros + j] = bytes[nb - 1 - j];
    *out_len = total;
    return 0;
}

int ol_base58_decode_exact(const char *in, size_t len, uint8_t *out, size_t want, ol_err *err) {
    uint8_t tmp[OL_BASE58_MAX_CHARS];
    size_t got = 0;
    int rc = ol_base58_decode(in, len, tmp, sizeof tmp, &got, err);
    if (rc) return rc;
    if (got != want)
        return ol_err_set(err, OL_ENC_ELENGTH, "base58: decodes to %zu bytes, expected %zu", got, want);
    memcpy(out, tmp, want);
    return 0;
}

size_t ol_base64_encoded_len(size_t n) { return (n + 2) / 3 * 4; }

int ol_base64_encode(const uint8_t *in, size_t n, char *out, size_t cap, ol_err *err) {
    size_t need;
    if (n > OL_BASE64_MAX_BYTES || !ol_add_size(ol_base64_encoded_len(n), 1, &need))
        return ol_err_set(err, OL_ENC_ETOOBIG, "base64: input of %zu bytes exceeds OL_BASE64_MAX_BYTES (%d)", n,
                          OL_BASE64_MAX_BYTES);
    if (need > cap) return ol_err_set(err, OL_ENC_ESPACE, "base64: output needs %zu bytes, buffer has %zu", need, cap);
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64_alphabet[v >> 18];
        out[o++] = b64_alphabet[(v >> 12) & 63];
        out[o++] = b64_alphabet[(v >> 6) & 63];
        out[o++] = b64_alphabet[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = b64_alphabet[v >> 18];
        out[o++] = b64_alphabet[(v >> 12) & 63];
        out[o++] = '=';
        out[o++] = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = b64_alphabet[v >> 18];
        out[o++] = b64_alphabet[(v >> 12) & 63];
        out[o++] = b64_alphabet[(v >> 6) & 63];
        out[o++] = '=';
    }
    out[o] = 0;
    return 0;
}

size_t ol_base64_decoded_max(size_t len) { return len / 4 * 3; }

int ol_base64_decode(const char *in, size_t len, uint8_t *out, size_t cap, size_t *out_len, ol_err *err) {
    char cb[16];
    if (len / 4 * 3 > OL_BASE64_MAX_BYTES)
        return ol_err_set(err, OL_ENC_ETOOBIG, "base64: input of %zu characters exceeds OL_BASE64_MAX_BYTES (%d)", len,
                          OL_BASE64_MAX_BYTES);
    if (len % 4)
        return ol_err_set(err, OL_ENC_EINVAL, "base64: length %zu is not a multiple of 4 (padding '=' required)", len);
    size_t pad = 0;
    if (len >= 1 && in[len - 1] == '=') pad++;
    if (len >= 2 && in[len - 2] == '=') pad++;
    size_t total = len / 4 * 3 - pad;
    if (total > cap) return ol_err_set(err, OL_ENC_ESPACE, "base64: decodes to %zu bytes, buffer has %zu", total, cap);
    size_t o = 0;
    for (size_t i = 0; i < len; i += 4) {
        uint32_t v = 0;
        size_t quad_pad = (i + 4 == len) ? pad : 0;
        for (size_t k = 0; k < 4; k++) {
            unsigned char c = (unsigned char)in[i + k];
            int d;
            if (k >= 4 - quad_pad) {
                d = 0; /* the padding itself, checked above to be '=' */
            } else if ((d = b64_value(c)) < 0) {
                if (c == '=')
                    return ol_err_set(err, OL_ENC_EINVAL, "base64: padding '=' at position %zu before the end",
                                      i + k);
                return ol_err_set(err, OL_ENC_EINVAL, "base64: invalid character %s at position %zu",
                                  char_desc(c, cb), i + k);
            }
            v = v << 6 | (uint32_t)d;
        }
        out[o++] = (uint8_t)(v >> 16);
        if (quad_pad < 2) out[o++] = (uint8_t)(v >> 8);
        else if (v & 0xffff)
            return ol_err_set(err, OL_ENC_EINVAL, "base64: non-zero unused bits in character at position %zu",
                              i + 1);
        if (quad_pad < 1) out[o++] = (uint8_t)v;
        else if (quad_pad == 1 && (v & 0xff))
            return ol_err_set(err, OL_ENC_EINVAL, "base64: non-zero unused bits in character at position %zu",
                              i + 2);
    }
    *out_len = total;
    return 0;
}

static int hex_value(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int ol_hex_decode(const char *in, size_t len, uint8_t *out, size_t cap, size_t *out_len, ol_err *err) {
    char cb[16];
    if (len % 2) return ol_err_set(err, OL_ENC_EINVAL, "hex: odd length %zu", len);
    if (len / 2 > cap)
        return ol_err_set(err, OL_ENC_ESPACE, "hex: decodes to %zu bytes, buffer has %zu", len / 2, cap);
    for (size_t i = 0; i < len; i += 2) {
        int hi = hex_value((unsigned char)in[i]), lo = hex_value((unsigned char)in[i + 1]);
        if (hi < 0)
            return ol_err_set(err, OL_ENC_EINVAL, "hex: invalid character %s at position %zu",
                              char_desc((unsigned char)in[i], cb), i);
        if (lo < 0)
            return ol_err_set(err, OL_ENC_EINVAL, "hex: invalid character %s at position %zu",
                              char_desc((unsigned char)in[i + 1], cb), i + 1);
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    *out_len = len / 2;
    return 0;
}
