/* Sieve of Eratosthenes over [0, 8M), repeated: byte stores and strided
 * loops. Size: repetitions. */
#include <string.h>
#include "bench.h"

#define LIMIT (8 * 1024 * 1024)
static uint8_t composite[LIMIT];

int main(int argc, char **argv) {
    long reps = bench_size(argc, argv, 40);
    uint64_t h = 0;
    for (long r = 0; r < reps; r++) {
        memset(composite, 0, sizeof composite);
        uint32_t count = 0;
        for (uint32_t i = 2; i < LIMIT; i++) {
            if (composite[i]) continue;
            count++;
            for (uint64_t j = (uint64_t)i * i; j < LIMIT; j += i) composite[j] = 1;
        }
        h = bench_mix(h, count + r);
    }
    bench_checksum(h);
    return 0;
}
