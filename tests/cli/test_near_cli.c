/* The NEAR commands of `outlayer` (keys, view, call, tx, request, status) as a user runs them, against a
 * real chain: `outlayer sandbox` started here on 127.0.0.1 with a fresh home, the OutLayer contract
 * (contracts/outlayer.wasm) deployed on it. The test plays the worker: it resolves requests as the
 * operator with `outlayer call`, and checks what `outlayer request --wait` prints (output, fee, refund)
 * to the yoctoNEAR against the contract's pricing. Error cases check the exact messages.
 * Usage: test_near_cli OUTLAYER_BINARY OUTLAYER_WASM */
#include "near/near.h"
#include "test.h"

#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *outlayer;
static pid_t sb_pid;
static char url[128];
static char home[] = "/tmp/cli-near-XXXXXX";
static char creds[256];

static void start_sandbox(void)
{
    ASSERT_TRUE(mkdtemp(home) != NULL);
    snprintf(creds, sizeof creds, "%s/credentials", home);
    int out[2];
    ASSERT_EQ(pipe(out), 0);
    sb_pid = fork();
    ASSERT_TRUE(sb_pid >= 0);
    if (sb_pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(out[1], 1);
        close(out[0]);
        close(out[1]);
        /* 50 ms blocks: the 200-block yield window is 10 s, room for the test's resolves */
        execl(outlayer, outlayer, "sandbox", "--home", home, "--port", "0", "--block-ms", "50", "--log-level", "warn",
              (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    FILE *f = fdopen(out[0], "r");
    char line[256];
    while (fgets(line, sizeof line, f)) {
        char *p = strstr(line, "listening on ");
        if (p) {
            ol_strlcpy(url, p + 13, sizeof url);
            url[strcspn(url, "\r\n")] = 0;
            break;
        }
    }
    if (!url[0]) T_FAIL("outlayer sandbox did not report its address");
    fclose(f);
}

static void stop_sandbox(void)
{
    kill(sb_pid, SIGTERM);
    int st = 0;
    waitpid(sb_pid, &st, 0);
    ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", home);
    ASSERT_EQ(system(cmd), 0);
}

/* ---- running outlayer ------------------------------------------------------------------------------- */
typedef struct run_result {
    int code;
    char *out, *err; /* malloc'd, NUL-terminated */
    json_t *json;    /* stdout parsed, or NULL */
} run_result;

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) T_FAIL("cannot read %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    ASSERT_TRUE(b != NULL);
    ASSERT_EQ(fread(b, 1, (size_t)n, f), n);
    b[n] = 0;
    fclose(f);
    return b;
}

static int runs;

/* Starts `outlayer ARGS...` (NULL-terminated, argv[0] excluded) with stdout and stderr to files. */
static pid_t spawn(const char *const *args, int id)
{
    char o[300], e[300];
    snprintf(o, sizeof o, "%s/run%d.out", home, id);
    snprintf(e, sizeof e, "%s/run%d.err", home, id);
    pid_t pid = fork();
    ASSERT_TRUE(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fo = open(o, O_WRONLY | O_CREAT | O_TRUNC, 0600), fe = open(e, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(fo, 1);
        dup2(fe, 2);
        char *argv[40] = {(char *)outlayer};
        for (int i = 0; args[i] && i < 38; i++) argv[i + 1] = (char *)args[i]; /* execv does not write them */
        setenv("NEAR_RPC_URL", url, 1);
        execv(outlayer, argv);
        _exit(127);
    }
    return pid;
}

static run_result collect(pid_t pid, int id)
{
    int st = 0;
    ASSERT_EQ(waitpid(pid, &st, 0), pid);
    if (!WIFEXITED(st)) T_FAIL("outlayer run %d died with signal %d", id, WTERMSIG(st));
    run_result r = {.code = WEXITSTATUS(st)};
    char o[300], e[300];
    snprintf(o, sizeof o, "%s/run%d.out", home, id);
    snprintf(e, sizeof e, "%s/run%d.err", home, id);
    r.out = slurp(o);
    r.err = slurp(e);
    r.json = json_loads(r.out, JSON_DECODE_ANY, NULL);
    return r;
}

#define RUN(...) run((const char *[]){__VA_ARGS__, NULL})
static run_result run(const char *const *args)
{
    int id = runs++;
    return collect(spawn(args, id), id);
}

static void run_free(run_result *r)
{
    free(r->out);
    free(r->err);
    json_decref(r->json);
}

/* Expects exit code and (when not NULL) a substring of stderr; frees the result. */
static void expect_fail(run_result r, int code, const char *msg)
{
    if (r.code != code) T_FAIL("exit %d, expected %d; stdout: %s stderr: %s", r.code, code, r.out, r.err);
    if (msg) ASSERT_CONTAINS(r.err, msg);
    run_free(&r);
}

static json_t *expect_ok(run_result *r)
{
    if (r->code != 0 || !r->json) T_FAIL("exit %d; stdout: %s stderr: %s", r->code, r->out, r->err);
    return r->json;
}

/* ---- chain setup through src/near (the CLI has no account creation or deploy) ------------------------ */
static near_rpc *rpc;
static near_nonce_mgr *mgr;
static near_signer *root;

static void create_account(const char *id, const char *amount, const near_public_key *pk, const char *wasm)
{
    near_action acts[4] = {{.kind = NEAR_ACTION_CREATE_ACCOUNT}, {.kind = NEAR_ACTION_TRANSFER}, {.kind = NEAR_ACTION_ADD_KEY}};
    ol_err err = {0};
    near_rpc_error d = {0};
    ASSERT_EQ(near_amount_parse(amount, &acts[1].u.transfer.deposit, &err), 0);
    acts[2].u.add_key.public_key = *pk;
    acts[2].u.add_key.access_key.permission = NEAR_PERM_FULL_ACCESS;
    size_t n = 3;
    uint8_t *code = NULL;
    if (wasm) {
        FILE *f = fopen(wasm, "rb");
        if (!f) T_FAIL("cannot open %s", wasm);
        code = malloc(NEAR_MAX_CODE_BYTES);
        size_t len = fread(code, 1, NEAR_MAX_CODE_BYTES, f);
        fclose(f);
        acts[3].kind = NEAR_ACTION_DEPLOY_CONTRACT;
        acts[3].u.deploy.code = code;
        acts[3].u.deploy.code_len = len;
        n = 4;
    }
    json_t *r = NULL;
    near_send_info info;
    if (near_send_actions(mgr, root, id, acts, n, "FINAL", &r, &info, &d, &err)) T_FAIL("create %s: %s", id, err.msg);
    near_outcome_kind kind;
    if (near_rpc_outcome(r, &kind, NULL, NULL, &d, &err)) T_FAIL("create %s: %s", id, err.msg);
    json_decref(r);
    free(code);
}

static near_public_key key_of(const char *file)
{
    near_credentials c;
    ol_err err = {0};
    if (near_credentials_read(file, &c, &err)) T_FAIL("%s: %s", file, err.msg);
    return c.public_key;
}

static const char *jstr(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    if (!s) T_FAIL("no string \"%s\" in %s", k, json_dumps(o, JSON_COMPACT));
    return s;
}

static near_u128 u128_of(const char *s)
{
    near_u128 v;
    ol_err err = {0};
    if (near_u128_parse(s, strlen(s), &v, &err)) T_FAIL("%s: %s", s, err.msg);
    return v;
}

static long long wait_pending_id(long long after)
{
    /* the request appears in list_pending_requests once its receipt ran */
    for (int i = 0; i < 200; i++) {
        char args[64];
        snprintf(args, sizeof args, "{\"from_id\":%lld}", after);
        run_result r = RUN("view", "outlayer.test.near", "list_pending_requests", args);
        json_t *list = expect_ok(&r);
        long long id = json_array_size(list) ? json_integer_value(json_object_get(json_array_get(list, 0), "request_id")) : -1;
        run_free(&r);
        if (id >= 0) return id;
        usleep(50 * 1000);
    }
    T_FAIL("no pending request appeared");
}

static void resolve(long long id, const char *response)
{
    char args[1024];
    snprintf(args, sizeof args, "{\"request_id\":%lld,\"response\":%s}", id, response);
    run_result r = RUN("call", "outlayer.test.near", "resolve_execution", args, "--as", "operator.test.near",
                       "--credentials", creds, "--gas", "100");
    json_t *j = expect_ok(&r);
    ASSERT_STREQ(jstr(j, "status"), "success");
    run_free(&r);
}

int main(int argc, char **argv)
{
    if (argc != 3) T_FAIL("usage: %s OUTLAYER_BINARY OUTLAYER_WASM", argv[0]);
    outlayer = argv[1];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    start_sandbox();
    ol_err err = {0};
    near_rpc_opts ro = {.url = url};
    rpc = near_rpc_new(&ro, &err);
    mgr = near_nonce_mgr_new(rpc, &err);
    root = near_signer_from_credentials(home, "credentials", "test.near", &err);
    ASSERT_TRUE(rpc && mgr && root);

    /* --help lists the services and the NEAR commands */
    run_result r = RUN("--help");
    ASSERT_EQ(r.code, 0);
    const char *cmds[] = {"coordinator", "sandbox", "worker", "keys", "view", "call", "tx", "request", "status"};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        char k[32];
        snprintf(k, sizeof k, "\n  %s ", cmds[i]);
        ASSERT_CONTAINS(r.out, k);
    }
    run_free(&r);

    /* keys generate: a near-cli file, mode 0600, the public key printed, the secret never */
    r = RUN("keys", "generate", "--account", "alice.test.near", "--credentials", creds);
    json_t *j = expect_ok(&r);
    char alice_file[300];
    snprintf(alice_file, sizeof alice_file, "%s/sandbox/alice.test.near.json", creds); /* near-cli layout */
    ASSERT_STREQ(jstr(j, "file"), alice_file);
    ASSERT_STREQ(jstr(j, "account_id"), "alice.test.near");
    struct stat st;
    ASSERT_EQ(stat(alice_file, &st), 0);
    ASSERT_EQ(st.st_mode & 0777, 0600);
    near_public_key alice_pk = key_of(alice_file);
    char pk_s[NEAR_KEY_STR];
    near_public_key_format(&alice_pk, pk_s);
    ASSERT_STREQ(jstr(j, "public_key"), pk_s);
    json_t *file = json_load_file(alice_file, 0, NULL);
    const char *secret = jstr(file, "private_key");
    ASSERT_TRUE(strstr(r.out, secret + 8) == NULL && strstr(r.err, secret + 8) == NULL);
    json_decref(file);
    run_free(&r);
    /* never over an existing key */
    char msg[1024];
    snprintf(msg, sizeof msg, "outlayer keys generate: %s already exists; not overwriting a key", alice_file);
    expect_fail(RUN("keys", "generate", "--account", "alice.test.near", "--credentials", creds), 73, msg);
    /* implicit account id = hex of the key, --out */
    char kfile[300];
    snprintf(kfile, sizeof kfile, "%s/implicit.json", home);
    r = RUN("keys", "generate", "--out", kfile);
    j = expect_ok(&r);
    near_public_key ipk = key_of(kfile);
    char hex[65];
    ASSERT_EQ(near_implicit_account_id(&ipk, hex, &err), 0);
    ASSERT_STREQ(jstr(j, "account_id"), hex);
    run_free(&r);
    /* --network names the subdirectory */
    r = RUN("keys", "generate", "--account", "bob.testnet", "--credentials", creds, "--network", "testnet");
    j = expect_ok(&r);
    snprintf(kfile, sizeof kfile, "%s/testnet/bob.testnet.json", creds);
    ASSERT_STREQ(jstr(j, "file"), kfile);
    ASSERT_EQ(access(kfile, R_OK), 0);
    run_free(&r);
    expect_fail(RUN("keys", "generate", "--account", "Bad..id", "--credentials", creds), 64,
                "outlayer keys generate: --account 'Bad..id' is not a valid account id");

    /* accounts: alice (the CLI's key: the round trip is her signing below), the operator, the contract */
    create_account("alice.test.near", "100 NEAR", &alice_pk, NULL);
    r = RUN("keys", "generate", "--account", "operator.test.near", "--credentials", creds);
    expect_ok(&r);
    run_free(&r);
    char op_file[300];
    snprintf(op_file, sizeof op_file, "%s/sandbox/operator.test.near.json", creds);
    near_public_key op_pk = key_of(op_file);
    create_account("operator.test.near", "10 NEAR", &op_pk, NULL);
    near_public_key root_pk = *near_signer_public_key(root, 0);
    create_account("outlayer.test.near", "50 NEAR", &root_pk, argv[2]);

    /* call: init the contract as test.near (sandbox credentials directory) */
    r = RUN("call", "outlayer.test.near", "new", "{\"owner_id\":\"test.near\",\"operator_id\":\"operator.test.near\"}",
            "--as", "test.near", "--credentials", creds);
    j = expect_ok(&r);
    ASSERT_STREQ(jstr(j, "status"), "success");
    ASSERT_TRUE(json_is_null(json_object_get(j, "value")));
    char new_hash[64];
    ol_strlcpy(new_hash, jstr(j, "transaction_hash"), sizeof new_hash);
    run_free(&r);

    /* view */
    r = RUN("view", "outlayer.test.near", "get_config");
    j = expect_ok(&r);
    ASSERT_STREQ(jstr(j, "owner_id"), "test.near");
    ASSERT_STREQ(jstr(j, "operator_id"), "operator.test.near");
    run_free(&r);
    r = RUN("view", "outlayer.test.near", "get_pricing");
    j = expect_ok(&r);
    near_u128 base_fee = u128_of(jstr(j, "base_fee")), per_mi = u128_of(jstr(j, "per_million_instructions_fee")),
              per_ms = u128_of(jstr(j, "per_ms_fee"));
    run_free(&r);

    /* tx: the init transaction by hash */
    r = RUN("tx", new_hash, "--sender", "test.near");
    j = expect_ok(&r);
    ASSERT_STREQ(jstr(j, "status"), "success");
    ASSERT_STREQ(jstr(j, "transaction_hash"), new_hash);
    run_free(&r);
    expect_fail(RUN("tx", "11111111111111111111111111111111", "--sender", "test.near"), 1,
                "outlayer tx: rpc: UNKNOWN_TRANSACTION: Transaction 11111111111111111111111111111111 doesn't exist\n");
    expect_fail(RUN("tx", "not-base58!", "--sender", "test.near"), 64,
                "outlayer tx: 'not-base58!' is not a transaction hash (base58 of 32 bytes)");

    /* errors, with their exact messages */
    expect_fail(RUN("view", "nope.test.near", "get_config"), 1,
                "outlayer view: rpc: UNKNOWN_ACCOUNT: account nope.test.near does not exist while viewing");
    expect_fail(RUN("view", "outlayer.test.near", "get_request", "{\"request_id\":"), 64,
                "outlayer view: arguments are not valid JSON: ");
    expect_fail(RUN("view", "outlayer.test.near", "get_request", "{\"bogus\":1}"), 1,
                "outlayer view: get_request: unknown argument \"bogus\"\n");
    expect_fail(RUN("call", "outlayer.test.near", "set_paused", "{\"paused\":false}", "--as", "test.near",
                    "--credentials", creds, "--deposit", "1.5 NEER"),
                64, "outlayer call: --deposit '1.5 NEER': amount: ");
    expect_fail(RUN("call", "outlayer.test.near", "set_paused", "{\"paused\":false}", "--as", "test.near",
                    "--credentials", creds, "--deposit", "0.0000000000000000000000001"),
                64, "outlayer call: --deposit '0.0000000000000000000000001': ");
    expect_fail(RUN("call", "outlayer.test.near", "set_paused", "{paused}", "--as", "test.near", "--credentials",
                    creds),
                64, "outlayer call: arguments are not valid JSON: ");
    expect_fail(RUN("call", "nope.test.near", "x", "{}", "--as", "test.near", "--credentials", creds), 1,
                "outlayer call: {\"AccountDoesNotExist\":{\"account_id\":\"nope.test.near\"}}");
    snprintf(msg, sizeof msg,
             "outlayer call: no usable key for nobody.test.near: neither %s/sandbox/nobody.test.near.json nor "
             "%s/nobody.test.near.json exists\n",
             creds, creds);
    expect_fail(RUN("call", "outlayer.test.near", "set_paused", "{}", "--as", "nobody.test.near", "--credentials",
                    creds),
                66, msg);
    /* a deposit on a method that takes none: the contract's own message, exit 1 */
    r = RUN("call", "outlayer.test.near", "set_paused", "{\"paused\":false}", "--as", "test.near", "--credentials",
            creds, "--deposit", "1 yocto");
    ASSERT_EQ(r.code, 1);
    ASSERT_STREQ(jstr(r.json, "status"), "failure");
    ASSERT_CONTAINS(r.err, "set_paused does not accept a deposit");
    run_free(&r);
    expect_fail(RUN("call", "outlayer.test.near", "x", "--as", "test.near", "--credentials", creds, "--rpc",
                    "http://127.0.0.1:1"),
                69, "outlayer call: RPC node unavailable: ");
    expect_fail(RUN("call", "outlayer.test.near", "x", "--as", "test.near", "--gas", "0"), 64,
                "outlayer call: --gas '0' must be a whole number from 1 to 1000");
    expect_fail(RUN("call", "outlayer.test.near", "x", "--as", "test.near", "--wait", "SOON"), 64,
                "outlayer call: --wait 'SOON' is not one of NONE, INCLUDED");

    /* call with a deposit: request_execution by hand, sent with --wait INCLUDED (the yield waits) */
    const char *src = "{\"source\":{\"WasmUrl\":{\"url\":\"https://example.com/m.wasm\",\"hash\":"
                      "\"0000000000000000000000000000000000000000000000000000000000000000\"}},\"input_data\":\"x\"}";
    r = RUN("call", "outlayer.test.near", "request_execution", src, "--as", "alice.test.near", "--credentials", creds,
            "--deposit", "0.5", "--gas", "100", "--wait", "INCLUDED");
    j = expect_ok(&r);
    ASSERT_STREQ(jstr(j, "status"), "pending");
    char req_hash[64];
    ol_strlcpy(req_hash, jstr(j, "transaction_hash"), sizeof req_hash);
    run_free(&r);
    long long id0 = wait_pending_id(0);
    char id_s[32];
    snprintf(id_s, sizeof id_s, "%lld", id0);
    r = RUN("status", id_s, "--contract", "outlayer.test.near");
    j = expect_ok(&r);
    ASSERT_STREQ(jstr(j, "status"), "pending");
    ASSERT_STREQ(jstr(json_object_get(j, "request"), "payment"), "500000000000000000000000");
    ASSERT_STREQ(jstr(json_object_get(j, "request"), "sender_id"), "alice.test.near");
    run_free(&r);
    r = RUN("tx", req_hash, "--sender", "alice.test.near");
    j = expect_ok(&r);
    ASSERT_STREQ(jstr(j, "status"), "pending");
    run_free(&r);
    resolve(id0, "{\"success\":true,\"output\":{\"Text\":\"by hand\"},\"resources_used\":{\"instructions\":1,"
                 "\"time_ms\":1}}");
    for (int i = 0;; i++) { /* the callback lands a few blocks later */
        r = RUN("tx", req_hash, "--sender", "alice.test.near");
        j = expect_ok(&r);
        if (strcmp(jstr(j, "status"), "pending") != 0) break;
        ASSERT_TRUE(i < 200);
        run_free(&r);
        usleep(50 * 1000);
    }
    ASSERT_STREQ(jstr(j, "status"), "success");
    ASSERT_STREQ(jstr(j, "value"), "by hand");
    char *logs = json_dumps(json_object_get(j, "logs"), 0);
    ASSERT_CONTAINS(logs, "execution_completed");
    free(logs);
    run_free(&r);
    r = RUN("status", id_s, "--contract", "outlayer.test.near");
    j = expect_ok(&r);
    ASSERT_STREQ(jstr(j, "status"), "settled");
    run_free(&r);
    expect_fail(RUN("status", "999", "--contract", "outlayer.test.near"), 1,
                "outlayer status: request 999 does not exist on outlayer.test.near (the next id is ");

    /* outlayer request --wait: the test answers as the worker; output, fee and refund to the yocto */
    char input[300];
    snprintf(input, sizeof input, "%s/input.txt", home);
    FILE *f = fopen(input, "w");
    fputs("{\"min\":0,\"max\":1}", f);
    fclose(f);
    char at_input[310];
    snprintf(at_input, sizeof at_input, "@%s", input);
    const char *req_args[] = {"request", "--contract", "outlayer.test.near", "--as", "alice.test.near", "--credentials",
                        creds, "--repo", "https://github.com/example/random", "--commit",
                        "0123456789abcdef0123456789abcdef01234567", "--input", at_input, "--format", "json",
                        "--max-instructions", "50000000", "--max-seconds", "5", "--wait", "--timeout", "60", NULL};
    int rid = runs++;
    pid_t req = spawn(req_args, rid);
    long long id1 = wait_pending_id(id0 + 1);
    snprintf(id_s, sizeof id_s, "%lld", id1);
    r = RUN("status", id_s, "--contract", "outlayer.test.near");
    j = expect_ok(&r);
    json_t *rq = json_object_get(j, "request");
    ASSERT_STREQ(jstr(rq, "input_data"), "{\"min\":0,\"max\":1}");
    ASSERT_STREQ(jstr(rq, "response_format"), "Json");
    ASSERT_EQ(json_integer_value(json_object_get(json_object_get(rq, "resource_limits"), "max_instructions")), 50000000);
    ASSERT_STREQ(jstr(json_object_get(json_object_get(rq, "source"), "GitHub"), "commit"),
                 "0123456789abcdef0123456789abcdef01234567");
    near_u128 payment = u128_of(jstr(rq, "payment"));
    run_free(&r);
    resolve(id1, "{\"success\":true,\"output\":{\"Json\":{\"random_number\":7}},\"resources_used\":{\"instructions\":"
                 "3500000,\"time_ms\":12}}");
    r = collect(req, rid);
    j = expect_ok(&r);
    ASSERT_EQ(json_integer_value(json_object_get(j, "request_id")), id1);
    ASSERT_TRUE(json_is_true(json_object_get(j, "success")));
    ASSERT_EQ(json_integer_value(json_object_get(json_object_get(j, "output"), "random_number")), 7);
    near_u128 fee = base_fee + 3 * per_mi + 12 * per_ms;
    ASSERT_TRUE(u128_of(jstr(j, "fee")) == fee);
    ASSERT_TRUE(u128_of(jstr(j, "refund")) == payment - fee);
    ASSERT_CONTAINS(r.err, "attaching ");
    char fee_s[NEAR_U128_STR];
    near_u128_format(fee, fee_s);
    printf("test_near_cli: request %lld answered: %s\n", id1, r.out);
    run_free(&r);

    /* a failed execution: exit 2, base fee kept, the rest refunded */
    const char *fail_args[] = {"request", "--contract", "outlayer.test.near", "--as", "alice.test.near", "--credentials",
                         creds, "--wasm-url", "https://example.com/x.wasm", "--wasm-hash",
                         "1111111111111111111111111111111111111111111111111111111111111111", "--input", "hi",
                         "--deposit", "0.1", "--wait", NULL};
    rid = runs++;
    req = spawn(fail_args, rid);
    long long id2 = wait_pending_id(id1 + 1);
    resolve(id2, "{\"success\":false,\"error\":\"guest exited with 1\",\"resources_used\":{\"instructions\":10,"
                 "\"time_ms\":1}}");
    r = collect(req, rid);
    if (r.code != 2) T_FAIL("exit %d; %s %s", r.code, r.out, r.err);
    ASSERT_TRUE(json_is_false(json_object_get(r.json, "success")));
    ASSERT_TRUE(json_is_null(json_object_get(r.json, "output")));
    ASSERT_STREQ(jstr(r.json, "error"), "guest exited with 1");
    ASSERT_TRUE(u128_of(jstr(r.json, "fee")) == base_fee);
    ASSERT_TRUE(u128_of(jstr(r.json, "refund")) == NEAR_ONE_NEAR / 10 - base_fee);
    run_free(&r);

    /* without --wait: the id at once; --timeout passes while nobody answers: 75 */
    r = RUN("request", "--contract", "outlayer.test.near", "--as", "alice.test.near", "--credentials", creds,
            "--wasm-url", "https://example.com/x.wasm", "--wasm-hash",
            "2222222222222222222222222222222222222222222222222222222222222222");
    j = expect_ok(&r);
    ASSERT_EQ(json_integer_value(json_object_get(j, "request_id")), id2 + 1);
    run_free(&r);
    expect_fail(RUN("request", "--contract", "outlayer.test.near", "--as", "alice.test.near", "--credentials", creds,
                    "--wasm-url", "https://example.com/x.wasm", "--wasm-hash",
                    "2222222222222222222222222222222222222222222222222222222222222222", "--wait", "--timeout", "1"),
                75, "outlayer request: --timeout 1 s passed; transaction ");
    /* the contract's refusals and ours */
    expect_fail(RUN("request", "--contract", "outlayer.test.near", "--as", "alice.test.near", "--credentials", creds,
                    "--wasm-url", "https://example.com/x.wasm", "--wasm-hash", "XYZ", "--deposit", "0.1"),
                1, "request_execution: ");
    expect_fail(RUN("request", "--contract", "outlayer.test.near", "--as", "alice.test.near", "--repo", "x"), 64,
                "outlayer request: the program's source is missing: --repo URL --commit SHA, or --wasm-url URL "
                "--wasm-hash HEX");
    expect_fail(RUN("request", "--contract", "outlayer.test.near", "--as", "alice.test.near", "--repo", "x", "--commit",
                    "y", "--format", "xml"),
                64, "outlayer request: --format 'xml' is not one of text, json, bytes");
    expect_fail(RUN("request", "--contract", "outlayer.test.near", "--as", "alice.test.near", "--repo", "x", "--commit",
                    "y", "--input", "@/nonexistent/in"),
                66, "outlayer request: --input @/nonexistent/in: No such file or directory");

    near_signer_free(root);
    near_nonce_mgr_free(mgr);
    near_rpc_free(rpc);
    stop_sandbox();
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("test_near_cli: ok (%d outlayer runs, %.1f s)\n", runs,
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    return 0;
}
