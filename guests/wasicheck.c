/* wasicheck: exercises the WASI surface a program sees and prints one line per check, so tests can
 * compare it with what the host promised: args, environment, clocks, random bytes, stdio fdstat,
 * the path functions without preopens (or reading a file under a preopened directory), sleeping
 * with poll_oneoff, sched_yield and sockets. Input: an optional file name to read from the preopened
 * directory (default: none), or "ls:DIR" to list a directory there. */
#include "outlayer.h"
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <time.h>
#include <wasi/api.h>

static void hex(const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++) printf("%02x", b[i]);
}

int main(int argc, char **argv)
{
    char *in = outlayer_read_input(NULL);
    printf("argc %d\n", argc);
    for (int i = 0; i < argc; i++) printf("argv[%d] %s\n", i, argv[i]);
    extern char **environ;
    int nenv = 0;
    for (char **e = environ; e && *e; e++) printf("env %s\n", *e), nenv++;
    printf("envc %d\n", nenv);

    __wasi_timestamp_t rt = 0, mono1 = 0, mono2 = 0, res = 0;
    int e1 = __wasi_clock_time_get(__WASI_CLOCKID_REALTIME, 1, &rt);
    int e2 = __wasi_clock_res_get(__WASI_CLOCKID_MONOTONIC, &res);
    int e3 = __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &mono1);
    printf("clock_errnos %d %d %d\n", e1, e2, e3);
    printf("realtime %llu\n", (unsigned long long)rt);
    printf("clock_res %llu\n", (unsigned long long)res);
    printf("bad_clock %d\n", __wasi_clock_time_get(99, 1, &rt));

    uint8_t rnd[16];
    printf("random_get %d ", __wasi_random_get(rnd, sizeof rnd));
    hex(rnd, sizeof rnd);
    printf("\n");

    for (int fd = 0; fd < 4; fd++) {
        __wasi_fdstat_t st;
        __wasi_errno_t e = __wasi_fd_fdstat_get(fd, &st);
        printf("fdstat %d errno %d type %d\n", fd, e, e ? -1 : st.fs_filetype);
    }

    errno = 0;
    int f = open("/etc/passwd", O_RDONLY);
    printf("open_abs %d errno %d\n", f, f < 0 ? errno : 0);
    errno = 0;
    f = open("data.txt", O_RDONLY);
    printf("open_rel %d errno %d\n", f, f < 0 ? errno : 0);
    if (f >= 0) close(f);
    printf("sock_accept %d\n", __wasi_sock_accept(3, 0, &(__wasi_fd_t){0}));
    printf("sched_yield %d\n", __wasi_sched_yield());

    struct pollfd pfd = {.fd = 0, .events = POLLIN};
    int pr = poll(&pfd, 1, 1000); /* stdin is in memory: ready at once */
    printf("poll_stdin %d revents %d\n", pr, pfd.revents);

    struct timespec ts = {0, 5 * 1000 * 1000}; /* 5 ms through poll_oneoff */
    nanosleep(&ts, NULL);
    if (__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &mono2) != 0) mono2 = 0;
    printf("slept_ns_at_least_5ms %d\n", mono2 - mono1 >= 5000000ull);

    if (strncmp(in, "ls:", 3) == 0) {
        char *d = in + 3;
        size_t l = strlen(d);
        while (l && (d[l - 1] == '\n' || d[l - 1] == ' ')) d[--l] = 0;
        DIR *dp = opendir(d);
        if (!dp) {
            printf("ls %s errno %d\n", d, errno);
        } else {
            struct dirent *de;
            while ((de = readdir(dp)) != NULL) printf("entry %s type %d\n", de->d_name, de->d_type);
            closedir(dp);
        }
    } else if (in[0]) {
        char path[256];
        snprintf(path, sizeof path, "%s", in);
        size_t l = strlen(path);
        while (l && (path[l - 1] == '\n' || path[l - 1] == ' ')) path[--l] = 0;
        FILE *fp = fopen(path, "r");
        if (!fp) {
            printf("read %s errno %d\n", path, errno);
        } else {
            char buf[256];
            size_t n = fread(buf, 1, sizeof buf - 1, fp);
            buf[n] = 0;
            printf("read %s ok %zu %s\n", path, n, buf);
            FILE *w = fopen(path, "w");
            printf("write_open %s errno %d\n", path, w ? 0 : errno);
            fclose(fp);
        }
    }
    fflush(stdout);
    free(in);
    return 0;
}
