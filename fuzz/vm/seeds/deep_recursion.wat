(module
  (func $down (export "down") (param i32) (result i32)
    (call $down (i32.add (local.get 0) (i32.const 1))))
  (func $wide (export "wide") (param i64 i64 i64 i64 f64 f64 f64 f64) (result i64)
    (local i64 i64 i64 i64 i64 i64 i64 i64)
    (call $wide (local.get 0) (local.get 1) (local.get 2) (local.get 3)
                (local.get 4) (local.get 5) (local.get 6) (local.get 7))))
