package llmsim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.yaml.in/yaml/v3"
)

// Fault is an injected misbehaviour of one endpoint.
type Fault string

const (
	FaultNone    Fault = ""
	FaultSlow    Fault = "slow"    // answer after SlowDelay
	FaultError   Fault = "error"   // HTTP 500
	FaultGarbage Fault = "garbage" // a body that is not an exposition
	FaultRestart Fault = "restart" // one-shot: the engine restarts, its counters reset
)

func parseFault(s string) (Fault, error) {
	switch f := Fault(s); f {
	case FaultNone, FaultSlow, FaultError, FaultGarbage, FaultRestart:
		return f, nil
	}
	return "", fmt.Errorf("unknown fault %q (slow, error, garbage, restart, or empty)", s)
}

// EndpointSpec is one simulated /metrics endpoint: an inference pod, or the node's dcgm-exporter.
type EndpointSpec struct {
	PodSpec `yaml:",inline"`
	// Engine is one of Engines.
	Engine string `yaml:"engine"`
	// Listen is the address to serve on, e.g. 127.0.0.1:18001 (port 0 picks a free one).
	Listen string `yaml:"listen"`
	Fault  Fault  `yaml:"fault"`
	// Group makes the endpoint a member of a prefill/decode group of that name, with Role
	// prefill, decode or router (see pd.go); the group's load is its router's Rate (else its
	// first member's).
	Group string `yaml:"group"`
	Role  string `yaml:"role"`
}

// Config is a simulated fleet on one node.
type Config struct {
	Seed uint64 `yaml:"seed"`
	Node string `yaml:"node"`
	// NoCreated drops the Python client's <name>_created series (PROMETHEUS_DISABLE_CREATED_SERIES).
	NoCreated bool           `yaml:"no_created"`
	SlowDelay time.Duration  `yaml:"slow_delay"`
	Endpoints []EndpointSpec `yaml:"endpoints"`
}

// LoadConfig reads a fleet configuration file.
func LoadConfig(path string) (Config, error) {
	var cfg Config
	b, err := os.ReadFile(path)
	if err != nil {
		return cfg, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		return cfg, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// DemoConfig is the fleet of `make demo`: two vLLM pods of one model (one on the current metric
// names, one on the older names many clusters still run), one SGLang pod of another model, one
// pod each of trtllm-serve, TGI, a Dynamo frontend and llama.cpp; two prefill/decode workloads,
// SGLang behind sgl-router and vLLM with the NIXL connector without a router (its proxy is not
// scraped); and the node's dcgm-exporter with one GPU per engine pod.
func DemoConfig() Config {
	return Config{
		Seed: 42,
		Node: "gpu-node-1",
		Endpoints: []EndpointSpec{
			{Engine: EngineVLLM, Listen: "127.0.0.1:18001", PodSpec: PodSpec{Name: "qwen3-chat-0", Namespace: "llm", Workload: "qwen3-chat", Model: "Qwen/Qwen3-8B", Rate: 3, LoRAAdapters: []string{"sql-lora", "support-lora"}}},
			{Engine: EngineVLLMLegacy, Listen: "127.0.0.1:18002", PodSpec: PodSpec{Name: "qwen3-chat-1", Namespace: "llm", Workload: "qwen3-chat", Model: "Qwen/Qwen3-8B", Rate: 3}},
			{Engine: EngineSGLang, Listen: "127.0.0.1:18003", PodSpec: PodSpec{Name: "llama-chat-0", Namespace: "llm", Workload: "llama-chat", Model: "meta-llama/Llama-3.1-8B-Instruct", Rate: 5, MaxRunning: 48}},
			{Engine: EngineTRTLLM, Listen: "127.0.0.1:18004", PodSpec: PodSpec{Name: "qwen3-small-0", Namespace: "llm", Workload: "qwen3-small", Model: "Qwen/Qwen3-0.6B", Rate: 4}},
			{Engine: EngineTGI, Listen: "127.0.0.1:18005", PodSpec: PodSpec{Name: "smollm-0", Namespace: "llm", Workload: "smollm", Model: "HuggingFaceTB/SmolLM3-3B", Rate: 3}},
			{Engine: EngineDynamoFrontend, Listen: "127.0.0.1:18006", PodSpec: PodSpec{Name: "qwen3-dynamo-0", Namespace: "llm", Workload: "qwen3-dynamo", Model: "Qwen/Qwen3-14B", Rate: 3}},
			{Engine: EngineLlamaCpp, Listen: "127.0.0.1:18007", PodSpec: PodSpec{Name: "gemma-0", Namespace: "llm", Workload: "gemma", Model: "google/gemma-3-4b-it", Rate: 2, MaxRunning: 4}},
			{Engine: EngineSGLRouter, Listen: "127.0.0.1:18008", Group: "llama-pd", Role: RoleRouter, PodSpec: PodSpec{Name: "llama-pd-router-0", Namespace: "llm", Workload: "llama-pd", Model: "meta-llama/Llama-3.1-70B-Instruct", Rate: 4}},
			{Engine: EngineSGLang, Listen: "127.0.0.1:18009", Group: "llama-pd", Role: RolePrefill, PodSpec: PodSpec{Name: "llama-pd-prefill-0", Namespace: "llm", Workload: "llama-pd", Model: "meta-llama/Llama-3.1-70B-Instruct"}},
			{Engine: EngineSGLang, Listen: "127.0.0.1:18010", Group: "llama-pd", Role: RoleDecode, PodSpec: PodSpec{Name: "llama-pd-decode-0", Namespace: "llm", Workload: "llama-pd", Model: "meta-llama/Llama-3.1-70B-Instruct", MaxRunning: 64}},
			{Engine: EngineVLLM, Listen: "127.0.0.1:18011", Group: "qwen3-pd", Role: RolePrefill, PodSpec: PodSpec{Name: "qwen3-pd-prefill-0", Namespace: "llm", Workload: "qwen3-pd", Model: "Qwen/Qwen3-32B", Rate: 3}},
			{Engine: EngineVLLM, Listen: "127.0.0.1:18012", Group: "qwen3-pd", Role: RoleDecode, PodSpec: PodSpec{Name: "qwen3-pd-decode-0", Namespace: "llm", Workload: "qwen3-pd", Model: "Qwen/Qwen3-32B", MaxRunning: 64}},
			{Engine: EngineDCGM, Listen: "127.0.0.1:19400"},
		},
	}
}

func (c *Config) validate() error {
	dcgm := 0
	names := map[string]bool{}
	for i, e := range c.Endpoints {
		switch e.Engine {
		case EngineVLLM, EngineVLLMLegacy, EngineSGLang, EngineTRTLLM, EngineTGI, EngineDynamoFrontend, EngineLlamaCpp,
			EngineNIM, EngineLMDeploy, EngineTriton, EngineDynamoTRTLLMWorker, EngineSGLRouter:
			if e.Name == "" || e.Model == "" {
				return fmt.Errorf("endpoints[%d]: name and model are required", i)
			}
			if names[e.Name] {
				return fmt.Errorf("endpoints[%d]: duplicate name %q", i, e.Name)
			}
			names[e.Name] = true
		case EngineDCGM:
			dcgm++
		default:
			return fmt.Errorf("endpoints[%d]: engine %q is not one of %s", i, e.Engine, strings.Join(Engines, ", "))
		}
		if e.Listen == "" {
			return fmt.Errorf("endpoints[%d]: listen address required", i)
		}
		if _, err := parseFault(string(e.Fault)); err != nil {
			return fmt.Errorf("endpoints[%d]: %w", i, err)
		}
	}
	if dcgm > 1 {
		return errors.New("at most one dcgm endpoint per node")
	}
	return nil
}

// Fleet serves the endpoints of one simulated node.
type Fleet struct {
	cfg Config
	now func() time.Time

	mu        sync.Mutex // guards the load models
	pods      []*pod
	groups    []*pdGroup
	Endpoints []*Endpoint
}

// Endpoint is one served /metrics endpoint.
type Endpoint struct {
	Spec EndpointSpec
	// URL is the endpoint's metrics URL, e.g. http://127.0.0.1:18001/metrics.
	URL string

	fleet  *Fleet
	pod    *pod     // nil for dcgm
	group  *pdGroup // a PD group's router
	fault  atomic.Value
	srv    *http.Server
	ln     net.Listener
	served atomic.Int64
	// inFlight counts /metrics requests being answered, so that a harness can wait for the
	// responses decided before it set a fault (see InFlight).
	inFlight atomic.Int64
}

// New builds a fleet whose clock is now (time.Now when nil) without serving it.
func New(cfg Config, now func() time.Time) (*Fleet, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	if cfg.Node == "" {
		cfg.Node = "sim-node"
	}
	if cfg.SlowDelay == 0 {
		cfg.SlowDelay = 3 * time.Second
	}
	f := &Fleet{cfg: cfg, now: now}
	start := now().Truncate(step)
	gpuIndex := 0
	for i, spec := range cfg.Endpoints {
		ep := &Endpoint{Spec: spec, fleet: f}
		ep.fault.Store(spec.Fault)
		if spec.Engine != EngineDCGM {
			p := newPod(spec.PodSpec, cfg.Seed*1000+uint64(i), start)
			ep.pod = p
			ep.Spec.PodSpec = p.spec
			if spec.Engine != EngineSGLRouter { // a router has no GPU
				for g := 0; g < p.spec.GPUs; g++ {
					p.gpus = append(p.gpus, newGPU(gpuIndex, cfg.Node))
					gpuIndex++
				}
				f.pods = append(f.pods, p)
			}
		}
		f.Endpoints = append(f.Endpoints, ep)
	}
	groups, err := groupsOf(f.Endpoints)
	if err != nil {
		return nil, err
	}
	f.groups = groups
	for _, g := range groups {
		if g.router != nil {
			g.router.group = g
		}
	}
	for _, ep := range f.Endpoints {
		if ep.Spec.Engine == EngineSGLRouter && ep.group == nil {
			return nil, fmt.Errorf("%s: a router is the member of a group", ep.Spec.Name)
		}
	}
	return f, nil
}

// Start builds a fleet on the wall clock and serves every endpoint; Close stops it.
func Start(cfg Config) (*Fleet, error) { return StartClock(cfg, nil) }

// StartClock is Start with the fleet's clock (time.Now when nil).
func StartClock(cfg Config, now func() time.Time) (*Fleet, error) {
	f, err := New(cfg, now)
	if err != nil {
		return nil, err
	}
	for _, ep := range f.Endpoints {
		ln, err := net.Listen("tcp", ep.Spec.Listen)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s endpoint %s: %w", ep.Spec.Engine, ep.Spec.Listen, err)
		}
		ep.ln = ln
		mux := http.NewServeMux()
		if ep.Spec.Engine == EngineTRTLLM {
			ep.URL = "http://" + ln.Addr().String() + trtllmMetricsPath
			mux.HandleFunc(trtllmMetricsPath, ep.serveMetrics)
			mux.HandleFunc("/metrics", serveIterationStats)
		} else {
			ep.URL = "http://" + ln.Addr().String() + "/metrics"
			mux.HandleFunc("/metrics", ep.serveMetrics)
		}
		mux.HandleFunc("/fault", ep.serveFault)
		ep.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = ep.srv.Serve(ln) }()
	}
	return f, nil
}

// Close stops serving.
func (f *Fleet) Close() {
	for _, ep := range f.Endpoints {
		if ep.srv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_ = ep.srv.Shutdown(ctx)
			cancel()
		}
	}
}

// Endpoint returns the endpoint of a pod (or "dcgm" for the exporter), nil if none.
func (f *Fleet) Endpoint(name string) *Endpoint {
	for _, ep := range f.Endpoints {
		if ep.Spec.Name == name || (name == EngineDCGM && ep.Spec.Engine == EngineDCGM) {
			return ep
		}
	}
	return nil
}

// Node is the simulated node's name (dcgm-exporter's Hostname label).
func (f *Fleet) Node() string { return f.cfg.Node }

// Render advances the fleet to now and returns the endpoint's exposition.
func (e *Endpoint) Render() []byte {
	f := e.fleet
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	for _, p := range f.pods {
		if !p.external {
			p.advance(now)
		}
	}
	for _, g := range f.groups {
		g.advance(now)
	}
	var b bytes.Buffer
	switch e.Spec.Engine {
	case EngineVLLM, EngineVLLMLegacy:
		renderVLLM(&b, e.pod, e.Spec.Engine == EngineVLLMLegacy, !f.cfg.NoCreated)
		if dp := e.pod.spec.DataParallel; dp > 1 {
			return expandEngines(b.Bytes(), dp)
		}
	case EngineSGLang:
		renderSGLang(&b, e.pod, !f.cfg.NoCreated)
	case EngineTRTLLM:
		renderTRTLLM(&b, e.pod, !f.cfg.NoCreated)
	case EngineTGI:
		renderTGI(&b, e.pod)
	case EngineDynamoFrontend:
		renderDynamoFrontend(&b, e.pod)
	case EngineLlamaCpp:
		renderLlamaCpp(&b, e.pod)
	case EngineNIM:
		renderNIM(&b, e.pod)
	case EngineLMDeploy:
		renderLMDeploy(&b, e.pod)
	case EngineTriton:
		renderTriton(&b, e.pod)
	case EngineDynamoTRTLLMWorker:
		renderDynamoTRTLLMWorker(&b, e.pod, !f.cfg.NoCreated)
	case EngineSGLRouter:
		renderSGLRouter(&b, e.group)
	case EngineDCGM:
		renderDCGM(&b, f.cfg.Node, f.pods)
	}
	return b.Bytes()
}

// SetFault changes the endpoint's behaviour from the next request on.
func (e *Endpoint) SetFault(fl Fault) { e.fault.Store(fl) }

// Served is the number of successful /metrics responses so far.
func (e *Endpoint) Served() int64 { return e.served.Load() }

// InFlight is the number of /metrics requests being answered now. After SetFault, once it is
// zero, Served counts every response that will ever be given without the fault.
func (e *Endpoint) InFlight() int64 { return e.inFlight.Load() }

// Restarts is how many times the engine restarted (counters reset).
func (e *Endpoint) Restarts() int {
	if e.pod == nil {
		return 0
	}
	e.fleet.mu.Lock()
	defer e.fleet.mu.Unlock()
	return e.pod.restarts
}

func (e *Endpoint) serveMetrics(w http.ResponseWriter, r *http.Request) {
	e.inFlight.Add(1)
	defer e.inFlight.Add(-1)
	switch e.fault.Load().(Fault) {
	case FaultSlow:
		select {
		case <-time.After(e.fleet.cfg.SlowDelay):
		case <-r.Context().Done():
			return
		}
	case FaultError:
		http.Error(w, "simulated engine failure", http.StatusInternalServerError)
		return
	case FaultGarbage:
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_, _ = w.Write([]byte("<html><body>upstream connect error or disconnect/reset before headers</body></html>\n"))
		return
	case FaultRestart:
		if e.pod != nil {
			e.fleet.mu.Lock()
			e.pod.restart()
			e.fleet.mu.Unlock()
		}
		e.fault.CompareAndSwap(FaultRestart, FaultNone)
	}
	body := e.Render()
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	if _, err := w.Write(body); err == nil {
		e.served.Add(1)
	}
}

// serveIterationStats answers trtllm-serve's /metrics: JSON iteration statistics, not Prometheus.
func serveIterationStats(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte("[]"))
}

// Engines lists the simulated engines (values of EndpointSpec.Engine).
var Engines = []string{EngineSGLRouter, EngineVLLM, EngineVLLMLegacy, EngineSGLang, EngineTRTLLM, EngineTGI, EngineDynamoFrontend,
	EngineDynamoTRTLLMWorker, EngineLlamaCpp, EngineLMDeploy, EngineNIM, EngineTriton, EngineDCGM}

// serveFault shows (GET) or sets (POST /fault?mode=slow) the endpoint's fault.
func (e *Endpoint) serveFault(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		fl, err := parseFault(r.URL.Query().Get("mode"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		e.SetFault(fl)
	}
	fmt.Fprintf(w, "%s\n", strings.TrimSpace(string(e.fault.Load().(Fault))))
}
