package llmsim

import "bytes"

// EngineLMDeploy is LMDeploy's api_server (lmdeploy/metrics/loggers.py): labels model_name and
// engine (the data-parallel rank), _created series disabled, inter-token latency as
// lmdeploy:iter_token_latency and a per-request time per output token.
const EngineLMDeploy = "lmdeploy"

func renderLMDeploy(b *bytes.Buffer, p *pod) {
	w := &pyWriter{b: b}
	st := p.st
	base := []label{{"engine", "0"}, {"model_name", p.spec.Model}}
	w.gauge("lmdeploy:num_requests_running", "Number of requests currently running.", base, float64(len(p.running)))
	w.gauge("lmdeploy:num_requests_waiting", "Number of requests waiting.", base, float64(len(p.waiting)))
	w.gauge("lmdeploy:gpu_cache_usage_perc", "GPU KV-cache usage. 1 means 100 percent usage.", base, p.kvUsage())
	w.counter("lmdeploy:prompt_tokens", "Number of prefill tokens processed.", [][]label{base}, []float64{st.promptTokens}, st.created)
	w.counter("lmdeploy:generation_tokens", "Number of generation tokens processed.", [][]label{base}, []float64{st.generationTokens}, st.created)
	series, values := byReason(base, st, reasonLength, reasonStop, reasonAbort)
	w.counter("lmdeploy:request_success", "Count of successfully processed requests.", series, values, st.created)
	w.histogram("lmdeploy:time_to_first_token_seconds", "Histogram of time to first token in seconds.", base, st.ttft, st.created)
	w.histogram("lmdeploy:iter_token_latency", "Histogram of inter-token latency in seconds.", base, st.itl, st.created)
	w.histogram("lmdeploy:time_per_output_token_seconds", "Histogram of time per output token in seconds.", base, st.tpot, st.created)
	w.histogram("lmdeploy:e2e_request_latency_seconds", "Histogram of end to end request latency in seconds.", base, st.e2e, st.created)
	w.histogram("lmdeploy:request_queue_time_seconds", "Histogram of time spent in WAITING phase for request.", base, st.queue, st.created)
	w.histogram("lmdeploy:request_prompt_tokens", "Number of prefill tokens processed.", base, st.promptLen, st.created)
	w.histogram("lmdeploy:request_generation_tokens", "Number of generation tokens processed.", base, st.genLen, st.created)
}
