/* libFuzzer target for src/near's decoders and the base encodings. The first input byte picks the
 * decoder (0-2 borsh, 3-7 text parsers, 8 RPC outcome JSON); the rest is its input. Invariants, beyond "no crash, no leak": whatever decodes must
 * re-encode to exactly the same bytes (borsh and our text encodings are canonical), and a decoded
 * key or account id must format back to what was parsed. */
#include "near/near.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(c)                                                                                           \
    do {                                                                                                   \
        if (!(c)) abort();                                                                                 \
    } while (0)

static void borsh(int kind, const uint8_t *p, size_t n) {
    near_arena *ar = near_arena_new(1 << 20);
    CHECK(ar);
    ol_err err;
    near_buf b;
    near_buf_init(&b, 0);
    int rc;
    if (kind == 0) {
        near_signed_transaction st;
        rc = near_signed_tx_decode(p, n, ar, &st, &err);
        if (!rc) {
            CHECK(near_signed_tx_encode(&b, &st, &err) == 0);
            uint8_t h[32];
            CHECK(near_tx_hash(&st.tx, h, &err) == 0);
            (void)near_signed_tx_verify(&st, &err);
        }
    } else if (kind == 1) {
        near_transaction t;
        rc = near_tx_decode(p, n, ar, &t, &err);
        if (!rc) CHECK(near_tx_encode(&b, &t, &err) == 0);
    } else {
        near_delegate_action d;
        rc = near_delegate_action_decode(p, n, ar, &d, &err);
        if (!rc) CHECK(near_delegate_action_encode(&b, &d, &err) == 0);
    }
    if (!rc) CHECK(b.len == n && (n == 0 || memcmp(b.data, p, n) == 0));
    else CHECK(err.msg[0] != 0);
    near_buf_free(&b);
    near_arena_free(ar);
}

static void text(int kind, const uint8_t *p, size_t n) {
    char *s = malloc(n + 1);
    CHECK(s);
    memcpy(s, p, n);
    s[n] = 0;
    ol_err err;
    size_t cap = n + 16, len;
    uint8_t *out = malloc(cap);
    char *back = malloc(2 * cap + 16);
    CHECK(out && back);
    if (kind == 3 && ol_base58_decode(s, n, out, cap, &len, &err) == 0) {
        CHECK(ol_base58_encode(out, len, back, 2 * cap + 16, &err) == 0);
        CHECK(strlen(back) == n && memcmp(back, s, n) == 0);
    } else if (kind == 4 && ol_base64_decode(s, n, out, cap, &len, &err) == 0) {
        CHECK(ol_base64_encode(out, len, back, 2 * cap + 16, &err) == 0);
        CHECK(strlen(back) == n && memcmp(back, s, n) == 0);
    } else if (kind == 5 && ol_hex_decode(s, n, out, cap, &len, &err) == 0) {
        ol_hex_encode(out, len, back);
        CHECK(strncasecmp(back, s, n) == 0);
    } else if (kind == 6) {
        near_public_key pk;
        near_secret_key sk;
        near_signature sig;
        char f[NEAR_KEY_STR];
        if (near_public_key_parse(s, &pk, &err) == 0) {
            near_public_key pk2;
            near_public_key_format(&pk, f);
            CHECK(near_public_key_parse(f, &pk2, &err) == 0 && near_public_key_eq(&pk, &pk2));
        }
        if (near_secret_key_parse(s, &sk, &err) == 0) near_secret_key_format(&sk, f);
        if (near_signature_parse(s, &sig, &err) == 0) near_signature_format(&sig, f);
    } else if (kind == 7) {
        near_u128 v;
        char f[NEAR_AMOUNT_STR];
        if (near_account_id_check(s, n, &err) == 0) (void)near_account_id_kind(s, n);
        if (strlen(s) == n && near_amount_parse(s, &v, &err) == 0) {
            near_u128 v2;
            near_amount_format(v, f);
            CHECK(near_amount_parse(f, &v2, &err) == 0 && v2 == v);
        }
        if (near_u128_parse(s, n, &v, &err) == 0) near_u128_format(v, f);
    }
    free(s);
    free(out);
    free(back);
}

/* RPC outcome parsing on arbitrary JSON (what a hostile or broken node could send). */
static void outcome(const uint8_t *p, size_t n) {
    json_t *j = json_loadb((const char *)p, n, JSON_DECODE_ANY, NULL);
    if (!j) return;
    near_outcome_kind kind;
    uint8_t *value = NULL;
    size_t len = 0;
    near_rpc_error d;
    ol_err err;
    int rc = near_rpc_outcome(j, &kind, &value, &len, &d, &err);
    if (rc) CHECK(err.msg[0] != 0 && value == NULL);
    free(value);
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > (1 << 16)) return 0;
    int kind = data[0] % 9;
    if (kind <= 2) borsh(kind, data + 1, size - 1);
    else if (kind <= 7) text(kind, data + 1, size - 1);
    else outcome(data + 1, size - 1);
    return 0;
}
