/* `outlayer worker`: settings, the one-shot `build` and `fetch` subcommands, and the task loop. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "worker/worker_int.h"

/* Every setting of the worker (DESIGN.md §7); names follow the original where it had one. The build
 * defaults repeat WORKER_BUILD_*_DEFAULT of worker.h as text (keep them equal). */
static const ol_cfg_def settings[] = {
    {"API_BASE_URL", OL_CFG_STRING, 0, 1024, "http://127.0.0.1:8080", "coordinator base URL", 0},
    {"API_AUTH_TOKEN", OL_CFG_STRING, 0, 256, NULL, "worker bearer token issued by the coordinator", OL_CFG_SECRET},
    {"WORKER_ID", OL_CFG_STRING, 0, 64, NULL, "this worker's name (default: worker-<hostname>-<pid>)", 0},
    {"WORKER_SLOTS", OL_CFG_INT, 1, 64, "2", "tasks worked on at once", 0},
    {"POLL_TIMEOUT_SECONDS", OL_CFG_INT, 1, 60, "30", "long-poll wait of one claim", 0},
    {"HEARTBEAT_SECONDS", OL_CFG_INT, 1, 60, "10", "lease heartbeat while a task is worked on", 0},
    {"COMPILATION_ENABLED", OL_CFG_BOOL, 0, 0, "true", "take build tasks", 0},
    {"EXECUTION_ENABLED", OL_CFG_BOOL, 0, 0, "true", "take execute tasks", 0},
    {"ALLOWED_SOURCE_SCHEMES", OL_CFG_STRING, 1, 64, "https",
     "comma-separated URL schemes repositories and modules may use (https; file,git,http for local use)", 0},
    {"COMPILE_TIMEOUT_SECONDS", OL_CFG_INT, 1, WORKER_BUILD_TIMEOUT_MAX_S, "60",
     "wall-clock limit of one build (at most 60: the yield window)", 0},
    {"COMPILE_MEMORY_LIMIT_MB", OL_CFG_INT, 64, 65536, "2048",
     "address-space limit of every build process", 0},
    {"COMPILE_CPU_SECONDS", OL_CFG_INT, 1, 3600, "60", "CPU-time limit of every build process", 0},
    {"COMPILE_MAX_PROCESSES", OL_CFG_INT, 8, 65536, "256", "processes of the build user", 0},
    {"BUILD_UID", OL_CFG_INT, 1, 2147483647, "65534", "unprivileged uid (and gid) builds run as", 0},
    {"BUILD_DIR", OL_CFG_STRING, 0, 1024, NULL, "parent of the per-build directories (default $TMPDIR or /tmp)", 0},
    {"WASI_SYSROOT", OL_CFG_STRING, 0, 1024, NULL, "wasi-libc sysroot (default: the compiler's own)", 0},
    {"WORKER_KEY_FILE", OL_CFG_STRING, 1, 1024, "./.outlayer/worker-key.json",
     "the worker's ed25519 key (near-cli credentials JSON, mode 0600); created when missing", 0},
    {"OPERATOR_ACCOUNT_ID", OL_CFG_STRING, 2, 64, "operator.test.near", "the account whose function-call key the worker key is", 0},
    {"OPERATOR_KEY_FILE", OL_CFG_STRING, 0, 1024, NULL,
     "optional full-access key of the operator account (near-cli JSON): lets the worker refresh its key's allowance", 0},
    {"WORKER_KEY_MIN_ALLOWANCE", OL_CFG_STRING, 1, 64, "1 NEAR", "below this allowance the worker key is refreshed (or reported)", 0},
    {"WORKER_KEY_ALLOWANCE", OL_CFG_STRING, 1, 64, "10 NEAR", "the allowance a refreshed worker key gets", 0},
    {"KEY_CHECK_INTERVAL_MS", OL_CFG_INT, 0, 3600000, "10000", "how often the worker key's allowance is checked (0: never)", 0},
    {"NEAR_RPC_URL", OL_CFG_STRING, 0, 1024, NULL,
     "NEAR JSON-RPC endpoint; empty = no chain (tasks are run and completed, nothing is resolved)", 0},
    {"OUTLAYER_CONTRACT_ID", OL_CFG_STRING, 0, 64, NULL, "the OutLayer contract (needed with NEAR_RPC_URL)", 0},
    {"ENABLE_EVENT_MONITOR", OL_CFG_BOOL, 0, 0, "false", "page the contract's pending requests into tasks", 0},
    {"MONITOR_INTERVAL_MS", OL_CFG_INT, 50, 60000, "500", "pause between scans of the pending requests", 0},
    {"YIELD_WINDOW_BLOCKS", OL_CFG_INT, 1, 100000, "200", "NEAR's yield timeout in blocks", 0},
    {"BLOCK_TIME_MS", OL_CFG_INT, 50, 10000, "500",
     "shortest block time to expect (sandbox 500, mainnet ~1000): a task is skipped when its window is too short", 0},
    {"LOG_LEVEL", OL_CFG_STRING, 1, 8, "info", "debug, info, warn, error or off", 0},
};
#define N_SETTINGS (sizeof settings / sizeof settings[0])

static void usage(FILE *f, const char *prog) {
    fprintf(f,
            "Usage: %s [flags]                          run the task loop until SIGINT/SIGTERM\n"
            "       %s build REPO_URL COMMIT [OUT.wasm]  build a repository once (prints the result)\n"
            "       %s fetch URL SHA256 [OUT.wasm]       download a module once and check its hash\n\n",
            prog, prog, prog);
    ol_config_help(settings, N_SETTINGS, f);
}

static void build_config_from(const ol_config *c, worker_build_config *b) {
    worker_build_config_default(b);
    b->allowed_schemes = ol_config_str(c, "ALLOWED_SOURCE_SCHEMES");
    b->timeout_s = (unsigned)ol_config_int(c, "COMPILE_TIMEOUT_SECONDS");
    b->memory_mb = (unsigned)ol_config_int(c, "COMPILE_MEMORY_LIMIT_MB");
    b->cpu_s = (unsigned)ol_config_int(c, "COMPILE_CPU_SECONDS");
    b->nproc = (unsigned)ol_config_int(c, "COMPILE_MAX_PROCESSES");
    b->uid = b->gid = (int)ol_config_int(c, "BUILD_UID");
    b->work_dir = ol_config_str(c, "BUILD_DIR");
    b->wasi_sysroot = ol_config_str(c, "WASI_SYSROOT");
}

static int one_shot(const worker_build_config *b, bool fetch, char **rest, size_t nrest) {
    if (nrest < 3 || nrest > 4) {
        fprintf(stderr, "outlayer worker: %s needs %s [OUT.wasm]\n", rest[0], fetch ? "URL SHA256" : "REPO_URL COMMIT");
        return 2;
    }
    worker_build_result r;
    ol_err err;
    int rc = fetch ? worker_fetch_wasm(b, rest[1], rest[2], &r, &err) : worker_build_git(b, rest[1], rest[2], NULL, &r, &err);
    if (rc) {
        fprintf(stderr, "outlayer worker: %s\n", err.msg);
        worker_build_result_free(&r);
        return 1;
    }
    int status = 0;
    if (r.status == WORKER_BUILD_OK) {
        printf("ok %s %zu bytes sha256 %s in %llu ms\n", r.kind, r.wasm_len, r.sha256_hex, (unsigned long long)r.build_ms);
        if (nrest == 4) {
            FILE *f = fopen(rest[3], "wb");
            if (!f || fwrite(r.wasm, 1, r.wasm_len, f) != r.wasm_len || fclose(f) != 0) {
                fprintf(stderr, "outlayer worker: cannot write %s\n", rest[3]);
                status = 1;
            }
        }
    } else {
        printf("%s: %s\n", worker_build_status_name(r.status), r.message);
        if (r.log_len)
            fprintf(stderr, "%s", r.log);
        status = 1;
    }
    worker_build_result_free(&r);
    return status;
}

/* Reads the worker key, or creates one (mode 0600) when the file does not exist. Never printed. */
static int load_key(const char *path, const char *account, near_credentials *out) {
    ol_err err;
    if (access(path, F_OK) == 0) {
        if (near_credentials_read(path, out, &err) != 0) {
            fprintf(stderr, "outlayer worker: setting WORKER_KEY_FILE: %s\n", err.msg);
            return 1;
        }
        return 0;
    }
    memset(out, 0, sizeof *out);
    if (!ol_strlcpy(out->account_id, account, sizeof out->account_id) ||
        near_key_generate(&out->secret_key, &out->public_key, &err) != 0) {
        fprintf(stderr, "outlayer worker: cannot create a worker key: %s\n", err.msg);
        return 1;
    }
    char dir[1100];
    ol_strlcpy(dir, path, sizeof dir);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = 0;
        mkdir(dir, 0700);
    }
    if (near_credentials_write(path, out, &err) != 0) {
        fprintf(stderr, "outlayer worker: setting WORKER_KEY_FILE: %s\n", err.msg);
        return 1;
    }
    char pk[NEAR_KEY_STR];
    near_public_key_format(&out->public_key, pk);
    OL_INFO("worker: created key %s in %s (add it to %s as a function-call key)", pk, path, account);
    return 0;
}

int worker_main(int argc, char **argv) {
    const char *prog = argc > 0 ? argv[0] : "outlayer-worker";
    ol_config *cfg = NULL;
    ol_err err;
    int rc = ol_config_load(settings, N_SETTINGS, argc, argv, &cfg, &err);
    int status = 2;
    if (rc == OL_CFG_HELP) {
        usage(stdout, prog);
        status = 0;
        goto out;
    }
    if (rc) {
        fprintf(stderr, "outlayer worker: %s\n", err.msg);
        goto out;
    }
    ol_log_level lvl;
    if (!ol_log_parse_level(ol_config_str(cfg, "LOG_LEVEL"), &lvl)) {
        fprintf(stderr, "outlayer worker: setting LOG_LEVEL: expected debug, info, warn, error or off\n");
        goto out;
    }
    ol_log_set_level(lvl);
    worker_build_config b;
    build_config_from(cfg, &b);
    char **rest;
    size_t nrest = ol_config_rest(cfg, &rest);
    if (nrest > 0 && (strcmp(rest[0], "build") == 0 || strcmp(rest[0], "fetch") == 0)) {
        status = one_shot(&b, strcmp(rest[0], "fetch") == 0, rest, nrest);
        goto out;
    }
    if (nrest > 0) {
        fprintf(stderr, "outlayer worker: unexpected argument \"%s\" (see --help)\n", rest[0]);
        goto out;
    }
    wk_loop_settings ls;
    memset(&ls, 0, sizeof ls);
    ls.api_base_url = ol_config_str(cfg, "API_BASE_URL");
    ls.token = ol_config_str(cfg, "API_AUTH_TOKEN");
    ls.worker_id = ol_config_str(cfg, "WORKER_ID");
    ls.slots = (unsigned)ol_config_int(cfg, "WORKER_SLOTS");
    ls.poll_timeout_s = (unsigned)ol_config_int(cfg, "POLL_TIMEOUT_SECONDS");
    ls.heartbeat_s = (unsigned)ol_config_int(cfg, "HEARTBEAT_SECONDS");
    ls.compile = ol_config_bool(cfg, "COMPILATION_ENABLED");
    ls.execute = ol_config_bool(cfg, "EXECUTION_ENABLED");
    ls.build = &b;
    if (!*ls.token) {
        fprintf(stderr, "outlayer worker: setting API_AUTH_TOKEN: required (create one with `outlayer coordinator token create`)\n");
        goto out;
    }
    if (!ls.compile && !ls.execute) {
        fprintf(stderr, "outlayer worker: settings COMPILATION_ENABLED and EXECUTION_ENABLED: at least one must be true\n");
        goto out;
    }
    if (load_key(ol_config_str(cfg, "WORKER_KEY_FILE"), ol_config_str(cfg, "OPERATOR_ACCOUNT_ID"), &ls.key) != 0)
        goto out;
#ifdef OUTLAYER_WORKER_EXEC
    worker_set_executor(wk_exec_task);
#endif
    wk_chain chain;
    const char *rpc = ol_config_str(cfg, "NEAR_RPC_URL"), *contract = ol_config_str(cfg, "OUTLAYER_CONTRACT_ID");
    ls.monitor = ol_config_bool(cfg, "ENABLE_EVENT_MONITOR");
    ls.monitor_interval_ms = (unsigned)ol_config_int(cfg, "MONITOR_INTERVAL_MS");
    ls.yield_blocks = (unsigned)ol_config_int(cfg, "YIELD_WINDOW_BLOCKS");
    ls.block_ms = (unsigned)ol_config_int(cfg, "BLOCK_TIME_MS");
    if (*rpc) {
        if (!*contract) {
            fprintf(stderr, "outlayer worker: setting OUTLAYER_CONTRACT_ID: required with NEAR_RPC_URL\n");
            goto out;
        }
        if (wk_chain_open(&chain, rpc, contract, &ls.key, &err) != 0) {
            fprintf(stderr, "outlayer worker: setting NEAR_RPC_URL: %s\n", err.msg);
            goto out;
        }
        ls.chain = &chain;
        const char *opk = ol_config_str(cfg, "OPERATOR_KEY_FILE");
        if (near_amount_parse(ol_config_str(cfg, "WORKER_KEY_MIN_ALLOWANCE"), &ls.key_min, &err) != 0) {
            fprintf(stderr, "outlayer worker: setting WORKER_KEY_MIN_ALLOWANCE: %s\n", err.msg);
            goto out_chain;
        }
        if (near_amount_parse(ol_config_str(cfg, "WORKER_KEY_ALLOWANCE"), &ls.key_topup, &err) != 0 || ls.key_topup <= ls.key_min) {
            fprintf(stderr, "outlayer worker: setting WORKER_KEY_ALLOWANCE: %s\n",
                    err.msg[0] ? err.msg : "must be above WORKER_KEY_MIN_ALLOWANCE");
            goto out_chain;
        }
        ls.key_check_ms = (unsigned)ol_config_int(cfg, "KEY_CHECK_INTERVAL_MS");
        if (opk && *opk) {
            near_credentials oc;
            if (near_credentials_read(opk, &oc, &err) != 0) {
                fprintf(stderr, "outlayer worker: setting OPERATOR_KEY_FILE: %s\n", err.msg);
                goto out_chain;
            }
            if (strcmp(oc.account_id, ls.key.account_id) != 0) {
                fprintf(stderr, "outlayer worker: setting OPERATOR_KEY_FILE: the key is for %s, not the operator %s\n",
                        oc.account_id, ls.key.account_id);
                goto out_chain;
            }
            if (!(ls.operator_signer = near_signer_new(oc.account_id, &oc.secret_key, 1, &err))) {
                fprintf(stderr, "outlayer worker: setting OPERATOR_KEY_FILE: %s\n", err.msg);
                goto out_chain;
            }
        }
    } else if (ls.monitor) {
        fprintf(stderr, "outlayer worker: setting ENABLE_EVENT_MONITOR: needs NEAR_RPC_URL\n");
        goto out;
    }
    status = wk_loop_run(&ls);
out_chain:
    if (ls.operator_signer)
        near_signer_free(ls.operator_signer);
    if (ls.chain)
        wk_chain_close(ls.chain);
out:
    ol_config_free(cfg);
    return status;
}
