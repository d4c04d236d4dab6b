/* random: input {"min":a,"max":b} (integers, a <= b, both within 0..2^32-1) on stdin, output
 * {"random_number":n} with n uniform in [a, b]. The bytes come from WASI random_get, so under
 * `outlayer run --seed HEX` the answer is reproducible bit for bit. */
#include "outlayer.h"

int main(void)
{
    size_t len;
    char *in = outlayer_read_input(&len);
    int64_t lo, hi;
    if (outlayer_json_int(in, "min", &lo) != 0) outlayer_fail("random: input needs an integer \"min\"");
    if (outlayer_json_int(in, "max", &hi) != 0) outlayer_fail("random: input needs an integer \"max\"");
    if (lo < 0 || hi > (int64_t)UINT32_MAX) outlayer_fail("random: min and max must be within 0..4294967295");
    if (hi < lo) outlayer_fail("random: max (%lld) is below min (%lld)", (long long)hi, (long long)lo);
    uint64_t span = (uint64_t)(hi - lo) + 1, x;
    /* Rejection sampling: draw 64 bits, drop the biased top slice. */
    uint64_t r = (UINT64_MAX % span + 1) % span; /* 2^64 mod span */
    do {
        if (getentropy(&x, sizeof x) != 0) outlayer_fail("random: random_get failed");
    } while (r != 0 && x > UINT64_MAX - r);
    outlayer_printf("{\"random_number\":%llu}", (unsigned long long)((uint64_t)lo + x % span));
    free(in);
    return 0;
}
