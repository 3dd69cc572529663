#!/usr/bin/env bash
# Kubernetes CRI container-log lines written by Debian's conmon (2.1.6, the container monitor
# CRI-O and Podman use; its default log driver "k8s-file" is the CRI log format), around a
# stand-in runtime (gen/cri/fake-runtime) that starts gen/cri/app as the "container" process:
# no container engine runs here, but every line of the log is conmon's.
# Usage: gen/cri.sh OUT_DIR   (writes cri.log: CRI lines are not JSON)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$(cd "$1" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bundle" "$work/exits" "$work/sockets" "$work/persist"
cp "$here/cri/app" "$work/bundle/app"
timeout 30 conmon --sync --cid 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef \
  --cuuid 0123456789abcdef --name checkout --runtime "$here/cri/fake-runtime" \
  --bundle "$work/bundle" --container-pidfile "$work/pid" --log-path "k8s-file:$work/ctr.log" \
  --exit-dir "$work/exits" --socket-dir-path "$work/sockets" --persist-dir "$work/persist" \
  > "$work/conmon.out" 2>&1 || { cat "$work/conmon.out" >&2; exit 1; }
cp "$work/ctr.log" "$out/cri.log"
