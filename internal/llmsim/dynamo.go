package llmsim

import (
	"bytes"
	"strings"
)

// EngineDynamoFrontend is NVIDIA Dynamo's frontend (January 2026 names): Rust prometheus crate,
// label `model` lower-cased in request metrics and as configured in the model config gauges,
// histograms with a first bucket at 0.
const EngineDynamoFrontend = "dynamo-frontend"

func renderDynamoFrontend(b *bytes.Buffer, p *pod) {
	w := &plainWriter{b: b}
	st := p.st
	lower := []label{{"model", strings.ToLower(p.spec.Model)}}
	config := []label{{"model", p.spec.Model}}
	w.gauge("dynamo_frontend_disconnected_clients", "Number of disconnected clients", nil, st.finished[reasonAbort])
	w.gauge("dynamo_frontend_inflight_requests", "Number of inflight requests", lower, float64(len(p.running)+len(p.waiting)))
	w.histogram("dynamo_frontend_input_sequence_tokens", "Input sequence length in tokens", lower, st.dyISL)
	w.histogram("dynamo_frontend_inter_token_latency_seconds", "Inter-token latency in seconds", lower, st.dyITL)
	w.gauge("dynamo_frontend_model_context_length", "Maximum context length in tokens for a worker serving the model", config, 40960)
	w.gauge("dynamo_frontend_model_kv_cache_block_size", "KV cache block size in tokens for a worker serving the model", config, 16)
	w.gauge("dynamo_frontend_model_max_num_seqs", "Maximum number of sequences for a worker serving the model", config, float64(p.spec.MaxRunning))
	w.gauge("dynamo_frontend_model_total_kv_blocks", "Total KV cache blocks available for a worker serving the model", config, float64(p.spec.KVCapacity/16))
	w.histogram("dynamo_frontend_output_sequence_tokens", "Output sequence length in tokens", lower, st.dyOSL)
	w.counter("dynamo_frontend_output_tokens_total", "Total number of output tokens generated (updates in real-time)", [][]label{lower}, []float64{st.generationTokens})
	w.gauge("dynamo_frontend_queued_requests", "Number of requests in HTTP processing queue", lower, float64(len(p.waiting)))
	w.histogram("dynamo_frontend_request_duration_seconds", "Duration of LLM requests", lower, st.dyDuration)
	req := func(status string) []label {
		return []label{{"endpoint", "chat_completions"}, lower[0], {"request_type", "stream"}, {"status", status}}
	}
	w.counter("dynamo_frontend_requests_total", "Total number of LLM requests processed", [][]label{req("error"), req("success")},
		[]float64{st.finished[reasonAbort], st.finished[reasonStop] + st.finished[reasonLength]})
	w.histogram("dynamo_frontend_time_to_first_token_seconds", "Time to first token in seconds", lower, st.dyTTFT)
}
