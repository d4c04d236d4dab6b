(module
  (func (export "switch") (param i32) (result i32)
    (block $d (block $c (block $b (block $a
      (br_table $a $b $c $d (local.get 0)))
      (return (i32.const 10)))
      (return (i32.const 20)))
      (return (i32.const 30)))
    (i32.const 40))
  (func (export "big") (result i32)
    (block (result i32) (br_table 0 0 0 0 0 0 0 0 (i32.const 7) (i32.const 3)))))
