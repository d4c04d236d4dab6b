(module
  (memory 1)
  (func (export "nan_roundtrip") (result i32)
    (f32.store (i32.const 0) (f32.reinterpret_i32 (i32.const 0x7fa00001)))
    (i32.load (i32.const 0)))
  (func (export "f64_unaligned") (result f64)
    (f64.store align=1 (i32.const 3) (f64.const -0.0))
    (f64.load align=1 (i32.const 3))))
