;; Recursion groups of function types across modules. A type's identity is
;; its place in its group and the group's shape (iso-recursive, as 3.0
;; defines it): equal groups in two modules are the same types, whatever
;; their indices; the same function shape in a group of a different shape,
;; or alone, is a different type. call_indirect, call_ref through imported
;; tables, and imports all check that identity.

(module $provider
  ;; $even and $odd refer to each other.
  (rec
    (type $even (func (param i32 (ref null $odd)) (result i32)))
    (type $odd (func (param i32 (ref null $even)) (result i32)))
  )
  ;; A type alone that refers to itself.
  (type $self (func (param (ref null $self)) (result i32)))

  (func $is_even (export "is_even") (type $even)
    (if (result i32) (i32.eqz (local.get 0))
      (then (i32.const 1))
      (else
        (call_ref $odd
          (i32.sub (local.get 0) (i32.const 1))
          (ref.func $is_even)
          (local.get 1)))))
  (func $is_odd (export "is_odd") (type $odd)
    (if (result i32) (i32.eqz (local.get 0))
      (then (i32.const 0))
      (else
        (call_ref $even
          (i32.sub (local.get 0) (i32.const 1))
          (ref.func $is_odd)
          (local.get 1)))))
  (func $seven (export "seven") (type $self) (i32.const 7))

  (table (export "table") 3 funcref)
  (elem (i32.const 0) func $is_even $is_odd $seven)

  (func (export "even?") (param i32) (result i32)
    (call $is_even (local.get 0) (ref.func $is_odd)))
)
(register "provider" $provider)

(assert_return (invoke $provider "even?" (i32.const 10)) (i32.const 1))
(assert_return (invoke $provider "even?" (i32.const 7)) (i32.const 0))

;; The same group and type at other indices: the imports match, and
;; call_indirect through the provider's table finds the same types.
(module $user
  (type $pad (func (param f64)))
  (type $self (func (param (ref null $self)) (result i32)))
  (rec
    (type $even (func (param i32 (ref null $odd)) (result i32)))
    (type $odd (func (param i32 (ref null $even)) (result i32)))
  )
  (import "provider" "is_even" (func $is_even (type $even)))
  (import "provider" "is_odd" (func $is_odd (type $odd)))
  (import "provider" "seven" (func $seven (type $self)))
  (import "provider" "table" (table $t 3 funcref))

  (func (export "odd?") (param i32) (result i32)
    (call $is_odd (local.get 0) (ref.func $is_even)))
  (func (export "indirect even?") (param i32 i32) (result i32)
    (call_indirect $t (type $even)
      (local.get 0) (ref.func $is_odd) (local.get 1)))
  (func (export "indirect self") (param i32) (result i32)
    (call_indirect $t (type $self) (ref.null $self) (local.get 0)))
  (elem declare func $is_even $is_odd)
)

(assert_return (invoke $user "odd?" (i32.const 9)) (i32.const 1))
(assert_return (invoke $user "odd?" (i32.const 4)) (i32.const 0))
(assert_return (invoke $user "indirect even?" (i32.const 6) (i32.const 0)) (i32.const 1))
(assert_return (invoke $user "indirect self" (i32.const 2)) (i32.const 7))
;; The right shape in the wrong slot: $odd is not $even.
(assert_trap (invoke $user "indirect even?" (i32.const 6) (i32.const 1))
  "indirect call type mismatch")
(assert_trap (invoke $user "indirect self" (i32.const 0))
  "indirect call type mismatch")

;; Groups of another shape hold other types, though each member reads the
;; same: $even in a group with a third type, and the pair in the other
;; order.
(module $wider
  (rec
    (type $even (func (param i32 (ref null $odd)) (result i32)))
    (type $odd (func (param i32 (ref null $even)) (result i32)))
    (type $extra (func))
  )
  (import "provider" "table" (table $t 3 funcref))
  (func (export "indirect even?") (param i32) (result i32)
    (call_indirect $t (type $even) (local.get 0) (ref.null $odd) (i32.const 0)))
)
(assert_trap (invoke $wider "indirect even?" (i32.const 2))
  "indirect call type mismatch")

(assert_unlinkable
  (module
    (rec
      (type $even (func (param i32 (ref null $odd)) (result i32)))
      (type $odd (func (param i32 (ref null $even)) (result i32)))
      (type $extra (func))
    )
    (import "provider" "is_even" (func (type $even))))
  "incompatible import type")

(assert_unlinkable
  (module
    (rec
      (type $odd (func (param i32 (ref null $even)) (result i32)))
      (type $even (func (param i32 (ref null $odd)) (result i32)))
    )
    (import "provider" "is_even" (func (type $even))))
  "incompatible import type")

;; The self-referring type declared in a group of one is the same type as
;; declared alone; in a group of two it is not.
(module
  (rec (type $self (func (param (ref null $self)) (result i32))))
  (import "provider" "seven" (func (type $self)))
)
(assert_unlinkable
  (module
    (rec
      (type $self (func (param (ref null $self)) (result i32)))
      (type (func)))
    (import "provider" "seven" (func (type $self))))
  "incompatible import type")

;; An empty group declares nothing; the types after it are numbered on.
(module
  (rec)
  (type $i (func (result i32)))
  (func (export "f") (type $i) (i32.const 3))
)
(assert_return (invoke "f") (i32.const 3))
