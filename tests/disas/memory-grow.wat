;; memory.grow calls a builtin through the vmctx's builtin table.
(module
  (memory 1 10)
  (func (param i32) (result i32)
    (memory.grow (local.get 0))))

;; ==== CLIF (regenerate with CLJIT_TEST_BLESS=1) ====
;; function u0:0(i64 vmctx, i64, i32) -> i32 tail {
;;     gv0 = vmctx
;;     gv1 = load.i64 notrap aligned readonly can_move gv0+16
;;     gv2 = load.i64 notrap aligned gv1+8
;;     sig0 = (i64, i32, i64) -> i64 system_v
;;     stack_limit = gv2
;;
;;                                 block0(v0: i64, v1: i64, v2: i32):
;; @0021                               v6 = load.i64 notrap aligned readonly can_move v0+8
;; @0021                               v7 = load.i64 notrap aligned readonly can_move v6
;; @0021                               v5 = iconst.i32 0
;; @0021                               v4 = uextend.i64 v2
;; @0021                               v8 = call_indirect sig0, v7(v0, v5, v4)  ; v5 = 0
;; @0021                               v9 = iconst.i64 -2
;; @0021                               v10 = icmp eq v8, v9  ; v9 = -2
;; @0021                               trapnz v10, user13
;; @0023                               jump block1
;;
;;                                 block1:
;; @0021                               v11 = ireduce.i32 v8
;; @0023                               return v11
;; }
