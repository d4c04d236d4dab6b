/* base: error values and bounded copies. */
#include "base/base.h"
#include "test.h"

int main(void) {
    ol_err e;
    ASSERT_EQ(ol_err_set(&e, 7, "limit %s exceeded", "max_output_bytes"), 7);
    ASSERT_EQ(e.code, 7);
    ASSERT_STREQ(e.msg, "limit max_output_bytes exceeded");

    char big[600];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    ol_err_set(&e, 1, "%s", big);
    ASSERT_EQ(strlen(e.msg), sizeof e.msg - 1);

    char buf[4];
    ASSERT_TRUE(ol_strlcpy(buf, "abc", sizeof buf));
    ASSERT_STREQ(buf, "abc");
    ASSERT_TRUE(!ol_strlcpy(buf, "abcd", sizeof buf));
    ASSERT_STREQ(buf, "abc");

    size_t s;
    ASSERT_TRUE(!ol_add_size(SIZE_MAX, 1, &s));
    ASSERT_TRUE(ol_mul_size(3, 4, &s) && s == 12);

    char hex[9];
    const uint8_t bytes[4] = {0xde, 0xad, 0x00, 0x0f};
    ol_hex_encode(bytes, 4, hex);
    ASSERT_STREQ(hex, "dead000f");
    return 0;
}
