package llminferenceremotewriteexporter

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/prompb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-llminference/otelcol-llminference/components/exporter/llminferenceremotewriteexporter/internal/diskqueue"
	"github.com/otelcol-llminference/otelcol-llminference/components/exporter/llminferenceremotewriteexporter/internal/metadata"
)

// receiver is a remote-write endpoint that records what it accepted and answers with the
// status codes it is told to, in order (then 204).
type receiver struct {
	mu       sync.Mutex
	statuses []int
	headers  http.Header
	series   []prompb.TimeSeries
	requests int
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests++
	r.headers = req.Header.Clone()
	if len(r.statuses) > 0 {
		code := r.statuses[0]
		r.statuses = r.statuses[1:]
		if code == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "7")
		}
		if code != http.StatusNoContent {
			http.Error(w, "nope", code)
			return
		}
	}
	raw, err := snappy.Decode(nil, b)
	if err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	var wr prompb.WriteRequest
	if err := wr.Unmarshal(raw); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	r.series = append(r.series, wr.Timeseries...)
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) byName() map[string][]prompb.TimeSeries {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string][]prompb.TimeSeries{}
	for _, ts := range r.series {
		for _, l := range ts.Labels {
			if l.Name == "__name__" {
				out[l.Value] = append(out[l.Value], ts)
			}
		}
	}
	return out
}

func labelsOf(ts prompb.TimeSeries) map[string]string {
	out := map[string]string{}
	for _, l := range ts.Labels {
		out[l.Name] = l.Value
	}
	return out
}

func newTestExporter(t *testing.T, rcv *receiver, logger *zap.Logger, mutate func(*Config)) *remoteWriteExporter {
	srv := httptest.NewServer(rcv)
	t.Cleanup(srv.Close)
	cfg := createDefaultConfig()
	cfg.Endpoint = srv.URL + "/api/v1/write"
	cfg.Queue.Directory = t.TempDir()
	if mutate != nil {
		mutate(cfg)
	}
	require.NoError(t, cfg.Validate())
	set := exportertest.NewNopSettings(metadata.Type)
	set.Logger = logger
	e, err := newExporter(cfg, set)
	require.NoError(t, err)
	require.NoError(t, e.start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, e.shutdown(context.Background())) })
	return e
}

var t0 = time.Unix(1700000000, 0)

// push encodes md, one record per resource as enqueue would write them, and sends it as the
// sender would, without the queue.
func (e *remoteWriteExporter) push(ctx context.Context, md pmetric.Metrics) error {
	var recs [][]byte
	rms := md.ResourceMetrics()
	e.encMu.Lock()
	for i := 0; i < rms.Len(); i++ {
		one := pmetric.NewMetrics()
		rms.At(i).CopyTo(one.ResourceMetrics().AppendEmpty())
		recs = append(recs, appendSnappyRecord(nil, e.enc.appendMetrics(nil, one)))
	}
	e.encMu.Unlock()
	_, err := e.sendRecords(ctx, recs)
	return err
}

// scrape builds what the pipeline delivers for one pod: identity on the resource, a gauge with
// a stale marker, a counter without _total (dcgm style) and a histogram.
func scrape(pod string, ts time.Time) pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	a := rm.Resource().Attributes()
	for k, v := range map[string]string{"namespace": "llm", "pod": pod, "node": "n1", "workload_name": "qwen", "backend": "vllm", "k8s.pod.uid": "u1", "service.name": "llminference", "service.instance.id": "10.0.0.1:8000"} {
		a.PutStr(k, v)
	}
	ms := rm.ScopeMetrics().AppendEmpty().Metrics()
	pts := pcommon.NewTimestampFromTime(ts)
	g := ms.AppendEmpty()
	g.SetName("llm_inference_requests_running")
	dp := g.SetEmptyGauge().DataPoints().AppendEmpty()
	dp.SetTimestamp(pts)
	dp.SetDoubleValue(3)
	dp.Attributes().PutStr("model_name", "Qwen/Qwen3-8B")
	dp = g.Gauge().DataPoints().AppendEmpty()
	dp.SetTimestamp(pts)
	dp.Attributes().PutStr("model_name", "gone")
	dp.SetFlags(pmetric.DefaultDataPointFlags.WithNoRecordedValue(true))
	c := ms.AppendEmpty()
	c.SetName("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION")
	s := c.SetEmptySum()
	s.SetIsMonotonic(true)
	s.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	cdp := s.DataPoints().AppendEmpty()
	cdp.SetTimestamp(pts)
	cdp.SetDoubleValue(42)
	h := ms.AppendEmpty()
	h.SetName("llm_inference_time_to_first_token_seconds")
	hdp := h.SetEmptyHistogram().DataPoints().AppendEmpty()
	h.Histogram().SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	hdp.SetTimestamp(pts)
	hdp.SetCount(3)
	hdp.SetSum(1.5)
	hdp.ExplicitBounds().FromRaw([]float64{0.1, 1})
	hdp.BucketCounts().FromRaw([]uint64{1, 1, 1})
	return md
}

func TestPushConvertsFaithfully(t *testing.T) {
	rcv := &receiver{}
	e := newTestExporter(t, rcv, zap.NewNop(), func(c *Config) { c.ExternalLabels = map[string]string{"cluster": "prod"} })
	require.NoError(t, e.push(context.Background(), scrape("qwen-0", t0)))

	got := rcv.byName()
	assert.Equal(t, "snappy", rcv.headers.Get("Content-Encoding"))
	assert.Equal(t, "0.1.0", rcv.headers.Get("X-Prometheus-Remote-Write-Version"))
	running := got["llm_inference_requests_running"]
	require.Len(t, running, 2)
	sort.Slice(running, func(i, j int) bool { return labelsOf(running[i])["model_name"] < labelsOf(running[j])["model_name"] })
	assert.Equal(t, map[string]string{"__name__": "llm_inference_requests_running", "model_name": "Qwen/Qwen3-8B", "namespace": "llm", "pod": "qwen-0", "node": "n1",
		"workload_name": "qwen", "backend": "vllm", "job": "llminference", "instance": "10.0.0.1:8000", "cluster": "prod"}, labelsOf(running[0]))
	assert.Equal(t, 3.0, running[0].Samples[0].Value)
	assert.Equal(t, t0.UnixMilli(), running[0].Samples[0].Timestamp)
	assert.True(t, value.IsStaleNaN(running[1].Samples[0].Value), "stale marker becomes Prometheus' staleness NaN")
	require.Len(t, got["DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"], 1, "no _total appended")
	assert.Len(t, got["llm_inference_time_to_first_token_seconds_bucket"], 3)
	assert.Equal(t, 1.5, got["llm_inference_time_to_first_token_seconds_sum"][0].Samples[0].Value)
	_, uid := labelsOf(running[0])["k8s_pod_uid"]
	assert.False(t, uid, "only resource_labels become labels")
}

func TestRetryableAnswersKeepTheData(t *testing.T) {
	for _, code := range []int{http.StatusServiceUnavailable, http.StatusInternalServerError, http.StatusTooManyRequests} {
		t.Run(http.StatusText(code), func(t *testing.T) {
			rcv := &receiver{statuses: []int{code}}
			e := newTestExporter(t, rcv, zap.NewNop(), nil)
			md := scrape("qwen-0", t0)
			err := e.push(context.Background(), md)
			require.Error(t, err)
			assert.False(t, consumererror.IsPermanent(err), "retryable")
			if code == http.StatusTooManyRequests {
				var ra *retryAfterError
				require.ErrorAs(t, err, &ra, "Retry-After honoured")
				assert.Equal(t, 7*time.Second, ra.delay)
			}
			// The queue retries with the same md: it must still hold everything.
			require.NoError(t, e.push(context.Background(), md))
			assert.Len(t, rcv.byName()["llm_inference_requests_running"], 2)
			assert.Len(t, rcv.byName()["llm_inference_time_to_first_token_seconds_bucket"], 3)
		})
	}
}

func TestNetworkErrorIsRetryable(t *testing.T) {
	e := newTestExporter(t, &receiver{}, zap.NewNop(), func(c *Config) { c.Endpoint = "http://127.0.0.1:1/api/v1/write" })
	err := e.push(context.Background(), scrape("p", t0))
	require.Error(t, err)
	assert.False(t, consumererror.IsPermanent(err))
}

// TestRejectedRequestIsDroppedAndTheRestFlows: the push is split into small requests; the
// backend refuses the first with 400. That request is dropped with one log line; the others land.
func TestRejectedRequestIsDroppedAndTheRestFlows(t *testing.T) {
	rcv := &receiver{statuses: []int{http.StatusBadRequest}}
	core, logs := observer.New(zapcore.InfoLevel)
	e := newTestExporter(t, rcv, zap.New(core), func(c *Config) { c.MaxBatchSizeBytes = 1024 })
	md := pmetric.NewMetrics()
	for i := 0; i < 20; i++ {
		scrape("pod-"+strings.Repeat("x", i), t0).ResourceMetrics().MoveAndAppendTo(md.ResourceMetrics())
	}
	require.NoError(t, e.push(context.Background(), md))
	assert.Greater(t, rcv.requests, 2, "split into several requests")
	entries := logs.FilterMessage("Remote-write backend rejected samples; dropping them").All()
	require.Len(t, entries, 1)
	assert.EqualValues(t, 400, entries[0].ContextMap()["status"])
	delivered := 0
	for _, ss := range rcv.byName() {
		for _, s := range ss {
			delivered += len(s.Samples)
		}
	}
	const produced = 20 * 8 // per pod: 2 gauge, 1 counter, 5 histogram series, one sample each
	assert.Greater(t, delivered, produced/2, "the requests after the rejected one landed")
	assert.Less(t, delivered, produced, "the rejected request's samples are gone")
}

// TestBatchedScrapesStayInOrder: two scrapes sent in one request keep their order: the series
// appears once per scrape, the older sample first, as in Prometheus' own remote write.
func TestBatchedScrapesStayInOrder(t *testing.T) {
	rcv := &receiver{}
	e := newTestExporter(t, rcv, zap.NewNop(), nil)
	md := scrape("p", t0)
	scrape("p", t0.Add(time.Second)).ResourceMetrics().MoveAndAppendTo(md.ResourceMetrics())
	require.NoError(t, e.push(context.Background(), md))
	assert.Equal(t, 1, rcv.requests, "one request")
	series := rcv.byName()["DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"]
	require.Len(t, series, 2, "once per scrape")
	assert.Equal(t, labelsOf(series[0]), labelsOf(series[1]))
	assert.Less(t, series[0].Samples[0].Timestamp, series[1].Samples[0].Timestamp, "in time order")
}

func TestConfigValidate(t *testing.T) {
	valid := func() *Config {
		cfg := createDefaultConfig()
		cfg.Endpoint = "http://prom:9090/api/v1/write"
		cfg.Queue.Directory = "/var/lib/q"
		return cfg
	}
	assert.NoError(t, valid().Validate())
	tests := []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"no endpoint", func(c *Config) { c.Endpoint = "" }, "endpoint: must be an absolute http(s) URL"},
		{"no queue directory", func(c *Config) { c.Queue.Directory = "" }, "queue.directory: must be set"},
		{"queue size", func(c *Config) { c.Queue.MaxSizeMiB = 0 }, "queue.max_size_mib: must be positive"},
		{"batch", func(c *Config) { c.Queue.MaxBatchScrapes = 0 }, "queue.max_batch_scrapes: must be positive"},
		{"flush interval", func(c *Config) { c.Queue.FlushInterval = -time.Second }, "queue.flush_interval: must not be negative"},
		{"request size", func(c *Config) { c.MaxBatchSizeBytes = 10 }, "max_batch_size_bytes"},
		{"retry", func(c *Config) { c.BackOffConfig.MaxInterval = time.Millisecond }, "retry_on_failure"},
		{"full-queue policy", func(c *Config) { c.Queue.WhenFull = "block" }, `queue.when_full: must be drop_oldest or refuse, got "block"`},
		{"memory bound", func(c *Config) { c.Queue.MaxMemoryMiB = -1 }, "queue.max_memory_mib: must not be negative, got -1"},
		{"retry interval checked when retries are off", func(c *Config) { c.BackOffConfig.Enabled = false; c.BackOffConfig.InitialInterval = 0 },
			"retry_on_failure: initial_interval (0s) must be positive"},
	}
	for _, tt := range tests {
		cfg := valid()
		tt.mutate(cfg)
		assert.ErrorContains(t, cfg.Validate(), tt.want, tt.name)
	}
	assert.Zero(t, createDefaultConfig().BackOffConfig.MaxElapsedTime, "outages are waited out")
}

// TestQueueRecordsAreCompressedAndUnknownOnesSkipped: enqueue writes snappy records, which
// the sender joins; a record of an unknown format between two good ones is dropped with one
// log line and the good ones are delivered in one request.
func TestQueueRecordsAreCompressedAndUnknownOnesSkipped(t *testing.T) {
	rcv := &receiver{}
	core, logs := observer.New(zapcore.InfoLevel)
	srv := httptest.NewServer(rcv)
	t.Cleanup(srv.Close)
	cfg := createDefaultConfig()
	cfg.Endpoint = srv.URL + "/api/v1/write"
	set := exportertest.NewNopSettings(metadata.Type)
	set.Logger = zap.New(core)
	e, err := newExporter(cfg, set) // not started: no sender runs beside the test
	require.NoError(t, err)
	e.client = srv.Client()
	q, err := diskqueue.Open(t.TempDir(), diskqueue.Options{MaxBytes: 1 << 30})
	require.NoError(t, err)
	t.Cleanup(func() { _ = q.Close() })
	e.queue = q
	var raw []byte
	raw = e.enc.appendMetrics(raw, scrape("a", t0))
	require.NoError(t, e.enqueue(context.Background(), scrape("a", t0)))
	recs, _, err := q.Peek(10, 1<<20)
	require.NoError(t, err)
	require.NotEmpty(t, recs)
	rec := recs[0]
	require.Equal(t, recordTimedSnappy, rec[0])
	enqueued, samples, ok := recordMeta(rec)
	require.True(t, ok)
	assert.WithinDuration(t, time.Now(), enqueued, time.Minute)
	var wr prompb.WriteRequest
	require.NoError(t, wr.Unmarshal(raw))
	inRequest := 0
	for _, ts := range wr.Timeseries {
		inRequest += len(ts.Samples)
	}
	assert.Equal(t, inRequest, samples, "the header counts the WriteRequest's samples")
	assert.Less(t, len(rec), len(raw)/2, "remote write's repeated labels compress")
	n, _, ok := blockBody(rec)
	require.True(t, ok)
	assert.Equal(t, len(raw), n)
	assert.Equal(t, raw, decodeRequest(t, rec), "the record expands to the encoding")

	unknown := []byte{0x7f, 1, 2, 3}
	// A record of the older format (a queue left by an older version) is still read.
	later := appendSnappyRecord(nil, e.enc.appendMetrics(nil, scrape("b", t0)))
	_, err = e.sendRecords(context.Background(), [][]byte{rec, unknown, later})
	require.NoError(t, err)
	assert.Len(t, logs.FilterMessage("Dropping an unreadable remote-write queue record").All(), 1)
	got := map[string]bool{}
	for _, ts := range rcv.byName()["DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"] {
		got[labelsOf(ts)["pod"]] = true
	}
	assert.Equal(t, map[string]bool{"a": true, "b": true}, got)
}

// TestRetryDisabledDropsInsteadOfRetrying: with retry_on_failure.enabled false, a scrape the
// backend does not take (503) is sent once, dropped with one error line, and the next scrape
// goes through; nothing is retried, at any pace.
func TestRetryDisabledDropsInsteadOfRetrying(t *testing.T) {
	rcv := &receiver{statuses: []int{http.StatusServiceUnavailable}}
	core, logs := observer.New(zapcore.InfoLevel)
	e := newTestExporter(t, rcv, zap.New(core), func(c *Config) {
		c.BackOffConfig.Enabled = false
		c.Queue.FlushInterval = 0
	})
	require.NoError(t, e.enqueue(context.Background(), scrape("first", t0)))
	require.Eventually(t, func() bool {
		return logs.FilterMessage("Dropping scrapes the backend did not take: retry_on_failure.enabled is false").Len() == 1
	}, 5*time.Second, 10*time.Millisecond)
	require.NoError(t, e.enqueue(context.Background(), scrape("second", t0.Add(time.Second))))
	require.Eventually(t, func() bool { return len(rcv.byName()["llm_inference_requests_running"]) > 0 }, 5*time.Second, 10*time.Millisecond)
	for _, ts := range rcv.byName()["llm_inference_requests_running"] {
		assert.Equal(t, "second", labelsOf(ts)["pod"], "the dropped scrape never arrives")
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	assert.Equal(t, 2, rcv.requests, "the failed request once, then the next scrape's: no retry")
}

// TestSecondCollectorOnTheSameQueueFailsAtStart: the queue directory is locked; a second
// exporter on it does not start, and says which setting and why.
func TestSecondCollectorOnTheSameQueueFailsAtStart(t *testing.T) {
	first := newTestExporter(t, &receiver{}, zap.NewNop(), nil)
	cfg := *first.cfg
	second, err := newExporter(&cfg, exportertest.NewNopSettings(metadata.Type))
	require.NoError(t, err)
	err = second.start(context.Background(), componenttest.NewNopHost())
	require.ErrorIs(t, err, diskqueue.ErrLocked)
	assert.Contains(t, err.Error(), "queue.directory")
}
