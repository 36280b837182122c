package llmsim

import "bytes"

// EngineTRTLLM is TensorRT-LLM's trtllm-serve (tensorrt_llm/metrics/collector.py): Python
// prometheus_client, labels model_name and engine_type, vLLM's older bucket layouts, served at
// /prometheus/metrics (its /metrics answers JSON iteration stats).
const EngineTRTLLM = "trtllm"

// trtllmMetricsPath is where trtllm-serve serves Prometheus metrics.
const trtllmMetricsPath = "/prometheus/metrics"

func renderTRTLLM(b *bytes.Buffer, p *pod, created bool) {
	w := &pyWriter{b: b, created: created}
	st := p.st
	base := []label{{"engine_type", "trtllm"}, {"model_name", p.spec.Model}}
	w.gauge("trtllm_num_requests_running", "Number of requests currently running.", base, float64(len(p.running)))
	w.gauge("trtllm_num_requests_waiting", "Number of requests waiting to be scheduled.", base, float64(len(p.waiting)))
	w.gauge("trtllm_kv_cache_utilization", "KV cache utilization (0-1).", base, p.kvUsage())
	w.counter("trtllm_prompt_tokens", "Number of prefill tokens processed.", [][]label{base}, []float64{st.promptTokens}, st.created)
	w.counter("trtllm_generation_tokens", "Number of generation tokens processed.", [][]label{base}, []float64{st.generationTokens}, st.created)
	renderTRTLLMRequests(w, base, st)
}

// renderTRTLLMRequests writes the families every TensorRT-LLM release has (1.1 has only these):
// the request counter by finish reason and four latency histograms.
func renderTRTLLMRequests(w *pyWriter, base []label, st *stats) {
	series, values := byReason(base, st, reasonLength, reasonStop)
	w.counter("trtllm_request_success", "Count of successfully processed requests.", series, values, st.created)
	w.histogram("trtllm_e2e_request_latency_seconds", "Histogram of end to end request latency in seconds.", base, st.e2e, st.created)
	w.histogram("trtllm_time_to_first_token_seconds", "Histogram of time to first token in seconds.", base, st.ttft, st.created)
	w.histogram("trtllm_time_per_output_token_seconds", "Histogram of time per output token in seconds.", base, st.tpot, st.created)
	w.histogram("trtllm_request_queue_time_seconds", "Histogram of time spent in WAITING phase for request.", base, st.queue, st.created)
}
