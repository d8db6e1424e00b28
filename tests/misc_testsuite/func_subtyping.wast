;; Declared subtyping of function types (`sub`, `sub final`): a function of
;; a declared subtype is accepted wherever its supertype is expected, by
;; call_indirect (also in tail position), by function imports and by
;; immutable global imports; an open type is not the final type of the
;; same shape, and a final type accepts only itself.

(module $provider
  (type $base (sub (func (result i32))))
  (type $mid (sub $base (func (result i32))))
  (type $leaf (sub final $mid (func (result i32))))
  ;; The same shape, final (declared without `sub`): no relation to $base.
  (type $plain (func (result i32)))
  (func $b (export "b") (type $base) (i32.const 1))
  (func $m (export "m") (type $mid) (i32.const 2))
  (func $l (export "l") (type $leaf) (i32.const 3))
  (func $p (export "p") (type $plain) (i32.const 4))
  (table (export "t") 4 funcref)
  (elem (i32.const 0) func $b $m $l $p)
  (func (export "as base") (param i32) (result i32)
    (call_indirect (type $base) (local.get 0)))
  (func (export "as mid") (param i32) (result i32)
    (call_indirect (type $mid) (local.get 0)))
  (func (export "as leaf") (param i32) (result i32)
    (call_indirect (type $leaf) (local.get 0)))
  (func (export "as plain") (param i32) (result i32)
    (call_indirect (type $plain) (local.get 0)))
  (func (export "tail as base") (param i32) (result i32)
    (return_call_indirect (type $base) (local.get 0)))
  (global (export "g_leaf") (ref $leaf) (ref.func $l))
)
(register "provider" $provider)

(assert_return (invoke "as base" (i32.const 0)) (i32.const 1))
(assert_return (invoke "as base" (i32.const 1)) (i32.const 2))
(assert_return (invoke "as base" (i32.const 2)) (i32.const 3))
(assert_trap (invoke "as base" (i32.const 3)) "indirect call type mismatch")
(assert_trap (invoke "as mid" (i32.const 0)) "indirect call type mismatch")
(assert_return (invoke "as mid" (i32.const 1)) (i32.const 2))
(assert_return (invoke "as mid" (i32.const 2)) (i32.const 3))
(assert_trap (invoke "as mid" (i32.const 3)) "indirect call type mismatch")
(assert_trap (invoke "as leaf" (i32.const 1)) "indirect call type mismatch")
(assert_return (invoke "as leaf" (i32.const 2)) (i32.const 3))
(assert_trap (invoke "as plain" (i32.const 0)) "indirect call type mismatch")
(assert_return (invoke "as plain" (i32.const 3)) (i32.const 4))
(assert_return (invoke "tail as base" (i32.const 2)) (i32.const 3))
(assert_trap (invoke "tail as base" (i32.const 3)) "indirect call type mismatch")
(assert_trap (invoke "as base" (i32.const 4)) "undefined element")

;; Another module declaring the same types: they are the same types, so
;; its imports accept subtypes and its call_indirect walks the same
;; supertypes.
(module $user
  (type $base (sub (func (result i32))))
  (type $mid (sub $base (func (result i32))))
  (type $leaf (sub final $mid (func (result i32))))
  (import "provider" "l" (func $as_base (type $base)))
  (import "provider" "m" (func $as_mid (type $mid)))
  (import "provider" "g_leaf" (global $g (ref $base)))
  (import "provider" "t" (table $t 4 funcref))
  (func (export "imported") (result i32)
    (i32.add (call $as_base) (call $as_mid)))
  (func (export "through global") (result i32)
    (call_ref $base (global.get $g)))
  (func (export "as mid") (param i32) (result i32)
    (call_indirect $t (type $mid) (local.get 0)))
)
(assert_return (invoke $user "imported") (i32.const 5))
(assert_return (invoke $user "through global") (i32.const 3))
(assert_return (invoke $user "as mid" (i32.const 2)) (i32.const 3))
(assert_trap (invoke $user "as mid" (i32.const 0)) "indirect call type mismatch")

(assert_unlinkable
  (module
    (type $base (sub (func (result i32))))
    (type $mid (sub $base (func (result i32))))
    (import "provider" "b" (func (type $mid))))
  "incompatible import type")
(assert_unlinkable
  (module
    (type $plain (func (result i32)))
    (import "provider" "b" (func (type $plain))))
  "incompatible import type")
(assert_unlinkable
  (module
    (type $plain (func (result i32)))
    (import "provider" "g_leaf" (global (ref $plain))))
  "incompatible import type")
;; The same declaration but open (not final) is another type.
(assert_unlinkable
  (module
    (type $base (sub (func (result i32))))
    (type $mid (sub $base (func (result i32))))
    (type $leaf (sub $mid (func (result i32))))
    (import "provider" "l" (func (type $leaf))))
  "incompatible import type")
