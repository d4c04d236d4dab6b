(module
  (memory 1 1)
  (data (i32.const 0) "\00\01\02\03")
  (data (i32.const 65532) "\ff\ff\ff\ff")
  (data $passive "passive data")
  (func (export "read_end") (result i32) (i32.load (i32.const 65532)))
  (func (export "init_oob") (memory.init $passive (i32.const 65530) (i32.const 0) (i32.const 12))))
