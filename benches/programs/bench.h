/* Shared by the benchmark programs: the size argument, a deterministic
 * random generator, and the checksum line every engine must print alike. */
#ifndef BENCH_H
#define BENCH_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* The size parameter: argv[1] if given, else `dflt`. */
static inline long bench_size(int argc, char **argv, long dflt) {
    return argc > 1 ? strtol(argv[1], NULL, 10) : dflt;
}

static uint64_t bench_rng_state = 0x2545f4914f6cdd1dull;

/* xorshift64: the same sequence on every engine. */
static inline uint64_t bench_rand(void) {
    uint64_t x = bench_rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return bench_rng_state = x;
}

/* Folds a value into a running checksum (FNV-1a style, on 64-bit words). */
static inline uint64_t bench_mix(uint64_t h, uint64_t v) {
    return (h ^ v) * 0x100000001b3ull;
}

static inline void bench_checksum(uint64_t h) {
    printf("checksum: %016" PRIx64 "\n", h);
}

#endif
