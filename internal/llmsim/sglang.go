package llmsim

import "bytes"

// EngineSGLang is SGLang (0.5.x): scheduler gauges with rank labels, tokenizer counters and
// histograms with model_name.
const EngineSGLang = "sglang"

func renderSGLang(b *bytes.Buffer, p *pod, created bool) {
	w := &pyWriter{b: b, created: created}
	st := p.st
	mode := "unified" // --disaggregation-mode, as releases that report it say
	if p.role != "" {
		mode = p.role
	}
	sched := []label{{"engine_type", mode}, {"model_name", p.spec.Model}, {"moe_ep_rank", "0"}, {"pp_rank", "0"}, {"tp_rank", "0"}}
	tok := []label{{"model_name", p.spec.Model}}
	w.gauge("sglang:num_running_reqs", "The number of running requests.", sched, float64(len(p.running)))
	w.gauge("sglang:num_used_tokens", "The number of used tokens.", sched, float64(p.kvUsed()))
	w.gauge("sglang:token_usage", "The token usage.", sched, p.kvUsage())
	w.gauge("sglang:gen_throughput", "The generation throughput (token/s).", sched, p.lastThroughput)
	w.gauge("sglang:num_queue_reqs", "The number of requests in the waiting queue.", sched, float64(len(p.waiting)))
	w.gauge("sglang:cache_hit_rate", "The prefix cache hit rate.", sched, p.lastHitRate)
	w.gauge("sglang:max_total_num_tokens", "Maximum total number of tokens in the KV cache pool.", sched, float64(p.spec.KVCapacity))
	w.counter("sglang:num_retracted_requests", "Total number of retracted requests due to kvcache full.", [][]label{sched}, []float64{st.preemptions}, st.created)
	w.histogram("sglang:queue_time_seconds", "Histogram of queueing time in seconds.", sched, st.sgQueue, st.created)

	finished := st.finished[reasonStop] + st.finished[reasonLength] + st.finished[reasonAbort]
	w.counter("sglang:prompt_tokens", "Number of prefill tokens processed.", [][]label{tok}, []float64{st.promptTokens}, st.created)
	w.counter("sglang:generation_tokens", "Number of generation tokens processed.", [][]label{tok}, []float64{st.generationTokens}, st.created)
	if st.prefixHits > 0 { // SGLang only creates the series at the first cache hit
		w.counter("sglang:cached_tokens", "Number of cached prompt tokens.", [][]label{tok}, []float64{st.prefixHits}, st.created)
	}
	w.counter("sglang:num_requests", "Number of requests processed.", [][]label{tok}, []float64{finished}, st.created)
	w.counter("sglang:num_aborted_requests", "Number of requests aborted.", [][]label{tok}, []float64{st.finished[reasonAbort]}, st.created)
	w.histogram("sglang:time_to_first_token_seconds", "Histogram of time to first token in seconds.", tok, st.sgTTFT, st.created)
	w.histogram("sglang:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.", tok, st.sgITL, st.created)
	w.histogram("sglang:e2e_request_latency_seconds", "Histogram of End-to-end request latency in seconds", tok, st.sgE2E, st.created)
	// As served with --collect-tokens-histogram (the simulated deployment enables it).
	w.histogram("sglang:prompt_tokens_histogram", "Histogram of prompt token length.", tok, st.sgPromptLen, st.created)
	w.histogram("sglang:generation_tokens_histogram", "Histogram of generation token length.", tok, st.sgGenLen, st.created)
	if p.pd != nil {
		renderSGLangPD(w, p, sched)
	}
}
