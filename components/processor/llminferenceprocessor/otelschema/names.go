// Package otelschema holds the OpenTelemetry names of the unified schema (the processor's
// `schema: opentelemetry`): semantic-convention names where a convention defines the same thing
// (GenAI server metrics, hw.gpu.*, k8s.*), documented llm_inference.* names for the rest, and
// the translation of one scrape's metrics onto them.
//
// The tables are data, so docs/metrics.md is generated from them (mapping/cmd/gendocs) and
// tests compare against them.
package otelschema

// Instrument says what kind of OpenTelemetry instrument a metric is published as.
type Instrument string

const (
	// Counter: a cumulative monotonic sum (the unified counters already are).
	Counter Instrument = "counter"
	// Histogram: an explicit-bucket histogram (start times and buckets kept).
	Histogram Instrument = "histogram"
	// Gauge: a sampled value.
	Gauge Instrument = "gauge"
	// UpDownCounter: a cumulative non-monotonic sum. Scraped counts that go up and down
	// (running requests, queue lengths, memory in use) are what the conventions model this way
	// (http.server.active_requests, hw.gpu.memory.usage).
	UpDownCounter Instrument = "updowncounter"
)

// Metric is the OpenTelemetry form of one unified metric.
type Metric struct {
	Name       string
	Unit       string
	Instrument Instrument
	// Convention is the semantic convention the name comes from ("" when none covers the concept
	// and the name is ours, under llm_inference.*).
	Convention string
	// Attributes renames data point attributes of this metric (beyond CommonAttributes).
	Attributes map[string]string
	// Note says where the sources differ from the convention's definition.
	Note string
}

// Conventions the names come from (Development stability, both).
const (
	GenAIConvention    = "GenAI semantic conventions (gen_ai.server.*)"
	HardwareConvention = "Hardware semantic conventions (hw.*)"
)

// CommonAttributes renames the unified data point labels every inference metric may carry.
var CommonAttributes = map[string]string{
	// The served model name clients ask for: the convention's request model.
	"model_name":      "gen_ai.request.model",
	"error_type":      "error.type",
	"finished_reason": "llm_inference.finish_reason",
}

// Resource renames the resource attributes the processor sets for the remote-write labels.
// "" removes the attribute: namespace, pod and node are already on the resource as k8s.*.
var Resource = map[string]string{
	"namespace":      "",
	"pod":            "",
	"node":           "",
	"workload_name":  "llm_inference.workload.name",
	"backend":        "llm_inference.backend",
	"inference_role": "llm_inference.role",
	// The receiver's inputs the processor already turned into the attributes above.
	"llm.workload.name":  "",
	"llm.backend":        "",
	"llm.inference.role": "",
	"llm.model.name":     "",
	"llm.target.kind":    "llm_inference.target.kind",
	"llm.access_name":    "llm_inference.access_name",
	"gpu.uuid":           "llm_inference.gpu.ids",
}

// Metrics maps every unified metric (llm_inference_*) to its OpenTelemetry form.
var Metrics = map[string]Metric{
	"llm_inference_e2e_request_latency_seconds": {Name: "gen_ai.server.request.duration", Unit: "s", Instrument: Histogram, Convention: GenAIConvention,
		Note: "Engines observe every finished request; the convention asks for error.type on failed ones, which engine histograms do not split."},
	"llm_inference_time_to_first_token_seconds": {Name: "gen_ai.server.time_to_first_token", Unit: "s", Instrument: Histogram, Convention: GenAIConvention,
		Note: "Engines record at the first token, before the request's outcome is known (the convention: successful requests). A router's or frontend's TTFT includes routing."},
	"llm_inference_request_time_per_output_token_seconds": {Name: "gen_ai.server.time_per_output_token", Unit: "s", Instrument: Histogram, Convention: GenAIConvention,
		Note: "Per request: (duration - TTFT) / (output tokens - 1), as the convention defines it: vLLM v0.11+ and trtllm-serve measure it so. TGI's source divides the whole duration, prefill included, so TGI's is llm_inference.request.time_per_output_token instead."},
	"llm_inference_inter_token_latency_seconds": {Name: "llm_inference.inter_token_latency", Unit: "s", Instrument: Histogram,
		Note: "Observed per token, not per request: it is not gen_ai.server.time_per_output_token."},
	"llm_inference_requests_running":     {Name: "llm_inference.request.running", Unit: "{request}", Instrument: UpDownCounter},
	"llm_inference_requests_waiting":     {Name: "llm_inference.request.waiting", Unit: "{request}", Instrument: UpDownCounter},
	"llm_inference_requests_in_flight":   {Name: "llm_inference.request.active", Unit: "{request}", Instrument: UpDownCounter},
	"llm_inference_kv_cache_usage_ratio": {Name: "llm_inference.kv_cache.utilization", Unit: "1", Instrument: Gauge},
	"llm_inference_prompt_tokens_total": {Name: "llm_inference.usage.input_tokens", Unit: "{token}", Instrument: Counter,
		Note: "Server side; the GenAI conventions define token usage for clients only (gen_ai.client.token.usage)."},
	"llm_inference_generation_tokens_total":   {Name: "llm_inference.usage.output_tokens", Unit: "{token}", Instrument: Counter},
	"llm_inference_request_prompt_tokens":     {Name: "llm_inference.request.input_tokens", Unit: "{token}", Instrument: Histogram},
	"llm_inference_request_generation_tokens": {Name: "llm_inference.request.output_tokens", Unit: "{token}", Instrument: Histogram},
	"llm_inference_requests_total":            {Name: "llm_inference.requests", Unit: "{request}", Instrument: Counter},
	"llm_inference_e2e_request_latency_seconds_total": {Name: "llm_inference.request.time", Unit: "s", Instrument: Counter,
		Note: "Cumulative time of all requests (Triton); a counter cannot become the convention's histogram."},
	"llm_inference_request_queue_time_seconds":       {Name: "llm_inference.request.queue.duration", Unit: "s", Instrument: Histogram},
	"llm_inference_request_queue_time_seconds_total": {Name: "llm_inference.request.queue.time", Unit: "s", Instrument: Counter},
	"llm_inference_prefill_time_seconds_total":       {Name: "llm_inference.prefill.time", Unit: "s", Instrument: Counter},
	"llm_inference_decode_time_seconds_total":        {Name: "llm_inference.decode.time", Unit: "s", Instrument: Counter},
	"llm_inference_prefix_cache_hits_total":          {Name: "llm_inference.prefix_cache.hits", Unit: "{token}", Instrument: Counter},
	"llm_inference_prefix_cache_queries_total":       {Name: "llm_inference.prefix_cache.queries", Unit: "{token}", Instrument: Counter},
	"llm_inference_preemptions_total":                {Name: "llm_inference.preemptions", Unit: "{preemption}", Instrument: Counter},
	"llm_inference_kv_transfer_bytes":                {Name: "llm_inference.kv_transfer.size", Unit: "By", Instrument: Histogram},
	"llm_inference_kv_transfer_duration_seconds":     {Name: "llm_inference.kv_transfer.duration", Unit: "s", Instrument: Histogram},
	"llm_inference_kv_transfer_failures_total": {Name: "llm_inference.kv_transfer.failures", Unit: "{failure}", Instrument: Counter,
		Attributes: map[string]string{"stage": "llm_inference.kv_transfer.stage"}},
	"llm_inference_kv_transfer_last_bytes":            {Name: "llm_inference.kv_transfer.last.size", Unit: "By", Instrument: Gauge},
	"llm_inference_kv_transfer_last_duration_seconds": {Name: "llm_inference.kv_transfer.last.duration", Unit: "s", Instrument: Gauge},
	"llm_inference_pd_queue_requests": {Name: "llm_inference.pd_queue.length", Unit: "{request}", Instrument: UpDownCounter,
		Attributes: map[string]string{"queue": "llm_inference.pd_queue.name"}},
	"llm_inference_lora_adapter_info": {Name: "llm_inference.lora_adapter.info", Unit: "", Instrument: Gauge,
		Attributes: map[string]string{"adapter": "llm_inference.lora_adapter.name", "state": "llm_inference.lora_adapter.state"}},
	"llm_inference_router_requests_total": {Name: "llm_inference.router.requests", Unit: "{request}", Instrument: Counter,
		Attributes: map[string]string{"status": "llm_inference.router.status"}},
	"llm_inference_router_request_errors_total": {Name: "llm_inference.router.request.errors", Unit: "{error}", Instrument: Counter},
	"llm_inference_router_request_duration_seconds": {Name: "llm_inference.router.request.duration", Unit: "s", Instrument: Histogram,
		Note: "Kept apart from gen_ai.server.request.duration so that a sum over pods never counts a request at both the router and the engine."},
	"llm_inference_router_worker_healthy": {Name: "llm_inference.router.worker.healthy", Unit: "", Instrument: Gauge,
		Attributes: map[string]string{"worker": "llm_inference.router.worker"}},
	"llm_inference_router_worker_running_requests": {Name: "llm_inference.router.worker.request.running", Unit: "{request}", Instrument: UpDownCounter,
		Attributes: map[string]string{"worker": "llm_inference.router.worker"}},
	"llm_inference_pod_gpu_info": {Name: "llm_inference.pod.gpu.info", Unit: "", Instrument: Gauge,
		Attributes: map[string]string{"gpu": "llm_inference.gpu.index", "gpu_uuid": "hw.id", "gpu_model": "hw.model"}},
	// The receiver's own per-target metrics.
	"llm_inference_target_up":               {Name: "llm_inference.target.up", Unit: "", Instrument: Gauge},
	"llm_inference_scrape_duration_seconds": {Name: "llm_inference.scrape.duration", Unit: "s", Instrument: Gauge},
	"llm_inference_scrape_samples":          {Name: "llm_inference.scrape.samples", Unit: "{sample}", Instrument: Gauge},
}

// BackendMetrics overrides Metrics for one backend whose source is not what the convention
// defines: backend -> unified name -> its OpenTelemetry form.
var BackendMetrics = map[string]map[string]Metric{
	"tgi": {
		"llm_inference_request_time_per_output_token_seconds": {Name: "llm_inference.request.time_per_output_token", Unit: "s", Instrument: Histogram,
			Note: "TGI's tgi_request_mean_time_per_token_duration divides the whole request, prefill included, by the generated tokens: not the convention's (duration - TTFT) / (tokens - 1)."},
	},
}

// For returns the OpenTelemetry form of unified metric name for backend.
func For(backend, name string) (Metric, bool) {
	if m, ok := BackendMetrics[backend][name]; ok {
		return m, true
	}
	m, ok := Metrics[name]
	return m, ok
}
