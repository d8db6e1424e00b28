;; Exception-handling costs, one export per case (benches/run --exceptions).
;; Each returns a checksum, so every engine must compute the same thing.
;;
;; - throw_catch: 1,000,000 throws, each caught one frame up.
;; - throw_catch_deep: 1,000,000 throws, each unwinding 10 frames.
;; - throw_cleanup: 1,000,000 throws, each passing through a cleanup one
;;   frame up (catch_all_ref, then throw_ref, as C++ runs destructors)
;;   before a catch two frames up: every exception is held by an exnref,
;;   so only a collector frees it.
;; - call_in_try: 100,000,000 calls inside a try_table that never throw.
;; - call_plain: the same calls outside any try_table (the baseline).
(module
  (tag $e (param i32))

  (func $thrower (param i32)
    (throw $e (local.get 0)))

  (func $down (param $depth i32) (param $v i32)
    (if (i32.eqz (local.get $depth))
      (then (throw $e (local.get $v)))
      (else (call $down (i32.sub (local.get $depth) (i32.const 1)) (local.get $v)))))

  ;; Not trivially inlinable: a little arithmetic and a branch.
  (func $work (param $v i32) (result i32)
    (if (result i32) (i32.and (local.get $v) (i32.const 1))
      (then (i32.mul (local.get $v) (i32.const 3)))
      (else (i32.add (local.get $v) (i32.const 7)))))

  (func (export "throw_catch") (result i64)
    (local $i i32) (local $sum i64) (local $v i32)
    (loop $l
      (block $h (result i32)
        (try_table (catch $e $h)
          (call $thrower (local.get $i)))
        (unreachable))
      (local.set $v)
      (local.set $sum (i64.add (local.get $sum) (i64.extend_i32_u (local.get $v))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 1000000))))
    (local.get $sum))

  (func (export "throw_catch_deep") (result i64)
    (local $i i32) (local $sum i64) (local $v i32)
    (loop $l
      (block $h (result i32)
        (try_table (catch $e $h)
          (call $down (i32.const 10) (local.get $i)))
        (unreachable))
      (local.set $v)
      (local.set $sum (i64.add (local.get $sum) (i64.extend_i32_u (local.get $v))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 1000000))))
    (local.get $sum))

  (func $cleanup (param i32)
    (throw_ref
      (block $h (result exnref)
        (try_table (catch_all_ref $h)
          (call $thrower (local.get 0)))
        (return))))

  (func (export "throw_cleanup") (result i64)
    (local $i i32) (local $sum i64) (local $v i32)
    (loop $l
      (block $h (result i32)
        (try_table (catch $e $h)
          (call $cleanup (local.get $i)))
        (unreachable))
      (local.set $v)
      (local.set $sum (i64.add (local.get $sum) (i64.extend_i32_u (local.get $v))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 1000000))))
    (local.get $sum))

  (func (export "call_in_try") (result i64)
    (local $i i32) (local $sum i64)
    (block $h (result i32)
      (try_table (catch $e $h)
        (loop $l
          (local.set $sum
            (i64.add (local.get $sum) (i64.extend_i32_u (call $work (local.get $i)))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $i) (i32.const 100000000)))))
      (return (local.get $sum)))
    (drop)
    (i64.const -1))

  (func (export "call_plain") (result i64)
    (local $i i32) (local $sum i64)
    (loop $l
      (local.set $sum
        (i64.add (local.get $sum) (i64.extend_i32_u (call $work (local.get $i)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 100000000))))
    (local.get $sum))
)
