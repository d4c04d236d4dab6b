/* json: a strict RFC 8259 reader that builds a tree in the arena, and a compact writer.
 *
 * The reader is recursive descent with an explicit depth limit (SDK_JSON_MAX_DEPTH) and a size limit
 * given by the caller. It refuses everything RFC 8259 does not allow and, beyond that, duplicate object
 * keys (ambiguous in arguments that move money) and strings that are not valid UTF-8 or contain lone
 * surrogate escapes. Each error names the problem and its byte offset. */
#include "sdk.h"


typedef struct jr {
    const char *p;
    size_t n, i;
    int depth;
    sdk_json_err *err;
} jr;

static sdk_json *jr_fail(jr *r, const char *msg) {
    if (r->err && !r->err->msg[0]) {
        r->err->offset = r->i;
        sdk_fmt(r->err->msg, sizeof r->err->msg, "%s", msg);
    }
    return NULL;
}

static void jr_ws(jr *r) {
    while (r->i < r->n) {
        char c = r->p[r->i];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        r->i++;
    }
}

static sdk_json *jr_value(jr *r);

static bool jr_lit(jr *r, const char *lit) {
    size_t n = sdk_strlen(lit);
    if (r->n - r->i < n || memcmp(r->p + r->i, lit, n) != 0) return false;
    r->i += n;
    return true;
}

static sdk_json *jr_number(jr *r) {
    size_t start = r->i;
    const char *p = r->p;
    if (r->i < r->n && p[r->i] == '-') r->i++;
    if (r->i >= r->n) return jr_fail(r, "number: missing digits");
    if (p[r->i] == '0') {
        r->i++;
        if (r->i < r->n && p[r->i] >= '0' && p[r->i] <= '9') return jr_fail(r, "number: leading zero");
    } else if (p[r->i] >= '1' && p[r->i] <= '9') {
        while (r->i < r->n && p[r->i] >= '0' && p[r->i] <= '9') r->i++;
    } else {
        return jr_fail(r, "number: missing digits");
    }
    if (r->i < r->n && p[r->i] == '.') {
        r->i++;
        size_t d = r->i;
        while (r->i < r->n && p[r->i] >= '0' && p[r->i] <= '9') r->i++;
        if (r->i == d) return jr_fail(r, "number: missing digits after '.'");
    }
    if (r->i < r->n && (p[r->i] == 'e' || p[r->i] == 'E')) {
        r->i++;
        if (r->i < r->n && (p[r->i] == '+' || p[r->i] == '-')) r->i++;
        size_t d = r->i;
        while (r->i < r->n && p[r->i] >= '0' && p[r->i] <= '9') r->i++;
        if (r->i == d) return jr_fail(r, "number: missing exponent digits");
    }
    sdk_json *v = sdk_alloc(sizeof *v);
    v->type = SDK_JSON_NUMBER;
    v->s = p + start;
    v->len = r->i - start;
    return v;
}

static int hex4(const char *p) {
    int v = 0;
    for (int k = 0; k < 4; k++) {
        char c = p[k];
        int d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return -1;
        v = v << 4 | d;
    }
    return v;
}

static size_t put_utf8(char *out, uint32_t cp) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 63));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | ((cp >> 6) & 63));
        out[2] = (char)(0x80 | (cp & 63));
        return 3;
    }
    out[0] = (char)(0xF0 | cp >> 18);
    out[1] = (char)(0x80 | ((cp >> 12) & 63));
    out[2] = (char)(0x80 | ((cp >> 6) & 63));
    out[3] = (char)(0x80 | (cp & 63));
    return 4;
}

/* Length of the valid UTF-8 sequence at p (at most avail bytes), or 0 when invalid (overlong forms,
 * surrogates and code points above U+10FFFF are invalid). */
static size_t utf8_seq(const unsigned char *p, size_t avail) {
    unsigned char c = p[0];
    if (c < 0x80) return 1;
    size_t n;
    uint32_t cp, min;
    if ((c & 0xE0) == 0xC0) n = 2, cp = c & 0x1F, min = 0x80;
    else if ((c & 0xF0) == 0xE0) n = 3, cp = c & 0x0F, min = 0x800;
    else if ((c & 0xF8) == 0xF0) n = 4, cp = c & 0x07, min = 0x10000;
    else return 0;
    if (avail < n) return 0;
    for (size_t k = 1; k < n; k++) {
        if ((p[k] & 0xC0) != 0x80) return 0;
        cp = cp << 6 | (p[k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return n;
}

/* Parses a string at r->i (on the opening quote) into a new arena buffer. */
static bool jr_string(jr *r, const char **out, size_t *out_n) {
    r->i++; /* opening quote */
    /* First pass: find the end, to size the buffer (decoded text is never longer than the source). */
    size_t start = r->i, j = start;
    while (j < r->n && r->p[j] != '"') j += r->p[j] == '\\' ? 2 : 1;
    if (j >= r->n) {
        r->i = r->n;
        jr_fail(r, "string: unterminated");
        return false;
    }
    char *buf = sdk_alloc(j - start + 1);
    size_t o = 0;
    while (r->p[r->i] != '"') {
        unsigned char c = (unsigned char)r->p[r->i];
        if (c < 0x20) {
            jr_fail(r, "string: unescaped control character");
            return false;
        }
        if (c == '\\') {
            char e = r->p[r->i + 1];
            r->i += 2;
            switch (e) {
            case '"': buf[o++] = '"'; break;
            case '\\': buf[o++] = '\\'; break;
            case '/': buf[o++] = '/'; break;
            case 'b': buf[o++] = '\b'; break;
            case 'f': buf[o++] = '\f'; break;
            case 'n': buf[o++] = '\n'; break;
            case 'r': buf[o++] = '\r'; break;
            case 't': buf[o++] = '\t'; break;
            case 'u': {
                r->i -= 2;
                if (r->n - r->i < 6 || hex4(r->p + r->i + 2) < 0) {
                    jr_fail(r, "string: bad \\u escape");
                    return false;
                }
                uint32_t cp = (uint32_t)hex4(r->p + r->i + 2);
                r->i += 6;
                if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    r->i -= 6;
                    jr_fail(r, "string: lone low surrogate");
                    return false;
                }
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    if (r->n - r->i < 6 || r->p[r->i] != '\\' || r->p[r->i + 1] != 'u' ||
                        hex4(r->p + r->i + 2) < 0x0DC00 || hex4(r->p + r->i + 2) > 0xDFFF) {
                        r->i -= 6;
                        jr_fail(r, "string: lone high surrogate");
                        return false;
                    }
                    uint32_t lo = (uint32_t)hex4(r->p + r->i + 2);
                    r->i += 6;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                }
                /* an escape is 6 bytes in, at most 4 out (a pair: 12 in, 4 out), so buf is big enough */
                o += put_utf8(buf + o, cp);
                break;
            }
            default:
                r->i -= 2;
                jr_fail(r, "string: bad escape");
                return false;
            }
            continue;
        }
        size_t k = utf8_seq((const unsigned char *)r->p + r->i, j - r->i);
        if (!k) {
            jr_fail(r, "string: invalid UTF-8");
            return false;
        }
        memcpy(buf + o, r->p + r->i, k);
        o += k;
        r->i += k;
    }
    r->i++; /* closing quote */
    buf[o] = 0;
    *out = buf;
    *out_n = o;
    return true;
}

/* Growable pointer lists for array items and object members. */
typedef struct plist {
    void **v;
    size_t n, cap;
} plist;

static void plist_push(plist *l, void *p) {
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 8;
        l->v = sdk_realloc(l->v, l->cap * sizeof *l->v, nc * sizeof *l->v);
        l->cap = nc;
    }
    l->v[l->n++] = p;
}

static sdk_json *jr_array(jr *r) {
    r->i++;
    plist items = {0};
    jr_ws(r);
    if (r->i < r->n && r->p[r->i] == ']') {
        r->i++;
    } else {
        for (;;) {
            sdk_json *v = jr_value(r);
            if (!v) return NULL;
            plist_push(&items, v);
            jr_ws(r);
            if (r->i >= r->n) return jr_fail(r, "array: unterminated");
            if (r->p[r->i] == ',') {
                r->i++;
                jr_ws(r);
                if (r->i < r->n && r->p[r->i] == ']') return jr_fail(r, "array: trailing comma");
                continue;
            }
            if (r->p[r->i] == ']') {
                r->i++;
                break;
            }
            return jr_fail(r, "array: expected ',' or ']'");
        }
    }
    sdk_json *a = sdk_alloc(sizeof *a);
    a->type = SDK_JSON_ARRAY;
    a->items = (sdk_json **)items.v;
    a->len = items.n;
    return a;
}

static sdk_json *jr_object(jr *r) {
    r->i++;
    plist vals = {0}, keys = {0}, lens = {0};
    jr_ws(r);
    if (r->i < r->n && r->p[r->i] == '}') {
        r->i++;
    } else {
        for (;;) {
            if (r->i >= r->n || r->p[r->i] != '"') return jr_fail(r, "object: expected a string key");
            size_t key_at = r->i;
            const char *k;
            size_t kn;
            if (!jr_string(r, &k, &kn)) return NULL;
            for (size_t x = 0; x < keys.n; x++) {
                if (sdk_memeq(keys.v[x], (size_t)(uintptr_t)lens.v[x], k, kn)) {
                    r->i = key_at;
                    return jr_fail(r, "object: duplicate key");
                }
            }
            jr_ws(r);
            if (r->i >= r->n || r->p[r->i] != ':') return jr_fail(r, "object: expected ':'");
            r->i++;
            sdk_json *v = jr_value(r);
            if (!v) return NULL;
            plist_push(&keys, (void *)(uintptr_t)k);
            plist_push(&lens, (void *)(uintptr_t)kn);
            plist_push(&vals, v);
            jr_ws(r);
            if (r->i >= r->n) return jr_fail(r, "object: unterminated");
            if (r->p[r->i] == ',') {
                r->i++;
                jr_ws(r);
                if (r->i < r->n && r->p[r->i] == '}') return jr_fail(r, "object: trailing comma");
                continue;
            }
            if (r->p[r->i] == '}') {
                r->i++;
                break;
            }
            return jr_fail(r, "object: expected ',' or '}'");
        }
    }
    sdk_json *o = sdk_alloc(sizeof *o);
    o->type = SDK_JSON_OBJECT;
    o->items = (sdk_json **)vals.v;
    o->keys = (const char **)keys.v;
    o->len = vals.n;
    o->key_lens = sdk_alloc((vals.n ? vals.n : 1) * sizeof(size_t));
    for (size_t x = 0; x < vals.n; x++) o->key_lens[x] = (size_t)(uintptr_t)lens.v[x];
    return o;
}

static sdk_json *jr_value(jr *r) {
    jr_ws(r);
    if (r->i >= r->n) return jr_fail(r, "unexpected end of input");
    char c = r->p[r->i];
    if (c == '{' || c == '[') {
        if (++r->depth > SDK_JSON_MAX_DEPTH) return jr_fail(r, "nesting deeper than SDK_JSON_MAX_DEPTH (64)");
        sdk_json *v = c == '{' ? jr_object(r) : jr_array(r);
        r->depth--;
        return v;
    }
    if (c == '"') {
        sdk_json *v = sdk_alloc(sizeof *v);
        v->type = SDK_JSON_STRING;
        if (!jr_string(r, &v->s, &v->len)) return NULL;
        return v;
    }
    if (c == '-' || (c >= '0' && c <= '9')) return jr_number(r);
    sdk_json *v = sdk_alloc(sizeof *v);
    if (jr_lit(r, "true")) {
        v->type = SDK_JSON_BOOL;
        v->b = true;
    } else if (jr_lit(r, "false")) {
        v->type = SDK_JSON_BOOL;
    } else if (jr_lit(r, "null")) {
        v->type = SDK_JSON_NULL;
    } else {
        return jr_fail(r, "unexpected character");
    }
    return v;
}

sdk_json *sdk_json_parse(const char *text, size_t n, size_t max_bytes, sdk_json_err *err) {
    if (err) {
        err->msg[0] = 0;
        err->offset = 0;
    }
    jr r = {text, n, 0, 0, err};
    if (n > max_bytes) {
        if (err) {
            err->offset = max_bytes;
            sdk_fmt(err->msg, sizeof err->msg, "input of %U bytes exceeds the limit of %U bytes", (uint64_t)n,
                    (uint64_t)max_bytes);
        }
        return NULL;
    }
    sdk_json *v = jr_value(&r);
    if (!v) return NULL;
    jr_ws(&r);
    if (r.i != r.n) return jr_fail(&r, "trailing characters after the JSON value");
    return v;
}

const sdk_json *sdk_json_get(const sdk_json *obj, const char *key) {
    if (!obj || obj->type != SDK_JSON_OBJECT) return NULL;
    size_t kn = sdk_strlen(key);
    for (size_t i = 0; i < obj->len; i++)
        if (sdk_memeq(obj->keys[i], obj->key_lens[i], key, kn)) return obj->items[i];
    return NULL;
}

bool sdk_json_u64(const sdk_json *v, uint64_t *out) {
    if (!v || v->type != SDK_JSON_NUMBER || v->len == 0 || v->len > 20) return false;
    uint64_t x = 0;
    for (size_t i = 0; i < v->len; i++) {
        char c = v->s[i];
        if (c < '0' || c > '9') return false;
        uint64_t d = (uint64_t)(c - '0');
        /* no __builtin_mul_overflow: on wasm32 it needs compiler-rt's __multi3 */
        if (x > (UINT64_MAX - d) / 10) return false;
        x = x * 10 + d;
    }
    *out = x;
    return true;
}

/* ---- writer ---- */

void sdk_jw_init(sdk_jw *w, size_t max, const char *what) {
    w->cap = max < 256 ? max : 256;
    w->buf = sdk_alloc(w->cap + 1);
    w->len = 0;
    w->max = max;
    w->comma = false;
    w->what = what;
}

void sdk_jw_raw(sdk_jw *w, const char *s, size_t n) {
    if (n > w->max - w->len) sdk_panicf("%s exceeds its limit of %U bytes", w->what, (uint64_t)w->max);
    if (w->len + n > w->cap) {
        size_t nc = w->cap * 2;
        if (nc < w->len + n) nc = w->len + n;
        if (nc > w->max) nc = w->max;
        w->buf = sdk_realloc(w->buf, w->cap + 1, nc + 1);
        w->cap = nc;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

static void jw_sep(sdk_jw *w) {
    if (w->comma) sdk_jw_raw(w, ",", 1);
    w->comma = true;
}

void sdk_jw_obj_open(sdk_jw *w) {
    jw_sep(w);
    sdk_jw_raw(w, "{", 1);
    w->comma = false;
}
void sdk_jw_obj_close(sdk_jw *w) {
    sdk_jw_raw(w, "}", 1);
    w->comma = true;
}
void sdk_jw_arr_open(sdk_jw *w) {
    jw_sep(w);
    sdk_jw_raw(w, "[", 1);
    w->comma = false;
}
void sdk_jw_arr_close(sdk_jw *w) {
    sdk_jw_raw(w, "]", 1);
    w->comma = true;
}

static void jw_escaped(sdk_jw *w, const char *s, size_t n) {
    sdk_jw_raw(w, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        sdk_jw_raw(w, s + run, i - run);
        run = i + 1;
        char esc[7] = {'\\', 0, 0, 0, 0, 0, 0};
        size_t en = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = "0123456789abcdef"[c >> 4];
            esc[5] = "0123456789abcdef"[c & 15];
            en = 6;
        }
        sdk_jw_raw(w, esc, en);
    }
    sdk_jw_raw(w, s + run, n - run);
    sdk_jw_raw(w, "\"", 1);
}

void sdk_jw_key(sdk_jw *w, const char *key) {
    jw_sep(w);
    jw_escaped(w, key, sdk_strlen(key));
    sdk_jw_raw(w, ":", 1);
    w->comma = false;
}

void sdk_jw_strn(sdk_jw *w, const char *s, size_t n) {
    jw_sep(w);
    jw_escaped(w, s, n);
}
void sdk_jw_str(sdk_jw *w, const char *s) { sdk_jw_strn(w, s, sdk_strlen(s)); }

void sdk_jw_u64(sdk_jw *w, uint64_t v) {
    char tmp[24];
    size_t n = sdk_fmt(tmp, sizeof tmp, "%U", v);
    jw_sep(w);
    sdk_jw_raw(w, tmp, n);
}

void sdk_jw_u128(sdk_jw *w, u128 v) {
    char tmp[42];
    tmp[0] = '"';
    size_t n = u128_to_dec(v, tmp + 1);
    tmp[n + 1] = '"';
    jw_sep(w);
    sdk_jw_raw(w, tmp, n + 2);
}

void sdk_jw_bool(sdk_jw *w, bool v) {
    jw_sep(w);
    sdk_jw_raw(w, v ? "true" : "false", v ? 4 : 5);
}

void sdk_jw_null(sdk_jw *w) {
    jw_sep(w);
    sdk_jw_raw(w, "null", 4);
}

void sdk_jw_json(sdk_jw *w, const char *json, size_t n) {
    jw_sep(w);
    sdk_jw_raw(w, json, n);
}

void sdk_jw_value(sdk_jw *w, const sdk_json *v) {
    if (!v) {
        sdk_jw_null(w);
        return;
    }
    switch (v->type) {
    case SDK_JSON_NULL: sdk_jw_null(w); break;
    case SDK_JSON_BOOL: sdk_jw_bool(w, v->b); break;
    case SDK_JSON_NUMBER: sdk_jw_json(w, v->s, v->len); break;
    case SDK_JSON_STRING: sdk_jw_strn(w, v->s, v->len); break;
    case SDK_JSON_ARRAY:
        sdk_jw_arr_open(w);
        for (size_t i = 0; i < v->len; i++) sdk_jw_value(w, v->items[i]);
        sdk_jw_arr_close(w);
        break;
    case SDK_JSON_OBJECT:
        sdk_jw_obj_open(w);
        for (size_t i = 0; i < v->len; i++) {
            jw_sep(w);
            jw_escaped(w, v->keys[i], v->key_lens[i]);
            sdk_jw_raw(w, ":", 1);
            w->comma = false;
            sdk_jw_value(w, v->items[i]);
        }
        sdk_jw_obj_close(w);
        break;
    }
}

const char *sdk_jw_finish(sdk_jw *w) {
    w->buf[w->len] = 0; /* cap + 1 bytes are always allocated */
    return w->buf;
}
