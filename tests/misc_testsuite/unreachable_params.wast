;; Constructs with parameters opened in unreachable code, where the stack is
;; polymorphic: they may take more inputs than the enclosing construct has
;; pushed. Their `end` must not drop values that enclosing constructs still
;; own and use once reachable again. (Found by differential execution: the
;; translator handed a value of a never-reached block to reachable code,
;; which made Cranelift panic.)

(module
  (func (export "block") (result i64)
    (i64.const 7)
    (block $outer
      (br $outer)
      (block (param i32) (result i32))
      (drop)))

  (func (export "loop") (result i64)
    (i64.const 8)
    (block $outer
      (br $outer)
      (loop (param i32 i64) (result f32) (drop) (drop) (f32.const 0))
      (drop)))

  (func (export "if") (result i64)
    (i64.const 9)
    (block $outer
      (br $outer)
      (if (param i32) (result i32) (i32.const 1) (then) (else))
      (drop)))

  (func (export "nested") (param i32) (result i64 f64)
    (i64.const 10)
    (f64.const 2.5)
    (block $outer (param f64) (result f64)
      (br_if $outer (local.get 0))
      (unreachable)
      (block (param i64 i32 f64) (result f64) (drop) (drop) (drop) (f64.const 1))))

  (func (export "try_table") (result i64)
    (i64.const 11)
    (block $outer
      (br $outer)
      (try_table (param i32 i32) (result i32) (drop))
      (drop)))
)
(assert_return (invoke "block") (i64.const 7))
(assert_return (invoke "loop") (i64.const 8))
(assert_return (invoke "if") (i64.const 9))
(assert_return (invoke "nested" (i32.const 1)) (i64.const 10) (f64.const 2.5))
(assert_trap (invoke "nested" (i32.const 0)) "unreachable")
(assert_return (invoke "try_table") (i64.const 11))
