(module
  (memory 1)
  (global $g (mut i32) (i32.const 0))
  (func $init (global.set $g (i32.const 7)) (i32.store (i32.const 0) (i32.const 0xdeadbeef)))
  (start $init)
  (func (export "get") (result i32) (i32.add (global.get $g) (i32.load (i32.const 0)))))
