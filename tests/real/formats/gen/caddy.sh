#!/usr/bin/env bash
# Debian's caddy with gen/Caddyfile on 127.0.0.1 and free ports, four requests through the proxy
# (one with a W3C traceparent and a fake bearer token, a 404, a 503, a POST), then stopped.
# Usage: gen/caddy.sh OUT_DIR   (writes caddy_access.ndjson and caddy.ndjson, Caddy's own log)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$(cd "$1" && pwd)"
work="$(mktemp -d)"
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
proxy=$(free_port); app=$(free_port)
env CADDY_PROXY_PORT="$proxy" CADDY_APP_PORT="$app" CADDY_LOG="$work/access.log" \
  CADDY_DATA="$work/data" HOME="$work" XDG_CONFIG_HOME="$work/config" XDG_DATA_HOME="$work/share" \
  caddy run --config "$here/Caddyfile" --adapter caddyfile 2> "$work/caddy.log" &
pid=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$proxy/" && break; sleep 0.1; done
probes=$(stat -c %s "$work/access.log")   # the readiness probes' lines are left out
url="http://127.0.0.1:$proxy"
curl -s -o /dev/null -A 'curl/7.88.1' -H 'traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' \
  -H 'Authorization: Bearer tok_FAKE_for_tests' "$url/cart?page=2"
curl -s -o /dev/null -A 'curl/7.88.1' "$url/missing"
curl -s -o /dev/null -A 'curl/7.88.1' "$url/broken"
curl -s -o /dev/null -A 'curl/7.88.1' -H 'Content-Type: application/json' -d '{"model":"gpt-4o-mini"}' "$url/v1/chat/completions"
sleep 0.5
kill -TERM "$pid"; wait "$pid" || true; pid=
tail -c +$((probes + 1)) "$work/access.log" > "$out/caddy_access.ndjson"
cp "$work/caddy.log" "$out/caddy.ndjson"
