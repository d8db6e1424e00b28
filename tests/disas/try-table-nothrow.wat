;; Inside a try_table, a call to a function that cannot throw (it neither
;; throws nor calls anything that might) is a plain call: no exception
;; table, no spilling around it. The call to $may, which throws, is a
;; try_call.
(module
  (tag $e)
  (func $cannot (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
  (func $may (throw $e))
  (func (param i32) (result i32)
    (block $h
      (try_table (catch_all $h)
        (local.set 0 (call $cannot (local.get 0)))
        (call $may)))
    (local.get 0)))

;; ==== CLIF (regenerate with CLJIT_TEST_BLESS=1) ====
;; function u0:0(i64 vmctx, i64, i32) -> i32 tail {
;;     gv0 = vmctx
;;     gv1 = load.i64 notrap aligned readonly can_move gv0+16
;;     gv2 = load.i64 notrap aligned gv1+8
;;     stack_limit = gv2
;;
;;                                 block0(v0: i64, v1: i64, v2: i32):
;; @0028                               jump block1
;;
;;                                 block1:
;; @0025                               v4 = iconst.i32 1
;; @0027                               v5 = iadd.i32 v2, v4  ; v4 = 1
;; @0028                               return v5
;; }
;;
;; function u0:1(i64 vmctx, i64) tail {
;;     gv0 = vmctx
;;     gv1 = load.i64 notrap aligned readonly can_move gv0+16
;;     gv2 = load.i64 notrap aligned gv1+8
;;     sig0 = (i64, i32) -> i64 system_v
;;     sig1 = (i64, i64) tail
;;     stack_limit = gv2
;;
;;                                 block0(v0: i64, v1: i64):
;; @002b                               v3 = load.i64 notrap aligned readonly can_move v0+8
;; @002b                               v4 = load.i64 notrap aligned readonly can_move v3+80
;; @002b                               v2 = iconst.i32 0
;; @002b                               v5 = call_indirect sig0, v4(v0, v2)  ; v2 = 0
;; @002b                               v7 = load.i64 notrap aligned readonly can_move v3+96
;; @002b                               call_indirect sig1, v7(v0, v5)
;; @002b                               trap user10
;; }
;;
;; function u0:2(i64 vmctx, i64, i32) -> i32 tail {
;;     gv0 = vmctx
;;     gv1 = load.i64 notrap aligned readonly can_move gv0+16
;;     gv2 = load.i64 notrap aligned gv1+8
;;     sig0 = (i64 vmctx, i64, i32) -> i32 tail
;;     sig1 = (i64 vmctx, i64) tail
;;     sig2 = (i64, i64) system_v
;;     fn0 = colocated u0:0 sig0
;;     fn1 = colocated u0:1 sig1
;;     stack_limit = gv2
;;
;;                                 block0(v0: i64, v1: i64, v2: i32):
;; @0039                               v5 = call fn0(v0, v0, v2)
;; @003d                               try_call fn1(v0, v0), sig1, block5, [ context v0, default: block4(exn0) ]
;;
;;                                 block5:
;; @003f                               jump block3
;;
;;                                 block4(v4: i64):
;; @003f                               v6 = load.i64 notrap aligned readonly can_move v0+8
;; @003f                               v7 = load.i64 notrap aligned readonly can_move v6+88
;; @003f                               call_indirect sig2, v7(v0, v4)
;; @003f                               jump block2
;;
;;                                 block3:
;; @0040                               jump block2
;;
;;                                 block2:
;; @0043                               jump block1
;;
;;                                 block1:
;; @0043                               return v5
;; }
