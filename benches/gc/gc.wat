;; GC workloads for benches/gc/run: each export without parameters is a
;; case and returns a checksum (tests/all/gc.rs runs smaller `splay_run`s).
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

  ;; The splay workload (as in Octane's and sightglass's splay): a splay
  ;; tree of $size nodes keyed by pseudo-random i32s, each holding a payload
  ;; tree of depth 5 (63 structs, 32 leaves with an array of 10 ints and a
  ;; 32-byte "string"); then $rounds rounds of 80 changes, each inserting a
  ;; node with a new key and removing the greatest node below it (or the
  ;; new one). Every change allocates a payload and drops one, so the heap
  ;; holds a large, long-lived, constantly rewired graph.
  ;;
  ;; splay_run returns the node count after checking that an in-order
  ;; walk finds the keys strictly increasing and every payload whole (-1
  ;; if not).
  (type $ints (array (mut i32)))
  (type $bytes (array (mut i8)))
  (type $payload (struct (field $left (ref null $payload)) (field $right (ref null $payload))
                         (field $arr (ref null $ints)) (field $str (ref null $bytes))))
  (type $snode (struct (field $key i32) (field $value (ref null $payload))
                       (field $sleft (mut (ref null $snode))) (field $sright (mut (ref null $snode)))))

  (global $root (mut (ref null $snode)) (ref.null $snode))
  (global $seed (mut i32) (i32.const 49734321))

  ;; A 31-bit pseudo-random number (an LCG's high bits).
  (func $random (result i32)
    (global.set $seed (i32.add (i32.mul (global.get $seed) (i32.const 1103515245))
                               (i32.const 12345)))
    (i32.shr_u (global.get $seed) (i32.const 1)))

  (func $payload (param $depth i32) (param $tag i32) (result (ref $payload))
    (if (result (ref $payload)) (i32.eqz (local.get $depth))
      (then (struct.new $payload (ref.null $payload) (ref.null $payload)
        (array.new_fixed $ints 10 (i32.const 0) (i32.const 1) (i32.const 2) (i32.const 3)
          (i32.const 4) (i32.const 5) (i32.const 6) (i32.const 7) (i32.const 8) (i32.const 9))
        (array.new $bytes (local.get $tag) (i32.const 32))))
      (else (struct.new $payload
        (call $payload (i32.sub (local.get $depth) (i32.const 1)) (local.get $tag))
        (call $payload (i32.sub (local.get $depth) (i32.const 1)) (local.get $tag))
        (ref.null $ints) (ref.null $bytes)))))

  ;; Top-down splay of $key to the root.
  (func $splay (param $key i32)
    (local $dummy (ref $snode)) (local $left (ref $snode)) (local $right (ref $snode))
    (local $current (ref null $snode)) (local $tmp (ref null $snode))
    (if (ref.is_null (global.get $root)) (then (return)))
    (local.set $dummy (struct.new_default $snode))
    (local.set $left (local.get $dummy))
    (local.set $right (local.get $dummy))
    (local.set $current (global.get $root))
    (block $done
      (loop $step
        (if (i32.lt_s (local.get $key) (struct.get $snode $key (local.get $current)))
          (then
            (br_if $done (ref.is_null (struct.get $snode $sleft (local.get $current))))
            (if (i32.lt_s (local.get $key)
                  (struct.get $snode $key (struct.get $snode $sleft (local.get $current))))
              (then
                ;; Rotate right.
                (local.set $tmp (struct.get $snode $sleft (local.get $current)))
                (struct.set $snode $sleft (local.get $current)
                  (struct.get $snode $sright (local.get $tmp)))
                (struct.set $snode $sright (local.get $tmp) (local.get $current))
                (local.set $current (local.get $tmp))
                (br_if $done (ref.is_null (struct.get $snode $sleft (local.get $current))))))
            ;; Link right.
            (struct.set $snode $sleft (local.get $right) (local.get $current))
            (local.set $right (ref.as_non_null (local.get $current)))
            (local.set $current (struct.get $snode $sleft (local.get $current)))
            (br $step)))
        (if (i32.gt_s (local.get $key) (struct.get $snode $key (local.get $current)))
          (then
            (br_if $done (ref.is_null (struct.get $snode $sright (local.get $current))))
            (if (i32.gt_s (local.get $key)
                  (struct.get $snode $key (struct.get $snode $sright (local.get $current))))
              (then
                ;; Rotate left.
                (local.set $tmp (struct.get $snode $sright (local.get $current)))
                (struct.set $snode $sright (local.get $current)
                  (struct.get $snode $sleft (local.get $tmp)))
                (struct.set $snode $sleft (local.get $tmp) (local.get $current))
                (local.set $current (local.get $tmp))
                (br_if $done (ref.is_null (struct.get $snode $sright (local.get $current))))))
            ;; Link left.
            (struct.set $snode $sright (local.get $left) (local.get $current))
            (local.set $left (ref.as_non_null (local.get $current)))
            (local.set $current (struct.get $snode $sright (local.get $current)))
            (br $step)))))
    ;; Assemble.
    (struct.set $snode $sright (local.get $left) (struct.get $snode $sleft (local.get $current)))
    (struct.set $snode $sleft (local.get $right) (struct.get $snode $sright (local.get $current)))
    (struct.set $snode $sleft (local.get $current) (struct.get $snode $sright (local.get $dummy)))
    (struct.set $snode $sright (local.get $current) (struct.get $snode $sleft (local.get $dummy)))
    (global.set $root (local.get $current)))

  ;; Whether $key is in the tree (splaying it to the root if so).
  (func $contains (param $key i32) (result i32)
    (if (ref.is_null (global.get $root)) (then (return (i32.const 0))))
    (call $splay (local.get $key))
    (i32.eq (struct.get $snode $key (global.get $root)) (local.get $key)))

  (func $insert (param $key i32) (param $value (ref $payload))
    (local $node (ref null $snode)) (local $root (ref $snode))
    (if (ref.is_null (global.get $root))
      (then
        (global.set $root (struct.new $snode (local.get $key) (local.get $value)
          (ref.null $snode) (ref.null $snode)))
        (return)))
    (call $splay (local.get $key))
    (local.set $root (ref.as_non_null (global.get $root)))
    (if (i32.eq (struct.get $snode $key (local.get $root)) (local.get $key)) (then (return)))
    (if (i32.gt_s (local.get $key) (struct.get $snode $key (local.get $root)))
      (then
        (local.set $node (struct.new $snode (local.get $key) (local.get $value)
          (local.get $root) (struct.get $snode $sright (local.get $root))))
        (struct.set $snode $sright (local.get $root) (ref.null $snode)))
      (else
        (local.set $node (struct.new $snode (local.get $key) (local.get $value)
          (struct.get $snode $sleft (local.get $root)) (local.get $root)))
        (struct.set $snode $sleft (local.get $root) (ref.null $snode))))
    (global.set $root (local.get $node)))

  ;; Removes $key, which is in the tree.
  (func $remove (param $key i32)
    (local $right (ref null $snode))
    (call $splay (local.get $key))
    (if (ref.is_null (struct.get $snode $sleft (global.get $root)))
      (then (global.set $root (struct.get $snode $sright (global.get $root))))
      (else
        (local.set $right (struct.get $snode $sright (global.get $root)))
        (global.set $root (struct.get $snode $sleft (global.get $root)))
        ;; $key is above every key left: this splays the greatest up.
        (call $splay (local.get $key))
        (struct.set $snode $sright (global.get $root) (local.get $right)))))

  ;; The greatest key below $key, or $key itself if there is none.
  (func $greatest_below (param $key i32) (result i32)
    (local $node (ref null $snode))
    (call $splay (local.get $key))
    (if (i32.lt_s (struct.get $snode $key (global.get $root)) (local.get $key))
      (then (return (struct.get $snode $key (global.get $root)))))
    (local.set $node (struct.get $snode $sleft (global.get $root)))
    (if (ref.is_null (local.get $node)) (then (return (local.get $key))))
    (block $done
      (loop $right
        (br_if $done (ref.is_null (struct.get $snode $sright (local.get $node))))
        (local.set $node (struct.get $snode $sright (local.get $node)))
        (br $right)))
    (struct.get $snode $key (local.get $node)))

  ;; Inserts a node with a key not yet in the tree; returns the key.
  (func $insert_new (result i32)
    (local $key i32)
    (loop $again
      (local.set $key (call $random))
      (br_if $again (call $contains (local.get $key))))
    (call $insert (local.get $key) (call $payload (i32.const 5) (local.get $key)))
    (local.get $key))

  ;; Whether a payload tree of $depth is whole; its string's bytes are $tag.
  (func $payload_ok (param $p (ref null $payload)) (param $depth i32) (param $tag i32) (result i32)
    (if (result i32) (i32.eqz (local.get $depth))
      (then (i32.and
        (i32.eq (array.get $ints (struct.get $payload $arr (local.get $p)) (i32.const 9))
                (i32.const 9))
        (i32.eq (array.get_u $bytes (struct.get $payload $str (local.get $p)) (i32.const 31))
                (i32.and (local.get $tag) (i32.const 255)))))
      (else (i32.and
        (call $payload_ok (struct.get $payload $left (local.get $p))
          (i32.sub (local.get $depth) (i32.const 1)) (local.get $tag))
        (call $payload_ok (struct.get $payload $right (local.get $p))
          (i32.sub (local.get $depth) (i32.const 1)) (local.get $tag))))))

  (global $last (mut i32) (i32.const 0))
  (global $key_sum (mut i32) (i32.const 0))

  ;; Counts the nodes under $node in order, or returns -1 if a key is not
  ;; above the one before it or a payload is not whole.
  (func $walk (param $node (ref null $snode)) (result i32)
    (local $left i32) (local $right i32) (local $key i32)
    (if (ref.is_null (local.get $node)) (then (return (i32.const 0))))
    (local.set $left (call $walk (struct.get $snode $sleft (local.get $node))))
    (local.set $key (struct.get $snode $key (local.get $node)))
    (if (i32.or (i32.lt_s (local.get $left) (i32.const 0))
                (i32.le_s (local.get $key) (global.get $last)))
      (then (return (i32.const -1))))
    (if (i32.eqz (call $payload_ok (struct.get $snode $value (local.get $node))
                   (i32.const 5) (local.get $key)))
      (then (return (i32.const -1))))
    (global.set $last (local.get $key))
    (global.set $key_sum (i32.add (global.get $key_sum) (local.get $key)))
    (local.set $right (call $walk (struct.get $snode $sright (local.get $node))))
    (if (i32.lt_s (local.get $right) (i32.const 0)) (then (return (i32.const -1))))
    (i32.add (i32.add (local.get $left) (local.get $right)) (i32.const 1)))

  (func $splay_run (export "splay_run") (param $size i32) (param $rounds i32) (result i32)
    (local $i i32) (local $key i32) (local $below i32)
    (global.set $root (ref.null $snode))
    (block $full
      (loop $fill
        (br_if $full (i32.ge_u (local.get $i) (local.get $size)))
        (drop (call $insert_new))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $fill)))
    (local.set $i (i32.mul (local.get $rounds) (i32.const 80)))
    (block $done
      (loop $change
        (br_if $done (i32.eqz (local.get $i)))
        (local.set $key (call $insert_new))
        (local.set $below (call $greatest_below (local.get $key)))
        (call $remove (local.get $below))
        (local.set $i (i32.sub (local.get $i) (i32.const 1)))
        (br $change)))
    (global.set $last (i32.const -1))
    (global.set $key_sum (i32.const 0))
    (call $walk (global.get $root)))

  ;; The splay workload at Octane's size: 8,000 nodes, 2,000 rounds; the
  ;; sum of the keys left (wrapping), or -1 if the tree is not whole.
  (func (export "splay") (result i32)
    (if (result i32) (i32.eq (call $splay_run (i32.const 8000) (i32.const 2000))
                             (i32.const 8000))
      (then (global.get $key_sum))
      (else (i32.const -1))))
)
