package llminferenceprocessor

import (
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otelcol-llminference/otelcol-llminference/tests/fixtures"

	"github.com/otelcol-llminference/otelcol-llminference/components/internal/scrapecontract"
)

// source -> unified, with the constant labels the mapping adds.
type expect struct {
	unified, source string
	set             map[string]string
}

// TestMapRealSamples maps each real engine output and checks every unified series against its
// source series: same type, same values, start times, timestamps, flags and every bucket; labels
// are the source's plus the mapping's constants. Raw names are gone; unmapped unified names are
// absent (nothing invented).
func TestMapRealSamples(t *testing.T) {
	tests := []struct {
		sample, backend string
		want            []expect
		absent          []string
	}{
		{
			sample: fixtures.VLLMMixed, backend: "vllm",
			want: []expect{
				{"llm_inference_requests_running", "vllm:num_requests_running", nil},
				{"llm_inference_requests_waiting", "vllm:num_requests_waiting", nil},
				// The sample exposes both generations: the current name wins.
				{"llm_inference_kv_cache_usage_ratio", "vllm:kv_cache_usage_perc", nil},
				{"llm_inference_prompt_tokens_total", "vllm:prompt_tokens_total", nil},
				{"llm_inference_generation_tokens_total", "vllm:generation_tokens_total", nil},
				{"llm_inference_prefix_cache_queries_total", "vllm:prefix_cache_queries_total", nil},
				{"llm_inference_prefix_cache_hits_total", "vllm:prefix_cache_hits_total", nil},
				{"llm_inference_requests_total", "vllm:request_success_total", nil},
				{"llm_inference_time_to_first_token_seconds", "vllm:time_to_first_token_seconds", nil},
				{"llm_inference_inter_token_latency_seconds", "vllm:inter_token_latency_seconds", nil},
				{"llm_inference_e2e_request_latency_seconds", "vllm:e2e_request_latency_seconds", nil},
				{"llm_inference_request_queue_time_seconds", "vllm:request_queue_time_seconds", nil},
				{"llm_inference_request_prompt_tokens", "vllm:request_prompt_tokens", nil},
				{"llm_inference_request_generation_tokens", "vllm:request_generation_tokens", nil},
				{"llm_inference_preemptions_total", "vllm:num_preemptions_total", nil},
			},
			absent: []string{"llm_inference_lora_adapter_info"},
		},
		{
			sample: fixtures.SGLang04, backend: "sglang",
			want: []expect{
				{"llm_inference_requests_running", "sglang:num_running_reqs", nil},
				{"llm_inference_requests_waiting", "sglang:num_queue_reqs", nil},
				{"llm_inference_kv_cache_usage_ratio", "sglang:token_usage", nil},
				{"llm_inference_prompt_tokens_total", "sglang:prompt_tokens_total", nil},
				{"llm_inference_prefix_cache_queries_total", "sglang:prompt_tokens_total", nil},
				{"llm_inference_generation_tokens_total", "sglang:generation_tokens_total", nil},
				{"llm_inference_time_to_first_token_seconds", "sglang:time_to_first_token_seconds", nil},
				{"llm_inference_inter_token_latency_seconds", "sglang:time_per_output_token_seconds", nil},
				{"llm_inference_e2e_request_latency_seconds", "sglang:e2e_request_latency_seconds", nil},
			},
			// 0.4 has no finished-request counter, no queue-time histogram, no cached tokens.
			absent: []string{"llm_inference_requests_total", "llm_inference_request_queue_time_seconds", "llm_inference_prefix_cache_hits_total", "llm_inference_preemptions_total"},
		},
		{
			sample: fixtures.SGLang0510, backend: "sglang",
			want: []expect{
				{"llm_inference_requests_running", "sglang:num_running_reqs", nil},
				{"llm_inference_requests_waiting", "sglang:num_queue_reqs", nil},
				{"llm_inference_kv_cache_usage_ratio", "sglang:token_usage", nil},
				{"llm_inference_prompt_tokens_total", "sglang:prompt_tokens_total", nil},
				{"llm_inference_prefix_cache_queries_total", "sglang:prompt_tokens_total", nil},
				{"llm_inference_prefix_cache_hits_total", "sglang:cached_tokens_total", nil},
				{"llm_inference_generation_tokens_total", "sglang:generation_tokens_total", nil},
				{"llm_inference_requests_total", "sglang:num_requests_total", map[string]string{"finished_reason": "unknown"}},
				{"llm_inference_time_to_first_token_seconds", "sglang:time_to_first_token_seconds", nil},
				{"llm_inference_inter_token_latency_seconds", "sglang:inter_token_latency_seconds", nil},
				{"llm_inference_e2e_request_latency_seconds", "sglang:e2e_request_latency_seconds", nil},
				{"llm_inference_request_queue_time_seconds", "sglang:queue_time_seconds", nil},
				{"llm_inference_request_prompt_tokens", "sglang:prompt_tokens_histogram", nil},
				{"llm_inference_request_generation_tokens", "sglang:generation_tokens_histogram", nil},
			},
			absent: []string{"llm_inference_preemptions_total"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.sample, func(t *testing.T) {
			p, _ := newTestProcessor(t, createDefaultConfig())
			md := pmetric.NewMetrics()
			scrape(t, md, inferencePod("pod-0", "wl", tt.backend), fixtures.Sample(tt.sample), t0)
			pristine := pmetric.NewMetrics()
			md.CopyTo(pristine)
			out := process(t, p, md)

			src := metricsOf(pristine, "pod-0")
			got := metricsOf(out, "pod-0")
			for _, e := range tt.want {
				s, ok := src[e.source]
				require.Truef(t, ok, "sample has %s", e.source)
				u, ok := got[e.unified]
				require.Truef(t, ok, "unified %s present", e.unified)
				assertSameSeries(t, s, u, e.set)
			}
			for _, name := range tt.absent {
				assert.NotContains(t, got, name, "no source, nothing invented")
			}
			for name := range got {
				assert.Truef(t, strings.HasPrefix(name, "llm_inference_"), "raw %s forwarded without keep_original_metrics", name)
			}
			assert.Contains(t, got, scrapecontract.MetricUp, "the receiver's self-metrics are kept")

			res := out.ResourceMetrics().At(0).Resource().Attributes()
			for k, v := range map[string]string{"namespace": "llm", "pod": "pod-0", "node": "gpu-node-1", "workload_name": "wl", "backend": tt.backend} {
				assert.Equal(t, v, str(res, k), k)
			}
			upAttrs := got[scrapecontract.MetricUp].Gauge().DataPoints().At(0).Attributes()
			assert.NotEmpty(t, str(upAttrs, "model_name"), "self-metrics carry the pod's model")
		})
	}
}

// assertSameSeries checks that unified metric u holds exactly the data points of source s, with
// labels extended by set.
func assertSameSeries(t *testing.T, s, u pmetric.Metric, set map[string]string) {
	t.Helper()
	require.Equal(t, s.Type(), u.Type(), u.Name())
	key := func(a pcommon.Map, extra map[string]string) string {
		raw := a.AsRaw()
		for k, v := range extra {
			raw[k] = v
		}
		var parts []string
		for k, v := range raw {
			parts = append(parts, k+"="+v.(string))
		}
		sort.Strings(parts)
		return strings.Join(parts, ",")
	}
	switch s.Type() {
	case pmetric.MetricTypeGauge, pmetric.MetricTypeSum:
		sd, ud := numberPoints(s), numberPoints(u)
		byKey := map[string]pmetric.NumberDataPoint{}
		for i := 0; i < ud.Len(); i++ {
			byKey[key(ud.At(i).Attributes(), nil)] = ud.At(i)
		}
		matched := 0
		for i := 0; i < sd.Len(); i++ {
			k := key(sd.At(i).Attributes(), set)
			dp, ok := byKey[k]
			if !assert.Truef(t, ok, "%s{%s} mapped", u.Name(), k) {
				continue
			}
			matched++
			assert.Equal(t, sd.At(i).DoubleValue(), dp.DoubleValue(), u.Name())
			assert.Equal(t, sd.At(i).StartTimestamp(), dp.StartTimestamp(), u.Name())
			assert.Equal(t, sd.At(i).Timestamp(), dp.Timestamp(), u.Name())
			assert.Equal(t, sd.At(i).Flags(), dp.Flags(), u.Name())
		}
		if set == nil {
			assert.Equal(t, sd.Len(), ud.Len(), "%s: no extra series", u.Name())
		}
		assert.Equal(t, sd.Len(), matched)
		if s.Type() == pmetric.MetricTypeSum {
			assert.Equal(t, s.Sum().IsMonotonic(), u.Sum().IsMonotonic())
			assert.Equal(t, s.Sum().AggregationTemporality(), u.Sum().AggregationTemporality())
		}
	case pmetric.MetricTypeHistogram:
		sd, ud := s.Histogram().DataPoints(), u.Histogram().DataPoints()
		require.Equal(t, sd.Len(), ud.Len(), u.Name())
		for i := 0; i < sd.Len(); i++ {
			a, b := sd.At(i), ud.At(i)
			assert.Equal(t, key(a.Attributes(), set), key(b.Attributes(), nil))
			assert.Equal(t, a.ExplicitBounds().AsRaw(), b.ExplicitBounds().AsRaw(), "%s bounds", u.Name())
			assert.Equal(t, a.BucketCounts().AsRaw(), b.BucketCounts().AsRaw(), "%s buckets", u.Name())
			assert.Equal(t, a.Count(), b.Count())
			assert.Equal(t, a.Sum(), b.Sum())
			assert.Equal(t, a.StartTimestamp(), b.StartTimestamp())
			assert.Equal(t, a.Timestamp(), b.Timestamp())
		}
	default:
		t.Fatalf("unexpected type %s", s.Type())
	}
}

func numberPoints(m pmetric.Metric) pmetric.NumberDataPointSlice {
	if m.Type() == pmetric.MetricTypeSum {
		return m.Sum().DataPoints()
	}
	return m.Gauge().DataPoints()
}

func TestSGLangRequestCountersMerge(t *testing.T) {
	body := "# TYPE sglang:num_requests_total counter\nsglang:num_requests_total{model_name=\"m\"} 10\n" +
		"# TYPE sglang:num_aborted_requests_total counter\nsglang:num_aborted_requests_total{model_name=\"m\"} 2\n"
	p, _ := newTestProcessor(t, createDefaultConfig())
	md := pmetric.NewMetrics()
	scrape(t, md, inferencePod("s-0", "wl", "sglang"), []byte(body), t0)
	got := metricsOf(process(t, p, md), "s-0")
	m := got["llm_inference_requests_total"]
	require.Equal(t, 2, m.Sum().DataPoints().Len(), "one metric, both series")
	byReason := map[string]float64{}
	for i := 0; i < 2; i++ {
		dp := m.Sum().DataPoints().At(i)
		byReason[str(dp.Attributes(), "finished_reason")] = dp.DoubleValue()
	}
	assert.Equal(t, map[string]float64{"unknown": 10, "abort": 2}, byReason)
}

func TestBackendResolution(t *testing.T) {
	vllm := []byte("# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running{engine=\"0\",model_name=\"m\"} 3\n")
	tests := []struct {
		name, backend string
		body          []byte
		want, notWant string
	}{
		{"prefill/decode alias", "vllm-pd", vllm, "llm_inference_requests_running", "vllm:num_requests_running"},
		{"missing backend label: detected by names", "unknown", vllm, "llm_inference_requests_running", "vllm:num_requests_running"},
		{"unknown engine passes through unchanged", "mlc-llm", []byte("# TYPE mlc_num_requests_running gauge\nmlc_num_requests_running{model_name=\"m\"} 2\n"), "mlc_num_requests_running", "llm_inference_requests_running"},
		{"trtllm-serve is known now", "trtllm", []byte("# TYPE trtllm_num_requests_running gauge\ntrtllm_num_requests_running{model_name=\"m\"} 2\n"), "llm_inference_requests_running", "trtllm_num_requests_running"},
		{"NIM by its label", "nim", []byte("# TYPE num_requests_running gauge\nnum_requests_running{model_name=\"m\"} 2\n"), "llm_inference_requests_running", "num_requests_running"},
		{"NIM's generic names are never guessed", "unknown", []byte("# TYPE num_requests_running gauge\nnum_requests_running{model_name=\"m\"} 2\n"), "num_requests_running", "llm_inference_requests_running"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := newTestProcessor(t, createDefaultConfig())
			md := pmetric.NewMetrics()
			scrape(t, md, inferencePod("p-0", "wl", tt.backend), tt.body, t0)
			out := process(t, p, md)
			got := metricsOf(out, "p-0")
			assert.Contains(t, got, tt.want)
			assert.NotContains(t, got, tt.notWant)
			res := out.ResourceMetrics().At(0).Resource().Attributes()
			assert.Equal(t, tt.backend, str(res, "backend"))
			assert.Equal(t, "p-0", str(res, "pod"), "common labels added in every case")
		})
	}
}

func TestKeepOriginalMetrics(t *testing.T) {
	cfg := createDefaultConfig()
	cfg.KeepOriginalMetrics = true
	p, _ := newTestProcessor(t, cfg)
	md := pmetric.NewMetrics()
	scrape(t, md, inferencePod("p-0", "wl", "vllm"), fixtures.Sample(fixtures.VLLMMixed), t0)
	got := metricsOf(process(t, p, md), "p-0")
	for _, n := range []string{"vllm:num_requests_running", "llm_inference_requests_running", "vllm:gpu_cache_usage_perc", "vllm:kv_cache_usage_perc", "llm_inference_kv_cache_usage_ratio", "python_gc_objects_collected_total"} {
		assert.Contains(t, got, n)
	}
	assert.Equal(t, 1, got["llm_inference_kv_cache_usage_ratio"].Gauge().DataPoints().Len())
}

// TestOldGenerationAlone: a v0.8-era pod (old names only) maps its old names.
func TestOldGenerationAlone(t *testing.T) {
	body := "# TYPE vllm:gpu_cache_usage_perc gauge\nvllm:gpu_cache_usage_perc{engine=\"0\",model_name=\"m\"} 0.5\n" +
		"# TYPE vllm:gpu_prefix_cache_hits_total counter\nvllm:gpu_prefix_cache_hits_total{engine=\"0\",model_name=\"m\"} 7\n"
	p, _ := newTestProcessor(t, createDefaultConfig())
	md := pmetric.NewMetrics()
	scrape(t, md, inferencePod("old-0", "wl", "vllm"), []byte(body), t0)
	got := metricsOf(process(t, p, md), "old-0")
	require.Contains(t, got, "llm_inference_kv_cache_usage_ratio")
	assert.Equal(t, 0.5, got["llm_inference_kv_cache_usage_ratio"].Gauge().DataPoints().At(0).DoubleValue())
	assert.Equal(t, 7.0, got["llm_inference_prefix_cache_hits_total"].Sum().DataPoints().At(0).DoubleValue())
}

// TestStaleMarkersFlow: a stale marker from the receiver keeps its flag under the unified name,
// and two pods of one workload stay two series.
func TestStaleMarkersAndPodsApart(t *testing.T) {
	body := []byte("# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running{engine=\"0\",model_name=\"m\"} 3\n")
	p, _ := newTestProcessor(t, createDefaultConfig())
	md := pmetric.NewMetrics()
	scrape(t, md, inferencePod("a-0", "wl", "vllm"), body, t0)
	rm := scrape(t, md, inferencePod("a-1", "wl", "vllm"), body, t0)
	dp := rm.ScopeMetrics().At(0).Metrics().At(0).Gauge().DataPoints().At(0)
	dp.SetFlags(pmetric.DefaultDataPointFlags.WithNoRecordedValue(true))
	out := process(t, p, md)
	require.Equal(t, 2, out.ResourceMetrics().Len())
	a0 := metricsOf(out, "a-0")["llm_inference_requests_running"].Gauge().DataPoints().At(0)
	a1 := metricsOf(out, "a-1")["llm_inference_requests_running"].Gauge().DataPoints().At(0)
	assert.False(t, a0.Flags().NoRecordedValue())
	assert.True(t, a1.Flags().NoRecordedValue(), "stale marker flows under the unified name")
	assert.Equal(t, "a-0", str(out.ResourceMetrics().At(0).Resource().Attributes(), "pod"))
	assert.Equal(t, "a-1", str(out.ResourceMetrics().At(1).Resource().Attributes(), "pod"))
}

func TestLoRAInfo(t *testing.T) {
	info := func(running, waiting string, ts float64) string {
		return "# TYPE vllm:lora_requests_info gauge\nvllm:lora_requests_info{max_lora=\"4\",running_lora_adapters=\"" + running + "\",waiting_lora_adapters=\"" + waiting + "\"} " + pcommon.NewValueDouble(ts).AsString() + "\n" +
			"# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running{engine=\"0\",model_name=\"base\"} 1\n"
	}
	p, _ := newTestProcessor(t, createDefaultConfig())
	lora := func(body string, ts time.Time) map[string]string {
		md := pmetric.NewMetrics()
		scrape(t, md, inferencePod("l-0", "wl", "vllm"), []byte(body), ts)
		m := metricsOf(process(t, p, md), "l-0")["llm_inference_lora_adapter_info"]
		out := map[string]string{}
		for i := 0; i < m.Gauge().DataPoints().Len(); i++ {
			dp := m.Gauge().DataPoints().At(i)
			a := dp.Attributes()
			assert.Equal(t, "base", str(a, "model_name"))
			v := "1"
			if dp.Flags().NoRecordedValue() {
				v = "stale"
			} else {
				assert.Equal(t, 1.0, dp.DoubleValue())
			}
			out[str(a, "adapter")+"/"+str(a, "state")] = v
		}
		return out
	}
	assert.Equal(t, map[string]string{"sql/running": "1", "chat/running": "1", "sql/waiting": "1"}, lora(info("sql,chat", "sql", 1.7e9), t0))
	assert.Equal(t, map[string]string{"sql/running": "1", "chat/running": "stale", "sql/waiting": "stale"}, lora(info("sql", "", 1.7e9+15), t0.Add(15*time.Second)))
}

func TestConfig(t *testing.T) {
	cfg := createDefaultConfig()
	assert.NoError(t, cfg.Validate())
	assert.Equal(t, GPUConfig{Join: true, KeepUnassignedGPUs: false, TTL: 5 * time.Minute}, cfg.GPU)
	assert.False(t, cfg.KeepOriginalMetrics)

	assert.Equal(t, SchemaPrometheus, cfg.Schema)
	cfg.Schema = "otel"
	assert.ErrorContains(t, cfg.Validate(), `schema: must be "prometheus" or "opentelemetry", got "otel"`)
	cfg.Schema = SchemaOpenTelemetry
	assert.NoError(t, cfg.Validate())

	cfg.GPU.TTL = 0
	assert.ErrorContains(t, cfg.Validate(), "gpu.ttl: must be positive")
	cfg = createDefaultConfig()
	cfg.ExtraMappings = append(cfg.ExtraMappings, mappingTable("trtllm", "trtllm_num_requests_running", "requests_running", "gauge"))
	assert.ErrorContains(t, cfg.Validate(), "extra_mappings[0]: metrics[0].unified: \"requests_running\" must be a metric name starting with llm_inference_")
	cfg.ExtraMappings[0] = mappingTable("trtllm", "trtllm_num_requests_running", "llm_inference_requests_running", "meter")
	assert.ErrorContains(t, cfg.Validate(), "extra_mappings[0]: metrics[0].type: \"meter\" must be gauge, counter, histogram or summary")
}
