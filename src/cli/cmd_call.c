/* `outlayer call ACCOUNT METHOD [JSON] --as ACCOUNT [--deposit AMOUNT] [--gas TGAS] [--wait LEVEL]`, and
 * the helpers every NEAR command shares (declared in cli.h): common options (--rpc, --credentials,
 * --network), argument checks, error reporting with the exit codes of docs/cli.md, and the summary of a
 * transaction's outcome that `call`, `tx` and `request` print. */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

/* ---- options --------------------------------------------------------------------------------------- */
int cli_opt(int argc, char **argv, int *i, const char *name, const char **val)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0) return 0;
    if (a[n] == '=') {
        *val = a + n + 1;
        return 1;
    }
    if (a[n] != 0) return 0;
    if (*i + 1 >= argc) return -1;
    *val = argv[++*i];
    return 1;
}

int cli_near_opt(cli_near_opts *o, int argc, char **argv, int *i, const char *cmd)
{
    static const char *const names[] = {"--rpc", "--credentials", "--network"};
    const char **dst[] = {&o->rpc_url, &o->credentials, &o->network};
    for (size_t k = 0; k < 3; k++) {
        int r = cli_opt(argc, argv, i, names[k], dst[k]);
        if (r < 0) {
            fprintf(stderr, "outlayer %s: %s needs a value\n", cmd, names[k]);
            return -1;
        }
        if (r) return 1;
    }
    return 0;
}

int cli_near_finish(cli_near_opts *o, const char *cmd)
{
    if (!o->rpc_url || !*o->rpc_url) o->rpc_url = getenv("NEAR_RPC_URL");
    if (!o->rpc_url || !*o->rpc_url) o->rpc_url = CLI_DEFAULT_RPC_URL;
    if (!o->network || !*o->network) o->network = getenv("NEAR_NETWORK");
    if (!o->network || !*o->network) o->network = CLI_DEFAULT_NETWORK;
    if (strchr(o->network, '/') || !strcmp(o->network, ".") || !strcmp(o->network, "..")) {
        fprintf(stderr, "outlayer %s: --network '%.64s' is not a plain name\n", cmd, o->network);
        return -1;
    }
    if (o->credentials && *o->credentials) {
        if (!ol_strlcpy(o->cred_dir, o->credentials, sizeof o->cred_dir)) goto toolong;
    } else {
        const char *home = getenv("HOME");
        if (!home || !*home) {
            fprintf(stderr, "outlayer %s: HOME is not set; pass --credentials DIR\n", cmd);
            return -1;
        }
        int n = snprintf(o->cred_dir, sizeof o->cred_dir, "%s/.near-credentials", home);
        if (n < 0 || (size_t)n >= sizeof o->cred_dir) goto toolong;
    }
    /* no trailing slashes: the directory may be split into parent and name (cli_near_signer) */
    for (size_t l = strlen(o->cred_dir); l > 1 && o->cred_dir[l - 1] == '/'; l--) o->cred_dir[l - 1] = 0;
    if (strlen(o->network) > 64) {
        fprintf(stderr, "outlayer %s: --network is longer than 64 bytes\n", cmd);
        return -1;
    }
    snprintf(o->net_dir, sizeof o->net_dir, "%s/%s", o->cred_dir, o->network);
    return 0;
toolong:
    fprintf(stderr, "outlayer %s: credentials directory path longer than %zu bytes\n", cmd, sizeof o->cred_dir - 1);
    return -1;
}

near_rpc *cli_near_rpc(const cli_near_opts *o, const char *cmd)
{
    ol_err err = {0};
    near_rpc_opts ro = {.url = o->rpc_url, .max_retries = 2, .backoff_ms = 100};
    near_rpc *rpc = near_rpc_new(&ro, &err);
    if (!rpc) fprintf(stderr, "outlayer %s: %s\n", cmd, err.msg);
    return rpc;
}

/* True when dir holds ACCOUNT.json or the near-cli-rs per-key directory ACCOUNT/. */
static int has_key(const char *dir, const char *account)
{
    char p[sizeof ((cli_near_opts *)0)->net_dir + NEAR_ACCOUNT_ID_MAX + 8];
    snprintf(p, sizeof p, "%s/%s.json", dir, account);
    if (access(p, F_OK) == 0) return 1;
    snprintf(p, sizeof p, "%s/%s", dir, account);
    return access(p, F_OK) == 0;
}

near_signer *cli_near_signer(const cli_near_opts *o, const char *account, const char *cmd, int *exit_code)
{
    ol_err err = {0};
    near_signer *s = NULL;
    if (has_key(o->net_dir, account)) {
        s = near_signer_from_credentials(o->cred_dir, o->network, account, &err); /* near-cli: DIR/NETWORK/ */
    } else if (has_key(o->cred_dir, account)) {
        /* the sandbox's layout (HOME/credentials/test.near.json): DIR itself, split into parent and name */
        char parent[sizeof o->cred_dir];
        ol_strlcpy(parent, o->cred_dir, sizeof parent);
        char *slash = strrchr(parent, '/');
        const char *dir = ".", *name = parent;
        if (slash) {
            *slash = 0;
            dir = slash == parent ? "/" : parent;
            name = slash + 1;
        }
        if (!*name || !strcmp(name, ".") || !strcmp(name, ".."))
            ol_err_set(&err, NEAR_EINVAL, "credentials directory '%s' must end in a directory name", o->cred_dir);
        else
            s = near_signer_from_credentials(dir, name, account, &err);
    } else {
        ol_err_set(&err, NEAR_EIO, "neither %s/%s.json nor %s/%s.json exists", o->net_dir, account, o->cred_dir,
                   account);
    }
    if (!s) {
        fprintf(stderr, "outlayer %s: no usable key for %s: %s\n", cmd, account, err.msg);
        *exit_code = CLI_EXIT_NOINPUT;
    }
    return s;
}

int cli_check_account(const char *cmd, const char *what, const char *id)
{
    ol_err err = {0};
    if (!id) {
        fprintf(stderr, "outlayer %s: missing %s\n", cmd, what);
        return -1;
    }
    if (near_account_id_check(id, strlen(id), &err)) {
        fprintf(stderr, "outlayer %s: %s '%.80s' is not a valid account id: %s\n", cmd, what, id, err.msg);
        return -1;
    }
    return 0;
}

int cli_check_json(const char *cmd, const char *text)
{
    json_error_t je;
    json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
    if (!v) {
        fprintf(stderr, "outlayer %s: arguments are not valid JSON: %s (line %d, column %d)\n", cmd, je.text, je.line,
                je.column);
        return -1;
    }
    json_decref(v);
    return 0;
}

int cli_parse_deposit(const char *cmd, const char *text, near_u128 *out)
{
    ol_err err = {0};
    if (near_amount_parse(text, out, &err)) {
        fprintf(stderr, "outlayer %s: --deposit '%.64s': %s\n", cmd, text, err.msg);
        return -1;
    }
    return 0;
}

int cli_parse_u64(const char *cmd, const char *opt, const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (!*text || *end || errno || text[0] == '-' || text[0] == '+' || text[0] == ' ' || v < min || v > max) {
        fprintf(stderr, "outlayer %s: %s '%.64s' must be a whole number from %llu to %llu\n", cmd, opt, text,
                (unsigned long long)min, (unsigned long long)max);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_near_fail(const char *cmd, int rc, const near_rpc_error *d, const ol_err *err)
{
    const char *msg = err->msg;
    /* the contract's panic text can be longer than ol_err's message: take the RPC detail's */
    if (d && d->message[0] && (rc == NEAR_ERPC_CONTRACT || rc == NEAR_ERPC_INVALID_TX)) msg = d->message;
    switch (rc) {
    case NEAR_ERPC_TRANSPORT:
    case NEAR_ERPC_TIMEOUT:
    case NEAR_ERPC_SERVER:
        fprintf(stderr, "outlayer %s: RPC node unavailable: %s\n", cmd, msg);
        return CLI_EXIT_UNAVAILABLE;
    case NEAR_EINVAL:
    case NEAR_ELIMIT:
        fprintf(stderr, "outlayer %s: %s\n", cmd, msg);
        return CLI_EXIT_USAGE;
    case NEAR_ENOMEM:
        fprintf(stderr, "outlayer %s: %s\n", cmd, msg);
        return CLI_EXIT_SOFTWARE;
    default:
        fprintf(stderr, "outlayer %s: %s\n", cmd, msg);
        return CLI_EXIT_NEAR;
    }
}

json_t *cli_value_json(const uint8_t *v, size_t n)
{
    if (!v || n == 0) return json_null();
    json_t *j = json_loadb((const char *)v, n, JSON_DECODE_ANY, NULL);
    if (j) return j;
    j = json_stringn((const char *)v, n); /* NULL when not UTF-8 */
    if (j) return j;
    size_t cap = ol_base64_encoded_len(n) + 1;
    char *b = malloc(cap);
    if (!b) return json_null();
    ol_err err = {0};
    if (ol_base64_encode(v, n, b, cap, &err)) {
        free(b);
        return json_null();
    }
    j = json_pack("{s:s}", "base64", b);
    free(b);
    return j;
}

void cli_print_json(json_t *j)
{
    char *s = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
    if (s) puts(s);
    free(s);
    fflush(stdout);
}

/* Adds a's gas_burnt to *sum and its logs to logs. */
static void add_outcome(json_t *o, json_t *logs, uint64_t *gas)
{
    json_t *out = json_object_get(o, "outcome");
    json_t *l = json_object_get(out, "logs");
    size_t i;
    json_t *v;
    json_array_foreach(l, i, v) json_array_append(logs, v);
    json_t *g = json_object_get(out, "gas_burnt");
    if (json_is_integer(g)) *gas += (uint64_t)json_integer_value(g);
}

int cli_tx_summary(json_t *result, json_t **summary, near_rpc_error *detail, ol_err *err)
{
    near_outcome_kind kind = NEAR_OUTCOME_PENDING;
    uint8_t *value = NULL;
    size_t value_len = 0;
    int rc = near_rpc_outcome(result, &kind, &value, &value_len, detail, err);
    json_t *logs = json_array();
    uint64_t gas = 0;
    add_outcome(json_object_get(result, "transaction_outcome"), logs, &gas);
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(result, "receipts_outcome"), i, o) add_outcome(o, logs, &gas);
    const char *status = rc ? "failure" : kind == NEAR_OUTCOME_PENDING ? "pending" : "success";
    json_t *s = json_pack("{s:O?,s:s,s:o,s:o,s:I}", "transaction_hash",
                          json_object_get(json_object_get(result, "transaction_outcome"), "id"), "status", status,
                          "value", rc ? json_null() : cli_value_json(value, value_len), "logs", logs, "gas_burnt",
                          (json_int_t)gas);
    if (s && rc) json_object_set_new(s, "error", json_string(detail && detail->message[0] ? detail->message : err->msg));
    free(value);
    *summary = s;
    return rc;
}

/* ---- outlayer call --------------------------------------------------------------------------------- */
static void call_usage(FILE *f)
{
    fprintf(f, "usage: outlayer call ACCOUNT METHOD [JSON] --as ACCOUNT [--deposit AMOUNT] [--gas TGAS]\n"
               "                     [--wait LEVEL] [--raw] [--rpc URL] [--credentials DIR] [--network NAME]\n"
               "Signs a function call with the key(s) of --as (see --credentials) and sends it.\n"
               "  JSON            arguments (default {}); must be valid JSON\n"
               "  --deposit A     attached deposit: \"1.5\", \"1.5 NEAR\", \"1000 yocto\" (default 0)\n"
               "  --gas TGAS      prepaid gas in Tgas, 1..%d (default %d)\n"
               "  --wait LEVEL    NONE|INCLUDED|EXECUTED_OPTIMISTIC|INCLUDED_FINAL|EXECUTED|FINAL (default %s)\n"
               "  --raw           print the node's whole result instead of the summary\n"
               "  --rpc URL       JSON-RPC endpoint (default $NEAR_RPC_URL, else %s)\n"
               "  --credentials DIR  near-cli credentials root: the key is DIR/NETWORK/ACCOUNT.json, else\n"
               "                  DIR/ACCOUNT.json (a sandbox's HOME/credentials); default ~/.near-credentials\n"
               "  --network NAME  default $NEAR_NETWORK, else %s\n"
               "Prints {transaction_hash, status, value, logs, gas_burnt}. Exit codes: docs/cli.md.\n",
            CLI_MAX_GAS_TGAS, CLI_DEFAULT_CALL_TGAS, CLI_DEFAULT_WAIT, CLI_DEFAULT_RPC_URL, CLI_DEFAULT_NETWORK);
}

int cli_check_wait(const char *cmd, const char *w)
{
    static const char *const ok[] = {"NONE", "INCLUDED", "EXECUTED_OPTIMISTIC", "INCLUDED_FINAL", "EXECUTED", "FINAL"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (!strcmp(w, ok[i])) return 0;
    fprintf(stderr,
            "outlayer %s: --wait '%.64s' is not one of NONE, INCLUDED, EXECUTED_OPTIMISTIC, INCLUDED_FINAL, EXECUTED, "
            "FINAL\n",
            cmd, w);
    return -1;
}

int cli_cmd_call(int argc, char **argv)
{
    const char *cmd = "call";
    cli_near_opts o = {0};
    const char *pos[3] = {0}, *as = NULL, *dep = NULL, *gas_s = NULL, *wait = CLI_DEFAULT_WAIT;
    int npos = 0, raw = 0, r;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            call_usage(stdout);
            return 0;
        }
        if ((r = cli_near_opt(&o, argc, argv, &i, cmd)) < 0) return CLI_EXIT_USAGE;
        if (r) continue;
        if ((r = cli_opt(argc, argv, &i, "--as", &as)) || (r = cli_opt(argc, argv, &i, "--deposit", &dep)) ||
            (r = cli_opt(argc, argv, &i, "--gas", &gas_s)) || (r = cli_opt(argc, argv, &i, "--wait", &wait))) {
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
        if (a[0] == '-' && a[1] == '-') {
            fprintf(stderr, "outlayer %s: unknown option '%.64s' (see outlayer call --help)\n", cmd, a);
            return CLI_EXIT_USAGE;
        }
        if (npos == 3) {
            fprintf(stderr, "outlayer %s: too many arguments (see outlayer call --help)\n", cmd);
            return CLI_EXIT_USAGE;
        }
        pos[npos++] = a;
    }
    if (npos < 2) {
        call_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *args = pos[2] ? pos[2] : "{}";
    near_u128 deposit = 0;
    uint64_t tgas = CLI_DEFAULT_CALL_TGAS;
    if (cli_check_account(cmd, "contract account", pos[0]) || cli_check_account(cmd, "--as account", as) ||
        cli_check_json(cmd, args) || (dep && cli_parse_deposit(cmd, dep, &deposit)) ||
        (gas_s && cli_parse_u64(cmd, "--gas", gas_s, 1, CLI_MAX_GAS_TGAS, &tgas)) || cli_check_wait(cmd, wait) ||
        cli_near_finish(&o, cmd))
        return CLI_EXIT_USAGE;
    if (strlen(pos[1]) == 0 || strlen(pos[1]) > NEAR_MAX_METHOD_NAME) {
        fprintf(stderr, "outlayer %s: method name must be 1..%d bytes\n", cmd, NEAR_MAX_METHOD_NAME);
        return CLI_EXIT_USAGE;
    }
    int code = 0;
    near_rpc *rpc = cli_near_rpc(&o, cmd);
    near_signer *s = rpc ? cli_near_signer(&o, as, cmd, &code) : NULL;
    ol_err err = {0};
    near_nonce_mgr *m = s ? near_nonce_mgr_new(rpc, &err) : NULL;
    if (!m) {
        if (s) fprintf(stderr, "outlayer %s: %s\n", cmd, err.msg);
        near_signer_free(s);
        near_rpc_free(rpc);
        return code ? code : CLI_EXIT_SOFTWARE;
    }
    json_t *result = NULL;
    near_send_info info = {0};
    near_rpc_error d = {0};
    int rc = near_send_call(m, s, pos[0], pos[1], (const uint8_t *)args, strlen(args), tgas * CLI_TGAS, deposit, wait,
                            &result, &info, &d, &err);
    if (rc) {
        code = cli_near_fail(cmd, rc, &d, &err);
        if (info.hash[0]) fprintf(stderr, "outlayer %s: transaction %s\n", cmd, info.hash);
        if (rc == NEAR_ERPC_TIMEOUT)
            fprintf(stderr, "outlayer %s: the node stopped waiting for %s; a call whose receipts wait on a yield "
                            "(request_execution) finishes only once it is answered: use --wait INCLUDED and outlayer tx\n",
                    cmd, wait);
    } else if (raw) {
        cli_print_json(result);
        near_outcome_kind kind;
        near_rpc_error d2 = {0};
        ol_err e2 = {0};
        if ((rc = near_rpc_outcome(result, &kind, NULL, NULL, &d2, &e2))) code = cli_near_fail(cmd, rc, &d2, &e2);
    } else {
        json_t *sum = NULL;
        near_rpc_error d2 = {0};
        ol_err e2 = {0};
        rc = cli_tx_summary(result, &sum, &d2, &e2);
        if (sum && !json_is_string(json_object_get(sum, "transaction_hash")))
            json_object_set_new(sum, "transaction_hash", json_string(info.hash));
        if (sum) cli_print_json(sum);
        json_decref(sum);
        if (rc) {
            fprintf(stderr, "outlayer %s: transaction %s failed:\n", cmd, info.hash);
            code = cli_near_fail(cmd, rc, &d2, &e2);
        }
    }
    json_decref(result);
    near_nonce_mgr_free(m);
    near_signer_free(s);
    near_rpc_free(rpc);
    return code;
}
