#!/usr/bin/env bash
# Debian's nginx (nginx-light) with gen/nginx.conf.in on 127.0.0.1 and free ports, four requests
# with curl (a traceparent, a query with a quote and a non-ASCII character, a 404, a 503, a
# POST), then stopped. Usage: gen/nginx.sh OUT_DIR   (writes nginx_json.ndjson)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$(cd "$1" && pwd)"
work="$(mktemp -d)"
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port); app=$(free_port)
sed "s|@PORT@|$port|g; s|@APP@|$app|g; s|@WORK@|$work|g" "$here/nginx.conf.in" > "$work/nginx.conf"
nginx -p "$work" -c "$work/nginx.conf" &
pid=$!
for _ in $(seq 50); do [ -f "$work/nginx.pid" ] && curl -s -o /dev/null "http://127.0.0.1:$app/" && break; sleep 0.1; done
url="http://127.0.0.1:$port"
curl -s -o /dev/null -A 'curl/7.88.1' -H 'traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' "$url/cart?page=2"
curl -s -o /dev/null -A 'Mozilla/5.0 "quoted" café' "$url/search?q=%22tea%22&city=K%C3%B6ln"
curl -s -o /dev/null -A 'curl/7.88.1' "$url/missing"
curl -s -o /dev/null -A 'curl/7.88.1' "$url/broken"
curl -s -o /dev/null -A 'curl/7.88.1' -H 'Content-Type: application/json' -d '{"model":"gpt-4o-mini"}' "$url/v1/chat/completions"
kill -QUIT "$pid"; wait "$pid" || true; pid=
cp "$work/access.log" "$out/nginx_json.ndjson"
