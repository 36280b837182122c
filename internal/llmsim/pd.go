package llmsim

import (
	"bytes"
	"fmt"
	"sort"
	"time"
)

// Prefill/decode (PD) disaggregation, as real deployments run it: user requests arrive at the
// group (through its router when it has one), each runs on a prefill pod with max_tokens=1 (its
// prompt processed once, one token discarded), its KV cache is transferred to a decode pod, and
// the decode pod, which receives the whole prompt again with the KV cache already there,
// generates the output. Every engine counts what it did, so a sum over the group's pods counts
// each request twice and each prompt twice; the group keeps the truth of what the users got.

// Roles of PD group members (EndpointSpec.Role).
const (
	RolePrefill = "prefill"
	RoleDecode  = "decode"
	RoleRouter  = "router"
)

// EngineSGLRouter is SGLang's router (sgl-router, Rust): it routes each request of its group
// to a prefill and a decode worker and counts it once.
const EngineSGLRouter = "sglang-router"

// kvBytesPerToken is the KV cache size of one token that a transfer moves (an 8B model in bf16:
// 36 layers x 8 KV heads x 128 dims x 2 (K and V) x 2 bytes).
const kvBytesPerToken = 36 * 8 * 128 * 2 * 2

// transferGBps is the simulated KV transfer bandwidth (RDMA).
const transferGBps = 20.0

// Truth is what a PD group served its users: each request, prompt and output token once.
type Truth struct {
	// Requests finished (the decode side finished them), prompt tokens processed (on the prefill
	// side), tokens generated for users (on the decode side).
	Requests, PromptTokens, GenerationTokens float64
}

// truthPoint is the group's truth at one simulated time.
type truthPoint struct {
	at time.Time
	Truth
}

type pdGroup struct {
	name    string
	model   string
	load    *pod // the group's arrival process (the router's spec, else the first member's)
	router  *Endpoint
	prefill []*pod
	decode  []*pod
	workers map[*pod]string // worker URL as the router names it
	next    int

	inflight  []*transfer
	truth     Truth
	history   []truthPoint // one per second of simulated time
	lastPoint time.Time

	// the router's own counters
	routerCreated  time.Time
	routerRequests float64
	routerDuration *histogram
	routerRunning  map[string]int
}

// pdRequest is a user request as the group follows it through prefill, transfer and decode.
type pdRequest struct {
	arrival        time.Time
	prompt, cached int
	output, maxTok int
	prefillW       string
	decodeW        string
	prefill        *pod
	decode         *pod
}

type transfer struct {
	r        *pdRequest
	started  time.Time
	due      time.Time
	bytes    float64
	receiver *pod
}

// sglRouterDurationBuckets are sgl-router's buckets for every *duration_seconds histogram.
var sglRouterDurationBuckets = []float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30, 45, 60, 90, 120, 180, 240}

// Buckets of the PD transfer histograms: vLLM's NIXL connector and SGLang's 2026 collector.
var (
	nixlXferBuckets     = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 5}
	nixlBytesBuckets    = []float64{2048, 8192, 32768, 131072, 524288, 2097152, 8388608, 33554432, 134217728, 536870912, 2147483648, 8589934592}
	sglangKVLatencyMs   = []float64{1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000}
	sglangKVTotalMB     = []float64{1, 5, 10, 50, 100, 500, 1000, 5000, 10000}
	sglangKVSpeedGBps   = []float64{0.1, 0.5, 1, 5, 10, 25, 50, 100, 200, 400}
	sglangKVBootstrapMs = []float64{1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500}
)

// pdStats are a PD member's transfer statistics (the prefill side's for SGLang, the decode
// side's for vLLM's NIXL connector, where the decode side pulls).
type pdStats struct {
	xfer, xferBytes                  *histogram // NIXL: seconds, bytes
	sgLatencyMs, sgTotalMB, sgSpeed  *histogram // SGLang: ms, MB, GB/s
	sgBootstrapMs                    *histogram
	failed, bootstrapFailed, expired float64
	sending, receiving               int // transfers under way from / to this pod
}

func newPDStats() *pdStats {
	return &pdStats{
		xfer: newHistogram(nixlXferBuckets), xferBytes: newHistogram(nixlBytesBuckets),
		sgLatencyMs: newHistogram(sglangKVLatencyMs), sgTotalMB: newHistogram(sglangKVTotalMB),
		sgSpeed: newHistogram(sglangKVSpeedGBps), sgBootstrapMs: newHistogram(sglangKVBootstrapMs),
	}
}

// groupsOf builds the PD groups of a fleet's endpoints (those with a Group) and checks each has
// a prefill and a decode member.
func groupsOf(eps []*Endpoint) ([]*pdGroup, error) {
	byName := map[string]*pdGroup{}
	var out []*pdGroup
	for _, ep := range eps {
		if ep.Spec.Group == "" {
			continue
		}
		g := byName[ep.Spec.Group]
		if g == nil {
			g = &pdGroup{name: ep.Spec.Group, model: ep.Spec.Model, workers: map[*pod]string{}, routerRunning: map[string]int{},
				routerDuration: newHistogram(sglRouterDurationBuckets)}
			byName[ep.Spec.Group] = g
			out = append(out, g)
		}
		if ep.Spec.Model != g.model {
			return nil, fmt.Errorf("group %s: %s serves %q, the group %q", g.name, ep.Spec.Name, ep.Spec.Model, g.model)
		}
		switch ep.Spec.Role {
		case RoleRouter:
			if ep.Spec.Engine != EngineSGLRouter || g.router != nil {
				return nil, fmt.Errorf("group %s: one router, engine %s", g.name, EngineSGLRouter)
			}
			g.router = ep
			g.load = ep.pod
		case RolePrefill, RoleDecode:
			if ep.Spec.Engine != EngineVLLM && ep.Spec.Engine != EngineSGLang {
				return nil, fmt.Errorf("group %s: %s: prefill and decode members run %s or %s", g.name, ep.Spec.Name, EngineVLLM, EngineSGLang)
			}
			ep.pod.external = true
			ep.pod.pd = newPDStats()
			ep.pod.role = ep.Spec.Role
			g.workers[ep.pod] = "http://" + ep.Spec.Name + ":8000"
			if ep.Spec.Role == RolePrefill {
				g.prefill = append(g.prefill, ep.pod)
			} else {
				g.decode = append(g.decode, ep.pod)
			}
			if g.load == nil {
				g.load = ep.pod
			}
		default:
			return nil, fmt.Errorf("group %s: %s: role must be %s, %s or %s, got %q", g.name, ep.Spec.Name, RolePrefill, RoleDecode, RoleRouter, ep.Spec.Role)
		}
	}
	for _, g := range out {
		if len(g.prefill) == 0 || len(g.decode) == 0 {
			return nil, fmt.Errorf("group %s: needs a prefill and a decode member", g.name)
		}
		g.routerCreated = g.load.now
		g.lastPoint = g.load.now
		for _, p := range append(append([]*pod(nil), g.prefill...), g.decode...) {
			p.onFinish = g.finished
		}
	}
	return out, nil
}

// advance runs the group, step by step, up to t.
func (g *pdGroup) advance(t time.Time) {
	l := g.load
	if t.Sub(l.now) > maxCatchUp {
		skip := t.Add(-maxCatchUp).Truncate(step)
		for _, p := range g.members() {
			p.now = skip
		}
		l.now = skip
	}
	for !l.now.Add(step).After(t) {
		now := l.now.Add(step)
		g.step(now)
	}
}

func (g *pdGroup) members() []*pod {
	return append(append([]*pod(nil), g.prefill...), g.decode...)
}

func (g *pdGroup) step(now time.Time) {
	l := g.load
	s := &l.spec
	l.now = now
	// Arrivals: each user request goes to a prefill and a decode worker, round robin.
	for n := l.poisson(l.rate(now) * step.Seconds()); n > 0; n-- {
		arrival := now.Add(-time.Duration(l.rng.Float64() * float64(step)))
		r := &pdRequest{arrival: arrival, prompt: l.lognormal(s.PromptMean), output: l.lognormal(s.OutputMean), maxTok: s.MaxTokens}
		if l.rng.Float64() < s.PrefixHitProb {
			r.cached = min(int(float64(r.prompt)*s.PrefixHitShare*(0.5+l.rng.Float64())), r.prompt-1)
		}
		p := g.prefill[g.next%len(g.prefill)]
		r.prefill, r.decode = p, g.decode[g.next%len(g.decode)]
		g.next++
		r.prefillW, r.decodeW = g.workers[p], g.workers[r.decode]
		g.routerRunning[r.prefillW]++
		p.waiting = append(p.waiting, &request{prompt: r.prompt, cached: r.cached, output: 1, maxTokens: 1, arrival: arrival, pd: r})
	}
	for _, p := range g.prefill {
		before := p.st.promptTokens
		p.now = now
		p.step(now)
		g.truth.PromptTokens += p.st.promptTokens - before
	}
	// Transfers that completed: the decode side receives the request with its KV cache.
	kept := g.inflight[:0]
	for _, tr := range g.inflight {
		if tr.due.After(now) {
			kept = append(kept, tr)
			continue
		}
		g.landed(tr, now)
	}
	g.inflight = kept
	for _, p := range g.decode {
		before := p.st.generationTokens
		p.now = now
		p.step(now)
		g.truth.GenerationTokens += p.st.generationTokens - before
	}
	if now.Sub(g.lastPoint) >= time.Second {
		g.lastPoint = now
		g.history = append(g.history, truthPoint{at: now, Truth: g.truth})
		if len(g.history) > 3600 {
			g.history = g.history[1:]
		}
	}
}

// finished is called by a member pod when one of its requests finishes.
func (g *pdGroup) finished(p *pod, r *request, reason string, now time.Time) {
	u := r.pd
	if u == nil {
		return
	}
	if p.role == RolePrefill {
		// The KV cache of the prompt moves to the decode pod: a bootstrap, then the transfer.
		g.routerRunning[u.prefillW]--
		b := float64(u.prompt) * kvBytesPerToken
		d := time.Duration((0.002 + b/(transferGBps*1e9)*(1+0.3*g.load.rng.Float64())) * float64(time.Second))
		tr := &transfer{r: u, started: now, due: now.Add(d), bytes: b, receiver: u.decode}
		p.pd.sending++
		u.decode.pd.receiving++
		g.inflight = append(g.inflight, tr)
		p.pd.sgBootstrapMs.observe(1 + 2*g.load.rng.Float64())
		g.routerRunning[u.decodeW]++
		return
	}
	g.routerRunning[u.decodeW]--
	g.truth.Requests++
	g.routerRequests++
	g.routerDuration.observe(now.Sub(u.arrival).Seconds())
}

// landed finishes a transfer: both sides record it, the decode side gets the request.
func (g *pdGroup) landed(tr *transfer, now time.Time) {
	u := tr.r
	secs := now.Sub(tr.started).Seconds()
	sender := u.prefill
	sender.pd.sending--
	sender.pd.sgLatencyMs.observe(secs * 1000)
	sender.pd.sgTotalMB.observe(tr.bytes / (1 << 20))
	sender.pd.sgSpeed.observe(tr.bytes / secs / 1e9)
	d := tr.receiver
	d.pd.receiving--
	d.pd.xfer.observe(secs)
	d.pd.xferBytes.observe(tr.bytes)
	// The whole prompt again, all of it but the last token already in the KV cache.
	d.waiting = append(d.waiting, &request{prompt: u.prompt, cached: u.prompt - 1, output: u.output, maxTokens: u.maxTok, arrival: tr.due, pd: u})
}

// truthAt is the group's truth at the last whole second before t.
func (g *pdGroup) truthAt(t time.Time) Truth {
	i := sort.Search(len(g.history), func(i int) bool { return g.history[i].at.After(t) })
	if i == 0 {
		return Truth{}
	}
	return g.history[i-1].Truth
}

// TruthBetween is what the endpoint's PD group served its users between from and to (at
// one-second resolution), false when the endpoint is not in a group.
func (e *Endpoint) TruthBetween(from, to time.Time) (Truth, bool) {
	f := e.fleet
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, g := range f.groups {
		if g.name == e.Spec.Group {
			a, b := g.truthAt(from), g.truthAt(to)
			return Truth{Requests: b.Requests - a.Requests, PromptTokens: b.PromptTokens - a.PromptTokens,
				GenerationTokens: b.GenerationTokens - a.GenerationTokens}, true
		}
	}
	return Truth{}, false
}

// renderSGLRouter writes sgl-router's exposition (Rust metrics-exporter-prometheus: TYPE lines
// only, plain numbers): requests counted once, at the router.
func renderSGLRouter(b *bytes.Buffer, g *pdGroup) {
	w := &plainWriter{b: b, noHelp: true}
	route := []label{{"route", "/generate"}}
	w.counter("sgl_router_requests_total", "", [][]label{route}, []float64{g.routerRequests})
	w.histogram("sgl_router_request_duration_seconds", "", route, g.routerDuration)
	var workers []string
	for _, u := range g.workers {
		workers = append(workers, u)
	}
	sort.Strings(workers)
	w.family("sgl_router_running_requests", "gauge", "")
	for _, u := range workers {
		w.sample("sgl_router_running_requests", []label{{"worker", u}}, float64(max(0, g.routerRunning[u])))
	}
	w.family("sgl_router_worker_health", "gauge", "")
	for _, u := range workers {
		w.sample("sgl_router_worker_health", []label{{"worker", u}}, 1)
	}
	w.gauge("sgl_router_active_workers", "", nil, float64(len(workers)))
}

// renderNIXL writes vLLM's NIXL connector metrics of a PD member.
func renderNIXL(w *pyWriter, p *pod, base []label) {
	st := p.pd
	w.histogram("vllm:nixl_xfer_time_seconds", "Histogram of transfer duration for NIXL KV Cache transfers.", base, st.xfer, p.st.created)
	w.histogram("vllm:nixl_bytes_transferred", "Histogram of bytes transferred per NIXL KV Cache transfers.", base, st.xferBytes, p.st.created)
	w.counter("vllm:nixl_num_failed_transfers", "Number of failed NIXL KV Cache transfers.", [][]label{base}, []float64{st.failed}, p.st.created)
	w.counter("vllm:nixl_num_kv_expired_reqs", "Number of requests that had their KV expire.", [][]label{base}, []float64{st.expired}, p.st.created)
}

// renderSGLangPD writes SGLang's disaggregation metrics of a PD member (sched: its scheduler labels).
func renderSGLangPD(w *pyWriter, p *pod, sched []label) {
	st := p.pd
	if p.role == RolePrefill {
		w.gauge("sglang:num_prefill_bootstrap_queue_reqs", "The number of requests in the prefill bootstrap queue.", sched, 0)
		w.gauge("sglang:num_prefill_inflight_queue_reqs", "The number of requests in the prefill inflight queue.", sched, float64(st.sending))
	} else {
		w.gauge("sglang:num_decode_prealloc_queue_reqs", "The number of requests in the decode prealloc queue.", sched, float64(len(p.waiting)))
		w.gauge("sglang:num_decode_transfer_queue_reqs", "The number of requests in the decode transfer queue.", sched, float64(st.receiving))
	}
	w.counter("sglang:num_bootstrap_failed_reqs", "The number of bootstrap failed requests.", [][]label{sched}, []float64{st.bootstrapFailed}, p.st.created)
	w.counter("sglang:num_transfer_failed_reqs", "The number of transfer failed requests.", [][]label{sched}, []float64{st.failed}, p.st.created)
	if p.role == RolePrefill {
		w.histogram("sglang:kv_transfer_speed_gb_s", "Histogram of KV transfer speed in GB/s.", sched, st.sgSpeed, p.st.created)
		w.histogram("sglang:kv_transfer_latency_ms", "Histogram of KV transfer latency in ms.", sched, st.sgLatencyMs, p.st.created)
		w.histogram("sglang:kv_transfer_total_mb", "Histogram of KV cache transfer size in MB.", sched, st.sgTotalMB, p.st.created)
	}
	w.histogram("sglang:kv_transfer_bootstrap_ms", "Histogram of KV transfer bootstrap time in ms.", sched, st.sgBootstrapMs, p.st.created)
}
