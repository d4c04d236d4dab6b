/* base: what every module shares. Errors as values with a bounded message, checked arithmetic on
 * untrusted sizes, and bounded string copies. No allocation on the error path. */
#ifndef OUTLAYER_BASE_H
#define OUTLAYER_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* An error: a code (0 = ok, otherwise module-defined) and a message made with snprintf. */
typedef struct ol_err {
    int code;
    char msg[256];
} ol_err;

/* Sets err (if not NULL) and returns code. The message is truncated to fit, never overflows. */
int ol_err_set(ol_err *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int ol_err_setv(ol_err *err, int code, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));
void ol_err_clear(ol_err *err);

/* Copies src into dst (capacity cap > 0), always terminating; returns false when src was truncated. */
bool ol_strlcpy(char *dst, const char *src, size_t cap);

/* Checked arithmetic: return false on overflow and leave *out unspecified. */
static inline bool ol_add_size(size_t a, size_t b, size_t *out) { return !__builtin_add_overflow(a, b, out); }
static inline bool ol_mul_size(size_t a, size_t b, size_t *out) { return !__builtin_mul_overflow(a, b, out); }
static inline bool ol_add_u64(uint64_t a, uint64_t b, uint64_t *out) { return !__builtin_add_overflow(a, b, out); }
static inline bool ol_mul_u64(uint64_t a, uint64_t b, uint64_t *out) { return !__builtin_mul_overflow(a, b, out); }

/* Lowercase hex of n bytes into out (capacity >= 2n+1). */
void ol_hex_encode(const uint8_t *in, size_t n, char *out);


/* ---- encodings (src/base/encoding.c; owner: near helper) -------------------------------------------
 * base58 (Bitcoin alphabet), base64 (standard alphabet, '=' padding required) and hex decoding. The
 * decoders are strict (one spelling per byte string; whitespace, bad padding and non-zero unused bits
 * are rejected) and their errors name the bad character and its 0-based position. Nothing allocates:
 * the caller passes the output buffer and its capacity; base58/base64 output is NUL-terminated. */
enum {
    OL_ENC_EINVAL = 1,  /* malformed input (bad character, padding, odd length) */
    OL_ENC_ESPACE = 2,  /* output buffer too small */
    OL_ENC_ETOOBIG = 3, /* input over the limit below */
    OL_ENC_ELENGTH = 4, /* decoded length differs from the expected one */
};
/* base58 is quadratic; NEAR uses it for 32-byte hashes and keys (largest: ML-DSA-65 signature, 3309 bytes). */
#define OL_BASE58_MAX_BYTES 4096
#define OL_BASE58_MAX_CHARS 5600 /* >= ceil(4096 * log(256)/log(58)) */
/* base64 carries contract code and arguments (4 MiB each on NEAR) inside a transaction; 8 MiB leaves room. */
#define OL_BASE64_MAX_BYTES (8 * 1024 * 1024)

size_t ol_base58_encoded_max(size_t n); /* capacity (with NUL) enough for n bytes */
int ol_base58_encode(const uint8_t *in, size_t n, char *out, size_t cap, ol_err *err);
int ol_base58_decode(const char *in, size_t len, uint8_t *out, size_t cap, size_t *out_len, ol_err *err);
/* Decodes and requires exactly want bytes (hashes, keys), else OL_ENC_ELENGTH. */
int ol_base58_decode_exact(const char *in, size_t len, uint8_t *out, size_t want, ol_err *err);
size_t ol_base64_encoded_len(size_t n); /* characters without the NUL */
int ol_base64_encode(const uint8_t *in, size_t n, char *out, size_t cap, ol_err *err);
size_t ol_base64_decoded_max(size_t len); /* bytes enough for len characters */
int ol_base64_decode(const char *in, size_t len, uint8_t *out, size_t cap, size_t *out_len, ol_err *err);
/* Hex, either case, even length. */
int ol_hex_decode(const char *in, size_t len, uint8_t *out, size_t cap, size_t *out_len, ol_err *err);
/* ---- end encodings ---- */

/* ==== logging (src/base/log.c) ==== */
/* Leveled logging to stderr (or ol_log_set_fd): one bounded line per call, written atomically,
 * control characters replaced. The level is checked before formatting. */
#define OL_LOG_LINE_MAX 2048 /* a line longer than this is truncated; keeps a log call allocation-free */
typedef enum ol_log_level { OL_LOG_DEBUG, OL_LOG_INFO, OL_LOG_WARN, OL_LOG_ERROR, OL_LOG_OFF } ol_log_level;
void ol_log_set_level(ol_log_level level);
ol_log_level ol_log_get_level(void);
void ol_log_set_fd(int fd);
bool ol_log_parse_level(const char *s, ol_log_level *out); /* "debug", "info", "warn", "error", "off" */
bool ol_log_enabled(ol_log_level level);
void ol_log(ol_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ol_logv(ol_log_level level, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
#define OL_DEBUG(...) (ol_log_enabled(OL_LOG_DEBUG) ? ol_log(OL_LOG_DEBUG, __VA_ARGS__) : (void)0)
#define OL_INFO(...) ol_log(OL_LOG_INFO, __VA_ARGS__)
#define OL_WARN(...) ol_log(OL_LOG_WARN, __VA_ARGS__)
#define OL_ERROR(...) ol_log(OL_LOG_ERROR, __VA_ARGS__)
#define OL_STR_(x) #x
#define OL_STR(x) OL_STR_(x)

/* ==== settings table (src/base/config.c) ==== */
/* A module declares its settings once; ol_config_load reads them from defaults, the environment, a
 * .env file (./.env, or --env-file PATH / OUTLAYER_ENV_FILE) and flags (--port 8080, --port=8080,
 * bare --flag for booleans), each overriding the previous (DESIGN.md §7). Flag names are the setting
 * names lower-cased with '-' for '_'. Arguments that are not flags are kept in order (ol_config_rest).
 * Unknown flags are errors; unknown names in the environment or .env are ignored (shared files). */
#define OL_CFG_VALUE_MAX 4096 /* longest accepted value; URLs and tokens fit, a pasted file does not */
enum { OL_CFG_ERR = 1, OL_CFG_HELP = 2 };
typedef enum ol_cfg_type { OL_CFG_STRING, OL_CFG_INT, OL_CFG_BOOL } ol_cfg_type;
#define OL_CFG_SECRET 1u /* never printed (its default is hidden in --help) */
typedef struct ol_cfg_def {
    const char *name; /* environment name, e.g. "PORT"; flag --port */
    ol_cfg_type type;
    long long min, max; /* INT: inclusive range. STRING: length range (max 0 = OL_CFG_VALUE_MAX; min > 0 = required) */
    const char *def;    /* default as text, NULL = unset */
    const char *help;
    unsigned flags;
} ol_cfg_def;
typedef struct ol_config ol_config;
/* Returns 0 with *out set (caller frees with ol_config_free); OL_CFG_HELP with *out set when --help or
 * -h was given (print ol_config_help); OL_CFG_ERR with err naming the setting and source. defs and
 * argv are borrowed and must outlive *out. */
int ol_config_load(const ol_cfg_def *defs, size_t n, int argc, char **argv, ol_config **out, ol_err *err);
void ol_config_free(ol_config *c);
const char *ol_config_str(const ol_config *c, const char *name); /* "" when unset; borrowed */
long long ol_config_int(const ol_config *c, const char *name);
bool ol_config_bool(const ol_config *c, const char *name);
bool ol_config_is_set(const ol_config *c, const char *name);
const char *ol_config_source(const ol_config *c, const char *name); /* "default", "environment", ".env", "flag" */
size_t ol_config_rest(const ol_config *c, char ***out_rest);        /* positional args, borrowed */
void ol_config_help(const ol_cfg_def *defs, size_t n, FILE *out);

/* ==== JSON helpers over jansson (src/base/json.c, library ol_http) ==== */
/* Getters check presence, type and range and set err naming the field; an absent optional field
 * leaves *out unchanged (for int/bool) or NULL (for strings). Strings are borrowed from obj. */
enum { OL_JSON_ERR = 1 };
struct json_t;
int ol_json_parse_object(const char *buf, size_t len, struct json_t **out, ol_err *err); /* caller decrefs */
int ol_json_str(const struct json_t *obj, const char *key, bool required, size_t max_len, const char **out, ol_err *err);
int ol_json_int(const struct json_t *obj, const char *key, bool required, long long min, long long max, long long *out,
                ol_err *err);
int ol_json_bool(const struct json_t *obj, const char *key, bool required, bool *out, ol_err *err);

/* ==== HTTP server (src/base/http_server.c, library ol_http) ==== */
/* libmicrohttpd, one thread per connection (handlers may block for long polls; the connection limit
 * bounds the threads). Routes are "METHOD /path/:param"; errors are JSON
 * {"error":{"code":"...","message":"..."}} with stable codes: not_found, method_not_allowed,
 * body_too_large, too_many_headers, too_many_parameters, bad_request, internal, plus the handlers'. */
#define OL_HTTP_MAX_ROUTES 64
#define OL_HTTP_MAX_PARAMS 4         /* ":name" segments per route */
#define OL_HTTP_MAX_HEADERS 64       /* request headers; more is 431 */
#define OL_HTTP_MAX_QUERY 32         /* query parameters; more is 400 */
#define OL_HTTP_HEADER_BYTES_MAX 32768 /* per-connection memory for the request line and headers (MHD) */
#define OL_HTTP_BODY_MAX_DEFAULT (1024 * 1024) /* JSON bodies; routes that take modules set their own */
#define OL_HTTP_IDLE_TIMEOUT_S 120   /* idle connection close; above the longest long poll (60 s) */
#define OL_HTTP_DRAIN_MAX (8 * 1024 * 1024) /* an oversized body up to this is read and discarded before the
                                             * 413 (clients see the answer); above it the 413 goes out at once */
#define OL_HTTP_RESP_HEADERS 4
enum { OL_HTTP_ERR_SYNTAX = 1, OL_HTTP_ERR_LIMIT = 2 };
typedef struct ol_http_kv {
    const char *key, *value;
} ol_http_kv;
/* A request as handlers see it; every pointer is borrowed and valid during the handler only. The
 * body is NUL-terminated (body[body_len] == 0) but may contain NUL bytes. */
typedef struct ol_http_request {
    const char *method, *path;
    ol_http_kv headers[OL_HTTP_MAX_HEADERS];
    size_t nheaders;
    ol_http_kv query[OL_HTTP_MAX_QUERY];
    size_t nquery;
    const char *params[OL_HTTP_MAX_PARAMS];
    size_t nparams;
    char param_buf[512];
    const char *body;
    size_t body_len;
    char remote_ip[64];
} ol_http_request;
/* A response: body is malloc'd and owned by the response (freed by the server after sending). */
typedef struct ol_http_response {
    int status;
    char *body;
    size_t body_len;
    char content_type[64];
    char header_names[OL_HTTP_RESP_HEADERS][32];
    char header_values[OL_HTTP_RESP_HEADERS][128];
    size_t nheaders;
} ol_http_response;
typedef void (*ol_http_handler)(const ol_http_request *req, ol_http_response *resp, void *ctx);
typedef struct ol_http_server ol_http_server;
ol_http_server *ol_http_server_new(void); /* NULL on OOM; free with ol_http_server_free */
/* body_max 0 = OL_HTTP_BODY_MAX_DEFAULT. pattern is copied; ctx borrowed. */
int ol_http_route(ol_http_server *s, const char *method, const char *pattern, size_t body_max,
                  ol_http_handler handler, void *ctx, ol_err *err);
/* Listens on host (numeric IPv4/IPv6) and port (0 = any free port; see ol_http_server_port). */
int ol_http_server_start(ol_http_server *s, const char *host, int port, unsigned max_conns, ol_err *err);
int ol_http_server_port(const ol_http_server *s);
void ol_http_server_stop(ol_http_server *s); /* waits for running handlers */
void ol_http_server_free(ol_http_server *s);
/* Routing and limits without the network (tests, fuzzing): req->method, path, headers, query and body
 * set by the caller; resp is initialised here; free its body with ol_http_response_free. */
void ol_http_dispatch(ol_http_server *s, ol_http_request *req, ol_http_response *resp);
/* Splits "/path?a=1&b=2" in place into req->path and req->query, percent-decoding both. Returns 0 or
 * OL_HTTP_ERR_SYNTAX (bad escape, %00, path not starting with '/') or OL_HTTP_ERR_LIMIT. */
int ol_http_parse_target(ol_http_request *req, char *target);
const char *ol_http_header(const ol_http_request *req, const char *name); /* case-insensitive; NULL if absent */
const char *ol_http_query(const ol_http_request *req, const char *name);
void ol_http_json(ol_http_response *resp, int status, struct json_t *obj); /* steals obj */
void ol_http_text(ol_http_response *resp, int status, const char *ctype, const char *text); /* copies */
void ol_http_take_body(ol_http_response *resp, int status, const char *ctype, char *body, size_t len); /* takes body */
void ol_http_error(ol_http_response *resp, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void ol_http_set_header(ol_http_response *resp, const char *name, const char *value);
void ol_http_response_free(ol_http_response *resp);

#endif
