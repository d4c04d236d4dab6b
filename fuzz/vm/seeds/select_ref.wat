(module
  (func $f)
  (elem declare func $f)
  (func (export "sel") (param i32) (result i32) (select (i32.const 1) (i32.const 2) (local.get 0)))
  (func (export "selt") (param i32) (result funcref) (select (result funcref) (ref.func $f) (ref.null func) (local.get 0)))
  (func (export "isnull") (param externref) (result i32) (ref.is_null (local.get 0))))
