package llminferenceremotewriteexporter

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-llminference/otelcol-llminference/components/exporter/llminferenceremotewriteexporter/internal/metadata"
)

// sendLoop delivers the queue in order: the head batch is retried until the backend accepts it
// (or max_elapsed_time, when set, gives up on it), then committed. With retry_on_failure.enabled
// false a batch the backend did not take is dropped at once (logged), never retried.
func (e *remoteWriteExporter) sendLoop(ctx context.Context) {
	defer close(e.done)
	bo := newBackoff(e.cfg.BackOffConfig)
	var failingSince time.Time
	lastErr, commitErr := "", ""
	for {
		recs, next, err := e.queue.Peek(e.cfg.Queue.MaxBatchScrapes, int64(4*e.cfg.MaxBatchSizeBytes))
		if err != nil {
			e.logger.Error("Reading the remote-write queue failed", zap.Error(err))
		}
		if len(recs) == 0 {
			e.oldestNanos.Store(0)
			select {
			case <-ctx.Done():
				return
			case <-e.queue.Notify():
				// Something was queued just now: its age counts from here while it waits
				// for the flush interval below.
				e.oldestNanos.Store(time.Now().UnixNano())
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
		if t, _, ok := recordMeta(recs[0]); ok {
			e.oldestNanos.Store(t.UnixNano())
		} else {
			e.oldestNanos.Store(0)
		}
		var delivered int
		delivered, err = e.sendRecords(ctx, recs)
		retryOff := err != nil && !e.cfg.BackOffConfig.Enabled && ctx.Err() == nil
		expired := err != nil && e.cfg.BackOffConfig.MaxElapsedTime > 0 && !failingSince.IsZero() && time.Since(failingSince) > e.cfg.BackOffConfig.MaxElapsedTime
		if err == nil || retryOff || expired {
			switch {
			case retryOff:
				e.logger.Error("Dropping scrapes the backend did not take: retry_on_failure.enabled is false", zap.Int("scrapes", len(recs)-delivered), zap.Error(err))
				e.dropped(ctx, samplesOf(recs[delivered:]), metadata.ReasonRetryDisabled)
			case expired:
				e.logger.Error("Dropping scrapes after retrying for retry_on_failure.max_elapsed_time", zap.Int("scrapes", len(recs)-delivered), zap.Error(err))
				e.dropped(ctx, samplesOf(recs[delivered:]), metadata.ReasonRetryExpired)
			case lastErr != "":
				e.logger.Info("Remote write recovered", zap.Duration("after", time.Since(failingSince)), zap.Int64("backlog_bytes", e.queue.Size()))
			}
			if err := e.queue.Commit(next); err != nil {
				// The cursor moved in memory; only its file is behind (a crash re-sends). Logged
				// once per kind of failure: a full disk fails every commit alike.
				if err.Error() != commitErr {
					e.logger.Error("Persisting the remote-write queue's cursor failed; sending goes on", zap.Error(err))
				}
				commitErr = err.Error()
			} else {
				commitErr = ""
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
// (uncompressed; a single larger record goes alone). Records are snappy blocks of
// WriteRequest encodings, joined without decoding (record.go), so a request decodes to their
// concatenation: a series scraped several times appears once per scrape, in time order, as in
// Prometheus' own remote write. A network error, 429 or 5xx is returned as retryable (the
// queue retries all of recs; samples already accepted are re-sent with the same timestamps,
// which backends accept as duplicates). Any other 4xx drops that request with one log line
// and lets the rest through.
//
// On a retryable error it returns the index of the first record not delivered.
func (e *remoteWriteExporter) sendRecords(ctx context.Context, recs [][]byte) (int, error) {
	for start := 0; start < len(recs); {
		e.reqBuf = startRequest(e.reqBuf)
		decoded := 0
		end := start
		for ; end < len(recs); end++ {
			n, body, ok := blockBody(recs[end])
			if !ok {
				if end == start {
					e.logger.Error("Dropping an unreadable remote-write queue record", zap.Int("bytes", len(recs[end])))
					e.dropped(ctx, samplesOf(recs[end:end+1]), metadata.ReasonUnreadableRecord)
					start++
					continue
				}
				break
			}
			if end > start && decoded+n > e.cfg.MaxBatchSizeBytes {
				break
			}
			e.reqBuf = append(e.reqBuf, body...)
			decoded += n
		}
		if end == start {
			continue
		}
		if decoded > 0 {
			samples := samplesOf(recs[start:end])
			if err := e.send(ctx, finishRequest(e.reqBuf, decoded), decoded, end-start); err != nil {
				var rejected *rejectedError
				if !errors.As(err, &rejected) {
					return start, err
				}
				e.dropped(ctx, samples, metadata.ReasonRejected)
			} else {
				e.tel.SentSamples.Add(ctx, samples)
			}
		}
		start = end
		if cap(e.reqBuf) > 4*e.cfg.MaxBatchSizeBytes+(4<<20) {
			e.reqBuf = nil
		}
	}
	return len(recs), nil
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

// send posts one WriteRequest, compressed (a snappy block of decoded bytes), holding scrapes
// scrapes.
func (e *remoteWriteExporter) send(ctx context.Context, compressed []byte, decoded, scrapes int) error {
	httpReq, err := http.NewRequestWithContext(ctx, http.MethodPost, e.cfg.Endpoint, bytes.NewReader(compressed))
	if err != nil {
		return consumererror.NewPermanent(err)
	}
	httpReq.Header.Set("Content-Encoding", "snappy")
	httpReq.Header.Set("Content-Type", "application/x-protobuf")
	httpReq.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	httpReq.Header.Set("User-Agent", "otelcol-llminference")
	began := time.Now()
	resp, err := e.client.Do(httpReq)
	e.tel.SendDuration.Record(ctx, time.Since(began).Seconds())
	if err != nil {
		e.tel.Requests.Add(ctx, 1, metric.WithAttributes(attribute.String(metadata.AttrStatusClass, "network_error")))
		return fmt.Errorf("remote write: %w", err) // retryable
	}
	e.tel.Requests.Add(ctx, 1, metric.WithAttributes(attribute.String(metadata.AttrStatusClass, strconv.Itoa(resp.StatusCode/100)+"xx")))
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
		zap.Int("scrapes", scrapes), zap.Int("bytes", decoded))
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

// dropped counts samples given up on.
func (e *remoteWriteExporter) dropped(ctx context.Context, samples int64, reason string) {
	e.tel.DroppedSamples.Add(ctx, samples, metric.WithAttributes(attribute.String(metadata.AttrReason, reason)))
}
