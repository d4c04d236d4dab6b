/* Leveled, bounded logging: one line per call, formatted into a fixed buffer (never allocates, never
 * longer than OL_LOG_LINE_MAX) and written with a single write(2) so lines from threads do not mix.
 * The level is checked before formatting. Control characters in the message are replaced so that
 * untrusted text cannot forge log lines. */
#include "base/base.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static atomic_int log_level = OL_LOG_INFO;
static atomic_int log_fd = 2;

static const char *const level_names[] = {"debug", "info", "warn", "error", "off"};

void ol_log_set_level(ol_log_level level) { atomic_store(&log_level, (int)level); }
ol_log_level ol_log_get_level(void) { return (ol_log_level)atomic_load(&log_level); }
void ol_log_set_fd(int fd) { atomic_store(&log_fd, fd); }

bool ol_log_parse_level(const char *s, ol_log_level *out) {
    for (int i = 0; i <= OL_LOG_OFF; i++) {
        if (strcasecmp(s, level_names[i]) == 0) {
            *out = (ol_log_level)i;
            return true;
        }
    }
    return false;
}

bool ol_log_enabled(ol_log_level level) { return (int)level >= atomic_load(&log_level) && level < OL_LOG_OFF; }

void ol_logv(ol_log_level level, const char *fmt, va_list ap) {
    if (!ol_log_enabled(level)) return;
    char line[OL_LOG_LINE_MAX];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
                     level_names[level]);
    if (n < 0) return;
    size_t head = (size_t)n;
    int m = vsnprintf(line + head, sizeof line - head - 1, fmt, ap);
    if (m < 0) return;
    size_t len = head + (size_t)m;
    if (len > sizeof line - 2) len = sizeof line - 2; /* truncated: keep room for '\n' */
    for (size_t i = head; i < len; i++) {
        unsigned char c = (unsigned char)line[i];
        if (c < 0x20 || c == 0x7f) line[i] = '?';
    }
    line[len++] = '\n';
    ssize_t w = write(atomic_load(&log_fd), line, len);
    (void)w;
}

void ol_log(ol_log_level level, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    ol_logv(level, fmt, ap);
    va_end(ap);
}
