#!/usr/bin/env bash
# Debian packages the test suite drives for real: node_exporter, Prometheus (promtool),
# Chromium, and the archivers whose files ingest refuses by name (zip, xz, bzip2). Installed
# only when missing; needs root (as on CI), otherwise says what to install.
set -euo pipefail
need=()
command -v prometheus-node-exporter >/dev/null 2>&1 || need+=(prometheus-node-exporter)
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v zip >/dev/null 2>&1 || need+=(zip)
command -v xz >/dev/null 2>&1 || need+=(xz-utils)
command -v bzip2 >/dev/null 2>&1 || need+=(bzip2)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages: ${need[*]} (the tests that need them will be skipped)" >&2
  exit 0
fi
echo "installing Debian packages: ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# The package starts services we don't want: the tests run their own on 127.0.0.1.
for svc in prometheus prometheus-node-exporter; do
  (command -v systemctl >/dev/null && systemctl stop "$svc" 2>/dev/null) || true
  pkill -x "$svc" 2>/dev/null || true
done
