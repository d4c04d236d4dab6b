(module
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "mix") (result i32)
    (i32.xor (i32.rotl (i32.const 0x12345678) (i32.const 5))
             (i32.mul (i32.clz (i32.const 255)) (i32.popcnt (i32.const -1)))))
  (func (export "shifts") (param i32) (result i32)
    (i32.or (i32.shr_s (local.get 0) (i32.const 3)) (i32.shl (local.get 0) (i32.const 31))))
  (func (export "cmp") (param i32 i32) (result i32)
    (i32.add (i32.lt_s (local.get 0) (local.get 1)) (i32.ge_u (local.get 0) (local.get 1)))))
