;; Tail calls run in constant stack space across every kind of callee: a
;; million calls deep between two modules (through an imported function
;; and a shared table), between
;; functions whose stack arguments differ in number (the callee pops its
;; own), through tables, and into a host function, which returns straight
;; to the tail-calling function's caller. A million ordinary frames would
;; overflow the stack.

(module $even
  (import "spectest" "print_i32" (func $print (param i32)))
  (type $step (func (param i64) (result i32)))
  ;; The other module fills slot 0 with its `odd`.
  (table (export "table") 1 funcref)
  (func $even (export "even") (param i64) (result i32)
    (if (result i32) (i64.eqz (local.get 0))
      (then (i32.const 1))
      (else
        (return_call_indirect (type $step)
          (i64.sub (local.get 0) (i64.const 1)) (i32.const 0)))))
  ;; Into a host function: nothing left to run here afterwards.
  (func (export "print_tail") (param i32)
    (return_call $print (local.get 0)))
)
(register "even" $even)

(module $odd_module
  (import "even" "table" (table 1 funcref))
  (func $even (import "even" "even") (param i64) (result i32))
  (elem (i32.const 0) func $odd)
  (func $odd (export "odd") (param i64) (result i32)
    (if (result i32) (i64.eqz (local.get 0))
      (then (i32.const 0))
      (else (return_call $even (i64.sub (local.get 0) (i64.const 1)))))))

(assert_return (invoke $even "even" (i64.const 1_000_000)) (i32.const 1))
(assert_return (invoke $even "even" (i64.const 1_000_001)) (i32.const 0))
(assert_return (invoke $odd_module "odd" (i64.const 999_999)) (i32.const 1))
(assert_return (invoke $even "print_tail" (i32.const 7)))

(module
  (type $wide (func (param i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64) (result i64)))
  (type $narrow (func (param i64) (result i64)))
  (table funcref (elem $narrow_step $wide_step))

  ;; Sixteen i64 parameters: most of them on the stack on every target.
  (func $wide_step (type $wide)
    (if (result i64) (i64.eqz (local.get 0))
      (then (i64.add (local.get 1) (local.get 15)))
      (else
        (return_call $narrow_step
          (i64.sub (local.get 0) (i64.const 1))))))
  ;; One parameter, tail-calling a function with sixteen, through the table.
  (func $narrow_step (type $narrow)
    (return_call_indirect (type $wide)
      (local.get 0) (i64.const 1) (i64.const 2) (i64.const 3) (i64.const 4)
      (i64.const 5) (i64.const 6) (i64.const 7) (i64.const 8) (i64.const 9)
      (i64.const 10) (i64.const 11) (i64.const 12) (i64.const 13)
      (i64.const 14) (i64.const 15)
      (i32.const 1)))
  (func (export "alternate") (param i64) (result i64)
    (return_call $narrow_step (local.get 0)))

  ;; A tail call through the table checks the type like call_indirect.
  (func (export "bad_type") (result i64)
    (return_call_indirect (type $narrow) (i64.const 0) (i32.const 1)))
  (func (export "out_of_table") (result i64)
    (return_call_indirect (type $narrow) (i64.const 0) (i32.const 2)))
)

(assert_return (invoke "alternate" (i64.const 1_000_000)) (i64.const 16))
(assert_trap (invoke "bad_type") "indirect call type mismatch")
(assert_trap (invoke "out_of_table") "undefined element")

;; Without tail calls the same depth exhausts the stack.
(module
  (func $count (export "count") (param i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0))
      (then (i64.const 0))
      (else (i64.add (i64.const 1) (call $count (i64.sub (local.get 0) (i64.const 1))))))))
(assert_exhaustion (invoke "count" (i64.const 1_000_000)) "call stack exhausted")
