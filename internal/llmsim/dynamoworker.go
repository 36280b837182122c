package llmsim

import "bytes"

// EngineDynamoTRTLLMWorker is a Dynamo TensorRT-LLM worker: the worker's own dynamo_component_*
// series (KV stats without a model label) and TensorRT-LLM's metrics passed through.
const EngineDynamoTRTLLMWorker = "dynamo-trtllm-worker"

func renderDynamoTRTLLMWorker(b *bytes.Buffer, p *pod, created bool) {
	w := &plainWriter{b: b}
	comp := []label{{"dynamo_component", "tensorrt_llm"}, {"dynamo_namespace", "dynamo"}}
	w.gauge("dynamo_component_kvstats_active_blocks", "Number of active KV cache blocks", comp, float64(p.kvUsed()/16))
	w.gauge("dynamo_component_kvstats_total_blocks", "Total number of KV cache blocks", comp, float64(p.spec.KVCapacity/16))
	w.gauge("dynamo_component_kvstats_gpu_cache_usage_percent", "GPU cache usage as a percentage (0.0-1.0)", comp, p.kvUsage())
	w.gauge("dynamo_component_inflight_requests", "Number of requests currently being processed by work handler", comp, float64(len(p.running)))
	renderTRTLLM11(b, p, created)
}

// renderTRTLLM11 is what TensorRT-LLM 1.1 exposes: the request counter and four histograms.
func renderTRTLLM11(b *bytes.Buffer, p *pod, created bool) {
	w := &pyWriter{b: b, created: created}
	st := p.st
	base := []label{{"engine_type", "trtllm"}, {"model_name", p.spec.Model}}
	var series [][]label
	var values []float64
	for _, reason := range []string{reasonLength, reasonStop} {
		series = append(series, with(base, label{"finished_reason", reason}))
		values = append(values, st.finished[reason])
	}
	w.counter("trtllm_request_success", "Count of successfully processed requests.", series, values, st.created)
	w.histogram("trtllm_e2e_request_latency_seconds", "Histogram of end to end request latency in seconds.", base, st.e2e, st.created)
	w.histogram("trtllm_time_to_first_token_seconds", "Histogram of time to first token in seconds.", base, st.ttft, st.created)
	w.histogram("trtllm_time_per_output_token_seconds", "Histogram of time per output token in seconds.", base, st.tpot, st.created)
	w.histogram("trtllm_request_queue_time_seconds", "Histogram of time spent in WAITING phase for request.", base, st.queue, st.created)
}
