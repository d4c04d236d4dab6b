(module
  (memory 1)
  (func (export "grow") (result i32) (memory.grow (i32.const 1)))
  (func (export "grow_big") (result i32) (memory.grow (i32.const 100)))
  (func (export "size") (result i32) (memory.size))
  (func (export "grow_many") (result i32) (local i32)
    (loop $l
      (local.set 0 (memory.grow (i32.const 2)))
      (br_if $l (i32.ne (local.get 0) (i32.const -1))))
    (memory.size)))
