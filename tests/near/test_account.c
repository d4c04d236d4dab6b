/* Account id validation (near-account-id-rs rules) and kinds. */
#include "near/near.h"
#include "test.h"

static void ok(const char *s) {
    ol_err err = {0};
    if (near_account_id_check(s, strlen(s), &err)) T_FAIL("'%s' rejected: %s", s, err.msg);
}

static void bad(const char *s, const char *msg) {
    ol_err err = {0};
    ASSERT_EQ(near_account_id_check(s, strlen(s), &err), NEAR_EINVAL);
    ASSERT_CONTAINS(err.msg, msg);
}

int main(void) {
    const char *good[] = {"aa", "a-b", "a_b", "a.b", "alice.near", "bob.test", "100", "near", "a1-b2_c3.d4",
                          "0o", "system", "abcdefghijklmnopqrstuvwxyz.0123456789-abcdefghijklmnopqrstuvwxyz",
                          "0x0000000000000000000000000000000000000000", "sub.alice.testnet"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) ok(good[i]);
    bad("a", "too short (1 bytes, minimum 2)");
    bad("", "too short");
    char long65[66];
    memset(long65, 'a', 65);
    long65[65] = 0;
    bad(long65, "too long (65 bytes, maximum 64)");
    long65[64] = 0;
    ok(long65);
    bad("Alice.near", "invalid character 'A' at position 0 (must be lowercase)");
    bad("alice near", "invalid byte 0x20 at position 5");
    bad("alice@near", "invalid character '@' at position 5");
    bad(".alice", "starts with separator '.'");
    bad("-alice", "starts with separator '-'");
    bad("alice.", "ends with separator '.'");
    bad("alice..near", "redundant separator '.' at position 6");
    bad("a-_b", "redundant separator '_' at position 2");
    bad("a\xc3\xa9", "invalid byte 0xc3 at position 1");
    ASSERT_TRUE(near_account_id_valid("alice.near"));
    ASSERT_TRUE(!near_account_id_valid("a"));
    ASSERT_TRUE(!near_account_id_valid(NULL));

    const char *impl = "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8";
    ASSERT_EQ(near_account_id_kind(impl, strlen(impl)), NEAR_ACCOUNT_NEAR_IMPLICIT);
    const char *not_impl = "03A107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8";
    ASSERT_EQ(near_account_id_kind(not_impl, strlen(not_impl)), NEAR_ACCOUNT_NAMED);
    const char *eth = "0x52908400098527886e0f7030069857d2e4169ee7";
    ASSERT_EQ(near_account_id_kind(eth, strlen(eth)), NEAR_ACCOUNT_ETH_IMPLICIT);
    const char *det = "0s52908400098527886e0f7030069857d2e4169ee7";
    ASSERT_EQ(near_account_id_kind(det, strlen(det)), NEAR_ACCOUNT_DETERMINISTIC);
    ASSERT_EQ(near_account_id_kind("alice.near", 10), NEAR_ACCOUNT_NAMED);
    ASSERT_TRUE(near_account_id_is_top_level("near", 4));
    ASSERT_TRUE(!near_account_id_is_top_level("alice.near", 10));
    ASSERT_TRUE(near_account_id_is_sub_account_of("alice.near", "near"));
    ASSERT_TRUE(!near_account_id_is_sub_account_of("a.alice.near", "near"));
    ASSERT_TRUE(!near_account_id_is_sub_account_of("alicenear", "near"));
    ASSERT_TRUE(!near_account_id_is_sub_account_of("near", "near"));
    ASSERT_TRUE(near_account_id_is_sub_account_of("a.alice.near", "alice.near"));

    /* implicit account id from a key */
    near_public_key pk;
    ol_err err = {0};
    ASSERT_EQ(near_public_key_parse("ed25519:FAe4sisG95oZ42w7buUn5qEE4TAnfTTFPiguZUHmhiF", &pk, &err), 0);
    char id[65];
    ASSERT_EQ(near_implicit_account_id(&pk, id, &err), 0);
    ASSERT_STREQ(id, impl);
    puts("test_account: ok");
    return 0;
}
