/* cli: the `outlayer` command. main.c holds the subcommand table; each subcommand is a function
 * cli_cmd_<name>(argc, argv) that gets argv from its own name on and returns the process exit code. */
#ifndef OUTLAYER_CLI_H
#define OUTLAYER_CLI_H

#define OUTLAYER_VERSION "0.1.0"

/* Exit codes of `outlayer run` other than the guest's own (documented in --help and docs/wasi.md).
 * They sit above the range programs commonly use and below the shell's 126..165; a guest may still
 * exit with any of them itself: --stats-json is authoritative. */
#define CLI_EXIT_USAGE 64          /* bad command line (sysexits EX_USAGE) */
#define CLI_EXIT_NOINPUT 66        /* the module file or stdin cannot be read (EX_NOINPUT) */
#define CLI_EXIT_SOFTWARE 70       /* internal error, e.g. out of memory (EX_SOFTWARE) */
#define CLI_EXIT_CANTCREAT 73      /* the --stats-json file cannot be written (EX_CANTCREAT) */
#define CLI_EXIT_INVALID_MODULE 120
#define CLI_EXIT_TRAP 121
#define CLI_EXIT_OUT_OF_FUEL 122
#define CLI_EXIT_TIMEOUT 123
#define CLI_EXIT_MEMORY_LIMIT 124
#define CLI_EXIT_OUTPUT_LIMIT 125

/* 64 MiB of stdin for `outlayer run`: the contract caps input at 64 KiB; this leaves room for local
 * experiments while bounding the host memory one run can take. */
#define CLI_MAX_STDIN_BYTES (64u << 20)

int cli_cmd_run(int argc, char **argv);
/* NEAR commands (docs/cli.md): cmd_keys.c, cmd_view.c, cmd_call.c, cmd_tx.c, cmd_request.c, cmd_status.c */
int cli_cmd_keys(int argc, char **argv);
int cli_cmd_view(int argc, char **argv);
int cli_cmd_call(int argc, char **argv);
int cli_cmd_tx(int argc, char **argv);
int cli_cmd_request(int argc, char **argv);
int cli_cmd_status(int argc, char **argv);

/* Exit codes of the NEAR commands besides CLI_EXIT_USAGE/NOINPUT/SOFTWARE/CANTCREAT (docs/cli.md). */
#define CLI_EXIT_NEAR 1         /* NEAR refused: contract panic, failed or invalid transaction, unknown account */
#define CLI_EXIT_FAILED 2       /* outlayer request --wait: the execution failed or timed out (fee/refund printed) */
#define CLI_EXIT_UNAVAILABLE 69 /* the RPC node cannot be reached or answers with server errors (EX_UNAVAILABLE) */
#define CLI_EXIT_TEMPFAIL 75    /* --timeout passed before the transaction or request finished (EX_TEMPFAIL) */

#define CLI_DEFAULT_RPC_URL "http://127.0.0.1:3030" /* outlayer sandbox's default port */
#define CLI_DEFAULT_NETWORK "sandbox"
#define CLI_DEFAULT_WAIT "EXECUTED_OPTIMISTIC" /* nearcore's own default for send_tx */
#define CLI_TGAS 1000000000000ull
#define CLI_DEFAULT_CALL_TGAS 30     /* near-cli's default */
#define CLI_DEFAULT_REQUEST_TGAS 100 /* request_execution needs 65 Tgas left after its own use */
#define CLI_MAX_GAS_TGAS 1000        /* NEAR's max_total_prepaid_gas (1 Pgas) */
/* 64 KiB: the contract's max_input_bytes; a bigger --input @FILE is refused before sending. */
#define CLI_MAX_REQUEST_INPUT (64u * 1024u)
/* 3600 s: the longest --timeout; a request's yield window is 200 blocks (minutes on any network). */
#define CLI_MAX_TIMEOUT_S 3600
#define CLI_DEFAULT_TIMEOUT_S 300
#define CLI_POLL_MS 200 /* between EXPERIMENTAL_tx_status polls: under half a 500 ms block */

#include <stdint.h>
#include <stdio.h>

#include "near/near.h"

/* Options shared by the NEAR commands: --rpc URL, --credentials DIR, --network NAME. */
/* Keys are read from DIR/NETWORK/ACCOUNT.json (near-cli's layout, plus the key files in
 * DIR/NETWORK/ACCOUNT/ as near-cli-rs keeps them),
 * else from DIR/ACCOUNT.json (the sandbox's HOME/credentials/test.near.json); written to the first. */
typedef struct cli_near_opts {
    const char *rpc_url, *credentials, *network; /* borrowed from argv or the environment */
    char cred_dir[1024];                         /* DIR: --credentials, else ~/.near-credentials */
    char net_dir[1024 + 66];                     /* DIR/NETWORK */
} cli_near_opts;
/* `--name VALUE` or `--name=VALUE` at argv[*i]: 1 and *val (advancing *i), 0 when not it, -1 when the
 * value is missing. */
int cli_opt(int argc, char **argv, int *i, const char *name, const char **val);
/* 1 when argv[*i] was a shared option, 0 when not, -1 (printed) on error. */
int cli_near_opt(cli_near_opts *o, int argc, char **argv, int *i, const char *cmd);
/* Applies the defaults ($NEAR_RPC_URL, $NEAR_NETWORK, ~/.near-credentials); -1 printed. */
int cli_near_finish(cli_near_opts *o, const char *cmd);
near_rpc *cli_near_rpc(const cli_near_opts *o, const char *cmd); /* NULL printed; free with near_rpc_free */
/* Signer of account (every key file found for it, in rotation); NULL printed with *exit_code set.
 * Free with near_signer_free. */
near_signer *cli_near_signer(const cli_near_opts *o, const char *account, const char *cmd, int *exit_code);
/* Checks that print "outlayer CMD: ..." and return -1 on bad input. */
int cli_check_account(const char *cmd, const char *what, const char *id);
int cli_check_json(const char *cmd, const char *text);
int cli_check_wait(const char *cmd, const char *wait);
int cli_parse_deposit(const char *cmd, const char *text, near_u128 *out);
int cli_parse_u64(const char *cmd, const char *opt, const char *text, uint64_t min, uint64_t max, uint64_t *out);
/* Prints a NEAR/RPC error and returns its exit code. */
int cli_near_fail(const char *cmd, int rc, const near_rpc_error *d, const ol_err *err);
/* Returned bytes as JSON: the value when they parse, else a string, else {"base64":...}; new reference. */
json_t *cli_value_json(const uint8_t *v, size_t n);
void cli_print_json(json_t *j); /* compact, one line, on stdout */
/* {transaction_hash, status: success|failure|pending, value, logs (all receipts), gas_burnt[, error]}
 * of a FinalExecutionOutcome (new reference in *summary); returns near_rpc_outcome's code. */
int cli_tx_summary(json_t *result, json_t **summary, near_rpc_error *detail, ol_err *err);
/* cmd_dev.c: the whole stack on one machine */
int cli_cmd_dev(int argc, char **argv);
/* cmd_services.c: the services, argv[0] = the command name */
int cli_cmd_coordinator(int argc, char **argv);
int cli_cmd_sandbox(int argc, char **argv);
int cli_cmd_worker(int argc, char **argv);

#endif
