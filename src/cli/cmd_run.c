/* `outlayer run [options] FILE.wasm [ARGS...]`: runs a WASI command the way a worker does. stdin is
 * read whole and given to the guest; the guest's stdout and stderr pass straight through (and are
 * counted against their limits); --stats and --stats-json report how the run ended. Options come
 * before FILE; everything after FILE is the guest's (its argv[0] is FILE as given). */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "wasi/wasi.h"

static void run_help(FILE *out)
{
    fprintf(out,
            "usage: outlayer run [OPTIONS] FILE.wasm [ARGS...]\n\n"
            "Runs FILE.wasm as a WASI preview 1 command (its _start export), as an OutLayer worker would:\n"
            "stdin is the input, stdout the result, stderr a log. Only --env variables are visible.\n\n"
            "options:\n"
            "  --fuel N              fuel budget in units (default %llu)\n"
            "  --unmetered           run without fuel metering (benchmarks; fuel_used is 0)\n"
            "  --max-memory-mb N     linear memory limit in MiB (default %llu)\n"
            "  --timeout-ms N        wall-clock limit in ms, 0 = none (default %u)\n"
            "  --max-output-bytes N  stdout limit in bytes (default %u)\n"
            "  --max-stderr-bytes N  stderr limit in bytes (default %u)\n"
            "  --max-module-bytes N  module size limit in bytes (default %u)\n"
            "  --env K=V             set an environment variable for the guest (repeatable)\n"
            "  --seed HEX            32-byte seed (64 hex digits): deterministic random_get (ChaCha20);\n"
            "                        also makes the clock deterministic unless --clock real is given\n"
            "  --clock MODE          real (default) or deterministic (starts at --timestamp-ns and\n"
            "                        advances 1 ns per fuel unit); deterministic without --seed uses a zero seed\n"
            "  --timestamp-ns N      start of the deterministic realtime clock, ns since 1970 (default 0)\n"
            "  --dir HOST::GUEST     preopen the host directory HOST read-only as GUEST\n"
            "  --invoke NAME         call the export NAME (no parameters) instead of _start and print\n"
            "                        its results on stdout as TYPE:VALUE lines (benchmarks, tests)\n"
            "  --stats               print one line about the run on stderr\n"
            "  --stats-json FILE     write {outcome, exit_code, trap_message, fuel_used, wall_ms,\n"
            "                        peak_memory_bytes, stdout_bytes, ...} to FILE\n"
            "  -h, --help            this text\n\n"
            "exit status: the guest's exit code when it exits (0 for ok; codes above 255 become 255);\n"
            "  %d invalid_module, %d trap, %d out_of_fuel, %d timeout, %d memory_limit, %d output_limit,\n"
            "  %d bad usage, %d unreadable module or stdin, %d internal error, %d stats file not writable.\n"
            "  A guest can exit with these numbers too: --stats-json is authoritative.\n",
            (unsigned long long)WASI_DEFAULT_FUEL, (unsigned long long)(WASI_DEFAULT_MAX_MEMORY_BYTES >> 20),
            WASI_DEFAULT_TIMEOUT_MS, WASI_DEFAULT_MAX_STDOUT_BYTES, WASI_DEFAULT_MAX_STDERR_BYTES,
            VM_DEFAULT_MAX_MODULE_BYTES, CLI_EXIT_INVALID_MODULE, CLI_EXIT_TRAP, CLI_EXIT_OUT_OF_FUEL,
            CLI_EXIT_TIMEOUT, CLI_EXIT_MEMORY_LIMIT, CLI_EXIT_OUTPUT_LIMIT, CLI_EXIT_USAGE, CLI_EXIT_NOINPUT,
            CLI_EXIT_SOFTWARE, CLI_EXIT_CANTCREAT);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "outlayer run: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see outlayer run --help)\n");
    va_end(ap);
    return CLI_EXIT_USAGE;
}

/* Strict unsigned decimal; false on anything else or overflow. */
static bool parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s) return false;
    uint64_t x = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') return false;
        if (!ol_mul_u64(x, 10, &x) || !ol_add_u64(x, (uint64_t)(*p - '0'), &x)) return false;
    }
    *out = x;
    return true;
}

static bool parse_seed(const char *s, uint8_t out[32])
{
    if (strlen(s) != 64) return false;
    for (int i = 0; i < 32; i++) {
        int v = 0;
        for (int j = 0; j < 2; j++) {
            char c = s[2 * i + j];
            int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
            if (d < 0) return false;
            v = v * 16 + d;
        }
        out[i] = (uint8_t)v;
    }
    return true;
}

/* Reads all of fd into *out (owned by the caller), at most max bytes. 0, or an errno (EFBIG when
 * larger than max). */
static int read_all(int fd, size_t max, uint8_t **out, size_t *out_len)
{
    size_t cap = 0, len = 0;
    uint8_t *buf = NULL;
    for (;;) {
        if (len == cap) {
            if (cap >= max) {
                /* probe one more byte: exactly max bytes is fine */
                uint8_t extra;
                ssize_t r;
                do r = read(fd, &extra, 1);
                while (r < 0 && errno == EINTR);
                if (r == 0) break;
                free(buf);
                return r < 0 ? errno : EFBIG;
            }
            size_t ncap = cap ? cap * 2 : 65536;
            if (ncap > max) ncap = max;
            uint8_t *nb = realloc(buf, ncap ? ncap : 1);
            if (!nb) {
                free(buf);
                return ENOMEM;
            }
            buf = nb;
            cap = ncap;
            if (cap == 0) continue;
        }
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            free(buf);
            return e;
        }
        if (r == 0) break;
        len += (size_t)r;
    }
    *out = buf;
    *out_len = len;
    return 0;
}

static int read_file(const char *path, size_t max, uint8_t **out, size_t *out_len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return errno;
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        return EISDIR;
    }
    int e = read_all(fileno(f), max, out, out_len);
    fclose(f);
    return e;
}

/* JSON string body with escapes. */
static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
        else if (*p == '\n') fputs("\\n", f);
        else if (*p < 0x20 || *p == 0x7f) fprintf(f, "\\u%04x", *p);
        else fputc(*p, f);
    }
    fputc('"', f);
}

/* Writes the stats JSON to path through a temporary file and a rename, so a reader never sees half. */
static bool write_stats_json(const char *path, const wasi_result *r)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid()) >= (int)sizeof tmp) return false;
    FILE *f = fopen(tmp, "w");
    if (!f) return false;
    bool exited = r->outcome == WASI_OUTCOME_OK || r->outcome == WASI_OUTCOME_EXIT ||
                  (r->outcome == WASI_OUTCOME_MEMORY_LIMIT && r->exit_code != 0);
    fprintf(f, "{\"outcome\": \"%s\", \"exit_code\": ", wasi_outcome_name(r->outcome));
    if (exited) fprintf(f, "%" PRId32, r->exit_code);
    else fputs("null", f);
    fputs(", \"trap_message\": ", f);
    if (r->outcome == WASI_OUTCOME_OK) fputs("null", f);
    else json_str(f, r->message);
    fprintf(f,
            ", \"fuel_used\": %" PRIu64 ", \"wall_ms\": %.3f, \"peak_memory_bytes\": %" PRIu64 ", \"stdout_bytes\": %" PRIu64
            ", \"stderr_bytes\": %" PRIu64 "}\n",
            r->fuel_used, (double)r->wall_ns / 1e6, r->peak_memory_bytes, r->stdout_bytes, r->stderr_bytes);
    bool ok = !ferror(f);
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return false;
    }
    return true;
}

static int exit_status(const wasi_result *r)
{
    switch (r->outcome) {
    case WASI_OUTCOME_OK: return 0;
    case WASI_OUTCOME_EXIT: return r->exit_code < 0 || r->exit_code > 255 ? 255 : r->exit_code;
    case WASI_OUTCOME_TRAP: return CLI_EXIT_TRAP;
    case WASI_OUTCOME_OUT_OF_FUEL: return CLI_EXIT_OUT_OF_FUEL;
    case WASI_OUTCOME_TIMEOUT: return CLI_EXIT_TIMEOUT;
    case WASI_OUTCOME_MEMORY_LIMIT: return CLI_EXIT_MEMORY_LIMIT;
    case WASI_OUTCOME_OUTPUT_LIMIT: return CLI_EXIT_OUTPUT_LIMIT;
    case WASI_OUTCOME_INVALID_MODULE: return CLI_EXIT_INVALID_MODULE;
    }
    return CLI_EXIT_SOFTWARE;
}

typedef struct run_opts {
    wasi_config cfg;
    const char *clock;
    bool seed_given, stats;
    const char *stats_json;
    const char **env;
    size_t nenv;
    char *dir_spec; /* owned copy of HOST::GUEST, split in place */
} run_opts;

/* Parses options up to FILE; returns the index of FILE, or -1 after printing the reason (*code set). */
static int parse_opts(int argc, char **argv, run_opts *o, int *code)
{
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (a[0] != '-' || a[1] == 0) break;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            run_help(stdout);
            *code = 0;
            return -1;
        }
        if (strcmp(a, "--stats") == 0) { o->stats = true; continue; }
        if (strcmp(a, "--unmetered") == 0) { o->cfg.metering = false; continue; }
        /* options with a value: --name V or --name=V */
        const char *name = a, *val = NULL;
        char namebuf[64];
        const char *eq = strchr(a, '=');
        if (eq) {
            size_t l = (size_t)(eq - a);
            if (l >= sizeof namebuf) { *code = usage_error("unknown option '%.64s'%s", a, ""); return -1; }
            memcpy(namebuf, a, l);
            namebuf[l] = 0;
            name = namebuf;
            val = eq + 1;
        } else if (i + 1 < argc) {
            val = argv[++i];
        } else {
            *code = usage_error("%s needs a value%s", a, "");
            return -1;
        }
        uint64_t n = 0;
        bool num_ok = parse_u64(val, &n);
#define NEED_NUM()                                                                                         \
    do {                                                                                                   \
        if (!num_ok) { *code = usage_error("%s: not a non-negative integer: '%.64s'", name, val); return -1; } \
    } while (0)
        if (strcmp(name, "--fuel") == 0) {
            NEED_NUM();
            o->cfg.fuel = n;
        } else if (strcmp(name, "--max-memory-mb") == 0) {
            NEED_NUM();
            if (n == 0 || n > 4096) { *code = usage_error("%s: must be 1..4096 (MiB), got '%.64s'", name, val); return -1; }
            o->cfg.max_memory_bytes = n << 20;
        } else if (strcmp(name, "--timeout-ms") == 0) {
            NEED_NUM();
            o->cfg.timeout_ms = n;
        } else if (strcmp(name, "--max-output-bytes") == 0) {
            NEED_NUM();
            if (n > SIZE_MAX / 2) { *code = usage_error("%s: too large: '%.64s'", name, val); return -1; }
            o->cfg.max_stdout_bytes = (size_t)n;
        } else if (strcmp(name, "--max-stderr-bytes") == 0) {
            NEED_NUM();
            if (n > SIZE_MAX / 2) { *code = usage_error("%s: too large: '%.64s'", name, val); return -1; }
            o->cfg.max_stderr_bytes = (size_t)n;
        } else if (strcmp(name, "--max-module-bytes") == 0) {
            NEED_NUM();
            if (n == 0 || n > SIZE_MAX / 2) { *code = usage_error("%s: must be positive: '%.64s'", name, val); return -1; }
            o->cfg.max_module_bytes = (size_t)n;
        } else if (strcmp(name, "--timestamp-ns") == 0) {
            NEED_NUM();
            o->cfg.timestamp_ns = n;
        } else if (strcmp(name, "--env") == 0) {
            if (!strchr(val, '=') || val[0] == '=') { *code = usage_error("%s: expected KEY=VALUE, got '%.64s'", name, val); return -1; }
            o->env[o->nenv++] = val;
        } else if (strcmp(name, "--seed") == 0) {
            if (!parse_seed(val, o->cfg.seed)) { *code = usage_error("%s: expected 64 hex digits (32 bytes), got '%.80s'", name, val); return -1; }
            o->seed_given = true;
        } else if (strcmp(name, "--clock") == 0) {
            if (strcmp(val, "real") != 0 && strcmp(val, "deterministic") != 0) {
                *code = usage_error("%s: expected real or deterministic, got '%.64s'", name, val);
                return -1;
            }
            o->clock = val;
        } else if (strcmp(name, "--invoke") == 0) {
            o->cfg.entry = val;
        } else if (strcmp(name, "--stats-json") == 0) {
            o->stats_json = val;
        } else if (strcmp(name, "--dir") == 0) {
            free(o->dir_spec);
            o->dir_spec = strdup(val);
            char *sep = o->dir_spec ? strstr(o->dir_spec, "::") : NULL;
            if (!sep || sep == o->dir_spec || sep[2] == 0) { *code = usage_error("%s: expected HOST::GUEST, got '%.64s'", name, val); return -1; }
            *sep = 0;
            o->cfg.preopen_host = o->dir_spec;
            o->cfg.preopen_guest = sep + 2;
        } else {
            *code = usage_error("unknown option '%.64s'%s", name, "");
            return -1;
        }
#undef NEED_NUM
    }
    if (i >= argc) {
        *code = usage_error("missing FILE.wasm%s%s", "", "");
        return -1;
    }
    return i;
}

int cli_cmd_run(int argc, char **argv)
{
    run_opts o;
    memset(&o, 0, sizeof o);
    wasi_config_default(&o.cfg);
    o.env = calloc((size_t)argc + 1, sizeof *o.env);
    if (!o.env) return CLI_EXIT_SOFTWARE;
    int code = 0, rc;
    uint8_t *mod = NULL, *in = NULL;
    size_t mod_len = 0, in_len = 0;
    wasi_result res;
    memset(&res, 0, sizeof res);
    int fi = parse_opts(argc, argv, &o, &code);
    if (fi < 0) goto out;

    o.cfg.deterministic_random = o.seed_given || (o.clock && strcmp(o.clock, "deterministic") == 0);
    o.cfg.deterministic_clock = o.clock ? strcmp(o.clock, "deterministic") == 0 : o.seed_given;
    o.cfg.env = o.env;
    o.cfg.nenv = o.nenv;
    o.cfg.args = (const char *const *)(argv + fi);
    o.cfg.nargs = (size_t)(argc - fi);
    o.cfg.capture_stdout = false;
    o.cfg.capture_stderr = false;
    o.cfg.stdout_fd = 1;
    o.cfg.stderr_fd = 2;

    size_t max_mod = o.cfg.max_module_bytes ? o.cfg.max_module_bytes : VM_DEFAULT_MAX_MODULE_BYTES;
    rc = read_file(argv[fi], max_mod, &mod, &mod_len);
    if (rc == EFBIG) {
        /* Too large: an outcome, not a usage error (the module is what is wrong). */
        res.outcome = WASI_OUTCOME_INVALID_MODULE;
        snprintf(res.message, sizeof res.message, "module is larger than the module size limit of %zu bytes", max_mod);
    } else if (rc) {
        fprintf(stderr, "outlayer run: cannot read %s: %s\n", argv[fi], strerror(rc));
        code = CLI_EXIT_NOINPUT;
        goto out;
    } else {
        rc = read_all(0, CLI_MAX_STDIN_BYTES, &in, &in_len);
        if (rc) {
            fprintf(stderr, "outlayer run: cannot read stdin: %s\n",
                    rc == EFBIG ? "larger than CLI_MAX_STDIN_BYTES (64 MiB)" : strerror(rc));
            code = CLI_EXIT_NOINPUT;
            goto out;
        }
        o.cfg.stdin_data = in;
        o.cfg.stdin_len = in_len;
        signal(SIGPIPE, SIG_IGN); /* a closed stdout is the guest's EIO, not our death */
        ol_err err;
        ol_err_clear(&err);
        rc = wasi_run(mod, mod_len, &o.cfg, &res, &err);
        if (rc) {
            fprintf(stderr, "outlayer run: %s\n", err.msg);
            code = rc == WASI_ERR_CONFIG ? CLI_EXIT_USAGE : CLI_EXIT_SOFTWARE;
            goto out;
        }
    }
    code = exit_status(&res);
    for (uint32_t k = 0; k < res.nresults; k++) {
        const vm_value *v = &res.results[k];
        switch (v->type) {
        case VM_I32: printf("i32:%" PRId32 "\n", (int32_t)v->of.i32); break;
        case VM_I64: printf("i64:%" PRId64 "\n", (int64_t)v->of.i64); break;
        case VM_F32: printf("f32:0x%08" PRIx32 "\n", v->of.f32); break;
        case VM_F64: printf("f64:0x%016" PRIx64 "\n", v->of.f64); break;
        default: printf("ref:%s\n", v->of.ref ? "non-null" : "null"); break;
        }
    }
    fflush(stdout);
    if (res.outcome != WASI_OUTCOME_OK && res.outcome != WASI_OUTCOME_EXIT)
        fprintf(stderr, "outlayer run: %s: %s\n", wasi_outcome_name(res.outcome), res.message);
    if (o.stats)
        fprintf(stderr,
                "outlayer run: outcome=%s exit_code=%" PRId32 " fuel_used=%" PRIu64 " wall_ms=%.3f peak_memory_bytes=%" PRIu64
                " stdout_bytes=%" PRIu64 " stderr_bytes=%" PRIu64 "\n",
                wasi_outcome_name(res.outcome), res.exit_code, res.fuel_used, (double)res.wall_ns / 1e6,
                res.peak_memory_bytes, res.stdout_bytes, res.stderr_bytes);
    if (o.stats_json && !write_stats_json(o.stats_json, &res)) {
        fprintf(stderr, "outlayer run: cannot write %s: %s\n", o.stats_json, strerror(errno));
        code = CLI_EXIT_CANTCREAT;
    }
out:
    wasi_result_free(&res);
    free(mod);
    free(in);
    free(o.env);
    free(o.dir_spec);
    return code;
}
