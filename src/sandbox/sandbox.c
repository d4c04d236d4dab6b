/* sandbox entry: flags, the block producer thread and the RPC server. Flags are parsed here rather than
 * through the settings table because the natural environment names (HOME, PORT) belong to the shell. */
#include "sandbox/sandbox.h"
#include "sandbox/sandbox_int.h"

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct sb_opts {
    const char *home;
    const char *host;
    long long port, block_ms, yield_blocks;
} sb_opts;

static void usage(FILE *f, const char *prog) {
    fprintf(f,
            "usage: %s --home DIR [--port N] [--host IP] [--block-ms MS] [--yield-timeout-blocks N] [--log-level L]\n"
            "  --home DIR                 chain state (SQLite) and credentials/test.near.json; created if missing\n"
            "  --port N                   JSON-RPC port on --host (default 3030; 0 = any free port, printed)\n"
            "  --host IP                  listen address (default 127.0.0.1)\n"
            "  --block-ms MS              block interval (default 500)\n"
            "  --yield-timeout-blocks N   NEP-519 yield window (default 200)\n"
            "  --log-level L              debug, info, warn, error, off (default info)\n",
            prog);
}

static bool parse_int(const char *s, long long min, long long max, long long *out) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max) return false;
    *out = v;
    return true;
}

typedef struct producer {
    sb_chain *c;
    long long block_ms;
    volatile int stop;
} producer;

static void *produce_loop(void *arg) {
    producer *p = arg;
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    while (!p->stop) {
        next.tv_nsec += (p->block_ms % 1000) * 1000000;
        next.tv_sec += p->block_ms / 1000 + next.tv_nsec / 1000000000;
        next.tv_nsec %= 1000000000;
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR) {
        }
        if (p->stop) break;
        ol_err e;
        pthread_mutex_lock(&p->c->mu);
        if (sb_chain_produce(p->c, &e)) OL_ERROR("sandbox: block %llu not made: %s", (unsigned long long)p->c->height + 1, e.msg);
        pthread_cond_broadcast(&p->c->cond);
        pthread_mutex_unlock(&p->c->mu);
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec > next.tv_sec + 1) next = now; /* fell behind: do not burst */
    }
    return NULL;
}

int sandbox_main(int argc, char **argv) {
    const char *prog = argc > 0 ? argv[0] : "outlayer-sandbox";
    sb_opts o = {.home = NULL, .host = "127.0.0.1", .port = 3030, .block_ms = 500, .yield_blocks = SB_DEFAULT_YIELD_BLOCKS};
    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout, prog);
            return 0;
        }
        if (!v) {
            fprintf(stderr, "%s: %s needs a value (see --help)\n", prog, a);
            return 2;
        }
        bool ok = true;
        if (strcmp(a, "--home") == 0) o.home = v;
        else if (strcmp(a, "--host") == 0) o.host = v;
        else if (strcmp(a, "--port") == 0) ok = parse_int(v, 0, 65535, &o.port);
        else if (strcmp(a, "--block-ms") == 0) ok = parse_int(v, 1, 3600000, &o.block_ms);
        else if (strcmp(a, "--yield-timeout-blocks") == 0) ok = parse_int(v, 1, 1000000, &o.yield_blocks);
        else if (strcmp(a, "--log-level") == 0) {
            ol_log_level l;
            ok = ol_log_parse_level(v, &l);
            if (ok) ol_log_set_level(l);
        } else {
            fprintf(stderr, "%s: unknown flag %s (see --help)\n", prog, a);
            return 2;
        }
        if (!ok) {
            fprintf(stderr, "%s: bad value \"%s\" for %s (see --help)\n", prog, v, a);
            return 2;
        }
    }
    if (!o.home || !*o.home) {
        fprintf(stderr, "%s: --home DIR is required\n", prog);
        return 2;
    }
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* large engine buffers (memories, stacks) come from mmap, zeroed lazily by the kernel, instead of a
     * heap whose dynamic threshold would make every calloc memset megabytes */
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    static sb_chain chain;
    sb_chain *c = &chain;
    ol_err err;
    if (sb_chain_open(c, o.home, &err)) {
        fprintf(stderr, "%s: %s\n", prog, err.msg);
        sb_chain_close(c);
        return 1;
    }
    c->yield_blocks = (uint64_t)o.yield_blocks;
    ol_http_server *srv = ol_http_server_new();
    if (!srv || sb_rpc_register(srv, c, &err) || ol_http_server_start(srv, o.host, (int)o.port, 256, &err)) {
        fprintf(stderr, "%s: %s\n", prog, srv ? err.msg : "out of memory");
        ol_http_server_free(srv);
        sb_chain_close(c);
        return 1;
    }
    producer p = {.c = c, .block_ms = o.block_ms};
    pthread_t th;
    if (pthread_create(&th, NULL, produce_loop, &p)) {
        fprintf(stderr, "%s: cannot start the block producer\n", prog);
        ol_http_server_free(srv);
        sb_chain_close(c);
        return 1;
    }
    OL_INFO("sandbox: listening on http://%s:%d, head %llu, block every %lld ms, home %s", o.host,
            ol_http_server_port(srv), (unsigned long long)c->height, o.block_ms, o.home);
    printf("listening on http://%s:%d\n", o.host, ol_http_server_port(srv));
    fflush(stdout);
    int sig = 0;
    sigwait(&sigs, &sig);
    OL_INFO("sandbox: signal %d, stopping", sig);
    p.stop = 1;
    pthread_join(th, NULL);
    pthread_mutex_lock(&c->mu);
    c->stopping = true; /* requests waiting for a transaction answer now instead of after 10 s */
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->mu);
    /* a short grace so those answers are written before the server closes its connections */
    struct timespec grace = {.tv_sec = 0, .tv_nsec = SB_SHUTDOWN_GRACE_MS * 1000000L};
    nanosleep(&grace, NULL);
    ol_http_server_stop(srv);
    ol_http_server_free(srv);
    sb_chain_close(c);
    return 0;
}
