(module
  (func (export "many") (param i32 i64 f32 f64) (result f64)
    (local i32 i32 i32 i64 i64 f32 f32 f64 f64 externref funcref)
    (local.set 4 (local.tee 5 (i32.const 3)))
    (local.set 11 (f64.add (f64.convert_i32_s (local.get 4)) (local.get 3)))
    (f64.add (local.get 11) (f64.promote_f32 (local.get 2)))))
