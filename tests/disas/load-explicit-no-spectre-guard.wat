;;! memory-reservation = 0
;;! memory-guard-size = 0
;;! spectre-guard = 0
;; The checked access of load-explicit.wat without the speculation guard:
;; the offset stays in the load and no `select_spectre_guard` replaces the
;; address.
(module
  (memory 1)
  (func (param i32) (result i32)
    (i32.load offset=16 (local.get 0))))

;; ==== CLIF (regenerate with CLJIT_TEST_BLESS=1) ====
;; function u0:0(i64 vmctx, i64, i32) -> i32 tail {
;;     region0 = 2 "memory definitions"
;;     region1 = 1 "linear memories"
;;     gv0 = vmctx
;;     gv1 = load.i64 notrap aligned readonly can_move gv0+16
;;     gv2 = load.i64 notrap aligned gv1+8
;;     stack_limit = gv2
;;
;;                                 block0(v0: i64, v1: i64, v2: i32):
;; @0020                               v5 = load.i64 notrap aligned readonly can_move v0+48
;; @0020                               v6 = load.i64 notrap aligned region0 v5+8
;; @0020                               v4 = uextend.i64 v2
;; @0020                               v7 = iconst.i64 20
;; @0020                               v8 = iadd v4, v7  ; v7 = 20
;; @0020                               v9 = icmp ugt v8, v6
;; @0020                               trapnz v9, heap_oob
;; @0020                               v11 = load.i64 notrap aligned region0 v5
;; @0020                               v12 = iadd v11, v4
;; @0020                               v13 = load.i32 little region1 v12+16
;; @0023                               jump block1
;;
;;                                 block1:
;; @0023                               return v13
;; }
