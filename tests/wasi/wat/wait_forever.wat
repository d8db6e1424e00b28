;; One thread, a shared memory, and a wait that nothing will ever end
;; but the store's deadline (`-W timeout`).
(module
  (memory 1 1 shared)
  (func (export "_start")
    (drop (memory.atomic.wait32 (i32.const 0) (i32.const 0) (i64.const -1)))))
