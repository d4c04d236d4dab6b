/* Running a WASI command: checks the configuration, decodes the module, refuses imports we do not
 * provide (naming them), instantiates under the memory and fuel limits, arms the wall-clock timer
 * (a thread that calls vm_interrupt at the deadline), calls _start, and turns what happened into
 * one named outcome. Output already accepted is kept whatever the outcome. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "wasi/wasi_int.h"

const char *wasi_outcome_name(wasi_outcome o)
{
    switch (o) {
    case WASI_OUTCOME_OK: return "ok";
    case WASI_OUTCOME_EXIT: return "exit";
    case WASI_OUTCOME_TRAP: return "trap";
    case WASI_OUTCOME_OUT_OF_FUEL: return "out_of_fuel";
    case WASI_OUTCOME_TIMEOUT: return "timeout";
    case WASI_OUTCOME_MEMORY_LIMIT: return "memory_limit";
    case WASI_OUTCOME_OUTPUT_LIMIT: return "output_limit";
    case WASI_OUTCOME_INVALID_MODULE: return "invalid_module";
    }
    return "unknown";
}

void wasi_config_default(wasi_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->fuel = WASI_DEFAULT_FUEL;
    cfg->metering = true;
    cfg->max_memory_bytes = WASI_DEFAULT_MAX_MEMORY_BYTES;
    cfg->timeout_ms = WASI_DEFAULT_TIMEOUT_MS;
    cfg->max_stdout_bytes = WASI_DEFAULT_MAX_STDOUT_BYTES;
    cfg->max_stderr_bytes = WASI_DEFAULT_MAX_STDERR_BYTES;
    cfg->capture_stdout = true;
    cfg->capture_stderr = true;
    cfg->stdout_fd = -1;
    cfg->stderr_fd = -1;
}

void wasi_result_free(wasi_result *res)
{
    if (!res) return;
    free(res->out);
    free(res->err);
    memset(res, 0, sizeof *res);
}

static void result_init(wasi_result *res) { memset(res, 0, sizeof *res); }

static void set_outcome(wasi_result *res, wasi_outcome o, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_outcome(wasi_result *res, wasi_outcome o, const char *fmt, ...)
{
    res->outcome = o;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->message, sizeof res->message, fmt, ap);
    va_end(ap);
}

/* Packs n strings back to back with their NULs into *out (owned by the caller). */
static int pack_strings(const char *const *s, size_t n, bool need_eq, size_t *budget, char **out, size_t *out_bytes,
                        ol_err *err)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (!s[i]) return ol_err_set(err, WASI_ERR_CONFIG, "%s %zu is NULL", need_eq ? "environment entry" : "argument", i);
        if (need_eq && (!strchr(s[i], '=') || s[i][0] == '='))
            return ol_err_set(err, WASI_ERR_CONFIG, "environment entry %zu is not KEY=VALUE", i);
        size_t l = strlen(s[i]) + 1;
        if (!ol_add_size(total, l, &total) || total > *budget)
            return ol_err_set(err, WASI_ERR_CONFIG, "arguments and environment exceed WASI_MAX_ARGS_ENV_BYTES (%u bytes)",
                              WASI_MAX_ARGS_ENV_BYTES);
    }
    if (n > UINT32_MAX / 4) return ol_err_set(err, WASI_ERR_CONFIG, "too many strings");
    *budget -= total;
    *out = malloc(total ? total : 1);
    if (!*out) return ol_err_set(err, WASI_ERR_NOMEM, "out of memory");
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(s[i]) + 1;
        memcpy(*out + off, s[i], l);
        off += l;
    }
    *out_bytes = total;
    return 0;
}

static void ctx_free(wasi_ctx *ctx)
{
    free(ctx->args_buf);
    free(ctx->env_buf);
    free(ctx->out.buf);
    free(ctx->err.buf);
    for (size_t i = 0; i < WASI_MAX_FDS; i++)
        if (ctx->fds[i].kind != FD_NONE && ctx->fds[i].host >= 0) close(ctx->fds[i].host);
}

static int ctx_init(wasi_ctx *ctx, const wasi_config *cfg, ol_err *err)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->cfg = cfg;
    for (size_t i = 0; i < WASI_MAX_FDS; i++) ctx->fds[i].host = -1;
    if (cfg->stdin_len && !cfg->stdin_data) return ol_err_set(err, WASI_ERR_CONFIG, "stdin_len is set but stdin_data is NULL");
    size_t budget = WASI_MAX_ARGS_ENV_BYTES;
    int rc = pack_strings(cfg->args, cfg->nargs, false, &budget, &ctx->args_buf, &ctx->args_bytes, err);
    if (rc) return rc;
    rc = pack_strings(cfg->env, cfg->nenv, true, &budget, &ctx->env_buf, &ctx->env_bytes, err);
    if (rc) return rc;
    ctx->nargs = cfg->nargs;
    ctx->nenv = cfg->nenv;
    ctx->out = (wasi_sink){.max = cfg->max_stdout_bytes, .capture = cfg->capture_stdout, .fd = cfg->stdout_fd, .name = "stdout"};
    ctx->err = (wasi_sink){.max = cfg->max_stderr_bytes, .capture = cfg->capture_stderr, .fd = cfg->stderr_fd, .name = "stderr"};
    ctx->fds[0] = (wasi_fd){FD_STDIN, -1, WR_FD_READ | WR_POLL_FD_READWRITE, 0};
    ctx->fds[1] = (wasi_fd){FD_STDOUT, -1, WR_FD_WRITE | WR_POLL_FD_READWRITE, 0};
    ctx->fds[2] = (wasi_fd){FD_STDERR, -1, WR_FD_WRITE | WR_POLL_FD_READWRITE, 0};
    ctx->rnd_used = 64;
    if (cfg->preopen_host) {
        const char *g = cfg->preopen_guest && cfg->preopen_guest[0] ? cfg->preopen_guest : ".";
        if (!ol_strlcpy(ctx->preopen_name, g, sizeof ctx->preopen_name))
            return ol_err_set(err, WASI_ERR_CONFIG, "preopen guest name longer than %u bytes", WASI_MAX_PATH_BYTES - 1);
        int h = open(cfg->preopen_host, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (h < 0)
            return ol_err_set(err, WASI_ERR_CONFIG, "cannot open directory %s to preopen: %s", cfg->preopen_host,
                              strerror(errno));
        ctx->fds[3] = (wasi_fd){FD_PREOPEN, h,
                                WR_PATH_OPEN | WR_FD_READDIR | WR_PATH_READLINK | WR_PATH_FILESTAT_GET | WR_FD_FILESTAT_GET,
                                WR_FD_READ | WR_FD_SEEK | WR_FD_TELL | WR_FD_ADVISE | WR_FD_FILESTAT_GET |
                                    WR_POLL_FD_READWRITE | WR_PATH_OPEN | WR_FD_READDIR | WR_PATH_READLINK |
                                    WR_PATH_FILESTAT_GET};
    }
    return 0;
}

/* ---- the wall-clock timer ---- */

static void *timer_main(void *arg)
{
    wasi_ctx *ctx = arg;
    struct timespec dl = {(time_t)(ctx->deadline_ns / 1000000000ull), (long)(ctx->deadline_ns % 1000000000ull)};
    pthread_mutex_lock(&ctx->mu);
    while (!ctx->timer_done) {
        int r = pthread_cond_timedwait(&ctx->cv, &ctx->mu, &dl);
        if (r == ETIMEDOUT && !ctx->timer_done) {
            atomic_store(&ctx->timed_out, true);
            atomic_store(&ctx->intr, 1); /* polled by the instance, also while its start function runs */
            break;
        }
    }
    pthread_mutex_unlock(&ctx->mu);
    return NULL;
}

static bool timer_start(wasi_ctx *ctx, pthread_t *th)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&ctx->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&ctx->mu, NULL);
    if (ctx->cfg->timeout_ms == 0) return false;
    uint64_t ms = ctx->cfg->timeout_ms > UINT64_MAX / 2000000ull ? UINT64_MAX / 2000000ull : ctx->cfg->timeout_ms;
    ctx->deadline_ns = wasi__now_ns() + ms * 1000000ull;
    return pthread_create(th, NULL, timer_main, ctx) == 0;
}

static void timer_set_instance(wasi_ctx *ctx, vm_instance *inst)
{
    pthread_mutex_lock(&ctx->mu);
    ctx->inst = inst;
    if (atomic_load(&ctx->timed_out)) vm_interrupt(inst); /* the deadline passed while instantiating */
    pthread_mutex_unlock(&ctx->mu);
}

static void timer_stop(wasi_ctx *ctx, pthread_t *th, bool running)
{
    pthread_mutex_lock(&ctx->mu);
    ctx->timer_done = true;
    ctx->inst = NULL;
    pthread_cond_signal(&ctx->cv);
    pthread_mutex_unlock(&ctx->mu);
    if (running) pthread_join(*th, NULL);
    pthread_cond_destroy(&ctx->cv);
    pthread_mutex_destroy(&ctx->mu);
}

/* ---- outcomes ---- */

/* Checks that m is a WASI command we can link: every import is one of ours, _start is () -> ()
 * (or the configured entry takes no parameters and returns at most WASI_MAX_RESULTS values). */
static bool check_module(const vm_module *m, const char *entry, wasi_result *res)
{
    uint32_t n = vm_module_import_count(m);
    for (uint32_t i = 0; i < n; i++) {
        vm_import_desc d;
        vm_module_import(m, i, &d);
        if (d.kind != VM_EXTERN_FUNC || !wasi_provides(d.module, d.name)) {
            static const char *const kinds[] = {"function", "table", "memory", "global"};
            set_outcome(res, WASI_OUTCOME_INVALID_MODULE,
                        "module imports %s %.60s.%.60s, which OutLayer does not provide (only wasi_snapshot_preview1 functions)",
                        d.kind <= VM_EXTERN_GLOBAL ? kinds[d.kind] : "item", d.module, d.name);
            return false;
        }
    }
    vm_functype ft;
    bool start = strcmp(entry, "_start") == 0;
    if (!vm_module_export_functype(m, entry, &ft)) {
        set_outcome(res, WASI_OUTCOME_INVALID_MODULE, "module has no exported function %.100s%s", entry,
                    start ? " (not a WASI command)" : "");
        return false;
    }
    if (ft.nparams != 0 || (start && ft.nresults != 0) || ft.nresults > WASI_MAX_RESULTS) {
        set_outcome(res, WASI_OUTCOME_INVALID_MODULE, "%.100s must take no parameters and return %s", entry,
                    start ? "nothing" : "at most 8 values");
        return false;
    }
    res->nresults = ft.nresults;
    return true;
}

static void classify(wasi_ctx *ctx, vm_instance *inst, vm_trap t, wasi_result *res)
{
    const wasi_config *cfg = ctx->cfg;
    if (ctx->stop == STOP_OUTPUT_LIMIT) {
        set_outcome(res, WASI_OUTCOME_OUTPUT_LIMIT, "%s", ctx->stop_msg);
        return;
    }
    if (t == VM_TRAP_INTERRUPTED && atomic_load(&ctx->timed_out)) {
        set_outcome(res, WASI_OUTCOME_TIMEOUT, "wall-clock limit of %llu ms reached", (unsigned long long)cfg->timeout_ms);
        return;
    }
    if (t == VM_TRAP_OUT_OF_FUEL) {
        set_outcome(res, WASI_OUTCOME_OUT_OF_FUEL, "out of fuel: the budget of %llu units is spent",
                    (unsigned long long)cfg->fuel);
        return;
    }
    bool failed = !(t == VM_TRAP_NONE || (t == VM_TRAP_EXIT && vm_exit_code(inst) == 0));
    if (failed && vm_memory_limit_hit(inst)) {
        if (t == VM_TRAP_EXIT) {
            res->exit_code = vm_exit_code(inst);
            set_outcome(res, WASI_OUTCOME_MEMORY_LIMIT,
                        "memory limit of %llu bytes reached (memory.grow refused); the guest then exited with code %d",
                        (unsigned long long)cfg->max_memory_bytes, res->exit_code);
        } else {
            const char *msg = vm_trap_message(inst);
            set_outcome(res, WASI_OUTCOME_MEMORY_LIMIT,
                        "memory limit of %llu bytes reached (memory.grow refused); the guest then trapped: %s",
                        (unsigned long long)cfg->max_memory_bytes, msg && msg[0] ? msg : vm_trap_name(t));
        }
        return;
    }
    if (t == VM_TRAP_NONE) {
        res->outcome = WASI_OUTCOME_OK;
        return;
    }
    if (t == VM_TRAP_EXIT) {
        res->exit_code = vm_exit_code(inst);
        if (res->exit_code == 0) res->outcome = WASI_OUTCOME_OK;
        else set_outcome(res, WASI_OUTCOME_EXIT, "the guest exited with code %d", res->exit_code);
        return;
    }
    const char *msg = vm_trap_message(inst);
    set_outcome(res, WASI_OUTCOME_TRAP, "trap: %s", msg && msg[0] ? msg : vm_trap_name(t));
}

int wasi_run_module(const vm_module *m, const wasi_config *cfg, wasi_result *res, ol_err *err)
{
    result_init(res);
    if (sodium_init() < 0) return ol_err_set(err, WASI_ERR_SYSTEM, "libsodium failed to initialise");
    const char *entry = cfg->entry ? cfg->entry : "_start";
    if (!check_module(m, entry, res)) return 0;
    wasi_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return ol_err_set(err, WASI_ERR_NOMEM, "out of memory");
    int rc = ctx_init(ctx, cfg, err);
    vm_imports *imp = NULL;
    if (rc) goto out;
    imp = vm_imports_new();
    if (!imp || !wasi__add_imports(imp, ctx)) {
        rc = ol_err_set(err, WASI_ERR_NOMEM, "out of memory building imports");
        goto out;
    }
    vm_instance_config ic;
    vm_instance_config_default(&ic);
    ic.fuel = cfg->metering ? cfg->fuel : UINT64_MAX;
    uint64_t pages = cfg->max_memory_bytes / 65536u;
    ic.max_memory_pages = pages == 0 ? 1 : pages > 65536 ? 65536 : (uint32_t)pages;
    ic.user = ctx;
    atomic_init(&ctx->intr, 0);
    ic.interrupt_flag = &ctx->intr;
    ctx->fuel_start = ic.fuel;

    pthread_t th;
    bool timer = timer_start(ctx, &th);
    uint64_t t0 = wasi__now_ns();
    vm_error ve;
    memset(&ve, 0, sizeof ve);
    vm_instance *inst = vm_instance_new(m, imp, &ic, &ve);
    if (!inst) {
        timer_stop(ctx, &th, timer);
        res->wall_ns = wasi__now_ns() - t0;
        if (atomic_load(&ctx->timed_out))
            set_outcome(res, WASI_OUTCOME_TIMEOUT, "wall-clock limit of %llu ms reached in the start function",
                        (unsigned long long)cfg->timeout_ms);
        else if (ve.code == VM_ERR_LIMIT)
            set_outcome(res, WASI_OUTCOME_MEMORY_LIMIT, "cannot instantiate: %s", ve.msg);
        else if (ve.code == VM_ERR_UNLINKABLE)
            set_outcome(res, WASI_OUTCOME_INVALID_MODULE, "cannot link: %s", ve.msg);
        else if (ve.code == VM_ERR_NOMEM)
            rc = ol_err_set(err, WASI_ERR_NOMEM, "out of memory instantiating: %s", ve.msg);
        else
            set_outcome(res, WASI_OUTCOME_TRAP, "cannot instantiate: %s", ve.msg);
        goto out;
    }
    timer_set_instance(ctx, inst);
    vm_trap t = vm_call(inst, entry, NULL, 0, res->results, res->nresults);
    timer_stop(ctx, &th, timer);
    res->wall_ns = wasi__now_ns() - t0;
    if (ctx->stop == STOP_NOMEM) {
        rc = ol_err_set(err, WASI_ERR_NOMEM, "%s", ctx->stop_msg);
    } else {
        classify(ctx, inst, t, res);
    }
    if (res->outcome != WASI_OUTCOME_OK) res->nresults = 0;
    if (cfg->metering) {
        uint64_t left = vm_get_fuel(inst);
        res->fuel_used = cfg->fuel > left ? cfg->fuel - left : 0;
    }
    res->peak_memory_bytes = vm_memory_peak(inst);
    vm_instance_free(inst);
out:
    res->stdout_bytes = ctx->out.count;
    res->stderr_bytes = ctx->err.count;
    if (ctx->out.capture && ctx->out.count) {
        res->out = ctx->out.buf;
        res->out_len = ctx->out.count;
        ctx->out.buf = NULL;
    }
    if (ctx->err.capture && ctx->err.count) {
        res->err = ctx->err.buf;
        res->err_len = ctx->err.count;
        ctx->err.buf = NULL;
    }
    vm_imports_free(imp);
    ctx_free(ctx);
    free(ctx);
    return rc;
}

int wasi_run(const uint8_t *bytes, size_t len, const wasi_config *cfg, wasi_result *res, ol_err *err)
{
    result_init(res);
    size_t max = cfg->max_module_bytes ? cfg->max_module_bytes : VM_DEFAULT_MAX_MODULE_BYTES;
    if (len > max) {
        set_outcome(res, WASI_OUTCOME_INVALID_MODULE, "module is %zu bytes, above the module size limit of %zu bytes", len,
                    max);
        return 0;
    }
    vm_module_config mc;
    vm_module_config_default(&mc);
    mc.metering = cfg->metering;
    mc.max_module_bytes = max;
    vm_error ve;
    memset(&ve, 0, sizeof ve);
    vm_module *m = vm_module_new(bytes, len, &mc, &ve);
    if (!m) {
        if (ve.code == VM_ERR_NOMEM) return ol_err_set(err, WASI_ERR_NOMEM, "out of memory decoding the module");
        set_outcome(res, WASI_OUTCOME_INVALID_MODULE, "invalid module: %s (at byte %llu)", ve.msg,
                    (unsigned long long)ve.offset);
        return 0;
    }
    int rc = wasi_run_module(m, cfg, res, err);
    vm_module_free(m);
    return rc;
}
