/* host_double: a test double of the NEAR host for native unit tests of contracts (not built for wasm).
 *
 * It implements the near_* functions of near_host.h over in-memory state that persists across calls like
 * a chain would: the contract's storage (with NEAR's storage_usage accounting: key + value + 40 bytes per
 * record), its balance, the block height/time, and pending yields. Each hd_call() runs one method as one
 * receipt: it sets the context, runs the method, and records what it did (return value, logs, promises,
 * yields). A panic, from the contract or from a host rule the double enforces (log limits, register
 * misuse, storage key size, yield payload size), longjmps back to hd_call, which rolls state back exactly as
 * NEAR discards a failed receipt's writes and promises.
 *
 * Memory: the double owns everything it records; pointers in hd_outcome stay valid until the next
 * hd_call or hd_reset. Not thread-safe (one chain per test process). */
#ifndef OUTLAYER_CONTRACTS_HOST_DOUBLE_H
#define OUTLAYER_CONTRACTS_HOST_DOUBLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sdk.h"

#define HD_MAX_LOGS 100          /* NEAR max_number_logs */
#define HD_MAX_LOG_BYTES 16384   /* NEAR max_total_log_length */
#define HD_MAX_ACTIONS 64        /* recorded promise actions per call (tests never need more) */
#define HD_YIELD_PAYLOAD_MAX 1024 /* NEAR max_yield_payload_size */
#define HD_YIELD_TIMEOUT 200     /* NEAR yield_timeout_length_in_blocks */
#define HD_TGAS 1000000000000ull

typedef enum hd_action_type {
    HD_ACT_FUNCTION_CALL,
    HD_ACT_TRANSFER,
    HD_ACT_DEPLOY,
    HD_ACT_YIELD,
} hd_action_type;

typedef struct hd_action {
    hd_action_type type;
    uint64_t promise;  /* index of the promise the action belongs to */
    int64_t after;     /* promise_then: index it waits on, else -1 */
    char receiver[65];
    char method[257];
    char *args; /* NUL-terminated copy */
    size_t args_len;
    u128 amount;
    uint64_t gas, gas_weight;
    size_t code_len;    /* DEPLOY */
    uint8_t data_id[32]; /* YIELD */
} hd_action;

typedef struct hd_outcome {
    bool panicked;
    char panic_msg[2048];
    bool has_return;
    char *ret; /* NUL-terminated copy of value_return */
    size_t ret_len;
    bool returned_promise; /* promise_return was called */
    uint64_t returned_promise_idx;
    int nlogs;
    char *logs[HD_MAX_LOGS];
    int nactions;
    hd_action actions[HD_MAX_ACTIONS];
    uint64_t storage_usage_before, storage_usage_after;
} hd_outcome;

typedef struct hd_call_opts {
    const char *predecessor; /* default "alice.near" */
    const char *signer;      /* default = predecessor */
    const uint8_t *signer_pk; /* 33 bytes borsh; default 0x00 ‖ 32×0x07 */
    u128 deposit;
    uint64_t prepaid_gas; /* default 300 Tgas */
    uint64_t used_gas;    /* what used_gas() reports; default 2 Tgas */
    const char *args;     /* default "" */
    size_t args_len;      /* 0 = strlen(args) */
    /* For callbacks: number of promise results (0 or 1), and result 0: 1 = success with payload, 2 = failed. */
    int promise_results;
    int promise_status;
    const char *payload;
    size_t payload_len;
} hd_call_opts;

/* Starts a fresh chain: no storage, contract account `current`, balance `balance`, height 100. */
void hd_reset(const char *current, u128 balance);
/* Runs method as one receipt. The deposit is added to the balance; a panic rolls everything back
 * (the deposit too: NEAR refunds it). Returns the outcome (owned by the double). */
const hd_outcome *hd_call(void (*method)(void), const hd_call_opts *opts);

/* Chain clock. */
void hd_set_block(uint64_t height, uint64_t timestamp_ns);
uint64_t hd_block_height(void);
u128 hd_balance(void);
uint64_t hd_storage_usage(void);
/* Direct storage access for assertions (value copied into a static buffer; NULL when absent). */
const char *hd_storage_get(const void *key, size_t kn, size_t *vn);
size_t hd_storage_count(void);

/* Yields: what a resume recorded for data_id (0 = none pending, 1 = pending not resumed, 2 = resumed,
 * 3 = callback already ran). */
int hd_yield_state(const uint8_t data_id[32]);
/* Runs the yield's callback like the runtime does: predecessor = the contract itself, input = the yield's
 * arguments, promise result 0 = the first resume's payload, or Failed when not resumed (a timeout; the
 * double requires height >= created + HD_YIELD_TIMEOUT for that and returns NULL otherwise). */
const hd_outcome *hd_run_yield(void (*callback)(void), const uint8_t data_id[32]);

/* Helpers for assertions. */
const hd_action *hd_find_action(const hd_outcome *o, hd_action_type type, int nth);
/* Sum of transfers to receiver in the outcome. */
u128 hd_transferred_to(const hd_outcome *o, const char *receiver);
u128 hd_u128(const char *dec); /* aborts on a bad literal */

#endif
