// Package remotewriteexporter ships metrics over Prometheus remote write (1.0) through a strictly
// ordered, at-least-once queue on disk: a backend outage, throttling or a collector crash delays
// data but does not lose it, and never reorders it (a backend refuses a series' older samples).
//
// Every scrape is appended to the queue before ConsumeMetrics returns. One sender reads the queue
// from its committed head, sends, and commits only after the backend accepted (or refused for
// good) what it sent; after a crash the uncommitted head is sent again, first.
//
// Scrapes are encoded to remote write once, when they are queued (encode.go), straight from
// pdata into protobuf bytes; the sender concatenates queued records into requests. Names are
// kept as the pipeline sets them (no suffixes); labels match contrib's translator's.
package remotewriteexporter

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/golang/snappy"
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

	enc            *encoder
	encMu          sync.Mutex // enqueue may be called concurrently; the encoder and its buffer are not shared
	encBuf, recBuf []byte
	// The sender's buffers, reused from request to request.
	reqBuf, snappyBuf []byte
}

func newExporter(cfg *Config, set exporter.Settings) *remoteWriteExporter {
	return &remoteWriteExporter{cfg: cfg, set: set, logger: set.Logger, enc: newEncoder(cfg.ResourceLabels, cfg.ExternalLabels)}
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

// Queue records start with a format byte. recordSnappy: the rest is the snappy block of the
// protobuf encoding of a remote-write WriteRequest (what enqueue writes: remote write repeats
// every label on every series, which compresses three to five times). recordRaw: the same,
// uncompressed. Any other first byte is an unknown format, skipped with a log line.
const (
	recordRaw    byte = 0x02
	recordSnappy byte = 0x03
)

// enqueue encodes a scrape as remote write and appends it to the disk queue; it is durable
// (against a process crash) on return. Encoding here, once, leaves the sender nothing to do
// but concatenate records, compress and send.
func (e *remoteWriteExporter) enqueue(_ context.Context, md pmetric.Metrics) error {
	e.encMu.Lock()
	e.encBuf = e.enc.appendMetrics(e.encBuf[:0], md)
	rec := slices.Grow(e.recBuf[:0], 1+snappy.MaxEncodedLen(len(e.encBuf)))
	rec = append(rec, recordSnappy)
	rec = rec[:1+len(snappy.Encode(rec[1:cap(rec)], e.encBuf))]
	err := e.queue.Push(rec)
	e.recBuf = rec
	if cap(e.encBuf) > 4<<20 || cap(e.recBuf) > 4<<20 {
		e.encBuf, e.recBuf = nil, nil // do not keep an outsized scrape's buffers
	}
	e.encMu.Unlock()
	if err != nil {
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
			// Let the scrapes of the coming moment join this one in the same request.
			if d := e.cfg.Queue.FlushInterval; d > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(d):
				}
			}
			continue
		}
		err = e.sendRecords(ctx, recs)
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

// sendRecords writes queue records in order, in requests of up to max_batch_size_bytes
// (uncompressed; a single larger record goes alone). Records are WriteRequest encodings, so a
// request is their concatenation: a series scraped several times appears once per scrape,
// in time order, as in Prometheus' own remote write. A network error, 429 or 5xx is returned
// as retryable (the queue retries all of recs; samples already accepted are re-sent with the
// same timestamps, which backends accept as duplicates). Any other 4xx drops that request
// with one log line and lets the rest through.
func (e *remoteWriteExporter) sendRecords(ctx context.Context, recs [][]byte) error {
	for start := 0; start < len(recs); {
		e.reqBuf = e.reqBuf[:0]
		end := start
		for ; end < len(recs); end++ {
			n, ok := recordLen(recs[end])
			if !ok {
				if end == start {
					e.logger.Error("Dropping an unreadable remote-write queue record", zap.Int("bytes", len(recs[end])))
					start++
					continue
				}
				break
			}
			if end > start && len(e.reqBuf)+n > e.cfg.MaxBatchSizeBytes {
				break
			}
			e.reqBuf = appendRecord(e.reqBuf, recs[end], n)
		}
		if end == start {
			continue
		}
		if len(e.reqBuf) > 0 {
			if err := e.send(ctx, e.reqBuf, end-start); err != nil {
				var rejected *rejectedError
				if !errors.As(err, &rejected) {
					return err
				}
			}
		}
		start = end
		if cap(e.reqBuf) > 4*e.cfg.MaxBatchSizeBytes+(4<<20) {
			e.reqBuf = nil
		}
	}
	return nil
}

// recordLen is the length of a record's WriteRequest encoding; false for an unreadable record.
func recordLen(r []byte) (int, bool) {
	if len(r) == 0 {
		return 0, false
	}
	switch r[0] {
	case recordRaw:
		return len(r) - 1, true
	case recordSnappy:
		n, err := snappy.DecodedLen(r[1:])
		return n, err == nil
	}
	return 0, false
}

// appendRecord appends a record's WriteRequest encoding (n bytes, from recordLen) to buf.
func appendRecord(buf, r []byte, n int) []byte {
	if r[0] == recordRaw {
		return append(buf, r[1:]...)
	}
	l := len(buf)
	buf = slices.Grow(buf, n)[:l+n]
	if _, err := snappy.Decode(buf[l:], r[1:]); err != nil {
		return buf[:l] // a corrupt block: its CRC passed, so it was written corrupt; skip it
	}
	return buf
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

// send posts one encoded WriteRequest (raw, uncompressed) holding scrapes scrapes.
func (e *remoteWriteExporter) send(ctx context.Context, raw []byte, scrapes int) error {
	e.snappyBuf = snappy.Encode(e.snappyBuf[:cap(e.snappyBuf)], raw)
	httpReq, err := http.NewRequestWithContext(ctx, http.MethodPost, e.cfg.Endpoint, bytes.NewReader(e.snappyBuf))
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
	rej := &rejectedError{status: resp.StatusCode, body: string(bytes.TrimSpace(body))}
	e.logger.Error("Remote-write backend rejected samples; dropping them",
		zap.Int("status", resp.StatusCode), zap.String("response", rej.body),
		zap.Int("scrapes", scrapes), zap.Int("bytes", len(raw)))
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
