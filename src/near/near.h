/* near: NEAR protocol primitives, byte-compatible with nearcore and near-api-js.
 *
 *   account ids      near_account_id_*      (../shared/reference/near-protocol.md §2.6)
 *   u128 / amounts   near_u128_*, near_amount_*
 *   keys             near_public_key_*, near_secret_key_*, near_signature_*, near_sign, near_verify
 *   credentials      near_credentials_*     (near-cli `~/.near-credentials/<net>/<account>.json`)
 *   borsh            near_buf (writer), near_reader, near_tx_*, near_action_*   (§3)
 *   JSON-RPC         near_rpc_*             (§4; see the RPC section at the end)
 *
 * Errors: every fallible function returns 0 or a NEAR_E* code and fills an ol_err with a message that
 * names the field, offset or limit at fault. Decoded objects live in a near_arena freed in one call.
 * Thread safety: no globals except libsodium's one-time init (near_init, idempotent, thread-safe). */
#ifndef OUTLAYER_NEAR_H
#define OUTLAYER_NEAR_H

#include "base/base.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- limits (each with its reason) ------------------------------------------------------------------ */
#define NEAR_ACCOUNT_ID_MIN 2                  /* nearcore AccountId rules (§2.6) */
#define NEAR_ACCOUNT_ID_MAX 64                 /* nearcore AccountId rules (§2.6) */
#define NEAR_MAX_TX_BYTES (4 * 1024 * 1024)     /* max_transaction_size was 4 MiB before PV 69, 1.5 MiB since */
#define NEAR_MAX_CODE_BYTES (4 * 1024 * 1024)   /* max_contract_size */
#define NEAR_MAX_ARGS_BYTES (4 * 1024 * 1024)   /* max_arguments_length */
#define NEAR_MAX_METHOD_NAME 256                /* max_length_method_name */
#define NEAR_MAX_ACTIONS 100                    /* max_actions_per_receipt */
#define NEAR_MAX_METHOD_NAMES_BYTES 2000        /* max_number_bytes_method_names (Σ len+1) of an access key */
#define NEAR_MAX_ARENA_BYTES (64 * 1024 * 1024) /* decoded objects of one transaction stay far below this */
#define NEAR_MAX_FILE_BYTES (64 * 1024)         /* a credentials file is ~300 bytes */

/* ---- error codes ---------------------------------------------------------------------------------- */
enum {
    NEAR_OK = 0,
    NEAR_EINVAL = 1,     /* malformed input: bad account id, key string, amount, borsh */
    NEAR_ETRUNC = 2,     /* borsh input ended early */
    NEAR_ELIMIT = 3,     /* a NEAR_MAX_* limit would be exceeded */
    NEAR_ENOMEM = 4,     /* allocation failed */
    NEAR_EIO = 5,        /* file or network I/O */
    NEAR_ECRYPTO = 6,    /* signing/verification failure, key mismatch */
    NEAR_EUNSUPPORTED = 7, /* valid NEAR data this module does not handle (e.g. ML-DSA keys) */
    /* JSON-RPC (see the RPC section) */
    NEAR_ERPC_TRANSPORT = 20,       /* connection refused, DNS, TLS: transient */
    NEAR_ERPC_TIMEOUT = 21,         /* our timeout, HTTP 408 or TIMEOUT_ERROR */
    NEAR_ERPC_SERVER = 22,          /* HTTP 5xx, INTERNAL_ERROR, unparseable response */
    NEAR_ERPC_UNKNOWN_ACCOUNT = 23, /* UNKNOWN_ACCOUNT */
    NEAR_ERPC_UNKNOWN_KEY = 24,     /* view_access_key "does not exist" / UNKNOWN_ACCESS_KEY */
    NEAR_ERPC_INVALID_NONCE = 25,   /* InvalidTxError::InvalidNonce (or NonceTooLarge) */
    NEAR_ERPC_EXPIRED = 26,         /* InvalidTxError::Expired */
    NEAR_ERPC_INVALID_TX = 27,      /* any other INVALID_TRANSACTION */
    NEAR_ERPC_CONTRACT = 28,        /* call_function error or an outcome Failure: contract's message */
    NEAR_ERPC_UNKNOWN_BLOCK = 29,   /* UNKNOWN_BLOCK / UNKNOWN_CHUNK */
    NEAR_ERPC_UNKNOWN_TX = 30,      /* UNKNOWN_TRANSACTION */
    NEAR_ERPC_NO_CODE = 31,         /* NO_CONTRACT_CODE */
    NEAR_ERPC_REQUEST = 32,         /* REQUEST_VALIDATION_ERROR: bad params, unknown method */
    NEAR_ERPC_HANDLER = 33,         /* any other HANDLER_ERROR */
};

/* Initialises libsodium; called by every function that needs it, callable any number of times. */
int near_init(ol_err *err);

/* ---- account ids ----------------------------------------------------------------------------------- */
typedef enum near_account_kind {
    NEAR_ACCOUNT_NAMED = 0,      /* alice.near, top-level or sub-account */
    NEAR_ACCOUNT_NEAR_IMPLICIT,  /* 64 lowercase hex = hex(ed25519 public key) */
    NEAR_ACCOUNT_ETH_IMPLICIT,   /* 0x + 40 lowercase hex */
    NEAR_ACCOUNT_DETERMINISTIC,  /* 0s + 40 lowercase hex */
} near_account_kind;

/* Validates s[0..len) as a NEAR account id; on failure the message names the rule and position. */
int near_account_id_check(const char *s, size_t len, ol_err *err);
bool near_account_id_valid(const char *s); /* NUL-terminated convenience */
/* Kind of a valid account id (call near_account_id_check first). */
near_account_kind near_account_id_kind(const char *s, size_t len);
bool near_account_id_is_top_level(const char *s, size_t len);
/* True when sub is a direct sub-account of parent ("a.b" of "b"). */
bool near_account_id_is_sub_account_of(const char *sub, const char *parent);

/* ---- u128 and NEAR amounts ------------------------------------------------------------------------ */
typedef unsigned __int128 near_u128;
#define NEAR_U128_STR 40     /* 39 digits of 2^128-1 + NUL */
#define NEAR_AMOUNT_STR 64   /* "340282366920938.463463374607431768211455 NEAR" + NUL */
#define NEAR_ONE_NEAR ((near_u128)1000000000000ull * (near_u128)1000000000000ull) /* 10^24 yocto */

/* Decimal digits only (leading zeros allowed as Rust's u128::from_str does; no sign, no spaces). */
int near_u128_parse(const char *s, size_t len, near_u128 *out, ol_err *err);
void near_u128_format(near_u128 v, char out[NEAR_U128_STR]);
/* Amount text: "1.5 NEAR", "1.5 N", "1.5" (NEAR implied), "0.000001 near", "1000 yocto", "1000 yoctoNEAR".
 * At most 24 decimals; more, overflow or junk is an error naming the problem. */
int near_amount_parse(const char *s, near_u128 *out_yocto, ol_err *err);
/* "1.5 NEAR", "0 NEAR", "0.000000000000000000000001 NEAR": exact, trailing zeros trimmed. */
void near_amount_format(near_u128 yocto, char out[NEAR_AMOUNT_STR]);

/* ---- keys and signatures ---------------------------------------------------------------------------- */
typedef enum near_key_type { NEAR_KEY_ED25519 = 0, NEAR_KEY_SECP256K1 = 1, NEAR_KEY_MLDSA65 = 2 } near_key_type;
#define NEAR_ED25519_PK 32
#define NEAR_ED25519_SK 64 /* seed ‖ public key, as NEAR and libsodium store it */
#define NEAR_ED25519_SIG 64
#define NEAR_SECP256K1_PK 64 /* uncompressed x ‖ y without the 0x04 prefix */
#define NEAR_SECP256K1_SK 32
#define NEAR_SECP256K1_SIG 65 /* r ‖ s ‖ v */
#define NEAR_KEY_STR 128      /* "secp256k1:" + base58(65) + NUL fits */

typedef struct near_public_key {
    uint8_t type; /* near_key_type; ML-DSA-65 is rejected with NEAR_EUNSUPPORTED */
    uint8_t data[NEAR_SECP256K1_PK];
} near_public_key;
typedef struct near_secret_key {
    uint8_t type;
    uint8_t data[NEAR_ED25519_SK];
} near_secret_key;
typedef struct near_signature {
    uint8_t type;
    uint8_t data[NEAR_SECP256K1_SIG];
} near_signature;

size_t near_key_len(uint8_t type);       /* public key bytes; 0 for an unknown type */
size_t near_signature_len(uint8_t type); /* signature bytes; 0 for an unknown type */
bool near_public_key_eq(const near_public_key *a, const near_public_key *b);

/* "ed25519:<base58>" / "secp256k1:<base58>"; a bare base58 string is ed25519 (as nearcore accepts). */
int near_public_key_parse(const char *s, near_public_key *out, ol_err *err);
void near_public_key_format(const near_public_key *pk, char out[NEAR_KEY_STR]);
/* Ed25519 secret: 64 bytes (seed ‖ public key); the public half must match the seed. secp256k1: 32 bytes. */
int near_secret_key_parse(const char *s, near_secret_key *out, ol_err *err);
void near_secret_key_format(const near_secret_key *sk, char out[NEAR_KEY_STR]);
int near_signature_parse(const char *s, near_signature *out, ol_err *err);
void near_signature_format(const near_signature *sig, char out[NEAR_KEY_STR]);

/* New random ed25519 key pair (libsodium). */
int near_key_generate(near_secret_key *sk, near_public_key *pk, ol_err *err);
/* Deterministic ed25519 key pair from a 32-byte seed (tests, vectors). */
int near_key_from_seed(const uint8_t seed[32], near_secret_key *sk, near_public_key *pk, ol_err *err);
/* Public key of a secret key (ed25519 only; secp256k1 gives NEAR_EUNSUPPORTED). */
int near_secret_key_public(const near_secret_key *sk, near_public_key *pk, ol_err *err);
/* Signs msg (for transactions: the 32-byte hash). ed25519 only. */
int near_sign(const near_secret_key *sk, const uint8_t *msg, size_t n, near_signature *out, ol_err *err);
/* 0 when sig is a valid signature of msg by pk; NEAR_ECRYPTO otherwise (also for mismatched types). */
int near_verify(const near_public_key *pk, const uint8_t *msg, size_t n, const near_signature *sig, ol_err *err);
/* hex(ed25519 public key): the NEAR-implicit account id; out needs 65 bytes. */
int near_implicit_account_id(const near_public_key *pk, char out[65], ol_err *err);

/* ---- near-cli credentials files --------------------------------------------------------------------- */
typedef struct near_credentials {
    char account_id[NEAR_ACCOUNT_ID_MAX + 1];
    near_public_key public_key;
    near_secret_key secret_key;
} near_credentials;

/* Reads {"account_id","public_key","private_key"} (`secret_key` accepted as alias). Checks the account
 * id, that both keys parse, and that the public key matches the secret key. */
int near_credentials_read(const char *path, near_credentials *out, ol_err *err);
/* Writes atomically (temporary file in the same directory, fsync, rename) with mode 0600. The
 * directory must exist. */
int near_credentials_write(const char *path, const near_credentials *c, ol_err *err);
/* "<dir>/<network>/<account_id>.json"; account id and network validated (no '/' or ".."). */
int near_credentials_path(const char *dir, const char *network, const char *account_id, char *out, size_t cap,
                          ol_err *err);

/* ---- arena: owner of everything a decoder produces -------------------------------------------------- */
typedef struct near_arena near_arena;
/* New arena that refuses to hold more than max bytes (0 = NEAR_MAX_ARENA_BYTES). Free with near_arena_free. */
near_arena *near_arena_new(size_t max);
void near_arena_free(near_arena *a);
/* Zeroed, 16-byte-aligned memory owned by the arena; NULL when over the limit or out of memory. */
void *near_arena_alloc(near_arena *a, size_t n);

/* ---- borsh writer ---------------------------------------------------------------------------------- */
/* A growable byte buffer with a hard maximum. data is malloc'd and owned by the buffer: free with
 * near_buf_free (or take it: set data to NULL after copying the pointer). A failed write (over max or
 * out of memory) sets failed; later writes are no-ops, and the encoder reports it once at the end. */
typedef struct near_buf {
    uint8_t *data;
    size_t len, cap, max;
    bool failed;
} near_buf;
void near_buf_init(near_buf *b, size_t max); /* max 0 = NEAR_MAX_TX_BYTES */
void near_buf_free(near_buf *b);
void near_buf_put(near_buf *b, const void *p, size_t n);
void near_buf_u8(near_buf *b, uint8_t v);
void near_buf_u16(near_buf *b, uint16_t v);
void near_buf_u32(near_buf *b, uint32_t v);
void near_buf_u64(near_buf *b, uint64_t v);
void near_buf_u128(near_buf *b, near_u128 v);
void near_buf_bytes(near_buf *b, const void *p, size_t n); /* u32 length + bytes */
void near_buf_str(near_buf *b, const char *s);             /* u32 length + bytes */

/* ---- borsh reader ---------------------------------------------------------------------------------- */
/* A cursor over borrowed bytes. Every read checks the remaining length; errors carry the offset. */
typedef struct near_reader {
    const uint8_t *p;
    size_t len, off;
    near_arena *arena; /* strings and vectors are copied here */
    ol_err *err;
    int depth; /* delegate nesting */
} near_reader;
int near_read_u8(near_reader *r, uint8_t *v, const char *what);
int near_read_u16(near_reader *r, uint16_t *v, const char *what);
int near_read_u32(near_reader *r, uint32_t *v, const char *what);
int near_read_u64(near_reader *r, uint64_t *v, const char *what);
int near_read_u128(near_reader *r, near_u128 *v, const char *what);
int near_read_fixed(near_reader *r, uint8_t *out, size_t n, const char *what);
/* Vec<u8> of at most max bytes, copied into the arena (NUL-terminated). */
int near_read_bytes(near_reader *r, size_t max, const uint8_t **out, size_t *out_len, const char *what);
/* String of at most max bytes, valid UTF-8, no NUL byte (we keep C strings), copied into the arena. */
int near_read_string(near_reader *r, size_t max, const char **out, const char *what);
/* AccountId: a String that must be a valid account id. */
int near_read_account_id(near_reader *r, const char **out, const char *what);

/* ---- actions and transactions (borsh layouts of §3) ------------------------------------------------- */
typedef enum near_action_kind {
    NEAR_ACTION_CREATE_ACCOUNT = 0,
    NEAR_ACTION_DEPLOY_CONTRACT = 1,
    NEAR_ACTION_FUNCTION_CALL = 2,
    NEAR_ACTION_TRANSFER = 3,
    NEAR_ACTION_STAKE = 4,
    NEAR_ACTION_ADD_KEY = 5,
    NEAR_ACTION_DELETE_KEY = 6,
    NEAR_ACTION_DELETE_ACCOUNT = 7,
    NEAR_ACTION_DELEGATE = 8,
    NEAR_ACTION_DEPLOY_GLOBAL_CONTRACT = 9,
    NEAR_ACTION_USE_GLOBAL_CONTRACT = 10,
    NEAR_ACTION_DETERMINISTIC_STATE_INIT = 11, /* not supported: decoding it fails with NEAR_EUNSUPPORTED */
    NEAR_ACTION_TRANSFER_TO_GAS_KEY = 12,
    NEAR_ACTION_WITHDRAW_FROM_GAS_KEY = 13,
    NEAR_ACTION_DELEGATE_V2 = 14, /* not supported: NEAR_EUNSUPPORTED */
} near_action_kind;

typedef enum near_permission_kind {
    NEAR_PERM_FUNCTION_CALL = 0,
    NEAR_PERM_FULL_ACCESS = 1,
    NEAR_PERM_GAS_KEY_FUNCTION_CALL = 2,
    NEAR_PERM_GAS_KEY_FULL_ACCESS = 3,
} near_permission_kind;

typedef struct near_access_key {
    uint64_t nonce;
    uint8_t permission; /* near_permission_kind */
    /* FunctionCall permission (kinds 0 and 2) */
    bool has_allowance;
    near_u128 allowance;
    const char *receiver_id;
    const char **method_names;
    size_t n_method_names;
    /* GasKeyInfo (kinds 2 and 3) */
    near_u128 gas_key_balance;
    uint16_t gas_key_num_nonces;
} near_access_key;

struct near_delegate_action;

typedef struct near_action {
    uint8_t kind; /* near_action_kind */
    union {
        struct {
            const uint8_t *code;
            size_t code_len;
        } deploy; /* DeployContract */
        struct {
            const char *method_name;
            const uint8_t *args;
            size_t args_len;
            uint64_t gas;
            near_u128 deposit;
        } call; /* FunctionCall */
        struct {
            near_u128 deposit;
        } transfer;
        struct {
            near_u128 stake;
            near_public_key public_key;
        } stake;
        struct {
            near_public_key public_key;
            near_access_key access_key;
        } add_key;
        struct {
            near_public_key public_key;
        } delete_key;
        struct {
            const char *beneficiary_id;
        } delete_account;
        struct {
            const struct near_delegate_action *action;
            near_signature signature;
        } delegate; /* SignedDelegateAction */
        struct {
            const uint8_t *code;
            size_t code_len;
            uint8_t deploy_mode; /* 0 CodeHash, 1 AccountId */
        } deploy_global;
        struct {
            uint8_t by_account; /* 0 CodeHash, 1 AccountId */
            uint8_t code_hash[32];
            const char *account_id;
        } use_global;
        struct {
            near_public_key public_key;
            near_u128 amount;
        } gas_key; /* TransferToGasKey (deposit) / WithdrawFromGasKey (amount) */
    } u;
} near_action;

/* NEP-366 DelegateAction (meta transaction). */
typedef struct near_delegate_action {
    const char *sender_id;
    const char *receiver_id;
    const near_action *actions;
    size_t n_actions;
    uint64_t nonce;
    uint64_t max_block_height;
    near_public_key public_key;
} near_delegate_action;

typedef struct near_transaction {
    uint8_t version; /* 0 (no tag) or 1 (0x01 tag, nonce enum, nonce_mode) */
    const char *signer_id;
    near_public_key public_key;
    uint64_t nonce;
    bool gas_key_nonce;   /* V1: TransactionNonce::GasKeyNonce */
    uint16_t nonce_index; /* V1 GasKeyNonce only */
    const char *receiver_id;
    uint8_t block_hash[32];
    const near_action *actions;
    size_t n_actions;
    uint8_t nonce_mode; /* V1: 0 Monotonic, 1 Strict */
} near_transaction;

typedef struct near_signed_transaction {
    near_transaction tx;
    near_signature signature;
} near_signed_transaction;

/* Encoders append borsh to b; they validate what NEAR's decoder would refuse (account ids, lengths,
 * key types) and return NEAR_EINVAL/NEAR_ELIMIT naming the field, or NEAR_ELIMIT/NEAR_ENOMEM when b
 * failed. */
int near_action_encode(near_buf *b, const near_action *a, ol_err *err);
int near_delegate_action_encode(near_buf *b, const near_delegate_action *d, ol_err *err);
int near_tx_encode(near_buf *b, const near_transaction *tx, ol_err *err);
int near_signed_tx_encode(near_buf *b, const near_signed_transaction *stx, ol_err *err);

/* Decoders read the whole input (trailing bytes are an error), allocate in arena, and fail with the
 * offset and field name. in is borrowed; out points into arena afterwards. */
int near_tx_decode(const uint8_t *in, size_t len, near_arena *arena, near_transaction *out, ol_err *err);
int near_signed_tx_decode(const uint8_t *in, size_t len, near_arena *arena, near_signed_transaction *out,
                          ol_err *err);
int near_delegate_action_decode(const uint8_t *in, size_t len, near_arena *arena, near_delegate_action *out,
                                ol_err *err);
/* Reader-level pieces, for other decoders (e.g. receipts in the sandbox). */
int near_read_public_key(near_reader *r, near_public_key *out, const char *what);
int near_read_signature(near_reader *r, near_signature *out, const char *what);
int near_read_action(near_reader *r, near_action *out);
int near_read_transaction(near_reader *r, near_transaction *out);

/* sha256(borsh(tx)): the transaction hash that is signed and shown base58 in RPC. */
int near_tx_hash(const near_transaction *tx, uint8_t out[32], ol_err *err);
/* Signs tx with sk as NEAR does (ed25519 over the 32-byte hash); fills out (tx copied by value, its
 * pointers still borrowed) and optionally the hash. sk's public key must equal tx->public_key. */
int near_tx_sign(const near_transaction *tx, const near_secret_key *sk, near_signed_transaction *out,
                 uint8_t hash_out[32], ol_err *err);
/* Verifies stx->signature over the hash with stx->tx.public_key. */
int near_signed_tx_verify(const near_signed_transaction *stx, ol_err *err);
/* sha256(u32le(2^30 + 366) ‖ borsh(d)): the bytes a SignedDelegateAction signs. */
int near_delegate_action_hash(const near_delegate_action *d, uint8_t out[32], ol_err *err);
int near_delegate_action_sign(const near_delegate_action *d, const near_secret_key *sk, near_signature *out,
                              ol_err *err);
/* base64(borsh(stx)) as a malloc'd NUL-terminated string owned by the caller (free()). */
int near_signed_tx_base64(const near_signed_transaction *stx, char **out, ol_err *err);


/* ---- JSON-RPC client (reference §4) ------------------------------------------------------------------
 * One near_rpc per endpoint, shareable between threads (each call uses its own curl handle). Results
 * are jansson objects owned by the caller (json_decref). Errors from NEAR's envelope become NEAR_ERPC_*
 * codes; near_rpc_error (optional out-parameter) carries the details. Transient failures (transport,
 * our timeout, HTTP 408/5xx, TIMEOUT_ERROR) are retried with exponential backoff up to max_retries;
 * nothing else is retried. Re-sending a signed transaction is idempotent on NEAR (same hash). */
#define NEAR_RPC_MAX_RESPONSE (64 * 1024 * 1024) /* view_code of a 4 MiB contract is ~5.6 MB of base64; blocks and chunks are smaller */
#define NEAR_RPC_MAX_RETRIES 20                  /* caps near_rpc_opts.max_retries */

typedef struct json_t json_t;
typedef struct near_rpc near_rpc;

typedef struct near_rpc_opts {
    const char *url;         /* e.g. "http://127.0.0.1:3030" (copied) */
    long timeout_ms;         /* whole HTTP exchange; 0 = 30000 (NEAR answers send_tx with 408 after ~10 s) */
    long connect_timeout_ms; /* 0 = 5000 */
    int max_retries;         /* extra attempts for transient failures; -1 = 0, 0 = 3 */
    long backoff_ms;         /* first retry delay, doubled each time; 0 = 200 */
    long backoff_max_ms;     /* 0 = 5000 */
} near_rpc_opts;

typedef struct near_rpc_error {
    int code;             /* NEAR_ERPC_* (0 when none) */
    long http_status;     /* 0 when no HTTP response */
    int attempts;         /* HTTP attempts made */
    char name[64];        /* error.name: HANDLER_ERROR, REQUEST_VALIDATION_ERROR, INTERNAL_ERROR */
    char cause[64];       /* error.cause.name, e.g. UNKNOWN_ACCOUNT, INVALID_TRANSACTION */
    char tx_error[64];    /* InvalidTxError variant, e.g. InvalidNonce, Expired */
    uint64_t tx_nonce;    /* InvalidNonce / NonceTooLarge */
    uint64_t ak_nonce;    /* InvalidNonce: the key's current nonce */
    char message[512];    /* contract message or the node's text */
} near_rpc_error;

/* A block reference: finality if set, else block hash if set, else height. */
typedef struct near_block_ref {
    const char *finality; /* "optimistic", "near-final", "final" */
    const char *hash;     /* base58 */
    uint64_t height;
} near_block_ref;
#define NEAR_FINAL ((near_block_ref){.finality = "final"})
#define NEAR_OPTIMISTIC ((near_block_ref){.finality = "optimistic"})

near_rpc *near_rpc_new(const near_rpc_opts *opts, ol_err *err);
void near_rpc_free(near_rpc *rpc);

/* Generic call: params is stolen (may be NULL for []); on success *result is the "result" member
 * (owned by the caller). Result-level errors of query (missing access key, contract error) are
 * turned into NEAR_ERPC_UNKNOWN_KEY / NEAR_ERPC_CONTRACT here too. */
int near_rpc_call(near_rpc *rpc, const char *method, json_t *params, json_t **result, near_rpc_error *detail,
                  ol_err *err);

int near_rpc_status(near_rpc *rpc, json_t **result, near_rpc_error *detail, ol_err *err);
int near_rpc_block(near_rpc *rpc, near_block_ref ref, json_t **result, near_rpc_error *detail, ol_err *err);
/* Latest block hash at the given finality (for a transaction's block_hash). */
int near_rpc_block_hash(near_rpc *rpc, near_block_ref ref, uint8_t out[32], uint64_t *height, near_rpc_error *detail,
                        ol_err *err);
/* chunk by chunk hash (chunk_hash != NULL) or by block reference + shard id. */
int near_rpc_chunk(near_rpc *rpc, const char *chunk_hash, near_block_ref ref, uint64_t shard_id, json_t **result,
                   near_rpc_error *detail, ol_err *err);
/* gas_price at a block (ref NULL = latest); *price from the decimal string. */
int near_rpc_gas_price(near_rpc *rpc, const near_block_ref *ref, near_u128 *price, near_rpc_error *detail,
                       ol_err *err);
int near_rpc_protocol_config(near_rpc *rpc, near_block_ref ref, json_t **result, near_rpc_error *detail, ol_err *err);

/* query kinds */
int near_rpc_view_account(near_rpc *rpc, const char *account_id, near_block_ref ref, json_t **result,
                          near_rpc_error *detail, ol_err *err);
int near_rpc_view_access_key(near_rpc *rpc, const char *account_id, const near_public_key *pk, near_block_ref ref,
                             json_t **result, near_rpc_error *detail, ol_err *err);
int near_rpc_view_access_key_list(near_rpc *rpc, const char *account_id, near_block_ref ref, json_t **result,
                                  near_rpc_error *detail, ol_err *err);
/* call_function: args are raw bytes (usually JSON). *out (malloc'd, NUL-terminated, caller frees)
 * gets the returned bytes; logs (optional) gets the "logs" array (caller decrefs). */
int near_rpc_call_function(near_rpc *rpc, const char *account_id, const char *method, const uint8_t *args,
                           size_t args_len, near_block_ref ref, uint8_t **out, size_t *out_len, json_t **logs,
                           near_rpc_error *detail, ol_err *err);
int near_rpc_view_state(near_rpc *rpc, const char *account_id, const uint8_t *prefix, size_t prefix_len,
                        near_block_ref ref, json_t **result, near_rpc_error *detail, ol_err *err);
int near_rpc_view_code(near_rpc *rpc, const char *account_id, near_block_ref ref, json_t **result,
                       near_rpc_error *detail, ol_err *err);

/* Transactions. wait_until: "NONE", "INCLUDED", "EXECUTED_OPTIMISTIC" (NULL = node default),
 * "INCLUDED_FINAL", "EXECUTED", "FINAL". */
int near_rpc_send_tx(near_rpc *rpc, const char *signed_tx_base64, const char *wait_until, json_t **result,
                     near_rpc_error *detail, ol_err *err);
/* Returns the base58 hash the node reports into hash_out (capacity >= 64). */
int near_rpc_broadcast_tx_async(near_rpc *rpc, const char *signed_tx_base64, char *hash_out, size_t cap,
                                near_rpc_error *detail, ol_err *err);
int near_rpc_broadcast_tx_commit(near_rpc *rpc, const char *signed_tx_base64, json_t **result,
                                 near_rpc_error *detail, ol_err *err);
/* tx / EXPERIMENTAL_tx_status by hash and sender (experimental adds "receipts"). */
int near_rpc_tx_status(near_rpc *rpc, const char *tx_hash, const char *sender_id, const char *wait_until,
                       bool experimental, json_t **result, near_rpc_error *detail, ol_err *err);

/* Outcome of a FinalExecutionOutcome (send_tx / tx result). */
typedef enum near_outcome_kind {
    NEAR_OUTCOME_SUCCESS_VALUE = 0, /* *value = decoded bytes (malloc'd, NUL-terminated) */
    NEAR_OUTCOME_SUCCESS_RECEIPT,   /* ended in a receipt id (no value) */
    NEAR_OUTCOME_PENDING,           /* "Started"/"NotStarted" or no status (wait_until NONE/INCLUDED) */
} near_outcome_kind;
/* 0 with *kind for successes and pending; NEAR_ERPC_CONTRACT (message = the contract's panic text or
 * the ActionError JSON) or NEAR_ERPC_INVALID_TX for a Failure. value may be NULL. */
int near_rpc_outcome(const json_t *result, near_outcome_kind *kind, uint8_t **value, size_t *value_len,
                     near_rpc_error *detail, ol_err *err);


/* ---- nonces, signers and sending (reference §2.8 and §4.4 "InvalidNonce retry") ----------------------
 * near_nonce_mgr caches one nonce per (account, public key): the first use reads view_access_key and
 * takes nonce+1, later uses increment locally under a mutex, so concurrent transactions from one
 * process never reuse a nonce. When the node answers InvalidNonce the cache jumps to the key's nonce
 * from the error (or is re-read) and the transaction is re-signed. A near_signer holds one account and
 * several full-access keys used in rotation, so independent transactions can be in flight together. */
#define NEAR_NONCE_MAX_KEYS 1024  /* cached (account, key) pairs per manager; far above any deployment */
#define NEAR_SIGNER_MAX_KEYS 64   /* keys per signer */
#define NEAR_SEND_MAX_RESIGN 10   /* re-signs after InvalidNonce/Expired (near-api-js v7 uses 10 tries) */
#define NEAR_BLOCK_HASH_TTL_MS 10000 /* a cached final block hash is reused this long (validity is 86400 blocks on mainnet, 100 on localnet) */

typedef struct near_nonce_mgr near_nonce_mgr;
/* rpc is borrowed and must outlive the manager. */
near_nonce_mgr *near_nonce_mgr_new(near_rpc *rpc, ol_err *err);
void near_nonce_mgr_free(near_nonce_mgr *m);
/* Next nonce for (account, pk). Thread-safe. */
int near_nonce_next(near_nonce_mgr *m, const char *account_id, const near_public_key *pk, uint64_t *out,
                    near_rpc_error *detail, ol_err *err);
/* After InvalidNonce: with ak_nonce > 0 the cache moves to at least ak_nonce; with 0 it is dropped and
 * re-read on next use. */
void near_nonce_invalidate(near_nonce_mgr *m, const char *account_id, const near_public_key *pk, uint64_t ak_nonce);

typedef struct near_signer near_signer;
/* Copies the keys (ed25519 secret keys); keys are used round-robin. Free with near_signer_free (wipes). */
near_signer *near_signer_new(const char *account_id, const near_secret_key *keys, size_t n, ol_err *err);
void near_signer_free(near_signer *s);
const char *near_signer_account(const near_signer *s);
size_t near_signer_key_count(const near_signer *s);
const near_public_key *near_signer_public_key(const near_signer *s, size_t i); /* NULL when i is out of range */

/* Signer for account_id from a near-cli credentials directory: <dir>/<network>/<account_id>.json, and
 * every key file in <dir>/<network>/<account_id>/ (near-cli-rs per-key layout, *.json, sorted by name),
 * together used in rotation. Each file's account_id must match. Fails when no key is found. */
near_signer *near_signer_from_credentials(const char *dir, const char *network, const char *account_id, ol_err *err);

typedef struct near_send_info {
    char hash[64];      /* base58 hash of the transaction finally sent */
    uint64_t nonce;     /* its nonce */
    size_t key_index;   /* which of the signer's keys signed it */
    int resigns;        /* how many times it was re-signed (InvalidNonce, Expired) */
} near_send_info;

/* Builds a transaction of actions (borrowed) from the signer's next key to receiver_id, with the next
 * nonce and a recent final block hash, signs it, and sends it with send_tx (wait_until as for
 * near_rpc_send_tx). InvalidNonce and Expired are handled by re-signing, up to NEAR_SEND_MAX_RESIGN
 * times. *result (caller decrefs) is the send_tx result; check it with near_rpc_outcome. */
int near_send_actions(near_nonce_mgr *m, near_signer *s, const char *receiver_id, const near_action *actions,
                      size_t n_actions, const char *wait_until, json_t **result, near_send_info *info,
                      near_rpc_error *detail, ol_err *err);
/* Convenience: one FunctionCall action. */
int near_send_call(near_nonce_mgr *m, near_signer *s, const char *receiver_id, const char *method,
                   const uint8_t *args, size_t args_len, uint64_t gas, near_u128 deposit, const char *wait_until,
                   json_t **result, near_send_info *info, near_rpc_error *detail, ol_err *err);

#endif
