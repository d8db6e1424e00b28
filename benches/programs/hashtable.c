/* Open-addressing hash table with linear probing: inserts, lookups and
 * deletions of random 64-bit keys. Size: operations in millions. */
#include <string.h>
#include "bench.h"

#define CAP (1u << 20)
static uint64_t keys[CAP];
static uint32_t vals[CAP];

static uint32_t slot(uint64_t k) { return (uint32_t)((k * 0x9e3779b97f4a7c15ull) >> 44) & (CAP - 1); }

static void put(uint64_t k, uint32_t v) {
    uint32_t i = slot(k);
    while (keys[i] && keys[i] != k) i = (i + 1) & (CAP - 1);
    keys[i] = k;
    vals[i] = v;
}

static int get(uint64_t k, uint32_t *v) {
    for (uint32_t i = slot(k); keys[i]; i = (i + 1) & (CAP - 1))
        if (keys[i] == k) { *v = vals[i]; return 1; }
    return 0;
}

int main(int argc, char **argv) {
    long millions = bench_size(argc, argv, 60);
    uint64_t h = 0;
    long ops = millions * 1000000;
    for (long round = 0; ops > 0; round++) {
        memset(keys, 0, sizeof keys);
        bench_rng_state = 0x1234567 + round;
        /* Fill to 60% and look every key up, plus as many misses. */
        long n = (long)(CAP * 0.6);
        for (long i = 0; i < n; i++) put(bench_rand() | 1, (uint32_t)i);
        bench_rng_state = 0x1234567 + round;
        for (long i = 0; i < n; i++) {
            uint32_t v = 0;
            uint64_t k = bench_rand() | 1;
            h = bench_mix(h, get(k, &v) ? v : 0xffffffff);
            h = bench_mix(h, get(k ^ 0x8000000000000000ull, &v));
        }
        ops -= 3 * n;
    }
    bench_checksum(h);
    return 0;
}
