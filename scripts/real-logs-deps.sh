#!/usr/bin/env bash
# What tests/test_real_logs.py drives beyond the venv: Caddy and node_exporter from Debian, and
# pino from npm (into tests/real/pino/node_modules, exactly as tests/real/pino/package-lock.json
# pins it). Installs only what is missing, so once everything is there a run costs a few
# `command -v` checks. apt-get needs root (as on CI); otherwise this says what to install and the
# tests that need it are skipped. Safe to run twice at once: the second waits for the first.
set -euo pipefail
cd "$(dirname "$0")/.."

exec 9>"${TMPDIR:-/tmp}/logkit-real-logs-deps.lock"
flock 9

need=()
command -v caddy >/dev/null 2>&1 || need+=(caddy)
command -v prometheus-node-exporter >/dev/null 2>&1 || need+=(prometheus-node-exporter)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages: ${need[*]} (as root: apt-get install ${need[*]})" >&2
  else
    echo "installing Debian packages: ${need[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    # Another apt-get (scripts/system-deps.sh) may hold the lock: wait rather than fail.
    apt=(apt-get -o DPkg::Lock::Timeout=300 -qq)
    "${apt[@]}" update
    "${apt[@]}" install -y --no-install-recommends "${need[@]}" >/dev/null
    # The packages start system services where there is an init system; the tests run their
    # own on 127.0.0.1 and free ports, so a service left on :80 or :9100 would only cost memory.
    for svc in caddy prometheus-node-exporter; do
      (command -v systemctl >/dev/null && systemctl stop "$svc" 2>/dev/null) || true
    done
  fi
fi

pino=tests/real/pino
if [ ! -f "$pino/node_modules/pino/package.json" ]; then
  if command -v npm >/dev/null 2>&1; then
    echo "installing pino from $pino/package-lock.json" >&2
    (cd "$pino" && npm ci --no-audit --no-fund --loglevel=error)
  else
    echo "npm not found: install Node.js 20 and npm for the pino test" >&2
  fi
fi
