;;! memory-reservation = 0
;;! memory-guard-size = 0
;; Guest stores are in the alias region of linear memories and the length
;; and base loads in that of memory definitions, so a store is not a fence:
;; the second and third accesses reuse the first one's length and base
;; instead of loading them again.
(module
  (memory 1)
  (func (param i32 i32)
    (i32.store (local.get 0) (local.get 1))
    (i32.store offset=4 (local.get 0) (local.get 1))
    (i32.store offset=8 (local.get 0) (local.get 1))))

;; ==== CLIF (regenerate with CLJIT_TEST_BLESS=1) ====
;; function u0:0(i64 vmctx, i64, i32, i32) tail {
;;     region0 = 2 "memory definitions"
;;     region1 = 1 "linear memories"
;;     gv0 = vmctx
;;     gv1 = load.i64 notrap aligned readonly can_move gv0+16
;;     gv2 = load.i64 notrap aligned gv1+8
;;     stack_limit = gv2
;;
;;                                 block0(v0: i64, v1: i64, v2: i32, v3: i32):
;; @0022                               v5 = load.i64 notrap aligned readonly can_move v0+48
;; @0022                               v6 = load.i64 notrap aligned region0 v5+8
;; @0022                               v11 = load.i64 notrap aligned region0 v5
;; @0022                               v4 = uextend.i64 v2
;; @0022                               v7 = iconst.i64 4
;; @0022                               v8 = iadd v4, v7  ; v7 = 4
;; @0022                               v9 = icmp ugt v8, v6
;; @0022                               v13 = iconst.i64 0
;; @0022                               v12 = iadd v11, v4
;; @0022                               v14 = select_spectre_guard v9, v13, v12  ; v13 = 0
;; @0022                               store little region1 v3, v14
;; @0029                               v18 = iconst.i64 8
;; @0029                               v19 = iadd v4, v18  ; v18 = 8
;; @0029                               v20 = icmp ugt v19, v6
;; @0029                               v25 = iadd v12, v7  ; v7 = 4
;; @0029                               v27 = select_spectre_guard v20, v13, v25  ; v13 = 0
;; @0029                               store little region1 v3, v27
;; @0030                               v31 = iconst.i64 12
;; @0030                               v32 = iadd v4, v31  ; v31 = 12
;; @0030                               v33 = icmp ugt v32, v6
;; @0030                               v38 = iadd v12, v18  ; v18 = 8
;; @0030                               v40 = select_spectre_guard v33, v13, v38  ; v13 = 0
;; @0030                               store little region1 v3, v40
;; @0033                               jump block1
;;
;;                                 block1:
;; @0033                               return
;; }
