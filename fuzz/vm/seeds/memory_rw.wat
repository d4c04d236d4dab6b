(module
  (memory (export "mem") 1 4)
  (data (i32.const 16) "\01\02\03\04hello")
  (func (export "load") (result i32) (i32.load offset=16 (i32.const 0)))
  (func (export "load8") (result i64) (i64.load8_s (i32.const 20)))
  (func (export "store") (param i32)
    (i64.store (local.get 0) (i64.const -1))
    (f32.store offset=8 (local.get 0) (f32.const 1.5)))
  (func (export "oob") (result i32) (i32.load (i32.const 65535))))
