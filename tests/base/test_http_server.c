/* HTTP server: routing with parameters, 404/405, body limits (declared and streamed), header limits,
 * query decoding, JSON errors; over a real socket on 127.0.0.1 with libcurl, and through
 * ol_http_dispatch without one. */
#include "base/base.h"
#include "test.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdlib.h>

static void echo(const ol_http_request *req, ol_http_response *resp, void *ctx) {
    const char *q = ol_http_query(req, "q");
    const char *h = ol_http_header(req, "x-test");
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:I}", "tag", (const char *)ctx, "param", req->nparams ? req->params[0] : "",
                          "q", q ? q : "", "h", h ? h : "", "len", (json_int_t)req->body_len);
    ol_http_json(resp, 200, o);
}

typedef struct buf {
    char data[65536];
    size_t len;
} buf;

static size_t on_data(char *p, size_t sz, size_t n, void *ud) {
    buf *b = ud;
    size_t k = sz * n;
    if (b->len + k >= sizeof b->data) k = sizeof b->data - b->len - 1;
    memcpy(b->data + b->len, p, k);
    b->len += k;
    b->data[b->len] = 0;
    return sz * n;
}

static long request(int port, const char *method, const char *path, const char *body, size_t body_len,
                    struct curl_slist *hdrs, buf *out) {
    char url[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    CURL *c = curl_easy_init();
    out->len = 0;
    out->data[0] = 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    if (hdrs) curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    if (rc == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    return status;
}

int main(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    ol_log_set_level(OL_LOG_WARN);
    ol_err err;
    ol_http_server *s = ol_http_server_new();
    ASSERT_TRUE(s);
    ASSERT_EQ(ol_http_route(s, "GET", "/items/:id", 0, echo, (void *)"get", &err), 0);
    ASSERT_EQ(ol_http_route(s, "POST", "/items/:id/body", 100, echo, (void *)"post", &err), 0);
    ASSERT_EQ(ol_http_route(s, "GET", "/plain", 0, echo, (void *)"plain", &err), 0);
    ASSERT_EQ(ol_http_server_start(s, "127.0.0.1", 0, 16, &err), 0);
    int port = ol_http_server_port(s);
    ASSERT_TRUE(port > 0);

    buf b;
    struct curl_slist *h = curl_slist_append(NULL, "X-Test: hello");
    ASSERT_EQ(request(port, "GET", "/items/a%20b?q=x%2By+z", NULL, 0, h, &b), 200);
    ASSERT_CONTAINS(b.data, "\"param\":\"a b\"");
    ASSERT_CONTAINS(b.data, "\"q\":\"x+y z\"");
    ASSERT_CONTAINS(b.data, "\"h\":\"hello\"");
    curl_slist_free_all(h);

    ASSERT_EQ(request(port, "GET", "/nothing", NULL, 0, NULL, &b), 404);
    ASSERT_CONTAINS(b.data, "\"code\":\"not_found\"");
    ASSERT_EQ(request(port, "DELETE", "/items/1", NULL, 0, NULL, &b), 405);
    ASSERT_CONTAINS(b.data, "\"code\":\"method_not_allowed\"");
    ASSERT_EQ(request(port, "GET", "/items/", NULL, 0, NULL, &b), 404);
    ASSERT_EQ(request(port, "GET", "/plain/extra", NULL, 0, NULL, &b), 404);

    /* body limit: exactly 100 passes, 101 is refused */
    char body[200];
    memset(body, 'x', sizeof body);
    ASSERT_EQ(request(port, "POST", "/items/7/body", body, 100, NULL, &b), 200);
    ASSERT_CONTAINS(b.data, "\"len\":100");
    ASSERT_EQ(request(port, "POST", "/items/7/body", body, 101, NULL, &b), 413);
    ASSERT_CONTAINS(b.data, "\"code\":\"body_too_large\"");
    /* a body far above the limit (beyond OL_HTTP_DRAIN_MAX) is refused at once: 413 or a closed
     * connection, never a read of the whole body */
    size_t huge = OL_HTTP_DRAIN_MAX + 1024;
    char *hb = malloc(huge);
    memset(hb, 'y', huge);
    long hs = request(port, "POST", "/items/7/body", hb, huge, NULL, &b);
    ASSERT_TRUE(hs == 413 || hs == 0);
    free(hb);
    /* chunked (no Content-Length): limit enforced while streaming */
    struct curl_slist *ch = curl_slist_append(NULL, "Transfer-Encoding: chunked");
    ASSERT_EQ(request(port, "POST", "/items/7/body", body, 150, ch, &b), 413);
    curl_slist_free_all(ch);

    /* too many headers */
    struct curl_slist *many = NULL;
    for (int i = 0; i < OL_HTTP_MAX_HEADERS + 5; i++) {
        char line[64];
        snprintf(line, sizeof line, "X-H%d: v", i);
        many = curl_slist_append(many, line);
    }
    ASSERT_EQ(request(port, "GET", "/plain", NULL, 0, many, &b), 431);
    ASSERT_CONTAINS(b.data, "too_many_headers");
    curl_slist_free_all(many);
    /* oversized header block: refused by the connection memory limit, never a crash */
    char *big = malloc(OL_HTTP_HEADER_BYTES_MAX + 64);
    memcpy(big, "X-Big: ", sizeof "X-Big: ");
    memset(big + 7, 'a', OL_HTTP_HEADER_BYTES_MAX);
    big[7 + OL_HTTP_HEADER_BYTES_MAX] = 0;
    struct curl_slist *bh = curl_slist_append(NULL, big);
    long st = request(port, "GET", "/plain", NULL, 0, bh, &b);
    ASSERT_TRUE(st == 431 || st == 413 || st == 400);
    curl_slist_free_all(bh);
    free(big);
    /* the server still answers */
    ASSERT_EQ(request(port, "GET", "/plain", NULL, 0, NULL, &b), 200);

    /* dispatch without the network */
    ol_http_request req;
    memset(&req, 0, sizeof req);
    char target[] = "/items/%41b?q=1&q2";
    ASSERT_EQ(ol_http_parse_target(&req, target), 0);
    req.method = "GET";
    req.body = "";
    ol_http_response resp;
    ol_http_dispatch(s, &req, &resp);
    ASSERT_EQ(resp.status, 200);
    ASSERT_CONTAINS(resp.body, "\"param\":\"Ab\"");
    ol_http_response_free(&resp);
    char bad[] = "/x%zz";
    ASSERT_EQ(ol_http_parse_target(&req, bad), OL_HTTP_ERR_SYNTAX);
    char nul[] = "/x%00";
    ASSERT_EQ(ol_http_parse_target(&req, nul), OL_HTTP_ERR_SYNTAX);

    ol_http_server_free(s);
    curl_global_cleanup();
    printf("ok\n");
    return 0;
}
