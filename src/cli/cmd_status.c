/* `outlayer status REQUEST_ID --contract ID`: get_request; a request that is no longer there was
 * settled (answered, timed out or cancelled: its execution_completed event has the outcome). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static void status_usage(FILE *f)
{
    fprintf(f, "usage: outlayer status REQUEST_ID --contract ID [--rpc URL]\n"
               "Prints {request_id, status:\"pending\", request:{...}} while the request waits for its answer,\n"
               "{request_id, status:\"settled\"} once it is answered, timed out or cancelled; exit 1 when the id\n"
               "was never issued.\n");
}

/* view method with args; the parsed JSON (new reference) or NULL after printing the error. */
static json_t *view(near_rpc *rpc, const char *contract, const char *method, const char *args, int *code)
{
    uint8_t *out = NULL;
    size_t n = 0;
    near_rpc_error d = {0};
    ol_err err = {0};
    int rc = near_rpc_call_function(rpc, contract, method, (const uint8_t *)args, strlen(args), NEAR_FINAL, &out, &n,
                                    NULL, &d, &err);
    json_t *j = rc ? NULL : json_loadb((const char *)out, n, JSON_DECODE_ANY, NULL);
    free(out);
    if (rc) *code = cli_near_fail("status", rc, &d, &err);
    else if (!j) {
        fprintf(stderr, "outlayer status: %s returned no JSON\n", method);
        *code = CLI_EXIT_NEAR;
    }
    return j;
}

int cli_cmd_status(int argc, char **argv)
{
    const char *cmd = "status";
    cli_near_opts o = {0};
    const char *id_s = NULL, *contract = NULL;
    int r;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            status_usage(stdout);
            return 0;
        }
        if ((r = cli_near_opt(&o, argc, argv, &i, cmd)) < 0) return CLI_EXIT_USAGE;
        if (r) continue;
        if ((r = cli_opt(argc, argv, &i, "--contract", &contract))) {
            if (r < 0) {
                fprintf(stderr, "outlayer %s: --contract needs a value\n", cmd);
                return CLI_EXIT_USAGE;
            }
            continue;
        }
        if ((a[0] == '-' && a[1] == '-') || id_s) {
            fprintf(stderr, "outlayer %s: unexpected argument '%.64s' (see outlayer status --help)\n", cmd, a);
            return CLI_EXIT_USAGE;
        }
        id_s = a;
    }
    uint64_t id;
    if (!id_s) {
        status_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (cli_parse_u64(cmd, "REQUEST_ID", id_s, 0, (uint64_t)INT64_MAX, &id) ||
        cli_check_account(cmd, "--contract", contract) || cli_near_finish(&o, cmd))
        return CLI_EXIT_USAGE;
    near_rpc *rpc = cli_near_rpc(&o, cmd);
    if (!rpc) return CLI_EXIT_SOFTWARE;
    int code = 0;
    char args[64];
    snprintf(args, sizeof args, "{\"request_id\":%llu}", (unsigned long long)id);
    json_t *req = view(rpc, contract, "get_request", args, &code), *out = NULL;
    if (req && !json_is_null(req)) {
        out = json_pack("{s:I,s:s,s:O}", "request_id", (json_int_t)id, "status", "pending", "request", req);
    } else if (req) {
        json_t *stats = view(rpc, contract, "get_stats", "{}", &code);
        json_t *next = json_object_get(stats, "next_request_id");
        if (stats && json_is_integer(next) && (uint64_t)json_integer_value(next) <= id) {
            fprintf(stderr, "outlayer %s: request %llu does not exist on %s (the next id is %lld)\n", cmd,
                    (unsigned long long)id, contract, (long long)json_integer_value(next));
            code = CLI_EXIT_NEAR;
        } else if (stats) {
            out = json_pack("{s:I,s:s}", "request_id", (json_int_t)id, "status", "settled");
        }
        json_decref(stats);
    }
    if (out) cli_print_json(out);
    json_decref(out);
    json_decref(req);
    near_rpc_free(rpc);
    return code;
}
