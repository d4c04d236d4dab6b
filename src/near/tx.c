/* Actions, delegate actions and transactions: borsh encode/decode (reference §3), hashing and
 * signing. The encoder refuses what NEAR's decoder or action validation would refuse; the decoder
 * caps every length by a NEAR_MAX_* limit before trusting it and names the field and offset. */
#include "near/near.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static const char *action_name(uint8_t kind) {
    static const char *names[] = {"CreateAccount", "DeployContract", "FunctionCall", "Transfer", "Stake",
                                  "AddKey", "DeleteKey", "DeleteAccount", "Delegate", "DeployGlobalContract",
                                  "UseGlobalContract", "DeterministicStateInit", "TransferToGasKey",
                                  "WithdrawFromGasKey", "DelegateV2"};
    return kind < sizeof names / sizeof names[0] ? names[kind] : "unknown";
}

/* ================================ encoding ================================ */

static int enc_account(near_buf *b, const char *id, const char *what, ol_err *err) {
    ol_err sub;
    if (!id || near_account_id_check(id, strlen(id), &sub))
        return ol_err_set(err, NEAR_EINVAL, "encode: %s: %s", what, id ? sub.msg : "missing");
    near_buf_str(b, id);
    return 0;
}

static int enc_public_key(near_buf *b, const near_public_key *pk, const char *what, ol_err *err) {
    size_t n = near_key_len(pk->type);
    if (!n) return ol_err_set(err, NEAR_EINVAL, "encode: %s: unsupported key type %u", what, pk->type);
    near_buf_u8(b, pk->type);
    near_buf_put(b, pk->data, n);
    return 0;
}

static int enc_signature(near_buf *b, const near_signature *sig, ol_err *err) {
    size_t n = near_signature_len(sig->type);
    if (!n) return ol_err_set(err, NEAR_EINVAL, "encode: signature: unsupported key type %u", sig->type);
    near_buf_u8(b, sig->type);
    near_buf_put(b, sig->data, n);
    return 0;
}

static int enc_access_key(near_buf *b, const near_access_key *ak, ol_err *err) {
    near_buf_u64(b, ak->nonce);
    near_buf_u8(b, ak->permission);
    switch (ak->permission) {
    case NEAR_PERM_FULL_ACCESS: return 0;
    case NEAR_PERM_GAS_KEY_FULL_ACCESS:
        near_buf_u128(b, ak->gas_key_balance);
        near_buf_u16(b, ak->gas_key_num_nonces);
        return 0;
    case NEAR_PERM_GAS_KEY_FUNCTION_CALL:
        near_buf_u128(b, ak->gas_key_balance);
        near_buf_u16(b, ak->gas_key_num_nonces);
        break;
    case NEAR_PERM_FUNCTION_CALL: break;
    default: return ol_err_set(err, NEAR_EINVAL, "encode: access key: unknown permission %u", ak->permission);
    }
    near_buf_u8(b, ak->has_allowance ? 1 : 0);
    if (ak->has_allowance) near_buf_u128(b, ak->allowance);
    int rc = enc_account(b, ak->receiver_id, "access key receiver_id", err);
    if (rc) return rc;
    if (ak->n_method_names && !ak->method_names)
        return ol_err_set(err, NEAR_EINVAL, "encode: access key: method_names missing");
    size_t total = 0;
    for (size_t i = 0; i < ak->n_method_names; i++) {
        size_t n = strlen(ak->method_names[i]);
        if (n > NEAR_MAX_METHOD_NAME)
            return ol_err_set(err, NEAR_ELIMIT, "encode: access key method name %zu is %zu bytes (NEAR_MAX_METHOD_NAME %d)",
                              i, n, NEAR_MAX_METHOD_NAME);
        total += n + 1;
    }
    if (total > NEAR_MAX_METHOD_NAMES_BYTES)
        return ol_err_set(err, NEAR_ELIMIT, "encode: access key method names total %zu bytes (NEAR_MAX_METHOD_NAMES_BYTES %d)",
                          total, NEAR_MAX_METHOD_NAMES_BYTES);
    near_buf_u32(b, (uint32_t)ak->n_method_names);
    for (size_t i = 0; i < ak->n_method_names; i++) near_buf_str(b, ak->method_names[i]);
    return 0;
}

static int enc_actions(near_buf *b, const near_action *a, size_t n, bool in_delegate, ol_err *err);

int near_delegate_action_encode(near_buf *b, const near_delegate_action *d, ol_err *err) {
    int rc;
    if ((rc = enc_account(b, d->sender_id, "delegate sender_id", err))) return rc;
    if ((rc = enc_account(b, d->receiver_id, "delegate receiver_id", err))) return rc;
    if ((rc = enc_actions(b, d->actions, d->n_actions, true, err))) return rc;
    near_buf_u64(b, d->nonce);
    near_buf_u64(b, d->max_block_height);
    if ((rc = enc_public_key(b, &d->public_key, "delegate public_key", err))) return rc;
    return b->failed ? ol_err_set(err, NEAR_ELIMIT, "encode: output exceeds %zu bytes or out of memory", b->max) : 0;
}

static int enc_action(near_buf *b, const near_action *a, bool in_delegate, ol_err *err) {
    near_buf_u8(b, a->kind);
    switch (a->kind) {
    case NEAR_ACTION_CREATE_ACCOUNT: return 0;
    case NEAR_ACTION_DEPLOY_CONTRACT:
        if (a->u.deploy.code_len > NEAR_MAX_CODE_BYTES)
            return ol_err_set(err, NEAR_ELIMIT, "encode: DeployContract code %zu bytes exceeds NEAR_MAX_CODE_BYTES (%d)",
                              a->u.deploy.code_len, NEAR_MAX_CODE_BYTES);
        near_buf_bytes(b, a->u.deploy.code, a->u.deploy.code_len);
        return 0;
    case NEAR_ACTION_FUNCTION_CALL: {
        const char *m = a->u.call.method_name ? a->u.call.method_name : "";
        if (strlen(m) > NEAR_MAX_METHOD_NAME)
            return ol_err_set(err, NEAR_ELIMIT, "encode: FunctionCall method_name exceeds NEAR_MAX_METHOD_NAME (%d)",
                              NEAR_MAX_METHOD_NAME);
        if (a->u.call.args_len > NEAR_MAX_ARGS_BYTES)
            return ol_err_set(err, NEAR_ELIMIT, "encode: FunctionCall args %zu bytes exceed NEAR_MAX_ARGS_BYTES (%d)",
                              a->u.call.args_len, NEAR_MAX_ARGS_BYTES);
        near_buf_str(b, m);
        near_buf_bytes(b, a->u.call.args, a->u.call.args_len);
        near_buf_u64(b, a->u.call.gas);
        near_buf_u128(b, a->u.call.deposit);
        return 0;
    }
    case NEAR_ACTION_TRANSFER: near_buf_u128(b, a->u.transfer.deposit); return 0;
    case NEAR_ACTION_STAKE:
        near_buf_u128(b, a->u.stake.stake);
        return enc_public_key(b, &a->u.stake.public_key, "Stake public_key", err);
    case NEAR_ACTION_ADD_KEY: {
        int rc = enc_public_key(b, &a->u.add_key.public_key, "AddKey public_key", err);
        return rc ? rc : enc_access_key(b, &a->u.add_key.access_key, err);
    }
    case NEAR_ACTION_DELETE_KEY: return enc_public_key(b, &a->u.delete_key.public_key, "DeleteKey public_key", err);
    case NEAR_ACTION_DELETE_ACCOUNT:
        return enc_account(b, a->u.delete_account.beneficiary_id, "DeleteAccount beneficiary_id", err);
    case NEAR_ACTION_DELEGATE: {
        if (in_delegate) return ol_err_set(err, NEAR_EINVAL, "encode: Delegate action inside a delegate action");
        if (!a->u.delegate.action) return ol_err_set(err, NEAR_EINVAL, "encode: Delegate action missing");
        int rc = near_delegate_action_encode(b, a->u.delegate.action, err);
        return rc ? rc : enc_signature(b, &a->u.delegate.signature, err);
    }
    case NEAR_ACTION_DEPLOY_GLOBAL_CONTRACT:
        if (a->u.deploy_global.code_len > NEAR_MAX_CODE_BYTES)
            return ol_err_set(err, NEAR_ELIMIT, "encode: DeployGlobalContract code exceeds NEAR_MAX_CODE_BYTES (%d)",
                              NEAR_MAX_CODE_BYTES);
        if (a->u.deploy_global.deploy_mode > 1)
            return ol_err_set(err, NEAR_EINVAL, "encode: DeployGlobalContract deploy_mode %u (0 or 1)",
                              a->u.deploy_global.deploy_mode);
        near_buf_bytes(b, a->u.deploy_global.code, a->u.deploy_global.code_len);
        near_buf_u8(b, a->u.deploy_global.deploy_mode);
        return 0;
    case NEAR_ACTION_USE_GLOBAL_CONTRACT:
        if (a->u.use_global.by_account > 1)
            return ol_err_set(err, NEAR_EINVAL, "encode: UseGlobalContract identifier kind %u (0 or 1)",
                              a->u.use_global.by_account);
        near_buf_u8(b, a->u.use_global.by_account);
        if (!a->u.use_global.by_account) {
            near_buf_put(b, a->u.use_global.code_hash, 32);
            return 0;
        }
        return enc_account(b, a->u.use_global.account_id, "UseGlobalContract account_id", err);
    case NEAR_ACTION_TRANSFER_TO_GAS_KEY:
    case NEAR_ACTION_WITHDRAW_FROM_GAS_KEY: {
        int rc = enc_public_key(b, &a->u.gas_key.public_key, "gas key public_key", err);
        near_buf_u128(b, a->u.gas_key.amount);
        return rc;
    }
    default:
        return ol_err_set(err, NEAR_EUNSUPPORTED, "encode: action %u (%s) is not supported", a->kind,
                          action_name(a->kind));
    }
}

static int enc_actions(near_buf *b, const near_action *a, size_t n, bool in_delegate, ol_err *err) {
    if (n > NEAR_MAX_ACTIONS)
        return ol_err_set(err, NEAR_ELIMIT, "encode: %zu actions exceed NEAR_MAX_ACTIONS (%d)", n, NEAR_MAX_ACTIONS);
    if (n && !a) return ol_err_set(err, NEAR_EINVAL, "encode: actions missing");
    near_buf_u32(b, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        int rc = enc_action(b, &a[i], in_delegate, err);
        if (rc) return rc;
    }
    return 0;
}

int near_action_encode(near_buf *b, const near_action *a, ol_err *err) {
    int rc = enc_action(b, a, false, err);
    if (rc) return rc;
    return b->failed ? ol_err_set(err, NEAR_ELIMIT, "encode: output exceeds %zu bytes or out of memory", b->max) : 0;
}

int near_tx_encode(near_buf *b, const near_transaction *tx, ol_err *err) {
    int rc;
    if (tx->version > 1) return ol_err_set(err, NEAR_EINVAL, "encode: transaction version %u (0 or 1)", tx->version);
    if (tx->version == 1) near_buf_u8(b, 1);
    if ((rc = enc_account(b, tx->signer_id, "signer_id", err))) return rc;
    if ((rc = enc_public_key(b, &tx->public_key, "public_key", err))) return rc;
    if (tx->version == 1) {
        near_buf_u8(b, tx->gas_key_nonce ? 1 : 0);
        near_buf_u64(b, tx->nonce);
        if (tx->gas_key_nonce) near_buf_u16(b, tx->nonce_index);
    } else {
        if (tx->gas_key_nonce) return ol_err_set(err, NEAR_EINVAL, "encode: gas key nonce needs a V1 transaction");
        near_buf_u64(b, tx->nonce);
    }
    if ((rc = enc_account(b, tx->receiver_id, "receiver_id", err))) return rc;
    near_buf_put(b, tx->block_hash, 32);
    if ((rc = enc_actions(b, tx->actions, tx->n_actions, false, err))) return rc;
    if (tx->version == 1) {
        if (tx->nonce_mode > 1) return ol_err_set(err, NEAR_EINVAL, "encode: nonce_mode %u (0 or 1)", tx->nonce_mode);
        near_buf_u8(b, tx->nonce_mode);
    }
    return b->failed ? ol_err_set(err, NEAR_ELIMIT, "encode: output exceeds %zu bytes or out of memory", b->max) : 0;
}

int near_signed_tx_encode(near_buf *b, const near_signed_transaction *stx, ol_err *err) {
    int rc = near_tx_encode(b, &stx->tx, err);
    if (rc) return rc;
    if ((rc = enc_signature(b, &stx->signature, err))) return rc;
    return b->failed ? ol_err_set(err, NEAR_ELIMIT, "encode: output exceeds %zu bytes or out of memory", b->max) : 0;
}

/* ================================ decoding ================================ */

int near_read_public_key(near_reader *r, near_public_key *out, const char *what) {
    size_t at = r->off;
    memset(out, 0, sizeof *out);
    int rc = near_read_u8(r, &out->type, what);
    if (rc) return rc;
    size_t n = near_key_len(out->type);
    if (out->type == NEAR_KEY_MLDSA65)
        return ol_err_set(r->err, NEAR_EUNSUPPORTED, "borsh: %s at offset %zu: ml-dsa-65 keys are not supported", what,
                          at);
    if (!n) return ol_err_set(r->err, NEAR_EINVAL, "borsh: %s at offset %zu: unknown key type %u", what, at, out->type);
    return near_read_fixed(r, out->data, n, what);
}

int near_read_signature(near_reader *r, near_signature *out, const char *what) {
    size_t at = r->off;
    memset(out, 0, sizeof *out);
    int rc = near_read_u8(r, &out->type, what);
    if (rc) return rc;
    size_t n = near_signature_len(out->type);
    if (out->type == NEAR_KEY_MLDSA65)
        return ol_err_set(r->err, NEAR_EUNSUPPORTED, "borsh: %s at offset %zu: ml-dsa-65 signatures are not supported",
                          what, at);
    if (!n)
        return ol_err_set(r->err, NEAR_EINVAL, "borsh: %s at offset %zu: unknown signature type %u", what, at,
                          out->type);
    if ((rc = near_read_fixed(r, out->data, n, what))) return rc;
    if (out->type == NEAR_KEY_ED25519 && (out->data[63] & 0xe0))
        return ol_err_set(r->err, NEAR_EINVAL, "borsh: %s at offset %zu: ed25519 signature has top bits set in its last byte",
                          what, at);
    return 0;
}

static int read_access_key(near_reader *r, near_access_key *ak) {
    int rc;
    size_t at;
    if ((rc = near_read_u64(r, &ak->nonce, "access key nonce"))) return rc;
    at = r->off;
    if ((rc = near_read_u8(r, &ak->permission, "access key permission"))) return rc;
    switch (ak->permission) {
    case NEAR_PERM_FULL_ACCESS: return 0;
    case NEAR_PERM_GAS_KEY_FULL_ACCESS:
    case NEAR_PERM_GAS_KEY_FUNCTION_CALL:
        if ((rc = near_read_u128(r, &ak->gas_key_balance, "gas key balance"))) return rc;
        if ((rc = near_read_u16(r, &ak->gas_key_num_nonces, "gas key num_nonces"))) return rc;
        if (ak->permission == NEAR_PERM_GAS_KEY_FULL_ACCESS) return 0;
        break;
    case NEAR_PERM_FUNCTION_CALL: break;
    default:
        return ol_err_set(r->err, NEAR_EINVAL, "borsh: access key permission at offset %zu: unknown variant %u", at,
                          ak->permission);
    }
    uint8_t opt;
    at = r->off;
    if ((rc = near_read_u8(r, &opt, "allowance option"))) return rc;
    if (opt > 1) return ol_err_set(r->err, NEAR_EINVAL, "borsh: allowance option at offset %zu: tag %u (0 or 1)", at, opt);
    ak->has_allowance = opt;
    if (opt && (rc = near_read_u128(r, &ak->allowance, "allowance"))) return rc;
    if ((rc = near_read_account_id(r, &ak->receiver_id, "access key receiver_id"))) return rc;
    uint32_t n;
    at = r->off;
    if ((rc = near_read_u32(r, &n, "method_names count"))) return rc;
    /* each name costs at least 1 byte of the NEAR_MAX_METHOD_NAMES_BYTES budget and 4 bytes of input */
    if (n > NEAR_MAX_METHOD_NAMES_BYTES)
        return ol_err_set(r->err, NEAR_ELIMIT, "borsh: method_names count %u at offset %zu exceeds NEAR_MAX_METHOD_NAMES_BYTES (%d)",
                          n, at, NEAR_MAX_METHOD_NAMES_BYTES);
    if ((size_t)n * 4 > r->len - r->off)
        return ol_err_set(r->err, NEAR_ETRUNC, "borsh: truncated input: %u method names at offset %zu", n, at);
    ak->method_names = near_arena_alloc(r->arena, (size_t)n * sizeof *ak->method_names + 1);
    if (!ak->method_names) return ol_err_set(r->err, NEAR_ENOMEM, "borsh: out of memory (arena) for method names");
    size_t total = 0;
    for (uint32_t i = 0; i < n; i++) {
        if ((rc = near_read_string(r, NEAR_MAX_METHOD_NAME, &ak->method_names[i], "access key method name"))) return rc;
        total += strlen(ak->method_names[i]) + 1;
        if (total > NEAR_MAX_METHOD_NAMES_BYTES)
            return ol_err_set(r->err, NEAR_ELIMIT, "borsh: method names at offset %zu exceed NEAR_MAX_METHOD_NAMES_BYTES (%d)",
                              at, NEAR_MAX_METHOD_NAMES_BYTES);
    }
    ak->n_method_names = n;
    return 0;
}

static int read_actions(near_reader *r, const near_action **out, size_t *out_n);

static int read_delegate(near_reader *r, near_delegate_action *d) {
    int rc;
    memset(d, 0, sizeof *d);
    if ((rc = near_read_account_id(r, &d->sender_id, "delegate sender_id"))) return rc;
    if ((rc = near_read_account_id(r, &d->receiver_id, "delegate receiver_id"))) return rc;
    r->depth++;
    rc = read_actions(r, &d->actions, &d->n_actions);
    r->depth--;
    if (rc) return rc;
    if ((rc = near_read_u64(r, &d->nonce, "delegate nonce"))) return rc;
    if ((rc = near_read_u64(r, &d->max_block_height, "delegate max_block_height"))) return rc;
    return near_read_public_key(r, &d->public_key, "delegate public_key");
}

int near_read_action(near_reader *r, near_action *a) {
    int rc;
    size_t at = r->off;
    memset(a, 0, sizeof *a);
    if ((rc = near_read_u8(r, &a->kind, "action tag"))) return rc;
    switch (a->kind) {
    case NEAR_ACTION_CREATE_ACCOUNT: return 0;
    case NEAR_ACTION_DEPLOY_CONTRACT:
        return near_read_bytes(r, NEAR_MAX_CODE_BYTES, &a->u.deploy.code, &a->u.deploy.code_len, "DeployContract code");
    case NEAR_ACTION_FUNCTION_CALL:
        if ((rc = near_read_string(r, NEAR_MAX_METHOD_NAME, &a->u.call.method_name, "FunctionCall method_name")))
            return rc;
        if ((rc = near_read_bytes(r, NEAR_MAX_ARGS_BYTES, &a->u.call.args, &a->u.call.args_len, "FunctionCall args")))
            return rc;
        if ((rc = near_read_u64(r, &a->u.call.gas, "FunctionCall gas"))) return rc;
        return near_read_u128(r, &a->u.call.deposit, "FunctionCall deposit");
    case NEAR_ACTION_TRANSFER: return near_read_u128(r, &a->u.transfer.deposit, "Transfer deposit");
    case NEAR_ACTION_STAKE:
        if ((rc = near_read_u128(r, &a->u.stake.stake, "Stake stake"))) return rc;
        return near_read_public_key(r, &a->u.stake.public_key, "Stake public_key");
    case NEAR_ACTION_ADD_KEY:
        if ((rc = near_read_public_key(r, &a->u.add_key.public_key, "AddKey public_key"))) return rc;
        return read_access_key(r, &a->u.add_key.access_key);
    case NEAR_ACTION_DELETE_KEY: return near_read_public_key(r, &a->u.delete_key.public_key, "DeleteKey public_key");
    case NEAR_ACTION_DELETE_ACCOUNT:
        return near_read_account_id(r, &a->u.delete_account.beneficiary_id, "DeleteAccount beneficiary_id");
    case NEAR_ACTION_DELEGATE: {
        if (r->depth > 0)
            return ol_err_set(r->err, NEAR_EINVAL, "borsh: action at offset %zu: Delegate inside a delegate action", at);
        near_delegate_action *d = near_arena_alloc(r->arena, sizeof *d);
        if (!d) return ol_err_set(r->err, NEAR_ENOMEM, "borsh: out of memory (arena) for delegate action");
        if ((rc = read_delegate(r, d))) return rc;
        a->u.delegate.action = d;
        return near_read_signature(r, &a->u.delegate.signature, "Delegate signature");
    }
    case NEAR_ACTION_DEPLOY_GLOBAL_CONTRACT:
        if ((rc = near_read_bytes(r, NEAR_MAX_CODE_BYTES, &a->u.deploy_global.code, &a->u.deploy_global.code_len,
                                  "DeployGlobalContract code")))
            return rc;
        at = r->off;
        if ((rc = near_read_u8(r, &a->u.deploy_global.deploy_mode, "DeployGlobalContract deploy_mode"))) return rc;
        if (a->u.deploy_global.deploy_mode > 1)
            return ol_err_set(r->err, NEAR_EINVAL, "borsh: DeployGlobalContract deploy_mode at offset %zu: unknown variant %u",
                              at, a->u.deploy_global.deploy_mode);
        return 0;
    case NEAR_ACTION_USE_GLOBAL_CONTRACT:
        at = r->off;
        if ((rc = near_read_u8(r, &a->u.use_global.by_account, "UseGlobalContract identifier"))) return rc;
        if (a->u.use_global.by_account == 0)
            return near_read_fixed(r, a->u.use_global.code_hash, 32, "UseGlobalContract code_hash");
        if (a->u.use_global.by_account == 1)
            return near_read_account_id(r, &a->u.use_global.account_id, "UseGlobalContract account_id");
        return ol_err_set(r->err, NEAR_EINVAL, "borsh: UseGlobalContract identifier at offset %zu: unknown variant %u", at,
                          a->u.use_global.by_account);
    case NEAR_ACTION_TRANSFER_TO_GAS_KEY:
    case NEAR_ACTION_WITHDRAW_FROM_GAS_KEY:
        if ((rc = near_read_public_key(r, &a->u.gas_key.public_key, "gas key public_key"))) return rc;
        return near_read_u128(r, &a->u.gas_key.amount, "gas key amount");
    case NEAR_ACTION_DETERMINISTIC_STATE_INIT:
    case NEAR_ACTION_DELEGATE_V2:
        return ol_err_set(r->err, NEAR_EUNSUPPORTED, "borsh: action at offset %zu: %s (tag %u) is not supported", at,
                          action_name(a->kind), a->kind);
    default:
        return ol_err_set(r->err, NEAR_EINVAL, "borsh: action at offset %zu: unknown action tag %u", at, a->kind);
    }
}

static int read_actions(near_reader *r, const near_action **out, size_t *out_n) {
    uint32_t n;
    size_t at = r->off;
    int rc = near_read_u32(r, &n, "actions count");
    if (rc) return rc;
    if (n > NEAR_MAX_ACTIONS)
        return ol_err_set(r->err, NEAR_ELIMIT, "borsh: actions count %u at offset %zu exceeds NEAR_MAX_ACTIONS (%d)", n,
                          at, NEAR_MAX_ACTIONS);
    if (n > r->len - r->off)
        return ol_err_set(r->err, NEAR_ETRUNC, "borsh: truncated input: %u actions at offset %zu, %zu bytes left", n, at,
                          r->len - r->off);
    near_action *a = near_arena_alloc(r->arena, (size_t)n * sizeof *a + 1);
    if (!a) return ol_err_set(r->err, NEAR_ENOMEM, "borsh: out of memory (arena) for actions");
    for (uint32_t i = 0; i < n; i++)
        if ((rc = near_read_action(r, &a[i]))) return rc;
    *out = a;
    *out_n = n;
    return 0;
}

int near_read_transaction(near_reader *r, near_transaction *tx) {
    int rc;
    memset(tx, 0, sizeof *tx);
    size_t at = r->off;
    if (r->len - r->off < 2)
        return ol_err_set(r->err, NEAR_ETRUNC, "borsh: truncated input: transaction at offset %zu", at);
    if (r->p[r->off + 1] != 0) {
        if (r->p[r->off] != 1)
            return ol_err_set(r->err, NEAR_EINVAL, "borsh: transaction at offset %zu: unknown version tag %u", at,
                              r->p[r->off]);
        tx->version = 1;
        r->off++;
    }
    if ((rc = near_read_account_id(r, &tx->signer_id, "signer_id"))) return rc;
    if ((rc = near_read_public_key(r, &tx->public_key, "public_key"))) return rc;
    if (tx->version == 1) {
        uint8_t tag;
        at = r->off;
        if ((rc = near_read_u8(r, &tag, "nonce variant"))) return rc;
        if (tag > 1)
            return ol_err_set(r->err, NEAR_EINVAL, "borsh: nonce at offset %zu: unknown TransactionNonce variant %u", at,
                              tag);
        tx->gas_key_nonce = tag == 1;
        if ((rc = near_read_u64(r, &tx->nonce, "nonce"))) return rc;
        if (tx->gas_key_nonce && (rc = near_read_u16(r, &tx->nonce_index, "nonce_index"))) return rc;
    } else if ((rc = near_read_u64(r, &tx->nonce, "nonce"))) {
        return rc;
    }
    if ((rc = near_read_account_id(r, &tx->receiver_id, "receiver_id"))) return rc;
    if ((rc = near_read_fixed(r, tx->block_hash, 32, "block_hash"))) return rc;
    if ((rc = read_actions(r, &tx->actions, &tx->n_actions))) return rc;
    if (tx->version == 1) {
        at = r->off;
        if ((rc = near_read_u8(r, &tx->nonce_mode, "nonce_mode"))) return rc;
        if (tx->nonce_mode > 1)
            return ol_err_set(r->err, NEAR_EINVAL, "borsh: nonce_mode at offset %zu: unknown variant %u", at,
                              tx->nonce_mode);
    }
    return 0;
}

static int begin(near_reader *r, const uint8_t *in, size_t len, near_arena *arena, ol_err *err) {
    memset(r, 0, sizeof *r);
    r->p = in;
    r->len = len;
    r->arena = arena;
    r->err = err;
    if (len > NEAR_MAX_TX_BYTES)
        return ol_err_set(err, NEAR_ELIMIT, "borsh: input of %zu bytes exceeds NEAR_MAX_TX_BYTES (%d)", len,
                          NEAR_MAX_TX_BYTES);
    if (!arena) return ol_err_set(err, NEAR_EINVAL, "borsh: no arena");
    return 0;
}

static int end(near_reader *r) {
    if (r->off != r->len)
        return ol_err_set(r->err, NEAR_EINVAL, "borsh: %zu trailing bytes at offset %zu", r->len - r->off, r->off);
    return 0;
}

int near_tx_decode(const uint8_t *in, size_t len, near_arena *arena, near_transaction *out, ol_err *err) {
    near_reader r;
    int rc = begin(&r, in, len, arena, err);
    if (!rc) rc = near_read_transaction(&r, out);
    return rc ? rc : end(&r);
}

int near_signed_tx_decode(const uint8_t *in, size_t len, near_arena *arena, near_signed_transaction *out,
                          ol_err *err) {
    near_reader r;
    int rc = begin(&r, in, len, arena, err);
    if (!rc) rc = near_read_transaction(&r, &out->tx);
    if (!rc) rc = near_read_signature(&r, &out->signature, "signature");
    return rc ? rc : end(&r);
}

int near_delegate_action_decode(const uint8_t *in, size_t len, near_arena *arena, near_delegate_action *out,
                                ol_err *err) {
    near_reader r;
    int rc = begin(&r, in, len, arena, err);
    if (!rc) rc = read_delegate(&r, out);
    return rc ? rc : end(&r);
}

/* ================================ hashing and signing ================================ */

int near_tx_hash(const near_transaction *tx, uint8_t out[32], ol_err *err) {
    int rc = near_init(err);
    if (rc) return rc;
    near_buf b;
    near_buf_init(&b, 0);
    if (!(rc = near_tx_encode(&b, tx, err))) crypto_hash_sha256(out, b.data, b.len);
    near_buf_free(&b);
    return rc;
}

int near_tx_sign(const near_transaction *tx, const near_secret_key *sk, near_signed_transaction *out,
                 uint8_t hash_out[32], ol_err *err) {
    near_public_key pk;
    int rc = near_secret_key_public(sk, &pk, err);
    if (rc) return rc;
    if (!near_public_key_eq(&pk, &tx->public_key))
        return ol_err_set(err, NEAR_ECRYPTO, "sign: the secret key does not belong to the transaction's public_key");
    uint8_t h[32];
    if ((rc = near_tx_hash(tx, h, err))) return rc;
    out->tx = *tx;
    if ((rc = near_sign(sk, h, 32, &out->signature, err))) return rc;
    if (hash_out) memcpy(hash_out, h, 32);
    return 0;
}

int near_signed_tx_verify(const near_signed_transaction *stx, ol_err *err) {
    uint8_t h[32];
    int rc = near_tx_hash(&stx->tx, h, err);
    if (rc) return rc;
    return near_verify(&stx->tx.public_key, h, 32, &stx->signature, err);
}

#define NEP366_PREFIX ((1u << 30) + 366u)

int near_delegate_action_hash(const near_delegate_action *d, uint8_t out[32], ol_err *err) {
    int rc = near_init(err);
    if (rc) return rc;
    near_buf b;
    near_buf_init(&b, 0);
    near_buf_u32(&b, NEP366_PREFIX);
    if (!(rc = near_delegate_action_encode(&b, d, err))) crypto_hash_sha256(out, b.data, b.len);
    near_buf_free(&b);
    return rc;
}

int near_delegate_action_sign(const near_delegate_action *d, const near_secret_key *sk, near_signature *out,
                              ol_err *err) {
    uint8_t h[32];
    int rc = near_delegate_action_hash(d, h, err);
    return rc ? rc : near_sign(sk, h, 32, out, err);
}

int near_signed_tx_base64(const near_signed_transaction *stx, char **out, ol_err *err) {
    near_buf b;
    near_buf_init(&b, 0);
    int rc = near_signed_tx_encode(&b, stx, err);
    if (!rc) {
        size_t cap = ol_base64_encoded_len(b.len) + 1;
        char *s = malloc(cap);
        if (!s) rc = ol_err_set(err, NEAR_ENOMEM, "base64: out of memory");
        else if ((rc = ol_base64_encode(b.data, b.len, s, cap, err))) free(s);
        else *out = s;
    }
    near_buf_free(&b);
    return rc;
}
