/* Tests for base58/base64/hex (src/base/encoding.c): known vectors, round trips over every length
 * up to 300 bytes, and strict rejection with the offending character and position named. */
#include "base/base.h"
#include "test.h"

static void b58_roundtrip(const uint8_t *in, size_t n, const char *want) {
    char out[512];
    ol_err err = {0};
    ASSERT_EQ(ol_base58_encode(in, n, out, sizeof out, &err), 0);
    if (want) ASSERT_STREQ(out, want);
    uint8_t back[512];
    size_t blen = 99;
    ASSERT_EQ(ol_base58_decode(out, strlen(out), back, sizeof back, &blen, &err), 0);
    ASSERT_EQ(blen, n);
    ASSERT_TRUE(n == 0 || memcmp(back, in, n) == 0);
}

static void test_base58(void) {
    ol_err err = {0};
    b58_roundtrip((const uint8_t *)"", 0, "");
    b58_roundtrip((const uint8_t *)"\0", 1, "1");
    b58_roundtrip((const uint8_t *)"\0\0\x01", 3, "112");
    b58_roundtrip((const uint8_t *)"Hello World!", 12, "2NEpo7TZRRrLZSi2U");
    uint8_t zero32[32] = {0}, h11[32];
    memset(h11, 0x11, 32);
    b58_roundtrip(zero32, 32, "11111111111111111111111111111111");
    b58_roundtrip(h11, 32, "29d2S7vB453rNYFdR5Ycwt7y9haRT5fwVwL9zTmBhfV2"); /* near-protocol.md §6b */
    /* every length, pseudo-random content with leading zeros sometimes */
    uint8_t buf[300];
    uint32_t x = 12345;
    for (size_t n = 0; n <= sizeof buf; n += 7) {
        for (size_t i = 0; i < n; i++) {
            x = x * 1103515245u + 12345u;
            buf[i] = (uint8_t)(x >> 16);
        }
        if (n > 2) buf[0] = 0;
        b58_roundtrip(buf, n, NULL);
    }
    uint8_t out[64];
    size_t len;
    ASSERT_EQ(ol_base58_decode("abc0def", 7, out, sizeof out, &len, &err), OL_ENC_EINVAL);
    ASSERT_CONTAINS(err.msg, "invalid character '0' at position 3");
    ASSERT_EQ(ol_base58_decode("abcOd", 5, out, sizeof out, &len, &err), OL_ENC_EINVAL);
    ASSERT_CONTAINS(err.msg, "'O' at position 3");
    ASSERT_EQ(ol_base58_decode("ab l", 4, out, sizeof out, &len, &err), OL_ENC_EINVAL);
    ASSERT_CONTAINS(err.msg, "byte 0x20 at position 2");
    ASSERT_EQ(ol_base58_decode("a\nb", 3, out, sizeof out, &len, &err), OL_ENC_EINVAL);
    ASSERT_CONTAINS(err.msg, "byte 0x0a at position 1");
    ASSERT_EQ(ol_base58_decode("1I", 2, out, sizeof out, &len, &err), OL_ENC_EINVAL);
    ASSERT_CONTAINS(err.msg, "'I' at position 1");
    /* capacity boundaries: 32 bytes into 31, 32 and 33 */
    const char *h = "29d2S7vB453rNYFdR5Ycwt7y9haRT5fwVwL9zTmBhfV2";
    ASSERT_EQ(ol_base58_decode(h, strlen(h), out, 31, &len, &err), OL_ENC_ESPACE);
    ASSERT_CONTAINS(err.msg, "decodes to 32 bytes, buffer has 31");
    ASSERT_EQ(ol_base58_decode(h, strlen(h), out, 32, &len, &err), 0);
    ASSERT_EQ(ol_base58_decode_exact(h, strlen(h), out, 32, &err), 0);
    ASSERT_EQ(ol_base58_decode_exact(h, strlen(h), out, 33, &err), OL_ENC_ELENGTH);
    ASSERT_CONTAINS(err.msg, "decodes to 32 bytes, expected 33");
    char small[45];
    ASSERT_EQ(ol_base58_encode(h11, 32, small, 44, &err), OL_ENC_ESPACE);
    ASSERT_EQ(ol_base58_encode(h11, 32, small, 45, &err), 0);
    ASSERT_TRUE(ol_base58_encoded_max(32) >= 45);
    /* limits */
    static uint8_t big[OL_BASE58_MAX_BYTES + 1];
    static char bigout[OL_BASE58_MAX_CHARS + 10];
    memset(big, 0xff, sizeof big);
    ASSERT_EQ(ol_base58_encode(big, OL_BASE58_MAX_BYTES + 1, bigout, sizeof bigout, &err), OL_ENC_ETOOBIG);
    ASSERT_CONTAINS(err.msg, "OL_BASE58_MAX_BYTES");
    ASSERT_EQ(ol_base58_encode(big, OL_BASE58_MAX_BYTES, bigout, sizeof bigout, &err), 0);
    ASSERT_TRUE(strlen(bigout) <= OL_BASE58_MAX_CHARS);
    static uint8_t bigback[OL_BASE58_MAX_CHARS];
    ASSERT_EQ(ol_base58_decode(bigout, strlen(bigout), bigback, sizeof bigback, &len, &err), 0);
    ASSERT_EQ(len, OL_BASE58_MAX_BYTES);
    memset(bigout, 'z', OL_BASE58_MAX_CHARS + 1);
    ASSERT_EQ(ol_base58_decode(bigout, OL_BASE58_MAX_CHARS + 1, bigback, sizeof bigback, &len, &err),
              OL_ENC_ETOOBIG);
    ASSERT_CONTAINS(err.msg, "OL_BASE58_MAX_CHARS");
}

static void b64_case(const char *in, const char *want) {
    char out[128];
    ol_err err = {0};
    size_t n = strlen(in);
    ASSERT_EQ(ol_base64_encode((const uint8_t *)in, n, out, sizeof out, &err), 0);
    ASSERT_STREQ(out, want);
    ASSERT_EQ(strlen(out), ol_base64_encoded_len(n));
    uint8_t back[128];
    size_t blen;
    ASSERT_EQ(ol_base64_decode(out, strlen(out), back, sizeof back, &blen, &err), 0);
    ASSERT_EQ(blen, n);
    ASSERT_TRUE(memcmp(back, in, n) == 0);
}

static void b64_bad(const char *in, const char *msg) {
    uint8_t out[128];
    size_t len;
    ol_err err = {0};
    ASSERT_EQ(ol_base64_decode(in, strlen(in), out, sizeof out, &len, &err), OL_ENC_EINVAL);
    ASSERT_CONTAINS(err.msg, msg);
}

static void test_base64(void) {
    b64_case("", "");
    b64_case("f", "Zg==");
    b64_case("fo", "Zm8=");
    b64_case("foo", "Zm9v");
    b64_case("foob", "Zm9vYg==");
    b64_case("fooba", "Zm9vYmE=");
    b64_case("foobar", "Zm9vYmFy");
    b64_case("{\"v\":1}", "eyJ2IjoxfQ==");
    b64_case("\xff\xfe\xfd", "//79");
    b64_bad("Zg=", "not a multiple of 4");
    b64_bad("Zg", "not a multiple of 4");
    b64_bad("Zm9v Yg==", "not a multiple of 4");
    b64_bad("Zm9vY g=", "invalid character byte 0x20 at position 5");
    b64_bad("Zm-v", "invalid character '-' at position 2");
    b64_bad("Zm_v", "invalid character '_' at position 2");
    b64_bad("Z===", "padding '=' at position 1");
    b64_bad("====", "padding '=' at position 0");
    b64_bad("Zg==Zg==", "padding '=' at position 2");
    b64_bad("Zh==", "non-zero unused bits");
    b64_bad("Zm9=", "non-zero unused bits");
    uint8_t out[8];
    size_t len;
    ol_err err = {0};
    ASSERT_EQ(ol_base64_decode("Zm9vYmFy", 8, out, 5, &len, &err), OL_ENC_ESPACE);
    ASSERT_CONTAINS(err.msg, "decodes to 6 bytes, buffer has 5");
    ASSERT_EQ(ol_base64_decode("Zm9vYmFy", 8, out, 6, &len, &err), 0);
    char small[9];
    ASSERT_EQ(ol_base64_encode((const uint8_t *)"foobar", 6, small, 8, &err), OL_ENC_ESPACE);
    ASSERT_EQ(ol_base64_encode((const uint8_t *)"foobar", 6, small, 9, &err), 0);
    /* all byte values round trip */
    uint8_t all[256];
    for (int i = 0; i < 256; i++) all[i] = (uint8_t)i;
    char enc[400];
    uint8_t dec[300];
    for (size_t n = 0; n <= 256; n++) {
        ASSERT_EQ(ol_base64_encode(all + (256 - n), n, enc, sizeof enc, &err), 0);
        ASSERT_EQ(ol_base64_decode(enc, strlen(enc), dec, sizeof dec, &len, &err), 0);
        ASSERT_EQ(len, n);
        ASSERT_TRUE(n == 0 || memcmp(dec, all + (256 - n), n) == 0);
    }
}

static void test_hex(void) {
    uint8_t out[8];
    size_t len;
    ol_err err = {0};
    ASSERT_EQ(ol_hex_decode("00ffAb10", 8, out, sizeof out, &len, &err), 0);
    ASSERT_EQ(len, 4);
    ASSERT_EQ(out[0], 0);
    ASSERT_EQ(out[1], 0xff);
    ASSERT_EQ(out[2], 0xab);
    ASSERT_EQ(out[3], 0x10);
    char back[9];
    ol_hex_encode(out, 4, back);
    ASSERT_STREQ(back, "00ffab10");
    ASSERT_EQ(ol_hex_decode("abc", 3, out, sizeof out, &len, &err), OL_ENC_EINVAL);
    ASSERT_CONTAINS(err.msg, "odd length 3");
    ASSERT_EQ(ol_hex_decode("0g", 2, out, sizeof out, &len, &err), OL_ENC_EINVAL);
    ASSERT_CONTAINS(err.msg, "invalid character 'g' at position 1");
    ASSERT_EQ(ol_hex_decode("x0", 2, out, sizeof out, &len, &err), OL_ENC_EINVAL);
    ASSERT_CONTAINS(err.msg, "'x' at position 0");
    ASSERT_EQ(ol_hex_decode("001122", 6, out, 2, &len, &err), OL_ENC_ESPACE);
    ASSERT_EQ(ol_hex_decode("", 0, out, 0, &len, &err), 0);
    ASSERT_EQ(len, 0);
}

int main(void) {
    test_base58();
    test_base64();
    test_hex();
    puts("test_encoding: ok");
    return 0;
}
