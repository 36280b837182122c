// Package llminferenceremotewriteexporter (type llminference_remote_write) ships metrics over Prometheus remote write (1.0) through a strictly
// ordered, at-least-once queue on disk: a backend outage, throttling or a collector crash delays
// data but does not lose it, and never reorders it (a backend refuses a series' older samples).
//
// Every scrape is appended to the queue before ConsumeMetrics returns. One sender reads the queue
// from its committed head, sends, and commits only after the backend accepted (or refused for
// good) what it sent; after a crash the uncommitted head is sent again, first.
//
// The path of a scrape: enqueue (this file) encodes it to remote write once, straight from pdata
// into protobuf bytes (encode.go), and appends it as a record (record.go) to the disk queue
// (internal/diskqueue); the sender (sender.go) concatenates queued records into requests and
// posts them. Names are kept as the pipeline sets them (no suffixes); labels match contrib's
// translator's.
package llminferenceremotewriteexporter

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.uber.org/zap"

	"github.com/otelcol-llminference/otelcol-llminference/components/exporter/llminferenceremotewriteexporter/internal/diskqueue"
	"github.com/otelcol-llminference/otelcol-llminference/components/exporter/llminferenceremotewriteexporter/internal/metadata"
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
	// The sender's request buffer, reused from request to request.
	reqBuf []byte

	tel *metadata.Telemetry
	// oldestNanos is the enqueue time of the record at the queue's head (0: empty or unknown).
	oldestNanos atomic.Int64
	// started is the queue once start opened it: the telemetry callback may run at any time.
	started atomic.Pointer[diskqueue.Queue]
	// diskFailing is set while the disk refuses the queue's writes (logged once each way).
	diskFailing atomic.Bool
}

func newExporter(cfg *Config, set exporter.Settings) (*remoteWriteExporter, error) {
	e := &remoteWriteExporter{cfg: cfg, set: set, logger: set.Logger, enc: newEncoder(cfg.ResourceLabels, cfg.ExternalLabels)}
	tel, err := metadata.NewTelemetry(set.TelemetrySettings, e.observeQueue)
	if err != nil {
		return nil, err
	}
	e.tel = tel
	return e, nil
}

func (e *remoteWriteExporter) start(ctx context.Context, host component.Host) error {
	client, err := e.cfg.ToClient(ctx, host.GetExtensions(), e.set.TelemetrySettings)
	if err != nil {
		return err
	}
	e.client = client
	maxBytes := e.cfg.Queue.MaxSizeMiB << 20
	e.queue, err = diskqueue.Open(e.cfg.Queue.Directory, diskqueue.Options{
		MaxBytes: maxBytes,
		// Segments are what a full queue drops: at most an eighth of it each.
		SegmentBytes: min(16<<20, maxBytes/8),
		Sync:         e.cfg.Queue.FSync,
		DropOldest:   e.cfg.Queue.WhenFull == WhenFullDropOldest,
		OnDrop: func(rec []byte) { // the queue's lock is held: count, nothing else
			e.dropped(context.Background(), samplesOf([][]byte{rec}), metadata.ReasonQueueFull)
		},
		MemoryBytes: e.cfg.Queue.MaxMemoryMiB << 20,
		OnMemoryDrop: func(rec []byte) { // the queue's lock is held: count, nothing else
			e.dropped(context.Background(), samplesOf([][]byte{rec}), metadata.ReasonDiskError)
		},
		OnCursorDamaged: func(err error) {
			e.logger.Warn("The remote-write queue's cursor is damaged; sending all it holds again (backends take repeated samples as duplicates)", zap.Error(err))
		},
		// Many flush intervals' scrapes: a sender that keeps up never reads back what was just
		// written; a backlog beyond it is read from disk.
		TailBytes: min(4<<20, maxBytes/8),
		OnCorrupt: func(rec []byte, n int64) {
			// A record's own header may have survived the damage: count its samples if so.
			e.logger.Error("Skipping a damaged part of the remote-write queue", zap.Int64("bytes", n))
			e.dropped(context.Background(), samplesOf([][]byte{rec}), metadata.ReasonUnreadableRecord)
		},
	})
	if err != nil {
		return fmt.Errorf("queue.directory %q: %w", e.cfg.Queue.Directory, err)
	}
	e.started.Store(e.queue)
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

// enqueue encodes a scrape as remote write and appends it to the disk queue; it is durable
// (against a process crash) on return. Encoding here, once, leaves the sender nothing to do
// but concatenate records and send.
func (e *remoteWriteExporter) enqueue(ctx context.Context, md pmetric.Metrics) error {
	e.encMu.Lock()
	e.enc.samples = 0
	e.encBuf = e.enc.appendMetrics(e.encBuf[:0], md)
	samples := e.enc.samples
	rec := appendTimedRecord(e.recBuf[:0], e.encBuf, time.Now(), samples)
	err := e.queue.Push(rec)
	e.recBuf = rec
	if cap(e.encBuf) > 4<<20 || cap(e.recBuf) > 4<<20 {
		e.encBuf, e.recBuf = nil, nil // do not keep an outsized scrape's buffers
	}
	e.encMu.Unlock()
	var held *diskqueue.HeldError
	switch {
	case err == nil:
		if e.diskFailing.Swap(false) {
			e.logger.Info("The remote-write queue is written to disk again; the scrapes held in memory are on disk")
		}
		return nil
	case errors.As(err, &held):
		// Not lost: held in memory until the disk takes writes again. Reported (counted, and
		// logged when it starts), but not failed: the scrape is in the queue.
		e.tel.QueueWriteErrors.Add(ctx, 1)
		if !e.diskFailing.Swap(true) {
			e.logger.Error("Writing the remote-write queue to disk failed; holding scrapes in memory (queue.max_memory_mib) until it takes writes again",
				zap.String("directory", e.cfg.Queue.Directory), zap.Error(held.Err))
		}
		return nil
	case errors.Is(err, diskqueue.ErrFull):
		e.dropped(ctx, int64(samples), metadata.ReasonQueueFull)
		return fmt.Errorf("remote-write queue full (queue.max_size_mib %d): %w", e.cfg.Queue.MaxSizeMiB, err)
	default:
		e.tel.QueueWriteErrors.Add(ctx, 1)
		e.dropped(ctx, int64(samples), metadata.ReasonDiskError)
		return fmt.Errorf("writing the remote-write queue in queue.directory %q: %w", e.cfg.Queue.Directory, err)
	}
}

// observeQueue is what the queue metrics report when they are read.
func (e *remoteWriteExporter) observeQueue() (bytes, scrapes int64, oldestAgeSeconds float64) {
	q := e.started.Load()
	if q == nil { // not started
		return 0, 0, 0
	}
	scrapes = q.Records()
	if oldest := e.oldestNanos.Load(); oldest != 0 && scrapes > 0 {
		oldestAgeSeconds = time.Since(time.Unix(0, oldest)).Seconds()
	}
	return q.Size(), scrapes, oldestAgeSeconds
}

// samplesOf adds up the sample counts of records (0 for records of the older format).
func samplesOf(recs [][]byte) int64 {
	var n int64
	for _, r := range recs {
		if _, s, ok := recordMeta(r); ok {
			n += int64(s)
		}
	}
	return n
}
