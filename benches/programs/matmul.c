/* Dense double-precision matrix multiply, i-k-j order (vectorisable inner
 * loop). Size: matrix dimension. */
#include "bench.h"

int main(int argc, char **argv) {
    long n = bench_size(argc, argv, 1000);
    double *a = malloc(n * n * sizeof *a), *b = malloc(n * n * sizeof *b), *c = calloc(n * n, sizeof *c);
    for (long i = 0; i < n * n; i++) {
        a[i] = (double)(bench_rand() % 1000) / 100.0;
        b[i] = (double)(bench_rand() % 1000) / 100.0 - 5.0;
    }
    for (int rep = 0; rep < 2; rep++)
        for (long i = 0; i < n; i++)
            for (long k = 0; k < n; k++) {
                double x = a[i * n + k];
                for (long j = 0; j < n; j++) c[i * n + j] += x * b[k * n + j];
            }
    uint64_t h = 0;
    for (long i = 0; i < n * n; i += 7) h = bench_mix(h, (uint64_t)(int64_t)(c[i] * 1000));
    bench_checksum(h);
    return 0;
}
