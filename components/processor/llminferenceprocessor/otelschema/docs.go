package otelschema

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/prometheus/otlptranslator"
)

// PrometheusName is the name a Prometheus 3 OTLP receiver stores m under with its default
// translation (UnderscoreEscapingWithSuffixes), the name dashboards query.
func PrometheusName(m Metric) string {
	mn := otlptranslator.NewMetricNamer("", otlptranslator.UnderscoreEscapingWithSuffixes)
	var t otlptranslator.MetricType = otlptranslator.MetricTypeGauge
	switch m.Instrument {
	case Counter:
		t = otlptranslator.MetricTypeMonotonicCounter
	case UpDownCounter:
		t = otlptranslator.MetricTypeNonMonotonicCounter
	case Histogram:
		t = otlptranslator.MetricTypeHistogram
	}
	name, err := mn.Build(otlptranslator.Metric{Name: m.Name, Unit: m.Unit, Type: t})
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return name
}

func code(s string) string {
	if s == "" {
		return "—"
	}
	return "`" + s + "`"
}

func attrList(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, "`"+k+"` → `"+m[k]+"`")
	}
	return strings.Join(parts, ", ")
}

// Markdown renders the OpenTelemetry schema for docs/metrics.md.
func Markdown() string {
	var b strings.Builder
	b.WriteString(intro)
	b.WriteString("\n### Inference metrics\n\n")
	b.WriteString("| unified (`schema: prometheus`) | OpenTelemetry name | unit | instrument | convention | Prometheus 3 (OTLP) | attributes renamed | notes |\n|---|---|---|---|---|---|---|---|\n")
	names := make([]string, 0, len(Metrics))
	for n := range Metrics {
		names = append(names, n)
	}
	sort.Strings(names)
	row := func(src string, m Metric, attrs, note string) {
		conv := "ours"
		if m.Convention != "" {
			conv = "semconv"
		}
		fmt.Fprintf(&b, "| %s | `%s` | %s | %s | %s | `%s` | %s | %s |\n", src, m.Name, code(m.Unit), m.Instrument, conv, PrometheusName(m), attrs, note)
	}
	for _, n := range names {
		m := Metrics[n]
		row("`"+n+"`", m, attrList(m.Attributes), m.Note)
		backends := make([]string, 0, len(BackendMetrics))
		for be := range BackendMetrics {
			if _, ok := BackendMetrics[be][n]; ok {
				backends = append(backends, be)
			}
		}
		sort.Strings(backends)
		for _, be := range backends {
			bm := BackendMetrics[be][n]
			row("`"+n+"` *(backend "+be+")*", bm, attrList(bm.Attributes), bm.Note)
		}
	}
	fmt.Fprintf(&b, "\nOn every inference metric: %s.\n\n", attrList(CommonAttributes))
	b.WriteString("Resource attributes: the receiver's `k8s.namespace.name`, `k8s.pod.name`, `k8s.pod.uid`, `k8s.node.name`,\n")
	b.WriteString("`k8s.container.name`, `service.name`, `service.instance.id`, `server.address`, `server.port` stay; ")
	renamed := map[string]string{}
	var removed []string
	for k, v := range Resource {
		if v == "" {
			removed = append(removed, "`"+k+"`")
		} else {
			renamed[k] = v
		}
	}
	sort.Strings(removed)
	fmt.Fprintf(&b, "%s; and %s are removed (the `k8s.*` attributes above say the same).\n", attrList(renamed), strings.Join(removed, ", "))

	b.WriteString("\n### GPU (dcgm-exporter) metrics\n\n")
	b.WriteString("| dcgm-exporter field | OpenTelemetry name | unit | scale | instrument | convention | attributes set | Prometheus 3 (OTLP) | notes |\n|---|---|---|---|---|---|---|---|---|\n")
	fields := make([]string, 0, len(GPUMetrics))
	for f := range GPUMetrics {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	for _, f := range fields {
		g := GPUMetrics[f]
		conv := "ours"
		if g.Convention != "" {
			conv = "semconv"
		}
		scale := "1"
		if g.Scale != 0 {
			scale = "× " + strconv.FormatFloat(g.Scale, 'f', -1, 64)
		}
		var set []string
		for _, kv := range g.Set {
			set = append(set, "`"+kv[0]+"=\""+kv[1]+"\"`")
		}
		fmt.Fprintf(&b, "| `%s` | `%s` | %s | %s | %s | %s | %s | `%s` | %s |\n", f, g.Name, code(g.Unit), scale, g.Instrument, conv, strings.Join(set, " "), PrometheusName(g.Metric), g.Note)
	}
	fmt.Fprintf(&b, "\nOther `DCGM_*` fields keep their names. Labels: %s.\n", attrList(GPUAttributes))
	b.WriteString(limits)
	return b.String()
}

const intro = `
## OpenTelemetry schema (` + "`schema: opentelemetry`" + `)

With ` + "`schema: opentelemetry`" + ` the processor publishes the same data under OpenTelemetry names, for
OTLP exporters (` + "`configs/collector/otlp.yaml`" + `): the GenAI and hardware semantic conventions where they
define the same quantity, ` + "`llm_inference.*`" + ` names (ours, documented here) where none does, units in
the ` + "`unit`" + ` field, counters as cumulative monotonic sums, scraped counts that go up and down (running
requests, queue lengths, memory in use) as UpDownCounters, histograms as explicit-bucket histograms with
their buckets and start times. Values are not changed except where a DCGM unit differs from the
convention's (scale below). The conventions are at Development stability; names follow
[GenAI server metrics](https://github.com/open-telemetry/semantic-conventions-genai) and
[hardware GPU metrics](https://opentelemetry.io/docs/specs/semconv/hardware/gpu/).

"Prometheus 3 (OTLP)" is where a Prometheus 3 OTLP receiver stores each metric with its default
translation (` + "`UnderscoreEscapingWithSuffixes`" + `); attributes become labels with dots replaced by
underscores (` + "`gen_ai.request.model`" + ` → ` + "`gen_ai_request_model`" + `). Resource attributes become labels only when
listed in its ` + "`otlp.promote_resource_attributes`" + ` (see ` + "`docs/otlp.md`" + `). The dashboard and the rules query
` + "`schema: prometheus`" + ` names.
`

const limits = `
### What the conventions define and our sources do not measure

- ` + "`gen_ai.server.time_per_output_token`" + ` is per request: (duration − time to first token) / (output
  tokens − 1). Only sources measured that way go there. Inter-token latency (vLLM, SGLang, Dynamo, LMDeploy's
  ` + "`iter_token_latency`" + `) is observed per token and is ` + "`llm_inference.inter_token_latency`" + `; TGI's mean time per
  token includes prefill and is ` + "`llm_inference.request.time_per_output_token`" + `.
- ` + "`gen_ai.operation.name`" + ` and ` + "`gen_ai.provider.name`" + ` are required on ` + "`gen_ai.server.*`" + ` metrics. An engine's
  aggregate metrics do not split chat from text completion, and its name (` + "`llm_inference.backend`" + `) is not a
  provider in the conventions' sense (an API vendor), so neither is set rather than invented.
- ` + "`error.type`" + ` on ` + "`gen_ai.server.request.duration`" + `: engine histograms do not split failed requests; failures are
  counted by ` + "`llm_inference.requests`" + ` with ` + "`llm_inference.finish_reason`" + ` and, where the engine says, ` + "`error.type`" + `.
- Token usage: the conventions define token metrics for clients only; the servers' counts are
  ` + "`llm_inference.usage.input_tokens`" + ` / ` + "`output_tokens`" + `.
- ` + "`hw.gpu.memory.limit`" + ` and ` + "`hw.gpu.memory.utilization`" + `: dcgm-exporter's default fields give used, free and
  reserved memory, not the total; the three are published (used as ` + "`hw.gpu.memory.usage`" + `) and the
  limit is their sum in a query. ` + "`hw.gpu.io`" + ` is a byte counter; DCGM's PCIe fields are rates, so they are
  ` + "`llm_inference.gpu.pcie.throughput`" + `.
`
