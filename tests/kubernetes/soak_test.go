package kubernetes_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-llminference/otelcol-llminference/internal/llmsim"
	"github.com/otelcol-llminference/otelcol-llminference/internal/localstack"
	"github.com/otelcol-llminference/otelcol-llminference/tests/harness"
)

// TestSoak is `make soak` (a benchmark, not part of make test): the node workload of make bench
// (8 vLLM pods of about 3,000 series and their dcgm-exporter, scraped every 2 s) discovered
// through a real API server while pods churn (one created every 3 s, each deleted after 20 s),
// two backend outages and one SIGKILL of the collector, for SOAK_DURATION (default 30m). It
// reports samples served against stored in a real Prometheus (target: equal), the collector's
// RSS, goroutines and open files at start and end (target: flat), and the queue's peak.
func TestSoak(t *testing.T) {
	if os.Getenv("LLMINF_SOAK") == "" {
		t.Skip("make soak runs it (LLMINF_SOAK=1)")
	}
	dur := 30 * time.Minute
	if v := os.Getenv("SOAK_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		require.NoError(t, err, "SOAK_DURATION")
		dur = d
	}
	const (
		ns          = "llm-soak"
		soakEvery   = 2 * time.Second // the collection interval
		churnEvery  = 3 * time.Second
		churnLife   = 20 * time.Second
		sampleEvery = 15 * time.Second
	)
	e := newEnv(t)
	e.namespace(ns)
	prom := harness.StartPrometheus(t, "")
	proxy := harness.NewFaultProxy(t, prom.WriteURL(), "llm_inference_target_up")
	gpu, err := llmsim.Start(llmsim.Config{Seed: 1, Node: ourNode, Endpoints: []llmsim.EndpointSpec{{Engine: llmsim.EngineDCGM, Listen: "127.0.0.1:0"}}})
	require.NoError(t, err)
	t.Cleanup(gpu.Close)

	var pods []*enginePod // every pod of the run, churned ones included
	for i := range 8 {
		pods = append(pods, e.createPod(podOpts{ns: ns, name: fmt.Sprintf("qwen-%d", i), labels: labelled("qwen", "vllm"), dataParallel: 12}))
	}

	metricsPort, pprofPort := harness.FreePort(t), harness.FreePort(t)
	cfg := fmt.Sprintf(`
receivers:
  llminference:
    collection_interval: %s
    scrape_timeout: 1800ms
    namespaces: [%s]
    kubernetes: {enabled: true, auth_type: kubeConfig, node_name: %s}
    gpu_exporter: {endpoint: %q}
processors:
  llminference: {}
exporters:
  llminference_remote_write:
    endpoint: %s
    queue: {directory: %q}
    retry_on_failure: {enabled: true, initial_interval: 1s, max_interval: 10s, max_elapsed_time: 0s}
extensions:
  pprof: {endpoint: "127.0.0.1:%d"}
service:
  extensions: [pprof]
  telemetry:
    logs: {level: warn}
    metrics:
      readers:
        - pull: {exporter: {prometheus: {host: 127.0.0.1, port: %d}}}
  pipelines:
    metrics: {receivers: [llminference], processors: [llminference], exporters: [llminference_remote_write]}
`, soakEvery, ns, ourNode, gpu.Endpoints[0].URL, proxy.WriteURL(), t.TempDir(), pprofPort, metricsPort)
	path := filepath.Join(t.TempDir(), "collector.yaml")
	require.NoError(t, os.WriteFile(path, []byte(cfg), 0o600))
	kubeconfig := e.a.Kubeconfig(t, "soak", e.cluster.AdminToken)
	start := func() *harness.Process {
		return harness.StartCollectorFile(t, e.bin, path, "KUBECONFIG="+kubeconfig)
	}
	col := start()

	// The schedule, as fractions of the run.
	outage := min(3*time.Minute, dur/10)
	warmup := min(2*time.Minute, dur/10)
	outages := []time.Duration{dur * 20 / 100, dur * 60 / 100}
	killAt := dur * 40 / 100

	var (
		samples          []soakSample
		startS, endS     soakSample
		afterKill        soakSample
		queuePeak        float64
		queuePeakBytes   float64
		churned, deleted int
		alive            []*enginePod
		born             = map[*enginePod]time.Time{}
		killed, down     bool
	)
	measure := func(at time.Duration) soakSample {
		s := soakSample{at: at}
		if st, err := localstack.ProcStatus(col.Pid(), "VmRSS"); err == nil {
			s.rss = st["VmRSS"]
		}
		if fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", col.Pid())); err == nil {
			s.fds = len(fds)
		}
		s.goroutines = goroutines(pprofPort)
		s.queue = harness.CollectorMetric(metricsPort, "otelcol_llminference_remote_write_queue_scrapes", "")
		s.queueBytes = harness.CollectorMetric(metricsPort, "otelcol_llminference_remote_write_queue_size", "")
		return s
	}
	begin := time.Now()
	lastChurn, lastSample := begin, begin
	for at := time.Duration(0); at < dur; at = time.Since(begin) {
		time.Sleep(200 * time.Millisecond)
		now := time.Now()
		// Churn: a pod every churnEvery; a pod past churnLife stops answering (SIGTERM), then is
		// deleted, as the kubelet does.
		if now.Sub(lastChurn) >= churnEvery {
			lastChurn = now
			p := e.createPod(podOpts{ns: ns, name: fmt.Sprintf("churn-%04d", churned), labels: labelled("qwen", "vllm")})
			churned++
			pods = append(pods, p)
			alive = append(alive, p)
			born[p] = now
		}
		for len(alive) > 0 && now.Sub(born[alive[0]]) >= churnLife {
			p := alive[0]
			alive = alive[1:]
			p.engine.SetFault(llmsim.FaultError)
			e.deletePod(p)
			deleted++
			go func() { time.Sleep(3 * soakEvery); p.fleet.Close() }()
		}
		// Two backend outages.
		inOutage := false
		for _, o := range outages {
			if at >= o && at < o+outage {
				inOutage = true
			}
		}
		if inOutage != down {
			down = inOutage
			proxy.SetMode(map[bool]string{true: harness.ModeDown, false: harness.ModeUp}[down])
			t.Logf("%s: backend %s", at.Round(time.Second), map[bool]string{true: "down", false: "up"}[down])
		}
		// One SIGKILL. The engines stop answering for a moment first, so that no scrape is in
		// flight: a scrape is durable once it is queued, and this run measures the queue.
		if !killed && at >= killAt {
			killed = true
			for _, p := range pods {
				p.engine.SetFault(llmsim.FaultError)
			}
			time.Sleep(soakEvery * 3 / 2)
			before := measure(at)
			col.Kill()
			col = start()
			for _, p := range alive {
				p.engine.SetFault(llmsim.FaultNone)
			}
			for _, p := range pods[:8] {
				p.engine.SetFault(llmsim.FaultNone)
			}
			t.Logf("%s: collector SIGKILLed (RSS %.0f MiB, %d goroutines, %d open files, %v scrapes queued) and restarted on its queue",
				at.Round(time.Second), float64(before.rss)/(1<<20), before.goroutines, before.fds, before.queue)
		}
		if now.Sub(lastSample) >= sampleEvery {
			lastSample = now
			s := measure(at)
			samples = append(samples, s)
			queuePeak = max(queuePeak, s.queue)
			queuePeakBytes = max(queuePeakBytes, s.queueBytes)
			if startS.at == 0 && at >= warmup {
				startS = s
			}
			if killed && afterKill.at == 0 && at >= killAt+warmup {
				afterKill = s
			}
		}
	}
	endS = measure(time.Since(begin))

	// The end: every engine stops answering, the backend is up; wait until Prometheus holds one
	// llm_inference_target_up == 1 sample per served scrape of every pod.
	proxy.SetMode(harness.ModeUp)
	for _, p := range pods {
		p.engine.SetFault(llmsim.FaultError)
	}
	served := func() (total int64, per map[string]int64) {
		per = map[string]int64{}
		for _, p := range pods {
			per[p.name] = p.served()
			total += p.served()
		}
		return total, per
	}
	stored := func() (total int64, per map[string]int64) {
		series, err := prom.QueryRaw(context.Background(), fmt.Sprintf(`llm_inference_target_up{namespace=%q}[%ds]`, ns, int((dur+30*time.Minute).Seconds())), time.Now())
		require.NoError(t, err)
		per = map[string]int64{}
		for _, s := range series {
			for _, pt := range s.Samples {
				if pt.Value == 1 {
					per[s.Labels["pod"]]++
					total++
				}
			}
		}
		return total, per
	}
	var sv, st int64
	var perServed, perStored map[string]int64
	deadline := time.Now().Add(10 * time.Minute)
	for {
		sv, perServed = served()
		st, perStored = stored()
		if st == sv || time.Now().After(deadline) {
			break
		}
		time.Sleep(2 * time.Second)
	}
	drained := time.Since(begin) - dur

	var seriesPerScrape int64
	for _, p := range pods[:8] {
		seriesPerScrape += int64(len(regexp.MustCompile(`(?m)^[a-zA-Z_:]`).FindAll(p.engine.Render(), -1)))
	}
	t.Logf("SOAK %s: node workload (8 vLLM pods, %d exposition lines per round, + dcgm-exporter) every %s; %d pods churned (%d deleted), backend down twice for %s, one SIGKILL",
		dur, seriesPerScrape, soakEvery, churned, deleted, outage)
	t.Logf("scrapes served %d, stored %d (llm_inference_target_up == 1 in Prometheus), backlog drained %s after the run", sv, st, drained.Round(time.Second))
	t.Logf("collector at start (after %s): RSS %.1f MiB, %d goroutines, %d open files", startS.at.Round(time.Second), float64(startS.rss)/(1<<20), startS.goroutines, startS.fds)
	t.Logf("collector after the SIGKILL (at %s): RSS %.1f MiB, %d goroutines, %d open files", afterKill.at.Round(time.Second), float64(afterKill.rss)/(1<<20), afterKill.goroutines, afterKill.fds)
	t.Logf("collector at end (%s): RSS %.1f MiB, %d goroutines, %d open files", endS.at.Round(time.Second), float64(endS.rss)/(1<<20), endS.goroutines, endS.fds)
	t.Logf("queue peak: %.0f scrapes, %.1f MiB", queuePeak, queuePeakBytes/(1<<20))
	var tl []string
	for _, s := range samples {
		tl = append(tl, fmt.Sprintf("%s %.0fMiB/%dg/%dfd/%.0fq", s.at.Round(time.Second), float64(s.rss)/(1<<20), s.goroutines, s.fds, s.queue))
	}
	t.Logf("timeline (RSS/goroutines/open files/queued scrapes): %s", strings.Join(tl, " "))

	var mismatched []string
	for name, n := range perServed {
		if perStored[name] != n {
			mismatched = append(mismatched, fmt.Sprintf("%s served %d stored %d", name, n, perStored[name]))
		}
	}
	sort.Strings(mismatched)
	assert.Equal(t, sv, st, "every served scrape stored: %v", mismatched)
	assert.LessOrEqual(t, endS.fds, startS.fds+16, "open files flat")
	assert.LessOrEqual(t, float64(endS.goroutines), float64(startS.goroutines)*1.2+10, "goroutines flat")
	assert.False(t, col.Exited(), "the collector ran to the end")
}

type soakSample struct {
	at                time.Duration
	rss               int64
	goroutines, fds   int
	queue, queueBytes float64
}

// goroutines reads the collector's goroutine count from its pprof endpoint.
func goroutines(port int) int {
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/goroutine?debug=1", port))
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	m := regexp.MustCompile(`goroutine profile: total (\d+)`).FindSubmatch(b)
	if m == nil {
		return -1
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}
