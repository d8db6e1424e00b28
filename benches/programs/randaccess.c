/* Random reads and writes over a 64 MiB table (a GUPS-style update): the
 * cost is cache and TLB misses. Size: updates in millions. */
#include "bench.h"

#define WORDS (8u << 20) /* 64 MiB of uint64_t */

int main(int argc, char **argv) {
    long m = bench_size(argc, argv, 60);
    uint64_t *t = malloc(WORDS * sizeof *t);
    for (uint32_t i = 0; i < WORDS; i++) t[i] = i * 0x9e3779b97f4a7c15ull;
    uint64_t x = 1, h = 0;
    for (long i = 0; i < m * 1000000; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        uint32_t j = (uint32_t)(x >> 40) & (WORDS - 1);
        t[j] ^= x;
        h += t[(j * 7 + 1) & (WORDS - 1)];
    }
    for (uint32_t i = 0; i < WORDS; i += 4099) h = bench_mix(h, t[i]);
    bench_checksum(h);
    return 0;
}
