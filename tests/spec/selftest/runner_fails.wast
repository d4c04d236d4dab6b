;; Self-test of spec_runner: after the module, every command below is WRONG on a conforming engine
;; and must be reported as a failure. The ctest entry spec_selftest_fails expects exit status 1 and
;; exactly 12 failing commands; if the runner accepted any of them, it could not catch that bug.

(module
  (func (export "one") (result i32) (i32.const 1))
  (func (export "snan") (result f32) (f32.reinterpret_i32 (i32.const 0x7fa00000)))
  (func (export "qnan_payload") (result f64) (f64.reinterpret_i64 (i64.const 0x7ff8000000000001)))
  (func (export "pos_zero") (result f32) (f32.const 0))
  (func (export "id_ext") (param externref) (result externref) (local.get 0))
  (func (export "trap") (unreachable))
  (global (export "g") i32 (i32.const 5)))

(assert_return (invoke "one") (i32.const 2))               ;; wrong value
(assert_return (invoke "snan") (f32.const nan:arithmetic))  ;; signalling NaN is not arithmetic
(assert_return (invoke "qnan_payload") (f64.const nan:canonical)) ;; payload is not canonical
(assert_return (invoke "pos_zero") (f32.const -0))          ;; sign of zero matters
(assert_return (invoke "id_ext" (ref.extern 1)) (ref.extern 2))
(assert_return (get "g") (i32.const 6))
(assert_trap (invoke "one") "unreachable")                 ;; returns normally
(assert_exhaustion (invoke "trap") "call stack exhausted")  ;; wrong trap kind
(invoke "trap")                                            ;; a bare action must not trap
(assert_invalid (module (func (result i32) (i32.const 0))) "type mismatch")   ;; valid module
(assert_unlinkable (module (import "spectest" "print" (func))) "unknown import") ;; links fine
(assert_trap (module (func)) "unreachable")  ;; assert_uninstantiable in JSON; instantiates fine
