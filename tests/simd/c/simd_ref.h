/* A scalar reference implementation of the subset of <wasm_simd128.h> that
 * simd.c uses, written from the WebAssembly SIMD specification
 * (https://webassembly.github.io/spec/core/exec/numerics.html), so the same
 * program can be compiled natively and its output compared with the wasm
 * build run by cljit. Each intrinsic is a lane loop over a union; nothing
 * here uses the host's vector instructions. */
#ifndef SIMD_REF_H
#define SIMD_REF_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

typedef union {
    int8_t i8[16];
    uint8_t u8[16];
    int16_t i16[8];
    uint16_t u16[8];
    int32_t i32[4];
    uint32_t u32[4];
    int64_t i64[2];
    uint64_t u64[2];
    float f32[4];
    double f64[2];
} v128_t;

#define REF static inline
/* r.F[i] = EXPR over i < N, with `a`, `b` the operands. */
#define LANES1(N, F, EXPR) { v128_t r; for (int i = 0; i < N; i++) r.F[i] = (EXPR); return r; }

/* ---- memory ---- */
REF v128_t wasm_v128_load(const void *p) { v128_t r; memcpy(&r, p, 16); return r; }
REF void wasm_v128_store(void *p, v128_t v) { memcpy(p, &v, 16); }
#define REF_SPLAT_LOAD(NAME, T, F, N) \
    REF v128_t NAME(const void *p) { T x; memcpy(&x, p, sizeof x); LANES1(N, F, x) }
REF_SPLAT_LOAD(wasm_v128_load8_splat, uint8_t, u8, 16)
REF_SPLAT_LOAD(wasm_v128_load16_splat, uint16_t, u16, 8)
REF_SPLAT_LOAD(wasm_v128_load32_splat, uint32_t, u32, 4)
REF_SPLAT_LOAD(wasm_v128_load64_splat, uint64_t, u64, 2)
#define REF_EXT_LOAD(NAME, T, F, N) \
    REF v128_t NAME(const void *p) { T x[N]; memcpy(x, p, sizeof x); LANES1(N, F, x[i]) }
REF_EXT_LOAD(wasm_i16x8_load8x8, int8_t, i16, 8)
REF_EXT_LOAD(wasm_u16x8_load8x8, uint8_t, u16, 8)
REF_EXT_LOAD(wasm_i32x4_load16x4, int16_t, i32, 4)
REF_EXT_LOAD(wasm_u32x4_load16x4, uint16_t, u32, 4)
REF_EXT_LOAD(wasm_i64x2_load32x2, int32_t, i64, 2)
REF_EXT_LOAD(wasm_u64x2_load32x2, uint32_t, u64, 2)
REF v128_t wasm_v128_load32_zero(const void *p) { v128_t r = {0}; memcpy(&r, p, 4); return r; }
REF v128_t wasm_v128_load64_zero(const void *p) { v128_t r = {0}; memcpy(&r, p, 8); return r; }
#define REF_LANE_MEM(BITS, F) \
    REF v128_t wasm_v128_load##BITS##_lane(const void *p, v128_t v, int l) { \
        memcpy(&v.F[l], p, BITS / 8); return v; } \
    REF void wasm_v128_store##BITS##_lane(void *p, v128_t v, int l) { memcpy(p, &v.F[l], BITS / 8); }
REF_LANE_MEM(8, u8)
REF_LANE_MEM(16, u16)
REF_LANE_MEM(32, u32)
REF_LANE_MEM(64, u64)

/* ---- construction and lanes ---- */
REF v128_t wasm_i8x16_splat(int8_t x) { LANES1(16, i8, x) }
REF v128_t wasm_i16x8_splat(int16_t x) { LANES1(8, i16, x) }
REF v128_t wasm_i32x4_splat(int32_t x) { LANES1(4, i32, x) }
REF v128_t wasm_i64x2_splat(int64_t x) { LANES1(2, i64, x) }
REF v128_t wasm_f32x4_splat(float x) { LANES1(4, f32, x) }
REF v128_t wasm_f64x2_splat(double x) { LANES1(2, f64, x) }
REF v128_t wasm_i32x4_make(int32_t a, int32_t b, int32_t c, int32_t d) {
    v128_t r; r.i32[0] = a; r.i32[1] = b; r.i32[2] = c; r.i32[3] = d; return r; }
REF v128_t wasm_f32x4_make(float a, float b, float c, float d) {
    v128_t r; r.f32[0] = a; r.f32[1] = b; r.f32[2] = c; r.f32[3] = d; return r; }
#define wasm_i8x16_extract_lane(v, l) ((v).i8[l])
#define wasm_u8x16_extract_lane(v, l) ((v).u8[l])
#define wasm_i16x8_extract_lane(v, l) ((v).i16[l])
#define wasm_u16x8_extract_lane(v, l) ((v).u16[l])
#define wasm_i32x4_extract_lane(v, l) ((v).i32[l])
#define wasm_i64x2_extract_lane(v, l) ((v).i64[l])
#define wasm_f32x4_extract_lane(v, l) ((v).f32[l])
#define wasm_f64x2_extract_lane(v, l) ((v).f64[l])
#define REF_REPLACE(NAME, T, F) REF v128_t NAME(v128_t v, int l, T x) { v.F[l] = x; return v; }
REF_REPLACE(wasm_i8x16_replace_lane, int8_t, i8)
REF_REPLACE(wasm_i16x8_replace_lane, int16_t, i16)
REF_REPLACE(wasm_i32x4_replace_lane, int32_t, i32)
REF_REPLACE(wasm_i64x2_replace_lane, int64_t, i64)
REF_REPLACE(wasm_f32x4_replace_lane, float, f32)
REF_REPLACE(wasm_f64x2_replace_lane, double, f64)
REF v128_t ref_shuffle8(v128_t a, v128_t b, const int *idx) {
    v128_t r; for (int i = 0; i < 16; i++) r.u8[i] = idx[i] < 16 ? a.u8[idx[i]] : b.u8[idx[i] - 16];
    return r; }
REF v128_t ref_shuffle32(v128_t a, v128_t b, const int *idx) {
    v128_t r; for (int i = 0; i < 4; i++) r.u32[i] = idx[i] < 4 ? a.u32[idx[i]] : b.u32[idx[i] - 4];
    return r; }
#define wasm_i8x16_shuffle(a, b, ...) ref_shuffle8((a), (b), (const int[16]){__VA_ARGS__})
#define wasm_i32x4_shuffle(a, b, ...) ref_shuffle32((a), (b), (const int[4]){__VA_ARGS__})
REF v128_t wasm_i8x16_swizzle(v128_t a, v128_t s) { LANES1(16, u8, s.u8[i] < 16 ? a.u8[s.u8[i]] : 0) }

/* ---- bitwise and reductions ---- */
REF v128_t wasm_v128_not(v128_t a) { LANES1(2, u64, ~a.u64[i]) }
REF v128_t wasm_v128_and(v128_t a, v128_t b) { LANES1(2, u64, a.u64[i] & b.u64[i]) }
REF v128_t wasm_v128_or(v128_t a, v128_t b) { LANES1(2, u64, a.u64[i] | b.u64[i]) }
REF v128_t wasm_v128_xor(v128_t a, v128_t b) { LANES1(2, u64, a.u64[i] ^ b.u64[i]) }
REF v128_t wasm_v128_andnot(v128_t a, v128_t b) { LANES1(2, u64, a.u64[i] & ~b.u64[i]) }
REF v128_t wasm_v128_bitselect(v128_t a, v128_t b, v128_t c) {
    LANES1(2, u64, (a.u64[i] & c.u64[i]) | (b.u64[i] & ~c.u64[i])) }
REF bool wasm_v128_any_true(v128_t a) { return (a.u64[0] | a.u64[1]) != 0; }
#define REF_REDUCE(SHAPE, F, N) \
    REF bool wasm_##SHAPE##_all_true(v128_t a) { \
        for (int i = 0; i < N; i++) { if (a.F[i] == 0) return false; } return true; } \
    REF uint32_t wasm_##SHAPE##_bitmask(v128_t a) { \
        uint32_t m = 0; for (int i = 0; i < N; i++) { m |= (uint32_t)(a.F[i] < 0) << i; } return m; }
REF_REDUCE(i8x16, i8, 16)
REF_REDUCE(i16x8, i16, 8)
REF_REDUCE(i32x4, i32, 4)
REF_REDUCE(i64x2, i64, 2)

/* ---- integer lane arithmetic ---- */
#define SAT(x, lo, hi) ((x) < (lo) ? (lo) : (x) > (hi) ? (hi) : (x))
#define REF_BIN(NAME, N, F, EXPR) REF v128_t NAME(v128_t a, v128_t b) { LANES1(N, F, EXPR) }
#define REF_UN(NAME, N, F, EXPR) REF v128_t NAME(v128_t a) { LANES1(N, F, EXPR) }
/* Masks: all ones where true. */
#define REF_CMP(SHAPE, N, F, NAME, OP) REF_BIN(wasm_##SHAPE##_##NAME, N, F, a.F[i] OP b.F[i] ? -1 : 0)
#define REF_CMPS(SHAPE, N, F, MASK) \
    REF_CMP(SHAPE, N, F, eq, ==) REF_CMP(SHAPE, N, F, ne, !=) REF_CMP(SHAPE, N, F, lt, <) \
    REF_CMP(SHAPE, N, F, gt, >) REF_CMP(SHAPE, N, F, le, <=) REF_CMP(SHAPE, N, F, ge, >=)
#define REF_UCMPS(SHAPE, N, F, MF) \
    REF_BIN(wasm_##SHAPE##_lt, N, MF, a.F[i] < b.F[i] ? -1 : 0) \
    REF_BIN(wasm_##SHAPE##_gt, N, MF, a.F[i] > b.F[i] ? -1 : 0) \
    REF_BIN(wasm_##SHAPE##_le, N, MF, a.F[i] <= b.F[i] ? -1 : 0) \
    REF_BIN(wasm_##SHAPE##_ge, N, MF, a.F[i] >= b.F[i] ? -1 : 0)
REF_CMPS(i8x16, 16, i8, i8)
REF_CMPS(i16x8, 8, i16, i16)
REF_CMPS(i32x4, 4, i32, i32)
REF_CMPS(i64x2, 2, i64, i64)
REF_UCMPS(u8x16, 16, u8, i8)
REF_UCMPS(u16x8, 8, u16, i16)
REF_UCMPS(u32x4, 4, u32, i32)

#define REF_INT_COMMON(SHAPE, USHAPE, N, S, U, BITS, ST, UT) \
    REF_BIN(wasm_##SHAPE##_add, N, U, (UT)(a.U[i] + b.U[i])) \
    REF_BIN(wasm_##SHAPE##_sub, N, U, (UT)(a.U[i] - b.U[i])) \
    REF_UN(wasm_##SHAPE##_neg, N, U, (UT)(0 - (UT)a.U[i])) \
    REF_UN(wasm_##SHAPE##_abs, N, U, a.S[i] < 0 ? (UT)(0 - (UT)a.U[i]) : a.U[i]) \
    REF v128_t wasm_##SHAPE##_shl(v128_t a, uint32_t n) { LANES1(N, U, (UT)(a.U[i] << (n % BITS))) } \
    REF v128_t wasm_##SHAPE##_shr(v128_t a, uint32_t n) { LANES1(N, S, (ST)(a.S[i] >> (n % BITS))) } \
    REF v128_t wasm_##USHAPE##_shr(v128_t a, uint32_t n) { LANES1(N, U, (UT)(a.U[i] >> (n % BITS))) }
REF_INT_COMMON(i8x16, u8x16, 16, i8, u8, 8, int8_t, uint8_t)
REF_INT_COMMON(i16x8, u16x8, 8, i16, u16, 16, int16_t, uint16_t)
REF_INT_COMMON(i32x4, u32x4, 4, i32, u32, 32, int32_t, uint32_t)
REF_INT_COMMON(i64x2, u64x2, 2, i64, u64, 64, int64_t, uint64_t)

#define REF_MINMAX(SHAPE, USHAPE, N, S, U) \
    REF_BIN(wasm_##SHAPE##_min, N, S, a.S[i] < b.S[i] ? a.S[i] : b.S[i]) \
    REF_BIN(wasm_##SHAPE##_max, N, S, a.S[i] > b.S[i] ? a.S[i] : b.S[i]) \
    REF_BIN(wasm_##USHAPE##_min, N, U, a.U[i] < b.U[i] ? a.U[i] : b.U[i]) \
    REF_BIN(wasm_##USHAPE##_max, N, U, a.U[i] > b.U[i] ? a.U[i] : b.U[i])
REF_MINMAX(i8x16, u8x16, 16, i8, u8)
REF_MINMAX(i16x8, u16x8, 8, i16, u16)
REF_MINMAX(i32x4, u32x4, 4, i32, u32)

#define REF_SAT(SHAPE, USHAPE, N, S, U, SMIN, SMAX, UMAX) \
    REF_BIN(wasm_##SHAPE##_add_sat, N, S, SAT((int)a.S[i] + (int)b.S[i], SMIN, SMAX)) \
    REF_BIN(wasm_##SHAPE##_sub_sat, N, S, SAT((int)a.S[i] - (int)b.S[i], SMIN, SMAX)) \
    REF_BIN(wasm_##USHAPE##_add_sat, N, U, SAT((int)a.U[i] + (int)b.U[i], 0, UMAX)) \
    REF_BIN(wasm_##USHAPE##_sub_sat, N, U, SAT((int)a.U[i] - (int)b.U[i], 0, UMAX)) \
    REF_BIN(wasm_##USHAPE##_avgr, N, U, ((unsigned)a.U[i] + b.U[i] + 1) >> 1)
REF_SAT(i8x16, u8x16, 16, i8, u8, -128, 127, 255)
REF_SAT(i16x8, u16x8, 8, i16, u16, -32768, 32767, 65535)

REF_BIN(wasm_i16x8_mul, 8, u16, (uint16_t)((uint32_t)a.u16[i] * b.u16[i]))
REF_BIN(wasm_i32x4_mul, 4, u32, a.u32[i] * b.u32[i])
REF_BIN(wasm_i64x2_mul, 2, u64, a.u64[i] * b.u64[i])
REF_UN(wasm_i8x16_popcnt, 16, u8, __builtin_popcount(a.u8[i]))
REF_BIN(wasm_i16x8_q15mulr_sat, 8, i16, SAT(((int32_t)a.i16[i] * b.i16[i] + 0x4000) >> 15, -32768, 32767))
REF_BIN(wasm_i32x4_dot_i16x8, 4, i32,
        (int32_t)((uint32_t)(a.i16[2 * i] * b.i16[2 * i]) + (uint32_t)(a.i16[2 * i + 1] * b.i16[2 * i + 1])))

/* ---- widening and narrowing ---- */
#define REF_WIDEN(NAME, N, TO, FROM, OFF) REF_UN(NAME, N, TO, a.FROM[i + OFF])
REF_WIDEN(wasm_i16x8_extend_low_i8x16, 8, i16, i8, 0)
REF_WIDEN(wasm_i16x8_extend_high_i8x16, 8, i16, i8, 8)
REF_WIDEN(wasm_u16x8_extend_low_u8x16, 8, u16, u8, 0)
REF_WIDEN(wasm_u16x8_extend_high_u8x16, 8, u16, u8, 8)
REF_WIDEN(wasm_i32x4_extend_low_i16x8, 4, i32, i16, 0)
REF_WIDEN(wasm_i32x4_extend_high_i16x8, 4, i32, i16, 4)
REF_WIDEN(wasm_u32x4_extend_low_u16x8, 4, u32, u16, 0)
REF_WIDEN(wasm_u32x4_extend_high_u16x8, 4, u32, u16, 4)
REF_WIDEN(wasm_i64x2_extend_low_i32x4, 2, i64, i32, 0)
REF_WIDEN(wasm_i64x2_extend_high_i32x4, 2, i64, i32, 2)
REF_WIDEN(wasm_u64x2_extend_low_u32x4, 2, u64, u32, 0)
REF_WIDEN(wasm_u64x2_extend_high_u32x4, 2, u64, u32, 2)
#define REF_EXTMUL(NAME, N, TO, FROM, OFF, WT) REF_BIN(NAME, N, TO, (WT)a.FROM[i + OFF] * (WT)b.FROM[i + OFF])
REF_EXTMUL(wasm_i16x8_extmul_low_i8x16, 8, i16, i8, 0, int32_t)
REF_EXTMUL(wasm_i16x8_extmul_high_i8x16, 8, i16, i8, 8, int32_t)
REF_EXTMUL(wasm_u16x8_extmul_low_u8x16, 8, u16, u8, 0, uint32_t)
REF_EXTMUL(wasm_u16x8_extmul_high_u8x16, 8, u16, u8, 8, uint32_t)
REF_EXTMUL(wasm_i32x4_extmul_low_i16x8, 4, i32, i16, 0, int32_t)
REF_EXTMUL(wasm_i32x4_extmul_high_i16x8, 4, i32, i16, 4, int32_t)
REF_EXTMUL(wasm_u32x4_extmul_low_u16x8, 4, u32, u16, 0, uint32_t)
REF_EXTMUL(wasm_u32x4_extmul_high_u16x8, 4, u32, u16, 4, uint32_t)
REF_EXTMUL(wasm_i64x2_extmul_low_i32x4, 2, i64, i32, 0, int64_t)
REF_EXTMUL(wasm_i64x2_extmul_high_i32x4, 2, i64, i32, 2, int64_t)
REF_EXTMUL(wasm_u64x2_extmul_low_u32x4, 2, u64, u32, 0, uint64_t)
REF_EXTMUL(wasm_u64x2_extmul_high_u32x4, 2, u64, u32, 2, uint64_t)
REF_UN(wasm_i16x8_extadd_pairwise_i8x16, 8, i16, a.i8[2 * i] + a.i8[2 * i + 1])
REF_UN(wasm_u16x8_extadd_pairwise_u8x16, 8, u16, a.u8[2 * i] + a.u8[2 * i + 1])
REF_UN(wasm_i32x4_extadd_pairwise_i16x8, 4, i32, a.i16[2 * i] + a.i16[2 * i + 1])
REF_UN(wasm_u32x4_extadd_pairwise_u16x8, 4, u32, (uint32_t)a.u16[2 * i] + a.u16[2 * i + 1])
/* Narrowing reads signed lanes, a's then b's, and saturates. */
#define REF_NARROW(NAME, N, TO, FROM, LO, HI) \
    REF v128_t NAME(v128_t a, v128_t b) { v128_t r; for (int i = 0; i < N; i++) { \
        int64_t x = i < N / 2 ? a.FROM[i] : b.FROM[i - N / 2]; r.TO[i] = SAT(x, LO, HI); } return r; }
REF_NARROW(wasm_i8x16_narrow_i16x8, 16, i8, i16, -128, 127)
REF_NARROW(wasm_u8x16_narrow_i16x8, 16, u8, i16, 0, 255)
REF_NARROW(wasm_i16x8_narrow_i32x4, 8, i16, i32, -32768, 32767)
REF_NARROW(wasm_u16x8_narrow_i32x4, 8, u16, i32, 0, 65535)

/* ---- floats ---- */
/* wasm min/max: NaN if either is NaN; -0 is below +0. Used for f32 lanes
 * too: promotion to double and back is exact. */
REF double ref_fmin(double a, double b) {
    if (isnan(a) || isnan(b)) return NAN;
    if (a == 0 && b == 0) return signbit(a) ? a : b;
    return a < b ? a : b; }
REF double ref_fmax(double a, double b) {
    if (isnan(a) || isnan(b)) return NAN;
    if (a == 0 && b == 0) return signbit(a) ? b : a;
    return a > b ? a : b; }
#define REF_FLOAT(SHAPE, N, F, SUF, MIN, MAX) \
    REF_BIN(wasm_##SHAPE##_add, N, F, a.F[i] + b.F[i]) \
    REF_BIN(wasm_##SHAPE##_sub, N, F, a.F[i] - b.F[i]) \
    REF_BIN(wasm_##SHAPE##_mul, N, F, a.F[i] * b.F[i]) \
    REF_BIN(wasm_##SHAPE##_div, N, F, a.F[i] / b.F[i]) \
    REF_BIN(wasm_##SHAPE##_min, N, F, MIN(a.F[i], b.F[i])) \
    REF_BIN(wasm_##SHAPE##_max, N, F, MAX(a.F[i], b.F[i])) \
    REF_BIN(wasm_##SHAPE##_pmin, N, F, b.F[i] < a.F[i] ? b.F[i] : a.F[i]) \
    REF_BIN(wasm_##SHAPE##_pmax, N, F, a.F[i] < b.F[i] ? b.F[i] : a.F[i]) \
    REF_UN(wasm_##SHAPE##_sqrt, N, F, sqrt##SUF(a.F[i])) \
    REF_UN(wasm_##SHAPE##_abs, N, F, fabs##SUF(a.F[i])) \
    REF_UN(wasm_##SHAPE##_neg, N, F, -a.F[i]) \
    REF_UN(wasm_##SHAPE##_ceil, N, F, ceil##SUF(a.F[i])) \
    REF_UN(wasm_##SHAPE##_floor, N, F, floor##SUF(a.F[i])) \
    REF_UN(wasm_##SHAPE##_trunc, N, F, trunc##SUF(a.F[i])) \
    REF_UN(wasm_##SHAPE##_nearest, N, F, nearbyint##SUF(a.F[i]))
REF_FLOAT(f32x4, 4, f32, f, ref_fmin, ref_fmax)
REF_FLOAT(f64x2, 2, f64, , ref_fmin, ref_fmax)
/* Float comparisons give integer masks of the same width; NaN compares
 * unequal and unordered. */
#define REF_FCMP(SHAPE, N, F, M) \
    REF_BIN(wasm_##SHAPE##_eq, N, M, a.F[i] == b.F[i] ? -1 : 0) \
    REF_BIN(wasm_##SHAPE##_ne, N, M, a.F[i] != b.F[i] ? -1 : 0) \
    REF_BIN(wasm_##SHAPE##_lt, N, M, a.F[i] < b.F[i] ? -1 : 0) \
    REF_BIN(wasm_##SHAPE##_gt, N, M, a.F[i] > b.F[i] ? -1 : 0) \
    REF_BIN(wasm_##SHAPE##_le, N, M, a.F[i] <= b.F[i] ? -1 : 0) \
    REF_BIN(wasm_##SHAPE##_ge, N, M, a.F[i] >= b.F[i] ? -1 : 0)
REF_FCMP(f32x4, 4, f32, i32)
REF_FCMP(f64x2, 2, f64, i64)

/* Saturating float-to-int: NaN is 0, out of range clamps. */
REF int32_t ref_sat_s32(double x) {
    if (isnan(x)) return 0;
    if (x <= -2147483648.0) return INT32_MIN;
    if (x >= 2147483647.0) return x >= 2147483648.0 ? INT32_MAX : (int32_t)trunc(x);
    return (int32_t)trunc(x); }
REF uint32_t ref_sat_u32(double x) {
    if (isnan(x) || x <= -1.0) return 0;
    if (x >= 4294967296.0) return UINT32_MAX;
    return (uint32_t)trunc(x); }
REF_UN(wasm_i32x4_trunc_sat_f32x4, 4, i32, ref_sat_s32(a.f32[i]))
REF_UN(wasm_u32x4_trunc_sat_f32x4, 4, u32, ref_sat_u32(a.f32[i]))
REF_UN(wasm_i32x4_trunc_sat_f64x2_zero, 4, i32, i < 2 ? ref_sat_s32(a.f64[i]) : 0)
REF_UN(wasm_u32x4_trunc_sat_f64x2_zero, 4, u32, i < 2 ? ref_sat_u32(a.f64[i]) : 0)
REF_UN(wasm_f32x4_convert_i32x4, 4, f32, (float)a.i32[i])
REF_UN(wasm_f32x4_convert_u32x4, 4, f32, (float)a.u32[i])
REF_UN(wasm_f64x2_convert_low_i32x4, 2, f64, (double)a.i32[i])
REF_UN(wasm_f64x2_convert_low_u32x4, 2, f64, (double)a.u32[i])
REF v128_t wasm_f32x4_demote_f64x2_zero(v128_t a) {
    v128_t r = {0}; r.f32[0] = (float)a.f64[0]; r.f32[1] = (float)a.f64[1]; return r; }
REF_UN(wasm_f64x2_promote_low_f32x4, 2, f64, (double)a.f32[i])

#endif
