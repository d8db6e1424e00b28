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
;;     fn0 = colocated u0:0 sig0
;;     stack_limit = gv2
;;
;;                                 block0(v0: i64, v1: i64):
;; @0030                               call fn0(v0, v0)
;; @0032                               jump block3
;;
;;                                 block3:
;; @0035                               jump block2
;;
;;                                 block2:
;; @0036                               jump block1
;;
;;                                 block1:
;; @0033                               v5 = iconst.i32 0
;; @0036                               return v5  ; v5 = 0
;; }
