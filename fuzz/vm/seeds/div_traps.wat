(module
  (func (export "div0") (param i32) (result i32) (i32.div_s (i32.const 7) (local.get 0)))
  (func (export "rem0") (param i64) (result i64) (i64.rem_u (i64.const 7) (local.get 0)))
  (func (export "overflow") (result i32) (i32.div_s (i32.const 0x80000000) (i32.const -1)))
  (func (export "ok") (result i32) (i32.rem_s (i32.const 0x80000000) (i32.const -1))))
