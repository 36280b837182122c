#!/usr/bin/env bash
# Builds Prometheus v3 (Go module github.com/prometheus/prometheus v0.316.0 = Prometheus 3.16.0)
# from the Go module proxy into $1 (default .cache/tools/prometheus-3.16.0) for the OTLP tests:
# its OTLP receiver is the third-party backend the opentelemetry schema is checked against.
# Service discovery plugins are left out (remove_all_sd): the tests use static configs only,
# and the build takes about half the time. Skipped when the binary exists.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/../../../.cache/tools/prometheus-3.16.0}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
if [[ ! -x "$out/prometheus" ]]; then
	echo "building Prometheus 3.16.0 (about 1.5 min warm, 4 min cold)"
	(cd "$here/prometheus" && GOFLAGS=-mod=mod go build -trimpath -tags remove_all_sd -ldflags "-s -w \
		-X github.com/prometheus/common/version.Version=3.16.0" \
		-o "$out/prometheus.tmp" github.com/prometheus/prometheus/cmd/prometheus)
	mv "$out/prometheus.tmp" "$out/prometheus"
fi
echo "Prometheus 3 in $out"
