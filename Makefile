# otelcol-llminference — build, test, demo.
SHELL      := /bin/bash
ROOT       := $(abspath .)
TOOLS      := $(ROOT)/.tools
BUILDER    := $(TOOLS)/builder
OCB_VERSION := v0.160.0
BIN        := $(ROOT)/bin/otelcol-llminference
GO         ?= go

export GOFLAGS ?= -mod=mod

PHONY_K8S := test-kubernetes kube-binaries
.PHONY: all build generate test test-unit test-e2e $(PHONY_K8S) fuzz bench bench-go bench-sidebyside demo docs manifests dashboards dashboard-snapshot lint fmt clean

all: build

$(BUILDER):
	GOBIN=$(TOOLS) $(GO) install go.opentelemetry.io/collector/cmd/builder@$(OCB_VERSION)

## generate: regenerate distribution/ from builder-config.yaml with ocb
generate: $(BUILDER)
	$(BUILDER) --config builder-config.yaml --skip-compilation

## build: build bin/otelcol-llminference (ocb generates, go build compiles; both cached)
build: generate
	cd distribution && CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN) .
	@$(BIN) --version

## test: every test: unit, fuzz seed corpora, end-to-end against the built binary and a real
## Prometheus, and Kubernetes discovery against a real kube-apiserver and etcd
test: build test-unit test-e2e test-kubernetes

test-unit:
	$(GO) vet ./...
	$(GO) test -count=1 -race ./components/...
	$(GO) test -count=1 ./tests/fixtures/... ./tests/llmsim/... ./tests/dashboards/... ./tests/rwsink/...

test-e2e:
	@command -v prometheus >/dev/null && command -v promtool >/dev/null && command -v chromium >/dev/null && command -v vmagent >/dev/null || { echo "needs prometheus, promtool, chromium and vmagent: apt-get install -y prometheus chromium victoria-metrics"; exit 1; }
	LLMINF_E2E=1 OTELCOL_BIN=$(BIN) $(GO) test -count=1 -v -timeout 20m -parallel 8 ./tests/e2e/... ./tests/demo/... ./tests/manifests/... ./tests/rules/... ./tests/loadtest/... 2>&1 | tee /tmp/llminf-e2e.log | grep -E '^(=== RUN|--- |PASS|FAIL|ok|panic)|_test.go' ; exit $${PIPESTATUS[0]}

## kube-binaries: build kube-apiserver v1.36.3 and etcd v3.6.16 from the Go module proxy into
## .cache/k8s/bin (about 4 min cold; skipped when present)
KUBE_BIN_DIR ?= $(ROOT)/.cache/k8s/bin
kube-binaries:
	bash tests/kubernetes/build/build.sh $(KUBE_BIN_DIR)

## test-kubernetes: the collector's discovery, RBAC and manifests against a real API server
test-kubernetes: build kube-binaries
	LLMINF_E2E=1 LLMINF_K8S=1 KUBE_BIN_DIR=$(KUBE_BIN_DIR) OTELCOL_BIN=$(BIN) $(GO) test -count=1 -v -timeout 15m ./tests/kubernetes/... 2>&1 | tee /tmp/llminf-k8s.log | grep -E '^(=== RUN|--- |PASS|FAIL|ok|panic)|_test.go' ; exit $${PIPESTATUS[0]}

## fuzz: fuzz the parse-and-convert path for FUZZTIME (the seed corpus also runs in make test)
FUZZTIME ?= 60s
fuzz:
	$(GO) test ./components/internal/promconv -run '^$$' -fuzz FuzzConvert -fuzztime $(FUZZTIME) -fuzzminimizetime 1s

## bench: Go microbenchmarks with allocations, then ours vs the stock collector pipeline vs
## vmagent side by side over the same simulated targets (docs/performance.md)
bench: bench-go bench-sidebyside

bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./components/...

## bench-sidebyside: BENCH_FLAGS are passed on, e.g. BENCH_FLAGS="-workloads node -repeat 1"
BENCH_FLAGS ?=
bench-sidebyside: build
	@command -v vmagent >/dev/null || { echo "Installing vmagent (victoria-metrics) from Debian"; apt-get update -q && apt-get install -y -q --no-install-recommends victoria-metrics; }
	$(GO) run ./tests/loadtest/cmd/sidebyside -otelcol $(BIN) $(BENCH_FLAGS)

## demo: the whole product locally: simulated fleet, collector (configs/local.yaml), Prometheus, live table
demo: build
	@command -v prometheus >/dev/null || { echo "Installing Prometheus from Debian"; apt-get update -q && apt-get install -y -q --no-install-recommends prometheus; }
	OTELCOL_BIN=$(BIN) $(GO) run ./tests/demo

## docs: regenerate docs/metrics.md from the mapping tables (a test fails when it is stale)
docs:
	$(GO) run ./components/processor/llminferenceprocessor/mapping/cmd/gendocs > docs/metrics.md

## manifests: regenerate configs/kubernetes/configmap.yaml from configs/collector/daemonset.yaml
manifests:
	$(GO) run configs/kubernetes/generate.go

## dashboards: regenerate configs/dashboards/llm-inference.json from tests/dashboards
dashboards:
	$(GO) run ./tests/dashboards/cmd/gen > configs/dashboards/llm-inference.json

## dashboard-snapshot: render the dashboard's panels from a running Prometheus (default: the demo's) into dashboard-snapshot.html
PROMETHEUS_URL ?= http://127.0.0.1:19090
dashboard-snapshot:
	$(GO) run ./tests/dashboards/cmd/snapshot -prometheus $(PROMETHEUS_URL) -out dashboard-snapshot.html

fmt:
	gofmt -w components tests

lint:
	@test -z "$$(gofmt -l components tests)" || { gofmt -l components tests; exit 1; }
	$(GO) vet ./...

clean:
	rm -rf bin
