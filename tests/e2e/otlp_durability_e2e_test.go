package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/otelcol-llminference/otelcol-llminference/internal/llmsim"
	"github.com/otelcol-llminference/otelcol-llminference/tests/harness"
)

// otlpRig runs the shipped configs/collector/otlp.yaml (its exporter, sending queue and
// file_storage settings as they are), with an overlay that points the receiver at simulated
// pods instead of the Kubernetes API, against Prometheus 3's OTLP receiver behind a fault proxy.
type otlpRig struct {
	t     *testing.T
	bin   string
	fleet *llmsim.Fleet
	pods  []string
	prom  *harness.Prometheus
	proxy *harness.FaultProxy
	args  []string
	env   []string
	col   *harness.Process
}

func newOTLPRig(t *testing.T, bin string, pods int) *otlpRig {
	cfg := llmsim.Config{Seed: 5, Node: "gpu-node-1"}
	r := &otlpRig{t: t, bin: bin}
	for i := 0; i < pods; i++ {
		name := fmt.Sprintf("qwen-%d", i)
		r.pods = append(r.pods, name)
		cfg.Endpoints = append(cfg.Endpoints, llmsim.EndpointSpec{Engine: llmsim.EngineVLLM, Listen: "127.0.0.1:0",
			PodSpec: llmsim.PodSpec{Name: name, Namespace: "llm", Workload: "qwen", Model: "Qwen/Qwen3-8B", Rate: 4}})
	}
	cfg.Endpoints = append(cfg.Endpoints, llmsim.EndpointSpec{Engine: llmsim.EngineDCGM, Listen: "127.0.0.1:0"})
	fleet, err := llmsim.Start(cfg)
	require.NoError(t, err)
	t.Cleanup(fleet.Close)
	r.fleet = fleet
	r.prom = harness.StartPrometheus3(t, prom3OTLPConfig)
	r.proxy = harness.NewFaultProxy(t, r.prom.URL+"/api/v1/otlp/v1/metrics", "")

	var static strings.Builder
	for _, p := range r.pods {
		fmt.Fprintf(&static, "      - {endpoint: %q, workload: qwen, backend: vllm, namespace: llm, pod: %s}\n", fleet.Endpoint(p).URL, p)
	}
	telemetry := harness.FreePort(t)
	overlay := fmt.Sprintf(`receivers:
  llminference:
    collection_interval: 1s
    scrape_timeout: 900ms
    kubernetes: {enabled: false, node_name: gpu-node-1}
    static_targets:
%s    gpu_exporter: {endpoint: %q}
  prometheus/self:
    config:
      scrape_configs:
        - {job_name: otelcol-llminference, scrape_interval: 1s, static_configs: [{targets: ["127.0.0.1:%d"]}]}
extensions:
  health_check: {endpoint: "127.0.0.1:%d"}
  pprof: {endpoint: "127.0.0.1:%d"}
service:
  telemetry:
    metrics:
      readers:
        - pull: {exporter: {prometheus: {host: 127.0.0.1, port: %d}}}
`, static.String(), fleet.Endpoint("dcgm").URL, telemetry, harness.FreePort(t), harness.FreePort(t), telemetry)
	path := filepath.Join(t.TempDir(), "overlay.yaml")
	require.NoError(t, os.WriteFile(path, []byte(overlay), 0o600))
	shipped, err := filepath.Abs(filepath.Join("..", "..", "configs", "collector", "otlp.yaml"))
	require.NoError(t, err)
	r.args = []string{"--config", shipped, "--config", path}
	r.env = []string{"K8S_NODE_NAME=gpu-node-1", "K8S_NODE_IP=127.0.0.1", "OTLP_ENDPOINT=" + r.proxy.URL, "QUEUE_DIR=" + t.TempDir()}
	r.start()
	require.Eventually(t, func() bool { return r.stored(r.pods[0]) > 2 }, 60*time.Second, 200*time.Millisecond, "data flows before the faults")
	return r
}

func (r *otlpRig) start() { r.col = harness.StartEnv(r.t, r.env, r.bin, r.args...) }

func (r *otlpRig) served(pod string) int { return int(r.fleet.Endpoint(pod).Served()) }

// stored counts the pod's llm_inference_target_up == 1 samples: one per served scrape.
func (r *otlpRig) stored(pod string) int {
	series, err := r.prom.QueryRaw(context.Background(), fmt.Sprintf(`llm_inference_target_up{k8s_pod_name=%q}[30m]`, pod), time.Now())
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

// settle freezes the simulators (served counts are final) and waits, up to within (the
// exporter's retries back off up to 30 s, randomised by half), until Prometheus holds every
// served scrape; it returns the scrapes served and stored.
func (r *otlpRig) settle(within time.Duration) (served, stored int) {
	for _, ep := range r.fleet.Endpoints {
		ep.SetFault(llmsim.FaultError)
	}
	deadline := time.Now().Add(within)
	for {
		served, stored = 0, 0
		for _, p := range r.pods {
			served += r.served(p)
			stored += r.stored(p)
		}
		if stored == served || time.Now().After(deadline) {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// TestOTLPQueue measures what the collector's standard sending queue on file_storage (the
// settings of configs/collector/otlp.yaml) keeps across a backend outage and a SIGKILL, where the
// remote-write queue keeps everything (TestDurability). The figures are in docs/otlp.md.
func TestOTLPQueue(t *testing.T) {
	bin := harness.RequireE2E(t)

	t.Run("backend down 30s", func(t *testing.T) {
		t.Parallel()
		r := newOTLPRig(t, bin, 2)
		r.proxy.SetMode(harness.ModeDown)
		outage := time.Now()
		require.Eventually(t, func() bool { return time.Since(outage) >= 30*time.Second }, 60*time.Second, time.Second)
		r.proxy.SetMode(harness.ModeUp)
		served, stored := r.settle(120 * time.Second)
		t.Logf("outage: scrapes served %d, stored in Prometheus 3 %d, lost %d; answers %v", served, stored, served-stored, r.proxy.Requests())
		require.Equal(t, served, stored, "an outage loses nothing: the queue waits it out")
		require.NotContains(t, r.col.Output(), "Dropping data")
	})

	t.Run("collector SIGKILLed during an outage and restarted on the same queue", func(t *testing.T) {
		t.Parallel()
		r := newOTLPRig(t, bin, 1)
		r.proxy.SetMode(harness.ModeDown)
		require.Eventually(t, func() bool { return r.served("qwen-0") >= r.stored("qwen-0")+10 }, 60*time.Second, 100*time.Millisecond, "a backlog builds up")
		// Kill just after a scrape was served, as TestDurability does: the queue's guarantee
		// starts when a scrape is queued.
		before := r.served("qwen-0")
		require.Eventually(t, func() bool { return r.served("qwen-0") > before }, 5*time.Second, 5*time.Millisecond)
		time.Sleep(300 * time.Millisecond)
		r.col.Kill()
		r.start()
		require.Eventually(t, func() bool { return r.served("qwen-0") >= before+5 }, 30*time.Second, 100*time.Millisecond, "the restarted collector scrapes")
		r.proxy.SetMode(harness.ModeUp)
		served, stored := r.settle(120 * time.Second)
		out := r.col.Output()
		t.Logf("SIGKILL: scrapes served %d, stored in Prometheus 3 %d, lost %d; answers %v; %d 'Dropping data' logs",
			served, stored, served-stored, r.proxy.Requests(), strings.Count(out, "Dropping data"))
		if served != stored {
			for _, line := range strings.Split(out, "\n") {
				if strings.Contains(line, "Dropping data") || strings.Contains(line, "out of order") {
					t.Log(line[:min(len(line), 600)])
					break
				}
			}
		}
		require.Equal(t, strconv.Itoa(served), strconv.Itoa(stored))
	})
}
