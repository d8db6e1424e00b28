/* Deep and wide recursion: naive Fibonacci, Ackermann and a recursive tree
 * walk. Stresses calls, returns and the stack check. Size: Fibonacci n. */
#include "bench.h"

static uint64_t fib(int n) { return n < 2 ? (uint64_t)n : fib(n - 1) + fib(n - 2); }

static uint32_t ack(uint32_t m, uint32_t n) {
    if (m == 0) return n + 1;
    if (n == 0) return ack(m - 1, 1);
    return ack(m - 1, ack(m, n - 1));
}

static uint64_t tree(int depth, uint64_t seed) {
    if (depth == 0) return seed;
    return tree(depth - 1, seed * 3 + 1) ^ tree(depth - 1, seed * 5 + 2) ^ (uint64_t)depth;
}

int main(int argc, char **argv) {
    int n = (int)bench_size(argc, argv, 41);
    uint64_t h = bench_mix(0, fib(n));
    h = bench_mix(h, ack(2, 3000));
    h = bench_mix(h, ack(3, 8));
    h = bench_mix(h, tree(20, 7));
    bench_checksum(h);
    return 0;
}
