(module
  (memory 1)
  (data $d "0123456789abcdef")
  (func (export "fill") (memory.fill (i32.const 100) (i32.const 0xaa) (i32.const 4000)))
  (func (export "copy") (memory.copy (i32.const 50) (i32.const 100) (i32.const 1000)))
  (func (export "init") (memory.init $d (i32.const 0) (i32.const 2) (i32.const 10)))
  (func (export "drop") (data.drop $d))
  (func (export "fill_oob") (memory.fill (i32.const 65000) (i32.const 1) (i32.const 1000))))
