/* `outlayer coordinator`: settings, the token subcommand, and the server's run loop. */
#include "coordinator/coordinator_int.h"

#include <jansson.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Every setting of the coordinator (DESIGN.md §7); names follow the original where it had one. */
static const ol_cfg_def settings[] = {
    {"HOST", OL_CFG_STRING, 1, 64, "127.0.0.1", "listen address (numeric IPv4 or IPv6; 0.0.0.0 for every interface)", 0},
    {"PORT", OL_CFG_INT, 0, 65535, "8080", "listen port (0 = any free port, see PORT_FILE)", 0},
    {"PORT_FILE", OL_CFG_STRING, 0, 1024, NULL, "write the port actually listened on to this file", 0},
    {"DATA_DIR", OL_CFG_STRING, 1, 1024, "./.outlayer", "data directory: SQLite database and module cache", 0},
    {"DATABASE_URL", OL_CFG_STRING, 0, 1024, NULL,
     "postgres://user:pass@host:port/db for PostgreSQL; empty = SQLite at DATA_DIR/coordinator.db", OL_CFG_SECRET},
    {"DB_POOL_SIZE", OL_CFG_INT, 1, 64, "8", "database connections", 0},
    {"REDIS_URL", OL_CFG_STRING, 0, 1024, NULL, "redis://[:password@]host:port[/db] for cross-coordinator wake-ups and rate limits",
     OL_CFG_SECRET},
    {"ADMIN_BEARER_TOKEN", OL_CFG_STRING, 0, 256, NULL,
     "admin token for /admin/* (at least 16 characters); unset = admin endpoints off", OL_CFG_SECRET},
    {"TASK_LEASE_MS", OL_CFG_INT, 200, 3600000, "30000", "lease length of a claimed task; heartbeats extend it", 0},
    {"TASK_MAX_ATTEMPTS", OL_CFG_INT, 1, 20, "3", "default attempts per task before it fails", 0},
    {"WASM_CACHE_MAX_SIZE_MB", OL_CFG_INT, 1, 10485760, "10240", "module cache budget; least recently used evicted above it", 0},
    {"MODULE_MAX_BYTES", OL_CFG_INT, 1024, 268435456, "33554432", "largest module upload", 0},
    {"RATE_LIMIT_PER_MINUTE", OL_CFG_INT, 0, 1000000, "600", "requests a minute per client address on /public/* (0 = off)", 0},
    {"WORKER_ACTIVE_SECONDS", OL_CFG_INT, 1, 86400, "60", "a worker seen within this is alive", 0},
    {"MAX_CONNECTIONS", OL_CFG_INT, 4, 10000, "256", "concurrent HTTP connections (one thread each)", 0},
    {"NEAR_RPC_URL", OL_CFG_STRING, 0, 1024, NULL, "NEAR JSON-RPC endpoint; /public/pricing reads the contract through it", 0},
    {"OUTLAYER_CONTRACT_ID", OL_CFG_STRING, 0, 64, NULL, "the OutLayer contract (needed with NEAR_RPC_URL)", 0},
    {"CORS_ALLOWED_ORIGINS", OL_CFG_STRING, 0, 2048, NULL,
     "comma-separated origins (or *) allowed to read /public/*, /health and /metrics from a browser", 0},
    {"LOG_LEVEL", OL_CFG_STRING, 1, 8, "info", "debug, info, warn, error or off", 0},
};
#define N_SETTINGS (sizeof settings / sizeof settings[0])

static coordinator_pricing_source g_pricing;

void coordinator_set_pricing_source(const coordinator_pricing_source *src) {
    if (src) g_pricing = *src;
    else memset(&g_pricing, 0, sizeof g_pricing);
}

static void usage(FILE *f, const char *prog) {
    fprintf(f,
            "Usage: %s [flags]                      run the coordinator\n"
            "       %s token create --name NAME     create a worker token (printed once)\n"
            "       %s token revoke --name NAME     revoke a worker token\n"
            "       %s token list                   list token names\n\n",
            prog, prog, prog, prog);
    ol_config_help(settings, N_SETTINGS, f);
}

static int settings_from(const ol_config *cfg, co_settings *s, ol_err *err) {
    memset(s, 0, sizeof *s);
    s->host = ol_config_str(cfg, "HOST");
    s->port = (int)ol_config_int(cfg, "PORT");
    s->data_dir = ol_config_str(cfg, "DATA_DIR");
    s->database_url = ol_config_str(cfg, "DATABASE_URL");
    s->redis_url = ol_config_str(cfg, "REDIS_URL");
    s->admin_token = ol_config_str(cfg, "ADMIN_BEARER_TOKEN");
    s->lease_ms = ol_config_int(cfg, "TASK_LEASE_MS");
    s->max_attempts = (int)ol_config_int(cfg, "TASK_MAX_ATTEMPTS");
    s->cache_budget_bytes = ol_config_int(cfg, "WASM_CACHE_MAX_SIZE_MB") * 1024LL * 1024LL;
    s->module_max_bytes = ol_config_int(cfg, "MODULE_MAX_BYTES");
    s->rate_per_minute = ol_config_int(cfg, "RATE_LIMIT_PER_MINUTE");
    s->active_window_ms = ol_config_int(cfg, "WORKER_ACTIVE_SECONDS") * 1000;
    s->max_connections = (unsigned)ol_config_int(cfg, "MAX_CONNECTIONS");
    s->db_pool = (size_t)ol_config_int(cfg, "DB_POOL_SIZE");
    s->long_poll_cap_ms = CO_CLAIM_WAIT_MAX_MS;
    s->cors_origins = ol_config_str(cfg, "CORS_ALLOWED_ORIGINS");
    if (*s->admin_token && strlen(s->admin_token) < 16)
        return ol_err_set(err, OL_CFG_ERR, "setting ADMIN_BEARER_TOKEN: shorter than 16 characters");
    if (*s->database_url && strncmp(s->database_url, "postgres://", 11) != 0 &&
        strncmp(s->database_url, "postgresql://", 13) != 0 && strncmp(s->database_url, "sqlite:", 7) != 0)
        return ol_err_set(err, OL_CFG_ERR, "setting DATABASE_URL: expected postgres://..., postgresql://... or sqlite:PATH");
    if (strncmp(s->database_url, "sqlite:", 7) == 0) s->database_url += 7;
    if (*s->redis_url && strncmp(s->redis_url, "redis://", 8) != 0)
        return ol_err_set(err, OL_CFG_ERR, "setting REDIS_URL: expected redis://host:port");
    ol_log_level lvl;
    if (!ol_log_parse_level(ol_config_str(cfg, "LOG_LEVEL"), &lvl))
        return ol_err_set(err, OL_CFG_ERR, "setting LOG_LEVEL: expected debug, info, warn, error or off");
    ol_log_set_level(lvl);
    return 0;
}

/* `token create|revoke|list`: opens the store directly (no server needed). */
static int token_command(const co_settings *set, const char *action, const char *name) {
    co_settings s = *set;
    s.redis_url = "";
    s.port = 0;
    co_server *srv;
    ol_err err;
    if (co_server_new(&s, &srv, &err)) {
        fprintf(stderr, "outlayer coordinator: %s\n", err.msg);
        return 1;
    }
    int status = 0;
    if (strcmp(action, "list") == 0) {
        json_t *a;
        if (co_token_list(srv->db, &a, &err)) {
            fprintf(stderr, "outlayer coordinator: %s\n", err.msg);
            status = 1;
        } else {
            size_t i;
            json_t *t;
            json_array_foreach(a, i, t) printf("%s\t%s\n", json_string_value(json_object_get(t, "name")),
                                               json_is_null(json_object_get(t, "revoked_ms")) ? "active" : "revoked");
            json_decref(a);
        }
    } else if (!name || !co_valid_name(name, CO_TOKEN_NAME_MAX)) {
        fprintf(stderr, "outlayer coordinator: token %s needs --name NAME (1..%d characters of A-Z a-z 0-9 . _ - :)\n",
                action, CO_TOKEN_NAME_MAX);
        status = 2;
    } else if (strcmp(action, "create") == 0) {
        char token[65];
        if (co_token_create(srv->db, name, token, &err)) {
            fprintf(stderr, "outlayer coordinator: %s\n", err.msg);
            status = 1;
        } else {
            printf("%s\n", token);
            fflush(stdout);
            fprintf(stderr, "token \"%s\" created; it is shown only now (the coordinator keeps its sha256)\n", name);
        }
        sodium_memzero(token, sizeof token);
    } else if (strcmp(action, "revoke") == 0) {
        if (co_token_revoke(srv->db, name, &err)) {
            fprintf(stderr, "outlayer coordinator: %s\n", err.msg);
            status = 1;
        } else {
            fprintf(stderr, "token \"%s\" revoked\n", name);
        }
    } else {
        fprintf(stderr, "outlayer coordinator: unknown token action \"%s\" (create, revoke, list)\n", action);
        status = 2;
    }
    co_server_free(srv);
    return status;
}

static int serve(const co_settings *set, const char *port_file, const char *rpc_url, const char *contract) {
    /* Signals are taken synchronously by this thread; every other thread inherits the mask. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    co_server *srv;
    ol_err err;
    if (co_server_new(set, &srv, &err)) {
        fprintf(stderr, "outlayer coordinator: %s\n", err.msg);
        return 1;
    }
    coordinator_pricing_source near_src = {0};
    if (g_pricing.fetch) {
        srv->pricing = g_pricing;
    } else if (*rpc_url) {
        if (co_near_pricing_new(rpc_url, contract, &near_src, &err)) {
            fprintf(stderr, "outlayer coordinator: setting NEAR_RPC_URL: %s\n", err.msg);
            co_server_free(srv);
            return 2;
        }
        srv->pricing = near_src;
    }
    if (co_server_start(srv, &err)) {
        fprintf(stderr, "outlayer coordinator: %s\n", err.msg);
        co_server_free(srv);
        co_near_pricing_free(&near_src);
        return 1;
    }
    int port = ol_http_server_port(srv->http);
    OL_INFO("coordinator listening on %s:%d (store %s%s)", set->host, port,
            co_db_dialect(srv->db) == CO_PG ? "postgres" : "sqlite", *set->redis_url ? ", redis on" : "");
    if (port_file && *port_file) {
        char tmp[1100];
        snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
        FILE *f = fopen(tmp, "w");
        if (!f || fprintf(f, "%d\n", port) < 0 || fclose(f) != 0 || rename(tmp, port_file) != 0) {
            fprintf(stderr, "outlayer coordinator: cannot write PORT_FILE %s\n", port_file);
            co_server_free(srv);
            co_near_pricing_free(&near_src);
            return 1;
        }
    }
    int sig = 0;
    sigwait(&sigs, &sig);
    OL_INFO("coordinator: signal %d, stopping", sig);
    co_server_free(srv);
    co_near_pricing_free(&near_src);
    return 0;
}

int coordinator_main(int argc, char **argv) {
    const char *prog = argc > 0 ? argv[0] : "outlayer-coordinator";
    /* Pull out "token ACTION [--name NAME]" before the settings parser sees the flags. */
    char **args = calloc((size_t)argc + 1, sizeof *args);
    if (!args) return 1;
    int n = 0;
    const char *action = NULL, *name = NULL;
    bool token = false;
    for (int i = 0; i < argc; i++) {
        if (i == 1 && strcmp(argv[i], "token") == 0) {
            token = true;
            continue;
        }
        if (token && !action && i == 2 && argv[i][0] != '-') {
            action = argv[i];
            continue;
        }
        if (token && strcmp(argv[i], "--name") == 0 && i + 1 < argc) {
            name = argv[++i];
            continue;
        }
        if (token && strncmp(argv[i], "--name=", 7) == 0) {
            name = argv[i] + 7;
            continue;
        }
        args[n++] = argv[i];
    }
    ol_config *cfg = NULL;
    ol_err err;
    int rc = ol_config_load(settings, N_SETTINGS, n, args, &cfg, &err);
    int status;
    if (rc == OL_CFG_HELP) {
        usage(stdout, prog);
        status = 0;
        goto out;
    }
    if (rc) {
        fprintf(stderr, "outlayer coordinator: %s\n", err.msg);
        status = 2;
        goto out;
    }
    char **rest;
    if (ol_config_rest(cfg, &rest) > 0) {
        fprintf(stderr, "outlayer coordinator: unexpected argument \"%s\" (see --help)\n", rest[0]);
        status = 2;
        goto out;
    }
    co_settings set;
    if (settings_from(cfg, &set, &err)) {
        fprintf(stderr, "outlayer coordinator: %s\n", err.msg);
        status = 2;
        goto out;
    }
    if (token) {
        if (!action) {
            fprintf(stderr, "outlayer coordinator: token needs an action: create, revoke or list\n");
            status = 2;
        } else {
            status = token_command(&set, action, name);
        }
    } else {
        const char *rpc = ol_config_str(cfg, "NEAR_RPC_URL"), *contract = ol_config_str(cfg, "OUTLAYER_CONTRACT_ID");
        if (*rpc && !*contract) {
            fprintf(stderr, "outlayer coordinator: setting OUTLAYER_CONTRACT_ID: required with NEAR_RPC_URL\n");
            status = 2;
        } else {
            status = serve(&set, ol_config_str(cfg, "PORT_FILE"), rpc, contract);
        }
    }
out:
    ol_config_free(cfg);
    free(args);
    return status;
}
