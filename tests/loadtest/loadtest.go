// Package loadtest runs our collector, the stock collector pipeline and vmagent side by side
// over the same simulated targets, each shipping to the same validating remote-write sink,
// and measures what each costs per sample: CPU from /proc, peak and steady RSS, and samples
// delivered against samples served.
package loadtest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"

	"github.com/otelcol-llminference/otelcol-llminference/internal/llmsim"
	"github.com/otelcol-llminference/otelcol-llminference/internal/localstack"
	"github.com/otelcol-llminference/otelcol-llminference/tests/rwsink"
)

// Target is one simulated engine endpoint.
type Target struct {
	URL, Namespace, Pod, Workload string
	ep                            *llmsim.Endpoint
	perScrape                     int64 // samples of mapped families in one scrape
}

// Workload is a simulated node: engines and, optionally, a dcgm-exporter.
type Workload struct {
	Name     string
	Node     string
	Interval time.Duration
	Targets  []*Target
	GPU      *Target
	fleet    *llmsim.Fleet
}

func (w *Workload) timeout() time.Duration { return w.Interval * 9 / 10 }

// WorkloadSpec says how big a workload is.
type WorkloadSpec struct {
	Name         string
	Pods         int
	DataParallel int // series multiplier per pod (vLLM's engine label)
	GPUs         bool
	Interval     time.Duration
}

// Node is issue 7's node workload: 8 vLLM pods of about 3,000 series each (histograms
// included) and a dcgm-exporter with their 8 GPUs.
func Node(interval time.Duration) WorkloadSpec {
	return WorkloadSpec{Name: "node", Pods: 8, DataParallel: 12, GPUs: true, Interval: interval}
}

// NodeScaled is the node workload times factor (a square: 1, 4, 16, ...): the number of targets
// and the series per target both grow by its square root, so 16x is 32 pods of 48 engines each.
func NodeScaled(factor int, interval time.Duration) (WorkloadSpec, error) {
	m := 1
	for m*m < factor {
		m++
	}
	if m*m != factor {
		return WorkloadSpec{}, fmt.Errorf("scale factor %d is not a square", factor)
	}
	s := Node(interval)
	s.Name, s.Pods, s.DataParallel = fmt.Sprintf("node-%dx", factor), s.Pods*m, s.DataParallel*m
	return s, nil
}

// Small is a node workload scaled down for a quick check of the harness itself.
func Small(interval time.Duration) WorkloadSpec {
	return WorkloadSpec{Name: "small", Pods: 2, DataParallel: 2, GPUs: true, Interval: interval}
}

// Stress is 200 vLLM targets of about 250 series each.
func Stress(interval time.Duration) WorkloadSpec {
	return WorkloadSpec{Name: "stress", Pods: 200, DataParallel: 1, Interval: interval}
}

// StartWorkload serves the workload's endpoints on loopback. Targets never emit _created
// series (PROMETHEUS_DISABLE_CREATED_SERIES): every contender then delivers exactly the
// served samples of the mapped families.
func StartWorkload(spec WorkloadSpec, renames []Rename) (*Workload, error) {
	cfg := llmsim.Config{Seed: 7, Node: "bench-node", NoCreated: true}
	for i := 0; i < spec.Pods; i++ {
		cfg.Endpoints = append(cfg.Endpoints, llmsim.EndpointSpec{Engine: llmsim.EngineVLLM, Listen: "127.0.0.1:0",
			PodSpec: llmsim.PodSpec{Name: fmt.Sprintf("qwen-%03d", i), Namespace: "llm", Workload: "qwen",
				Model: "Qwen/Qwen3-8B", Rate: 4, DataParallel: spec.DataParallel}})
	}
	if spec.GPUs {
		cfg.Endpoints = append(cfg.Endpoints, llmsim.EndpointSpec{Engine: llmsim.EngineDCGM, Listen: "127.0.0.1:0"})
	}
	fleet, err := llmsim.Start(cfg)
	if err != nil {
		return nil, err
	}
	mapped := map[string]bool{}
	for _, r := range renames {
		mapped[r.Source] = true
	}
	w := &Workload{Name: spec.Name, Node: cfg.Node, Interval: spec.Interval, fleet: fleet}
	for _, ep := range fleet.Endpoints {
		t := &Target{URL: ep.URL, Namespace: ep.Spec.Namespace, Pod: ep.Spec.Name, Workload: ep.Spec.Workload, ep: ep}
		isGPU := ep.Spec.Engine == llmsim.EngineDCGM
		n, err := countSamples(ep.Render(), func(family string) bool { return isGPU || mapped[family] })
		if err != nil {
			fleet.Close()
			return nil, fmt.Errorf("%s: %w", ep.URL, err)
		}
		t.perScrape = n
		if isGPU {
			w.GPU = t
		} else {
			w.Targets = append(w.Targets, t)
		}
	}
	return w, nil
}

// Close stops serving.
func (w *Workload) Close() { w.fleet.Close() }

// all is every endpoint of the workload.
func (w *Workload) all() []*Target {
	if w.GPU == nil {
		return w.Targets
	}
	return append(append([]*Target(nil), w.Targets...), w.GPU)
}

// SeriesPerScrape is the number of samples one round of scrapes serves of mapped families.
func (w *Workload) SeriesPerScrape() int64 {
	var n int64
	for _, t := range w.all() {
		n += t.perScrape
	}
	return n
}

// served returns how many scrapes each endpoint has answered.
func (w *Workload) served() []int64 {
	out := make([]int64, 0, len(w.Targets)+1)
	for _, t := range w.all() {
		out = append(out, t.ep.Served())
	}
	return out
}

// quiesce waits until no endpoint is answering a scrape: a response that passed the fault
// check before setFault is then counted in served.
func (w *Workload) quiesce(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for _, t := range w.all() {
		for t.ep.InFlight() > 0 {
			if time.Now().After(deadline) {
				return fmt.Errorf("%s still answering after %s", t.URL, timeout)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	return nil
}

func (w *Workload) setFault(f llmsim.Fault) {
	for _, t := range w.all() {
		t.ep.SetFault(f)
	}
}

// countSamples counts the samples of a text exposition whose family keep accepts. A
// histogram's _bucket, _sum and _count samples belong to its family.
func countSamples(body []byte, keep func(family string) bool) (int64, error) {
	p, err := textparse.New(body, "text/plain; version=0.0.4", labels.NewSymbolTable(), textparse.ParserOptions{})
	if err != nil {
		return 0, err
	}
	var n int64
	family := ""
	for {
		e, err := p.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return n, nil
			}
			return 0, err
		}
		switch e {
		case textparse.EntryType:
			name, _ := p.Type()
			family = string(name)
		case textparse.EntrySeries:
			series, _, _ := p.Series()
			name := string(series)
			if i := strings.IndexAny(name, "{ "); i >= 0 {
				name = name[:i]
			}
			if keep(name) || keep(family) {
				n++
			}
		}
	}
}

// Result is one contender's run.
type Result struct {
	Contender, Workload string
	Duration            time.Duration // measured window
	CPUSeconds          float64       // user+system CPU of the process in the window
	Delivered, Served   int64         // samples of mapped families (and GPUs) over the whole run
	WindowSamples       int64         // of those, delivered in the measured window
	Series              int           // distinct series at the sink
	PeakRSS, RSS        int64         // bytes: VmHWM over the run, VmRSS at its end
	AnonRSS, FileRSS    int64         // bytes: RssAnon (heap, stacks) and RssFile (the binary's pages) at the end
	Rejected            int64         // write requests the sink refused
	FirstError          string
	// Metrics are the delivered data metrics (names) with their sample counts.
	Metrics map[string]int64
}

// CPUPerMillion is CPU seconds per million samples delivered in the window.
func (r Result) CPUPerMillion() float64 { return r.CPUSeconds / float64(r.WindowSamples) * 1e6 }

// RSSPer1000Series is the steady RSS per 1,000 active series, in MiB.
func (r Result) RSSPer1000Series() float64 {
	return float64(r.RSS) / (1 << 20) / float64(r.Series) * 1000
}

// AnonPer1000Series is the steady anonymous RSS (heap, stacks) per 1,000 active series, in MiB.
func (r Result) AnonPer1000Series() float64 {
	return float64(r.AnonRSS) / (1 << 20) / float64(r.Series) * 1000
}

// RunOptions shape one run.
type RunOptions struct {
	Warmup, Measure time.Duration
	OtelcolBin      string
	// PeerBins are the peers' binaries by peer name (VMAgent179, ...).
	PeerBins map[string]string
	Dir      string
	Renames  []Rename
	// Pprof, when set (host:port), serves our collector's pprof there (for profiling a run).
	Pprof string
	// OursEnv is the environment our contenders run with (DaemonSetEnv: as the DaemonSet runs us).
	OursEnv []string
}

// DaemonSetEnv is the Go runtime environment the shipped DaemonSet gives the collector
// (configs/kubernetes/daemonset.yaml; a manifests test keeps them equal), so that the bench
// measures ours as it runs in production.
var DaemonSetEnv = append([]string{"GOGC=25"}, OneCoreEnv...)

// OneCoreEnv is how a Go program runs in a pod limited to one core, as the DaemonSet's is:
// one scheduler thread. Every contender gets it, so that each is measured as it would run
// there: the DaemonSet gives ours GOMAXPROCS from its CPU limit, vmagent sets it from the CPU
// quota itself, and the others take it as well as any setting of theirs.
var OneCoreEnv = []string{"GOMAXPROCS=1"}

// isDataSample says whether a delivered metric is one the workload served: a mapped engine
// metric after renaming (or under its own name, for a peer's floor that renames nothing), or a
// GPU metric; not scrape bookkeeping (up, scrape_*, llm_inference_target_up, ...) nor our
// GPU-to-pod info series.
func isDataSample(name string) bool {
	switch {
	case strings.HasPrefix(name, "DCGM_"), strings.HasPrefix(name, "vllm:"):
		return true
	case name == "llm_inference_target_up" || name == "llm_inference_pod_gpu_info" || strings.HasPrefix(name, "llm_inference_scrape_"):
		return false
	default:
		return strings.HasPrefix(name, "llm_inference_")
	}
}

func dataSamples(s *rwsink.Sink) int64 {
	var n int64
	for name, c := range s.ByMetric() {
		if isDataSample(name) {
			n += c
		}
	}
	return n
}

// Run runs one contender over the workload: warm-up, a measured window, then the targets
// stop answering and the run waits until everything scraped has been delivered.
func Run(name string, w *Workload, o RunOptions) (Result, error) {
	res := Result{Contender: name, Workload: w.Name}
	sink, err := rwsink.Start(rwsink.Options{CountByMetric: true})
	if err != nil {
		return res, err
	}
	defer sink.Close()
	dir, err := os.MkdirTemp(o.Dir, strings.ReplaceAll(name, "/", "-")+"-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	w.setFault(llmsim.FaultNone)
	served0 := w.served()
	p, err := StartContender(name, w, o, sink.URL, dir)
	if err != nil {
		return res, err
	}
	defer p.Stop()
	fail := func(err error) (Result, error) {
		return res, fmt.Errorf("%s: %w\n%s", name, err, tailLines(p.Output(), 20))
	}
	warmup := o.Warmup
	if startsLate(name) && warmup < prometheusTargetDelay {
		warmup = prometheusTargetDelay
	}
	time.Sleep(warmup)
	if p.Exited() {
		return fail(errors.New("exited during warm-up"))
	}
	cpu0, err := procCPU(p.Pid())
	if err != nil {
		return fail(err)
	}
	d0, t0 := dataSamples(sink), time.Now()
	time.Sleep(o.Measure)
	// Stop serving; wait for the last scrapes to be delivered.
	w.setFault(llmsim.FaultError)
	if err := w.quiesce(5 * time.Second); err != nil {
		return fail(err)
	}
	served1 := w.served()
	all := w.all()
	for i, t := range all {
		res.Served += (served1[i] - served0[i]) * t.perScrape
	}
	deadline := time.Now().Add(30 * time.Second)
	for dataSamples(sink) < res.Served && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // anything beyond the expected count would show up now
	cpu1, err := procCPU(p.Pid())
	if err != nil {
		return fail(err)
	}
	res.Duration = time.Since(t0)
	res.CPUSeconds = cpu1 - cpu0
	res.Delivered = dataSamples(sink)
	res.Metrics = map[string]int64{}
	for name, c := range sink.ByMetric() {
		if isDataSample(name) {
			res.Metrics[name] = c
		}
	}
	res.WindowSamples = res.Delivered - d0
	st := sink.Stats()
	res.Series, res.Rejected, res.FirstError = st.Series, st.Rejected, st.FirstError
	mem, err := localstack.ProcStatus(p.Pid(), "VmRSS", "VmHWM", "RssAnon", "RssFile")
	if err != nil {
		return fail(err)
	}
	res.RSS, res.PeakRSS, res.AnonRSS, res.FileRSS = mem["VmRSS"], mem["VmHWM"], mem["RssAnon"], mem["RssFile"]
	return res, nil
}

// prometheusTargetDelay is how long Prometheus' scrape manager takes to apply new targets (5 s),
// with a margin: the stock pipeline (contrib's prometheus receiver) and Prometheus agents warm up
// at least this long.
const prometheusTargetDelay = 7 * time.Second

func startsLate(contender string) bool {
	peer, _, _ := splitPeer(contender)
	return contender == Stock || peer == PromAgent242 || peer == PromAgent316
}

// clockTicks is USER_HZ, 100 on every Linux architecture Go supports.
const clockTicks = 100

// procCPU is the process's user+system CPU time in seconds, from /proc/<pid>/stat.
func procCPU(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the parenthesised command name; utime and stime are fields 14 and 15.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("bad /proc/%d/stat", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("bad /proc/%d/stat", pid)
	}
	ut, err1 := strconv.ParseFloat(f[11], 64)
	st, err2 := strconv.ParseFloat(f[12], 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return (ut + st) / clockTicks, nil
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// TempDir is where runs keep their files.
func TempDir() string { return filepath.Join(os.TempDir(), "llminf-loadtest") }
