(module
  (func (export "mul") (param i64 i64) (result i64) (i64.mul (local.get 0) (local.get 1)))
  (func (export "bits") (result i64)
    (i64.add (i64.ctz (i64.const 0x100000000)) (i64.rotr (i64.const -2) (i64.const 63))))
  (func (export "wrap") (param i64) (result i32) (i32.wrap_i64 (local.get 0)))
  (func (export "extend") (param i32) (result i64) (i64.extend_i32_s (local.get 0))))
