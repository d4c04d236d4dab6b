/* json: generates a 2 MiB JSON document (64 KiB quick) of nested arrays and objects with strings,
 * escapes, integers, decimals, true/false/null, then parses it 24 times with a validating
 * recursive-descent parser. Branchy byte scanning and calls. Checksum: a fold of everything parsed
 * (or 0xbad00000 + offset on a parse error). */
#include "bench.h"

#define N BENCH_SIZE(2u << 20, 64u << 10)
static char doc[N + 256];
static uint32_t len;

static void put(const char *s) { while (*s) doc[len++] = *s++; }
static void put_num(uint32_t v)
{
    char b[12];
    int n = 0;
    do b[n++] = (char)('0' + v % 10); while ((v /= 10) != 0);
    while (n) doc[len++] = b[--n];
}

static void gen_value(uint32_t *s, int depth)
{
    uint32_t r = bench_rand(s) % 10;
    if (depth < 4 && r < 2) {
        doc[len++] = '[';
        uint32_t n = bench_rand(s) % 6;
        for (uint32_t i = 0; i < n && len < N; i++) {
            if (i) doc[len++] = ',';
            gen_value(s, depth + 1);
        }
        doc[len++] = ']';
    } else if (depth < 4 && r < 4) {
        doc[len++] = '{';
        uint32_t n = bench_rand(s) % 6;
        for (uint32_t i = 0; i < n && len < N; i++) {
            if (i) put(", ");
            put("\"key");
            put_num(bench_rand(s) % 100);
            put("\": ");
            gen_value(s, depth + 1);
        }
        doc[len++] = '}';
    } else if (r < 6) {
        put("\"text \\\"quoted\\\" and \\\\ slash \\u00e9 ");
        put_num(bench_rand(s));
        doc[len++] = '"';
    } else if (r < 8) {
        if (r == 6) doc[len++] = '-';
        put_num(bench_rand(s) % 1000000);
        if (r == 7) { doc[len++] = '.'; put_num(bench_rand(s) % 1000); put("e-3"); }
    } else {
        put(r == 8 ? "true" : (bench_rand(s) & 1) ? "false" : "null");
    }
}

static uint32_t pos, acc, err;

static void ws(void) { while (pos < len && (doc[pos] == ' ' || doc[pos] == '\n' || doc[pos] == '\t' || doc[pos] == '\r')) pos++; }
static void fail(void) { if (!err) err = 0xbad00000u + pos; pos = len; }
static void value(int depth);

static void string(void)
{
    pos++; /* opening quote */
    while (pos < len && doc[pos] != '"') {
        char c = doc[pos++];
        if (c == '\\') {
            char e = doc[pos++];
            if (e == 'u') {
                uint32_t v = 0;
                for (int i = 0; i < 4; i++) {
                    char h = doc[pos++];
                    v = v * 16 + (uint32_t)(h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : 0);
                }
                acc = acc * 31 + v;
            } else if (e == '"' || e == '\\' || e == '/' || e == 'n' || e == 't') {
                acc = acc * 31 + (uint32_t)e;
            } else {
                fail();
                return;
            }
        } else {
            acc = acc * 31 + (uint8_t)c;
        }
    }
    if (pos >= len) { fail(); return; }
    pos++;
}

static void number(void)
{
    int neg = 0;
    if (doc[pos] == '-') { neg = 1; pos++; }
    if (pos >= len || doc[pos] < '0' || doc[pos] > '9') { fail(); return; }
    uint32_t v = 0;
    while (pos < len && doc[pos] >= '0' && doc[pos] <= '9') v = v * 10 + (uint32_t)(doc[pos++] - '0');
    if (pos < len && doc[pos] == '.') {
        pos++;
        while (pos < len && doc[pos] >= '0' && doc[pos] <= '9') v = v * 10 + (uint32_t)(doc[pos++] - '0');
    }
    if (pos < len && (doc[pos] == 'e' || doc[pos] == 'E')) {
        pos++;
        if (doc[pos] == '-' || doc[pos] == '+') pos++;
        while (pos < len && doc[pos] >= '0' && doc[pos] <= '9') v += (uint32_t)(doc[pos++] - '0');
    }
    acc = acc * 33 + (neg ? ~v : v);
}

static void lit(const char *w, uint32_t tag)
{
    while (*w) {
        if (pos >= len || doc[pos] != *w) { fail(); return; }
        pos++, w++;
    }
    acc = acc * 7 + tag;
}

static void value(int depth)
{
    ws();
    if (pos >= len || depth > 64) { fail(); return; }
    char c = doc[pos];
    if (c == '[' || c == '{') {
        char close = c == '[' ? ']' : '}';
        pos++;
        ws();
        uint32_t n = 0;
        if (pos < len && doc[pos] == close) { pos++; acc += 1; return; }
        for (;;) {
            if (c == '{') {
                ws();
                if (pos >= len || doc[pos] != '"') { fail(); return; }
                string();
                ws();
                if (pos >= len || doc[pos] != ':') { fail(); return; }
                pos++;
            }
            value(depth + 1);
            n++;
            ws();
            if (pos < len && doc[pos] == ',') { pos++; continue; }
            if (pos < len && doc[pos] == close) { pos++; break; }
            fail();
            return;
        }
        acc = acc * 5 + n;
    } else if (c == '"') {
        string();
    } else if (c == 't') {
        lit("true", 1);
    } else if (c == 'f') {
        lit("false", 2);
    } else if (c == 'n') {
        lit("null", 3);
    } else {
        number();
    }
}

static uint32_t run(void)
{
    uint32_t s = 99;
    len = 0;
    put("[");
    for (int i = 0; len < N; i++) {
        if (i) put(",\n");
        gen_value(&s, 0);
    }
    put("]");
    uint32_t total = 0;
    for (int round = 0; round < 24; round++) {
        pos = 0, acc = (uint32_t)round, err = 0;
        value(0);
        ws();
        if (pos != len && !err) err = 0xbad00000u + pos;
        if (err) return err;
        total = total * 3 + acc;
    }
    return total;
}

BENCH_MAIN("json")
