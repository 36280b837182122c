package llminferenceprocessor

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.yaml.in/yaml/v3"

	"github.com/otelcol-llminference/otelcol-llminference/components/processor/llminferenceprocessor/mapping"
)

// mapWith maps one exposition with a user table (backend "eng") and returns the unified series.
func mapWith(t *testing.T, table mapping.Table, body string) map[string]point {
	t.Helper()
	table.Backend = "eng"
	cfg := createDefaultConfig()
	cfg.ExtraMappings = []mapping.Table{table}
	require.NoError(t, cfg.Validate())
	p, _ := newTestProcessor(t, cfg)
	md := pmetric.NewMetrics()
	scrape(t, md, inferencePod("p-0", "wl", "eng"), []byte(body), t0)
	got := metricsOf(process(t, p, md), "p-0")
	out := series(t, got)
	for k := range out {
		if strings.HasPrefix(k, "llm_inference_target_") || strings.HasPrefix(k, "llm_inference_scrape_") {
			delete(out, k)
		}
	}
	return out
}

// TestMappingLanguage: each capability of the tables on a small exposition, with the expected
// series written out (scaled values computed by hand).
func TestMappingLanguage(t *testing.T) {
	tests := []struct {
		name  string
		table mapping.Table
		body  string
		want  []point
	}{
		{
			name: "match selects by label value and drops the selecting label",
			table: mapping.Table{Metrics: []mapping.Mapping{
				{Unified: "llm_inference_requests_waiting", Type: "gauge", Source: "req", Match: map[string]string{"kind": "waiting"}},
				{Unified: "llm_inference_requests_running", Type: "gauge", Source: "req", Match: map[string]string{"kind": "scheduled"}},
			}},
			body: "# TYPE req gauge\nreq{kind=\"waiting\",model_name=\"m\"} 4\nreq{kind=\"scheduled\",model_name=\"m\"} 7\nreq{kind=\"max\",model_name=\"m\"} 512\n",
			want: []point{num("llm_inference_requests_waiting", 4, "model_name", "m"), num("llm_inference_requests_running", 7, "model_name", "m")},
		},
		{
			name: "match on an absent label",
			table: mapping.Table{Metrics: []mapping.Mapping{
				{Unified: "llm_inference_requests_running", Type: "gauge", Source: "req", Match: map[string]string{"dp": ""}},
			}},
			body: "# TYPE req gauge\nreq{model_name=\"m\"} 3\nreq{dp=\"1\",model_name=\"m\"} 9\n",
			want: []point{num("llm_inference_requests_running", 3, "model_name", "m")},
		},
		{
			name: "rename labels, set labels, label cases in order",
			table: mapping.Table{Metrics: []mapping.Mapping{
				{Unified: "llm_inference_requests_total", Type: "counter", Source: "fails", RenameLabels: map[string]string{"err": "error_type"},
					SetLabels: map[string]string{"finished_reason": "error"}},
				{Unified: "llm_inference_requests_total", Type: "counter", Source: "reqs", LabelCases: []mapping.LabelCase{
					{When: map[string]string{"error_type": "cancelled"}, Set: map[string]string{"finished_reason": "abort"}},
					{When: map[string]string{"status": "error"}, Set: map[string]string{"finished_reason": "error"}},
					{When: map[string]string{}, Set: map[string]string{"finished_reason": "unknown"}},
				}},
			}},
			body: "# TYPE fails counter\nfails{err=\"validation\",model_name=\"m\"} 2\nfails{err=\"overloaded\",model_name=\"m\"} 1\n" +
				"# TYPE reqs counter\nreqs{status=\"success\",model_name=\"m\"} 10\nreqs{status=\"error\",error_type=\"cancelled\",model_name=\"m\"} 3\nreqs{status=\"error\",error_type=\"internal\",model_name=\"m\"} 1\n",
			want: []point{
				num("llm_inference_requests_total", 2, "model_name", "m", "finished_reason", "error", "error_type", "validation"),
				num("llm_inference_requests_total", 1, "model_name", "m", "finished_reason", "error", "error_type", "overloaded"),
				num("llm_inference_requests_total", 10, "model_name", "m", "finished_reason", "unknown", "status", "success"),
				num("llm_inference_requests_total", 3, "model_name", "m", "finished_reason", "abort", "status", "error", "error_type", "cancelled"),
				num("llm_inference_requests_total", 1, "model_name", "m", "finished_reason", "error", "status", "error", "error_type", "internal"),
			},
		},
		{
			name: "scale a histogram from milliseconds: bounds and sum",
			table: mapping.Table{Metrics: []mapping.Mapping{
				{Unified: "llm_inference_time_to_first_token_seconds", Type: "histogram", Source: "ttft_ms", Scale: 0.001},
			}},
			body: "# TYPE ttft_ms histogram\nttft_ms_bucket{model_name=\"m\",le=\"0\"} 0\nttft_ms_bucket{model_name=\"m\",le=\"50\"} 2\nttft_ms_bucket{model_name=\"m\",le=\"250\"} 5\n" +
				"ttft_ms_bucket{model_name=\"m\",le=\"+Inf\"} 6\nttft_ms_sum{model_name=\"m\"} 1375\nttft_ms_count{model_name=\"m\"} 6\n",
			want: []point{hist("llm_inference_time_to_first_token_seconds", 6, 1.375, []float64{0, 0.05, 0.25}, "model_name", "m")},
		},
		{
			name: "scale a cumulative microsecond counter and a gauge",
			table: mapping.Table{Metrics: []mapping.Mapping{
				{Unified: "llm_inference_e2e_request_latency_seconds_total", Type: "counter", Source: "dur_us", Scale: 0.000001},
				{Unified: "llm_inference_kv_cache_usage_ratio", Type: "gauge", Source: "kv_pct", Scale: 0.01},
			}},
			body: "# TYPE dur_us counter\ndur_us{model_name=\"m\"} 2500000\n# TYPE kv_pct gauge\nkv_pct{model_name=\"m\"} 50\n",
			want: []point{
				num("llm_inference_e2e_request_latency_seconds_total", 2.5, "model_name", "m"),
				num("llm_inference_kv_cache_usage_ratio", 0.5, "model_name", "m"),
			},
		},
		{
			name: "a histogram's sum and count as counters, the histogram kept too",
			table: mapping.Table{Metrics: []mapping.Mapping{
				{Unified: "llm_inference_prompt_tokens_total", Type: "counter", Source: "input_len", From: "sum"},
				{Unified: "llm_inference_requests_total", Type: "counter", Source: "input_len", From: "count", SetLabels: map[string]string{"finished_reason": "unknown"}},
				{Unified: "llm_inference_request_prompt_tokens", Type: "histogram", Source: "input_len"},
			}},
			body: "# TYPE input_len histogram\ninput_len_bucket{le=\"100\"} 3\ninput_len_bucket{le=\"+Inf\"} 4\ninput_len_sum 662\ninput_len_count 4\n",
			want: []point{
				num("llm_inference_prompt_tokens_total", 662),
				num("llm_inference_requests_total", 4, "finished_reason", "unknown"),
				hist("llm_inference_request_prompt_tokens", 4, 662, []float64{100}),
			},
		},
		{
			name: "a summary's sum as a counter",
			table: mapping.Table{Metrics: []mapping.Mapping{
				{Unified: "llm_inference_generation_tokens_total", Type: "counter", Source: "gen", From: "sum"},
			}},
			body: "# TYPE gen summary\ngen{quantile=\"0.5\"} 10\ngen_sum 1234\ngen_count 99\n",
			want: []point{num("llm_inference_generation_tokens_total", 1234)},
		},
		{
			name:  "an engine's own model label, one spelling per model",
			table: mapping.Table{ModelLabel: "model", Metrics: []mapping.Mapping{{Unified: "llm_inference_requests_running", Type: "gauge", Source: "run"}}},
			body:  "# TYPE run gauge\nrun{model=\"qwen/qwen3-8b\"} 2\n# TYPE cfg gauge\ncfg{model=\"Qwen/Qwen3-8B\"} 1\n",
			want:  []point{num("llm_inference_requests_running", 2, "model_name", "Qwen/Qwen3-8B")},
		},
		{
			name:  "no model label: the workload's name",
			table: mapping.Table{ModelLabel: "none", Metrics: []mapping.Mapping{{Unified: "llm_inference_requests_running", Type: "gauge", Source: "run"}}},
			body:  "# TYPE run gauge\nrun 2\n",
			want:  []point{num("llm_inference_requests_running", 2, "model_name", "wl")},
		},
		{
			name: "a counter without _total, by its TYPE",
			table: mapping.Table{Metrics: []mapping.Mapping{
				{Unified: "llm_inference_requests_total", Type: "counter", Source: "req_success", SetLabels: map[string]string{"finished_reason": "unknown"}},
			}},
			body: "# TYPE req_success counter\nreq_success{model_name=\"m\"} 109\n",
			want: []point{num("llm_inference_requests_total", 109, "model_name", "m", "finished_reason", "unknown")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mapWith(t, tt.table, tt.body)
			var want []string
			for _, w := range tt.want {
				key := w.metric + labelString(w.labels)
				want = append(want, key)
				g, ok := got[key]
				if !assert.Truef(t, ok, "series %s in %v", key, got) {
					continue
				}
				assert.Equal(t, w.value, g.value, key)
				assert.Equal(t, w.count, g.count, key)
				if w.bounds != nil {
					assert.Equal(t, w.bounds, g.bounds[:len(w.bounds)], key)
				}
			}
			var have []string
			for k := range got {
				have = append(have, k)
			}
			assert.ElementsMatch(t, want, have, "exactly these series")
		})
	}
}

// TestBadUserTables: a table the processor cannot apply stops the collector at start with an
// error naming the table and the entry.
func TestBadUserTables(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"scale on a count", `{backend: x, metrics: [{unified: llm_inference_requests_total, type: counter, source: a, from: count, scale: 0.001}]}`,
			"extra_mappings[0]: metrics[0].scale: a count is not scaled"},
		{"from makes a counter", `{backend: x, metrics: [{unified: llm_inference_tokens, type: gauge, source: a, from: sum}]}`,
			`extra_mappings[0]: metrics[0].from: sum makes a counter, so type must be counter, got "gauge"`},
		{"unknown part", `{backend: x, metrics: [{unified: llm_inference_a_total, type: counter, source: a, from: max}]}`,
			`metrics[0].from: "max" must be sum or count`},
		{"negative scale", `{backend: x, metrics: [{unified: llm_inference_a, type: gauge, source: a, scale: -1}]}`,
			"metrics[0].scale: must be a positive number"},
		{"bad label in a case", `{backend: x, metrics: [{unified: llm_inference_a, type: gauge, source: a, label_cases: [{when: {"bad-label": x}, set: {y: z}}]}]}`,
			`metrics[0].label_cases[0].when: "bad-label" is not a label name`},
		{"a case that sets nothing", `{backend: x, metrics: [{unified: llm_inference_a, type: gauge, source: a, label_cases: [{when: {a: b}}]}]}`,
			"metrics[0].label_cases[0].set: must set a label"},
		{"rename to a bad name", `{backend: x, metrics: [{unified: llm_inference_a, type: gauge, source: a, rename_labels: {err: "error type"}}]}`,
			`metrics[0].rename_labels: "error type" (new name of "err") is not a label name`},
		{"unknown include", `{backend: x, includes: [nosuch], metrics: [{unified: llm_inference_a, type: gauge, source: a}]}`,
			`extra_mappings: mapping tables of backend x: includes "nosuch", which no table serves`},
		{"bad model label", `{backend: x, model_label: "model name", metrics: [{unified: llm_inference_a, type: gauge, source: a}]}`,
			`extra_mappings[0]: model_label: "model name" is not a label name`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var table map[string]any
			require.NoError(t, yamlUnmarshal(tt.yaml, &table))
			cfg := createDefaultConfig()
			require.NoError(t, confmap.NewFromStringMap(map[string]any{"extra_mappings": []any{table}}).Unmarshal(cfg))
			err := cfg.Validate()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func yamlUnmarshal(s string, v any) error { return yaml.Unmarshal([]byte(s), v) }
