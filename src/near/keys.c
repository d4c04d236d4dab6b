/* Keys and signatures: ed25519 through libsodium, secp256k1 parsed and formatted only. String form
 * "<curve>:<base58 of the raw bytes>" (../shared/reference/near-protocol.md §3 "Text encodings"). */
#include "near/near.h"

#include <sodium.h>
#include <string.h>

int near_init(ol_err *err) {
    if (sodium_init() < 0) return ol_err_set(err, NEAR_ECRYPTO, "libsodium initialisation failed");
    return 0;
}

size_t near_key_len(uint8_t type) {
    switch (type) {
    case NEAR_KEY_ED25519: return NEAR_ED25519_PK;
    case NEAR_KEY_SECP256K1: return NEAR_SECP256K1_PK;
    default: return 0;
    }
}

size_t near_signature_len(uint8_t type) {
    switch (type) {
    case NEAR_KEY_ED25519: return NEAR_ED25519_SIG;
    case NEAR_KEY_SECP256K1: return NEAR_SECP256K1_SIG;
    default: return 0;
    }
}

static size_t secret_len(uint8_t type) {
    switch (type) {
    case NEAR_KEY_ED25519: return NEAR_ED25519_SK;
    case NEAR_KEY_SECP256K1: return NEAR_SECP256K1_SK;
    default: return 0;
    }
}

bool near_public_key_eq(const near_public_key *a, const near_public_key *b) {
    return a->type == b->type && memcmp(a->data, b->data, near_key_len(a->type)) == 0;
}

static const char *curve_name(uint8_t type) {
    switch (type) {
    case NEAR_KEY_ED25519: return "ed25519";
    case NEAR_KEY_SECP256K1: return "secp256k1";
    case NEAR_KEY_MLDSA65: return "ml-dsa-65";
    default: return "unknown";
    }
}

/* Splits "<curve>:<base58>" and decodes exactly the length that curve needs for this kind of item. */
static int parse_prefixed(const char *s, const char *what, size_t (*len_of)(uint8_t), uint8_t *type,
                          uint8_t *data, ol_err *err) {
    if (!s) return ol_err_set(err, NEAR_EINVAL, "%s: missing", what);
    const char *colon = strchr(s, ':');
    const char *b58 = s;
    *type = NEAR_KEY_ED25519;
    if (colon) {
        size_t n = (size_t)(colon - s);
        if (n == 7 && memcmp(s, "ed25519", 7) == 0)
            *type = NEAR_KEY_ED25519;
        else if (n == 9 && memcmp(s, "secp256k1", 9) == 0)
            *type = NEAR_KEY_SECP256K1;
        else if (n == 9 && memcmp(s, "ml-dsa-65", 9) == 0)
            return ol_err_set(err, NEAR_EUNSUPPORTED, "%s: ml-dsa-65 keys are not supported", what);
        else
            return ol_err_set(err, NEAR_EINVAL, "%s: unknown key type '%.*s' (expected ed25519 or secp256k1)", what,
                              (int)(n > 32 ? 32 : n), s);
        b58 = colon + 1;
    }
    size_t want = len_of(*type);
    ol_err sub;
    if (ol_base58_decode_exact(b58, strlen(b58), data, want, &sub))
        return ol_err_set(err, NEAR_EINVAL, "%s (%s): %s", what, curve_name(*type), sub.msg);
    return 0;
}

int near_public_key_parse(const char *s, near_public_key *out, ol_err *err) {
    memset(out, 0, sizeof *out);
    return parse_prefixed(s, "public key", near_key_len, &out->type, out->data, err);
}

int near_signature_parse(const char *s, near_signature *out, ol_err *err) {
    memset(out, 0, sizeof *out);
    return parse_prefixed(s, "signature", near_signature_len, &out->type, out->data, err);
}

int near_secret_key_parse(const char *s, near_secret_key *out, ol_err *err) {
    memset(out, 0, sizeof *out);
    int rc = parse_prefixed(s, "secret key", secret_len, &out->type, out->data, err);
    if (rc) return rc;
    if (out->type == NEAR_KEY_ED25519) {
        if ((rc = near_init(err))) return rc;
        uint8_t pk[32], sk[64];
        crypto_sign_seed_keypair(pk, sk, out->data);
        sodium_memzero(sk, sizeof sk);
        if (memcmp(pk, out->data + 32, 32) != 0) {
            sodium_memzero(out, sizeof *out);
            return ol_err_set(err, NEAR_ECRYPTO, "secret key (ed25519): public half does not match the seed");
        }
    }
    return 0;
}

static void format_prefixed(uint8_t type, const uint8_t *data, size_t n, char out[NEAR_KEY_STR]) {
    const char *name = curve_name(type);
    size_t o = strlen(name);
    memcpy(out, name, o);
    out[o++] = ':';
    if (ol_base58_encode(data, n, out + o, NEAR_KEY_STR - o, NULL)) out[o] = 0;
}

void near_public_key_format(const near_public_key *pk, char out[NEAR_KEY_STR]) {
    format_prefixed(pk->type, pk->data, near_key_len(pk->type), out);
}
void near_signature_format(const near_signature *sig, char out[NEAR_KEY_STR]) {
    format_prefixed(sig->type, sig->data, near_signature_len(sig->type), out);
}
void near_secret_key_format(const near_secret_key *sk, char out[NEAR_KEY_STR]) {
    format_prefixed(sk->type, sk->data, secret_len(sk->type), out);
}

int near_key_from_seed(const uint8_t seed[32], near_secret_key *sk, near_public_key *pk, ol_err *err) {
    int rc = near_init(err);
    if (rc) return rc;
    memset(sk, 0, sizeof *sk);
    memset(pk, 0, sizeof *pk);
    sk->type = pk->type = NEAR_KEY_ED25519;
    crypto_sign_seed_keypair(pk->data, sk->data, seed);
    return 0;
}

int near_key_generate(near_secret_key *sk, near_public_key *pk, ol_err *err) {
    int rc = near_init(err);
    if (rc) return rc;
    uint8_t seed[32];
    randombytes_buf(seed, sizeof seed);
    rc = near_key_from_seed(seed, sk, pk, err);
    sodium_memzero(seed, sizeof seed);
    return rc;
}

int near_secret_key_public(const near_secret_key *sk, near_public_key *pk, ol_err *err) {
    if (sk->type != NEAR_KEY_ED25519)
        return ol_err_set(err, NEAR_EUNSUPPORTED, "secret key: deriving a %s public key is not supported",
                          curve_name(sk->type));
    memset(pk, 0, sizeof *pk);
    pk->type = NEAR_KEY_ED25519;
    memcpy(pk->data, sk->data + 32, 32);
    return 0;
}

int near_sign(const near_secret_key *sk, const uint8_t *msg, size_t n, near_signature *out, ol_err *err) {
    if (sk->type != NEAR_KEY_ED25519)
        return ol_err_set(err, NEAR_EUNSUPPORTED, "sign: %s signing is not supported (ed25519 only)",
                          curve_name(sk->type));
    int rc = near_init(err);
    if (rc) return rc;
    memset(out, 0, sizeof *out);
    out->type = NEAR_KEY_ED25519;
    crypto_sign_detached(out->data, NULL, msg, n, sk->data);
    return 0;
}

int near_verify(const near_public_key *pk, const uint8_t *msg, size_t n, const near_signature *sig, ol_err *err) {
    if (pk->type != sig->type)
        return ol_err_set(err, NEAR_ECRYPTO, "verify: %s signature for a %s key", curve_name(sig->type),
                          curve_name(pk->type));
    if (pk->type != NEAR_KEY_ED25519)
        return ol_err_set(err, NEAR_EUNSUPPORTED, "verify: %s verification is not supported (ed25519 only)",
                          curve_name(pk->type));
    int rc = near_init(err);
    if (rc) return rc;
    if (crypto_sign_verify_detached(sig->data, msg, n, pk->data) != 0)
        return ol_err_set(err, NEAR_ECRYPTO, "verify: invalid ed25519 signature");
    return 0;
}

int near_implicit_account_id(const near_public_key *pk, char out[65], ol_err *err) {
    if (pk->type != NEAR_KEY_ED25519)
        return ol_err_set(err, NEAR_EINVAL, "implicit account: needs an ed25519 key, got %s", curve_name(pk->type));
    ol_hex_encode(pk->data, 32, out);
    return 0;
}
