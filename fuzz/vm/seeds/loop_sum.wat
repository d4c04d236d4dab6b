(module
  (func (export "sum") (param $n i32) (result i32) (local $acc i32)
    (local.set $n (i32.add (local.get $n) (i32.const 1000)))
    (block $done
      (loop $top
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $acc (i32.add (local.get $acc) (local.get $n)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $top)))
    (local.get $acc)))
