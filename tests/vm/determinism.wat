;; A mixed workload for tests/vm/test_determinism.c: integer and float arithmetic, memory, calls,
;; indirect calls, br_table, bulk memory and memory.grow. Its result and the fuel it uses are
;; pinned by the test, so every build (release, debug, sanitizers) must agree on both.
(module
  (memory 1 16)
  (type $un (func (param i32) (result i32)))
  (table 3 funcref)
  (elem (i32.const 0) $sq $inc $fib)
  (func $sq (type $un) (i32.mul (local.get 0) (local.get 0)))
  (func $inc (type $un) (i32.add (local.get 0) (i32.const 1)))
  (func $fib (type $un)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
  ;; sieve of Eratosthenes below n in memory; returns the count of primes
  (func $sieve (param $n i32) (result i32)
    (local $i i32) (local $j i32) (local $c i32)
    (memory.fill (i32.const 0) (i32.const 1) (local.get $n))
    (local.set $i (i32.const 2))
    (block $done
      (loop $outer
        (br_if $done (i32.gt_u (i32.mul (local.get $i) (local.get $i)) (local.get $n)))
        (if (i32.load8_u (local.get $i))
          (then
            (local.set $j (i32.mul (local.get $i) (local.get $i)))
            (block $d2 (loop $inner
              (br_if $d2 (i32.ge_u (local.get $j) (local.get $n)))
              (i32.store8 (local.get $j) (i32.const 0))
              (local.set $j (i32.add (local.get $j) (local.get $i)))
              (br $inner)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $outer)))
    (local.set $i (i32.const 2))
    (block $e (loop $count
      (br_if $e (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $c (i32.add (local.get $c) (i32.load8_u (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $count)))
    (local.get $c))
  ;; a float series: sum of 1/k^2 for k = 1..n, scaled to an integer
  (func $series (param $n i32) (result i64)
    (local $k i32) (local $s f64)
    (local.set $k (i32.const 1))
    (loop $l
      (local.set $s (f64.add (local.get $s)
        (f64.div (f64.const 1) (f64.mul (f64.convert_i32_u (local.get $k)) (f64.convert_i32_u (local.get $k))))))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br_if $l (i32.le_u (local.get $k) (local.get $n))))
    (i64.trunc_f64_s (f64.mul (local.get $s) (f64.const 1e12))))
  ;; dispatch through br_table and call_indirect
  (func $mix (param $x i32) (result i32)
    (local $acc i32) (local $i i32)
    (loop $l
      (block $b2 (block $b1 (block $b0
        (br_table $b0 $b1 $b2 (i32.rem_u (local.get $i) (i32.const 3))))
        (local.set $acc (i32.xor (local.get $acc) (call_indirect (type $un) (local.get $i) (i32.const 0))))
        (br $b2))
        (local.set $acc (i32.add (local.get $acc) (call_indirect (type $un) (local.get $i) (i32.const 1)))))
      (local.set $acc (i32.rotl (local.get $acc) (i32.const 5)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $x))))
    (local.get $acc))
  (func (export "run") (result i64)
    (drop (memory.grow (i32.const 1)))
    (i64.add
      (i64.add (i64.extend_i32_u (call $sieve (i32.const 100000)))
               (i64.shl (i64.extend_i32_u (call $fib (i32.const 20))) (i64.const 20)))
      (i64.add (call $series (i32.const 20000))
               (i64.extend_i32_u (call $mix (i32.const 5000))))))
)
