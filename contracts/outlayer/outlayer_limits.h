/* outlayer limits and defaults: every cap of the OutLayer contract in one place, each with its reason
 * (../shared/DESIGN.md §5 and §6). A request above a cap is refused with a message naming the limit;
 * nothing is clamped silently. */
#ifndef OUTLAYER_CONTRACTS_OUTLAYER_LIMITS_H
#define OUTLAYER_CONTRACTS_OUTLAYER_LIMITS_H

/* resource_limits defaults (each field on its own) and caps. The execution cap keeps a run inside the
 * 200-block yield window together with queueing, a build and the resolving transaction. */
#define OL_DEFAULT_MAX_INSTRUCTIONS 1000000000ull   /* 1e9 */
#define OL_DEFAULT_MAX_MEMORY_MB 128ull
#define OL_DEFAULT_MAX_EXECUTION_SECONDS 10ull
#define OL_CAP_MAX_INSTRUCTIONS 100000000000ull     /* 100e9 */
#define OL_CAP_MAX_MEMORY_MB 1024ull
#define OL_CAP_MAX_EXECUTION_SECONDS 60ull

/* Input and output of a run: 64 KiB each; their storage is paid from the request's deposit. */
#define OL_MAX_INPUT_BYTES 65536u
#define OL_MAX_OUTPUT_BYTES 65536u

/* NEAR's max_yield_payload_size: a resume payload above it aborts the resuming call, so a larger response
 * is kept in state and the callback re-attaches it. */
#define OL_YIELD_PAYLOAD_MAX 1024u

/* NEAR's yield_timeout_length_in_blocks: after this many blocks the callback runs as a timeout, and
 * cancel_stale_execution becomes possible. */
#define OL_YIELD_WINDOW_BLOCKS 200ull

/* Gas: the callback's reserve (settle, refund, event, return) and what request_execution itself needs
 * on top of it (parse, store, yield, event). Prepaid gas below the sum is refused with the figure. */
#define OL_TGAS 1000000000000ull
#define OL_CALLBACK_GAS (50ull * OL_TGAS)
#define OL_REQUEST_OWN_GAS (15ull * OL_TGAS)
/* Gas for migrate after an upgrade deploys new code. */
#define OL_MIGRATE_GAS (50ull * OL_TGAS)

/* Pending requests live in one sorted id index rewritten by every request and settlement; this bounds its
 * size (80 KB) and so the gas of those writes. Refused above it: "too many pending requests". */
#define OL_MAX_PENDING_REQUESTS 10000u

/* list_pending_requests page size: default and maximum. */
#define OL_LIST_DEFAULT_LIMIT 50ull
#define OL_LIST_MAX_LIMIT 100ull

/* list_pending_requests result budget: a page stops early (never empty) rather than exceed it, because a
 * page of 100 requests with 64 KiB inputs would pass NEAR's 4 MiB return limit. Clients continue from the
 * last id + 1, as with any page. */
#define OL_LIST_MAX_BYTES (1024u * 1024u)

/* Source fields (they are echoed in views and events; events share NEAR's 16 KiB log budget). */
#define OL_MAX_REPO_BYTES 512u
#define OL_MAX_COMMIT_BYTES 128u
#define OL_MAX_BUILD_TARGET_BYTES 64u
#define OL_MAX_URL_BYTES 1024u
#define OL_DEFAULT_BUILD_TARGET "wasm32-wasip1"

/* Response text fields: bounded so that the settlement event always fits in the log budget. */
#define OL_MAX_ERROR_BYTES 1024u
#define OL_MAX_COMPILATION_NOTE_BYTES 256u

/* Secrets. Profile names as in the original (1-64 of [A-Za-z0-9_-]); branch up to 255 like git refs. */
#define OL_MAX_PROFILE_BYTES 64u
#define OL_MAX_BRANCH_BYTES 255u
#define OL_MAX_SECRETS_B64_BYTES 16384u  /* 12 KiB of ciphertext: a JSON object of API keys fits easily */
#define OL_MAX_SECRETS_PER_ACCOUNT 100u  /* bounds the per-owner index and list_user_secrets */
#define OL_MAX_ACCESS_DEPTH 8u           /* nested Logic/Not conditions */
#define OL_MAX_ACCESS_ITEMS 100u         /* Whitelist accounts, Logic conditions */
#define OL_MAX_PATTERN_BYTES 256u
#define OL_MAX_ACCESS_JSON_BYTES 8192u

/* upgrade: NEAR's max_contract_size. */
#define OL_MAX_CODE_BYTES 4194304u

/* NEAR storage price: 1e19 yoctoNEAR per byte (storage_amount_per_byte). */
#define OL_STORAGE_PRICE_PER_BYTE 10000000000000000000ull

/* Default pricing (yoctoNEAR), as the original after 2025-10-28 (reference §1.5). */
#define OL_DEFAULT_BASE_FEE "1000000000000000000000"          /* 0.001 NEAR */
#define OL_DEFAULT_PER_MILLION_INSTRUCTIONS "100000000000000" /* 1e14 */
#define OL_DEFAULT_PER_MS "100000000000000000"                /* 1e17 */
#define OL_DEFAULT_PER_COMPILE_MS "100000000000000000"        /* 1e17 */

/* State layout version written by this code; migrate converts older ones. */
#define OL_STATE_VERSION 1u

#endif
