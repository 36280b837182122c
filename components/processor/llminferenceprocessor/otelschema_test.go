package llminferenceprocessor

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otelcol-llminference/otelcol-llminference/components/internal/scrapecontract"
	"github.com/otelcol-llminference/otelcol-llminference/components/processor/llminferenceprocessor/mapping"
	"github.com/otelcol-llminference/otelcol-llminference/components/processor/llminferenceprocessor/otelschema"
	"github.com/otelcol-llminference/otelcol-llminference/tests/fixtures"
)

// twoSchemas runs the same scrapes (one inference pod of backend, and dcgm-exporter with the
// pod on GPU 0) through a processor of each schema.
func twoSchemas(t *testing.T, sample, backend string) (prom, otel pmetric.Metrics) {
	run := func(schema string) pmetric.Metrics {
		cfg := createDefaultConfig()
		cfg.Schema = schema
		p, _ := newTestProcessor(t, cfg)
		md := pmetric.NewMetrics()
		scrape(t, md, inferencePod("pod-0", "wl", backend), fixtures.Sample(sample), t0)
		scrape(t, md, gpuExporter(), dcgmBody(gpuRow{index: 0, namespace: "llm", pod: "pod-0"}, gpuRow{index: 1, namespace: "llm", pod: "other"}), t0)
		return process(t, p, md)
	}
	return run(SchemaPrometheus), run(SchemaOpenTelemetry)
}

// otelPoint is one data otelPoint reduced to what both schemas must agree on.
type otelPoint struct {
	attrs  map[string]string
	value  float64
	start  pcommon.Timestamp
	ts     pcommon.Timestamp
	counts []uint64
	bounds []float64
}

func otelPointsOf(m pmetric.Metric) []otelPoint {
	var out []otelPoint
	attrs := func(a pcommon.Map) map[string]string {
		r := map[string]string{}
		a.Range(func(k string, v pcommon.Value) bool { r[k] = v.AsString(); return true })
		return r
	}
	num := func(dps pmetric.NumberDataPointSlice) {
		for i := 0; i < dps.Len(); i++ {
			dp := dps.At(i)
			v := dp.DoubleValue()
			if dp.ValueType() == pmetric.NumberDataPointValueTypeInt {
				v = float64(dp.IntValue())
			}
			out = append(out, otelPoint{attrs: attrs(dp.Attributes()), value: v, start: dp.StartTimestamp(), ts: dp.Timestamp()})
		}
	}
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		num(m.Gauge().DataPoints())
	case pmetric.MetricTypeSum:
		num(m.Sum().DataPoints())
	case pmetric.MetricTypeHistogram:
		for i := 0; i < m.Histogram().DataPoints().Len(); i++ {
			dp := m.Histogram().DataPoints().At(i)
			out = append(out, otelPoint{attrs: attrs(dp.Attributes()), value: dp.Sum(), start: dp.StartTimestamp(), ts: dp.Timestamp(),
				counts: dp.BucketCounts().AsRaw(), bounds: dp.ExplicitBounds().AsRaw()})
		}
	}
	sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i].attrs) < fmt.Sprint(out[j].attrs) })
	return out
}

func renamed(attrs map[string]string, rs ...map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range attrs {
		for _, r := range rs {
			if n, ok := r[k]; ok {
				k = n
				break
			}
		}
		out[k] = v
	}
	return out
}

// TestOpenTelemetrySchema checks, for every engine sample, that schema: opentelemetry publishes
// every unified series of schema: prometheus under its OpenTelemetry name, unit and instrument,
// with the same points (values, start times, buckets) and translated attributes; and the joined
// dcgm series under the hardware conventions, scaled to their units.
func TestOpenTelemetrySchema(t *testing.T) {
	for _, tt := range []struct{ sample, backend string }{
		{fixtures.VLLMMixed, "vllm"}, {fixtures.SGLang04, "sglang"}, {fixtures.SGLang0510, "sglang"},
		{fixtures.DynamoFrontend, "dynamo"}, {fixtures.DynamoTRTLLMWorker, "dynamo"}, {fixtures.TGI, "tgi"},
		{fixtures.TritonTRTLLM, "triton"}, {fixtures.LlamaCpp, "llamacpp"}, {fixtures.NIM, "nim"},
	} {
		t.Run(tt.sample, func(t *testing.T) {
			prom, otel := twoSchemas(t, tt.sample, tt.backend)
			pm, om := metricsOf(prom, "pod-0"), metricsOf(otel, "pod-0")
			require.NotEmpty(t, pm)
			assert.Len(t, om, len(pm), "one OpenTelemetry metric per unified metric")
			for name, m := range pm {
				want, ok := otelschema.For(tt.backend, name)
				require.True(t, ok, "%s has no OpenTelemetry name", name)
				got, ok := om[want.Name]
				if !assert.True(t, ok, "%s: %s missing", name, want.Name) {
					continue
				}
				assert.Equal(t, want.Unit, got.Unit(), want.Name)
				switch want.Instrument {
				case otelschema.Counter:
					require.Equal(t, pmetric.MetricTypeSum, got.Type(), want.Name)
					assert.True(t, got.Sum().IsMonotonic(), want.Name)
					assert.Equal(t, pmetric.AggregationTemporalityCumulative, got.Sum().AggregationTemporality(), want.Name)
				case otelschema.UpDownCounter:
					require.Equal(t, pmetric.MetricTypeSum, got.Type(), want.Name)
					assert.False(t, got.Sum().IsMonotonic(), want.Name)
				case otelschema.Histogram:
					assert.Equal(t, pmetric.MetricTypeHistogram, got.Type(), want.Name)
				case otelschema.Gauge:
					assert.Equal(t, pmetric.MetricTypeGauge, got.Type(), want.Name)
				}
				pp, op := otelPointsOf(m), otelPointsOf(got)
				require.Len(t, op, len(pp), want.Name)
				for i := range pp {
					pp[i].attrs = renamed(pp[i].attrs, otelschema.CommonAttributes, otelschema.Metrics[name].Attributes)
				}
				sort.Slice(pp, func(i, j int) bool { return fmt.Sprint(pp[i].attrs) < fmt.Sprint(pp[j].attrs) })
				assert.Equal(t, pp, op, want.Name)
				if m.Type() == pmetric.MetricTypeSum || m.Type() == pmetric.MetricTypeHistogram {
					for _, p := range op {
						assert.NotZero(t, p.start, "%s keeps its start time", want.Name)
					}
				}
			}
			for name := range om {
				assert.False(t, strings.HasPrefix(name, "llm_inference_"), "%s left on the Prometheus schema", name)
			}

			res := resourceOf(otel, "pod-0")
			for k, v := range map[string]string{
				"k8s.namespace.name": "llm", "k8s.pod.name": "pod-0", "k8s.node.name": "gpu-node-1",
				"llm_inference.workload.name": "wl", "llm_inference.backend": tt.backend,
			} {
				assert.Equal(t, v, str(res, k), k)
			}
			for _, k := range []string{"namespace", "pod", "node", "workload_name", "backend", "inference_role", "llm.backend"} {
				_, ok := res.Get(k)
				assert.False(t, ok, "resource keeps %s", k)
			}
		})
	}
}

func TestOpenTelemetrySchemaSemanticConventions(t *testing.T) {
	_, otel := twoSchemas(t, fixtures.VLLMMixed, "vllm")
	om := metricsOf(otel, "pod-0")
	ttft := om["gen_ai.server.time_to_first_token"]
	require.Equal(t, pmetric.MetricTypeHistogram, ttft.Type())
	assert.Equal(t, "s", ttft.Unit())
	model := str(ttft.Histogram().DataPoints().At(0).Attributes(), "gen_ai.request.model")
	assert.NotEmpty(t, model)
	assert.Contains(t, om, "gen_ai.server.request.duration")
	// vLLM's inter-token latency is per token: never the per-request convention, which comes
	// from vllm:request_time_per_output_token_seconds (v0.11+).
	assert.Contains(t, om, "llm_inference.inter_token_latency")
	require.Contains(t, om, "gen_ai.server.time_per_output_token")
	src := histCount(t, fixtures.Sample(fixtures.VLLMMixed), "vllm:request_time_per_output_token_seconds_count")
	assert.Equal(t, src, om["gen_ai.server.time_per_output_token"].Histogram().DataPoints().At(0).Count())

	// TGI's time per token includes prefill: not the convention either.
	cfg := createDefaultConfig()
	cfg.Schema = SchemaOpenTelemetry
	p, _ := newTestProcessor(t, cfg)
	md := pmetric.NewMetrics()
	scrape(t, md, inferencePod("pod-0", "wl", "tgi"), []byte("# TYPE tgi_request_mean_time_per_token_duration histogram\n"+
		"tgi_request_mean_time_per_token_duration_bucket{le=\"0.01\"} 1\ntgi_request_mean_time_per_token_duration_bucket{le=\"+Inf\"} 2\n"+
		"tgi_request_mean_time_per_token_duration_sum 0.03\ntgi_request_mean_time_per_token_duration_count 2\n"), t0)
	tm := metricsOf(process(t, p, md), "pod-0")
	assert.Contains(t, tm, "llm_inference.request.time_per_output_token")
	assert.NotContains(t, tm, "gen_ai.server.time_per_output_token")

	// The joined GPU series: percent to a fraction, mJ to J; the other pod's GPU is not joined.
	gm := metricsOf(otel, "")
	util := gm["hw.gpu.utilization"]
	require.Equal(t, pmetric.MetricTypeGauge, util.Type())
	assert.Equal(t, "1", util.Unit())
	require.Equal(t, 1, util.Gauge().DataPoints().Len())
	dp := util.Gauge().DataPoints().At(0)
	assert.InDelta(t, 0.87, dp.DoubleValue(), 1e-12)
	for k, v := range map[string]string{
		"hw.gpu.task": "general", "hw.id": "GPU-0", "hw.model": "NVIDIA H100 80GB HBM3", "llm_inference.gpu.index": "0",
		"k8s.namespace.name": "llm", "k8s.pod.name": "pod-0", "llm_inference.workload.name": "wl",
		"gen_ai.request.model": model, "llm_inference.role": "both",
	} {
		assert.Equal(t, v, str(dp.Attributes(), k), k)
	}
	energy := gm["hw.energy"]
	require.Equal(t, pmetric.MetricTypeSum, energy.Type())
	assert.True(t, energy.Sum().IsMonotonic())
	assert.Equal(t, "J", energy.Unit())
	assert.InDelta(t, 123456.789, energy.Sum().DataPoints().At(0).DoubleValue(), 1e-6)
	assert.Equal(t, "gpu", str(energy.Sum().DataPoints().At(0).Attributes(), "hw.type"))
	for name := range gm {
		assert.False(t, strings.HasPrefix(name, "DCGM_FI_DEV_GPU_UTIL") || strings.HasPrefix(name, "llm_inference_"), name)
	}
}

// TestOpenTelemetryGPUFields converts every field of the real dcgm-exporter capture (all its
// GPUs kept) and checks each value against the source times the documented scale.
func TestOpenTelemetryGPUFields(t *testing.T) {
	run := func(schema string) map[string]pmetric.Metric {
		cfg := createDefaultConfig()
		cfg.Schema, cfg.GPU.KeepUnassignedGPUs = schema, true
		p, _ := newTestProcessor(t, cfg)
		md := pmetric.NewMetrics()
		scrape(t, md, gpuExporter(), fixtures.Sample(fixtures.DCGMExporter), t0)
		return metricsOf(process(t, p, md), "")
	}
	prom, otel := run(SchemaPrometheus), run(SchemaOpenTelemetry)
	converted := 0
	for name, m := range prom {
		gm, ok := otelschema.GPUMetrics[name]
		if !ok {
			if strings.HasPrefix(name, "DCGM_") {
				assert.Contains(t, otel, name, "a field without a convention keeps its DCGM name")
			}
			continue
		}
		got, ok := otel[gm.Name]
		require.True(t, ok, gm.Name)
		assert.Equal(t, gm.Unit, got.Unit(), gm.Name)
		scale := gm.Scale
		if scale == 0 {
			scale = 1
		}
		want := map[string]float64{}
		for _, p := range otelPointsOf(m) {
			a := renamed(p.attrs, otelschema.GPUAttributes)
			for _, kv := range gm.Set {
				a[kv[0]] = kv[1]
			}
			want[fmt.Sprint(a)] = p.value * scale
		}
		have := map[string]float64{}
		for _, p := range otelPointsOf(got) {
			have[fmt.Sprint(p.attrs)] = p.value
		}
		for k, v := range want {
			h, ok := have[k]
			if assert.True(t, ok, "%s from %s: %s", gm.Name, name, k) {
				assert.LessOrEqual(t, math.Abs(h-v), 1e-9*math.Max(1, math.Abs(v)), "%s from %s", gm.Name, name)
			}
		}
		converted++
	}
	assert.GreaterOrEqual(t, converted, 15, "fields of the capture under a convention or an llm_inference.gpu name")
	assert.Equal(t, 3, otel["hw.gpu.utilization"].Gauge().DataPoints().Len()/len(otelPointsOf(prom["DCGM_FI_DEV_GPU_UTIL"])),
		"general, encoder and decoder utilization in one metric")
}

func resourceOf(md pmetric.Metrics, pod string) pcommon.Map {
	for i := 0; i < md.ResourceMetrics().Len(); i++ {
		a := md.ResourceMetrics().At(i).Resource().Attributes()
		if str(a, "k8s.pod.name") == pod {
			return a
		}
	}
	return pcommon.NewMap()
}

// TestEveryUnifiedMetricHasAnOpenTelemetryName keeps the OpenTelemetry table complete as tables
// gain metrics.
func TestEveryUnifiedMetricHasAnOpenTelemetryName(t *testing.T) {
	tables, err := mapping.Builtin()
	require.NoError(t, err)
	names := map[string]string{}
	for _, tb := range tables {
		for _, m := range tb.Metrics {
			om, ok := otelschema.Metrics[m.Unified]
			if assert.True(t, ok, "%s (table %s) has no OpenTelemetry name", m.Unified, tb.Backend) {
				names[om.Name] = m.Unified
			}
		}
	}
	for _, n := range []string{scrapecontract.MetricUp, scrapecontract.MetricScrapeDuration, scrapecontract.MetricScrapeSamples, metricPodGPUInfo} {
		assert.Contains(t, otelschema.Metrics, n)
	}
	seen := map[string]string{}
	for unified, om := range otelschema.Metrics {
		assert.NotContains(t, om.Name, "_total", unified)
		if other, dup := seen[om.Name]; dup {
			t.Errorf("%s and %s both become %s", unified, other, om.Name)
		}
		seen[om.Name] = unified
	}
}

// histCount reads a _count sample of an exposition.
func histCount(t *testing.T, body []byte, name string) uint64 {
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, name+"{") || strings.HasPrefix(line, name+" ") {
			f := strings.Fields(line)
			v, err := strconv.ParseFloat(f[len(f)-1], 64)
			require.NoError(t, err)
			return uint64(v)
		}
	}
	t.Fatalf("%s not in the exposition", name)
	return 0
}
