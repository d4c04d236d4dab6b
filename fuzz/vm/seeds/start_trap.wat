(module
  (func $boom (unreachable))
  (start $boom)
  (func (export "never") (result i32) (i32.const 1)))
