package llminferencereceiver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.uber.org/zap"

	"github.com/otelcol-llminference/otelcol-llminference/components/internal/promconv"
	"github.com/otelcol-llminference/otelcol-llminference/components/internal/scrapecontract"
	"github.com/otelcol-llminference/otelcol-llminference/components/receiver/llminferencereceiver/internal/metadata"
)

// acceptHeader prefers the classic text format (what vLLM, SGLang and dcgm-exporter serve by
// default) and accepts OpenMetrics, as Prometheus does.
const acceptHeader = "text/plain;version=0.0.4;q=0.9,application/openmetrics-text;version=1.0.0;q=0.5,*/*;q=0.1"

// scrapeLoop scrapes one target every collection interval.
type scrapeLoop struct {
	t    *target
	r    *llmReceiver
	conv *promconv.Converter
	res  pcommon.Resource // the target's resource, built once and copied into every scrape

	lastBody int // length of the last body, to size the buffer of the next one

	cancel context.CancelFunc
	done   chan struct{}

	lastErr   string // reason of the last failed scrape; "" while the target is up
	selfStale bool   // self-metrics were emitted and owe a stale marker when the target goes
}

func newScrapeLoop(r *llmReceiver, t *target) *scrapeLoop {
	l := &scrapeLoop{t: t, r: r, conv: promconv.NewConverter(r.cfg.Limits.MaxSeriesPerTarget), res: pcommon.NewResource(), done: make(chan struct{})}
	t.resource(l.res, r.cfg.AccessName)
	return l
}

func (l *scrapeLoop) run(ctx context.Context) {
	defer close(l.done)
	sched, interval := l.r.schedule, l.r.cfg.CollectionInterval
	due := sched.next(l.t.key, time.Now())
	if l.t.Kind == scrapecontract.KindGPUExporter {
		// The processor joins GPU series to pods it has seen scraped; a GPU scrape before
		// the engines' first ones would be fetched only to be dropped. Start one interval later.
		due = due.Add(interval)
	}
	timer := time.NewTimer(time.Until(due))
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		l.scrape(ctx)
		// The next instant at least half an interval after this one, and not already past (a
		// scrape slower than the interval skips instants, as a ticker drops ticks).
		due = sched.next(l.t.key, maxTime(due.Add(interval/2), time.Now()))
		timer.Reset(time.Until(due))
	}
}

// scrape does one scrape and hands its metrics to the pipeline.
func (l *scrapeLoop) scrape(ctx context.Context) {
	start := time.Now()
	md, ms := l.newMetrics()
	var body []byte
	var contentType string
	var err error
	if l.t.invalid != "" {
		err = errors.New(l.t.invalid)
	} else {
		body, contentType, err = l.fetch(ctx)
	}
	// The rest goes deep (conversion, then the whole pipeline): it runs on a worker, so that
	// this loop's goroutine keeps a small stack between scrapes.
	l.r.work.do(func() { l.convert(ctx, start, md, ms, body, contentType, err) })
}

// convert converts a fetched body (or records the fetch's error) and hands the scrape's
// metrics to the pipeline.
func (l *scrapeLoop) convert(ctx context.Context, start time.Time, md pmetric.Metrics, ms pmetric.MetricSlice, body []byte, contentType string, err error) {
	var res promconv.Result
	if err == nil {
		res, err = l.conv.Convert(body, contentType, start, ms)
		l.r.bodies.put(body) // the converter keeps nothing of the body
	}
	if err != nil && ctx.Err() != nil {
		return // shutting down or target removed: not the target's fault
	}
	up := err == nil
	if err != nil {
		res = promconv.Result{}
		ms.RemoveIf(func(pmetric.Metric) bool { return true }) // drop a partial conversion
		l.conv.AppendStale(start, ms)
		l.reportFailure(err)
	} else if l.lastErr != "" {
		l.r.logger.Info("Scrape recovered", zap.String("target", l.t.url), zap.String("pod", l.t.Pod), zap.String("previous_error", l.lastErr))
		l.lastErr = ""
	}
	ts := pcommon.NewTimestampFromTime(start)
	scrapecontract.AppendSelfMetrics(ms, ts, up, time.Since(start).Seconds(), res.Samples)
	l.selfStale = true
	l.r.consume(ctx, md)
}

// markStale emits a stale marker for every series of the target, its self-metrics included:
// called once the loop has stopped because the target went away.
func (l *scrapeLoop) markStale(ctx context.Context) {
	md, ms := l.newMetrics()
	now := time.Now()
	n := l.conv.AppendStale(now, ms)
	if l.selfStale {
		n += scrapecontract.AppendSelfMetricsStale(ms, pcommon.NewTimestampFromTime(now))
	}
	if n > 0 {
		l.r.consume(ctx, md)
	}
}

func (l *scrapeLoop) newMetrics() (pmetric.Metrics, pmetric.MetricSlice) {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	l.res.CopyTo(rm.Resource())
	sm := rm.ScopeMetrics().AppendEmpty()
	sm.Scope().SetName(metadata.ScopeName)
	sm.Scope().SetVersion(l.r.set.BuildInfo.Version)
	return md, sm.Metrics()
}

// reportFailure logs a failed scrape: once at warn level when the target goes down or its
// reason changes, at debug level while it stays down for the same reason.
func (l *scrapeLoop) reportFailure(err error) {
	msg := err.Error()
	fields := []zap.Field{zap.String("target", l.t.url), zap.String("kind", l.t.Kind), zap.String("namespace", l.t.Namespace), zap.String("pod", l.t.Pod), zap.Error(err)}
	if msg != l.lastErr {
		l.r.logger.Warn("Scrape failed", fields...)
	} else {
		l.r.logger.Debug("Scrape failed", fields...)
	}
	l.lastErr = msg
}

// fetch GETs the target's metrics within scrape_timeout and returns the decompressed body,
// at most limits.max_body_bytes long, in a buffer of the receiver's body pool (the caller puts
// it back), and its content type.
func (l *scrapeLoop) fetch(parent context.Context) ([]byte, string, error) {
	cfg := l.r.cfg
	ctx, cancel := context.WithTimeout(parent, cfg.ScrapeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, l.t.url, http.NoBody)
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Accept", acceptHeader)
	req.Header.Set("Accept-Encoding", "gzip")
	req.Header.Set("User-Agent", "otelcol-llminference")
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", strconv.FormatFloat(cfg.ScrapeTimeout.Seconds(), 'f', -1, 64))
	resp, err := l.r.client.Do(req)
	if err != nil {
		return nil, "", l.timeoutOr(ctx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("HTTP status %s", resp.Status)
	}
	var body io.Reader = resp.Body
	if resp.Header.Get("Content-Encoding") == "gzip" {
		z, err := l.r.bodies.gzipReader(resp.Body)
		if err != nil {
			return nil, "", l.timeoutOr(ctx, fmt.Errorf("invalid gzip body: %w", err))
		}
		defer l.r.bodies.putGzipReader(z)
		body = z
	}
	// Room for a body a little larger than the last one: read in one go, mostly.
	b, err := l.r.bodies.read(body, l.lastBody+l.lastBody/16+bytes.MinRead, cfg.Limits.MaxBodyBytes)
	if err != nil {
		l.r.bodies.put(b)
		return nil, "", l.timeoutOr(ctx, fmt.Errorf("reading body: %w", err))
	}
	if int64(len(b)) > cfg.Limits.MaxBodyBytes {
		l.r.bodies.put(b)
		return nil, "", fmt.Errorf("body exceeds limits.max_body_bytes (%d bytes)", cfg.Limits.MaxBodyBytes)
	}
	l.lastBody = len(b)
	return b, resp.Header.Get("Content-Type"), nil
}

// timeoutOr turns an error caused by the scrape deadline into a clear timeout error.
func (l *scrapeLoop) timeoutOr(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("timed out after scrape_timeout (%s)", l.r.cfg.ScrapeTimeout)
	}
	return err
}
