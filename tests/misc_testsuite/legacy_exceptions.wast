;;! -W legacy-exceptions=y
;; The legacy exception instructions: try with catch and catch_all clauses
;; (tried in order, by tag identity), rethrow from a clause, delegate to an
;; outer try or to the caller, and their mix with try_table.

(module
  (tag $a (param i32))
  (tag $b (param i32 i64))
  (tag $c)
  (func $throw_a (param i32) (throw $a (local.get 0)))
  (func $throw_b (param i32) (throw $b (local.get 0) (i64.const 100)))
  (func $throw_c (throw $c))

  ;; 1 + payload for $a, 2 + both for $b, 3 for anything else.
  (func $classify (param $which i32) (result i64)
    (local $tmp i64)
    try (result i64)
      (if (i32.eq (local.get $which) (i32.const 0)) (then (call $throw_a (i32.const 10))))
      (if (i32.eq (local.get $which) (i32.const 1)) (then (call $throw_b (i32.const 20))))
      (if (i32.eq (local.get $which) (i32.const 2)) (then (call $throw_c)))
      i64.const 0
    catch $a
      i64.extend_i32_u
      i64.const 1
      i64.add
    catch $b
      i64.const 2
      i64.add
      local.set $tmp
      i64.extend_i32_u
      local.get $tmp
      i64.add
    catch_all
      i64.const 3
    end)
  (func (export "classify") (param i32) (result i64)
    (call $classify (local.get 0)))

  ;; A clause that does not match lets the exception out to an outer try.
  (func (export "outer_catches") (result i32)
    try (result i32)
      try (result i32)
        (call $throw_b (i32.const 5))
        i32.const 0
      catch $a
      end
    catch $b
      drop
      drop
      i32.const 50
    end)

  ;; rethrow inside a clause throws the same exception again.
  (func (export "rethrow") (result i32)
    try (result i32)
      try (result i32)
        (call $throw_a (i32.const 7))
        i32.const 0
      catch $a
        drop
        rethrow 0
      end
    catch $a
      i32.const 1000
      i32.add
    end)

  ;; delegate hands the body's exceptions to the try its label names,
  ;; skipping the tries in between.
  (func (export "delegate_outer") (result i32)
    try (result i32)
      try (result i32)
        try (result i32)
          (call $throw_a (i32.const 3))
          i32.const 0
        delegate 1
      catch $a
        drop
        i32.const -1
      end
    catch $a
      i32.const 300
      i32.add
    end)

  ;; delegate to the function's label sends it to the caller.
  (func $delegate_out
    try
      (call $throw_c)
    delegate 0)
  (func (export "delegate_to_caller") (result i32)
    try (result i32)
      (call $delegate_out)
      i32.const 0
    catch $c
      i32.const 42
    end)

  ;; A legacy try inside a try_table: what the try does not catch reaches
  ;; the try_table's clause.
  (func (export "mixed") (result i32)
    (block $h (result i32)
      (try_table (catch $a $h)
        try
          (call $throw_a (i32.const 9))
        catch $c
        end)
      (i32.const -1)))

  ;; A clause's own calls are not covered by its try.
  (func (export "clause_throws") (result i32)
    try (result i32)
      try (result i32)
        (call $throw_c)
        i32.const 0
      catch $c
        (call $throw_a (i32.const 6))
        i32.const 0
      end
    catch $a
      i32.const 60
      i32.add
    end)

  (func (export "uncaught")
    try
      (call $throw_b (i32.const 1))
    catch $a
      drop
    end)
)

(assert_return (invoke "classify" (i32.const 0)) (i64.const 11))
(assert_return (invoke "classify" (i32.const 1)) (i64.const 122))
(assert_return (invoke "classify" (i32.const 2)) (i64.const 3))
(assert_return (invoke "classify" (i32.const 3)) (i64.const 0))
(assert_return (invoke "outer_catches") (i32.const 50))
(assert_return (invoke "rethrow") (i32.const 1007))
(assert_return (invoke "delegate_outer") (i32.const 303))
(assert_return (invoke "delegate_to_caller") (i32.const 42))
(assert_return (invoke "mixed") (i32.const 9))
(assert_return (invoke "clause_throws") (i32.const 66))
(assert_exception (invoke "uncaught"))
