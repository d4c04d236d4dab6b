/* Wake-ups and rate limits. In process: a sequence number and a condition variable that claims wait
 * on. With Redis (REDIS_URL): notifications are also published on a channel that a subscriber thread
 * of every coordinator listens to, so a task created on one coordinator wakes claims waiting on
 * another; rate-limit counters live in Redis so they hold across coordinators. Redis is a hint only:
 * claims also re-read the database every CO_POLL_SLICE_MS, and when Redis is unreachable everything
 * falls back to the in-process path (and reconnects later). */
#include "coordinator/coordinator_int.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define WAKE_CHANNEL "outlayer:wake"
#define REDIS_TIMEOUT_MS 300  /* a command to Redis; beyond it Redis counts as down */
#define REDIS_RETRY_MS 1000   /* pause between reconnect attempts */

typedef struct rate_slot {
    char key[72];
    long long window;
    long long count;
} rate_slot;

struct co_wake {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t seq;
    bool shutdown;
    /* Redis */
    char host[256];
    int port;
    char password[256];
    int dbnum;
    bool redis;
    pthread_mutex_t pub_mu;
    redisContext *pub;
    int64_t pub_retry_at;
    pthread_t sub_thread;
    bool sub_started;
    redisContext *sub; /* guarded by mu for shutdown() */
    atomic_bool sub_up;
    /* in-process rate limits */
    pthread_mutex_t rate_mu;
    rate_slot *rates;
};

static int parse_redis_url(co_wake *w, const char *url, ol_err *err) {
    const char *p = url;
    if (strncmp(p, "redis://", 8) != 0) return ol_err_set(err, CO_ERR_INVALID, "REDIS_URL must start with redis://");
    p += 8;
    const char *at = strrchr(p, '@');
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        const char *pw = colon ? colon + 1 : p;
        size_t n = (size_t)(at - pw);
        if (n >= sizeof w->password) return ol_err_set(err, CO_ERR_INVALID, "REDIS_URL: password too long");
        memcpy(w->password, pw, n);
        w->password[n] = 0;
        p = at + 1;
    }
    const char *slash = strchr(p, '/');
    const char *end = slash ? slash : p + strlen(p);
    const char *colon = memchr(p, ':', (size_t)(end - p));
    const char *hend = colon ? colon : end;
    if (hend == p || (size_t)(hend - p) >= sizeof w->host) return ol_err_set(err, CO_ERR_INVALID, "REDIS_URL: bad host");
    memcpy(w->host, p, (size_t)(hend - p));
    w->host[hend - p] = 0;
    w->port = 6379;
    if (colon) {
        char *e;
        long v = strtol(colon + 1, &e, 10);
        if (e != end || v < 1 || v > 65535) return ol_err_set(err, CO_ERR_INVALID, "REDIS_URL: bad port");
        w->port = (int)v;
    }
    if (slash && slash[1]) {
        char *e;
        long v = strtol(slash + 1, &e, 10);
        if (*e || v < 0 || v > 1000) return ol_err_set(err, CO_ERR_INVALID, "REDIS_URL: bad database number");
        w->dbnum = (int)v;
    }
    return 0;
}

static redisContext *redis_connect(co_wake *w, bool with_timeout) {
    struct timeval tv = {0, REDIS_TIMEOUT_MS * 1000};
    redisContext *c = redisConnectWithTimeout(w->host, w->port, tv);
    if (!c || c->err) {
        if (c) redisFree(c);
        return NULL;
    }
    if (with_timeout) redisSetTimeout(c, tv);
    if (w->password[0]) {
        redisReply *r = redisCommand(c, "AUTH %s", w->password);
        bool ok = r && r->type != REDIS_REPLY_ERROR;
        if (r) freeReplyObject(r);
        if (!ok) {
            redisFree(c);
            return NULL;
        }
    }
    if (w->dbnum) {
        redisReply *r = redisCommand(c, "SELECT %d", w->dbnum);
        if (r) freeReplyObject(r);
    }
    return c;
}

static void bump(co_wake *w) {
    pthread_mutex_lock(&w->mu);
    w->seq++;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static void *sub_main(void *arg) {
    co_wake *w = arg;
    for (;;) {
        pthread_mutex_lock(&w->mu);
        bool stop = w->shutdown;
        pthread_mutex_unlock(&w->mu);
        if (stop) break;
        redisContext *c = redis_connect(w, false);
        if (c) {
            struct timeval none = {0, 0}; /* the subscriber blocks until a message or shutdown() */
            redisSetTimeout(c, none);
            redisReply *r = redisCommand(c, "SUBSCRIBE %s", WAKE_CHANNEL);
            if (r) freeReplyObject(r);
            else {
                redisFree(c);
                c = NULL;
            }
        }
        if (!c) {
            atomic_store(&w->sub_up, false);
            struct timespec ts = {0, REDIS_RETRY_MS * 1000000L};
            nanosleep(&ts, NULL);
            continue;
        }
        pthread_mutex_lock(&w->mu);
        w->sub = c;
        stop = w->shutdown;
        pthread_mutex_unlock(&w->mu);
        atomic_store(&w->sub_up, true);
        bump(w); /* we may have missed messages while disconnected */
        while (!stop) {
            void *reply = NULL;
            if (redisGetReply(c, &reply) != REDIS_OK) break;
            if (reply) freeReplyObject(reply);
            bump(w);
            pthread_mutex_lock(&w->mu);
            stop = w->shutdown;
            pthread_mutex_unlock(&w->mu);
        }
        atomic_store(&w->sub_up, false);
        pthread_mutex_lock(&w->mu);
        w->sub = NULL;
        pthread_mutex_unlock(&w->mu);
        redisFree(c);
    }
    return NULL;
}

int co_wake_open(const char *redis_url, co_wake **out, ol_err *err) {
    *out = NULL;
    co_wake *w = calloc(1, sizeof *w);
    if (!w) return ol_err_set(err, CO_ERR_IO, "wake: out of memory");
    w->rates = calloc(CO_RATE_TABLE_MAX, sizeof *w->rates);
    if (!w->rates) {
        free(w);
        return ol_err_set(err, CO_ERR_IO, "wake: out of memory");
    }
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    pthread_mutex_init(&w->pub_mu, NULL);
    pthread_mutex_init(&w->rate_mu, NULL);
    if (redis_url && *redis_url) {
        int rc = parse_redis_url(w, redis_url, err);
        if (rc) {
            co_wake_close(w);
            return rc;
        }
        w->redis = true;
        w->pub = redis_connect(w, true);
        if (!w->pub) OL_WARN("redis: %s:%d unreachable; using in-process wake-ups until it answers", w->host, w->port);
        if (pthread_create(&w->sub_thread, NULL, sub_main, w) == 0) w->sub_started = true;
    }
    *out = w;
    return 0;
}

void co_wake_shutdown(co_wake *w) {
    pthread_mutex_lock(&w->mu);
    w->shutdown = true;
    if (w->sub) shutdown(w->sub->fd, SHUT_RDWR); /* unblocks the subscriber's read */
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

void co_wake_close(co_wake *w) {
    if (!w) return;
    co_wake_shutdown(w);
    if (w->sub_started) pthread_join(w->sub_thread, NULL);
    if (w->pub) redisFree(w->pub);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->pub_mu);
    pthread_mutex_destroy(&w->rate_mu);
    free(w->rates);
    free(w);
}

bool co_wake_redis_up(co_wake *w) { return w->redis && atomic_load(&w->sub_up); }

uint64_t co_wake_seq(co_wake *w) {
    pthread_mutex_lock(&w->mu);
    uint64_t s = w->seq;
    pthread_mutex_unlock(&w->mu);
    return s;
}

/* Runs one Redis command on the shared publisher connection; NULL when Redis is down. The caller
 * holds pub_mu and frees the reply. */
static redisReply *pub_command_locked(co_wake *w, const char *fmt, ...) {
    int64_t now = co_now_ms();
    if (!w->pub) {
        if (now < w->pub_retry_at) return NULL;
        w->pub = redis_connect(w, true);
        if (!w->pub) {
            w->pub_retry_at = now + REDIS_RETRY_MS;
            return NULL;
        }
        OL_INFO("redis: connected to %s:%d", w->host, w->port);
    }
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(w->pub, fmt, ap);
    va_end(ap);
    if (!r || w->pub->err) {
        if (r) freeReplyObject(r);
        OL_WARN("redis: lost connection to %s:%d; falling back to in-process", w->host, w->port);
        redisFree(w->pub);
        w->pub = NULL;
        w->pub_retry_at = now + REDIS_RETRY_MS;
        return NULL;
    }
    return r;
}

void co_wake_notify(co_wake *w) {
    bump(w);
    if (!w->redis) return;
    pthread_mutex_lock(&w->pub_mu);
    redisReply *r = pub_command_locked(w, "PUBLISH %s 1", WAKE_CHANNEL);
    if (r) freeReplyObject(r);
    pthread_mutex_unlock(&w->pub_mu);
}

void co_wake_wait(co_wake *w, uint64_t seen, int64_t timeout_ms) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
    pthread_mutex_lock(&w->mu);
    while (w->seq == seen && !w->shutdown)
        if (pthread_cond_timedwait(&w->cv, &w->mu, &ts) != 0) break;
    pthread_mutex_unlock(&w->mu);
}

static uint64_t fnv1a(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

bool co_rate_allow(co_wake *w, const char *key, long long per_minute, int *out_retry_s) {
    if (per_minute <= 0) return true;
    int64_t now = co_now_ms();
    long long window = now / 60000;
    *out_retry_s = (int)(60 - (now / 1000) % 60);
    if (w->redis) {
        pthread_mutex_lock(&w->pub_mu);
        redisReply *r = pub_command_locked(w, "INCR outlayer:rl:%s:%lld", key, window);
        long long count = -1;
        if (r && r->type == REDIS_REPLY_INTEGER) count = r->integer;
        if (r) freeReplyObject(r);
        if (count == 1) {
            r = pub_command_locked(w, "EXPIRE outlayer:rl:%s:%lld 61", key, window);
            if (r) freeReplyObject(r);
        }
        pthread_mutex_unlock(&w->pub_mu);
        if (count >= 0) return count <= per_minute;
        /* Redis down: count in process instead. */
    }
    char k[72];
    ol_strlcpy(k, key, sizeof k);
    uint64_t h = fnv1a(k);
    pthread_mutex_lock(&w->rate_mu);
    rate_slot *slot = NULL;
    for (size_t i = 0; i < 8 && !slot; i++) {
        rate_slot *s = &w->rates[(h + i) % CO_RATE_TABLE_MAX];
        if (s->key[0] == 0 || s->window != window || strcmp(s->key, k) == 0) slot = s;
    }
    if (!slot) slot = &w->rates[h % CO_RATE_TABLE_MAX]; /* table crowded: reuse the home slot */
    if (strcmp(slot->key, k) != 0 || slot->window != window) {
        ol_strlcpy(slot->key, k, sizeof slot->key);
        slot->window = window;
        slot->count = 0;
    }
    bool ok = ++slot->count <= per_minute;
    pthread_mutex_unlock(&w->rate_mu);
    return ok;
}
