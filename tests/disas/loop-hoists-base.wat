;; Under guard pages the memory base is loaded once, outside the loop.
(module
  (memory 1)
  (func (param i32) (result i32)
    (local i32)
    (loop
      (local.set 1 (i32.add (local.get 1) (i32.load (local.get 0))))
      (local.set 0 (i32.add (local.get 0) (i32.const 4)))
      (br_if 0 (i32.lt_u (local.get 0) (i32.const 4096))))
    (local.get 1)))

;; ==== CLIF (regenerate with CLJIT_TEST_BLESS=1) ====
;; function u0:0(i64 vmctx, i64, i32) -> i32 tail {
;;     region0 = 1 "linear memories"
;;     gv0 = vmctx
;;     gv1 = load.i64 notrap aligned readonly can_move gv0+16
;;     gv2 = load.i64 notrap aligned gv1+8
;;     stack_limit = gv2
;;
;;                                 block0(v0: i64, v1: i64, v2: i32):
;;                                     v3 = iconst.i32 0
;; @0026                               v8 = load.i64 notrap aligned readonly can_move v0+48
;; @0026                               v9 = load.i64 notrap aligned readonly can_move v8
;; @002e                               v13 = iconst.i32 4
;; @0035                               v15 = iconst.i32 4096
;; @0020                               jump block2(v3, v2)  ; v3 = 0
;;
;;                                 block2(v5: i32, v6: i32):
;; @0026                               v7 = uextend.i64 v6
;; @0026                               v10 = iadd.i64 v9, v7
;; @0026                               v11 = load.i32 little region0 v10
;;                                     v18 = iconst.i32 4
;;                                     v19 = iadd v6, v18  ; v18 = 4
;;                                     v20 = iconst.i32 4096
;;                                     v21 = icmp ult v19, v20  ; v20 = 4096
;; @0029                               v12 = iadd v5, v11
;; @0039                               brif v21, block2(v12, v19), block4
;;
;;                                 block4:
;; @003b                               jump block3
;;
;;                                 block3:
;; @003e                               jump block1
;;
;;                                 block1:
;; @003e                               return v12
;; }
