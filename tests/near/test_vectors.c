/* Byte-for-byte agreement with near-api-js (tests/near/vectors.mjs). For each transaction near-api-js
 * built, we build the same transaction from its plain description and require identical borsh bytes,
 * hash, signature and signed base64; we decode near-api-js's bytes and re-encode them; then near-api-js
 * decodes and verifies the signed transactions we produced.
 * Usage: test_near_vectors NODE SCRIPT  (run by ctest; needs node_modules from `npm ci`, no network). */
#include "near/near.h"
#include "test.h"

#include <jansson.h>
#include <stdlib.h>
#include <unistd.h>

static char *read_all(FILE *f, size_t max) {
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    ASSERT_TRUE(buf != NULL);
    size_t n;
    while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (len + 1 == cap) {
            ASSERT_TRUE(cap < max);
            cap *= 2;
            buf = realloc(buf, cap);
            ASSERT_TRUE(buf != NULL);
        }
    }
    buf[len] = 0;
    return buf;
}

static const char *str(json_t *o, const char *k) {
    const char *s = json_string_value(json_object_get(o, k));
    if (!s) T_FAIL("missing string field %s", k);
    return s;
}

static near_u128 u128(json_t *o, const char *k) {
    const char *s = str(o, k);
    near_u128 v;
    ol_err err;
    if (near_u128_parse(s, strlen(s), &v, &err)) T_FAIL("%s: %s", k, err.msg);
    return v;
}

static near_public_key pubkey(json_t *o, const char *k) {
    near_public_key pk;
    ol_err err;
    if (near_public_key_parse(str(o, k), &pk, &err)) T_FAIL("%s: %s", k, err.msg);
    return pk;
}

static const uint8_t *b64(near_arena *ar, json_t *o, const char *k, size_t *len) {
    const char *s = str(o, k);
    size_t cap = ol_base64_decoded_max(strlen(s)) + 1;
    uint8_t *out = near_arena_alloc(ar, cap);
    ol_err err;
    if (ol_base64_decode(s, strlen(s), out, cap, len, &err)) T_FAIL("%s: %s", k, err.msg);
    return out;
}

static void build_actions(near_arena *ar, json_t *arr, const near_action **out, size_t *n);

static void build_action(near_arena *ar, json_t *d, near_action *a) {
    const char *t = str(d, "type");
    memset(a, 0, sizeof *a);
    if (!strcmp(t, "CreateAccount")) {
        a->kind = NEAR_ACTION_CREATE_ACCOUNT;
    } else if (!strcmp(t, "DeployContract")) {
        a->kind = NEAR_ACTION_DEPLOY_CONTRACT;
        a->u.deploy.code = b64(ar, d, "code_b64", &a->u.deploy.code_len);
    } else if (!strcmp(t, "FunctionCall")) {
        a->kind = NEAR_ACTION_FUNCTION_CALL;
        a->u.call.method_name = str(d, "method_name");
        a->u.call.args = b64(ar, d, "args_b64", &a->u.call.args_len);
        a->u.call.gas = (uint64_t)u128(d, "gas");
        a->u.call.deposit = u128(d, "deposit");
    } else if (!strcmp(t, "Transfer")) {
        a->kind = NEAR_ACTION_TRANSFER;
        a->u.transfer.deposit = u128(d, "deposit");
    } else if (!strcmp(t, "Stake")) {
        a->kind = NEAR_ACTION_STAKE;
        a->u.stake.stake = u128(d, "stake");
        a->u.stake.public_key = pubkey(d, "public_key");
    } else if (!strcmp(t, "AddKey")) {
        a->kind = NEAR_ACTION_ADD_KEY;
        a->u.add_key.public_key = pubkey(d, "public_key");
        json_t *perm = json_object_get(d, "permission");
        near_access_key *ak = &a->u.add_key.access_key;
        if (json_is_string(perm)) {
            ak->permission = NEAR_PERM_FULL_ACCESS;
        } else {
            ak->permission = NEAR_PERM_FUNCTION_CALL;
            ak->receiver_id = str(perm, "receiver_id");
            if (!json_is_null(json_object_get(perm, "allowance"))) {
                ak->has_allowance = true;
                ak->allowance = u128(perm, "allowance");
            }
            json_t *ms = json_object_get(perm, "method_names");
            ak->n_method_names = json_array_size(ms);
            const char **names = near_arena_alloc(ar, (ak->n_method_names + 1) * sizeof *names);
            for (size_t i = 0; i < ak->n_method_names; i++) names[i] = json_string_value(json_array_get(ms, i));
            ak->method_names = names;
        }
    } else if (!strcmp(t, "DeleteKey")) {
        a->kind = NEAR_ACTION_DELETE_KEY;
        a->u.delete_key.public_key = pubkey(d, "public_key");
    } else if (!strcmp(t, "DeleteAccount")) {
        a->kind = NEAR_ACTION_DELETE_ACCOUNT;
        a->u.delete_account.beneficiary_id = str(d, "beneficiary_id");
    } else if (!strcmp(t, "Delegate")) {
        a->kind = NEAR_ACTION_DELEGATE;
        json_t *dd = json_object_get(d, "delegate");
        near_delegate_action *da = near_arena_alloc(ar, sizeof *da);
        da->sender_id = str(dd, "sender_id");
        da->receiver_id = str(dd, "receiver_id");
        da->nonce = (uint64_t)u128(dd, "nonce");
        da->max_block_height = (uint64_t)u128(dd, "max_block_height");
        da->public_key = pubkey(dd, "public_key");
        build_actions(ar, json_object_get(dd, "actions"), &da->actions, &da->n_actions);
        a->u.delegate.action = da;
        ol_err err;
        if (near_signature_parse(str(d, "signature"), &a->u.delegate.signature, &err)) T_FAIL("%s", err.msg);
    } else if (!strcmp(t, "DeployGlobalContract")) {
        a->kind = NEAR_ACTION_DEPLOY_GLOBAL_CONTRACT;
        a->u.deploy_global.code = b64(ar, d, "code_b64", &a->u.deploy_global.code_len);
        a->u.deploy_global.deploy_mode = !strcmp(str(d, "mode"), "accountId");
    } else if (!strcmp(t, "UseGlobalContract")) {
        a->kind = NEAR_ACTION_USE_GLOBAL_CONTRACT;
        if (json_object_get(d, "account_id")) {
            a->u.use_global.by_account = 1;
            a->u.use_global.account_id = str(d, "account_id");
        } else {
            const char *h = str(d, "code_hash");
            ol_err err;
            if (ol_base58_decode_exact(h, strlen(h), a->u.use_global.code_hash, 32, &err)) T_FAIL("%s", err.msg);
        }
    } else {
        T_FAIL("unknown action type %s", t);
    }
}

static void build_actions(near_arena *ar, json_t *arr, const near_action **out, size_t *n) {
    *n = json_array_size(arr);
    near_action *a = near_arena_alloc(ar, (*n + 1) * sizeof *a);
    for (size_t i = 0; i < *n; i++) build_action(ar, json_array_get(arr, i), &a[i]);
    *out = a;
}

/* Checks one case; returns our signed base64 (malloc'd). */
static char *check_case(json_t *c, const near_secret_key *sk) {
    const char *name = str(c, "name");
    ol_err err = {0};
    near_arena *ar = near_arena_new(0);
    near_transaction tx = {0};
    tx.signer_id = str(c, "signer_id");
    tx.receiver_id = str(c, "receiver_id");
    tx.public_key = pubkey(c, "public_key");
    tx.nonce = (uint64_t)u128(c, "nonce");
    const char *bh = str(c, "block_hash");
    ASSERT_EQ(ol_base58_decode_exact(bh, strlen(bh), tx.block_hash, 32, &err), 0);
    build_actions(ar, json_object_get(c, "actions"), &tx.actions, &tx.n_actions);

    near_buf b;
    near_buf_init(&b, 0);
    if (near_tx_encode(&b, &tx, &err)) T_FAIL("%s: encode: %s", name, err.msg);
    char *hex = malloc(b.len * 2 + 1);
    ol_hex_encode(b.data, b.len, hex);
    if (strcmp(hex, str(c, "borsh_hex")) != 0)
        T_FAIL("%s: borsh differs\n ours   %s\n theirs %s", name, hex, str(c, "borsh_hex"));
    free(hex);

    uint8_t h[32];
    char s[NEAR_KEY_STR];
    near_signed_transaction stx;
    ASSERT_EQ(near_tx_sign(&tx, sk, &stx, h, &err), 0);
    ASSERT_EQ(ol_base58_encode(h, 32, s, sizeof s, &err), 0);
    if (strcmp(s, str(c, "hash"))) T_FAIL("%s: hash %s != %s", name, s, str(c, "hash"));
    near_signature_format(&stx.signature, s);
    if (strcmp(s, str(c, "signature"))) T_FAIL("%s: signature %s != %s", name, s, str(c, "signature"));
    char *ours = NULL;
    ASSERT_EQ(near_signed_tx_base64(&stx, &ours, &err), 0);
    if (strcmp(ours, str(c, "signed_b64"))) T_FAIL("%s: signed base64 differs", name);

    /* decode near-api-js's signed bytes, verify, re-encode */
    size_t len;
    const uint8_t *raw = b64(ar, c, "signed_b64", &len);
    near_signed_transaction dec;
    if (near_signed_tx_decode(raw, len, ar, &dec, &err)) T_FAIL("%s: decode: %s", name, err.msg);
    ASSERT_EQ(near_signed_tx_verify(&dec, &err), 0);
    near_buf b2;
    near_buf_init(&b2, 0);
    ASSERT_EQ(near_signed_tx_encode(&b2, &dec, &err), 0);
    ASSERT_EQ(b2.len, len);
    ASSERT_TRUE(memcmp(b2.data, raw, len) == 0);
    /* delegate signatures made by near-api-js verify with our hash */
    for (size_t i = 0; i < dec.tx.n_actions; i++) {
        const near_action *a = &dec.tx.actions[i];
        if (a->kind != NEAR_ACTION_DELEGATE) continue;
        uint8_t dh[32];
        ASSERT_EQ(near_delegate_action_hash(a->u.delegate.action, dh, &err), 0);
        if (near_verify(&a->u.delegate.action->public_key, dh, 32, &a->u.delegate.signature, &err))
            T_FAIL("%s: delegate signature: %s", name, err.msg);
    }
    near_buf_free(&b);
    near_buf_free(&b2);
    near_arena_free(ar);
    return ours;
}

int main(int argc, char **argv) {
    if (argc != 3) T_FAIL("usage: %s NODE SCRIPT", argv[0]);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' '%s' gen", argv[1], argv[2]);
    FILE *p = popen(cmd, "r");
    ASSERT_TRUE(p != NULL);
    char *text = read_all(p, 64 << 20);
    int st = pclose(p);
    if (st != 0) T_FAIL("'%s' failed (status %d): is node installed and node_modules present (npm ci)?", cmd, st);
    json_error_t je;
    json_t *root = json_loads(text, 0, &je);
    if (!root) T_FAIL("vectors JSON: line %d: %s", je.line, je.text);
    free(text);
    near_secret_key sk;
    ol_err err;
    ASSERT_EQ(near_secret_key_parse(str(root, "secret_key"), &sk, &err), 0);
    json_t *cases = json_object_get(root, "cases");
    ASSERT_TRUE(json_array_size(cases) >= 20);
    json_t *mine = json_array();
    size_t i;
    json_t *c;
    json_array_foreach(cases, i, c) {
        char *ours = check_case(c, &sk);
        json_array_append_new(mine, json_pack("{s:s, s:s}", "name", str(c, "name"), "signed_b64", ours));
        free(ours);
    }
    printf("test_vectors: %zu near-api-js transactions matched byte for byte\n", json_array_size(cases));

    char path[] = "/tmp/near-vectors-XXXXXX";
    int fd = mkstemp(path);
    ASSERT_TRUE(fd >= 0);
    close(fd);
    ASSERT_EQ(json_dump_file(mine, path, 0), 0);
    snprintf(cmd, sizeof cmd, "'%s' '%s' verify '%s'", argv[1], argv[2], path);
    st = system(cmd);
    unlink(path);
    if (st != 0) T_FAIL("near-api-js rejected our transactions (status %d)", st);
    json_decref(mine);
    json_decref(root);
    puts("test_vectors: ok");
    return 0;
}
