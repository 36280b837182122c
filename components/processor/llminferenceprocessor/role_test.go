package llminferenceprocessor

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otelcol-llminference/otelcol-llminference/components/internal/scrapecontract"
)

const (
	sglangPD = `# TYPE sglang:num_running_reqs gauge
sglang:num_running_reqs{engine_type="%s",model_name="m",tp_rank="0",pp_rank="0"} 3
# TYPE sglang:num_decode_transfer_queue_reqs gauge
sglang:num_decode_transfer_queue_reqs{engine_type="%s",model_name="m",tp_rank="0",pp_rank="0"} 2
`
	vllmPlain = `# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="m"} 1
`
	trtllmUnderDynamo = `# TYPE trtllm_kv_transfer_latency_seconds histogram
trtllm_kv_transfer_latency_seconds_bucket{disaggregation_mode="prefill",engine_type="trtllm",model_name="m",le="0.01"} 1
trtllm_kv_transfer_latency_seconds_bucket{disaggregation_mode="prefill",engine_type="trtllm",model_name="m",le="+Inf"} 2
trtllm_kv_transfer_latency_seconds_sum{disaggregation_mode="prefill",engine_type="trtllm",model_name="m"} 0.5
trtllm_kv_transfer_latency_seconds_count{disaggregation_mode="prefill",engine_type="trtllm",model_name="m"} 2
`
	sglRouter = `# TYPE sgl_router_requests_total counter
sgl_router_requests_total{route="/generate"} 10
# TYPE sgl_router_running_requests gauge
sgl_router_running_requests{worker="http://10.0.0.7:8000"} 4
`
	dynamoFrontend = `# TYPE dynamo_frontend_requests_total counter
dynamo_frontend_requests_total{model="m",endpoint="chat_completions",request_type="stream",status="success"} 5
`
)

// TestRoleResolution: the pod's role label wins, in any spelling; else the engine's own metrics
// (SGLang's engine_type, TensorRT-LLM's disaggregation_mode, a router's metrics); else both.
// Every series of the pod carries inference_role.
func TestRoleResolution(t *testing.T) {
	f := fmt.Sprintf
	tests := []struct {
		name, backend, podRole, body, want string
	}{
		{name: "unlabelled vLLM pod is aggregated", backend: "vllm", body: vllmPlain, want: "both"},
		{name: "pod label prefill", backend: "vllm", podRole: "prefill", body: vllmPlain, want: "prefill"},
		{name: "pod label spelled Decode", backend: "vllm", podRole: "Decode", body: vllmPlain, want: "decode"},
		{name: "kv_producer is prefill", backend: "vllm", podRole: "kv_producer", body: vllmPlain, want: "prefill"},
		{name: "an author's own role passes through lower-cased", backend: "vllm", podRole: "Encoder", body: vllmPlain, want: "encoder"},
		{name: "SGLang engine_type prefill", backend: "sglang", body: f(sglangPD, "prefill", "prefill"), want: "prefill"},
		{name: "SGLang engine_type decode", backend: "sglang", body: f(sglangPD, "decode", "decode"), want: "decode"},
		{name: "SGLang unified is both", backend: "sglang", body: f(sglangPD, "unified", "unified"), want: "both"},
		{name: "the pod label wins over engine_type", backend: "sglang", podRole: "decode", body: f(sglangPD, "unified", "unified"), want: "decode"},
		{name: "TensorRT-LLM's disaggregation_mode under Dynamo", backend: "dynamo", body: trtllmUnderDynamo, want: "prefill"},
		{name: "sgl-router is a router", backend: "sglang-router", body: sglRouter, want: "router"},
		{name: "a router found by its metrics without a backend label", backend: "unknown", body: sglRouter, want: "router"},
		{name: "Dynamo's frontend is a router", backend: "dynamo", body: dynamoFrontend, want: "router"},
		{name: "a router whose pod says gateway", backend: "sglang-router", podRole: "gateway", body: sglRouter, want: "router"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := newTestProcessor(t, createDefaultConfig())
			md := pmetric.NewMetrics()
			tg := inferencePod("pod-0", "wl", tt.backend)
			tg.Role = tt.podRole
			scrape(t, md, tg, []byte(tt.body), t0)
			out := process(t, p, md)
			require.Equal(t, 1, out.ResourceMetrics().Len())
			res := out.ResourceMetrics().At(0).Resource().Attributes()
			assert.Equal(t, tt.want, str(res, lblRole))
			assert.NotEmpty(t, metricsOf(out, "pod-0"), "the pod's series are there, all under that resource")
		})
	}
}

// TestPDMetricsAndRouterSeries: SGLang's PD queues become one gauge with a queue label, its KV
// transfer histogram is in seconds; a router's requests and per-worker gauges are unified.
func TestPDMetricsAndRouterSeries(t *testing.T) {
	p, _ := newTestProcessor(t, createDefaultConfig())
	md := pmetric.NewMetrics()
	scrape(t, md, inferencePod("sg-d0", "pd", "sglang"), []byte(fmt.Sprintf(sglangPD, "decode", "decode")+`# TYPE sglang:kv_transfer_latency_ms histogram
sglang:kv_transfer_latency_ms_bucket{engine_type="decode",model_name="m",tp_rank="0",pp_rank="0",le="10"} 3
sglang:kv_transfer_latency_ms_bucket{engine_type="decode",model_name="m",tp_rank="0",pp_rank="0",le="+Inf"} 4
sglang:kv_transfer_latency_ms_sum{engine_type="decode",model_name="m",tp_rank="0",pp_rank="0"} 40
sglang:kv_transfer_latency_ms_count{engine_type="decode",model_name="m",tp_rank="0",pp_rank="0"} 4
`), t0)
	scrape(t, md, inferencePod("router-0", "pd", "sglang-router"), []byte(sglRouter), t0)
	out := process(t, p, md)

	d := metricsOf(out, "sg-d0")
	q := d["llm_inference_pd_queue_requests"]
	require.Equal(t, 1, q.Gauge().DataPoints().Len())
	assert.Equal(t, "decode_transfer", str(q.Gauge().DataPoints().At(0).Attributes(), "queue"))
	assert.Equal(t, 2.0, q.Gauge().DataPoints().At(0).DoubleValue())
	h := d["llm_inference_kv_transfer_duration_seconds"].Histogram().DataPoints().At(0)
	assert.InDelta(t, 0.04, h.Sum(), 1e-12, "milliseconds scaled to seconds")
	assert.Equal(t, []float64{0.01}, h.ExplicitBounds().AsRaw())

	r := metricsOf(out, "router-0")
	req := r["llm_inference_router_requests_total"].Sum().DataPoints().At(0)
	assert.Equal(t, 10.0, req.DoubleValue())
	assert.Equal(t, "success", str(req.Attributes(), "status"))
	assert.Equal(t, "pd", str(req.Attributes(), lblModel), "sgl-router names no model: the workload stands for it")
	w := r["llm_inference_router_worker_running_requests"].Gauge().DataPoints().At(0)
	assert.Equal(t, "http://10.0.0.7:8000", str(w.Attributes(), "worker"))
}

// TestJoinedGPUSeriesCarryTheRole: a GPU used by a decode pod is labelled decode.
func TestJoinedGPUSeriesCarryTheRole(t *testing.T) {
	p, _ := newTestProcessor(t, createDefaultConfig())
	md := pmetric.NewMetrics()
	tg := inferencePod("pod-d", "wl", "vllm")
	tg.Role = "decode"
	scrape(t, md, tg, []byte(vllmPlain), t0)
	scrape(t, md, gpuExporter(), []byte(`# TYPE DCGM_FI_DEV_GPU_UTIL gauge
DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="GPU-1",modelName="H100",Hostname="n",namespace="llm",pod="pod-d",container="engine"} 80
`), t0)
	out := process(t, p, md)
	found := false
	for i := 0; i < out.ResourceMetrics().Len(); i++ {
		rm := out.ResourceMetrics().At(i)
		if str(rm.Resource().Attributes(), scrapecontract.AttrTargetKind) != scrapecontract.KindGPUExporter {
			continue
		}
		ms := rm.ScopeMetrics().At(0).Metrics()
		for j := 0; j < ms.Len(); j++ {
			if ms.At(j).Name() == "DCGM_FI_DEV_GPU_UTIL" {
				found = true
				assert.Equal(t, "decode", str(ms.At(j).Gauge().DataPoints().At(0).Attributes(), lblRole))
			}
		}
	}
	assert.True(t, found)
}

// TestEngineRoleAfterAFailedScrape: a pod's first scrape failed (no engine metrics, up 0), so
// its engine had nothing to say; the role comes from the next scrape that has them.
func TestEngineRoleAfterAFailedScrape(t *testing.T) {
	p, _ := newTestProcessor(t, createDefaultConfig())
	tg := inferencePod("sg-0", "wl", "sglang")
	failed := pmetric.NewMetrics()
	rm := failed.ResourceMetrics().AppendEmpty()
	tg.PutResource(rm.Resource().Attributes(), tg.url, "")
	scrapecontract.AppendSelfMetrics(rm.ScopeMetrics().AppendEmpty().Metrics(), pcommon.NewTimestampFromTime(t0), false, 0.01, 0)
	out := process(t, p, failed)
	assert.Equal(t, "both", str(out.ResourceMetrics().At(0).Resource().Attributes(), lblRole), "nothing said yet")

	md := pmetric.NewMetrics()
	scrape(t, md, tg, []byte(fmt.Sprintf(sglangPD, "decode", "decode")), t0.Add(time.Second))
	out = process(t, p, md)
	assert.Equal(t, "decode", str(out.ResourceMetrics().At(0).Resource().Attributes(), lblRole))
}
