/* Mandelbrot set membership on a grid: a tight double-precision loop with
 * data-dependent exits. Size: grid width. */
#include "bench.h"

int main(int argc, char **argv) {
    long w = bench_size(argc, argv, 3600), h = w;
    uint64_t sum = 0, hash = 0;
    for (long y = 0; y < h; y++) {
        double ci = 2.0 * y / h - 1.0;
        uint64_t row = 0;
        for (long x = 0; x < w; x++) {
            double cr = 2.5 * x / w - 2.0, zr = 0, zi = 0;
            int i = 0;
            while (i < 80 && zr * zr + zi * zi <= 4.0) {
                double t = zr * zr - zi * zi + cr;
                zi = 2 * zr * zi + ci;
                zr = t;
                i++;
            }
            row += i;
        }
        sum += row;
        hash = bench_mix(hash, row);
    }
    printf("%llu\n", (unsigned long long)sum);
    bench_checksum(hash);
    return 0;
}
