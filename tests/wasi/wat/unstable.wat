;; The older `wasi_unstable` ABI: its own whence numbering, a 56-byte
;; filestat with a 32-bit nlink, and clock subscriptions with an extra
;; identifier field. Run with a preopen at descriptor 3 holding `ten.txt`
;; (ten bytes). Exits with the number of the first failed check, or 0.
(module
  (import "wasi_unstable" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_unstable" "fd_seek" (func $fd_seek (param i32 i64 i32 i32) (result i32)))
  (import "wasi_unstable" "fd_filestat_get" (func $fd_filestat_get (param i32 i32) (result i32)))
  (import "wasi_unstable" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (import "wasi_unstable" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_unstable" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "ten.txt")
  (data (i32.const 32) "\30\00\00\00\03\00\00\00")
  (data (i32.const 48) "ok\n")

  (func $expect (param $check i32) (param $got i64) (param $want i64)
    (if (i64.ne (local.get $got) (local.get $want))
      (then (call $proc_exit (local.get $check)))))

  (func (export "_start")
    (local $fd i32)
    (call $expect (i32.const 1)
      (i64.extend_i32_u (call $path_open (i32.const 3) (i32.const 0) (i32.const 16) (i32.const 7)
        (i32.const 0) (i64.const -1) (i64.const -1) (i32.const 0) (i32.const 8)))
      (i64.const 0))
    (local.set $fd (i32.load (i32.const 8)))
    ;; whence 1 is END in wasi_unstable (CUR in preview1).
    (call $expect (i32.const 2)
      (i64.extend_i32_u (call $fd_seek (local.get $fd) (i64.const -3) (i32.const 1) (i32.const 200)))
      (i64.const 0))
    (call $expect (i32.const 3) (i64.load (i32.const 200)) (i64.const 7))
    ;; whence 2 is SET, 0 is CUR.
    (drop (call $fd_seek (local.get $fd) (i64.const 2) (i32.const 2) (i32.const 200)))
    (call $expect (i32.const 4) (i64.load (i32.const 200)) (i64.const 2))
    (drop (call $fd_seek (local.get $fd) (i64.const 1) (i32.const 0) (i32.const 200)))
    (call $expect (i32.const 5) (i64.load (i32.const 200)) (i64.const 3))
    ;; filestat: filetype at 16, nlink (u32) at 20, size at 24.
    (call $expect (i32.const 6)
      (i64.extend_i32_u (call $fd_filestat_get (local.get $fd) (i32.const 256)))
      (i64.const 0))
    (call $expect (i32.const 7) (i64.load8_u (i32.const 272)) (i64.const 4))
    (call $expect (i32.const 8) (i64.load32_u (i32.const 276)) (i64.const 1))
    (call $expect (i32.const 9) (i64.load (i32.const 280)) (i64.const 10))
    ;; A 20 ms clock: userdata 0, tag 8, identifier 16, id 24, timeout 32.
    (i64.store (i32.const 1024) (i64.const 77))
    (i32.store8 (i32.const 1032) (i32.const 0))
    (i64.store (i32.const 1040) (i64.const 5))
    (i32.store (i32.const 1048) (i32.const 1))
    (i64.store (i32.const 1056) (i64.const 20000000))
    (call $expect (i32.const 10)
      (i64.extend_i32_u (call $poll_oneoff (i32.const 1024) (i32.const 2048) (i32.const 1) (i32.const 300)))
      (i64.const 0))
    (call $expect (i32.const 11) (i64.load32_u (i32.const 300)) (i64.const 1))
    (call $expect (i32.const 12) (i64.load (i32.const 2048)) (i64.const 77))
    (call $expect (i32.const 13) (i64.load16_u (i32.const 2056)) (i64.const 0))
    (drop (call $fd_write (i32.const 1) (i32.const 32) (i32.const 1) (i32.const 400))))
)
