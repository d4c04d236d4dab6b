;; A start function that never ends: only an interrupt (or fuel) stops its instantiation.
(module
  (func $forever (loop $l (br $l)))
  (start $forever))
