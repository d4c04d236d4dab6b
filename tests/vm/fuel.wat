;; Modules for tests/vm/test_fuel.c: each export exercises one rule of the fuel model
;; (docs/engine.md). Costs are written next to each function.
(module
  (import "host" "touch" (func $touch (param i32 i32)))
  (memory 1 4)
  (table 16 funcref)
  (func $f (result i32) i32.const 7)

  ;; i32.const + i32.const + i32.add = 3
  (func (export "straight") (result i32)
    i32.const 1 i32.const 2 i32.add)

  ;; nop, block, loop, end, drop of nothing costly: only the const costs (1)
  (func (export "zero_cost")
    nop nop (block nop (loop nop)) i32.const 5 drop)

  ;; entry: nothing; loop body 8 per iteration; exit: local.get = 1  => 8n + 1
  (func (export "loop") (param $n i32) (result i32)
    (local $i i32)
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $i))

  ;; 4 operators (3 operands + memory.fill) + 1 per started 64 bytes
  (func (export "fill") (param $n i32)
    (memory.fill (i32.const 0) (i32.const 170) (local.get $n)))

  ;; 4 operators + 1 per started 64 bytes
  (func (export "copy") (param $n i32)
    (memory.copy (i32.const 100) (i32.const 0) (local.get $n)))

  ;; 4 operators + 1 per element
  (func (export "tfill") (param $n i32)
    (table.fill 0 (i32.const 0) (ref.null func) (local.get $n)))

  ;; local.get + memory.grow + drop(0) = 2, plus 1024 per page requested, success or not
  (func (export "grow") (param $n i32) (result i32)
    (memory.grow (local.get $n)))

  ;; 3 operators (2 consts + call) + 100 per host call + 1 per started 64 bytes it moves
  (func (export "host") (param $n i32)
    (call $touch (i32.const 0) (local.get $n)))

  ;; call (1) + the callee's const (1) = 2
  (func (export "call") (result i32) (call $f))
)
