#!/usr/bin/env bash
# `outlayer dev --demo` end to end, twice on the same home: the first round builds the random guest in
# the sandbox, the second finds the chain, accounts and contracts in place and the module in the cache.
# Each round must end with OutLayer's execution succeeding and the fee and refund printed.
set -u
bin=$1
home=$(mktemp -d)
chmod 755 "$home" # the worker clones the guests' repositories as an unprivileged build user
trap 'rm -rf "$home"' EXIT
fail() { echo "FAIL: $*"; echo "--- output:"; cat "$home/out" 2>/dev/null; for f in "$home"/h/logs/*.log; do echo "--- $f"; tail -20 "$f"; done; exit 1; }

round() {
  local tries=0
  while :; do
    local cp=$((20000 + RANDOM % 20000)) ap=$((20000 + RANDOM % 20000))
    timeout 300 "$bin" dev --demo --home "$home/h" --chain-port "$cp" --api-port "$ap" --block-ms 100 >"$home/out" 2>&1
    local rc=$?
    if grep -q "is in use" "$home/out" && [ $tries -lt 5 ]; then tries=$((tries + 1)); continue; fi
    [ $rc -eq 0 ] || fail "outlayer dev --demo exited with $rc"
    return 0
  done
}

round
grep -q '^demo: result from coinflip: {"game_id":0,' "$home/out" || fail "no coinflip result for game 0"
grep -q '^demo: OutLayer execution: success, [0-9]* instructions' "$home/out" || fail "the execution did not succeed"
grep -q 'fee charged 0\.[0-9]* NEAR, refunded 0\.[0-9]* NEAR to the payer' "$home/out" || fail "fee and refund not printed"
grep -q '^setup:        creating accounts' "$home/out" || fail "the first start did not create the accounts"
chmod 700 "$home"
"$bin" dev --demo --home "$home/h" >"$home/out2" 2>&1 && fail "a home the build user cannot reach was accepted"
grep -q "is not traversable by others" "$home/out2" || fail "unreachable home: $(cat "$home/out2")"
chmod 755 "$home"

round
grep -q '^setup:        reusing the accounts' "$home/out" || fail "the second start did not reuse the home"
grep -q '^demo: result from coinflip: {"game_id":1,' "$home/out" || fail "no coinflip result for game 1"
grep -q '^demo: OutLayer execution: success' "$home/out" || fail "the second execution did not succeed"
echo "PASS: two coinflip rounds through outlayer dev --demo"
cat "$home/out"
