package llmsim

import "bytes"

// EngineNIM is NVIDIA NIM for LLMs: vLLM-V0-style names without any prefix, label model_name,
// no _created series.
const EngineNIM = "nim"

func renderNIM(b *bytes.Buffer, p *pod) {
	w := &pyWriter{b: b}
	st := p.st
	base := []label{{"model_name", p.spec.Model}}
	w.gauge("num_requests_running", "Number of requests currently running on GPU.", base, float64(len(p.running)))
	w.gauge("num_requests_waiting", "Number of requests waiting to be processed.", base, float64(len(p.waiting)))
	w.gauge("num_request_max", "Max number of concurrently running requests.", base, float64(p.spec.MaxRunning))
	w.gauge("gpu_cache_usage_perc", "GPU KV-cache usage. 1 means 100 percent usage.", base, p.kvUsage())
	w.counter("prompt_tokens", "Number of prefill tokens processed.", [][]label{base}, []float64{st.promptTokens}, st.created)
	w.counter("generation_tokens", "Number of generation tokens processed.", [][]label{base}, []float64{st.generationTokens}, st.created)
	w.histogram("time_to_first_token_seconds", "Histogram of time to first token in seconds.", base, st.ttft, st.created)
	w.histogram("time_per_output_token_seconds", "Histogram of time per output token in seconds.", base, st.itl, st.created)
	w.histogram("e2e_request_latency_seconds", "Histogram of end to end request latency in seconds.", base, st.e2e, st.created)
	w.histogram("request_prompt_tokens", "Number of prefill tokens processed.", base, st.promptLen, st.created)
	w.histogram("request_generation_tokens", "Number of generation tokens processed.", base, st.genLen, st.created)
	series, values := byReason(base, st, reasonLength, reasonStop)
	w.counter("request_finish", "Count of finished requests, differentiated by finish reason.", series, values, st.created)
	w.counter("request_success", "Count of successfully processed requests.", [][]label{base}, []float64{st.finished[reasonLength] + st.finished[reasonStop]}, st.created)
	w.counter("request_failure", "Count of failed requests.", [][]label{base}, []float64{st.finished[reasonAbort]}, st.created)
}
