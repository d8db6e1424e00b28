/* Copies of many sizes between buffers (memcpy and memmove), the work of
 * serialisers and allocators. Size: GiB copied. */
#include <string.h>
#include "bench.h"

#define BUF (8 << 20)

int main(int argc, char **argv) {
    long gib = bench_size(argc, argv, 40);
    uint8_t *a = malloc(BUF), *b = malloc(BUF);
    for (size_t i = 0; i < BUF; i++) a[i] = (uint8_t)bench_rand();
    static const size_t sizes[] = {7, 16, 33, 64, 100, 256, 1000, 4096, 65536, 1 << 20};
    uint64_t copied = 0, h = 0, goal = (uint64_t)gib << 30;
    for (unsigned r = 0; copied < goal; r++) {
        size_t n = sizes[r % 10];
        size_t src = (size_t)(bench_rand() % (BUF - n)), dst = (size_t)(bench_rand() % (BUF - n));
        if (r % 3 == 0) memmove(a + dst, a + src, n);
        else memcpy(b + dst, a + src, n);
        h = bench_mix(h, b[dst] ^ a[dst + n / 2]);
        copied += n;
    }
    for (size_t i = 0; i < BUF; i += 4093) h = bench_mix(h, (uint64_t)a[i] << 8 | b[i]);
    bench_checksum(h);
    return 0;
}
