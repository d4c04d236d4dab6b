/* A small HTTP server over libmicrohttpd: a route table (method + pattern with ":name" segments), a
 * body limit per route checked against Content-Length before any byte is read and again while the
 * body arrives, header count and size limits, and JSON error bodies with stable codes
 * ({"error":{"code":"...","message":"..."}}). One thread per connection (MHD's mode), so a handler may
 * block, e.g. for a long poll; the connection limit bounds the threads.
 *
 * ol_http_dispatch() is the whole request path after the network (routing, limits, handler) and is
 * used by the fuzzer and tests without sockets. */
#define _GNU_SOURCE
#include "base/base.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct route {
    char method[8];
    char pattern[128];
    size_t body_max;
    ol_http_handler handler;
    void *ctx;
} route;

struct ol_http_server {
    route routes[OL_HTTP_MAX_ROUTES];
    size_t nroutes;
    struct MHD_Daemon *daemon;
    int port;
    size_t default_body_max;
};

/* Per-request state kept across MHD's calls (con_cls). */
typedef struct conn_state {
    char *body;
    size_t len, cap, max;
    bool too_big;
    bool header_overflow;
} conn_state;

ol_http_server *ol_http_server_new(void) {
    ol_http_server *s = calloc(1, sizeof *s);
    if (s) s->default_body_max = OL_HTTP_BODY_MAX_DEFAULT;
    return s;
}

int ol_http_route(ol_http_server *s, const char *method, const char *pattern, size_t body_max,
                  ol_http_handler handler, void *ctx, ol_err *err) {
    if (s->nroutes >= OL_HTTP_MAX_ROUTES)
        return ol_err_set(err, 1, "http: more than %d routes (OL_HTTP_MAX_ROUTES)", OL_HTTP_MAX_ROUTES);
    route *r = &s->routes[s->nroutes];
    if (!ol_strlcpy(r->method, method, sizeof r->method) || !ol_strlcpy(r->pattern, pattern, sizeof r->pattern))
        return ol_err_set(err, 1, "http: route %s %s too long", method, pattern);
    r->body_max = body_max ? body_max : s->default_body_max;
    r->handler = handler;
    r->ctx = ctx;
    s->nroutes++;
    return 0;
}

/* Matches path against pattern; on success fills req->params (pointers into req's param buffer). */
static bool match_route(const route *r, const char *path, ol_http_request *req) {
    const char *p = r->pattern, *u = path;
    size_t np = 0, used = 0;
    while (*p && *u) {
        if (*p == ':') {
            while (*p && *p != '/') p++;
            const char *seg = u;
            while (*u && *u != '/') u++;
            size_t sl = (size_t)(u - seg);
            if (sl == 0 || np >= OL_HTTP_MAX_PARAMS || used + sl + 1 > sizeof req->param_buf) return false;
            memcpy(req->param_buf + used, seg, sl);
            req->param_buf[used + sl] = 0;
            req->params[np++] = req->param_buf + used;
            used += sl + 1;
            continue;
        }
        if (*p != *u) return false;
        p++, u++;
    }
    if (*p || *u) return false;
    req->nparams = np;
    return true;
}

/* Finds the route; *out_status is 404 (no path) or 405 (path but not method) when none. */
static const route *find_route(ol_http_server *s, ol_http_request *req, int *out_status) {
    *out_status = 404;
    for (size_t i = 0; i < s->nroutes; i++) {
        const route *r = &s->routes[i];
        if (!match_route(r, req->path, req)) continue;
        if (strcmp(r->method, req->method) == 0) return r;
        *out_status = 405;
    }
    req->nparams = 0;
    return NULL;
}

const char *ol_http_header(const ol_http_request *req, const char *name) {
    for (size_t i = 0; i < req->nheaders; i++)
        if (strcasecmp(req->headers[i].key, name) == 0) return req->headers[i].value;
    return NULL;
}

const char *ol_http_query(const ol_http_request *req, const char *name) {
    for (size_t i = 0; i < req->nquery; i++)
        if (strcmp(req->query[i].key, name) == 0) return req->query[i].value;
    return NULL;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    c = (char)tolower((unsigned char)c);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Percent-decodes s in place ('+' as space when plus_space); false on a bad escape or a NUL byte. */
static bool pct_decode(char *s, bool plus_space) {
    char *w = s;
    for (char *r = s; *r; r++) {
        if (*r == '%') {
            int h = hexval(r[1]), l = h < 0 ? -1 : hexval(r[2]);
            if (h < 0 || l < 0 || (h == 0 && l == 0)) return false;
            *w++ = (char)(h * 16 + l);
            r += 2;
        } else {
            *w++ = (plus_space && *r == '+') ? ' ' : *r;
        }
    }
    *w = 0;
    return true;
}

int ol_http_parse_target(ol_http_request *req, char *target) {
    char *q = strchr(target, '?');
    req->nquery = 0;
    if (q) {
        *q++ = 0;
        while (*q) {
            char *amp = strchr(q, '&');
            if (amp) *amp = 0;
            if (*q) {
                if (req->nquery >= OL_HTTP_MAX_QUERY) return OL_HTTP_ERR_LIMIT;
                char *eq = strchr(q, '=');
                if (eq) *eq = 0;
                if (!pct_decode(q, true) || (eq && !pct_decode(eq + 1, true))) return OL_HTTP_ERR_SYNTAX;
                req->query[req->nquery].key = q;
                req->query[req->nquery].value = eq ? eq + 1 : "";
                req->nquery++;
            }
            if (!amp) break;
            q = amp + 1;
        }
    }
    if (!pct_decode(target, false) || target[0] != '/') return OL_HTTP_ERR_SYNTAX;
    req->path = target;
    return 0;
}

void ol_http_set_header(ol_http_response *resp, const char *name, const char *value) {
    if (resp->nheaders >= OL_HTTP_RESP_HEADERS) return;
    ol_strlcpy(resp->header_names[resp->nheaders], name, sizeof resp->header_names[0]);
    ol_strlcpy(resp->header_values[resp->nheaders], value, sizeof resp->header_values[0]);
    resp->nheaders++;
}

static void set_body(ol_http_response *resp, int status, const char *ctype, char *body, size_t len) {
    free(resp->body);
    resp->status = status;
    resp->body = body;
    resp->body_len = len;
    ol_strlcpy(resp->content_type, ctype, sizeof resp->content_type);
}

void ol_http_json(ol_http_response *resp, int status, struct json_t *obj) {
    char *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
    json_decref(obj);
    if (!text) {
        ol_http_error(resp, 500, "internal", "could not encode the response");
        return;
    }
    set_body(resp, status, "application/json", text, strlen(text));
}

void ol_http_text(ol_http_response *resp, int status, const char *ctype, const char *text) {
    char *copy = strdup(text);
    if (!copy) {
        set_body(resp, 500, "text/plain", NULL, 0);
        return;
    }
    set_body(resp, status, ctype, copy, strlen(copy));
}

void ol_http_take_body(ol_http_response *resp, int status, const char *ctype, char *body, size_t len) {
    set_body(resp, status, ctype, body, len);
}

void ol_http_error(ol_http_response *resp, int status, const char *code, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *o = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg);
    char *text = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
    json_decref(o);
    if (!text) {
        /* The message was not valid UTF-8 or memory ran out: answer with the code alone. */
        char buf[160];
        snprintf(buf, sizeof buf, "{\"error\":{\"code\":\"%s\",\"message\":\"\"}}", code);
        text = strdup(buf);
    }
    set_body(resp, status, "application/json", text, text ? strlen(text) : 0);
}

void ol_http_response_free(ol_http_response *resp) {
    free(resp->body);
    resp->body = NULL;
    resp->body_len = 0;
}

void ol_http_dispatch(ol_http_server *s, ol_http_request *req, ol_http_response *resp) {
    memset(resp, 0, sizeof *resp);
    int status;
    const route *r = find_route(s, req, &status);
    if (!r) {
        if (status == 405) ol_http_error(resp, 405, "method_not_allowed", "%s is not allowed on this path", req->method);
        else ol_http_error(resp, 404, "not_found", "no such endpoint");
        return;
    }
    if (req->body_len > r->body_max) {
        ol_http_error(resp, 413, "body_too_large", "request body is larger than %zu bytes (the limit of this endpoint)",
                      r->body_max);
        return;
    }
    r->handler(req, resp, r->ctx);
    if (resp->status == 0) ol_http_error(resp, 500, "internal", "handler produced no response");
}

/* ---- libmicrohttpd glue ---- */

typedef struct collect_ctx {
    ol_http_request *req;
    bool overflow;
} collect_ctx;

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
    collect_ctx *c = cls;
    if (c->req->nheaders >= OL_HTTP_MAX_HEADERS) {
        c->overflow = true;
        return MHD_NO;
    }
    c->req->headers[c->req->nheaders].key = key;
    c->req->headers[c->req->nheaders].value = value ? value : "";
    c->req->nheaders++;
    return MHD_YES;
}

static enum MHD_Result collect_query(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
    collect_ctx *c = cls;
    if (c->req->nquery >= OL_HTTP_MAX_QUERY) {
        c->overflow = true;
        return MHD_NO;
    }
    c->req->query[c->req->nquery].key = key;
    c->req->query[c->req->nquery].value = value ? value : "";
    c->req->nquery++;
    return MHD_YES;
}

static enum MHD_Result send_response(struct MHD_Connection *conn, ol_http_response *resp) {
    struct MHD_Response *r =
        MHD_create_response_from_buffer(resp->body_len, resp->body ? resp->body : (void *)"", resp->body
                                                                                                    ? MHD_RESPMEM_MUST_FREE
                                                                                                    : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        ol_http_response_free(resp);
        return MHD_NO;
    }
    resp->body = NULL; /* owned by MHD now */
    if (resp->content_type[0]) MHD_add_response_header(r, "Content-Type", resp->content_type);
    for (size_t i = 0; i < resp->nheaders; i++) MHD_add_response_header(r, resp->header_names[i], resp->header_values[i]);
    enum MHD_Result ok = MHD_queue_response(conn, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result send_error(struct MHD_Connection *conn, int status, const char *code, const char *msg) {
    ol_http_response resp;
    memset(&resp, 0, sizeof resp);
    ol_http_error(&resp, status, code, "%s", msg);
    return send_response(conn, &resp);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
    ol_http_server *s = cls;
    conn_state *st = *con_cls;
    if (!st) {
        st = calloc(1, sizeof *st);
        if (!st) return MHD_NO;
        *con_cls = st;
        /* Find the route's body limit and refuse an oversized declared body before reading it. */
        ol_http_request probe;
        memset(&probe, 0, sizeof probe);
        probe.method = method;
        probe.path = url;
        int status;
        const route *r = find_route(s, &probe, &status);
        st->max = r ? r->body_max : s->default_body_max;
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (cl) {
            char *end;
            unsigned long long v = strtoull(cl, &end, 10);
            if (*end || end == cl || v > OL_HTTP_DRAIN_MAX) {
                char msg[128];
                snprintf(msg, sizeof msg, "request body is larger than %zu bytes (the limit of this endpoint)", st->max);
                return send_error(conn, 413, "body_too_large", msg);
            }
            /* Moderately oversized: read and discard the body, then answer, so that the client (still
             * sending) reliably sees the 413 instead of a reset connection. */
            if (v > st->max) st->too_big = true;
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (st->too_big) return MHD_YES;
        size_t need;
        if (!ol_add_size(st->len, n, &need) || need > st->max) {
            st->too_big = true;
            return MHD_YES;
        }
        if (need + 1 > st->cap) {
            size_t cap = st->cap ? st->cap : 4096;
            while (cap < need + 1) cap *= 2;
            if (cap > st->max + 1) cap = st->max + 1;
            char *b = realloc(st->body, cap);
            if (!b) return MHD_NO;
            st->body = b;
            st->cap = cap;
        }
        memcpy(st->body + st->len, upload_data, n);
        st->len = need;
        return MHD_YES;
    }
    if (st->too_big) {
        char msg[128];
        snprintf(msg, sizeof msg, "request body is larger than %zu bytes (the limit of this endpoint)", st->max);
        return send_error(conn, 413, "body_too_large", msg);
    }
    ol_http_request *req = calloc(1, sizeof *req);
    if (!req) return MHD_NO;
    req->method = method;
    req->path = url;
    req->body = st->body ? st->body : "";
    if (st->body) st->body[st->len] = 0;
    req->body_len = st->len;
    collect_ctx cc = {req, false};
    MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_header, &cc);
    if (cc.overflow) {
        free(req);
        return send_error(conn, 431, "too_many_headers", "more than " OL_STR(OL_HTTP_MAX_HEADERS) " request headers");
    }
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_query, &cc);
    if (cc.overflow) {
        free(req);
        return send_error(conn, 400, "too_many_parameters", "more than " OL_STR(OL_HTTP_MAX_QUERY) " query parameters");
    }
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, req->remote_ip, sizeof req->remote_ip);
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, req->remote_ip, sizeof req->remote_ip);
    }
    ol_http_response resp;
    ol_http_dispatch(s, req, &resp);
    free(req);
    return send_response(conn, &resp);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe) {
    conn_state *st = *con_cls;
    if (!st) return;
    free(st->body);
    free(st);
    *con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap) {
    char line[512];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    vsnprintf(line, sizeof line, fmt, ap); /* MHD's own format strings */
#pragma GCC diagnostic pop
    OL_DEBUG("http: %s", line);
}

int ol_http_server_start(ol_http_server *s, const char *host, int port, unsigned max_conns, ol_err *err) {
    struct sockaddr_in sa4;
    struct sockaddr_in6 sa6;
    const struct sockaddr *sa;
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    memset(&sa4, 0, sizeof sa4);
    memset(&sa6, 0, sizeof sa6);
    if (port < 0 || port > 65535) return ol_err_set(err, 1, "http: port %d out of range", port);
    if (inet_pton(AF_INET, host, &sa4.sin_addr) == 1) {
        sa4.sin_family = AF_INET;
        sa4.sin_port = htons((uint16_t)port);
        sa = (const struct sockaddr *)&sa4;
    } else if (inet_pton(AF_INET6, host, &sa6.sin6_addr) == 1) {
        sa6.sin6_family = AF_INET6;
        sa6.sin6_port = htons((uint16_t)port);
        sa = (const struct sockaddr *)&sa6;
        flags |= MHD_USE_IPv6;
    } else {
        return ol_err_set(err, 1, "http: host \"%.64s\" is not an IPv4 or IPv6 address", host);
    }
    s->daemon = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, sa,
                                 MHD_OPTION_CONNECTION_LIMIT, max_conns, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                                 (size_t)OL_HTTP_HEADER_BYTES_MAX, MHD_OPTION_CONNECTION_TIMEOUT,
                                 (unsigned)OL_HTTP_IDLE_TIMEOUT_S, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                                 MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_LISTENING_ADDRESS_REUSE,
                                 (unsigned)1, MHD_OPTION_END);
    if (!s->daemon) return ol_err_set(err, 1, "http: cannot listen on %s:%d (address in use or not permitted)", host, port);
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? (int)di->port : port;
    return 0;
}

int ol_http_server_port(const ol_http_server *s) { return s->port; }

void ol_http_server_stop(ol_http_server *s) {
    if (s && s->daemon) {
        MHD_stop_daemon(s->daemon);
        s->daemon = NULL;
    }
}

void ol_http_server_free(ol_http_server *s) {
    if (!s) return;
    ol_http_server_stop(s);
    free(s);
}
