/* Module cache: files <dir>/<sha256>.wasm named by the sha256 of their bytes, metadata rows in the
 * store (size, last use). Bytes are verified on upload and on every read; a file that no longer
 * matches its name is deleted with its row and reported missing, so a worker rebuilds instead of
 * running something else. Writes go to a temporary file renamed into place (no partial module is
 * ever visible). After an upload, least recently used modules are evicted until the total is under
 * the byte budget. */
#include "coordinator/coordinator_int.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct co_cache {
    co_db *db;
    char dir[1024];
    long long budget;
    pthread_mutex_t evict_mu;
};

bool co_is_sha256_hex(const char *s) {
    size_t n = 0;
    for (; s[n]; n++)
        if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f'))) return false;
    return n == 64;
}

static int mkdirs(const char *path, ol_err *err) {
    char tmp[1024];
    if (!ol_strlcpy(tmp, path, sizeof tmp)) return ol_err_set(err, CO_ERR_IO, "path too long: %.100s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(tmp, 0700) != 0 && errno != EEXIST) return ol_err_set(err, CO_ERR_IO, "mkdir %s: %s", tmp, strerror(errno));
        *p = '/';
    }
    if (mkdir(tmp, 0700) != 0 && errno != EEXIST) return ol_err_set(err, CO_ERR_IO, "mkdir %s: %s", tmp, strerror(errno));
    return 0;
}

int co_cache_open(co_db *db, const char *dir, long long budget_bytes, co_cache **out, ol_err *err) {
    *out = NULL;
    int rc = mkdirs(dir, err);
    if (rc) return rc;
    co_cache *c = calloc(1, sizeof *c);
    if (!c) return ol_err_set(err, CO_ERR_IO, "cache: out of memory");
    c->db = db;
    ol_strlcpy(c->dir, dir, sizeof c->dir);
    c->budget = budget_bytes;
    pthread_mutex_init(&c->evict_mu, NULL);
    *out = c;
    return 0;
}

void co_cache_close(co_cache *c) {
    if (!c) return;
    pthread_mutex_destroy(&c->evict_mu);
    free(c);
}

static void path_of(const co_cache *c, const char *hash, char *out, size_t cap) {
    snprintf(out, cap, "%s/%s.wasm", c->dir, hash);
}

static void sha256_hex(const void *data, size_t len, char out[65]) {
    uint8_t h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, data, len);
    ol_hex_encode(h, sizeof h, out);
}

int co_cache_put(co_cache *c, const char *hash, const void *bytes, size_t len, bool *out_existed, ol_err *err) {
    *out_existed = false;
    if (!co_is_sha256_hex(hash)) return ol_err_set(err, CO_ERR_INVALID, "module hash must be 64 lowercase hex digits");
    char actual[65];
    sha256_hex(bytes, len, actual);
    if (strcmp(actual, hash) != 0)
        return ol_err_set(err, CO_ERR_INVALID, "module bytes hash to %s, not %s", actual, hash);
    if ((long long)len > c->budget)
        return ol_err_set(err, CO_ERR_INVALID, "module of %zu bytes is larger than the cache budget (%lld bytes)", len,
                          c->budget);
    char path[1200], tmp[1300];
    path_of(c, hash, path, sizeof path);
    struct stat st;
    if (stat(path, &st) == 0 && (size_t)st.st_size == len) {
        *out_existed = true;
    } else {
        snprintf(tmp, sizeof tmp, "%s.tmp.%d.%lx", path, (int)getpid(), (unsigned long)pthread_self());
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0) return ol_err_set(err, CO_ERR_IO, "cache: create %s: %s", tmp, strerror(errno));
        const uint8_t *p = bytes;
        size_t left = len;
        while (left) {
            ssize_t w = write(fd, p, left);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) {
                int e = errno;
                close(fd);
                unlink(tmp);
                return ol_err_set(err, CO_ERR_IO, "cache: write %s: %s", tmp, strerror(e));
            }
            p += w;
            left -= (size_t)w;
        }
        if (fsync(fd) != 0 || close(fd) != 0) {
            unlink(tmp);
            return ol_err_set(err, CO_ERR_IO, "cache: sync %s: %s", tmp, strerror(errno));
        }
        if (rename(tmp, path) != 0) {
            int e = errno;
            unlink(tmp);
            return ol_err_set(err, CO_ERR_IO, "cache: rename to %s: %s", path, strerror(e));
        }
    }
    int rc = co_module_put(c->db, hash, (long long)len, co_now_ms(), err);
    if (rc) return rc;
    long long evicted = 0;
    return co_cache_evict(c, &evicted, err);
}

static void drop(co_cache *c, const char *hash) {
    char path[1200];
    path_of(c, hash, path, sizeof path);
    unlink(path);
    co_module_delete(c->db, hash, NULL);
}

int co_cache_get(co_cache *c, const char *hash, void **out, size_t *out_len, ol_err *err) {
    *out = NULL;
    *out_len = 0;
    if (!co_is_sha256_hex(hash)) return ol_err_set(err, CO_ERR_INVALID, "module hash must be 64 lowercase hex digits");
    long long size = 0;
    int rc = co_module_touch(c->db, hash, co_now_ms(), &size, err);
    if (rc) return rc;
    char path[1200];
    path_of(c, hash, path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        drop(c, hash);
        return ol_err_set(err, CO_ERR_NOT_FOUND, "module %s: file missing; removed from the cache", hash);
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size != size) {
        close(fd);
        drop(c, hash);
        return ol_err_set(err, CO_ERR_NOT_FOUND, "module %s: file size changed; removed from the cache", hash);
    }
    uint8_t *buf = malloc(size ? (size_t)size : 1);
    if (!buf) {
        close(fd);
        return ol_err_set(err, CO_ERR_IO, "cache: out of memory reading %lld bytes", size);
    }
    size_t got = 0;
    while (got < (size_t)size) {
        ssize_t r = read(fd, buf + got, (size_t)size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(fd);
    char actual[65];
    sha256_hex(buf, got, actual);
    if (got != (size_t)size || strcmp(actual, hash) != 0) {
        free(buf);
        drop(c, hash);
        OL_WARN("cache: module %s was corrupt on disk; removed", hash);
        return ol_err_set(err, CO_ERR_NOT_FOUND, "module %s: stored bytes no longer match the hash; removed from the cache",
                          hash);
    }
    *out = buf;
    *out_len = got;
    return 0;
}

int co_cache_evict(co_cache *c, long long *out_evicted, ol_err *err) {
    *out_evicted = 0;
    pthread_mutex_lock(&c->evict_mu);
    int rc = 0;
    for (;;) {
        long long total = 0, count = 0;
        if ((rc = co_module_total(c->db, &total, &count, err))) break;
        if (total <= c->budget) break;
        co_rows r;
        if ((rc = co_module_lru(c->db, 16, &r, err))) break;
        if (!r.nrows) {
            co_rows_free(&r);
            break;
        }
        for (size_t i = 0; i < r.nrows && total > c->budget; i++) {
            drop(c, co_cell(&r, i, 0));
            total -= atoll(co_cell(&r, i, 1));
            (*out_evicted)++;
            OL_INFO("cache: evicted %s (%s bytes) over the budget of %lld bytes", co_cell(&r, i, 0), co_cell(&r, i, 1),
                    c->budget);
        }
        co_rows_free(&r);
    }
    pthread_mutex_unlock(&c->evict_mu);
    return rc;
}
