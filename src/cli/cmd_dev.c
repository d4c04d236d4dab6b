/* `outlayer dev`: the whole stack on one machine with embedded defaults (DESIGN.md §2).
 *
 * Starts the local chain (`outlayer sandbox`), creates the accounts, deploys the OutLayer and coinflip
 * contracts, publishes the example guests as local git repositories, starts the coordinator (SQLite) and
 * one worker, prints the endpoints and a ready-to-paste request, and with --demo plays one coinflip round
 * end to end. Children are this same executable with another subcommand; they die with us (PDEATHSIG)
 * and are stopped on exit, Ctrl-C or SIGTERM. A second start on an existing home reuses its chain,
 * accounts and keys. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/base.h"
#include "cli/cli.h"
#include "near/near.h"

#define DEV_MAX_CHILDREN 4
#define DEV_START_TIMEOUT_MS 30000 /* how long a child may take to answer */
#define DEV_DEMO_TIMEOUT_MS 120000 /* a coinflip round: a build (<= 60 s) plus a few blocks */
#define DEV_OUTLAYER "outlayer.test.near"
#define DEV_OPERATOR "operator.test.near"
#define DEV_USER "user.test.near"
#define DEV_COINFLIP "coinflip.test.near"

typedef struct dev {
    char home[PATH_MAX];
    char self[PATH_MAX];
    char exe_dir[PATH_MAX];
    char src_dir[PATH_MAX];
    int chain_port, api_port, block_ms;
    bool demo;
    pid_t children[DEV_MAX_CHILDREN];
    int nchildren;
    near_rpc *rpc;
    near_nonce_mgr *nonces;
    char rpc_url[64];
} dev;

static volatile sig_atomic_t stop_requested;
static void on_signal(int sig) {
    (void)sig;
    stop_requested = 1;
}

static long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static bool path_join(char *out, size_t cap, const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la + 1 + lb + 1 > cap) return false;
    memcpy(out, a, la);
    out[la] = '/';
    memcpy(out + la + 1, b, lb + 1);
    return true;
}

static int mkdir_p(const char *path) {
    char tmp[PATH_MAX];
    if (!ol_strlcpy(tmp, path, sizeof tmp)) return -1;
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(tmp, 0755) && errno != EEXIST) return -1;
            *p = '/';
        }
    return (mkdir(tmp, 0755) && errno != EEXIST) ? -1 : 0;
}

/* A TCP port on 127.0.0.1 is free when we can bind it. */
static bool port_free(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return false;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

/* Starts `self argv...` with extra environment entries; output goes to log_path (appended). */
static pid_t spawn(dev *d, const char *const argv[], const char *const env_extra[], const char *log_path) {
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0) dup2(nul, 0);
        for (size_t i = 0; env_extra && env_extra[i]; i++) putenv((char *)env_extra[i]);
        execv(d->self, (char *const *)argv);
        _exit(127);
    }
    if (d->nchildren < DEV_MAX_CHILDREN) d->children[d->nchildren++] = pid;
    return pid;
}

/* Runs a command to completion; captures up to cap-1 bytes of stdout (trailing newline trimmed). */
static int run_capture(const char *const argv[], const char *const env_extra[], char *out, size_t cap) {
    int p[2];
    if (pipe(p)) return -1;
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        int nul = open("/dev/null", O_RDWR);
        if (nul >= 0) {
            dup2(nul, 0);
            dup2(nul, 2);
        }
        for (size_t i = 0; env_extra && env_extra[i]; i++) putenv((char *)env_extra[i]);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(p[1]);
    size_t n = 0;
    ssize_t r;
    char sink[256];
    while ((r = read(p[0], out && n + 1 < cap ? out + n : sink, out && n + 1 < cap ? cap - 1 - n : sizeof sink)) > 0)
        if (out && n + 1 < cap) n += (size_t)r;
    close(p[0]);
    if (out && cap) {
        out[n] = 0;
        while (n && (out[n - 1] == '\n' || out[n - 1] == '\r')) out[--n] = 0;
    }
    int st;
    if (waitpid(pid, &st, 0) < 0) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void stop_children(dev *d) {
    for (int i = d->nchildren - 1; i >= 0; i--)
        if (d->children[i] > 0) kill(d->children[i], SIGTERM);
    long deadline = now_ms() + 10000;
    for (int i = d->nchildren - 1; i >= 0; i--) {
        while (d->children[i] > 0) {
            int st;
            pid_t r = waitpid(d->children[i], &st, WNOHANG);
            if (r == d->children[i] || r < 0) {
                d->children[i] = 0;
                break;
            }
            if (now_ms() > deadline) {
                kill(d->children[i], SIGKILL);
                waitpid(d->children[i], &st, 0);
                d->children[i] = 0;
                break;
            }
            sleep_ms(20);
        }
    }
    d->nchildren = 0;
}

/* Fails when a child died: the caller reports it with the log to look at. */
static bool children_alive(dev *d) {
    for (int i = 0; i < d->nchildren; i++) {
        int st;
        if (d->children[i] > 0 && waitpid(d->children[i], &st, WNOHANG) == d->children[i]) {
            d->children[i] = 0;
            return false;
        }
    }
    return true;
}

/* ---- chain helpers ---- */

static int send_actions(dev *d, near_signer *s, const char *receiver, const near_action *acts, size_t n,
                        const char *what, ol_err *err) {
    json_t *res = NULL;
    near_rpc_error detail = {0};
    near_send_info info;
    if (near_send_actions(d->nonces, s, receiver, acts, n, "FINAL", &res, &info, &detail, err))
        return ol_err_set(err, 1, "%s: %s", what, err->msg);
    near_outcome_kind kind;
    int rc = near_rpc_outcome(res, &kind, NULL, NULL, &detail, err);
    json_decref(res);
    if (rc) return ol_err_set(err, 1, "%s failed: %s", what, err->msg);
    return 0;
}

/* Sends receiver.method(args); the transaction's hash goes to hash (64 bytes). */
static int call(dev *d, near_signer *s, const char *receiver, const char *method, const char *args, uint64_t tgas,
                near_u128 deposit, const char *wait, char hash[64], ol_err *err) {
    json_t *res = NULL;
    near_rpc_error detail = {0};
    near_send_info info;
    if (near_send_call(d->nonces, s, receiver, method, (const uint8_t *)args, strlen(args), tgas * 1000000000000ull,
                       deposit, wait, &res, &info, &detail, err))
        return ol_err_set(err, 1, "%s.%s: %s", receiver, method, err->msg);
    json_decref(res);
    ol_strlcpy(hash, info.hash, 64);
    return 0;
}

static bool account_exists(dev *d, const char *id) {
    json_t *r = NULL;
    near_rpc_error detail = {0};
    ol_err e;
    int rc = near_rpc_view_account(d->rpc, id, NEAR_FINAL, &r, &detail, &e);
    json_decref(r);
    return rc == 0;
}

/* Creates account id (a sub-account of test.near) with a new full-access key saved in creds_dir. */
static int create_account(dev *d, near_signer *root, const char *creds_dir, const char *id, const char *near_amount,
                          ol_err *err) {
    near_credentials c = {0};
    if (near_key_generate(&c.secret_key, &c.public_key, err)) return 1;
    ol_strlcpy(c.account_id, id, sizeof c.account_id);
    char path[PATH_MAX];
    if (near_credentials_path(creds_dir, "sandbox", id, path, sizeof path, err)) return 1;
    if (near_credentials_write(path, &c, err)) return 1;
    near_u128 amount;
    if (near_amount_parse(near_amount, &amount, err)) return 1;
    near_action acts[3];
    memset(acts, 0, sizeof acts);
    acts[0].kind = NEAR_ACTION_CREATE_ACCOUNT;
    acts[1].kind = NEAR_ACTION_TRANSFER;
    acts[1].u.transfer.deposit = amount;
    acts[2].kind = NEAR_ACTION_ADD_KEY;
    acts[2].u.add_key.public_key = c.public_key;
    acts[2].u.add_key.access_key.permission = NEAR_PERM_FULL_ACCESS;
    char what[128];
    snprintf(what, sizeof what, "creating account %s", id);
    return send_actions(d, root, id, acts, 3, what, err);
}

static uint8_t *read_all(const char *path, size_t *len, ol_err *err) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        ol_err_set(err, 1, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 65536;
            uint8_t *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                ol_err_set(err, 1, "out of memory reading %s", path);
                return NULL;
            }
            buf = nb;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0) break;
    }
    fclose(f);
    *len = n;
    return buf;
}

static int deploy(dev *d, near_signer *s, const char *id, const char *wasm_path, const char *init_args, ol_err *err) {
    size_t len;
    uint8_t *code = read_all(wasm_path, &len, err);
    if (!code) return 1;
    near_action acts[2];
    memset(acts, 0, sizeof acts);
    acts[0].kind = NEAR_ACTION_DEPLOY_CONTRACT;
    acts[0].u.deploy.code = code;
    acts[0].u.deploy.code_len = len;
    acts[1].kind = NEAR_ACTION_FUNCTION_CALL;
    acts[1].u.call.method_name = "new";
    acts[1].u.call.args = (const uint8_t *)init_args;
    acts[1].u.call.args_len = strlen(init_args);
    acts[1].u.call.gas = 100000000000000ull;
    char what[128];
    snprintf(what, sizeof what, "deploying %s to %s", wasm_path, id);
    int rc = send_actions(d, s, id, acts, 2, what, err);
    free(code);
    return rc;
}

/* The worker clones as an unprivileged build user: every directory above the repositories must be
 * traversable by others. Fails naming the first one that is not. */
static int check_traversable(const char *dir, ol_err *err) {
    char p[PATH_MAX];
    if (!ol_strlcpy(p, dir, sizeof p)) return ol_err_set(err, 1, "path too long");
    for (;;) {
        struct stat st;
        if (stat(p, &st) == 0 && !(st.st_mode & S_IXOTH))
            return ol_err_set(err, 1,
                              "the worker's build user cannot reach %s: %s is not traversable by others "
                              "(chmod o+x it, or choose another --home)", dir, p);
        char *slash = strrchr(p, '/');
        if (!slash || slash == p) break;
        *slash = 0;
    }
    return 0;
}

/* Publishes guest `name` as a git repository under home/repos; writes its commit id. */
static int publish_guest(dev *d, const char *name, char commit[64], char *url, size_t url_cap, ol_err *err) {
    char dir[PATH_MAX], repos[PATH_MAX], src[PATH_MAX], dst[PATH_MAX], file[64];
    if (!path_join(repos, sizeof repos, d->home, "repos") || !path_join(dir, sizeof dir, repos, name))
        return ol_err_set(err, 1, "home path too long");
    if (mkdir_p(dir)) return ol_err_set(err, 1, "cannot create %s: %s", dir, strerror(errno));
    chmod(d->home, 0755);
    chmod(repos, 0755);
    chmod(dir, 0755);
    if (check_traversable(dir, err)) return 1;
    const char *files[2] = {name, "include/outlayer.h"};
    for (int i = 0; i < 2; i++) {
        snprintf(file, sizeof file, i == 0 ? "%s.c" : "%s", files[i]);
        char rel[128];
        snprintf(rel, sizeof rel, "guests/%s", file);
        if (!path_join(src, sizeof src, d->src_dir, rel)) return ol_err_set(err, 1, "source path too long");
        const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
        if (!path_join(dst, sizeof dst, dir, base)) return ol_err_set(err, 1, "home path too long");
        size_t len;
        uint8_t *b = read_all(src, &len, err);
        if (!b) return ol_err_set(err, 1, "guest %s: %s (set OUTLAYER_SOURCE_DIR to the source tree)", name, err->msg);
        FILE *f = fopen(dst, "wb");
        bool ok = f && fwrite(b, 1, len, f) == len;
        if (f && fclose(f)) ok = false;
        free(b);
        if (!ok) return ol_err_set(err, 1, "cannot write %s", dst);
    }
    const char *init[] = {"git", "-C", dir, "init", "-q", NULL};
    const char *add[] = {"git", "-C", dir, "add", "-A", NULL};
    const char *commit_cmd[] = {"git", "-C", dir, "-c", "user.name=outlayer-dev", "-c", "user.email=dev@outlayer.invalid",
                          "commit", "-q", "--allow-empty", "-m", "guest", NULL};
    const char *head[] = {"git", "-C", dir, "rev-parse", "HEAD", NULL};
    if (run_capture(init, NULL, NULL, 0) || run_capture(add, NULL, NULL, 0))
        return ol_err_set(err, 1, "git failed in %s (is git installed?)", dir);
    char status[64] = "";
    const char *porcelain[] = {"git", "-C", dir, "status", "--porcelain", NULL};
    run_capture(porcelain, NULL, status, sizeof status);
    char tmp[64];
    if (run_capture(head, NULL, tmp, sizeof tmp) || status[0]) {
        if (run_capture(commit_cmd, NULL, NULL, 0)) return ol_err_set(err, 1, "git commit failed in %s", dir);
    }
    if (run_capture(head, NULL, commit, 64) || strlen(commit) != 40)
        return ol_err_set(err, 1, "cannot read the commit of %s", dir);
    snprintf(url, url_cap, "file://%s", dir);
    return 0;
}

static int wait_rpc(dev *d, ol_err *err) {
    long deadline = now_ms() + DEV_START_TIMEOUT_MS;
    while (now_ms() < deadline && !stop_requested) {
        json_t *r = NULL;
        near_rpc_error detail = {0};
        ol_err e;
        if (near_rpc_status(d->rpc, &r, &detail, &e) == 0) {
            json_decref(r);
            return 0;
        }
        if (!children_alive(d)) break;
        sleep_ms(100);
    }
    return ol_err_set(err, 1, "the chain did not answer on %s (see %s/logs/sandbox.log)", d->rpc_url, d->home);
}

/* ---- the demo round ---- */

/* Finds the execution_completed event in the receipts' logs of a final transaction result. */
static json_t *completion_event(json_t *res) {
    json_t *ros = json_object_get(res, "receipts_outcome"), *ro;
    size_t i;
    json_array_foreach(ros, i, ro) {
        json_t *logs = json_object_get(json_object_get(ro, "outcome"), "logs"), *l;
        size_t k;
        json_array_foreach(logs, k, l) {
            const char *s = json_string_value(l);
            if (!s || strncmp(s, "EVENT_JSON:", 11) || !strstr(s, "execution_completed")) continue;
            json_t *ev = json_loads(s + 11, 0, NULL);
            json_t *data = json_array_get(json_object_get(ev, "data"), 0);
            if (data) {
                json_incref(data);
                json_decref(ev);
                return data;
            }
            json_decref(ev);
        }
    }
    return NULL;
}

static int demo(dev *d, near_signer *user, ol_err *err) {
    printf("\ndemo: %s flips a coin on %s (stake 1 NEAR); OutLayer builds and runs the random guest...\n", DEV_USER,
           DEV_COINFLIP);
    fflush(stdout);
    long t0 = now_ms();
    char tx[64] = "";
    if (call(d, user, DEV_COINFLIP, "flip_coin", "{\"choice\":\"Heads\"}", 250, NEAR_ONE_NEAR, "INCLUDED", tx, err))
        return 1;
    printf("demo: transaction %s included; waiting for the result\n", tx);
    fflush(stdout);
    json_t *res = NULL;
    while (!stop_requested) {
        near_rpc_error detail = {0};
        ol_err e;
        json_decref(res);
        res = NULL;
        if (near_rpc_tx_status(d->rpc, tx, DEV_USER, "FINAL", true, &res, &detail, &e) == 0) {
            near_outcome_kind kind;
            if (near_rpc_outcome(res, &kind, NULL, NULL, &detail, &e) != 0 || kind != NEAR_OUTCOME_PENDING) break;
        }
        if (now_ms() - t0 > DEV_DEMO_TIMEOUT_MS) {
            json_decref(res);
            return ol_err_set(err, 1, "the coinflip round did not finish within %d s (see %s/logs/)", DEV_DEMO_TIMEOUT_MS / 1000, d->home);
        }
        if (!children_alive(d)) {
            json_decref(res);
            return ol_err_set(err, 1, "a service stopped during the demo (see %s/logs/)", d->home);
        }
        sleep_ms(200);
    }
    if (!res) return ol_err_set(err, 1, "interrupted");
    near_outcome_kind kind;
    uint8_t *value = NULL;
    size_t vlen = 0;
    near_rpc_error detail = {0};
    int rc = near_rpc_outcome(res, &kind, &value, &vlen, &detail, err);
    json_t *ev = completion_event(res);
    json_decref(res);
    if (rc) {
        json_decref(ev);
        return ol_err_set(err, 1, "flip_coin failed: %s", err->msg);
    }
    printf("demo: result from coinflip: %s\n", value ? (char *)value : "(none)");
    if (ev) {
        const char *ok = json_is_true(json_object_get(ev, "success")) ? "success" : "failure";
        json_t *ru = json_object_get(ev, "resources_used");
        char fee[NEAR_AMOUNT_STR] = "?", refund[NEAR_AMOUNT_STR] = "?";
        near_u128 v;
        ol_err e;
        const char *fs = json_string_value(json_object_get(ev, "payment_charged"));
        const char *rs = json_string_value(json_object_get(ev, "payment_refunded"));
        if (fs && !near_u128_parse(fs, strlen(fs), &v, &e)) near_amount_format(v, fee);
        if (rs && !near_u128_parse(rs, strlen(rs), &v, &e)) near_amount_format(v, refund);
        printf("demo: OutLayer execution: %s, %lld instructions, %lld ms; fee charged %s, refunded %s to the payer\n", ok,
               (long long)json_integer_value(json_object_get(ru, "instructions")),
               (long long)json_integer_value(json_object_get(ru, "time_ms")), fee, refund);
        const char *em = json_string_value(json_object_get(ev, "error_message"));
        if (em && *em) printf("demo: error: %s\n", em);
        json_decref(ev);
    }
    printf("demo: round finished in %.1f s\n", (now_ms() - t0) / 1000.0);
    free(value);
    return 0;
}

/* ---- setup ---- */

static void usage(FILE *out) {
    fprintf(out,
            "usage: outlayer dev [--home DIR] [--demo] [--chain-port N] [--api-port N] [--block-ms MS]\n\n"
            "Runs the whole OutLayer stack on this machine: a local NEAR-compatible chain with the OutLayer and\n"
            "coinflip contracts, the coordinator (SQLite) and one worker. Stops everything on Ctrl-C.\n\n"
            "  --home DIR        all state: chain, coordinator, keys, repositories, logs (default ./.outlayer)\n"
            "  --demo            play one coinflip round end to end, print the outcome, fee and refund, exit\n"
            "  --chain-port N    JSON-RPC port of the chain (default 3030)\n"
            "  --api-port N      coordinator port (default 8080)\n"
            "  --block-ms MS     block time of the chain (default 500)\n"
            "environment: OUTLAYER_SOURCE_DIR locates guests/ (default: the tree this binary was built from)\n");
}

static int parse_int(const char *s, int lo, int hi, const char *name, int *out) {
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == 0 || *end || v < lo || v > hi) {
        fprintf(stderr, "outlayer dev: %s must be an integer in [%d, %d], got '%.32s'\n", name, lo, hi, s);
        return 1;
    }
    *out = (int)v;
    return 0;
}

static int setup(dev *d, ol_err *err) {
    char logs[PATH_MAX], chain[PATH_MAX], creds[PATH_MAX], coord[PATH_MAX], path[PATH_MAX], log[PATH_MAX];
    if (!path_join(logs, sizeof logs, d->home, "logs") || !path_join(chain, sizeof chain, d->home, "chain") ||
        !path_join(creds, sizeof creds, d->home, "credentials") || !path_join(coord, sizeof coord, d->home, "coordinator"))
        return ol_err_set(err, 1, "--home path too long");
    if (mkdir_p(logs) || mkdir_p(chain) || mkdir_p(creds) || mkdir_p(coord))
        return ol_err_set(err, 1, "cannot create directories under %s: %s", d->home, strerror(errno));
    char sub[PATH_MAX];
    if (path_join(sub, sizeof sub, creds, "sandbox")) mkdir_p(sub);
    if (!path_join(sub, sizeof sub, d->home, "builds") || mkdir_p(sub))
        return ol_err_set(err, 1, "cannot create the build directory under %s: %s", d->home, strerror(errno));
    /* the guests, as git repositories the worker clones (before anything starts: it can fail) */
    char random_url[PATH_MAX + 8], random_commit[64], echo_url[PATH_MAX + 8], echo_commit[64];
    if (publish_guest(d, "random", random_commit, random_url, sizeof random_url, err) ||
        publish_guest(d, "echo", echo_commit, echo_url, sizeof echo_url, err))
        return 1;
    if (!port_free(d->chain_port)) return ol_err_set(err, 1, "port %d (--chain-port) is in use", d->chain_port);
    if (!port_free(d->api_port)) return ol_err_set(err, 1, "port %d (--api-port) is in use", d->api_port);

    /* 1. the chain */
    char port[16], bms[16];
    snprintf(port, sizeof port, "%d", d->chain_port);
    snprintf(bms, sizeof bms, "%d", d->block_ms);
    const char *sargv[] = {d->self, "sandbox", "--home", chain, "--port", port, "--block-ms", bms, NULL};
    path_join(log, sizeof log, logs, "sandbox.log");
    if (spawn(d, sargv, NULL, log) < 0) return ol_err_set(err, 1, "cannot start the chain: %s", strerror(errno));
    snprintf(d->rpc_url, sizeof d->rpc_url, "http://127.0.0.1:%d", d->chain_port);
    near_rpc_opts ro = {.url = d->rpc_url, .timeout_ms = 30000};
    if (!(d->rpc = near_rpc_new(&ro, err)) || !(d->nonces = near_nonce_mgr_new(d->rpc, err))) return 1;
    if (wait_rpc(d, err)) return 1;
    printf("chain:        %s (home %s, block %d ms)\n", d->rpc_url, chain, d->block_ms);
    fflush(stdout);

    /* 2. accounts and contracts (once per home) */
    near_credentials rootc;
    if (!path_join(path, sizeof path, chain, "credentials/test.near.json") || near_credentials_read(path, &rootc, err))
        return ol_err_set(err, 1, "reading the chain's root key: %s", err->msg);
    near_signer *root = near_signer_new("test.near", &rootc.secret_key, 1, err);
    if (!root) return 1;
    int rc = 0;
    char outlayer_wasm[PATH_MAX], coinflip_wasm[PATH_MAX];
    path_join(outlayer_wasm, sizeof outlayer_wasm, d->exe_dir, "contracts/outlayer.wasm");
    path_join(coinflip_wasm, sizeof coinflip_wasm, d->exe_dir, "contracts/coinflip.wasm");
    if (!account_exists(d, DEV_OUTLAYER)) {
        printf("setup:        creating accounts and deploying contracts...\n");
        fflush(stdout);
        if ((rc = create_account(d, root, creds, DEV_OUTLAYER, "100", err)) ||
            (rc = create_account(d, root, creds, DEV_OPERATOR, "50", err)) ||
            (rc = create_account(d, root, creds, DEV_USER, "1000", err)) ||
            (rc = create_account(d, root, creds, DEV_COINFLIP, "100", err)))
            goto out;
        near_signer *ol = near_signer_from_credentials(creds, "sandbox", DEV_OUTLAYER, err);
        near_signer *cf = ol ? near_signer_from_credentials(creds, "sandbox", DEV_COINFLIP, err) : NULL;
        near_signer *op = cf ? near_signer_from_credentials(creds, "sandbox", DEV_OPERATOR, err) : NULL;
        char args[PATH_MAX + 256];
        if (!op) rc = 1;
        if (!rc) rc = deploy(d, ol, DEV_OUTLAYER, outlayer_wasm,
                             "{\"owner_id\":\"" DEV_OUTLAYER "\",\"operator_id\":\"" DEV_OPERATOR "\"}", err);
        if (!rc) {
            snprintf(args, sizeof args, "{\"outlayer_id\":\"%s\",\"source\":{\"GitHub\":{\"repo\":\"%s\",\"commit\":\"%s\"}}}",
                     DEV_OUTLAYER, random_url, random_commit);
            rc = deploy(d, cf, DEV_COINFLIP, coinflip_wasm, args, err);
        }
        /* the worker's key: a function-call key of the operator account for resolve_execution */
        near_credentials wk = {0};
        if (!rc) rc = near_key_generate(&wk.secret_key, &wk.public_key, err);
        if (!rc) {
            ol_strlcpy(wk.account_id, DEV_OPERATOR, sizeof wk.account_id);
            path_join(path, sizeof path, d->home, "worker-key.json");
            rc = near_credentials_write(path, &wk, err);
        }
        if (!rc) {
            const char *methods[] = {"resolve_execution"};
            near_action a;
            memset(&a, 0, sizeof a);
            a.kind = NEAR_ACTION_ADD_KEY;
            a.u.add_key.public_key = wk.public_key;
            a.u.add_key.access_key.permission = NEAR_PERM_FUNCTION_CALL;
            a.u.add_key.access_key.has_allowance = true;
            a.u.add_key.access_key.allowance = 10 * NEAR_ONE_NEAR;
            a.u.add_key.access_key.receiver_id = DEV_OUTLAYER;
            a.u.add_key.access_key.method_names = methods;
            a.u.add_key.access_key.n_method_names = 1;
            rc = send_actions(d, op, DEV_OPERATOR, &a, 1, "adding the worker key", err);
        }
        near_signer_free(ol);
        near_signer_free(cf);
        near_signer_free(op);
        if (rc) goto out;
    } else {
        printf("setup:        reusing the accounts and contracts of %s\n", d->home);
    }

    /* 3. the coordinator, with a worker token made once */
    char token[256] = "", token_path[PATH_MAX], env_data[PATH_MAX + 16], env_port[32], env_portfile[PATH_MAX + 16];
    path_join(token_path, sizeof token_path, d->home, "worker-token");
    snprintf(env_data, sizeof env_data, "DATA_DIR=%s", coord);
    snprintf(env_port, sizeof env_port, "PORT=%d", d->api_port);
    const char *cenv[] = {env_data, env_port, "OUTLAYER_ENV_FILE=/dev/null", "LOG_LEVEL=warn", NULL};
    FILE *tf = fopen(token_path, "r");
    if (tf) {
        if (!fgets(token, sizeof token, tf)) token[0] = 0;
        fclose(tf);
        token[strcspn(token, "\r\n")] = 0;
    }
    if (!token[0]) {
        const char *targv[] = {d->self, "coordinator", "token", "create", "--name", "dev-worker", NULL};
        if (run_capture(targv, cenv, token, sizeof token) || !token[0]) {
            rc = ol_err_set(err, 1, "cannot create a worker token with `outlayer coordinator token create`");
            goto out;
        }
        int fd = open(token_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0 || write(fd, token, strlen(token)) < 0 || close(fd)) {
            rc = ol_err_set(err, 1, "cannot write %s", token_path);
            goto out;
        }
    }
    (void)env_portfile;
    const char *cargv[] = {d->self, "coordinator", NULL};
    path_join(log, sizeof log, logs, "coordinator.log");
    if (spawn(d, cargv, cenv, log) < 0) {
        rc = ol_err_set(err, 1, "cannot start the coordinator");
        goto out;
    }
    printf("coordinator:  http://127.0.0.1:%d (data %s)\n", d->api_port, coord);

    /* 4. one worker with the monitor */
    char e_api[64], e_tok[300], e_rpc[96], e_key[PATH_MAX + 32], e_bms[32], e_build[PATH_MAX + 32], e_opk[PATH_MAX + 64];
    snprintf(e_api, sizeof e_api, "API_BASE_URL=http://127.0.0.1:%d", d->api_port);
    snprintf(e_tok, sizeof e_tok, "API_AUTH_TOKEN=%s", token);
    snprintf(e_rpc, sizeof e_rpc, "NEAR_RPC_URL=%s", d->rpc_url);
    snprintf(e_key, sizeof e_key, "WORKER_KEY_FILE=%s/worker-key.json", d->home);
    snprintf(e_bms, sizeof e_bms, "BLOCK_TIME_MS=%d", d->block_ms);
    snprintf(e_build, sizeof e_build, "BUILD_DIR=%s/builds", d->home);
    /* the operator's full-access key lets the worker keep its own key's allowance funded */
    snprintf(e_opk, sizeof e_opk, "OPERATOR_KEY_FILE=%s/sandbox/" DEV_OPERATOR ".json", creds);
    const char *wenv[] = {e_api, e_tok, e_rpc, e_key, e_bms, e_build, e_opk, "WORKER_ID=dev-worker", "WORKER_SLOTS=2",
                    "ALLOWED_SOURCE_SCHEMES=https,file,git", "OUTLAYER_CONTRACT_ID=" DEV_OUTLAYER,
                    "OPERATOR_ACCOUNT_ID=" DEV_OPERATOR, "ENABLE_EVENT_MONITOR=true", "MONITOR_INTERVAL_MS=200",
                    "OUTLAYER_ENV_FILE=/dev/null", "LOG_LEVEL=info", NULL};
    const char *wargv[] = {d->self, "worker", NULL};
    path_join(log, sizeof log, logs, "worker.log");
    if (spawn(d, wargv, wenv, log) < 0) {
        rc = ol_err_set(err, 1, "cannot start the worker");
        goto out;
    }
    sleep_ms(500);
    if (!children_alive(d)) {
        rc = ol_err_set(err, 1, "a service stopped at start (see %s)", logs);
        goto out;
    }
    printf("worker:       dev-worker (logs %s)\n", logs);
    printf("contracts:    %s (operator %s), example caller %s\n", DEV_OUTLAYER, DEV_OPERATOR, DEV_COINFLIP);
    printf("accounts:     %s (keys in %s/sandbox)\n", DEV_USER, creds);
    printf("guests:       random %s @ %s\n              echo   %s @ %s\n", random_url, random_commit, echo_url,
           echo_commit);
    printf("\nask for an execution:\n  %s request --rpc %s --credentials %s --contract %s --as %s \\\n"
           "      --repo %s --commit %s --input 'hello' --wait\n",
           d->self, d->rpc_url, creds, DEV_OUTLAYER, DEV_USER, echo_url, echo_commit);
    fflush(stdout);

    if (d->demo) {
        near_signer *user = near_signer_from_credentials(creds, "sandbox", DEV_USER, err);
        rc = user ? demo(d, user, err) : 1;
        near_signer_free(user);
        goto out;
    }
    printf("\nrunning; Ctrl-C stops everything\n");
    fflush(stdout);
    while (!stop_requested) {
        if (!children_alive(d)) {
            rc = ol_err_set(err, 1, "a service stopped (see %s)", logs);
            break;
        }
        sleep_ms(200);
    }
out:
    near_signer_free(root);
    return rc;
}

int cli_cmd_dev(int argc, char **argv) {
    dev d;
    memset(&d, 0, sizeof d);
    const char *home = "./.outlayer";
    d.chain_port = 3030;
    d.api_port = 8080;
    d.block_ms = 500;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--demo")) {
            d.demo = true;
        } else if (!strcmp(a, "--home") && v) {
            home = v, i++;
        } else if (!strcmp(a, "--chain-port") && v) {
            if (parse_int(v, 1, 65535, "--chain-port", &d.chain_port)) return CLI_EXIT_USAGE;
            i++;
        } else if (!strcmp(a, "--api-port") && v) {
            if (parse_int(v, 1, 65535, "--api-port", &d.api_port)) return CLI_EXIT_USAGE;
            i++;
        } else if (!strcmp(a, "--block-ms") && v) {
            if (parse_int(v, 10, 60000, "--block-ms", &d.block_ms)) return CLI_EXIT_USAGE;
            i++;
        } else {
            fprintf(stderr, "outlayer dev: unknown or incomplete option '%.64s' (see outlayer dev --help)\n", a);
            return CLI_EXIT_USAGE;
        }
    }
    if (mkdir_p(home) || !realpath(home, d.home)) {
        fprintf(stderr, "outlayer dev: cannot use --home %s: %s\n", home, strerror(errno));
        return 1;
    }
    ssize_t n = readlink("/proc/self/exe", d.self, sizeof d.self - 1);
    if (n <= 0) {
        fprintf(stderr, "outlayer dev: cannot find this executable: %s\n", strerror(errno));
        return 1;
    }
    d.self[n] = 0;
    ol_strlcpy(d.exe_dir, d.self, sizeof d.exe_dir);
    char *slash = strrchr(d.exe_dir, '/');
    if (slash) *slash = 0;
    const char *src = getenv("OUTLAYER_SOURCE_DIR");
    ol_strlcpy(d.src_dir, src && *src ? src : OUTLAYER_SOURCE_DIR, sizeof d.src_dir);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);

    ol_err err = {0};
    int rc = setup(&d, &err);
    stop_children(&d);
    near_nonce_mgr_free(d.nonces);
    near_rpc_free(d.rpc);
    if (rc) {
        fprintf(stderr, "outlayer dev: %s\n", err.msg);
        return 1;
    }
    return 0;
}
