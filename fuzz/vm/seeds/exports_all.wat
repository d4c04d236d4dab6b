(module
  (memory (export "memory") 1)
  (table (export "table") 1 funcref)
  (global (export "g32") i32 (i32.const -1))
  (global (export "gf") f32 (f32.const 3.5))
  (func (export "") (result i32) (i32.const 0))
  (func (export "\u{1F600}") (result i32) (i32.const 1)))
