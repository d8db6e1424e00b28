;; Even under guard pages, an offset beyond the guard region could reach
;; past it, so such an access is checked explicitly.
(module
  (memory 1)
  (func (param i32) (result i32)
    (i32.load offset=0x90000000 (local.get 0))))

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
;; @0020                               v7 = iconst.i64 0x9000_0004
;; @0020                               v8 = iadd v4, v7  ; v7 = 0x9000_0004
;; @0020                               v9 = icmp ugt v8, v6
;; @0020                               v15 = iconst.i64 0
;; @0020                               v11 = load.i64 notrap aligned readonly can_move v5
;; @0020                               v12 = iadd v11, v4
;; @0020                               v13 = iconst.i64 0x9000_0000
;; @0020                               v14 = iadd v12, v13  ; v13 = 0x9000_0000
;; @0020                               v16 = select_spectre_guard v9, v15, v14  ; v15 = 0
;; @0020                               v17 = load.i32 little region1 v16
;; @0027                               jump block1
;;
;;                                 block1:
;; @0027                               return v17
;; }
