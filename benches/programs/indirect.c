/* Calls through a table of function pointers (call_indirect in wasm), with
 * the callee chosen by data, as virtual dispatch does. Size: calls in
 * millions. */
#include "bench.h"

typedef uint64_t (*op_fn)(uint64_t, uint64_t);

static uint64_t op_add(uint64_t a, uint64_t b) { return a + b; }
static uint64_t op_xor(uint64_t a, uint64_t b) { return a ^ (b << 1); }
static uint64_t op_mul(uint64_t a, uint64_t b) { return a * (b | 1); }
static uint64_t op_rot(uint64_t a, uint64_t b) { return (a << (b & 63)) | (a >> ((64 - (b & 63)) & 63)); }
static uint64_t op_sub(uint64_t a, uint64_t b) { return a - b * 3; }
static uint64_t op_mix(uint64_t a, uint64_t b) { return (a ^ b) * 0x100000001b3ull; }
static uint64_t op_min(uint64_t a, uint64_t b) { return a < b ? a : b + a; }
static uint64_t op_shr(uint64_t a, uint64_t b) { return (a >> 7) + b; }

static op_fn volatile table[8] = {op_add, op_xor, op_mul, op_rot, op_sub, op_mix, op_min, op_shr};

int main(int argc, char **argv) {
    long calls = bench_size(argc, argv, 150) * 1000000;
    uint64_t acc = 1, x = 12345;
    for (long i = 0; i < calls; i++) {
        x = x * 6364136223846793005ull + 1;
        acc = table[(x >> 61) & 7](acc, x);
    }
    bench_checksum(bench_mix(0, acc));
    return 0;
}
