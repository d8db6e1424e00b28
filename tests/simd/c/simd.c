/* Exercises <wasm_simd128.h>: every operator family over many inputs,
 * edge values included, then a few SIMD kernels. Each line is an operator
 * (or kernel) and a hash of all its results, so a difference names the
 * operator.
 *
 * Built twice from this one source: for wasm32-wasi with -msimd128 (the
 * real intrinsics, run by cljit) and natively with simd_ref.h, a scalar
 * implementation written from the spec. The two outputs must be equal.
 * NaN results hash as one canonical NaN, since wasm lets a NaN's sign and
 * payload vary. */
#ifdef __wasm_simd128__
#include <wasm_simd128.h>
#else
#include "simd_ref.h"
#endif

#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define N 96

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Integer inputs: random bytes with edge values planted in some lanes. */
static v128_t vi[N];
/* f32 and f64 inputs: special values mixed with ordinary ones. */
static v128_t vf[N];
static v128_t vd[N];

static const float F32_SPECIAL[] = {
    0.0f, -0.0f, 1.0f, -1.0f, 0.5f, -0.5f, 1.5f, 2.5f, -2.5f, 3.5f,
    INFINITY, -INFINITY, NAN, 1e-40f, -1e-45f, 3.4e38f, -3.4e38f,
    2147483648.0f, -2147483648.0f, 2147483520.0f, 4294967296.0f, 4294967040.0f,
    -0.999f, 0.999f, 8388608.5f, 16777217.0f, 1e10f, -1e10f,
};
static const double F64_SPECIAL[] = {
    0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 1.5, 2.5, -2.5, 4.5,
    INFINITY, -INFINITY, NAN, 5e-324, -2.2e-308, 1.7e308, -1.7e308,
    2147483647.0, 2147483647.5, 2147483648.0, -2147483648.0, -2147483648.5,
    -2147483649.0, 4294967295.0, 4294967295.9, 4294967296.0, -0.999, 3.4e38,
    3.5e38, 1e-46, 4503599627370497.0, 1e300,
};

static float any_f32(void) {
    uint64_t r = next();
    if (r % 3 == 0) return F32_SPECIAL[(r >> 8) % (sizeof F32_SPECIAL / sizeof F32_SPECIAL[0])];
    return (float)((int64_t)(r >> 20) % 2000000) / (float)((r >> 4) % 997 + 1);
}

static double any_f64(void) {
    uint64_t r = next();
    if (r % 3 == 0) return F64_SPECIAL[(r >> 8) % (sizeof F64_SPECIAL / sizeof F64_SPECIAL[0])];
    return (double)((int64_t)(r >> 12) % 20000000000ll) / (double)((r >> 4) % 9973 + 1);
}

static void setup(void) {
    static const uint8_t edges[] = {0x00, 0xff, 0x80, 0x7f, 0x01, 0xfe, 0x81};
    for (int i = 0; i < N; i++) {
        uint8_t b[16];
        for (int j = 0; j < 16; j++) {
            uint64_t r = next();
            b[j] = (r % 4 == 0) ? edges[(r >> 8) % sizeof edges] : (uint8_t)(r >> 16);
        }
        vi[i] = wasm_v128_load(b);
        float f[4];
        for (int j = 0; j < 4; j++) f[j] = any_f32();
        vf[i] = wasm_v128_load(f);
        double d[2];
        for (int j = 0; j < 2; j++) d[j] = any_f64();
        vd[i] = wasm_v128_load(d);
    }
}

/* FNV-1a over bytes. */
static uint64_t fnv(uint64_t h, const void *p, size_t n) {
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return h;
}
#define FNV0 0xcbf29ce484222325ull

enum lanes { INT, F32, F64 };

static uint64_t hash_v(uint64_t h, v128_t v, enum lanes kind) {
    uint8_t b[16];
    wasm_v128_store(b, v);
    if (kind == F32) {
        for (int i = 0; i < 4; i++) {
            float f;
            memcpy(&f, b + 4 * i, 4);
            if (isnan(f)) memcpy(b + 4 * i, "\x00\x00\xc0\x7f", 4);
        }
    } else if (kind == F64) {
        for (int i = 0; i < 2; i++) {
            double d;
            memcpy(&d, b + 8 * i, 8);
            if (isnan(d)) memcpy(b + 8 * i, "\x00\x00\x00\x00\x00\x00\xf8\x7f", 8);
        }
    }
    return fnv(h, b, 16);
}

static uint64_t hash_scalar(uint64_t h, uint64_t x) { return fnv(h, &x, 8); }

static void report(const char *name, uint64_t h) { printf("%-34s %016" PRIx64 "\n", name, h); }

/* Operand sets: `a` walks the inputs, `b` and `c` walk them in other orders,
 * and every input is also paired with itself (equal operands). */
#define LOOP(SET, BODY)                                            \
    for (int i = 0; i < N; i++) {                                  \
        v128_t a = SET[i], b = SET[(i * 7 + 3) % N], c = SET[(i * 13 + 5) % N]; \
        if (i % 16 == 0) b = a;                                    \
        (void)b; (void)c;                                          \
        BODY;                                                      \
    }
#define OPV(NAME, SET, KIND, EXPR) do { uint64_t h = FNV0; \
    LOOP(SET, h = hash_v(h, (EXPR), KIND)); report(NAME, h); } while (0)
#define OPS(NAME, SET, EXPR) do { uint64_t h = FNV0; \
    LOOP(SET, h = hash_scalar(h, (uint64_t)(EXPR))); report(NAME, h); } while (0)
/* Float scalars, NaN canonical. */
#define OPF(NAME, SET, EXPR) do { uint64_t h = FNV0; \
    LOOP(SET, { double x_ = (EXPR); uint64_t bits_ = 0x7ff8000000000000ull; \
        if (!isnan(x_)) memcpy(&bits_, &x_, 8); h = hash_scalar(h, bits_); }); \
    report(NAME, h); } while (0)

static void integers(void) {
    OPV("i8x16.add", vi, INT, wasm_i8x16_add(a, b));
    OPV("i8x16.sub", vi, INT, wasm_i8x16_sub(a, b));
    OPV("i8x16.neg", vi, INT, wasm_i8x16_neg(a));
    OPV("i8x16.abs", vi, INT, wasm_i8x16_abs(a));
    OPV("i8x16.add_sat_s", vi, INT, wasm_i8x16_add_sat(a, b));
    OPV("i8x16.add_sat_u", vi, INT, wasm_u8x16_add_sat(a, b));
    OPV("i8x16.sub_sat_s", vi, INT, wasm_i8x16_sub_sat(a, b));
    OPV("i8x16.sub_sat_u", vi, INT, wasm_u8x16_sub_sat(a, b));
    OPV("i8x16.min_s", vi, INT, wasm_i8x16_min(a, b));
    OPV("i8x16.min_u", vi, INT, wasm_u8x16_min(a, b));
    OPV("i8x16.max_s", vi, INT, wasm_i8x16_max(a, b));
    OPV("i8x16.max_u", vi, INT, wasm_u8x16_max(a, b));
    OPV("i8x16.avgr_u", vi, INT, wasm_u8x16_avgr(a, b));
    OPV("i8x16.popcnt", vi, INT, wasm_i8x16_popcnt(a));
    OPV("i8x16.cmp", vi, INT, wasm_v128_xor(wasm_v128_xor(wasm_i8x16_eq(a, b), wasm_i8x16_lt(a, c)),
        wasm_v128_xor(wasm_u8x16_gt(a, b), wasm_v128_and(wasm_u8x16_le(b, c), wasm_i8x16_ge(c, a)))));
    OPV("i8x16.cmp2", vi, INT, wasm_v128_or(wasm_i8x16_ne(a, b), wasm_v128_and(wasm_u8x16_lt(a, c),
        wasm_v128_xor(wasm_u8x16_ge(b, a), wasm_v128_xor(wasm_i8x16_gt(c, b), wasm_i8x16_le(a, c))))));
    OPV("i8x16.shl", vi, INT, wasm_i8x16_shl(a, i % 8));
    OPV("i8x16.shr_s", vi, INT, wasm_i8x16_shr(a, i % 8));
    OPV("i8x16.shr_u", vi, INT, wasm_u8x16_shr(a, i % 8));
    OPV("i8x16.narrow_i16x8_s", vi, INT, wasm_i8x16_narrow_i16x8(a, b));
    OPV("i8x16.narrow_i16x8_u", vi, INT, wasm_u8x16_narrow_i16x8(a, b));
    OPS("i8x16.bitmask", vi, wasm_i8x16_bitmask(a));
    OPS("i8x16.all_true", vi, wasm_i8x16_all_true(wasm_v128_or(a, b)));

    OPV("i16x8.add", vi, INT, wasm_i16x8_add(a, b));
    OPV("i16x8.sub", vi, INT, wasm_i16x8_sub(a, b));
    OPV("i16x8.mul", vi, INT, wasm_i16x8_mul(a, b));
    OPV("i16x8.neg_abs", vi, INT, wasm_v128_xor(wasm_i16x8_neg(a), wasm_i16x8_abs(b)));
    OPV("i16x8.add_sat_s", vi, INT, wasm_i16x8_add_sat(a, b));
    OPV("i16x8.add_sat_u", vi, INT, wasm_u16x8_add_sat(a, b));
    OPV("i16x8.sub_sat_s", vi, INT, wasm_i16x8_sub_sat(a, b));
    OPV("i16x8.sub_sat_u", vi, INT, wasm_u16x8_sub_sat(a, b));
    OPV("i16x8.min_max", vi, INT, wasm_v128_xor(wasm_v128_xor(wasm_i16x8_min(a, b), wasm_u16x8_max(b, c)),
        wasm_i16x8_shl(wasm_v128_xor(wasm_u16x8_min(a, c), wasm_i16x8_max(b, a)), 1)));
    OPV("i16x8.avgr_u", vi, INT, wasm_u16x8_avgr(a, b));
    OPV("i16x8.q15mulr_sat_s", vi, INT, wasm_i16x8_q15mulr_sat(a, b));
    OPV("i16x8.cmp", vi, INT, wasm_v128_xor(wasm_v128_xor(wasm_i16x8_eq(a, b), wasm_i16x8_lt(a, c)),
        wasm_v128_xor(wasm_u16x8_gt(a, b), wasm_v128_and(wasm_u16x8_le(b, c), wasm_i16x8_ge(c, a)))));
    OPV("i16x8.shifts", vi, INT, wasm_v128_xor(wasm_i16x8_shl(a, i % 16),
        wasm_v128_xor(wasm_i16x8_shr(b, i % 16), wasm_u16x8_shr(c, (i * 5) % 16))));
    OPV("i16x8.extend", vi, INT, wasm_v128_xor(wasm_v128_xor(wasm_i16x8_extend_low_i8x16(a),
        wasm_i16x8_extend_high_i8x16(b)), wasm_i16x8_shl(wasm_v128_xor(wasm_u16x8_extend_low_u8x16(c),
        wasm_u16x8_extend_high_u8x16(a)), 3)));
    OPV("i16x8.extmul_s", vi, INT, wasm_v128_xor(wasm_i16x8_extmul_low_i8x16(a, b),
        wasm_i16x8_shl(wasm_i16x8_extmul_high_i8x16(a, c), 2)));
    OPV("i16x8.extmul_u", vi, INT, wasm_v128_xor(wasm_u16x8_extmul_low_u8x16(a, b),
        wasm_i16x8_shl(wasm_u16x8_extmul_high_u8x16(a, c), 2)));
    OPV("i16x8.extadd_pairwise", vi, INT, wasm_v128_xor(wasm_i16x8_extadd_pairwise_i8x16(a),
        wasm_i16x8_shl(wasm_u16x8_extadd_pairwise_u8x16(b), 5)));
    OPV("i16x8.narrow_i32x4_s", vi, INT, wasm_i16x8_narrow_i32x4(a, b));
    OPV("i16x8.narrow_i32x4_u", vi, INT, wasm_u16x8_narrow_i32x4(a, b));
    OPS("i16x8.bitmask", vi, wasm_i16x8_bitmask(a));
    OPS("i16x8.all_true", vi, wasm_i16x8_all_true(wasm_v128_or(a, b)));

    OPV("i32x4.add_sub_mul", vi, INT, wasm_v128_xor(wasm_i32x4_add(a, b),
        wasm_v128_xor(wasm_i32x4_sub(b, c), wasm_i32x4_mul(a, c))));
    OPV("i32x4.neg_abs", vi, INT, wasm_v128_xor(wasm_i32x4_neg(a), wasm_i32x4_shl(wasm_i32x4_abs(b), 1)));
    OPV("i32x4.min_max", vi, INT, wasm_v128_xor(wasm_v128_xor(wasm_i32x4_min(a, b), wasm_u32x4_max(b, c)),
        wasm_i32x4_shl(wasm_v128_xor(wasm_u32x4_min(a, c), wasm_i32x4_max(b, a)), 1)));
    OPV("i32x4.dot_i16x8_s", vi, INT, wasm_i32x4_dot_i16x8(a, b));
    OPV("i32x4.cmp", vi, INT, wasm_v128_xor(wasm_v128_xor(wasm_i32x4_eq(a, b), wasm_i32x4_lt(a, c)),
        wasm_v128_xor(wasm_u32x4_gt(a, b), wasm_v128_and(wasm_u32x4_le(b, c), wasm_i32x4_ge(c, a)))));
    OPV("i32x4.cmp2", vi, INT, wasm_v128_or(wasm_i32x4_ne(a, b), wasm_v128_and(wasm_u32x4_lt(a, c),
        wasm_v128_xor(wasm_u32x4_ge(b, a), wasm_v128_xor(wasm_i32x4_gt(c, b), wasm_i32x4_le(a, c))))));
    OPV("i32x4.shifts", vi, INT, wasm_v128_xor(wasm_i32x4_shl(a, i % 32),
        wasm_v128_xor(wasm_i32x4_shr(b, i % 32), wasm_u32x4_shr(c, (i * 5) % 32))));
    OPV("i32x4.extend", vi, INT, wasm_v128_xor(wasm_v128_xor(wasm_i32x4_extend_low_i16x8(a),
        wasm_i32x4_extend_high_i16x8(b)), wasm_i32x4_shl(wasm_v128_xor(wasm_u32x4_extend_low_u16x8(c),
        wasm_u32x4_extend_high_u16x8(a)), 3)));
    OPV("i32x4.extmul", vi, INT, wasm_v128_xor(wasm_v128_xor(wasm_i32x4_extmul_low_i16x8(a, b),
        wasm_i32x4_extmul_high_i16x8(a, c)), wasm_i32x4_shl(wasm_v128_xor(wasm_u32x4_extmul_low_u16x8(b, c),
        wasm_u32x4_extmul_high_u16x8(c, a)), 1)));
    OPV("i32x4.extadd_pairwise", vi, INT, wasm_v128_xor(wasm_i32x4_extadd_pairwise_i16x8(a),
        wasm_i32x4_shl(wasm_u32x4_extadd_pairwise_u16x8(b), 5)));
    OPS("i32x4.bitmask", vi, wasm_i32x4_bitmask(a));
    OPS("i32x4.all_true", vi, wasm_i32x4_all_true(a) + 2 * wasm_i32x4_all_true(wasm_v128_or(a, b)));

    OPV("i64x2.add_sub_mul", vi, INT, wasm_v128_xor(wasm_i64x2_add(a, b),
        wasm_v128_xor(wasm_i64x2_sub(b, c), wasm_i64x2_mul(a, c))));
    OPV("i64x2.neg_abs", vi, INT, wasm_v128_xor(wasm_i64x2_neg(a), wasm_i64x2_shl(wasm_i64x2_abs(b), 1)));
    OPV("i64x2.cmp", vi, INT, wasm_v128_xor(wasm_v128_xor(wasm_i64x2_eq(a, b), wasm_i64x2_lt(a, c)),
        wasm_v128_xor(wasm_i64x2_gt(a, b), wasm_v128_and(wasm_i64x2_le(b, c), wasm_i64x2_ge(c, a)))));
    OPV("i64x2.ne", vi, INT, wasm_i64x2_ne(a, b));
    OPV("i64x2.shifts", vi, INT, wasm_v128_xor(wasm_i64x2_shl(a, i % 64),
        wasm_v128_xor(wasm_i64x2_shr(b, i % 64), wasm_u64x2_shr(c, (i * 5) % 64))));
    OPV("i64x2.extend", vi, INT, wasm_v128_xor(wasm_v128_xor(wasm_i64x2_extend_low_i32x4(a),
        wasm_i64x2_extend_high_i32x4(b)), wasm_i64x2_shl(wasm_v128_xor(wasm_u64x2_extend_low_u32x4(c),
        wasm_u64x2_extend_high_u32x4(a)), 3)));
    OPV("i64x2.extmul", vi, INT, wasm_v128_xor(wasm_v128_xor(wasm_i64x2_extmul_low_i32x4(a, b),
        wasm_i64x2_extmul_high_i32x4(a, c)), wasm_i64x2_shl(wasm_v128_xor(wasm_u64x2_extmul_low_u32x4(b, c),
        wasm_u64x2_extmul_high_u32x4(c, a)), 1)));
    OPS("i64x2.bitmask", vi, wasm_i64x2_bitmask(a));
    OPS("i64x2.all_true", vi, wasm_i64x2_all_true(a) + 2 * wasm_i64x2_all_true(wasm_v128_or(a, b)));
}

static void floats(void) {
    OPV("f32x4.add", vf, F32, wasm_f32x4_add(a, b));
    OPV("f32x4.sub", vf, F32, wasm_f32x4_sub(a, b));
    OPV("f32x4.mul", vf, F32, wasm_f32x4_mul(a, b));
    OPV("f32x4.div", vf, F32, wasm_f32x4_div(a, b));
    OPV("f32x4.sqrt", vf, F32, wasm_f32x4_sqrt(a));
    OPV("f32x4.min", vf, F32, wasm_f32x4_min(a, b));
    OPV("f32x4.max", vf, F32, wasm_f32x4_max(a, b));
    OPV("f32x4.pmin", vf, F32, wasm_f32x4_pmin(a, b));
    OPV("f32x4.pmax", vf, F32, wasm_f32x4_pmax(a, b));
    OPV("f32x4.abs", vf, F32, wasm_f32x4_abs(a));
    OPV("f32x4.neg", vf, F32, wasm_f32x4_neg(a));
    OPV("f32x4.ceil", vf, F32, wasm_f32x4_ceil(a));
    OPV("f32x4.floor", vf, F32, wasm_f32x4_floor(a));
    OPV("f32x4.trunc", vf, F32, wasm_f32x4_trunc(a));
    OPV("f32x4.nearest", vf, F32, wasm_f32x4_nearest(a));
    OPV("f32x4.cmp", vf, INT, wasm_v128_xor(wasm_v128_xor(wasm_f32x4_eq(a, b), wasm_f32x4_lt(a, c)),
        wasm_v128_xor(wasm_f32x4_gt(a, b), wasm_v128_and(wasm_f32x4_le(b, c), wasm_f32x4_ge(c, a)))));
    OPV("f32x4.ne", vf, INT, wasm_f32x4_ne(a, b));
    OPV("i32x4.trunc_sat_f32x4_s", vf, INT, wasm_i32x4_trunc_sat_f32x4(a));
    OPV("i32x4.trunc_sat_f32x4_u", vf, INT, wasm_u32x4_trunc_sat_f32x4(a));
    OPV("f32x4.convert_i32x4_s", vi, F32, wasm_f32x4_convert_i32x4(a));
    OPV("f32x4.convert_i32x4_u", vi, F32, wasm_f32x4_convert_u32x4(a));
    OPV("f32x4.demote_f64x2_zero", vd, F32, wasm_f32x4_demote_f64x2_zero(a));
    OPF("f32x4.extract_lane", vf, wasm_f32x4_extract_lane(a, 0) + wasm_f32x4_extract_lane(b, 3));

    OPV("f64x2.add", vd, F64, wasm_f64x2_add(a, b));
    OPV("f64x2.sub", vd, F64, wasm_f64x2_sub(a, b));
    OPV("f64x2.mul", vd, F64, wasm_f64x2_mul(a, b));
    OPV("f64x2.div", vd, F64, wasm_f64x2_div(a, b));
    OPV("f64x2.sqrt", vd, F64, wasm_f64x2_sqrt(a));
    OPV("f64x2.min", vd, F64, wasm_f64x2_min(a, b));
    OPV("f64x2.max", vd, F64, wasm_f64x2_max(a, b));
    OPV("f64x2.pmin", vd, F64, wasm_f64x2_pmin(a, b));
    OPV("f64x2.pmax", vd, F64, wasm_f64x2_pmax(a, b));
    OPV("f64x2.abs_neg", vd, F64, wasm_f64x2_neg(wasm_f64x2_abs(a)));
    OPV("f64x2.ceil", vd, F64, wasm_f64x2_ceil(a));
    OPV("f64x2.floor", vd, F64, wasm_f64x2_floor(a));
    OPV("f64x2.trunc", vd, F64, wasm_f64x2_trunc(a));
    OPV("f64x2.nearest", vd, F64, wasm_f64x2_nearest(a));
    OPV("f64x2.cmp", vd, INT, wasm_v128_xor(wasm_v128_xor(wasm_f64x2_eq(a, b), wasm_f64x2_lt(a, c)),
        wasm_v128_xor(wasm_f64x2_gt(a, b), wasm_v128_and(wasm_f64x2_le(b, c), wasm_f64x2_ge(c, a)))));
    OPV("f64x2.ne", vd, INT, wasm_f64x2_ne(a, b));
    OPV("i32x4.trunc_sat_f64x2_s_zero", vd, INT, wasm_i32x4_trunc_sat_f64x2_zero(a));
    OPV("i32x4.trunc_sat_f64x2_u_zero", vd, INT, wasm_u32x4_trunc_sat_f64x2_zero(a));
    OPV("f64x2.convert_low_i32x4_s", vi, F64, wasm_f64x2_convert_low_i32x4(a));
    OPV("f64x2.convert_low_i32x4_u", vi, F64, wasm_f64x2_convert_low_u32x4(a));
    OPV("f64x2.promote_low_f32x4", vf, F64, wasm_f64x2_promote_low_f32x4(a));
    OPF("f64x2.extract_lane", vd, wasm_f64x2_extract_lane(a, 1) * wasm_f64x2_extract_lane(b, 0));
}

static void lanes(void) {
    OPV("i8x16.shuffle", vi, INT, wasm_i8x16_shuffle(a, b, 0, 17, 2, 19, 31, 30, 7, 7, 16, 8, 9, 24, 12, 13, 1, 15));
    OPV("i32x4.shuffle", vi, INT, wasm_i32x4_shuffle(a, b, 3, 6, 1, 4));
    OPV("i8x16.swizzle", vi, INT, wasm_i8x16_swizzle(a, b));
    OPV("i8x16.swizzle_small", vi, INT, wasm_i8x16_swizzle(a, wasm_v128_and(b, wasm_i8x16_splat(0x1f))));
    OPV("splats", vi, INT, wasm_v128_xor(wasm_i8x16_splat((int8_t)wasm_i32x4_extract_lane(a, 0)),
        wasm_v128_xor(wasm_i16x8_splat(wasm_i16x8_extract_lane(b, 5)),
        wasm_v128_xor(wasm_i32x4_splat(wasm_i32x4_extract_lane(c, 2)), wasm_i64x2_splat(wasm_i64x2_extract_lane(a, 1))))));
    OPV("float_splats", vf, INT, wasm_v128_xor(wasm_f32x4_splat(wasm_f32x4_extract_lane(a, 2)),
        wasm_f64x2_splat((double)wasm_f32x4_extract_lane(b, 1))));
    OPS("extract_lanes", vi, (int64_t)wasm_i8x16_extract_lane(a, 15) + 3 * wasm_u8x16_extract_lane(b, 3)
        + 7 * wasm_i16x8_extract_lane(c, 7) + 11 * (int64_t)wasm_u16x8_extract_lane(a, 0)
        + 13 * (int64_t)wasm_i32x4_extract_lane(b, 1) + 17 * wasm_i64x2_extract_lane(c, 0));
    OPV("replace_lanes", vi, INT, wasm_i8x16_replace_lane(wasm_i16x8_replace_lane(wasm_i32x4_replace_lane(
        wasm_i64x2_replace_lane(a, 1, wasm_i64x2_extract_lane(b, 0)), 1, wasm_i32x4_extract_lane(c, 3)),
        7, (int16_t)i), 0, (int8_t)(i * 3)));
    OPV("replace_float_lanes", vf, F32, wasm_f32x4_replace_lane(a, 2, wasm_f32x4_extract_lane(b, 1)));
    OPV("replace_double_lanes", vd, F64, wasm_f64x2_replace_lane(a, 0, wasm_f64x2_extract_lane(b, 1)));
    OPV("bitwise", vi, INT, wasm_v128_xor(wasm_v128_bitselect(a, b, c),
        wasm_v128_or(wasm_v128_andnot(a, b), wasm_v128_not(c))));
    OPS("any_true", vi, wasm_v128_any_true(wasm_v128_and(a, b)) + 2 * wasm_v128_any_true(wasm_v128_andnot(a, a)));
    OPV("make", vi, INT, wasm_i32x4_make(wasm_i32x4_extract_lane(a, 0), i, -i, wasm_i32x4_extract_lane(b, 3)));
}

static uint8_t mem[512];

static void memory(void) {
    for (int i = 0; i < (int)sizeof mem; i++) mem[i] = (uint8_t)(next() >> 24);
    uint64_t h = FNV0;
#define MEMOP(NAME, EXPR) do { h = FNV0; for (int o = 0; o < 480; o += 3) h = hash_v(h, (EXPR), INT); \
        report(NAME, h); } while (0)
    MEMOP("v128.load", wasm_v128_load(mem + o));
    MEMOP("v128.load_splat", wasm_v128_xor(wasm_v128_xor(wasm_v128_load8_splat(mem + o),
        wasm_v128_load16_splat(mem + o + 1)), wasm_v128_xor(wasm_v128_load32_splat(mem + o + 2),
        wasm_v128_load64_splat(mem + o + 3))));
    MEMOP("v128.load_extend_s", wasm_v128_xor(wasm_i16x8_load8x8(mem + o),
        wasm_v128_xor(wasm_i32x4_load16x4(mem + o + 5), wasm_i64x2_load32x2(mem + o + 9))));
    MEMOP("v128.load_extend_u", wasm_v128_xor(wasm_u16x8_load8x8(mem + o),
        wasm_v128_xor(wasm_u32x4_load16x4(mem + o + 5), wasm_u64x2_load32x2(mem + o + 9))));
    MEMOP("v128.load_zero", wasm_v128_xor(wasm_v128_load32_zero(mem + o), wasm_i64x2_shl(wasm_v128_load64_zero(mem + o + 1), 1)));
    MEMOP("v128.load_lane", wasm_v128_load8_lane(mem + o, wasm_v128_load16_lane(mem + o + 1,
        wasm_v128_load32_lane(mem + o + 2, wasm_v128_load64_lane(mem + o + 3, vi[o % N], 1), 2), 5), 14));
    for (int o = 0; o < 400; o += 5) {
        v128_t v = vi[o % N];
        wasm_v128_store(mem + o + 7, v);
        wasm_v128_store8_lane(mem + o, v, 9);
        wasm_v128_store16_lane(mem + o + 2, v, 3);
        wasm_v128_store32_lane(mem + o + 31, v, 1);
        wasm_v128_store64_lane(mem + o + 40, v, 0);
    }
    report("v128.store", fnv(FNV0, mem, sizeof mem));
}

/* ---- kernels ---- */

/* Saturating blend of two 8-bit images, then the average with a third. */
static void kernel_blend(void) {
    static uint8_t x[4096], y[4096], z[4096], out[4096];
    for (int i = 0; i < 4096; i++) {
        x[i] = (uint8_t)(i * 7);
        y[i] = (uint8_t)(next() >> 40);
        z[i] = (uint8_t)(i ^ 0x5a);
    }
    for (int i = 0; i < 4096; i += 16) {
        v128_t s = wasm_u8x16_add_sat(wasm_v128_load(x + i), wasm_v128_load(y + i));
        wasm_v128_store(out + i, wasm_u8x16_avgr(s, wasm_v128_load(z + i)));
    }
    report("kernel.blend", fnv(FNV0, out, sizeof out));
}

/* 4x4 float matrix products, chained. */
static void kernel_matmul(void) {
    float m[16], acc[16];
    for (int i = 0; i < 16; i++) {
        m[i] = (float)((int)(i * 37 % 11) - 5) / 8.0f;
        acc[i] = i % 5 == 0 ? 1.0f : 0.0f;
    }
    for (int round = 0; round < 64; round++) {
        float r[16];
        for (int row = 0; row < 4; row++) {
            v128_t sum = wasm_f32x4_splat(0.0f);
            for (int k = 0; k < 4; k++)
                sum = wasm_f32x4_add(sum, wasm_f32x4_mul(wasm_f32x4_splat(acc[row * 4 + k]),
                                                         wasm_v128_load(m + k * 4)));
            wasm_v128_store(r + row * 4, sum);
        }
        memcpy(acc, r, sizeof acc);
    }
    report("kernel.matmul", fnv(FNV0, acc, sizeof acc));
}

/* strlen over 16-byte blocks with a compare and a bitmask. */
static void kernel_strlen(void) {
    static char text[2048];
    uint64_t h = FNV0;
    for (int len = 0; len < 1900; len += 37) {
        memset(text, 'a', sizeof text);
        text[len] = 0;
        size_t n = 0;
        for (;; n += 16) {
            uint32_t mask = wasm_i8x16_bitmask(wasm_i8x16_eq(wasm_v128_load(text + n), wasm_i8x16_splat(0)));
            if (mask) {
                n += __builtin_ctz(mask);
                break;
            }
        }
        h = hash_scalar(h, n);
    }
    report("kernel.strlen", h);
}

/* Integer dot products of 16-bit samples (an FIR filter). */
static void kernel_fir(void) {
    static int16_t sig[1024 + 8];
    int16_t taps[8] = {3, -7, 12, 100, 100, 12, -7, 3};
    for (int i = 0; i < 1032; i++) sig[i] = (int16_t)((int)(next() >> 48) - 32768);
    v128_t t = wasm_v128_load(taps);
    uint64_t h = FNV0;
    for (int i = 0; i < 1024; i++) {
        v128_t p = wasm_i32x4_dot_i16x8(wasm_v128_load(sig + i), t);
        int32_t s = wasm_i32x4_extract_lane(p, 0) + wasm_i32x4_extract_lane(p, 1)
                  + wasm_i32x4_extract_lane(p, 2) + wasm_i32x4_extract_lane(p, 3);
        h = hash_scalar(h, (uint32_t)s);
    }
    report("kernel.fir", h);
}

int main(void) {
    setup();
    integers();
    floats();
    lanes();
    memory();
    kernel_blend();
    kernel_matmul();
    kernel_strlen();
    kernel_fir();
    printf("done\n");
    return 0;
}
