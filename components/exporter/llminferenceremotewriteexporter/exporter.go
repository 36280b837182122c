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

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.uber.org/zap"

	"github.com/otelcol-llminference/otelcol-llminference/components/exporter/llminferenceremotewriteexporter/internal/diskqueue"
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

// enqueue encodes a scrape as remote write and appends it to the disk queue; it is durable
// (against a process crash) on return. Encoding here, once, leaves the sender nothing to do
// but concatenate records, compress and send.
func (e *remoteWriteExporter) enqueue(_ context.Context, md pmetric.Metrics) error {
	e.encMu.Lock()
	e.encBuf = e.enc.appendMetrics(e.encBuf[:0], md)
	rec := appendSnappyRecord(e.recBuf[:0], e.encBuf)
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
