;; Memory bounds at the edges, in both the guard-page and the explicit
;; bounds-check configurations. The effective address is index + offset
;; without wrapping, so large offsets and indices must trap, including
;; offsets beyond the guard region, which need an explicit check even with
;; guard pages.

(module
  (memory 1 3)
  (func (export "load32") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "load64") (param i32) (result i64) (i64.load (local.get 0)))
  (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "store32") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
  (func (export "load_off_max") (param i32) (result i32)
    (i32.load offset=0xffffffff (local.get 0)))
  (func (export "load_off_2g") (param i32) (result i32)
    (i32.load offset=0x80000000 (local.get 0)))
  (func (export "load_off_1") (param i32) (result i32)
    (i32.load offset=1 (local.get 0)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "size") (result i32) (memory.size))
  (data (i32.const 65532) "\01\02\03\04")
)

(assert_return (invoke "load32" (i32.const 65532)) (i32.const 0x04030201))
(assert_trap (invoke "load32" (i32.const 65533)) "out of bounds memory access")
(assert_return (invoke "load64" (i32.const 65528)) (i64.const 0x0403020100000000))
(assert_trap (invoke "load64" (i32.const 65529)) "out of bounds memory access")
(assert_return (invoke "load8" (i32.const 65535)) (i32.const 4))
(assert_trap (invoke "load8" (i32.const 65536)) "out of bounds memory access")
(assert_trap (invoke "load8" (i32.const -1)) "out of bounds memory access")
(assert_trap (invoke "load_off_1" (i32.const -1)) "out of bounds memory access")
(assert_trap (invoke "load_off_max" (i32.const 0)) "out of bounds memory access")
(assert_trap (invoke "load_off_max" (i32.const -1)) "out of bounds memory access")
(assert_trap (invoke "load_off_2g" (i32.const 0)) "out of bounds memory access")
(assert_trap (invoke "store32" (i32.const 65533) (i32.const 7)) "out of bounds memory access")

;; Growing makes the new pages accessible and zeroed; the old ones keep
;; their contents (the memory may move in the explicit configuration).
(assert_return (invoke "grow" (i32.const 1)) (i32.const 1))
(assert_return (invoke "size") (i32.const 2))
(assert_return (invoke "load32" (i32.const 65532)) (i32.const 0x04030201))
(assert_return (invoke "load32" (i32.const 65536)) (i32.const 0))
(assert_return (invoke "store32" (i32.const 131068) (i32.const 9)))
(assert_return (invoke "load32" (i32.const 131068)) (i32.const 9))
(assert_trap (invoke "load32" (i32.const 131069)) "out of bounds memory access")
(assert_return (invoke "grow" (i32.const 2)) (i32.const -1))
(assert_return (invoke "grow" (i32.const 1)) (i32.const 2))
(assert_return (invoke "grow" (i32.const 0)) (i32.const 3))
(assert_trap (invoke "load8" (i32.const 196608)) "out of bounds memory access")

;; A memory without pages has no valid address.
(module
  (memory 0)
  (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
)
(assert_trap (invoke "load" (i32.const 0)) "out of bounds memory access")
(assert_return (invoke "grow" (i32.const 1)) (i32.const 0))
(assert_return (invoke "load" (i32.const 65535)) (i32.const 0))

;; Bulk operations check the whole range before writing anything.
(module
  (memory 1)
  (func (export "fill") (param i32 i32 i32) (memory.fill (local.get 0) (local.get 1) (local.get 2)))
  (func (export "copy") (param i32 i32 i32) (memory.copy (local.get 0) (local.get 1) (local.get 2)))
  (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
)
(assert_trap (invoke "fill" (i32.const 65530) (i32.const 7) (i32.const 7)) "out of bounds memory access")
(assert_return (invoke "load8" (i32.const 65530)) (i32.const 0))
(assert_return (invoke "fill" (i32.const 65530) (i32.const 7) (i32.const 6)))
(assert_return (invoke "load8" (i32.const 65535)) (i32.const 7))
(assert_trap (invoke "copy" (i32.const 0) (i32.const 65530) (i32.const 7)) "out of bounds memory access")
(assert_return (invoke "load8" (i32.const 0)) (i32.const 0))
(assert_return (invoke "copy" (i32.const 65529) (i32.const 65530) (i32.const 6)))
(assert_return (invoke "load8" (i32.const 65529)) (i32.const 7))
(assert_trap (invoke "fill" (i32.const 65537) (i32.const 0) (i32.const 0)) "out of bounds memory access")
(assert_return (invoke "fill" (i32.const 65536) (i32.const 0) (i32.const 0)))
