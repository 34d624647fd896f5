#!/usr/bin/env bash
# strata pull end to end against tests/pull/hub_server.py on 127.0.0.1, serving stories260K laid
# out as karpathy/tinyllamas is on the hub: a download cut short resumes, the digest is checked,
# HF_TOKEN is sent, the result converts and generates. Exit 77 (skipped) without fixtures.
set -euo pipefail
build=$1 src=$2 fixtures=$3
[ -f "$fixtures/stories260K/stories260K.bin" ] || { echo "skipped: fixtures not found at $fixtures"; exit 77; }
tmp=$(mktemp -d)
server_pid=
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
start_server() { # env passed through
    rm -f "$tmp/port"
    /usr/bin/python3 "$src/tests/pull/hub_server.py" "$tmp/hub" "$tmp/port" & server_pid=$!
    for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
    export HF_ENDPOINT="http://127.0.0.1:$(cat "$tmp/port")"
}
stop_server() { kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=; }
fail() { echo "FAIL: $*"; exit 1; }

mkdir -p "$tmp/hub/karpathy/tinyllamas/stories260K"
cp "$fixtures/stories260K/stories260K.bin" "$fixtures/stories260K/tok512.bin" "$tmp/hub/karpathy/tinyllamas/stories260K/"
export STRATA_CACHE="$tmp/cache"

# 1. a token is required and sent; the first download of each file is cut after 100000 bytes
HUB_TOKEN=secret HUB_CUT_AFTER=100000 start_server
HF_TOKEN=wrong "$build/strata" pull karpathy/tinyllamas --file stories260K/stories260K.bin \
    --file stories260K/tok512.bin -o "$tmp/m.strata" > "$tmp/out" 2>&1 && fail "a wrong token was accepted"
grep -q "HTTP 401" "$tmp/out" || fail "no clear 401 message: $(cat "$tmp/out")"
HF_TOKEN=secret "$build/strata" pull karpathy/tinyllamas --file stories260K/stories260K.bin \
    --file stories260K/tok512.bin -o "$tmp/m.strata" > "$tmp/out" 2>&1 || fail "pull failed: $(cat "$tmp/out")"
grep -q "resuming" "$tmp/out" || fail "the cut download did not resume: $(cat "$tmp/out")"
grep -q "SHA-256 verified" "$tmp/out" || fail "no digest check: $(cat "$tmp/out")"
cmp "$tmp/cache/karpathy/tinyllamas/stories260K/stories260K.bin" "$fixtures/stories260K/stories260K.bin" || fail "bytes differ"
out=$("$build/strata" -m "$tmp/m.strata" -p "Once upon a time" -n 12 --temp 0 2>/dev/null)
[[ "$out" == ", there was a little girl named Lily."* ]] || fail "the pulled model says: $out"
# 2. a second pull uses the cache
HF_TOKEN=secret "$build/strata" pull karpathy/tinyllamas --file stories260K/stories260K.bin \
    --file stories260K/tok512.bin -o "$tmp/m2.strata" > "$tmp/out" 2>&1 || fail "cached pull failed"
grep -q "cached" "$tmp/out" || fail "the cache was not used: $(cat "$tmp/out")"
stop_server

# 3. a wrong digest is refused and the download removed; a missing file is named
HUB_BAD_SHA=tok512 start_server
rm -rf "$tmp/cache"
"$build/strata" pull karpathy/tinyllamas --file stories260K/stories260K.bin --file stories260K/tok512.bin \
    -o "$tmp/m3.strata" > "$tmp/out" 2>&1 && fail "a bad digest was accepted"
grep -q "SHA-256 mismatch" "$tmp/out" || fail "no digest message: $(cat "$tmp/out")"
[ ! -e "$tmp/cache/karpathy/tinyllamas/stories260K/tok512.bin" ] || fail "the bad file was kept"
"$build/strata" pull karpathy/tinyllamas --file nope.bin > "$tmp/out" 2>&1 && fail "a missing file was accepted"
grep -q "has no file nope.bin" "$tmp/out" || fail "no missing-file message: $(cat "$tmp/out")"
stop_server
echo "pull: ok"
