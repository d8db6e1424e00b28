;; A 64-bit memory is always checked explicitly, even with guard pages: the
;; i64 index is not extended, and index + offset + size traps on unsigned
;; overflow before it is compared with the current length.
(module
  (memory i64 1)
  (func (param i64) (result i32)
    (i32.load offset=0x1_0000_0000 (local.get 0))))

;; ==== CLIF (regenerate with CLJIT_TEST_BLESS=1) ====
;; function u0:0(i64 vmctx, i64, i64) -> i32 tail {
;;     region0 = 2 "memory definitions"
;;     region1 = 1 "linear memories"
;;     gv0 = vmctx
;;     gv1 = load.i64 notrap aligned readonly can_move gv0+16
;;     gv2 = load.i64 notrap aligned gv1+8
;;     stack_limit = gv2
;;
;;                                 block0(v0: i64, v1: i64, v2: i64):
;; @0020                               v4 = load.i64 notrap aligned readonly can_move v0+48
;; @0020                               v5 = load.i64 notrap aligned region0 v4+8
;; @0020                               v6 = iconst.i64 0x0001_0000_0004
;; @0020                               v7 = uadd_overflow_trap v2, v6, heap_oob  ; v6 = 0x0001_0000_0004
;; @0020                               v10 = load.i64 notrap aligned region0 v4
;; @0020                               v8 = icmp ugt v7, v5
;; @0020                               v14 = iconst.i64 0
;; @0020                               v11 = iadd v10, v2
;; @0020                               v12 = iconst.i64 0x0001_0000_0000
;; @0020                               v13 = iadd v11, v12  ; v12 = 0x0001_0000_0000
;; @0020                               v15 = select_spectre_guard v8, v14, v13  ; v14 = 0
;; @0020                               v16 = load.i32 little region1 v15
;; @0027                               jump block1
;;
;;                                 block1:
;; @0027                               return v16
;; }
