;; call_indirect: bounds check against the table size ("undefined element"),
;; null check ("uninitialized element"), one compare of signature ids
;; ("indirect call type mismatch"), then a call through the func ref.
(module
  (type $t (func (param i32) (result i32)))
  (table 4 funcref)
  (func (param i32 i32) (result i32)
    (call_indirect (type $t) (local.get 0) (local.get 1))))

;; ==== CLIF (regenerate with CLJIT_TEST_BLESS=1) ====
;; function u0:0(i64 vmctx, i64, i32, i32) -> i32 tail {
;;     gv0 = vmctx
;;     gv1 = load.i64 notrap aligned readonly can_move gv0+16
;;     gv2 = load.i64 notrap aligned gv1+8
;;     sig0 = (i64 vmctx, i64, i32) -> i32 tail
;;     stack_limit = gv2
;;
;;                                 block0(v0: i64, v1: i64, v2: i32, v3: i32):
;; @0029                               v5 = load.i64 notrap aligned readonly can_move v0+48
;; @0029                               v6 = load.i64 notrap aligned v5+8
;; @0029                               v7 = uextend.i64 v3
;; @0029                               v8 = icmp uge v7, v6
;; @0029                               trapnz v8, user4
;; @0029                               v9 = load.i64 notrap aligned v5
;; @0029                               v10 = iconst.i64 3
;; @0029                               v11 = ishl v7, v10  ; v10 = 3
;; @0029                               v12 = iadd v9, v11
;; @0029                               v13 = load.i64 notrap aligned v12
;; @0029                               trapz v13, user5
;; @0029                               v14 = load.i32 notrap aligned v13+24
;; @0029                               v15 = load.i64 notrap aligned readonly can_move v0+32
;; @0029                               v16 = load.i32 notrap aligned readonly can_move v15
;; @0029                               v17 = icmp ne v14, v16
;; @0029                               trapnz v17, user6
;; @0029                               v18 = load.i64 notrap aligned v13
;; @0029                               v19 = load.i64 notrap aligned v13+16
;; @0029                               v20 = call_indirect sig0, v18(v19, v0, v2)
;; @002c                               jump block1
;;
;;                                 block1:
;; @002c                               return v20
;; }
