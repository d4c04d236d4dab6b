/* worker: the worker key's allowance policy against a real local chain (outlayer-sandbox). A
 * function-call key of the operator account with a low allowance is reported without an operator
 * key, and re-added with a fresh allowance (same key, same receiver and method) with one; a funded key
 * is left alone. Usage: test_worker_keys SANDBOX_BINARY */
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "test.h"
#include "worker/worker_int.h"

static pid_t sb_pid;
static char url[128];
static char home[] = "/tmp/worker-keys-XXXXXX";

static void start_sandbox(const char *bin) {
    ASSERT_TRUE(mkdtemp(home) != NULL);
    int out[2];
    ASSERT_EQ(pipe(out), 0);
    sb_pid = fork();
    ASSERT_TRUE(sb_pid >= 0);
    if (sb_pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(out[1], 1);
        close(out[0]);
        close(out[1]);
        execl(bin, bin, "--home", home, "--port", "0", "--block-ms", "30", "--log-level", "warn", (char *)NULL);
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
    fclose(f);
    if (!url[0]) T_FAIL("outlayer-sandbox did not report its address");
}

static void stop_sandbox(void) {
    kill(sb_pid, SIGTERM);
    int st = 0;
    waitpid(sb_pid, &st, 0);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", home);
    ASSERT_EQ(system(cmd), 0);
}

static void send_ok(near_nonce_mgr *m, near_signer *s, const char *to, near_action *a, size_t n) {
    json_t *r = NULL;
    near_rpc_error d;
    near_send_info info;
    ol_err err;
    near_outcome_kind kind;
    if (near_send_actions(m, s, to, a, n, "FINAL", &r, &info, &d, &err)) T_FAIL("send to %s: %s", to, err.msg);
    if (near_rpc_outcome(r, &kind, NULL, NULL, &d, &err)) T_FAIL("outcome: %s", err.msg);
    json_decref(r);
}

int main(int argc, char **argv) {
    if (argc < 2) T_FAIL("usage: test_worker_keys SANDBOX_BINARY");
    start_sandbox(argv[1]);
    ol_err err;
    near_credentials root;
    char path[256];
    snprintf(path, sizeof path, "%s/credentials/test.near.json", home);
    if (near_credentials_read(path, &root, &err)) T_FAIL("%s", err.msg);
    near_rpc_opts o = {.url = url};
    near_rpc *rpc = near_rpc_new(&o, &err);
    near_nonce_mgr *m = near_nonce_mgr_new(rpc, &err);
    near_signer *rs = near_signer_new("test.near", &root.secret_key, 1, &err);

    /* the operator account (full-access key) and the worker key (function-call, 0.5 NEAR allowance) */
    near_credentials op = {0}, wk = {0};
    ASSERT_EQ(near_key_generate(&op.secret_key, &op.public_key, &err), 0);
    ASSERT_EQ(near_key_generate(&wk.secret_key, &wk.public_key, &err), 0);
    ol_strlcpy(op.account_id, "operator.test.near", sizeof op.account_id);
    ol_strlcpy(wk.account_id, "operator.test.near", sizeof wk.account_id);
    near_action a[3] = {{.kind = NEAR_ACTION_CREATE_ACCOUNT}, {.kind = NEAR_ACTION_TRANSFER}, {.kind = NEAR_ACTION_ADD_KEY}};
    ASSERT_EQ(near_amount_parse("50 NEAR", &a[1].u.transfer.deposit, &err), 0);
    a[2].u.add_key.public_key = op.public_key;
    a[2].u.add_key.access_key.permission = NEAR_PERM_FULL_ACCESS;
    send_ok(m, rs, "operator.test.near", a, 3);
    near_signer *os = near_signer_new("operator.test.near", &op.secret_key, 1, &err);
    const char *methods[] = {"resolve_execution"};
    near_action k;
    memset(&k, 0, sizeof k);
    k.kind = NEAR_ACTION_ADD_KEY;
    k.u.add_key.public_key = wk.public_key;
    k.u.add_key.access_key.permission = NEAR_PERM_FUNCTION_CALL;
    k.u.add_key.access_key.has_allowance = true;
    ASSERT_EQ(near_amount_parse("0.5 NEAR", &k.u.add_key.access_key.allowance, &err), 0);
    k.u.add_key.access_key.receiver_id = "outlayer.test.near";
    k.u.add_key.access_key.method_names = methods;
    k.u.add_key.access_key.n_method_names = 1;
    send_ok(m, os, "operator.test.near", &k, 1);

    wk_chain c;
    if (wk_chain_open(&c, url, "outlayer.test.near", &wk, &err)) T_FAIL("%s", err.msg);
    near_u128 min, topup, half;
    ASSERT_EQ(near_amount_parse("1 NEAR", &min, &err), 0);
    ASSERT_EQ(near_amount_parse("10 NEAR", &topup, &err), 0);
    ASSERT_EQ(near_amount_parse("0.5 NEAR", &half, &err), 0);
    wk_key_state st;

    /* without an operator key: reported, nothing changes */
    if (wk_key_check(&c, NULL, min, topup, &st, &err)) T_FAIL("%s", err.msg);
    ASSERT_TRUE(!st.full_access && !st.unlimited && !st.refreshed);
    ASSERT_TRUE(st.allowance == half);

    /* with one: re-added with 10 NEAR, same receiver and method */
    if (wk_key_check(&c, os, min, topup, &st, &err)) T_FAIL("%s", err.msg);
    ASSERT_TRUE(st.refreshed && st.allowance == half);
    json_t *r = NULL;
    near_rpc_error d;
    ASSERT_EQ(near_rpc_view_access_key(rpc, "operator.test.near", &wk.public_key, NEAR_FINAL, &r, &d, &err), 0);
    json_t *fc = json_object_get(json_object_get(r, "permission"), "FunctionCall");
    ASSERT_STREQ(json_string_value(json_object_get(fc, "allowance")), "10000000000000000000000000");
    ASSERT_STREQ(json_string_value(json_object_get(fc, "receiver_id")), "outlayer.test.near");
    ASSERT_STREQ(json_string_value(json_array_get(json_object_get(fc, "method_names"), 0)), "resolve_execution");
    json_decref(r);

    /* funded now: left alone */
    if (wk_key_check(&c, os, min, topup, &st, &err)) T_FAIL("%s", err.msg);
    ASSERT_TRUE(!st.refreshed && st.allowance == topup);

    /* the operator's full-access key itself needs nothing */
    wk_chain fullc;
    if (wk_chain_open(&fullc, url, "outlayer.test.near", &op, &err)) T_FAIL("%s", err.msg);
    if (wk_key_check(&fullc, os, min, topup, &st, &err)) T_FAIL("%s", err.msg);
    ASSERT_TRUE(st.full_access && !st.refreshed);

    /* a key that is not on chain is an error naming the account */
    near_credentials ghost = wk;
    ASSERT_EQ(near_key_generate(&ghost.secret_key, &ghost.public_key, &err), 0);
    wk_chain gc;
    if (wk_chain_open(&gc, url, "outlayer.test.near", &ghost, &err)) T_FAIL("%s", err.msg);
    ASSERT_TRUE(wk_key_check(&gc, os, min, topup, &st, &err) != 0);
    ASSERT_CONTAINS(err.msg, "operator.test.near");

    wk_chain_close(&gc);
    wk_chain_close(&fullc);
    wk_chain_close(&c);
    near_signer_free(os);
    near_signer_free(rs);
    near_nonce_mgr_free(m);
    near_rpc_free(rpc);
    stop_sandbox();
    puts("test_worker_keys: ok");
    return 0;
}
