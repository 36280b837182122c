// Package remotewriteexporter ships metrics over Prometheus remote write (1.0) through a strictly
// ordered, at-least-once queue on disk: a backend outage, throttling or a collector crash delays
// data but does not lose it, and never reorders it (a backend refuses a series' older samples).
//
// Every scrape is appended to the queue before ConsumeMetrics returns. One sender reads the queue
// from its committed head, sends, and commits only after the backend accepted (or refused for
// good) what it sent; after a crash the uncommitted head is sent again, first.
//
// The OTLP -> remote-write conversion is contrib's pkg/translator/prometheusremotewrite, called
// once per resource so that the resource's identity labels are passed as external labels instead
// of being copied onto every data point. Names are kept as the pipeline sets them (no suffixes).
package remotewriteexporter

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/golang/snappy"
	prw "github.com/open-telemetry/opentelemetry-collector-contrib/pkg/translator/prometheusremotewrite"
	"github.com/prometheus/prometheus/prompb"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.uber.org/zap"

	"github.com/otelcol-llminference/otelcol-llminference/components/exporter/remotewriteexporter/internal/diskqueue"
)

type remoteWriteExporter struct {
	cfg    *Config
	set    exporter.Settings
	logger *zap.Logger
	client *http.Client
	queue  *diskqueue.Queue

	cancel context.CancelFunc
	done   chan struct{}
}

func newExporter(cfg *Config, set exporter.Settings) *remoteWriteExporter {
	return &remoteWriteExporter{cfg: cfg, set: set, logger: set.Logger}
}

func (e *remoteWriteExporter) start(ctx context.Context, host component.Host) error {
	client, err := e.cfg.ToClient(ctx, host.GetExtensions(), e.set.TelemetrySettings)
	if err != nil {
		return err
	}
	e.client = client
	e.queue, err = diskqueue.Open(e.cfg.Queue.Directory, diskqueue.Options{
		MaxBytes: e.cfg.Queue.MaxSizeMiB << 20,
		Sync:     e.cfg.Queue.FSync,
	})
	if err != nil {
		return fmt.Errorf("queue.directory %q: %w", e.cfg.Queue.Directory, err)
	}
	if n := e.queue.Size(); n > 0 {
		e.logger.Info("Resuming the remote-write backlog left on disk", zap.Int64("bytes", n))
	}
	var sendCtx context.Context
	sendCtx, e.cancel = context.WithCancel(context.Background())
	e.done = make(chan struct{})
	go e.sendLoop(sendCtx)
	return nil
}

// shutdown stops sending; what is not yet delivered stays on disk for the next start.
func (e *remoteWriteExporter) shutdown(context.Context) error {
	if e.cancel == nil {
		return nil
	}
	e.cancel()
	<-e.done
	return e.queue.Close()
}

var (
	marshaler   = &pmetric.ProtoMarshaler{}
	unmarshaler = &pmetric.ProtoUnmarshaler{}
)

// enqueue appends a scrape to the disk queue; it is durable (against a process crash) on return.
func (e *remoteWriteExporter) enqueue(_ context.Context, md pmetric.Metrics) error {
	b, err := marshaler.MarshalMetrics(md)
	if err != nil {
		return consumererror.NewPermanent(err)
	}
	if err := e.queue.Push(b); err != nil {
		if errors.Is(err, diskqueue.ErrFull) {
			return fmt.Errorf("remote-write queue full (queue.max_size_mib %d): %w", e.cfg.Queue.MaxSizeMiB, err)
		}
		return err
	}
	return nil
}

// sendLoop delivers the queue in order: the head batch is retried until the backend accepts it
// (or max_elapsed_time, when set, gives up on it), then committed.
func (e *remoteWriteExporter) sendLoop(ctx context.Context) {
	defer close(e.done)
	bo := newBackoff(e.cfg.BackOffConfig)
	var failingSince time.Time
	lastErr := ""
	for {
		recs, next, err := e.queue.Peek(e.cfg.Queue.MaxBatchScrapes, int64(4*e.cfg.MaxBatchSizeBytes))
		if err != nil {
			e.logger.Error("Reading the remote-write queue failed", zap.Error(err))
		}
		if len(recs) == 0 {
			select {
			case <-ctx.Done():
				return
			case <-e.queue.Notify():
			case <-time.After(time.Second):
			}
			continue
		}
		md := pmetric.NewMetrics()
		for _, r := range recs {
			m, err := unmarshaler.UnmarshalMetrics(r)
			if err != nil {
				e.logger.Error("Dropping an unreadable record of the remote-write queue", zap.Error(err))
				continue
			}
			m.ResourceMetrics().MoveAndAppendTo(md.ResourceMetrics())
		}
		err = e.push(ctx, md)
		if err == nil || (e.cfg.BackOffConfig.MaxElapsedTime > 0 && !failingSince.IsZero() && time.Since(failingSince) > e.cfg.BackOffConfig.MaxElapsedTime) {
			if err != nil {
				e.logger.Error("Dropping scrapes after retrying for retry_on_failure.max_elapsed_time", zap.Int("scrapes", len(recs)), zap.Error(err))
			} else if lastErr != "" {
				e.logger.Info("Remote write recovered", zap.Duration("after", time.Since(failingSince)), zap.Int64("backlog_bytes", e.queue.Size()))
			}
			if err := e.queue.Commit(next); err != nil {
				e.logger.Error("Committing the remote-write queue failed", zap.Error(err))
			}
			bo.reset()
			failingSince, lastErr = time.Time{}, ""
			continue
		}
		if ctx.Err() != nil {
			return
		}
		if failingSince.IsZero() {
			failingSince = time.Now()
		}
		delay := bo.next()
		var ra *retryAfterError
		if errors.As(err, &ra) && ra.delay > delay {
			delay = ra.delay
		}
		if !e.cfg.BackOffConfig.Enabled {
			delay = e.cfg.BackOffConfig.InitialInterval
		}
		fields := []zap.Field{zap.Error(err), zap.Duration("retry_in", delay), zap.Int64("backlog_bytes", e.queue.Size())}
		if err.Error() != lastErr {
			e.logger.Warn("Remote write failed; the backlog waits on disk", fields...)
		} else {
			e.logger.Debug("Remote write failed; the backlog waits on disk", fields...)
		}
		lastErr = err.Error()
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
	}
}

// push converts md and writes it. A network error, 429 or 5xx is returned as retryable (the
// queue retries the whole push; samples already accepted are re-sent with the same timestamps,
// which Prometheus-compatible backends accept as duplicates). Any other 4xx drops that request
// with one log line (in send) and lets the rest of the push through.
func (e *remoteWriteExporter) push(ctx context.Context, md pmetric.Metrics) error {
	series, err := e.convert(md)
	if err != nil {
		e.logger.Warn("Some data points could not be converted to remote write and were dropped", zap.Error(err))
	}
	if len(series) == 0 {
		return nil
	}
	for start := 0; start < len(series); {
		end, size := start, 0
		for end < len(series) && (end == start || size+series[end].Size() <= e.cfg.MaxBatchSizeBytes) {
			size += series[end].Size()
			end++
		}
		req := &prompb.WriteRequest{Timeseries: series[start:end]}
		if err := e.send(ctx, req); err != nil {
			var rejected *rejectedError
			if !errors.As(err, &rejected) {
				return err
			}
		}
		start = end
	}
	return nil
}

// convert translates md resource by resource, with the resource's identity as labels.
func (e *remoteWriteExporter) convert(md pmetric.Metrics) ([]prompb.TimeSeries, error) {
	var out []prompb.TimeSeries
	var errs error
	// Scrapes batched together repeat a series in several resources: merge them into one series
	// whose samples are in time order, as the backend appends them in request order.
	index := map[string]int{}
	var key strings.Builder
	rms := md.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		rm := rms.At(i)
		labels := make(map[string]string, len(e.cfg.ResourceLabels)+len(e.cfg.ExternalLabels))
		for k, v := range e.cfg.ExternalLabels {
			labels[k] = v
		}
		attrs := rm.Resource().Attributes()
		for _, k := range e.cfg.ResourceLabels {
			if v, ok := attrs.Get(k); ok && v.AsString() != "" {
				labels[k] = v.AsString()
			}
		}
		// Convert the resource alone, borrowing it without a copy; it is moved back afterwards
		// because a retry pushes the same md again.
		single := pmetric.NewMetrics()
		borrowed := single.ResourceMetrics().AppendEmpty()
		rm.MoveTo(borrowed)
		tss, err := prw.FromMetrics(single, prw.Settings{
			ExternalLabels:      labels,
			DisableTargetInfo:   true,
			DisableScopeInfo:    true,
			TranslationStrategy: "UnderscoreEscapingWithoutSuffixes",
		})
		borrowed.MoveTo(rm)
		errs = errors.Join(errs, err)
		for _, ts := range tss {
			key.Reset()
			for _, l := range ts.Labels {
				key.WriteString(l.Name)
				key.WriteByte(0xff)
				key.WriteString(l.Value)
				key.WriteByte(0xff)
			}
			if j, ok := index[key.String()]; ok {
				out[j].Samples = append(out[j].Samples, ts.Samples...)
				continue
			}
			index[key.String()] = len(out)
			out = append(out, *ts)
		}
	}
	for i := range out {
		if s := out[i].Samples; !sort.SliceIsSorted(s, func(a, b int) bool { return s[a].Timestamp < s[b].Timestamp }) {
			sort.SliceStable(s, func(a, b int) bool { return s[a].Timestamp < s[b].Timestamp })
		}
	}
	return out, errs
}

// retryAfterError is a retryable answer that said when to come back.
type retryAfterError struct {
	err   error
	delay time.Duration
}

func (r *retryAfterError) Error() string { return fmt.Sprintf("%v (retry after %s)", r.err, r.delay) }
func (r *retryAfterError) Unwrap() error { return r.err }

// rejectedError is a request the backend refused for good (4xx other than 429).
type rejectedError struct {
	status int
	body   string
}

func (r *rejectedError) Error() string {
	return fmt.Sprintf("remote write rejected with HTTP %d: %s", r.status, r.body)
}

func (e *remoteWriteExporter) send(ctx context.Context, req *prompb.WriteRequest) error {
	raw, err := req.Marshal()
	if err != nil {
		return consumererror.NewPermanent(err)
	}
	httpReq, err := http.NewRequestWithContext(ctx, http.MethodPost, e.cfg.Endpoint, bytes.NewReader(snappy.Encode(nil, raw)))
	if err != nil {
		return consumererror.NewPermanent(err)
	}
	httpReq.Header.Set("Content-Encoding", "snappy")
	httpReq.Header.Set("Content-Type", "application/x-protobuf")
	httpReq.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	httpReq.Header.Set("User-Agent", "otelcol-llminference")
	resp, err := e.client.Do(httpReq)
	if err != nil {
		return fmt.Errorf("remote write: %w", err) // retryable
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, resp.Body)
	switch {
	case resp.StatusCode/100 == 2:
		return nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode/100 == 5:
		err := fmt.Errorf("remote write: HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(body))
		if d := retryAfter(resp.Header.Get("Retry-After")); d > 0 {
			return &retryAfterError{err: err, delay: d}
		}
		return err
	}
	samples := 0
	for _, ts := range req.Timeseries {
		samples += len(ts.Samples)
	}
	rej := &rejectedError{status: resp.StatusCode, body: string(bytes.TrimSpace(body))}
	e.logger.Error("Remote-write backend rejected samples; dropping them",
		zap.Int("status", resp.StatusCode), zap.String("response", rej.body),
		zap.Int("series", len(req.Timeseries)), zap.Int("samples", samples))
	return rej
}

// retryAfter parses a Retry-After header (seconds or an HTTP date).
func retryAfter(h string) time.Duration {
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(h); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		return time.Until(t)
	}
	return 0
}
