/* See harness.h. */
#define _GNU_SOURCE
#include "harness.h"
#include "test.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PG_BIN "/usr/lib/postgresql/15/bin"
#define MAX_COORDS 8

static char tmpdir[256];
static char pgdir[300];
static volatile pid_t pg_pid, redis_pid;
static volatile pid_t coord_pid[MAX_COORDS];
static int coord_port[MAX_COORDS];
static int ncoords;
static char pg_url[256], redis_url[128];
static int pg_port;
static char pg_opts[512], pg_log[400];
static void pg_ctl_start(void);

const char *h_tmpdir(void) { return tmpdir; }

static void msleep(int ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void on_abort(int sig) {
    /* async-signal-safe: only kill() */
    for (int i = 0; i < MAX_COORDS; i++)
        if (coord_pid[i] > 0) kill(coord_pid[i], SIGKILL);
    if (redis_pid > 0) kill(redis_pid, SIGKILL);
    if (pg_pid > 0) kill(pg_pid, SIGQUIT);
    signal(sig, SIG_DFL);
    raise(sig);
}

void h_cleanup(void) {
    for (int i = 0; i < ncoords; i++)
        if (coord_pid[i] > 0) h_kill_coord(i, SIGKILL);
    h_stop_redis();
    h_stop_pg();
    if (tmpdir[0] && !getenv("KEEP_TMP")) {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0) fprintf(stderr, "cleanup: %s failed\n", cmd);
    }
}

/* If the test itself is killed (ctest timeout sends SIGKILL), nothing of it may keep running:
 * coordinator and redis children get PR_SET_PDEATHSIG, and this watchdog process stops PostgreSQL
 * (daemonised by pg_ctl, so not our child) and removes the temp dir once the test is gone. */
static void start_watchdog(void) {
    pid_t parent = getpid();
    pid_t w = fork();
    if (w != 0) return;
    setsid();
    while (getppid() == parent) msleep(200);
    char pidf[400];
    snprintf(pidf, sizeof pidf, "%s/pg/postmaster.pid", tmpdir);
    FILE *f = fopen(pidf, "r");
    int pid = 0;
    if (f) {
        if (fscanf(f, "%d", &pid) == 1 && pid > 0) kill(pid, SIGQUIT);
        fclose(f);
        for (int i = 0; i < 100 && pid > 0 && kill(pid, 0) == 0; i++) msleep(50);
    }
    if (!getenv("KEEP_TMP")) {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd)) {}
    }
    _exit(0);
}

void h_init(const char *name) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ol_%s_XXXXXX", name);
    ASSERT_TRUE(mkdtemp(tmpdir));
    chmod(tmpdir, 0755);
    start_watchdog();
    atexit(h_cleanup);
    signal(SIGABRT, on_abort);
    signal(SIGSEGV, on_abort);
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

int h_free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ASSERT_EQ(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    socklen_t l = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &l);
    close(fd);
    return ntohs(sa.sin_port);
}

/* Runs argv as user (NULL = current), waits; returns exit status. */
static int run_as(const char *user, const char *const *argv, bool quiet) {
    pid_t p = fork();
    if (p == 0) {
        if (quiet) {
            int fd = open("/dev/null", O_WRONLY);
            dup2(fd, 1);
            dup2(fd, 2);
        }
        if (user) {
            const char *args[32];
            int n = 0;
            args[n++] = "runuser";
            args[n++] = "-u";
            args[n++] = user;
            args[n++] = "--";
            for (int i = 0; argv[i] && n < 31; i++) args[n++] = argv[i];
            args[n] = NULL;
            execvp("runuser", (char **)args);
        } else {
            execvp(argv[0], (char **)argv);
        }
        _exit(127);
    }
    int st;
    waitpid(p, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

const char *h_start_pg(void) {
    bool root = getuid() == 0;
    const char *user = root ? "postgres" : NULL;
    snprintf(pgdir, sizeof pgdir, "%s/pg", tmpdir);
    ASSERT_EQ(mkdir(pgdir, 0700), 0);
    if (root) {
        struct passwd *pw = getpwnam("postgres");
        ASSERT_TRUE(pw);
        ASSERT_EQ(chown(pgdir, pw->pw_uid, pw->pw_gid), 0);
    }
    const char *init[] = {PG_BIN "/initdb", "-D", pgdir, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", NULL};
    ASSERT_EQ(run_as(user, init, true), 0);
    pg_port = h_free_port();
    snprintf(pg_opts, sizeof pg_opts,
             "-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200 -c shared_buffers=32MB",
             pg_port, pgdir);
    snprintf(pg_log, sizeof pg_log, "%s/log", pgdir);
    pg_ctl_start();
    snprintf(pg_url, sizeof pg_url, "postgres://postgres@127.0.0.1:%d/postgres", pg_port);
    return pg_url;
}

static void pg_ctl_start(void) {
    const char *user = getuid() == 0 ? "postgres" : NULL;
    const char *start[] = {PG_BIN "/pg_ctl", "-D", pgdir, "-o", pg_opts, "-l", pg_log, "-w", "-t", "30", "start", NULL};
    if (run_as(user, start, true) != 0) {
        char cmd[500];
        snprintf(cmd, sizeof cmd, "cat %s >&2", pg_log);
        if (system(cmd)) {}
        T_FAIL("postgres did not start");
    }
    char pidf[400];
    snprintf(pidf, sizeof pidf, "%s/postmaster.pid", pgdir);
    FILE *f = fopen(pidf, "r");
    ASSERT_TRUE(f);
    int pid = 0;
    ASSERT_EQ(fscanf(f, "%d", &pid), 1);
    fclose(f);
    pg_pid = pid;
}

void h_pg_down(void) {
    if (pg_pid <= 0) return;
    kill(pg_pid, SIGINT); /* fast shutdown: clients are disconnected, data is kept */
    for (int i = 0; i < 200 && kill(pg_pid, 0) == 0; i++) msleep(50);
    pg_pid = 0;
}

void h_pg_up(void) { pg_ctl_start(); }

void h_stop_pg(void) {
    if (pg_pid <= 0) return;
    kill(pg_pid, SIGQUIT); /* immediate shutdown */
    for (int i = 0; i < 100 && kill(pg_pid, 0) == 0; i++) msleep(50);
    pg_pid = 0;
}

const char *h_start_redis(void) {
    int port = h_free_port();
    char ports[16];
    snprintf(ports, sizeof ports, "%d", port);
    pid_t p = fork();
    if (p == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open("/dev/null", O_WRONLY);
        dup2(fd, 1);
        execlp("redis-server", "redis-server", "--port", ports, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
               (char *)NULL);
        _exit(127);
    }
    redis_pid = p;
    /* wait until it accepts */
    for (int i = 0; i < 100; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        int ok = connect(fd, (struct sockaddr *)&sa, sizeof sa);
        close(fd);
        if (ok == 0) {
            snprintf(redis_url, sizeof redis_url, "redis://127.0.0.1:%d", port);
            return redis_url;
        }
        msleep(50);
    }
    T_FAIL("redis-server did not start");
}

void h_stop_redis(void) {
    if (redis_pid <= 0) return;
    kill(redis_pid, SIGKILL);
    waitpid(redis_pid, NULL, 0);
    redis_pid = 0;
}

static const char *coord_bin(void) {
    const char *b = getenv("OUTLAYER_COORDINATOR_BIN");
    if (!b) T_FAIL("OUTLAYER_COORDINATOR_BIN is not set");
    return b;
}

static void apply_env(const char *const *env) {
    for (size_t i = 0; env && env[i]; i++) putenv(strdup(env[i]));
}

int h_start_coord(const char *data_dir, const char *const *env) {
    ASSERT_TRUE(ncoords < MAX_COORDS);
    int idx = ncoords++;
    char portfile[400];
    snprintf(portfile, sizeof portfile, "%s/port.%d", tmpdir, idx);
    unlink(portfile);
    pid_t p = fork();
    if (p == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        char pf[420], dd[400];
        snprintf(pf, sizeof pf, "PORT_FILE=%s", portfile);
        snprintf(dd, sizeof dd, "DATA_DIR=%s", data_dir);
        putenv(pf);
        putenv(dd);
        putenv((char *)"PORT=0");
        putenv((char *)"LOG_LEVEL=warn");
        putenv((char *)"OUTLAYER_ENV_FILE=/dev/null");
        apply_env(env);
        execl(coord_bin(), "outlayer-coordinator", (char *)NULL);
        _exit(127);
    }
    coord_pid[idx] = p;
    for (int i = 0; i < 400; i++) {
        FILE *f = fopen(portfile, "r");
        if (f) {
            int port = 0;
            if (fscanf(f, "%d", &port) == 1 && port > 0) {
                fclose(f);
                coord_port[idx] = port;
                return idx;
            }
            fclose(f);
        }
        int st;
        if (waitpid(p, &st, WNOHANG) == p) {
            coord_pid[idx] = 0;
            T_FAIL("coordinator exited at start (status %d)", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
        }
        msleep(25);
    }
    T_FAIL("coordinator did not start");
}

void h_kill_coord(int idx, int sig) {
    if (coord_pid[idx] <= 0) return;
    kill(coord_pid[idx], sig);
    waitpid(coord_pid[idx], NULL, 0);
    coord_pid[idx] = 0;
}

int h_coord_port(int idx) { return coord_port[idx]; }

int h_run_coord_cli(const char *const *args, const char *const *env, char *out, size_t cap) {
    int pipefd[2];
    ASSERT_EQ(pipe(pipefd), 0);
    pid_t p = fork();
    if (p == 0) {
        dup2(pipefd[1], 1);
        close(pipefd[0]);
        putenv((char *)"LOG_LEVEL=warn");
        putenv((char *)"OUTLAYER_ENV_FILE=/dev/null");
        apply_env(env);
        const char *argv[16];
        int n = 0;
        argv[n++] = "outlayer-coordinator";
        for (int i = 0; args[i] && n < 15; i++) argv[n++] = args[i];
        argv[n] = NULL;
        execv(coord_bin(), (char **)argv);
        _exit(127);
    }
    close(pipefd[1]);
    size_t got = 0;
    ssize_t r;
    while (got + 1 < cap && (r = read(pipefd[0], out + got, cap - got - 1)) > 0) got += (size_t)r;
    out[got] = 0;
    close(pipefd[0]);
    int st;
    waitpid(p, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

typedef struct grow {
    char *p;
    size_t len;
} grow;

static size_t on_data(char *d, size_t sz, size_t n, void *ud) {
    grow *g = ud;
    size_t k = sz * n;
    char *np = realloc(g->p, g->len + k + 1);
    if (!np) return 0;
    g->p = np;
    memcpy(g->p + g->len, d, k);
    g->len += k;
    g->p[g->len] = 0;
    return k;
}

h_resp h_req(int port, const char *method, const char *path, const char *token, const char *body, size_t body_len) {
    char url[1024];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    CURL *c = curl_easy_init();
    grow g = {calloc(1, 1), 0};
    struct curl_slist *h = NULL;
    char auth[256];
    if (token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        h = curl_slist_append(h, auth);
    }
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &g);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 90L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    h_resp r = {0, NULL, 0};
    if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    r.body = g.p;
    r.len = g.len;
    return r;
}

h_resp h_req_hdr(int port, const char *method, const char *path, const char *header) {
    char url[1024];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    CURL *c = curl_easy_init();
    grow g = {calloc(1, 1), 0};
    struct curl_slist *h = curl_slist_append(NULL, header);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_HEADER, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &g);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    h_resp r = {0, NULL, 0};
    if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    r.body = g.p;
    r.len = g.len;
    return r;
}

h_resp h_post(int port, const char *path, const char *token, const char *json) {
    return h_req(port, "POST", path, token, json, strlen(json));
}
h_resp h_get(int port, const char *path, const char *token) { return h_req(port, "GET", path, token, NULL, 0); }
void h_resp_free(h_resp *r) {
    free(r->body);
    r->body = NULL;
}

static json_t *dig(json_t *root, const char *path) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    json_t *v = root;
    for (char *save = NULL, *k = strtok_r(buf, ".", &save); k && v; k = strtok_r(NULL, ".", &save)) v = json_object_get(v, k);
    return v;
}

long long h_json_int(const char *json, const char *path) {
    json_t *root = json_loads(json ? json : "", 0, NULL);
    if (!root) T_FAIL("not JSON: %s", json ? json : "(null)");
    json_t *v = dig(root, path);
    if (!json_is_integer(v)) T_FAIL("no integer at %s in %s", path, json);
    long long x = (long long)json_integer_value(v);
    json_decref(root);
    return x;
}

const char *h_json_str(const char *json, const char *path, char *buf, size_t cap) {
    json_t *root = json_loads(json ? json : "", 0, NULL);
    if (!root) T_FAIL("not JSON: %s", json ? json : "(null)");
    json_t *v = dig(root, path);
    if (!json_is_string(v)) T_FAIL("no string at %s in %s", path, json);
    snprintf(buf, cap, "%s", json_string_value(v));
    json_decref(root);
    return buf;
}
