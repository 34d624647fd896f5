#!/usr/bin/env bash
# Without a network: `strata pull` fails within seconds with a message saying so (a refused
# connection, and a server whose handshakes are dropped, as behind a dead link), and the
# default-model rule `make chat` uses converts the shipped stories260K with no network and no
# ../shared. Loopback only. Args: BUILD_DIR SOURCE_DIR.
set -euo pipefail
build=$1 src=$2
tmp=$(mktemp -d)
bh=
trap '[ -n "$bh" ] && kill $bh 2>/dev/null; rm -rf "$tmp"' EXIT
export STRATA_CACHE=$tmp/cache
fail() { echo "FAIL: $*"; exit 1; }

# 1. a closed port: refused at once
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
start=$(date +%s%N)
if HF_ENDPOINT=http://127.0.0.1:$port "$build/strata" pull karpathy/tinyllamas \
     --file stories260K/tok512.bin -o "$tmp/x.strata" 2> "$tmp/err"; then fail "pull succeeded"; fi
ms=$(( ($(date +%s%N) - start) / 1000000 ))
grep -q "cannot reach http://127.0.0.1:$port/.*is there a network" "$tmp/err" || fail "message: $(cat "$tmp/err")"
[ "$ms" -lt 5000 ] || fail "a refused connection took $ms ms"
echo "closed port: failed in $ms ms: $(cat "$tmp/err")"

# 2. a server that drops handshakes (its accept queue full): the connect timeout, not minutes
python3 - "$tmp/port" <<'PY' &
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0)
port = s.getsockname()[1]
held = []
for _ in range(4):  # fill the accept queue: later SYNs are dropped
    c = socket.socket(); c.setblocking(False)
    try: c.connect(("127.0.0.1", port))
    except BlockingIOError: pass
    held.append(c)
open(sys.argv[1], "w").write(str(port))
time.sleep(120)
PY
bh=$!
for _ in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
port=$(cat "$tmp/port")
start=$(date +%s%N)
if HF_ENDPOINT=http://127.0.0.1:$port "$build/strata" pull karpathy/tinyllamas \
     --file stories260K/tok512.bin -o "$tmp/x.strata" 2> "$tmp/err"; then fail "pull succeeded"; fi
ms=$(( ($(date +%s%N) - start) / 1000000 ))
grep -q "cannot reach .*is there a network" "$tmp/err" || fail "message: $(cat "$tmp/err")"
[ "$ms" -lt 20000 ] || fail "an unreachable server took $ms ms"
echo "dropped handshakes: failed in $ms ms"

# 3. the default model from the repository alone (no ../shared, nothing reachable)
HF_ENDPOINT=http://127.0.0.1:$port make -s -C "$src" BUILD="$build" FIXTURES=/nonexistent \
  DEFAULT_MODEL="$tmp/default.strata" "$tmp/default.strata" > "$tmp/make.log" 2>&1 ||
  fail "make: $(cat "$tmp/make.log")"
out=$("$build/strata" -m "$tmp/default.strata" -p "Once upon a time" -n 12 --temp 0 2> /dev/null)
case "$out" in *"there was a little girl"*) ;; *) fail "default model says: $out" ;; esac
echo "default model converted offline: $out"
