/* Keys, signatures and near-cli credentials files (reference §3 and the §6b vector). */
#include "near/near.h"
#include "test.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *SK = "ed25519:1GMkH3brNXiNNs1tiFZHu4yZSRrzJwxi5wB9bHFtMikjwpAW9DMZzU2Pqakc5it8X3N5vPmqdN7KF4CCUpmKhq";
static const char *PK = "ed25519:FAe4sisG95oZ42w7buUn5qEE4TAnfTTFPiguZUHmhiF";

static void test_vector_keys(void) {
    uint8_t seed[32];
    for (int i = 0; i < 32; i++) seed[i] = (uint8_t)i;
    near_secret_key sk;
    near_public_key pk;
    ol_err err = {0};
    ASSERT_EQ(near_key_from_seed(seed, &sk, &pk, &err), 0);
    char s[NEAR_KEY_STR];
    near_secret_key_format(&sk, s);
    ASSERT_STREQ(s, SK);
    near_public_key_format(&pk, s);
    ASSERT_STREQ(s, PK);
    near_secret_key sk2;
    near_public_key pk2, pk3;
    ASSERT_EQ(near_secret_key_parse(SK, &sk2, &err), 0);
    ASSERT_TRUE(memcmp(sk2.data, sk.data, 64) == 0);
    ASSERT_EQ(near_public_key_parse(PK, &pk2, &err), 0);
    ASSERT_TRUE(near_public_key_eq(&pk, &pk2));
    ASSERT_EQ(near_public_key_parse(PK + 8, &pk3, &err), 0); /* bare base58 = ed25519 */
    ASSERT_TRUE(near_public_key_eq(&pk, &pk3));
    ASSERT_EQ(near_secret_key_public(&sk2, &pk3, &err), 0);
    ASSERT_TRUE(near_public_key_eq(&pk, &pk3));

    /* sign / verify, and the signature string round trip */
    near_signature sig, sig2;
    ASSERT_EQ(near_sign(&sk, (const uint8_t *)"hello", 5, &sig, &err), 0);
    ASSERT_EQ(near_verify(&pk, (const uint8_t *)"hello", 5, &sig, &err), 0);
    ASSERT_EQ(near_verify(&pk, (const uint8_t *)"hellp", 5, &sig, &err), NEAR_ECRYPTO);
    ASSERT_CONTAINS(err.msg, "invalid ed25519 signature");
    near_signature_format(&sig, s);
    ASSERT_EQ(near_signature_parse(s, &sig2, &err), 0);
    ASSERT_TRUE(memcmp(sig.data, sig2.data, 64) == 0);

    /* a random key is different each time and self-consistent */
    near_secret_key r1, r2;
    near_public_key q1, q2;
    ASSERT_EQ(near_key_generate(&r1, &q1, &err), 0);
    ASSERT_EQ(near_key_generate(&r2, &q2, &err), 0);
    ASSERT_TRUE(!near_public_key_eq(&q1, &q2));
    near_secret_key_format(&r1, s);
    ASSERT_EQ(near_secret_key_parse(s, &r2, &err), 0);
}

static void test_bad_keys(void) {
    near_public_key pk;
    near_secret_key sk;
    near_signature sig;
    ol_err err = {0};
    ASSERT_EQ(near_public_key_parse("ed25519:FAe4sisG95oZ42w7buUn5qEE4TAnfTTFPiguZUHmhi0", &pk, &err), NEAR_EINVAL);
    ASSERT_CONTAINS(err.msg, "invalid character '0' at position 42");
    ASSERT_EQ(near_public_key_parse("ed25519:FAe4sisG95oZ42w7buUn5qEE4TAnfTTFPiguZUHmhi", &pk, &err), NEAR_EINVAL);
    ASSERT_CONTAINS(err.msg, "expected 32");
    ASSERT_EQ(near_public_key_parse("rsa:FAe4sisG95oZ42w7buUn5qEE4TAnfTTFPiguZUHmhiF", &pk, &err), NEAR_EINVAL);
    ASSERT_CONTAINS(err.msg, "unknown key type 'rsa'");
    ASSERT_EQ(near_public_key_parse("ml-dsa-65:abc", &pk, &err), NEAR_EUNSUPPORTED);
    ASSERT_EQ(near_public_key_parse("secp256k1:FAe4sisG95oZ42w7buUn5qEE4TAnfTTFPiguZUHmhiF", &pk, &err), NEAR_EINVAL);
    ASSERT_CONTAINS(err.msg, "(secp256k1)");
    ASSERT_CONTAINS(err.msg, "expected 64");
    /* a public key is not a secret key */
    ASSERT_EQ(near_secret_key_parse(PK, &sk, &err), NEAR_EINVAL);
    ASSERT_CONTAINS(err.msg, "secret key (ed25519)");
    /* seed with a foreign public half */
    uint8_t raw[64];
    for (int i = 0; i < 64; i++) raw[i] = (uint8_t)i;
    char s[NEAR_KEY_STR] = "ed25519:";
    ASSERT_EQ(ol_base58_encode(raw, 64, s + 8, sizeof s - 8, &err), 0);
    ASSERT_EQ(near_secret_key_parse(s, &sk, &err), NEAR_ECRYPTO);
    ASSERT_CONTAINS(err.msg, "public half does not match");
    ASSERT_EQ(near_signature_parse("ed25519:1", &sig, &err), NEAR_EINVAL);
    /* type mismatch in verify */
    ASSERT_EQ(near_public_key_parse(PK, &pk, &err), 0);
    memset(&sig, 0, sizeof sig);
    sig.type = NEAR_KEY_SECP256K1;
    ASSERT_EQ(near_verify(&pk, raw, 3, &sig, &err), NEAR_ECRYPTO);
    ASSERT_CONTAINS(err.msg, "secp256k1 signature for a ed25519 key");
}

static void test_secp256k1(void) {
    uint8_t raw[64];
    for (int i = 0; i < 64; i++) raw[i] = (uint8_t)(0x80 + i);
    char s[NEAR_KEY_STR] = "secp256k1:", back[NEAR_KEY_STR];
    ol_err err = {0};
    ASSERT_EQ(ol_base58_encode(raw, 64, s + 10, sizeof s - 10, &err), 0);
    near_public_key pk;
    ASSERT_EQ(near_public_key_parse(s, &pk, &err), 0);
    ASSERT_EQ(pk.type, NEAR_KEY_SECP256K1);
    ASSERT_TRUE(memcmp(pk.data, raw, 64) == 0);
    near_public_key_format(&pk, back);
    ASSERT_STREQ(back, s);
    /* borsh round trip of the key inside a DeleteKey action */
    near_action a = {.kind = NEAR_ACTION_DELETE_KEY};
    a.u.delete_key.public_key = pk;
    near_buf b;
    near_buf_init(&b, 0);
    ASSERT_EQ(near_action_encode(&b, &a, &err), 0);
    ASSERT_EQ(b.len, 1 + 1 + 64);
    ASSERT_EQ(b.data[1], 1);
    near_arena *ar = near_arena_new(0);
    near_reader r = {.p = b.data, .len = b.len, .arena = ar, .err = &err};
    near_action d;
    ASSERT_EQ(near_read_action(&r, &d), 0);
    ASSERT_TRUE(near_public_key_eq(&d.u.delete_key.public_key, &pk));
    near_arena_free(ar);
    near_buf_free(&b);
    /* signing with secp256k1 is refused clearly */
    near_secret_key sk = {.type = NEAR_KEY_SECP256K1};
    near_signature sig;
    ASSERT_EQ(near_sign(&sk, raw, 1, &sig, &err), NEAR_EUNSUPPORTED);
    ASSERT_CONTAINS(err.msg, "secp256k1 signing is not supported");
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    ASSERT_TRUE(f != NULL);
    fputs(text, f);
    fclose(f);
}

static void test_credentials(void) {
    char dir[] = "/tmp/near-cred-XXXXXX";
    ASSERT_TRUE(mkdtemp(dir) != NULL);
    char path[512], net[512];
    ol_err err = {0};
    snprintf(net, sizeof net, "%s/testnet", dir);
    ASSERT_EQ(mkdir(net, 0700), 0);
    ASSERT_EQ(near_credentials_path(dir, "testnet", "alice.testnet", path, sizeof path, &err), 0);
    ASSERT_CONTAINS(path, "/testnet/alice.testnet.json");
    ASSERT_EQ(near_credentials_path(dir, "..", "alice.testnet", path, sizeof path, &err), NEAR_EINVAL);
    ASSERT_EQ(near_credentials_path(dir, "testnet", "../x", path, sizeof path, &err), NEAR_EINVAL);
    ASSERT_EQ(near_credentials_path(dir, "testnet", "alice.testnet", path, 10, &err), NEAR_ELIMIT);
    ASSERT_EQ(near_credentials_path(dir, "testnet", "alice.testnet", path, sizeof path, &err), 0);

    near_credentials c = {0}, back;
    ASSERT_EQ(near_key_generate(&c.secret_key, &c.public_key, &err), 0);
    ol_strlcpy(c.account_id, "alice.testnet", sizeof c.account_id);
    ASSERT_EQ(near_credentials_write(path, &c, &err), 0);
    struct stat st;
    ASSERT_EQ(stat(path, &st), 0);
    ASSERT_EQ(st.st_mode & 0777, 0600);
    ASSERT_EQ(near_credentials_read(path, &back, &err), 0);
    ASSERT_STREQ(back.account_id, "alice.testnet");
    ASSERT_TRUE(near_public_key_eq(&back.public_key, &c.public_key));
    ASSERT_TRUE(memcmp(back.secret_key.data, c.secret_key.data, 64) == 0);
    /* overwrite keeps 0600 and replaces the content */
    ASSERT_EQ(near_key_generate(&c.secret_key, &c.public_key, &err), 0);
    ASSERT_EQ(near_credentials_write(path, &c, &err), 0);
    ASSERT_EQ(near_credentials_read(path, &back, &err), 0);
    ASSERT_TRUE(near_public_key_eq(&back.public_key, &c.public_key));

    /* near-cli / nearcore forms: secret_key alias, no public_key, extra fields */
    char text[1024];
    snprintf(text, sizeof text,
             "{\"account_id\":\"bob.test\",\"public_key\":\"%s\",\"secret_key\":\"%s\",\"master_seed_phrase\":\"x\"}", PK, SK);
    write_text(path, text);
    ASSERT_EQ(near_credentials_read(path, &back, &err), 0);
    ASSERT_STREQ(back.account_id, "bob.test");
    char s[NEAR_KEY_STR];
    near_public_key_format(&back.public_key, s);
    ASSERT_STREQ(s, PK);
    snprintf(text, sizeof text, "{\"account_id\":\"bob.test\",\"private_key\":\"%s\"}", SK);
    write_text(path, text);
    ASSERT_EQ(near_credentials_read(path, &back, &err), 0);

    /* errors */
    snprintf(text, sizeof text, "{\"account_id\":\"bob.test\",\"public_key\":\"%s\",\"private_key\":\"%s\"}",
             "ed25519:11111111111111111111111111111111", SK);
    write_text(path, text);
    ASSERT_EQ(near_credentials_read(path, &back, &err), NEAR_ECRYPTO);
    ASSERT_CONTAINS(err.msg, "public_key does not match private_key");
    snprintf(text, sizeof text, "{\"account_id\":\"Bob\",\"private_key\":\"%s\"}", SK);
    write_text(path, text);
    ASSERT_EQ(near_credentials_read(path, &back, &err), NEAR_EINVAL);
    ASSERT_CONTAINS(err.msg, "invalid character 'B'");
    write_text(path, "{\"account_id\":\"bob.test\"}");
    ASSERT_EQ(near_credentials_read(path, &back, &err), NEAR_EINVAL);
    ASSERT_CONTAINS(err.msg, "missing string field \"private_key\"");
    write_text(path, "{\"account_id\":\"bob.test\",");
    ASSERT_EQ(near_credentials_read(path, &back, &err), NEAR_EINVAL);
    ASSERT_CONTAINS(err.msg, "JSON error at line 1");
    write_text(path, "[1]");
    ASSERT_EQ(near_credentials_read(path, &back, &err), NEAR_EINVAL);
    ASSERT_CONTAINS(err.msg, "not a JSON object");
    unlink(path);
    ASSERT_EQ(near_credentials_read(path, &back, &err), NEAR_EIO);
    ASSERT_CONTAINS(err.msg, "No such file");
    /* writing into a missing directory fails cleanly and leaves nothing behind */
    snprintf(path, sizeof path, "%s/missing/x.json", dir);
    ASSERT_EQ(near_credentials_write(path, &c, &err), NEAR_EIO);
    rmdir(net);
    rmdir(dir);
}

/* A signer from near-cli's file plus near-cli-rs per-key files, in rotation order. */
static void test_signer_from_credentials(void) {
    char dir[] = "/tmp/near-signer-XXXXXX";
    ASSERT_TRUE(mkdtemp(dir) != NULL);
    char p[512];
    ol_err err = {0};
    snprintf(p, sizeof p, "%s/local", dir);
    ASSERT_EQ(mkdir(p, 0700), 0);
    ASSERT_TRUE(near_signer_from_credentials(dir, "local", "carol.test", &err) == NULL);
    ASSERT_CONTAINS(err.msg, "no key for carol.test");
    near_credentials c[3];
    memset(c, 0, sizeof c);
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ(near_key_generate(&c[i].secret_key, &c[i].public_key, &err), 0);
        ol_strlcpy(c[i].account_id, "carol.test", sizeof c[i].account_id);
    }
    snprintf(p, sizeof p, "%s/local/carol.test.json", dir);
    ASSERT_EQ(near_credentials_write(p, &c[0], &err), 0);
    snprintf(p, sizeof p, "%s/local/carol.test", dir);
    ASSERT_EQ(mkdir(p, 0700), 0);
    snprintf(p, sizeof p, "%s/local/carol.test/b.json", dir);
    ASSERT_EQ(near_credentials_write(p, &c[2], &err), 0);
    snprintf(p, sizeof p, "%s/local/carol.test/a.json", dir);
    ASSERT_EQ(near_credentials_write(p, &c[1], &err), 0);
    near_signer *s = near_signer_from_credentials(dir, "local", "carol.test", &err);
    if (!s) T_FAIL("%s", err.msg);
    ASSERT_STREQ(near_signer_account(s), "carol.test");
    ASSERT_EQ(near_signer_key_count(s), 3);
    for (int i = 0; i < 3; i++) ASSERT_TRUE(near_public_key_eq(near_signer_public_key(s, (size_t)i), &c[i].public_key));
    ASSERT_TRUE(near_signer_public_key(s, 3) == NULL);
    near_signer_free(s);
    /* a key file of another account is refused */
    ol_strlcpy(c[2].account_id, "dave.test", sizeof c[2].account_id);
    snprintf(p, sizeof p, "%s/local/carol.test/b.json", dir);
    ASSERT_EQ(near_credentials_write(p, &c[2], &err), 0);
    ASSERT_TRUE(near_signer_from_credentials(dir, "local", "carol.test", &err) == NULL);
    ASSERT_CONTAINS(err.msg, "account_id is not carol.test");
    unlink(p);
    snprintf(p, sizeof p, "%s/local/carol.test/a.json", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/local/carol.test", dir);
    rmdir(p);
    snprintf(p, sizeof p, "%s/local/carol.test.json", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/local", dir);
    rmdir(p);
    rmdir(dir);
}

int main(void) {
    test_vector_keys();
    test_bad_keys();
    test_secp256k1();
    test_credentials();
    test_signer_from_credentials();
    puts("test_keys: ok");
    return 0;
}
