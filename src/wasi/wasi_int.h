/* wasi internals shared by run.c (setup, limits, outcomes), calls.c (the host functions) and fs.c
 * (the read-only preopened directory). */
#ifndef OUTLAYER_WASI_INT_H
#define OUTLAYER_WASI_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "wasi/wasi.h"

/* WASI errno values (wasi_snapshot_preview1). */
enum {
    WE_SUCCESS = 0, WE_2BIG = 1, WE_ACCES = 2, WE_AGAIN = 6, WE_BADF = 8, WE_EXIST = 20, WE_FAULT = 21,
    WE_INVAL = 28, WE_IO = 29, WE_ISDIR = 31, WE_LOOP = 32, WE_MFILE = 33, WE_NAMETOOLONG = 37,
    WE_NOENT = 44, WE_NOMEM = 48, WE_NOSYS = 52, WE_NOTDIR = 54, WE_NOTEMPTY = 55, WE_NOTSUP = 58,
    WE_OVERFLOW = 61, WE_PERM = 63, WE_PIPE = 64, WE_ROFS = 69, WE_SPIPE = 70, WE_XDEV = 75,
    WE_NOTCAPABLE = 76,
};

/* File types. */
enum { WFT_UNKNOWN = 0, WFT_BLOCK = 1, WFT_CHAR = 2, WFT_DIR = 3, WFT_REGULAR = 4, WFT_SOCK_DGRAM = 5,
       WFT_SOCK_STREAM = 6, WFT_SYMLINK = 7 };

/* Rights bits. */
#define WR_FD_DATASYNC (1ull << 0)
#define WR_FD_READ (1ull << 1)
#define WR_FD_SEEK (1ull << 2)
#define WR_FD_FDSTAT_SET_FLAGS (1ull << 3)
#define WR_FD_SYNC (1ull << 4)
#define WR_FD_TELL (1ull << 5)
#define WR_FD_WRITE (1ull << 6)
#define WR_FD_ADVISE (1ull << 7)
#define WR_PATH_OPEN (1ull << 13)
#define WR_FD_READDIR (1ull << 14)
#define WR_PATH_READLINK (1ull << 15)
#define WR_PATH_FILESTAT_GET (1ull << 18)
#define WR_FD_FILESTAT_GET (1ull << 21)
#define WR_POLL_FD_READWRITE (1ull << 27)

enum wasi_fd_kind { FD_NONE = 0, FD_STDIN, FD_STDOUT, FD_STDERR, FD_PREOPEN, FD_FILE, FD_DIR };

typedef struct wasi_fd {
    enum wasi_fd_kind kind;
    int host;            /* host descriptor for PREOPEN, FILE, DIR (else -1) */
    uint64_t rights;     /* rights base */
    uint64_t inheriting; /* rights inheriting */
} wasi_fd;

/* A bounded output stream: counts, optionally captures, optionally passes through. */
typedef struct wasi_sink {
    size_t max;
    size_t count;
    bool capture;
    uint8_t *buf; /* owned; moved into wasi_result at the end */
    size_t cap;
    int fd;       /* pass-through descriptor or -1 */
    const char *name;
} wasi_sink;

/* Why a host function ended the run (beyond what the engine reports). */
enum wasi_stop { STOP_NONE = 0, STOP_OUTPUT_LIMIT, STOP_NOMEM };

typedef struct wasi_ctx {
    const wasi_config *cfg;
    /* args and env: strings back to back with their NULs, and their count */
    char *args_buf;
    size_t args_bytes, nargs;
    char *env_buf;
    size_t env_bytes, nenv;

    size_t stdin_pos;
    wasi_sink out, err;

    wasi_fd fds[WASI_MAX_FDS];
    char preopen_name[WASI_MAX_PATH_BYTES];

    /* clocks */
    uint64_t fuel_start;
    uint64_t virt_sleep_ns; /* deterministic: time slept through poll_oneoff */
    uint64_t virt_ticks;    /* deterministic: clock reads so far */
    uint64_t deadline_ns;   /* real: CLOCK_MONOTONIC deadline (0 = none) */

    /* random: ChaCha20 keystream position */
    uint64_t rnd_block;
    uint8_t rnd_buf[64];
    unsigned rnd_used; /* bytes of rnd_buf already handed out (64 = empty) */

    enum wasi_stop stop;
    char stop_msg[200];

    /* timer thread */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool timer_done;
    atomic_bool timed_out;
    atomic_int intr; /* the engine's interrupt flag for this run (set by the timer, even during the start function) */
    vm_instance *inst; /* set once instantiated, under mu */
} wasi_ctx;

/* calls.c: adds every wasi_snapshot_preview1 function to imp with ctx as user. */
bool wasi__add_imports(vm_imports *imp, wasi_ctx *ctx);
/* calls.c: monotonic host time in ns. */
uint64_t wasi__now_ns(void);

/* fs.c: the preopened directory. */
int wasi__path_open(wasi_ctx *ctx, uint32_t dirfd, uint32_t dirflags, const char *path, uint32_t oflags,
                    uint64_t rights, uint64_t inheriting, uint32_t fdflags, uint32_t *out_fd);
int wasi__path_filestat(wasi_ctx *ctx, uint32_t dirfd, uint32_t flags, const char *path, uint8_t out[64]);
int wasi__path_readlink(wasi_ctx *ctx, uint32_t dirfd, const char *path, char *buf, size_t cap, size_t *out_len);
int wasi__fd_filestat(wasi_ctx *ctx, uint32_t fd, uint8_t out[64]);
/* Fills buf with dirents from cookie on; *used = bytes written (== cap means there may be more). */
int wasi__readdir(wasi_ctx *ctx, uint32_t fd, uint8_t *buf, size_t cap, uint64_t cookie, size_t *used);
int wasi__errno_from_host(int e);

/* Little-endian stores into guest memory views. */
static inline void wasi__put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void wasi__put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline void wasi__put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint32_t wasi__get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t wasi__get64(const uint8_t *p) { return (uint64_t)wasi__get32(p) | (uint64_t)wasi__get32(p + 4) << 32; }
static inline uint16_t wasi__get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

#endif
