;; 64-bit tables (memory64 proposal): every table instruction takes and
;; returns i64 indices and sizes, element segments use i64 offsets, and
;; call_indirect indexes with an i64. Indices at or above 2^32 must trap
;; rather than wrap onto small ones.

(module
  (type $ret (func (result i32)))
  (table $t i64 4 10 funcref)
  (table $small 2 funcref)
  (func $one (result i32) (i32.const 1))
  (func $two (result i32) (i32.const 2))
  (func $three (result i32) (i32.const 3))
  (elem (table $t) (i64.const 1) func $one $two)
  (elem $passive func $three $one)

  (func (export "size") (result i64) (table.size $t))
  (func (export "grow") (param i64) (result i64)
    (table.grow $t (ref.null func) (local.get 0)))
  (func (export "call") (param i64) (result i32)
    (call_indirect $t (type $ret) (local.get 0)))
  (func (export "is_null") (param i64) (result i32)
    (ref.is_null (table.get $t (local.get 0))))
  (func (export "set_three") (param i64)
    (table.set $t (local.get 0) (ref.func $three)))
  (func (export "fill") (param i64 i64)
    (table.fill $t (local.get 0) (ref.func $two) (local.get 1)))
  (func (export "init") (param i64 i32 i32)
    (table.init $t $passive (local.get 0) (local.get 1) (local.get 2)))
  ;; Copies between the 64-bit table and a 32-bit one: the count is an i32,
  ;; each index has its own table's type.
  (func (export "copy_to_small") (param i32 i64 i32)
    (table.copy $small $t (local.get 0) (local.get 1) (local.get 2)))
  (func (export "copy_within") (param i64 i64 i64)
    (table.copy $t $t (local.get 0) (local.get 1) (local.get 2)))
  (func (export "call_small") (param i32) (result i32)
    (call_indirect $small (type $ret) (local.get 0)))
)

(assert_return (invoke "size") (i64.const 4))
(assert_return (invoke "call" (i64.const 1)) (i32.const 1))
(assert_return (invoke "call" (i64.const 2)) (i32.const 2))
(assert_trap (invoke "call" (i64.const 0)) "uninitialized element")
(assert_trap (invoke "call" (i64.const 4)) "undefined element")
(assert_trap (invoke "call" (i64.const 0x1_0000_0001)) "undefined element")
(assert_trap (invoke "call" (i64.const -1)) "undefined element")
(assert_trap (invoke "is_null" (i64.const 0x1_0000_0000)) "out of bounds table access")

(assert_return (invoke "grow" (i64.const 3)) (i64.const 4))
(assert_return (invoke "size") (i64.const 7))
(assert_return (invoke "grow" (i64.const 4)) (i64.const -1))
(assert_return (invoke "grow" (i64.const 0x1_0000_0000)) (i64.const -1))
(assert_return (invoke "grow" (i64.const -1)) (i64.const -1))
(assert_return (invoke "size") (i64.const 7))

(invoke "set_three" (i64.const 6))
(assert_return (invoke "call" (i64.const 6)) (i32.const 3))
(assert_trap (invoke "set_three" (i64.const 7)) "out of bounds table access")

(invoke "fill" (i64.const 3) (i64.const 2))
(assert_return (invoke "call" (i64.const 4)) (i32.const 2))
(assert_return (invoke "is_null" (i64.const 5)) (i32.const 1))
(assert_trap (invoke "fill" (i64.const 6) (i64.const 2)) "out of bounds table access")
(assert_trap (invoke "fill" (i64.const 1) (i64.const 0xffff_ffff_ffff_ffff)) "out of bounds table access")

(invoke "init" (i64.const 4) (i32.const 0) (i32.const 2))
(assert_return (invoke "call" (i64.const 4)) (i32.const 3))
(assert_return (invoke "call" (i64.const 5)) (i32.const 1))
(assert_trap (invoke "init" (i64.const 0x1_0000_0004) (i32.const 0) (i32.const 1)) "out of bounds table access")

(invoke "copy_to_small" (i32.const 0) (i64.const 4) (i32.const 2))
(assert_return (invoke "call_small" (i32.const 0)) (i32.const 3))
(assert_return (invoke "call_small" (i32.const 1)) (i32.const 1))
(assert_trap (invoke "copy_to_small" (i32.const 0) (i64.const 0x1_0000_0000) (i32.const 1)) "out of bounds table access")

(invoke "copy_within" (i64.const 0) (i64.const 1) (i64.const 2))
(assert_return (invoke "call" (i64.const 0)) (i32.const 1))
(assert_return (invoke "call" (i64.const 1)) (i32.const 2))

;; An active segment whose i64 offset is out of bounds fails instantiation.
(assert_trap
  (module
    (table i64 1 funcref)
    (func $f)
    (elem (i64.const 0x1_0000_0000) func $f))
  "out of bounds table access")

;; Imports match only a table of the same index type.
(module $exporter (table (export "t64") i64 1 funcref) (table (export "t32") 1 funcref))
(register "exporter" $exporter)
(module (import "exporter" "t64" (table i64 1 funcref)))
(assert_unlinkable
  (module (import "exporter" "t32" (table i64 1 funcref)))
  "incompatible import type")
(assert_unlinkable
  (module (import "exporter" "t64" (table 1 funcref)))
  "incompatible import type")
