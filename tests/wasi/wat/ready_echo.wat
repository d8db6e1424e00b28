;; Writes "ready\n" to stdout at once (no buffering), then copies stdin to
;; stdout until end of file: a test can act while the program is known to
;; be running, then let it finish.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "ready\n")
  ;; An iovec at 0: base, length.
  (func $write (param $base i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $base))
    (i32.store (i32.const 4) (local.get $len))
    (if (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))
      (then (unreachable))))
  (func (export "_start")
    (local $n i32)
    (call $write (i32.const 16) (i32.const 6))
    (loop $copy
      (i32.store (i32.const 0) (i32.const 1024))
      (i32.store (i32.const 4) (i32.const 4096))
      (if (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8))
        (then (unreachable)))
      (local.set $n (i32.load (i32.const 8)))
      (if (local.get $n)
        (then
          (call $write (i32.const 1024) (local.get $n))
          (br $copy))))))
