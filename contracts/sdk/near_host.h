/* near_host: the NEAR host functions the SDK uses (../shared/reference/near-protocol.md §1). In wasm
 * builds they are imports from module "env" under NEAR's names; natively host_double.c defines them.
 * Every u64 of the ABI is a uint64_t (wasm i64); pointers are passed as uint64_t byte offsets.
 * Private to the SDK: contracts use sdk.h. */
#ifndef OUTLAYER_CONTRACTS_NEAR_HOST_H
#define OUTLAYER_CONTRACTS_NEAR_HOST_H

#include <stdint.h>

#ifdef __wasm__
#define NEAR_IMPORT(n) __attribute__((import_module("env"), import_name(n)))
#else
#define NEAR_IMPORT(n)
#endif

#define NEAR_PTR(p) ((uint64_t)(uintptr_t)(p))

NEAR_IMPORT("read_register") void near_read_register(uint64_t reg, uint64_t ptr);
NEAR_IMPORT("register_len") uint64_t near_register_len(uint64_t reg);
NEAR_IMPORT("current_account_id") void near_current_account_id(uint64_t reg);
NEAR_IMPORT("signer_account_id") void near_signer_account_id(uint64_t reg);
NEAR_IMPORT("signer_account_pk") void near_signer_account_pk(uint64_t reg);
NEAR_IMPORT("predecessor_account_id") void near_predecessor_account_id(uint64_t reg);
NEAR_IMPORT("input") void near_input(uint64_t reg);
NEAR_IMPORT("block_index") uint64_t near_block_index(void);
NEAR_IMPORT("block_timestamp") uint64_t near_block_timestamp(void);
NEAR_IMPORT("storage_usage") uint64_t near_storage_usage(void);
NEAR_IMPORT("account_balance") void near_account_balance(uint64_t ptr);
NEAR_IMPORT("attached_deposit") void near_attached_deposit(uint64_t ptr);
NEAR_IMPORT("prepaid_gas") uint64_t near_prepaid_gas(void);
NEAR_IMPORT("used_gas") uint64_t near_used_gas(void);
NEAR_IMPORT("value_return") void near_value_return(uint64_t len, uint64_t ptr);
NEAR_IMPORT("panic_utf8") void near_panic_utf8(uint64_t len, uint64_t ptr);
NEAR_IMPORT("log_utf8") void near_log_utf8(uint64_t len, uint64_t ptr);
NEAR_IMPORT("storage_write")
uint64_t near_storage_write(uint64_t klen, uint64_t kptr, uint64_t vlen, uint64_t vptr, uint64_t reg);
NEAR_IMPORT("storage_read") uint64_t near_storage_read(uint64_t klen, uint64_t kptr, uint64_t reg);
NEAR_IMPORT("storage_remove") uint64_t near_storage_remove(uint64_t klen, uint64_t kptr, uint64_t reg);
NEAR_IMPORT("storage_has_key") uint64_t near_storage_has_key(uint64_t klen, uint64_t kptr);
NEAR_IMPORT("promise_create")
uint64_t near_promise_create(uint64_t alen, uint64_t aptr, uint64_t mlen, uint64_t mptr, uint64_t arglen,
                             uint64_t argptr, uint64_t amount_ptr, uint64_t gas);
NEAR_IMPORT("promise_then")
uint64_t near_promise_then(uint64_t idx, uint64_t alen, uint64_t aptr, uint64_t mlen, uint64_t mptr,
                           uint64_t arglen, uint64_t argptr, uint64_t amount_ptr, uint64_t gas);
NEAR_IMPORT("promise_batch_create") uint64_t near_promise_batch_create(uint64_t alen, uint64_t aptr);
NEAR_IMPORT("promise_batch_action_transfer") void near_promise_batch_action_transfer(uint64_t idx, uint64_t amount_ptr);
NEAR_IMPORT("promise_batch_action_deploy_contract")
void near_promise_batch_action_deploy_contract(uint64_t idx, uint64_t code_len, uint64_t code_ptr);
NEAR_IMPORT("promise_batch_action_function_call")
void near_promise_batch_action_function_call(uint64_t idx, uint64_t mlen, uint64_t mptr, uint64_t arglen,
                                             uint64_t argptr, uint64_t amount_ptr, uint64_t gas);
NEAR_IMPORT("promise_results_count") uint64_t near_promise_results_count(void);
NEAR_IMPORT("promise_result") uint64_t near_promise_result(uint64_t idx, uint64_t reg);
NEAR_IMPORT("promise_return") void near_promise_return(uint64_t idx);
NEAR_IMPORT("promise_yield_create")
uint64_t near_promise_yield_create(uint64_t mlen, uint64_t mptr, uint64_t arglen, uint64_t argptr, uint64_t gas,
                                   uint64_t weight, uint64_t reg);
NEAR_IMPORT("promise_yield_resume")
uint32_t near_promise_yield_resume(uint64_t idlen, uint64_t idptr, uint64_t plen, uint64_t pptr);

#endif
