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
# Celery and its python-json-logger in a venv of their own (see PRODUCED.md).
timeout 60 "${CELERY_PYTHON:-$py}" gen/celery_gen.py > celery.ndjson

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

# Java: single-file source launch against Debian's jars, nothing fetched.
J=/usr/share/java
timeout 120 java -cp "$J/slf4j-api.jar:$J/logback-classic.jar:$J/logback-core.jar:$J/logstash-logback-encoder.jar:$J/jackson-core.jar:$J/jackson-databind.jar:$J/jackson-annotations.jar" \
  -Dlogback.configurationFile=gen/java/logback-logstash.xml gen/java/LogbackGen.java > java_logback_logstash.ndjson
timeout 120 java -cp "$J/log4j-api.jar:$J/log4j-core.jar:$J/jackson-core.jar:$J/jackson-databind.jar:$J/jackson-annotations.jar" \
  -Dlog4j2.configurationFile=gen/java/log4j2-json.xml gen/java/Log4j2Gen.java > java_log4j2_json.ndjson

# Rust: tracing-subscriber from crates.io (pinned), built in a target directory of its own.
(cd gen/rust_tracing && CARGO_TARGET_DIR="${TMPDIR:-/tmp}/logkit-rust-tracing" \
  timeout 600 cargo run --release -q) > rust_tracing.ndjson

# Servers on 127.0.0.1 and free ports, each stopped by its script.
timeout 120 gen/prometheus.sh .
timeout 60 gen/caddy.sh .
timeout 60 gen/nginx.sh .
timeout 60 gen/journald.sh .

# Docker's json-file driver behind dockerd's Copier (Debian's golang-github-docker-docker-dev).
(cd gen/go/dockerjson && go build -o "$bin/dockerjson" .)
rm -f docker_json_file.ndjson
timeout 60 "$bin/dockerjson" docker_json_file.ndjson
timeout 60 gen/cri.sh .

# LiteLLM lives in a venv of its own (about 40 packages): LITELLM_PYTHON names its python.
if [ -n "${LITELLM_PYTHON:-}" ]; then
  timeout 120 "$LITELLM_PYTHON" gen/litellm_gen.py > litellm.ndjson
fi
