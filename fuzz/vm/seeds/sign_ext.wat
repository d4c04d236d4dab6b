(module
  (func (export "e8") (result i32) (i32.extend8_s (i32.const 0x80)))
  (func (export "e16") (result i64) (i64.extend16_s (i64.const 0x8000)))
  (func (export "e32") (result i64) (i64.extend32_s (i64.const 0x80000000))))
