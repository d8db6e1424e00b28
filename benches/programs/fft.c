/* Iterative radix-2 complex FFT and its inverse, with twiddles computed
 * once. Size: rounds over 2^16 points. The twiddles come from our own
 * series rather than libm, whose last bits differ between C libraries, so
 * every engine and the native build print the same checksum. */
#include <math.h>
#include "bench.h"

#define LOG 16
#define N (1 << LOG)
static double re[N], im[N], wr[N / 2], wi[N / 2];

/* sin and cos of x in [-pi, pi] by Taylor series after halving x four
 * times, then doubling back: plain IEEE arithmetic, the same everywhere. */
static void sincos_series(double x, double *s, double *c) {
    double y = x / 16, y2 = y * y, term = y, sum = y;
    for (int k = 1; k < 12; k++) { term *= -y2 / ((2 * k) * (2 * k + 1)); sum += term; }
    double sn = sum, cs = 1, t2 = 1;
    for (int k = 1; k < 12; k++) { t2 *= -y2 / ((2 * k - 1) * (2 * k)); cs += t2; }
    for (int i = 0; i < 4; i++) { double ns = 2 * sn * cs; cs = cs * cs - sn * sn; sn = ns; }
    *s = sn;
    *c = cs;
}

static void fft(int inverse) {
    for (unsigned i = 1, j = 0; i < N; i++) {
        unsigned bit = N >> 1;
        for (; j & bit; bit >>= 1) j ^= bit;
        j ^= bit;
        if (i < j) {
            double t = re[i]; re[i] = re[j]; re[j] = t;
            t = im[i]; im[i] = im[j]; im[j] = t;
        }
    }
    for (unsigned len = 2; len <= N; len <<= 1) {
        unsigned step = N / len;
        for (unsigned i = 0; i < N; i += len)
            for (unsigned k = 0; k < len / 2; k++) {
                double c = wr[k * step], s = inverse ? -wi[k * step] : wi[k * step];
                unsigned a = i + k, b = a + len / 2;
                double xr = re[b] * c - im[b] * s, xi = re[b] * s + im[b] * c;
                re[b] = re[a] - xr; im[b] = im[a] - xi;
                re[a] += xr; im[a] += xi;
            }
    }
    if (inverse)
        for (unsigned i = 0; i < N; i++) { re[i] /= N; im[i] /= N; }
}

int main(int argc, char **argv) {
    long rounds = bench_size(argc, argv, 240);
    for (unsigned k = 0; k < N / 2; k++) {
        sincos_series(-2 * 3.141592653589793 * k / N, &wi[k], &wr[k]);
    }
    for (unsigned i = 0; i < N; i++) { re[i] = (double)(bench_rand() % 2001) / 1000.0 - 1.0; im[i] = 0; }
    uint64_t h = 0;
    for (long r = 0; r < rounds; r++) {
        fft(0);
        h = bench_mix(h, (uint64_t)(int64_t)(re[r % N] * 1e6));
        fft(1);
    }
    double err = 0;
    for (unsigned i = 0; i < N; i++) err += fabs(im[i]);
    printf("%.3e\n", err < 1e-6 ? 0.0 : err);
    bench_checksum(h);
    return 0;
}
