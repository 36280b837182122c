package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-llminference/otelcol-llminference/internal/llmsim"
	"github.com/otelcol-llminference/otelcol-llminference/tests/harness"
)

// rig is one durability scenario: simulated pods scraped every second by the collector, which
// ships through llminference_remote_write and its queue on disk, via a fault-injecting proxy,
// into a real Prometheus. Ground truth is what the simulators served.
type rig struct {
	t        *testing.T
	bin      string
	fleet    *llmsim.Fleet
	prom     *harness.Prometheus
	proxy    *harness.FaultProxy
	config   string
	pods     []string
	col      *harness.Process
	peakRSS  atomic.Int64
	queueDir string
	// metricsPort serves the collector's own metrics (the exporter's telemetry).
	metricsPort int
}

func newRig(t *testing.T, bin string, pods int, gpu bool) *rig {
	return newRigOn(t, bin, pods, gpu, t.TempDir())
}

// newRigOn is newRig with the queue in queueDir.
func newRigOn(t *testing.T, bin string, pods int, gpu bool, queueDir string) *rig {
	cfg := llmsim.Config{Seed: 3, Node: "gpu-node-1"}
	r := &rig{t: t, bin: bin, queueDir: queueDir, metricsPort: harness.FreePort(t)}
	for i := 0; i < pods; i++ {
		name := fmt.Sprintf("qwen-%d", i)
		r.pods = append(r.pods, name)
		cfg.Endpoints = append(cfg.Endpoints, llmsim.EndpointSpec{Engine: llmsim.EngineVLLM, Listen: "127.0.0.1:0",
			PodSpec: llmsim.PodSpec{Name: name, Namespace: "llm", Workload: "qwen", Model: "Qwen/Qwen3-8B", Rate: 4}})
	}
	if gpu {
		cfg.Endpoints = append(cfg.Endpoints, llmsim.EndpointSpec{Engine: llmsim.EngineDCGM, Listen: "127.0.0.1:0"})
	}
	fleet, err := llmsim.Start(cfg)
	require.NoError(t, err)
	t.Cleanup(fleet.Close)
	r.fleet = fleet
	r.prom = harness.StartPrometheus(t, "")
	r.proxy = harness.NewFaultProxy(t, r.prom.WriteURL(), "llm_inference_target_up")

	var static strings.Builder
	gpuEndpoint := ""
	for _, ep := range fleet.Endpoints {
		if ep.Spec.Engine == llmsim.EngineDCGM {
			gpuEndpoint = fmt.Sprintf("    gpu_exporter: {endpoint: %q}\n", ep.URL)
			continue
		}
		fmt.Fprintf(&static, "      - {endpoint: %q, workload: qwen, backend: vllm, namespace: llm, pod: %s}\n", ep.URL, ep.Spec.Name)
	}
	// The exporter and queue settings are those of configs/collector/daemonset.yaml, with
	// shorter timings.
	r.config = fmt.Sprintf(`
receivers:
  llminference:
    collection_interval: 1s
    scrape_timeout: 900ms
    kubernetes: {enabled: false, node_name: gpu-node-1}
    static_targets:
%s%s
processors:
  llminference: {}
exporters:
  llminference_remote_write:
    endpoint: %s
    timeout: 5s
    queue: {directory: %q, max_size_mib: 512, max_batch_scrapes: 200}
    retry_on_failure: {enabled: true, initial_interval: 200ms, max_interval: 2s, max_elapsed_time: 0s}
service:
  telemetry:
    metrics:
      readers:
        - pull: {exporter: {prometheus: {host: 127.0.0.1, port: %d}}}
  pipelines:
    metrics: {receivers: [llminference], processors: [llminference], exporters: [llminference_remote_write]}
`, static.String(), gpuEndpoint, r.proxy.WriteURL(), r.queueDir, r.metricsPort)
	r.start()
	require.Eventually(t, func() bool { return r.stored(r.pods[0]) > 2 }, 60*time.Second, 200*time.Millisecond, "data flows before the faults")
	return r
}

func (r *rig) start() {
	r.col = harness.StartCollector(r.t, r.bin, r.config)
	col := r.col
	go func() { // sample the collector's RSS for the report
		for !col.Exited() {
			if rss, err := col.RSS(); err == nil && rss > r.peakRSS.Load() {
				r.peakRSS.Store(rss)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}()
}

func (r *rig) served(pod string) int64 { return r.fleet.Endpoint(pod).Served() }

// own reads one of the exporter's metrics from the collector's metrics endpoint (see
// harness.CollectorMetric).
func (r *rig) own(name, match string) float64 {
	return harness.CollectorMetric(r.metricsPort, name, match)
}

// The exporter's metrics as the collector's Prometheus endpoint names them (the collector adds
// neither unit nor _total suffixes to its own metrics).
const (
	ownQueueScrapes = "otelcol_llminference_remote_write_queue_scrapes"
	ownQueueBytes   = "otelcol_llminference_remote_write_queue_size"
	ownOldestAge    = "otelcol_llminference_remote_write_queue_oldest_age"
	ownSent         = "otelcol_llminference_remote_write_sent_samples"
	ownRequests     = "otelcol_llminference_remote_write_requests"
	ownDropped      = "otelcol_llminference_remote_write_dropped_samples"
	ownWriteErrors  = "otelcol_llminference_remote_write_queue_write_errors"
)

// requireDrained waits until the exporter's metrics show the backlog gone. The collector goes on
// scraping the frozen simulators (each failed scrape ships as llm_inference_target_up 0), so the
// queue is empty only between a send and the next scrape: drained means that no more than a few
// scrapes per pod wait (one scrape interval plus the flush interval) and none for long.
func (r *rig) requireDrained() {
	most := float64(4 * len(r.pods))
	var scrapes, age float64
	ok := assert.Eventually(r.t, func() bool {
		scrapes, age = r.own(ownQueueScrapes, ""), r.own(ownOldestAge, "")
		return scrapes <= most && age < 5
	}, 30*time.Second, 200*time.Millisecond)
	require.True(r.t, ok, "the backlog drains: %v scrapes queued (at most %v), the oldest %.1fs old (under 5s)", scrapes, most, age)
}

// stored counts the pod's llm_inference_target_up == 1 samples in Prometheus: one per served scrape.
func (r *rig) stored(pod string) int {
	series, err := r.prom.QueryRaw(context.Background(), fmt.Sprintf(`llm_inference_target_up{pod=%q}[30m]`, pod), time.Now())
	require.NoError(r.t, err)
	n := 0
	for _, s := range series {
		for _, p := range s.Samples {
			if p.Value == 1 {
				n++
			}
		}
	}
	return n
}

// freeze stops the simulators from serving (the collector's scrapes fail from now on), so the
// served counts are final.
func (r *rig) freeze() {
	for _, ep := range r.fleet.Endpoints {
		ep.SetFault(llmsim.FaultError)
	}
}

// requireAllDelivered waits until Prometheus holds exactly one sample per served scrape, minus
// the scrapes the backend rejected, and reports the figures.
func (r *rig) requireAllDelivered(rejected int, timeout time.Duration) {
	r.freeze()
	var served, stored int
	ok := assert.Eventually(r.t, func() bool {
		served, stored = 0, 0
		for _, p := range r.pods {
			served += int(r.served(p))
			stored += r.stored(p)
		}
		return stored == served-rejected
	}, timeout, 500*time.Millisecond)
	dup := 0
	for _, n := range r.proxy.Forwarded() {
		if n > 1 {
			dup += n - 1
		}
	}
	r.t.Logf("scrapes served %d, rejected by the backend %d, stored in Prometheus %d; re-sent samples (stored once) %d; peak collector RSS %.1f MiB; answers %v",
		served, rejected, stored, dup, float64(r.peakRSS.Load())/(1<<20), r.proxy.Requests())
	require.True(r.t, ok, "every served scrape stored exactly once (served %d, stored %d, rejected %d)", served, stored, rejected)
}

func TestDurability(t *testing.T) {
	bin := harness.RequireE2E(t)

	t.Run("backend down 60s", func(t *testing.T) {
		t.Parallel()
		r := newRig(t, bin, 2, false)
		r.proxy.SetMode(harness.ModeDown)
		outage := time.Now()
		require.Eventually(t, func() bool { return time.Since(outage) >= 60*time.Second }, 90*time.Second, time.Second)
		// The backlog shows in the exporter's own metrics: scrapes, bytes, the oldest one's age.
		assert.GreaterOrEqual(t, r.own(ownQueueScrapes, ""), 100.0, "2 pods for 60 s")
		assert.Positive(t, r.own(ownQueueBytes, ""))
		assert.Greater(t, r.own(ownOldestAge, ""), 45.0, "the oldest queued scrape waits since the outage began")
		assert.Positive(t, r.own(ownRequests, "status_class=network_error"))
		r.proxy.SetMode(harness.ModeUp)
		r.requireAllDelivered(0, 90*time.Second)
		r.requireDrained()
		assert.Positive(t, r.own(ownSent, ""))
		assert.LessOrEqual(t, r.own(ownDropped, ""), 0.0, "nothing dropped (the counter is absent until something is)")
	})

	t.Run("collector SIGKILLed during an outage and restarted on the same queue", func(t *testing.T) {
		t.Parallel()
		r := newRig(t, bin, 1, false)
		r.proxy.SetMode(harness.ModeDown)
		require.Eventually(t, func() bool { return r.served("qwen-0") >= int64(r.stored("qwen-0"))+10 }, 60*time.Second, 100*time.Millisecond, "a backlog builds up")
		// Kill just after a scrape was served: the queue then holds every served scrape, and the
		// test measures the queue's durability, not the few milliseconds a scrape is in flight.
		before := r.served("qwen-0")
		require.Eventually(t, func() bool { return r.served("qwen-0") > before }, 5*time.Second, 5*time.Millisecond)
		time.Sleep(300 * time.Millisecond)
		r.col.Kill()
		entries, err := os.ReadDir(r.queueDir)
		require.NoError(t, err)
		require.NotEmpty(t, entries, "the backlog is on disk")
		r.start()
		require.Eventually(t, func() bool { return r.served("qwen-0") >= before+5 }, 30*time.Second, 100*time.Millisecond, "the restarted collector scrapes")
		r.proxy.SetMode(harness.ModeUp)
		r.requireAllDelivered(0, 90*time.Second)
	})

	t.Run("backend throttles (429) and fails (503)", func(t *testing.T) {
		t.Parallel()
		r := newRig(t, bin, 2, false)
		r.proxy.SetMode(harness.Mode503)
		require.Eventually(t, func() bool { return r.proxy.Requests()[harness.Mode503] >= 3 }, 30*time.Second, 100*time.Millisecond)
		r.proxy.SetMode(harness.Mode429)
		require.Eventually(t, func() bool { return r.proxy.Requests()[harness.Mode429] >= 3 }, 30*time.Second, 100*time.Millisecond)
		r.proxy.SetMode(harness.ModeUp)
		r.requireAllDelivered(0, 60*time.Second)
		r.requireDrained()
		assert.GreaterOrEqual(t, r.own(ownRequests, "status_class=5xx"), 3.0)
		assert.GreaterOrEqual(t, r.own(ownRequests, "status_class=4xx"), 3.0, "429s")
		assert.Positive(t, r.own(ownRequests, "status_class=2xx"))
		assert.LessOrEqual(t, r.own(ownDropped, ""), 0.0, "nothing dropped (the counter is absent until something is)")
	})

	t.Run("bad samples answered 400 are dropped, the rest flows", func(t *testing.T) {
		t.Parallel()
		r := newRig(t, bin, 2, false)
		r.proxy.SetMode(harness.ModeReject1)
		require.Eventually(t, func() bool { return len(r.proxy.Rejected()) > 0 }, 30*time.Second, 100*time.Millisecond)
		r.requireAllDelivered(len(r.proxy.Rejected()), 60*time.Second)
		assert.Equal(t, 1, strings.Count(r.col.Output(), "Remote-write backend rejected samples; dropping them"), "one clear log line")
		r.requireDrained()
		assert.Positive(t, r.own(ownDropped, "reason=rejected"), "the rejected request's samples are counted as dropped")
		assert.Equal(t, r.own(ownDropped, ""), r.own(ownDropped, "reason=rejected"), "and nothing else")
	})

	t.Run("the queue's volume fills up during an outage", func(t *testing.T) {
		t.Parallel()
		// A real 1 MiB filesystem for the queue, filled by another writer mid-outage: the
		// collector holds new scrapes in memory and reports it; when the backend returns, sending
		// the backlog makes room on the full volume and the held scrapes follow. Nothing is lost.
		dir := t.TempDir()
		if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir).CombinedOutput(); err != nil {
			t.Skipf("cannot mount a size-limited tmpfs (needs root): %v: %s", err, out)
		}
		t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
		r := newRigOn(t, bin, 2, false, dir)
		r.proxy.SetMode(harness.ModeDown)
		require.Eventually(t, func() bool { return r.own(ownQueueScrapes, "") >= 10 }, 30*time.Second, 200*time.Millisecond, "a backlog on disk")
		out, err := exec.Command("dd", "if=/dev/zero", "of="+filepath.Join(dir, "filler"), "bs=4k").CombinedOutput()
		require.Contains(t, string(out), "No space left on device", "dd fills the volume: %v", err)
		require.Eventually(t, func() bool { return r.own(ownWriteErrors, "") >= 10 }, 30*time.Second, 200*time.Millisecond, "the disk refuses scrapes")
		assert.Equal(t, 1, strings.Count(r.col.Output(), "Writing the remote-write queue to disk failed; holding scrapes in memory"), "one clear log line")
		r.proxy.SetMode(harness.ModeUp)
		r.requireAllDelivered(0, 90*time.Second)
		assert.LessOrEqual(t, r.own(ownDropped, ""), 0.0, "nothing dropped (the counter is absent until something is)")
		// The volume may still be too full for every new scrape; once the other writer's file
		// goes, the next one is written and the recovery is logged.
		require.NoError(t, os.Remove(filepath.Join(dir, "filler")))
		require.Eventually(t, func() bool {
			return strings.Contains(r.col.Output(), "The remote-write queue is written to disk again")
		},
			30*time.Second, 200*time.Millisecond, "the recovery is logged")
		r.requireDrained()
	})

	t.Run("memory stays bounded during a long outage", func(t *testing.T) {
		t.Parallel()
		r := newRig(t, bin, 8, true)
		r.proxy.SetMode(harness.ModeDown)
		start := time.Now()
		var first, last int64
		var samples []int64
		require.Eventually(t, func() bool {
			rss, err := r.col.RSS()
			require.NoError(t, err)
			samples = append(samples, rss)
			if time.Since(start) < 10*time.Second {
				first = max(first, rss) // settled RSS early in the outage
			}
			last = rss
			return time.Since(start) >= 90*time.Second
		}, 120*time.Second, time.Second)
		size := dirSize(t, r.queueDir)
		t.Logf("outage 90s, 9 targets at 1s: RSS %.1f MiB after 10s, %.1f MiB at 90s; queue on disk %.1f MiB",
			float64(first)/(1<<20), float64(last)/(1<<20), float64(size)/(1<<20))
		assert.Less(t, last-first, int64(48<<20), "the backlog grows on disk, not in memory")
		assert.Greater(t, size, int64(1<<20), "the backlog is on disk")
		r.proxy.SetMode(harness.ModeUp)
		r.requireAllDelivered(0, 120*time.Second)
	})
}

func dirSize(t *testing.T, dir string) int64 {
	var n int64
	require.NoError(t, filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			n += info.Size()
		}
		return err
	}))
	return n
}
