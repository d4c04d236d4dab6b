/* wasi: runs a WebAssembly module as a WASI preview 1 command (wasi_snapshot_preview1) on the vm
 * engine, under hard limits, the way a worker runs a user's program: the input bytes are stdin,
 * stdout and stderr are captured into bounded buffers (and optionally passed through to real file
 * descriptors), the environment and arguments are exactly what the caller gives, and no file system
 * is visible unless one directory is preopened read-only. Every run ends with one named outcome.
 *
 * Time and randomness have two modes. Real: the host clocks and the OS CSPRNG. Deterministic: the
 * clocks start at a given timestamp and advance with the fuel consumed (1 ns per unit, plus what the
 * guest sleeps through poll_oneoff, plus 1 ns per clock read), and random_get returns the ChaCha20
 * keystream (djb's original ChaCha20, 64-bit nonce all zero, block counter from 0) keyed by a
 * 32-byte seed. Same module + input + seed + timestamp + args + env = same bytes out, same fuel.
 *
 * Ownership: wasi_run and wasi_run_module fill a wasi_result whose buffers the caller owns and frees
 * with wasi_result_free. Everything in wasi_config is borrowed for the duration of the call. */
#ifndef OUTLAYER_WASI_H
#define OUTLAYER_WASI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"
#include "vm/vm.h"

/* ---- Limits and defaults, each with its reason ---- */
/* 10^10 units: the original system's default max_instructions; about 10-60 s of our interpreter. */
#define WASI_DEFAULT_FUEL 10000000000ull
/* 128 MiB: the contract's default max_memory_mb. */
#define WASI_DEFAULT_MAX_MEMORY_BYTES (128ull << 20)
/* 60 s: the longest execution that still fits in NEAR's 200-block yield window. */
#define WASI_DEFAULT_TIMEOUT_MS 60000u
/* 16 MiB of stdout: far above the 64 KiB a result may carry on chain, small enough to hold in RAM. */
#define WASI_DEFAULT_MAX_STDOUT_BYTES (16u << 20)
/* 1 MiB of stderr: a log for the operator, as in the original worker. */
#define WASI_DEFAULT_MAX_STDERR_BYTES (1u << 20)
/* Arguments plus environment, all strings with their NULs: 1 MiB (Linux allows 2 MiB for both). */
#define WASI_MAX_ARGS_ENV_BYTES (1u << 20)
/* 1024 iovecs per read or write: POSIX IOV_MAX on Linux. */
#define WASI_MAX_IOVS 1024u
/* 4096 subscriptions per poll_oneoff: far more than libc ever passes; bounds the work per call. */
#define WASI_MAX_POLL_SUBSCRIPTIONS 4096u
/* 64 open descriptors (stdio and the preopen included): a guest has one read-only directory. */
#define WASI_MAX_FDS 64u
/* 4096 bytes per path: Linux PATH_MAX. */
#define WASI_MAX_PATH_BYTES 4096u
/* 65536 entries listed per directory by fd_readdir: bounds the host memory one call may use. */
#define WASI_MAX_DIR_ENTRIES 65536u

/* How a run ended. The names are the JSON values of `outlayer run --stats-json`. */
typedef enum wasi_outcome {
    WASI_OUTCOME_OK = 0,         /* _start returned, or proc_exit(0) */
    WASI_OUTCOME_EXIT,           /* proc_exit with a nonzero code */
    WASI_OUTCOME_TRAP,           /* a WebAssembly trap (the message says which) */
    WASI_OUTCOME_OUT_OF_FUEL,    /* the fuel budget ran out */
    WASI_OUTCOME_TIMEOUT,        /* the wall-clock limit passed */
    WASI_OUTCOME_MEMORY_LIMIT,   /* memory.grow was refused by the memory limit and the run failed */
    WASI_OUTCOME_OUTPUT_LIMIT,   /* stdout or stderr reached its byte limit */
    WASI_OUTCOME_INVALID_MODULE, /* the bytes are not a module we can run as a WASI command */
} wasi_outcome;

/* "ok", "exit", "trap", "out_of_fuel", "timeout", "memory_limit", "output_limit", "invalid_module". */
const char *wasi_outcome_name(wasi_outcome o);

typedef struct wasi_config {
    const char *const *args; /* argv of the guest; args[0] is conventionally the program name */
    size_t nargs;
    const char *const *env; /* "KEY=VALUE" strings; the host's environment is never passed */
    size_t nenv;
    const uint8_t *stdin_data; /* the guest's whole stdin (may be NULL when stdin_len is 0) */
    size_t stdin_len;

    bool deterministic_clock;  /* virtual clock starting at timestamp_ns (else the host clocks) */
    uint64_t timestamp_ns;     /* realtime clock start in deterministic mode (ns since the epoch) */
    bool deterministic_random; /* ChaCha20 keyed by seed (else the OS CSPRNG) */
    uint8_t seed[32];

    uint64_t fuel;             /* budget in fuel units (WASI_DEFAULT_FUEL) */
    bool metering;             /* false: run without fuel counting (benchmarks only; fuel_used = 0) */
    uint64_t max_memory_bytes; /* linear memory cap, rounded down to 64 KiB pages (at least 1 page) */
    uint64_t timeout_ms;       /* wall-clock limit; 0 = none */
    size_t max_stdout_bytes;
    size_t max_stderr_bytes;
    size_t max_module_bytes; /* 0 = VM_DEFAULT_MAX_MODULE_BYTES */

    bool capture_stdout;  /* keep stdout in wasi_result.out (else only counted) */
    bool capture_stderr;
    int stdout_fd;        /* also write the guest's stdout there as it comes (-1 = no) */
    int stderr_fd;

    const char *preopen_host;  /* a host directory to preopen read-only as fd 3 (NULL = none) */
    const char *preopen_guest; /* the name the guest sees for it (e.g. "/data" or ".") */

    const char *entry; /* export to call: NULL = "_start"; another one must take no parameters
                          and may return up to WASI_MAX_RESULTS values (benchmarks, tests) */
} wasi_config;

/* Results kept from a non-_start entry: enough for any multi-value function a test calls. */
#define WASI_MAX_RESULTS 8u

/* Defaults: the limits above, real clock and randomness, metering on, capture both streams, no
 * pass-through, no preopen, no args, no env, empty stdin. */
void wasi_config_default(wasi_config *cfg);

typedef struct wasi_result {
    wasi_outcome outcome;
    int32_t exit_code;          /* the guest's exit code when outcome is OK or EXIT (else 0) */
    char message[256];          /* why the run ended, for every outcome but OK ("" then) */
    uint64_t fuel_used;         /* fuel charged, never more than the budget */
    uint64_t wall_ns;           /* instantiation plus run, wall clock */
    uint64_t peak_memory_bytes; /* largest size linear memory 0 reached */
    uint64_t stdout_bytes;      /* bytes the guest wrote to stdout and we accepted */
    uint64_t stderr_bytes;
    uint8_t *out;               /* captured stdout (owned; NULL when empty or not captured) */
    size_t out_len;
    uint8_t *err;               /* captured stderr (owned) */
    size_t err_len;
    vm_value results[WASI_MAX_RESULTS]; /* what a non-_start entry returned (outcome OK) */
    uint32_t nresults;
} wasi_result;

/* Error codes of wasi_run's return value (the run itself never fails this way: a bad module is an
 * outcome). */
enum { WASI_ERR_CONFIG = 1, WASI_ERR_NOMEM = 2, WASI_ERR_SYSTEM = 3 };

/* Decodes bytes[0..len) and runs it as a WASI command (its "_start" export) under cfg. Returns 0
 * when the run happened (whatever its outcome, in *res), or an error code with err filled when the
 * configuration is wrong (e.g. the preopen directory does not exist) or the host ran out of memory.
 * res is always initialised; free it with wasi_result_free. */
int wasi_run(const uint8_t *bytes, size_t len, const wasi_config *cfg, wasi_result *res, ol_err *err);

/* The same with a module decoded already (cfg->metering and max_module_bytes are then the module's
 * business). m is borrowed and may be shared with other threads. */
int wasi_run_module(const vm_module *m, const wasi_config *cfg, wasi_result *res, ol_err *err);

/* Frees the buffers of res (not res itself) and zeroes it. */
void wasi_result_free(wasi_result *res);

/* True when (module, name) is a function this runtime provides. */
bool wasi_provides(const char *module, const char *name);

#endif
