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
const Selector = `namespace=~"$namespace", workload_name=~"$workload_name", model_name=~"$model_name", inference_role=~"$inference_role"`

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
	// NoValue is what the row's charts say when the selection has no data: why a workload may
	// have none (no router, no prefill/decode).
	NoValue string
}

// Filter is the selector every query of the row uses.
func (r Row) Filter() string {
	if r.Selector != "" {
		return r.Selector
	}
	return Selector
}

func csel(extra string) string { return matchers(CollectorSelector, extra) }

func crate(metric string) string {
	return "rate(" + metric + csel("") + "[$__rate_interval])"
}

// matchers renders a selector's braces: base (a row's filter) and extra matchers.
func matchers(base, extra string) string {
	if extra == "" {
		return "{" + base + "}"
	}
	return "{" + base + ", " + extra + "}"
}

func sel(extra string) string { return matchers(Selector, extra) }

func rate(metric, extra string) string {
	return "rate(" + metric + sel(extra) + "[$__rate_interval])"
}

// once counts each request once (docs/metrics.md, "Counting once"): the router's figure for
// workloads that have one, else the engines'. Both sides are grouped by workload_name and
// model_name.
func once(router, engines string) string {
	return router + " or on (workload_name) " + engines
}

// Role filters of the engines' side of once.
const (
	rolesDecode  = `inference_role=~"decode|both"`
	rolesPrefill = `inference_role=~"prefill|both"`
	roleRouter   = `inference_role="router"`
)

// onceRate is the per-second rate of a counter, from the router's series (routerMetric with
// routerMatch) for workloads that have them, else from the engines' (metric with engineMatch).
func onceRate(routerMetric, routerMatch, metric, engineMatch string) string {
	by := "sum by (workload_name, model_name) "
	return once(by+"("+rate(routerMetric, routerMatch)+")", by+"("+rate(metric, engineMatch)+")")
}

// quantilesOnce is quantiles with each query counting once: the router's histogram
// (routerMetric, routerMatch) where the workload has one, else the engines' (metric, engineMatch).
func quantilesOnce(routerMetric, routerMatch, metric, engineMatch string) []Query {
	by := "workload_name, model_name"
	qs := []Query{{
		Expr: once("sum by ("+by+") ("+rate(routerMetric+"_sum", routerMatch)+") / sum by ("+by+") ("+rate(routerMetric+"_count", routerMatch)+")",
			"sum by ("+by+") ("+rate(metric+"_sum", engineMatch)+") / sum by ("+by+") ("+rate(metric+"_count", engineMatch)+")"),
		Legend: "avg {{model_name}}",
	}}
	for _, q := range []string{"0.5", "0.9", "0.99"} {
		qs = append(qs, Query{
			Expr: once("histogram_quantile("+q+", sum by (le, "+by+") ("+rate(routerMetric+"_bucket", routerMatch)+"))",
				"histogram_quantile("+q+", sum by (le, "+by+") ("+rate(metric+"_bucket", engineMatch)+"))"),
			Legend: "p" + strings.TrimPrefix(q, "0.") + " {{model_name}}",
		})
	}
	return qs
}

// Rows is the dashboard's content.
var Rows = []Row{
	{Title: "Model", Panels: []Panel{
		{"Requests per second", "Finished requests per second, all reasons, each request once: at the workload's router when it has one, else on its decode and aggregated pods (a prefill/decode request runs on both sides).", "reqps",
			[]Query{{onceRate("llm_inference_router_requests_total", "", "llm_inference_requests_total", rolesDecode), "{{model_name}}"}}},
		{"Finished requests by reason", "Share of finished requests by reason: stop (success), length (capped by max_tokens), abort, error; SGLang reports unknown and abort only. From the router when it reports reasons (Dynamo's frontend), else from decode and aggregated pods (a prefill pod finishes every request at its one token).", "percentunit",
			[]Query{{"(" + once("sum by (workload_name, model_name, finished_reason) ("+rate("llm_inference_requests_total", roleRouter)+")",
				"sum by (workload_name, model_name, finished_reason) ("+rate("llm_inference_requests_total", rolesDecode)+")") +
				") / on (workload_name, model_name) group_left () (" + once("sum by (workload_name, model_name) ("+rate("llm_inference_requests_total", roleRouter)+")",
				"sum by (workload_name, model_name) ("+rate("llm_inference_requests_total", rolesDecode)+")") + ")", "{{model_name}} {{finished_reason}}"}}},
		{"End-to-end latency", "Request latency from arrival to last token: average and p50/p90/p99; the router's when the workload has one, else the decode and aggregated pods'.", "s",
			quantilesOnce("llm_inference_router_request_duration_seconds", "", "llm_inference_e2e_request_latency_seconds", rolesDecode)},
		{"Time to first token", "Arrival to first output token (TTFT): average and p50/p90/p99; the router's when it measures it, else the prefill and aggregated pods'.", "s",
			quantilesOnce("llm_inference_time_to_first_token_seconds", roleRouter, "llm_inference_time_to_first_token_seconds", rolesPrefill)},
		{"Inter-token latency", "Time between output tokens (ITL): average and p50/p90/p99; the router's when it measures it, else the decode and aggregated pods'.", "s",
			quantilesOnce("llm_inference_inter_token_latency_seconds", roleRouter, "llm_inference_inter_token_latency_seconds", rolesDecode)},
		{"Queue time p90", "90th percentile of the time requests wait before they run.", "s",
			[]Query{{"histogram_quantile(0.9, sum by (le, model_name) (" + rate("llm_inference_request_queue_time_seconds_bucket", "") + "))", "{{model_name}}"}}},
		{"Tokens per second", "Prompt (prefill) and generated (decode) tokens per second, each once: the router's count when it has one, else prompts on prefill and aggregated pods, generated tokens on decode and aggregated pods.", "short",
			[]Query{
				{onceRate("llm_inference_prompt_tokens_total", roleRouter, "llm_inference_prompt_tokens_total", rolesPrefill), "prompt {{model_name}}"},
				{onceRate("llm_inference_generation_tokens_total", roleRouter, "llm_inference_generation_tokens_total", rolesDecode), "generation {{model_name}}"},
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
		{"Inter-token latency p99 by pod", "99th percentile inter-token latency of each pod (prefill pods, which make one token per request, have none).", "s",
			[]Query{{"histogram_quantile(0.99, sum by (le, pod) (" + rate("llm_inference_inter_token_latency_seconds_bucket", `inference_role!="prefill"`) + "))", "{{pod}}"}}},
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
	// Prefill/decode: each side's load, and the KV transfer between them.
	{Title: "Prefill / decode", NoValue: noPD, Panels: []Panel{
		{"Load by role", "Running and waiting requests on the prefill and decode sides.", "short",
			[]Query{
				{"sum by (inference_role) (llm_inference_requests_running" + sel(`inference_role=~"prefill|decode"`) + ")", "running {{inference_role}}"},
				{"sum by (inference_role) (llm_inference_requests_waiting" + sel(`inference_role=~"prefill|decode"`) + ")", "waiting {{inference_role}}"},
			}},
		{"KV-cache usage by role", "Highest KV-cache usage on each side: the decode side holds every running request's cache.", "percentunit",
			[]Query{{"max by (inference_role) (llm_inference_kv_cache_usage_ratio" + sel(`inference_role=~"prefill|decode"`) + ")", "{{inference_role}}"}}},
		{"TTFT on prefill, ITL on decode", "90th percentile time to first token on the prefill side and inter-token latency on the decode side: what each side is for.", "s",
			[]Query{
				{"histogram_quantile(0.9, sum by (le) (" + rate("llm_inference_time_to_first_token_seconds_bucket", `inference_role="prefill"`) + "))", "TTFT p90 prefill"},
				{"histogram_quantile(0.9, sum by (le) (" + rate("llm_inference_inter_token_latency_seconds_bucket", `inference_role="decode"`) + "))", "ITL p90 decode"},
			}},
		{"KV transfer latency", "Duration of one KV-cache transfer from prefill to decode: p50/p90/p99 (vLLM NIXL on the decode side, SGLang on the prefill side, TensorRT-LLM under Dynamo).", "s",
			[]Query{
				{"histogram_quantile(0.5, sum by (le) (" + rate("llm_inference_kv_transfer_duration_seconds_bucket", "") + "))", "p50"},
				{"histogram_quantile(0.9, sum by (le) (" + rate("llm_inference_kv_transfer_duration_seconds_bucket", "") + "))", "p90"},
				{"histogram_quantile(0.99, sum by (le) (" + rate("llm_inference_kv_transfer_duration_seconds_bucket", "") + "))", "p99"},
			}},
		{"KV transfer bytes", "Bytes per second moved from prefill to decode, and the mean size of one transfer.", "bytes",
			[]Query{
				{"sum by (inference_role) (" + rate("llm_inference_kv_transfer_bytes_sum", "") + ")", "bytes/s ({{inference_role}} side)"},
				{"sum by (inference_role) (" + rate("llm_inference_kv_transfer_bytes_sum", "") + ") / sum by (inference_role) (" + rate("llm_inference_kv_transfer_bytes_count", "") + ")", "per transfer ({{inference_role}} side)"},
			}},
		{"KV transfer failures", "Failed KV transfers per second, by stage (bootstrap: the two sides' handshake; transfer: the data); 0 when none.", "short",
			[]Query{{"sum by (inference_role, stage) (" + rate("llm_inference_kv_transfer_failures_total", "") + ")", "{{inference_role}} {{stage}}"}}},
		{"PD queues", "Requests in SGLang's PD queues: prefill bootstrap (waiting for the decode side) and inflight (KV being sent); decode prealloc (waiting for KV memory) and transfer (KV being received).", "short",
			[]Query{{"sum by (queue) (llm_inference_pd_queue_requests" + sel("") + ")", "{{queue}}"}}},
	}},
	// The router's view: each request once, and its workers.
	{Title: "Router", NoValue: noRouter, Panels: []Panel{
		{"Router requests per second", "Requests the router finished, by status (success, error).", "reqps",
			[]Query{{"sum by (status) (" + rate("llm_inference_router_requests_total", "") + ")", "{{status}}"}}},
		{"Router error ratio", "Share of requests the router answered with an error.", "percentunit",
			[]Query{{"sum (" + rate("llm_inference_router_request_errors_total", "") + ") / sum (" + rate("llm_inference_router_requests_total", "") + ") or 0 * sum (" + rate("llm_inference_router_requests_total", "") + ")", "errors"}}},
		{"Router request duration", "Duration of a request at the router, arrival to last byte: p50/p90/p99.", "s",
			[]Query{
				{"histogram_quantile(0.5, sum by (le) (" + rate("llm_inference_router_request_duration_seconds_bucket", "") + "))", "p50"},
				{"histogram_quantile(0.9, sum by (le) (" + rate("llm_inference_router_request_duration_seconds_bucket", "") + "))", "p90"},
				{"histogram_quantile(0.99, sum by (le) (" + rate("llm_inference_router_request_duration_seconds_bucket", "") + "))", "p99"},
			}},
		{"Running requests per worker", "Requests the router has in flight on each worker (prefill and decode workers in PD).", "short",
			[]Query{{"sum by (worker) (llm_inference_router_worker_running_requests" + sel("") + ")", "{{worker}}"}}},
		{"Worker health", "1 when the router considers the worker healthy.", "short",
			[]Query{{"min by (worker) (llm_inference_router_worker_healthy" + sel("") + ")", "{{worker}}"}}},
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

// What the PD and Router rows say when a workload has no such data.
const (
	noPD     = "No prefill/decode data: the selected pods serve aggregated (inference_role both), or their engine exports no PD metrics (vLLM without the NIXL connector)"
	noRouter = "No router: the selected workload has no router or gateway pod (inference_role router)"
)

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
			if row.NoValue != "" {
				noValue = row.NoValue
			}
			if missing := notMeasuredBy(p, measured); len(missing) > 0 && row.NoValue == "" {
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
			// prefill, decode, both (aggregated), router (docs/metrics.md, "Roles").
			variable("inference_role", "Role", `label_values(llm_inference_target_up{namespace=~"$namespace", workload_name=~"$workload_name"}, inference_role)`),
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
		if t.RouterPrefix != "" && t.RouterPrefix == t.DetectPrefix {
			continue // a router, not an engine: the panels' "not measured by" lists engines
		}
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
