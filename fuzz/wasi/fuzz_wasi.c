/* fuzz_wasi: runs arbitrary bytes as a WASI command with the whole runtime attached, under a small
 * fuel budget, small memory and output limits, in deterministic mode, twice. Invariants checked on
 * every input, beyond "no crash, no leak, no hang":
 *   - the outcome is one of the named ones, and only OK has an empty message;
 *   - fuel_used never exceeds the budget; peak memory never exceeds the limit;
 *   - captured output never exceeds its limit and matches the counted bytes;
 *   - the two runs agree byte for byte: outcome, exit code, message, fuel, stdout, stderr.
 * Seeds: fuzz/wasi/corpus (size-optimised builds of the guests; fuzz/wasi/make-corpus remakes them). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasi/wasi.h"

#define FUEL 200000u           /* enough for libc start-up and a little work: bounds each execution */
#define MEM (4u << 20)         /* 64 pages */
#define OUT_MAX 4096u
#define ERR_MAX 1024u

static void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_wasi: invariant broken: %s\n", what);
        abort();
    }
}

static void run_once(const uint8_t *data, size_t size, wasi_result *r)
{
    wasi_config c;
    wasi_config_default(&c);
    static const char *const args[] = {"fuzz.wasm", "arg"};
    static const char *const env[] = {"NEAR_SENDER_ID=fuzz.near", "NEAR_BLOCK_HEIGHT=1"};
    static const char in[] = "{\"min\":1,\"max\":100}\n";
    c.args = args;
    c.nargs = 2;
    c.env = env;
    c.nenv = 2;
    c.stdin_data = (const uint8_t *)in;
    c.stdin_len = sizeof in - 1;
    c.deterministic_clock = c.deterministic_random = true;
    c.timestamp_ns = 1700000000000000000ull;
    memset(c.seed, 0x5a, sizeof c.seed);
    c.fuel = FUEL;
    c.max_memory_bytes = MEM;
    c.timeout_ms = 0; /* fuel bounds the run; no timer thread per input */
    c.max_stdout_bytes = OUT_MAX;
    c.max_stderr_bytes = ERR_MAX;
    ol_err err;
    int rc = wasi_run(data, size, &c, r, &err);
    check(rc == 0, "wasi_run failed on the host side");
    check(r->outcome <= WASI_OUTCOME_INVALID_MODULE, "unknown outcome");
    check((r->outcome == WASI_OUTCOME_OK) == (r->message[0] == 0), "message iff not ok");
    check(r->fuel_used <= FUEL, "fuel_used above the budget");
    check(r->peak_memory_bytes <= MEM, "peak memory above the limit");
    check(r->out_len <= OUT_MAX && r->out_len == r->stdout_bytes, "stdout limit or count");
    check(r->err_len <= ERR_MAX && r->err_len == r->stderr_bytes, "stderr limit or count");
    check(r->outcome != WASI_OUTCOME_OK || r->exit_code == 0, "ok with a nonzero exit code");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20)) return 0;
    wasi_result a, b;
    run_once(data, size, &a);
    run_once(data, size, &b);
    check(a.outcome == b.outcome && a.exit_code == b.exit_code, "runs differ: outcome");
    check(strcmp(a.message, b.message) == 0, "runs differ: message");
    check(a.fuel_used == b.fuel_used, "runs differ: fuel");
    check(a.out_len == b.out_len && (a.out_len == 0 || memcmp(a.out, b.out, a.out_len) == 0), "runs differ: stdout");
    check(a.err_len == b.err_len && (a.err_len == 0 || memcmp(a.err, b.err, a.err_len) == 0), "runs differ: stderr");
    wasi_result_free(&a);
    wasi_result_free(&b);
    return 0;
}
