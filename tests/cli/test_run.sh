#!/usr/bin/env bash
# cli: runs the real `outlayer` binary on the real guests and checks output, exit codes, --stats,
# --stats-json and usage errors. Usage: test_run.sh OUTLAYER GUEST_DIR
set -euo pipefail
ol=$1
g=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
# expect_code WANT CMD...: runs CMD with stdin from $work/in, stdout to $work/out, stderr to $work/err
expect_code() {
  local want=$1; shift
  local rc=0
  "$@" <"$work/in" >"$work/out" 2>"$work/err" || rc=$?
  [ "$rc" = "$want" ] || { cat "$work/err" >&2; fail "$* exited $rc, expected $want"; }
}
has() { grep -qF -- "$2" "$1" || { echo "--- $1:" >&2; cat "$1" >&2; fail "$1 lacks: $2"; }; }

# --help, --version, unknown commands
: >"$work/in"
expect_code 0 "$ol" --help; has "$work/out" "run"
expect_code 0 "$ol" --version; has "$work/out" "outlayer "
expect_code 64 "$ol" nosuchcommand; has "$work/err" "unknown command"
expect_code 0 "$ol" run --help
for s in "default 10000000000" "128" "60000" "16777216" "--env K=V" "--seed HEX" "--stats-json FILE" "120 invalid_module"; do
  has "$work/out" "$s"
done

# random: the README's command, deterministic with --seed
seed=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
echo '{"min":1,"max":100}' >"$work/in"
expect_code 0 "$ol" run --seed $seed --stats-json "$work/s1.json" "$g/random.wasm"
grep -qE '^\{"random_number":([1-9][0-9]?|100)\}$' "$work/out" || fail "random output: $(cat "$work/out")"
cp "$work/out" "$work/out1"
expect_code 0 "$ol" run --seed $seed --stats-json "$work/s2.json" "$g/random.wasm"
cmp -s "$work/out" "$work/out1" || fail "same seed gave different output"
f1=$(grep -o '"fuel_used": [0-9]*' "$work/s1.json"); f2=$(grep -o '"fuel_used": [0-9]*' "$work/s2.json")
[ "$f1" = "$f2" ] || fail "same seed gave different fuel: $f1 vs $f2"
has "$work/s1.json" '"outcome": "ok"'
has "$work/s1.json" '"exit_code": 0'
has "$work/s1.json" '"trap_message": null'
has "$work/s1.json" '"stdout_bytes": '
has "$work/s1.json" '"peak_memory_bytes": '
has "$work/s1.json" '"wall_ms": '

# echo: env passes only through --env; argv[0] is the path as given
echo ' hi there ' >"$work/in"
NEAR_SENDER_ID=leak.near expect_code 0 "$ol" run --env NEAR_SENDER_ID=alice.near --env NEAR_BLOCK_HEIGHT=77 "$g/echo.wasm"
[ "$(cat "$work/out")" = 'alice.near said "hi there" at block 77' ] || fail "echo: $(cat "$work/out")"
NEAR_SENDER_ID=leak.near expect_code 0 "$ol" run "$g/echo.wasm"
has "$work/out" "unknown said"
: >"$work/in"
expect_code 0 "$ol" run "$g/wasicheck.wasm" a -b --c
has "$work/out" "argv[0] $g/wasicheck.wasm"
has "$work/out" "argv[2] -b"
has "$work/out" "envc 0"

# exit codes: the guest's own, then ours
echo 3 >"$work/in"
expect_code 3 "$ol" run --stats-json "$work/s.json" "$g/exitcode.wasm"
has "$work/out" "bye"
has "$work/s.json" '"outcome": "exit"'
has "$work/s.json" '"exit_code": 3'
: >"$work/in"
expect_code 121 "$ol" run --stats-json "$work/s.json" "$g/trap.wasm"
has "$work/out" "before the trap"
has "$work/s.json" '"outcome": "trap"'
has "$work/err" "trap"
expect_code 122 "$ol" run --fuel 100000 --stats --stats-json "$work/s.json" "$g/loop.wasm"
has "$work/s.json" '"outcome": "out_of_fuel"'
has "$work/err" "outcome=out_of_fuel"
start=$(date +%s%N)
expect_code 123 "$ol" run --fuel 1000000000000000 --timeout-ms 500 --stats-json "$work/s.json" "$g/loop.wasm"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ $ms -lt 1500 ] || fail "timeout took $ms ms"
has "$work/s.json" '"outcome": "timeout"'
expect_code 124 "$ol" run --max-memory-mb 64 --stats-json "$work/s.json" "$g/alloc.wasm"
has "$work/s.json" '"outcome": "memory_limit"'
expect_code 125 "$ol" run --max-output-bytes 5000 --stats-json "$work/s.json" "$g/spam.wasm"
has "$work/s.json" '"outcome": "output_limit"'
has "$work/s.json" '"stdout_bytes": 5000'
[ "$(wc -c <"$work/out")" = 5000 ] || fail "output_limit passed through $(wc -c <"$work/out") bytes, not 5000"
head -c 3000 /dev/urandom >"$work/junk.wasm"
expect_code 120 "$ol" run --stats-json "$work/s.json" "$work/junk.wasm"
has "$work/s.json" '"outcome": "invalid_module"'
has "$work/err" "invalid_module"
expect_code 120 "$ol" run --max-module-bytes 100 "$g/echo.wasm"
has "$work/err" "module size limit"

# --dir: a read-only preopen
mkdir "$work/d"; echo -n "file contents" >"$work/d/f.txt"
echo "/in/f.txt" >"$work/in"
expect_code 0 "$ol" run --dir "$work/d::/in" "$g/wasicheck.wasm"
has "$work/out" "read /in/f.txt ok 13 file contents"
has "$work/out" "write_open /in/f.txt errno 69"

# usage errors name the problem
: >"$work/in"
expect_code 64 "$ol" run; has "$work/err" "missing FILE.wasm"
expect_code 64 "$ol" run --fuel abc "$g/echo.wasm"; has "$work/err" "--fuel"
expect_code 64 "$ol" run --seed 1234 "$g/echo.wasm"; has "$work/err" "64 hex digits"
expect_code 64 "$ol" run --clock fast "$g/echo.wasm"; has "$work/err" "real or deterministic"
expect_code 64 "$ol" run --env NOEQ "$g/echo.wasm"; has "$work/err" "KEY=VALUE"
expect_code 64 "$ol" run --bogus 1 "$g/echo.wasm"; has "$work/err" "unknown option"
expect_code 64 "$ol" run --dir "$work/nope::/x" "$g/echo.wasm"; has "$work/err" "nope"
expect_code 66 "$ol" run "$work/missing.wasm"; has "$work/err" "missing.wasm"
expect_code 73 "$ol" run --stats-json "$work/no/such/dir/s.json" "$g/echo.wasm"; has "$work/err" "cannot write"

# deterministic clock without a seed: same output twice
: >"$work/in"
expect_code 0 "$ol" run --clock deterministic --timestamp-ns 5000000000 "$g/wasicheck.wasm"; cp "$work/out" "$work/d1"
expect_code 0 "$ol" run --clock deterministic --timestamp-ns 5000000000 "$g/wasicheck.wasm"
cmp -s "$work/out" "$work/d1" || fail "deterministic clock runs differ"
echo "test_cli_run: ok"
