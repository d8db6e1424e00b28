/* Quicksort (median of three, insertion sort below 16) of random 32-bit
 * integers, then a heap sort of the same data. Size: elements in
 * millions. */
#include "bench.h"

static void insertion(int32_t *a, long n) {
    for (long i = 1; i < n; i++) {
        int32_t x = a[i];
        long j = i - 1;
        while (j >= 0 && a[j] > x) { a[j + 1] = a[j]; j--; }
        a[j + 1] = x;
    }
}

static void quicksort(int32_t *a, long n) {
    while (n > 16) {
        int32_t x = a[0], y = a[n / 2], z = a[n - 1];
        int32_t p = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
        long i = 0, j = n - 1;
        for (;;) {
            while (a[i] < p) i++;
            while (a[j] > p) j--;
            if (i >= j) break;
            int32_t t = a[i]; a[i] = a[j]; a[j] = t;
            i++; j--;
        }
        quicksort(a, j + 1);
        a += j + 1;
        n -= j + 1;
    }
    insertion(a, n);
}

static void sift(int32_t *a, long start, long n) {
    long root = start;
    while (2 * root + 1 < n) {
        long child = 2 * root + 1;
        if (child + 1 < n && a[child] < a[child + 1]) child++;
        if (a[root] >= a[child]) return;
        int32_t t = a[root]; a[root] = a[child]; a[child] = t;
        root = child;
    }
}

static void heapsort(int32_t *a, long n) {
    for (long s = n / 2 - 1; s >= 0; s--) sift(a, s, n);
    for (long e = n - 1; e > 0; e--) {
        int32_t t = a[0]; a[0] = a[e]; a[e] = t;
        sift(a, 0, e);
    }
}

int main(int argc, char **argv) {
    long n = bench_size(argc, argv, 4) * 1000000;
    int32_t *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    for (long i = 0; i < n; i++) b[i] = a[i] = (int32_t)bench_rand();
    quicksort(a, n);
    heapsort(b, n);
    uint64_t h = 0;
    for (long i = 0; i < n; i += 97) h = bench_mix(h, (uint32_t)a[i] ^ ((uint64_t)(uint32_t)b[i] << 32));
    for (long i = 1; i < n; i++) if (a[i - 1] > a[i] || a[i] != b[i]) { puts("unsorted"); return 1; }
    bench_checksum(h);
    return 0;
}
