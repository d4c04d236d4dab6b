/* The builder against real git repositories made by the test (git init + commit in a temp dir,
 * cloned over file://), built for real inside bubblewrap: Makefile, plain sources, CMake, a manifest,
 * a prebuilt module; and the failures a user must see classified: compile error, a build reaching for
 * the network, one over its wall-clock limit, one over its memory limit, a refused URL scheme, a
 * missing commit, an artifact symlinked out of the checkout, the host environment kept out. Also the
 * WasmUrl fetcher against a real HTTP server on 127.0.0.1 (right hash, wrong hash, over the cap). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "test.h"
#include "worker/worker.h"

static char tmp[256];

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...) {
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    if (rc != 0)
        T_FAIL("command failed (%d): %s", rc, cmd);
}

static void write_file(const char *dir, const char *name, const char *text) {
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    ASSERT_TRUE(f != NULL);
    fputs(text, f);
    fclose(f);
}

static const char hello_c[] = "#include <stdio.h>\nint main(void) { puts(\"hello from the build\"); return 0; }\n";

/* Creates a repository named name with the files (name, text pairs, NULL-terminated), commits, and
 * returns its URL and commit id. */
static void make_repo(const char *name, char *url, size_t ucap, char *commit, const char *first, ...) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s/%s", tmp, name);
    sh("rm -rf '%s' && mkdir -p '%s' && git -C '%s' init -q", dir, dir, dir);
    va_list ap;
    va_start(ap, first);
    for (const char *n = first; n; n = va_arg(ap, const char *)) {
        const char *text = va_arg(ap, const char *);
        write_file(dir, n, text);
    }
    va_end(ap);
    sh("cd '%s' && git add -A && git -c user.name=t -c user.email=t@t commit -qm init", dir);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "git -C '%s' rev-parse HEAD", dir);
    FILE *p = popen(cmd, "r");
    ASSERT_TRUE(p && fgets(commit, 65, p));
    pclose(p);
    commit[strcspn(commit, "\n")] = 0;
    snprintf(url, ucap, "file://%s", dir);
}

static worker_build_config cfg;

static void build(const char *url, const char *commit, worker_build_result *r) {
    ol_err err;
    int rc = worker_build_git(&cfg, url, commit, NULL, r, &err);
    if (rc)
        T_FAIL("worker_build_git: %s", err.msg);
    fprintf(stderr, "  -> %s (%s) %s [%llu ms]\n", worker_build_status_name(r->status), r->kind, r->message,
            (unsigned long long)r->build_ms);
}

#define EXPECT_STATUS(r, st)                                                                               \
    do {                                                                                                   \
        if ((r).status != (st))                                                                            \
            T_FAIL("status %s, expected %s: %s\nlog:\n%s", worker_build_status_name((r).status),          \
                   worker_build_status_name(st), (r).message, (r).log ? (r).log : "");                     \
    } while (0)

static void expect_ok(worker_build_result *r, const char *kind) {
    if (r->status != WORKER_BUILD_OK)
        T_FAIL("build failed: %s: %s\nlog:\n%s", worker_build_status_name(r->status), r->message, r->log ? r->log : "");
    ASSERT_STREQ(r->kind, kind);
    ASSERT_TRUE(r->wasm_len >= 8 && memcmp(r->wasm, "\0asm", 4) == 0);
    uint8_t h[32];
    crypto_hash_sha256(h, r->wasm, r->wasm_len);
    ASSERT_TRUE(memcmp(h, r->sha256, 32) == 0);
    ASSERT_EQ(strlen(r->sha256_hex), 64);
}

static void test_make(void) {
    char url[600], commit[65];
    make_repo("mk", url, sizeof url, commit, "main.c", hello_c, "Makefile",
              "app.wasm: main.c\n\t$(CC) -O2 -o $@ main.c\n", NULL);
    worker_build_result r;
    build(url, commit, &r);
    expect_ok(&r, "make");
    ASSERT_STREQ(r.commit, commit);
    /* The same commit built twice gives the same bytes (reproducible builds make caching sound). */
    worker_build_result r2;
    build(url, commit, &r2);
    expect_ok(&r2, "make");
    ASSERT_STREQ(r.sha256_hex, r2.sha256_hex);
    worker_build_result_free(&r);
    worker_build_result_free(&r2);
}

static void test_sources_cmake_manifest_prebuilt(void) {
    char url[600], commit[65];
    worker_build_result r;
    make_repo("src", url, sizeof url, commit, "a.c", hello_c, NULL);
    build(url, commit, &r);
    expect_ok(&r, "sources");
    worker_build_result_free(&r);

    make_repo("cm", url, sizeof url, commit, "main.c", hello_c, "CMakeLists.txt",
              "cmake_minimum_required(VERSION 3.13)\nproject(app C)\nadd_executable(app main.c)\n", NULL);
    build(url, commit, &r);
    expect_ok(&r, "cmake");
    worker_build_result_free(&r);

    make_repo("mf", url, sizeof url, commit, "x.c", hello_c, "outlayer.json",
              "{\"build\": \"mkdir -p out && clang-14 --target=wasm32-wasi -o out/app.wasm x.c && cp out/app.wasm out/b.wasm\","
              " \"artifact\": \"out/app.wasm\"}",
              NULL);
    build(url, commit, &r);
    expect_ok(&r, "manifest");
    worker_build_result_free(&r);

    /* Two modules and no manifest naming one: ambiguous, refused with a hint. */
    make_repo("two", url, sizeof url, commit, "x.c", hello_c, "Makefile",
              "all:\n\t$(CC) -o a.wasm x.c\n\t$(CC) -o b.wasm x.c\n", NULL);
    build(url, commit, &r);
    EXPECT_STATUS(r, WORKER_BUILD_NO_ARTIFACT);
    ASSERT_CONTAINS(r.message, "outlayer.json");
    worker_build_result_free(&r);

    /* Prebuilt: a repository holding just a module. */
    char dir[512];
    snprintf(dir, sizeof dir, "%s/pre", tmp);
    sh("rm -rf '%s' && mkdir -p '%s' && git -C '%s' init -q && printf '\\000asm\\001\\000\\000\\000' > '%s/m.wasm' && "
       "cd '%s' && git add -A && git -c user.name=t -c user.email=t@t commit -qm init",
       dir, dir, dir, dir, dir);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "git -C '%s' rev-parse HEAD", dir);
    FILE *p = popen(cmd, "r");
    ASSERT_TRUE(p && fgets(commit, 65, p));
    pclose(p);
    commit[strcspn(commit, "\n")] = 0;
    snprintf(url, sizeof url, "file://%s", dir);
    build(url, commit, &r);
    expect_ok(&r, "prebuilt");
    ASSERT_EQ(r.wasm_len, 8);
    worker_build_result_free(&r);
}

/* Rust: built with cargo when rustc has a wasm32 WASI target, else refused with a message saying so. */
static void test_rust(void) {
    char url[600], commit[65];
    make_repo("rs", url, sizeof url, commit, "Cargo.toml", "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
              NULL);
    char dir[600];
    snprintf(dir, sizeof dir, "%s/rs", tmp);
    sh("mkdir -p '%s/src' && printf 'fn main() { println!(\"hi\"); }\\n' > '%s/src/main.rs' && cd '%s' && git add -A && "
       "git -c user.name=t -c user.email=t@t commit -qm rs",
       dir, dir, dir);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "git -C '%s' rev-parse HEAD", dir);
    FILE *p = popen(cmd, "r");
    ASSERT_TRUE(p && fgets(commit, 65, p));
    pclose(p);
    commit[strcspn(commit, "\n")] = 0;
    bool have = system("d=$(rustc --print sysroot 2>/dev/null) && { test -d \"$d/lib/rustlib/wasm32-wasip1\" || "
                       "test -d \"$d/lib/rustlib/wasm32-wasi\"; }") == 0;
    worker_build_result r;
    build(url, commit, &r);
    if (have) {
        expect_ok(&r, "cargo");
    } else {
        EXPECT_STATUS(r, WORKER_BUILD_UNSUPPORTED);
        ASSERT_CONTAINS(r.message, "wasm32");
    }
    worker_build_result_free(&r);
}

static void test_failures(void) {
    char url[600], commit[65];
    worker_build_result r;

    make_repo("bad", url, sizeof url, commit, "main.c", "int main(void) { return nope; }\n", "Makefile",
              "app.wasm: main.c\n\t$(CC) -o $@ main.c\n", NULL);
    build(url, commit, &r);
    EXPECT_STATUS(r, WORKER_BUILD_COMPILE_ERROR);
    ASSERT_CONTAINS(r.message, "compile error");
    ASSERT_CONTAINS(r.log, "nope"); /* the raw compiler output is kept for the operator */
    worker_build_result_free(&r);

    make_repo("net", url, sizeof url, commit, "Makefile",
              "all:\n\tcurl -sS https://example.com/dep.tar.gz -o dep.tar.gz\n", NULL);
    build(url, commit, &r);
    EXPECT_STATUS(r, WORKER_BUILD_NETWORK);
    ASSERT_CONTAINS(r.message, "needs the network");
    worker_build_result_free(&r);

    /* Over the wall clock: killed at the limit, not at the sleep's end. */
    worker_build_config saved = cfg;
    cfg.timeout_s = 2;
    make_repo("slow", url, sizeof url, commit, "Makefile", "all:\n\tsleep 30\n", NULL);
    build(url, commit, &r);
    EXPECT_STATUS(r, WORKER_BUILD_TIMEOUT);
    ASSERT_CONTAINS(r.message, "exceeded 2 s");
    ASSERT_TRUE(r.build_ms < 10000);
    worker_build_result_free(&r);
    cfg = saved;

    /* Over memory: an allocation beyond the address-space limit fails and is named. */
    cfg.memory_mb = 256;
    make_repo("mem", url, sizeof url, commit, "Makefile", "all:\n\tawk 'BEGIN { s = \"x\"; while (1) s = s s }'\n", NULL);
    build(url, commit, &r);
    EXPECT_STATUS(r, WORKER_BUILD_MEMORY);
    ASSERT_CONTAINS(r.message, "exceeded memory");
    worker_build_result_free(&r);
    cfg = saved;

    /* Fork bomb: bounded by the process limit of the build user. */
    cfg.nproc = 16;
    make_repo("fork", url, sizeof url, commit, "Makefile",
              "all:\n\tfor i in $$(seq 1 64); do sleep 5 & done; wait\n", NULL);
    build(url, commit, &r);
    EXPECT_STATUS(r, WORKER_BUILD_COMPILE_ERROR);
    /* "Cannot fork" from the shell (or bwrap's own "Resource temporarily unavailable" when other
     * builds of the same user already use the 16 processes) */
    if (!strstr(r.log, "fork") && !strstr(r.log, "Resource temporarily unavailable"))
        T_FAIL("fork bomb not stopped by the process limit? log:\n%s", r.log);
    ASSERT_TRUE(r.build_ms < 8000);
    worker_build_result_free(&r);
    cfg = saved;

    /* The host's environment and files stay out; the system is read-only. */
    setenv("OUTLAYER_TEST_SECRET", "hunter2-secret", 1);
    make_repo("env", url, sizeof url, commit, "Makefile",
              "all:\n\tenv\n\tls /root /work /home 2>&1 || true\n\ttouch /usr/x 2>&1 || echo usr-read-only\n\tid -u\n\texit 3\n",
              NULL);
    build(url, commit, &r);
    EXPECT_STATUS(r, WORKER_BUILD_COMPILE_ERROR);
    ASSERT_CONTAINS(r.log, "PATH=/usr/bin:/bin");
    ASSERT_CONTAINS(r.log, "HOME=/tmp");
    ASSERT_TRUE(strstr(r.log, "hunter2") == NULL);
    ASSERT_CONTAINS(r.log, "usr-read-only");
    if (geteuid() == 0)
        ASSERT_CONTAINS(r.log, "65534");
    worker_build_result_free(&r);

    /* An artifact that is a symbolic link out of the checkout is refused. */
    make_repo("link", url, sizeof url, commit, "outlayer.json", "{\"build\": \"ln -sf /etc/passwd evil.wasm\", \"artifact\": \"evil.wasm\"}",
              NULL);
    build(url, commit, &r);
    EXPECT_STATUS(r, WORKER_BUILD_NO_ARTIFACT);
    ASSERT_CONTAINS(r.message, "outside the repository");
    worker_build_result_free(&r);

    /* A commit that is not in the repository. */
    build(url, "0123456789012345678901234567890123456789", &r);
    EXPECT_STATUS(r, WORKER_BUILD_CLONE_FAILED);
    ASSERT_CONTAINS(r.message, "not in the repository");
    worker_build_result_free(&r);

    /* Nothing to build. */
    make_repo("empty", url, sizeof url, commit, "README", "hi\n", NULL);
    build(url, commit, &r);
    EXPECT_STATUS(r, WORKER_BUILD_NOTHING);
    worker_build_result_free(&r);

    /* Source checks before anything runs. */
    build("ssh://host/repo", commit, &r);
    EXPECT_STATUS(r, WORKER_BUILD_BAD_SOURCE);
    ASSERT_CONTAINS(r.message, "scheme 'ssh' is not allowed");
    worker_build_result_free(&r);
    build(url, "main", &r);
    EXPECT_STATUS(r, WORKER_BUILD_BAD_SOURCE);
    ASSERT_CONTAINS(r.message, "full 40- or 64-digit hex");
    worker_build_result_free(&r);
    cfg.allowed_schemes = "https";
    build(url, commit, &r);
    EXPECT_STATUS(r, WORKER_BUILD_BAD_SOURCE);
    ASSERT_CONTAINS(r.message, "scheme 'file' is not allowed");
    worker_build_result_free(&r);
    cfg = saved;
}

/* ---- WasmUrl: a real HTTP server on loopback (python3's http.server over a directory) ---- */
static void test_fetch(void) {
    char dir[512], url[700];
    snprintf(dir, sizeof dir, "%s/www", tmp);
    sh("mkdir -p '%s' && printf '\\000asm\\001\\000\\000\\000' > '%s/m.wasm' && head -c 300000 /dev/zero > '%s/big.wasm'", dir,
       dir, dir);
    /* A port the kernel says is free, then the server on it; under load it may take a while to answer,
     * and if another process took the port in between, try again with a new one. */
    int port = 0;
    pid_t pid = 0;
    bool up = false;
    for (int attempt = 0; attempt < 3 && !up; attempt++) {
        if (pid > 0) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
        }
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t al = sizeof a;
        ASSERT_TRUE(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
                    getsockname(fd, (struct sockaddr *)&a, &al) == 0);
        port = ntohs(a.sin_port);
        close(fd);
        pid = fork();
        if (pid == 0) {
            char ps[16];
            snprintf(ps, sizeof ps, "%d", port);
            int devnull = open("/dev/null", 1);
            dup2(devnull, 1);
            dup2(devnull, 2);
            execlp("python3", "python3", "-m", "http.server", ps, "--bind", "127.0.0.1", "--directory", dir, (char *)NULL);
            _exit(127);
        }
        /* Wait until it answers (up to 20 s), unless it exited (the port was taken). */
        for (int i = 0; i < 400 && !up; i++) {
            char cmd[256];
            snprintf(cmd, sizeof cmd, "curl -fs -o /dev/null http://127.0.0.1:%d/m.wasm", port);
            up = system(cmd) == 0;
            if (!up) {
                if (waitpid(pid, NULL, WNOHANG) == pid) {
                    pid = 0;
                    break;
                }
                usleep(50000);
            }
        }
    }
    ASSERT_TRUE(up);
    const uint8_t m[8] = {0, 'a', 's', 'm', 1, 0, 0, 0};
    uint8_t h[32];
    char hex[65];
    crypto_hash_sha256(h, m, 8);
    ol_hex_encode(h, 32, hex);
    worker_build_config c = cfg;
    c.allowed_schemes = "https,http";
    c.max_module_bytes = 100000;
    worker_build_result r;
    ol_err err;
    snprintf(url, sizeof url, "http://127.0.0.1:%d/m.wasm", port);
    ASSERT_EQ(worker_fetch_wasm(&c, url, hex, &r, &err), 0);
    EXPECT_STATUS(r, WORKER_BUILD_OK);
    ASSERT_EQ(r.wasm_len, 8);
    ASSERT_STREQ(r.sha256_hex, hex);
    worker_build_result_free(&r);
    char wrong[65];
    memcpy(wrong, hex, 65);
    wrong[0] = wrong[0] == '0' ? '1' : '0';
    ASSERT_EQ(worker_fetch_wasm(&c, url, wrong, &r, &err), 0);
    EXPECT_STATUS(r, WORKER_BUILD_HASH_MISMATCH);
    ASSERT_CONTAINS(r.message, hex);
    ASSERT_TRUE(r.wasm == NULL);
    worker_build_result_free(&r);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/big.wasm", port);
    ASSERT_EQ(worker_fetch_wasm(&c, url, hex, &r, &err), 0);
    EXPECT_STATUS(r, WORKER_BUILD_TOO_BIG);
    worker_build_result_free(&r);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/missing.wasm", port);
    ASSERT_EQ(worker_fetch_wasm(&c, url, hex, &r, &err), 0);
    EXPECT_STATUS(r, WORKER_BUILD_CLONE_FAILED);
    ASSERT_CONTAINS(r.message, "404");
    worker_build_result_free(&r);
    c.allowed_schemes = "https"; /* plain http only when allowed */
    ASSERT_EQ(worker_fetch_wasm(&c, url, hex, &r, &err), 0);
    EXPECT_STATUS(r, WORKER_BUILD_BAD_SOURCE);
    worker_build_result_free(&r);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}

int main(void) {
    ASSERT_TRUE(sodium_init() >= 0);
    snprintf(tmp, sizeof tmp, "%s/outlayer-test-build-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    ASSERT_TRUE(mkdtemp(tmp) != NULL);
    chmod(tmp, 0755); /* the build user clones from here */
    worker_build_config_default(&cfg);
    cfg.allowed_schemes = "file";
    cfg.timeout_s = 30;
    ol_err err;
    if (worker_sandbox_check(&cfg, &err) != 0)
        T_FAIL("%s", err.msg);
    test_make();
    test_sources_cmake_manifest_prebuilt();
    test_rust();
    test_failures();
    test_fetch();
    sh("rm -rf '%s'", tmp);
    printf("ok\n");
    return 0;
}
