/* fuzz_http: the coordinator's request path without sockets — request-target parsing and
 * percent-decoding, routing, body limits, authentication, JSON body parsing and every handler over
 * a real SQLite store in a temp dir. Input format (text):
 *
 *   METHOD TARGET\n
 *   Header: value\n ...      ("Authorization: W" / "Authorization: A" become the worker / admin token)
 *   \n
 *   body bytes
 *
 * Invariants checked: a status in 100..599; every JSON response parses; every 4xx/5xx carries
 * {"error":{"code":"..."}}; no crash, leak or sanitizer report. Long polls are capped at 0 ms. */
#include "coordinator/coordinator_int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FUZZ_INPUT_MAX 70000

static co_server *srv;
static char worker_auth[80];
static const char *const admin_auth = "Bearer fuzz-admin-token-0123456789";

static char dir[64];

static void cleanup(void) {
    if (srv) co_server_free(srv);
    srv = NULL;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (dir[0] && system(cmd) != 0) fprintf(stderr, "fuzz_http: could not remove %s\n", dir);
}

static void init(void) {
    snprintf(dir, sizeof dir, "/tmp/fuzz_http_%d_XXXXXX", (int)getpid());
    if (!mkdtemp(dir)) abort();
    ol_log_set_level(OL_LOG_OFF);
    co_settings set = {
        .host = "127.0.0.1",
        .data_dir = dir,
        .database_url = "",
        .redis_url = "",
        .admin_token = "fuzz-admin-token-0123456789",
        .lease_ms = 30000,
        .max_attempts = 3,
        .cache_budget_bytes = 1 << 20,
        .module_max_bytes = 64 * 1024,
        .rate_per_minute = 0,
        .active_window_ms = 60000,
        .max_connections = 4,
        .db_pool = 1,
        .long_poll_cap_ms = 0,
    };
    ol_err err;
    if (co_server_new(&set, &srv, &err)) {
        fprintf(stderr, "fuzz_http: %s\n", err.msg);
        abort();
    }
    atexit(cleanup);
    char tok[65];
    if (co_token_create(srv->db, "fuzz", tok, &err)) abort();
    snprintf(worker_auth, sizeof worker_auth, "Bearer %s", tok);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!srv) init();
    if (size > FUZZ_INPUT_MAX) return 0;
    char *buf = malloc(size + 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    buf[size] = 0;
    ol_http_request *req = calloc(1, sizeof *req);
    if (!req) {
        free(buf);
        return 0;
    }
    /* head ends at the first empty line; the body is the rest (may hold NUL bytes) */
    char *head_end = strstr(buf, "\n\n");
    size_t head_len = head_end ? (size_t)(head_end - buf) : strnlen(buf, size);
    char *body = head_end ? head_end + 2 : buf + size;
    req->body = body;
    req->body_len = (size_t)(buf + size - body);
    buf[head_len] = 0;
    char *save = NULL;
    char *line = strtok_r(buf, "\n", &save);
    char *sp = line ? strchr(line, ' ') : NULL;
    if (!sp) goto out;
    *sp = 0;
    req->method = line;
    if (ol_http_parse_target(req, sp + 1) != 0) goto out;
    while ((line = strtok_r(NULL, "\n", &save)) && req->nheaders < OL_HTTP_MAX_HEADERS) {
        char *colon = strchr(line, ':');
        if (!colon) continue;
        *colon = 0;
        char *v = colon + 1;
        while (*v == ' ') v++;
        if (strcasecmp(line, "Authorization") == 0 && strcmp(v, "W") == 0) v = worker_auth;
        else if (strcasecmp(line, "Authorization") == 0 && strcmp(v, "A") == 0) v = (char *)admin_auth;
        req->headers[req->nheaders].key = line;
        req->headers[req->nheaders].value = v;
        req->nheaders++;
    }
    ol_http_response resp;
    ol_http_dispatch(srv->http, req, &resp);
    if (resp.status < 100 || resp.status > 599) abort();
    if (strcmp(resp.content_type, "application/json") == 0 && resp.body_len) {
        json_error_t je;
        json_t *j = json_loadb(resp.body, resp.body_len, 0, &je);
        if (!j) {
            fprintf(stderr, "response is not JSON: %.*s\n", (int)resp.body_len, resp.body);
            abort();
        }
        if (resp.status >= 400 && !json_is_string(json_object_get(json_object_get(j, "error"), "code"))) abort();
        json_decref(j);
    } else if (resp.status >= 400) {
        abort(); /* errors are always JSON */
    }
    ol_http_response_free(&resp);
out:
    free(req);
    free(buf);
    return 0;
}
