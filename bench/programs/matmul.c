/* matmul: C = A x B for 512x512 double matrices (64x64 quick), i-k-j order, three times with a
 * changing A. Floating-point multiply-add over arrays. Checksum: the trace of C, scaled, as an
 * integer, plus a sampled element. */
#include "bench.h"

#define N BENCH_SIZE(512, 64)
static double A[N][N], B[N][N], C[N][N];

static uint32_t run(void)
{
    uint32_t s = 12345;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            A[i][j] = (double)(bench_rand(&s) % 1000) / 100.0;
            B[i][j] = (double)(bench_rand(&s) % 1000) / 100.0;
        }
    uint32_t sum = 0;
    for (int round = 0; round < 3; round++) {
        memset(C, 0, sizeof C);
        for (int i = 0; i < N; i++)
            for (int k = 0; k < N; k++) {
                double a = A[i][k];
                for (int j = 0; j < N; j++) C[i][j] += a * B[k][j];
            }
        double tr = 0;
        for (int i = 0; i < N; i++) tr += C[i][i];
        sum += (uint32_t)(int64_t)(tr * 100.0) + (uint32_t)(int64_t)C[N / 2][N / 3];
        A[round][round] += 1.0;
    }
    return sum;
}

BENCH_MAIN("matmul")
