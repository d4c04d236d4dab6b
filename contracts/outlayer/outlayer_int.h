/* outlayer internals shared by outlayer.c, requests.c and secrets.c: the contract state record and
 * argument helpers that panic with "<method>: <argument> <problem>". Private to the contract. */
#ifndef OUTLAYER_CONTRACTS_OUTLAYER_INT_H
#define OUTLAYER_CONTRACTS_OUTLAYER_INT_H

#include "../sdk/sdk.h"
#include "outlayer.h"
#include "outlayer_limits.h"

/* Storage keys and prefixes (one byte each, so no map can collide with another). */
#define OL_KEY_STATE "STATE"
#define OL_KEY_PENDING "P"   /* sorted u64 LE ids of pending requests */
#define OL_PREFIX_REQUEST "r" /* r ‖ be64(id) -> request record */
#define OL_PREFIX_RESULT "o"  /* o ‖ be64(id) -> stored resolution (response above the payload limit) */
#define OL_PREFIX_SECRET "s"  /* s ‖ owner ‖ 0 ‖ accessor json ‖ 0 ‖ profile -> secret entry */
#define OL_PREFIX_USER "u"    /* u ‖ owner -> index of the owner's secret keys */

typedef struct ol_state {
    uint8_t version;
    sdk_bytes owner, operator_id;
    bool paused;
    u128 base_fee, per_million_instructions_fee, per_ms_fee, per_compile_ms_fee;
    uint64_t next_request_id;
    uint64_t total_executions;
    u128 total_fees_collected; /* all fees ever charged */
    u128 fees_available;       /* charged and not yet withdrawn */
} ol_state;

/* Loads the state; panics "<method>: the contract is not initialized" when absent. */
void ol__state_load(ol_state *st, const char *method);
void ol__state_save(const ol_state *st);
/* Panics "<method>: only the owner <owner> may call this" unless predecessor is the owner. */
void ol__require_owner(const ol_state *st, const char *method);

/* Argument helpers. `present` getters return false when the member is absent or null. */
void ol__only_keys(const char *method, const sdk_json *args, const char *const *allowed);
const char *ol__req_str(const char *method, const sdk_json *obj, const char *key, size_t max, size_t *len);
bool ol__opt_str(const char *method, const sdk_json *obj, const char *key, size_t max, const char **s, size_t *len);
bool ol__opt_u64(const char *method, const sdk_json *obj, const char *key, uint64_t *out);
bool ol__opt_bool(const char *method, const sdk_json *obj, const char *key, bool *out);
bool ol__opt_u128(const char *method, const sdk_json *obj, const char *key, u128 *out);
const sdk_json *ol__opt_obj(const char *method, const sdk_json *obj, const char *key);
sdk_bytes ol__req_account(const char *method, const sdk_json *obj, const char *key);
bool ol__opt_account(const char *method, const sdk_json *obj, const char *key, sdk_bytes *out);

u128 ol__storage_cost(uint64_t bytes);
void ol__return_json(sdk_jw *w);

#endif
