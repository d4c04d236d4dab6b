/* sandbox JSON views: amounts, hashes, keys, actions and receipts as NEAR's RPC spells them (§4.3). */
#include "sandbox/sandbox_int.h"

#include <stdlib.h>
#include <string.h>
#include <sodium.h>

json_t *sb_u128_json(near_u128 v) {
    char s[NEAR_U128_STR];
    near_u128_format(v, s);
    return json_string(s);
}

json_t *sb_hash_json(const uint8_t h[32]) {
    char s[64];
    if (ol_base58_encode(h, 32, s, sizeof s, NULL)) return json_string("");
    return json_string(s);
}

json_t *sb_pk_json(const near_public_key *pk) {
    char s[NEAR_KEY_STR];
    near_public_key_format(pk, s);
    return json_string(s);
}

static json_t *b64_json(const uint8_t *p, size_t n) {
    size_t cap = ol_base64_encoded_len(n) + 1;
    char *s = malloc(cap);
    if (!s) return NULL;
    json_t *j = NULL;
    if (ol_base64_encode(p, n, s, cap, NULL) == 0) j = json_string(s);
    free(s);
    return j;
}

json_t *sb_action_view(const near_action *a) {
    uint8_t h[32];
    switch (a->kind) {
    case NEAR_ACTION_CREATE_ACCOUNT: return json_string("CreateAccount");
    case NEAR_ACTION_DEPLOY_CONTRACT:
        crypto_hash_sha256(h, a->u.deploy.code, a->u.deploy.code_len);
        return json_pack("{s:{s:o}}", "DeployContract", "code", b64_json(h, 32));
    case NEAR_ACTION_FUNCTION_CALL:
        return json_pack("{s:{s:s,s:o,s:I,s:o}}", "FunctionCall", "method_name", a->u.call.method_name, "args",
                         b64_json(a->u.call.args, a->u.call.args_len), "gas", (json_int_t)a->u.call.gas, "deposit",
                         sb_u128_json(a->u.call.deposit));
    case NEAR_ACTION_TRANSFER: return json_pack("{s:{s:o}}", "Transfer", "deposit", sb_u128_json(a->u.transfer.deposit));
    case NEAR_ACTION_STAKE:
        return json_pack("{s:{s:o,s:o}}", "Stake", "stake", sb_u128_json(a->u.stake.stake), "public_key",
                         sb_pk_json(&a->u.stake.public_key));
    case NEAR_ACTION_ADD_KEY: {
        const near_access_key *k = &a->u.add_key.access_key;
        json_t *perm;
        if (k->permission == NEAR_PERM_FULL_ACCESS || k->permission == NEAR_PERM_GAS_KEY_FULL_ACCESS) {
            perm = json_string("FullAccess");
        } else {
            json_t *m = json_array();
            for (size_t i = 0; i < k->n_method_names; i++) json_array_append_new(m, json_string(k->method_names[i]));
            perm = json_pack("{s:{s:o,s:s,s:o}}", "FunctionCall", "allowance",
                             k->has_allowance ? sb_u128_json(k->allowance) : json_null(), "receiver_id",
                             k->receiver_id ? k->receiver_id : "", "method_names", m);
        }
        return json_pack("{s:{s:o,s:{s:I,s:o}}}", "AddKey", "public_key", sb_pk_json(&a->u.add_key.public_key),
                         "access_key", "nonce", (json_int_t)k->nonce, "permission", perm);
    }
    case NEAR_ACTION_DELETE_KEY:
        return json_pack("{s:{s:o}}", "DeleteKey", "public_key", sb_pk_json(&a->u.delete_key.public_key));
    case NEAR_ACTION_DELETE_ACCOUNT:
        return json_pack("{s:{s:s}}", "DeleteAccount", "beneficiary_id", a->u.delete_account.beneficiary_id);
    case NEAR_ACTION_DELEGATE: return json_pack("{s:{}}", "Delegate");
    default: return json_pack("{s:{}}", "Unsupported");
    }
}
