package llmsim

import "bytes"

// EngineTriton is Triton Inference Server with the TensorRT-LLM backend behind an ensemble:
// nv_trt_llm_* gauges whose labels select the concept, and nv_inference_* counters (no _total,
// cumulative microseconds for durations) once per Triton model: the ensemble and its helper
// models see the same requests as tensorrt_llm. The first-response histogram is in
// milliseconds (--metrics-config histogram_latencies=true; its bounds here are illustrative).
const EngineTriton = "triton"

func renderTriton(b *bytes.Buffer, p *pod) {
	w := &plainWriter{b: b}
	st := p.st
	llm := []label{{"model", "tensorrt_llm"}, {"version", "1"}}
	w.family("nv_trt_llm_request_metrics", "gauge", "TRT LLM request metrics")
	for _, rt := range []struct {
		kind string
		v    float64
	}{{"waiting", float64(len(p.waiting))}, {"context", 0}, {"scheduled", float64(len(p.running))}, {"max", float64(p.spec.MaxRunning)}, {"active", float64(len(p.running))}} {
		w.sample("nv_trt_llm_request_metrics", []label{llm[0], {"request_type", rt.kind}, llm[1]}, rt.v)
	}
	w.family("nv_trt_llm_kv_cache_block_metrics", "gauge", "TRT LLM KV cache block metrics")
	maxBlocks := float64(p.spec.KVCapacity / 64)
	used := float64(p.kvUsed() / 64)
	for _, kb := range []struct {
		kind string
		v    float64
	}{{"fraction", p.kvUsage()}, {"tokens_per", 64}, {"used", used}, {"free", maxBlocks - used}, {"max", maxBlocks}} {
		w.sample("nv_trt_llm_kv_cache_block_metrics", []label{{"kv_cache_block_type", kb.kind}, llm[0], llm[1]}, kb.v)
	}
	success := st.finished[reasonStop] + st.finished[reasonLength]
	models := []string{"ensemble", "postprocessing", "preprocessing", "tensorrt_llm"}
	perModel := func(name, help string, v float64, extra ...label) {
		w.family(name, "counter", help)
		for _, m := range models {
			w.sample(name, append([]label{{"model", m}}, append(extra, label{"version", "1"})...), v)
		}
	}
	perModel("nv_inference_request_success", "Number of successful inference requests, all batch sizes", success)
	perModel("nv_inference_request_failure", "Number of failed inference requests, all batch sizes", st.finished[reasonAbort], label{"reason", "CANCELED"})
	perModel("nv_inference_count", "Number of inferences performed (does not include cached requests)", success)
	perModel("nv_inference_request_duration_us", "Cumulative inference request duration in microseconds (includes cached requests)", st.e2e.sum*1e6)
	perModel("nv_inference_queue_duration_us", "Cumulative inference queuing duration in microseconds (includes cached requests)", st.queue.sum*1e6)
	w.histogram("nv_inference_first_response_histogram_ms", "Duration from request to first response in milliseconds", llm, st.tritonFirstMs)
}
