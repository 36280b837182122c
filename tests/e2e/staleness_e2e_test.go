package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/otelcol-llminference/otelcol-llminference/tests/harness"
)

// TestStalenessInPrometheus: when a series disappears from a target, or the target starts
// failing, Prometheus must stop returning the series at once (a stale marker), not for the
// 5-minute lookback.
func TestStalenessInPrometheus(t *testing.T) {
	bin := harness.RequireE2E(t)
	prom := harness.StartPrometheus(t, "")
	var phase atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		switch phase.Load() {
		case 0:
			fmt.Fprint(w, "# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running{model_name=\"a\"} 1\nvllm:num_requests_running{model_name=\"b\"} 2\n")
		case 1: // model b unloaded
			fmt.Fprint(w, "# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running{model_name=\"a\"} 1\n")
		default: // engine broken
			http.Error(w, "boom", http.StatusInternalServerError)
		}
	}))
	t.Cleanup(srv.Close)
	harness.StartCollector(t, bin, fmt.Sprintf(`
receivers:
  llminference:
    collection_interval: 1s
    scrape_timeout: 1s
    kubernetes: {enabled: false}
    static_targets: [{endpoint: %q, workload: w, backend: vllm, namespace: llm, pod: p}]
exporters:
  prometheus_remote_write:
    endpoint: %s
    translation_strategy: UnderscoreEscapingWithoutSuffixes
    target_info: {enabled: false}
service:
  telemetry: {metrics: {level: none}}
  pipelines: {metrics: {receivers: [llminference], exporters: [prometheus_remote_write]}}
`, srv.URL+"/metrics", prom.WriteURL()))

	ctx := context.Background()
	count := func(q string) int {
		s, err := prom.Query(ctx, q)
		require.NoError(t, err)
		return len(s)
	}
	require.Eventually(t, func() bool { return count(`vllm:num_requests_running`) == 2 }, 30*time.Second, 100*time.Millisecond)
	phase.Store(1)
	require.Eventually(t, func() bool { return count(`vllm:num_requests_running{model_name="b"}`) == 0 }, 10*time.Second, 100*time.Millisecond,
		"the vanished series is stale in Prometheus within a few intervals")
	require.Equal(t, 1, count(`vllm:num_requests_running{model_name="a"}`))
	phase.Store(2)
	require.Eventually(t, func() bool { return count(`vllm:num_requests_running`) == 0 }, 10*time.Second, 100*time.Millisecond,
		"a failing target's series are stale")
	require.Eventually(t, func() bool { return count(`llm_inference_target_up == 0`) == 1 }, 10*time.Second, 100*time.Millisecond)
}
