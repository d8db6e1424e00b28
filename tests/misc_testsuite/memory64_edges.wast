;; 64-bit memories beside 32-bit ones: every access is checked in 64 bits,
;; so an index or offset at or above 2^32, or an index + offset that
;; overflows 2^64, traps instead of wrapping onto accessible bytes; bulk
;; operations mix index types; grow and size are i64.

(module
  (memory $m64 i64 1 4)
  (memory $m32 1)
  (data (memory $m64) (i64.const 65532) "\01\02\03\04")
  (data (memory $m32) (i32.const 0) "abcd")

  (func (export "load") (param i64) (result i32) (i32.load8_u $m64 (local.get 0)))
  (func (export "load_far") (param i64) (result i32)
    (i32.load8_u $m64 offset=0x1_0000_0000 (local.get 0)))
  (func (export "load_huge") (param i64) (result i32)
    (i32.load $m64 offset=0xffff_ffff_ffff_fffe (local.get 0)))
  (func (export "load32") (param i64) (result i32) (i32.load $m64 (local.get 0)))
  (func (export "store64") (param i64 i64) (i64.store $m64 (local.get 0) (local.get 1)))
  (func (export "size") (result i64) (memory.size $m64))
  (func (export "grow") (param i64) (result i64) (memory.grow $m64 (local.get 0)))
  ;; 64-bit destination, 32-bit source: the length is an i32.
  (func (export "copy_in") (param i64 i32 i32)
    (memory.copy $m64 $m32 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "fill") (param i64 i32 i64)
    (memory.fill $m64 (local.get 0) (local.get 1) (local.get 2)))
)

(assert_return (invoke "load" (i64.const 65535)) (i32.const 4))
(assert_return (invoke "load32" (i64.const 65532)) (i32.const 0x04030201))
(assert_trap (invoke "load" (i64.const 65536)) "out of bounds memory access")
(assert_trap (invoke "load" (i64.const 0x1_0000_0000)) "out of bounds memory access")
(assert_trap (invoke "load" (i64.const 0x1_0000_ffff)) "out of bounds memory access")
(assert_trap (invoke "load" (i64.const -1)) "out of bounds memory access")
(assert_trap (invoke "load32" (i64.const 65533)) "out of bounds memory access")
(assert_trap (invoke "load32" (i64.const -2)) "out of bounds memory access")
(assert_trap (invoke "load_far" (i64.const 0)) "out of bounds memory access")
(assert_trap (invoke "load_far" (i64.const -0x1_0000_0000)) "out of bounds memory access")
(assert_trap (invoke "load_huge" (i64.const 2)) "out of bounds memory access")
(assert_trap (invoke "load_huge" (i64.const 0)) "out of bounds memory access")
(assert_trap (invoke "store64" (i64.const 65529) (i64.const 0)) "out of bounds memory access")

(assert_return (invoke "size") (i64.const 1))
(assert_return (invoke "grow" (i64.const 0x1_0000_0001)) (i64.const -1))
(assert_return (invoke "grow" (i64.const -1)) (i64.const -1))
(assert_return (invoke "grow" (i64.const 4)) (i64.const -1))
(assert_return (invoke "grow" (i64.const 1)) (i64.const 1))
(assert_return (invoke "size") (i64.const 2))
(assert_return (invoke "load" (i64.const 65536)) (i32.const 0))
(assert_return (invoke "load" (i64.const 131071)) (i32.const 0))

(invoke "copy_in" (i64.const 131068) (i32.const 0) (i32.const 4))
(assert_return (invoke "load32" (i64.const 131068)) (i32.const 0x64636261))
(assert_trap (invoke "copy_in" (i64.const 131069) (i32.const 0) (i32.const 4)) "out of bounds memory access")
(assert_trap (invoke "copy_in" (i64.const 0x1_0000_0000) (i32.const 0) (i32.const 1)) "out of bounds memory access")

(invoke "fill" (i64.const 10) (i32.const 0x7f) (i64.const 2))
(assert_return (invoke "load" (i64.const 11)) (i32.const 0x7f))
(assert_trap (invoke "fill" (i64.const 0) (i32.const 1) (i64.const 0x1_0000_0000)) "out of bounds memory access")
(assert_trap (invoke "fill" (i64.const -1) (i32.const 1) (i64.const 2)) "out of bounds memory access")

;; A data segment at an i64 offset past the end fails instantiation.
(assert_trap
  (module (memory i64 1) (data (i64.const 0x1_0000_0000) "x"))
  "out of bounds memory access")

;; Imports match only a memory of the same index type.
(module $exporter (memory (export "m64") i64 1) (memory (export "m32") 1))
(register "exporter" $exporter)
(module (import "exporter" "m64" (memory i64 1)))
(assert_unlinkable
  (module (import "exporter" "m32" (memory i64 1)))
  "incompatible import type")
(assert_unlinkable
  (module (import "exporter" "m64" (memory 1)))
  "incompatible import type")
