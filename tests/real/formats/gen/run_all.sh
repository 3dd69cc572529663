#!/usr/bin/env bash
# Rerun every generator, rewriting tests/real/formats/*.ndjson. Needs what PRODUCED.md lists
# (the venv's extra Python packages; Debian's node-bunyan, node-winston, golang-go and the Go
# library packages, prometheus, prometheus-alertmanager, caddy, nginx-light,
# systemd-journal-remote, default-jdk-headless with liblogback-java,
# liblogstash-logback-encoder-java and liblog4j2-java). Each step is bounded in time.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/.."
py=${PYTHON:-/work/main/.venv/bin/python}

for g in loguru python_json_logger structlog ecs_logging google_cloud_logging otel_console otel_otlp_json; do
  timeout 60 "$py" "gen/${g}_gen.py" > "$g.ndjson"
done
timeout 60 "$py" gen/powertools_gen.py > aws_lambda_powertools.ndjson

for l in bunyan winston; do
  NODE_PATH=/usr/share/nodejs timeout 60 node gen/node_loggers.js "$l" > "node_$l.ndjson"
done

# Go: GOPATH mode against Debian's packaged sources, nothing fetched.
export GO111MODULE=off GOPATH=/usr/share/gocode GOPROXY=off GOFLAGS= GOCACHE="${TMPDIR:-/tmp}/logkit-gocache"
bin="$(mktemp -d)"
trap 'rm -rf "$bin"' EXIT
for p in zap logrus zerolog xslog; do
  (cd "gen/go/$p" && go build -o "$bin/$p" .)
  # zap's production logger writes to stderr.
  timeout 60 "$bin/$p" > "go_$p.ndjson" 2>&1
done
