/* WasmUrl sources: a module downloaded with libcurl under a size cap and a time limit, accepted only
 * when its sha256 is the one pinned in the request. Redirects are followed only within the allowed
 * schemes; plain http is allowed only when the configuration allows it (local use and tests). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "worker/worker_int.h"

#define WK_FETCH_MAX_REDIRECTS 5L

typedef struct sink {
    uint8_t *buf;
    size_t len, cap, max;
    bool too_big;
} sink;

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud) {
    sink *s = ud;
    size_t n = size * nmemb;
    size_t need;
    if (!ol_add_size(s->len, n, &need) || need > s->max) {
        s->too_big = true;
        return 0; /* aborts the transfer */
    }
    if (need > s->cap) {
        size_t nc = s->cap ? s->cap : 65536;
        while (nc < need)
            nc = nc > s->max / 2 ? s->max : nc * 2;
        uint8_t *nb = realloc(s->buf, nc);
        if (!nb)
            return 0;
        s->buf = nb;
        s->cap = nc;
    }
    memcpy(s->buf + s->len, ptr, n);
    s->len = need;
    return n;
}

static bool allowed(const char *list, const char *scheme) {
    size_t sl = strlen(scheme);
    for (const char *p = list ? list : ""; *p;) {
        while (*p == ',' || *p == ' ')
            p++;
        size_t n = strcspn(p, ", ");
        if (n == sl && strncasecmp(p, scheme, n) == 0)
            return true;
        p += n;
    }
    return false;
}

int worker_fetch_wasm(const worker_build_config *cfg, const char *url, const char *sha256_hex,
                      worker_build_result *res, ol_err *err) {
    memset(res, 0, sizeof *res);
    ol_strlcpy(res->kind, "url", sizeof res->kind);
    uint64_t t0 = wk_now_ms();
    uint8_t want[32];
    size_t wl = 0;
    if (!sha256_hex || strlen(sha256_hex) != 64 || ol_hex_decode(sha256_hex, 64, want, sizeof want, &wl, NULL) != 0) {
        res->status = WORKER_BUILD_BAD_SOURCE;
        snprintf(res->message, sizeof res->message, "WasmUrl hash must be 64 hex digits (the module's sha256)");
        return 0;
    }
    size_t ulen = url ? strlen(url) : 0;
    const char *sep = url ? strstr(url, "://") : NULL;
    char scheme[16] = "";
    if (sep && (size_t)(sep - url) < sizeof scheme)
        memcpy(scheme, url, (size_t)(sep - url)), scheme[sep - url] = 0;
    if (ulen == 0 || ulen > WORKER_URL_MAX || !sep || !allowed(cfg->allowed_schemes, scheme) ||
        (strcasecmp(scheme, "https") && strcasecmp(scheme, "http"))) {
        res->status = WORKER_BUILD_BAD_SOURCE;
        snprintf(res->message, sizeof res->message, "WasmUrl must be an %s URL of at most %u bytes",
                 allowed(cfg->allowed_schemes, "http") ? "http(s)" : "https", WORKER_URL_MAX);
        return 0;
    }
    for (size_t i = 0; i < ulen; i++)
        if ((unsigned char)url[i] <= 0x20 || url[i] == 0x7f) {
            res->status = WORKER_BUILD_BAD_SOURCE;
            snprintf(res->message, sizeof res->message, "WasmUrl has a space or control character at byte %zu", i);
            return 0;
        }
    CURL *c = curl_easy_init();
    if (!c)
        return ol_err_set(err, 1, "curl_easy_init failed");
    sink s = {.max = cfg->max_module_bytes ? cfg->max_module_bytes : WORKER_MODULE_MAX_BYTES};
    char cerr[CURL_ERROR_SIZE] = "";
    const char *protos = allowed(cfg->allowed_schemes, "http") ? "https,http" : "https";
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, protos);
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, protos);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, WK_FETCH_MAX_REDIRECTS);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)s.max);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)(cfg->fetch_timeout_s ? cfg->fetch_timeout_s : WORKER_FETCH_TIMEOUT_DEFAULT_S));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "outlayer-worker");
    CURLcode rc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(c);
    res->build_ms = wk_now_ms() - t0;
    if (s.too_big || rc == CURLE_FILESIZE_EXCEEDED) {
        free(s.buf);
        res->status = WORKER_BUILD_TOO_BIG;
        snprintf(res->message, sizeof res->message, "WasmUrl module is over the %zu-byte limit", s.max);
        return 0;
    }
    if (rc != CURLE_OK) {
        free(s.buf);
        res->status = WORKER_BUILD_CLONE_FAILED;
        snprintf(res->message, sizeof res->message, "WasmUrl download failed: %.200s", cerr[0] ? cerr : curl_easy_strerror(rc));
        return 0;
    }
    uint8_t got[32];
    wk_sha256(s.buf, s.len, got);
    if (memcmp(got, want, 32) != 0) {
        char hex[65];
        ol_hex_encode(got, 32, hex);
        free(s.buf);
        res->status = WORKER_BUILD_HASH_MISMATCH;
        snprintf(res->message, sizeof res->message, "WasmUrl module's sha256 is %s, not the pinned %.64s", hex, sha256_hex);
        return 0;
    }
    if (s.len < 8 || memcmp(s.buf, "\0asm", 4) != 0) {
        free(s.buf);
        res->status = WORKER_BUILD_NO_ARTIFACT;
        snprintf(res->message, sizeof res->message, "WasmUrl content is not a WebAssembly module");
        return 0;
    }
    res->wasm = s.buf;
    res->wasm_len = s.len;
    memcpy(res->sha256, got, 32);
    ol_hex_encode(got, 32, res->sha256_hex);
    res->status = WORKER_BUILD_OK;
    return 0;
}
