(module
  (func $swap (param i32 i64) (result i64 i32) (local.get 1) (local.get 0))
  (func (export "swap") (result i64 i32) (call $swap (i32.const 1) (i64.const 2)))
  (func (export "block") (result i32)
    i32.const 3
    i32.const 4
    block (param i32 i32) (result i32)
      i32.sub
    end)
  (func (export "loop") (result i32 i32)
    i32.const 1
    i32.const 2
    loop (param i32 i32) (result i32 i32)
    end))
