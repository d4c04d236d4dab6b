(module
  (func (export "abs") (param i32) (result i32)
    (if (result i32) (i32.lt_s (local.get 0) (i32.const 0))
      (then (i32.sub (i32.const 0) (local.get 0))) (else (local.get 0))))
  (func (export "nested") (param i32) (result i32) (local i32)
    (if (local.get 0) (then (if (i32.eqz (local.get 0)) (then (unreachable)) (else (local.set 1 (i32.const 5))))))
    (local.get 1)))
