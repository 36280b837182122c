package llmsim

import (
	"bytes"
	"sort"
	"strings"
)

// vLLM schema generations.
const (
	// EngineVLLM is vLLM's V1 engine with current names (v0.11+): kv_cache_usage_perc,
	// inter_token_latency_seconds, prefix_cache_*; every series has engine="0".
	EngineVLLM = "vllm"
	// EngineVLLMLegacy is the V1 engine of v0.8-v0.10, still common in production:
	// gpu_cache_usage_perc, time_per_output_token_seconds, gpu_prefix_cache_*.
	EngineVLLMLegacy = "vllm-legacy"
)

func renderVLLM(b *bytes.Buffer, p *pod, legacy bool, created bool) {
	w := &pyWriter{b: b, created: created}
	st := p.st
	base := []label{{"engine", "0"}, {"model_name", p.spec.Model}}
	w.gauge("vllm:num_requests_running", "Number of requests in model execution batches.", base, float64(len(p.running)))
	w.gauge("vllm:num_requests_waiting", "Number of requests waiting to be processed.", base, float64(len(p.waiting)))
	if legacy {
		w.gauge("vllm:gpu_cache_usage_perc", "GPU KV-cache usage. 1 means 100 percent usage.", base, p.kvUsage())
	} else {
		w.gauge("vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.", base, p.kvUsage())
	}
	if len(p.spec.LoRAAdapters) > 0 {
		// Adapters are comma-joined label values; the value is the update time, not a count.
		var running, waiting []string
		seen := map[string]bool{}
		for _, r := range p.running {
			if r.adapter != "" && !seen["r"+r.adapter] {
				seen["r"+r.adapter] = true
				running = append(running, r.adapter)
			}
		}
		for _, r := range p.waiting {
			if r.adapter != "" && !seen["w"+r.adapter] {
				seen["w"+r.adapter] = true
				waiting = append(waiting, r.adapter)
			}
		}
		sort.Strings(running)
		sort.Strings(waiting)
		w.gauge("vllm:lora_requests_info", "Running stats on lora requests.", []label{
			{"max_lora", itoa(len(p.spec.LoRAAdapters))},
			{"running_lora_adapters", strings.Join(running, ",")},
			{"waiting_lora_adapters", strings.Join(waiting, ",")},
		}, float64(p.now.UnixNano())/1e9)
	}

	w.counter("vllm:num_preemptions", "Cumulative number of preemption from the engine.", [][]label{base}, []float64{st.preemptions}, st.created)
	w.counter("vllm:prompt_tokens", "Number of prefill tokens processed.", [][]label{base}, []float64{st.promptTokens}, st.created)
	w.counter("vllm:generation_tokens", "Number of generation tokens processed.", [][]label{base}, []float64{st.generationTokens}, st.created)
	prefix := "vllm:prefix_cache_"
	if legacy {
		prefix = "vllm:gpu_prefix_cache_"
	}
	w.counter(prefix+"queries", "Prefix cache queries, in terms of number of queried tokens.", [][]label{base}, []float64{st.prefixQueries}, st.created)
	w.counter(prefix+"hits", "Prefix cache hits, in terms of number of cached tokens.", [][]label{base}, []float64{st.prefixHits}, st.created)

	reasons := []string{reasonAbort, reasonLength, reasonStop}
	if !legacy {
		reasons = []string{reasonAbort, "error", reasonLength, "repetition", reasonStop}
	}
	series := make([][]label, len(reasons))
	values := make([]float64, len(reasons))
	for i, r := range reasons {
		series[i] = with(base, label{"finished_reason", r})
		values[i] = st.finished[r]
	}
	w.counter("vllm:request_success", "Count of successfully processed requests.", series, values, st.created)

	w.histogram("vllm:request_prompt_tokens", "Number of prefill tokens processed.", base, st.promptLen, st.created)
	w.histogram("vllm:request_generation_tokens", "Number of generation tokens processed.", base, st.genLen, st.created)
	w.histogram("vllm:iteration_tokens_total", "Histogram of number of tokens per engine_step.", base, st.iterationTokens, st.created)
	w.histogram("vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", base, st.ttft, st.created)
	if legacy {
		w.histogram("vllm:time_per_output_token_seconds", "Histogram of time per output token in seconds.", base, st.itl, st.created)
	} else {
		w.histogram("vllm:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.", base, st.itl, st.created)
		w.histogram("vllm:request_time_per_output_token_seconds", "Histogram of time_per_output_token_seconds per request.", base, st.tpot, st.created)
	}
	w.histogram("vllm:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.", base, st.e2e, st.created)
	w.histogram("vllm:request_queue_time_seconds", "Histogram of time spent in WAITING phase for request.", base, st.queue, st.created)
	w.histogram("vllm:request_inference_time_seconds", "Histogram of time spent in RUNNING phase for request.", base, st.inference, st.created)
	w.histogram("vllm:request_prefill_time_seconds", "Histogram of time spent in PREFILL phase for request.", base, st.prefill, st.created)
	w.histogram("vllm:request_decode_time_seconds", "Histogram of time spent in DECODE phase for request.", base, st.decode, st.created)
	if p.pd != nil && p.role == RoleDecode { // the NIXL connector: the decode side pulls the KV cache
		renderNIXL(w, p, base)
	}
}

// expandEngines serves every sample of a single-engine exposition once per data-parallel
// engine. Each family's samples stay together, engine after engine, so every series' lines
// (a histogram's buckets, sum and count) stay contiguous as in vLLM's own output.
func expandEngines(body []byte, n int) []byte {
	var out bytes.Buffer
	out.Grow(len(body) * n)
	var samples [][]byte
	flush := func() {
		for k := 0; k < n; k++ {
			repl := []byte(`engine="` + itoa(k) + `"`)
			for _, l := range samples {
				out.Write(bytes.Replace(l, []byte(`engine="0"`), repl, 1))
			}
		}
		samples = samples[:0]
	}
	for len(body) > 0 {
		i := bytes.IndexByte(body, '\n')
		line := body
		if i >= 0 {
			line, body = body[:i+1], body[i+1:]
		} else {
			body = nil
		}
		if bytes.HasPrefix(line, []byte("# HELP ")) {
			flush()
		}
		if line[0] == '#' {
			out.Write(line)
		} else {
			samples = append(samples, line)
		}
	}
	flush()
	return out.Bytes()
}
