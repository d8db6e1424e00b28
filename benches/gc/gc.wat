;; GC workloads for benches/gc/run: each export takes no arguments and
;; returns a checksum.
(module
  (rec
    (type $pair (struct (field $a i32) (field $next (ref null $pair))))
    (type $tree (struct (field $left (ref null $tree)) (field $right (ref null $tree)))))

  ;; Allocation rate: 50,000,000 two-field structs, each dropped at once
  ;; but the last 16 (a ring held in locals).
  (func (export "alloc") (result i32)
    (local $i i32) (local $keep (ref null $pair))
    (loop $l
      (local.set $keep (struct.new $pair (local.get $i)
        (if (result (ref null $pair)) (i32.and (local.get $i) (i32.const 15))
          (then (local.get $keep)) (else (ref.null $pair)))))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                          (i32.const 50000000))))
    (struct.get $pair $a (local.get $keep)))

  (func $make (param $d i32) (result (ref $tree))
    (if (result (ref $tree)) (i32.eqz (local.get $d))
      (then (struct.new $tree (ref.null $tree) (ref.null $tree)))
      (else (struct.new $tree
        (call $make (i32.sub (local.get $d) (i32.const 1)))
        (call $make (i32.sub (local.get $d) (i32.const 1)))))))

  (func $check (param $t (ref null $tree)) (result i32)
    (if (result i32) (ref.is_null (local.get $t))
      (then (i32.const 0))
      (else (i32.add (i32.const 1)
        (i32.add (call $check (struct.get $tree $left (local.get $t)))
                 (call $check (struct.get $tree $right (local.get $t))))))))

  ;; The binary-trees benchmark at depth 18: a long-lived tree, then for
  ;; each depth 4, 6, ..., 18, 2^(18 - d + 4) trees of that depth built and
  ;; checked; the total node count.
  (func (export "trees") (result i32)
    (local $long (ref $tree)) (local $d i32) (local $n i32) (local $sum i32)
    (local.set $long (call $make (i32.const 18)))
    (local.set $d (i32.const 4))
    (loop $depths
      (local.set $n (i32.shl (i32.const 1)
        (i32.add (i32.sub (i32.const 18) (local.get $d)) (i32.const 4))))
      (loop $trees
        (local.set $sum (i32.add (local.get $sum) (call $check (call $make (local.get $d)))))
        (br_if $trees (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
      (br_if $depths (i32.le_u (local.tee $d (i32.add (local.get $d) (i32.const 2)))
                               (i32.const 18))))
    (i32.add (local.get $sum) (call $check (local.get $long))))
)
