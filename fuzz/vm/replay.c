/* fuzz_vm_replay: runs the fuzz target's entry point over every file of the checked-in corpus (and any
 * file or directory named on the command line), so that the corpus and every past finding are
 * exercised in each normal and sanitizer build, not only by fuzzing runs. An alarm stops a runaway
 * input (the test then fails with SIGALRM). Fails when no input reached execution, which would mean
 * the corpus or the linking of imports is broken.
 *
 * Usage: fuzz_vm_replay [-v] PATH...  (a PATH is a file or a directory of files) */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_vm.h"

/* Seconds one input may take (the slowest corpus file takes well under a second under ASan). */
#define REPLAY_ALARM_SECONDS 60u
/* Inputs larger than this are not read (the target ignores anything above 64 KiB anyway). */
#define REPLAY_MAX_FILE (1u << 20)

static bool verbose;

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "fuzz_vm_replay: cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    uint8_t *buf = malloc(REPLAY_MAX_FILE + 1);
    if (!buf) {
        fclose(f);
        fprintf(stderr, "fuzz_vm_replay: out of memory\n");
        return -1;
    }
    size_t n = fread(buf, 1, REPLAY_MAX_FILE + 1, f);
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        fprintf(stderr, "fuzz_vm_replay: cannot read %s\n", path);
        return -1;
    }
    if (verbose) {
        printf("%s (%zu bytes)\n", path, n);
        fflush(stdout);
    }
    alarm(REPLAY_ALARM_SECONDS);
    LLVMFuzzerTestOneInput(buf, n);
    alarm(0);
    free(buf);
    return 1;
}

static int not_hidden(const struct dirent *d)
{
    return d->d_name[0] != '.';
}

/* Replays a file or every non-hidden entry of a directory (in name order); returns the number of
 * inputs run, or -1 on an error. */
static long replay_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "fuzz_vm_replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) return replay_file(path);
    struct dirent **list;
    int n = scandir(path, &list, not_hidden, alphasort);
    if (n < 0) {
        fprintf(stderr, "fuzz_vm_replay: cannot list %s: %s\n", path, strerror(errno));
        return -1;
    }
    long count = 0;
    for (int i = 0; i < n; i++) {
        char full[4096];
        if (count >= 0) {
            int len = snprintf(full, sizeof full, "%s/%s", path, list[i]->d_name);
            long r = len > 0 && (size_t)len < sizeof full ? replay_path(full) : -1;
            count = r < 0 ? -1 : count + r;
        }
        free(list[i]);
    }
    free(list);
    return count;
}

int main(int argc, char **argv)
{
    int first = 1;
    if (argc > 1 && strcmp(argv[1], "-v") == 0) {
        verbose = true;
        first = 2;
    }
    if (first >= argc) {
        fprintf(stderr, "usage: %s [-v] PATH...\n", argv[0]);
        return 2;
    }
    long total = 0;
    for (int i = first; i < argc; i++) {
        long r = replay_path(argv[i]);
        if (r < 0) return 2;
        total += r;
    }
    printf("fuzz_vm_replay: %ld inputs, %llu decoded, %llu instantiated, %llu calls, %llu returned "
           "(summed over the runs of each input)\n",
           total, (unsigned long long)fuzz_vm_totals.decoded, (unsigned long long)fuzz_vm_totals.instantiated,
           (unsigned long long)fuzz_vm_totals.calls, (unsigned long long)fuzz_vm_totals.returned);
    if (total == 0) {
        fprintf(stderr, "fuzz_vm_replay: no inputs found\n");
        return 1;
    }
    if (fuzz_vm_totals.returned == 0) {
        fprintf(stderr, "fuzz_vm_replay: no input reached a call that returned; the corpus does not exercise "
                        "execution\n");
        return 1;
    }
    return 0;
}
