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
;;     sig0 = (i64) preserve_all
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
;;                                     v9 = load.i64 notrap aligned v0+8
;;                                     v10 = load.i64 notrap aligned v9+104
;;                                     call_indirect sig0, v10(v0)
;;                                     v12 = load.i64 notrap aligned v4
;;                                     v22 = iconst.i64 0
;;                                     v23 = icmp sge v12, v22  ; v22 = 0
;;                                     trapnz v23, user12
;;                                     jump block3(v12)
;;
;;                                 block3(v18: i64):
;; @001f                               jump block1
;;
;;                                 block1:
;; @001f                               v19 = iconst.i64 3
;; @001f                               v20 = iadd.i64 v18, v19  ; v19 = 3
;; @001f                               store notrap aligned v20, v4
;; @001c                               v16 = iconst.i32 1
;; @001e                               v17 = iadd.i32 v2, v16  ; v16 = 1
;; @001f                               return v17
;; }
;;
;; function u0:1(i64 vmctx, i64, i32) -> i32 tail {
;;     gv0 = vmctx
;;     gv1 = load.i64 notrap aligned readonly can_move gv0+16
;;     gv2 = load.i64 notrap aligned gv1+8
;;     sig0 = (i64) preserve_all
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
;;                                     v10 = load.i64 notrap aligned v0+8
;;                                     v11 = load.i64 notrap aligned v10+104
;;                                     call_indirect sig0, v11(v0)
;;                                     v13 = load.i64 notrap aligned v5
;;                                     v56 = iconst.i64 0
;;                                     v57 = icmp sge v13, v56  ; v56 = 0
;;                                     trapnz v57, user12
;;                                     jump block3(v13)
;;
;;                                 block3(v42: i64):
;;                                     v3 = iconst.i32 0
;; @002a                               v31 = iconst.i64 3
;; @0031                               v38 = iconst.i32 1
;; @0038                               v40 = iconst.i64 8
;; @0024                               jump block4(v42, v3, v2)  ; v3 = 0
;;
;;                                 block4(v16: i64, v27: i32, v29: i32):
;;                                     v58 = iconst.i64 0
;;                                     v59 = icmp sge v16, v58  ; v58 = 0
;; @0024                               brif v59, block6, block7(v16)
;;
;;                                 block6 cold:
;; @0024                               store.i64 notrap aligned v16, v5
;; @0024                               v20 = load.i64 notrap aligned v0+8
;; @0024                               v21 = load.i64 notrap aligned v20+104
;; @0024                               call_indirect sig0, v21(v0)
;; @0024                               v23 = load.i64 notrap aligned v5
;;                                     v60 = iconst.i64 0
;;                                     v61 = icmp sge v23, v60  ; v60 = 0
;; @0024                               trapnz v61, user12
;; @0024                               jump block7(v23)
;;
;;                                 block7(v30: i64):
;;                                     v62 = iconst.i64 3
;;                                     v63 = iadd v30, v62  ; v62 = 3
;; @002a                               store notrap aligned v63, v5
;; @002a                               v34 = call fn0(v0, v0, v29)
;; @002a                               v36 = load.i64 notrap aligned v5
;;                                     v64 = iconst.i32 1
;;                                     v65 = isub.i32 v29, v64  ; v64 = 1
;;                                     v66 = iconst.i64 8
;;                                     v67 = iadd v36, v66  ; v66 = 8
;; @002c                               v37 = iadd.i32 v27, v34
;; @0038                               brif v65, block4(v67, v37, v65), block8
;;
;;                                 block8:
;; @003a                               jump block5
;;
;;                                 block5:
;; @003d                               jump block1
;;
;;                                 block1:
;;                                     v49 = iconst.i64 9
;;                                     v54 = iadd.i64 v36, v49  ; v49 = 9
;; @003d                               store notrap aligned v54, v5
;; @003d                               return v37
;; }
