/* Decoder for the WebAssembly 2.0 binary format (no SIMD): sections, types, imports, exports,
 * segments and constant expressions. Function bodies are only delimited here; compile.c validates
 * and translates them. Every read goes through a bounded cursor; every count is checked against
 * the remaining bytes before anything is allocated for it. Errors carry the byte offset. */
#include "vm/vm_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct rd {
    const uint8_t *p, *end, *base;
    vm_error *err;
} rd;

#define OFF(r) ((uint64_t)((r)->p - (r)->base))
#define FAIL(r, code, ...) return vm__errf((r)->err, code, OFF(r), __VA_ARGS__)
#define TRY(x)                                                                                             \
    do {                                                                                                   \
        vm_status s_ = (x);                                                                                \
        if (s_) return s_;                                                                                 \
    } while (0)

vm_status vm__errf(vm_error *err, vm_status code, uint64_t off, const char *fmt, ...) {
    if (err && err->code == VM_OK) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        err->offset = off;
        int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < sizeof err->msg)
            snprintf(err->msg + n, sizeof err->msg - (size_t)n, " (at byte offset %llu)", (unsigned long long)off);
    }
    return code;
}

static vm_status rd_byte(rd *r, uint8_t *out) {
    if (r->p >= r->end) FAIL(r, VM_ERR_MALFORMED, "unexpected end of section or function");
    *out = *r->p++;
    return VM_OK;
}

static vm_status rd_u32(rd *r, uint32_t *out) {
    const char *why = vm__leb_u32(&r->p, r->end, out);
    if (why) FAIL(r, VM_ERR_MALFORMED, "%s", why);
    return VM_OK;
}

static vm_status rd_sleb(rd *r, unsigned bits, int64_t *out) {
    const char *why = vm__leb_s(&r->p, r->end, bits, out);
    if (why) FAIL(r, VM_ERR_MALFORMED, "%s", why);
    return VM_OK;
}

static vm_status rd_bytes(rd *r, uint32_t n, const uint8_t **out) {
    if ((uint64_t)(r->end - r->p) < n) FAIL(r, VM_ERR_MALFORMED, "unexpected end: length %u out of bounds", n);
    *out = r->p;
    r->p += n;
    return VM_OK;
}

static bool utf8_valid(const uint8_t *s, uint32_t n) {
    uint32_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        uint32_t cp, len;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            len = 2, cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            len = 3, cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            len = 4, cp = c & 0x07;
        } else {
            return false;
        }
        if (n - i < len) return false;
        for (uint32_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return false;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) return false;
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
        i += len;
    }
    return true;
}

/* Reads a name into a fresh NUL-terminated string (owned by the caller). */
static vm_status rd_name(rd *r, char **out, uint32_t *out_len) {
    uint32_t n;
    const uint8_t *s = NULL;
    TRY(rd_u32(r, &n));
    TRY(rd_bytes(r, n, &s));
    if (!utf8_valid(s, n)) FAIL(r, VM_ERR_MALFORMED, "malformed UTF-8 encoding in a name");
    char *c = malloc((size_t)n + 1);
    if (!c) FAIL(r, VM_ERR_NOMEM, "out of memory reading a name");
    memcpy(c, s, n);
    c[n] = 0;
    *out = c;
    if (out_len) *out_len = n;
    return VM_OK;
}

/* A vector count, checked against the bytes left (each element takes at least min_size bytes). */
static vm_status rd_count(rd *r, uint32_t max, const char *what, uint32_t *out) {
    TRY(rd_u32(r, out));
    if ((uint64_t)*out > (uint64_t)(r->end - r->p)) FAIL(r, VM_ERR_MALFORMED, "unexpected end: too many %s (%u)", what, *out);
    if (*out > max) FAIL(r, VM_ERR_LIMIT, "too many %s: %u (limit %u)", what, *out, max);
    return VM_OK;
}

static bool is_valtype(uint8_t t) {
    return t == VM_I32 || t == VM_I64 || t == VM_F32 || t == VM_F64 || t == VM_FUNCREF || t == VM_EXTERNREF;
}

static vm_status rd_valtype(rd *r, uint8_t *out) {
    TRY(rd_byte(r, out));
    if (!is_valtype(*out)) {
        r->p--;
        FAIL(r, VM_ERR_MALFORMED, "malformed value type 0x%02x", *out);
    }
    return VM_OK;
}

static vm_status rd_reftype(rd *r, uint8_t *out) {
    TRY(rd_byte(r, out));
    if (*out != VM_FUNCREF && *out != VM_EXTERNREF) {
        r->p--;
        FAIL(r, VM_ERR_MALFORMED, "malformed reference type 0x%02x", *out);
    }
    return VM_OK;
}

static vm_status rd_limits(rd *r, vm_limits_t *l, const char *what) {
    uint8_t flag = 0;
    TRY(rd_byte(r, &flag));
    if (flag > 1) {
        r->p--;
        FAIL(r, VM_ERR_MALFORMED, "integer too large: malformed %s limits flags 0x%02x", what, flag);
    }
    TRY(rd_u32(r, &l->min));
    l->has_max = flag == 1;
    l->max = 0;
    if (l->has_max) TRY(rd_u32(r, &l->max));
    return VM_OK;
}

static vm_status check_memtype(rd *r, const vm_limits_t *l) {
    if (l->min > 65536) FAIL(r, VM_ERR_INVALID, "memory size must be at most 65536 pages (4GiB)");
    if (l->has_max && l->max > 65536) FAIL(r, VM_ERR_INVALID, "memory size must be at most 65536 pages (4GiB)");
    if (l->has_max && l->max < l->min) FAIL(r, VM_ERR_INVALID, "size minimum must not be greater than maximum");
    return VM_OK;
}

static vm_status rd_tabletype(rd *r, vm_tabletype *t) {
    TRY(rd_reftype(r, &t->elem));
    TRY(rd_limits(r, &t->lim, "table"));
    if (t->lim.has_max && t->lim.max < t->lim.min)
        FAIL(r, VM_ERR_INVALID, "size minimum must not be greater than maximum");
    return VM_OK;
}

static vm_status rd_globaltype(rd *r, uint8_t *type, bool *mut) {
    uint8_t m = 0;
    TRY(rd_valtype(r, type));
    TRY(rd_byte(r, &m));
    if (m > 1) {
        r->p--;
        FAIL(r, VM_ERR_MALFORMED, "malformed mutability 0x%02x", m);
    }
    *mut = m == 1;
    return VM_OK;
}

/* Global types visible to constant expressions while decoding (imports and, for element and data
 * segments, all globals). */
static vm_status global_type(const vm_module *m, uint32_t idx, uint8_t *type, bool *mut) {
    if (idx >= m->nglobals) return VM_ERR_INVALID;
    *type = m->globals[idx].type;
    *mut = m->globals[idx].mut;
    return VM_OK;
}

/* Reads a constant expression of the given type. nglobals_visible limits global.get (only
 * imported globals in Wasm 2.0). */
static vm_status rd_constexpr(rd *r, vm_module *m, uint8_t want, vm_constexpr *ce) {
    uint8_t op = 0;
    uint8_t got = 0;
    TRY(rd_byte(r, &op));
    switch (op) {
    case 0x41: {
        int64_t v;
        TRY(rd_sleb(r, 32, &v));
        ce->kind = CE_I32, ce->v = (uint32_t)v, got = VM_I32;
        break;
    }
    case 0x42: {
        int64_t v;
        TRY(rd_sleb(r, 64, &v));
        ce->kind = CE_I64, ce->v = (uint64_t)v, got = VM_I64;
        break;
    }
    case 0x43: {
        const uint8_t *b = NULL;
        TRY(rd_bytes(r, 4, &b));
        uint32_t v;
        memcpy(&v, b, 4);
        ce->kind = CE_F32, ce->v = v, got = VM_F32;
        break;
    }
    case 0x44: {
        const uint8_t *b = NULL;
        TRY(rd_bytes(r, 8, &b));
        uint64_t v;
        memcpy(&v, b, 8);
        ce->kind = CE_F64, ce->v = v, got = VM_F64;
        break;
    }
    case 0xd0: {
        uint8_t t;
        TRY(rd_reftype(r, &t));
        ce->kind = CE_NULL, ce->v = 0, got = t;
        break;
    }
    case 0xd2: {
        uint32_t f;
        TRY(rd_u32(r, &f));
        if (f >= m->nfuncs) FAIL(r, VM_ERR_INVALID, "unknown function %u", f);
        m->func_refd[f] = 1;
        ce->kind = CE_FUNC, ce->v = f, got = VM_FUNCREF;
        break;
    }
    case 0x23: {
        uint32_t g;
        uint8_t t;
        bool mut;
        TRY(rd_u32(r, &g));
        if (g >= m->nglobal_imports || global_type(m, g, &t, &mut))
            FAIL(r, VM_ERR_INVALID, "unknown global %u", g);
        if (mut) FAIL(r, VM_ERR_INVALID, "constant expression required");
        ce->kind = CE_GLOBAL, ce->v = g, got = t;
        break;
    }
    case 0x0b:
        FAIL(r, VM_ERR_INVALID, "type mismatch: empty constant expression");
    default:
        r->p--;
        FAIL(r, VM_ERR_INVALID, "constant expression required (opcode 0x%02x)", op);
    }
    TRY(rd_byte(r, &op));
    if (op != 0x0b) {
        r->p--;
        if (op == 0x41 || op == 0x42 || op == 0x43 || op == 0x44 || op == 0xd0 || op == 0xd2 || op == 0x23)
            FAIL(r, VM_ERR_INVALID, "type mismatch: constant expression leaves more than one value");
        FAIL(r, VM_ERR_INVALID, "constant expression required (opcode 0x%02x)", op);
    }
    if (got != want) FAIL(r, VM_ERR_INVALID, "type mismatch in constant expression");
    return VM_OK;
}

static vm_status sec_type(rd *r, vm_module *m) {
    uint32_t n;
    TRY(rd_count(r, VM_MAX_TYPES, "types", &n));
    m->types = calloc(n ? n : 1, sizeof *m->types);
    if (!m->types) FAIL(r, VM_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; i < n; i++) {
        uint8_t form = 0;
        uint32_t np, nr;
        TRY(rd_byte(r, &form));
        if (form != 0x60) {
            r->p--;
            FAIL(r, VM_ERR_MALFORMED, "integer representation too long: malformed function type form 0x%02x", form);
        }
        TRY(rd_count(r, VM_MAX_PARAMS, "parameters", &np));
        const uint8_t *pp = r->p;
        for (uint32_t k = 0; k < np; k++) {
            uint8_t t;
            TRY(rd_valtype(r, &t));
        }
        TRY(rd_count(r, VM_MAX_RESULTS, "results", &nr));
        const uint8_t *rp = r->p;
        for (uint32_t k = 0; k < nr; k++) {
            uint8_t t;
            TRY(rd_valtype(r, &t));
        }
        if (nr > 1 && (m->cfg.disabled_features & VM_FEATURE_MULTI_VALUE))
            FAIL(r, VM_ERR_INVALID, "feature not enabled: multi-value (function type %u has %u results)", i, nr);
        vm_type *t = &m->types[i];
        t->types = malloc((size_t)np + nr + 1);
        if (!t->types) FAIL(r, VM_ERR_NOMEM, "out of memory");
        memcpy(t->types, pp, np);
        memcpy(t->types + np, rp, nr);
        t->vtypes = malloc(((size_t)np + nr + 1) * sizeof *t->vtypes);
        if (!t->vtypes) FAIL(r, VM_ERR_NOMEM, "out of memory");
        for (uint32_t k = 0; k < np + nr; k++) t->vtypes[k] = (vm_valtype)t->types[k];
        t->nparams = np, t->nresults = nr;
        m->ntypes = i + 1;
    }
    return VM_OK;
}

static vm_status sec_import(rd *r, vm_module *m) {
    uint32_t n;
    TRY(rd_count(r, VM_MAX_IMPORTS, "imports", &n));
    m->imports = calloc(n ? n : 1, sizeof *m->imports);
    if (!m->imports) FAIL(r, VM_ERR_NOMEM, "out of memory");
    /* Imports are counted per kind here; the index spaces are allocated with room for them later
     * (alloc_spaces, alloc_tables, alloc_mems, fill_imported_globals). */
    for (uint32_t i = 0; i < n; i++) {
        vm_importdef *im = &m->imports[i];
        m->nimports = i + 1;
        TRY(rd_name(r, &im->module, &im->module_len));
        TRY(rd_name(r, &im->name, &im->name_len));
        TRY(rd_byte(r, &im->kind));
        switch (im->kind) {
        case VM_EXTERN_FUNC:
            TRY(rd_u32(r, &im->type));
            if (im->type >= m->ntypes) FAIL(r, VM_ERR_INVALID, "unknown type %u", im->type);
            m->nfunc_imports++;
            break;
        case VM_EXTERN_TABLE:
            TRY(rd_tabletype(r, &im->table));
            m->ntable_imports++;
            break;
        case VM_EXTERN_MEMORY:
            TRY(rd_limits(r, &im->mem, "memory"));
            TRY(check_memtype(r, &im->mem));
            m->nmem_imports++;
            break;
        case VM_EXTERN_GLOBAL:
            TRY(rd_globaltype(r, &im->gtype, &im->gmut));
            if (im->gmut && (m->cfg.disabled_features & VM_FEATURE_MUTABLE_GLOBALS))
                FAIL(r, VM_ERR_INVALID, "feature not enabled: mutable globals (import %s.%s)", im->module, im->name);
            m->nglobal_imports++;
            break;
        default:
            r->p--;
            FAIL(r, VM_ERR_MALFORMED, "malformed import kind %u", im->kind);
        }
    }
    return VM_OK;
}

/* Allocates the index spaces with room for imports + defined entries, and fills the imported part. */
static vm_status alloc_spaces(rd *r, vm_module *m, uint32_t nfunc_def) {
    uint64_t nf = (uint64_t)m->nfunc_imports + nfunc_def;
    if (nf > VM_MAX_FUNCS) FAIL(r, VM_ERR_LIMIT, "too many functions: %llu (limit %u)", (unsigned long long)nf, VM_MAX_FUNCS);
    m->funcs = calloc(nf ? nf : 1, sizeof *m->funcs);
    m->func_refd = calloc(nf ? nf : 1, 1);
    if (!m->funcs || !m->func_refd) FAIL(r, VM_ERR_NOMEM, "out of memory");
    m->nfuncs = (uint32_t)nf;
    uint32_t k = 0;
    for (uint32_t i = 0; i < m->nimports; i++)
        if (m->imports[i].kind == VM_EXTERN_FUNC) m->funcs[k++].type = m->imports[i].type;
    return VM_OK;
}

static vm_status sec_function(rd *r, vm_module *m) {
    uint32_t n;
    TRY(rd_count(r, VM_MAX_FUNCS, "functions", &n));
    free(m->funcs);
    free(m->func_refd);
    TRY(alloc_spaces(r, m, n));
    for (uint32_t i = 0; i < n; i++) {
        uint32_t t;
        TRY(rd_u32(r, &t));
        if (t >= m->ntypes) FAIL(r, VM_ERR_INVALID, "unknown type %u", t);
        m->funcs[m->nfunc_imports + i].type = t;
    }
    return VM_OK;
}

static vm_status alloc_tables(rd *r, vm_module *m, uint32_t ndef) {
    uint64_t total = (uint64_t)m->ntable_imports + ndef;
    if (total > VM_MAX_TABLES) FAIL(r, VM_ERR_LIMIT, "too many tables (limit %u)", VM_MAX_TABLES);
    m->tables = calloc(total ? total : 1, sizeof *m->tables);
    if (!m->tables) FAIL(r, VM_ERR_NOMEM, "out of memory");
    uint32_t k = 0;
    for (uint32_t i = 0; i < m->nimports; i++)
        if (m->imports[i].kind == VM_EXTERN_TABLE) m->tables[k++] = m->imports[i].table;
    m->ntables = (uint32_t)total;
    return VM_OK;
}

static vm_status alloc_mems(rd *r, vm_module *m, uint32_t ndef) {
    uint64_t total = (uint64_t)m->nmem_imports + ndef;
    m->mems = calloc(total ? total : 1, sizeof *m->mems);
    if (!m->mems) FAIL(r, VM_ERR_NOMEM, "out of memory");
    uint32_t k = 0;
    for (uint32_t i = 0; i < m->nimports; i++)
        if (m->imports[i].kind == VM_EXTERN_MEMORY) m->mems[k++] = m->imports[i].mem;
    m->nmems = (uint32_t)total;
    if (m->nmems > 1) FAIL(r, VM_ERR_INVALID, "multiple memories are not supported");
    return VM_OK;
}

static vm_status sec_table(rd *r, vm_module *m, uint32_t *ndef) {
    TRY(rd_count(r, VM_MAX_TABLES, "tables", ndef));
    if (m->ntable_imports + (uint64_t)*ndef > 1 && (m->cfg.disabled_features & VM_FEATURE_REFERENCE_TYPES))
        FAIL(r, VM_ERR_INVALID, "feature not enabled: reference types (several tables)");
    TRY(alloc_tables(r, m, *ndef));
    for (uint32_t i = 0; i < *ndef; i++) TRY(rd_tabletype(r, &m->tables[m->ntable_imports + i]));
    return VM_OK;
}

static vm_status sec_memory(rd *r, vm_module *m) {
    uint32_t n;
    TRY(rd_count(r, 100, "memories", &n));
    TRY(alloc_mems(r, m, n));
    for (uint32_t i = 0; i < n; i++) {
        TRY(rd_limits(r, &m->mems[m->nmem_imports + i], "memory"));
        TRY(check_memtype(r, &m->mems[m->nmem_imports + i]));
    }
    return VM_OK;
}

static vm_status fill_imported_globals(rd *r, vm_module *m, uint32_t ndef) {
    uint64_t total = (uint64_t)m->nglobal_imports + ndef;
    if (total > VM_MAX_GLOBALS) FAIL(r, VM_ERR_LIMIT, "too many globals (limit %u)", VM_MAX_GLOBALS);
    m->globals = calloc(total ? total : 1, sizeof *m->globals);
    if (!m->globals) FAIL(r, VM_ERR_NOMEM, "out of memory");
    uint32_t k = 0;
    for (uint32_t i = 0; i < m->nimports; i++)
        if (m->imports[i].kind == VM_EXTERN_GLOBAL) {
            m->globals[k].type = m->imports[i].gtype;
            m->globals[k].mut = m->imports[i].gmut;
            k++;
        }
    m->nglobals = m->nglobal_imports; /* grows as definitions are read */
    return VM_OK;
}

static vm_status sec_global(rd *r, vm_module *m) {
    uint32_t n;
    TRY(rd_count(r, VM_MAX_GLOBALS, "globals", &n));
    TRY(fill_imported_globals(r, m, n));
    for (uint32_t i = 0; i < n; i++) {
        vm_globaldef *g = &m->globals[m->nglobal_imports + i];
        TRY(rd_globaltype(r, &g->type, &g->mut));
        TRY(rd_constexpr(r, m, g->type, &g->init));
        m->nglobals++;
    }
    return VM_OK;
}

static vm_status sec_export(rd *r, vm_module *m) {
    uint32_t n;
    TRY(rd_count(r, VM_MAX_EXPORTS, "exports", &n));
    m->exports = calloc(n ? n : 1, sizeof *m->exports);
    if (!m->exports) FAIL(r, VM_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; i < n; i++) {
        vm_exportdef *e = &m->exports[i];
        m->nexports = i + 1;
        TRY(rd_name(r, &e->name, &e->name_len));
        TRY(rd_byte(r, &e->kind));
        TRY(rd_u32(r, &e->idx));
        uint32_t lim;
        switch (e->kind) {
        case VM_EXTERN_FUNC: lim = m->nfuncs; break;
        case VM_EXTERN_TABLE: lim = m->ntables; break;
        case VM_EXTERN_MEMORY: lim = m->nmems; break;
        case VM_EXTERN_GLOBAL: lim = m->nglobals; break;
        default: FAIL(r, VM_ERR_MALFORMED, "malformed export kind %u", e->kind);
        }
        if (e->idx >= lim) FAIL(r, VM_ERR_INVALID, "unknown %s %u in export", e->kind == 0 ? "function" : e->kind == 1 ? "table" : e->kind == 2 ? "memory" : "global", e->idx);
        if (e->kind == VM_EXTERN_FUNC) m->func_refd[e->idx] = 1;
        if (e->kind == VM_EXTERN_GLOBAL && m->globals[e->idx].mut && (m->cfg.disabled_features & VM_FEATURE_MUTABLE_GLOBALS))
            FAIL(r, VM_ERR_INVALID, "feature not enabled: mutable globals (export \"%s\")", e->name);
        for (uint32_t k = 0; k < i; k++)
            if (m->exports[k].name_len == e->name_len && memcmp(m->exports[k].name, e->name, e->name_len) == 0) FAIL(r, VM_ERR_INVALID, "duplicate export name \"%s\"", e->name);
    }
    return VM_OK;
}

static vm_status sec_elem(rd *r, vm_module *m) {
    uint32_t n;
    TRY(rd_count(r, VM_MAX_SEGMENTS, "element segments", &n));
    m->elems = calloc(n ? n : 1, sizeof *m->elems);
    if (!m->elems) FAIL(r, VM_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; i < n; i++) {
        vm_elemseg *s = &m->elems[i];
        m->nelems = i + 1;
        uint32_t flags;
        TRY(rd_u32(r, &flags));
        if (flags > 7) FAIL(r, VM_ERR_MALFORMED, "malformed elements segment kind %u", flags);
        if (flags != 0 && (m->cfg.disabled_features & (VM_FEATURE_BULK_MEMORY | VM_FEATURE_REFERENCE_TYPES)))
            FAIL(r, VM_ERR_INVALID, "feature not enabled: bulk memory / reference types (element segment kind %u)", flags);
        s->mode = (flags & 1) ? ((flags & 2) ? SEG_DECLARATIVE : SEG_PASSIVE) : SEG_ACTIVE;
        s->table = 0;
        if (s->mode == SEG_ACTIVE) {
            if (flags & 2) TRY(rd_u32(r, &s->table));
            if (s->table >= m->ntables) FAIL(r, VM_ERR_INVALID, "unknown table %u", s->table);
            TRY(rd_constexpr(r, m, VM_I32, &s->offset));
        }
        bool exprs = flags & 4;
        s->type = VM_FUNCREF;
        if (flags & 3) {
            if (exprs) {
                TRY(rd_reftype(r, &s->type));
            } else {
                uint8_t kind = 0;
                TRY(rd_byte(r, &kind));
                if (kind != 0) FAIL(r, VM_ERR_MALFORMED, "malformed element kind %u", kind);
            }
        }
        TRY(rd_count(r, UINT32_MAX, "elements", &s->count));
        s->items = calloc(s->count ? s->count : 1, sizeof *s->items);
        if (!s->items) FAIL(r, VM_ERR_NOMEM, "out of memory");
        for (uint32_t k = 0; k < s->count; k++) {
            if (exprs) {
                TRY(rd_constexpr(r, m, s->type, &s->items[k]));
            } else {
                uint32_t f;
                TRY(rd_u32(r, &f));
                if (f >= m->nfuncs) FAIL(r, VM_ERR_INVALID, "unknown function %u", f);
                m->func_refd[f] = 1;
                s->items[k].kind = CE_FUNC, s->items[k].v = f;
            }
        }
        if (s->mode == SEG_ACTIVE && m->tables[s->table].elem != s->type)
            FAIL(r, VM_ERR_INVALID, "type mismatch: element segment %u does not match its table", i);
    }
    return VM_OK;
}

static vm_status sec_code(rd *r, vm_module *m) {
    uint32_t n;
    TRY(rd_count(r, VM_MAX_FUNCS, "function bodies", &n));
    if (n != m->nfuncs - m->nfunc_imports)
        FAIL(r, VM_ERR_MALFORMED, "function and code section have inconsistent lengths");
    for (uint32_t i = 0; i < n; i++) {
        uint32_t size;
        TRY(rd_u32(r, &size));
        vm_funcdef *f = &m->funcs[m->nfunc_imports + i];
        f->body_off = OFF(r);
        TRY(rd_bytes(r, size, &f->body));
        f->body_len = size;
    }
    return VM_OK;
}

static vm_status sec_data(rd *r, vm_module *m) {
    uint32_t n;
    TRY(rd_count(r, VM_MAX_SEGMENTS, "data segments", &n));
    if (m->has_datacount && n != m->datacount)
        FAIL(r, VM_ERR_MALFORMED, "data count and data section have inconsistent lengths");
    m->datas = calloc(n ? n : 1, sizeof *m->datas);
    if (!m->datas) FAIL(r, VM_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; i < n; i++) {
        vm_dataseg *s = &m->datas[i];
        m->ndatas = i + 1;
        uint32_t flags;
        TRY(rd_u32(r, &flags));
        if (flags > 2) FAIL(r, VM_ERR_MALFORMED, "malformed data segment kind %u", flags);
        if (flags != 0 && (m->cfg.disabled_features & VM_FEATURE_BULK_MEMORY))
            FAIL(r, VM_ERR_INVALID, "feature not enabled: bulk memory (data segment kind %u)", flags);
        s->mode = flags == 1 ? SEG_PASSIVE : SEG_ACTIVE;
        if (flags == 2) TRY(rd_u32(r, &s->mem));
        if (s->mode == SEG_ACTIVE) {
            if (s->mem >= m->nmems) FAIL(r, VM_ERR_INVALID, "unknown memory %u", s->mem);
            TRY(rd_constexpr(r, m, VM_I32, &s->offset));
        }
        const uint8_t *b = NULL;
        TRY(rd_u32(r, &s->len));
        TRY(rd_bytes(r, s->len, &b));
        s->bytes = malloc(s->len ? s->len : 1);
        if (!s->bytes) FAIL(r, VM_ERR_NOMEM, "out of memory");
        memcpy(s->bytes, b, s->len);
    }
    return VM_OK;
}

static int section_rank(uint8_t id) {
    /* datacount (12) sits between element (9) and code (10) */
    static const int rank[13] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 10};
    return rank[id];
}

vm_status vm__decode(vm_module *m, const uint8_t *bytes, size_t len, vm_error *err) {
    rd r0 = {bytes, bytes + len, bytes, err}, *r = &r0;
    const uint8_t *b = NULL;
    if (len < 4 || memcmp(bytes, "\0asm", 4) != 0) FAIL(r, VM_ERR_MALFORMED, "magic header not detected");
    r->p += 4;
    if (len < 8) FAIL(r, VM_ERR_MALFORMED, "unexpected end: unknown binary version");
    TRY(rd_bytes(r, 4, &b));
    if (memcmp(b, "\1\0\0\0", 4) != 0) {
        r->p -= 4;
        FAIL(r, VM_ERR_MALFORMED, "unknown binary version");
    }
    int last = 0;
    bool have_funcs = false, have_globals = false, have_tables = false, have_mems = false;
    uint32_t ntable_def = 0;
    while (r->p < r->end) {
        uint8_t id = 0;
        uint32_t size;
        TRY(rd_byte(r, &id));
        if (id > 12) {
            r->p--;
            FAIL(r, VM_ERR_MALFORMED, "malformed section id %u", id);
        }
        TRY(rd_u32(r, &size));
        if ((uint64_t)(r->end - r->p) < size) FAIL(r, VM_ERR_MALFORMED, "unexpected end: section size %u out of bounds", size);
        rd s = {r->p, r->p + size, r->base, err};
        if (id != 0) {
            int rank = section_rank(id);
            if (rank <= last) {
                r->p -= 1;
                FAIL(r, VM_ERR_MALFORMED, "unexpected content after last section (section %u out of order or repeated)", id);
            }
            last = rank;
        }
        /* Index spaces must exist before sections that use them. */
        if (id > 3 && !have_funcs) {
            TRY(alloc_spaces(&s, m, 0));
            have_funcs = true;
        }
        if (id > 4 && !have_tables) {
            TRY(alloc_tables(&s, m, 0));
            have_tables = true;
        }
        if (id > 5 && !have_mems) {
            TRY(alloc_mems(&s, m, 0));
            have_mems = true;
        }
        if (id > 6 && id != 12 && !have_globals) {
            TRY(fill_imported_globals(&s, m, 0));
            have_globals = true;
        }
        switch (id) {
        case 0: {
            char *name;
            TRY(rd_name(&s, &name, NULL));
            free(name);
            s.p = s.end;
            break;
        }
        case 1: TRY(sec_type(&s, m)); break;
        case 2: TRY(sec_import(&s, m)); break;
        case 3:
            TRY(sec_function(&s, m));
            have_funcs = true;
            break;
        case 4:
            TRY(sec_table(&s, m, &ntable_def));
            have_tables = true;
            break;
        case 5:
            TRY(sec_memory(&s, m));
            have_mems = true;
            break;
        case 6:
            TRY(sec_global(&s, m));
            have_globals = true;
            break;
        case 7: TRY(sec_export(&s, m)); break;
        case 8: {
            TRY(rd_u32(&s, &m->start));
            if (m->start >= m->nfuncs) FAIL(&s, VM_ERR_INVALID, "unknown function %u", m->start);
            const vm_type *t = &m->types[m->funcs[m->start].type];
            if (t->nparams || t->nresults) FAIL(&s, VM_ERR_INVALID, "start function must have type [] -> []");
            m->has_start = true;
            break;
        }
        case 9: TRY(sec_elem(&s, m)); break;
        case 10: TRY(sec_code(&s, m)); break;
        case 11: TRY(sec_data(&s, m)); break;
        case 12:
            TRY(rd_u32(&s, &m->datacount));
            m->has_datacount = true;
            break;
        }
        if (s.p != s.end) {
            r->p = s.p;
            FAIL(r, VM_ERR_MALFORMED, "section size mismatch in section %u", id);
        }
        r->p = s.end;
    }
    if (!have_funcs) TRY(alloc_spaces(r, m, 0));
    if (!have_tables) TRY(alloc_tables(r, m, 0));
    if (!have_mems) TRY(alloc_mems(r, m, 0));
    if (!have_globals) TRY(fill_imported_globals(r, m, 0));
    for (uint32_t i = m->nfunc_imports; i < m->nfuncs; i++)
        if (!m->funcs[i].body) FAIL(r, VM_ERR_MALFORMED, "function and code section have inconsistent lengths");
    if (m->has_datacount && m->ndatas != m->datacount)
        FAIL(r, VM_ERR_MALFORMED, "data count and data section have inconsistent lengths");
    return VM_OK;
}

void vm__module_clear(vm_module *m) {
    for (uint32_t i = 0; i < m->ntypes; i++) {
        free(m->types[i].types);
        free(m->types[i].vtypes);
    }
    free(m->types);
    for (uint32_t i = 0; i < m->nimports; i++) {
        free(m->imports[i].module);
        free(m->imports[i].name);
    }
    free(m->imports);
    if (m->funcs)
        for (uint32_t i = 0; i < m->nfuncs; i++) free(m->funcs[i].code);
    free(m->funcs);
    free(m->func_refd);
    free(m->tables);
    free(m->mems);
    free(m->globals);
    for (uint32_t i = 0; i < m->nexports; i++) free(m->exports[i].name);
    free(m->exports);
    for (uint32_t i = 0; i < m->nelems; i++) free(m->elems[i].items);
    free(m->elems);
    for (uint32_t i = 0; i < m->ndatas; i++) free(m->datas[i].bytes);
    free(m->datas);
}
