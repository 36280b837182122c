package llminferencereceiver

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/otelcol-llminference/otelcol-llminference/components/receiver/llminferencereceiver/internal/metadata"
	"github.com/otelcol-llminference/otelcol-llminference/tests/fixtures"

	"github.com/otelcol-llminference/otelcol-llminference/components/internal/scrapecontract"
)

// BenchmarkScrapeLoop is the whole receiver path for one target: HTTP fetch of the real vLLM
// output over loopback, parse and convert (warm line cache), self-metrics and hand-off.
func BenchmarkScrapeLoop(b *testing.B) {
	body := fixtures.Sample(fixtures.VLLMMixed)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	cfg := testConfig()
	cfg.ScrapeTimeout = 5 * time.Second
	sink := new(consumertest.MetricsSink)
	r, err := newReceiver(receivertest.NewNopSettings(metadata.Type), cfg, sink)
	require.NoError(b, err)
	r.ctx = context.Background()
	l := newScrapeLoop(r, &target{key: "static/bench", url: srv.URL + "/metrics", Target: scrapecontract.Target{
		Kind: scrapecontract.KindInference, Namespace: "llm", Pod: "qwen-0", Node: "n1", Workload: "qwen", Backend: "vllm"}})
	ctx := context.Background()
	l.scrape(ctx) // fill the line cache
	sink.Reset()
	samples := 0
	for b.Loop() {
		l.scrape(ctx)
		if samples == 0 {
			samples = sink.DataPointCount()
		}
		sink.Reset()
	}
	require.Positive(b, samples)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*samples), "ns/datapoint")
}
