package llmsim

// Default histogram bounds, as the engines declare them.
var (
	// vLLM vllm/v1/metrics (buckets.py; the same lists since the V1 logger of v0.8).
	vllmTTFTBuckets      = []float64{0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640, 2560}
	vllmITLBuckets       = []float64{0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80}
	vllmLatencyBuckets   = []float64{0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680}
	vllmTokenBuckets     = []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000} // 1-2-5 up to max_model_len 8192
	vllmIterationBuckets = []float64{1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384}

	// SGLang python/sglang/srt/metrics/collector.py defaults.
	sglangTTFTBuckets  = []float64{0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60, 80, 100, 200, 400}
	sglangITLBuckets   = []float64{0.002, 0.004, 0.006, 0.008, 0.010, 0.015, 0.020, 0.025, 0.030, 0.035, 0.040, 0.060, 0.080, 0.100, 0.200, 0.400, 0.600, 0.800, 1, 2, 4, 6, 8}
	sglangE2EBuckets   = []float64{0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60, 80, 100, 200, 400, 600, 1200, 1800, 2400}
	sglangTokenBuckets = []float64{100, 300, 500, 700, 1000, 1500, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10000, 12000, 15000, 20000,
		22000, 25000, 30000, 35000, 40000, 66000, 99000, 132000, 300000, 600000, 900000, 1100000}
	sglangQueueBuckets = []float64{0, 0.001, 0.005, 0.01, 0.05, 0.1, 0.2, 0.5, 1, 2, 3, 4, 5, 10, 15, 20, 30, 40, 50, 60, 70, 80, 90, 100,
		200, 300, 400, 500, 600, 700, 800, 900, 1000, 1200, 1400, 1600, 1800, 2000, 2500, 3000}
)

// TGI router (main.rs): durations 0.0001 × 1.5^i for i = 1..35; token lengths in 100 linear
// steps up to max_input_tokens (4095 here) and max_total_tokens - max_input_tokens.
var (
	tgiDurationBuckets  = geometric(0.0001, 1.5, 35)
	tgiInputBuckets     = linear(4095, 100)
	tgiGeneratedBuckets = linear(1024, 100)
)

// Dynamo frontend defaults (lib/llm/src/http/service/metrics.rs): a first bucket at 0, then
// log-spaced values with two significant figures, as served in its own capture.
var (
	dynamoTTFTBuckets     = []float64{0, 0.0022, 0.0047, 0.01, 0.022, 0.047, 0.1, 0.22, 0.47, 1, 2.2, 4.7, 10, 22, 48, 100, 220, 480}
	dynamoITLBuckets      = []float64{0, 0.0019, 0.0035, 0.0067, 0.013, 0.024, 0.045, 0.084, 0.16, 0.3, 0.56, 1.1, 2}
	dynamoDurationBuckets = []float64{0, 1.9, 3.4, 6.3, 12, 22, 40, 75, 140, 260}
	dynamoISLBuckets      = []float64{0, 100, 210, 430, 870, 1800, 3600, 7400, 15000, 31000, 63000, 130000}
	dynamoOSLBuckets      = []float64{0, 100, 210, 430, 880, 1800, 3700, 7600, 16000, 32000}
)

func geometric(start, factor float64, n int) []float64 {
	out := make([]float64, n)
	v := start
	for i := range out {
		v *= factor
		out[i] = v
	}
	return out
}

func linear(max float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = max / float64(n) * float64(i+1)
	}
	return out
}

// Triton's first-response histogram in milliseconds (illustrative bounds).
var tritonFirstResponseMsBuckets = []float64{1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000}
