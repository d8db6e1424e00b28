;; wasi-threads: four threads count the primes below 200,000 together and
;; the main thread prints how many there are (17984).
;;
;;   cljit run -W threads=y -S threads=y examples/threads.wat
;;
;; Every thread is an instance of this module on the one shared memory it
;; imports. Threads take blocks of numbers from a counter with an atomic
;; add, add their count to a total, and the last to finish wakes the main
;; thread, which waits with memory.atomic.wait32.
(module
  (import "env" "memory" (memory 1 1 shared))
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (export "memory" (memory 0))

  ;; Shared cells: 0 the next block, 4 the prime total, 8 threads done.
  (global $limit i32 (i32.const 200000))
  (global $block i32 (i32.const 1000))
  (global $threads i32 (i32.const 4))

  (func $is_prime (param $n i32) (result i32) (local $d i32)
    (if (i32.lt_u (local.get $n) (i32.const 2)) (then (return (i32.const 0))))
    (local.set $d (i32.const 2))
    (block $no_divisor
      (loop $try
        (br_if $no_divisor
          (i32.gt_u (i32.mul (local.get $d) (local.get $d)) (local.get $n)))
        (if (i32.eqz (i32.rem_u (local.get $n) (local.get $d)))
          (then (return (i32.const 0))))
        (local.set $d (i32.add (local.get $d) (i32.const 1)))
        (br $try)))
    (i32.const 1))

  (func (export "wasi_thread_start") (param $tid i32) (param $arg i32)
    (local $start i32) (local $n i32) (local $count i32)
    (block $no_more
      (loop $next_block
        (local.set $start
          (i32.mul (i32.atomic.rmw.add (i32.const 0) (i32.const 1)) (global.get $block)))
        (br_if $no_more (i32.ge_u (local.get $start) (global.get $limit)))
        (local.set $n (local.get $start))
        (loop $numbers
          (local.set $count (i32.add (local.get $count) (call $is_prime (local.get $n))))
          (local.set $n (i32.add (local.get $n) (i32.const 1)))
          (br_if $numbers
            (i32.lt_u (local.get $n) (i32.add (local.get $start) (global.get $block)))))
        (br $next_block)))
    (drop (i32.atomic.rmw.add (i32.const 4) (local.get $count)))
    (if (i32.eq (i32.add (i32.atomic.rmw.add (i32.const 8) (i32.const 1)) (i32.const 1))
                (global.get $threads))
      (then (drop (memory.atomic.notify (i32.const 8) (i32.const 1))))))

  ;; Writes `n` in decimal and a newline, from a buffer at 64..80.
  (func $print (param $n i32) (local $at i32)
    (local.set $at (i32.const 79))
    (i32.store8 (local.get $at) (i32.const 10))
    (loop $digit
      (local.set $at (i32.sub (local.get $at) (i32.const 1)))
      (i32.store8 (local.get $at)
        (i32.add (i32.const 48) (i32.rem_u (local.get $n) (i32.const 10))))
      (local.set $n (i32.div_u (local.get $n) (i32.const 10)))
      (br_if $digit (local.get $n)))
    ;; The iovec at 16: the digits and the newline.
    (i32.store (i32.const 16) (local.get $at))
    (i32.store (i32.const 20) (i32.sub (i32.const 80) (local.get $at)))
    (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24))))

  (func (export "_start") (local $i i32) (local $done i32)
    (loop $spawn_all
      (if (i32.le_s (call $spawn (local.get $i)) (i32.const 0))
        (then (call $exit (i32.const 1))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $spawn_all (i32.lt_u (local.get $i) (global.get $threads))))
    (block $all_done
      (loop $wait
        (local.set $done (i32.atomic.load (i32.const 8)))
        (br_if $all_done (i32.eq (local.get $done) (global.get $threads)))
        (drop (memory.atomic.wait32 (i32.const 8) (local.get $done) (i64.const -1)))
        (br $wait)))
    (call $print (i32.atomic.load (i32.const 4)))))
