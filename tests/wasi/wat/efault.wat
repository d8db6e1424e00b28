;; Hostile pointers: every pointer or length that leaves linear memory gets
;; errno 21 (fault), a misaligned structure pointer 28 (inval), and the host
;; never faults. Exits with the number of the first check that failed, or 0.
(module
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock_time_get (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_res_get" (func $clock_res_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_fdstat_get" (func $fd_fdstat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_filestat_get" (func $fd_filestat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_get" (func $fd_prestat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_dir_name" (func $fd_prestat_dir_name (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_readdir" (func $fd_readdir (param i32 i32 i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_seek" (func $fd_seek (param i32 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_filestat_get" (func $path_filestat_get (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  ;; An iovec at 64 pointing out of bounds, one at 72 that is too long, and
  ;; a valid one at 80 over the text at 128.
  (data (i32.const 64) "\00\00\01\00\04\00\00\00")
  (data (i32.const 72) "\80\00\00\00\00\00\ff\00")
  (data (i32.const 80) "\80\00\00\00\03\00\00\00")
  (data (i32.const 128) "ok\n")
  (data (i32.const 256) ".")

  (func $expect (param $check i32) (param $got i32) (param $want i32)
    (if (i32.ne (local.get $got) (local.get $want))
      (then (call $proc_exit (local.get $check)))))

  (func (export "_start")
    ;; Out-of-range output pointers.
    (call $expect (i32.const 1) (call $args_sizes_get (i32.const 65536) (i32.const 0)) (i32.const 21))
    (call $expect (i32.const 2) (call $args_sizes_get (i32.const 0) (i32.const 65534)) (i32.const 21))
    (call $expect (i32.const 3) (call $args_get (i32.const -4) (i32.const 0)) (i32.const 21))
    (call $expect (i32.const 4) (call $environ_sizes_get (i32.const -1) (i32.const 0)) (i32.const 21))
    (call $expect (i32.const 5) (call $clock_time_get (i32.const 0) (i64.const 0) (i32.const 65536)) (i32.const 21))
    (call $expect (i32.const 6) (call $clock_res_get (i32.const 0) (i32.const 65532)) (i32.const 21))
    (call $expect (i32.const 7) (call $random_get (i32.const 65530) (i32.const 7)) (i32.const 21))
    (call $expect (i32.const 8) (call $random_get (i32.const -1) (i32.const -1)) (i32.const 21))
    ;; iovec arrays and the buffers they point to.
    (call $expect (i32.const 9) (call $fd_write (i32.const 1) (i32.const 65532) (i32.const 2) (i32.const 0)) (i32.const 21))
    (call $expect (i32.const 10) (call $fd_write (i32.const 1) (i32.const 64) (i32.const 1) (i32.const 0)) (i32.const 21))
    (call $expect (i32.const 11) (call $fd_write (i32.const 1) (i32.const 72) (i32.const 1) (i32.const 0)) (i32.const 21))
    (call $expect (i32.const 12) (call $fd_write (i32.const 1) (i32.const 80) (i32.const 1) (i32.const 65536)) (i32.const 21))
    (call $expect (i32.const 13) (call $fd_read (i32.const 0) (i32.const 64) (i32.const 1) (i32.const 0)) (i32.const 21))
    (call $expect (i32.const 14) (call $fd_write (i32.const 1) (i32.const 80) (i32.const 268435456) (i32.const 0)) (i32.const 21))
    ;; Structures written by the host.
    (call $expect (i32.const 15) (call $fd_fdstat_get (i32.const 1) (i32.const 65528)) (i32.const 21))
    (call $expect (i32.const 16) (call $fd_filestat_get (i32.const 1) (i32.const 65500)) (i32.const 21))
    (call $expect (i32.const 17) (call $fd_prestat_get (i32.const 3) (i32.const 65535)) (i32.const 21))
    (call $expect (i32.const 18) (call $fd_prestat_dir_name (i32.const 3) (i32.const 65535) (i32.const 10)) (i32.const 21))
    (call $expect (i32.const 19) (call $fd_readdir (i32.const 3) (i32.const 65000) (i32.const 1000) (i64.const 0) (i32.const 0)) (i32.const 21))
    (call $expect (i32.const 20) (call $fd_seek (i32.const 1) (i64.const 0) (i32.const 1) (i32.const 65532)) (i32.const 21))
    ;; Paths.
    (call $expect (i32.const 21) (call $path_open (i32.const 3) (i32.const 0) (i32.const 65535) (i32.const 2)
      (i32.const 0) (i64.const 0) (i64.const 0) (i32.const 0) (i32.const 0)) (i32.const 21))
    (call $expect (i32.const 22) (call $path_open (i32.const 3) (i32.const 0) (i32.const 256) (i32.const 1)
      (i32.const 0) (i64.const 0) (i64.const 0) (i32.const 0) (i32.const 65536)) (i32.const 21))
    (call $expect (i32.const 23) (call $path_filestat_get (i32.const 3) (i32.const 0) (i32.const 256) (i32.const 1) (i32.const 65530)) (i32.const 21))
    ;; poll_oneoff's subscription and event arrays.
    (call $expect (i32.const 24) (call $poll_oneoff (i32.const 65520) (i32.const 0) (i32.const 1) (i32.const 512)) (i32.const 21))
    (call $expect (i32.const 25) (call $poll_oneoff (i32.const 1024) (i32.const 65530) (i32.const 1) (i32.const 512)) (i32.const 21))
    ;; Misaligned structure pointers are invalid, not faults.
    (call $expect (i32.const 26) (call $clock_time_get (i32.const 0) (i64.const 0) (i32.const 1)) (i32.const 28))
    (call $expect (i32.const 27) (call $fd_filestat_get (i32.const 1) (i32.const 4)) (i32.const 28))
    ;; Not UTF-8: illegal byte sequence.
    (i32.store8 (i32.const 300) (i32.const 255))
    (call $expect (i32.const 28) (call $path_open (i32.const 3) (i32.const 0) (i32.const 300) (i32.const 1)
      (i32.const 0) (i64.const 0) (i64.const 0) (i32.const 0) (i32.const 0)) (i32.const 25))
    ;; And the process is still fine: a valid write works.
    (call $expect (i32.const 29) (call $fd_write (i32.const 1) (i32.const 80) (i32.const 1) (i32.const 512)) (i32.const 0))
    (call $expect (i32.const 30) (i32.load (i32.const 512)) (i32.const 3)))
)
