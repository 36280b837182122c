package llminferenceremotewriteexporter

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/zap"

	"github.com/otelcol-llminference/otelcol-llminference/components/exporter/llminferenceremotewriteexporter/internal/metadata"
)

// telemetryExporter is a started exporter whose own metrics tel reads.
func telemetryExporter(t *testing.T, rcv *receiver, mutate func(*Config)) (*remoteWriteExporter, *componenttest.Telemetry) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	srv := httptest.NewServer(rcv)
	t.Cleanup(srv.Close)
	cfg := createDefaultConfig()
	cfg.Endpoint = srv.URL + "/api/v1/write"
	cfg.Queue.Directory = t.TempDir()
	cfg.Queue.FlushInterval = 0
	cfg.BackOffConfig.InitialInterval = 20 * time.Millisecond
	cfg.BackOffConfig.MaxInterval = 50 * time.Millisecond
	if mutate != nil {
		mutate(cfg)
	}
	require.NoError(t, cfg.Validate())
	set := exportertest.NewNopSettings(metadata.Type)
	set.Logger = zap.NewNop()
	set.TelemetrySettings = tel.NewTelemetrySettings()
	e, err := newExporter(cfg, set)
	require.NoError(t, err)
	require.NoError(t, e.start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, e.shutdown(context.Background())) })
	return e, tel
}

// reading reads an instrument: the sum of its points whose attributes include attrs (a gauge's
// or counter's value; a histogram's count).
func reading(t *testing.T, tel *componenttest.Telemetry, name string, attrs ...attribute.KeyValue) float64 {
	m, err := tel.GetMetric(name)
	if err != nil {
		return 0 // not recorded yet
	}
	has := func(set attribute.Set) bool {
		for _, kv := range attrs {
			if v, ok := set.Value(kv.Key); !ok || v != kv.Value {
				return false
			}
		}
		return true
	}
	total := 0.0
	switch d := m.Data.(type) {
	case metricdata.Sum[int64]:
		for _, p := range d.DataPoints {
			if has(p.Attributes) {
				total += float64(p.Value)
			}
		}
	case metricdata.Gauge[int64]:
		for _, p := range d.DataPoints {
			total += float64(p.Value)
		}
	case metricdata.Gauge[float64]:
		for _, p := range d.DataPoints {
			total += p.Value
		}
	case metricdata.Histogram[float64]:
		for _, p := range d.DataPoints {
			total += float64(p.Count)
		}
	default:
		t.Fatalf("%s: unexpected data %T", name, m.Data)
	}
	return total
}

// samplesOfScrape is how many samples the encoder writes for one scrape of the test helper.
func samplesOfScrape(e *remoteWriteExporter) float64 {
	e.encMu.Lock()
	defer e.encMu.Unlock()
	e.enc.samples = 0
	e.enc.appendMetrics(nil, scrape("x", t0))
	return float64(e.enc.samples)
}

const (
	mQueueBytes   = "otelcol_llminference_remote_write_queue_size"
	mQueueScrapes = "otelcol_llminference_remote_write_queue_scrapes"
	mOldestAge    = "otelcol_llminference_remote_write_queue_oldest_age"
	mSent         = "otelcol_llminference_remote_write_sent_samples"
	mRequests     = "otelcol_llminference_remote_write_requests"
	mDuration     = "otelcol_llminference_remote_write_send_duration"
	mDropped      = "otelcol_llminference_remote_write_dropped_samples"
)

// TestTelemetryFollowsTheBacklog: while the backend answers 503 the backlog is visible (bytes,
// scrapes, a growing age of the oldest scrape) and the failed requests are counted by class;
// once it accepts, the backlog drains to zero and the sent samples equal what was queued.
func TestTelemetryFollowsTheBacklog(t *testing.T) {
	const failures = 10 // a window of several back-off rounds in which the backlog is visible
	rcv := &receiver{}
	for i := 0; i < failures; i++ {
		rcv.statuses = append(rcv.statuses, http.StatusServiceUnavailable)
	}
	e, tel := telemetryExporter(t, rcv, nil)
	require.NoError(t, e.enqueue(context.Background(), scrape("p", t0)))
	require.NoError(t, e.enqueue(context.Background(), scrape("p", t0.Add(time.Second))))
	require.Eventually(t, func() bool {
		return reading(t, tel, mRequests, attribute.String("status_class", "5xx")) >= 1
	}, 5*time.Second, 5*time.Millisecond)
	// Between failures the backlog is there (the sender retries after 10-50 ms back-off).
	require.Eventually(t, func() bool {
		return reading(t, tel, mQueueScrapes) == 2 && reading(t, tel, mQueueBytes) > 0 && reading(t, tel, mOldestAge) > 0
	}, 5*time.Second, time.Millisecond)

	require.Eventually(t, func() bool { return reading(t, tel, mQueueScrapes) == 0 }, 5*time.Second, 5*time.Millisecond, "drained")
	assert.Zero(t, reading(t, tel, mQueueBytes))
	assert.Zero(t, reading(t, tel, mOldestAge))
	assert.Equal(t, float64(failures), reading(t, tel, mRequests, attribute.String("status_class", "5xx")))
	assert.GreaterOrEqual(t, reading(t, tel, mRequests, attribute.String("status_class", "2xx")), 1.0)
	delivered := 0
	for _, ss := range rcv.byName() {
		for _, s := range ss {
			delivered += len(s.Samples)
		}
	}
	assert.Equal(t, float64(delivered), reading(t, tel, mSent), "sent samples = samples the backend got")
	assert.Equal(t, reading(t, tel, mRequests), reading(t, tel, mDuration), "one duration per request")
	assert.Zero(t, reading(t, tel, mDropped))
}

// TestTelemetryCountsDrops: every drop is counted, in samples, by reason.
func TestTelemetryCountsDrops(t *testing.T) {
	t.Run("rejected", func(t *testing.T) {
		rcv := &receiver{statuses: []int{http.StatusBadRequest}}
		e, tel := telemetryExporter(t, rcv, nil)
		require.NoError(t, e.enqueue(context.Background(), scrape("p", t0)))
		require.Eventually(t, func() bool { return reading(t, tel, mQueueScrapes) == 0 && reading(t, tel, mDropped) > 0 }, 5*time.Second, 5*time.Millisecond)
		assert.Equal(t, samplesOfScrape(e), reading(t, tel, mDropped, attribute.String("reason", "rejected")))
		assert.Equal(t, 1.0, reading(t, tel, mRequests, attribute.String("status_class", "4xx")))
	})
	t.Run("retry disabled", func(t *testing.T) {
		rcv := &receiver{statuses: []int{http.StatusServiceUnavailable}}
		e, tel := telemetryExporter(t, rcv, func(c *Config) { c.BackOffConfig.Enabled = false })
		require.NoError(t, e.enqueue(context.Background(), scrape("p", t0)))
		require.Eventually(t, func() bool { return reading(t, tel, mDropped) > 0 }, 5*time.Second, 5*time.Millisecond)
		assert.Equal(t, samplesOfScrape(e), reading(t, tel, mDropped, attribute.String("reason", "retry_disabled")))
	})
	t.Run("retry time exceeded", func(t *testing.T) {
		rcv := &receiver{statuses: []int{503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503}}
		e, tel := telemetryExporter(t, rcv, func(c *Config) { c.BackOffConfig.MaxElapsedTime = 60 * time.Millisecond })
		require.NoError(t, e.enqueue(context.Background(), scrape("p", t0)))
		require.Eventually(t, func() bool { return reading(t, tel, mDropped) > 0 }, 5*time.Second, 5*time.Millisecond)
		assert.Equal(t, samplesOfScrape(e), reading(t, tel, mDropped, attribute.String("reason", "retry_expired")))
	})
	t.Run("queue full, refusing", func(t *testing.T) {
		rcv := &receiver{statuses: make([]int, 0)}
		for i := 0; i < 1000; i++ {
			rcv.statuses = append(rcv.statuses, http.StatusServiceUnavailable) // the backend stays down
		}
		e, tel := telemetryExporter(t, rcv, func(c *Config) { c.Queue.MaxSizeMiB = 1; c.Queue.WhenFull = WhenFullRefuse })
		refused := 0
		for i := 0; i < 2000 && refused < 3; i++ {
			if err := e.enqueue(context.Background(), scrape("p", t0.Add(time.Duration(i)*time.Second))); err != nil {
				refused++
			}
		}
		require.Equal(t, 3, refused, "the 1 MiB queue fills up")
		assert.Equal(t, 3*samplesOfScrape(e), reading(t, tel, mDropped, attribute.String("reason", "queue_full")))
	})
}

// TestFullQueueDropsOldestByDefault: with the default queue.when_full, a queue filled by an
// outage keeps taking new scrapes, stays within its size, and counts the oldest scrapes it
// dropped, in samples.
func TestFullQueueDropsOldestByDefault(t *testing.T) {
	rcv := &receiver{}
	for i := 0; i < 100000; i++ {
		rcv.statuses = append(rcv.statuses, http.StatusServiceUnavailable) // the backend stays down
	}
	e, tel := telemetryExporter(t, rcv, func(c *Config) { c.Queue.MaxSizeMiB = 1 })
	const scrapes = 6000 // about three times what 1 MiB holds
	for i := 0; i < scrapes; i++ {
		require.NoError(t, e.enqueue(context.Background(), scrape("p", t0.Add(time.Duration(i)*time.Second))), "never refused")
	}
	assert.LessOrEqual(t, reading(t, tel, mQueueBytes), float64(1<<20))
	per := samplesOfScrape(e)
	dropped := reading(t, tel, mDropped, attribute.String("reason", "queue_full"))
	require.Positive(t, dropped)
	kept := reading(t, tel, mQueueScrapes)
	assert.Equal(t, scrapes*per, dropped+kept*per, "every scrape is either queued or counted as dropped")
}

// TestDamagedQueueRecordIsSkippedAndCounted: a queued scrape damaged on disk while the
// collector was down is skipped at the next start and counted; the scrapes after it arrive.
func TestDamagedQueueRecordIsSkippedAndCounted(t *testing.T) {
	dir := t.TempDir()
	down := &receiver{}
	for i := 0; i < 100000; i++ {
		down.statuses = append(down.statuses, http.StatusServiceUnavailable)
	}
	first, _ := telemetryExporter(t, down, func(c *Config) { c.Queue.Directory = dir })
	for i := 0; i < 3; i++ {
		require.NoError(t, first.enqueue(context.Background(), scrape(fmt.Sprintf("pod-%d", i), t0)))
	}
	require.NoError(t, first.shutdown(context.Background()))
	segs, err := filepath.Glob(filepath.Join(dir, "*.seg"))
	require.NoError(t, err)
	require.Len(t, segs, 1)
	b, err := os.ReadFile(segs[0])
	require.NoError(t, err)
	b[len(b)-1] ^= 0xff // the last scrape's record: its checksum fails now
	require.NoError(t, os.WriteFile(segs[0], b, 0o640))

	rcv := &receiver{}
	second, tel := telemetryExporter(t, rcv, func(c *Config) { c.Queue.Directory = dir })
	require.Eventually(t, func() bool { return reading(t, tel, mQueueScrapes) == 0 && reading(t, tel, mDropped) > 0 }, 5*time.Second, 5*time.Millisecond)
	got := map[string]bool{}
	for _, ts := range rcv.byName()["llm_inference_requests_running"] {
		got[labelsOf(ts)["pod"]] = true
	}
	assert.Equal(t, map[string]bool{"pod-0": true, "pod-1": true}, got, "the undamaged scrapes arrive")
	assert.Equal(t, samplesOfScrape(second), reading(t, tel, mDropped, attribute.String("reason", "unreadable_record")), "its header survived: its samples counted")
}
