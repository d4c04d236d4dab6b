(module
  (import "env" "log" (func $log (param i32)))
  (import "env" "get" (func $get (result i64)))
  (import "env" "two" (func $two (param f64) (result i32 f32)))
  (func (export "run") (result i64)
    (call $log (i32.const 5))
    (drop (call $two (f64.const 1))) (drop)
    (i64.add (call $get) (i64.const 1))))
