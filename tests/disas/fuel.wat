;; Fuel: the counter lives in a variable, loaded at entry and checked there
;; and at the loop header (a cold call to `out_of_fuel` when it reaches
;; zero); each straight-line run adds its cost once, where it ends; the
;; variable is saved before the call and reloaded after it, and saved on
;; return.
;;! consume-fuel = 1
(module
  (func $leaf (param i32) (result i32)
    (i32.add (local.get 0) (i32.const 1)))
  (func (param i32) (result i32)
    (local $sum i32)
    (loop $l
      (local.set $sum (i32.add (local.get $sum) (call $leaf (local.get 0))))
      (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
      (br_if $l (local.get 0)))
    (local.get $sum)))

;; ==== CLIF (regenerate with CLJIT_TEST_BLESS=1) ====
;; function u0:0(i64 vmctx, i64, i32) -> i32 tail {
;;     gv0 = vmctx
;;     gv1 = load.i64 notrap aligned readonly can_move gv0+16
;;     gv2 = load.i64 notrap aligned gv1+8
;;     sig0 = (i64) -> i32 system_v
;;     stack_limit = gv2
;;
;;                                 block0(v0: i64, v1: i64, v2: i32):
;;                                     v4 = load.i64 notrap aligned readonly can_move v0+16
;;                                     v5 = load.i64 notrap aligned v4
;;                                     v6 = iconst.i64 0
;;                                     v7 = icmp sge v5, v6  ; v6 = 0
;;                                     brif v7, block2, block3(v5)
;;
;;                                 block2 cold:
;;                                     v9 = load.i64 notrap aligned readonly can_move v0+8
;;                                     v10 = load.i64 notrap aligned readonly can_move v9+80
;;                                     v11 = call_indirect sig0, v10(v0)
;;                                     trapnz v11, user12
;;                                     v13 = load.i64 notrap aligned v4
;;                                     jump block3(v13)
;;
;;                                 block3(v17: i64):
;; @001f                               jump block1
;;
;;                                 block1:
;; @001f                               v18 = iconst.i64 3
;; @001f                               v19 = iadd.i64 v17, v18  ; v18 = 3
;; @001f                               store notrap aligned v19, v4
;; @001c                               v15 = iconst.i32 1
;; @001e                               v16 = iadd.i32 v2, v15  ; v15 = 1
;; @001f                               return v16
;; }
;;
;; function u0:1(i64 vmctx, i64, i32) -> i32 tail {
;;     gv0 = vmctx
;;     gv1 = load.i64 notrap aligned readonly can_move gv0+16
;;     gv2 = load.i64 notrap aligned gv1+8
;;     sig0 = (i64) -> i32 system_v
;;     sig1 = (i64 vmctx, i64, i32) -> i32 tail
;;     fn0 = colocated u0:0 sig1
;;     stack_limit = gv2
;;
;;                                 block0(v0: i64, v1: i64, v2: i32):
;;                                     v5 = load.i64 notrap aligned readonly can_move v0+16
;;                                     v6 = load.i64 notrap aligned v5
;;                                     v7 = iconst.i64 0
;;                                     v8 = icmp sge v6, v7  ; v7 = 0
;;                                     brif v8, block2, block3(v6)
;;
;;                                 block2 cold:
;;                                     v10 = load.i64 notrap aligned readonly can_move v0+8
;;                                     v11 = load.i64 notrap aligned readonly can_move v10+80
;;                                     v12 = call_indirect sig0, v11(v0)
;;                                     trapnz v12, user12
;;                                     v14 = load.i64 notrap aligned v5
;;                                     jump block3(v14)
;;
;;                                 block3(v40: i64):
;;                                     v3 = iconst.i32 0
;;                                     v56 = load.i64 notrap aligned readonly can_move v0+8
;;                                     v57 = load.i64 notrap aligned readonly can_move v56+80
;; @002a                               v29 = iconst.i64 3
;; @0031                               v36 = iconst.i32 1
;; @0038                               v38 = iconst.i64 8
;; @0024                               jump block4(v40, v3, v2)  ; v3 = 0
;;
;;                                 block4(v15: i64, v25: i32, v27: i32):
;;                                     v54 = iconst.i64 0
;;                                     v55 = icmp sge v15, v54  ; v54 = 0
;; @0024                               brif v55, block6, block7(v15)
;;
;;                                 block6 cold:
;; @0024                               store.i64 notrap aligned v15, v5
;; @0024                               v21 = call_indirect.i64 sig0, v57(v0)
;; @0024                               trapnz v21, user12
;; @0024                               v23 = load.i64 notrap aligned v5
;; @0024                               jump block7(v23)
;;
;;                                 block7(v28: i64):
;;                                     v58 = iconst.i64 3
;;                                     v59 = iadd v28, v58  ; v58 = 3
;; @002a                               store notrap aligned v59, v5
;; @002a                               v32 = call fn0(v0, v0, v27)
;; @002a                               v34 = load.i64 notrap aligned v5
;;                                     v60 = iconst.i32 1
;;                                     v61 = isub.i32 v27, v60  ; v60 = 1
;;                                     v62 = iconst.i64 8
;;                                     v63 = iadd v34, v62  ; v62 = 8
;; @002c                               v35 = iadd.i32 v25, v32
;; @0038                               brif v61, block4(v63, v35, v61), block8
;;
;;                                 block8:
;; @003a                               jump block5
;;
;;                                 block5:
;; @003d                               jump block1
;;
;;                                 block1:
;;                                     v47 = iconst.i64 9
;;                                     v52 = iadd.i64 v34, v47  ; v47 = 9
;; @003d                               store notrap aligned v52, v5
;; @003d                               return v35
;; }
