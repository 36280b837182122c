package llmsim

import "bytes"

// EngineTGI is Hugging Face Text Generation Inference 3.x: no model label, counters without
// _total, token totals only as the sums of the request-length histograms (successful requests).
const EngineTGI = "tgi"

func renderTGI(b *bytes.Buffer, p *pod) {
	w := &plainWriter{b: b}
	st := p.st
	success := st.finished[reasonStop] + st.finished[reasonLength]
	w.counter("tgi_request_success", "Number of successful requests", [][]label{nil}, []float64{success})
	w.counter("tgi_request_count", "Total number of requests", [][]label{nil}, []float64{success + st.finished[reasonAbort]})
	// Client disconnects surface as failed generations.
	w.counter("tgi_request_failure", "Number of failed requests", [][]label{{{"err", "generation"}}}, []float64{st.finished[reasonAbort]})
	w.gauge("tgi_queue_size", "Current queue size", nil, float64(len(p.waiting)))
	w.gauge("tgi_batch_current_size", "Current batch size", nil, float64(len(p.running)))
	w.gauge("tgi_batch_current_max_tokens", "Maximum tokens for the current batch", nil, float64(p.kvUsed()))
	w.histogram("tgi_request_input_length", "Input token length per request", nil, st.tgiInput)
	w.histogram("tgi_request_generated_tokens", "Generated tokens per request", nil, st.tgiGenerated)
	w.histogram("tgi_request_duration", "Request duration", nil, st.tgiE2E)
	w.histogram("tgi_request_queue_duration", "Time spent in the queue per request", nil, st.tgiQueue)
	w.histogram("tgi_request_mean_time_per_token_duration", "Mean time per token per request", nil, st.tgiTPOT)
}
