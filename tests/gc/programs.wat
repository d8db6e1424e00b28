;; A small GC program: a linked list, binary trees (long-lived and many
;; short-lived ones, as in the binary-trees benchmark) and a chained hash
;; map, each allocating far more than it keeps, so a store with a small
;; heap must collect many times to run it.
(module
  (rec
    (type $node (struct (field $val i32) (field $next (mut (ref null $node)))))
    (type $tree (struct (field $left (ref null $tree)) (field $right (ref null $tree))
                        (field $val i32)))
    (type $buckets (array (mut (ref null $entry))))
    (type $entry (struct (field $key i32) (field $value (mut i32))
                         (field $next (mut (ref null $entry))))))

  ;; Builds a list of n nodes (n-1 .. 0), then sums it.
  (func (export "list") (param $n i32) (result i32)
    (local $head (ref null $node)) (local $i i32) (local $sum i32)
    (block $done
      (loop $build
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $head (struct.new $node (local.get $i) (local.get $head)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $build)))
    (block $end
      (loop $walk
        (br_if $end (ref.is_null (local.get $head)))
        (local.set $sum (i32.add (local.get $sum)
          (struct.get $node $val (local.get $head))))
        (local.set $head (struct.get $node $next (local.get $head)))
        (br $walk)))
    (local.get $sum))

  ;; A list of n nodes whose last node points back at the first.
  (func (export "cycle") (param $n i32) (result (ref $node))
    (local $first (ref $node)) (local $head (ref $node)) (local $i i32)
    (local.set $first (struct.new $node (i32.const 0) (ref.null $node)))
    (local.set $head (local.get $first))
    (local.set $i (i32.const 1))
    (block $done
      (loop $build
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $head (struct.new $node (local.get $i) (local.get $head)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $build)))
    (struct.set $node $next (local.get $first) (local.get $head))
    (local.get $head))

  ;; Sums n nodes of a list, following `next` (round a cycle as needed).
  (func (export "sum_n") (param $head (ref null $node)) (param $n i32) (result i32)
    (local $sum i32)
    (block $done
      (loop $walk
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $sum (i32.add (local.get $sum)
          (struct.get $node $val (local.get $head))))
        (local.set $head (struct.get $node $next (local.get $head)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $walk)))
    (local.get $sum))

  (func $make (param $d i32) (result (ref $tree))
    (if (result (ref $tree)) (i32.eqz (local.get $d))
      (then (struct.new $tree (ref.null $tree) (ref.null $tree) (i32.const 1)))
      (else (struct.new $tree
        (call $make (i32.sub (local.get $d) (i32.const 1)))
        (call $make (i32.sub (local.get $d) (i32.const 1)))
        (local.get $d)))))

  (func $check (param $t (ref null $tree)) (result i32)
    (if (result i32) (ref.is_null (local.get $t))
      (then (i32.const 0))
      (else (i32.add (i32.const 1)
        (i32.add
          (call $check (struct.get $tree $left (local.get $t)))
          (call $check (struct.get $tree $right (local.get $t))))))))

  ;; A long-lived tree of depth $depth, then $iters short-lived trees of
  ;; the same depth; the node count of all of them.
  (func (export "trees") (param $depth i32) (param $iters i32) (result i32)
    (local $long (ref $tree)) (local $sum i32)
    (local.set $long (call $make (local.get $depth)))
    (block $done
      (loop $again
        (br_if $done (i32.eqz (local.get $iters)))
        (local.set $sum (i32.add (local.get $sum)
          (call $check (call $make (local.get $depth)))))
        (local.set $iters (i32.sub (local.get $iters) (i32.const 1)))
        (br $again)))
    (i32.add (local.get $sum) (call $check (local.get $long))))

  (func $find (param $map (ref $buckets)) (param $key i32) (result (ref null $entry))
    (local $e (ref null $entry))
    (local.set $e (array.get $buckets (local.get $map)
      (i32.rem_u (local.get $key) (array.len (local.get $map)))))
    (block $done
      (loop $walk
        (br_if $done (ref.is_null (local.get $e)))
        (br_if $done (i32.eq (struct.get $entry $key (local.get $e)) (local.get $key)))
        (local.set $e (struct.get $entry $next (local.get $e)))
        (br $walk)))
    (local.get $e))

  ;; Adds `value` to `key`'s entry, making it (at the head of its chain)
  ;; if it is new.
  (func $add (param $map (ref $buckets)) (param $key i32) (param $value i32)
    (local $e (ref null $entry)) (local $b i32)
    (local.set $e (call $find (local.get $map) (local.get $key)))
    (if (ref.is_null (local.get $e))
      (then
        (local.set $b (i32.rem_u (local.get $key) (array.len (local.get $map))))
        (array.set $buckets (local.get $map) (local.get $b)
          (struct.new $entry (local.get $key) (local.get $value)
            (array.get $buckets (local.get $map) (local.get $b)))))
      (else
        (struct.set $entry $value (local.get $e)
          (i32.add (struct.get $entry $value (local.get $e)) (local.get $value))))))

  ;; $rounds times: a fresh map of 64 buckets, $n additions over $n/2
  ;; keys; the sum of every round's lookups of keys 0..$n/2.
  (func (export "hashmap") (param $n i32) (param $rounds i32) (result i32)
    (local $map (ref $buckets)) (local $i i32) (local $sum i32) (local $e (ref null $entry))
    (block $rounds_done
      (loop $round
        (br_if $rounds_done (i32.eqz (local.get $rounds)))
        (local.set $map (array.new_default $buckets (i32.const 64)))
        (local.set $i (i32.const 0))
        (block $done
          (loop $insert
            (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
            (call $add (local.get $map)
              (i32.rem_u (i32.mul (local.get $i) (i32.const 7)) (i32.shr_u (local.get $n) (i32.const 1)))
              (local.get $i))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $insert)))
        (local.set $i (i32.const 0))
        (block $done
          (loop $lookup
            (br_if $done (i32.ge_u (local.get $i) (i32.shr_u (local.get $n) (i32.const 1))))
            (local.set $e (call $find (local.get $map) (local.get $i)))
            (if (ref.is_null (local.get $e)) (then (return (i32.const -1))))
            (local.set $sum (i32.add (local.get $sum) (struct.get $entry $value (local.get $e))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $lookup)))
        (local.set $rounds (i32.sub (local.get $rounds) (i32.const 1)))
        (br $round)))
    (local.get $sum))

  ;; Keeps every node it makes (a list of n), so a small heap runs out.
  (func (export "hoard") (param $n i32) (result i32)
    (local $head (ref null $node)) (local $i i32)
    (block $done
      (loop $build
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $head (struct.new $node (local.get $i) (local.get $head)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $build)))
    (local.get $i))

  ;; Makes n arrays of `len` i64s, keeping none; the last one's length.
  (func (export "arrays") (param $n i32) (param $len i32) (result i32)
    (local $a (ref null $longs))
    (block $done
      (loop $again
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $a (array.new $longs (i64.const 7) (local.get $len)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $again)))
    (array.len (local.get $a)))
  (type $longs (array (mut i64)))
)
