/* coinflip: an example caller of OutLayer. A player stakes NEAR on Heads or Tails; the contract asks
 * OutLayer to run the `random` guest, and its callback pays double on a win, keeps the stake on a loss and
 * returns the stake when OutLayer answers null (failure or timeout). The deployer funds it as the bank. */
#ifndef OUTLAYER_CONTRACTS_COINFLIP_H
#define OUTLAYER_CONTRACTS_COINFLIP_H

void cf_new(void);            /* "new" {outlayer_id, source, owner_id?} */
void cf_flip_coin(void);      /* "flip_coin" {choice: "Heads"|"Tails"} payable (the stake) */
void cf_on_flip_result(void); /* "on_flip_result" private callback of request_execution */
void cf_get_stats(void);      /* view */
void cf_get_config(void);     /* view */

/* Limits and constants, each with its reason. */
#define CF_TGAS 1000000000000ull
/* Deposit forwarded to OutLayer per flip: covers the estimate for CF_MAX_INSTRUCTIONS and
 * CF_MAX_SECONDS at default pricing (0.0015 NEAR) plus the request's storage (~0.007 NEAR), with room.
 * The unused part comes back to this contract (the payer). */
#define CF_FEE_DEPOSIT "20000000000000000000000" /* 0.02 NEAR */
/* Smallest stake: the stake covers the fee deposit. */
#define CF_MIN_STAKE CF_FEE_DEPOSIT
/* Largest stake: bounds the bank's exposure per game. */
#define CF_MAX_STAKE "10000000000000000000000000" /* 10 NEAR */
/* Kept free for the contract's own storage (state, ~200 bytes at 1e19 per byte, with room). */
#define CF_STORAGE_RESERVE "50000000000000000000000" /* 0.05 NEAR */
#define CF_MAX_INSTRUCTIONS 100000000ull /* the random guest needs far less */
#define CF_MAX_SECONDS 5ull
#define CF_REQUEST_GAS (100ull * CF_TGAS) /* OutLayer needs 65 Tgas; the rest is margin */
#define CF_CALLBACK_GAS (30ull * CF_TGAS)
#define CF_OWN_GAS (20ull * CF_TGAS)
#define CF_MAX_SOURCE_BYTES 2048u

#endif
