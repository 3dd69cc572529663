#!/usr/bin/env bash
# Debian's prometheus and prometheus-alertmanager with --log.format=json --log.level=debug (the Alertmanager without
# clustering, so it does not wait for gossip to settle), each
# on 127.0.0.1 and a free port for a few seconds, then stopped with SIGTERM (so their shutdown
# lines are in). Prometheus scrapes itself and a target on a closed port (a failing scrape, at
# debug level) and evaluates a rule that fails (a warning); an alert posted to the Alertmanager's
# API is delivered to a webhook on a closed port, which fails (error level).
# Usage: gen/prometheus.sh OUT_DIR   (writes prometheus.ndjson and alertmanager.ndjson)
set -euo pipefail
out="$(cd "$1" && pwd)"
work="$(mktemp -d)"
cleanup() {
  for p in ${pids:-}; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
prom=$(free_port); am=$(free_port); closed=$(free_port)

cat > "$work/alertmanager.yml" <<YML
route:
  receiver: hook
  group_wait: 1s
  group_interval: 1s
receivers:
  - name: hook
    webhook_configs:
      - url: http://127.0.0.1:$closed/alert
        send_resolved: false
YML
cat > "$work/rules.yml" <<'YML'
groups:
  - name: demo
    interval: 1s
    rules:
      - alert: AlwaysFiring
        expr: vector(1)
        labels: {severity: page}
      # Fails at every evaluation (two left-hand series match one right-hand one): a warning.
      - record: demo:ambiguous_match
        expr: (label_replace(vector(1), "a", "1", "", "") or label_replace(vector(1), "a", "2", "", "")) + on() vector(1)
YML
cat > "$work/prometheus.yml" <<YML
global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: [$work/rules.yml]
alerting:
  alertmanagers: [{static_configs: [{targets: ["127.0.0.1:$am"]}]}]
scrape_configs:
  - job_name: self
    static_configs: [{targets: ["127.0.0.1:$prom"]}]
  - job_name: down
    static_configs: [{targets: ["127.0.0.1:$closed"]}]
YML

prometheus-alertmanager --config.file="$work/alertmanager.yml" --storage.path="$work/am" \
  --web.listen-address="127.0.0.1:$am" --cluster.listen-address=  \
  --log.format=json --log.level=debug 2> "$work/am.log" &
pids="$!"
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --web.listen-address="127.0.0.1:$prom" --log.format=json --log.level=debug 2> "$work/prom.log" &
pids="$pids $!"
sleep 3
# An alert posted straight to the Alertmanager's API, as Prometheus would post it: its delivery
# to the closed webhook port fails and is retried, logged at error level.
curl -s -m 5 -XPOST -H 'Content-Type: application/json' "http://127.0.0.1:$am/api/v2/alerts" \
  -d '[{"labels":{"alertname":"CheckoutDown","severity":"page","service":"checkout"},"annotations":{"summary":"checkout is down"}}]' >/dev/null
sleep 9
kill -TERM $pids
wait $pids || true
pids=
# Kept small: of the lines with the same (caller, msg), the first two, in order; the lines
# themselves are as written.
keep_first_two() {
  python3 -c '
import json, sys
seen = {}
for line in sys.stdin:
    r = json.loads(line)
    key = (r.get("caller"), r.get("msg"))
    seen[key] = seen.get(key, 0) + 1
    if seen[key] <= 2:
        sys.stdout.write(line)
'
}
keep_first_two < "$work/prom.log" > "$out/prometheus.ndjson"
keep_first_two < "$work/am.log" > "$out/alertmanager.ndjson"
