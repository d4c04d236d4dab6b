(module
  (func (export "spin") (loop $l (br $l)))
  (func (export "spin_calls") (loop $l (call $nop) (br $l)))
  (func $nop))
