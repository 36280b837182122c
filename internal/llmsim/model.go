// Package llmsim simulates the /metrics endpoints of LLM inference engines (vLLM in two schema
// generations, SGLang, trtllm-serve, TGI, Dynamo's frontend and TensorRT-LLM worker, llama.cpp,
// LMDeploy, NIM, Triton with the TensorRT-LLM backend) and of NVIDIA dcgm-exporter, each in its
// own exposition format, driven by one deterministic load model per
// pod: Poisson arrivals, a running-batch limit, a waiting queue, a KV cache that fills with the
// running requests' tokens (and preempts when full), prefix-cache hits, and latencies that rise
// with load. GPUs follow their pod's load. It is a test tool and the engine of `make demo`.
package llmsim

import (
	"math"
	"math/rand/v2"
	"time"
)

// step is the simulation's time step: the load model advances in steps of this much simulated time.
const step = 50 * time.Millisecond

// maxCatchUp bounds how much simulated time one scrape advances (after a long pause, the model
// skips ahead instead of replaying hours of steps).
const maxCatchUp = 5 * time.Minute

// finish reasons, as vLLM's finished_reason label values.
const (
	reasonStop   = "stop"
	reasonLength = "length"
	reasonAbort  = "abort"
)

type request struct {
	prompt, output, cached int
	maxTokens              int
	abortAt                int // generated-token count at which the client aborts; 0 = never
	adapter                string

	pd                            *pdRequest // the user request it is part of, in a PD group
	arrival, admitted, firstToken time.Time
	prefillLeft                   time.Duration
	generated                     int
	tokenAcc                      float64
}

// stats are the cumulative counters and histograms of one engine process; a restart resets them.
type stats struct {
	created time.Time

	promptTokens, generationTokens float64
	prefixQueries, prefixHits      float64
	preemptions                    float64
	finished                       map[string]float64

	ttft, itl, e2e, queue, tpot, prefill, decode, inference *histogram
	promptLen, genLen, iterationTokens                      *histogram
	// SGLang's own bucket layouts for the same observations.
	sgTTFT, sgITL, sgE2E, sgQueue *histogram
	sgPromptLen, sgGenLen         *histogram // only with --collect-tokens-histogram
	// TGI's layouts; its token histograms count successful requests only.
	tgiE2E, tgiQueue, tgiTPOT, tgiInput, tgiGenerated *histogram
	// Dynamo frontend's layouts.
	dyTTFT, dyITL, dyDuration, dyISL, dyOSL *histogram
	// Triton's first-response histogram, in milliseconds.
	tritonFirstMs *histogram
}

func newStats(now time.Time) *stats {
	return &stats{
		created:         now,
		finished:        map[string]float64{reasonStop: 0, reasonLength: 0, reasonAbort: 0},
		ttft:            newHistogram(vllmTTFTBuckets),
		itl:             newHistogram(vllmITLBuckets),
		e2e:             newHistogram(vllmLatencyBuckets),
		queue:           newHistogram(vllmLatencyBuckets),
		tpot:            newHistogram(vllmITLBuckets),
		prefill:         newHistogram(vllmLatencyBuckets),
		decode:          newHistogram(vllmLatencyBuckets),
		inference:       newHistogram(vllmLatencyBuckets),
		promptLen:       newHistogram(vllmTokenBuckets),
		genLen:          newHistogram(vllmTokenBuckets),
		iterationTokens: newHistogram(vllmIterationBuckets),
		sgTTFT:          newHistogram(sglangTTFTBuckets),
		sgITL:           newHistogram(sglangITLBuckets),
		sgE2E:           newHistogram(sglangE2EBuckets),
		sgQueue:         newHistogram(sglangQueueBuckets),
		sgPromptLen:     newHistogram(sglangTokenBuckets),
		sgGenLen:        newHistogram(sglangTokenBuckets),
		tgiE2E:          newHistogram(tgiDurationBuckets),
		tgiQueue:        newHistogram(tgiDurationBuckets),
		tgiTPOT:         newHistogram(tgiDurationBuckets),
		tgiInput:        newHistogram(tgiInputBuckets),
		tgiGenerated:    newHistogram(tgiGeneratedBuckets),
		dyTTFT:          newHistogram(dynamoTTFTBuckets),
		dyITL:           newHistogram(dynamoITLBuckets),
		dyDuration:      newHistogram(dynamoDurationBuckets),
		dyISL:           newHistogram(dynamoISLBuckets),
		dyOSL:           newHistogram(dynamoOSLBuckets),
		tritonFirstMs:   newHistogram(tritonFirstResponseMsBuckets),
	}
}

// PodSpec describes one simulated inference pod and its load.
type PodSpec struct {
	Name      string `yaml:"name"`
	Namespace string `yaml:"namespace"`
	Workload  string `yaml:"workload"`
	Model     string `yaml:"model"`
	// Rate is the mean request arrival rate (requests/s); it swings ±50% over RatePeriod.
	Rate       float64       `yaml:"rate"`
	RatePeriod time.Duration `yaml:"rate_period"`
	MaxRunning int           `yaml:"max_running"`
	// KVCapacity is the KV cache size in tokens.
	KVCapacity int `yaml:"kv_capacity_tokens"`
	PromptMean int `yaml:"prompt_mean_tokens"`
	OutputMean int `yaml:"output_mean_tokens"`
	MaxTokens  int `yaml:"max_tokens"`
	// PrefixHitProb is the share of requests that hit the prefix cache; PrefixHitShare the
	// share of such a request's prompt that is cached.
	PrefixHitProb  float64 `yaml:"prefix_hit_prob"`
	PrefixHitShare float64 `yaml:"prefix_hit_share"`
	AbortProb      float64 `yaml:"abort_prob"`
	// PrefillPerToken is the prefill time per uncached prompt token at no load.
	PrefillPerToken time.Duration `yaml:"prefill_per_token"`
	// BaseITL is the inter-token latency at no load; it rises with the running batch.
	BaseITL time.Duration `yaml:"base_itl"`
	GPUs    int           `yaml:"gpus"`
	// LoRAAdapters are served adapters (vLLM only); requests pick one at random half the time.
	LoRAAdapters []string `yaml:"lora_adapters"`
	// DataParallel is vLLM's data-parallel size: every series is served once per engine
	// (engine="0".."N-1"), as vLLM does; it multiplies the series of a pod for load tests.
	DataParallel int `yaml:"data_parallel"`
}

func (s *PodSpec) applyDefaults() {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	if s.Namespace == "" {
		s.Namespace = "default"
	}
	if s.Workload == "" {
		s.Workload = s.Name
	}
	if s.Rate == 0 {
		s.Rate = 2
	}
	if s.RatePeriod == 0 {
		s.RatePeriod = 3 * time.Minute
	}
	def(&s.MaxRunning, 32)
	def(&s.KVCapacity, 60000)
	def(&s.PromptMean, 600)
	def(&s.OutputMean, 220)
	def(&s.MaxTokens, 1024)
	def(&s.GPUs, 1)
	if s.PrefixHitProb == 0 {
		s.PrefixHitProb = 0.6
	}
	if s.PrefixHitShare == 0 {
		s.PrefixHitShare = 0.5
	}
	if s.AbortProb == 0 {
		s.AbortProb = 0.01
	}
	if s.PrefillPerToken == 0 {
		s.PrefillPerToken = 150 * time.Microsecond
	}
	if s.BaseITL == 0 {
		s.BaseITL = 15 * time.Millisecond
	}
}

// pod is the load model of one inference pod.
type pod struct {
	spec PodSpec
	rng  *rand.Rand
	now  time.Time // simulated time, always a multiple of step from start

	waiting []*request
	running []*request
	st      *stats

	lastThroughput float64 // generated tokens/s over the last second (SGLang gauge)
	genWindow      []int   // generated tokens per step over the last second
	lastHitRate    float64
	restarts       int
	gpus           []*gpu

	// A PD group member: its requests come from the group (external), it has a role and
	// transfer statistics, and the group hears of every finished request.
	external bool
	role     string
	pd       *pdStats
	onFinish func(p *pod, r *request, reason string, now time.Time)
}

func newPod(spec PodSpec, seed uint64, start time.Time) *pod {
	spec.applyDefaults()
	p := &pod{spec: spec, rng: rand.New(rand.NewPCG(seed, 0x5eed)), now: start, st: newStats(start)}
	return p
}

// restart simulates an engine restart: the queue is lost and every counter starts again.
func (p *pod) restart() {
	p.waiting, p.running = nil, nil
	p.st = newStats(p.now)
	p.restarts++
}

// advance runs the model up to t.
func (p *pod) advance(t time.Time) {
	if t.Sub(p.now) > maxCatchUp {
		p.now = t.Add(-maxCatchUp).Truncate(step)
	}
	for !p.now.Add(step).After(t) {
		p.now = p.now.Add(step)
		p.step(p.now)
	}
}

func (p *pod) rate(t time.Time) float64 {
	phase := 2 * math.Pi * float64(t.UnixNano()%int64(p.spec.RatePeriod)) / float64(p.spec.RatePeriod)
	return p.spec.Rate * (1 + 0.5*math.Sin(phase))
}

// poisson draws from a Poisson distribution with mean m (Knuth; m is small per step).
func (p *pod) poisson(m float64) int {
	l, k, prod := math.Exp(-m), 0, 1.0
	for {
		prod *= p.rng.Float64()
		if prod <= l {
			return k
		}
		k++
	}
}

// lognormal draws a positive length with the given mean and a realistic spread.
func (p *pod) lognormal(mean int) int {
	const sigma = 0.6
	mu := math.Log(float64(mean)) - sigma*sigma/2
	return max(1, int(math.Exp(mu+sigma*p.rng.NormFloat64())))
}

func (p *pod) kvUsed() int {
	used := 0
	for _, r := range p.running {
		used += r.prompt + r.generated
	}
	return used
}

// KVUsage is the KV cache usage ratio 0..1.
func (p *pod) kvUsage() float64 {
	return math.Min(1, float64(p.kvUsed())/float64(p.spec.KVCapacity))
}

// load is the running batch relative to its limit, 0..1.
func (p *pod) load() float64 { return float64(len(p.running)) / float64(p.spec.MaxRunning) }

func (p *pod) itl() time.Duration {
	return time.Duration(float64(p.spec.BaseITL) * (1 + 1.5*p.load() + 0.1*p.rng.Float64()))
}

func (p *pod) step(now time.Time) {
	s, st := &p.spec, p.st
	dt := step.Seconds()

	// Arrivals (a PD member's come from its group).
	for n := p.poisson(p.rate(now) * dt); n > 0 && !p.external; n-- {
		// Arrivals fall uniformly within the step, so even an immediate admission has waited a little.
		arrival := now.Add(-time.Duration(p.rng.Float64() * float64(step)))
		r := &request{prompt: p.lognormal(s.PromptMean), output: p.lognormal(s.OutputMean), maxTokens: s.MaxTokens, arrival: arrival}
		if p.rng.Float64() < s.PrefixHitProb {
			r.cached = int(float64(r.prompt) * s.PrefixHitShare * (0.5 + p.rng.Float64()))
			r.cached = min(r.cached, r.prompt-1)
		}
		if p.rng.Float64() < s.AbortProb {
			r.abortAt = 1 + p.rng.IntN(max(1, r.output))
		}
		if len(s.LoRAAdapters) > 0 && p.rng.IntN(2) == 0 {
			r.adapter = s.LoRAAdapters[p.rng.IntN(len(s.LoRAAdapters))]
		}
		p.waiting = append(p.waiting, r)
	}

	// Admission: FIFO while the batch and the KV cache have room for the prompt.
	used := p.kvUsed()
	for len(p.waiting) > 0 && len(p.running) < s.MaxRunning && used+p.waiting[0].prompt <= s.KVCapacity {
		r := p.waiting[0]
		p.waiting = p.waiting[1:]
		r.admitted = now
		q := now.Sub(r.arrival).Seconds()
		st.queue.observe(q)
		st.sgQueue.observe(q)
		st.tgiQueue.observe(q)
		st.promptTokens += float64(r.prompt)
		st.prefixQueries += float64(r.prompt)
		st.prefixHits += float64(r.cached)
		// Prefill slows down when the batch is busy (chunked prefill shares the step).
		r.prefillLeft = time.Duration(float64(s.PrefillPerToken) * float64(r.prompt-r.cached) * (1 + 2*p.load()))
		used += r.prompt
		p.running = append(p.running, r)
	}

	// Decode.
	itl := p.itl()
	stepTokens := 0
	kept := p.running[:0]
	for _, r := range p.running {
		if r.firstToken.IsZero() {
			r.prefillLeft -= step
			stepTokens += r.prompt - r.cached
			if r.prefillLeft > 0 {
				kept = append(kept, r)
				continue
			}
			r.firstToken = now
			ttft := now.Sub(r.arrival).Seconds()
			st.ttft.observe(ttft)
			st.sgTTFT.observe(ttft)
			st.dyTTFT.observe(ttft)
			st.tritonFirstMs.observe(ttft * 1000)
			r.generated = 1
			st.generationTokens++
			stepTokens++
		} else {
			r.tokenAcc += dt / itl.Seconds()
			k := int(r.tokenAcc)
			r.tokenAcc -= float64(k)
			k = min(k, r.output-r.generated)
			r.generated += k
			st.generationTokens += float64(k)
			st.itl.observeN(itl.Seconds(), uint64(k))
			st.sgITL.observeN(itl.Seconds(), uint64(k))
			st.dyITL.observeN(itl.Seconds(), uint64(k))
			stepTokens += k
		}
		reason := ""
		switch {
		case r.abortAt > 0 && r.generated >= r.abortAt:
			reason = reasonAbort
		case r.generated >= r.maxTokens:
			reason = reasonLength
		case r.generated >= r.output:
			reason = reasonStop
		}
		if reason == "" {
			kept = append(kept, r)
			continue
		}
		p.finish(r, reason, now)
	}
	p.running = kept
	if stepTokens > 0 {
		st.iterationTokens.observe(float64(stepTokens))
	}

	// Preemption: the KV cache overflows as running requests grow; the newest go back to wait.
	for len(p.running) > 1 && p.kvUsed() > s.KVCapacity {
		r := p.running[len(p.running)-1]
		p.running = p.running[:len(p.running)-1]
		r.generated, r.tokenAcc, r.firstToken, r.admitted = 0, 0, time.Time{}, time.Time{}
		p.waiting = append([]*request{r}, p.waiting...)
		st.preemptions++
	}

	// Interval gauges SGLang reports: throughput over the last second, recent prefix hit rate.
	p.genWindow = append(p.genWindow, stepTokens)
	if len(p.genWindow) > int(time.Second/step) {
		p.genWindow = p.genWindow[1:]
	}
	total := 0
	for _, n := range p.genWindow {
		total += n
	}
	p.lastThroughput = float64(total)
	if st.prefixQueries > 0 {
		p.lastHitRate = st.prefixHits / st.prefixQueries
	}
	for _, g := range p.gpus {
		g.step(p, dt)
	}
}

func (p *pod) finish(r *request, reason string, now time.Time) {
	st := p.st
	st.finished[reason]++
	e2e := now.Sub(r.arrival).Seconds()
	st.e2e.observe(e2e)
	st.sgE2E.observe(e2e)
	st.promptLen.observe(float64(r.prompt))
	st.genLen.observe(float64(r.generated))
	st.sgPromptLen.observe(float64(r.prompt))
	st.sgGenLen.observe(float64(r.generated))
	st.prefill.observe(r.firstToken.Sub(r.admitted).Seconds())
	st.decode.observe(now.Sub(r.firstToken).Seconds())
	st.inference.observe(now.Sub(r.admitted).Seconds())
	tpot := 0.0
	if r.generated > 1 {
		tpot = now.Sub(r.firstToken).Seconds() / float64(r.generated-1)
	}
	st.tpot.observe(tpot)
	st.dyDuration.observe(e2e)
	st.dyISL.observe(float64(r.prompt))
	st.dyOSL.observe(float64(r.generated))
	if reason != reasonAbort { // TGI records these for successful requests only
		st.tgiE2E.observe(e2e)
		st.tgiInput.observe(float64(r.prompt))
		st.tgiGenerated.observe(float64(r.generated))
		// TGI's mean time per token includes the prefill: the whole request over its tokens.
		st.tgiTPOT.observe(now.Sub(r.arrival).Seconds() / float64(max(r.generated, 1)))
	}
	if p.onFinish != nil {
		p.onFinish(p, r, reason, now)
	}
}
