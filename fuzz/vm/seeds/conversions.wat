(module
  (func (export "trunc_trap") (param f32) (result i32) (i32.trunc_f32_s (f32.div (local.get 0) (local.get 0))))
  (func (export "trunc_sat") (result i64) (i64.trunc_sat_f64_u (f64.const -1e300)))
  (func (export "trunc_sat_nan") (param f32) (result i32) (i32.trunc_sat_f32_s (f32.div (local.get 0) (local.get 0))))
  (func (export "convert") (result f32) (f32.convert_i64_u (i64.const -1)))
  (func (export "trunc_ok") (result i32) (i32.trunc_f64_u (f64.const 4294967295.5))))
