package llmsim

import "bytes"

// EngineLlamaCpp is llama.cpp's llama-server with --metrics: no labels, no histograms,
// cumulative prompt and generation seconds.
const EngineLlamaCpp = "llamacpp"

func renderLlamaCpp(b *bytes.Buffer, p *pod) {
	w := &plainWriter{b: b}
	st := p.st
	w.counter("llamacpp:prompt_tokens_total", "Number of prompt tokens processed.", [][]label{nil}, []float64{st.promptTokens})
	w.counter("llamacpp:prompt_seconds_total", "Prompt process time", [][]label{nil}, []float64{st.prefill.sum})
	w.counter("llamacpp:tokens_predicted_total", "Number of generation tokens processed.", [][]label{nil}, []float64{st.generationTokens})
	w.counter("llamacpp:tokens_predicted_seconds_total", "Predict process time", [][]label{nil}, []float64{st.decode.sum})
	w.counter("llamacpp:n_decode_total", "Total number of llama_decode() calls", [][]label{nil}, []float64{float64(st.iterationTokens.count)})
	w.gauge("llamacpp:requests_processing", "Number of requests processing.", nil, float64(len(p.running)))
	w.gauge("llamacpp:requests_deferred", "Number of requests deferred.", nil, float64(len(p.waiting)))
}
