;; Under guard pages (the default 4 GiB reservation + 2 GiB guard), a load
;; needs no bounds check: the memory base is a pure (hoistable) load and the
;; access itself carries the heap trap code.
(module
  (memory 1)
  (func (param i32) (result i32)
    (i32.load offset=16 (local.get 0))))

;; ==== CLIF (regenerate with CLJIT_TEST_BLESS=1) ====
;; function u0:0(i64 vmctx, i64, i32) -> i32 tail {
;;     region0 = 1 "linear memories"
;;     gv0 = vmctx
;;     gv1 = load.i64 notrap aligned readonly can_move gv0+16
;;     gv2 = load.i64 notrap aligned gv1+8
;;     stack_limit = gv2
;;
;;                                 block0(v0: i64, v1: i64, v2: i32):
;; @0020                               v5 = load.i64 notrap aligned readonly can_move v0+48
;; @0020                               v6 = load.i64 notrap aligned readonly can_move v5
;; @0020                               v4 = uextend.i64 v2
;; @0020                               v7 = iadd v6, v4
;; @0020                               v8 = load.i32 little region0 v7+16
;; @0023                               jump block1
;;
;;                                 block1:
;; @0023                               return v8
;; }
