(module
  (func (export "f32ops") (param f32 f32) (result f32)
    (f32.add (f32.sqrt (local.get 0)) (f32.copysign (f32.div (local.get 0) (local.get 1)) (f32.const -1))))
  (func (export "f64ops") (param f64) (result f64)
    (f64.nearest (f64.mul (f64.max (local.get 0) (f64.const nan)) (f64.floor (f64.const 2.5)))))
  (func (export "promote") (result f64) (f64.promote_f32 (f32.demote_f64 (f64.const 0.1))))
  (func (export "reinterpret") (result i64) (i64.reinterpret_f64 (f64.neg (f64.const 0)))))
