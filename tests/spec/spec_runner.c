/* spec_runner: checks the vm engine against the WebAssembly core spec suite.
 *
 * Input is what wabt's wast2json makes of a .wast script: NAME.json (a list of commands) plus the
 * binary modules NAME.N.wasm beside it. Every command is checked in order (docs/spec-suite.md):
 * modules are decoded, validated and instantiated with metering on; actions are invoked and their
 * results compared bit-exactly (NaN results by class); the assert_* commands must fail the way they
 * say. Text-format modules (module_type "text") test a parser we do not have: they are skipped by rule
 * and counted; nothing else is skipped.
 *
 * Usage: spec_runner [-v] FILE.json...
 * Prints one line per file, "PASS|FAIL name: passed/total (skipped-text K)", each failing command above
 * it, then a total line. Exit status 0 when everything passed, 1 when a command failed, 2 when an input
 * could not be read (missing file, malformed JSON, a command without its fields).
 *
 * Ownership: every module and instance made while running one file is kept in the runner's lists
 * until the file is done (another instance may import from it or hold its functions in a table), then
 * instances are freed newest first, then modules, then the import sets. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "spectest_module.h"
#include "vm/vm.h"

/* Limits, each with its reason. */
/* A module file larger than the engine's own default limit cannot load anyway. */
#define SPEC_MAX_WASM_BYTES VM_DEFAULT_MAX_MODULE_BYTES
/* Arguments or results of one action: far above anything in the suite (the widest has 20 or so),
 * small enough that a broken JSON cannot make us allocate much. */
#define SPEC_MAX_VALUES 1024u
/* Fuel per instance: generous (about an hour of interpretation), so metering is on but never runs out
 * in a correct engine; a runaway loop still ends with "out of fuel" instead of hanging the test. */
#define SPEC_FUEL 1000000000000ull
/* Size of one printed description of an action or a value list. */
#define SPEC_DESC_CAP 1024u

typedef struct named_inst {
    char *name; /* owned */
    vm_instance *inst;
} named_inst;

typedef struct runner {
    bool verbose;
    const char *path; /* the JSON file */
    char dir[4096];   /* its directory, with a trailing '/' (or "" for the current directory) */
    const char *base; /* its file name, for messages */
    vm_imports *host; /* the spectest host functions, under SPECTEST_HOST_MODULE */
    vm_imports *imports; /* what modules may import: spectest and every registered instance */
    vm_module **mods;
    size_t nmods, capmods;
    vm_instance **insts;
    size_t ninsts, capinsts;
    named_inst *names;
    size_t nnames, capnames;
    vm_instance *current;
    /* counters of this file */
    /* trap_text_differs: assert_trap passed (any trap counts) but our trap's name is not the spec's text */
    unsigned long passed, failed, skipped_text, wrong_kind, trap_text_differs;
    /* set when the input itself is broken: the file stops and the exit status becomes 2 */
    bool fatal;
    char fatal_msg[1024];
} runner;

/* What an expected value requires. */
typedef enum exp_kind { EXP_EXACT, EXP_NAN_CANONICAL, EXP_NAN_ARITHMETIC, EXP_REF_NONNULL } exp_kind;

typedef struct expected {
    vm_value v;
    exp_kind kind;
} expected;

/* The outcome of checking one command. */
typedef enum outcome { OUT_PASS, OUT_FAIL, OUT_SKIP_TEXT } outcome;

static void set_fatal(runner *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_fatal(runner *r, const char *fmt, ...)
{
    if (r->fatal) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->fatal_msg, sizeof r->fatal_msg, fmt, ap);
    va_end(ap);
    r->fatal = true;
}

/* Appends formatted text to buf (capacity cap, *len used), truncating silently at the end. */
static void buf_add(char *buf, size_t cap, size_t *len, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void buf_add(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
    if (*len >= cap - 1) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *len, cap - *len, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    *len += (size_t)n < cap - *len ? (size_t)n : cap - *len - 1;
}

/* Appends a name in quotes with non-printable bytes escaped (names in the suite are arbitrary UTF-8). */
static void buf_add_name(char *buf, size_t cap, size_t *len, const char *s, size_t n)
{
    buf_add(buf, cap, len, "\"");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
            buf_add(buf, cap, len, "%c", c);
        else
            buf_add(buf, cap, len, "\\x%02x", c);
    }
    buf_add(buf, cap, len, "\"");
}

static const char *status_name(vm_status s)
{
    switch (s) {
    case VM_OK: return "ok";
    case VM_ERR_MALFORMED: return "malformed";
    case VM_ERR_INVALID: return "invalid";
    case VM_ERR_UNLINKABLE: return "unlinkable";
    case VM_ERR_UNINSTANTIABLE: return "uninstantiable";
    case VM_ERR_LIMIT: return "limit";
    case VM_ERR_NOMEM: return "out of memory";
    case VM_ERR_ARG: return "bad argument";
    }
    return "unknown status";
}

static const char *type_name(vm_valtype t)
{
    switch (t) {
    case VM_I32: return "i32";
    case VM_I64: return "i64";
    case VM_F32: return "f32";
    case VM_F64: return "f64";
    case VM_FUNCREF: return "funcref";
    case VM_EXTERNREF: return "externref";
    }
    return "?";
}

static void buf_add_value(char *buf, size_t cap, size_t *len, const vm_value *v)
{
    switch (v->type) {
    case VM_I32: buf_add(buf, cap, len, "i32:%" PRIu32, v->of.i32); break;
    case VM_I64: buf_add(buf, cap, len, "i64:%" PRIu64, v->of.i64); break;
    case VM_F32: {
        float f;
        memcpy(&f, &v->of.f32, sizeof f);
        buf_add(buf, cap, len, "f32:0x%08" PRIx32 " (%.9g)", v->of.f32, (double)f);
        break;
    }
    case VM_F64: {
        double d;
        memcpy(&d, &v->of.f64, sizeof d);
        buf_add(buf, cap, len, "f64:0x%016" PRIx64 " (%.17g)", v->of.f64, d);
        break;
    }
    case VM_FUNCREF:
        if (v->of.ref) buf_add(buf, cap, len, "funcref:%p", v->of.ref);
        else buf_add(buf, cap, len, "funcref:null");
        break;
    case VM_EXTERNREF:
        if (v->of.ref) buf_add(buf, cap, len, "externref:%" PRIuPTR, (uintptr_t)v->of.ref - 1);
        else buf_add(buf, cap, len, "externref:null");
        break;
    default: buf_add(buf, cap, len, "type 0x%x?", (unsigned)v->type); break;
    }
}

static void buf_add_expected(char *buf, size_t cap, size_t *len, const expected *e)
{
    switch (e->kind) {
    case EXP_NAN_CANONICAL: buf_add(buf, cap, len, "%s:nan:canonical", type_name(e->v.type)); break;
    case EXP_NAN_ARITHMETIC: buf_add(buf, cap, len, "%s:nan:arithmetic", type_name(e->v.type)); break;
    case EXP_REF_NONNULL: buf_add(buf, cap, len, "%s:non-null", type_name(e->v.type)); break;
    case EXP_EXACT: buf_add_value(buf, cap, len, &e->v); break;
    }
}

/* ---- What the runner owns ---- */

/* Makes room for one more element of size elem in arr (n used, *cap allocated). Returns the array,
 * possibly moved, or NULL on overflow or allocation failure (arr is then unchanged and still owned by
 * the caller). */
static void *grow(void *arr, size_t n, size_t *cap, size_t elem)
{
    if (n < *cap) return arr;
    size_t ncap, bytes;
    if (!ol_mul_size(*cap ? *cap : 8, 2, &ncap) || !ol_mul_size(ncap, elem, &bytes)) return NULL;
    void *na = realloc(arr, bytes);
    if (!na) return NULL;
    *cap = ncap;
    return na;
}

static bool keep_module(runner *r, vm_module *m)
{
    vm_module **na = grow(r->mods, r->nmods, &r->capmods, sizeof *r->mods);
    if (!na) return false;
    r->mods = na;
    r->mods[r->nmods++] = m;
    return true;
}

static bool keep_instance(runner *r, vm_instance *inst)
{
    vm_instance **na = grow(r->insts, r->ninsts, &r->capinsts, sizeof *r->insts);
    if (!na) return false;
    r->insts = na;
    r->insts[r->ninsts++] = inst;
    return true;
}

static bool add_name(runner *r, const char *name, vm_instance *inst)
{
    named_inst *na = grow(r->names, r->nnames, &r->capnames, sizeof *r->names);
    if (!na) return false;
    r->names = na;
    char *copy = strdup(name);
    if (!copy) return false;
    r->names[r->nnames].name = copy;
    r->names[r->nnames].inst = inst;
    r->nnames++;
    return true;
}

/* The instance a command refers to: the named one (latest definition wins) or the current one. */
static vm_instance *find_instance(const runner *r, const char *name)
{
    if (!name) return r->current;
    for (size_t i = r->nnames; i-- > 0;)
        if (strcmp(r->names[i].name, name) == 0) return r->names[i].inst;
    return NULL;
}

static void runner_release(runner *r)
{
    for (size_t i = r->ninsts; i-- > 0;) vm_instance_free(r->insts[i]);
    for (size_t i = r->nmods; i-- > 0;) vm_module_free(r->mods[i]);
    for (size_t i = 0; i < r->nnames; i++) free(r->names[i].name);
    free(r->insts);
    free(r->mods);
    free(r->names);
    vm_imports_free(r->imports);
    vm_imports_free(r->host);
    r->insts = NULL;
    r->mods = NULL;
    r->names = NULL;
    r->imports = r->host = NULL;
    r->ninsts = r->nmods = r->nnames = r->capinsts = r->capmods = r->capnames = 0;
    r->current = NULL;
}

/* ---- Reading inputs ---- */

/* Reads a whole file into a new buffer (caller frees). On failure returns NULL with a message in err. */
static uint8_t *read_file(const char *path, size_t max, size_t *out_len, char *err, size_t errcap)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errcap, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    if (!buf) goto nomem;
    for (;;) {
        if (len == cap) {
            if (cap > max) {
                snprintf(err, errcap, "%s is larger than %zu bytes (SPEC_MAX_WASM_BYTES)", path, max);
                goto fail;
            }
            uint8_t *nb = realloc(buf, cap * 2);
            if (!nb) goto nomem;
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    if (ferror(f)) {
        snprintf(err, errcap, "cannot read %s: %s", path, strerror(errno));
        goto fail;
    }
    if (len > max) {
        snprintf(err, errcap, "%s is larger than %zu bytes (SPEC_MAX_WASM_BYTES)", path, max);
        goto fail;
    }
    fclose(f);
    *out_len = len;
    return buf;
nomem:
    snprintf(err, errcap, "out of memory reading %s", path);
fail:
    free(buf);
    fclose(f);
    return NULL;
}

/* A required string member; sets the fatal error when it is missing. */
static const char *get_str(runner *r, const json_t *obj, const char *key, int line)
{
    const json_t *v = json_object_get(obj, key);
    if (!json_is_string(v)) {
        set_fatal(r, "line %d: command has no string \"%s\"", line, key);
        return NULL;
    }
    return json_string_value(v);
}

/* An optional string member: NULL when absent; sets the fatal error when present but not a string. */
static const char *opt_str(runner *r, const json_t *obj, const char *key, int line)
{
    const json_t *v = json_object_get(obj, key);
    if (!v) return NULL;
    if (!json_is_string(v)) {
        set_fatal(r, "line %d: \"%s\" is not a string", line, key);
        return NULL;
    }
    return json_string_value(v);
}

/* Parses an unsigned decimal number of at most max; false unless the whole string is that. */
static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    if (!s || *s < '0' || *s > '9') return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > max) return false;
    *out = v;
    return true;
}

static bool parse_type(const char *s, vm_valtype *out)
{
    static const struct {
        const char *name;
        vm_valtype t;
    } types[] = {{"i32", VM_I32}, {"i64", VM_I64}, {"f32", VM_F32}, {"f64", VM_F64},
                 {"funcref", VM_FUNCREF}, {"externref", VM_EXTERNREF}};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcmp(s, types[i].name) == 0) {
            *out = types[i].t;
            return true;
        }
    return false;
}

/* Parses one {"type": T, "value": V} into out. Expected values (is_expected) may also be a NaN class
 * or a non-null funcref; arguments must be exact. Returns false (with err) on a value we cannot
 * represent, which fails the command; a structurally broken value sets the fatal error. */
static bool parse_value(runner *r, const json_t *jv, bool is_expected, int line, expected *out, char *err,
                        size_t errcap)
{
    memset(out, 0, sizeof *out);
    out->kind = EXP_EXACT;
    if (!json_is_object(jv)) {
        set_fatal(r, "line %d: a value is not an object", line);
        return false;
    }
    const char *ts = get_str(r, jv, "type", line);
    if (!ts) return false;
    if (!parse_type(ts, &out->v.type)) {
        snprintf(err, errcap, "value type \"%s\" is not supported (no SIMD in this engine)", ts);
        return false;
    }
    const char *vs = get_str(r, jv, "value", line);
    if (!vs) return false;
    uint64_t n = 0;
    switch (out->v.type) {
    case VM_I32:
    case VM_F32:
        if (out->v.type == VM_F32 && is_expected && strcmp(vs, "nan:canonical") == 0) {
            out->kind = EXP_NAN_CANONICAL;
            return true;
        }
        if (out->v.type == VM_F32 && is_expected && strcmp(vs, "nan:arithmetic") == 0) {
            out->kind = EXP_NAN_ARITHMETIC;
            return true;
        }
        if (!parse_u64(vs, UINT32_MAX, &n)) break;
        if (out->v.type == VM_I32) out->v.of.i32 = (uint32_t)n;
        else out->v.of.f32 = (uint32_t)n;
        return true;
    case VM_I64:
    case VM_F64:
        if (out->v.type == VM_F64 && is_expected && strcmp(vs, "nan:canonical") == 0) {
            out->kind = EXP_NAN_CANONICAL;
            return true;
        }
        if (out->v.type == VM_F64 && is_expected && strcmp(vs, "nan:arithmetic") == 0) {
            out->kind = EXP_NAN_ARITHMETIC;
            return true;
        }
        if (!parse_u64(vs, UINT64_MAX, &n)) break;
        if (out->v.type == VM_I64) out->v.of.i64 = n;
        else out->v.of.f64 = n;
        return true;
    case VM_FUNCREF:
        if (strcmp(vs, "null") == 0) return true; /* of.ref is NULL */
        if (is_expected && parse_u64(vs, UINT64_MAX, &n)) {
            out->kind = EXP_REF_NONNULL; /* a function's identity cannot be named from outside */
            return true;
        }
        break;
    case VM_EXTERNREF:
        if (strcmp(vs, "null") == 0) return true;
        /* externref N travels as the pointer N+1, so that 0 stays distinct from null */
        if (!parse_u64(vs, UINTPTR_MAX - 1, &n)) break;
        out->v.of.ref = (vm_ref)(uintptr_t)(n + 1);
        return true;
    }
    set_fatal(r, "line %d: bad %s value \"%s\"", line, ts, vs);
    return false;
}

/* Parses a JSON array of values into a new array (caller frees; NULL with *count 0 for an empty one). */
static expected *parse_values(runner *r, const json_t *arr, bool is_expected, int line, uint32_t *count, char *err,
                              size_t errcap)
{
    *count = 0;
    if (!arr) return NULL;
    if (!json_is_array(arr)) {
        set_fatal(r, "line %d: values are not an array", line);
        return NULL;
    }
    size_t n = json_array_size(arr);
    if (n == 0) return NULL;
    if (n > SPEC_MAX_VALUES) {
        set_fatal(r, "line %d: %zu values, more than SPEC_MAX_VALUES (%u)", line, n, SPEC_MAX_VALUES);
        return NULL;
    }
    expected *vals = calloc(n, sizeof *vals);
    if (!vals) {
        set_fatal(r, "line %d: out of memory", line);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (!parse_value(r, json_array_get(arr, i), is_expected, line, &vals[i], err, errcap)) {
            free(vals);
            return NULL;
        }
    }
    *count = (uint32_t)n;
    return vals;
}

/* ---- Checking values ---- */

static bool value_matches(const expected *e, const vm_value *got)
{
    if (got->type != e->v.type) return false;
    switch (e->kind) {
    case EXP_NAN_CANONICAL:
        if (got->type == VM_F32) return (got->of.f32 & 0x7fffffffu) == 0x7fc00000u;
        return (got->of.f64 & 0x7fffffffffffffffull) == 0x7ff8000000000000ull;
    case EXP_NAN_ARITHMETIC: /* a NaN (exponent all ones) with the quiet bit set, any payload */
        if (got->type == VM_F32) return (got->of.f32 & 0x7fc00000u) == 0x7fc00000u;
        return (got->of.f64 & 0x7ff8000000000000ull) == 0x7ff8000000000000ull;
    case EXP_REF_NONNULL: return got->of.ref != NULL;
    case EXP_EXACT: break;
    }
    switch (got->type) {
    case VM_I32: return got->of.i32 == e->v.of.i32;
    case VM_F32: return got->of.f32 == e->v.of.f32;
    case VM_I64: return got->of.i64 == e->v.of.i64;
    case VM_F64: return got->of.f64 == e->v.of.f64;
    case VM_FUNCREF:
    case VM_EXTERNREF: return got->of.ref == e->v.of.ref;
    }
    return false;
}

/* ---- Actions ---- */

/* The result of running an action. */
typedef struct action_result {
    bool ran;       /* false: the action could not be attempted (why), e.g. unknown module or export */
    vm_instance *inst; /* the instance it ran on */
    vm_trap trap;   /* when ran */
    vm_value *results; /* owned; nresults values when ran and trap == VM_TRAP_NONE */
    uint32_t nresults;
    char desc[SPEC_DESC_CAP]; /* the action, for messages */
    char why[SPEC_DESC_CAP];
} action_result;

/* Runs an "invoke" or "get" action. Sets the fatal error when the JSON is broken. */
static void run_action(runner *r, const json_t *action, int line, action_result *ar)
{
    memset(ar, 0, sizeof *ar);
    size_t dl = 0;
    if (!json_is_object(action)) {
        set_fatal(r, "line %d: command has no \"action\" object", line);
        return;
    }
    const char *type = get_str(r, action, "type", line);
    const char *modname = opt_str(r, action, "module", line);
    const json_t *jfield = json_object_get(action, "field");
    if (!type || r->fatal) return;
    if (!json_is_string(jfield)) {
        set_fatal(r, "line %d: action has no string \"field\"", line);
        return;
    }
    const char *field = json_string_value(jfield);
    size_t field_len = json_string_length(jfield);
    buf_add(ar->desc, sizeof ar->desc, &dl, "%s ", type);
    if (modname) buf_add(ar->desc, sizeof ar->desc, &dl, "%s.", modname);
    buf_add_name(ar->desc, sizeof ar->desc, &dl, field, field_len);

    vm_instance *inst = find_instance(r, modname);
    ar->inst = inst;
    if (!inst) {
        snprintf(ar->why, sizeof ar->why, "no %s module instance%s%s", modname ? "such" : "current",
                 modname ? " " : "", modname ? modname : "");
        return;
    }
    /* names are passed with their length: names.wast has one made of NUL and control bytes */

    if (strcmp(type, "get") == 0) {
        ar->results = calloc(1, sizeof *ar->results);
        if (!ar->results) {
            set_fatal(r, "out of memory");
            return;
        }
        if (!vm_global_get_n(inst, field, field_len, &ar->results[0])) {
            snprintf(ar->why, sizeof ar->why, "vm_global_get_n: no exported global by that name");
            return;
        }
        ar->ran = true;
        ar->trap = VM_TRAP_NONE;
        ar->nresults = 1;
        return;
    }
    if (strcmp(type, "invoke") != 0) {
        set_fatal(r, "line %d: unknown action type \"%s\"", line, type);
        return;
    }

    uint32_t nargs;
    char err[256] = "";
    expected *args = parse_values(r, json_object_get(action, "args"), false, line, &nargs, err, sizeof err);
    if (r->fatal) return;
    if (err[0]) {
        snprintf(ar->why, sizeof ar->why, "%s", err);
        return;
    }
    buf_add(ar->desc, sizeof ar->desc, &dl, "(");
    for (uint32_t i = 0; i < nargs; i++) {
        if (i) buf_add(ar->desc, sizeof ar->desc, &dl, ", ");
        buf_add_value(ar->desc, sizeof ar->desc, &dl, &args[i].v);
    }
    buf_add(ar->desc, sizeof ar->desc, &dl, ")");

    vm_functype ft;
    if (!vm_module_export_functype_n(vm_instance_module(inst), field, field_len, &ft)) {
        snprintf(ar->why, sizeof ar->why, "vm_module_export_functype_n: no exported function by that name");
        free(args);
        return;
    }
    vm_value argv[SPEC_MAX_VALUES];
    for (uint32_t i = 0; i < nargs; i++) argv[i] = args[i].v;
    free(args);
    if (ft.nresults > SPEC_MAX_VALUES) {
        snprintf(ar->why, sizeof ar->why, "the function returns %" PRIu32 " values, more than SPEC_MAX_VALUES",
                 ft.nresults);
        return;
    }
    ar->results = calloc(ft.nresults ? ft.nresults : 1, sizeof *ar->results);
    if (!ar->results) {
        set_fatal(r, "out of memory");
        return;
    }
    ar->trap = vm_call_n(inst, field, field_len, argv, nargs, ar->results, ft.nresults);
    ar->nresults = ft.nresults;
    ar->ran = true;
}

static void action_result_free(action_result *ar)
{
    free(ar->results);
    ar->results = NULL;
}

/* ---- Commands ---- */

/* Counts a command's outcome and prints it: failures always, the rest with -v. */
static void report(runner *r, int line, const char *type, outcome out, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void report(runner *r, int line, const char *type, outcome out, const char *fmt, ...)
{
    if (out == OUT_FAIL) r->failed++;
    else if (out == OUT_PASS) r->passed++;
    else r->skipped_text++;
    if (out != OUT_FAIL && !r->verbose) return;
    char msg[2 * SPEC_DESC_CAP + 512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    printf("  %s:%d: %s %s: %s\n", r->base, line, out == OUT_FAIL ? "FAIL" : out == OUT_PASS ? "ok" : "skip",
           type, msg);
}

/* Loads the binary module of a command (its "filename" beside the JSON). Returns the module (kept by
 * the runner) or NULL with err filled; sets the fatal error when the file cannot be read. */
static vm_module *load_module(runner *r, const json_t *cmd, int line, vm_error *err)
{
    memset(err, 0, sizeof *err);
    const char *fname = get_str(r, cmd, "filename", line);
    if (!fname) return NULL;
    char path[sizeof r->dir + 512];
    int pn = snprintf(path, sizeof path, "%s%s", r->dir, fname);
    if (pn < 0 || (size_t)pn >= sizeof path) {
        set_fatal(r, "line %d: module path too long", line);
        return NULL;
    }
    char rerr[sizeof path + 256];
    size_t len = 0;
    uint8_t *bytes = read_file(path, SPEC_MAX_WASM_BYTES, &len, rerr, sizeof rerr);
    if (!bytes) {
        set_fatal(r, "line %d: %s", line, rerr);
        return NULL;
    }
    vm_module_config mcfg;
    vm_module_config_default(&mcfg);
    mcfg.metering = true;
    vm_module *m = vm_module_new(bytes, len, &mcfg, err);
    free(bytes);
    if (m && !keep_module(r, m)) {
        vm_module_free(m);
        set_fatal(r, "out of memory");
        return NULL;
    }
    return m;
}

static vm_instance *instantiate(runner *r, const vm_module *m, vm_error *err)
{
    vm_instance_config cfg;
    vm_instance_config_default(&cfg);
    cfg.fuel = SPEC_FUEL;
    memset(err, 0, sizeof *err);
    vm_instance *inst = vm_instance_new(m, r->imports, &cfg, err);
    if (inst && !keep_instance(r, inst)) {
        vm_instance_free(inst);
        set_fatal(r, "out of memory");
        return NULL;
    }
    return inst;
}

static void cmd_module(runner *r, const json_t *cmd, int line)
{
    const char *name = opt_str(r, cmd, "name", line);
    vm_error err;
    vm_module *m = load_module(r, cmd, line, &err);
    if (r->fatal) return;
    r->current = NULL; /* a module that fails leaves no current module behind */
    if (!m) {
        report(r, line, "module", OUT_FAIL, "%s: did not load: %s at offset %" PRIu64 ": %s",
               json_string_value(json_object_get(cmd, "filename")), status_name(err.code), err.offset, err.msg);
        return;
    }
    vm_instance *inst = instantiate(r, m, &err);
    if (r->fatal) return;
    if (!inst) {
        report(r, line, "module", OUT_FAIL, "%s: did not instantiate: %s: %s",
               json_string_value(json_object_get(cmd, "filename")), status_name(err.code), err.msg);
        return;
    }
    r->current = inst;
    if (name && !add_name(r, name, inst)) {
        set_fatal(r, "out of memory");
        return;
    }
    report(r, line, "module", OUT_PASS, "%s%s%s", json_string_value(json_object_get(cmd, "filename")),
           name ? " as " : "", name ? name : "");
}

static void cmd_register(runner *r, const json_t *cmd, int line)
{
    const char *as = get_str(r, cmd, "as", line);
    const char *name = opt_str(r, cmd, "name", line);
    if (r->fatal) return;
    vm_instance *inst = find_instance(r, name);
    if (!inst) {
        report(r, line, "register", OUT_FAIL, "\"%s\": no %s module instance %s", as, name ? "such" : "current",
               name ? name : "");
        return;
    }
    if (!vm_imports_add_instance(r->imports, as, inst)) {
        report(r, line, "register", OUT_FAIL, "\"%s\": vm_imports_add_instance failed", as);
        return;
    }
    report(r, line, "register", OUT_PASS, "\"%s\"", as);
}

/* Whether our trap kind is the one the spec's message names: its name is a prefix of the text (the suite
 * writes e.g. "uninitialized element 2"), or the text is the suite's older alias for it. */
static bool trap_text_agrees(const char *text, vm_trap t)
{
    const char *name = vm_trap_name(t);
    if (name && name[0] && strncmp(text, name, strlen(name)) == 0) return true;
    /* call_indirect past the table's end: "undefined element" in the suite, a table bounds trap here */
    return t == VM_TRAP_TABLE_OOB && strncmp(text, "undefined element", 17) == 0;
}

/* action, assert_return, assert_trap, assert_exhaustion */
static void cmd_action(runner *r, const json_t *cmd, const char *type, int line)
{
    action_result ar;
    run_action(r, json_object_get(cmd, "action"), line, &ar);
    if (r->fatal) goto out;
    if (!ar.ran) {
        report(r, line, type, OUT_FAIL, "%s: %s", ar.desc, ar.why);
        goto out;
    }
    char got[SPEC_DESC_CAP] = "";
    size_t gl = 0;
    if (ar.trap == VM_TRAP_NONE) {
        buf_add(got, sizeof got, &gl, "(");
        for (uint32_t i = 0; i < ar.nresults; i++) {
            if (i) buf_add(got, sizeof got, &gl, ", ");
            buf_add_value(got, sizeof got, &gl, &ar.results[i]);
        }
        buf_add(got, sizeof got, &gl, ")");
    } else {
        buf_add(got, sizeof got, &gl, "trap \"%s\" (%s)", vm_trap_name(ar.trap), vm_trap_message(ar.inst));
    }

    if (strcmp(type, "action") == 0) {
        report(r, line, type, ar.trap == VM_TRAP_NONE ? OUT_PASS : OUT_FAIL, "%s: got %s", ar.desc, got);
    } else if (strcmp(type, "assert_trap") == 0 || strcmp(type, "assert_exhaustion") == 0) {
        const char *text = opt_str(r, cmd, "text", line);
        bool ok = strcmp(type, "assert_trap") == 0 ? ar.trap != VM_TRAP_NONE : ar.trap == VM_TRAP_STACK_EXHAUSTED;
        if (ok && text && !trap_text_agrees(text, ar.trap)) {
            /* still a pass (the brief counts any trap), but shown so a wrong trap kind is noticed */
            r->trap_text_differs++;
            printf("  %s:%d: note %s: %s: expected trap \"%s\", got %s (passes; trap kind differs)\n", r->base,
                   line, type, ar.desc, text, got);
        }
        report(r, line, type, ok ? OUT_PASS : OUT_FAIL, "%s: expected trap \"%s\"%s, got %s", ar.desc,
               text ? text : "", strcmp(type, "assert_exhaustion") == 0 ? " (stack exhausted)" : "", got);
    } else { /* assert_return */
        char err[256] = "";
        uint32_t nexp;
        expected *exp = parse_values(r, json_object_get(cmd, "expected"), true, line, &nexp, err, sizeof err);
        if (r->fatal) goto out;
        if (err[0]) {
            report(r, line, type, OUT_FAIL, "%s: %s", ar.desc, err);
            goto out;
        }
        char want[SPEC_DESC_CAP] = "";
        size_t wl = 0;
        buf_add(want, sizeof want, &wl, "(");
        for (uint32_t i = 0; i < nexp; i++) {
            if (i) buf_add(want, sizeof want, &wl, ", ");
            buf_add_expected(want, sizeof want, &wl, &exp[i]);
        }
        buf_add(want, sizeof want, &wl, ")");
        bool ok = ar.trap == VM_TRAP_NONE && ar.nresults == nexp;
        for (uint32_t i = 0; ok && i < nexp; i++) ok = value_matches(&exp[i], &ar.results[i]);
        free(exp);
        report(r, line, type, ok ? OUT_PASS : OUT_FAIL, "%s: expected %s, got %s", ar.desc, want, got);
    }
out:
    action_result_free(&ar);
}

/* assert_invalid, assert_malformed: a binary module must be rejected by decoding or validation. */
static void cmd_reject(runner *r, const json_t *cmd, const char *type, int line)
{
    const char *mt = get_str(r, cmd, "module_type", line);
    const char *text = opt_str(r, cmd, "text", line);
    if (r->fatal) return;
    if (strcmp(mt, "text") == 0) {
        report(r, line, type, OUT_SKIP_TEXT, "text module (%s), expected \"%s\"",
               json_string_value(json_object_get(cmd, "filename")), text ? text : "");
        return;
    }
    if (strcmp(mt, "binary") != 0) {
        set_fatal(r, "line %d: unknown module_type \"%s\"", line, mt);
        return;
    }
    vm_error err;
    vm_module *m = load_module(r, cmd, line, &err);
    if (r->fatal) return;
    const char *fname = json_string_value(json_object_get(cmd, "filename"));
    if (m) {
        report(r, line, type, OUT_FAIL, "%s: module was accepted, expected \"%s\"", fname, text ? text : "");
        return;
    }
    bool invalid = strcmp(type, "assert_invalid") == 0;
    if (err.code == VM_ERR_INVALID || err.code == VM_ERR_MALFORMED) {
        bool wrong = invalid && err.code == VM_ERR_MALFORMED;
        if (wrong) r->wrong_kind++;
        report(r, line, type, OUT_PASS, "%s: expected \"%s\", got %s%s at offset %" PRIu64 ": %s", fname,
               text ? text : "", status_name(err.code), wrong ? " (wrong kind)" : "", err.offset, err.msg);
        return;
    }
    report(r, line, type, OUT_FAIL, "%s: expected \"%s\", got %s at offset %" PRIu64 ": %s", fname,
           text ? text : "", status_name(err.code), err.offset, err.msg);
}

/* assert_unlinkable, assert_uninstantiable: the module loads, instantiation fails with that status. */
static void cmd_no_instance(runner *r, const json_t *cmd, const char *type, int line)
{
    const char *mt = get_str(r, cmd, "module_type", line);
    const char *text = opt_str(r, cmd, "text", line);
    if (r->fatal) return;
    if (strcmp(mt, "text") == 0) {
        report(r, line, type, OUT_SKIP_TEXT, "text module, expected \"%s\"", text ? text : "");
        return;
    }
    vm_status want = strcmp(type, "assert_unlinkable") == 0 ? VM_ERR_UNLINKABLE : VM_ERR_UNINSTANTIABLE;
    vm_error err;
    vm_module *m = load_module(r, cmd, line, &err);
    if (r->fatal) return;
    const char *fname = json_string_value(json_object_get(cmd, "filename"));
    if (!m) {
        report(r, line, type, OUT_FAIL, "%s: did not load: %s at offset %" PRIu64 ": %s", fname,
               status_name(err.code), err.offset, err.msg);
        return;
    }
    vm_instance *inst = instantiate(r, m, &err);
    if (r->fatal) return;
    if (inst) {
        report(r, line, type, OUT_FAIL, "%s: instantiated, expected %s \"%s\"", fname, status_name(want),
               text ? text : "");
        return;
    }
    report(r, line, type, err.code == want ? OUT_PASS : OUT_FAIL, "%s: expected %s \"%s\", got %s: %s", fname,
           status_name(want), text ? text : "", status_name(err.code), err.msg);
}

static void run_command(runner *r, const json_t *cmd)
{
    if (!json_is_object(cmd)) {
        set_fatal(r, "a command is not an object");
        return;
    }
    const json_t *jl = json_object_get(cmd, "line");
    int line = json_is_integer(jl) ? (int)json_integer_value(jl) : 0;
    const char *type = get_str(r, cmd, "type", line);
    if (!type) return;
    if (r->verbose) fflush(stdout);
    if (strcmp(type, "module") == 0) cmd_module(r, cmd, line);
    else if (strcmp(type, "register") == 0) cmd_register(r, cmd, line);
    else if (strcmp(type, "action") == 0 || strcmp(type, "assert_return") == 0 || strcmp(type, "assert_trap") == 0 ||
             strcmp(type, "assert_exhaustion") == 0)
        cmd_action(r, cmd, type, line);
    else if (strcmp(type, "assert_invalid") == 0 || strcmp(type, "assert_malformed") == 0)
        cmd_reject(r, cmd, type, line);
    else if (strcmp(type, "assert_unlinkable") == 0 || strcmp(type, "assert_uninstantiable") == 0)
        cmd_no_instance(r, cmd, type, line);
    else
        report(r, line, type, OUT_FAIL, "unknown command type (nothing is skipped silently)");
}

/* ---- spectest ---- */

static vm_trap spectest_print(vm_host_call *call, const uint64_t *args, uint64_t *results)
{
    (void)call;
    (void)args;
    (void)results;
    return VM_TRAP_NONE; /* prints go nowhere */
}

/* Builds the host functions, instantiates the spectest module and registers it as "spectest". */
static bool setup_spectest(runner *r)
{
    static const vm_valtype i32[] = {VM_I32}, i64[] = {VM_I64}, f32[] = {VM_F32}, f64[] = {VM_F64},
                            i32_f32[] = {VM_I32, VM_F32}, f64_f64[] = {VM_F64, VM_F64};
    static const struct {
        const char *name;
        const vm_valtype *params;
        uint32_t nparams;
    } prints[] = {{"print", NULL, 0},     {"print_i32", i32, 1},         {"print_i64", i64, 1},
                  {"print_f32", f32, 1}, {"print_f64", f64, 1},         {"print_i32_f32", i32_f32, 2},
                  {"print_f64_f64", f64_f64, 2}};
    r->host = vm_imports_new();
    r->imports = vm_imports_new();
    if (!r->host || !r->imports) {
        set_fatal(r, "out of memory");
        return false;
    }
    for (size_t i = 0; i < sizeof prints / sizeof prints[0]; i++) {
        vm_functype ft = {prints[i].params, prints[i].nparams, NULL, 0};
        if (!vm_imports_add_func(r->host, SPECTEST_HOST_MODULE, prints[i].name, &ft, spectest_print, NULL)) {
            set_fatal(r, "out of memory");
            return false;
        }
    }
    vm_error err;
    memset(&err, 0, sizeof err);
    vm_module *m = vm_module_new(spectest_wasm, sizeof spectest_wasm, NULL, &err);
    if (!m) {
        set_fatal(r, "the spectest module did not load: %s at offset %" PRIu64 ": %s", status_name(err.code),
                  err.offset, err.msg);
        return false;
    }
    if (!keep_module(r, m)) {
        vm_module_free(m);
        set_fatal(r, "out of memory");
        return false;
    }
    vm_instance_config cfg;
    vm_instance_config_default(&cfg);
    cfg.fuel = SPEC_FUEL;
    vm_instance *inst = vm_instance_new(m, r->host, &cfg, &err);
    if (!inst) {
        set_fatal(r, "the spectest module did not instantiate: %s: %s", status_name(err.code), err.msg);
        return false;
    }
    if (!keep_instance(r, inst)) {
        vm_instance_free(inst);
        set_fatal(r, "out of memory");
        return false;
    }
    if (!vm_imports_add_instance(r->imports, "spectest", inst)) {
        set_fatal(r, "out of memory");
        return false;
    }
    return true;
}

/* ---- Files ---- */

/* Runs one JSON file. Returns 0 when every command passed, 1 when some failed, 2 on broken input. */
static int run_file(runner *r, const char *path)
{
    r->path = path;
    r->fatal = false;
    r->fatal_msg[0] = 0;
    r->passed = r->failed = r->skipped_text = r->wrong_kind = r->trap_text_differs = 0;
    const char *slash = strrchr(path, '/');
    r->base = slash ? slash + 1 : path;
    size_t dlen = slash ? (size_t)(slash - path) + 1 : 0;
    if (dlen >= sizeof r->dir) {
        fprintf(stderr, "spec_runner: %s: path too long\n", path);
        return 2;
    }
    memcpy(r->dir, path, dlen);
    r->dir[dlen] = 0;

    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        fprintf(stderr, "spec_runner: %s:%d:%d: cannot read JSON: %s\n", path, jerr.line, jerr.column, jerr.text);
        return 2;
    }
    const json_t *cmds = json_object_get(root, "commands");
    if (!json_is_array(cmds)) {
        fprintf(stderr, "spec_runner: %s: no \"commands\" array (is this wast2json output?)\n", path);
        json_decref(root);
        return 2;
    }
    if (setup_spectest(r)) {
        size_t n = json_array_size(cmds);
        for (size_t i = 0; i < n && !r->fatal; i++) run_command(r, json_array_get(cmds, i));
    }
    runner_release(r);
    json_decref(root);
    if (r->fatal) {
        fprintf(stderr, "spec_runner: %s: %s\n", path, r->fatal_msg);
        printf("FAIL %s: broken input: %s\n", r->base, r->fatal_msg);
        return 2;
    }
    printf("%s %s: %lu/%lu (skipped-text %lu", r->failed ? "FAIL" : "PASS", r->base, r->passed,
           r->passed + r->failed, r->skipped_text);
    if (r->wrong_kind) printf(", invalid-reported-as-malformed %lu", r->wrong_kind);
    if (r->trap_text_differs) printf(", trap-text-differs %lu", r->trap_text_differs);
    printf(")\n");
    fflush(stdout);
    return r->failed ? 1 : 0;
}

int main(int argc, char **argv)
{
    runner r;
    memset(&r, 0, sizeof r);
    int first = 1;
    if (argc > 1 && strcmp(argv[1], "-v") == 0) {
        r.verbose = true;
        first = 2;
    }
    if (first >= argc) {
        fprintf(stderr, "usage: %s [-v] FILE.json...\n", argv[0]);
        return 2;
    }
    unsigned long passed = 0, failed = 0, skipped = 0, wrong = 0, trapdiff = 0, files = 0, bad_files = 0;
    int status = 0;
    for (int i = first; i < argc; i++) {
        int rc = run_file(&r, argv[i]);
        if (rc > status) status = rc;
        files++;
        if (rc) bad_files++;
        passed += r.passed;
        failed += r.failed;
        skipped += r.skipped_text;
        wrong += r.wrong_kind;
        trapdiff += r.trap_text_differs;
    }
    printf("TOTAL %s: %lu files (%lu failing), %lu/%lu commands passed, %lu failed, skipped-text %lu, "
           "invalid-reported-as-malformed %lu, trap-text-differs %lu\n",
           status ? "FAIL" : "PASS", files, bad_files, passed, passed + failed, failed, skipped, wrong,
           trapdiff);
    return status;
}
