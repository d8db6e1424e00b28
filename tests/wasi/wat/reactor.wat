;; A reactor: no `_start`; `_initialize` sets up state that `get` reads,
;; and `greet` writes through WASI.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $state (mut i32) (i32.const 0))
  (data (i32.const 16) "\20\00\00\00\0c\00\00\00")
  (data (i32.const 32) "hello again\n")
  (func (export "_initialize") (global.set $state (i32.const 42)))
  (func (export "get") (result i32) (global.get $state))
  (func (export "greet") (result i32)
    (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 8))))
