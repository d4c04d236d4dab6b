/* `outlayer request`: request_execution on the OutLayer contract (DESIGN.md §5.1), sent with wait_until
 * INCLUDED (the transaction's receipts wait on a yield, so waiting for execution would time out), then
 * EXPERIMENTAL_tx_status polled until the request id is known (execution_requested) and, with --wait,
 * until the transaction is final; the output is what OutLayer's callback returned and the fee and the
 * refund come from the execution_completed event. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"

static void request_usage(FILE *f)
{
    fprintf(f,
            "usage: outlayer request --contract ID --as ACCOUNT\n"
            "         (--repo URL --commit SHA [--build-target T] | --wasm-url URL --wasm-hash HEX)\n"
            "         [--input TEXT|@FILE] [--format text|json|bytes] [--deposit AMOUNT] [--gas TGAS]\n"
            "         [--max-instructions N] [--max-memory-mb N] [--max-seconds N]\n"
            "         [--wait] [--timeout SECONDS] [--rpc URL] [--credentials DIR] [--network NAME]\n"
            "Sends request_execution; prints {request_id, transaction_hash}. With --wait, waits for the answer\n"
            "and prints {request_id, transaction_hash, success, output, error, fee, refund, payment,\n"
            "resources_used} (amounts in yoctoNEAR). --deposit defaults to the contract's\n"
            "estimate_execution_cost plus a storage allowance; what is not charged is refunded.\n"
            "Exit: 0 done (or sent), 1 NEAR refused, 2 the execution failed or timed out, 75 --timeout\n"
            "(default %d s) passed; see docs/cli.md.\n",
            CLI_DEFAULT_TIMEOUT_S);
}

/* Reads --input @FILE (at most CLI_MAX_REQUEST_INPUT bytes) into a malloc'd NUL-terminated string. */
static char *read_input(const char *path, const char *cmd, int *code)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "outlayer %s: --input @%s: %s\n", cmd, path, strerror(errno));
        *code = CLI_EXIT_NOINPUT;
        return NULL;
    }
    char *buf = malloc(CLI_MAX_REQUEST_INPUT + 2);
    size_t n = buf ? fread(buf, 1, CLI_MAX_REQUEST_INPUT + 1, f) : 0;
    int bad = !buf || ferror(f);
    fclose(f);
    if (bad) {
        fprintf(stderr, "outlayer %s: --input @%s: read error\n", cmd, path);
        free(buf);
        *code = CLI_EXIT_NOINPUT;
        return NULL;
    }
    if (n > CLI_MAX_REQUEST_INPUT) {
        fprintf(stderr, "outlayer %s: --input @%s is over CLI_MAX_REQUEST_INPUT (%u bytes, the contract's limit)\n",
                cmd, path, CLI_MAX_REQUEST_INPUT);
        free(buf);
        *code = CLI_EXIT_USAGE;
        return NULL;
    }
    buf[n] = 0;
    if (memchr(buf, 0, n)) {
        fprintf(stderr, "outlayer %s: --input @%s contains a NUL byte (input_data is a string)\n", cmd, path);
        free(buf);
        *code = CLI_EXIT_USAGE;
        return NULL;
    }
    return buf;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The first NEP-297 event `name` of standard near-outlayer in the logs of result (for request_id when
 * id >= 0): its data[0] object (borrowed from ev, which the caller decrefs), or NULL. */
static json_t *find_event(json_t *result, const char *name, long long id, json_t **ev)
{
    size_t i, k;
    json_t *o, *l;
    json_array_foreach(json_object_get(result, "receipts_outcome"), i, o)
    {
        json_array_foreach(json_object_get(json_object_get(o, "outcome"), "logs"), k, l)
        {
            const char *s = json_string_value(l);
            if (!s || strncmp(s, "EVENT_JSON:", 11) != 0) continue;
            json_t *e = json_loads(s + 11, 0, NULL);
            const char *std = json_string_value(json_object_get(e, "standard"));
            const char *evn = json_string_value(json_object_get(e, "event"));
            json_t *d = json_array_get(json_object_get(e, "data"), 0);
            json_t *rid = json_object_get(d, "request_id");
            if (std && evn && !strcmp(std, "near-outlayer") && !strcmp(evn, name) && json_is_integer(rid) &&
                (id < 0 || json_integer_value(rid) == id)) {
                *ev = e;
                return d;
            }
            json_decref(e);
        }
    }
    return NULL;
}

static int set_limit(json_t *limits, const char *key, const char *opt, const char *val, uint64_t max, const char *cmd)
{
    uint64_t v;
    if (!val) return 0;
    if (cli_parse_u64(cmd, opt, val, 1, max, &v)) return -1;
    json_object_set_new(limits, key, json_integer((json_int_t)v));
    return 0;
}

int cli_cmd_request(int argc, char **argv)
{
    const char *cmd = "request";
    cli_near_opts o = {0};
    const char *contract = NULL, *as = NULL, *repo = NULL, *commit = NULL, *target = NULL, *url = NULL, *hash = NULL,
               *input = NULL, *dep = NULL, *gas_s = NULL, *max_i = NULL, *max_m = NULL, *max_s = NULL,
               *format = "text", *timeout_s = NULL;
    int wait = 0, r;
    struct {
        const char *name;
        const char **dst;
    } opts[] = {{"--contract", &contract}, {"--as", &as},          {"--repo", &repo},
                {"--commit", &commit},     {"--build-target", &target}, {"--wasm-url", &url},
                {"--wasm-hash", &hash},    {"--input", &input},    {"--deposit", &dep},
                {"--gas", &gas_s},         {"--max-instructions", &max_i}, {"--max-memory-mb", &max_m},
                {"--max-seconds", &max_s}, {"--format", &format},  {"--timeout", &timeout_s}};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            request_usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--wait")) {
            wait = 1;
            continue;
        }
        if ((r = cli_near_opt(&o, argc, argv, &i, cmd)) < 0) return CLI_EXIT_USAGE;
        if (r) continue;
        size_t k;
        for (k = 0; k < sizeof opts / sizeof opts[0]; k++)
            if ((r = cli_opt(argc, argv, &i, opts[k].name, opts[k].dst))) break;
        if (r < 0) {
            fprintf(stderr, "outlayer %s: %s needs a value\n", cmd, a);
            return CLI_EXIT_USAGE;
        }
        if (k == sizeof opts / sizeof opts[0]) {
            fprintf(stderr, "outlayer %s: unexpected argument '%.64s' (see outlayer request --help)\n", cmd, a);
            return CLI_EXIT_USAGE;
        }
    }
    if (cli_check_account(cmd, "--contract", contract) || cli_check_account(cmd, "--as account", as))
        return CLI_EXIT_USAGE;
    if ((repo || commit) && (url || hash)) {
        fprintf(stderr, "outlayer %s: give either --repo/--commit or --wasm-url/--wasm-hash, not both\n", cmd);
        return CLI_EXIT_USAGE;
    }
    if (!((repo && commit) || (url && hash))) {
        fprintf(stderr, "outlayer %s: the program's source is missing: --repo URL --commit SHA, or --wasm-url URL "
                        "--wasm-hash HEX\n",
                cmd);
        return CLI_EXIT_USAGE;
    }
    const char *fmt = NULL;
    if (!strcmp(format, "text")) fmt = "Text";
    else if (!strcmp(format, "json")) fmt = "Json";
    else if (!strcmp(format, "bytes")) fmt = "Bytes";
    else {
        fprintf(stderr, "outlayer %s: --format '%.32s' is not one of text, json, bytes\n", cmd, format);
        return CLI_EXIT_USAGE;
    }
    uint64_t tgas = CLI_DEFAULT_REQUEST_TGAS, timeout = CLI_DEFAULT_TIMEOUT_S;
    near_u128 deposit = 0;
    json_t *limits = json_object();
    if ((gas_s && cli_parse_u64(cmd, "--gas", gas_s, 1, CLI_MAX_GAS_TGAS, &tgas)) ||
        (timeout_s && cli_parse_u64(cmd, "--timeout", timeout_s, 1, CLI_MAX_TIMEOUT_S, &timeout)) ||
        (dep && cli_parse_deposit(cmd, dep, &deposit)) ||
        set_limit(limits, "max_instructions", "--max-instructions", max_i, UINT64_MAX >> 11, cmd) ||
        set_limit(limits, "max_memory_mb", "--max-memory-mb", max_m, UINT32_MAX, cmd) ||
        set_limit(limits, "max_execution_seconds", "--max-seconds", max_s, UINT32_MAX, cmd) ||
        cli_near_finish(&o, cmd)) {
        json_decref(limits);
        return CLI_EXIT_USAGE;
    }
    int code = 0;
    char *input_buf = NULL;
    if (input && input[0] == '@') {
        if (!(input_buf = read_input(input + 1, cmd, &code))) {
            json_decref(limits);
            return code;
        }
        input = input_buf;
    }
    json_t *src = repo ? json_pack("{s:{s:s,s:s}}", "GitHub", "repo", repo, "commit", commit)
                       : json_pack("{s:{s:s,s:s}}", "WasmUrl", "url", url, "hash", hash);
    if (target) json_object_set_new(json_object_get(src, repo ? "GitHub" : "WasmUrl"), "build_target", json_string(target));
    json_t *args = json_pack("{s:o,s:s}", "source", src, "response_format", fmt);
    if (json_object_size(limits)) json_object_set(args, "resource_limits", limits);
    if (input) json_object_set_new(args, "input_data", json_string(input));
    free(input_buf);
    char *args_s = json_dumps(args, JSON_COMPACT);
    json_decref(args);
    near_rpc *rpc = args_s ? cli_near_rpc(&o, cmd) : NULL;
    near_signer *s = rpc ? cli_near_signer(&o, as, cmd, &code) : NULL;
    ol_err err = {0};
    near_rpc_error d = {0};
    near_nonce_mgr *m = s ? near_nonce_mgr_new(rpc, &err) : NULL;
    json_t *result = NULL, *ev = NULL, *out = NULL;
    if (!m) {
        if (s) fprintf(stderr, "outlayer %s: %s\n", cmd, err.msg);
        if (!code) code = CLI_EXIT_SOFTWARE;
        goto done;
    }
    if (!dep) {
        /* the contract's estimate for these limits, plus storage for the request record: the record holds
         * the arguments (twice, with the pending index and defaults: 2x + 1 KiB) at 1e19 yocto per byte */
        char *est_args = NULL;
        json_t *ea = json_object();
        if (json_object_size(limits)) json_object_set(ea, "resource_limits", limits);
        est_args = json_dumps(ea, JSON_COMPACT);
        json_decref(ea);
        uint8_t *ev_out = NULL;
        size_t ev_n = 0;
        int rc = est_args ? near_rpc_call_function(rpc, contract, "estimate_execution_cost", (const uint8_t *)est_args,
                                                   strlen(est_args), NEAR_FINAL, &ev_out, &ev_n, NULL, &d, &err)
                          : ol_err_set(&err, NEAR_ENOMEM, "out of memory");
        free(est_args);
        json_t *ej = rc ? NULL : json_loadb((const char *)ev_out, ev_n, JSON_DECODE_ANY, NULL);
        free(ev_out);
        near_u128 est = 0;
        const char *es = json_string_value(ej);
        if (!rc && (!es || near_u128_parse(es, strlen(es), &est, &err)))
            rc = ol_err_set(&err, NEAR_ERPC_CONTRACT, "estimate_execution_cost returned no yoctoNEAR string");
        json_decref(ej);
        if (rc) {
            fprintf(stderr, "outlayer %s: cannot price the request (pass --deposit):\n", cmd);
            code = cli_near_fail(cmd, rc, &d, &err);
            goto done;
        }
        deposit = est + (near_u128)(2 * strlen(args_s) + 1024) * (near_u128)10000000000000000000ull;
        char a[NEAR_AMOUNT_STR];
        near_amount_format(deposit, a);
        fprintf(stderr, "outlayer %s: attaching %s (estimate plus storage; the rest is refunded)\n", cmd, a);
    }
    near_send_info info = {0};
    int rc = near_send_call(m, s, contract, "request_execution", (const uint8_t *)args_s, strlen(args_s),
                            tgas * CLI_TGAS, deposit, "INCLUDED", &result, &info, &d, &err);
    if (rc) {
        code = cli_near_fail(cmd, rc, &d, &err);
        goto done;
    }
    uint64_t deadline = now_ms() + timeout * 1000u;
    long long id = -1;
    for (;;) {
        near_outcome_kind kind = NEAR_OUTCOME_PENDING;
        uint8_t *val = NULL;
        size_t val_n = 0;
        rc = near_rpc_outcome(result, &kind, &val, &val_n, &d, &err);
        if (rc) { /* the request was refused (panic) or the callback failed */
            free(val);
            code = cli_near_fail(cmd, rc, &d, &err);
            fprintf(stderr, "outlayer %s: transaction %s\n", cmd, info.hash);
            goto done;
        }
        if (id < 0) {
            json_t *req = find_event(result, "execution_requested", -1, &ev);
            if (req) {
                id = json_integer_value(json_object_get(req, "request_id"));
                json_decref(ev);
                ev = NULL;
                if (!wait) {
                    free(val);
                    out = json_pack("{s:I,s:s}", "request_id", (json_int_t)id, "transaction_hash", info.hash);
                    break;
                }
                fprintf(stderr, "outlayer %s: request %lld in transaction %s; waiting for its answer\n", cmd, id,
                        info.hash);
            }
        }
        if (kind != NEAR_OUTCOME_PENDING) {
            json_t *c = id >= 0 ? find_event(result, "execution_completed", id, &ev) : NULL;
            if (!c) {
                free(val);
                fprintf(stderr, "outlayer %s: transaction %s finished without an execution_completed event\n", cmd,
                        info.hash);
                code = CLI_EXIT_NEAR;
                goto done;
            }
            json_t *succ = json_object_get(c, "success");
            out = json_pack("{s:I,s:s,s:O?,s:o,s:O?,s:O?,s:O?,s:O?,s:O?}", "request_id", (json_int_t)id,
                            "transaction_hash", info.hash, "success", succ, "output", cli_value_json(val, val_n),
                            "error", json_object_get(c, "error_message"), "fee", json_object_get(c, "payment_charged"),
                            "refund", json_object_get(c, "payment_refunded"), "payment",
                            json_object_get(c, "payment"),
                            "resources_used", json_object_get(c, "resources_used"));
            free(val);
            if (!json_is_true(succ)) code = CLI_EXIT_FAILED;
            break;
        }
        free(val);
        if (now_ms() >= deadline) {
            fprintf(stderr, "outlayer %s: --timeout %llu s passed; transaction %s%s is not finished (outlayer tx %s "
                            "--sender %s)\n",
                    cmd, (unsigned long long)timeout, info.hash, id >= 0 ? "" : " (request id not yet known)",
                    info.hash, as);
            if (id >= 0) fprintf(stderr, "outlayer %s: request %lld\n", cmd, id);
            code = CLI_EXIT_TEMPFAIL;
            goto done;
        }
        usleep(CLI_POLL_MS * 1000);
        json_decref(result);
        result = NULL;
        rc = near_rpc_tx_status(rpc, info.hash, as, "INCLUDED", true, &result, &d, &err);
        if (rc) {
            code = cli_near_fail(cmd, rc, &d, &err);
            fprintf(stderr, "outlayer %s: transaction %s\n", cmd, info.hash);
            goto done;
        }
    }
    if (out) {
        /* the payment is in execution_requested; add it when the completed event does not carry one */
        if (wait && !json_is_string(json_object_get(out, "payment"))) {
            char p[NEAR_U128_STR];
            near_u128_format(deposit, p);
            json_object_set_new(out, "payment", json_string(p));
        }
        cli_print_json(out);
    }
done:
    json_decref(out);
    json_decref(ev);
    json_decref(result);
    json_decref(limits);
    free(args_s);
    near_nonce_mgr_free(m);
    near_signer_free(s);
    near_rpc_free(rpc);
    return code;
}
