/* The wasi_snapshot_preview1 host functions. Each one reads its arguments as 32/64-bit cells,
 * reaches guest memory only through the engine's bounds-checked views (a bad pointer is EFAULT,
 * never a host fault), and returns a WASI errno. Only three things end a run from here: proc_exit
 * (vm_host_exit), an output stream reaching its limit, and the host running out of memory while
 * capturing output (vm_host_trap with ctx->stop set, so run.c can name the outcome).
 * The function table at the end is the single list of what this runtime provides. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "wasi/wasi_int.h"

#define CTX wasi_ctx *ctx = vm_host_user(call)
#define A32(i) ((uint32_t)args[i])
#define A64(i) (args[i])
#define RET(e)                                                                                             \
    do {                                                                                                   \
        results[0] = (uint32_t)(e);                                                                        \
        return VM_TRAP_NONE;                                                                               \
    } while (0)

uint64_t wasi__now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static wasi_fd *fd_get(wasi_ctx *ctx, uint32_t fd)
{
    if (fd >= WASI_MAX_FDS || ctx->fds[fd].kind == FD_NONE) return NULL;
    return &ctx->fds[fd];
}

/* ---- args and environment ---- */

static vm_trap strings_sizes(vm_host_call *call, size_t n, size_t bytes, uint32_t count_ptr, uint32_t size_ptr,
                             uint64_t *results)
{
    uint8_t *c = vm_host_mem(call, count_ptr, 4), *s = vm_host_mem(call, size_ptr, 4);
    if (!c || !s) RET(WE_FAULT);
    wasi__put32(c, (uint32_t)n);
    wasi__put32(s, (uint32_t)bytes);
    RET(WE_SUCCESS);
}

static vm_trap strings_get(vm_host_call *call, const char *buf, size_t n, size_t bytes, uint32_t ptrs,
                           uint32_t bufp, uint64_t *results)
{
    uint8_t *p = vm_host_mem(call, ptrs, (uint64_t)n * 4), *b = vm_host_mem(call, bufp, bytes);
    if ((n && !p) || (bytes && !b)) RET(WE_FAULT);
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        wasi__put32(p + 4 * i, (uint32_t)(bufp + off));
        off += strlen(buf + off) + 1;
    }
    if (bytes) memcpy(b, buf, bytes);
    RET(WE_SUCCESS);
}

static vm_trap f_args_sizes_get(vm_host_call *call, const uint64_t *args, uint64_t *results)
{
    CTX;
    return strings_sizes(call, ctx->nargs, ctx->args_bytes, A32(0), A32(1), results);
}
static vm_trap f_args_get(vm_host_call *call, const uint64_t *args, uint64_t *results)
{
    CTX;
    return strings_get(call, ctx->args_buf, ctx->nargs, ctx->args_bytes, A32(0), A32(1), results);
}
static vm_trap f_environ_sizes_get(vm_host_call *call, const uint64_t *args, uint64_t *results)
{
    CTX;
    return strings_sizes(call, ctx->nenv, ctx->env_bytes, A32(0), A32(1), results);
}
static vm_trap f_environ_get(vm_host_call *call, const uint64_t *args, uint64_t *results)
{
    CTX;
    return strings_get(call, ctx->env_buf, ctx->nenv, ctx->env_bytes, A32(0), A32(1), results);
}

/* ---- clocks ---- */

/* Deterministic time elapsed since the start: fuel consumed (1 ns per unit), time slept, and one
 * tick per read so that consecutive reads differ even when no fuel is spent (unmetered runs). */
static uint64_t virt_elapsed(wasi_ctx *ctx, vm_host_call *call, bool cpu)
{
    uint64_t used = 0;
    if (ctx->cfg->metering) {
        uint64_t left = vm_get_fuel(vm_host_instance(call));
        used = ctx->fuel_start > left ? ctx->fuel_start - left : 0;
    }
    ctx->virt_ticks++;
    return used + ctx->virt_ticks + (cpu ? 0 : ctx->virt_sleep_ns);
}

static int clock_now(wasi_ctx *ctx, vm_host_call *call, uint32_t id, uint64_t *out)
{
    if (id > 3) return WE_INVAL;
    if (ctx->cfg->deterministic_clock) {
        uint64_t e = virt_elapsed(ctx, call, id >= 2);
        *out = id == 0 ? ctx->cfg->timestamp_ns + e : e;
        return WE_SUCCESS;
    }
    static const clockid_t ids[4] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID};
    struct timespec ts;
    if (clock_gettime(ids[id], &ts) != 0) return WE_INVAL;
    *out = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    return WE_SUCCESS;
}

static vm_trap f_clock_res_get(vm_host_call *call, const uint64_t *args, uint64_t *results)
{
    CTX;
    uint32_t id = A32(0);
    if (id > 3) RET(WE_INVAL);
    uint64_t res = 1;
    if (!ctx->cfg->deterministic_clock) {
        static const clockid_t ids[4] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID};
        struct timespec ts;
        if (clock_getres(ids[id], &ts) == 0) res = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    }
    uint8_t *p = vm_host_mem(call, A32(1), 8);
    if (!p) RET(WE_FAULT);
    wasi__put64(p, res);
    RET(WE_SUCCESS);
}

static vm_trap f_clock_time_get(vm_host_call *call, const uint64_t *args, uint64_t *results)
{
    CTX;
    uint64_t t;
    int e = clock_now(ctx, call, A32(0), &t);
    if (e) RET(e);
    uint8_t *p = vm_host_mem(call, A32(2), 8);
    if (!p) RET(WE_FAULT);
    wasi__put64(p, t);
    RET(WE_SUCCESS);
}

/* ---- random ---- */

static void chacha_fill(wasi_ctx *ctx, uint8_t *dst, size_t len)
{
    static const uint8_t nonce[crypto_stream_chacha20_NONCEBYTES];
    while (len > 0) {
        if (ctx->rnd_used < 64) {
            size_t n = 64 - ctx->rnd_used < len ? 64 - ctx->rnd_used : len;
            memcpy(dst, ctx->rnd_buf + ctx->rnd_used, n);
            ctx->rnd_used += (unsigned)n;
            dst += n;
            len -= n;
            continue;
        }
        if (len >= 64) { /* whole blocks straight into the destination */
            size_t nb = len / 64;
            memset(dst, 0, nb * 64);
            crypto_stream_chacha20_xor_ic(dst, dst, nb * 64, nonce, ctx->rnd_block, ctx->cfg->seed);
            ctx->rnd_block += nb;
            dst += nb * 64;
            len -= nb * 64;
            continue;
        }
        memset(ctx->rnd_buf, 0, 64);
        crypto_stream_chacha20_xor_ic(ctx->rnd_buf, ctx->rnd_buf, 64, nonce, ctx->rnd_block, ctx->cfg->seed);
        ctx->rnd_block++;
        ctx->rnd_used = 0;
    }
}

static vm_trap f_random_get(vm_host_call *call, const uint64_t *args, uint64_t *results)
{
    CTX;
    uint32_t len = A32(1);
    if (len == 0) RET(WE_SUCCESS);
    uint8_t *p = vm_host_mem(call, A32(0), len);
    if (!p) RET(WE_FAULT);
    if (ctx->cfg->deterministic_random)
        chacha_fill(ctx, p, len);
    else
        randombytes_buf(p, len);
    RET(WE_SUCCESS);
}

/* ---- stdio and files ---- */

static bool write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Appends n bytes to the sink; false when the host cannot hold them (ctx->stop says why). */
static bool sink_put(wasi_ctx *ctx, wasi_sink *s, const uint8_t *p, size_t n, bool *io_ok)
{
    if (n == 0) return true;
    if (s->capture) {
        if (s->count + n > s->cap) {
            size_t ncap = s->cap ? s->cap : 4096;
            while (ncap < s->count + n) ncap = ncap > s->max / 2 ? s->max : ncap * 2;
            uint8_t *nb = realloc(s->buf, ncap);
            if (!nb) {
                ctx->stop = STOP_NOMEM;
                snprintf(ctx->stop_msg, sizeof ctx->stop_msg, "host out of memory capturing %s", s->name);
                return false;
            }
            s->buf = nb;
            s->cap = ncap;
        }
        memcpy(s->buf + s->count, p, n);
    }
    if (s->fd >= 0 && !write_all(s->fd, p, n)) *io_ok = false;
    s->count += n;
    return true;
}

/* Gathers the iovec array at iovs (n entries) into ptrs/lens; a WASI errno. */
static int gather(vm_host_call *call, uint32_t iovs, uint32_t n, uint8_t **ptrs, uint32_t *lens, uint64_t *total)
{
    if (n > WASI_MAX_IOVS) return WE_INVAL;
    uint8_t *v = vm_host_mem(call, iovs, (uint64_t)n * 8);
    if (n && !v) return WE_FAULT;
    *total = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t b = wasi__get32(v + 8 * i), l = wasi__get32(v + 8 * i + 4);
        ptrs[i] = l ? vm_host_mem(call, b, l) : NULL;
        if (l && !ptrs[i]) return WE_FAULT;
        lens[i] = l;
        *total += l;
    }
    return WE_SUCCESS;
}

static vm_trap f_fd_write(vm_host_call *call, const uint64_t *args, uint64_t *results)
{
    CTX;
    wasi_fd *f = fd_get(ctx, A32(0));
    if (!f) RET(WE_BADF);
    if (f->kind != FD_STDOUT && f->kind != FD_STDERR) RET(f->kind == FD_DIR || f->kind == FD_PREOPEN ? WE_ISDIR : WE_BADF);
    uint8_t *ptrs[WASI_MAX_IOVS];
    uint32_t lens[WASI_MAX_IOVS];
    uint64_t total;
    int e = gather(call, A32(1), A32(2), ptrs, lens, &total);
    if (e) RET(e);
    if (total > UINT32_MAX) RET(WE_INVAL);
    uint8_t *np = vm_host_mem(call, A32(3), 4);
    if (!np) RET(WE_FAULT);
    wasi_sink *s = f->kind == FD_STDOUT ? &ctx->out : &ctx->err;
    size_t room = s->max - s->count;
    bool io_ok = true, over = total > room;
    size_t left = over ? room : (size_t)total;
    for (uint32_t i = 0; i < A32(2) && left > 0; i++) {
        size_t n = lens[i] < left ? lens[i] : left;
        if (!sink_put(ctx, s, ptrs[i], n, &io_ok)) return vm_host_trap(call, "%s", ctx->stop_msg);
        left -= n;
    }
    if (over) {
        ctx->stop = STOP_OUTPUT_LIMIT;
        snprintf(ctx->stop_msg, sizeof ctx->stop_msg, "%s limit of %zu bytes reached", s->name, s->max);
        return vm_host_trap(call, "%s", ctx->stop_msg);
    }
    wasi__put32(np, (uint32_t)total);
    RET(io_ok ? WE_SUCCESS : WE_IO);
}

static vm_trap f_fd_read(vm_host_call *call, const uint64_t *args, uint64_t *results)
{
    CTX;
    wasi_fd *f = fd_get(ctx, A32(0));
    if (!f) RET(WE_BADF);
    if (f->kind == FD_DIR || f->kind == FD_PREOPEN) RET(WE_ISDIR);
    if (f->kind != FD_STDIN && f->kind != FD_FILE) RET(WE_BADF);
    uint8_t *ptrs[WASI_MAX_IOVS];
    uint32_t lens[WASI_MAX_IOVS];
    uint64_t total;
    int e = gather(call, A32(1), A32(2), ptrs, lens, &total);
    if (e) RET(e);
    uint8_t *np = vm_host_mem(call, A32(3), 4);
    if (!np) RET(WE_FAULT);
    uint64_t got = 0;
    for (uint32_t i = 0; i < A32(2); i++) {
        if (f->kind == FD_STDIN) {
            size_t avail = ctx->cfg->stdin_len - ctx->stdin_pos, n = lens[i] < avail ? lens[i] : avail;
            if (n) memcpy(ptrs[i], ctx->cfg->stdin_data + ctx->stdin_pos, n);
            ctx->stdin_pos += n;
            got += n;
            if (n < lens[i]) break;
        } else {
            ssize_t r;
            do r = read(f->host, ptrs[i], lens[i]);
            while (r < 0 && errno == EINTR);
            if (r < 0) {
                if (got == 0) RET(wasi__errno_from_host(errno));
                break;
            }
            got += (uint64_t)r;
            if ((uint32_t)r < lens[i]) break;
        }
    }
    if (got > UINT32_MAX) got = UINT32_MAX; /* cannot happen with reads bounded by memory size */
    wasi__put32(np, (uint32_t)got);
    RET(WE_SUCCESS);
}

static vm_trap f_fd_pread(vm_host_call *call, const uint64_t *args, uint64_t *results)
{
    CTX;
    wasi_fd *f = fd_get(ctx, A32(0));
    if (!f) RET(WE_BADF);
    if (f->kind == FD_DIR || f->kind == FD_PREOPEN) RET(WE_ISDIR);
    if (f->kind != FD_FILE) RET(f->kind == FD_STDIN ? WE_SPIPE : WE_BADF);
    uint8_t *ptrs[WASI_MAX_IOVS];
    uint32_t lens[WASI_MAX_IOVS];
    uint64_t total, off = A64(3);
    int e = gather(call, A32(1), A32(2), ptrs, lens, &total);
    if (e) RET(e);
    if (off > INT64_MAX) RET(WE_INVAL);
    uint8_t *np = vm_host_mem(call, A32(4), 4);
    if (!np) RET(WE_FAULT);
    uint64_t got = 0;
    for (uint32_t i = 0; i < A32(2); i++) {
        ssize_t r;
        do r = pread(f->host, ptrs[i], lens[i], (off_t)(off + got));
        while (r < 0 && errno == EINTR);
        if (r < 0) {
            if (got == 0) RET(wasi__errno_from_host(errno));
            break;
        }
        got += (uint64_t)r;
        if ((uint32_t)r < lens[i]) break;
    }
    wasi__put32(np, (uint32_t)got);
    RET(WE_SUCCESS);
}

static vm_trap f_fd_pwrite(vm_host_call *call, const uint64_t *args, uint64_t *results)
{
    CTX;
    wasi_fd *f = fd_get(ctx, A32(0));
    if (!f) RET(WE_BADF);
    if (f->kind == FD_STDOUT || f->kind == FD_STDERR || f->kind == FD_STDIN) RET(WE_SPIPE);
    RET(f->kind == FD_FILE ? WE_BADF : WE_ISDIR); /* files are opened read-only */
}

static vm_trap f_fd_seek(vm_host_call *call, const uint64_t *args, uint64_t *results)
{
    CTX;
    wasi_fd *f = fd_get(ctx, A32(0));
    if (!f) RET(WE_BADF);
    if (f->kind != FD_FILE) RET(f->kind == FD_DIR || f->kind == FD_PREOPEN ? WE_BADF : WE_SPIPE);
    uint32_t whence = A32(2);
    if (whence > 2) RET(WE_INVAL);
    static const int wh[3] = {SEEK_SET, SEEK_CUR, SEEK_END};
    uint8_t *p = vm_host_mem(call, A32(3), 8);
    if (!p) RET(WE_FAULT);
    off_t r = lseek(f->host, (off_t)(int64_t)A64(1), wh[whence]);
    if (r < 0) RET(wasi__errno_from_host(errno));
    wasi__put64(p, (uint64_t)r);
    RET(WE_SUCCESS);
}

static vm_trap f_fd_tell(vm_host_call *call, const uint64_t *args, uint64_t *results)
{
    CTX;
    wasi_fd *f = fd_get(ctx, A32(0));
    if (!f) RET(WE_BADF);
    if (f->kind != FD_FILE) RET(f->kind == FD_DIR || f->kind == FD_PREOPEN ? WE_BADF : WE_SPIPE);
    uint8_t *p = vm_host_mem(call, A32(1), 8);
    if (!p) RET(WE_FAULT);
    off_t r = lseek(f->host, 0, SEEK_CUR);
    if (r < 0) RET(wasi__errno_from_host(errno));
    wasi__put64(p, (uint64_t)r);
    RET(WE_SUCCESS);
}

static int fd_filetype(const wasi_fd *f)
{
    switch (f->kind) {
    case FD_PREOPEN:
    case FD_DIR: return WFT_DIR;
    case FD_FILE: return WFT_REGULAR;
    default: return WFT_UNKNOWN; /* stdio are in-memory pipes: neither a tty nor a regular file */
    }
}

static vm_trap f_fd_fdstat_get(vm_host_call *call, const uint64_t *args, uint64_t *results)
{
    CTX;
    wasi_fd *f = fd_get(ctx, A32(0));
    if (!f) RET(WE_BADF);
    uint8_t *p = vm_host_mem(call, A32(1), 24);
    if (!p) RET(WE_FAULT);
    memset(p, 0, 24);
    p[0] = (uint8_t)fd_filetype(f);
    wasi__put16(p + 2, f->kind == FD_STDOUT || f->kind == FD_STDERR ? 1 : 0); /* APPEND */
    wasi__put64(p + 8, f->rights);
    wasi__put64(p + 16, f->inheriting);
    RET(WE_SUCCESS);
}

static vm_trap f_fd_fdstat_set_flags(vm_host_call *call, const uint64_t *args, uint64_t *results)
{
    CTX;
    wasi_fd *f = fd_get(ctx, A32(0));
    if (!f) RET(WE_BADF);
    uint32_t flags = A32(1);
    uint32_t have = f->kind == FD_STDOUT || f->kind == FD_STDERR ? 1 : 0;
    RET(flags == have ? WE_SUCCESS : WE_NOTSUP);
}

static vm_trap f_fd_fdstat_set_rights(vm_host_call *call, const uint64_t *args, uint64_t *results)
{
    CTX;
    wasi_fd *f = fd_get(ctx, A32(0));
    if (!f) RET(WE_BADF);
    uint64_t base = A64(1), inh = A64(2);
    if ((base & ~f->rights) || (inh & ~f->inheriting)) RET(WE_NOTCAPABLE); /* rights only shrink */
    f->rights = base;
    f->inheriting = inh;
    RET(WE_SUCCESS);
}

static vm_trap f_fd_filestat_get(vm_host_call *call, const uint64_t *args, uint64_t *results)
{
    CTX;
    wasi_fd *f = fd_get(ctx, A32(0));
    if (!f) RET(WE_BADF);
    uint8_t st[64];
    memset(st, 0, sizeof st);
    if (f->kind == FD_FILE || f->kind == FD_DIR || f->kind == FD_PREOPEN) {
        int e = wasi__fd_filestat(ctx, A32(0), st);
        if (e) RET(e);
    } else {
        st[16] = (uint8_t)fd_filetype(f);
        wasi__put64(st + 24, 1);
    }
    if (!vm_host_write(call, A32(1), st, sizeof st)) RET(WE_FAULT);
    RET(WE_SUCCESS);
}

/* The mutating fd functions: every descriptor is read-only, so they fail with the errno POSIX gives. */
static vm_trap f_fd_mutate(vm_host_call *call, const uint64_t *args, uint64_t *results)
{
    CTX;
    wasi_fd *f = fd_get(ctx, A32(0));
    if (!f) RET(WE_BADF);
    if (f->kind == FD_STDIN || f->kind == FD_STDOUT || f->kind == FD_STDERR) RET(WE_INVAL);
    RET(f->kind == FD_FILE ? WE_BADF : WE_ISDIR);
}

static vm_trap f_fd_sync(vm_host_call *call, const uint64_t *args, uint64_t *results)
{
    CTX;
    wasi_fd *f = fd_get(ctx, A32(0));
    if (!f) RET(WE_BADF);
    RET(f->kind == FD_FILE || f->kind == FD_DIR || f->kind == FD_PREOPEN ? WE_SUCCESS : WE_INVAL);
}

static vm_trap f_fd_advise(vm_host_call *call, const uint64_t *args, uint64_t *results)
{
    CTX;
    wasi_fd *f = fd_get(ctx, A32(0));
    if (!f) RET(WE_BADF);
    if (A32(3) > 5) RET(WE_INVAL);
    RET(f->kind == FD_FILE ? WE_SUCCESS : f->kind == FD_DIR || f->kind == FD_PREOPEN ? WE_BADF : WE_SPIPE);
}

static vm_trap f_fd_close(vm_host_call *call, const uint64_t *args, uint64_t *results)
{
    CTX;
    wasi_fd *f = fd_get(ctx, A32(0));
    if (!f) RET(WE_BADF);
    if (f->host >= 0) close(f->host);
    f->host = -1;
    f->kind = FD_NONE;
    RET(WE_SUCCESS);
}

static vm_trap f_fd_renumber(vm_host_call *call, const uint64_t *args, uint64_t *results)
{
    CTX;
    wasi_fd *from = fd_get(ctx, A32(0)), *to = fd_get(ctx, A32(1));
    if (!from || !to) RET(WE_BADF);
    if (from == to) RET(WE_SUCCESS);
    if (to->host >= 0) close(to->host);
    *to = *from;
    from->kind = FD_NONE;
    from->host = -1;
    RET(WE_SUCCESS);
}

static vm_trap f_fd_prestat_get(vm_host_call *call, const uint64_t *args, uint64_t *results)
{
    CTX;
    wasi_fd *f = fd_get(ctx, A32(0));
    if (!f || f->kind != FD_PREOPEN) RET(WE_BADF);
    uint8_t *p = vm_host_mem(call, A32(1), 8);
    if (!p) RET(WE_FAULT);
    memset(p, 0, 8);
    wasi__put32(p + 4, (uint32_t)strlen(ctx->preopen_name));
    RET(WE_SUCCESS);
}

static vm_trap f_fd_prestat_dir_name(vm_host_call *call, const uint64_t *args, uint64_t *results)
{
    CTX;
    wasi_fd *f = fd_get(ctx, A32(0));
    if (!f || f->kind != FD_PREOPEN) RET(WE_BADF);
    size_t n = strlen(ctx->preopen_name);
    if (A32(2) < n) RET(WE_NAMETOOLONG);
    if (!vm_host_write(call, A32(1), ctx->preopen_name, n)) RET(WE_FAULT);
    RET(WE_SUCCESS);
}

static vm_trap f_fd_readdir(vm_host_call *call, const uint64_t *args, uint64_t *results)
{
    CTX;
    wasi_fd *f = fd_get(ctx, A32(0));
    if (!f) RET(WE_BADF);
    if (f->kind != FD_DIR && f->kind != FD_PREOPEN) RET(WE_NOTDIR);
    uint32_t len = A32(2);
    uint8_t *buf = len ? vm_host_mem(call, A32(1), len) : NULL;
    uint8_t *up = vm_host_mem(call, A32(4), 4);
    if ((len && !buf) || !up) RET(WE_FAULT);
    size_t used = 0;
    int e = wasi__readdir(ctx, A32(0), buf, len, A64(3), &used);
    if (e) RET(e);
    wasi__put32(up, (uint32_t)used);
    RET(WE_SUCCESS);
}

/* ---- paths ---- */

/* Copies the guest path into out (NUL-terminated); a WASI errno. */
static int get_path(vm_host_call *call, uint32_t ptr, uint32_t len, char *out)
{
    if (len >= WASI_MAX_PATH_BYTES) return WE_NAMETOOLONG;
    if (!vm_host_read(call, ptr, out, len)) return WE_FAULT;
    out[len] = 0;
    if (memchr(out, 0, len)) return WE_INVAL;
    return WE_SUCCESS;
}

/* A directory descriptor for path functions: BADF when not open, NOTDIR when not a directory. */
static int dir_check(wasi_ctx *ctx, uint32_t fd)
{
    wasi_fd *f = fd_get(ctx, fd);
    if (!f) return WE_BADF;
    if (f->kind != FD_DIR && f->kind != FD_PREOPEN) return WE_NOTDIR;
    return WE_SUCCESS;
}

static vm_trap f_path_open(vm_host_call *call, const uint64_t *args, uint64_t *results)
{
    CTX;
    char path[WASI_MAX_PATH_BYTES];
    int e = dir_check(ctx, A32(0));
    if (!e) e = get_path(call, A32(2), A32(3), path);
    if (e) RET(e);
    uint8_t *p = vm_host_mem(call, A32(8), 4);
    if (!p) RET(WE_FAULT);
    uint32_t fd = 0;
    e = wasi__path_open(ctx, A32(0), A32(1), path, A32(4), A64(5), A64(6), A32(7), &fd);
    if (e) RET(e);
    wasi__put32(p, fd);
    RET(WE_SUCCESS);
}

static vm_trap f_path_filestat_get(vm_host_call *call, const uint64_t *args, uint64_t *results)
{
    CTX;
    char path[WASI_MAX_PATH_BYTES];
    int e = dir_check(ctx, A32(0));
    if (!e) e = get_path(call, A32(2), A32(3), path);
    if (e) RET(e);
    uint8_t st[64];
    memset(st, 0, sizeof st);
    e = wasi__path_filestat(ctx, A32(0), A32(1), path, st);
    if (e) RET(e);
    if (!vm_host_write(call, A32(4), st, sizeof st)) RET(WE_FAULT);
    RET(WE_SUCCESS);
}

static vm_trap f_path_readlink(vm_host_call *call, const uint64_t *args, uint64_t *results)
{
    CTX;
    char path[WASI_MAX_PATH_BYTES], target[WASI_MAX_PATH_BYTES];
    int e = dir_check(ctx, A32(0));
    if (!e) e = get_path(call, A32(1), A32(2), path);
    if (e) RET(e);
    size_t n = 0;
    e = wasi__path_readlink(ctx, A32(0), path, target, sizeof target, &n);
    if (e) RET(e);
    uint8_t *up = vm_host_mem(call, A32(5), 4);
    if (!up) RET(WE_FAULT);
    if (n > A32(4)) n = A32(4); /* truncated, as readlink(2) does */
    if (n && !vm_host_write(call, A32(3), target, n)) RET(WE_FAULT);
    wasi__put32(up, (uint32_t)n);
    RET(WE_SUCCESS);
}

/* Path functions that would change the file system: the only directory is read-only. The first
 * argument is the directory descriptor; its errors come first (a program without preopens gets
 * BADF, as POSIX gives for a bad dirfd). */
static vm_trap f_path_mutate(vm_host_call *call, const uint64_t *args, uint64_t *results)
{
    CTX;
    int e = dir_check(ctx, A32(0));
    RET(e ? e : WE_ROFS);
}

/* path_symlink(old_path, old_len, fd, new_path, new_len): the directory is the third argument. */
static vm_trap f_path_symlink(vm_host_call *call, const uint64_t *args, uint64_t *results)
{
    CTX;
    int e = dir_check(ctx, A32(2));
    RET(e ? e : WE_ROFS);
}

/* ---- poll_oneoff ---- */

static void sleep_real(wasi_ctx *ctx, uint64_t ns)
{
    uint64_t now = wasi__now_ns();
    if (ctx->deadline_ns && now + ns > ctx->deadline_ns) /* the timer will interrupt right after */
        ns = ctx->deadline_ns > now ? ctx->deadline_ns - now : 0;
    struct timespec ts = {(time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static vm_trap f_poll_oneoff(vm_host_call *call, const uint64_t *args, uint64_t *results)
{
    CTX;
    uint32_t n = A32(2);
    if (n == 0) RET(WE_INVAL);
    if (n > WASI_MAX_POLL_SUBSCRIPTIONS) RET(WE_NOTSUP);
    uint8_t *in = vm_host_mem(call, A32(0), (uint64_t)n * 48);
    uint8_t *out = vm_host_mem(call, A32(1), (uint64_t)n * 32);
    uint8_t *np = vm_host_mem(call, A32(3), 4);
    if (!in || !out || !np) RET(WE_FAULT);
    /* Pass 1: fd subscriptions are ready at once (stdin is in memory, outputs never block); find the
     * earliest clock. */
    uint32_t nev = 0;
    uint64_t min_wait = UINT64_MAX;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *s = in + 48 * (size_t)i;
        uint8_t tag = s[8];
        if (tag == 0) {
            uint32_t id = wasi__get32(s + 16);
            uint64_t t = wasi__get64(s + 24), now = 0, wait = t;
            bool abs = wasi__get16(s + 40) & 1;
            if (abs) {
                if (clock_now(ctx, call, id, &now) != 0) wait = 0;
                else wait = t > now ? t - now : 0;
            } else if (id > 3) {
                wait = 0;
            }
            if (wait < min_wait) min_wait = wait;
            continue;
        }
        uint8_t *ev = out + 32 * (size_t)nev++;
        memset(ev, 0, 32);
        memcpy(ev, s, 8);
        ev[10] = tag;
        if (tag > 2) {
            wasi__put16(ev + 8, WE_INVAL);
            continue;
        }
        wasi_fd *f = fd_get(ctx, wasi__get32(s + 16));
        uint64_t nbytes = 0;
        int e = WE_SUCCESS;
        if (!f) e = WE_BADF;
        else if (tag == 1 && f->kind == FD_STDIN) nbytes = ctx->cfg->stdin_len - ctx->stdin_pos;
        else if (tag == 1 && f->kind != FD_FILE) e = WE_BADF;
        else if (tag == 2 && f->kind != FD_STDOUT && f->kind != FD_STDERR) e = WE_BADF;
        else if (tag == 2) nbytes = (f->kind == FD_STDOUT ? &ctx->out : &ctx->err)->max - (f->kind == FD_STDOUT ? &ctx->out : &ctx->err)->count;
        wasi__put16(ev + 8, (uint16_t)e);
        wasi__put64(ev + 16, nbytes);
        if (tag == 1 && f && f->kind == FD_STDIN && nbytes == 0) wasi__put16(ev + 24, 1); /* HANGUP */
    }
    if (nev == 0 && min_wait != UINT64_MAX) {
        /* Only clocks: wait for the earliest, then report every clock that is due. */
        if (ctx->cfg->deterministic_clock)
            ctx->virt_sleep_ns += min_wait;
        else if (min_wait > 0)
            sleep_real(ctx, min_wait);
        for (uint32_t i = 0; i < n; i++) {
            const uint8_t *s = in + 48 * (size_t)i;
            if (s[8] != 0) continue;
            uint32_t id = wasi__get32(s + 16);
            uint64_t t = wasi__get64(s + 24), now = 0;
            bool due;
            if (id > 3)
                due = true;
            else if (wasi__get16(s + 40) & 1)
                due = clock_now(ctx, call, id, &now) == 0 && now >= t;
            else
                due = t <= min_wait;
            if (!due) continue;
            uint8_t *ev = out + 32 * (size_t)nev++;
            memset(ev, 0, 32);
            memcpy(ev, s, 8);
            wasi__put16(ev + 8, id > 3 ? WE_INVAL : WE_SUCCESS);
        }
    }
    wasi__put32(np, nev);
    RET(WE_SUCCESS);
}

/* ---- process, scheduling, sockets ---- */

static vm_trap f_proc_exit(vm_host_call *call, const uint64_t *args, uint64_t *results)
{
    return vm_host_exit(call, (int32_t)A32(0));
}

static vm_trap f_proc_raise(vm_host_call *call, const uint64_t *args, uint64_t *results)
{
    RET(WE_NOSYS);
}

static vm_trap f_sched_yield(vm_host_call *call, const uint64_t *args, uint64_t *results)
{
    CTX;
    if (!ctx->cfg->deterministic_clock) sched_yield();
    RET(WE_SUCCESS);
}

static vm_trap f_sock(vm_host_call *call, const uint64_t *args, uint64_t *results)
{
    CTX;
    if (!fd_get(ctx, A32(0))) RET(WE_BADF);
    RET(WE_NOTSUP);
}

/* ---- the table ---- */

typedef struct fn_entry {
    const char *name;
    const char *params; /* 'i' = i32, 'I' = i64 */
    bool returns_errno;
    vm_host_fn fn;
} fn_entry;

static const fn_entry fns[] = {
    {"args_get", "ii", true, f_args_get},
    {"args_sizes_get", "ii", true, f_args_sizes_get},
    {"environ_get", "ii", true, f_environ_get},
    {"environ_sizes_get", "ii", true, f_environ_sizes_get},
    {"clock_res_get", "ii", true, f_clock_res_get},
    {"clock_time_get", "iIi", true, f_clock_time_get},
    {"fd_advise", "iIIi", true, f_fd_advise},
    {"fd_allocate", "iII", true, f_fd_mutate},
    {"fd_close", "i", true, f_fd_close},
    {"fd_datasync", "i", true, f_fd_sync},
    {"fd_fdstat_get", "ii", true, f_fd_fdstat_get},
    {"fd_fdstat_set_flags", "ii", true, f_fd_fdstat_set_flags},
    {"fd_fdstat_set_rights", "iII", true, f_fd_fdstat_set_rights},
    {"fd_filestat_get", "ii", true, f_fd_filestat_get},
    {"fd_filestat_set_size", "iI", true, f_fd_mutate},
    {"fd_filestat_set_times", "iIIi", true, f_fd_mutate},
    {"fd_pread", "iiiIi", true, f_fd_pread},
    {"fd_prestat_get", "ii", true, f_fd_prestat_get},
    {"fd_prestat_dir_name", "iii", true, f_fd_prestat_dir_name},
    {"fd_pwrite", "iiiIi", true, f_fd_pwrite},
    {"fd_read", "iiii", true, f_fd_read},
    {"fd_readdir", "iiiIi", true, f_fd_readdir},
    {"fd_renumber", "ii", true, f_fd_renumber},
    {"fd_seek", "iIii", true, f_fd_seek},
    {"fd_sync", "i", true, f_fd_sync},
    {"fd_tell", "ii", true, f_fd_tell},
    {"fd_write", "iiii", true, f_fd_write},
    {"path_create_directory", "iii", true, f_path_mutate},
    {"path_filestat_get", "iiiii", true, f_path_filestat_get},
    {"path_filestat_set_times", "iiiiIIi", true, f_path_mutate},
    {"path_link", "iiiiiii", true, f_path_mutate},
    {"path_open", "iiiiiIIii", true, f_path_open},
    {"path_readlink", "iiiiii", true, f_path_readlink},
    {"path_remove_directory", "iii", true, f_path_mutate},
    {"path_rename", "iiiiii", true, f_path_mutate},
    {"path_symlink", "iiiii", true, f_path_symlink},
    {"path_unlink_file", "iii", true, f_path_mutate},
    {"poll_oneoff", "iiii", true, f_poll_oneoff},
    {"proc_exit", "i", false, f_proc_exit},
    {"proc_raise", "i", true, f_proc_raise},
    {"sched_yield", "", true, f_sched_yield},
    {"random_get", "ii", true, f_random_get},
    {"sock_accept", "iii", true, f_sock},
    {"sock_recv", "iiiiii", true, f_sock},
    {"sock_send", "iiiii", true, f_sock},
    {"sock_shutdown", "ii", true, f_sock},
};

#define WASI_MODULE "wasi_snapshot_preview1"

bool wasi_provides(const char *module, const char *name)
{
    if (!module || !name || strcmp(module, WASI_MODULE) != 0) return false;
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++)
        if (strcmp(fns[i].name, name) == 0) return true;
    return false;
}

bool wasi__add_imports(vm_imports *imp, wasi_ctx *ctx)
{
    static const vm_valtype i32_result[1] = {VM_I32};
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
        vm_valtype params[16];
        uint32_t np = 0;
        for (const char *c = fns[i].params; *c; c++) params[np++] = *c == 'I' ? VM_I64 : VM_I32;
        vm_functype t = {params, np, i32_result, fns[i].returns_errno ? 1u : 0u};
        if (!vm_imports_add_func(imp, WASI_MODULE, fns[i].name, &t, fns[i].fn, ctx)) return false;
    }
    return true;
}
