/* outlayer: the OutLayer contract (../shared/DESIGN.md §5). Each function is one contract method,
 * exported under the name in quotes in wasm builds; natively the tests call them through host_double.
 * Arguments are JSON objects read from input(); results are JSON written with value_return. */
#ifndef OUTLAYER_CONTRACTS_OUTLAYER_H
#define OUTLAYER_CONTRACTS_OUTLAYER_H

/* init and executions */
void ol_new(void);                    /* "new" {owner_id, operator_id?} */
void ol_request_execution(void);      /* "request_execution" payable */
void ol_resolve_execution(void);      /* "resolve_execution" operator only */
void ol_on_execution_response(void);  /* "on_execution_response" private yield callback */
void ol_cancel_stale_execution(void); /* "cancel_stale_execution" sender, after the yield window */

/* admin (owner) */
void ol_set_owner(void);
void ol_set_operator(void);
void ol_set_paused(void);
void ol_set_pricing(void);
void ol_withdraw_fees(void);
void ol_upgrade(void); /* raw input = new code */
void ol_migrate(void); /* private, called by upgrade */

/* views */
void ol_get_request(void);
void ol_list_pending_requests(void);
void ol_get_pricing(void);
void ol_estimate_execution_cost(void);
void ol_get_max_limits(void);
void ol_get_stats(void);
void ol_get_config(void);
void ol_is_paused(void);

/* secrets */
void ol_store_secrets(void);  /* payable */
void ol_update_access(void);  /* payable (a larger condition costs storage) */
void ol_delete_secrets(void); /* refunds the entry's deposit */
void ol_get_secrets(void);
void ol_secrets_exist(void);
void ol_list_user_secrets(void);
void ol_estimate_storage_cost(void);

#endif
