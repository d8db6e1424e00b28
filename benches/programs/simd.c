/* A SIMD kernel: 8-bit image blending (saturating add, rounding average,
 * minimum) and a float dot product, written with vector types that clang
 * turns into wasm SIMD128 (-msimd128) and gcc into SSE, so both builds
 * use vector instructions. Size: passes over a 64 KiB image. */
#include <string.h>
#include "bench.h"

typedef uint8_t u8x16 __attribute__((vector_size(16)));
typedef uint16_t u16x8 __attribute__((vector_size(16)));
typedef float f32x4 __attribute__((vector_size(16)));

#define W (64 * 1024)
static u8x16 a[W / 16], b[W / 16], out[W / 16];
static f32x4 x[1024], y[1024];

int main(int argc, char **argv) {
    long passes = bench_size(argc, argv, 160000);
    uint8_t *pa = (uint8_t *)a, *pb = (uint8_t *)b;
    for (int i = 0; i < W; i++) { pa[i] = (uint8_t)bench_rand(); pb[i] = (uint8_t)(i * 7); }
    float *px = (float *)x, *py = (float *)y;
    for (int i = 0; i < 4096; i++) { px[i] = (float)(i % 100) / 64.0f; py[i] = 1.0f / (float)(i + 1); }
    u16x8 acc16 = {0};
    f32x4 dot = {0};
    for (long p = 0; p < passes; p++) {
        u8x16 k = (u8x16){0} + (uint8_t)p;
        for (int i = 0; i < W / 16; i++) {
            u8x16 s = a[i] + b[i];
            s |= (u8x16)(s < a[i]);                             /* saturating add */
            u8x16 avg = (u8x16)(((u16x8)s >> 1) & 0x7f7f) + (k >> 1) + ((s | k) & 1); /* rounding average */
            u8x16 lt = (u8x16)(avg < b[i]);
            u8x16 m = (avg & lt) | (b[i] & ~lt);                /* minimum */
            out[i] = m;
            acc16 += (u16x8)m;
        }
        for (int i = 0; i < 1024; i++) dot = dot * 0.5f + x[i] * y[i];
        a[p % (W / 16)] ^= out[(p * 7) % (W / 16)];
    }
    uint64_t h = 0;
    for (int i = 0; i < 8; i++) h = bench_mix(h, acc16[i]);
    for (int i = 0; i < 4; i++) { uint32_t bits; memcpy(&bits, (float *)&dot + i, 4); h = bench_mix(h, bits); }
    bench_checksum(h);
    return 0;
}
