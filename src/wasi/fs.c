/* The one read-only preopened directory. Paths are resolved beneath it by the kernel
 * (openat2 with RESOLVE_BENEATH: no absolute paths, no ".." above the root, no symlink leading
 * out); where openat2 is missing, component by component with O_NOFOLLOW and without "..". Only
 * regular files and directories are opened (a FIFO or device could block the host thread beyond
 * the reach of the wall-clock limit). Nothing here writes to the file system. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "wasi/wasi_int.h"

int wasi__errno_from_host(int e)
{
    switch (e) {
    case ENOENT: return WE_NOENT;
    case EACCES: return WE_ACCES;
    case EPERM: return WE_PERM;
    case ENOTDIR: return WE_NOTDIR;
    case EISDIR: return WE_ISDIR;
    case ELOOP: return WE_LOOP;
    case EXDEV: return WE_NOTCAPABLE; /* RESOLVE_BENEATH refused to leave the directory */
    case ENAMETOOLONG: return WE_NAMETOOLONG;
    case EMFILE:
    case ENFILE: return WE_MFILE;
    case ENOMEM: return WE_NOMEM;
    case EINVAL: return WE_INVAL;
    case EBADF: return WE_BADF;
    case EAGAIN: return WE_AGAIN;
    case EEXIST: return WE_EXIST;
    case ENOTEMPTY: return WE_NOTEMPTY;
    case EROFS: return WE_ROFS;
    case ESPIPE: return WE_SPIPE;
    case EOVERFLOW: return WE_OVERFLOW;
    default: return WE_IO;
    }
}

/* Fallback resolver: walks path below dir one component at a time, never following a symlink and
 * refusing "..". Returns a host fd or -1 with errno set. */
static int open_walk(int dir, const char *path, int flags)
{
    if (path[0] == '/') {
        errno = EXDEV;
        return -1;
    }
    char buf[WASI_MAX_PATH_BYTES];
    ol_strlcpy(buf, path, sizeof buf);
    int cur = dup(dir);
    if (cur < 0) return -1;
    char *save = NULL, *comp = strtok_r(buf, "/", &save);
    if (!comp) { /* "" is ENOENT, as openat gives */
        close(cur);
        errno = ENOENT;
        return -1;
    }
    while (comp) {
        char *next = strtok_r(NULL, "/", &save);
        if (strcmp(comp, "..") == 0) {
            close(cur);
            errno = EXDEV;
            return -1;
        }
        int f = next ? O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC : flags | O_NOFOLLOW;
        int nfd = openat(cur, comp, f);
        int saved = errno;
        close(cur);
        if (nfd < 0) {
            errno = saved;
            return -1;
        }
        cur = nfd;
        comp = next;
    }
    return cur;
}

/* Opens path beneath the directory descriptor dirfd with flags; a host fd or -1 with errno. */
static int open_beneath(wasi_ctx *ctx, uint32_t dirfd, const char *path, int flags)
{
    int dir = ctx->fds[dirfd].host;
#ifdef SYS_openat2
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (uint64_t)(flags | O_CLOEXEC);
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    long r = syscall(SYS_openat2, dir, path, &how, sizeof how);
    if (r >= 0 || (errno != ENOSYS && errno != EPERM)) return (int)r;
#endif
    /* Without openat2 no symlink is followed, not even a final one: safe rather than complete. */
    return open_walk(dir, path, flags | O_CLOEXEC);
}

static int alloc_fd(wasi_ctx *ctx)
{
    for (int i = 3; i < (int)WASI_MAX_FDS; i++)
        if (ctx->fds[i].kind == FD_NONE) return i;
    return -1;
}

static void fill_filestat(const struct stat *st, uint8_t out[64])
{
    memset(out, 0, 64);
    wasi__put64(out + 0, (uint64_t)st->st_dev);
    wasi__put64(out + 8, (uint64_t)st->st_ino);
    uint8_t t = WFT_UNKNOWN;
    if (S_ISREG(st->st_mode)) t = WFT_REGULAR;
    else if (S_ISDIR(st->st_mode)) t = WFT_DIR;
    else if (S_ISLNK(st->st_mode)) t = WFT_SYMLINK;
    else if (S_ISCHR(st->st_mode)) t = WFT_CHAR;
    else if (S_ISBLK(st->st_mode)) t = WFT_BLOCK;
    else if (S_ISSOCK(st->st_mode)) t = WFT_SOCK_STREAM;
    out[16] = t;
    wasi__put64(out + 24, (uint64_t)st->st_nlink);
    wasi__put64(out + 32, (uint64_t)st->st_size);
    wasi__put64(out + 40, (uint64_t)st->st_atim.tv_sec * 1000000000ull + (uint64_t)st->st_atim.tv_nsec);
    wasi__put64(out + 48, (uint64_t)st->st_mtim.tv_sec * 1000000000ull + (uint64_t)st->st_mtim.tv_nsec);
    wasi__put64(out + 56, (uint64_t)st->st_ctim.tv_sec * 1000000000ull + (uint64_t)st->st_ctim.tv_nsec);
}

#define O_CREAT_W 1u
#define O_DIRECTORY_W 2u
#define O_EXCL_W 4u
#define O_TRUNC_W 8u

/* Rights a read-only file or directory can carry. */
#define FILE_RIGHTS (WR_FD_READ | WR_FD_SEEK | WR_FD_TELL | WR_FD_ADVISE | WR_FD_FILESTAT_GET | WR_POLL_FD_READWRITE | WR_FD_SYNC | WR_FD_DATASYNC)
#define DIR_RIGHTS (WR_PATH_OPEN | WR_FD_READDIR | WR_PATH_READLINK | WR_PATH_FILESTAT_GET | WR_FD_FILESTAT_GET | WR_FD_SYNC | WR_FD_DATASYNC)

int wasi__path_open(wasi_ctx *ctx, uint32_t dirfd, uint32_t dirflags, const char *path, uint32_t oflags,
                    uint64_t rights, uint64_t inheriting, uint32_t fdflags, uint32_t *out_fd)
{
    if (oflags & (O_CREAT_W | O_EXCL_W | O_TRUNC_W)) return WE_ROFS;
    if (rights & WR_FD_WRITE) return WE_ROFS;
    if (fdflags & 1u) return WE_ROFS; /* APPEND */
    int slot = alloc_fd(ctx);
    if (slot < 0) return WE_MFILE;
    int flags = O_RDONLY | O_NOCTTY | O_NONBLOCK;
    if (oflags & O_DIRECTORY_W) flags |= O_DIRECTORY;
    if (!(dirflags & 1u)) flags |= O_NOFOLLOW;
    int h = open_beneath(ctx, dirfd, path, flags);
    if (h < 0) return wasi__errno_from_host(errno);
    struct stat st;
    if (fstat(h, &st) != 0 || !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))) {
        close(h);
        return WE_ACCES; /* only regular files and directories */
    }
    /* Back to blocking reads on regular files (O_NONBLOCK has no effect on them anyway). */
    fcntl(h, F_SETFL, fcntl(h, F_GETFL) & ~O_NONBLOCK);
    wasi_fd *f = &ctx->fds[slot];
    f->host = h;
    if (S_ISDIR(st.st_mode)) {
        f->kind = FD_DIR;
        f->rights = rights & DIR_RIGHTS;
        f->inheriting = inheriting & (FILE_RIGHTS | DIR_RIGHTS);
    } else {
        f->kind = FD_FILE;
        f->rights = rights & FILE_RIGHTS;
        f->inheriting = 0;
    }
    *out_fd = (uint32_t)slot;
    return WE_SUCCESS;
}

int wasi__path_filestat(wasi_ctx *ctx, uint32_t dirfd, uint32_t flags, const char *path, uint8_t out[64])
{
    int h = open_beneath(ctx, dirfd, path, O_PATH | ((flags & 1u) ? 0 : O_NOFOLLOW));
    if (h < 0) return wasi__errno_from_host(errno);
    struct stat st;
    int r = fstat(h, &st), e = errno;
    close(h);
    if (r != 0) return wasi__errno_from_host(e);
    fill_filestat(&st, out);
    return WE_SUCCESS;
}

int wasi__path_readlink(wasi_ctx *ctx, uint32_t dirfd, const char *path, char *buf, size_t cap, size_t *out_len)
{
    int h = open_beneath(ctx, dirfd, path, O_PATH | O_NOFOLLOW);
    if (h < 0) return wasi__errno_from_host(errno);
    ssize_t n = readlinkat(h, "", buf, cap);
    int e = errno;
    close(h);
    if (n < 0) return e == ENOENT ? WE_INVAL : wasi__errno_from_host(e);
    *out_len = (size_t)n;
    return WE_SUCCESS;
}

int wasi__fd_filestat(wasi_ctx *ctx, uint32_t fd, uint8_t out[64])
{
    struct stat st;
    if (fstat(ctx->fds[fd].host, &st) != 0) return wasi__errno_from_host(errno);
    fill_filestat(&st, out);
    return WE_SUCCESS;
}

typedef struct dent {
    char *name;
    uint64_t ino;
    uint8_t type;
} dent;

static int dent_cmp(const void *a, const void *b) { return strcmp(((const dent *)a)->name, ((const dent *)b)->name); }

/* Lists the directory in name order (so that listings are reproducible), emits entries from index
 * cookie on. The last entry may be cut short, which tells the caller the buffer was too small. */
int wasi__readdir(wasi_ctx *ctx, uint32_t fd, uint8_t *buf, size_t cap, uint64_t cookie, size_t *used)
{
    int d = openat(ctx->fds[fd].host, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d < 0) return wasi__errno_from_host(errno);
    DIR *dp = fdopendir(d);
    if (!dp) {
        close(d);
        return WE_NOMEM;
    }
    dent *ents = NULL;
    size_t n = 0, ncap = 0;
    int rc = WE_SUCCESS;
    struct dirent *de;
    while ((de = readdir(dp)) != NULL) {
        if (n == WASI_MAX_DIR_ENTRIES) {
            rc = WE_NOMEM; /* more entries than WASI_MAX_DIR_ENTRIES */
            goto done;
        }
        if (n == ncap) {
            size_t nc = ncap ? ncap * 2 : 32;
            dent *ne = realloc(ents, nc * sizeof *ents);
            if (!ne) {
                rc = WE_NOMEM;
                goto done;
            }
            ents = ne;
            ncap = nc;
        }
        ents[n].name = strdup(de->d_name);
        if (!ents[n].name) {
            rc = WE_NOMEM;
            goto done;
        }
        ents[n].ino = de->d_ino;
        uint8_t t = WFT_UNKNOWN;
        if (de->d_type == DT_REG) t = WFT_REGULAR;
        else if (de->d_type == DT_DIR) t = WFT_DIR;
        else if (de->d_type == DT_LNK) t = WFT_SYMLINK;
        else if (de->d_type == DT_CHR) t = WFT_CHAR;
        else if (de->d_type == DT_BLK) t = WFT_BLOCK;
        else if (de->d_type == DT_SOCK) t = WFT_SOCK_STREAM;
        ents[n].type = t;
        n++;
    }
    qsort(ents, n, sizeof *ents, dent_cmp);
    size_t off = 0;
    for (uint64_t i = cookie; i < n && off < cap; i++) {
        uint8_t hdr[24];
        size_t nl = strlen(ents[i].name);
        memset(hdr, 0, sizeof hdr);
        wasi__put64(hdr, i + 1);
        wasi__put64(hdr + 8, ents[i].ino);
        wasi__put32(hdr + 16, (uint32_t)nl);
        hdr[20] = ents[i].type;
        size_t k = cap - off < 24 ? cap - off : 24;
        memcpy(buf + off, hdr, k);
        off += k;
        k = cap - off < nl ? cap - off : nl;
        memcpy(buf + off, ents[i].name, k);
        off += k;
    }
    *used = off;
done:
    for (size_t i = 0; i < n; i++) free(ents[i].name);
    free(ents);
    closedir(dp);
    return rc;
}
