;;! -W threads=y
;; Atomic accesses beyond what the threads folder checks: bounds at the
;; memory's end (an atomic access is in bounds or traps like any other,
;; whatever the layout), alignment checked before bounds, offsets that
;; make an aligned index misaligned, waits and notifies out of bounds, a
;; wait on an unshared memory, timeouts, narrow read-modify-writes that
;; wrap, 64-bit memories, and every atomic on an unshared memory.

(module
  (memory 1 1 shared)
  (func (export "load32") (param i32) (result i32) (i32.atomic.load (local.get 0)))
  (func (export "load32_off") (param i32) (result i32) (i32.atomic.load offset=2 (local.get 0)))
  (func (export "load64") (param i32) (result i64) (i64.atomic.load (local.get 0)))
  (func (export "store8") (param i32 i32) (i32.atomic.store8 (local.get 0) (local.get 1)))
  (func (export "load8") (param i32) (result i32) (i32.atomic.load8_u (local.get 0)))
  (func (export "rmw8_add") (param i32 i32) (result i32)
    (i32.atomic.rmw8.add_u (local.get 0) (local.get 1)))
  (func (export "rmw16_sub") (param i32 i64) (result i64)
    (i64.atomic.rmw16.sub_u (local.get 0) (local.get 1)))
  (func (export "rmw32_xchg") (param i32 i64) (result i64)
    (i64.atomic.rmw32.xchg_u (local.get 0) (local.get 1)))
  (func (export "cmpxchg8") (param i32 i32 i32) (result i32)
    (i32.atomic.rmw8.cmpxchg_u (local.get 0) (local.get 1) (local.get 2)))
  (func (export "cmpxchg64") (param i32 i64 i64) (result i64)
    (i64.atomic.rmw.cmpxchg (local.get 0) (local.get 1) (local.get 2)))
  (func (export "wait32") (param i32 i32 i64) (result i32)
    (memory.atomic.wait32 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "wait64") (param i32 i64 i64) (result i32)
    (memory.atomic.wait64 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "notify") (param i32 i32) (result i32)
    (memory.atomic.notify (local.get 0) (local.get 1)))
  (func (export "notify_off") (param i32 i32) (result i32)
    (memory.atomic.notify offset=65532 (local.get 0) (local.get 1)))
  (func (export "fence") (atomic.fence))
)

;; The last aligned word and doubleword are in bounds; one further is not.
(assert_return (invoke "load32" (i32.const 65532)) (i32.const 0))
(assert_return (invoke "load64" (i32.const 65528)) (i64.const 0))
(assert_trap (invoke "load32" (i32.const 65536)) "out of bounds memory access")
(assert_trap (invoke "load64" (i32.const 65536)) "out of bounds memory access")
(assert_trap (invoke "load32" (i32.const -4)) "out of bounds memory access")
(assert_trap (invoke "load8" (i32.const 65536)) "out of bounds memory access")
;; Misaligned and out of bounds: alignment is checked first.
(assert_trap (invoke "load32" (i32.const 65537)) "unaligned atomic")
;; The offset counts: 2 + 2 is aligned, 0 + 2 is not.
(assert_return (invoke "load32_off" (i32.const 2)) (i32.const 0))
(assert_trap (invoke "load32_off" (i32.const 0)) "unaligned atomic")
(assert_trap (invoke "load32_off" (i32.const 65534)) "out of bounds memory access")

;; Narrow read-modify-writes return the old value zero-extended and wrap.
(invoke "store8" (i32.const 100) (i32.const 250))
(assert_return (invoke "rmw8_add" (i32.const 100) (i32.const 10)) (i32.const 250))
(assert_return (invoke "load8" (i32.const 100)) (i32.const 4))
(assert_return (invoke "rmw16_sub" (i32.const 200) (i64.const 1)) (i64.const 0))
(assert_return (invoke "rmw16_sub" (i32.const 200) (i64.const 0)) (i64.const 0xffff))
(assert_return (invoke "rmw32_xchg" (i32.const 300) (i64.const 0x1_2345_6789)) (i64.const 0))
(assert_return (invoke "rmw32_xchg" (i32.const 300) (i64.const 0)) (i64.const 0x2345_6789))
;; Compare-exchange compares the wrapped expected value.
(assert_return (invoke "cmpxchg8" (i32.const 100) (i32.const 0x104) (i32.const 7)) (i32.const 4))
(assert_return (invoke "load8" (i32.const 100)) (i32.const 7))
(assert_return (invoke "cmpxchg8" (i32.const 100) (i32.const 8) (i32.const 9)) (i32.const 7))
(assert_return (invoke "load8" (i32.const 100)) (i32.const 7))
(assert_return (invoke "cmpxchg64" (i32.const 400) (i64.const 0) (i64.const -1)) (i64.const 0))
(assert_return (invoke "cmpxchg64" (i32.const 400) (i64.const -1) (i64.const 5)) (i64.const -1))
(assert_return (invoke "load64" (i32.const 400)) (i64.const 5))
(invoke "fence")

;; Waits: not equal returns at once; equal times out (the timeout is in
;; nanoseconds).
(assert_return (invoke "wait32" (i32.const 0) (i32.const 1) (i64.const -1)) (i32.const 1))
(assert_return (invoke "wait32" (i32.const 0) (i32.const 0) (i64.const 1000000)) (i32.const 2))
(assert_return (invoke "wait64" (i32.const 400) (i64.const 5) (i64.const 0)) (i32.const 2))
(assert_return (invoke "wait64" (i32.const 400) (i64.const 6) (i64.const 0)) (i32.const 1))
;; Out of bounds and misaligned waits and notifies trap, with guard pages too.
(assert_trap (invoke "wait32" (i32.const 65536) (i32.const 0) (i64.const 0)) "out of bounds memory access")
(assert_trap (invoke "wait64" (i32.const 65532) (i64.const 0) (i64.const 0)) "unaligned atomic")
(assert_trap (invoke "wait64" (i32.const 65536) (i64.const 0) (i64.const 0)) "out of bounds memory access")
(assert_trap (invoke "wait32" (i32.const 2) (i32.const 0) (i64.const 0)) "unaligned atomic")
(assert_trap (invoke "notify" (i32.const 65536) (i32.const 1)) "out of bounds memory access")
(assert_trap (invoke "notify" (i32.const -4) (i32.const 1)) "out of bounds memory access")
(assert_trap (invoke "notify" (i32.const 1) (i32.const 1)) "unaligned atomic")
(assert_return (invoke "notify" (i32.const 65532) (i32.const 1)) (i32.const 0))
(assert_return (invoke "notify_off" (i32.const 0) (i32.const 1)) (i32.const 0))
(assert_trap (invoke "notify_off" (i32.const 4) (i32.const 1)) "out of bounds memory access")

;; An unshared memory: atomics work; notify wakes no one; wait traps.
(module
  (memory 1)
  (func (export "add") (param i32 i32) (result i32)
    (i32.atomic.rmw.add (local.get 0) (local.get 1)))
  (func (export "notify") (param i32) (result i32)
    (memory.atomic.notify (local.get 0) (i32.const 5)))
  (func (export "wait32") (param i32) (result i32)
    (memory.atomic.wait32 (local.get 0) (i32.const 0) (i64.const 0)))
  (func (export "wait64_then") (param i32) (result i32)
    (memory.atomic.wait64 (local.get 0) (i64.const 0) (i64.const 0))
    (i32.add (i32.const 1)))
)
(assert_return (invoke "add" (i32.const 8) (i32.const 3)) (i32.const 0))
(assert_return (invoke "add" (i32.const 8) (i32.const 3)) (i32.const 3))
(assert_return (invoke "notify" (i32.const 8)) (i32.const 0))
(assert_trap (invoke "notify" (i32.const 65536)) "out of bounds memory access")
(assert_trap (invoke "wait32" (i32.const 8)) "expected shared memory")
(assert_trap (invoke "wait32" (i32.const 9)) "unaligned atomic")
(assert_trap (invoke "wait32" (i32.const 65536)) "out of bounds memory access")
(assert_trap (invoke "wait64_then" (i32.const 8)) "expected shared memory")

;; A 64-bit shared memory: indices are i64 and always bounds-checked.
(module
  (memory i64 1 2 shared)
  (func (export "add") (param i64 i64) (result i64)
    (i64.atomic.rmw.add (local.get 0) (local.get 1)))
  (func (export "wait32") (param i64 i32) (result i32)
    (memory.atomic.wait32 (local.get 0) (local.get 1) (i64.const 0)))
  (func (export "notify") (param i64) (result i32)
    (memory.atomic.notify (local.get 0) (i32.const 1)))
  (func (export "grow") (param i64) (result i64) (memory.grow (local.get 0)))
)
(assert_return (invoke "add" (i64.const 65528) (i64.const 2)) (i64.const 0))
(assert_return (invoke "add" (i64.const 65528) (i64.const 2)) (i64.const 2))
(assert_trap (invoke "add" (i64.const 65536) (i64.const 2)) "out of bounds memory access")
(assert_trap (invoke "add" (i64.const 0x1_0000_0000) (i64.const 2)) "out of bounds memory access")
(assert_trap (invoke "add" (i64.const -8) (i64.const 2)) "out of bounds memory access")
(assert_return (invoke "wait32" (i64.const 8) (i32.const 0)) (i32.const 2))
(assert_trap (invoke "notify" (i64.const -4)) "out of bounds memory access")
(assert_return (invoke "grow" (i64.const 1)) (i64.const 1))
(assert_return (invoke "add" (i64.const 65536) (i64.const 2)) (i64.const 0))
(assert_return (invoke "grow" (i64.const 1)) (i64.const -1))

;; A shared memory module exported and imported: one memory.
(module $m (memory (export "mem") 1 4 shared)
  (func (export "inc") (result i32) (i32.atomic.rmw.add (i32.const 0) (i32.const 1)))
  (func (export "size") (result i32) (memory.size)))
(register "m" $m)
(module
  (import "m" "mem" (memory 1 4 shared))
  (func (export "inc") (result i32) (i32.atomic.rmw.add (i32.const 0) (i32.const 1)))
  (func (export "grow") (result i32) (memory.grow (i32.const 2))))
(assert_return (invoke $m "inc") (i32.const 0))
(assert_return (invoke "inc") (i32.const 1))
(assert_return (invoke $m "inc") (i32.const 2))
(assert_return (invoke "grow") (i32.const 1))
(assert_return (invoke $m "size") (i32.const 3))
;; An unshared import of a shared memory does not match.
(assert_unlinkable
  (module (import "m" "mem" (memory 1 4)))
  "incompatible import type")
