package llminferenceprocessor

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.uber.org/zap"

	"github.com/otelcol-llminference/otelcol-llminference/components/internal/promconv"

	"github.com/otelcol-llminference/otelcol-llminference/components/internal/scrapecontract"
)

var t0 = time.Unix(1700000000, 0)

// target describes a scrape as the llminference receiver would report it.
type target struct {
	scrapecontract.Target
	url string
}

func inferencePod(pod, workload, backend string) target {
	return target{scrapecontract.Target{Kind: scrapecontract.KindInference, Namespace: "llm", Pod: pod, Node: "gpu-node-1",
		Workload: workload, Backend: backend}, "http://10.0.0.1:8000/metrics"}
}

func gpuExporter() target {
	return target{scrapecontract.Target{Kind: scrapecontract.KindGPUExporter, Node: "gpu-node-1"}, "http://10.0.0.2:9400/metrics"}
}

// scrape converts an exposition into the receiver's output for tg, appended to md: the
// receiver's converter, resource and self-metrics.
func scrape(t testing.TB, md pmetric.Metrics, tg target, body []byte, ts time.Time) pmetric.ResourceMetrics {
	rm := md.ResourceMetrics().AppendEmpty()
	tg.PutResource(rm.Resource().Attributes(), tg.url, "")
	sm := rm.ScopeMetrics().AppendEmpty()
	res, err := promconv.NewConverter(0).Convert(body, "text/plain; version=0.0.4", ts, sm.Metrics())
	require.NoError(t, err)
	scrapecontract.AppendSelfMetrics(sm.Metrics(), pcommon.NewTimestampFromTime(ts), true, 0.01, res.Samples)
	return rm
}

func newTestProcessor(t testing.TB, cfg *Config) (*llmProcessor, *time.Time) {
	p, err := newProcessor(cfg, zap.NewNop())
	require.NoError(t, err)
	now := t0
	p.now = func() time.Time { return now }
	return p, &now
}

func process(t testing.TB, p *llmProcessor, md pmetric.Metrics) pmetric.Metrics {
	out, err := p.processMetrics(t.Context(), md)
	require.NoError(t, err)
	return out
}

// metricsOf returns the metrics of the resource of pod (or of the GPU exporter for "").
func metricsOf(md pmetric.Metrics, pod string) map[string]pmetric.Metric {
	out := map[string]pmetric.Metric{}
	for i := 0; i < md.ResourceMetrics().Len(); i++ {
		rm := md.ResourceMetrics().At(i)
		if str(rm.Resource().Attributes(), scrapecontract.AttrPodName) != pod {
			continue
		}
		for j := 0; j < rm.ScopeMetrics().Len(); j++ {
			ms := rm.ScopeMetrics().At(j).Metrics()
			for k := 0; k < ms.Len(); k++ {
				if _, dup := out[ms.At(k).Name()]; dup {
					panic("metric twice in one resource: " + ms.At(k).Name())
				}
				out[ms.At(k).Name()] = ms.At(k)
			}
		}
	}
	return out
}

func readFile(t testing.TB, path string) string {
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}
