/* `outlayer view ACCOUNT METHOD [JSON]`: query call_function at the final block; prints the returned
 * value as one line of JSON (a string when it is not JSON, {"base64":...} when not UTF-8) and the
 * contract's logs on stderr. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static void view_usage(FILE *f)
{
    fprintf(f, "usage: outlayer view ACCOUNT METHOD [JSON] [--finality final|optimistic] [--rpc URL]\n"
               "Calls a view method (arguments default {}) and prints what it returns as JSON.\n"
               "  --rpc URL   default $NEAR_RPC_URL, else %s\n",
            CLI_DEFAULT_RPC_URL);
}

int cli_cmd_view(int argc, char **argv)
{
    const char *cmd = "view";
    cli_near_opts o = {0};
    const char *pos[3] = {0}, *fin = "final";
    int npos = 0, r;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            view_usage(stdout);
            return 0;
        }
        if ((r = cli_near_opt(&o, argc, argv, &i, cmd)) < 0) return CLI_EXIT_USAGE;
        if (r) continue;
        if ((r = cli_opt(argc, argv, &i, "--finality", &fin))) {
            if (r < 0 || (strcmp(fin, "final") && strcmp(fin, "optimistic"))) {
                fprintf(stderr, "outlayer %s: --finality must be final or optimistic\n", cmd);
                return CLI_EXIT_USAGE;
            }
            continue;
        }
        if (a[0] == '-' && a[1] == '-') {
            fprintf(stderr, "outlayer %s: unknown option '%.64s' (see outlayer view --help)\n", cmd, a);
            return CLI_EXIT_USAGE;
        }
        if (npos == 3) {
            fprintf(stderr, "outlayer %s: too many arguments (see outlayer view --help)\n", cmd);
            return CLI_EXIT_USAGE;
        }
        pos[npos++] = a;
    }
    if (npos < 2) {
        view_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *args = pos[2] ? pos[2] : "{}";
    if (cli_check_account(cmd, "contract account", pos[0]) || cli_check_json(cmd, args) || cli_near_finish(&o, cmd))
        return CLI_EXIT_USAGE;
    near_rpc *rpc = cli_near_rpc(&o, cmd);
    if (!rpc) return CLI_EXIT_SOFTWARE;
    uint8_t *out = NULL;
    size_t n = 0;
    json_t *logs = NULL;
    near_rpc_error d = {0};
    ol_err err = {0};
    near_block_ref ref = {.finality = fin};
    int rc = near_rpc_call_function(rpc, pos[0], pos[1], (const uint8_t *)args, strlen(args), ref, &out, &n, &logs, &d,
                                    &err);
    int code = 0;
    size_t i;
    json_t *l;
    json_array_foreach(logs, i, l) if (json_is_string(l)) fprintf(stderr, "log: %s\n", json_string_value(l));
    if (rc) code = cli_near_fail(cmd, rc, &d, &err);
    else {
        json_t *v = cli_value_json(out, n);
        cli_print_json(v);
        json_decref(v);
    }
    free(out);
    json_decref(logs);
    near_rpc_free(rpc);
    return code;
}
