/* lz77: compresses 4 MiB of generated text (128 KiB quick) with a hash-chain LZ77 (64 KiB window,
 * matches of 4..255 bytes, up to 32 chain steps), decompresses it and checks the round trip.
 * Byte-level, branchy work. Checksum: compressed size xor a hash of the decompressed text (or
 * 0xdeadbeef if the round trip failed). */
#include "bench.h"

#define N BENCH_SIZE(4u << 20, 128u << 10)
#define WIN (1u << 16)
#define HBITS 15
#define MINM 4
#define MAXM 255
#define CHAIN 32

static uint8_t text[N], out[N + N / 8 + 16], back[N];
static int32_t head[1u << HBITS], prev[WIN];

static const char *const words[] = {"the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "near",
                                    "contract", "worker", "yield", "resume", "block", "height", "fuel",
                                    "wasm", "memory", "result", "input", "output", "random", "seed", "hash"};

static void gen(void)
{
    uint32_t s = 7, n = 0;
    while (n < N) {
        const char *w = words[bench_rand(&s) % (sizeof words / sizeof words[0])];
        while (*w && n < N) text[n++] = (uint8_t)*w++;
        if (n < N) text[n++] = (bench_rand(&s) % 11 == 0) ? '\n' : ' ';
        if (n < N && bench_rand(&s) % 7 == 0) text[n++] = (uint8_t)('0' + bench_rand(&s) % 10);
    }
}

static uint32_t hash4(const uint8_t *p) { return ((uint32_t)p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24) * 2654435761u >> (32 - HBITS); }

/* Format: a control byte per 8 items (bit set = match); a literal is one byte; a match is length
 * (1 byte) and distance (2 bytes, little-endian). */
static uint32_t compress(void)
{
    for (uint32_t i = 0; i < (1u << HBITS); i++) head[i] = -1;
    uint32_t o = 0, i = 0, ctl_pos = 0, nitems = 8;
    while (i < N) {
        if (nitems == 8) { ctl_pos = o++; out[ctl_pos] = 0; nitems = 0; }
        uint32_t best = 0, dist = 0;
        if (i + MINM <= N) {
            uint32_t h = hash4(text + i);
            int32_t cand = head[h];
            for (int steps = 0; cand >= 0 && i - (uint32_t)cand < WIN && steps < CHAIN; steps++) {
                uint32_t l = 0, max = N - i < MAXM ? N - i : MAXM;
                while (l < max && text[cand + l] == text[i + l]) l++;
                if (l > best) { best = l; dist = i - (uint32_t)cand; }
                cand = prev[cand % WIN];
            }
            prev[i % WIN] = head[h];
            head[h] = (int32_t)i;
        }
        if (best >= MINM) {
            out[ctl_pos] |= (uint8_t)(1u << nitems);
            out[o++] = (uint8_t)best;
            out[o++] = (uint8_t)dist;
            out[o++] = (uint8_t)(dist >> 8);
            for (uint32_t k = 1; k < best; k++) {
                uint32_t j = i + k;
                if (j + MINM <= N) {
                    uint32_t h = hash4(text + j);
                    prev[j % WIN] = head[h];
                    head[h] = (int32_t)j;
                }
            }
            i += best;
        } else {
            out[o++] = text[i++];
        }
        nitems++;
    }
    return o;
}

static uint32_t decompress(uint32_t len)
{
    uint32_t i = 0, o = 0;
    while (i < len) {
        uint8_t ctl = out[i++];
        for (int b = 0; b < 8 && i < len; b++) {
            if (ctl >> b & 1) {
                uint32_t l = out[i], d = out[i + 1] | (uint32_t)out[i + 2] << 8;
                i += 3;
                for (uint32_t k = 0; k < l; k++, o++) back[o] = back[o - d];
            } else {
                back[o++] = out[i++];
            }
        }
    }
    return o;
}

static uint32_t run(void)
{
    gen();
    uint32_t clen = compress();
    uint32_t dlen = decompress(clen);
    uint32_t h = 2166136261u;
    for (uint32_t i = 0; i < dlen; i++) h = (h ^ back[i]) * 16777619u;
    if (dlen != N) return 0xdeadbeef;
    for (uint32_t i = 0; i < N; i++)
        if (back[i] != text[i]) return 0xdeadbeef;
    return clen ^ h;
}

BENCH_MAIN("lz77")
