/* worker: turns a request into an answer (DESIGN.md §1, §4). This header exposes the builder (a
 * repository at an exact commit -> a WebAssembly module, built inside bubblewrap with no network and
 * hard limits), the WasmUrl fetcher (download with a size cap, checked against its sha256), the
 * coordinator client and task loop, and `worker_main`. docs/worker.md describes the settings.
 *
 * Ownership: results (worker_build_result) own their buffers; free them with worker_build_result_free.
 * Configurations are borrowed for the duration of each call. */
#ifndef OUTLAYER_WORKER_H
#define OUTLAYER_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

/* ---- Limits and defaults, each with its reason ---- */
/* 60 s: a build must fit in NEAR's 200-block yield window next to the run (DESIGN.md §4); longer
 * builds are warmed ahead with compile_only. A request for more is refused, never clamped. */
#define WORKER_BUILD_TIMEOUT_MAX_S 60u
#define WORKER_BUILD_TIMEOUT_DEFAULT_S 60u
/* 2 GiB of address space per build process: clang on a large file stays under 1 GiB. */
#define WORKER_BUILD_MEMORY_DEFAULT_MB 2048u
/* CPU seconds per build process: the wall-clock cap already bounds the whole build; this stops a
 * single runaway process sooner on a loaded machine. */
#define WORKER_BUILD_CPU_DEFAULT_S 60u
/* Processes of the build user: make -j plus clang's children; stops fork bombs. */
#define WORKER_BUILD_NPROC_DEFAULT 256u
/* Largest file a build (or the clone) may write: a checkout and its objects, never a disk-filler. */
#define WORKER_BUILD_FILE_MAX_BYTES (512ull << 20)
/* The raw log kept for the operator: the tail of stdout+stderr (errors come last). */
#define WORKER_BUILD_LOG_MAX_BYTES (64u << 10)
/* Largest module accepted from a build or a URL: 64 MiB, as the coordinator's cache entries. */
#define WORKER_MODULE_MAX_BYTES (64u << 20)
/* Clone and checkout of a repository: its own wall clock, separate from the build's. */
#define WORKER_CLONE_TIMEOUT_DEFAULT_S 60u
/* Download of a WasmUrl: 30 s for up to WORKER_MODULE_MAX_BYTES on loopback or a CDN. */
#define WORKER_FETCH_TIMEOUT_DEFAULT_S 30u
/* The unprivileged uid/gid builds run as (nobody): RLIMIT_NPROC does not bind root. */
#define WORKER_BUILD_UID_DEFAULT 65534
#define WORKER_URL_MAX 2048u /* a repository or module URL */
#define WORKER_COMMIT_MAX 64u /* a sha1 (40) or sha256 (64) commit id in hex */

/* How a build or fetch ended. The user sees worker_build_status_message(); the operator the log. */
typedef enum worker_build_status {
    WORKER_BUILD_OK = 0,
    WORKER_BUILD_BAD_SOURCE,     /* URL scheme not allowed, malformed URL or commit, bad manifest */
    WORKER_BUILD_CLONE_FAILED,   /* repository not reachable, or the commit is not in it */
    WORKER_BUILD_NOTHING,        /* nothing we know how to build (no manifest, Makefile, sources...) */
    WORKER_BUILD_COMPILE_ERROR,  /* the build command failed */
    WORKER_BUILD_NETWORK,        /* the build reached for the network (it has none) */
    WORKER_BUILD_TIMEOUT,        /* the wall-clock limit passed; the build was killed */
    WORKER_BUILD_CPU,            /* a build process exceeded its CPU time */
    WORKER_BUILD_MEMORY,         /* a build process exceeded its memory limit */
    WORKER_BUILD_NO_ARTIFACT,    /* the build succeeded but the module is missing or ambiguous */
    WORKER_BUILD_TOO_BIG,        /* the module is over WORKER_MODULE_MAX_BYTES (or the configured cap) */
    WORKER_BUILD_HASH_MISMATCH,  /* a WasmUrl module whose sha256 is not the pinned one */
    WORKER_BUILD_UNSUPPORTED,    /* e.g. Rust without a wasm32 target installed */
    WORKER_BUILD_SANDBOX,        /* bubblewrap cannot create its namespaces here: nothing was built */
    WORKER_BUILD_INTERNAL,       /* our fault (out of memory, fork failed) */
} worker_build_status;

/* "ok", "bad_source", "clone_failed", ... (stable: stored by the coordinator). */
const char *worker_build_status_name(worker_build_status s);

typedef struct worker_build_config {
    const char *allowed_schemes; /* comma-separated: "https" in production; "https,file,git" locally */
    unsigned timeout_s;          /* wall clock of the build, 1..WORKER_BUILD_TIMEOUT_MAX_S */
    unsigned clone_timeout_s;    /* wall clock of the clone and checkout */
    unsigned memory_mb;          /* RLIMIT_AS of every build process */
    unsigned cpu_s;              /* RLIMIT_CPU of every build process */
    unsigned nproc;              /* RLIMIT_NPROC of the build user */
    int uid, gid;                /* the unprivileged user builds run as (when we are root) */
    size_t max_module_bytes;     /* 0 = WORKER_MODULE_MAX_BYTES */
    size_t max_log_bytes;        /* 0 = WORKER_BUILD_LOG_MAX_BYTES */
    const char *work_dir;        /* parent of the per-build temporary directories ("" = $TMPDIR or /tmp) */
    const char *wasm_cc;         /* clang able to target wasm32-wasi ("" = clang-14, else clang) */
    const char *wasi_sysroot;    /* "" = the compiler's default (Debian's wasi-libc) */
    unsigned fetch_timeout_s;    /* WasmUrl download */
} worker_build_config;

/* The defaults above; allowed_schemes "https". */
void worker_build_config_default(worker_build_config *cfg);

typedef struct worker_build_result {
    worker_build_status status;
    char message[256];   /* for the user: "build failed: compile error (exit 2)", ... ("" when ok) */
    uint8_t *wasm;       /* the module (owned; NULL unless ok) */
    size_t wasm_len;
    uint8_t sha256[32];  /* of wasm */
    char sha256_hex[65];
    char commit[WORKER_COMMIT_MAX + 1]; /* the commit that was built */
    char kind[16];       /* "manifest", "make", "cmake", "cargo", "sources", "prebuilt", "url" */
    char *log;           /* raw log for the operator: clone + build output, bounded (owned) */
    size_t log_len;
    uint64_t build_ms;   /* clone + build, wall clock */
} worker_build_result;

/* Clones repo_url at commit (full hex id) and builds it inside bubblewrap. build_target is NULL or
 * "wasm32-wasi" / "wasm32-wasip1" (others refused). Returns 0 when a result was produced (look at
 * res->status: a failed build is a result, not an error) or an error code with err filled when the
 * worker itself is misconfigured (e.g. the work directory cannot be created). res is always
 * initialised; free it with worker_build_result_free. */
int worker_build_git(const worker_build_config *cfg, const char *repo_url, const char *commit,
                     const char *build_target, worker_build_result *res, ol_err *err);

/* Downloads url (scheme allowed by cfg, plus http for loopback hosts in tests) with the size cap and
 * checks its sha256 against sha256_hex (64 hex digits). Same result conventions. */
int worker_fetch_wasm(const worker_build_config *cfg, const char *url, const char *sha256_hex,
                      worker_build_result *res, ol_err *err);

void worker_build_result_free(worker_build_result *res);

/* Checks that bubblewrap can create its namespaces as the build user; 0 or an error naming why not.
 * The result of the first call is remembered for the process. */
int worker_sandbox_check(const worker_build_config *cfg, ol_err *err);

/* ---- executor (src/worker/exec.c; built when src/wasi is part of the build) ---- */
/* A result's output on chain: 64 KiB (DESIGN.md §5, resolve_execution). */
#define WORKER_OUTPUT_MAX_BYTES (64u << 10)
/* Request limits: defaults and caps of DESIGN.md §5; above a cap the request is refused, not clamped. */
#define WORKER_MAX_INSTRUCTIONS_DEFAULT 1000000000ull
#define WORKER_MAX_INSTRUCTIONS_CAP 100000000000ull
#define WORKER_MAX_MEMORY_MB_DEFAULT 128u
#define WORKER_MAX_MEMORY_MB_CAP 1024u
#define WORKER_MAX_SECONDS_DEFAULT 10u
#define WORKER_MAX_SECONDS_CAP 60u
/* stderr kept from a failed run for its error message: the contract keeps errors short. */
#define WORKER_ERROR_TEXT_MAX 512u

struct json_t;
struct near_secret_key;

/* The random seed of a request (DESIGN.md §4): sha256 of the worker key's ed25519 signature over the
 * request's data id (its 32 bytes when it is 64 hex digits, else its text). Ed25519 signatures are
 * deterministic, so a verifier holding the signature (sig_hex, 128 hex digits) re-derives the seed and
 * checks it against the worker's public key. */
int worker_request_seed(const struct near_secret_key *sk, const char *data_id, uint8_t seed[32], char sig_hex[129],
                        ol_err *err);

typedef struct worker_exec_params {
    const uint8_t *wasm; /* the module (borrowed) */
    size_t wasm_len;
    const struct json_t *request; /* the request: input_data, resource_limits, response_format, secrets_ref,
                                     sender_id, payer_account_id, payment, block_height, timestamp, request_id,
                                     and an optional "context" object (contract_id, receipt_id, ...) */
    uint8_t seed[32];             /* worker_request_seed */
    uint64_t compile_time_ms;     /* set when this worker built the module for this request */
    const char *compilation_note; /* e.g. "cached module <hash>" (NULL = none) */
} worker_exec_params;

/* Runs the module as the request says: deterministic clock from the request's block timestamp,
 * ChaCha20 randomness from seed, fuel = max_instructions, memory and wall-clock caps, the NEAR_*
 * environment (reference §4.7, only the variables whose values are known), stdin = input_data, and
 * the output converted by response_format (Text: UTF-8 checked; Json: parsed; Bytes: base64).
 * *out_response gets the resolve_execution response {success, output?, error?, resources_used:
 * {instructions, time_ms, compile_time_ms?}, compilation_note?} and *out_report {wasm_hash,
 * input_hash, output_hash} (both owned by the caller). A failed run is a response with success false;
 * the return value is nonzero only for our own faults (out of memory), with err set. */
int worker_execute(const worker_exec_params *p, struct json_t **out_response, struct json_t **out_report, ol_err *err);

/* `outlayer worker [flags]` / `outlayer-worker`: argv[0] is the command name. Subcommands:
 * `build --repo URL --commit C [--out FILE]` builds once and prints the result; with no subcommand
 * the task loop runs until SIGINT/SIGTERM. Returns the exit status (0 ok, 1 failure, 2 usage). */
int worker_main(int argc, char **argv);

#endif
