/* Spectral norm of the Benchmarks Game: repeated multiplication by an
 * implicit matrix, division-heavy double arithmetic. Size: n. */
#include <math.h>
#include "bench.h"

static double A(long i, long j) { return 1.0 / ((i + j) * (i + j + 1) / 2 + i + 1); }

static void mul_av(long n, const double *v, double *av) {
    for (long i = 0; i < n; i++) {
        double s = 0;
        for (long j = 0; j < n; j++) s += A(i, j) * v[j];
        av[i] = s;
    }
}

static void mul_atv(long n, const double *v, double *atv) {
    for (long i = 0; i < n; i++) {
        double s = 0;
        for (long j = 0; j < n; j++) s += A(j, i) * v[j];
        atv[i] = s;
    }
}

static void mul_atav(long n, const double *v, double *out, double *tmp) {
    mul_av(n, v, tmp);
    mul_atv(n, tmp, out);
}

int main(int argc, char **argv) {
    long n = bench_size(argc, argv, 4000);
    double *u = malloc(n * sizeof *u), *v = malloc(n * sizeof *v), *t = malloc(n * sizeof *t);
    for (long i = 0; i < n; i++) u[i] = 1;
    for (int i = 0; i < 10; i++) {
        mul_atav(n, u, v, t);
        mul_atav(n, v, u, t);
    }
    double vbv = 0, vv = 0;
    for (long i = 0; i < n; i++) { vbv += u[i] * v[i]; vv += v[i] * v[i]; }
    double r = sqrt(vbv / vv);
    printf("%.9f\n", r);
    bench_checksum(bench_mix(0, (uint64_t)(r * 1e9)));
    return 0;
}
