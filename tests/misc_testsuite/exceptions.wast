;; Exceptions beyond the proposal's scripts: tags are compared by identity
;; (an imported tag is the exporter's; each instance of a module has its
;; own tags), handlers are tried innermost first across frames and
;; modules, calls of every kind inside a try_table are covered (direct,
;; imported, indirect, by reference), a tail call leaves its frame's
;; handlers behind, and exnrefs live in globals and tables.

(module $a
  (tag $e (export "e") (param i32))
  (tag $other (export "other"))
  (func (export "throw_e") (param i32) (throw $e (local.get 0)))
  (func (export "throw_other") (throw $other))
  (type $thunk (func))
  ;; Catches its own $e thrown by anyone.
  (func (export "catch_e") (param (ref $thunk)) (result i32)
    (block $h (result i32)
      (try_table (result i32) (catch $e $h)
        (call_ref $thunk (local.get 0))
        (i32.const -1))
      (return)))
)
(register "a" $a)

;; A second instance of the same module text has different tags.
(module $b
  (tag $e (export "e") (param i32))
  (func (export "throw_e") (param i32) (throw $e (local.get 0))))
(register "b" $b)

(module $user
  (import "a" "e" (tag $ae (param i32)))
  (import "a" "other" (tag $aother))
  (import "b" "e" (tag $be (param i32)))
  (import "a" "throw_e" (func $a_throw (param i32)))
  (import "a" "throw_other" (func $a_throw_other))
  (import "b" "throw_e" (func $b_throw (param i32)))
  (type $void (func))
  (type $unary (func (param i32)))
  (table $t 2 funcref)
  (elem (table $t) (i32.const 0) func $a_throw $b_throw)
  (global $saved (mut exnref) (ref.null exn))
  (table $exns 1 exnref)

  ;; Which tag an exception from `thrower` carries: 1 for a's, 2 for b's,
  ;; 3 for anything else, with the payload added.
  (func $classify (param $which i32) (param $v i32) (result i32)
    (local $payload i32)
    (block $other
      (block $from_b (result i32)
        (block $from_a (result i32)
          (try_table (catch $ae $from_a) (catch $be $from_b) (catch_all $other)
            (call_indirect $t (type $unary) (local.get $v) (local.get $which)))
          (return (i32.const 0)))
        (return (i32.add (i32.const 1000))))
      (return (i32.add (i32.const 2000))))
    (i32.const 3))
  (func (export "classify") (param i32 i32) (result i32)
    (call $classify (local.get 0) (local.get 1)))

  ;; Inner handlers see the exception first; a non-matching inner clause
  ;; lets it through to an outer one in the same function.
  (func (export "nested") (result i32)
    (block $outer (result i32)
      (try_table (result i32) (catch $ae $outer)
        (drop
          (block $inner (result i32)
            (try_table (catch $be $inner)
              (call $a_throw (i32.const 5)))
            (i32.const 0)))
        (i32.const -1))
      (return))
    (i32.const 100)
    (i32.add))

  ;; An inner catch_all wins over an outer clause naming the tag.
  (func (export "inner_catch_all") (result i32)
    (block $outer (result i32)
      (try_table (catch $ae $outer)
        (block $inner
          (try_table (catch_all $inner)
            (call $a_throw (i32.const 5))))
        (return (i32.const 77)))
      (unreachable))
    (drop)
    (i32.const -1))

  ;; catch_ref keeps the exception; throw_ref rethrows the same one, which
  ;; an outer handler then sees with its payload.
  (func (export "rethrow") (param i32) (result i32)
    (block $outer (result i32)
      (try_table (catch $ae $outer)
        (block $h (result i32 exnref)
          (try_table (catch_ref $ae $h)
            (call $a_throw (local.get 0)))
          (unreachable))
        (global.set $saved)
        (drop)
        (throw_ref (global.get $saved)))
      (unreachable)))
  (func (export "saved_is_null") (result i32) (ref.is_null (global.get $saved)))
  (func (export "throw_saved") (throw_ref (global.get $saved)))
  (func (export "store_and_throw_from_table")
    (table.set $exns (i32.const 0) (global.get $saved))
    (throw_ref (table.get $exns (i32.const 0))))
  (func (export "throw_null") (throw_ref (ref.null exn)))

  ;; A tail call replaces the frame, handlers included.
  (func (export "tail_call_escapes") (result i32)
    (block $h
      (try_table (catch_all $h)
        (return_call $a_throw_void_result))
      (unreachable))
    (i32.const -1))
  (func $a_throw_void_result (result i32)
    (call $a_throw_other)
    (i32.const 0))

  ;; A thousand frames between handler and throw.
  (func $deep (param i32)
    (if (i32.eqz (local.get 0))
      (then (call $a_throw (i32.const 9)))
      (else (call $deep (i32.sub (local.get 0) (i32.const 1))))))
  (func (export "deep") (result i32)
    (block $h (result i32)
      (try_table (result i32) (catch $ae $h)
        (call $deep (i32.const 1000))
        (i32.const -1))
      (return)))

  ;; A trap is not an exception: no handler sees it.
  (func (export "trap_inside") (result i32)
    (block $h
      (try_table (catch_all $h)
        (call $trap))
      (return (i32.const 0)))
    (i32.const -1))
  (func $trap (unreachable))
)

(assert_return (invoke "classify" (i32.const 0) (i32.const 7)) (i32.const 1007))
(assert_return (invoke "classify" (i32.const 1) (i32.const 7)) (i32.const 2007))
(assert_return (invoke "nested") (i32.const 105))
(assert_return (invoke "inner_catch_all") (i32.const 77))
(assert_return (invoke "saved_is_null") (i32.const 1))
(assert_return (invoke "rethrow" (i32.const 42)) (i32.const 42))
(assert_return (invoke "saved_is_null") (i32.const 0))
(assert_exception (invoke "throw_saved"))
(assert_exception (invoke "store_and_throw_from_table"))
(assert_trap (invoke "throw_null") "null exception reference")
(assert_exception (invoke "tail_call_escapes"))
(assert_return (invoke "deep") (i32.const 9))
(assert_trap (invoke "trap_inside") "unreachable")

;; The exporter's handler catches its own tag thrown from another module,
;; and not another instance's tag of the same type.
(module
  (type $thunk (func))
  (import "a" "catch_e" (func $catch_e (param (ref $thunk)) (result i32)))
  (import "a" "throw_e" (func $a_throw (param i32)))
  (import "b" "throw_e" (func $b_throw (param i32)))
  (elem declare func $throw_a $throw_b)
  (func $throw_a (call $a_throw (i32.const 31)))
  (func $throw_b (call $b_throw (i32.const 32)))
  (func (export "a_in_a") (result i32) (call $catch_e (ref.func $throw_a)))
  (func (export "b_in_a") (result i32) (call $catch_e (ref.func $throw_b))))
(assert_return (invoke "a_in_a") (i32.const 31))
(assert_exception (invoke "b_in_a"))

;; Tags match on their type when imported.
(assert_unlinkable
  (module (import "a" "e" (tag (param i64))))
  "incompatible import type")
(assert_unlinkable
  (module (import "a" "other" (tag (param i32))))
  "incompatible import type")
