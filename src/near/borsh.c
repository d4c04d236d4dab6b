/* Borsh primitives: a bounded growable writer (near_buf), a bounds-checked reader (near_reader) and
 * the arena that owns what the reader produces. Layout rules: ../shared/reference/near-protocol.md §3. */
#include "near/near.h"

#include <stdlib.h>
#include <string.h>

/* ---- arena: a list of blocks, bump allocation, one free ---- */
typedef struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
} arena_block;

struct near_arena {
    arena_block *head;
    size_t total, max;
};

near_arena *near_arena_new(size_t max) {
    near_arena *a = calloc(1, sizeof *a);
    if (a) a->max = max ? max : NEAR_MAX_ARENA_BYTES;
    return a;
}

void near_arena_free(near_arena *a) {
    if (!a) return;
    for (arena_block *b = a->head, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    free(a);
}

void *near_arena_alloc(near_arena *a, size_t n) {
    size_t need;
    if (!ol_add_size(n, 15, &need)) return NULL;
    need &= ~(size_t)15;
    if (need == 0) need = 16;
    arena_block *b = a->head;
    if (!b || b->cap - b->used < need) {
        size_t cap = need > 4096 ? need : 4096, bytes;
        if (!ol_add_size(a->total, cap, &bytes) || bytes > a->max) return NULL;
        if (!ol_add_size(sizeof *b, cap, &bytes)) return NULL;
        b = malloc(bytes);
        if (!b) return NULL;
        b->next = a->head;
        b->used = 0;
        b->cap = cap;
        a->head = b;
        a->total += cap;
    }
    void *p = b->data + b->used;
    b->used += need;
    memset(p, 0, n);
    return p;
}

/* ---- writer ---- */
void near_buf_init(near_buf *b, size_t max) {
    memset(b, 0, sizeof *b);
    b->max = max ? max : NEAR_MAX_TX_BYTES;
}

void near_buf_free(near_buf *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void near_buf_put(near_buf *b, const void *p, size_t n) {
    if (b->failed || n == 0) return;
    size_t need;
    if (!ol_add_size(b->len, n, &need) || need > b->max) {
        b->failed = true;
        return;
    }
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < need) cap = cap > b->max / 2 ? b->max : cap * 2;
        uint8_t *d = realloc(b->data, cap);
        if (!d) {
            b->failed = true;
            return;
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len = need;
}

void near_buf_u8(near_buf *b, uint8_t v) { near_buf_put(b, &v, 1); }

void near_buf_u16(near_buf *b, uint16_t v) {
    uint8_t t[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    near_buf_put(b, t, 2);
}

void near_buf_u32(near_buf *b, uint32_t v) {
    uint8_t t[4];
    for (int i = 0; i < 4; i++) t[i] = (uint8_t)(v >> (8 * i));
    near_buf_put(b, t, 4);
}

void near_buf_u64(near_buf *b, uint64_t v) {
    uint8_t t[8];
    for (int i = 0; i < 8; i++) t[i] = (uint8_t)(v >> (8 * i));
    near_buf_put(b, t, 8);
}

void near_buf_u128(near_buf *b, near_u128 v) {
    uint8_t t[16];
    for (int i = 0; i < 16; i++) t[i] = (uint8_t)(v >> (8 * i));
    near_buf_put(b, t, 16);
}

void near_buf_bytes(near_buf *b, const void *p, size_t n) {
    if (n > UINT32_MAX) {
        b->failed = true;
        return;
    }
    near_buf_u32(b, (uint32_t)n);
    near_buf_put(b, p, n);
}

void near_buf_str(near_buf *b, const char *s) { near_buf_bytes(b, s, strlen(s)); }

/* ---- reader ---- */
static int need(near_reader *r, size_t n, const char *what) {
    if (r->len - r->off < n)
        return ol_err_set(r->err, NEAR_ETRUNC, "borsh: truncated input: %s needs %zu bytes at offset %zu, %zu left",
                          what, n, r->off, r->len - r->off);
    return 0;
}

int near_read_fixed(near_reader *r, uint8_t *out, size_t n, const char *what) {
    int rc = need(r, n, what);
    if (rc) return rc;
    memcpy(out, r->p + r->off, n);
    r->off += n;
    return 0;
}

static uint64_t le(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

int near_read_u8(near_reader *r, uint8_t *v, const char *what) {
    int rc = need(r, 1, what);
    if (rc) return rc;
    *v = r->p[r->off++];
    return 0;
}

int near_read_u16(near_reader *r, uint16_t *v, const char *what) {
    int rc = need(r, 2, what);
    if (rc) return rc;
    *v = (uint16_t)le(r->p + r->off, 2);
    r->off += 2;
    return 0;
}

int near_read_u32(near_reader *r, uint32_t *v, const char *what) {
    int rc = need(r, 4, what);
    if (rc) return rc;
    *v = (uint32_t)le(r->p + r->off, 4);
    r->off += 4;
    return 0;
}

int near_read_u64(near_reader *r, uint64_t *v, const char *what) {
    int rc = need(r, 8, what);
    if (rc) return rc;
    *v = le(r->p + r->off, 8);
    r->off += 8;
    return 0;
}

int near_read_u128(near_reader *r, near_u128 *v, const char *what) {
    int rc = need(r, 16, what);
    if (rc) return rc;
    *v = (near_u128)le(r->p + r->off + 8, 8) << 64 | le(r->p + r->off, 8);
    r->off += 16;
    return 0;
}

int near_read_bytes(near_reader *r, size_t max, const uint8_t **out, size_t *out_len, const char *what) {
    uint32_t n;
    size_t at = r->off;
    int rc = near_read_u32(r, &n, what);
    if (rc) return rc;
    if (n > max)
        return ol_err_set(r->err, NEAR_ELIMIT, "borsh: %s length %u at offset %zu exceeds the limit %zu", what, n, at,
                          max);
    if ((rc = need(r, n, what))) return rc;
    uint8_t *p = near_arena_alloc(r->arena, (size_t)n + 1);
    if (!p) return ol_err_set(r->err, NEAR_ENOMEM, "borsh: out of memory (arena) for %s", what);
    memcpy(p, r->p + r->off, n);
    r->off += n;
    *out = p;
    *out_len = n;
    return 0;
}

/* Strict UTF-8 (no overlongs, surrogates or code points over U+10FFFF), as Rust's String requires.
 * Returns the offset of the first bad byte, or n when valid. */
static size_t utf8_bad(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        size_t k;
        uint32_t cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            k = 1, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            k = 2, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            k = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return i;
        }
        if (n - i <= k) return i;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80) return i;
            cp = cp << 6 | (s[i + j] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
        i += k + 1;
    }
    return n;
}

int near_read_string(near_reader *r, size_t max, const char **out, const char *what) {
    const uint8_t *p;
    size_t n, start = r->off + 4;
    int rc = near_read_bytes(r, max, &p, &n, what);
    if (rc) return rc;
    size_t bad = utf8_bad(p, n);
    if (bad != n)
        return ol_err_set(r->err, NEAR_EINVAL, "borsh: %s is not valid UTF-8 (byte 0x%02x at offset %zu)", what,
                          p[bad], start + bad);
    const uint8_t *nul = memchr(p, 0, n);
    if (nul)
        return ol_err_set(r->err, NEAR_EUNSUPPORTED, "borsh: %s contains a NUL byte at offset %zu", what,
                          start + (size_t)(nul - p));
    *out = (const char *)p;
    return 0;
}

int near_read_account_id(near_reader *r, const char **out, const char *what) {
    size_t start = r->off;
    /* Read with a generous cap so an over-long id gets the account id error, not a length error. */
    int rc = near_read_string(r, 256, out, what);
    if (rc) return rc;
    ol_err sub;
    if (near_account_id_check(*out, strlen(*out), &sub))
        return ol_err_set(r->err, NEAR_EINVAL, "borsh: %s at offset %zu: %s", what, start, sub.msg);
    return 0;
}
