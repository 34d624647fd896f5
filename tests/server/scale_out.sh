#!/usr/bin/env bash
# Scale-out, tried: two strata-server processes behind nginx on loopback, with session affinity
# on a conversation key (the X-Conversation-Id header, hashed consistently), so each
# conversation returns to the process that holds its prompt cache. Sends three growing turns of
# eight conversations through nginx and checks that every turn of a conversation was served by
# the same process and that turns after the first were resumed from its cache (cached_tokens).
# `scale_out.sh BUILD SRC FIXTURES`; exit 77 (skipped) without fixtures or nginx.
set -euo pipefail
build=$(realpath "$1") fixtures=$3
[ -f "$fixtures/stories260K/stories260K.bin" ] || { echo "skipped: fixtures not found at $fixtures"; exit 77; }
nginx=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$nginx" ] || { echo "skipped: nginx is not installed (.ci/install-deps installs it)"; exit 77; }
tmp=$(mktemp -d)
chmod 755 "$tmp"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2> /dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2> /dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
"$build/strata-convert" "$fixtures/stories260K/stories260K.bin" --tokenizer "$fixtures/stories260K/tok512.bin" -q -o "$tmp/m.strata"

ports=()
for i in 1 2; do
  "$build/strata-server" -m "$tmp/m.strata" --port 0 --threads 1 --parallel 2 \
    --cache-dir "$tmp/cache$i" 2> "$tmp/server$i.log" &
  pids+=($!)
  for _ in $(seq 100); do grep -q "listening on" "$tmp/server$i.log" && break; sleep 0.1; done
  ports+=("$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$tmp/server$i.log" | sed 's/.*://')")
done
lb_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
user_line=""
[ "$(id -u)" -eq 0 ] && user_line="user root;"
cat > "$tmp/nginx.conf" <<CONF
$user_line
daemon off;
worker_processes 1;
pid $tmp/nginx.pid;
error_log $tmp/nginx-error.log;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path $tmp/body;
  proxy_temp_path $tmp/proxy;
  fastcgi_temp_path $tmp/fastcgi;
  uwsgi_temp_path $tmp/uwsgi;
  scgi_temp_path $tmp/scgi;
  # the conversation key: a client's X-Conversation-Id, else its address
  map \$http_x_conversation_id \$conversation {
    ""      \$remote_addr;
    default \$http_x_conversation_id;
  }
  upstream strata {
    hash \$conversation consistent;
    server 127.0.0.1:${ports[0]};
    server 127.0.0.1:${ports[1]};
  }
  server {
    listen 127.0.0.1:$lb_port;
    location / {
      proxy_pass http://strata;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;           # Server-Sent Events go out as they come
      proxy_read_timeout 600s;
      add_header X-Upstream \$upstream_addr always;
    }
  }
}
CONF
"$nginx" -c "$tmp/nginx.conf" -p "$tmp" &
pids+=($!)
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$lb_port/health" && break; sleep 0.1; done

failures=0
declare -A seen
for conv in a b c d e f g h; do
  text="Once upon a time, $conv"
  for turn in 1 2 3; do
    text="$text and then"
    out=$(curl -s -D "$tmp/headers" "http://127.0.0.1:$lb_port/v1/completions" \
      -H "Content-Type: application/json" -H "X-Conversation-Id: conv-$conv" \
      -d "{\"prompt\": \"$text\", \"max_tokens\": 8, \"temperature\": 0}")
    upstream=$(grep -i '^X-Upstream:' "$tmp/headers" | tr -d '\r' | awk '{print $2}')
    cached=$(echo "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["usage"]["prompt_tokens_details"]["cached_tokens"])')
    echo "conversation $conv turn $turn: served by $upstream, cached_tokens $cached"
    if [ "$turn" = 1 ]; then
      seen[$conv]=$upstream
    else
      [ "${seen[$conv]}" = "$upstream" ] || { echo "FAIL: conversation $conv moved to $upstream"; failures=$((failures + 1)); }
      [ "$cached" -gt 0 ] || { echo "FAIL: conversation $conv turn $turn missed its cache"; failures=$((failures + 1)); }
    fi
  done
done
used=$(printf '%s\n' "${seen[@]}" | sort -u | wc -l)
echo "conversations spread over $used of 2 servers"
[ "$used" -eq 2 ] || { echo "FAIL: every conversation went to one server"; failures=$((failures + 1)); }
echo "$(( 33 - failures )) passed, $failures failed"
[ "$failures" -eq 0 ]
