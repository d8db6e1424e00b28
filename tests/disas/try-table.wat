;; A call inside a try_table is a try_call: the normal return continues
;; straight on (no check, no extra work), and the exception table, with
;; the vmctx as its context, sends tag 0 to the landing block, which reads
;; the payload from the exception, frees it (exn_release: no exnref to it
;; can exist) and branches to the clause's label.
(module
  (tag $e (param i32))
  (func $f)
  (func (result i32)
    (block $h (result i32)
      (try_table (catch $e $h)
        (call $f))
      (i32.const 0))))

;; ==== CLIF (regenerate with CLJIT_TEST_BLESS=1) ====
;; function u0:0(i64 vmctx, i64) tail {
;;     gv0 = vmctx
;;     gv1 = load.i64 notrap aligned readonly can_move gv0+16
;;     gv2 = load.i64 notrap aligned gv1+8
;;     stack_limit = gv2
;;
;;                                 block0(v0: i64, v1: i64):
;; @0025                               jump block1
;;
;;                                 block1:
;; @0025                               return
;; }
;;
;; function u0:1(i64 vmctx, i64) -> i32 tail {
;;     gv0 = vmctx
;;     gv1 = load.i64 notrap aligned readonly can_move gv0+16
;;     gv2 = load.i64 notrap aligned gv1+8
;;     sig0 = (i64 vmctx, i64) tail
;;     sig1 = (i64, i64) system_v
;;     fn0 = colocated u0:0 sig0
;;     stack_limit = gv2
;;
;;                                 block0(v0: i64, v1: i64):
;; @0030                               try_call fn0(v0, v0), sig0, block5, [ context v0, tag0: block4(exn0) ]
;;
;;                                 block5:
;; @0032                               jump block3
;;
;;                                 block4(v4: i64):
;; @0032                               v5 = load.i64 notrap aligned v4+8
;; @0032                               v6 = load.i32 notrap aligned v5
;; @0032                               v7 = load.i64 notrap aligned readonly can_move v0+8
;; @0032                               v8 = load.i64 notrap aligned readonly can_move v7+88
;; @0032                               call_indirect sig1, v8(v0, v4)
;; @0032                               jump block2(v6)
;;
;;                                 block3:
;; @0033                               v9 = iconst.i32 0
;; @0035                               jump block2(v9)  ; v9 = 0
;;
;;                                 block2(v3: i32):
;; @0036                               jump block1(v3)
;;
;;                                 block1(v2: i32):
;; @0036                               return v2
;; }
