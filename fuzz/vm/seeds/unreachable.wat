(module
  (func (export "trap") (unreachable))
  (func (export "after_br") (result i32) (block (br 0) (unreachable)) (i32.const 9)))
