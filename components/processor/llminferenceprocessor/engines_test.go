package llminferenceprocessor

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otelcol-llminference/otelcol-llminference/tests/fixtures"
)

// point is one expected unified series: its exact labels (the pod identity is on the resource)
// and its value; for a histogram, its count, sum and first bounds.
type point struct {
	metric string
	labels map[string]string
	value  float64
	// histograms
	count  uint64
	bounds []float64 // a prefix of the bucket bounds
}

func num(metric string, value float64, labels ...string) point {
	return point{metric: metric, labels: kv(labels...), value: value}
}

func hist(metric string, count uint64, sum float64, bounds []float64, labels ...string) point {
	return point{metric: metric, labels: kv(labels...), value: sum, count: count, bounds: bounds}
}

func kv(pairs ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(pairs); i += 2 {
		m[pairs[i]] = pairs[i+1]
	}
	return m
}

func labelString(m map[string]string) string {
	var parts []string
	for k, v := range m {
		parts = append(parts, k+"="+v)
	}
	sort.Strings(parts)
	return "{" + strings.Join(parts, ",") + "}"
}

// series returns the unified series of a processed scrape: metric name and exact labels -> the
// data point's value (a histogram's sum), count and bounds.
func series(t *testing.T, ms map[string]pmetric.Metric) map[string]point {
	out := map[string]point{}
	add := func(m pmetric.Metric, a pcommon.Map, p point) {
		p.metric, p.labels = m.Name(), map[string]string{}
		for k, v := range a.AsRaw() {
			p.labels[k] = fmt.Sprint(v)
		}
		key := m.Name() + labelString(p.labels)
		_, dup := out[key]
		require.False(t, dup, "series %s twice", key)
		out[key] = p
	}
	for _, m := range ms {
		switch m.Type() {
		case pmetric.MetricTypeGauge, pmetric.MetricTypeSum:
			dps := numberPoints(m)
			for i := 0; i < dps.Len(); i++ {
				v := dps.At(i).DoubleValue()
				if dps.At(i).ValueType() == pmetric.NumberDataPointValueTypeInt {
					v = float64(dps.At(i).IntValue())
				}
				add(m, dps.At(i).Attributes(), point{value: v})
			}
		case pmetric.MetricTypeHistogram:
			dps := m.Histogram().DataPoints()
			for i := 0; i < dps.Len(); i++ {
				dp := dps.At(i)
				add(m, dp.Attributes(), point{value: dp.Sum(), count: dp.Count(), bounds: dp.ExplicitBounds().AsRaw()})
			}
		}
	}
	return out
}

// TestMapNewEngineSamples maps the real captures of every engine beyond vLLM and SGLang and
// checks series against values read off the captures by hand: units converted (the expected
// values are the capture's, converted here), labels renamed, selected and set, token totals
// taken from histogram sums, the model named once per model.
func TestMapNewEngineSamples(t *testing.T) {
	const qwen = "Qwen/Qwen3-0.6B"
	tests := []struct {
		sample, backend string
		want            []point
		// every unified metric of the scrape (besides the receiver's self-metrics)
		metrics []string
	}{
		{
			sample: fixtures.DynamoFrontend, backend: "dynamo",
			want: []point{
				// Lower-cased in request metrics, capitalised in the config gauges: one spelling.
				num("llm_inference_requests_in_flight", 0, "model_name", qwen),
				num("llm_inference_prompt_tokens_total", 33, "model_name", qwen),
				num("llm_inference_generation_tokens_total", 300, "model_name", qwen),
				num("llm_inference_requests_total", 1, "model_name", qwen, "finished_reason", "unknown", "status", "success",
					"endpoint", "chat_completions", "request_type", "unary"),
				hist("llm_inference_time_to_first_token_seconds", 1, 1.5625701570000001, []float64{0, 0.0022, 0.0047}, "model_name", qwen),
				hist("llm_inference_inter_token_latency_seconds", 299, 0.6126917290000005, []float64{0}, "model_name", qwen),
				hist("llm_inference_e2e_request_latency_seconds", 1, 2.177646729, nil, "model_name", qwen),
				hist("llm_inference_request_prompt_tokens", 1, 33, []float64{0}, "model_name", qwen),
				hist("llm_inference_request_generation_tokens", 1, 300, []float64{0}, "model_name", qwen),
				// The frontend is the workload's router: its view of the request, once.
				num("llm_inference_router_requests_total", 1, "model_name", qwen, "status", "success", "endpoint", "chat_completions", "request_type", "unary"),
				hist("llm_inference_router_request_duration_seconds", 1, 2.177646729, nil, "model_name", qwen),
			},
			metrics: []string{"llm_inference_requests_in_flight", "llm_inference_prompt_tokens_total", "llm_inference_generation_tokens_total",
				"llm_inference_requests_total", "llm_inference_time_to_first_token_seconds", "llm_inference_inter_token_latency_seconds",
				"llm_inference_e2e_request_latency_seconds", "llm_inference_request_prompt_tokens", "llm_inference_request_generation_tokens",
				"llm_inference_router_requests_total", "llm_inference_router_request_duration_seconds"},
		},
		{
			sample: fixtures.DynamoTRTLLMWorker, backend: "dynamo",
			want: []point{
				num("llm_inference_requests_total", 2, "model_name", qwen, "finished_reason", "length", "engine_type", "trtllm"),
				hist("llm_inference_time_to_first_token_seconds", 2, 0.06795299984514713, nil, "model_name", qwen, "engine_type", "trtllm"),
				hist("llm_inference_request_time_per_output_token_seconds", 2, 0.005558789299682629, nil, "model_name", qwen, "engine_type", "trtllm"),
				hist("llm_inference_e2e_request_latency_seconds", 2, 1.7300310004502535, nil, "model_name", qwen, "engine_type", "trtllm"),
				hist("llm_inference_request_queue_time_seconds", 2, 0.01181500032544136, nil, "model_name", qwen, "engine_type", "trtllm"),
				// TRT-LLM 1.1 has no KV gauge: the worker's own, with the pod's model.
				num("llm_inference_kv_cache_usage_ratio", 0, "model_name", qwen, "dynamo_component", "tensorrt_llm", "dynamo_namespace", "dynamo"),
			},
			metrics: []string{"llm_inference_requests_total", "llm_inference_time_to_first_token_seconds", "llm_inference_request_time_per_output_token_seconds",
				"llm_inference_e2e_request_latency_seconds", "llm_inference_request_queue_time_seconds", "llm_inference_kv_cache_usage_ratio"},
		},
		{
			sample: fixtures.TGI, backend: "tgi",
			want: []point{
				// No model label: the workload's name.
				num("llm_inference_requests_running", 0, "model_name", "wl"),
				num("llm_inference_requests_waiting", 0, "model_name", "wl"),
				num("llm_inference_prompt_tokens_total", 662, "model_name", "wl"),
				num("llm_inference_requests_total", 109, "model_name", "wl", "finished_reason", "unknown"),
				num("llm_inference_requests_total", 2, "model_name", "wl", "finished_reason", "error", "error_type", "validation"),
				hist("llm_inference_request_prompt_tokens", 109, 662, nil, "model_name", "wl"),
				hist("llm_inference_request_queue_time_seconds", 109, 295.275961956, nil, "model_name", "wl"),
				hist("llm_inference_e2e_request_latency_seconds", 109, 541.2140316159999, []float64{0.00015000000000000001, 0.00022500000000000002, 0.0003375}, "model_name", "wl"),
			},
			metrics: []string{"llm_inference_requests_running", "llm_inference_requests_waiting", "llm_inference_prompt_tokens_total",
				"llm_inference_requests_total", "llm_inference_request_prompt_tokens", "llm_inference_e2e_request_latency_seconds",
				"llm_inference_request_queue_time_seconds"},
		},
		{
			sample: fixtures.TritonTRTLLM, backend: "triton",
			want: []point{
				// The concept is selected by request_type, which goes; Triton's model label goes too.
				num("llm_inference_requests_running", 1, "model_name", "wl", "version", "1"),
				num("llm_inference_requests_waiting", 1, "model_name", "wl", "version", "1"),
				num("llm_inference_kv_cache_usage_ratio", 0.4875, "model_name", "wl", "version", "1"),
				num("llm_inference_requests_total", 0, "model_name", "wl", "version", "1", "finished_reason", "unknown"),
				num("llm_inference_requests_total", 0, "model_name", "wl", "version", "1", "finished_reason", "error"),
				num("llm_inference_e2e_request_latency_seconds_total", 0, "model_name", "wl", "version", "1"),
				num("llm_inference_request_queue_time_seconds_total", 0, "model_name", "wl", "version", "1"),
			},
			metrics: []string{"llm_inference_requests_running", "llm_inference_requests_waiting", "llm_inference_kv_cache_usage_ratio",
				"llm_inference_requests_total", "llm_inference_e2e_request_latency_seconds_total", "llm_inference_request_queue_time_seconds_total"},
		},
		{
			sample: fixtures.LlamaCpp, backend: "llamacpp",
			want: []point{
				num("llm_inference_requests_running", 0, "model_name", "wl"),
				num("llm_inference_requests_waiting", 0, "model_name", "wl"),
				num("llm_inference_prompt_tokens_total", 479209, "model_name", "wl"),
				num("llm_inference_generation_tokens_total", 123063, "model_name", "wl"),
				num("llm_inference_prefill_time_seconds_total", 145.713, "model_name", "wl"),
				num("llm_inference_decode_time_seconds_total", 683.744, "model_name", "wl"),
			},
			metrics: []string{"llm_inference_requests_running", "llm_inference_requests_waiting", "llm_inference_prompt_tokens_total",
				"llm_inference_generation_tokens_total", "llm_inference_prefill_time_seconds_total", "llm_inference_decode_time_seconds_total"},
		},
		{
			sample: fixtures.NIM, backend: "nim",
			want: []point{
				num("llm_inference_requests_running", 1, "model_name", "meta/llama-3.1-8b-instruct"),
				num("llm_inference_kv_cache_usage_ratio", 0.0002848191398461977, "model_name", "meta/llama-3.1-8b-instruct"),
				num("llm_inference_prompt_tokens_total", 109, "model_name", "meta/llama-3.1-8b-instruct"),
				num("llm_inference_requests_total", 5, "model_name", "meta/llama-3.1-8b-instruct", "finished_reason", "length"),
				num("llm_inference_requests_total", 0, "model_name", "meta/llama-3.1-8b-instruct", "finished_reason", "error"),
				hist("llm_inference_inter_token_latency_seconds", 169, 1.856855869293213, nil, "model_name", "meta/llama-3.1-8b-instruct"),
			},
			metrics: []string{"llm_inference_requests_running", "llm_inference_requests_waiting", "llm_inference_kv_cache_usage_ratio",
				"llm_inference_prompt_tokens_total", "llm_inference_generation_tokens_total", "llm_inference_requests_total",
				"llm_inference_time_to_first_token_seconds", "llm_inference_inter_token_latency_seconds", "llm_inference_e2e_request_latency_seconds",
				"llm_inference_request_prompt_tokens", "llm_inference_request_generation_tokens"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.sample, func(t *testing.T) {
			p, _ := newTestProcessor(t, createDefaultConfig())
			md := pmetric.NewMetrics()
			scrape(t, md, inferencePod("pod-0", "wl", tt.backend), fixtures.Sample(tt.sample), t0)
			got := metricsOf(process(t, p, md), "pod-0")
			var names []string
			for name := range got {
				if !strings.HasPrefix(name, "llm_inference_target_") && !strings.HasPrefix(name, "llm_inference_scrape_") {
					names = append(names, name)
				}
			}
			assert.ElementsMatch(t, tt.metrics, names, "the unified metrics of the scrape, raw ones dropped")
			all := series(t, got)
			for _, w := range tt.want {
				key := w.metric + labelString(w.labels)
				g, ok := all[key]
				if !assert.Truef(t, ok, "series %s", key) {
					for k := range all {
						if strings.HasPrefix(k, w.metric+"{") {
							t.Logf("  have %s", k)
						}
					}
					continue
				}
				assert.Equal(t, w.value, g.value, key)
				assert.Equal(t, w.count, g.count, key)
				if w.bounds != nil {
					require.GreaterOrEqual(t, len(g.bounds), len(w.bounds), key)
					assert.Equal(t, w.bounds, g.bounds[:len(w.bounds)], "%s bounds", key)
				}
			}
			upAttrs := got["llm_inference_target_up"].Gauge().DataPoints().At(0).Attributes()
			assert.NotEmpty(t, str(upAttrs, "model_name"), "self-metrics carry the pod's model")
		})
	}
}
