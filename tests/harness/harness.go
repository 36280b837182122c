// Package harness starts the real programs that end-to-end tests need — Prometheus with its
// remote-write receiver and the built collector — on 127.0.0.1 (through internal/localstack), and
// stops them when the test ends.
package harness

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/otelcol-llminference/otelcol-llminference/internal/localstack"
)

// RequireE2E skips the test unless end-to-end tests were asked for (make test sets
// LLMINF_E2E=1 and OTELCOL_BIN), and returns the collector binary's path.
func RequireE2E(t testing.TB) string {
	t.Helper()
	if os.Getenv("LLMINF_E2E") != "1" {
		t.Skip("end-to-end test: run through `make test` (sets LLMINF_E2E=1 and OTELCOL_BIN)")
	}
	bin := os.Getenv("OTELCOL_BIN")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("OTELCOL_BIN=%q: %v (run `make build`)", bin, err)
	}
	return bin
}

// FreePort returns a TCP port free on 127.0.0.1 at the time of the call.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// The programs of internal/localstack, under the names the tests use.
type (
	Process    = localstack.Process
	Prometheus = localstack.Prometheus
	Sample     = localstack.Sample
	Series     = localstack.Series
	Point      = localstack.Point
)

// Start runs name with args; the process is stopped when the test ends, and its output is
// logged if the test failed.
func Start(t testing.TB, name string, args ...string) *Process {
	t.Helper()
	return StartEnv(t, nil, name, args...)
}

// StartEnv is Start with extra environment variables ("K=V").
func StartEnv(t testing.TB, env []string, name string, args ...string) *Process {
	t.Helper()
	p, err := localstack.StartProcessEnv(env, name, args...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("---- output of %s ----\n%s", p.Name, localstack.Tail(p.Output(), 8000))
		}
	})
	return p
}

// StartPrometheus starts a Prometheus for the test on a free 127.0.0.1 port (see NewPrometheus).
func StartPrometheus(t testing.TB, configYAML string) *Prometheus {
	t.Helper()
	prom, err := localstack.NewPrometheus("127.0.0.1:"+strconv.Itoa(FreePort(t)), t.TempDir(), configYAML)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		prom.Stop()
		if t.Failed() {
			t.Logf("---- output of prometheus ----\n%s", localstack.Tail(prom.Output(), 8000))
		}
	})
	return prom
}

// StartPrometheus3 starts the Prometheus 3 that make builds (PROMETHEUS3_BIN) with its OTLP
// receiver on /api/v1/otlp/v1/metrics, besides remote write.
func StartPrometheus3(t testing.TB, configYAML string) *Prometheus {
	t.Helper()
	bin := os.Getenv("PROMETHEUS3_BIN")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("PROMETHEUS3_BIN=%q: %v (run `make prometheus3`)", bin, err)
	}
	prom, err := localstack.NewPrometheusBin(bin, "127.0.0.1:"+strconv.Itoa(FreePort(t)), t.TempDir(), configYAML, "--web.enable-otlp-receiver")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		prom.Stop()
		if t.Failed() {
			t.Logf("---- output of prometheus 3 ----\n%s", localstack.Tail(prom.Output(), 8000))
		}
	})
	return prom
}

// StartCollectorFile runs the collector binary on a configuration file with extra environment.
func StartCollectorFile(t testing.TB, bin, path string, env ...string) *Process {
	t.Helper()
	return StartEnv(t, env, bin, "--config", path)
}

// StartCollector writes configYAML to a file and runs the collector binary on it.
func StartCollector(t testing.TB, bin, configYAML string) *Process {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "collector.yaml")
	if err := os.WriteFile(cfg, []byte(configYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	return Start(t, bin, "--config", cfg)
}
