#!/usr/bin/env bash
# Checks a contract's wasm the way NEAR's preparation would (../shared/reference/near-protocol.md §1.0, §7):
# valid with MVP features only, every import from module "env", no imported memory, each listed method
# exported as a function of type () -> nil, and under max_contract_size.
# Usage: check_wasm.sh WASM_OBJDUMP WASM_VALIDATE FILE METHOD...
set -euo pipefail
objdump=$1 validate=$2 wasm=$3
shift 3
fail() { echo "check_wasm: $wasm: $*" >&2; exit 1; }
[ -f "$wasm" ] || fail "missing (was the wasm built?)"
size=$(stat -c %s "$wasm")
[ "$size" -le 4194304 ] || fail "$size bytes exceeds max_contract_size 4194304"
"$validate" --disable-mutable-globals --disable-saturating-float-to-int --disable-sign-extension \
    --disable-simd --disable-multi-value --disable-bulk-memory --disable-reference-types "$wasm" \
    || fail "not valid as an MVP module"
dump=$("$objdump" -x "$wasm")
imports=$(printf '%s\n' "$dump" | sed -n '/^Import\[/,/^[A-Z][a-z]*\[/p' | grep '^ - ' || true)
[ -n "$imports" ] || fail "no imports at all (expected NEAR host functions)"
bad=$(printf '%s\n' "$imports" | grep -v ' <- env\.' || true)
[ -z "$bad" ] || fail "imports from outside env: $bad"
printf '%s\n' "$imports" | grep -q '^ - memory' && fail "imports memory"
for m in "$@"; do
  line=$(printf '%s\n' "$dump" | grep -E "^ - func\[[0-9]+\]( <[^>]*>)? -> \"$m\"$" || true)
  [ -n "$line" ] || fail "method $m is not exported"
  idx=$(printf '%s\n' "$line" | sed -E 's/^ - func\[([0-9]+)\].*/\1/')
  sig=$(printf '%s\n' "$dump" | sed -n '/^Function\[/,/^[A-Z][a-z]*\[/p' | grep -E "^ - func\[$idx\] sig=" | sed -E 's/.* sig=([0-9]+).*/\1/' || true)
  [ -n "$sig" ] || fail "method $m: no function entry for func[$idx]"
  type=$(printf '%s\n' "$dump" | grep -E "^ - type\[$sig\] " | sed -E 's/^ - type\[[0-9]+\] //')
  [ "$type" = "() -> nil" ] || fail "method $m has type $type, NEAR needs () -> nil"
done
echo "check_wasm: $(basename "$wasm") ok: $size bytes, $(printf '%s\n' "$imports" | wc -l) imports from env, $# methods"
