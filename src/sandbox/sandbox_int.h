/* sandbox internals shared by state.c (SQLite records), chain.c (transactions, receipts, blocks),
 * rpc.c (JSON-RPC) and sandbox.c (flags, threads). Everything here runs with sb_chain.mu held unless
 * said otherwise: one mutex serialises the SQLite connection, the producer and the RPC handlers. */
#ifndef OUTLAYER_SANDBOX_INT_H
#define OUTLAYER_SANDBOX_INT_H

#include "base/base.h"
#include "near/near.h"

#include <jansson.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

/* ---- limits and chain parameters (each with its reason) ------------------------------------------- */
#define SB_GENESIS_NEAR 1000000000ull        /* test.near's balance in NEAR (issue 5) */
#define SB_ROOT_ACCOUNT "test.near"          /* the genesis account (issue 5) */
#define SB_GAS_PRICE 100000000               /* genesis min_gas_price, kept constant (§2.4); no suffix: OL_STR spells it in RPC */
#define SB_TX_VALIDITY_BLOCKS 86400u         /* transaction_validity_period of mainnet (§2.7) */
#define SB_MAX_TX_SIZE 1572864u              /* max_transaction_size since PV 69 (§2.1) */
#define SB_MAX_PREPAID_GAS 1000000000000000ull /* max_total_prepaid_gas, 1 Pgas (§2.4) */
#define SB_STORAGE_PRICE_PER_BYTE 10000000000000000000ull /* storage_amount_per_byte, 1e19 yocto (§2.5) */
#define SB_ZERO_BALANCE_BYTES 770u           /* NEP-448: accounts this small need no balance for state */
#define SB_ACCOUNT_BYTES 100u                /* storage_num_bytes_account (§2.5) */
#define SB_RECORD_EXTRA_BYTES 40u            /* storage_num_extra_bytes_record (§2.5) */
#define SB_DELETE_ACCOUNT_MAX_STATE 10000u   /* DeleteAccountWithLargeState threshold (§2.5) */
#define SB_POOL_MAX 100000                   /* pending transactions; more is refused (memory and block time) */
#define SB_TXS_PER_BLOCK 2000                /* transactions converted per block, keeps a block short */
#define SB_RECEIPTS_PER_BLOCK 20000          /* receipts executed per block; the rest wait for the next */
#define SB_WAIT_TIMEOUT_MS 10000             /* send_tx/tx wait before TIMEOUT_ERROR (408), as nearcore */
#define SB_RPC_BODY_MAX (8u * 1024 * 1024)   /* a 4 MiB transaction as base64 plus the envelope */
#define SB_FAST_FORWARD_MAX 100000           /* sandbox_fast_forward delta_height cap (bounded request time) */
#define SB_DEFAULT_YIELD_BLOCKS 200          /* NEP-519 yield_timeout_length_in_blocks (§6) */
#define SB_VIEW_STATE_MAX 50000               /* trie_viewer_state_size_limit: view_state refuses more (§4.3) */
#define SB_SHUTDOWN_GRACE_MS 200             /* answers to waiting requests are flushed before the server stops */
#define SB_PATH_MAX 4096

/* ---- chain --------------------------------------------------------------------------------------- */
typedef struct sb_chain {
    sqlite3 *db;             /* owned; used only with mu held */
    pthread_mutex_t mu;
    pthread_cond_t cond;     /* broadcast after every block (waiters re-check their transaction) */
    uint64_t height;         /* head */
    uint8_t head_hash[32];
    uint64_t head_ts;        /* ns */
    uint64_t genesis_height;
    uint8_t genesis_hash[32];
    uint64_t genesis_ts;
    uint64_t seq;            /* next receipt / pool sequence number */
    uint64_t yield_blocks;
    long wait_ms;           /* send_tx/tx wait before 408 (SB_WAIT_TIMEOUT_MS; the fuzz target sets 0) */
    long fast_forward_max;  /* sandbox_fast_forward cap (SB_FAST_FORWARD_MAX; smaller in the fuzz target) */
    bool stopping;          /* set at shutdown: waiting requests answer TIMEOUT_ERROR at once */
    char home[SB_PATH_MAX];
} sb_chain;

typedef struct sb_account {
    near_u128 amount, locked;
    uint8_t code_hash[32]; /* all zero: no contract */
    uint64_t storage_usage;
} sb_account;

typedef struct sb_key {
    uint64_t nonce;
    bool full;
    bool has_allowance;
    near_u128 allowance;
    char receiver[NEAR_ACCOUNT_ID_MAX + 1];
    char *methods_json; /* JSON array text, malloc'd, owned by the struct (sb_key_clear) */
} sb_key;

typedef struct sb_block {
    uint64_t height, ts;
    uint8_t hash[32], prev_hash[32];
} sb_block;

/* state.c: prepared statements cached by SQL text (pair sb_prepare with sb_release; clear before close). */
int sb_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **out);
void sb_release(sqlite3_stmt *st);
void sb_stmt_cache_clear(sqlite3 *db);

/* state.c: records. Returns 0 found/ok, 1 not found, -1 SQLite error (err set). */
int sb_db_open(sb_chain *c, const char *path, ol_err *err);
int sb_exec(sb_chain *c, const char *sql, ol_err *err);
int sb_account_get(sb_chain *c, const char *id, sb_account *out, ol_err *err);
int sb_account_put(sb_chain *c, const char *id, const sb_account *a, ol_err *err);
int sb_account_delete(sb_chain *c, const char *id, ol_err *err); /* and its keys and data */
int sb_key_get(sb_chain *c, const char *id, const char *pk, sb_key *out, ol_err *err);
int sb_key_put(sb_chain *c, const char *id, const char *pk, const sb_key *k, ol_err *err);
int sb_key_delete(sb_chain *c, const char *id, const char *pk, ol_err *err);
void sb_key_clear(sb_key *k);
json_t *sb_key_permission_json(const sb_key *k); /* "FullAccess" or {"FunctionCall":{...}} */
uint64_t sb_key_storage_bytes(const sb_key *k); /* borsh(PublicKey ed25519) + borsh(AccessKey) + 40 */
int sb_block_get_height(sb_chain *c, uint64_t h, sb_block *out, ol_err *err);
int sb_block_get_hash(sb_chain *c, const uint8_t hash[32], sb_block *out, ol_err *err);
int sb_meta_get_u64(sb_chain *c, const char *k, uint64_t *out, ol_err *err);
int sb_meta_put_u64(sb_chain *c, const char *k, uint64_t v, ol_err *err);

/* chain.c */
int sb_chain_open(sb_chain *c, const char *home, ol_err *err);
void sb_chain_close(sb_chain *c);
/* Makes one block: converts pooled transactions, executes ready receipts, commits. */
int sb_chain_produce(sb_chain *c, ol_err *err);

enum { SB_SUBMIT_OK = 0, SB_SUBMIT_INVALID = 1, SB_SUBMIT_PARSE = 2, SB_SUBMIT_INTERNAL = 3 };
/* Decodes and validates base64 borsh SignedTransaction and puts it in the pool (idempotent per hash).
 * INVALID: *txerr = InvalidTxError JSON (caller decrefs). PARSE/INTERNAL: err says why. */
int sb_tx_submit(sb_chain *c, const char *b64, uint8_t hash_out[32], char *signer_out, json_t **txerr, ol_err *err);

typedef enum sb_tx_stage {
    SB_TX_UNKNOWN = 0,
    SB_TX_POOLED,
    SB_TX_INVALID,  /* dropped at conversion: *txerr */
    SB_TX_INCLUDED, /* converted, some non-refund receipt still pending */
    SB_TX_EXECUTED, /* every non-refund receipt executed */
} sb_tx_stage;
sb_tx_stage sb_tx_stage_of(sb_chain *c, const uint8_t hash[32], json_t **txerr);
/* FinalExecutionOutcome JSON (plus "receipts" when experimental); NULL when unknown. */
json_t *sb_tx_result(sb_chain *c, const uint8_t hash[32], bool experimental, const char *wait_level);

/* fees of §2.4 (chain.c): one action's send (exec false) or execution fee; the action-receipt fee */
uint64_t sb_action_fee(const near_action *a, bool sir, bool exec);
uint64_t sb_arc_fee(bool sir, bool exec);

/* ReceiptView of a stored receipt (NULL when unknown); the transactions and receipts of a block's chunk. */
json_t *sb_receipt_json(sb_chain *c, const uint8_t id[32]);
void sb_chunk_contents(sb_chain *c, uint64_t height, json_t *txs, json_t *receipts);

/* JSON views shared by chain.c and rpc.c */
json_t *sb_u128_json(near_u128 v);
json_t *sb_hash_json(const uint8_t h[32]);
json_t *sb_action_view(const near_action *a);
json_t *sb_pk_json(const near_public_key *pk);

/* rpc.c */
typedef struct ol_http_server ol_http_server;
int sb_rpc_register(ol_http_server *s, sb_chain *c, ol_err *err);
/* The whole JSON-RPC request path (also for the fuzz target): body in, status and JSON text out
 * (malloc'd, caller frees). Takes c->mu itself. */
int sb_rpc_handle(sb_chain *c, const char *body, size_t len, char **out, size_t *out_len);

#endif
