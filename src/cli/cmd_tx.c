/* `outlayer tx HASH --sender ACCOUNT [--wait LEVEL] [--raw]`: EXPERIMENTAL_tx_status, printed as the
 * summary `outlayer call` prints (or the node's whole result with --raw). */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static void tx_usage(FILE *f)
{
    fprintf(f, "usage: outlayer tx HASH --sender ACCOUNT [--wait LEVEL] [--raw] [--rpc URL]\n"
               "Prints {transaction_hash, status: success|failure|pending, value, logs, gas_burnt[, error]}.\n"
               "  --wait LEVEL  how far the node waits first (default INCLUDED: answers at once once included)\n"
               "  --raw         the node's whole EXPERIMENTAL_tx_status result\n");
}

int cli_cmd_tx(int argc, char **argv)
{
    const char *cmd = "tx";
    cli_near_opts o = {0};
    const char *hash = NULL, *sender = NULL, *wait = "INCLUDED";
    int raw = 0, wait_given = 0, r;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            tx_usage(stdout);
            return 0;
        }
        if ((r = cli_near_opt(&o, argc, argv, &i, cmd)) < 0) return CLI_EXIT_USAGE;
        if (r) continue;
        if ((r = cli_opt(argc, argv, &i, "--sender", &sender)) ||
            (r = wait_given = cli_opt(argc, argv, &i, "--wait", &wait))) {
            if (r < 0) {
                fprintf(stderr, "outlayer %s: %s needs a value\n", cmd, a);
                return CLI_EXIT_USAGE;
            }
            continue;
        }
        if (!strcmp(a, "--raw")) {
            raw = 1;
            continue;
        }
        if ((a[0] == '-' && a[1] == '-') || hash) {
            fprintf(stderr, "outlayer %s: unexpected argument '%.64s' (see outlayer tx --help)\n", cmd, a);
            return CLI_EXIT_USAGE;
        }
        hash = a;
    }
    if (!hash) {
        tx_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    uint8_t h[32];
    ol_err err = {0};
    if (ol_base58_decode_exact(hash, strlen(hash), h, 32, &err)) {
        fprintf(stderr, "outlayer %s: '%.64s' is not a transaction hash (base58 of 32 bytes): %s\n", cmd, hash, err.msg);
        return CLI_EXIT_USAGE;
    }
    if (cli_check_account(cmd, "--sender", sender) || cli_check_wait(cmd, wait) || cli_near_finish(&o, cmd))
        return CLI_EXIT_USAGE;
    near_rpc *rpc = cli_near_rpc(&o, cmd);
    if (!rpc) return CLI_EXIT_SOFTWARE;
    json_t *result = NULL;
    near_rpc_error d = {0};
    /* without --wait, a NONE probe first: an unknown hash is reported at once instead of after the node's
     * wait timeout (10 s, retried as transient) */
    int code = 0, rc = wait_given ? 0 : near_rpc_tx_status(rpc, hash, sender, "NONE", true, &result, &d, &err);
    json_decref(result);
    result = NULL;
    if (!rc) rc = near_rpc_tx_status(rpc, hash, sender, wait, true, &result, &d, &err);
    if (rc) code = cli_near_fail(cmd, rc, &d, &err);
    else if (raw) {
        cli_print_json(result);
        near_outcome_kind kind;
        if ((rc = near_rpc_outcome(result, &kind, NULL, NULL, &d, &err))) code = cli_near_fail(cmd, rc, &d, &err);
    }
    else {
        json_t *sum = NULL;
        rc = cli_tx_summary(result, &sum, &d, &err);
        if (sum && !json_is_string(json_object_get(sum, "transaction_hash")))
            json_object_set_new(sum, "transaction_hash", json_string(hash));
        if (sum) cli_print_json(sum);
        json_decref(sum);
        if (rc) code = cli_near_fail(cmd, rc, &d, &err);
    }
    json_decref(result);
    near_rpc_free(rpc);
    return code;
}
