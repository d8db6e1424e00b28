;; Typed function references across modules: a concrete type is the same
;; type in every module that spells it the same way, whatever its index, so
;; imports match by structure; a non-nullable reference satisfies a
;; nullable import (immutable globals are covariant) but tables and mutable
;; globals must match exactly. Tables with initialisers start full, and a
;; null reaching call_ref or ref.as_non_null traps.

(module $provider
  (type $i2i (func (param i32) (result i32)))
  (type $void (func))
  (func $double (export "double") (type $i2i) (i32.mul (local.get 0) (i32.const 2)))
  (func $nothing (type $void))
  (global (export "g_double") (ref $i2i) (ref.func $double))
  (global (export "g_null") (ref null $i2i) (ref.null $i2i))
  (global (export "g_mut") (mut (ref null $i2i)) (ref.func $double))
  (table (export "t_typed") 3 (ref null $i2i) (ref.func $double))
  (table (export "t_func") 3 funcref)
  (elem declare func $nothing)
)
(register "provider" $provider)

;; The same types at other indices.
(module $user
  (type $other (func (param f64)))
  (type $void (func))
  (type $i2i (func (param i32) (result i32)))
  (import "provider" "g_double" (global $g (ref $i2i)))
  (import "provider" "g_double" (global $g_nullable (ref null $i2i)))
  (import "provider" "g_double" (global $g_func funcref))
  (import "provider" "g_mut" (global $g_mut (mut (ref null $i2i))))
  (import "provider" "t_typed" (table $t 3 (ref null $i2i)))
  (import "provider" "double" (func $double (type $i2i)))
  ;; A table whose every element starts as $double, another as $triple.
  (table $own 4 (ref $i2i) (ref.func $triple))
  (table $init 2 (ref null $i2i) (global.get $g))
  (func $triple (type $i2i) (i32.mul (local.get 0) (i32.const 3)))

  (func (export "via_global") (param i32) (result i32)
    (call_ref $i2i (local.get 0) (global.get $g)))
  (func (export "via_table") (param i32 i32) (result i32)
    (call_ref $i2i (local.get 0) (ref.as_non_null (table.get $t (local.get 1)))))
  (func (export "via_own") (param i32) (result i32)
    (call_ref $i2i (local.get 0) (table.get $own (i32.const 3))))
  (func (export "via_init") (param i32) (result i32)
    (call_ref $i2i (local.get 0) (table.get $init (i32.const 1))))
  (func (export "null_call") (result i32)
    (call_ref $i2i (i32.const 1) (ref.null $i2i)))
  (func (export "null_table_call") (param i32) (result i32)
    (call_ref $i2i (i32.const 1) (table.get $t (local.get 0))))
  (func (export "set_null") (param i32) (table.set $t (local.get 0) (ref.null $i2i)))
  (func (export "tail_via_global") (param i32) (result i32)
    (return_call_ref $i2i (local.get 0) (global.get $g_nullable)))
  ;; br_on_null and br_on_non_null pick the branch by nullness.
  (func (export "or_default") (param i32) (param (ref null $i2i)) (result i32)
    (block $null
      (return (call_ref $i2i (local.get 0) (br_on_null $null (local.get 1)))))
    (i32.const -1))
  (func (export "global_is_null") (result i32)
    (block $non_null (result (ref $i2i))
      (br_on_non_null $non_null (global.get $g_mut))
      (return (i32.const 1)))
    (drop)
    (i32.const 0))
  (func (export "clear_mut") (global.set $g_mut (ref.null $i2i)))
)

(assert_return (invoke "via_global" (i32.const 21)) (i32.const 42))
(assert_return (invoke "via_table" (i32.const 5) (i32.const 2)) (i32.const 10))
(assert_return (invoke "via_own" (i32.const 5)) (i32.const 15))
(assert_return (invoke "via_init" (i32.const 4)) (i32.const 8))
(assert_return (invoke "tail_via_global" (i32.const 8)) (i32.const 16))
(assert_trap (invoke "null_call") "null function reference")
(invoke "set_null" (i32.const 1))
(assert_trap (invoke "via_table" (i32.const 5) (i32.const 1)) "null reference")
(assert_trap (invoke "null_table_call" (i32.const 1)) "null function reference")
(assert_return (invoke "via_table" (i32.const 5) (i32.const 0)) (i32.const 10))
(assert_return (invoke "or_default" (i32.const 3) (ref.null func)) (i32.const -1))
(assert_return (invoke "global_is_null") (i32.const 0))
(invoke "clear_mut")
(assert_return (invoke "global_is_null") (i32.const 1))

;; Structurally different types do not match, nor does nullable for
;; non-nullable, nor a different table element type.
(assert_unlinkable
  (module
    (type $f2f (func (param f32) (result f32)))
    (import "provider" "g_double" (global (ref $f2f))))
  "incompatible import type")
(assert_unlinkable
  (module
    (type $i2i (func (param i32) (result i32)))
    (import "provider" "g_null" (global (ref $i2i))))
  "incompatible import type")
(assert_unlinkable
  (module
    (type $i2i (func (param i32) (result i32)))
    (import "provider" "g_mut" (global (mut funcref))))
  "incompatible import type")
(assert_unlinkable
  (module (import "provider" "t_typed" (table 3 funcref)))
  "incompatible import type")
(assert_unlinkable
  (module
    (type $i2i (func (param i32) (result i32)))
    (import "provider" "t_func" (table 3 (ref null $i2i))))
  "incompatible import type")
(assert_unlinkable
  (module
    (type $void (func))
    (import "provider" "double" (func (type $void))))
  "incompatible import type")

;; A type that refers to another: the same structure through different
;; indices is the same type.
(module $nested_provider
  (type $i2i (func (param i32) (result i32)))
  (type $maker (func (result (ref $i2i))))
  (func $double (type $i2i) (i32.add (local.get 0) (local.get 0)))
  (elem declare func $double)
  (func (export "make") (type $maker) (ref.func $double))
)
(register "nested" $nested_provider)
(module
  (type $pad (func (param i64 i64)))
  (type $i2i (func (param i32) (result i32)))
  (type $maker (func (result (ref $i2i))))
  (import "nested" "make" (func $make (type $maker)))
  (func (export "use") (param i32) (result i32)
    (call_ref $i2i (local.get 0) (call $make)))
)
(assert_return (invoke "use" (i32.const 50)) (i32.const 100))
(assert_unlinkable
  (module
    (type $i2f (func (param i32) (result f32)))
    (type $maker (func (result (ref $i2f))))
    (import "nested" "make" (func (type $maker))))
  "incompatible import type")
