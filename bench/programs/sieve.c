/* sieve: sieve of Eratosthenes below 2^24 (2^20 quick), twice, over a byte array. Memory-bound.
 * Checksum: the number of primes found, times the rounds. */
#include "bench.h"

#define N BENCH_SIZE(1u << 24, 1u << 20)
static uint8_t composite[N];

static uint32_t run(void)
{
    uint32_t total = 0;
    for (int round = 0; round < 2; round++) {
        memset(composite, 0, sizeof composite);
        uint32_t count = 0;
        for (uint32_t i = 2; i < N; i++) {
            if (composite[i]) continue;
            count++;
            for (uint64_t j = (uint64_t)i * i; j < N; j += i) composite[j] = 1;
        }
        total += count;
    }
    return total;
}

BENCH_MAIN("sieve")
