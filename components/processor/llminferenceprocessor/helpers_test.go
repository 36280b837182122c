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
)

var t0 = time.Unix(1700000000, 0)

// target describes a scrape as the llminference receiver would report it.
type target struct {
	kind, namespace, pod, node, workload, backend string
}

func inferencePod(pod, workload, backend string) target {
	return target{kind: kindInference, namespace: "llm", pod: pod, node: "gpu-node-1", workload: workload, backend: backend}
}

func gpuExporter() target { return target{kind: kindGPUExporter, node: "gpu-node-1"} }

// scrape converts an exposition into the receiver's output for tg, appended to md.
func scrape(t testing.TB, md pmetric.Metrics, tg target, body []byte, ts time.Time) pmetric.ResourceMetrics {
	rm := md.ResourceMetrics().AppendEmpty()
	a := rm.Resource().Attributes()
	a.PutStr(inKind, tg.kind)
	a.PutStr(inNode, tg.node)
	if tg.kind == kindInference {
		a.PutStr(inNamespace, tg.namespace)
		a.PutStr(inPod, tg.pod)
		a.PutStr(inWorkload, tg.workload)
		a.PutStr(inBackend, tg.backend)
	}
	sm := rm.ScopeMetrics().AppendEmpty()
	_, err := promconv.NewConverter(0).Convert(body, "text/plain; version=0.0.4", ts, sm.Metrics())
	require.NoError(t, err)
	up := sm.Metrics().AppendEmpty()
	up.SetName(metricTargetUp)
	dp := up.SetEmptyGauge().DataPoints().AppendEmpty()
	dp.SetTimestamp(pcommon.NewTimestampFromTime(ts))
	dp.SetDoubleValue(1)
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
		if str(rm.Resource().Attributes(), inPod) != pod {
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
