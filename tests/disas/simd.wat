;; SIMD: operands change lane shape through free bitcasts; the canonical
;; v128 shape is i8x16. Loads and stores carry the heap trap and
;; little-endian flags; extended multiply and dot product are written in the
;; shapes the backends match.
(module
  (memory 1)
  (func (export "axpy") (param $p i32) (param $a f32)
    (v128.store (local.get $p)
      (f32x4.add
        (f32x4.mul (f32x4.splat (local.get $a)) (v128.load (local.get $p)))
        (v128.load offset=16 (local.get $p)))))
  (func (export "dot") (param v128 v128) (result v128)
    (i32x4.dot_i16x8_s (local.get 0) (local.get 1)))
  (func (export "lane") (param v128) (result i32)
    (i8x16.extract_lane_s 3 (i8x16.shuffle 3 2 1 0 4 5 6 7 8 9 10 11 12 13 14 31
      (local.get 0) (local.get 0)))))

;; ==== CLIF (regenerate with CLJIT_TEST_BLESS=1) ====
;; function u0:0(i64 vmctx, i64, i32, f32) tail {
;;     region0 = 1 "linear memories"
;;     gv0 = vmctx
;;     gv1 = load.i64 notrap aligned readonly can_move gv0+16
;;     gv2 = load.i64 notrap aligned gv1+8
;;     stack_limit = gv2
;;
;;                                 block0(v0: i64, v1: i64, v2: i32, v3: f32):
;; @004a                               v7 = load.i64 notrap aligned readonly can_move v0+48
;; @004a                               v8 = load.i64 notrap aligned readonly can_move v7
;; @004a                               v6 = uextend.i64 v2
;; @004a                               v9 = iadd v8, v6
;; @004a                               v10 = load.i8x16 little region0 v9
;; @0053                               v18 = load.i8x16 little region0 v9+16
;; @0046                               v4 = splat.f32x4 v3
;; @004e                               v11 = bitcast.f32x4 little v10
;; @004e                               v12 = fmul v4, v11
;; @0057                               v19 = bitcast.f32x4 little v18
;; @0057                               v20 = fadd v12, v19
;; @0057                               v21 = bitcast.i8x16 little v20
;; @005a                               store little region0 v21, v9
;; @005e                               jump block1
;;
;;                                 block1:
;; @005e                               return
;; }
;;
;; function u0:1(i64 vmctx, i64, i8x16, i8x16) -> i8x16 tail {
;;     gv0 = vmctx
;;     gv1 = load.i64 notrap aligned readonly can_move gv0+16
;;     gv2 = load.i64 notrap aligned gv1+8
;;     stack_limit = gv2
;;
;;                                 block0(v0: i64, v1: i64, v2: i8x16, v3: i8x16):
;; @0068                               jump block1
;;
;;                                 block1:
;; @0065                               v6 = bitcast.i16x8 little v2
;; @0065                               v7 = swiden_low v6
;; @0065                               v5 = bitcast.i16x8 little v3
;; @0065                               v8 = swiden_low v5
;; @0065                               v9 = imul v7, v8
;; @0065                               v10 = swiden_high v6
;; @0065                               v11 = swiden_high v5
;; @0065                               v12 = imul v10, v11
;; @0065                               v13 = iadd_pairwise v9, v12
;; @0065                               v14 = bitcast.i8x16 little v13
;; @0068                               return v14
;; }
;;
;; function u0:2(i64 vmctx, i64, i8x16) -> i32 tail {
;;     gv0 = vmctx
;;     gv1 = load.i64 notrap aligned readonly can_move gv0+16
;;     gv2 = load.i64 notrap aligned gv1+8
;;     stack_limit = gv2
;;
;;                                 block0(v0: i64, v1: i64, v2: i8x16):
;; @0084                               jump block1
;;
;;                                 block1:
;; @006f                               v4 = shuffle v2, v2, 0x1f0e0d0c0b0a09080706050400010203
;; @0081                               v5 = extractlane v4, 3
;; @0081                               v6 = sextend.i32 v5
;; @0084                               return v6
;; }
