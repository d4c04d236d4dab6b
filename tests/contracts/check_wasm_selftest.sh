#!/usr/bin/env bash
# Shows that check_wasm.sh fails for each reason it checks: an import outside env, imported memory, a method
# with parameters, a missing method, a post-MVP instruction; and that it passes a minimal good contract.
# Usage: check_wasm_selftest.sh WAT2WASM WASM_OBJDUMP WASM_VALIDATE
set -euo pipefail
wat2wasm=$1 objdump=$2 validate=$3
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
expect() { # name expected-message wat
  local name=$1 want=$2 wat=$3
  printf '%s\n' "$wat" > "$dir/$name.wat"
  "$wat2wasm" --enable-all "$dir/$name.wat" -o "$dir/$name.wasm"
  local out rc=0
  out=$(bash "$here/check_wasm.sh" "$objdump" "$validate" "$dir/$name.wasm" m 2>&1) || rc=$?
  if [ -z "$want" ]; then
    [ $rc -eq 0 ] || { echo "selftest $name: expected success, got: $out"; exit 1; }
  else
    [ $rc -ne 0 ] || { echo "selftest $name: expected failure ($want), got success"; exit 1; }
    case "$out" in *"$want"*) ;; *) echo "selftest $name: expected \"$want\", got: $out"; exit 1 ;; esac
  fi
  echo "selftest $name: ok"
}
good='(module (import "env" "log_utf8" (func (param i64 i64))) (memory 1) (func (export "m")))'
expect good "" "$good"
expect wasi "imports from outside env" \
  '(module (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32))) (func (export "m")))'
expect memory "imports memory" '(module (import "env" "memory" (memory 1)) (import "env" "log_utf8" (func (param i64 i64))) (func (export "m")))'
expect params "method m has type" '(module (import "env" "log_utf8" (func (param i64 i64))) (func (export "m") (param i32)))'
expect missing "method m is not exported" '(module (import "env" "log_utf8" (func (param i64 i64))) (func (export "n")))'
expect signext "not valid as an MVP module" \
  '(module (import "env" "log_utf8" (func (param i64 i64))) (func (export "m") (drop (i32.extend8_s (i32.const 1)))))'
