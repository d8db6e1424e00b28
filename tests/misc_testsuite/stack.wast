;; Stack exhaustion is a trap, whatever the frame size, and the store stays
;; usable afterwards; bounded deep recursion within the budget works.

(module
  (func $small (export "small") (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0))
      (then (i32.const 0))
      (else (i32.add (i32.const 1) (call $small (i32.sub (local.get 0) (i32.const 1)))))))
  (func $forever (export "forever") (call $forever))
  (func $big_frames (export "big_frames") (param i64) (result i64)
    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64
           i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (local.set 1 (local.get 0))
    (local.set 32 (call $big_frames (i64.add (local.get 1) (i64.const 1))))
    (i64.add (local.get 32) (local.get 1)))
  (func $even (export "even") (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0))
      (then (i32.const 1))
      (else (call $odd (i32.sub (local.get 0) (i32.const 1))))))
  (func $odd (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0))
      (then (i32.const 0))
      (else (call $even (i32.sub (local.get 0) (i32.const 1))))))
)

;; 4,000 frames of `small` fit the default 512 KiB budget in every tier:
;; the fast tier's frames for it are the largest, 96 bytes on x86-64 and
;; 112 on AArch64 (single-pass register allocation gives every value that
;; crosses a block a slot of its own), so about 4,650 fit there.
(assert_return (invoke "small" (i32.const 4000)) (i32.const 4000))
(assert_exhaustion (invoke "forever") "call stack exhausted")
(assert_exhaustion (invoke "big_frames" (i64.const 0)) "call stack exhausted")
(assert_exhaustion (invoke "even" (i32.const 100000000)) "call stack exhausted")
(assert_return (invoke "even" (i32.const 1000)) (i32.const 1))
(assert_return (invoke "small" (i32.const 10)) (i32.const 10))
