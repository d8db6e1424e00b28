;; A wasi-threads program whose one thread spins forever while the main
;; thread waits forever: only a limit applied in the thread's own store
;; (fuel, or the deadline of -W timeout) can end it.
(module
  (import "env" "memory" (memory 1 1 shared))
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (export "memory" (memory 0))
  (func (export "wasi_thread_start") (param i32 i32)
    (loop $spin (br $spin)))
  (func (export "_start")
    (if (i32.le_s (call $spawn (i32.const 0)) (i32.const 0))
      (then unreachable))
    (drop (memory.atomic.wait32 (i32.const 0) (i32.const 0) (i64.const -1)))))
