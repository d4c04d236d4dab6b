/* Minimal test assertions: each prints both operands with file and line, then aborts, in every
 * build (they do not depend on NDEBUG). One test program per source file; ctest runs each in its
 * own process. */
#ifndef OUTLAYER_TEST_H
#define OUTLAYER_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T_FAIL(...)                                                                                        \
    do {                                                                                                   \
        fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                                                    \
        fprintf(stderr, __VA_ARGS__);                                                                      \
        fputc('\n', stderr);                                                                               \
        abort();                                                                                           \
    } while (0)

#define ASSERT_TRUE(c)                                                                                     \
    do {                                                                                                   \
        if (!(c)) T_FAIL("assertion failed: %s", #c);                                                      \
    } while (0)

#define ASSERT_EQ(a, b)                                                                                    \
    do {                                                                                                   \
        long long a_ = (long long)(a), b_ = (long long)(b);                                                \
        if (a_ != b_) T_FAIL("%s == %s failed: %lld != %lld", #a, #b, a_, b_);                             \
    } while (0)

#define ASSERT_EQ_U64(a, b)                                                                                \
    do {                                                                                                   \
        uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                                                   \
        if (a_ != b_) T_FAIL("%s == %s failed: %" PRIu64 " != %" PRIu64, #a, #b, a_, b_);                  \
    } while (0)

#define ASSERT_STREQ(a, b)                                                                                 \
    do {                                                                                                   \
        const char *a_ = (a), *b_ = (b);                                                                   \
        if (!a_ || !b_ || strcmp(a_, b_) != 0)                                                             \
            T_FAIL("%s == %s failed: \"%s\" != \"%s\"", #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)");   \
    } while (0)

/* Substring check, for error messages. */
#define ASSERT_CONTAINS(hay, needle)                                                                       \
    do {                                                                                                   \
        const char *h_ = (hay), *n_ = (needle);                                                            \
        if (!h_ || !strstr(h_, n_)) T_FAIL("\"%s\" does not contain \"%s\"", h_ ? h_ : "(null)", n_);      \
    } while (0)

#endif
