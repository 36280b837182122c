package llminferencereceiver

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.uber.org/zap"
	"k8s.io/client-go/kubernetes"

	"github.com/otelcol-llminference/otelcol-llminference/components/receiver/llminferencereceiver/internal/metadata"

	"github.com/otelcol-llminference/otelcol-llminference/components/internal/scrapecontract"
)

// exposition is what the test targets serve.
const exposition = "# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running{engine=\"0\",model_name=\"m\"} 3\n" +
	"# TYPE vllm:prompt_tokens_total counter\nvllm:prompt_tokens_total{engine=\"0\",model_name=\"m\"} 42\n"

// metricsServer serves body and counts the requests it got.
type metricsServer struct {
	*httptest.Server
	hits atomic.Int64
}

func newMetricsServer(t *testing.T, h http.HandlerFunc) *metricsServer {
	s := &metricsServer{}
	if h == nil {
		h = func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain; version=0.0.4")
			_, _ = w.Write([]byte(exposition))
		}
	}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *metricsServer) port(t *testing.T) int32 {
	_, p, err := net.SplitHostPort(s.Listener.Addr().String())
	require.NoError(t, err)
	n, err := strconv.Atoi(p)
	require.NoError(t, err)
	return int32(n)
}

func testConfig() *Config {
	cfg := createDefaultConfig()
	cfg.CollectionInterval = 100 * time.Millisecond
	cfg.ScrapeTimeout = 100 * time.Millisecond
	cfg.Kubernetes.Enabled = false
	return cfg
}

// startReceiver starts a receiver on cfg, with client as its Kubernetes API when not nil.
func startReceiver(t *testing.T, cfg *Config, client kubernetes.Interface) (*llmReceiver, *consumertest.MetricsSink) {
	t.Helper()
	return startReceiverFull(t, cfg, client, zap.NewNop())
}

func startReceiverFull(t *testing.T, cfg *Config, client kubernetes.Interface, logger *zap.Logger) (*llmReceiver, *consumertest.MetricsSink) {
	t.Helper()
	sink := new(consumertest.MetricsSink)
	set := receivertest.NewNopSettings(metadata.Type)
	set.Logger = logger
	r, err := newReceiver(set, cfg, sink)
	require.NoError(t, err)
	if client != nil {
		r.newKubeClient = func(AuthType) (kubernetes.Interface, error) { return client, nil }
	}
	require.NoError(t, r.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, r.Shutdown(context.Background())) })
	return r, sink
}

// scrapeView is one resource's worth of what a receiver emitted.
type scrapeView struct {
	res     pcommon.Map
	metrics pmetric.MetricSlice
}

func views(sink *consumertest.MetricsSink) []scrapeView {
	var out []scrapeView
	for _, md := range sink.AllMetrics() {
		for i := 0; i < md.ResourceMetrics().Len(); i++ {
			rm := md.ResourceMetrics().At(i)
			for j := 0; j < rm.ScopeMetrics().Len(); j++ {
				out = append(out, scrapeView{rm.Resource().Attributes(), rm.ScopeMetrics().At(j).Metrics()})
			}
		}
	}
	return out
}

func resAttr(m pcommon.Map, k string) string {
	v, _ := m.Get(k)
	return v.AsString()
}

// gaugeValues returns the values of a gauge's first data point in every scrape of the pod,
// with NaN-free stale markers reported separately.
func selfMetric(sink *consumertest.MetricsSink, pod, name string) (values []float64, stale int) {
	for _, v := range views(sink) {
		if resAttr(v.res, scrapecontract.AttrPodName) != pod {
			continue
		}
		for i := 0; i < v.metrics.Len(); i++ {
			m := v.metrics.At(i)
			if m.Name() != name || m.Type() != pmetric.MetricTypeGauge {
				continue
			}
			dp := m.Gauge().DataPoints().At(0)
			if dp.Flags().NoRecordedValue() {
				stale++
			} else {
				values = append(values, dp.DoubleValue())
			}
		}
	}
	return values, stale
}

// staleMarkers counts data points flagged NoRecordedValue for a metric of a pod.
func staleMarkers(sink *consumertest.MetricsSink, pod, name string) int {
	n := 0
	for _, v := range views(sink) {
		if resAttr(v.res, scrapecontract.AttrPodName) != pod {
			continue
		}
		for i := 0; i < v.metrics.Len(); i++ {
			m := v.metrics.At(i)
			if m.Name() != name {
				continue
			}
			switch m.Type() {
			case pmetric.MetricTypeGauge:
				for j := 0; j < m.Gauge().DataPoints().Len(); j++ {
					if m.Gauge().DataPoints().At(j).Flags().NoRecordedValue() {
						n++
					}
				}
			case pmetric.MetricTypeSum:
				for j := 0; j < m.Sum().DataPoints().Len(); j++ {
					if m.Sum().DataPoints().At(j).Flags().NoRecordedValue() {
						n++
					}
				}
			}
		}
	}
	return n
}

const waitFor, tick = 10 * time.Second, 20 * time.Millisecond

// targetsOf returns the targets r is scraping, by key.
func targetsOf(r *llmReceiver) map[string]target {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]target, len(r.loops))
	for k, l := range r.loops {
		out[k] = *l.t
	}
	return out
}
