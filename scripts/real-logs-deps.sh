#!/usr/bin/env bash
# What tests/test_real_logs.py drives beyond the venv, all from Debian: Caddy, node_exporter, and
# Node.js with the bunyan and winston loggers (node-bunyan, node-winston; nothing comes from npm,
# whose registry these machines cannot reach). Installs only what is missing, so once everything
# is there a run costs a few checks. apt-get needs root (as on CI); otherwise this says what to
# install and the tests that need it are skipped. Safe to run twice at once: the second waits
# for the first. Never waits for ever: the lock and every apt-get have a time limit.
set -euo pipefail
cd "$(dirname "$0")/.."

exec 9>"${TMPDIR:-/tmp}/logkit-real-logs-deps.lock"
flock -w 240 9 || { echo "another real-logs-deps.sh has held its lock for 4 min: not waiting" >&2; exit 1; }

need=()
command -v caddy >/dev/null 2>&1 || need+=(caddy)
command -v prometheus-node-exporter >/dev/null 2>&1 || need+=(prometheus-node-exporter)
# Debian's node modules live under /usr/share/nodejs (the test sets NODE_PATH to it, for a node
# that is not Debian's); node-bunyan and node-winston bring Debian's nodejs if there is no node.
command -v node >/dev/null 2>&1 || need+=(nodejs)
[ -f /usr/share/nodejs/bunyan/package.json ] || need+=(node-bunyan)
[ -f /usr/share/nodejs/winston/package.json ] || need+=(node-winston)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages: ${need[*]} (as root: apt-get install ${need[*]})" >&2
  else
    echo "installing Debian packages: ${need[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    # Another apt-get (scripts/system-deps.sh) may hold the lock: wait rather than fail.
    # `timeout` bounds a download that stalls (lock, update and install stay within the 900 s
    # tests/test_real_logs.py gives this script); stdin is closed so nothing can prompt.
    apt=(timeout 300 apt-get -o DPkg::Lock::Timeout=300 -o Acquire::http::Timeout=60 -qq)
    "${apt[@]}" update </dev/null
    "${apt[@]}" install -y --no-install-recommends "${need[@]}" </dev/null >/dev/null
    # The packages start system services where there is an init system; the tests run their
    # own on 127.0.0.1 and free ports, so a service left on :80 or :9100 would only cost memory.
    for svc in caddy prometheus-node-exporter; do
      (command -v systemctl >/dev/null && systemctl stop "$svc" 2>/dev/null) || true
    done
  fi
fi
