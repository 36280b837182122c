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
	// TensorRT-LLM 1.1 exposes only its request families.
	renderTRTLLMRequests(&pyWriter{b: b, created: created}, []label{{"engine_type", "trtllm"}, {"model_name", p.spec.Model}}, p.st)
}
