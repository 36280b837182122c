// Package e2e runs the built collector against real local servers and a real Prometheus.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-llminference/otelcol-llminference/tests/fixtures"
	"github.com/otelcol-llminference/otelcol-llminference/tests/harness"
)

// servedSample is a real engine output served by a local HTTP server, as one static target.
type servedSample struct {
	file, pod, workload, backend string
	gpu                          bool
	srv                          *httptest.Server
}

// TestReceiverToPrometheus runs the built binary with static targets serving real vLLM, SGLang
// and dcgm-exporter outputs, remote-writes into a real Prometheus, and reads every series back:
// each sample of each file must arrive with its exact labels and value, plus the target's
// identity labels.
func TestReceiverToPrometheus(t *testing.T) {
	bin := harness.RequireE2E(t)
	prom := harness.StartPrometheus(t, "")

	targets := []*servedSample{
		{file: fixtures.VLLMMixed, pod: "qwen-chat-0", workload: "qwen-chat", backend: "vllm"},
		{file: fixtures.SGLang0510, pod: "llama-0", workload: "llama", backend: "sglang"},
		{file: fixtures.DCGMExporter, gpu: true},
	}
	var static strings.Builder
	gpuEndpoint := ""
	for _, tg := range targets {
		body := fixtures.Sample(tg.file)
		tg.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
			_, _ = w.Write(body)
		}))
		t.Cleanup(tg.srv.Close)
		if tg.gpu {
			gpuEndpoint = tg.srv.URL + "/metrics"
			continue
		}
		fmt.Fprintf(&static, "      - {endpoint: %q, workload: %s, backend: %s, namespace: llm, pod: %s}\n", tg.srv.URL+"/metrics", tg.workload, tg.backend, tg.pod)
	}
	cfg := fmt.Sprintf(`
receivers:
  llminference:
    collection_interval: 1s
    scrape_timeout: 1s
    kubernetes: {enabled: false, node_name: gpu-node-1}
    static_targets:
%s    gpu_exporter:
      endpoint: %q
exporters:
  prometheus_remote_write:
    endpoint: %s
    # Names arrive Prometheus-shaped already; no _total or unit suffixes may be added.
    translation_strategy: UnderscoreEscapingWithoutSuffixes
    resource_constant_labels:
      included: ["k8s.*", "llm.*"]
    target_info: {enabled: false}
    disable_scope_info: true
service:
  telemetry:
    metrics: {level: none}
  pipelines:
    metrics:
      receivers: [llminference]
      exporters: [prometheus_remote_write]
`, static.String(), gpuEndpoint, prom.WriteURL())
	col := harness.StartCollector(t, bin, cfg)

	ctx := context.Background()
	require.Eventually(t, func() bool {
		up, err := prom.Query(ctx, `llm_inference_target_up == 1`)
		return err == nil && len(up) == 3
	}, 30*time.Second, 200*time.Millisecond, "three targets up in Prometheus")

	for _, tg := range targets {
		t.Run(tg.file, func(t *testing.T) {
			identity := map[string]string{"job": "llminference", "instance": strings.TrimPrefix(tg.srv.URL, "http://"), "k8s_node_name": "gpu-node-1"}
			if !tg.gpu {
				identity["k8s_namespace_name"] = "llm"
				identity["k8s_pod_name"] = tg.pod
				identity["llm_workload_name"] = tg.workload
				identity["llm_backend"] = tg.backend
				identity["llm_target_kind"] = "inference"
			} else {
				identity["llm_target_kind"] = "gpu_exporter"
			}
			got, err := prom.Query(ctx, fmt.Sprintf(`{instance=%q, __name__!~"llm_inference_.*"}`, identity["instance"]))
			require.NoError(t, err)
			index := map[string]float64{}
			for _, s := range got {
				for k, v := range identity {
					require.Equalf(t, v, s.Labels[k], "label %s of %v", k, s.Labels)
				}
				index[canonical(s.Labels, identity)] = s.Value
			}
			want := expected(t, fixtures.Sample(tg.file))
			for key, v := range want {
				gotV, ok := index[key]
				if !ok {
					t.Errorf("missing in Prometheus: %s", key)
					continue
				}
				if !(gotV == v || (math.IsNaN(v) && math.IsNaN(gotV))) {
					t.Errorf("%s = %v in Prometheus, %v served", key, gotV, v)
				}
			}
			require.Len(t, index, len(want), "no series beyond those served")
		})
	}
	require.False(t, col.Exited(), "collector still running")
}

// expected lists every sample of an exposition as Prometheus should store it.
func expected(t *testing.T, body []byte) map[string]float64 {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	require.NoError(t, err)
	out := map[string]float64{}
	for name, fam := range fams {
		for _, m := range fam.Metric {
			lbls := map[string]string{"__name__": name}
			for _, l := range m.Label {
				if l.GetValue() != "" { // Prometheus stores an empty label as no label
					lbls[l.GetName()] = l.GetValue()
				}
			}
			put := func(suffix string, extra map[string]string, v float64) {
				l := map[string]string{}
				for k, x := range lbls {
					l[k] = x
				}
				l["__name__"] = name + suffix
				for k, x := range extra {
					l[k] = x
				}
				out[canonical(l, nil)] = v
			}
			switch fam.GetType() {
			case dto.MetricType_COUNTER:
				put("", nil, m.GetCounter().GetValue())
			case dto.MetricType_GAUGE:
				put("", nil, m.GetGauge().GetValue())
			case dto.MetricType_UNTYPED:
				put("", nil, m.GetUntyped().GetValue())
			case dto.MetricType_HISTOGRAM:
				h := m.GetHistogram()
				for _, b := range h.Bucket {
					put("_bucket", map[string]string{"le": formatLe(b.GetUpperBound())}, float64(b.GetCumulativeCount()))
				}
				put("_bucket", map[string]string{"le": "+Inf"}, float64(h.GetSampleCount()))
				put("_sum", nil, h.GetSampleSum())
				put("_count", nil, float64(h.GetSampleCount()))
			case dto.MetricType_SUMMARY:
				s := m.GetSummary()
				for _, q := range s.Quantile {
					put("", map[string]string{"quantile": formatLe(q.GetQuantile())}, q.GetValue())
				}
				put("_sum", nil, s.GetSampleSum())
				put("_count", nil, float64(s.GetSampleCount()))
			}
		}
	}
	return out
}

func formatLe(f float64) string {
	if math.IsInf(f, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// canonical renders a label set without the identity labels, with le/quantile normalised.
func canonical(lbls, identity map[string]string) string {
	var parts []string
	for k, v := range lbls {
		if _, skip := identity[k]; skip {
			continue
		}
		if k == "le" || k == "quantile" {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				v = formatLe(f)
			}
		}
		parts = append(parts, k+"="+strconv.Quote(v))
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}
