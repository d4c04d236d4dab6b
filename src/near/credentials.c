/* near-cli credentials files: {"account_id","public_key","private_key"} (reference §3, last paragraph).
 * Written atomically with mode 0600 so a crash never leaves a half-written key behind. */
#include "near/near.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int read_file(const char *path, char **out, ol_err *err) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ol_err_set(err, NEAR_EIO, "credentials %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return ol_err_set(err, NEAR_EIO, "credentials %s: not a regular file", path);
    }
    if (st.st_size > NEAR_MAX_FILE_BYTES) {
        close(fd);
        return ol_err_set(err, NEAR_ELIMIT, "credentials %s: %lld bytes exceeds NEAR_MAX_FILE_BYTES (%d)", path,
                          (long long)st.st_size, NEAR_MAX_FILE_BYTES);
    }
    char *buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        close(fd);
        return ol_err_set(err, NEAR_ENOMEM, "credentials %s: out of memory", path);
    }
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(fd);
    buf[got] = 0;
    *out = buf;
    return 0;
}

int near_credentials_read(const char *path, near_credentials *out, ol_err *err) {
    memset(out, 0, sizeof *out);
    char *text = NULL;
    int rc = read_file(path, &text, err);
    if (rc) return rc;
    json_error_t je;
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    sodium_memzero(text, strlen(text));
    free(text);
    if (!root) return ol_err_set(err, NEAR_EINVAL, "credentials %s: JSON error at line %d: %s", path, je.line, je.text);
    ol_err sub;
    const char *acc = json_string_value(json_object_get(root, "account_id"));
    const char *pk = json_string_value(json_object_get(root, "public_key"));
    const char *sk = json_string_value(json_object_get(root, "private_key"));
    if (!sk) sk = json_string_value(json_object_get(root, "secret_key"));
    if (!json_is_object(root)) {
        rc = ol_err_set(err, NEAR_EINVAL, "credentials %s: not a JSON object", path);
    } else if (!acc) {
        rc = ol_err_set(err, NEAR_EINVAL, "credentials %s: missing string field \"account_id\"", path);
    } else if (!sk) {
        rc = ol_err_set(err, NEAR_EINVAL, "credentials %s: missing string field \"private_key\"", path);
    } else if (near_account_id_check(acc, strlen(acc), &sub)) {
        rc = ol_err_set(err, NEAR_EINVAL, "credentials %s: %s", path, sub.msg);
    } else if ((rc = near_secret_key_parse(sk, &out->secret_key, &sub))) {
        ol_err_set(err, rc, "credentials %s: private_key: %s", path, sub.msg);
    } else if ((rc = near_secret_key_public(&out->secret_key, &out->public_key, &sub))) {
        ol_err_set(err, rc, "credentials %s: %s", path, sub.msg);
    } else if (pk) {
        near_public_key given;
        if ((rc = near_public_key_parse(pk, &given, &sub))) {
            ol_err_set(err, rc, "credentials %s: public_key: %s", path, sub.msg);
        } else if (!near_public_key_eq(&given, &out->public_key)) {
            rc = ol_err_set(err, NEAR_ECRYPTO, "credentials %s: public_key does not match private_key", path);
        }
    }
    if (!rc) ol_strlcpy(out->account_id, acc, sizeof out->account_id);
    json_decref(root);
    if (rc) sodium_memzero(out, sizeof *out);
    return rc;
}

int near_credentials_write(const char *path, const near_credentials *c, ol_err *err) {
    ol_err sub;
    if (near_account_id_check(c->account_id, strnlen(c->account_id, sizeof c->account_id), &sub))
        return ol_err_set(err, NEAR_EINVAL, "credentials: %s", sub.msg);
    char pk[NEAR_KEY_STR], sk[NEAR_KEY_STR];
    near_public_key_format(&c->public_key, pk);
    near_secret_key_format(&c->secret_key, sk);
    char body[512];
    int n = snprintf(body, sizeof body, "{\"account_id\":\"%s\",\"public_key\":\"%s\",\"private_key\":\"%s\"}\n",
                     c->account_id, pk, sk);
    sodium_memzero(sk, sizeof sk);
    if (n < 0 || (size_t)n >= sizeof body) return ol_err_set(err, NEAR_ELIMIT, "credentials: record too long");
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path) >= (int)sizeof tmp) {
        sodium_memzero(body, sizeof body);
        return ol_err_set(err, NEAR_ELIMIT, "credentials: path too long");
    }
    /* unique name (concurrent writers never share it), created 0600 with O_EXCL */
    int fd = mkstemp(tmp);
    if (fd < 0) {
        sodium_memzero(body, sizeof body);
        return ol_err_set(err, NEAR_EIO, "credentials %s: %s", tmp, strerror(errno));
    }
    int rc = 0;
    size_t done = 0;
    while (done < (size_t)n) {
        ssize_t w = write(fd, body + done, (size_t)n - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            rc = ol_err_set(err, NEAR_EIO, "credentials %s: write: %s", tmp, strerror(errno));
            break;
        }
        done += (size_t)w;
    }
    sodium_memzero(body, sizeof body);
    if (!rc && fchmod(fd, 0600) != 0) rc = ol_err_set(err, NEAR_EIO, "credentials %s: chmod: %s", tmp, strerror(errno));
    if (!rc && fsync(fd) != 0) rc = ol_err_set(err, NEAR_EIO, "credentials %s: fsync: %s", tmp, strerror(errno));
    if (close(fd) != 0 && !rc) rc = ol_err_set(err, NEAR_EIO, "credentials %s: close: %s", tmp, strerror(errno));
    if (!rc && rename(tmp, path) != 0) rc = ol_err_set(err, NEAR_EIO, "credentials %s: rename: %s", path, strerror(errno));
    if (rc) unlink(tmp);
    return rc;
}

static bool safe_component(const char *s) {
    if (!s[0] || strcmp(s, ".") == 0 || strcmp(s, "..") == 0) return false;
    for (const char *p = s; *p; p++)
        if (*p == '/' || (unsigned char)*p < 0x20) return false;
    return true;
}

int near_credentials_path(const char *dir, const char *network, const char *account_id, char *out, size_t cap,
                          ol_err *err) {
    ol_err sub;
    if (!network || !safe_component(network) || strlen(network) > 64)
        return ol_err_set(err, NEAR_EINVAL, "credentials: invalid network name");
    if (!account_id || near_account_id_check(account_id, strlen(account_id), &sub))
        return ol_err_set(err, NEAR_EINVAL, "credentials: %s", account_id ? sub.msg : "missing account id");
    int n = snprintf(out, cap, "%s/%s/%s.json", dir, network, account_id);
    if (n < 0 || (size_t)n >= cap) return ol_err_set(err, NEAR_ELIMIT, "credentials: path longer than %zu", cap);
    return 0;
}
