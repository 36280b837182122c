package scrapecontract

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

func TestPutResourceOfAPod(t *testing.T) {
	pod := Target{Kind: KindInference, Namespace: "llm", Pod: "qwen-0", PodUID: "uid-1", Node: "n1",
		Container: "engine", Workload: "qwen", Backend: "vllm"}
	attrs := pcommon.NewMap()
	pod.PutResource(attrs, "http://10.0.0.7:8000/metrics", "prod")
	assert.Equal(t, map[string]any{
		AttrTargetKind: KindInference, AttrNamespace: "llm", AttrPodName: "qwen-0", AttrPodUID: "uid-1",
		AttrNodeName: "n1", AttrContainerName: "engine", AttrWorkload: "qwen", AttrBackend: "vllm",
		AttrAccessName: "prod", AttrServerAddress: "10.0.0.7", AttrServerPort: int64(8000),
		AttrServiceName: ServiceName, AttrServiceInstance: "10.0.0.7:8000",
	}, attrs.AsRaw())
}

// An exporter's target has no pod identity: those attributes are left out, not empty, and the
// port comes from the scheme.
func TestPutResourceOfTheGPUExporter(t *testing.T) {
	gpu := Target{Kind: KindGPUExporter, Node: "n1"}
	attrs := pcommon.NewMap()
	gpu.PutResource(attrs, "https://10.0.0.7/metrics", "")
	assert.Equal(t, map[string]any{
		AttrTargetKind: KindGPUExporter, AttrNodeName: "n1", AttrServerAddress: "10.0.0.7",
		AttrServerPort: int64(443), AttrServiceName: ServiceName, AttrServiceInstance: "10.0.0.7:443",
	}, attrs.AsRaw())
}

func TestSelfMetrics(t *testing.T) {
	ms := pmetric.NewMetricSlice()
	ts := pcommon.Timestamp(1e18)
	AppendSelfMetrics(ms, ts, false, 0.25, 7)
	n := AppendSelfMetricsStale(ms, ts)
	assert.Equal(t, 3, n)
	var names []string
	for i := 0; i < ms.Len(); i++ {
		assert.True(t, IsSelfMetric(ms.At(i).Name()))
		names = append(names, ms.At(i).Name())
		dp := ms.At(i).Gauge().DataPoints().At(0)
		assert.Equal(t, i >= 3, dp.Flags().NoRecordedValue(), "%s: the last three are stale markers", ms.At(i).Name())
	}
	assert.Equal(t, []string{MetricUp, MetricScrapeDuration, MetricScrapeSamples, MetricUp, MetricScrapeDuration, MetricScrapeSamples}, names)
	assert.Equal(t, []float64{0, 0.25, 7}, []float64{
		ms.At(0).Gauge().DataPoints().At(0).DoubleValue(),
		ms.At(1).Gauge().DataPoints().At(0).DoubleValue(),
		ms.At(2).Gauge().DataPoints().At(0).DoubleValue(),
	})
	assert.False(t, IsSelfMetric("llm_inference_requests_total"))
}
