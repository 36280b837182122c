package llmsim

import (
	"bytes"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func testFleet(t *testing.T, cfg Config) (*Fleet, *clock) {
	c := &clock{t: time.Unix(1700000000, 0)}
	f, err := New(cfg, c.now)
	require.NoError(t, err)
	return f, c
}

func parse(t *testing.T, body []byte) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	require.NoError(t, err, "exposition must parse:\n%s", body)
	return fams
}

func seriesKey(name string, m *dto.Metric) string {
	var b strings.Builder
	b.WriteString(name)
	for _, l := range m.Label {
		b.WriteString("," + l.GetName() + "=" + l.GetValue())
	}
	return b.String()
}

// TestInvariants runs the demo fleet under load for simulated minutes and checks, at every
// scrape: expositions parse; counters never go down; histogram buckets are cumulative and end
// at _count; gauges stay in range; the load model actually moves.
func TestInvariants(t *testing.T) {
	cfg := DemoConfig()
	cfg.Endpoints[0].Rate = 12 // overload one pod: queueing and preemption must appear
	cfg.Endpoints[0].KVCapacity = 20000
	f, clk := testFleet(t, cfg)
	last := map[string]float64{}
	sawWaiting, sawPreemption, sawRunning := false, false, false
	for i := 0; i < 40; i++ {
		clk.t = clk.t.Add(15 * time.Second)
		for _, ep := range f.Endpoints {
			fams := parse(t, ep.Render())
			require.NotEmpty(t, fams)
			for name, fam := range fams {
				for _, m := range fam.Metric {
					key := ep.Spec.Name + "/" + seriesKey(name, m)
					switch fam.GetType() {
					case dto.MetricType_COUNTER:
						v := m.GetCounter().GetValue()
						assert.GreaterOrEqualf(t, v, last[key], "counter %s went down", key)
						last[key] = v
						if name == "vllm:num_preemptions_total" && v > 0 {
							sawPreemption = true
						}
					case dto.MetricType_HISTOGRAM:
						h := m.GetHistogram()
						prev := uint64(0)
						for _, b := range h.Bucket {
							assert.GreaterOrEqualf(t, b.GetCumulativeCount(), prev, "%s buckets not cumulative", key)
							prev = b.GetCumulativeCount()
						}
						assert.Equal(t, h.GetSampleCount(), prev, "%s: +Inf bucket equals _count", key)
						assert.GreaterOrEqual(t, float64(h.GetSampleCount()), last[key], "%s count went down", key)
						last[key] = float64(h.GetSampleCount())
						// In PD, a prefill pod's requests have no decode phase (one token) and a
						// decode pod's prefill is one token in the step the request lands: zeros.
						pdPhase := ep.Spec.Group != "" && (strings.HasSuffix(name, "decode_time_seconds") ||
							strings.HasSuffix(name, "prefill_time_seconds") || strings.HasSuffix(name, "time_per_output_token_seconds"))
						if h.GetSampleCount() > 0 && !pdPhase {
							assert.Greater(t, h.GetSampleSum(), 0.0, key)
						}
					case dto.MetricType_GAUGE:
						v := m.GetGauge().GetValue()
						assert.False(t, math.IsNaN(v), key)
						switch {
						case strings.Contains(name, "cache_usage_perc"), name == "sglang:token_usage", name == "sglang:cache_hit_rate",
							strings.HasPrefix(name, "DCGM_FI_PROF_") && !strings.Contains(name, "BYTES"):
							assert.True(t, v >= 0 && v <= 1, "%s=%v out of 0..1", key, v)
						case name == "DCGM_FI_DEV_GPU_UTIL":
							assert.True(t, v >= 0 && v <= 100, "%s=%v", key, v)
						}
						if name == "vllm:num_requests_waiting" && v > 0 {
							sawWaiting = true
						}
						if name == "vllm:num_requests_running" && v > 0 {
							sawRunning = true
						}
					}
				}
			}
		}
	}
	assert.True(t, sawRunning, "requests run")
	assert.True(t, sawWaiting, "an overloaded pod queues")
	assert.True(t, sawPreemption, "a full KV cache preempts")
}

func TestEngineSchemas(t *testing.T) {
	f, clk := testFleet(t, DemoConfig())
	clk.t = clk.t.Add(time.Minute)
	tests := []struct {
		pod     string
		present []string
		absent  []string
		labels  map[string]string // labels on the running-requests gauge
	}{
		{"qwen3-chat-0",
			[]string{"vllm:kv_cache_usage_perc", "vllm:inter_token_latency_seconds", "vllm:prefix_cache_queries_total", "vllm:prefix_cache_hits_total", "vllm:request_time_per_output_token_seconds", "vllm:lora_requests_info", "vllm:prompt_tokens_created"},
			[]string{"vllm:gpu_cache_usage_perc", "vllm:time_per_output_token_seconds", "vllm:gpu_prefix_cache_queries_total"},
			map[string]string{"engine": "0", "model_name": "Qwen/Qwen3-8B"}},
		{"qwen3-chat-1",
			[]string{"vllm:gpu_cache_usage_perc", "vllm:time_per_output_token_seconds", "vllm:gpu_prefix_cache_queries_total", "vllm:gpu_prefix_cache_hits_total"},
			[]string{"vllm:kv_cache_usage_perc", "vllm:inter_token_latency_seconds", "vllm:prefix_cache_queries_total"},
			map[string]string{"engine": "0", "model_name": "Qwen/Qwen3-8B"}},
		{"llama-chat-0",
			[]string{"sglang:num_running_reqs", "sglang:num_queue_reqs", "sglang:token_usage", "sglang:cache_hit_rate", "sglang:gen_throughput", "sglang:prompt_tokens_total", "sglang:generation_tokens_total", "sglang:cached_tokens_total", "sglang:num_requests_total", "sglang:time_to_first_token_seconds", "sglang:inter_token_latency_seconds", "sglang:e2e_request_latency_seconds", "sglang:queue_time_seconds", "sglang:prompt_tokens_histogram", "sglang:generation_tokens_histogram"},
			[]string{"vllm:num_requests_running"},
			map[string]string{"engine_type": "unified", "model_name": "meta-llama/Llama-3.1-8B-Instruct", "tp_rank": "0", "pp_rank": "0", "moe_ep_rank": "0"}},
		{"qwen3-small-0",
			[]string{"trtllm_num_requests_running", "trtllm_kv_cache_utilization", "trtllm_request_success_total", "trtllm_request_success_created",
				"trtllm_time_per_output_token_seconds", "trtllm_request_queue_time_seconds", "trtllm_prompt_tokens_total"},
			[]string{"vllm:num_requests_running"},
			map[string]string{"engine_type": "trtllm", "model_name": "Qwen/Qwen3-0.6B"}},
		{"smollm-0",
			// Counters without _total, no model label, no _created.
			[]string{"tgi_request_success", "tgi_request_failure", "tgi_request_count", "tgi_queue_size", "tgi_request_input_length",
				"tgi_request_generated_tokens", "tgi_request_duration", "tgi_request_queue_duration", "tgi_request_mean_time_per_token_duration"},
			[]string{"tgi_request_success_total", "tgi_request_success_created"},
			map[string]string{}},
		{"qwen3-dynamo-0",
			[]string{"dynamo_frontend_inflight_requests", "dynamo_frontend_requests_total", "dynamo_frontend_time_to_first_token_seconds",
				"dynamo_frontend_output_tokens_total", "dynamo_frontend_input_sequence_tokens", "dynamo_frontend_model_context_length"},
			[]string{"dynamo_frontend_requests_created"},
			map[string]string{"model": "qwen/qwen3-14b"}}, // lower-cased, as Dynamo does in request metrics
		{"gemma-0",
			[]string{"llamacpp:prompt_tokens_total", "llamacpp:tokens_predicted_total", "llamacpp:prompt_seconds_total",
				"llamacpp:tokens_predicted_seconds_total", "llamacpp:requests_processing", "llamacpp:requests_deferred"},
			[]string{"llamacpp:kv_cache_usage_ratio"},
			map[string]string{}},
	}
	runningGauge := map[string]string{"qwen3-chat-0": "vllm:num_requests_running", "qwen3-chat-1": "vllm:num_requests_running",
		"llama-chat-0": "sglang:num_running_reqs", "qwen3-small-0": "trtllm_num_requests_running", "smollm-0": "tgi_batch_current_size",
		"qwen3-dynamo-0": "dynamo_frontend_inflight_requests", "gemma-0": "llamacpp:requests_processing"}
	for _, tt := range tests {
		t.Run(tt.pod, func(t *testing.T) {
			fams := parse(t, f.Endpoint(tt.pod).Render())
			for _, n := range tt.present {
				assert.Contains(t, fams, n)
			}
			for _, n := range tt.absent {
				assert.NotContains(t, fams, n)
			}
			running := fams[runningGauge[tt.pod]]
			require.NotNil(t, running, runningGauge[tt.pod])
			got := map[string]string{}
			for _, l := range running.Metric[0].Label {
				got[l.GetName()] = l.GetValue()
			}
			assert.Equal(t, tt.labels, got)
		})
	}
	// Real bucket boundaries.
	vllm := parse(t, f.Endpoint("qwen3-chat-0").Render())
	assert.Equal(t, len(vllmTTFTBuckets)+1, len(vllm["vllm:time_to_first_token_seconds"].Metric[0].GetHistogram().Bucket))
	assert.Equal(t, 0.001, vllm["vllm:time_to_first_token_seconds"].Metric[0].GetHistogram().Bucket[0].GetUpperBound())
	reasons := map[string]bool{}
	for _, m := range vllm["vllm:request_success_total"].Metric {
		for _, l := range m.Label {
			if l.GetName() == "finished_reason" {
				reasons[l.GetValue()] = true
			}
		}
	}
	assert.Equal(t, map[string]bool{"stop": true, "length": true, "abort": true, "error": true, "repetition": true}, reasons)
	// trtllm-serve at /prometheus/metrics; TGI's geometric and Dynamo's zero-first buckets.
	assert.True(t, strings.HasSuffix(f.Endpoint("qwen3-small-0").Spec.Name, "-0"))
	tgi := parse(t, f.Endpoint("smollm-0").Render())
	assert.Equal(t, 0.00015000000000000001, tgi["tgi_request_duration"].Metric[0].GetHistogram().Bucket[0].GetUpperBound())
	assert.Len(t, tgi["tgi_request_duration"].Metric[0].GetHistogram().Bucket, 36)
	dy := parse(t, f.Endpoint("qwen3-dynamo-0").Render())
	assert.Equal(t, 0.0, dy["dynamo_frontend_time_to_first_token_seconds"].Metric[0].GetHistogram().Bucket[0].GetUpperBound())
	sg := parse(t, f.Endpoint("llama-chat-0").Render())
	assert.Equal(t, 0.1, sg["sglang:time_to_first_token_seconds"].Metric[0].GetHistogram().Bucket[0].GetUpperBound())
	assert.Equal(t, 0.002, sg["sglang:inter_token_latency_seconds"].Metric[0].GetHistogram().Bucket[0].GetUpperBound())
}

// TestGPUsBelongToPods: every dcgm series names a simulated pod and carries the exporter's
// label set, each pod gets its own GPUs, and a busy pod's GPU works harder than an idle one's.
func TestGPUsBelongToPods(t *testing.T) {
	cfg := DemoConfig()
	cfg.Endpoints[1].Rate = 0.0001 // practically idle
	cfg.Endpoints[2].GPUs = 2      // tensor parallel over two GPUs
	f, clk := testFleet(t, cfg)
	clk.t = clk.t.Add(2 * time.Minute)
	fams := parse(t, f.Endpoint("dcgm").Render())
	pods := map[string]bool{}
	for _, ep := range cfg.Endpoints {
		if ep.Engine != EngineDCGM && ep.Engine != EngineSGLRouter { // a router has no GPU
			pods[ep.Name] = true
		}
	}
	gpusOf := map[string]map[string]bool{}
	util := map[string]float64{}
	for _, m := range fams["DCGM_FI_DEV_GPU_UTIL"].Metric {
		l := map[string]string{}
		for _, p := range m.Label {
			l[p.GetName()] = p.GetValue()
		}
		for _, k := range []string{"gpu", "UUID", "pci_bus_id", "device", "modelName", "Hostname", "DCGM_FI_DRIVER_VERSION", "container", "namespace", "pod"} {
			assert.NotEmpty(t, l[k], k)
		}
		require.True(t, pods[l["pod"]], "GPU of unknown pod %q", l["pod"])
		assert.Equal(t, "llm", l["namespace"])
		assert.Equal(t, "gpu-node-1", l["Hostname"])
		if gpusOf[l["pod"]] == nil {
			gpusOf[l["pod"]] = map[string]bool{}
		}
		gpusOf[l["pod"]][l["UUID"]] = true
		util[l["pod"]] = math.Max(util[l["pod"]], m.GetGauge().GetValue())
	}
	assert.Len(t, gpusOf["llama-chat-0"], 2)
	assert.Len(t, gpusOf["qwen3-chat-0"], 1)
	assert.Len(t, fams["DCGM_FI_DEV_GPU_UTIL"].Metric, len(pods)+1, "one GPU per pod, two for llama-chat-0")
	assert.Greater(t, util["qwen3-chat-0"], util["qwen3-chat-1"]+20, "GPU utilisation follows the pod's load")
}

func TestDeterministic(t *testing.T) {
	a, ca := testFleet(t, DemoConfig())
	b, cb := testFleet(t, DemoConfig())
	ca.t, cb.t = ca.t.Add(90*time.Second), cb.t.Add(90*time.Second)
	for i := range a.Endpoints {
		assert.Equal(t, string(a.Endpoints[i].Render()), string(b.Endpoints[i].Render()))
	}
	cfg := DemoConfig()
	cfg.Seed = 7
	c, cc := testFleet(t, cfg)
	cc.t = cc.t.Add(90 * time.Second)
	assert.NotEqual(t, string(a.Endpoints[0].Render()), string(c.Endpoints[0].Render()), "another seed, another run")
}

// TestFaults serves a fleet on loopback and injects each fault.
func TestFaults(t *testing.T) {
	cfg := DemoConfig()
	cfg.SlowDelay = 500 * time.Millisecond
	for i := range cfg.Endpoints {
		cfg.Endpoints[i].Listen = "127.0.0.1:0"
	}
	f, err := Start(cfg)
	require.NoError(t, err)
	t.Cleanup(f.Close)
	ep := f.Endpoint("qwen3-chat-0")
	get := func() (int, string, time.Duration) {
		start := time.Now()
		resp, err := http.Get(ep.URL)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), time.Since(start)
	}
	code, body, _ := get()
	require.Equal(t, 200, code)
	total := func(body string) float64 {
		fams := parse(t, []byte(body))
		return fams["vllm:request_success_total"].Metric[0].GetCounter().GetValue() + fams["vllm:prompt_tokens_total"].Metric[0].GetCounter().GetValue()
	}

	ep.SetFault(FaultError)
	code, _, _ = get()
	assert.Equal(t, 500, code)

	ep.SetFault(FaultGarbage)
	code, body2, _ := get()
	assert.Equal(t, 200, code)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	_, perr := parser.TextToMetricFamilies(strings.NewReader(body2))
	assert.Error(t, perr, "garbage does not parse")

	ep.SetFault(FaultSlow)
	_, _, took := get()
	assert.GreaterOrEqual(t, took, 500*time.Millisecond)

	// Restart over HTTP: counters reset, once.
	resp, err := http.Post(strings.TrimSuffix(ep.URL, "/metrics")+"/fault?mode=restart", "", nil)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	before := total(body)
	_, after, _ := get()
	assert.Equal(t, 1, ep.Restarts())
	assert.LessOrEqual(t, total(after), before, "counters restarted")
	code, _, _ = get()
	assert.Equal(t, 200, code, "restart is one-shot")
	assert.Equal(t, 1, ep.Restarts())

	resp, err = http.Post(strings.TrimSuffix(ep.URL, "/metrics")+"/fault?mode=bogus", "", nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 400, resp.StatusCode)
}

func TestConfigErrors(t *testing.T) {
	for name, cfg := range map[string]Config{
		"unknown engine": {Endpoints: []EndpointSpec{{Engine: "mlc-llm", Listen: "x", PodSpec: PodSpec{Name: "a", Model: "m"}}}},
		"no model":       {Endpoints: []EndpointSpec{{Engine: EngineVLLM, Listen: "x", PodSpec: PodSpec{Name: "a"}}}},
		"no listen":      {Endpoints: []EndpointSpec{{Engine: EngineVLLM, PodSpec: PodSpec{Name: "a", Model: "m"}}}},
		"two dcgm":       {Endpoints: []EndpointSpec{{Engine: EngineDCGM, Listen: "x"}, {Engine: EngineDCGM, Listen: "y"}}},
		"bad fault":      {Endpoints: []EndpointSpec{{Engine: EngineDCGM, Listen: "x", Fault: "explode"}}},
	} {
		_, err := New(cfg, nil)
		assert.Error(t, err, name)
	}
}

func TestDataParallelServesEverySeriesPerEngine(t *testing.T) {
	mk := func(dp int) []byte {
		f, err := New(Config{Seed: 1, NoCreated: true, Endpoints: []EndpointSpec{{Engine: EngineVLLM, Listen: "x",
			PodSpec: PodSpec{Name: "p", Model: "m", DataParallel: dp}}}}, func() time.Time { return time.Unix(1700000000, 0) })
		require.NoError(t, err)
		return f.Endpoints[0].Render()
	}
	count := func(body []byte) (samples int, engines map[string]int) {
		engines = map[string]int{}
		for _, l := range strings.Split(string(body), "\n") {
			if l == "" || l[0] == '#' {
				continue
			}
			samples++
			i := strings.Index(l, `engine="`)
			require.GreaterOrEqual(t, i, 0, l)
			engines[l[i+8:i+8+strings.IndexByte(l[i+8:], '"')]]++
		}
		return samples, engines
	}
	one, _ := count(mk(1))
	four, engines := count(mk(4))
	assert.Equal(t, 4*one, four)
	assert.Equal(t, map[string]int{"0": one, "1": one, "2": one, "3": one}, engines)
	// Still a valid exposition: every family header once, each family's samples contiguous.
	assert.Equal(t, strings.Count(string(mk(1)), "# TYPE"), strings.Count(string(mk(4)), "# TYPE"))
}

// TestEveryEngineRenders: each simulated engine serves an exposition a Prometheus parser takes,
// with its real family names and types (counters without _total where the engine has them).
func TestEveryEngineRenders(t *testing.T) {
	want := map[string]map[string]dto.MetricType{
		EngineNIM:      {"num_requests_running": dto.MetricType_GAUGE, "request_finish_total": dto.MetricType_COUNTER, "time_per_output_token_seconds": dto.MetricType_HISTOGRAM},
		EngineLMDeploy: {"lmdeploy:num_requests_waiting": dto.MetricType_GAUGE, "lmdeploy:iter_token_latency": dto.MetricType_HISTOGRAM, "lmdeploy:request_success_total": dto.MetricType_COUNTER},
		EngineTriton: {"nv_trt_llm_request_metrics": dto.MetricType_GAUGE, "nv_inference_request_success": dto.MetricType_COUNTER,
			"nv_inference_request_duration_us": dto.MetricType_COUNTER, "nv_inference_first_response_histogram_ms": dto.MetricType_HISTOGRAM},
		EngineDynamoTRTLLMWorker: {"dynamo_component_kvstats_gpu_cache_usage_percent": dto.MetricType_GAUGE, "trtllm_request_success_total": dto.MetricType_COUNTER},
		EngineTRTLLM:             {"trtllm_kv_cache_utilization": dto.MetricType_GAUGE},
		EngineTGI:                {"tgi_request_success": dto.MetricType_COUNTER, "tgi_request_input_length": dto.MetricType_HISTOGRAM},
		EngineDynamoFrontend:     {"dynamo_frontend_output_tokens_total": dto.MetricType_COUNTER},
		EngineLlamaCpp:           {"llamacpp:prompt_seconds_total": dto.MetricType_COUNTER},
	}
	for engine, families := range want {
		t.Run(engine, func(t *testing.T) {
			f, clk := testFleet(t, Config{Seed: 3, Endpoints: []EndpointSpec{{Engine: engine, Listen: "x",
				PodSpec: PodSpec{Name: "p-0", Namespace: "llm", Workload: "w", Model: "M/Model-1B", Rate: 5}}}})
			clk.t = clk.t.Add(time.Minute)
			fams := parse(t, f.Endpoint("p-0").Render())
			for name, typ := range families {
				if assert.Contains(t, fams, name) {
					assert.Equal(t, typ, fams[name].GetType(), name)
				}
			}
		})
	}
	// Triton counts each request once per model of the ensemble.
	f, clk := testFleet(t, Config{Seed: 3, Endpoints: []EndpointSpec{{Engine: EngineTriton, Listen: "x",
		PodSpec: PodSpec{Name: "p-0", Namespace: "llm", Workload: "w", Model: "m", Rate: 5}}}})
	clk.t = clk.t.Add(time.Minute)
	models := map[string]bool{}
	for _, m := range parse(t, f.Endpoint("p-0").Render())["nv_inference_request_success"].Metric {
		for _, l := range m.Label {
			if l.GetName() == "model" {
				models[l.GetValue()] = true
			}
		}
	}
	assert.Equal(t, map[string]bool{"ensemble": true, "preprocessing": true, "postprocessing": true, "tensorrt_llm": true}, models)
}

// TestPDGroupCountsOnce: in a PD group each user request runs on a prefill pod and on a decode
// pod, and each engine counts it; the router and the group's truth count it once. The prefill
// pod processes each prompt once, the decode pod makes the users' tokens; the KV transfer shows
// on the side that records it (SGLang's prefill, vLLM NIXL's decode).
func TestPDGroupCountsOnce(t *testing.T) {
	f, clk := testFleet(t, DemoConfig())
	start := clk.t
	clk.t = clk.t.Add(5 * time.Minute)
	counter := func(pod, name string) float64 {
		fams := parse(t, f.Endpoint(pod).Render())
		require.Contains(t, fams, name, pod)
		v := 0.0
		for _, m := range fams[name].Metric {
			v += m.GetCounter().GetValue()
		}
		return v
	}
	routerRequests := counter("llama-pd-router-0", "sgl_router_requests_total")
	truth, ok := f.Endpoint("llama-pd-router-0").TruthBetween(start, clk.t)
	require.True(t, ok)
	require.Greater(t, truth.Requests, 500.0, "4 requests/s for 5 minutes")
	assert.Equal(t, truth.Requests, routerRequests, "the router counts each request once")
	prefill, decode := counter("llama-pd-prefill-0", "sglang:num_requests_total"), counter("llama-pd-decode-0", "sglang:num_requests_total")
	assert.Equal(t, truth.Requests, decode, "each request finishes once on the decode side")
	assert.GreaterOrEqual(t, prefill, decode, "and earlier on the prefill side")
	assert.Greater(t, prefill+decode, 1.9*truth.Requests, "a sum over the group's pods counts it twice")
	assert.Equal(t, truth.PromptTokens, counter("llama-pd-prefill-0", "sglang:prompt_tokens_total"))
	assert.Greater(t, counter("llama-pd-decode-0", "sglang:prompt_tokens_total"), 0.9*truth.PromptTokens, "the decode side counts the prompt again")
	assert.Equal(t, truth.GenerationTokens, counter("llama-pd-decode-0", "sglang:generation_tokens_total"))

	sg := parse(t, f.Endpoint("llama-pd-prefill-0").Render())
	assert.Equal(t, "prefill", labelOf(sg["sglang:num_running_reqs"].Metric[0], "engine_type"))
	assert.Positive(t, sg["sglang:kv_transfer_latency_ms"].Metric[0].GetHistogram().GetSampleCount())
	sd := parse(t, f.Endpoint("llama-pd-decode-0").Render())
	assert.Equal(t, "decode", labelOf(sd["sglang:num_running_reqs"].Metric[0], "engine_type"))
	assert.Contains(t, sd, "sglang:num_decode_transfer_queue_reqs")
	vd := parse(t, f.Endpoint("qwen3-pd-decode-0").Render())
	assert.Positive(t, vd["vllm:nixl_xfer_time_seconds"].Metric[0].GetHistogram().GetSampleCount())
	qt, _ := f.Endpoint("qwen3-pd-decode-0").TruthBetween(start, clk.t)
	assert.Equal(t, qt.Requests, counter("qwen3-pd-decode-0", "vllm:request_success_total"), "without a router, the decode side's count is the truth")
}

func labelOf(m *dto.Metric, name string) string {
	for _, l := range m.Label {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
