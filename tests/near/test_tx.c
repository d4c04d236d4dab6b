/* Borsh transactions: the verified vector of near-protocol.md §6b, round trips of every action and
 * both transaction versions, and rejection of malformed input with the offset named. */
#include "near/near.h"
#include "test.h"

#include <stdlib.h>

static const char *SK = "ed25519:1GMkH3brNXiNNs1tiFZHu4yZSRrzJwxi5wB9bHFtMikjwpAW9DMZzU2Pqakc5it8X3N5vPmqdN7KF4CCUpmKhq";

static void hex_of(const near_buf *b, char *out) { ol_hex_encode(b->data, b->len, out); }

static void test_vector(void) {
    ol_err err = {0};
    near_secret_key sk;
    ASSERT_EQ(near_secret_key_parse(SK, &sk, &err), 0);
    near_action acts[2] = {{.kind = NEAR_ACTION_TRANSFER}, {.kind = NEAR_ACTION_FUNCTION_CALL}};
    acts[0].u.transfer.deposit = NEAR_ONE_NEAR;
    acts[1].u.call.method_name = "set";
    acts[1].u.call.args = (const uint8_t *)"{\"v\":1}";
    acts[1].u.call.args_len = 7;
    acts[1].u.call.gas = 30000000000000ull;
    near_transaction tx = {.signer_id = "alice.test", .nonce = 7, .receiver_id = "bob.test", .actions = acts,
                           .n_actions = 2};
    ASSERT_EQ(near_secret_key_public(&sk, &tx.public_key, &err), 0);
    memset(tx.block_hash, 0x11, 32);
    near_buf b;
    near_buf_init(&b, 0);
    ASSERT_EQ(near_tx_encode(&b, &tx, &err), 0);
    ASSERT_EQ(b.len, 163);
    char hex[400];
    hex_of(&b, hex);
    ASSERT_STREQ(hex, "0a000000616c6963652e746573740003a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"
                      "0700000000000000" "08000000626f622e74657374"
                      "1111111111111111111111111111111111111111111111111111111111111111" "02000000"
                      "03000000a1edccce1bc2d3000000000000" "0203000000736574070000007b2276223a317d00e057eb481b0000"
                      "00000000000000000000000000000000");
    uint8_t h[32];
    char s[NEAR_KEY_STR];
    near_signed_transaction stx;
    ASSERT_EQ(near_tx_sign(&tx, &sk, &stx, h, &err), 0);
    ASSERT_EQ(ol_base58_encode(h, 32, s, sizeof s, &err), 0);
    ASSERT_STREQ(s, "4kEjWYxpGXod1y3AYwoGYPF9psPX56g9qiBCsp1hqbwj");
    near_signature_format(&stx.signature, s);
    ASSERT_STREQ(s, "ed25519:2stzpJ1VVedU8ZoS84hDtrRxXvvVtDvebEgYEzdYxo3oUXkwaqdMFCdR9HoJ9AcopmRiQ8cZHeGstedRMYniA7wY");
    char *b64 = NULL;
    ASSERT_EQ(near_signed_tx_base64(&stx, &b64, &err), 0);
    ASSERT_STREQ(b64, "CgAAAGFsaWNlLnRlc3QAA6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbgHAAAAAAAAAAgAAABib2IudGVzdBERERERERERERERERERERERERERERERERERERERERERAgAAAAMAAACh7czOG8LTAAAAAAAAAgMAAABzZXQHAAAAeyJ2IjoxfQDgV+tIGwAAAAAAAAAAAAAAAAAAAAAAAABd6IAkWGSXQAIM2XcoHG+5X+Fr1xlnVlNB+rM0tlH0QrIFqPTRk5huhU+p0d6dekyk3QEZT6vR4w1fa/vrqesL");
    ASSERT_EQ(near_signed_tx_verify(&stx, &err), 0);
    /* decode the signed form back */
    uint8_t raw[400];
    size_t rawlen;
    ASSERT_EQ(ol_base64_decode(b64, strlen(b64), raw, sizeof raw, &rawlen, &err), 0);
    near_arena *ar = near_arena_new(0);
    near_signed_transaction d;
    ASSERT_EQ(near_signed_tx_decode(raw, rawlen, ar, &d, &err), 0);
    ASSERT_STREQ(d.tx.signer_id, "alice.test");
    ASSERT_EQ(d.tx.n_actions, 2);
    ASSERT_STREQ(d.tx.actions[1].u.call.method_name, "set");
    ASSERT_TRUE(d.tx.actions[0].u.transfer.deposit == NEAR_ONE_NEAR);
    ASSERT_EQ(near_signed_tx_verify(&d, &err), 0);
    /* a flipped bit in the signature fails verification */
    d.signature.data[5] ^= 1;
    ASSERT_EQ(near_signed_tx_verify(&d, &err), NEAR_ECRYPTO);
    /* every strict prefix is rejected as truncated, with an offset */
    for (size_t n = 0; n < rawlen; n++) {
        near_arena *a2 = near_arena_new(0);
        int rc = near_signed_tx_decode(raw, n, a2, &d, &err);
        if (rc != NEAR_ETRUNC) T_FAIL("prefix %zu: rc %d (%s)", n, rc, err.msg);
        ASSERT_CONTAINS(err.msg, "truncated input");
        near_arena_free(a2);
    }
    /* trailing byte */
    raw[rawlen] = 0;
    ASSERT_EQ(near_signed_tx_decode(raw, rawlen + 1, ar, &d, &err), NEAR_EINVAL);
    ASSERT_CONTAINS(err.msg, "1 trailing bytes at offset 228");
    /* wrong key for the transaction */
    near_secret_key other;
    near_public_key opk;
    ASSERT_EQ(near_key_generate(&other, &opk, &err), 0);
    ASSERT_EQ(near_tx_sign(&tx, &other, &stx, NULL, &err), NEAR_ECRYPTO);
    free(b64);
    near_arena_free(ar);
    near_buf_free(&b);
}

/* Builds one transaction that holds every supported action, encodes, decodes, re-encodes. */
static void test_all_actions(void) {
    ol_err err = {0};
    near_secret_key sk;
    near_public_key pk;
    uint8_t seed[32] = {7};
    ASSERT_EQ(near_key_from_seed(seed, &sk, &pk, &err), 0);
    static const char *methods[] = {"get", "set"};
    near_action inner[2] = {{.kind = NEAR_ACTION_TRANSFER}, {.kind = NEAR_ACTION_CREATE_ACCOUNT}};
    inner[0].u.transfer.deposit = 5;
    near_delegate_action del = {.sender_id = "alice.test", .receiver_id = "bob.test", .actions = inner,
                                .n_actions = 2, .nonce = 9, .max_block_height = 1000, .public_key = pk};
    near_action a[13];
    memset(a, 0, sizeof a);
    a[0].kind = NEAR_ACTION_CREATE_ACCOUNT;
    a[1].kind = NEAR_ACTION_DEPLOY_CONTRACT;
    a[1].u.deploy.code = (const uint8_t *)"\0asm\1\0\0\0";
    a[1].u.deploy.code_len = 8;
    a[2].kind = NEAR_ACTION_FUNCTION_CALL;
    a[2].u.call.method_name = "m";
    a[2].u.call.gas = 1;
    a[2].u.call.deposit = ~(near_u128)0;
    a[3].kind = NEAR_ACTION_TRANSFER;
    a[3].u.transfer.deposit = 1;
    a[4].kind = NEAR_ACTION_STAKE;
    a[4].u.stake.stake = 100;
    a[4].u.stake.public_key = pk;
    a[5].kind = NEAR_ACTION_ADD_KEY;
    a[5].u.add_key.public_key = pk;
    a[5].u.add_key.access_key.permission = NEAR_PERM_FULL_ACCESS;
    a[6].kind = NEAR_ACTION_ADD_KEY;
    a[6].u.add_key.public_key = pk;
    a[6].u.add_key.access_key.permission = NEAR_PERM_FUNCTION_CALL;
    a[6].u.add_key.access_key.has_allowance = true;
    a[6].u.add_key.access_key.allowance = 250;
    a[6].u.add_key.access_key.receiver_id = "c.test";
    a[6].u.add_key.access_key.method_names = methods;
    a[6].u.add_key.access_key.n_method_names = 2;
    a[7].kind = NEAR_ACTION_DELETE_KEY;
    a[7].u.delete_key.public_key = pk;
    a[8].kind = NEAR_ACTION_DELETE_ACCOUNT;
    a[8].u.delete_account.beneficiary_id = "carol.test";
    a[9].kind = NEAR_ACTION_DELEGATE;
    a[9].u.delegate.action = &del;
    ASSERT_EQ(near_delegate_action_sign(&del, &sk, &a[9].u.delegate.signature, &err), 0);
    a[10].kind = NEAR_ACTION_DEPLOY_GLOBAL_CONTRACT;
    a[10].u.deploy_global.code = (const uint8_t *)"xyz";
    a[10].u.deploy_global.code_len = 3;
    a[10].u.deploy_global.deploy_mode = 1;
    a[11].kind = NEAR_ACTION_USE_GLOBAL_CONTRACT;
    a[11].u.use_global.by_account = 1;
    a[11].u.use_global.account_id = "lib.test";
    a[12].kind = NEAR_ACTION_USE_GLOBAL_CONTRACT;
    memset(a[12].u.use_global.code_hash, 0xab, 32);
    for (int version = 0; version <= 1; version++) {
        near_transaction tx = {.version = (uint8_t)version, .signer_id = "alice.test", .public_key = pk, .nonce = 42,
                               .receiver_id = "alice.test", .actions = a, .n_actions = 13};
        if (version) {
            tx.gas_key_nonce = true;
            tx.nonce_index = 3;
            tx.nonce_mode = 1;
        }
        near_buf b1, b2;
        near_buf_init(&b1, 0);
        near_buf_init(&b2, 0);
        ASSERT_EQ(near_tx_encode(&b1, &tx, &err), 0);
        near_arena *ar = near_arena_new(0);
        near_transaction d;
        if (near_tx_decode(b1.data, b1.len, ar, &d, &err)) T_FAIL("decode v%d: %s", version, err.msg);
        ASSERT_EQ(d.version, version);
        ASSERT_EQ(d.n_actions, 13);
        ASSERT_EQ(d.gas_key_nonce, version == 1);
        ASSERT_EQ(d.nonce_index, version ? 3 : 0);
        ASSERT_STREQ(d.actions[6].u.add_key.access_key.method_names[1], "set");
        ASSERT_STREQ(d.actions[9].u.delegate.action->receiver_id, "bob.test");
        ASSERT_TRUE(d.actions[2].u.call.deposit == ~(near_u128)0);
        ASSERT_EQ(near_tx_encode(&b2, &d, &err), 0);
        ASSERT_EQ(b1.len, b2.len);
        ASSERT_TRUE(memcmp(b1.data, b2.data, b1.len) == 0);
        /* the delegate signature verifies after decoding */
        uint8_t h[32];
        ASSERT_EQ(near_delegate_action_hash(d.actions[9].u.delegate.action, h, &err), 0);
        ASSERT_EQ(near_verify(&pk, h, 32, &d.actions[9].u.delegate.signature, &err), 0);
        for (size_t n = 0; n < b1.len; n++) {
            near_transaction t;
            int rc = near_tx_decode(b1.data, n, ar, &t, &err);
            if (rc != NEAR_ETRUNC) T_FAIL("v%d prefix %zu: rc %d (%s)", version, n, rc, err.msg);
        }
        near_arena_free(ar);
        near_buf_free(&b1);
        near_buf_free(&b2);
    }
}

static int decode_hex(const char *hex, ol_err *err) {
    uint8_t raw[512];
    size_t n;
    ASSERT_EQ(ol_hex_decode(hex, strlen(hex), raw, sizeof raw, &n, err), 0);
    near_arena *ar = near_arena_new(0);
    near_transaction t;
    int rc = near_tx_decode(raw, n, ar, &t, err);
    near_arena_free(ar);
    return rc;
}

/* prefix: signer "alice.test", ed25519 key of zeros, nonce 7, receiver "bob.test", block hash of 0x11 */
#define PFX                                                                                                        \
    "0a000000616c6963652e7465737400" "0000000000000000000000000000000000000000000000000000000000000000"          \
    "0700000000000000" "08000000626f622e74657374" "1111111111111111111111111111111111111111111111111111111111111111"

static void test_malformed(void) {
    ol_err err = {0};
    ASSERT_EQ(decode_hex(PFX "00000000", &err), 0);
    ASSERT_EQ(decode_hex(PFX "65000000", &err), NEAR_ELIMIT); /* 101 actions */
    ASSERT_CONTAINS(err.msg, "actions count 101 at offset 99 exceeds NEAR_MAX_ACTIONS");
    ASSERT_EQ(decode_hex(PFX "ffffffff", &err), NEAR_ELIMIT);
    ASSERT_EQ(decode_hex(PFX "0100000020", &err), NEAR_EINVAL);
    ASSERT_CONTAINS(err.msg, "unknown action tag 32");
    ASSERT_EQ(decode_hex(PFX "010000000b", &err), NEAR_EUNSUPPORTED);
    ASSERT_CONTAINS(err.msg, "DeterministicStateInit (tag 11) is not supported");
    ASSERT_EQ(decode_hex(PFX "0100000001ffffffff", &err), NEAR_ELIMIT);
    ASSERT_CONTAINS(err.msg, "DeployContract code length 4294967295 at offset 104 exceeds the limit 4194304");
    ASSERT_EQ(decode_hex(PFX "010000000110000000aabb", &err), NEAR_ETRUNC);
    ASSERT_CONTAINS(err.msg, "DeployContract code needs 16 bytes at offset 108, 2 left");
    ASSERT_EQ(decode_hex(PFX "010000000201010000", &err), NEAR_ELIMIT);
    ASSERT_CONTAINS(err.msg, "FunctionCall method_name length 257");
    ASSERT_EQ(decode_hex(PFX "0100000002020000006d80", &err), NEAR_EINVAL);
    ASSERT_CONTAINS(err.msg, "method_name is not valid UTF-8 (byte 0x80 at offset 109)");
    ASSERT_EQ(decode_hex(PFX "010000000603", &err), NEAR_EINVAL);
    ASSERT_CONTAINS(err.msg, "unknown key type 3");
    ASSERT_EQ(decode_hex(PFX "010000000602", &err), NEAR_EUNSUPPORTED);
    ASSERT_EQ(decode_hex(PFX "01000000070300000041424300", &err), NEAR_EINVAL);
    ASSERT_CONTAINS(err.msg, "DeleteAccount beneficiary_id at offset 104: account id: invalid character 'A'");
    ASSERT_EQ(decode_hex(PFX "010000000a02", &err), NEAR_EINVAL);
    ASSERT_CONTAINS(err.msg, "UseGlobalContract identifier at offset 104: unknown variant 2");
    /* AddKey with permission 4, and with allowance option tag 2 */
    ASSERT_EQ(decode_hex(PFX "010000000500" "0000000000000000000000000000000000000000000000000000000000000000"
                             "000000000000000004", &err), NEAR_EINVAL);
    ASSERT_CONTAINS(err.msg, "permission at offset 145: unknown variant 4");
    ASSERT_EQ(decode_hex(PFX "010000000500" "0000000000000000000000000000000000000000000000000000000000000000"
                             "00000000000000000002", &err), NEAR_EINVAL);
    ASSERT_CONTAINS(err.msg, "allowance option at offset 146: tag 2");
    /* method names count over the budget */
    ASSERT_EQ(decode_hex(PFX "010000000500" "0000000000000000000000000000000000000000000000000000000000000000"
                             "00000000000000000000" "06000000632e74657374d1070000", &err), NEAR_ELIMIT);
    ASSERT_CONTAINS(err.msg, "method_names count 2001");
    /* bad version tag, bad signer id */
    ASSERT_EQ(decode_hex("0205000000", &err), NEAR_EINVAL);
    ASSERT_CONTAINS(err.msg, "unknown version tag 2");
    ASSERT_EQ(decode_hex("01", &err), NEAR_ETRUNC);
    ASSERT_EQ(decode_hex("020000004142", &err), NEAR_EINVAL);
    ASSERT_CONTAINS(err.msg, "signer_id at offset 0: account id: invalid character 'A'");
    /* nested delegate */
    ASSERT_EQ(decode_hex(PFX "0100000008" "0a000000616c6963652e74657374" "08000000626f622e74657374"
                             "0100000008", &err), NEAR_EINVAL);
    ASSERT_CONTAINS(err.msg, "Delegate inside a delegate action");
    /* ed25519 signature with top bits set in its last byte */
    {
        char hex[1024];
        snprintf(hex, sizeof hex, "%s%s00%0128d", PFX, "00000000", 0);
        hex[strlen(hex) - 2] = 'e';
        hex[strlen(hex) - 1] = '0';
        uint8_t raw[512];
        size_t n;
        ASSERT_EQ(ol_hex_decode(hex, strlen(hex), raw, sizeof raw, &n, &err), 0);
        near_arena *ar = near_arena_new(0);
        near_signed_transaction st;
        ASSERT_EQ(near_signed_tx_decode(raw, n, ar, &st, &err), NEAR_EINVAL);
        ASSERT_CONTAINS(err.msg, "top bits set");
        raw[n - 1] = 0x1f;
        ASSERT_EQ(near_signed_tx_decode(raw, n, ar, &st, &err), 0);
        near_arena_free(ar);
    }
    /* a tiny arena limit is reported as out of memory, not a crash */
    {
        uint8_t raw[512];
        size_t n;
        const char *hex = PFX "0100000002" "03000000736574" "00000000" "0000000000000000" "00000000000000000000000000000000";
        ASSERT_EQ(ol_hex_decode(hex, strlen(hex), raw, sizeof raw, &n, &err), 0);
        near_arena *ar = near_arena_new(16);
        near_transaction t;
        ASSERT_EQ(near_tx_decode(raw, n, ar, &t, &err), NEAR_ENOMEM);
        near_arena_free(ar);
    }
}

static void test_encoder_checks(void) {
    ol_err err = {0};
    near_buf b;
    near_buf_init(&b, 0);
    near_transaction tx = {.signer_id = "Alice", .receiver_id = "bob.test"};
    ASSERT_EQ(near_tx_encode(&b, &tx, &err), NEAR_EINVAL);
    ASSERT_CONTAINS(err.msg, "signer_id: account id: invalid character 'A'");
    tx.signer_id = "alice.test";
    tx.n_actions = 101;
    near_action many[101];
    memset(many, 0, sizeof many);
    tx.actions = many;
    ASSERT_EQ(near_tx_encode(&b, &tx, &err), NEAR_ELIMIT);
    ASSERT_CONTAINS(err.msg, "NEAR_MAX_ACTIONS");
    tx.n_actions = 100;
    near_buf_free(&b);
    near_buf_init(&b, 0);
    ASSERT_EQ(near_tx_encode(&b, &tx, &err), 0);
    /* an output over the buffer's maximum */
    near_buf small;
    near_buf_init(&small, 50);
    ASSERT_EQ(near_tx_encode(&small, &tx, &err), NEAR_ELIMIT);
    ASSERT_CONTAINS(err.msg, "exceeds 50 bytes");
    near_buf_free(&small);
    many[0].kind = NEAR_ACTION_DELEGATE_V2;
    ASSERT_EQ(near_tx_encode(&b, &tx, &err), NEAR_EUNSUPPORTED);
    ASSERT_CONTAINS(err.msg, "DelegateV2");
    near_buf_free(&b);
}

int main(void) {
    test_vector();
    test_all_actions();
    test_malformed();
    test_encoder_checks();
    puts("test_tx: ok");
    return 0;
}
