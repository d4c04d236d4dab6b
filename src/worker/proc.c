/* Running a child process under limits: rlimits and a user switch between fork and exec (a small
 * wrapper of our own instead of prlimit(1), so nothing of the host's environment leaks in), its
 * output captured into a bounded tail buffer, and a wall-clock kill of its whole process group.
 * Between fork and exec only async-signal-safe calls are made: the worker forks from several
 * threads. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "worker/worker_int.h"

/* After the kill, how long we keep reading for the last bytes of output before giving up on
 * descendants that escaped the process group (the bwrap sandbox kills its own on exit). */
#define WK_DRAIN_AFTER_KILL_MS 2000u
/* How often a running child is checked against wk_proc_abort. */
#define WK_ABORT_CHECK_MS 200

_Atomic int wk_proc_abort;

uint64_t wk_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void wk_sha256(const uint8_t *data, size_t len, uint8_t out[32]) {
    crypto_hash_sha256(out, data, (unsigned long long)len);
}

bool wk_find_exe(const char *name, char *out, size_t cap) {
    if (strchr(name, '/')) {
        if (access(name, X_OK) != 0)
            return false;
        return ol_strlcpy(out, name, cap);
    }
    const char *path = getenv("PATH");
    char buf[4096];
    snprintf(buf, sizeof buf, "%s:/usr/bin:/bin", path ? path : "");
    for (char *save = NULL, *dir = strtok_r(buf, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
        if (!*dir)
            continue;
        char cand[4096];
        if (snprintf(cand, sizeof cand, "%s/%s", dir, name) >= (int)sizeof cand)
            continue;
        struct stat st;
        if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0)
            return ol_strlcpy(out, cand, cap);
    }
    return false;
}

static void set_limit(int res, uint64_t v) {
    if (!v)
        return;
    struct rlimit rl = {.rlim_cur = (rlim_t)v, .rlim_max = (rlim_t)v};
    (void)setrlimit(res, &rl);
}

/* In the child. Writes a short note to fd 2 (now the log pipe) and exits 127 on failure. */
__attribute__((noreturn)) static void child(const char *const *argv, const char *const *envp, const char *cwd,
                                            const wk_proc_limits *lim, int out_fd) {
    static const char m_dup[] = "worker: cannot set up the child's descriptors\n";
    static const char m_uid[] = "worker: cannot switch to the build user\n";
    static const char m_cwd[] = "worker: cannot enter the work directory\n";
    static const char m_exec[] = "worker: cannot execute the program\n";
    setpgid(0, 0);
    int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0) {
        (void)!write(out_fd, m_dup, sizeof m_dup - 1);
        _exit(127);
    }
    for (int s = 1; s < 32; s++)
        signal(s, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    set_limit(RLIMIT_CORE, 0);
    if (lim) {
        set_limit(RLIMIT_AS, lim->as_bytes);
        set_limit(RLIMIT_CPU, lim->cpu_s);
        set_limit(RLIMIT_FSIZE, lim->fsize);
        set_limit(RLIMIT_NPROC, lim->nproc);
        if (lim->uid >= 0 && geteuid() == 0) {
            if (setgroups(0, NULL) != 0 || setgid((gid_t)lim->gid) != 0 || setuid((uid_t)lim->uid) != 0) {
                (void)!write(2, m_uid, sizeof m_uid - 1);
                _exit(127);
            }
        }
    }
    if (cwd && chdir(cwd) != 0) {
        (void)!write(2, m_cwd, sizeof m_cwd - 1);
        _exit(127);
    }
    execve(argv[0], (char *const *)argv, (char *const *)envp);
    (void)!write(2, m_exec, sizeof m_exec - 1);
    _exit(127);
}

/* Appends to the tail buffer (capacity cap, always room for the NUL): drops the oldest half when full. */
static void log_append(wk_proc_result *res, size_t cap, const char *data, size_t n) {
    if (n >= cap) {
        data += n - cap / 2;
        n = cap / 2;
        res->log_len = 0;
        res->log_truncated = true;
    }
    if (res->log_len + n >= cap) {
        size_t drop = res->log_len + n - cap / 2;
        if (drop > res->log_len)
            drop = res->log_len;
        memmove(res->log, res->log + drop, res->log_len - drop);
        res->log_len -= drop;
        res->log_truncated = true;
    }
    memcpy(res->log + res->log_len, data, n);
    res->log_len += n;
    res->log[res->log_len] = 0;
}

int wk_proc_run(const char *const *argv, const char *const *envp, const char *cwd, const wk_proc_limits *lim,
                size_t log_max, wk_proc_result *res, ol_err *err) {
    memset(res, 0, sizeof *res);
    if (log_max < 64)
        log_max = 64;
    res->log = malloc(log_max + 1);
    if (!res->log)
        return ol_err_set(err, 1, "out of memory for a %zu-byte process log", log_max);
    res->log[0] = 0;
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0)
        return ol_err_set(err, 1, "pipe: %s", strerror(errno));
    uint64_t start = wk_now_ms();
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(p[0]);
        close(p[1]);
        return ol_err_set(err, 1, "fork: %s", strerror(e));
    }
    if (pid == 0)
        child(argv, envp, cwd, lim, p[1]);
    close(p[1]);
    setpgid(pid, pid); /* also in the parent: no race with the kill below */
    uint64_t deadline = lim && lim->timeout_ms ? start + lim->timeout_ms : 0;
    uint64_t drain_until = 0;
    bool killed = false;
    for (;;) {
        uint64_t now = wk_now_ms();
        if (deadline && !killed && now >= deadline) {
            kill(-pid, SIGKILL);
            killed = true;
            res->timed_out = true;
            drain_until = now + WK_DRAIN_AFTER_KILL_MS;
        }
        if (!killed && wk_proc_abort) {
            kill(-pid, SIGKILL);
            killed = true;
            drain_until = now + WK_DRAIN_AFTER_KILL_MS;
        }
        if (killed && now >= drain_until)
            break;
        int wait_ms = -1;
        if (killed)
            wait_ms = (int)(drain_until - now);
        else if (deadline)
            wait_ms = (int)(deadline - now);
        if (wait_ms < 0 || wait_ms > WK_ABORT_CHECK_MS)
            wait_ms = WK_ABORT_CHECK_MS;
        struct pollfd pfd = {.fd = p[0], .events = POLLIN};
        int r = poll(&pfd, 1, wait_ms);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            continue;
        char buf[8192];
        ssize_t n = read(p[0], buf, sizeof buf);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            break;
        log_append(res, log_max + 1, buf, (size_t)n);
    }
    close(p[0]);
    int status = 0;
    for (;;) {
        /* The pipe is closed; the child may still be running (it closed its output): wait for it
         * until the deadline, then end its group. */
        pid_t w = waitpid(pid, &status, (killed || !deadline) ? 0 : WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return ol_err_set(err, 1, "waitpid: %s", strerror(errno));
        if (wk_now_ms() >= deadline || wk_proc_abort) {
            kill(-pid, SIGKILL);
            killed = true;
            res->timed_out = true;
            continue;
        }
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    kill(-pid, SIGKILL); /* leftovers of the group, if any */
    res->wall_ms = wk_now_ms() - start;
    if (WIFEXITED(status)) {
        res->exited = true;
        res->exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        res->signal = WTERMSIG(status);
    }
    return 0;
}

void wk_proc_result_free(wk_proc_result *res) {
    free(res->log);
    memset(res, 0, sizeof *res);
}
