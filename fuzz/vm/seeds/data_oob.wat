(module
  (memory 1)
  (data (i32.const 65535) "\01\02")
  (func (export "f") (result i32) (i32.const 1)))
