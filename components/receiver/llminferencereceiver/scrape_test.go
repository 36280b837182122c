package llminferencereceiver

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-llminference/otelcol-llminference/tests/fixtures"

	"github.com/otelcol-llminference/otelcol-llminference/components/internal/scrapecontract"
)

func gzipped(t *testing.T, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(b)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// TestScrapeFailures runs each failure kind against a real local HTTP server, next to a healthy
// target: the failing target reports up=0 with one clear log line naming it and the reason, and
// the healthy target is not affected.
func TestScrapeFailures(t *testing.T) {
	var bomb []byte // 64 MiB of metrics-looking text, compressed to a few hundred KiB
	{
		line := []byte("vllm:num_requests_running{model_name=\"m\"} 1\n")
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		for written := 0; written < 64<<20; written += len(line) {
			_, _ = zw.Write(line)
		}
		_ = zw.Close()
		bomb = buf.Bytes()
	}
	var series100k bytes.Buffer
	series100k.WriteString("# TYPE x gauge\n")
	for i := 0; i < 100000; i++ {
		fmt.Fprintf(&series100k, "x{i=\"%d\"} 1\n", i)
	}
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })

	tests := []struct {
		name    string
		handler http.HandlerFunc
		reason  string
		timeout time.Duration // default 300ms; heavy bodies get more so that -race stays in time
		maxBody int64         // limits.max_body_bytes; 0 = default
	}{
		{"hanging", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}, "timed out after scrape_timeout (300ms)", 0, 0},
		{"hanging mid-body", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte("# TYPE a gauge\na 1\n"))
			w.(http.Flusher).Flush()
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}, "timed out after scrape_timeout (300ms)", 0, 0},
		{"HTTP 500", func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "engine crashed", http.StatusInternalServerError)
		}, "HTTP status 500 Internal Server Error", 0, 0},
		{"garbage", func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte("<html><body>502 Bad Gateway</body></html>"))
		}, "parse error", 0, 0},
		{"binary garbage", func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte{0x1f, 0x8b, 0, 0, 0xff, 0xfe})
		}, "NUL byte", 0, 0},
		{"gzip bomb", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = w.Write(bomb)
		}, "body exceeds limits.max_body_bytes (1048576 bytes)", 2 * time.Second,
			// Cut at 1 MiB: inflating the default 16 MiB under -race on a busy CI machine can
			// outlast the timeout, which would make the reported reason a timeout.
			1 << 20},
		{"broken gzip", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = w.Write([]byte("definitely not gzip"))
		}, "invalid gzip body", 0, 0},
		{"100k series", func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write(series100k.Bytes())
		}, "too many samples: more than 50000", 2 * time.Second, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := newMetricsServer(t, tt.handler)
			good := newMetricsServer(t, nil)
			cfg := testConfig()
			if tt.timeout == 0 {
				tt.timeout = 300 * time.Millisecond
			}
			cfg.CollectionInterval = tt.timeout
			cfg.ScrapeTimeout = tt.timeout
			if tt.maxBody > 0 {
				cfg.Limits.MaxBodyBytes = tt.maxBody
			}
			cfg.StaticTargets = []StaticTarget{
				{Endpoint: bad.URL + "/metrics", Workload: "w", Pod: "bad"},
				{Endpoint: good.URL + "/metrics", Workload: "w", Pod: "good"},
			}
			core, logs := observer.New(zapcore.DebugLevel)
			_, sink := startReceiverWithLogger(t, cfg, zap.New(core))
			require.Eventually(t, func() bool {
				v, _ := selfMetric(sink, "bad", scrapecontract.MetricUp)
				return len(v) >= 2
			}, waitFor, tick)

			up, _ := selfMetric(sink, "bad", scrapecontract.MetricUp)
			for _, v := range up {
				assert.Equal(t, 0.0, v)
			}
			samples, _ := selfMetric(sink, "bad", scrapecontract.MetricScrapeSamples)
			assert.Equal(t, 0.0, samples[0])
			dur, _ := selfMetric(sink, "bad", scrapecontract.MetricScrapeDuration)
			assert.Less(t, dur[0], 2*tt.timeout.Seconds()+0.5, "a scrape never outlives scrape_timeout by much")

			warns := logs.FilterMessage("Scrape failed").FilterLevelExact(zapcore.WarnLevel).All()
			require.Len(t, warns, 1, "one warning per failure episode, not per scrape")
			fields := warns[0].ContextMap()
			assert.Equal(t, bad.URL+"/metrics", fields["target"])
			assert.Equal(t, "bad", fields["pod"])
			assert.Contains(t, fields["error"], tt.reason)

			goodUp, _ := selfMetric(sink, "good", scrapecontract.MetricUp)
			require.NotEmpty(t, goodUp)
			for _, v := range goodUp {
				assert.Equal(t, 1.0, v, "a failing target never affects another")
			}
			for _, v := range views(sink) {
				if resAttr(v.res, scrapecontract.AttrPodName) == "bad" {
					assert.Equal(t, 3, v.metrics.Len(), "a failed scrape emits only self-metrics")
				}
			}
		})
	}
}

func startReceiverWithLogger(t *testing.T, cfg *Config, logger *zap.Logger) (*llmReceiver, *consumertest.MetricsSink) {
	t.Helper()
	return startReceiverFull(t, cfg, nil, logger)
}

// TestScrapeRecoveryAndStaleness: a target that fails after succeeding marks its series stale
// (as Prometheus does), then comes back with fresh series; a gzip body is decompressed.
func TestScrapeRecoveryAndStaleness(t *testing.T) {
	failing := make(chan bool, 1)
	failing <- false
	srv := newMetricsServer(t, func(w http.ResponseWriter, _ *http.Request) {
		f := <-failing
		failing <- f
		if f {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = w.Write(gzipped(t, []byte(exposition)))
	})
	cfg := testConfig()
	cfg.StaticTargets = []StaticTarget{{Endpoint: srv.URL + "/metrics", Workload: "w", Pod: "p"}}
	core, logs := observer.New(zapcore.InfoLevel)
	_, sink := startReceiverWithLogger(t, cfg, zap.New(core))

	require.Eventually(t, func() bool { v, _ := selfMetric(sink, "p", scrapecontract.MetricUp); return len(v) > 0 }, waitFor, tick)
	<-failing
	failing <- true
	require.Eventually(t, func() bool { return staleMarkers(sink, "p", "vllm:prompt_tokens_total") == 1 }, waitFor, tick)
	<-failing
	failing <- false
	require.Eventually(t, func() bool { return len(logs.FilterMessage("Scrape recovered").All()) == 1 }, waitFor, tick)
	require.Eventually(t, func() bool {
		v, _ := selfMetric(sink, "p", scrapecontract.MetricUp)
		return len(v) > 0 && v[len(v)-1] == 1
	}, waitFor, tick)
	assert.Equal(t, 1, staleMarkers(sink, "p", "vllm:prompt_tokens_total"), "stale exactly once per outage")
}

// TestStaticTargetsResource checks the resource of a static target and of the GPU exporter,
// and that the real samples arrive through the whole receiver.
func TestStaticTargetsResource(t *testing.T) {
	vllm := newMetricsServer(t, func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(fixtures.Sample(fixtures.VLLMMixed)) })
	dcgm := newMetricsServer(t, func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(fixtures.Sample(fixtures.DCGMExporter)) })
	cfg := testConfig()
	cfg.AccessName = "prod"
	cfg.Kubernetes.NodeName = "gpu-node-1"
	cfg.StaticTargets = []StaticTarget{{Endpoint: vllm.URL + "/metrics", Workload: "qwen", Backend: "vllm", Namespace: "llm", Pod: "qwen-0"}}
	cfg.GPUExporter.Endpoint = dcgm.URL + "/metrics"
	_, sink := startReceiver(t, cfg, nil)
	require.Eventually(t, func() bool {
		kinds := map[string]bool{}
		for _, v := range views(sink) {
			kinds[resAttr(v.res, scrapecontract.AttrTargetKind)] = true
		}
		return kinds[scrapecontract.KindInference] && kinds[scrapecontract.KindGPUExporter]
	}, waitFor, tick)
	for _, v := range views(sink) {
		attrs := v.res.AsRaw()
		switch attrs[scrapecontract.AttrTargetKind] {
		case scrapecontract.KindInference:
			assert.Equal(t, "llm", attrs[scrapecontract.AttrNamespace])
			assert.Equal(t, "qwen-0", attrs[scrapecontract.AttrPodName])
			assert.Equal(t, "qwen", attrs[scrapecontract.AttrWorkload])
			assert.Equal(t, "vllm", attrs[scrapecontract.AttrBackend])
			assert.Equal(t, "prod", attrs[scrapecontract.AttrAccessName])
			assert.Equal(t, "gpu-node-1", attrs[scrapecontract.AttrNodeName])
			assert.Equal(t, "127.0.0.1", attrs[scrapecontract.AttrServerAddress])
			assert.Equal(t, int64(vllm.port(t)), attrs[scrapecontract.AttrServerPort])
			m := findMetric(v.metrics, "vllm:time_to_first_token_seconds")
			require.Equal(t, pmetric.MetricTypeHistogram, m.Type())
			assert.Equal(t, uint64(1), m.Histogram().DataPoints().At(0).Count())
		case scrapecontract.KindGPUExporter:
			assert.Equal(t, "gpu-node-1", attrs[scrapecontract.AttrNodeName])
			_, hasPod := attrs[scrapecontract.AttrPodName]
			assert.False(t, hasPod, "the exporter's pod labels stay on its data points")
			m := findMetric(v.metrics, "DCGM_FI_DEV_POWER_USAGE")
			dp := m.Gauge().DataPoints().At(0)
			assert.Equal(t, 40.979, dp.DoubleValue())
			pod, _ := dp.Attributes().Get("pod")
			assert.Equal(t, "cuda-75454ffb9f-8ljq7", pod.Str())
		default:
			t.Fatalf("unexpected target kind %v", attrs[scrapecontract.AttrTargetKind])
		}
	}
}

func findMetric(ms pmetric.MetricSlice, name string) pmetric.Metric {
	for i := 0; i < ms.Len(); i++ {
		if ms.At(i).Name() == name {
			return ms.At(i)
		}
	}
	panic("no metric " + name)
}

// TestGPUExporterScrapedAfterTheEngines: the GPU exporter's first scrape comes one interval
// after start, when the engines have been scraped once and its series can be joined to them.
func TestGPUExporterScrapedAfterTheEngines(t *testing.T) {
	var engineFirst, gpuFirst atomic.Int64
	serve := func(first *atomic.Int64, body string) *httptest.Server {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			first.CompareAndSwap(0, time.Now().UnixNano())
			_, _ = w.Write([]byte(body))
		}))
		t.Cleanup(srv.Close)
		return srv
	}
	engine := serve(&engineFirst, "vllm:num_requests_running{engine=\"0\",model_name=\"m\"} 1\n")
	gpu := serve(&gpuFirst, "DCGM_FI_DEV_GPU_UTIL{gpu=\"0\",UUID=\"GPU-1\",pod=\"p\",namespace=\"n\"} 5\n")
	cfg := testConfig()
	cfg.CollectionInterval, cfg.ScrapeTimeout = 300*time.Millisecond, 300*time.Millisecond
	cfg.StaticTargets = []StaticTarget{{Endpoint: engine.URL + "/metrics", Workload: "w", Namespace: "n", Pod: "p"}}
	cfg.GPUExporter.Endpoint = gpu.URL + "/metrics"
	start := time.Now()
	startReceiver(t, cfg, nil)
	require.Eventually(t, func() bool { return gpuFirst.Load() != 0 }, 5*time.Second, 10*time.Millisecond)
	require.NotZero(t, engineFirst.Load())
	assert.Less(t, engineFirst.Load(), gpuFirst.Load(), "the engine is scraped first")
	assert.GreaterOrEqual(t, time.Duration(gpuFirst.Load()-start.UnixNano()), cfg.CollectionInterval, "not before one interval")
}
