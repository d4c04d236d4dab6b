/* Modules, import sets, instances, calls and the host-function API. */
#include "vm/vm_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- modules ---- */

void vm_module_config_default(vm_module_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->metering = true;
    cfg->max_module_bytes = VM_DEFAULT_MAX_MODULE_BYTES;
}

vm_module *vm_module_new(const uint8_t *bytes, size_t len, const vm_module_config *cfg, vm_error *err) {
    vm_error local;
    if (!err) err = &local;
    memset(err, 0, sizeof *err);
    vm_module *m = calloc(1, sizeof *m);
    if (!m) {
        vm__errf(err, VM_ERR_NOMEM, 0, "out of memory");
        return NULL;
    }
    if (cfg) m->cfg = *cfg;
    else vm_module_config_default(&m->cfg);
    uint64_t max = m->cfg.max_module_bytes ? m->cfg.max_module_bytes : VM_DEFAULT_MAX_MODULE_BYTES;
    if (len > max) {
        vm__errf(err, VM_ERR_LIMIT, 0, "module is %zu bytes, above the limit max_module_bytes (%llu)", len,
                 (unsigned long long)max);
        goto fail;
    }
    atomic_init(&m->refs, 1);
    if (vm__decode(m, bytes, len, err)) goto fail;
    for (uint32_t i = m->nfunc_imports; i < m->nfuncs; i++)
        if (vm__compile_func(m, i, err)) goto fail;
    for (uint32_t i = 0; i < m->nfuncs; i++) m->funcs[i].body = NULL; /* bytes were borrowed */
    return m;
fail:
    vm__module_clear(m);
    free(m);
    return NULL;
}

void vm_module_free(vm_module *m) {
    if (!m) return;
    if (atomic_fetch_sub(&m->refs, 1) != 1) return;
    vm__module_clear(m);
    free(m);
}

static void functype_of(const vm_type *t, vm_functype *out) {
    out->params = t->vtypes;
    out->nparams = t->nparams;
    out->results = t->vtypes + t->nparams;
    out->nresults = t->nresults;
}

uint32_t vm_module_import_count(const vm_module *m) { return m->nimports; }

void vm_module_import(const vm_module *m, uint32_t i, vm_import_desc *out) {
    memset(out, 0, sizeof *out);
    if (i >= m->nimports) return;
    const vm_importdef *im = &m->imports[i];
    out->module = im->module;
    out->name = im->name;
    out->kind = (vm_extern_kind)im->kind;
    if (im->kind == VM_EXTERN_FUNC) functype_of(&m->types[im->type], &out->func);
}

uint32_t vm_module_export_count(const vm_module *m) { return m->nexports; }

const char *vm_module_export_name(const vm_module *m, uint32_t i, vm_extern_kind *out_kind) {
    if (i >= m->nexports) return NULL;
    if (out_kind) *out_kind = (vm_extern_kind)m->exports[i].kind;
    return m->exports[i].name;
}

static const vm_exportdef *find_export_n(const vm_module *m, const char *name, size_t len, uint8_t kind) {
    for (uint32_t i = 0; i < m->nexports; i++)
        if (m->exports[i].kind == kind && m->exports[i].name_len == len &&
            memcmp(m->exports[i].name, name, m->exports[i].name_len) == 0)
            return &m->exports[i];
    return NULL;
}

static const vm_exportdef *find_export(const vm_module *m, const char *name, uint8_t kind) {
    return find_export_n(m, name, strlen(name), kind);
}

/* ---- import sets ---- */

typedef struct imp_entry {
    char *module, *name;
    vm_host_fn fn;
    void *user;
    vm_type type; /* owned arrays */
    vm_instance *inst;
} imp_entry;

struct vm_imports {
    imp_entry *e;
    uint32_t n, cap;
    vm_instance **zombies;
    uint32_t nz, capz;
};

vm_imports *vm_imports_new(void) { return calloc(1, sizeof(vm_imports)); }

void vm_instance_free_internal(vm_instance *inst);

void vm_imports_free(vm_imports *imp) {
    if (!imp) return;
    for (uint32_t i = 0; i < imp->n; i++) {
        free(imp->e[i].module);
        free(imp->e[i].name);
        free(imp->e[i].type.types);
    }
    free(imp->e);
    for (uint32_t i = 0; i < imp->nz; i++) vm_instance_free(imp->zombies[i]);
    free(imp->zombies);
    free(imp);
}

static imp_entry *add_entry(vm_imports *imp) {
    if (imp->n == imp->cap) {
        uint32_t n = imp->cap * 2 + 8;
        imp_entry *e = realloc(imp->e, n * sizeof *e);
        if (!e) return NULL;
        imp->e = e;
        imp->cap = n;
    }
    imp_entry *e = &imp->e[imp->n];
    memset(e, 0, sizeof *e);
    return e;
}

bool vm_imports_add_func(vm_imports *imp, const char *module, const char *name, const vm_functype *type,
                         vm_host_fn fn, void *user) {
    if (!imp || !module || !name || !type || !fn) return false;
    if (type->nparams > VM_MAX_PARAMS || type->nresults > VM_MAX_RESULTS) return false;
    imp_entry *e = add_entry(imp);
    if (!e) return false;
    e->module = strdup(module);
    e->name = strdup(name);
    e->type.types = malloc((size_t)type->nparams + type->nresults + 1);
    if (!e->module || !e->name || !e->type.types) {
        free(e->module);
        free(e->name);
        free(e->type.types);
        return false;
    }
    for (uint32_t k = 0; k < type->nparams; k++) e->type.types[k] = (uint8_t)type->params[k];
    for (uint32_t k = 0; k < type->nresults; k++) e->type.types[type->nparams + k] = (uint8_t)type->results[k];
    e->type.nparams = type->nparams;
    e->type.nresults = type->nresults;
    e->fn = fn;
    e->user = user;
    imp->n++;
    return true;
}

bool vm_imports_add_instance(vm_imports *imp, const char *module, vm_instance *inst) {
    if (!imp || !module || !inst) return false;
    imp_entry *e = add_entry(imp);
    if (!e) return false;
    e->module = strdup(module);
    if (!e->module) return false;
    e->inst = inst;
    imp->n++;
    return true;
}

static bool add_zombie(vm_imports *imp, vm_instance *inst) {
    if (imp->nz == imp->capz) {
        uint32_t n = imp->capz * 2 + 4;
        vm_instance **z = realloc(imp->zombies, n * sizeof *z);
        if (!z) return false;
        imp->zombies = z;
        imp->capz = n;
    }
    imp->zombies[imp->nz++] = inst;
    return true;
}

/* ---- memories and tables ---- */

int64_t vm__memory_grow(vm_memory *mem, uint32_t delta) {
    uint32_t old = mem->pages;
    uint64_t np = (uint64_t)old + delta;
    if (np > mem->max_pages) {
        if (np <= mem->module_max) mem->limit_hit = true;
        return -1;
    }
    if (delta == 0) return old;
    uint64_t nsize = np * VM_PAGE;
    uint8_t *d = realloc(mem->data, nsize ? nsize : 1);
    if (!d) {
        mem->limit_hit = true;
        return -1;
    }
    memset(d + mem->size, 0, nsize - mem->size);
    mem->data = d;
    mem->size = nsize;
    mem->pages = (uint32_t)np;
    if (nsize > mem->peak) mem->peak = nsize;
    return old;
}

int64_t vm__table_grow(vm_table *t, uint32_t delta, vm_ref init, uint32_t cap) {
    uint32_t old = t->size;
    uint64_t ns = (uint64_t)old + delta;
    if (ns > t->max || ns > cap) return -1;
    if (delta == 0) return old;
    vm_ref *e = realloc(t->elems, ns * sizeof *e);
    if (!e) return -1;
    for (uint64_t k = old; k < ns; k++) e[k] = init;
    t->elems = e;
    t->size = (uint32_t)ns;
    return old;
}

/* ---- instances ---- */

void vm_instance_config_default(vm_instance_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->fuel = UINT64_MAX;
}

static uint64_t eval_const(vm_instance *inst, const vm_constexpr *ce) {
    switch (ce->kind) {
    case CE_GLOBAL: return inst->globals[ce->v]->val;
    case CE_FUNC: return (uint64_t)(uintptr_t)inst->funcs[ce->v];
    case CE_NULL: return 0;
    default: return ce->v;
    }
}

static const char *kind_name(uint8_t k) {
    switch (k) {
    case VM_EXTERN_FUNC: return "function";
    case VM_EXTERN_TABLE: return "table";
    case VM_EXTERN_MEMORY: return "memory";
    default: return "global";
    }
}

static bool limits_match(uint64_t have_min, bool have_has_max, uint64_t have_max, const vm_limits_t *want) {
    if (have_min < want->min) return false;
    if (want->has_max) {
        if (!have_has_max || have_max > want->max) return false;
    }
    return true;
}

static vm_status link_imports(vm_instance *inst, vm_imports *imp, vm_error *err) {
    const vm_module *m = inst->mod;
    uint32_t kf = 0, kt = 0, km = 0, kg = 0;
    for (uint32_t i = 0; i < m->nimports; i++) {
        const vm_importdef *im = &m->imports[i];
        imp_entry *host = NULL;
        vm_instance *src = NULL;
        const vm_exportdef *ex = NULL;
        for (uint32_t k = 0; imp && k < imp->n; k++) {
            imp_entry *e = &imp->e[k];
            if (strcmp(e->module, im->module) != 0) continue;
            if (e->inst) {
                const vm_exportdef *x = find_export(e->inst->mod, im->name, im->kind);
                if (!x) {
                    /* an export of that name but another kind is a type mismatch */
                    for (uint32_t j = 0; j < e->inst->mod->nexports; j++)
                        if (strcmp(e->inst->mod->exports[j].name, im->name) == 0)
                            return vm__errf(err, VM_ERR_UNLINKABLE, 0, "incompatible import type: %s.%s is a %s, not a %s",
                                            im->module, im->name, kind_name(e->inst->mod->exports[j].kind), kind_name(im->kind));
                    continue;
                }
                src = e->inst, ex = x;
                break;
            } else if (strcmp(e->name, im->name) == 0) {
                host = e;
                break;
            }
        }
        if (!host && !src) return vm__errf(err, VM_ERR_UNLINKABLE, 0, "unknown import: %s.%s (%s)", im->module, im->name, kind_name(im->kind));
        switch (im->kind) {
        case VM_EXTERN_FUNC: {
            const vm_type *want = &m->types[im->type];
            if (host) {
                if (!vm__types_equal(&host->type, want))
                    return vm__errf(err, VM_ERR_UNLINKABLE, 0, "incompatible import type for function %s.%s", im->module, im->name);
                vm_funcinst *f = &inst->host_funcs[inst->nhost_funcs++];
                f->inst = inst;
                f->host = host->fn;
                f->host_user = host->user;
                f->type = want; /* equal to the host's; the module outlives the instance */
                inst->funcs[kf++] = f;
            } else {
                vm_funcinst *f = src->funcs[ex->idx];
                if (!vm__types_equal(f->type, want))
                    return vm__errf(err, VM_ERR_UNLINKABLE, 0, "incompatible import type for function %s.%s", im->module, im->name);
                inst->funcs[kf++] = f;
            }
            break;
        }
        case VM_EXTERN_TABLE: {
            if (host) return vm__errf(err, VM_ERR_UNLINKABLE, 0, "incompatible import type: %s.%s is a function", im->module, im->name);
            vm_table *t = src->tables[ex->idx];
            if (t->type != im->table.elem ||
                !limits_match(t->size, t->max != UINT32_MAX, t->max, &im->table.lim))
                return vm__errf(err, VM_ERR_UNLINKABLE, 0, "incompatible import type for table %s.%s", im->module, im->name);
            inst->tables[kt++] = t;
            break;
        }
        case VM_EXTERN_MEMORY: {
            if (host) return vm__errf(err, VM_ERR_UNLINKABLE, 0, "incompatible import type: %s.%s is a function", im->module, im->name);
            vm_memory *mm = src->mems[ex->idx];
            if (!limits_match(mm->pages, mm->module_max != 65536 || src->mod->mems[ex->idx].has_max, mm->module_max, &im->mem))
                return vm__errf(err, VM_ERR_UNLINKABLE, 0, "incompatible import type for memory %s.%s", im->module, im->name);
            inst->mems[km++] = mm;
            break;
        }
        case VM_EXTERN_GLOBAL: {
            if (host) return vm__errf(err, VM_ERR_UNLINKABLE, 0, "incompatible import type: %s.%s is a function", im->module, im->name);
            vm_global *g = src->globals[ex->idx];
            if (g->type != im->gtype || g->mut != im->gmut)
                return vm__errf(err, VM_ERR_UNLINKABLE, 0, "incompatible import type for global %s.%s", im->module, im->name);
            inst->globals[kg++] = g;
            break;
        }
        }
    }
    return VM_OK;
}

static vm_status alloc_instance(vm_instance *inst, const vm_instance_config *cfg, vm_error *err) {
    const vm_module *m = inst->mod;
#define ALLOC(p, n) ((p) = calloc((n) ? (n) : 1, sizeof *(p)))
    if (!ALLOC(inst->funcs, m->nfuncs) || !ALLOC(inst->own_funcs, m->nfuncs - m->nfunc_imports) ||
        !ALLOC(inst->host_funcs, m->nfunc_imports) || !ALLOC(inst->tables, m->ntables) ||
        !ALLOC(inst->own_tables, m->ntables - m->ntable_imports) || !ALLOC(inst->mems, m->nmems) ||
        !ALLOC(inst->own_mems, m->nmems - m->nmem_imports) || !ALLOC(inst->globals, m->nglobals) ||
        !ALLOC(inst->own_globals, m->nglobals - m->nglobal_imports) || !ALLOC(inst->elem_refs, m->nelems) ||
        !ALLOC(inst->elem_len, m->nelems) || !ALLOC(inst->data_dropped, m->ndatas))
        return vm__errf(err, VM_ERR_NOMEM, 0, "out of memory allocating an instance");
#undef ALLOC
    (void)cfg;
    return VM_OK;
}

static vm_status init_own(vm_instance *inst, const vm_instance_config *cfg, vm_error *err) {
    const vm_module *m = inst->mod;
    for (uint32_t i = m->nfunc_imports; i < m->nfuncs; i++) {
        vm_funcinst *f = &inst->own_funcs[i - m->nfunc_imports];
        f->inst = inst;
        f->def = &m->funcs[i];
        f->type = &m->types[m->funcs[i].type];
        inst->funcs[i] = f;
    }
    uint32_t table_cap = cfg->max_table_elems ? cfg->max_table_elems : VM_DEFAULT_MAX_TABLE_ELEMS;
    for (uint32_t i = m->ntable_imports; i < m->ntables; i++) {
        vm_table *t = &inst->own_tables[i - m->ntable_imports];
        const vm_tabletype *tt = &m->tables[i];
        if (tt->lim.min > table_cap)
            return vm__errf(err, VM_ERR_LIMIT, 0, "table %u needs %u elements, above the limit max_table_elems (%u)", i, tt->lim.min, table_cap);
        t->type = tt->elem;
        t->size = tt->lim.min;
        t->max = tt->lim.has_max ? tt->lim.max : UINT32_MAX;
        t->elems = calloc(t->size ? t->size : 1, sizeof *t->elems);
        if (!t->elems) return vm__errf(err, VM_ERR_NOMEM, 0, "out of memory allocating table %u", i);
        inst->tables[i] = t;
    }
    uint32_t page_cap = cfg->max_memory_pages ? cfg->max_memory_pages : 65536;
    for (uint32_t i = m->nmem_imports; i < m->nmems; i++) {
        vm_memory *mm = &inst->own_mems[i - m->nmem_imports];
        const vm_limits_t *l = &m->mems[i];
        if (l->min > page_cap)
            return vm__errf(err, VM_ERR_LIMIT, 0, "memory needs %u pages at start, above the limit max_memory_pages (%u)", l->min, page_cap);
        mm->module_max = l->has_max ? l->max : 65536;
        uint32_t min = l->min;
        if (cfg->memory_min_pages > min) {
            min = cfg->memory_min_pages;
            if (mm->module_max < min) mm->module_max = min;
        }
        if (min > page_cap)
            return vm__errf(err, VM_ERR_LIMIT, 0, "memory needs %u pages at start, above the limit max_memory_pages (%u)", min, page_cap);
        mm->max_pages = mm->module_max < page_cap ? mm->module_max : page_cap;
        mm->pages = min;
        mm->size = (uint64_t)min * VM_PAGE;
        mm->peak = mm->size;
        mm->data = calloc(mm->size ? mm->size : 1, 1);
        if (!mm->data) return vm__errf(err, VM_ERR_NOMEM, 0, "out of memory allocating %u pages", l->min);
        inst->mems[i] = mm;
    }
    for (uint32_t i = m->nglobal_imports; i < m->nglobals; i++) {
        vm_global *g = &inst->own_globals[i - m->nglobal_imports];
        g->type = m->globals[i].type;
        g->mut = m->globals[i].mut;
        g->val = eval_const(inst, &m->globals[i].init);
        inst->globals[i] = g;
    }
    for (uint32_t i = 0; i < m->nelems; i++) {
        const vm_elemseg *s = &m->elems[i];
        inst->elem_refs[i] = calloc(s->count ? s->count : 1, sizeof(vm_ref));
        if (!inst->elem_refs[i]) return vm__errf(err, VM_ERR_NOMEM, 0, "out of memory");
        for (uint32_t k = 0; k < s->count; k++) inst->elem_refs[i][k] = (vm_ref)(uintptr_t)eval_const(inst, &s->items[k]);
        inst->elem_len[i] = s->mode == SEG_PASSIVE ? s->count : s->count; /* active/declarative dropped below */
    }
    return VM_OK;
}

/* Active segments run as table.init/memory.init followed by a drop, in order; the first that is
 * out of bounds stops instantiation (earlier writes stay, as the spec requires). */
static vm_status apply_segments(vm_instance *inst, vm_error *err) {
    const vm_module *m = inst->mod;
    for (uint32_t i = 0; i < m->nelems; i++) {
        const vm_elemseg *s = &m->elems[i];
        if (s->mode == SEG_ACTIVE) {
            vm_table *t = inst->tables[s->table];
            uint64_t off = (uint32_t)eval_const(inst, &s->offset);
            if (off + s->count > t->size)
                return vm__errf(err, VM_ERR_UNINSTANTIABLE, 0, "out of bounds table access: element segment %u", i);
            memcpy(t->elems + off, inst->elem_refs[i], s->count * sizeof(vm_ref));
        }
        if (s->mode != SEG_PASSIVE) inst->elem_len[i] = 0;
    }
    for (uint32_t i = 0; i < m->ndatas; i++) {
        const vm_dataseg *s = &m->datas[i];
        if (s->mode != SEG_ACTIVE) continue;
        vm_memory *mm = inst->mems[s->mem];
        uint64_t off = (uint32_t)eval_const(inst, &s->offset);
        if (off + s->len > mm->size)
            return vm__errf(err, VM_ERR_UNINSTANTIABLE, 0, "out of bounds memory access: data segment %u", i);
        if (s->len) memcpy(mm->data + off, s->bytes, s->len);
        inst->data_dropped[i] = 1;
    }
    return VM_OK;
}

static vm_status ensure_stack(vm_instance *inst) {
    if (!inst->stack) {
        inst->stack = calloc(inst->stack_slots, sizeof *inst->stack);
        inst->frames = calloc(inst->max_depth, sizeof *inst->frames);
        if (!inst->stack || !inst->frames) return VM_ERR_NOMEM;
    }
    return VM_OK;
}

vm_instance *vm_instance_new(const vm_module *m, vm_imports *imp, const vm_instance_config *cfg_in, vm_error *err) {
    vm_error local;
    if (!err) err = &local;
    memset(err, 0, sizeof *err);
    vm_instance_config cfg;
    if (cfg_in) cfg = *cfg_in;
    else vm_instance_config_default(&cfg);
    vm_instance *inst = calloc(1, sizeof *inst);
    if (!inst) {
        vm__errf(err, VM_ERR_NOMEM, 0, "out of memory");
        return NULL;
    }
    inst->mod = m;
    atomic_fetch_add(&((vm_module *)m)->refs, 1);
    inst->user = cfg.user;
    inst->fuel = cfg.fuel;
    inst->stack_slots = cfg.stack_slots ? cfg.stack_slots : VM_DEFAULT_STACK_SLOTS;
    inst->max_depth = cfg.max_call_depth ? cfg.max_call_depth : VM_DEFAULT_MAX_CALL_DEPTH;
    inst->max_table_elems = cfg.max_table_elems ? cfg.max_table_elems : VM_DEFAULT_MAX_TABLE_ELEMS;
    atomic_init(&inst->interrupt, 0);
    inst->intr = cfg.interrupt_flag ? cfg.interrupt_flag : &inst->interrupt;
    if (alloc_instance(inst, &cfg, err) || link_imports(inst, imp, err) || init_own(inst, &cfg, err)) goto fail;
    if (apply_segments(inst, err)) goto zombie;
    if (m->has_start) {
        if (ensure_stack(inst)) {
            vm__errf(err, VM_ERR_NOMEM, 0, "out of memory allocating the stack");
            goto fail;
        }
        inst->running = true;
        vm_trap t = vm__run(inst, inst->funcs[m->start]);
        inst->running = false;
        if (t != VM_TRAP_NONE) {
            vm__errf(err, VM_ERR_UNINSTANTIABLE, 0, "start function trapped: %s", inst->trap_msg);
            goto zombie;
        }
    }
    return inst;
zombie:
    /* references to this instance's functions may now live in imported tables or globals */
    if (imp && (m->ntable_imports || m->nglobal_imports || m->nmem_imports) && add_zombie(imp, inst)) return NULL;
fail:
    vm_instance_free(inst);
    return NULL;
}

void vm_instance_free(vm_instance *inst) {
    if (!inst) return;
    const vm_module *m = inst->mod;
    if (inst->own_tables)
        for (uint32_t i = 0; i < m->ntables - m->ntable_imports; i++) free(inst->own_tables[i].elems);
    if (inst->own_mems)
        for (uint32_t i = 0; i < m->nmems - m->nmem_imports; i++) free(inst->own_mems[i].data);
    if (inst->elem_refs)
        for (uint32_t i = 0; i < m->nelems; i++) free(inst->elem_refs[i]);
    free(inst->funcs);
    free(inst->own_funcs);
    free(inst->host_funcs);
    free(inst->tables);
    free(inst->own_tables);
    free(inst->mems);
    free(inst->own_mems);
    free(inst->globals);
    free(inst->own_globals);
    free(inst->elem_refs);
    free(inst->elem_len);
    free(inst->data_dropped);
    free(inst->stack);
    free(inst->frames);
    free(inst);
    vm_module_free((vm_module *)m);
}

void *vm_instance_user(const vm_instance *inst) { return inst->user; }
const vm_module *vm_instance_module(const vm_instance *inst) { return inst->mod; }

bool vm_module_export_functype(const vm_module *m, const char *name, vm_functype *out) {
    return vm_module_export_functype_n(m, name, strlen(name), out);
}

bool vm_module_export_functype_n(const vm_module *m, const char *name, size_t name_len, vm_functype *out) {
    const vm_exportdef *e = find_export_n(m, name, name_len, VM_EXTERN_FUNC);
    if (!e) return false;
    functype_of(&m->types[m->funcs[e->idx].type], out);
    return true;
}

vm_trap vm_call(vm_instance *inst, const char *name, const vm_value *args, uint32_t nargs, vm_value *results,
                uint32_t nresults) {
    return vm_call_n(inst, name, strlen(name), args, nargs, results, nresults);
}

vm_trap vm_call_n(vm_instance *inst, const char *name, size_t name_len, const vm_value *args, uint32_t nargs,
                  vm_value *results, uint32_t nresults) {
    inst->trap_msg[0] = 0;
    const vm_exportdef *e = find_export_n(inst->mod, name, name_len, VM_EXTERN_FUNC);
    if (!e) return vm__trapf(inst, VM_TRAP_HOST, "no exported function named \"%s\"", name);
    if (inst->running) return vm__trapf(inst, VM_TRAP_HOST, "reentrant call into a running instance");
    vm_funcinst *f = inst->funcs[e->idx];
    const vm_type *t = f->type;
    if (nargs != t->nparams) return vm__trapf(inst, VM_TRAP_HOST, "%s takes %u arguments, %u given", name, t->nparams, nargs);
    for (uint32_t k = 0; k < nargs; k++)
        if ((uint8_t)args[k].type != t->types[k])
            return vm__trapf(inst, VM_TRAP_HOST, "argument %u of %s has the wrong type", k, name);
    if (ensure_stack(inst)) return vm__trapf(inst, VM_TRAP_NOMEM, "out of memory allocating the stack");
    uint32_t need = t->nparams > t->nresults ? t->nparams : t->nresults;
    if (need > inst->stack_slots) return vm__trapf(inst, VM_TRAP_STACK_EXHAUSTED, "call stack exhausted");
    for (uint32_t k = 0; k < nargs; k++) {
        uint8_t ty = t->types[k];
        uint64_t v;
        if (ty == VM_I32 || ty == VM_F32) v = args[k].of.i32;
        else if (ty == VM_I64 || ty == VM_F64) v = args[k].of.i64;
        else v = (uint64_t)(uintptr_t)args[k].of.ref;
        inst->stack[k] = v;
    }
    inst->running = true;
    vm_trap tr = vm__run(inst, f);
    inst->running = false;
    if (tr != VM_TRAP_NONE) return tr;
    for (uint32_t k = 0; k < nresults && k < t->nresults; k++) {
        uint8_t ty = t->types[t->nparams + k];
        results[k].type = (vm_valtype)ty;
        uint64_t v = inst->stack[k];
        if (ty == VM_I32 || ty == VM_F32) results[k].of.i32 = (uint32_t)v;
        else if (ty == VM_I64 || ty == VM_F64) results[k].of.i64 = v;
        else results[k].of.ref = (vm_ref)(uintptr_t)v;
    }
    return VM_TRAP_NONE;
}

const char *vm_trap_message(const vm_instance *inst) { return inst->trap_msg; }
int32_t vm_exit_code(const vm_instance *inst) { return inst->exit_code; }

bool vm_global_get(const vm_instance *inst, const char *name, vm_value *out) {
    return vm_global_get_n(inst, name, strlen(name), out);
}

bool vm_global_get_n(const vm_instance *inst, const char *name, size_t name_len, vm_value *out) {
    const vm_exportdef *e = find_export_n(inst->mod, name, name_len, VM_EXTERN_GLOBAL);
    if (!e) return false;
    const vm_global *g = inst->globals[e->idx];
    out->type = (vm_valtype)g->type;
    if (g->type == VM_I32 || g->type == VM_F32) out->of.i32 = (uint32_t)g->val;
    else if (g->type == VM_I64 || g->type == VM_F64) out->of.i64 = g->val;
    else out->of.ref = (vm_ref)(uintptr_t)g->val;
    return true;
}

void vm_set_fuel(vm_instance *inst, uint64_t fuel) { inst->fuel = fuel; }
uint64_t vm_get_fuel(const vm_instance *inst) { return inst->fuel; }
void vm_interrupt(vm_instance *inst) { atomic_store(inst->intr, 1); }
void vm_interrupt_reset(vm_instance *inst) { atomic_store(inst->intr, 0); }

static vm_memory *mem0(const vm_instance *inst) { return inst->mod->nmems ? inst->mems[0] : NULL; }

uint64_t vm_memory_size(const vm_instance *inst) {
    vm_memory *m = mem0(inst);
    return m ? m->size : 0;
}
uint64_t vm_memory_peak(const vm_instance *inst) {
    vm_memory *m = mem0(inst);
    return m ? m->peak : 0;
}
bool vm_memory_limit_hit(const vm_instance *inst) {
    vm_memory *m = mem0(inst);
    return m && m->limit_hit;
}
bool vm_memory_read(const vm_instance *inst, uint64_t addr, void *dst, size_t len) {
    vm_memory *m = mem0(inst);
    if (!m || addr > m->size || len > m->size - addr) return false;
    if (len) memcpy(dst, m->data + addr, len);
    return true;
}
bool vm_memory_write(vm_instance *inst, uint64_t addr, const void *src, size_t len) {
    vm_memory *m = mem0(inst);
    if (!m || addr > m->size || len > m->size - addr) return false;
    if (len) memcpy(m->data + addr, src, len);
    return true;
}

/* ---- host-function API ---- */

void *vm_host_user(const vm_host_call *call) { return call->user; }
vm_instance *vm_host_instance(vm_host_call *call) { return call->inst; }

uint8_t *vm_host_mem(vm_host_call *call, uint64_t addr, uint64_t len) {
    vm_memory *m = mem0(call->inst);
    if (!m || addr > m->size || len > m->size - addr) return NULL;
    call->bytes += len;
    return m->data + addr;
}
bool vm_host_read(vm_host_call *call, uint64_t addr, void *dst, uint64_t len) {
    uint8_t *p = vm_host_mem(call, addr, len);
    if (!p) return false;
    if (len) memcpy(dst, p, len);
    return true;
}
bool vm_host_write(vm_host_call *call, uint64_t addr, const void *src, uint64_t len) {
    uint8_t *p = vm_host_mem(call, addr, len);
    if (!p) return false;
    if (len) memcpy(p, src, len);
    return true;
}
vm_trap vm_host_trap(vm_host_call *call, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(call->top->trap_msg, sizeof call->top->trap_msg, fmt, ap);
    va_end(ap);
    return VM_TRAP_HOST;
}
vm_trap vm_host_exit(vm_host_call *call, int32_t code) {
    call->top->exit_code = code;
    snprintf(call->top->trap_msg, sizeof call->top->trap_msg, "exit with code %d", code);
    return VM_TRAP_EXIT;
}
vm_trap vm_host_charge(vm_host_call *call, uint64_t units) {
    if (units > call->top->fuel) {
        snprintf(call->top->trap_msg, sizeof call->top->trap_msg, "out of fuel");
        return VM_TRAP_OUT_OF_FUEL;
    }
    call->top->fuel -= units;
    return VM_TRAP_NONE;
}

const char *vm_trap_name(vm_trap t) {
    switch (t) {
    case VM_TRAP_NONE: return "none";
    case VM_TRAP_UNREACHABLE: return "unreachable";
    case VM_TRAP_MEMORY_OOB: return "out of bounds memory access";
    case VM_TRAP_TABLE_OOB: return "out of bounds table access";
    case VM_TRAP_INDIRECT_NULL: return "uninitialized element";
    case VM_TRAP_INDIRECT_TYPE: return "indirect call type mismatch";
    case VM_TRAP_UNINITIALIZED_ELEMENT: return "uninitialized element";
    case VM_TRAP_DIV_ZERO: return "integer divide by zero";
    case VM_TRAP_INT_OVERFLOW: return "integer overflow";
    case VM_TRAP_INVALID_CONVERSION: return "invalid conversion to integer";
    case VM_TRAP_STACK_EXHAUSTED: return "call stack exhausted";
    case VM_TRAP_OUT_OF_FUEL: return "out of fuel";
    case VM_TRAP_INTERRUPTED: return "interrupted";
    case VM_TRAP_HOST: return "host trap";
    case VM_TRAP_EXIT: return "exit";
    case VM_TRAP_NOMEM: return "out of memory";
    }
    return "unknown trap";
}
