;; Memories of 1-byte pages (custom-page-sizes): their length ends between
;; host pages, so every access is checked, in the guard-page configuration
;; too; growth is by bytes, and only memories of equal page sizes link.

(module $tiny
  (memory (export "tiny") 5 (pagesize 1))
  (data (i32.const 4) "\2a")
  (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "load16") (param i32) (result i32) (i32.load16_u (local.get 0)))
  (func (export "store8") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "size") (result i32) (memory.size)))
(register "tiny" $tiny)

(assert_return (invoke "size") (i32.const 5))
(assert_return (invoke "load8" (i32.const 4)) (i32.const 42))
(assert_trap (invoke "load8" (i32.const 5)) "out of bounds memory access")
(assert_trap (invoke "load16" (i32.const 4)) "out of bounds memory access")
(assert_trap (invoke "store8" (i32.const 5) (i32.const 1)) "out of bounds memory access")

(assert_return (invoke "grow" (i32.const 3)) (i32.const 5))
(assert_return (invoke "size") (i32.const 8))
(assert_return (invoke "load16" (i32.const 6)) (i32.const 0))
(assert_trap (invoke "load16" (i32.const 7)) "out of bounds memory access")
(assert_return (invoke "store8" (i32.const 7) (i32.const 9)))
(assert_return (invoke "load8" (i32.const 7)) (i32.const 9))
(assert_trap (invoke "load8" (i32.const 8)) "out of bounds memory access")

;; Importing needs the same page size.
(module (import "tiny" "tiny" (memory 1 (pagesize 1))))
(assert_unlinkable
  (module (import "tiny" "tiny" (memory 0)))
  "incompatible import type")
