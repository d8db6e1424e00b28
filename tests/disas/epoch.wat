;; Epoch interruption: one byte load from the store's interrupt page at
;; the function's entry and at the loop header, each at its own offset (so
;; the header's load is not merged into the entry's), with no compare and
;; no branch: once the deadline passes the page is inaccessible and the
;; load faults, with trap code `user11` (Interrupt). A function that
;; neither loops nor calls (the second) has no check: it runs a bounded
;; number of instructions, and its callers check.
;;! epoch-interruption = 1
(module
  (func (param i32) (result i32)
    (local $sum i32)
    (loop $l
      (local.set $sum (i32.add (local.get $sum) (local.get 0)))
      (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
      (br_if $l (local.get 0)))
    (local.get $sum))
  (func (param i32) (result i32)
    (i32.mul (local.get 0) (local.get 0))))

;; ==== CLIF (regenerate with CLJIT_TEST_BLESS=1) ====
;; function u0:0(i64 vmctx, i64, i32) -> i32 tail {
;;     gv0 = vmctx
;;     gv1 = load.i64 notrap aligned readonly can_move gv0+16
;;     gv2 = load.i64 notrap aligned gv1+8
;;     stack_limit = gv2
;;
;;                                 block0(v0: i64, v1: i64, v2: i32):
;;                                     v5 = load.i64 notrap aligned readonly can_move v0+16
;;                                     v6 = load.i64 notrap aligned readonly can_move v5+16
;;                                     v7 = load.i8 user11 aligned v6
;;                                     v3 = iconst.i32 0
;; @0027                               v14 = iconst.i32 1
;; @001c                               jump block2(v3, v2)  ; v3 = 0
;;
;;                                 block2(v11: i32, v12: i32):
;; @001c                               v10 = load.i8 user11 aligned v6+1
;;                                     v16 = iconst.i32 1
;;                                     v17 = isub v12, v16  ; v16 = 1
;; @0022                               v13 = iadd v11, v12
;; @002e                               brif v17, block2(v13, v17), block4
;;
;;                                 block4:
;; @0030                               jump block3
;;
;;                                 block3:
;; @0033                               jump block1
;;
;;                                 block1:
;; @0033                               return v13
;; }
;;
;; function u0:1(i64 vmctx, i64, i32) -> i32 tail {
;;     gv0 = vmctx
;;     gv1 = load.i64 notrap aligned readonly can_move gv0+16
;;     gv2 = load.i64 notrap aligned gv1+8
;;     stack_limit = gv2
;;
;;                                 block0(v0: i64, v1: i64, v2: i32):
;; @003b                               jump block1
;;
;;                                 block1:
;; @003a                               v7 = imul.i32 v2, v2
;; @003b                               return v7
;; }
