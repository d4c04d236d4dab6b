(module
  (global $c i32 (i32.const 42))
  (global $g (export "counter") (mut i64) (i64.const 0))
  (global $f (mut f64) (f64.const 1.5))
  (global $r (mut externref) (ref.null extern))
  (func (export "bump") (result i64) (global.set $g (i64.add (global.get $g) (i64.const 1))) (global.get $g))
  (func (export "c") (result i32) (global.get $c))
  (func (export "f") (result f64) (global.set $f (f64.mul (global.get $f) (global.get $f))) (global.get $f))
  (func (export "r") (result externref) (global.get $r)))
