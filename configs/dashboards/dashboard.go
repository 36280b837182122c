// Package dashboards renders configs/dashboards/llm-inference.json (`make dashboards`) from the
// panel list below: every query is on the unified schema, so every panel works for every engine.
package dashboards

import (
	"encoding/json"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/otelcol-llminference/otelcol-llminference/components/processor/llminferenceprocessor/mapping"
)

// Selector is the variables' filter, used by every query of the inference rows.
const Selector = `namespace=~"$namespace", workload_name=~"$workload_name", model_name=~"$model_name"`

// CollectorSelector is the Collector row's filter: the collectors are per node, not per model.
const CollectorSelector = `node=~"$node"`

// Query is one target of a panel.
type Query struct {
	Expr   string
	Legend string
}

// Panel is one chart.
type Panel struct {
	Title, Description, Unit string
	Queries                  []Query
}

// Row is a section of the dashboard.
type Row struct {
	Title  string
	Panels []Panel
	// Selector filters every query of the row: Selector unless set.
	Selector string
}

// Filter is the selector every query of the row uses.
func (r Row) Filter() string {
	if r.Selector != "" {
		return r.Selector
	}
	return Selector
}

func csel(extra string) string {
	if extra == "" {
		return "{" + CollectorSelector + "}"
	}
	return "{" + CollectorSelector + ", " + extra + "}"
}

func crate(metric string) string {
	return "rate(" + metric + csel("") + "[$__rate_interval])"
}

func sel(extra string) string {
	if extra == "" {
		return "{" + Selector + "}"
	}
	return "{" + Selector + ", " + extra + "}"
}

func rate(metric, extra string) string {
	return "rate(" + metric + sel(extra) + "[$__rate_interval])"
}

// quantiles renders avg plus p50/p90/p99 of a unified histogram, grouped by `by`.
func quantiles(metric, by string) []Query {
	qs := []Query{{
		Expr:   "sum by (" + by + ") (" + rate(metric+"_sum", "") + ") / sum by (" + by + ") (" + rate(metric+"_count", "") + ")",
		Legend: "avg {{" + by + "}}",
	}}
	for _, q := range []string{"0.5", "0.9", "0.99"} {
		qs = append(qs, Query{
			Expr:   "histogram_quantile(" + q + ", sum by (le, " + by + ") (" + rate(metric+"_bucket", "") + "))",
			Legend: "p" + strings.TrimPrefix(q, "0.") + " {{" + by + "}}",
		})
	}
	return qs
}

// Rows is the dashboard's content.
var Rows = []Row{
	{Title: "Model", Panels: []Panel{
		{"Requests per second", "Finished requests per second, all reasons.", "reqps",
			[]Query{{"sum by (model_name) (" + rate("llm_inference_requests_total", "") + ")", "{{model_name}}"}}},
		{"Finished requests by reason", "Share of finished requests by reason: stop (success), length (capped by max_tokens), abort, error; SGLang reports unknown and abort only.", "percentunit",
			[]Query{{"sum by (model_name, finished_reason) (" + rate("llm_inference_requests_total", "") + ") / on (model_name) group_left sum by (model_name) (" + rate("llm_inference_requests_total", "") + ")", "{{model_name}} {{finished_reason}}"}}},
		{"End-to-end latency", "Request latency from arrival to last token: average and p50/p90/p99.", "s",
			quantiles("llm_inference_e2e_request_latency_seconds", "model_name")},
		{"Time to first token", "Arrival to first output token (TTFT): average and p50/p90/p99.", "s",
			quantiles("llm_inference_time_to_first_token_seconds", "model_name")},
		{"Inter-token latency", "Time between output tokens (ITL): average and p50/p90/p99.", "s",
			quantiles("llm_inference_inter_token_latency_seconds", "model_name")},
		{"Queue time p90", "90th percentile of the time requests wait before they run.", "s",
			[]Query{{"histogram_quantile(0.9, sum by (le, model_name) (" + rate("llm_inference_request_queue_time_seconds_bucket", "") + "))", "{{model_name}}"}}},
		{"Tokens per second", "Prompt (prefill) and generated (decode) tokens per second.", "short",
			[]Query{
				{"sum by (model_name) (" + rate("llm_inference_prompt_tokens_total", "") + ")", "prompt {{model_name}}"},
				{"sum by (model_name) (" + rate("llm_inference_generation_tokens_total", "") + ")", "generation {{model_name}}"},
			}},
		{"Running and waiting requests", "Requests in the running batch and in the waiting queue, summed over the model's pods.", "short",
			[]Query{
				{"sum by (model_name) (llm_inference_requests_running" + sel("") + ")", "running {{model_name}}"},
				{"sum by (model_name) (llm_inference_requests_waiting" + sel("") + ")", "waiting {{model_name}}"},
			}},
		{"KV-cache usage", "Highest KV-cache usage among the model's pods; near 100% means preemptions and queueing.", "percentunit",
			[]Query{{"max by (model_name) (llm_inference_kv_cache_usage_ratio" + sel("") + ")", "{{model_name}}"}}},
		{"Prefix-cache hit rate", "Share of prompt tokens served from the prefix cache.", "percentunit",
			[]Query{{"sum by (model_name) (" + rate("llm_inference_prefix_cache_hits_total", "") + ") / sum by (model_name) (" + rate("llm_inference_prefix_cache_queries_total", "") + ")", "{{model_name}}"}}},
		{"Preemptions per second", "Running requests evicted to free KV cache (SGLang: retractions); their work is recomputed.", "short",
			[]Query{{"sum by (model_name) (" + rate("llm_inference_preemptions_total", "") + ")", "{{model_name}}"}}},
		{"Active LoRA adapters", "LoRA adapters with running requests (vLLM); 0 for models without LoRA.", "short",
			[]Query{{"count by (model_name) (llm_inference_lora_adapter_info" + sel(`state="running"`) + ") or 0 * sum by (model_name) (llm_inference_requests_running" + sel("") + ")", "{{model_name}}"}}},
		{"Prompt and generation length", "Median and 90th percentile of prompt and generated tokens per request.", "short",
			[]Query{
				{"histogram_quantile(0.5, sum by (le, model_name) (" + rate("llm_inference_request_prompt_tokens_bucket", "") + "))", "prompt p50 {{model_name}}"},
				{"histogram_quantile(0.9, sum by (le, model_name) (" + rate("llm_inference_request_prompt_tokens_bucket", "") + "))", "prompt p90 {{model_name}}"},
				{"histogram_quantile(0.5, sum by (le, model_name) (" + rate("llm_inference_request_generation_tokens_bucket", "") + "))", "generation p50 {{model_name}}"},
				{"histogram_quantile(0.9, sum by (le, model_name) (" + rate("llm_inference_request_generation_tokens_bucket", "") + "))", "generation p90 {{model_name}}"},
			}},
	}},
	{Title: "Pod", Panels: []Panel{
		{"Requests per second by pod", "Finished requests per second of each pod.", "reqps",
			[]Query{{"sum by (pod) (" + rate("llm_inference_requests_total", "") + ")", "{{pod}}"}}},
		{"TTFT p99 by pod", "99th percentile time to first token of each pod: which pod is slow.", "s",
			[]Query{{"histogram_quantile(0.99, sum by (le, pod) (" + rate("llm_inference_time_to_first_token_seconds_bucket", "") + "))", "{{pod}}"}}},
		{"Inter-token latency p99 by pod", "99th percentile inter-token latency of each pod.", "s",
			[]Query{{"histogram_quantile(0.99, sum by (le, pod) (" + rate("llm_inference_inter_token_latency_seconds_bucket", "") + "))", "{{pod}}"}}},
		{"Running and waiting by pod", "Running batch and waiting queue of each pod.", "short",
			[]Query{
				{"sum by (pod) (llm_inference_requests_running" + sel("") + ")", "running {{pod}}"},
				{"sum by (pod) (llm_inference_requests_waiting" + sel("") + ")", "waiting {{pod}}"},
			}},
		{"KV-cache usage by pod", "KV-cache usage of each pod.", "percentunit",
			[]Query{{"max by (pod) (llm_inference_kv_cache_usage_ratio" + sel("") + ")", "{{pod}}"}}},
		{"Tokens per second by pod", "Generated tokens per second of each pod.", "short",
			[]Query{{"sum by (pod) (" + rate("llm_inference_generation_tokens_total", "") + ")", "{{pod}}"}}},
		{"Targets up", "1 when the collector's last scrape of the pod succeeded.", "short",
			[]Query{{"max by (pod) (llm_inference_target_up" + sel(`pod!=""`) + ")", "{{pod}}"}}},
	}},
	{Title: "GPU (per pod)", Panels: []Panel{
		{"GPU utilisation", "Share of time a kernel ran on the pod's GPUs (dcgm-exporter).", "percent",
			[]Query{{"avg by (pod, gpu) (DCGM_FI_DEV_GPU_UTIL" + sel("") + ")", "{{pod}} GPU {{gpu}}"}}},
		{"Framebuffer memory", "GPU memory used and free on the pod's GPUs.", "decmbytes",
			[]Query{
				{"sum by (pod) (DCGM_FI_DEV_FB_USED" + sel("") + ")", "used {{pod}}"},
				{"sum by (pod) (DCGM_FI_DEV_FB_FREE" + sel("") + ")", "free {{pod}}"},
			}},
		{"Tensor-core activity", "Ratio of cycles the tensor pipes were active.", "percentunit",
			[]Query{{"avg by (pod, gpu) (DCGM_FI_PROF_PIPE_TENSOR_ACTIVE" + sel("") + ")", "{{pod}} GPU {{gpu}}"}}},
		{"SM clock", "Streaming-multiprocessor clock of the pod's GPUs.", "rotmhz",
			[]Query{{"avg by (pod, gpu) (DCGM_FI_DEV_SM_CLOCK" + sel("") + ")", "{{pod}} GPU {{gpu}}"}}},
		{"Power", "Power draw of the pod's GPUs.", "watt",
			[]Query{{"sum by (pod) (DCGM_FI_DEV_POWER_USAGE" + sel("") + ")", "{{pod}}"}}},
		{"Temperature", "GPU temperature.", "celsius",
			[]Query{{"max by (pod, gpu) (DCGM_FI_DEV_GPU_TEMP" + sel("") + ")", "{{pod}} GPU {{gpu}}"}}},
		{"XID errors", "Last XID error code of the pod's GPUs; anything but 0 is a driver fault.", "short",
			[]Query{{"max by (pod, gpu) (DCGM_FI_DEV_XID_ERRORS" + sel("") + ")", "{{pod}} GPU {{gpu}}"}}},
		{"PCIe and NVLink throughput", "PCIe transmit/receive rate and NVLink traffic of the pod's GPUs.", "Bps",
			[]Query{
				{"sum by (pod) (DCGM_FI_PROF_PCIE_TX_BYTES" + sel("") + ")", "PCIe TX {{pod}}"},
				{"sum by (pod) (DCGM_FI_PROF_PCIE_RX_BYTES" + sel("") + ")", "PCIe RX {{pod}}"},
				{"sum by (pod) (" + rate("DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL", "") + ")", "NVLink {{pod}}"},
			}},
	}},
	// The collectors themselves, from their own metrics (shipped by the prometheus/self
	// pipeline of configs/collector/daemonset.yaml): is monitoring itself working?
	{Title: "Collector", Selector: CollectorSelector, Panels: []Panel{
		{"Queue backlog", "Scrapes waiting in each collector's remote-write queue (on disk, or in memory while the disk refuses writes). Growing: the backend is not taking data.", "short",
			[]Query{{"max by (node) (otelcol_llminference_remote_write_queue_scrapes" + csel("") + ")", "{{node}}"}}},
		{"Oldest queued scrape", "Age of the oldest scrape waiting in the queue: how far behind the backend is.", "s",
			[]Query{{"max by (node) (otelcol_llminference_remote_write_queue_oldest_age" + csel("") + ")", "{{node}}"}}},
		{"Samples sent per second", "Samples the remote-write backend accepted.", "short",
			[]Query{{"sum by (node) (" + crate("otelcol_llminference_remote_write_sent_samples") + ")", "{{node}}"}}},
		{"Samples dropped per second", "Samples given up on, by reason (rejected, queue_full, retry_expired, retry_disabled, unreadable_record, disk_error); 0 when none.", "short",
			[]Query{{"sum by (node, reason) (" + crate("otelcol_llminference_remote_write_dropped_samples") + ") or sum by (node) (0 * " + crate("otelcol_llminference_remote_write_sent_samples") + ")", "{{node}} {{reason}}"}}},
		{"Remote-write requests by answer", "Requests per second by the class of the backend's answer: 2xx, 4xx (429 included), 5xx, network_error.", "reqps",
			[]Query{{"sum by (node, status_class) (" + crate("otelcol_llminference_remote_write_requests") + ")", "{{node}} {{status_class}}"}}},
		{"Send duration p90", "90th percentile duration of one remote-write request.", "s",
			[]Query{{"histogram_quantile(0.9, sum by (le, node) (" + crate("otelcol_llminference_remote_write_send_duration_bucket") + "))", "{{node}}"}}},
		{"Targets down", "Inference pods and GPU exporters whose last scrape by the node's collector failed.", "short",
			[]Query{{"sum by (node) (1 - llm_inference_target_up" + csel("") + ")", "{{node}}"}}},
		{"Collector memory", "Resident memory of each collector, and its Go heap.", "bytes",
			[]Query{
				{"max by (node) (otelcol_process_memory_rss" + csel("") + ")", "RSS {{node}}"},
				{"max by (node) (otelcol_process_runtime_heap_alloc_bytes" + csel("") + ")", "heap {{node}}"},
			}},
	}},
}

// JSON renders the Grafana dashboard.
func JSON() ([]byte, error) {
	type ref struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	}
	ds := ref{"prometheus", "${datasource}"}
	type target struct {
		Datasource   ref    `json:"datasource"`
		Expr         string `json:"expr"`
		LegendFormat string `json:"legendFormat"`
		RefID        string `json:"refId"`
	}
	type gridPos struct {
		H int `json:"h"`
		W int `json:"w"`
		X int `json:"x"`
		Y int `json:"y"`
	}
	type panel struct {
		ID          int            `json:"id"`
		Type        string         `json:"type"`
		Title       string         `json:"title"`
		Description string         `json:"description,omitempty"`
		Datasource  *ref           `json:"datasource,omitempty"`
		GridPos     gridPos        `json:"gridPos"`
		Collapsed   *bool          `json:"collapsed,omitempty"`
		FieldConfig map[string]any `json:"fieldConfig,omitempty"`
		Options     map[string]any `json:"options,omitempty"`
		Targets     []target       `json:"targets,omitempty"`
	}
	variable := func(name, label, query string) map[string]any {
		return map[string]any{
			"name": name, "label": label, "type": "query", "datasource": ds,
			"definition": query, "query": map[string]any{"query": query, "refId": name},
			"refresh": 2, "multi": true, "includeAll": true, "allValue": ".*", "sort": 1,
			"current": map[string]any{"text": "All", "value": "$__all"},
		}
	}
	measured, err := measuredBy()
	if err != nil {
		return nil, err
	}
	var panels []panel
	id, y := 1, 0
	falseV := false
	for _, row := range Rows {
		panels = append(panels, panel{ID: id, Type: "row", Title: row.Title, GridPos: gridPos{H: 1, W: 24, X: 0, Y: y}, Collapsed: &falseV})
		id++
		y++
		for i, p := range row.Panels {
			var targets []target
			for j, q := range p.Queries {
				targets = append(targets, target{Datasource: ds, Expr: q.Expr, LegendFormat: q.Legend, RefID: string(rune('A' + j))})
			}
			d := ds
			desc, noValue := p.Description, "No data"
			if missing := notMeasuredBy(p, measured); len(missing) > 0 {
				desc += " Not measured by " + strings.Join(missing, ", ") + ": those engines have no such metric, and the panel shows none for them rather than zero."
				noValue = "Not measured by this engine, or no data"
			}
			panels = append(panels, panel{
				ID: id, Type: "timeseries", Title: p.Title, Description: desc, Datasource: &d,
				GridPos:     gridPos{H: 8, W: 8, X: (i % 3) * 8, Y: y + (i/3)*8},
				FieldConfig: map[string]any{"defaults": map[string]any{"unit": p.Unit, "noValue": noValue}, "overrides": []any{}},
				Options:     map[string]any{"legend": map[string]any{"displayMode": "list", "placement": "bottom"}, "tooltip": map[string]any{"mode": "multi"}},
				Targets:     targets,
			})
			id++
		}
		y += ((len(row.Panels) + 2) / 3) * 8
	}
	dash := map[string]any{
		"uid": "llm-inference", "title": "LLM inference", "tags": []string{"llm", "vllm", "sglang", "gpu"},
		"description":   "Model, pod and GPU views of LLM inference services (vLLM, SGLang, ...) from otelcol-llminference's unified metrics, and the collectors' own health.",
		"schemaVersion": 39, "version": 1, "editable": true, "graphTooltip": 1, "refresh": "30s",
		"time": map[string]any{"from": "now-1h", "to": "now"},
		"templating": map[string]any{"list": []any{
			map[string]any{"name": "datasource", "label": "Data source", "type": "datasource", "query": "prometheus"},
			// From the receiver's up series, which every inference pod has, whatever its engine measures.
			variable("namespace", "Namespace", `label_values(llm_inference_target_up{namespace!=""}, namespace)`),
			variable("workload_name", "Workload", `label_values(llm_inference_target_up{namespace=~"$namespace"}, workload_name)`),
			variable("model_name", "Model", `label_values(llm_inference_target_up{namespace=~"$namespace", workload_name=~"$workload_name"}, model_name)`),
			// The Collector row's: the nodes whose collectors ship their own metrics.
			variable("node", "Collector (node)", `label_values(otelcol_llminference_remote_write_queue_scrapes, node)`),
		}},
		"panels": panels,
	}
	b, err := json.MarshalIndent(dash, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

var unifiedName = regexp.MustCompile(`llm_inference_[a-z_]+`)

// measuredBy maps each unified metric to the backends whose tables produce it.
func measuredBy() (map[string][]string, error) {
	tables, err := mapping.Builtin()
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	add := func(unified, backend string) {
		if !slices.Contains(out[unified], backend) {
			out[unified] = append(out[unified], backend)
		}
	}
	for _, t := range tables {
		for _, m := range t.Metrics {
			add(m.Unified, t.Backend)
		}
	}
	// A backend that includes others' tables (Dynamo's workers) measures what they measure.
	for _, t := range tables {
		for _, inc := range t.Includes {
			for _, u := range tables {
				if u.Backend == inc {
					for _, m := range u.Metrics {
						add(m.Unified, t.Backend)
					}
				}
			}
		}
	}
	return out, nil
}

// notMeasuredBy lists the backends that produce none of the unified metrics a panel queries
// (empty for panels on the receiver's or dcgm-exporter's series).
func notMeasuredBy(p Panel, measured map[string][]string) []string {
	all := map[string]bool{}
	for _, backends := range measured {
		for _, b := range backends {
			all[b] = true
		}
	}
	has := map[string]bool{}
	used := false
	for _, q := range p.Queries {
		for _, name := range unifiedName.FindAllString(q.Expr, -1) {
			for _, sfx := range []string{"_bucket", "_sum", "_count"} {
				name = strings.TrimSuffix(name, sfx)
			}
			backends, ok := measured[name]
			if !ok {
				continue // llm_inference_target_up, pod_gpu_info: the collector's own
			}
			used = true
			for _, b := range backends {
				has[b] = true
			}
		}
	}
	if !used {
		return nil
	}
	var missing []string
	for b := range all {
		if !has[b] {
			missing = append(missing, b)
		}
	}
	sort.Strings(missing)
	return missing
}
