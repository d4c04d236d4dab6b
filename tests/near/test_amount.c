/* u128 decimal text and NEAR amounts. */
#include "near/near.h"
#include "test.h"

static near_u128 amt(const char *s) {
    near_u128 v = 0;
    ol_err err = {0};
    if (near_amount_parse(s, &v, &err)) T_FAIL("'%s' rejected: %s", s, err.msg);
    return v;
}

static void amt_bad(const char *s, const char *msg) {
    near_u128 v;
    ol_err err = {0};
    ASSERT_TRUE(near_amount_parse(s, &v, &err) != 0);
    ASSERT_CONTAINS(err.msg, msg);
}

static void fmt_is(near_u128 v, const char *want) {
    char out[NEAR_AMOUNT_STR];
    near_amount_format(v, out);
    ASSERT_STREQ(out, want);
    /* and it parses back */
    ASSERT_TRUE(amt(out) == v);
}

int main(void) {
    char s[NEAR_U128_STR];
    near_u128 max = ~(near_u128)0, v;
    ol_err err = {0};
    near_u128_format(max, s);
    ASSERT_STREQ(s, "340282366920938463463374607431768211455");
    ASSERT_EQ(near_u128_parse(s, strlen(s), &v, &err), 0);
    ASSERT_TRUE(v == max);
    ASSERT_EQ(near_u128_parse("340282366920938463463374607431768211456", 39, &v, &err), NEAR_EINVAL);
    ASSERT_CONTAINS(err.msg, "overflows");
    near_u128_format(0, s);
    ASSERT_STREQ(s, "0");
    ASSERT_EQ(near_u128_parse("007", 3, &v, &err), 0);
    ASSERT_TRUE(v == 7);
    ASSERT_EQ(near_u128_parse("", 0, &v, &err), NEAR_EINVAL);
    ASSERT_CONTAINS(err.msg, "empty");
    ASSERT_EQ(near_u128_parse("+1", 2, &v, &err), NEAR_EINVAL);
    ASSERT_CONTAINS(err.msg, "'+' at position 0");
    ASSERT_EQ(near_u128_parse("1 ", 2, &v, &err), NEAR_EINVAL);
    ASSERT_CONTAINS(err.msg, "byte 0x20 at position 1");

    ASSERT_TRUE(amt("1 NEAR") == NEAR_ONE_NEAR);
    ASSERT_TRUE(amt("1.5 NEAR") == NEAR_ONE_NEAR * 3 / 2);
    ASSERT_TRUE(amt("1.5") == NEAR_ONE_NEAR * 3 / 2);
    ASSERT_TRUE(amt("1.5near") == NEAR_ONE_NEAR * 3 / 2);
    ASSERT_TRUE(amt(".5 N") == NEAR_ONE_NEAR / 2);
    ASSERT_TRUE(amt("2.") == NEAR_ONE_NEAR * 2);
    ASSERT_TRUE(amt("0.000000000000000000000001 NEAR") == 1);
    ASSERT_TRUE(amt("1000 yocto") == 1000);
    ASSERT_TRUE(amt("1000 yoctoNEAR") == 1000);
    ASSERT_TRUE(amt("0") == 0);
    ASSERT_TRUE(amt("340282366920938.463463374607431768211455 NEAR") == max);
    amt_bad("340282366920938.463463374607431768211456 NEAR", "overflows");
    amt_bad("340282366920939 NEAR", "overflows");
    amt_bad("0.0000000000000000000000001 NEAR", "25 decimals, NEAR has at most 24");
    amt_bad("1.2.3", "more than one decimal point");
    amt_bad("1.5 ETH", "unknown unit or character at position 4");
    amt_bad("-1", "position 0");
    amt_bad("NEAR", "no number");
    amt_bad(". NEAR", "no digits");
    amt_bad("1.5 yocto", "whole numbers");
    amt_bad("", "no number");

    fmt_is(0, "0 NEAR");
    fmt_is(1, "0.000000000000000000000001 NEAR");
    fmt_is(NEAR_ONE_NEAR, "1 NEAR");
    fmt_is(NEAR_ONE_NEAR * 3 / 2, "1.5 NEAR");
    fmt_is(NEAR_ONE_NEAR * 1000 + 10, "1000.00000000000000000000001 NEAR");
    fmt_is(max, "340282366920938.463463374607431768211455 NEAR");
    puts("test_amount: ok");
    return 0;
}
