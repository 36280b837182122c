package llminferenceremotewriteexporter

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.uber.org/zap"

	"github.com/otelcol-llminference/otelcol-llminference/components/exporter/llminferenceremotewriteexporter/internal/metadata"
)

// strictBackend behaves like Prometheus: a request with a sample older than the series' newest
// is refused whole (400, out of order). It can be told to be down (503).
type strictBackend struct {
	mu     sync.Mutex
	down   bool
	newest map[string]int64
	stored map[string][]int64 // series -> timestamps, in arrival order
	ooo    int
}

func (b *strictBackend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.down {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	body, _ := io.ReadAll(r.Body)
	raw, _ := snappy.Decode(nil, body)
	var wr prompb.WriteRequest
	if err := wr.Unmarshal(raw); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	for _, ts := range wr.Timeseries {
		k := labelsKey(ts)
		last, seen := b.newest[k]
		for _, s := range ts.Samples {
			if seen && s.Timestamp < last {
				b.ooo++
				http.Error(w, "out of order sample", http.StatusBadRequest)
				return
			}
			last, seen = s.Timestamp, true
		}
	}
	for _, ts := range wr.Timeseries {
		k := labelsKey(ts)
		for _, s := range ts.Samples {
			if n, ok := b.newest[k]; ok && s.Timestamp == n {
				continue // a duplicate of what is stored
			}
			b.stored[k] = append(b.stored[k], s.Timestamp)
			b.newest[k] = s.Timestamp
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

func labelsKey(ts prompb.TimeSeries) string {
	k := ""
	for _, l := range ts.Labels {
		k += l.Name + "=" + l.Value + ","
	}
	return k
}

func (b *strictBackend) setDown(d bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.down = d
}

func (b *strictBackend) count(series string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	for k, v := range b.stored {
		if k == series {
			return len(v)
		}
	}
	return 0
}

// TestQueueDeliversInOrderAcrossOutageAndRestart: scrapes queued while the backend is down, and
// across a restart of the exporter on the same queue directory, all arrive once, in order, at a
// backend that refuses out-of-order samples.
func TestQueueDeliversInOrderAcrossOutageAndRestart(t *testing.T) {
	be := &strictBackend{newest: map[string]int64{}, stored: map[string][]int64{}}
	srv := httptest.NewServer(be)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	newExp := func() *remoteWriteExporter {
		cfg := createDefaultConfig()
		cfg.Endpoint = srv.URL + "/api/v1/write"
		cfg.Queue.Directory = dir
		cfg.Queue.MaxBatchScrapes = 3
		cfg.BackOffConfig.InitialInterval = 10 * time.Millisecond
		cfg.BackOffConfig.MaxInterval = 50 * time.Millisecond
		set := exportertest.NewNopSettings(metadata.Type)
		set.Logger = zap.NewNop()
		e, err := newExporter(cfg, set)
		require.NoError(t, err)
		require.NoError(t, e.start(context.Background(), componenttest.NewNopHost()))
		return e
	}
	series := "__name__=llm_inference_requests_running,backend=vllm,instance=10.0.0.1:8000,job=llminference,model_name=Qwen/Qwen3-8B,namespace=llm,node=n1,pod=qwen-0,workload_name=qwen,"

	be.setDown(true)
	e := newExp()
	for i := 0; i < 10; i++ {
		require.NoError(t, e.enqueue(context.Background(), scrape("qwen-0", t0.Add(time.Duration(i)*time.Second))))
	}
	require.NoError(t, e.shutdown(context.Background())) // the process goes away with a backlog

	e = newExp()
	t.Cleanup(func() { _ = e.shutdown(context.Background()) })
	for i := 10; i < 15; i++ {
		require.NoError(t, e.enqueue(context.Background(), scrape("qwen-0", t0.Add(time.Duration(i)*time.Second))))
	}
	be.setDown(false)
	require.Eventually(t, func() bool { return be.count(series) == 15 }, 10*time.Second, 10*time.Millisecond)
	be.mu.Lock()
	defer be.mu.Unlock()
	assert.Zero(t, be.ooo, "never out of order")
	ts := be.stored[series]
	for i := 1; i < len(ts); i++ {
		assert.Less(t, ts[i-1], ts[i])
	}
}
