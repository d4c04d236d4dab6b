/* The builder: a repository at an exact commit becomes a WebAssembly module. Builds are hostile
 * (DESIGN.md §4), so both the clone and the build run inside bubblewrap as an unprivileged user,
 * with rlimits set before exec and a wall-clock kill; only the clone has the network, and it runs
 * git with hooks disabled and only the allowed transports. The build sees a read-only /usr, a few
 * files of /etc, a private /tmp, no network, an environment of PATH and HOME, and the checkout as its
 * only writable directory. The artifact is read back by us without following symbolic links out of
 * the checkout. */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "worker/worker_int.h"

/* Limits of the artifact search after a build (a checkout is untrusted: bound the walk). */
#define WK_WALK_MAX_DEPTH 12
#define WK_WALK_MAX_ENTRIES 200000u
#define WK_MAX_CANDIDATES 16u
#define WK_MANIFEST_MAX_BYTES (64u << 10) /* outlayer.json */
#define WK_ARGV_MAX 96u

static const char *const status_names[] = {
    "ok",         "bad_source",  "clone_failed", "nothing_to_build", "compile_error",
    "network",    "timeout",     "cpu_limit",    "memory_limit",     "no_artifact",
    "too_big",    "hash_mismatch", "unsupported", "sandbox_unavailable", "internal",
};

const char *worker_build_status_name(worker_build_status s) {
    if ((size_t)s < sizeof status_names / sizeof status_names[0])
        return status_names[s];
    return "unknown";
}

void worker_build_config_default(worker_build_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->allowed_schemes = "https";
    cfg->timeout_s = WORKER_BUILD_TIMEOUT_DEFAULT_S;
    cfg->clone_timeout_s = WORKER_CLONE_TIMEOUT_DEFAULT_S;
    cfg->memory_mb = WORKER_BUILD_MEMORY_DEFAULT_MB;
    cfg->cpu_s = WORKER_BUILD_CPU_DEFAULT_S;
    cfg->nproc = WORKER_BUILD_NPROC_DEFAULT;
    cfg->uid = WORKER_BUILD_UID_DEFAULT;
    cfg->gid = WORKER_BUILD_UID_DEFAULT;
    cfg->work_dir = "";
    cfg->wasm_cc = "";
    cfg->wasi_sysroot = "";
    cfg->fetch_timeout_s = WORKER_FETCH_TIMEOUT_DEFAULT_S;
}

void worker_build_result_free(worker_build_result *res) {
    free(res->wasm);
    free(res->log);
    memset(res, 0, sizeof *res);
}

/* snprintf for paths and messages whose truncation is checked by the caller or harmless. */
static bool fmt(char *dst, size_t cap, const char *f, ...) __attribute__((format(printf, 3, 4)));
static bool fmt(char *dst, size_t cap, const char *f, ...) {
    va_list ap;
    va_start(ap, f);
    int n = vsnprintf(dst, cap, f, ap);
    va_end(ap);
    return n >= 0 && (size_t)n < cap;
}

static int fail(worker_build_result *res, worker_build_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(worker_build_result *res, worker_build_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->message, sizeof res->message, fmt, ap);
    va_end(ap);
    res->status = st;
    return 0;
}

/* Appends a labelled section to the operator's log, keeping the total under cap (tail kept). */
static void log_add(worker_build_result *res, size_t cap, const char *label, const char *text, size_t n) {
    char head[128];
    int hn = snprintf(head, sizeof head, "==== %s ====\n", label);
    if (hn < 0)
        return;
    size_t add = (size_t)hn + n + 1;
    if (add > cap) { /* keep the tail of text */
        text += add - cap;
        n -= add - cap;
        add = cap;
    }
    if (res->log_len + add > cap) {
        size_t drop = res->log_len + add - cap;
        if (drop > res->log_len)
            drop = res->log_len;
        memmove(res->log, res->log + drop, res->log_len - drop);
        res->log_len -= drop;
    }
    char *nb = realloc(res->log, res->log_len + add + 1);
    if (!nb)
        return;
    res->log = nb;
    memcpy(res->log + res->log_len, head, (size_t)hn);
    memcpy(res->log + res->log_len + hn, text, n);
    res->log[res->log_len + hn + n] = '\n';
    res->log_len += add;
    res->log[res->log_len] = 0;
}

/* ---- URL and commit checks ---- */

static bool scheme_allowed(const char *allowed, const char *scheme, size_t slen) {
    const char *p = allowed ? allowed : "";
    while (*p) {
        while (*p == ',' || *p == ' ')
            p++;
        size_t n = strcspn(p, ", ");
        if (n == slen && strncasecmp(p, scheme, n) == 0)
            return true;
        p += n;
    }
    return false;
}

/* Checks url against the allowed schemes; sets *file_path to the directory of a file:// URL. */
static bool check_url(const worker_build_config *cfg, const char *url, char *file_path, size_t cap,
                      worker_build_result *res) {
    file_path[0] = 0;
    size_t len = strlen(url);
    if (len == 0 || len > WORKER_URL_MAX) {
        fail(res, WORKER_BUILD_BAD_SOURCE, "repository URL is empty or over %u bytes", WORKER_URL_MAX);
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c <= 0x20 || c == 0x7f || c == '\\') {
            fail(res, WORKER_BUILD_BAD_SOURCE, "repository URL has a space, control character or backslash at byte %zu", i);
            return false;
        }
    }
    const char *sep = strstr(url, "://");
    if (!sep || sep == url) {
        fail(res, WORKER_BUILD_BAD_SOURCE, "repository URL has no scheme (expected e.g. https://host/owner/repo)");
        return false;
    }
    size_t slen = (size_t)(sep - url);
    for (size_t i = 0; i < slen; i++)
        if (!isalpha((unsigned char)url[i])) {
            fail(res, WORKER_BUILD_BAD_SOURCE, "repository URL has a malformed scheme");
            return false;
        }
    if (!scheme_allowed(cfg->allowed_schemes, url, slen)) {
        fail(res, WORKER_BUILD_BAD_SOURCE, "repository URL scheme '%.*s' is not allowed (allowed: %s)", (int)(slen > 16 ? 16 : slen),
             url, cfg->allowed_schemes && *cfg->allowed_schemes ? cfg->allowed_schemes : "none");
        return false;
    }
    const char *rest = sep + 3;
    if (slen == 4 && strncasecmp(url, "file", 4) == 0) {
        if (rest[0] != '/' || strstr(rest, "/../") || strchr(rest, '%') || strchr(rest, ':')) {
            fail(res, WORKER_BUILD_BAD_SOURCE, "file:// URL must name an absolute path without '..', '%%' or ':'");
            return false;
        }
        if (!ol_strlcpy(file_path, rest, cap)) {
            fail(res, WORKER_BUILD_BAD_SOURCE, "file:// path too long");
            return false;
        }
    } else if (!*rest || *rest == '/' || *rest == '-') {
        fail(res, WORKER_BUILD_BAD_SOURCE, "repository URL has no host");
        return false;
    }
    return true;
}

static bool check_commit(const char *commit, char *out, worker_build_result *res) {
    size_t n = commit ? strlen(commit) : 0;
    if (n != 40 && n != 64) {
        fail(res, WORKER_BUILD_BAD_SOURCE, "commit must be a full 40- or 64-digit hex id (got %zu characters)", n);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!isxdigit((unsigned char)commit[i])) {
            fail(res, WORKER_BUILD_BAD_SOURCE, "commit has a non-hex character at position %zu", i);
            return false;
        }
        out[i] = (char)tolower((unsigned char)commit[i]);
    }
    out[n] = 0;
    return true;
}

/* ---- the sandbox ---- */

typedef struct argvb {
    const char *v[WK_ARGV_MAX + 1];
    size_t n;
    bool overflow;
} argvb;

static void A(argvb *a, const char *s) {
    if (a->n >= WK_ARGV_MAX) {
        a->overflow = true;
        return;
    }
    a->v[a->n++] = s;
    a->v[a->n] = NULL;
}

static void A_bind_try(argvb *a, const char *path, bool rw) {
    if (access(path, F_OK) != 0)
        return;
    A(a, rw ? "--bind" : "--ro-bind");
    A(a, path);
    A(a, path);
}

/* The common part: every namespace unshared, a read-only system, a private /tmp, /proc and /dev. */
static void sandbox_base(argvb *a, const char *bwrap, bool network) {
    A(a, bwrap);
    A(a, "--unshare-all");
    if (network)
        A(a, "--share-net");
    A(a, "--die-with-parent");
    A(a, "--new-session");
    A(a, "--ro-bind");
    A(a, "/usr");
    A(a, "/usr");
    static const char *const top[] = {"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"};
    for (size_t i = 0; i < sizeof top / sizeof top[0]; i++) {
        char target[PATH_MAX];
        ssize_t n = readlink(top[i], target, sizeof target - 1);
        if (n > 0) { /* merged /usr: recreate the symlink */
            target[n] = 0;
            static __thread char keep[6][PATH_MAX];
            memcpy(keep[i], target, (size_t)n + 1);
            A(a, "--symlink");
            A(a, keep[i]);
            A(a, top[i]);
        } else {
            A_bind_try(a, top[i], false);
        }
    }
    static const char *const etc[] = {"/etc/alternatives", "/etc/ld.so.cache", "/etc/ld.so.conf",
                                      "/etc/ld.so.conf.d", "/etc/passwd",       "/etc/group",
                                      "/etc/nsswitch.conf"};
    for (size_t i = 0; i < sizeof etc / sizeof etc[0]; i++)
        A_bind_try(a, etc[i], false);
    if (network) {
        static const char *const net[] = {"/etc/resolv.conf", "/etc/hosts", "/etc/ssl", "/etc/ca-certificates",
                                          "/etc/gai.conf"};
        for (size_t i = 0; i < sizeof net / sizeof net[0]; i++)
            A_bind_try(a, net[i], false);
    }
    A(a, "--proc");
    A(a, "/proc");
    A(a, "--dev");
    A(a, "/dev");
    A(a, "--tmpfs");
    A(a, "/tmp");
}

static void limits_for(const worker_build_config *cfg, unsigned timeout_s, wk_proc_limits *lim) {
    memset(lim, 0, sizeof *lim);
    lim->as_bytes = (uint64_t)cfg->memory_mb << 20;
    lim->cpu_s = cfg->cpu_s;
    lim->nproc = cfg->nproc;
    lim->fsize = WORKER_BUILD_FILE_MAX_BYTES;
    lim->timeout_ms = timeout_s * 1000u;
    lim->uid = geteuid() == 0 ? cfg->uid : -1;
    lim->gid = cfg->gid;
}

static const char *const sandbox_env[] = {NULL};

static pthread_mutex_t probe_mu = PTHREAD_MUTEX_INITIALIZER;
static int probe_done; /* 0 unknown, 1 ok, 2 failed */
static char probe_msg[256];

int worker_sandbox_check(const worker_build_config *cfg, ol_err *err) {
    pthread_mutex_lock(&probe_mu);
    if (!probe_done) {
        char bwrap[PATH_MAX];
        if (!wk_find_exe("bwrap", bwrap, sizeof bwrap)) {
            fmt(probe_msg, sizeof probe_msg,
                     "build sandbox unavailable: bubblewrap (bwrap) is not installed (Debian package bubblewrap)");
            probe_done = 2;
        } else {
            argvb a = {0};
            sandbox_base(&a, bwrap, false);
            A(&a, "--clearenv");
            A(&a, "/bin/true");
            wk_proc_limits lim;
            limits_for(cfg, 10, &lim);
            wk_proc_result pr;
            ol_err e2;
            if (wk_proc_run(a.v, sandbox_env, "/", &lim, 4096, &pr, &e2) != 0) {
                fmt(probe_msg, sizeof probe_msg, "build sandbox unavailable: %s", e2.msg);
                probe_done = 2;
            } else if (!pr.exited || pr.exit_code != 0) {
                char *nl = pr.log ? strchr(pr.log, '\n') : NULL;
                if (nl)
                    *nl = 0;
                fmt(probe_msg, sizeof probe_msg,
                         "build sandbox unavailable: bubblewrap cannot create its namespaces as uid %d here "
                         "(bwrap said: %.160s); refusing to build unsandboxed",
                         lim.uid, pr.log && *pr.log ? pr.log : "nothing");
                probe_done = 2;
            } else {
                probe_done = 1;
            }
            wk_proc_result_free(&pr);
        }
    }
    int ok = probe_done == 1;
    pthread_mutex_unlock(&probe_mu);
    if (ok)
        return 0;
    return ol_err_set(err, 1, "%s", probe_msg);
}

/* ---- work directory ---- */

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    if (remove(path) != 0 && errno != ENOENT)
        return 0; /* keep going; leftovers are reported by the caller's stat */
    return 0;
}

static void rm_tree(const char *dir) {
    if (dir && *dir)
        nftw(dir, rm_cb, 32, FTW_DEPTH | FTW_PHYS);
}


/* ---- what to build ---- */

typedef enum { K_NONE, K_MANIFEST, K_MAKE, K_CMAKE, K_CARGO, K_SOURCES, K_PREBUILT } build_kind;

static bool file_exists(const char *dir, const char *name) {
    char p[PATH_MAX];
    if (!fmt(p, sizeof p, "%s/%s", dir, name))
        return false;
    struct stat st;
    return lstat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static size_t count_top(const char *dir, const char *suffix, char *first, size_t cap) {
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    size_t n = 0, sl = strlen(suffix);
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l > sl && strcmp(e->d_name + l - sl, suffix) == 0 && e->d_type == DT_REG) {
            if (n == 0 && first)
                ol_strlcpy(first, e->d_name, cap);
            n++;
        }
    }
    closedir(d);
    return n;
}

/* A path named by the repository: relative, no "..", no leading '-'. */
static bool safe_rel_path(const char *p) {
    if (!p || !*p || p[0] == '/' || p[0] == '-' || strlen(p) >= 1024)
        return false;
    for (const char *s = p; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == '\\')
            return false;
    const char *s = p;
    while (*s) {
        size_t n = strcspn(s, "/");
        if (n == 2 && s[0] == '.' && s[1] == '.')
            return false;
        s += n;
        if (*s == '/')
            s++;
    }
    return true;
}

/* Reads outlayer.json: {"build": "command", "artifact": "path/to.wasm"} (both optional, at least one). */
static bool read_manifest(const char *dir, char **build_cmd, char *artifact, size_t cap, worker_build_result *res) {
    char p[PATH_MAX];
    fmt(p, sizeof p, "%s/outlayer.json", dir);
    int fd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        fail(res, WORKER_BUILD_BAD_SOURCE, "outlayer.json cannot be opened (a symbolic link?)");
        return false;
    }
    char *buf = malloc(WK_MANIFEST_MAX_BYTES + 1);
    ssize_t n = buf ? read(fd, buf, WK_MANIFEST_MAX_BYTES + 1) : -1;
    close(fd);
    if (n < 0 || (size_t)n > WK_MANIFEST_MAX_BYTES) {
        free(buf);
        fail(res, WORKER_BUILD_BAD_SOURCE, "outlayer.json is unreadable or over %u bytes", WK_MANIFEST_MAX_BYTES);
        return false;
    }
    json_t *obj = NULL;
    ol_err e;
    if (ol_json_parse_object(buf, (size_t)n, &obj, &e) != 0) {
        free(buf);
        fail(res, WORKER_BUILD_BAD_SOURCE, "outlayer.json: %s", e.msg);
        return false;
    }
    free(buf);
    const char *b = NULL, *art = NULL;
    bool ok = ol_json_str(obj, "build", false, 4096, &b, &e) == 0 && ol_json_str(obj, "artifact", false, 1023, &art, &e) == 0;
    if (!ok) {
        fail(res, WORKER_BUILD_BAD_SOURCE, "outlayer.json: %s", e.msg);
    } else if (!b && !art) {
        fail(res, WORKER_BUILD_BAD_SOURCE, "outlayer.json names neither \"build\" nor \"artifact\"");
        ok = false;
    } else if (art && !safe_rel_path(art)) {
        fail(res, WORKER_BUILD_BAD_SOURCE, "outlayer.json: \"artifact\" must be a relative path inside the repository");
        ok = false;
    } else {
        *build_cmd = b ? strdup(b) : NULL;
        ol_strlcpy(artifact, art ? art : "", cap);
    }
    json_decref(obj);
    return ok;
}

/* ---- artifact search ---- */

typedef struct walk {
    char found[WK_MAX_CANDIDATES][512];
    size_t nfound;
    size_t entries;
    struct timespec since;
} walk;

static bool is_object_name(const char *n) {
    size_t l = strlen(n);
    return (l > 2 && strcmp(n + l - 2, ".o") == 0) || (l > 2 && strcmp(n + l - 2, ".a") == 0) ||
           (l > 4 && strcmp(n + l - 4, ".obj") == 0);
}

static void walk_dir(walk *w, const char *root, const char *rel, int depth) {
    if (depth > WK_WALK_MAX_DEPTH)
        return;
    char path[PATH_MAX];
    fmt(path, sizeof path, "%s%s%s", root, *rel ? "/" : "", rel);
    DIR *d = opendir(path);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) && w->entries < WK_WALK_MAX_ENTRIES) {
        w->entries++;
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || !strcmp(e->d_name, ".git"))
            continue;
        char r[512];
        if (!fmt(r, sizeof r, "%s%s%s", rel, *rel ? "/" : "", e->d_name))
            continue;
        char full[PATH_MAX];
        fmt(full, sizeof full, "%s/%s", root, r);
        struct stat st;
        if (lstat(full, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            if (strcmp(e->d_name, "CMakeFiles") && strcmp(e->d_name, "deps") && strcmp(e->d_name, ".fingerprint") &&
                strcmp(e->d_name, "incremental"))
                walk_dir(w, root, r, depth + 1);
            continue;
        }
        bool newer = st.st_mtim.tv_sec > w->since.tv_sec ||
                     (st.st_mtim.tv_sec == w->since.tv_sec && st.st_mtim.tv_nsec > w->since.tv_nsec);
        if (!S_ISREG(st.st_mode) || !newer || is_object_name(e->d_name) || st.st_size < 8)
            continue;
        int fd = open(full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            continue;
        unsigned char magic[4];
        bool wasm = read(fd, magic, 4) == 4 && !memcmp(magic, "\0asm", 4);
        close(fd);
        if (wasm && w->nfound < WK_MAX_CANDIDATES)
            ol_strlcpy(w->found[w->nfound++], r, sizeof w->found[0]);
    }
    closedir(d);
}

/* Reads root/rel into res->wasm without leaving root (symlinks anywhere on the way are refused). */
static void read_artifact(const worker_build_config *cfg, const char *root, const char *rel, worker_build_result *res) {
    char full[PATH_MAX], real[PATH_MAX], realroot[PATH_MAX];
    fmt(full, sizeof full, "%s/%s", root, rel);
    if (!realpath(root, realroot) || !realpath(full, real)) {
        fail(res, WORKER_BUILD_NO_ARTIFACT, "build artifact '%.200s' does not exist", rel);
        return;
    }
    size_t rl = strlen(realroot);
    if (strncmp(real, realroot, rl) != 0 || real[rl] != '/') {
        fail(res, WORKER_BUILD_NO_ARTIFACT, "build artifact '%.200s' points outside the repository", rel);
        return;
    }
    int fd = open(real, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        fail(res, WORKER_BUILD_NO_ARTIFACT, "build artifact '%.200s' is not a regular file", rel);
        return;
    }
    size_t max = cfg->max_module_bytes ? cfg->max_module_bytes : WORKER_MODULE_MAX_BYTES;
    if ((uint64_t)st.st_size > max) {
        close(fd);
        fail(res, WORKER_BUILD_TOO_BIG, "module is %lld bytes, over the %zu-byte limit", (long long)st.st_size, max);
        return;
    }
    size_t len = (size_t)st.st_size;
    uint8_t *buf = malloc(len ? len : 1);
    size_t got = 0;
    while (buf && got < len) {
        ssize_t n = read(fd, buf + got, len - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    if (!buf || got != len) {
        free(buf);
        fail(res, WORKER_BUILD_INTERNAL, "cannot read the build artifact");
        return;
    }
    if (len < 8 || memcmp(buf, "\0asm", 4) != 0) {
        free(buf);
        fail(res, WORKER_BUILD_NO_ARTIFACT, "build artifact '%.200s' is not a WebAssembly module", rel);
        return;
    }
    res->wasm = buf;
    res->wasm_len = len;
    wk_sha256(buf, len, res->sha256);
    ol_hex_encode(res->sha256, 32, res->sha256_hex);
    res->status = WORKER_BUILD_OK;
    res->message[0] = 0;
}

/* ---- classification ---- */

static bool log_has(const char *log, const char *const *pats) {
    if (!log)
        return false;
    for (size_t i = 0; pats[i]; i++)
        if (strcasestr(log, pats[i]))
            return true;
    return false;
}

static const char *const mem_pats[] = {"out of memory", "cannot allocate memory", "memory exhausted",
                                       "std::bad_alloc", "MemoryError", "Out of space", NULL};
static const char *const net_pats[] = {"could not resolve host", "temporary failure in name resolution",
                                       "name or service not known", "network is unreachable",
                                       "could not resolve", "failed to connect to", "unable to access 'http",
                                       "no route to host", "failed to download", "getaddrinfo", NULL};
static const char *const cpu_pats[] = {"cpu time limit exceeded", "cputime limit exceeded", NULL};

static void classify(const worker_build_config *cfg, const char *what, const wk_proc_result *pr, worker_build_result *res) {
    if (pr->timed_out) {
        fail(res, WORKER_BUILD_TIMEOUT, "%s exceeded %u s (wall-clock limit); it was killed", what, cfg->timeout_s);
    } else if ((pr->exited && pr->exit_code == 128 + SIGXCPU) || pr->signal == SIGXCPU || log_has(pr->log, cpu_pats)) {
        fail(res, WORKER_BUILD_CPU, "%s exceeded its CPU time limit (%u s per process); it was killed", what, cfg->cpu_s);
    } else if (log_has(pr->log, mem_pats)) {
        fail(res, WORKER_BUILD_MEMORY, "%s exceeded memory (limit %u MiB per process)", what, cfg->memory_mb);
    } else if (log_has(pr->log, net_pats)) {
        fail(res, WORKER_BUILD_NETWORK, "%s needs the network, which builds do not have (vendor the "
             "dependencies or commit the sources)", what);
    } else if (pr->exited) {
        fail(res, WORKER_BUILD_COMPILE_ERROR, "%s failed: compile error (exit %d); see the build log", what, pr->exit_code);
    } else {
        fail(res, WORKER_BUILD_COMPILE_ERROR, "%s failed: a build process died (signal %d)", what, pr->signal);
    }
}

/* ---- the steps ---- */

static void protocol_flags(const worker_build_config *cfg, argvb *a) {
    static const char *const known[] = {"https", "http", "file", "git", "ssh"};
    static const char *const flags[] = {"protocol.https.allow=always", "protocol.http.allow=always",
                                        "protocol.file.allow=always", "protocol.git.allow=always",
                                        "protocol.ssh.allow=always"};
    for (size_t i = 0; i < 5; i++)
        if (scheme_allowed(cfg->allowed_schemes, known[i], strlen(known[i]))) {
            A(a, "-c");
            A(a, flags[i]);
        }
}

/* The clone script: fetch just the commit (servers allowing it), else every ref; check it out. Its
 * arguments are data ($1 url, $2 commit): nothing from the request is spliced into shell text. */
static const char clone_script[] =
    "set -u\n"
    "g() { git -c core.hooksPath=/dev/null -c protocol.allow=never \"$@\"; }\n"
    "git init -q /src || exit 10\n"
    "cd /src\n"
    "if ! g $GITPROTO fetch -q --depth 1 --no-tags -- \"$1\" \"$2\" 2>/tmp/e1; then\n"
    "  cat /tmp/e1 >&2\n"
    "  g $GITPROTO fetch -q --no-tags -- \"$1\" '+refs/heads/*:refs/remotes/o/*' '+refs/tags/*:refs/tags/*' || exit 10\n"
    "fi\n"
    "git cat-file -e \"$2^{commit}\" 2>/dev/null || exit 11\n"
    "g -c advice.detachedHead=false checkout -q --detach \"$2\" || exit 12\n"
    "test \"$(git rev-parse HEAD)\" = \"$2\" || exit 11\n";

static void do_clone(const worker_build_config *cfg, const char *bwrap, const char *dir, const char *url,
                     const char *file_path, const char *commit, worker_build_result *res, size_t log_cap) {
    argvb a = {0};
    sandbox_base(&a, bwrap, true);
    if (*file_path) {
        A(&a, "--ro-bind");
        A(&a, file_path);
        A(&a, file_path);
    }
    A(&a, "--bind");
    A(&a, dir);
    A(&a, "/src");
    A(&a, "--chdir");
    A(&a, "/src");
    A(&a, "--clearenv");
    A(&a, "--setenv");
    A(&a, "PATH");
    A(&a, "/usr/bin:/bin");
    A(&a, "--setenv");
    A(&a, "HOME");
    A(&a, "/tmp");
    A(&a, "--setenv");
    A(&a, "GIT_CONFIG_NOSYSTEM");
    A(&a, "1");
    A(&a, "--setenv");
    A(&a, "GIT_TERMINAL_PROMPT");
    A(&a, "0");
    /* Protocol allow-list as git -c flags, passed through $GITPROTO (word-split on purpose). */
    argvb pf = {0};
    protocol_flags(cfg, &pf);
    char gp[256] = "";
    for (size_t i = 0; i < pf.n; i++) {
        size_t l = strlen(gp);
        fmt(gp + l, sizeof gp - l, "%s%s", l ? " " : "", pf.v[i]);
    }
    A(&a, "--setenv");
    A(&a, "GITPROTO");
    A(&a, gp);
    A(&a, "/bin/sh");
    A(&a, "-c");
    A(&a, clone_script);
    A(&a, "sh");
    A(&a, url);
    A(&a, commit);
    wk_proc_limits lim;
    limits_for(cfg, cfg->clone_timeout_s, &lim);
    if (lim.as_bytes && lim.as_bytes < (1ull << 30))
        lim.as_bytes = 1ull << 30; /* git's own needs, independent of the build's memory cap */
    lim.cpu_s = 0;
    /* The process limit counts every process of the build user, concurrent builds included: the clone
     * (git and its helpers) gets the default, whatever the build's own limit. */
    if (lim.nproc < WORKER_BUILD_NPROC_DEFAULT)
        lim.nproc = WORKER_BUILD_NPROC_DEFAULT;
    wk_proc_result pr;
    ol_err e;
    if (a.overflow || wk_proc_run(a.v, sandbox_env, "/", &lim, log_cap, &pr, &e) != 0) {
        fail(res, WORKER_BUILD_INTERNAL, "cannot start the clone: %s", a.overflow ? "too many arguments" : e.msg);
        return;
    }
    log_add(res, log_cap, "clone", pr.log, pr.log_len);
    if (pr.timed_out)
        fail(res, WORKER_BUILD_CLONE_FAILED, "clone exceeded %u s; it was killed", cfg->clone_timeout_s);
    else if (pr.exited && pr.exit_code == 0)
        res->status = WORKER_BUILD_OK;
    else if (pr.exited && pr.exit_code == 11)
        fail(res, WORKER_BUILD_CLONE_FAILED, "commit %s is not in the repository", commit);
    else
        fail(res, WORKER_BUILD_CLONE_FAILED, "clone failed: repository not found or not reachable (exit %d)",
             pr.exited ? pr.exit_code : 128 + pr.signal);
    wk_proc_result_free(&pr);
}

static const char *wasm_cc(const worker_build_config *cfg, char *out, size_t cap) {
    if (cfg->wasm_cc && *cfg->wasm_cc) {
        if (wk_find_exe(cfg->wasm_cc, out, cap))
            return out;
        return NULL;
    }
    if (wk_find_exe("clang-14", out, cap) || wk_find_exe("clang", out, cap))
        return out;
    return NULL;
}

/* Rust: only when rustc has a wasm32 WASI target installed. Returns the target name or NULL. */
static const char *rust_target(char *sysroot, size_t cap) {
    char rustc[PATH_MAX];
    if (!wk_find_exe("rustc", rustc, sizeof rustc))
        return NULL;
    const char *argv[] = {rustc, "--print", "sysroot", NULL};
    const char *env[] = {NULL};
    wk_proc_limits lim = {.timeout_ms = 10000, .uid = -1, .gid = -1};
    wk_proc_result pr;
    ol_err e;
    if (wk_proc_run(argv, env, "/", &lim, 4096, &pr, &e) != 0)
        return NULL;
    const char *found = NULL;
    if (pr.exited && pr.exit_code == 0 && pr.log_len) {
        pr.log[strcspn(pr.log, "\n")] = 0;
        ol_strlcpy(sysroot, pr.log, cap);
        static const char *const targets[] = {"wasm32-wasip1", "wasm32-wasi"};
        for (size_t i = 0; i < 2 && !found; i++) {
            char p[PATH_MAX];
            fmt(p, sizeof p, "%s/lib/rustlib/%s", sysroot, targets[i]);
            if (access(p, F_OK) == 0)
                found = targets[i];
        }
    }
    wk_proc_result_free(&pr);
    return found;
}

int worker_build_git(const worker_build_config *cfg, const char *repo_url, const char *commit,
                     const char *build_target, worker_build_result *res, ol_err *err) {
    memset(res, 0, sizeof *res);
    res->status = WORKER_BUILD_INTERNAL;
    uint64_t t0 = wk_now_ms();
    size_t log_cap = cfg->max_log_bytes ? cfg->max_log_bytes : WORKER_BUILD_LOG_MAX_BYTES;
    char file_path[PATH_MAX], commit_lc[WORKER_COMMIT_MAX + 1];
    if (!check_url(cfg, repo_url ? repo_url : "", file_path, sizeof file_path, res) || !check_commit(commit, commit_lc, res))
        return 0;
    if (build_target && *build_target && strcmp(build_target, "wasm32-wasi") && strcmp(build_target, "wasm32-wasip1"))
        return fail(res, WORKER_BUILD_BAD_SOURCE, "build target '%.64s' is not supported (wasm32-wasi, wasm32-wasip1)",
                    build_target);
    if (cfg->timeout_s == 0 || cfg->timeout_s > WORKER_BUILD_TIMEOUT_MAX_S)
        return ol_err_set(err, 1, "build timeout %u s is outside 1..%u (WORKER_BUILD_TIMEOUT_MAX_S)", cfg->timeout_s,
                          WORKER_BUILD_TIMEOUT_MAX_S);
    ol_strlcpy(res->commit, commit_lc, sizeof res->commit);
    ol_err e;
    if (worker_sandbox_check(cfg, &e) != 0)
        return fail(res, WORKER_BUILD_SANDBOX, "%s", e.msg);
    char bwrap[PATH_MAX];
    wk_find_exe("bwrap", bwrap, sizeof bwrap);

    const char *base = cfg->work_dir && *cfg->work_dir ? cfg->work_dir : getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    char dir[PATH_MAX];
    if (snprintf(dir, sizeof dir, "%s/outlayer-build-XXXXXX", base) >= (int)sizeof dir || !mkdtemp(dir))
        return ol_err_set(err, 1, "cannot create a build directory under %s: %s", base, strerror(errno));
    bool root = geteuid() == 0;
    if (root && chown(dir, (uid_t)cfg->uid, (gid_t)cfg->gid) != 0) {
        int er = errno;
        rm_tree(dir);
        return ol_err_set(err, 1, "cannot hand the build directory to uid %d: %s", cfg->uid, strerror(er));
    }

    do_clone(cfg, bwrap, dir, repo_url, file_path, commit_lc, res, log_cap);
    if (res->status != WORKER_BUILD_OK)
        goto done;
    res->status = WORKER_BUILD_INTERNAL;

    /* What kind of repository is it? */
    char *manifest_cmd = NULL, artifact[1024] = "", first[256] = "";
    build_kind kind = K_NONE;
    struct stat mst;
    char mpath[PATH_MAX];
    fmt(mpath, sizeof mpath, "%s/outlayer.json", dir);
    if (lstat(mpath, &mst) == 0) {
        if (!read_manifest(dir, &manifest_cmd, artifact, sizeof artifact, res))
            goto done;
        kind = manifest_cmd ? K_MANIFEST : K_PREBUILT;
    } else if (file_exists(dir, "Makefile") || file_exists(dir, "makefile") || file_exists(dir, "GNUmakefile")) {
        kind = K_MAKE;
    } else if (file_exists(dir, "CMakeLists.txt")) {
        kind = K_CMAKE;
    } else if (file_exists(dir, "Cargo.toml")) {
        kind = K_CARGO;
    } else if (count_top(dir, ".c", NULL, 0) > 0) {
        kind = K_SOURCES;
    } else if (count_top(dir, ".wasm", first, sizeof first) == 1) {
        kind = K_PREBUILT;
        ol_strlcpy(artifact, first, sizeof artifact);
    } else {
        fail(res, WORKER_BUILD_NOTHING,
             "nothing to build: no outlayer.json, Makefile, CMakeLists.txt, Cargo.toml, top-level .c files or single .wasm");
        goto done;
    }
    static const char *const kind_names[] = {"", "manifest", "make", "cmake", "cargo", "sources", "prebuilt"};
    ol_strlcpy(res->kind, kind_names[kind], sizeof res->kind);

    if (kind != K_PREBUILT) {
        char cc[PATH_MAX], ccflags[PATH_MAX + 64], sysroot[PATH_MAX] = "", rsys[PATH_MAX] = "";
        const char *rtarget = NULL;
        if (!wasm_cc(cfg, cc, sizeof cc)) {
            fail(res, WORKER_BUILD_UNSUPPORTED, "no clang able to target wasm32-wasi is installed on this worker");
            goto done_m;
        }
        if (cfg->wasi_sysroot && *cfg->wasi_sysroot)
            fmt(sysroot, sizeof sysroot, " --sysroot=%s", cfg->wasi_sysroot);
        fmt(ccflags, sizeof ccflags, "%s --target=wasm32-wasi%s", cc, sysroot);
        if (kind == K_CARGO && !(rtarget = rust_target(rsys, sizeof rsys))) {
            fail(res, WORKER_BUILD_UNSUPPORTED,
                 "Rust builds need a wasm32 WASI target (wasm32-wasip1) installed for rustc on the worker; none is");
            goto done_m;
        }
        argvb a = {0};
        sandbox_base(&a, bwrap, false);
        if (kind == K_CARGO)
            A_bind_try(&a, rsys, false);
        A(&a, "--bind");
        A(&a, dir);
        A(&a, "/src");
        A(&a, "--chdir");
        A(&a, "/src");
        A(&a, "--clearenv");
        A(&a, "--setenv");
        A(&a, "PATH");
        A(&a, "/usr/bin:/bin");
        A(&a, "--setenv");
        A(&a, "HOME");
        A(&a, "/tmp");
        char ccvar[PATH_MAX + 80], arvar[PATH_MAX + 8], cmake_cc[PATH_MAX + 40], cargo[PATH_MAX + 16],
            rustc[PATH_MAX + 16], jobs[16];
        fmt(jobs, sizeof jobs, "-j%ld", sysconf(_SC_NPROCESSORS_ONLN) > 0 ? sysconf(_SC_NPROCESSORS_ONLN) : 1);
        switch (kind) {
        case K_MANIFEST:
            A(&a, "/bin/sh");
            A(&a, "-c");
            A(&a, manifest_cmd);
            break;
        case K_MAKE: {
            char ar[PATH_MAX] = "ar";
            (void)(wk_find_exe("llvm-ar-14", ar, sizeof ar) || wk_find_exe("llvm-ar", ar, sizeof ar));
            fmt(ccvar, sizeof ccvar, "CC=%s", ccflags);
            fmt(arvar, sizeof arvar, "AR=%s", ar);
            A(&a, "/usr/bin/make");
            A(&a, jobs);
            A(&a, ccvar);
            A(&a, arvar);
            break;
        }
        case K_CMAKE: {
            char ar[PATH_MAX] = "", ranlib[PATH_MAX] = "";
            (void)(wk_find_exe("llvm-ar-14", ar, sizeof ar) || wk_find_exe("llvm-ar", ar, sizeof ar));
            (void)(wk_find_exe("llvm-ranlib-14", ranlib, sizeof ranlib) || wk_find_exe("llvm-ranlib", ranlib, sizeof ranlib));
            fmt(cmake_cc, sizeof cmake_cc, "%s", cc);
            static __thread char script[2 * PATH_MAX + 1024];
            fmt(script, sizeof script,
                     "cmake -S . -B _outlayer_build -DCMAKE_SYSTEM_NAME=Generic -DCMAKE_C_COMPILER=\"$1\" "
                     "-DCMAKE_CXX_COMPILER=\"$1\" -DCMAKE_C_COMPILER_TARGET=wasm32-wasi -DCMAKE_CXX_COMPILER_TARGET=wasm32-wasi "
                     "-DCMAKE_EXECUTABLE_SUFFIX_C=.wasm -DCMAKE_EXECUTABLE_SUFFIX_CXX=.wasm -DCMAKE_BUILD_TYPE=Release "
                     "%s%s%s%s%s && cmake --build _outlayer_build -- %s",
                     *sysroot ? "-DCMAKE_SYSROOT=\"$2\" " : "", *ar ? "-DCMAKE_AR=" : "", ar, *ranlib ? " -DCMAKE_RANLIB=" : "",
                     ranlib, jobs);
            A(&a, "/bin/sh");
            A(&a, "-c");
            A(&a, script);
            A(&a, "sh");
            A(&a, cmake_cc);
            A(&a, cfg->wasi_sysroot ? cfg->wasi_sysroot : "");
            break;
        }
        case K_CARGO:
            fmt(cargo, sizeof cargo, "%s/bin/cargo", rsys);
            fmt(rustc, sizeof rustc, "%s/bin/rustc", rsys);
            A(&a, "--setenv");
            A(&a, "RUSTC");
            A(&a, rustc);
            A(&a, "--setenv");
            A(&a, "CARGO_HOME");
            A(&a, "/tmp/cargo");
            A(&a, cargo);
            A(&a, "build");
            A(&a, "--release");
            A(&a, "--offline");
            A(&a, "--target");
            A(&a, rtarget);
            break;
        case K_SOURCES:
            A(&a, "/bin/sh");
            A(&a, "-c");
            A(&a, "mkdir -p .outlayer && exec \"$1\" --target=wasm32-wasi -O2 -I. -Iinclude -o .outlayer/out.wasm ./*.c");
            A(&a, "sh");
            A(&a, cc);
            break;
        default:
            break;
        }
        wk_proc_limits lim;
        limits_for(cfg, cfg->timeout_s, &lim);
        wk_proc_result pr;
        /* The build's output is what is newer than this instant. File times come from the coarse
         * clock: everything the clone wrote is at or before it, and after a pause of a few ticks
         * everything the build writes is after it. */
        struct timespec since;
        clock_gettime(CLOCK_REALTIME_COARSE, &since);
        struct timespec pause = {0, 30 * 1000 * 1000};
        nanosleep(&pause, NULL);
        if (a.overflow || wk_proc_run(a.v, sandbox_env, "/", &lim, log_cap, &pr, &e) != 0) {
            fail(res, WORKER_BUILD_INTERNAL, "cannot start the build: %s", a.overflow ? "too many arguments" : e.msg);
            goto done_m;
        }
        log_add(res, log_cap, "build", pr.log, pr.log_len);
        bool ok = pr.exited && pr.exit_code == 0 && !pr.timed_out;
        if (!ok)
            classify(cfg, "build", &pr, res);
        wk_proc_result_free(&pr);
        if (!ok)
            goto done_m;
        if (!*artifact) {
            walk w = {.since = since};
            walk_dir(&w, dir, "", 0);
            if (w.nfound == 0) {
                fail(res, WORKER_BUILD_NO_ARTIFACT, "the build succeeded but produced no WebAssembly module");
                goto done_m;
            }
            if (w.nfound > 1) {
                fail(res, WORKER_BUILD_NO_ARTIFACT,
                     "the build produced %zu%s modules (%.60s, %.60s, ...); name one as \"artifact\" in outlayer.json",
                     w.nfound, w.nfound == WK_MAX_CANDIDATES ? "+" : "", w.found[0], w.found[1]);
                goto done_m;
            }
            ol_strlcpy(artifact, w.found[0], sizeof artifact);
        }
    }
    read_artifact(cfg, dir, artifact, res);
done_m:
    free(manifest_cmd);
done:
    rm_tree(dir);
    res->build_ms = wk_now_ms() - t0;
    if (res->status != WORKER_BUILD_OK && res->wasm) {
        free(res->wasm);
        res->wasm = NULL;
        res->wasm_len = 0;
    }
    return 0;
}
