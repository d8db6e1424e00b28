;; A wasi-threads thread recursing four million calls deep, far more native
;; stack than a default thread has: with `-W max-wasm-stack` raised, the
;; thread's stack must follow the budget. The main thread waits for the
;; result and exits 0 when it is right.
(module
  (import "env" "memory" (memory 1 1 shared))
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (export "memory" (memory 0))
  (func $depth (param $n i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n))
      (then (i32.const 0))
      (else (i32.add (call $depth (i32.sub (local.get $n) (i32.const 1))) (i32.const 1)))))
  (func (export "wasi_thread_start") (param i32 i32)
    (i32.atomic.store (i32.const 4) (call $depth (i32.const 4000000)))
    (i32.atomic.store (i32.const 0) (i32.const 1))
    (drop (memory.atomic.notify (i32.const 0) (i32.const 1))))
  (func (export "_start")
    (if (i32.le_s (call $spawn (i32.const 0)) (i32.const 0)) (then unreachable))
    (block $done
      (loop $wait
        (br_if $done (i32.atomic.load (i32.const 0)))
        (drop (memory.atomic.wait32 (i32.const 0) (i32.const 0) (i64.const -1)))
        (br $wait)))
    (call $exit (i32.ne (i32.atomic.load (i32.const 4)) (i32.const 4000000)))))
