/* sandbox runtime internals: one contract call (sb_call), host functions (runtime.c) and promises,
 * yield/resume (also runtime.c). Used by chain.c (receipts) and rpc.c (views), with sb_chain.mu held. */
#ifndef OUTLAYER_SANDBOX_RUNTIME_H
#define OUTLAYER_SANDBOX_RUNTIME_H

#include "sandbox/sandbox_int.h"
#include "vm/vm.h"

/* limits of §1 and §7, each NEAR's own */
#define SB_MAX_REGISTERS 100                   /* max_number_registers */
#define SB_MAX_REGISTER_BYTES 104857600u       /* max_register_size */
#define SB_REGISTERS_MEMORY 1073741824u        /* registers_memory_limit */
#define SB_MAX_LOGS 100                        /* max_number_logs */
#define SB_MAX_LOG_TOTAL 16384u                /* max_total_log_length */
#define SB_MAX_STORAGE_KEY 2048u               /* max_length_storage_key */
#define SB_MAX_STORAGE_VALUE 4194304u          /* max_length_storage_value */
#define SB_MAX_GAS_BURNT 1000000000000000ull   /* max_gas_burnt and max_gas_burnt_view, 1 Pgas */
#define SB_MAX_MEMORY_PAGES 2048u              /* NEAR's max_memory_pages (128 MiB) */
#define SB_INITIAL_MEMORY_PAGES 1024u          /* NEAR's initial_memory_pages (64 MiB): every contract starts with at least this */
#define SB_MAX_PROMISES 1024                   /* max_promises_per_function_call_action */
#define SB_MAX_INPUT_DEPS 128                  /* max_number_input_data_dependencies */
#define SB_MAX_YIELD_PAYLOAD 1024u             /* max_yield_payload_size */
#define SB_MODULE_CACHE 16                     /* compiled modules kept (by code hash) */
/* Engine stacks per call: 64 Ki value cells (512 KiB) and 2000 frames are far above what NEAR's own
 * max_stack_height lets a contract use, and keep a view call from zeroing 8 MiB every time. */
#define SB_STACK_SLOTS (1u << 16)
#define SB_MAX_CALL_DEPTH 2000u

typedef struct sb_reg {
    uint64_t id;
    uint8_t *data;
    size_t len;
} sb_reg;

typedef struct sb_data_receiver {
    uint8_t data_id[32];
    char receiver[NEAR_ACCOUNT_ID_MAX + 1];
} sb_data_receiver;

/* A receipt created by a call; every buffer is malloc'd and owned here (sb_promises_free). */
typedef struct sb_new_receipt {
    char receiver[NEAR_ACCOUNT_ID_MAX + 1];
    near_action *actions;
    uint64_t *weights; /* gas weight per action (FunctionCall only) */
    size_t n_actions, cap_actions;
    uint8_t (*inputs)[32];
    size_t n_inputs;
    sb_data_receiver *outputs;
    size_t n_outputs;
    bool is_yield;
    uint8_t id[32]; /* assigned by the chain when emitted */
} sb_new_receipt;

typedef struct sb_promise {
    bool joint;
    size_t receipt;    /* index into receipts when !joint */
    size_t *members;   /* receipt indices when joint */
    size_t n_members;
} sb_promise;

typedef struct sb_resume {
    uint8_t data_id[32];
    uint8_t *payload;
    size_t len;
} sb_resume;

typedef struct sb_call {
    /* in */
    bool view;
    const char *account, *signer, *predecessor;
    near_public_key signer_pk;
    const uint8_t *input;
    size_t input_len;
    near_u128 deposit;
    uint64_t prepaid_gas;
    uint64_t height, timestamp;
    uint8_t random_seed[32];
    uint8_t action_hash[32]; /* seeds data ids */
    uint8_t receipt_id[32];  /* cause of storage changes (EXPERIMENTAL_changes) */
    sb_account *acc;         /* live account record */
    sqlite3 *db;
    uint64_t yield_blocks;
    /* promise results of a callback: ok 1 = success (data), 2 = failed */
    size_t n_results;
    const int *result_ok;
    const uint8_t *const *result_data;
    const size_t *result_len;
    /* state */
    sb_reg regs[SB_MAX_REGISTERS];
    size_t n_regs, reg_bytes;
    uint64_t fuel_start, load_gas;
    uint64_t promise_gas;  /* gas moved to children or burnt as send fees: counted as used */
    uint64_t promise_used; /* the part of promise_gas that is not burnt (attached gas + reserved exec fees) */
    uint64_t data_counter;
    size_t log_bytes;
    bool host_failed, out_of_gas;
    /* out */
    json_t *logs;
    uint8_t *ret;
    size_t ret_len;
    bool has_ret;
    uint64_t gas_burnt;
    json_t *error; /* FunctionCallError JSON when the call failed */
    char err_debug[400], err_display[400];
    sb_new_receipt *receipts;
    size_t n_receipts;
    sb_promise *promises;
    size_t n_promises;
    long returned_promise; /* -1 none */
    sb_resume *resumes;
    size_t n_resumes;
} sb_call;

/* 0 when the call ran (x->error set if it failed), -1 internal error. */
int sb_run(sb_chain *c, const uint8_t code_hash[32], const char *method, sb_call *x, ol_err *err);
void sb_call_free(sb_call *x);
void sb_runtime_cleanup(void);

void sb_promises_free(sb_call *x);
/* Gas weights (§2.4): hands out unused gas to weighted function calls after a successful call. */
void sb_promises_distribute_gas(sb_call *x);

#endif
