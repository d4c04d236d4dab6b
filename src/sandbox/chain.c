/* sandbox chain: genesis, transaction validation and conversion, receipt execution and block
 * production (../shared/reference/near-protocol.md §2). Each block is one SQLite transaction; each
 * receipt runs inside a SAVEPOINT so a failing receipt leaves no trace but its outcome and refunds. */
#include "sandbox/runtime.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* ---- fees (§2.4) ------------------------------------------------------------------------------------ */
typedef struct fee {
    uint64_t sir, not_sir, exec;
} fee;
static const fee F_ARC = {108059500000ull, 108059500000ull, 108059500000ull};
static const fee F_CREATE = {500000000000ull, 500000000000ull, 7200000000000ull};
static const fee F_DEPLOY = {184765750000ull, 184765750000ull, 184765750000ull};
static const fee F_DEPLOY_B = {6812999ull, 47683715ull, 64572944ull};
static const fee F_CALL = {200000000000ull, 200000000000ull, 780000000000ull};
static const fee F_CALL_B = {2235934ull, 47683715ull, 2235934ull};
static const fee F_TRANSFER = {115123062500ull, 115123062500ull, 115123062500ull};
static const fee F_STAKE = {141715687500ull, 141715687500ull, 102217625000ull};
static const fee F_ADD_FULL = {101765125000ull, 101765125000ull, 101765125000ull};
static const fee F_ADD_FC = {102217625000ull, 102217625000ull, 102217625000ull};
static const fee F_ADD_FC_B = {1925331ull, 47683715ull, 1925331ull};
static const fee F_DEL_KEY = {94946625000ull, 94946625000ull, 94946625000ull};
static const fee F_DEL_ACC = {147489000000ull, 147489000000ull, 147489000000ull};
static const fee F_DELEGATE = {200000000000ull, 200000000000ull, 200000000000ull};

static uint64_t fee_send(const fee *f, bool sir) { return sir ? f->sir : f->not_sir; }

/* Send (sir) or execution (exec) fee of one action; saturates instead of overflowing. */
uint64_t sb_action_fee(const near_action *a, bool sir, bool exec) {
    uint64_t n = 0;
    const fee *base = &F_DELEGATE, *per = NULL;
    switch (a->kind) {
    case NEAR_ACTION_CREATE_ACCOUNT: base = &F_CREATE; break;
    case NEAR_ACTION_DEPLOY_CONTRACT: base = &F_DEPLOY, per = &F_DEPLOY_B, n = a->u.deploy.code_len; break;
    case NEAR_ACTION_FUNCTION_CALL:
        base = &F_CALL, per = &F_CALL_B, n = strlen(a->u.call.method_name) + a->u.call.args_len;
        break;
    case NEAR_ACTION_TRANSFER: base = &F_TRANSFER; break;
    case NEAR_ACTION_STAKE: base = &F_STAKE; break;
    case NEAR_ACTION_ADD_KEY: {
        const near_access_key *k = &a->u.add_key.access_key;
        if (k->permission == NEAR_PERM_FULL_ACCESS || k->permission == NEAR_PERM_GAS_KEY_FULL_ACCESS) {
            base = &F_ADD_FULL;
        } else {
            base = &F_ADD_FC, per = &F_ADD_FC_B;
            for (size_t i = 0; i < k->n_method_names; i++) n += strlen(k->method_names[i]) + 1;
        }
        break;
    }
    case NEAR_ACTION_DELETE_KEY: base = &F_DEL_KEY; break;
    case NEAR_ACTION_DELETE_ACCOUNT: base = &F_DEL_ACC; break;
    default: break;
    }
    uint64_t g = exec ? base->exec : fee_send(base, sir), p = 0;
    if (per && (!ol_mul_u64(exec ? per->exec : fee_send(per, sir), n, &p) || !ol_add_u64(g, p, &g))) return UINT64_MAX;
    return g;
}

uint64_t sb_arc_fee(bool sir, bool exec) { return exec ? F_ARC.exec : fee_send(&F_ARC, sir); }

static near_u128 action_deposit(const near_action *a) {
    if (a->kind == NEAR_ACTION_TRANSFER) return a->u.transfer.deposit;
    if (a->kind == NEAR_ACTION_FUNCTION_CALL) return a->u.call.deposit;
    return 0;
}

/* ---- small helpers ------------------------------------------------------------------------------------ */
static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void put_u64le(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* sha256(parent ‖ u64le(height) ‖ u64le(index)): receipt ids (§2.1). */
static void derive_id(const uint8_t parent[32], uint64_t height, uint64_t index, uint8_t out[32]) {
    uint8_t buf[48];
    memcpy(buf, parent, 32);
    put_u64le(buf + 32, height);
    put_u64le(buf + 40, index);
    crypto_hash_sha256(out, buf, sizeof buf);
}

static void pk_text(const near_public_key *pk, char out[NEAR_KEY_STR]) { near_public_key_format(pk, out); }

static char *json_text(json_t *j) {
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return s;
}

static bool u128_add(near_u128 a, near_u128 b, near_u128 *out) { return !__builtin_add_overflow(a, b, out); }

/* ---- receipts ---------------------------------------------------------------------------------------- */
/* Body layout (sandbox-private borsh): signer String, signer PublicKey, gas_price u128, actions Vec<Action>,
 * input_data_ids Vec<[u8;32]>, output_data_receivers Vec<([u8;32], String)>, is_promise_yield u8. */
typedef struct receipt {
    uint8_t id[32];
    uint8_t tx_hash[32];
    const char *predecessor, *receiver, *signer;
    near_public_key signer_pk;
    near_u128 gas_price;
    near_action *actions;
    size_t n_actions;
    bool is_refund;
    uint8_t (*inputs)[32];
    size_t n_inputs;
    sb_data_receiver *outputs;
    size_t n_outputs;
    bool is_yield;
} receipt;

static int receipt_body(const receipt *r, near_buf *b, ol_err *err) {
    near_buf_str(b, r->signer);
    near_buf_u8(b, r->signer_pk.type);
    near_buf_put(b, r->signer_pk.data, near_key_len(r->signer_pk.type));
    near_buf_u128(b, r->gas_price);
    near_buf_u32(b, (uint32_t)r->n_actions);
    for (size_t i = 0; i < r->n_actions; i++)
        if (near_action_encode(b, &r->actions[i], err)) return -1;
    near_buf_u32(b, (uint32_t)r->n_inputs);
    for (size_t i = 0; i < r->n_inputs; i++) near_buf_put(b, r->inputs[i], 32);
    near_buf_u32(b, (uint32_t)r->n_outputs);
    for (size_t i = 0; i < r->n_outputs; i++) {
        near_buf_put(b, r->outputs[i].data_id, 32);
        near_buf_str(b, r->outputs[i].receiver);
    }
    near_buf_u8(b, r->is_yield);
    if (b->failed) return ol_err_set(err, -1, "receipt body over %zu bytes", b->max), -1;
    return 0;
}

static int data_present(sb_chain *c, const uint8_t id[32]);
static int step_done(sb_chain *c, sqlite3_stmt *st, ol_err *err);

static int receipt_insert(sb_chain *c, const receipt *r, uint64_t ready_height, ol_err *err) {
    near_buf b;
    near_buf_init(&b, NEAR_MAX_TX_BYTES * 2);
    if (receipt_body(r, &b, err)) {
        near_buf_free(&b);
        return -1;
    }
    sqlite3_stmt *st;
    int ret = -1, waiting = 0;
    for (size_t i = 0; i < r->n_inputs; i++) {
        int have = data_present(c, r->inputs[i]);
        if (have < 0) {
            near_buf_free(&b);
            return ol_err_set(err, -1, "sqlite: %s", sqlite3_errmsg(c->db)), -1;
        }
        if (have) continue;
        waiting++;
        if (sb_prepare(c->db, "INSERT OR REPLACE INTO rwait(data_id, receipt_id) VALUES(?,?)", &st) !=
            SQLITE_OK) {
            near_buf_free(&b);
            return ol_err_set(err, -1, "sqlite: %s", sqlite3_errmsg(c->db)), -1;
        }
        sqlite3_bind_blob(st, 1, r->inputs[i], 32, SQLITE_STATIC);
        sqlite3_bind_blob(st, 2, r->id, 32, SQLITE_STATIC);
        if (step_done(c, st, err)) {
            near_buf_free(&b);
            return -1;
        }
    }
    if (sb_prepare(c->db, "INSERT INTO receipts(id, seq, tx_hash, predecessor, receiver, body, pending, ready_height,"
                           " is_refund, waiting) VALUES(?,?,?,?,?,?,1,?,?,?)", &st) != SQLITE_OK) {
        near_buf_free(&b);
        return ol_err_set(err, -1, "sqlite: %s", sqlite3_errmsg(c->db)), -1;
    }
    sqlite3_bind_blob(st, 1, r->id, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)c->seq++);
    sqlite3_bind_blob(st, 3, r->tx_hash, 32, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, r->predecessor, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, r->receiver, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 6, b.data, (int)b.len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)ready_height);
    sqlite3_bind_int(st, 8, r->is_refund);
    sqlite3_bind_int(st, 9, waiting);
    if (sqlite3_step(st) == SQLITE_DONE) ret = 0;
    else ol_err_set(err, -1, "sqlite: receipt insert: %s", sqlite3_errmsg(c->db));
    sb_release(st);
    near_buf_free(&b);
    return ret;
}

static int receipt_decode(const uint8_t *p, size_t n, near_arena *arena, receipt *r, ol_err *err) {
    near_reader rd = {.p = p, .len = n, .arena = arena, .err = err};
    uint32_t na;
    if (near_read_string(&rd, NEAR_ACCOUNT_ID_MAX, &r->signer, "signer_id") ||
        near_read_public_key(&rd, &r->signer_pk, "signer_public_key") ||
        near_read_u128(&rd, &r->gas_price, "gas_price") || near_read_u32(&rd, &na, "actions"))
        return -1;
    if (na > NEAR_MAX_ACTIONS) return ol_err_set(err, -1, "receipt: %u actions", na), -1;
    r->actions = near_arena_alloc(arena, (na ? na : 1) * sizeof *r->actions);
    if (!r->actions) return ol_err_set(err, -1, "receipt: out of memory"), -1;
    r->n_actions = na;
    for (uint32_t i = 0; i < na; i++)
        if (near_read_action(&rd, &r->actions[i])) return -1;
    uint32_t ni, no;
    uint8_t y;
    if (near_read_u32(&rd, &ni, "input_data_ids")) return -1;
    if (ni > SB_MAX_INPUT_DEPS) return ol_err_set(err, -1, "receipt: %u inputs", ni), -1;
    r->inputs = near_arena_alloc(arena, (ni ? ni : 1) * 32);
    if (!r->inputs) return ol_err_set(err, -1, "receipt: out of memory"), -1;
    r->n_inputs = ni;
    for (uint32_t i = 0; i < ni; i++)
        if (near_read_fixed(&rd, r->inputs[i], 32, "data_id")) return -1;
    if (near_read_u32(&rd, &no, "output_data_receivers")) return -1;
    if (no > 100000) return ol_err_set(err, -1, "receipt: %u outputs", no), -1;
    r->outputs = near_arena_alloc(arena, (no ? no : 1) * sizeof *r->outputs);
    if (!r->outputs) return ol_err_set(err, -1, "receipt: out of memory"), -1;
    r->n_outputs = no;
    for (uint32_t i = 0; i < no; i++) {
        const char *id;
        if (near_read_fixed(&rd, r->outputs[i].data_id, 32, "data_id") ||
            near_read_string(&rd, NEAR_ACCOUNT_ID_MAX, &id, "receiver_id"))
            return -1;
        ol_strlcpy(r->outputs[i].receiver, id, sizeof r->outputs[i].receiver);
    }
    if (near_read_u8(&rd, &y, "is_promise_yield")) return -1;
    r->is_yield = y != 0;
    return 0;
}

/* ---- data (results of receipts for their callbacks) ------------------------------------------------ */
static int step_done(sb_chain *c, sqlite3_stmt *st, ol_err *err) {
    int rc = sqlite3_step(st);
    sb_release(st);
    if (rc == SQLITE_DONE || rc == SQLITE_ROW) return 0;
    return ol_err_set(err, -1, "sqlite: %s", sqlite3_errmsg(c->db)), -1;
}

/* Delivers data for data_id (first delivery wins); the waiting receipt runs from the next block. */
static int deliver_data(sb_chain *c, const uint8_t data_id[32], bool ok, const uint8_t *data, size_t n, uint64_t height,
                        ol_err *err) {
    sqlite3_stmt *st;
    if (sb_prepare(c->db, "INSERT OR IGNORE INTO rdata(data_id, ok, data) VALUES(?,?,?)", &st) != SQLITE_OK)
        return ol_err_set(err, -1, "sqlite: %s", sqlite3_errmsg(c->db)), -1;
    sqlite3_bind_blob(st, 1, data_id, 32, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, ok);
    if (ok) sqlite3_bind_blob(st, 3, n ? (const void *)data : "", (int)n, SQLITE_STATIC);
    if (step_done(c, st, err)) return -1;
    if (sqlite3_changes(c->db) == 0) return 0;
    if (sb_prepare(c->db, "UPDATE receipts SET waiting=waiting-1, ready_height=max(ready_height, ?) WHERE id="
                           "(SELECT receipt_id FROM rwait WHERE data_id=?)", &st) != SQLITE_OK)
        return ol_err_set(err, -1, "sqlite: %s", sqlite3_errmsg(c->db)), -1;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)height + 1);
    sqlite3_bind_blob(st, 2, data_id, 32, SQLITE_STATIC);
    return step_done(c, st, err);
}

static int data_present(sb_chain *c, const uint8_t id[32]) {
    sqlite3_stmt *st;
    if (sb_prepare(c->db, "SELECT 1 FROM rdata WHERE data_id=?", &st) != SQLITE_OK) return -1;
    sqlite3_bind_blob(st, 1, id, 32, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sb_release(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* A refund: predecessor "system", one Transfer, free (§2.3). */
/* A gas refund keeps the signer as its signer (so the receiver can give the allowance back, §2.3); other
 * refunds have signer "system". */
static int refund_insert(sb_chain *c, const receipt *parent, const char *to, near_u128 amount, uint64_t height,
                         uint64_t *index, json_t *receipt_ids, ol_err *err) {
    near_action t = {.kind = NEAR_ACTION_TRANSFER, .u.transfer.deposit = amount};
    bool gas = strcmp(to, parent->signer) == 0 && parent->gas_price != 0 && strcmp(parent->predecessor, "system") != 0;
    receipt r = {.predecessor = "system", .receiver = to, .signer = gas ? parent->signer : "system", .signer_pk = parent->signer_pk,
                 .gas_price = 0, .actions = &t, .n_actions = 1, .is_refund = true};
    memcpy(r.tx_hash, parent->tx_hash, 32);
    derive_id(parent->id, height, (*index)++, r.id);
    if (receipt_insert(c, &r, height + 1, err)) return -1;
    json_array_append_new(receipt_ids, sb_hash_json(r.id));
    return 0;
}

/* ---- transaction validation (§2.1, §2.8) --------------------------------------------------------- */
typedef struct tx_cost {
    uint64_t burnt;    /* conversion gas */
    uint64_t gas;      /* burnt + prepaid + exec reserved */
    near_u128 deposit;
    near_u128 total;   /* gas × price + deposit */
} tx_cost;

static json_t *ak_err(json_t *inner) { return json_pack("{s:o}", "InvalidAccessKeyError", inner); }

static json_t *actions_validation(const near_transaction *tx) {
    if (tx->n_actions > NEAR_MAX_ACTIONS)
        return json_pack("{s:{s:{s:I,s:I}}}", "ActionsValidation", "TotalNumberOfActionsExceeded",
                         "total_number_of_actions", (json_int_t)tx->n_actions, "limit", (json_int_t)NEAR_MAX_ACTIONS);
    uint64_t prepaid = 0;
    for (size_t i = 0; i < tx->n_actions; i++) {
        const near_action *a = &tx->actions[i];
        switch (a->kind) {
        case NEAR_ACTION_CREATE_ACCOUNT:
        case NEAR_ACTION_TRANSFER:
        case NEAR_ACTION_DELETE_KEY:
        case NEAR_ACTION_DELETE_ACCOUNT: break;
        case NEAR_ACTION_DEPLOY_CONTRACT:
            if (a->u.deploy.code_len > NEAR_MAX_CODE_BYTES)
                return json_pack("{s:{s:{s:I,s:I}}}", "ActionsValidation", "ContractSizeExceeded", "size",
                                 (json_int_t)a->u.deploy.code_len, "limit", (json_int_t)NEAR_MAX_CODE_BYTES);
            break;
        case NEAR_ACTION_FUNCTION_CALL:
            if (a->u.call.gas == 0) return json_pack("{s:s}", "ActionsValidation", "FunctionCallZeroAttachedGas");
            if (strlen(a->u.call.method_name) > NEAR_MAX_METHOD_NAME)
                return json_pack("{s:{s:{s:I,s:I}}}", "ActionsValidation", "FunctionCallMethodNameLengthExceeded",
                                 "length", (json_int_t)strlen(a->u.call.method_name), "limit",
                                 (json_int_t)NEAR_MAX_METHOD_NAME);
            if (a->u.call.args_len > NEAR_MAX_ARGS_BYTES)
                return json_pack("{s:{s:{s:I,s:I}}}", "ActionsValidation", "FunctionCallArgumentsLengthExceeded",
                                 "length", (json_int_t)a->u.call.args_len, "limit", (json_int_t)NEAR_MAX_ARGS_BYTES);
            if (!ol_add_u64(prepaid, a->u.call.gas, &prepaid) || prepaid > SB_MAX_PREPAID_GAS)
                return json_pack("{s:{s:{s:I,s:I}}}", "ActionsValidation", "TotalPrepaidGasExceeded",
                                 "total_prepaid_gas", (json_int_t)(prepaid > INT64_MAX ? INT64_MAX : prepaid), "limit",
                                 (json_int_t)SB_MAX_PREPAID_GAS);
            break;
        case NEAR_ACTION_ADD_KEY: {
            const near_access_key *k = &a->u.add_key.access_key;
            if (k->permission == NEAR_PERM_FUNCTION_CALL) {
                size_t total = 0;
                for (size_t j = 0; j < k->n_method_names; j++) {
                    size_t l = strlen(k->method_names[j]);
                    if (l > NEAR_MAX_METHOD_NAME)
                        return json_pack("{s:{s:{s:I,s:I}}}", "ActionsValidation",
                                         "AddKeyMethodNameLengthExceeded", "length", (json_int_t)l, "limit",
                                         (json_int_t)NEAR_MAX_METHOD_NAME);
                    total += l + 1;
                }
                if (total > NEAR_MAX_METHOD_NAMES_BYTES)
                    return json_pack("{s:{s:{s:I,s:I}}}", "ActionsValidation", "AddKeyMethodNamesNumberOfBytesExceeded",
                                     "total_number_of_bytes", (json_int_t)total, "limit",
                                     (json_int_t)NEAR_MAX_METHOD_NAMES_BYTES);
                if (!k->receiver_id || !near_account_id_valid(k->receiver_id))
                    return json_pack("{s:{s:{s:s}}}", "ActionsValidation", "InvalidAccountId", "account_id",
                                     k->receiver_id ? k->receiver_id : "");
            } else if (k->permission != NEAR_PERM_FULL_ACCESS) {
                return json_pack("{s:{s:{s:s,s:I}}}", "ActionsValidation", "UnsupportedProtocolFeature",
                                 "protocol_feature", "GasKeys", "version", (json_int_t)0);
            }
            break;
        }
        default:
            return json_pack("{s:{s:{s:s,s:I}}}", "ActionsValidation", "UnsupportedProtocolFeature",
                             "protocol_feature", "this action in outlayer sandbox", "version", (json_int_t)0);
        }
    }
    return NULL;
}

static bool method_allowed(const char *methods_json, const char *name) {
    json_t *m = json_loads(methods_json ? methods_json : "[]", 0, NULL);
    bool ok = json_array_size(m) == 0;
    size_t i;
    json_t *v;
    json_array_foreach(m, i, v) if (json_is_string(v) && strcmp(json_string_value(v), name) == 0) ok = true;
    json_decref(m);
    return ok;
}

/* 0 valid (cost filled, key loaded into *key), 1 invalid (*txerr), -1 internal (err). height is the block
 * the transaction would be included in. */
static int tx_validate(sb_chain *c, const near_signed_transaction *stx, size_t raw_len, uint64_t height, bool check_sig,
                       sb_account *signer, sb_key *key, tx_cost *cost, json_t **txerr, ol_err *err) {
    const near_transaction *tx = &stx->tx;
    char pk[NEAR_KEY_STR];
    pk_text(&tx->public_key, pk);
    memset(key, 0, sizeof *key);
    if (raw_len > SB_MAX_TX_SIZE) {
        *txerr = json_pack("{s:{s:I,s:I}}", "TransactionSizeExceeded", "size", (json_int_t)raw_len, "limit",
                           (json_int_t)SB_MAX_TX_SIZE);
        return 1;
    }
    if (tx->gas_key_nonce) {
        *txerr = json_string("InvalidTransactionVersion");
        return 1;
    }
    if (check_sig && near_signed_tx_verify(stx, NULL)) {
        *txerr = json_string("InvalidSignature");
        return 1;
    }
    sb_block b;
    int rc = sb_block_get_hash(c, tx->block_hash, &b, err);
    if (rc < 0) return -1;
    if (rc == 1 || height - b.height > SB_TX_VALIDITY_BLOCKS) {
        *txerr = json_string("Expired");
        return 1;
    }
    if ((*txerr = actions_validation(tx))) return 1;
    rc = sb_account_get(c, tx->signer_id, signer, err);
    if (rc < 0) return -1;
    if (rc == 1) {
        *txerr = json_pack("{s:{s:s}}", "SignerDoesNotExist", "signer_id", tx->signer_id);
        return 1;
    }
    rc = sb_key_get(c, tx->signer_id, pk, key, err);
    if (rc < 0) return -1;
    if (rc == 1) {
        *txerr = ak_err(json_pack("{s:{s:s,s:s}}", "AccessKeyNotFound", "account_id", tx->signer_id, "public_key", pk));
        return 1;
    }
    if (tx->nonce <= key->nonce || (tx->nonce_mode == 1 && tx->nonce != key->nonce + 1)) {
        *txerr = json_pack("{s:{s:I,s:I}}", "InvalidNonce", "tx_nonce", (json_int_t)tx->nonce, "ak_nonce",
                           (json_int_t)key->nonce);
        goto invalid;
    }
    uint64_t upper = height * 1000000ull;
    if (tx->nonce >= upper) {
        *txerr = json_pack("{s:{s:I,s:I}}", "NonceTooLarge", "tx_nonce", (json_int_t)tx->nonce, "upper_bound",
                           (json_int_t)upper);
        goto invalid;
    }
    /* cost */
    bool sir = strcmp(tx->signer_id, tx->receiver_id) == 0, ok = true;
    uint64_t burnt = fee_send(&F_ARC, sir), rest = F_ARC.exec;
    near_u128 dep = 0;
    for (size_t i = 0; i < tx->n_actions && ok; i++) {
        const near_action *a = &tx->actions[i];
        ok = ol_add_u64(burnt, sb_action_fee(a, sir, false), &burnt) && ol_add_u64(rest, sb_action_fee(a, sir, true), &rest) &&
             (a->kind != NEAR_ACTION_FUNCTION_CALL || ol_add_u64(rest, a->u.call.gas, &rest)) &&
             u128_add(dep, action_deposit(a), &dep);
    }
    uint64_t gas;
    near_u128 total;
    if (!ok || !ol_add_u64(burnt, rest, &gas) || __builtin_mul_overflow((near_u128)gas, (near_u128)SB_GAS_PRICE, &total) ||
        !u128_add(total, dep, &total)) {
        *txerr = json_string("CostOverflow");
        goto invalid;
    }
    cost->burnt = burnt, cost->gas = gas, cost->deposit = dep, cost->total = total;
    if (!key->full) {
        const near_action *a = &tx->actions[0];
        if (tx->n_actions != 1 || a->kind != NEAR_ACTION_FUNCTION_CALL) {
            *txerr = ak_err(json_string("RequiresFullAccess"));
            goto invalid;
        }
        if (a->u.call.deposit != 0) {
            *txerr = ak_err(json_string("DepositWithFunctionCall"));
            goto invalid;
        }
        if (strcmp(tx->receiver_id, key->receiver) != 0) {
            *txerr = ak_err(json_pack("{s:{s:s,s:s}}", "ReceiverMismatch", "tx_receiver", tx->receiver_id,
                                      "ak_receiver", key->receiver));
            goto invalid;
        }
        if (!method_allowed(key->methods_json, a->u.call.method_name)) {
            *txerr = ak_err(json_pack("{s:{s:s}}", "MethodNameMismatch", "method_name", a->u.call.method_name));
            goto invalid;
        }
        if (key->has_allowance && key->allowance < total) {
            *txerr = ak_err(json_pack("{s:{s:s,s:s,s:o,s:o}}", "NotEnoughAllowance", "account_id", tx->signer_id,
                                      "public_key", pk, "allowance", sb_u128_json(key->allowance), "cost",
                                      sb_u128_json(total)));
            goto invalid;
        }
    }
    if (signer->amount < total) {
        *txerr = json_pack("{s:{s:s,s:o,s:o}}", "NotEnoughBalance", "signer_id", tx->signer_id, "balance",
                           sb_u128_json(signer->amount), "cost", sb_u128_json(total));
        goto invalid;
    }
    near_u128 need = (near_u128)signer->storage_usage * SB_STORAGE_PRICE_PER_BYTE;
    if (signer->storage_usage > SB_ZERO_BALANCE_BYTES && signer->amount - total + signer->locked < need) {
        *txerr = json_pack("{s:{s:s,s:o}}", "LackBalanceForState", "signer_id", tx->signer_id, "amount",
                           sb_u128_json(need - (signer->amount - total + signer->locked)));
        goto invalid;
    }
    return 0;
invalid:
    sb_key_clear(key);
    return 1;
}

static int pool_has(sb_chain *c, const uint8_t hash[32], const char *table) {
    char sql[80];
    snprintf(sql, sizeof sql, "SELECT 1 FROM %s WHERE hash=?", table);
    sqlite3_stmt *st;
    if (sb_prepare(c->db, sql, &st) != SQLITE_OK) return -1;
    sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sb_release(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int sb_tx_submit(sb_chain *c, const char *b64, uint8_t hash_out[32], char *signer_out, json_t **txerr, ol_err *err) {
    *txerr = NULL;
    size_t len = strlen(b64), cap = ol_base64_decoded_max(len), n;
    if (len > SB_RPC_BODY_MAX) return ol_err_set(err, 1, "signed transaction over %u bytes", SB_RPC_BODY_MAX), SB_SUBMIT_PARSE;
    uint8_t *raw = malloc(cap ? cap : 1);
    if (!raw) return ol_err_set(err, 1, "out of memory"), SB_SUBMIT_INTERNAL;
    int ret = SB_SUBMIT_PARSE;
    near_arena *arena = NULL;
    ol_err e;
    if (ol_base64_decode(b64, len, raw, cap, &n, &e)) {
        ol_err_set(err, 1, "Failed to decode transaction: invalid base64: %s", e.msg);
        goto out;
    }
    arena = near_arena_new(0);
    near_signed_transaction stx;
    if (!arena) {
        ret = SB_SUBMIT_INTERNAL;
        goto out;
    }
    if (near_signed_tx_decode(raw, n, arena, &stx, &e)) {
        ol_err_set(err, 1, "Failed to decode transaction: %s", e.msg);
        goto out;
    }
    if (near_tx_hash(&stx.tx, hash_out, &e)) {
        ol_err_set(err, 1, "Failed to decode transaction: %s", e.msg);
        goto out;
    }
    ol_strlcpy(signer_out, stx.tx.signer_id, NEAR_ACCOUNT_ID_MAX + 1);
    int known = pool_has(c, hash_out, "pool");
    if (known == 0) known = pool_has(c, hash_out, "txs");
    if (known < 0) {
        ret = SB_SUBMIT_INTERNAL;
        ol_err_set(err, 1, "sqlite: %s", sqlite3_errmsg(c->db));
        goto out;
    }
    if (known == 1) {
        ret = SB_SUBMIT_OK;
        goto out;
    }
    sb_account signer;
    sb_key key;
    tx_cost cost;
    int rc = tx_validate(c, &stx, n, c->height + 1, true, &signer, &key, &cost, txerr, err);
    if (rc < 0) {
        ret = SB_SUBMIT_INTERNAL;
        goto out;
    }
    if (rc == 1) {
        ret = SB_SUBMIT_INVALID;
        goto out;
    }
    sb_key_clear(&key);
    sqlite3_stmt *st;
    if (sb_prepare(c->db, "SELECT count(*) FROM pool", &st) != SQLITE_OK) {
        ret = SB_SUBMIT_INTERNAL;
        goto out;
    }
    long long pooled = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sb_release(st);
    if (pooled >= SB_POOL_MAX) {
        ret = SB_SUBMIT_INTERNAL;
        ol_err_set(err, 1, "transaction pool full (SB_POOL_MAX %d)", SB_POOL_MAX);
        goto out;
    }
    if (sb_prepare(c->db, "INSERT INTO pool(seq, hash, raw) VALUES(?,?,?)", &st) != SQLITE_OK) {
        ret = SB_SUBMIT_INTERNAL;
        goto out;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)c->seq++);
    sqlite3_bind_blob(st, 2, hash_out, 32, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, raw, (int)n, SQLITE_STATIC);
    ret = sqlite3_step(st) == SQLITE_DONE ? SB_SUBMIT_OK : SB_SUBMIT_INTERNAL;
    if (ret) ol_err_set(err, 1, "sqlite: pool insert: %s", sqlite3_errmsg(c->db));
    sb_release(st);
out:
    near_arena_free(arena);
    free(raw);
    return ret;
}

/* ---- conversion ---------------------------------------------------------------------------------------- */
static json_t *outcome_view(const uint8_t id[32], const sb_block *b, json_t *logs, json_t *receipt_ids, uint64_t gas,
                            const char *executor, json_t *status, int version) {
    return json_pack("{s:[],s:o,s:o,s:{s:o,s:o,s:I,s:o,s:s,s:o,s:{s:i,s:o}}}", "proof", "block_hash",
                     sb_hash_json(b->hash), "id", sb_hash_json(id), "outcome", "logs", logs, "receipt_ids",
                     receipt_ids, "gas_burnt", (json_int_t)gas, "tokens_burnt",
                     sb_u128_json((near_u128)gas * SB_GAS_PRICE), "executor_id", executor, "status", status,
                     "metadata", "version", version, "gas_profile", version == 1 ? json_null() : json_array());
}

static int tx_row(sb_chain *c, const uint8_t hash[32], const char *signer, const uint8_t *raw, size_t n,
                  uint64_t height, json_t *error, const uint8_t *receipt_id, json_t *outcome, ol_err *err) {
    sqlite3_stmt *st;
    char *e = error ? json_text(error) : NULL, *o = outcome ? json_text(outcome) : NULL;
    int ret = -1;
    if (sb_prepare(c->db, "INSERT OR REPLACE INTO txs(hash, signer, raw, height, error, receipt_id, outcome)"
                           " VALUES(?,?,?,?,?,?,?)", &st) == SQLITE_OK) {
        sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, signer, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 3, raw, (int)n, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, (sqlite3_int64)height);
        if (e) sqlite3_bind_text(st, 5, e, -1, SQLITE_STATIC);
        if (receipt_id) sqlite3_bind_blob(st, 6, receipt_id, 32, SQLITE_STATIC);
        if (o) sqlite3_bind_text(st, 7, o, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_DONE) ret = 0;
        sb_release(st);
    }
    if (ret) ol_err_set(err, -1, "sqlite: tx insert: %s", sqlite3_errmsg(c->db));
    free(e);
    free(o);
    return ret;
}

static int convert_tx(sb_chain *c, const sb_block *blk, const uint8_t *raw, size_t n, ol_err *err) {
    near_arena *arena = near_arena_new(0);
    if (!arena) return ol_err_set(err, -1, "out of memory"), -1;
    near_signed_transaction stx;
    uint8_t hash[32];
    int ret = 0;
    if (near_signed_tx_decode(raw, n, arena, &stx, NULL) || near_tx_hash(&stx.tx, hash, NULL)) goto out; /* was valid */
    sb_account signer;
    sb_key key;
    tx_cost cost;
    json_t *txerr = NULL;
    /* the pool holds only transactions whose signature was verified when they were submitted */
    int rc = tx_validate(c, &stx, n, blk->height, false, &signer, &key, &cost, &txerr, err);
    if (rc < 0) {
        ret = -1;
        goto out;
    }
    if (rc == 1) {
        ret = tx_row(c, hash, stx.tx.signer_id, raw, n, blk->height, json_pack("{s:{s:o}}", "TxExecutionError",
                     "InvalidTxError", txerr), NULL, NULL, err);
        goto out;
    }
    char pk[NEAR_KEY_STR];
    pk_text(&stx.tx.public_key, pk);
    signer.amount -= cost.total;
    key.nonce = stx.tx.nonce;
    if (!key.full && key.has_allowance) key.allowance -= cost.total;
    receipt r = {.predecessor = stx.tx.signer_id, .receiver = stx.tx.receiver_id, .signer = stx.tx.signer_id,
                 .signer_pk = stx.tx.public_key, .gas_price = SB_GAS_PRICE, .actions = (near_action *)stx.tx.actions,
                 .n_actions = stx.tx.n_actions};
    memcpy(r.tx_hash, hash, 32);
    derive_id(hash, blk->height, 0, r.id);
    json_t *outcome = outcome_view(hash, blk, json_array(), json_pack("[o]", sb_hash_json(r.id)), cost.burnt,
                                   stx.tx.signer_id, json_pack("{s:o}", "SuccessReceiptId", sb_hash_json(r.id)), 1);
    if (sb_account_put(c, stx.tx.signer_id, &signer, err) || sb_key_put(c, stx.tx.signer_id, pk, &key, err) ||
        receipt_insert(c, &r, blk->height, err) ||
        tx_row(c, hash, stx.tx.signer_id, raw, n, blk->height, NULL, r.id, outcome, err))
        ret = -1;
    sb_key_clear(&key);
out:
    near_arena_free(arena);
    return ret;
}

/* ---- receipt execution -------------------------------------------------------------------------------- */
typedef struct exec_ctx {
    sb_chain *c;
    const sb_block *blk;
    receipt *r;
    sb_account acc;
    bool exists, created, deleted;
    json_t *receipt_ids; /* ids of receipts this one created */
    uint64_t new_index;
    json_t *logs;
    sb_call *calls[NEAR_MAX_ACTIONS]; /* one per FunctionCall action that ran (owned) */
    size_t n_calls;
    uint64_t fc_burnt, fc_promise_used;
    /* promise results of the receipt's inputs (callbacks) */
    int *res_ok;
    uint8_t **res_data;
    size_t *res_len;
} exec_ctx;

static json_t *act_err(size_t index, json_t *kind) {
    return json_pack("{s:{s:I,s:o}}", "ActionError", "index", (json_int_t)index, "kind", kind);
}

static int run_call(exec_ctx *x, size_t i, json_t **kind, ol_err *err) {
    receipt *r = x->r;
    const near_action *a = &r->actions[i];
    static const uint8_t zero[32];
    if (memcmp(x->acc.code_hash, zero, 32) == 0) {
        *kind = json_pack("{s:{s:{s:{s:s}}}}", "FunctionCallError", "CompilationError", "CodeDoesNotExist",
                          "account_id", r->receiver);
        return 1;
    }
    sb_call *call = calloc(1, sizeof *call);
    if (!call) return ol_err_set(err, -1, "out of memory"), -1;
    x->calls[x->n_calls++] = call;
    call->account = r->receiver;
    call->signer = r->signer;
    call->predecessor = r->predecessor;
    call->signer_pk = r->signer_pk;
    call->input = a->u.call.args;
    call->input_len = a->u.call.args_len;
    call->deposit = a->u.call.deposit;
    call->prepaid_gas = a->u.call.gas;
    call->height = x->blk->height;
    call->timestamp = x->blk->ts;
    call->acc = &x->acc;
    call->yield_blocks = x->c->yield_blocks;
    call->returned_promise = -1;
    call->n_results = r->n_inputs;
    call->result_ok = x->res_ok;
    call->result_data = (const uint8_t *const *)x->res_data;
    call->result_len = x->res_len;
    call->logs = json_array();
    derive_id(r->id, x->blk->height, UINT64_MAX - i, call->action_hash);
    memcpy(call->receipt_id, r->id, 32);
    uint8_t seed_in[64];
    memcpy(seed_in, call->action_hash, 32);
    memcpy(seed_in + 32, x->blk->hash, 32);
    crypto_hash_sha256(call->random_seed, seed_in, sizeof seed_in);
    if (sb_run(x->c, x->acc.code_hash, a->u.call.method_name, call, err)) return -1;
    json_array_extend(x->logs, call->logs);
    x->fc_burnt += call->gas_burnt;
    if (call->error) {
        *kind = json_pack("{s:O}", "FunctionCallError", call->error);
        return 1;
    }
    sb_promises_distribute_gas(call);
    for (size_t k = 0; k < call->n_receipts; k++)
        for (size_t j = 0; j < call->receipts[k].n_actions; j++)
            if (call->receipts[k].actions[j].kind == NEAR_ACTION_FUNCTION_CALL && call->receipts[k].actions[j].u.call.gas == 0) {
                *kind = json_pack("{s:{s:s}}", "NewReceiptValidationError", "ActionsValidation", "FunctionCallZeroAttachedGas");
                return 1;
            }
    x->fc_promise_used += call->promise_used;
    return 0;
}

/* Emits the receipts, yields and resumes of the calls of a successful receipt; *returned = id of the receipt
 * the last action returned (promise_return), if any. */
static int emit_children(exec_ctx *x, uint8_t returned[32], bool *has_returned, ol_err *err) {
    receipt *r = x->r;
    sb_chain *c = x->c;
    *has_returned = false;
    for (size_t ci = 0; ci < x->n_calls; ci++) {
        sb_call *call = x->calls[ci];
        for (size_t k = 0; k < call->n_receipts; k++)
            derive_id(r->id, x->blk->height, x->new_index++, call->receipts[k].id);
        bool last = ci + 1 == x->n_calls && r->actions[r->n_actions - 1].kind == NEAR_ACTION_FUNCTION_CALL;
        if (last && call->returned_promise >= 0) {
            sb_new_receipt *t = &call->receipts[call->returned_promise];
            /* our output data receivers now wait for the returned receipt (§2.2) */
            if (r->n_outputs) {
                sb_data_receiver *o = realloc(t->outputs, (t->n_outputs + r->n_outputs) * sizeof *o);
                if (!o) return ol_err_set(err, -1, "out of memory"), -1;
                memcpy(o + t->n_outputs, r->outputs, r->n_outputs * sizeof *o);
                t->outputs = o;
                t->n_outputs += r->n_outputs;
            }
            memcpy(returned, t->id, 32);
            *has_returned = true;
        }
        for (size_t k = 0; k < call->n_receipts; k++) {
            sb_new_receipt *n = &call->receipts[k];
            receipt cr = {.predecessor = r->receiver, .receiver = n->receiver, .signer = r->signer,
                          .signer_pk = r->signer_pk, .gas_price = r->gas_price, .actions = n->actions,
                          .n_actions = n->n_actions, .inputs = n->inputs, .n_inputs = n->n_inputs,
                          .outputs = n->outputs, .n_outputs = n->n_outputs, .is_yield = n->is_yield};
            memcpy(cr.id, n->id, 32);
            memcpy(cr.tx_hash, r->tx_hash, 32);
            if (receipt_insert(c, &cr, x->blk->height + 1, err)) return -1;
            json_array_append_new(x->receipt_ids, sb_hash_json(cr.id));
            if (n->is_yield) {
                sqlite3_stmt *st;
                if (sb_prepare(c->db, "INSERT INTO yields(data_id, account_id, expires_at, status) VALUES(?,?,?,0)", &st) != SQLITE_OK)
                    return ol_err_set(err, -1, "sqlite: %s", sqlite3_errmsg(c->db)), -1;
                sqlite3_bind_blob(st, 1, n->inputs[0], 32, SQLITE_STATIC);
                sqlite3_bind_text(st, 2, r->receiver, -1, SQLITE_STATIC);
                sqlite3_bind_int64(st, 3, (sqlite3_int64)(x->blk->height + c->yield_blocks));
                if (step_done(c, st, err)) return -1;
            }
        }
        for (size_t k = 0; k < call->n_resumes; k++) {
            sqlite3_stmt *st;
            if (sb_prepare(c->db, "UPDATE yields SET status=1 WHERE data_id=? AND status=0", &st) != SQLITE_OK)
                return ol_err_set(err, -1, "sqlite: %s", sqlite3_errmsg(c->db)), -1;
            sqlite3_bind_blob(st, 1, call->resumes[k].data_id, 32, SQLITE_STATIC);
            if (step_done(c, st, err)) return -1;
            if (sqlite3_changes(c->db) &&
                deliver_data(c, call->resumes[k].data_id, true, call->resumes[k].payload, call->resumes[k].len,
                             x->blk->height, err))
                return -1;
        }
    }
    return 0;
}

/* Loads the promise results of r's inputs into x. */
static int load_results(exec_ctx *x, ol_err *err) {
    receipt *r = x->r;
    if (!r->n_inputs) return 0;
    x->res_ok = calloc(r->n_inputs, sizeof *x->res_ok);
    x->res_data = calloc(r->n_inputs, sizeof *x->res_data);
    x->res_len = calloc(r->n_inputs, sizeof *x->res_len);
    if (!x->res_ok || !x->res_data || !x->res_len) return ol_err_set(err, -1, "out of memory"), -1;
    for (size_t i = 0; i < r->n_inputs; i++) {
        sqlite3_stmt *st;
        if (sb_prepare(x->c->db, "SELECT ok, data FROM rdata WHERE data_id=?", &st) != SQLITE_OK)
            return ol_err_set(err, -1, "sqlite: %s", sqlite3_errmsg(x->c->db)), -1;
        sqlite3_bind_blob(st, 1, r->inputs[i], 32, SQLITE_STATIC);
        x->res_ok[i] = 2;
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0)) {
            size_t n = (size_t)sqlite3_column_bytes(st, 1);
            x->res_data[i] = malloc(n ? n : 1);
            if (x->res_data[i]) {
                if (n) memcpy(x->res_data[i], sqlite3_column_blob(st, 1), n);
                x->res_len[i] = n;
                x->res_ok[i] = 1;
            }
        }
        sb_release(st);
    }
    return 0;
}

static void exec_free(exec_ctx *x) {
    for (size_t i = 0; i < x->n_calls; i++) {
        sb_call_free(x->calls[i]);
        free(x->calls[i]);
    }
    if (x->res_data)
        for (size_t i = 0; i < x->r->n_inputs; i++) free(x->res_data[i]);
    free(x->res_data);
    free(x->res_ok);
    free(x->res_len);
    json_decref(x->logs);
}

/* Runs action i; 0 ok, 1 failed (*kind set), -1 internal. */
static int run_action(exec_ctx *x, size_t i, json_t **kind, ol_err *err) {
    sb_chain *c = x->c;
    receipt *r = x->r;
    const near_action *a = &r->actions[i];
    bool actor = strcmp(r->predecessor, r->receiver) == 0 || x->created;
    char pk[NEAR_KEY_STR];
    if (a->kind == NEAR_ACTION_CREATE_ACCOUNT) {
        if (x->exists) {
            *kind = json_pack("{s:{s:s}}", "AccountAlreadyExists", "account_id", r->receiver);
            return 1;
        }
        size_t len = strlen(r->receiver);
        if (near_account_id_is_top_level(r->receiver, len)) {
            if (len < 65 && strcmp(r->predecessor, "registrar") != 0) {
                *kind = json_pack("{s:{s:s,s:s,s:s}}", "CreateAccountOnlyByRegistrar", "account_id", r->receiver,
                                  "registrar_account_id", "registrar", "predecessor_id", r->predecessor);
                return 1;
            }
        } else if (!near_account_id_is_sub_account_of(r->receiver, r->predecessor)) {
            *kind = json_pack("{s:{s:s,s:s}}", "CreateAccountNotAllowed", "account_id", r->receiver, "predecessor_id",
                              r->predecessor);
            return 1;
        }
        memset(&x->acc, 0, sizeof x->acc);
        x->acc.storage_usage = SB_ACCOUNT_BYTES;
        x->exists = x->created = true;
        return 0;
    }
    if (!x->exists) {
        size_t len = strlen(r->receiver);
        bool implicit = near_account_id_kind(r->receiver, len) == NEAR_ACCOUNT_NEAR_IMPLICIT;
        if (implicit && a->kind == NEAR_ACTION_TRANSFER && r->n_actions == 1) {
            /* NEAR-implicit account: created by a lone Transfer with hex(pk) as its full-access key */
            near_public_key ipk = {.type = NEAR_KEY_ED25519};
            size_t got;
            if (ol_hex_decode(r->receiver, 64, ipk.data, 32, &got, NULL) == 0) {
                memset(&x->acc, 0, sizeof x->acc);
                sb_key k = {.nonce = (x->blk->height - 1) * 1000000ull, .full = true};
                x->acc.storage_usage = SB_ACCOUNT_BYTES + sb_key_storage_bytes(&k);
                x->acc.amount = a->u.transfer.deposit;
                x->exists = x->created = true;
                pk_text(&ipk, pk);
                return sb_key_put(c, r->receiver, pk, &k, err) ? -1 : 0;
            }
        }
        if (implicit)
            *kind = json_pack("{s:{s:s}}", "OnlyImplicitAccountCreationAllowed", "account_id", r->receiver);
        else
            *kind = json_pack("{s:{s:s}}", "AccountDoesNotExist", "account_id", r->receiver);
        return 1;
    }
    switch (a->kind) {
    case NEAR_ACTION_TRANSFER:
        if (!u128_add(x->acc.amount, a->u.transfer.deposit, &x->acc.amount)) {
            *kind = json_string("BalanceOverflow");
            return 1;
        }
        if (r->is_refund && strcmp(r->signer, r->receiver) == 0) {
            /* gas refund: a function-call key with a finite allowance gets it back */
            sb_key k;
            pk_text(&r->signer_pk, pk);
            int rc = sb_key_get(c, r->receiver, pk, &k, err);
            if (rc < 0) return -1;
            if (rc == 0) {
                int pr = 0;
                if (!k.full && k.has_allowance && u128_add(k.allowance, a->u.transfer.deposit, &k.allowance))
                    pr = sb_key_put(c, r->receiver, pk, &k, err);
                sb_key_clear(&k);
                if (pr) return -1;
            }
        }
        return 0;
    case NEAR_ACTION_FUNCTION_CALL:
        if (!u128_add(x->acc.amount, a->u.call.deposit, &x->acc.amount)) {
            *kind = json_string("BalanceOverflow");
            return 1;
        }
        return run_call(x, i, kind, err);
    default: break;
    }
    if (!actor) {
        *kind = json_pack("{s:{s:s,s:s}}", "ActorNoPermission", "account_id", r->receiver, "actor_id", r->predecessor);
        return 1;
    }
    switch (a->kind) {
    case NEAR_ACTION_ADD_KEY: {
        pk_text(&a->u.add_key.public_key, pk);
        sb_key old;
        int rc = sb_key_get(c, r->receiver, pk, &old, err);
        if (rc < 0) return -1;
        if (rc == 0) {
            sb_key_clear(&old);
            *kind = json_pack("{s:{s:s,s:s}}", "AddKeyAlreadyExists", "account_id", r->receiver, "public_key", pk);
            return 1;
        }
        const near_access_key *ak = &a->u.add_key.access_key;
        sb_key k = {.nonce = (x->blk->height - 1) * 1000000ull, .full = ak->permission == NEAR_PERM_FULL_ACCESS};
        if (!k.full) {
            k.has_allowance = ak->has_allowance;
            k.allowance = ak->allowance;
            ol_strlcpy(k.receiver, ak->receiver_id ? ak->receiver_id : "", sizeof k.receiver);
            json_t *m = json_array();
            for (size_t j = 0; j < ak->n_method_names; j++) json_array_append_new(m, json_string(ak->method_names[j]));
            k.methods_json = json_text(m);
        }
        x->acc.storage_usage += sb_key_storage_bytes(&k);
        rc = sb_key_put(c, r->receiver, pk, &k, err);
        sb_key_clear(&k);
        return rc ? -1 : 0;
    }
    case NEAR_ACTION_DELETE_KEY: {
        pk_text(&a->u.delete_key.public_key, pk);
        sb_key old;
        int rc = sb_key_get(c, r->receiver, pk, &old, err);
        if (rc < 0) return -1;
        if (rc == 1) {
            *kind = json_pack("{s:{s:s,s:s}}", "DeleteKeyDoesNotExist", "account_id", r->receiver, "public_key", pk);
            return 1;
        }
        uint64_t bytes = sb_key_storage_bytes(&old);
        sb_key_clear(&old);
        x->acc.storage_usage = x->acc.storage_usage > bytes ? x->acc.storage_usage - bytes : 0;
        return sb_key_delete(c, r->receiver, pk, err) ? -1 : 0;
    }
    case NEAR_ACTION_DEPLOY_CONTRACT: {
        uint8_t h[32];
        crypto_hash_sha256(h, a->u.deploy.code, a->u.deploy.code_len);
        sqlite3_stmt *st;
        uint64_t old_len = 0;
        static const uint8_t zero[32];
        if (memcmp(x->acc.code_hash, zero, 32) != 0 &&
            sb_prepare(c->db, "SELECT length(code) FROM code WHERE hash=?", &st) == SQLITE_OK) {
            sqlite3_bind_blob(st, 1, x->acc.code_hash, 32, SQLITE_STATIC);
            if (sqlite3_step(st) == SQLITE_ROW) old_len = (uint64_t)sqlite3_column_int64(st, 0);
            sb_release(st);
        }
        if (sb_prepare(c->db, "INSERT OR IGNORE INTO code(hash, code) VALUES(?,?)", &st) != SQLITE_OK)
            return ol_err_set(err, -1, "sqlite: %s", sqlite3_errmsg(c->db)), -1;
        sqlite3_bind_blob(st, 1, h, 32, SQLITE_STATIC);
        sqlite3_bind_blob(st, 2, a->u.deploy.code, (int)a->u.deploy.code_len, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        sb_release(st);
        if (rc != SQLITE_DONE) return ol_err_set(err, -1, "sqlite: code insert: %s", sqlite3_errmsg(c->db)), -1;
        memcpy(x->acc.code_hash, h, 32);
        x->acc.storage_usage = x->acc.storage_usage - (old_len < x->acc.storage_usage ? old_len : 0) +
                               a->u.deploy.code_len;
        return 0;
    }
    case NEAR_ACTION_DELETE_ACCOUNT: {
        uint64_t code_len = 0;
        static const uint8_t zero[32];
        sqlite3_stmt *st;
        if (memcmp(x->acc.code_hash, zero, 32) != 0 &&
            sb_prepare(c->db, "SELECT length(code) FROM code WHERE hash=?", &st) == SQLITE_OK) {
            sqlite3_bind_blob(st, 1, x->acc.code_hash, 32, SQLITE_STATIC);
            if (sqlite3_step(st) == SQLITE_ROW) code_len = (uint64_t)sqlite3_column_int64(st, 0);
            sb_release(st);
        }
        if (x->acc.storage_usage - (code_len < x->acc.storage_usage ? code_len : 0) > SB_DELETE_ACCOUNT_MAX_STATE) {
            *kind = json_pack("{s:{s:s}}", "DeleteAccountWithLargeState", "account_id", r->receiver);
            return 1;
        }
        if (x->acc.locked) {
            *kind = json_pack("{s:{s:s}}", "DeleteAccountStaking", "account_id", r->receiver);
            return 1;
        }
        if (x->acc.amount &&
            refund_insert(c, r, a->u.delete_account.beneficiary_id, x->acc.amount, x->blk->height, &x->new_index,
                          x->receipt_ids, err))
            return -1;
        if (sb_account_delete(c, r->receiver, err)) return -1;
        x->exists = false;
        x->deleted = true;
        return 0;
    }
    default:
        *kind = json_pack("{s:{s:s}}", "UnsupportedAction", "action", "not supported by outlayer sandbox");
        return 1;
    }
}

static int set_receipt_done(sb_chain *c, const uint8_t id[32], json_t *outcome, uint64_t height, ol_err *err) {
    char *o = json_text(outcome);
    sqlite3_stmt *st;
    int ret = -1;
    if (o && sb_prepare(c->db, "UPDATE receipts SET pending=0, outcome=?, height=? WHERE id=?", &st) ==
                 SQLITE_OK) {
        sqlite3_bind_text(st, 1, o, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)height);
        sqlite3_bind_blob(st, 3, id, 32, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_DONE) ret = 0;
        sb_release(st);
    }
    free(o);
    if (ret) ol_err_set(err, -1, "sqlite: receipt update: %s", sqlite3_errmsg(c->db));
    return ret;
}

static int execute_receipt(sb_chain *c, const sb_block *blk, receipt *r, ol_err *err) {
    exec_ctx x = {.c = c, .blk = blk, .r = r, .receipt_ids = json_array(), .logs = json_array()};
    uint64_t reserved = F_ARC.exec, prepaid = 0;
    near_u128 deposits = 0;
    for (size_t i = 0; i < r->n_actions; i++) {
        const near_action *a = &r->actions[i];
        reserved += sb_action_fee(a, strcmp(r->signer, r->receiver) == 0, true);
        if (a->kind == NEAR_ACTION_FUNCTION_CALL) prepaid += a->u.call.gas;
        deposits += action_deposit(a);
    }
    json_t *status = NULL, *kind = NULL;
    uint8_t returned[32];
    bool has_returned = false;
    int rc = sb_account_get(c, r->receiver, &x.acc, err);
    if (rc < 0) goto fail;
    x.exists = rc == 0;
    if (load_results(&x, err) || sb_exec(c, "SAVEPOINT receipt", err)) goto fail;
    size_t i;
    for (i = 0; i < r->n_actions; i++) {
        rc = run_action(&x, i, &kind, err);
        if (rc) break;
    }
    if (rc < 0) goto fail;
    if (rc == 0 && x.exists) {
        near_u128 need = (near_u128)x.acc.storage_usage * SB_STORAGE_PRICE_PER_BYTE;
        if (x.acc.storage_usage > SB_ZERO_BALANCE_BYTES && x.acc.amount + x.acc.locked < need) {
            kind = json_pack("{s:{s:s,s:o}}", "LackBalanceForState", "account_id", r->receiver, "amount",
                             sb_u128_json(need - x.acc.amount - x.acc.locked));
            rc = 1;
            i = r->n_actions - 1;
        } else if (sb_account_put(c, r->receiver, &x.acc, err)) {
            goto fail;
        }
    }
    if (rc == 0 && emit_children(&x, returned, &has_returned, err)) goto fail;
    const sb_call *last = x.n_calls && r->actions[r->n_actions - 1].kind == NEAR_ACTION_FUNCTION_CALL ? x.calls[x.n_calls - 1] : NULL;
    if (rc == 1) {
        if (sb_exec(c, "ROLLBACK TO receipt", err)) goto fail;
        json_array_clear(x.receipt_ids);
        x.new_index = 0;
        status = json_pack("{s:o}", "Failure", act_err(i, kind));
        kind = NULL;
        if (deposits && !r->is_refund &&
            refund_insert(c, r, r->predecessor, deposits, blk->height, &x.new_index, x.receipt_ids, err))
            goto fail;
        for (size_t k = 0; k < r->n_outputs; k++)
            if (deliver_data(c, r->outputs[k].data_id, false, NULL, 0, blk->height, err)) goto fail;
    } else if (has_returned) {
        status = json_pack("{s:o}", "SuccessReceiptId", sb_hash_json(returned));
    } else {
        const uint8_t *v = last && last->has_ret ? last->ret : (const uint8_t *)"";
        size_t vn = last && last->has_ret ? last->ret_len : 0;
        size_t cap = ol_base64_encoded_len(vn) + 1;
        char *b = malloc(cap);
        if (!b || ol_base64_encode(v, vn, b, cap, NULL)) {
            free(b);
            ol_err_set(err, -1, "out of memory");
            goto fail;
        }
        status = json_pack("{s:s}", "SuccessValue", b);
        free(b);
        for (size_t k = 0; k < r->n_outputs; k++)
            if (deliver_data(c, r->outputs[k].data_id, true, v, vn, blk->height, err)) goto fail;
    }
    if (sb_exec(c, "RELEASE receipt", err)) goto fail;
    /* gas: exec fees and wasm are burnt; attached gas of children is used; the rest is refunded (§2.3) */
    uint64_t burnt = r->is_refund ? 0 : reserved + x.fc_burnt;
    uint64_t used = burnt + (rc == 0 ? x.fc_promise_used : 0);
    if (!r->is_refund && prepaid + reserved > used) {
        near_u128 amt = (near_u128)(prepaid + reserved - used) * r->gas_price;
        if (amt && refund_insert(c, r, r->signer, amt, blk->height, &x.new_index, x.receipt_ids, err)) goto fail;
    }
    json_t *outcome = outcome_view(r->id, blk, json_incref(x.logs), x.receipt_ids, burnt, r->receiver, status, 3);
    x.receipt_ids = NULL;
    exec_free(&x);
    return set_receipt_done(c, r->id, outcome, blk->height, err);
fail:
    json_decref(kind);
    json_decref(status);
    json_decref(x.receipt_ids);
    exec_free(&x);
    return -1;
}

/* Yields past their window resume with a failed result (NEP-519). */
static int expire_yields(sb_chain *c, const sb_block *blk, ol_err *err) {
    for (;;) {
        sqlite3_stmt *st;
        if (sb_prepare(c->db, "SELECT data_id FROM yields WHERE status=0 AND expires_at<=? LIMIT 1", &st) !=
            SQLITE_OK)
            return ol_err_set(err, -1, "sqlite: %s", sqlite3_errmsg(c->db)), -1;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)blk->height);
        uint8_t id[32];
        bool found = sqlite3_step(st) == SQLITE_ROW;
        if (found) memcpy(id, sqlite3_column_blob(st, 0), 32);
        sb_release(st);
        if (!found) return 0;
        if (sb_prepare(c->db, "UPDATE yields SET status=2 WHERE data_id=?", &st) != SQLITE_OK)
            return ol_err_set(err, -1, "sqlite: %s", sqlite3_errmsg(c->db)), -1;
        sqlite3_bind_blob(st, 1, id, 32, SQLITE_STATIC);
        if (step_done(c, st, err) || deliver_data(c, id, false, NULL, 0, blk->height, err)) return -1;
    }
}

static int execute_ready(sb_chain *c, const sb_block *blk, ol_err *err) {
    for (int done = 0; done < SB_RECEIPTS_PER_BLOCK; done++) {
        sqlite3_stmt *st;
        if (sb_prepare(c->db, "SELECT id, tx_hash, predecessor, receiver, body, is_refund FROM receipts"
                               " WHERE pending=1 AND waiting=0 AND ready_height<=? ORDER BY seq LIMIT 1", &st) != SQLITE_OK)
            return ol_err_set(err, -1, "sqlite: %s", sqlite3_errmsg(c->db)), -1;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)blk->height);
        int rc = sqlite3_step(st);
        if (rc != SQLITE_ROW) {
            sb_release(st);
            return rc == SQLITE_DONE ? 0 : (ol_err_set(err, -1, "sqlite: %s", sqlite3_errmsg(c->db)), -1);
        }
        near_arena *arena = near_arena_new(0);
        receipt r = {0};
        int ret = -1;
        if (arena) {
            memcpy(r.id, sqlite3_column_blob(st, 0), 32);
            if (sqlite3_column_bytes(st, 1) == 32) memcpy(r.tx_hash, sqlite3_column_blob(st, 1), 32);
            char *pred = near_arena_alloc(arena, NEAR_ACCOUNT_ID_MAX + 1), *recv = near_arena_alloc(arena, NEAR_ACCOUNT_ID_MAX + 1);
            if (pred && recv) {
                ol_strlcpy(pred, (const char *)sqlite3_column_text(st, 2), NEAR_ACCOUNT_ID_MAX + 1);
                ol_strlcpy(recv, (const char *)sqlite3_column_text(st, 3), NEAR_ACCOUNT_ID_MAX + 1);
                r.predecessor = pred, r.receiver = recv;
                r.is_refund = sqlite3_column_int(st, 5) != 0;
                if (receipt_decode(sqlite3_column_blob(st, 4), (size_t)sqlite3_column_bytes(st, 4), arena, &r, err) == 0)
                    ret = 0;
            }
        }
        sb_release(st);
        if (ret == 0) ret = execute_receipt(c, blk, &r, err);
        near_arena_free(arena);
        if (ret) return -1;
    }
    return 0;
}

/* ---- blocks ---------------------------------------------------------------------------------------- */
static int block_insert(sb_chain *c, const sb_block *b, ol_err *err) {
    sqlite3_stmt *st;
    if (sb_prepare(c->db, "INSERT INTO blocks(height, hash, prev_hash, ts) VALUES(?,?,?,?)", &st) !=
        SQLITE_OK)
        return ol_err_set(err, -1, "sqlite: %s", sqlite3_errmsg(c->db)), -1;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)b->height);
    sqlite3_bind_blob(st, 2, b->hash, 32, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, b->prev_hash, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)b->ts);
    int rc = sqlite3_step(st);
    sb_release(st);
    return rc == SQLITE_DONE ? 0 : (ol_err_set(err, -1, "sqlite: block insert: %s", sqlite3_errmsg(c->db)), -1);
}

static void block_hash(sb_block *b) {
    uint8_t buf[48];
    memcpy(buf, b->prev_hash, 32);
    put_u64le(buf + 32, b->height);
    put_u64le(buf + 40, b->ts);
    crypto_hash_sha256(b->hash, buf, sizeof buf);
}

static int convert_pool(sb_chain *c, const sb_block *blk, ol_err *err) {
    sqlite3_stmt *st;
    if (sb_prepare(c->db, "SELECT seq, raw FROM pool ORDER BY seq LIMIT " OL_STR(SB_TXS_PER_BLOCK), &st) != SQLITE_OK)
        return ol_err_set(err, -1, "sqlite: %s", sqlite3_errmsg(c->db)), -1;
    int ret = 0;
    int64_t last = -1;
    while (ret == 0 && sqlite3_step(st) == SQLITE_ROW) {
        last = sqlite3_column_int64(st, 0);
        ret = convert_tx(c, blk, sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1), err);
    }
    sb_release(st);
    if (ret == 0 && last >= 0) {
        if (sb_prepare(c->db, "DELETE FROM pool WHERE seq<=?", &st) != SQLITE_OK)
            return ol_err_set(err, -1, "sqlite: %s", sqlite3_errmsg(c->db)), -1;
        sqlite3_bind_int64(st, 1, last);
        if (sqlite3_step(st) != SQLITE_DONE) ret = ol_err_set(err, -1, "sqlite: pool delete: %s", sqlite3_errmsg(c->db));
        sb_release(st);
    }
    return ret ? -1 : 0;
}

int sb_chain_produce(sb_chain *c, ol_err *err) {
    sb_block b = {.height = c->height + 1};
    uint64_t t = now_ns();
    b.ts = t > c->head_ts ? t : c->head_ts + 1;
    memcpy(b.prev_hash, c->head_hash, 32);
    block_hash(&b);
    uint64_t seq = c->seq;
    if (sb_exec(c, "BEGIN IMMEDIATE", err)) return -1;
    if (block_insert(c, &b, err) || convert_pool(c, &b, err) || execute_ready(c, &b, err) || expire_yields(c, &b, err) ||
        sb_meta_put_u64(c, "seq", c->seq, err) || sb_exec(c, "COMMIT", err)) {
        ol_err e2;
        sb_exec(c, "ROLLBACK", &e2);
        c->seq = seq;
        return -1;
    }
    c->height = b.height;
    c->head_ts = b.ts;
    memcpy(c->head_hash, b.hash, 32);
    return 0;
}

/* ---- genesis and open ---------------------------------------------------------------------------------- */
static int mkdir_p(const char *path, ol_err *err) {
    char tmp[SB_PATH_MAX];
    if (!ol_strlcpy(tmp, path, sizeof tmp)) return ol_err_set(err, -1, "path too long: %s", path), -1;
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(tmp, 0700) && errno != EEXIST) return ol_err_set(err, -1, "mkdir %s: %s", tmp, strerror(errno)), -1;
        *p = '/';
    }
    if (mkdir(tmp, 0700) && errno != EEXIST) return ol_err_set(err, -1, "mkdir %s: %s", tmp, strerror(errno)), -1;
    return 0;
}

static int genesis(sb_chain *c, ol_err *err) {
    near_credentials cred = {0};
    ol_strlcpy(cred.account_id, SB_ROOT_ACCOUNT, sizeof cred.account_id);
    if (near_key_generate(&cred.secret_key, &cred.public_key, err)) return -1;
    char dir[SB_PATH_MAX + 16], path[SB_PATH_MAX + 48];
    snprintf(dir, sizeof dir, "%s/credentials", c->home);
    snprintf(path, sizeof path, "%s/" SB_ROOT_ACCOUNT ".json", dir);
    if (mkdir_p(dir, err)) return -1;
    sb_block b = {.height = 0, .ts = now_ns()};
    block_hash(&b);
    sb_key k = {.nonce = 0, .full = true};
    sb_account a = {.amount = (near_u128)SB_GENESIS_NEAR * NEAR_ONE_NEAR,
                    .storage_usage = SB_ACCOUNT_BYTES + sb_key_storage_bytes(&k)};
    char pk[NEAR_KEY_STR];
    pk_text(&cred.public_key, pk);
    if (sb_exec(c, "BEGIN IMMEDIATE", err)) return -1;
    if (block_insert(c, &b, err) || sb_account_put(c, SB_ROOT_ACCOUNT, &a, err) ||
        sb_key_put(c, SB_ROOT_ACCOUNT, pk, &k, err) || sb_meta_put_u64(c, "seq", 1, err)) {
        sb_exec(c, "ROLLBACK", NULL);
        return -1;
    }
    /* the credentials file is written before the commit: a crash in between leaves a file that the next
     * genesis overwrites, never a chain whose key is lost */
    if (near_credentials_write(path, &cred, err)) {
        sb_exec(c, "ROLLBACK", NULL);
        return -1;
    }
    if (sb_exec(c, "COMMIT", err)) return -1;
    OL_INFO("sandbox: genesis written; %s key in %s", SB_ROOT_ACCOUNT, path);
    return 0;
}

int sb_chain_open(sb_chain *c, const char *home, ol_err *err) {
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cond, NULL);
    c->yield_blocks = SB_DEFAULT_YIELD_BLOCKS;
    c->wait_ms = SB_WAIT_TIMEOUT_MS;
    c->fast_forward_max = SB_FAST_FORWARD_MAX;
    if (near_init(err)) return -1;
    if (!ol_strlcpy(c->home, home, sizeof c->home)) return ol_err_set(err, -1, "--home too long"), -1;
    if (mkdir_p(home, err)) return -1;
    char path[SB_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/chain.sqlite", home);
    if (sb_db_open(c, path, err)) return -1;
    sb_block g;
    int rc = sb_block_get_height(c, 0, &g, err);
    if (rc < 0) return -1;
    if (rc == 1 && (genesis(c, err) || sb_block_get_height(c, 0, &g, err))) return -1;
    c->genesis_height = g.height;
    c->genesis_ts = g.ts;
    memcpy(c->genesis_hash, g.hash, 32);
    sqlite3_stmt *st;
    if (sb_prepare(c->db, "SELECT max(height) FROM blocks", &st) != SQLITE_OK)
        return ol_err_set(err, -1, "sqlite: %s", sqlite3_errmsg(c->db)), -1;
    uint64_t h = sqlite3_step(st) == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
    sb_release(st);
    sb_block head;
    if (sb_block_get_height(c, h, &head, err)) return ol_err_set(err, -1, "head block %llu missing", (unsigned long long)h), -1;
    c->height = head.height;
    c->head_ts = head.ts;
    memcpy(c->head_hash, head.hash, 32);
    if (sb_meta_get_u64(c, "seq", &c->seq, err) < 0) return -1;
    if (c->seq == 0) c->seq = 1;
    return 0;
}

void sb_chain_close(sb_chain *c) {
    if (c->db) sb_stmt_cache_clear(c->db);
    if (c->db) sqlite3_close(c->db);
    c->db = NULL;
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cond);
}

/* ---- transaction status ------------------------------------------------------------------------------ */
sb_tx_stage sb_tx_stage_of(sb_chain *c, const uint8_t hash[32], json_t **txerr) {
    sqlite3_stmt *st;
    sb_tx_stage stage = SB_TX_UNKNOWN;
    if (sb_prepare(c->db, "SELECT error FROM txs WHERE hash=?", &st) != SQLITE_OK) return stage;
    sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *e = (const char *)sqlite3_column_text(st, 0);
        if (e) {
            stage = SB_TX_INVALID;
            if (txerr) *txerr = json_loads(e, 0, NULL);
        } else {
            stage = SB_TX_INCLUDED;
        }
    }
    sb_release(st);
    if (stage == SB_TX_INCLUDED) {
        if (sb_prepare(c->db, "SELECT count(*) FROM receipts WHERE tx_hash=? AND pending=1 AND is_refund=0", &st) != SQLITE_OK)
            return stage;
        sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) == 0) stage = SB_TX_EXECUTED;
        sb_release(st);
    } else if (stage == SB_TX_UNKNOWN && pool_has(c, hash, "pool") == 1) {
        stage = SB_TX_POOLED;
    }
    return stage;
}

static json_t *transaction_view(const uint8_t *raw, size_t n, const uint8_t hash[32]) {
    near_arena *arena = near_arena_new(0);
    near_signed_transaction stx;
    json_t *v = NULL;
    if (arena && near_signed_tx_decode(raw, n, arena, &stx, NULL) == 0) {
        json_t *acts = json_array();
        for (size_t i = 0; i < stx.tx.n_actions; i++) json_array_append_new(acts, sb_action_view(&stx.tx.actions[i]));
        char sig[NEAR_KEY_STR];
        near_signature_format(&stx.signature, sig);
        v = json_pack("{s:s,s:o,s:I,s:s,s:o,s:i,s:s,s:o}", "signer_id", stx.tx.signer_id, "public_key",
                      sb_pk_json(&stx.tx.public_key), "nonce", (json_int_t)stx.tx.nonce, "receiver_id",
                      stx.tx.receiver_id, "actions", acts, "priority_fee", 0, "signature", sig, "hash",
                      sb_hash_json(hash));
    }
    near_arena_free(arena);
    return v;
}

static json_t *receipt_view(sqlite3_stmt *st) {
    /* columns: id, predecessor, receiver, body */
    near_arena *arena = near_arena_new(0);
    receipt r = {0};
    json_t *v = NULL;
    if (arena && receipt_decode(sqlite3_column_blob(st, 3), (size_t)sqlite3_column_bytes(st, 3), arena, &r, NULL) == 0) {
        json_t *acts = json_array();
        for (size_t i = 0; i < r.n_actions; i++) json_array_append_new(acts, sb_action_view(&r.actions[i]));
        json_t *ins = json_array(), *outs = json_array();
        for (size_t i = 0; i < r.n_inputs; i++) json_array_append_new(ins, sb_hash_json(r.inputs[i]));
        for (size_t i = 0; i < r.n_outputs; i++)
            json_array_append_new(outs, json_pack("{s:o,s:s}", "data_id", sb_hash_json(r.outputs[i].data_id), "receiver_id",
                                                  r.outputs[i].receiver));
        v = json_pack("{s:s,s:s,s:o,s:{s:{s:s,s:o,s:o,s:o,s:o,s:o,s:b}},s:i}", "predecessor_id",
                      (const char *)sqlite3_column_text(st, 1), "receiver_id", (const char *)sqlite3_column_text(st, 2),
                      "receipt_id", sb_hash_json(sqlite3_column_blob(st, 0)), "receipt", "Action", "signer_id",
                      r.signer, "signer_public_key", sb_pk_json(&r.signer_pk), "gas_price", sb_u128_json(r.gas_price),
                      "output_data_receivers", outs, "input_data_ids", ins, "actions", acts, "is_promise_yield",
                      r.is_yield, "priority", 0);
    }
    near_arena_free(arena);
    return v;
}

json_t *sb_tx_result(sb_chain *c, const uint8_t hash[32], bool experimental, const char *wait_level) {
    sqlite3_stmt *st;
    json_t *res = NULL, *tx_outcome = NULL, *tview = NULL;
    if (sb_prepare(c->db, "SELECT raw, outcome FROM txs WHERE hash=? AND error IS NULL", &st) !=
        SQLITE_OK)
        return NULL;
    sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        tview = transaction_view(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0), hash);
        tx_outcome = json_loads((const char *)sqlite3_column_text(st, 1), 0, NULL);
    }
    sb_release(st);
    if (!tview || !tx_outcome) goto out;
    json_t *outcomes = json_array(), *receipts = json_array(), *by_id = json_object();
    if (sb_prepare(c->db, "SELECT id, predecessor, receiver, body, outcome FROM receipts WHERE tx_hash=? ORDER BY seq", &st) == SQLITE_OK) {
        sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *o = (const char *)sqlite3_column_text(st, 4);
            if (experimental) {
                json_t *rv = receipt_view(st);
                if (rv) json_array_append_new(receipts, rv);
            }
            if (!o) continue;
            json_t *oj = json_loads(o, 0, NULL);
            if (!oj) continue;
            json_object_set(by_id, json_string_value(json_object_get(oj, "id")), oj);
            json_array_append_new(outcomes, oj);
        }
        sb_release(st);
    }
    /* final status: follow SuccessReceiptId links from the transaction outcome (§2.1.6) */
    json_t *status = NULL;
    json_t *cur = json_object_get(json_object_get(tx_outcome, "outcome"), "status");
    for (int hops = 0; hops < 1000; hops++) {
        json_t *next = json_object_get(cur, "SuccessReceiptId");
        if (!next) {
            status = json_deep_copy(cur);
            break;
        }
        json_t *o = json_object_get(by_id, json_string_value(next));
        if (!o) {
            status = json_string("Started");
            break;
        }
        cur = json_object_get(json_object_get(o, "outcome"), "status");
    }
    if (!status) status = json_string("Started");
    res = json_pack("{s:s,s:o,s:o,s:O,s:o}", "final_execution_status", wait_level, "status", status, "transaction",
                    tview, "transaction_outcome", tx_outcome, "receipts_outcome", outcomes);
    if (experimental) json_object_set_new(res, "receipts", receipts);
    else json_decref(receipts);
    json_decref(by_id);
    tview = NULL;
out:
    json_decref(tview);
    json_decref(tx_outcome);
    return res;
}

json_t *sb_receipt_json(sb_chain *c, const uint8_t id[32]) {
    sqlite3_stmt *st;
    json_t *v = NULL;
    if (sb_prepare(c->db, "SELECT id, predecessor, receiver, body FROM receipts WHERE id=?", &st) != SQLITE_OK)
        return NULL;
    sqlite3_bind_blob(st, 1, id, 32, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) v = receipt_view(st);
    sb_release(st);
    return v;
}

void sb_chunk_contents(sb_chain *c, uint64_t height, json_t *txs, json_t *receipts) {
    sqlite3_stmt *st;
    if (sb_prepare(c->db, "SELECT raw, hash FROM txs WHERE height=? AND error IS NULL ORDER BY rowid", &st) ==
        SQLITE_OK) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)height);
        while (sqlite3_step(st) == SQLITE_ROW) {
            json_t *t = transaction_view(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0), sqlite3_column_blob(st, 1));
            if (t) json_array_append_new(txs, t);
        }
        sb_release(st);
    }
    if (sb_prepare(c->db, "SELECT id, predecessor, receiver, body FROM receipts WHERE height=? ORDER BY seq", &st) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)height);
        while (sqlite3_step(st) == SQLITE_ROW) {
            json_t *r = receipt_view(st);
            if (r) json_array_append_new(receipts, r);
        }
        sb_release(st);
    }
}
