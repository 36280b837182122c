package llminferenceprocessor

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otelcol-llminference/otelcol-llminference/internal/llmsim"
	"github.com/otelcol-llminference/otelcol-llminference/tests/fixtures"

	"github.com/otelcol-llminference/otelcol-llminference/components/internal/scrapecontract"
)

// nodeBatch is what one collector on a busy GPU node receives in one interval: 8 vLLM pods
// (simulated under load for 5 minutes) and a dcgm-exporter with 8 GPUs, as separate scrapes.
func nodeBatch(tb testing.TB) (pmetric.Metrics, int) {
	cfg := llmsim.Config{Seed: 1, Node: "gpu-node-1"}
	for i := 0; i < 8; i++ {
		cfg.Endpoints = append(cfg.Endpoints, llmsim.EndpointSpec{Engine: llmsim.EngineVLLM, Listen: "127.0.0.1:0",
			PodSpec: llmsim.PodSpec{Name: fmt.Sprintf("qwen-%d", i), Namespace: "llm", Workload: "qwen", Model: "Qwen/Qwen3-8B", Rate: 4}})
	}
	cfg.Endpoints = append(cfg.Endpoints, llmsim.EndpointSpec{Engine: llmsim.EngineDCGM, Listen: "127.0.0.1:0"})
	now := t0
	fleet, err := llmsim.New(cfg, func() time.Time { return now })
	require.NoError(tb, err)
	now = now.Add(5 * time.Minute)
	md := pmetric.NewMetrics()
	for _, ep := range fleet.Endpoints {
		tg := gpuExporter()
		if ep.Spec.Engine != llmsim.EngineDCGM {
			tg = inferencePod(ep.Spec.Name, ep.Spec.Workload, "vllm")
		}
		scrape(tb, md, tg, ep.Render(), now)
	}
	return md, md.DataPointCount()
}

// BenchmarkProcess maps a node's batch with warm GPU links (a previous batch was seen):
// "node" is the whole batch, "inference" the 8 pods alone, "gpu" the dcgm-exporter alone.
func BenchmarkProcess(b *testing.B) {
	batch, _ := nodeBatch(b)
	parts := map[string]func(pmetric.ResourceMetrics) bool{
		"node":      func(pmetric.ResourceMetrics) bool { return true },
		"inference": func(rm pmetric.ResourceMetrics) bool { return kind(rm) == scrapecontract.KindInference },
		"gpu":       func(rm pmetric.ResourceMetrics) bool { return kind(rm) == scrapecontract.KindGPUExporter },
	}
	for _, name := range []string{"node", "inference", "gpu"} {
		b.Run(name, func(b *testing.B) {
			p, _ := newTestProcessor(b, createDefaultConfig())
			warm := pmetric.NewMetrics()
			batch.CopyTo(warm)
			process(b, p, warm)
			in := pmetric.NewMetrics()
			for i := 0; i < batch.ResourceMetrics().Len(); i++ {
				if parts[name](batch.ResourceMetrics().At(i)) {
					batch.ResourceMetrics().At(i).CopyTo(in.ResourceMetrics().AppendEmpty())
				}
			}
			benchProcess(b, p, in)
		})
	}
}

// TestMappingDoesNotAllocatePerDataPoint maps a scrape with 10 and with 1,000 series per metric,
// through each schema: the processor's allocations must not grow with the number of data points.
func TestMappingDoesNotAllocatePerDataPoint(t *testing.T) {
	body := func(n int) []byte {
		var b strings.Builder
		b.WriteString("# TYPE vllm:num_requests_running gauge\n")
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "vllm:num_requests_running{engine=\"%d\",model_name=\"m\"} 1\n", i)
		}
		b.WriteString("# TYPE vllm:prompt_tokens_total counter\n")
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "vllm:prompt_tokens_total{engine=\"%d\",model_name=\"m\"} 5\n", i)
		}
		b.WriteString("# TYPE vllm:time_to_first_token_seconds histogram\n")
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "vllm:time_to_first_token_seconds_bucket{engine=\"%d\",le=\"0.1\",model_name=\"m\"} 1\nvllm:time_to_first_token_seconds_bucket{engine=\"%d\",le=\"+Inf\",model_name=\"m\"} 2\nvllm:time_to_first_token_seconds_count{engine=\"%d\",model_name=\"m\"} 2\nvllm:time_to_first_token_seconds_sum{engine=\"%d\",model_name=\"m\"} 0.3\n", i, i, i, i)
		}
		b.WriteString("# TYPE python_gc_objects_collected_total counter\npython_gc_objects_collected_total{generation=\"0\"} 1\n")
		return []byte(b.String())
	}
	for _, schema := range []string{SchemaPrometheus, SchemaOpenTelemetry} {
		t.Run(schema, func(t *testing.T) { mappingAllocs(t, schema, body) })
	}
}

func mappingAllocs(t *testing.T, schema string, body func(int) []byte) {
	allocs := func(n int) float64 {
		src := pmetric.NewMetrics()
		scrape(t, src, inferencePod("p-0", "wl", "vllm"), body(n), t0)
		cfg := createDefaultConfig()
		cfg.Schema = schema
		p, _ := newTestProcessor(t, cfg)
		copyOnly := testing.AllocsPerRun(20, func() { src.CopyTo(pmetric.NewMetrics()) })
		both := testing.AllocsPerRun(20, func() {
			md := pmetric.NewMetrics()
			src.CopyTo(md)
			_, _ = p.processMetrics(t.Context(), md)
		})
		return both - copyOnly
	}
	small, large := allocs(10), allocs(1000)
	t.Logf("processor allocations per scrape: %.0f with 10 series per metric, %.0f with 1000", small, large)
	require.InDelta(t, small, large, 5, "allocations grow with data points")
}

// BenchmarkProcessEngine maps one scrape of each engine's real capture (warm: the pod was seen
// before), with the cost per data point of the scrape.
func BenchmarkProcessEngine(b *testing.B) {
	for _, e := range []struct{ name, sample, backend string }{
		{"vllm", fixtures.VLLMMixed, "vllm"},
		{"sglang", fixtures.SGLang0510, "sglang"},
		{"dynamo-frontend", fixtures.DynamoFrontend, "dynamo"},
		{"dynamo-trtllm-worker", fixtures.DynamoTRTLLMWorker, "dynamo"},
		{"tgi", fixtures.TGI, "tgi"},
		{"triton", fixtures.TritonTRTLLM, "triton"},
		{"llamacpp", fixtures.LlamaCpp, "llamacpp"},
		{"nim", fixtures.NIM, "nim"},
	} {
		b.Run(e.name, func(b *testing.B) {
			in := pmetric.NewMetrics()
			scrape(b, in, inferencePod("p-0", "wl", e.backend), fixtures.Sample(e.sample), t0)
			p, _ := newTestProcessor(b, createDefaultConfig())
			warm := pmetric.NewMetrics()
			in.CopyTo(warm)
			process(b, p, warm)
			benchProcess(b, p, in)
		})
	}
}

// benchProcess times processing copies of in, per data point.
func benchProcess(b *testing.B, p *llmProcessor, in pmetric.Metrics) {
	points := in.DataPointCount()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		md := pmetric.NewMetrics()
		in.CopyTo(md)
		b.StartTimer()
		if _, err := p.processMetrics(b.Context(), md); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(points), "ns/datapoint")
	b.ReportMetric(float64(points), "datapoints/op")
}

// BenchmarkProcessSchema is one node's scrape (a vLLM and an SGLang pod, each on a GPU, and
// dcgm-exporter) through each schema: what schema: opentelemetry costs on top.
func BenchmarkProcessSchema(b *testing.B) {
	for _, schema := range []string{SchemaPrometheus, SchemaOpenTelemetry} {
		b.Run(schema, func(b *testing.B) {
			in := pmetric.NewMetrics()
			scrape(b, in, inferencePod("p-0", "wl", "vllm"), fixtures.Sample(fixtures.VLLMMixed), t0)
			scrape(b, in, inferencePod("p-1", "wl2", "sglang"), fixtures.Sample(fixtures.SGLang0510), t0)
			scrape(b, in, gpuExporter(), dcgmBody(gpuRow{index: 0, namespace: "llm", pod: "p-0"}, gpuRow{index: 1, namespace: "llm", pod: "p-1"}), t0)
			cfg := createDefaultConfig()
			cfg.Schema = schema
			p, _ := newTestProcessor(b, cfg)
			warm := pmetric.NewMetrics()
			in.CopyTo(warm)
			process(b, p, warm)
			benchProcess(b, p, in)
		})
	}
}
