/* Nonce manager, multi-key signer and the sign-send-retry loop (see near.h). */
#include "near/near.h"

#include <dirent.h>
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct nonce_entry {
    char account[NEAR_ACCOUNT_ID_MAX + 1];
    near_public_key pk;
    uint64_t nonce; /* last nonce handed out (or the key's nonce when freshly read) */
    bool valid;
} nonce_entry;

struct near_nonce_mgr {
    near_rpc *rpc;
    pthread_mutex_t mu;
    nonce_entry *entries;
    size_t n;
    /* cached final block hash */
    uint8_t block_hash[32];
    double block_at_ms;
};

static double mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

near_nonce_mgr *near_nonce_mgr_new(near_rpc *rpc, ol_err *err) {
    near_nonce_mgr *m = calloc(1, sizeof *m);
    if (m) m->entries = calloc(NEAR_NONCE_MAX_KEYS, sizeof *m->entries);
    if (!m || !m->entries) {
        if (m) free(m);
        ol_err_set(err, NEAR_ENOMEM, "nonce manager: out of memory");
        return NULL;
    }
    m->rpc = rpc;
    m->block_at_ms = -1e18;
    pthread_mutex_init(&m->mu, NULL);
    return m;
}

void near_nonce_mgr_free(near_nonce_mgr *m) {
    if (!m) return;
    pthread_mutex_destroy(&m->mu);
    free(m->entries);
    free(m);
}

/* Entry for (account, pk), created if absent; NULL when the table is full. Called with mu held. */
static nonce_entry *entry(near_nonce_mgr *m, const char *account, const near_public_key *pk, bool create) {
    for (size_t i = 0; i < m->n; i++)
        if (!strcmp(m->entries[i].account, account) && near_public_key_eq(&m->entries[i].pk, pk)) return &m->entries[i];
    if (!create || m->n == NEAR_NONCE_MAX_KEYS) return NULL;
    nonce_entry *e = &m->entries[m->n++];
    ol_strlcpy(e->account, account, sizeof e->account);
    e->pk = *pk;
    e->valid = false;
    return e;
}

int near_nonce_next(near_nonce_mgr *m, const char *account_id, const near_public_key *pk, uint64_t *out,
                    near_rpc_error *detail, ol_err *err) {
    ol_err sub;
    if (!account_id || near_account_id_check(account_id, strlen(account_id), &sub))
        return ol_err_set(err, NEAR_EINVAL, "nonce: %s", account_id ? sub.msg : "account id missing");
    pthread_mutex_lock(&m->mu);
    nonce_entry *e = entry(m, account_id, pk, true);
    if (!e) {
        pthread_mutex_unlock(&m->mu);
        return ol_err_set(err, NEAR_ELIMIT, "nonce: more than NEAR_NONCE_MAX_KEYS (%d) keys", NEAR_NONCE_MAX_KEYS);
    }
    if (e->valid) {
        *out = ++e->nonce;
        pthread_mutex_unlock(&m->mu);
        return 0;
    }
    pthread_mutex_unlock(&m->mu);
    /* read outside the lock; if several threads race here the largest reading wins, then increments */
    json_t *r;
    int rc = near_rpc_view_access_key(m->rpc, account_id, pk, NEAR_OPTIMISTIC, &r, detail, err);
    if (rc) return rc;
    json_t *jn = json_object_get(r, "nonce");
    if (!json_is_integer(jn) || json_integer_value(jn) < 0) {
        json_decref(r);
        return ol_err_set(err, NEAR_ERPC_SERVER, "nonce: view_access_key result without a \"nonce\" number");
    }
    uint64_t ak = (uint64_t)json_integer_value(jn);
    json_decref(r);
    pthread_mutex_lock(&m->mu);
    e = entry(m, account_id, pk, true);
    if (!e->valid || e->nonce < ak) {
        e->nonce = ak;
        e->valid = true;
    }
    *out = ++e->nonce;
    pthread_mutex_unlock(&m->mu);
    return 0;
}

void near_nonce_invalidate(near_nonce_mgr *m, const char *account_id, const near_public_key *pk, uint64_t ak_nonce) {
    pthread_mutex_lock(&m->mu);
    nonce_entry *e = entry(m, account_id, pk, false);
    if (e) {
        if (ak_nonce == 0) e->valid = false;
        else if (e->nonce < ak_nonce) e->nonce = ak_nonce;
    }
    pthread_mutex_unlock(&m->mu);
}

/* Recent final block hash, cached for NEAR_BLOCK_HASH_TTL_MS; refresh forces a new read. */
static int block_hash(near_nonce_mgr *m, bool refresh, uint8_t out[32], near_rpc_error *detail, ol_err *err) {
    pthread_mutex_lock(&m->mu);
    bool fresh = !refresh && mono_ms() - m->block_at_ms < NEAR_BLOCK_HASH_TTL_MS;
    if (fresh) memcpy(out, m->block_hash, 32);
    pthread_mutex_unlock(&m->mu);
    if (fresh) return 0;
    int rc = near_rpc_block_hash(m->rpc, NEAR_FINAL, out, NULL, detail, err);
    if (rc) return rc;
    pthread_mutex_lock(&m->mu);
    memcpy(m->block_hash, out, 32);
    m->block_at_ms = mono_ms();
    pthread_mutex_unlock(&m->mu);
    return 0;
}

/* ---- signer ---- */
struct near_signer {
    char account[NEAR_ACCOUNT_ID_MAX + 1];
    near_secret_key *keys;
    near_public_key *pks;
    size_t n;
    pthread_mutex_t mu;
    size_t next;
};

near_signer *near_signer_new(const char *account_id, const near_secret_key *keys, size_t n, ol_err *err) {
    ol_err sub;
    if (!account_id || near_account_id_check(account_id, strlen(account_id), &sub)) {
        ol_err_set(err, NEAR_EINVAL, "signer: %s", account_id ? sub.msg : "account id missing");
        return NULL;
    }
    if (n == 0 || n > NEAR_SIGNER_MAX_KEYS) {
        ol_err_set(err, NEAR_ELIMIT, "signer: %zu keys (1..NEAR_SIGNER_MAX_KEYS=%d)", n, NEAR_SIGNER_MAX_KEYS);
        return NULL;
    }
    near_signer *s = calloc(1, sizeof *s);
    if (s) {
        s->keys = calloc(n, sizeof *s->keys);
        s->pks = calloc(n, sizeof *s->pks);
    }
    if (!s || !s->keys || !s->pks) {
        if (s) {
            free(s->keys);
            free(s->pks);
        }
        free(s);
        ol_err_set(err, NEAR_ENOMEM, "signer: out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        s->keys[i] = keys[i];
        if (near_secret_key_public(&keys[i], &s->pks[i], err)) {
            near_signer_free(s);
            return NULL;
        }
    }
    s->n = n;
    ol_strlcpy(s->account, account_id, sizeof s->account);
    pthread_mutex_init(&s->mu, NULL);
    return s;
}

void near_signer_free(near_signer *s) {
    if (!s) return;
    if (s->keys) sodium_memzero(s->keys, s->n * sizeof *s->keys);
    free(s->keys);
    free(s->pks);
    if (s->n) pthread_mutex_destroy(&s->mu);
    free(s);
}

const char *near_signer_account(const near_signer *s) { return s->account; }
size_t near_signer_key_count(const near_signer *s) { return s->n; }
const near_public_key *near_signer_public_key(const near_signer *s, size_t i) { return i < s->n ? &s->pks[i] : NULL; }

static size_t next_key(near_signer *s) {
    pthread_mutex_lock(&s->mu);
    size_t k = s->next;
    s->next = (s->next + 1) % s->n;
    pthread_mutex_unlock(&s->mu);
    return k;
}

int near_send_actions(near_nonce_mgr *m, near_signer *s, const char *receiver_id, const near_action *actions,
                      size_t n_actions, const char *wait_until, json_t **result, near_send_info *info,
                      near_rpc_error *detail, ol_err *err) {
    near_send_info scratch_info;
    near_rpc_error scratch;
    near_send_info *in = info ? info : &scratch_info;
    near_rpc_error *d = detail ? detail : &scratch;
    memset(in, 0, sizeof *in);
    *result = NULL;
    size_t k = next_key(s);
    in->key_index = k;
    near_transaction tx = {.signer_id = s->account, .public_key = s->pks[k], .receiver_id = receiver_id,
                           .actions = actions, .n_actions = n_actions};
    bool refresh_block = false;
    int rc;
    for (int attempt = 0;; attempt++) {
        if ((rc = near_nonce_next(m, s->account, &s->pks[k], &tx.nonce, d, err))) return rc;
        if ((rc = block_hash(m, refresh_block, tx.block_hash, d, err))) return rc;
        near_signed_transaction stx;
        uint8_t h[32];
        if ((rc = near_tx_sign(&tx, &s->keys[k], &stx, h, err))) return rc;
        char *b64;
        if ((rc = near_signed_tx_base64(&stx, &b64, err))) return rc;
        ol_base58_encode(h, 32, in->hash, sizeof in->hash, NULL);
        in->nonce = tx.nonce;
        rc = near_rpc_send_tx(m->rpc, b64, wait_until, result, d, err);
        free(b64);
        if (rc != NEAR_ERPC_INVALID_NONCE && rc != NEAR_ERPC_EXPIRED) return rc;
        if (attempt == NEAR_SEND_MAX_RESIGN) {
            char prev[sizeof err->msg];
            if (err) {
                ol_strlcpy(prev, err->msg, sizeof prev);
                ol_err_set(err, rc, "%s (gave up after %d re-signs, NEAR_SEND_MAX_RESIGN)", prev, attempt);
            }
            return rc;
        }
        in->resigns++;
        if (rc == NEAR_ERPC_INVALID_NONCE) near_nonce_invalidate(m, s->account, &s->pks[k], d->ak_nonce);
        else refresh_block = true;
    }
}

int near_send_call(near_nonce_mgr *m, near_signer *s, const char *receiver_id, const char *method,
                   const uint8_t *args, size_t args_len, uint64_t gas, near_u128 deposit, const char *wait_until,
                   json_t **result, near_send_info *info, near_rpc_error *detail, ol_err *err) {
    near_action a = {.kind = NEAR_ACTION_FUNCTION_CALL};
    a.u.call.method_name = method;
    a.u.call.args = args;
    a.u.call.args_len = args_len;
    a.u.call.gas = gas;
    a.u.call.deposit = deposit;
    return near_send_actions(m, s, receiver_id, &a, 1, wait_until, result, info, detail, err);
}

/* ---- signer from a credentials directory ---- */

static int name_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int add_key_file(const char *path, const char *account_id, near_secret_key *keys, size_t *n, ol_err *err) {
    near_credentials c;
    int rc = near_credentials_read(path, &c, err);
    if (rc) return rc;
    if (strcmp(c.account_id, account_id) != 0) {
        sodium_memzero(&c, sizeof c);
        return ol_err_set(err, NEAR_EINVAL, "credentials %s: account_id is not %s", path, account_id);
    }
    if (*n == NEAR_SIGNER_MAX_KEYS) {
        sodium_memzero(&c, sizeof c);
        return ol_err_set(err, NEAR_ELIMIT, "credentials: more than NEAR_SIGNER_MAX_KEYS (%d) keys for %s",
                          NEAR_SIGNER_MAX_KEYS, account_id);
    }
    keys[(*n)++] = c.secret_key;
    sodium_memzero(&c, sizeof c);
    return 0;
}

near_signer *near_signer_from_credentials(const char *dir, const char *network, const char *account_id, ol_err *err) {
    char path[4096];
    if (near_credentials_path(dir, network, account_id, path, sizeof path, err)) return NULL;
    near_secret_key keys[NEAR_SIGNER_MAX_KEYS];
    size_t n = 0;
    near_signer *s = NULL;
    int rc = 0;
    if (access(path, F_OK) == 0) rc = add_key_file(path, account_id, keys, &n, err);
    /* per-key directory: same path without ".json" */
    path[strlen(path) - 5] = 0;
    DIR *d = rc ? NULL : opendir(path);
    if (d) {
        char *names[NEAR_SIGNER_MAX_KEYS + 1];
        size_t nn = 0;
        struct dirent *e;
        while (!rc && (e = readdir(d))) {
            size_t l = strlen(e->d_name);
            if (l < 6 || strcmp(e->d_name + l - 5, ".json") != 0) continue;
            if (nn == NEAR_SIGNER_MAX_KEYS) {
                rc = ol_err_set(err, NEAR_ELIMIT, "credentials %s: more than NEAR_SIGNER_MAX_KEYS (%d) key files", path,
                                NEAR_SIGNER_MAX_KEYS);
                break;
            }
            if (!(names[nn] = strdup(e->d_name))) rc = ol_err_set(err, NEAR_ENOMEM, "credentials: out of memory");
            else nn++;
        }
        closedir(d);
        qsort(names, nn, sizeof names[0], name_cmp);
        for (size_t i = 0; i < nn; i++) {
            char kp[4096 + 256];
            if (!rc) {
                snprintf(kp, sizeof kp, "%s/%s", path, names[i]);
                rc = add_key_file(kp, account_id, keys, &n, err);
            }
            free(names[i]);
        }
    }
    if (!rc && n == 0)
        rc = ol_err_set(err, NEAR_EIO, "credentials: no key for %s in %s/%s (expected %s.json or %s/*.json)", account_id,
                        dir, network, account_id, account_id);
    if (!rc) s = near_signer_new(account_id, keys, n, err);
    sodium_memzero(keys, sizeof keys);
    return s;
}
