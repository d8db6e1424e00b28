;; A command that imports from a preloaded reactor (`--preload lib=...`)
;; and exits with what the reactor's `get` returns.
(module
  (import "lib" "get" (func $get (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start") (call $proc_exit (call $get))))
