#!/usr/bin/env bash
# Journal entries written by gen/journald_export.py in the Journal Export Format are stored by
# Debian's systemd-journal-remote into a journal file, then read back by journalctl: the JSON is
# what `journalctl -o json` prints (no running journald needed).
# Usage: gen/journald.sh OUT_DIR   (writes journald.ndjson)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$(cd "$1" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 "$here/journald_export.py" \
  | timeout 60 /lib/systemd/systemd-journal-remote --output="$work/remote.journal" - 2> "$work/remote.err" \
  || { cat "$work/remote.err" >&2; exit 1; }
timeout 60 journalctl --file "$work/remote.journal" -o json --no-pager > "$out/journald.ndjson"
