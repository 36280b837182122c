package metadata

import (
	"context"
	"errors"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/metric"
)

// Telemetry is the exporter's own metrics, declared in one place. Through the collector's
// telemetry they appear on its metrics endpoint under these names, as the collector's own
// (otelcol_exporter_queue_size, ...) do.
type Telemetry struct {
	// Queue: what waits on disk, and for how long.
	QueueSize      metric.Int64ObservableGauge
	QueueScrapes   metric.Int64ObservableGauge
	QueueOldestAge metric.Float64ObservableGauge
	// Sending.
	SentSamples  metric.Int64Counter
	Requests     metric.Int64Counter // attribute status_class: 2xx, 4xx, 5xx, network_error
	SendDuration metric.Float64Histogram
	// DroppedSamples counts samples given up on; attribute reason: rejected (a 4xx other than
	// 429), retry_expired (retry_on_failure.max_elapsed_time), retry_disabled, queue_full,
	// unreadable_record, disk_error (the disk refused them and memory could not hold them).
	DroppedSamples metric.Int64Counter
	// QueueWriteErrors counts scrapes the disk refused to take (full, read-only, failing).
	QueueWriteErrors metric.Int64Counter
}

// Attribute keys and values of the exporter's metrics.
const (
	AttrStatusClass = "status_class"
	AttrReason      = "reason"

	ReasonRejected         = "rejected"
	ReasonRetryExpired     = "retry_expired"
	ReasonRetryDisabled    = "retry_disabled"
	ReasonQueueFull        = "queue_full"
	ReasonUnreadableRecord = "unreadable_record"
	ReasonDiskError        = "disk_error"
)

// QueueObserver reports the queue's state when the metrics are read.
type QueueObserver func() (bytes, scrapes int64, oldestAgeSeconds float64)

// NewTelemetry creates the exporter's instruments on the collector's meter provider.
func NewTelemetry(set component.TelemetrySettings, observe QueueObserver) (*Telemetry, error) {
	m := set.MeterProvider.Meter(ScopeName)
	var t Telemetry
	var errs, err error
	t.QueueSize, err = m.Int64ObservableGauge("otelcol_llminference_remote_write_queue_size",
		metric.WithDescription("Bytes of scrapes in the remote-write queue on disk, not yet accepted by the backend."), metric.WithUnit("By"))
	errs = errors.Join(errs, err)
	t.QueueScrapes, err = m.Int64ObservableGauge("otelcol_llminference_remote_write_queue_scrapes",
		metric.WithDescription("Scrapes in the remote-write queue, not yet accepted by the backend."), metric.WithUnit("{scrape}"))
	errs = errors.Join(errs, err)
	t.QueueOldestAge, err = m.Float64ObservableGauge("otelcol_llminference_remote_write_queue_oldest_age",
		metric.WithDescription("Age of the oldest scrape in the remote-write queue (0 when empty)."), metric.WithUnit("s"))
	errs = errors.Join(errs, err)
	t.SentSamples, err = m.Int64Counter("otelcol_llminference_remote_write_sent_samples",
		metric.WithDescription("Samples the remote-write backend accepted."), metric.WithUnit("{sample}"))
	errs = errors.Join(errs, err)
	t.Requests, err = m.Int64Counter("otelcol_llminference_remote_write_requests",
		metric.WithDescription("Remote-write requests sent, by the class of their answer."), metric.WithUnit("{request}"))
	errs = errors.Join(errs, err)
	t.SendDuration, err = m.Float64Histogram("otelcol_llminference_remote_write_send_duration",
		metric.WithDescription("Duration of one remote-write request."), metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
	errs = errors.Join(errs, err)
	t.DroppedSamples, err = m.Int64Counter("otelcol_llminference_remote_write_dropped_samples",
		metric.WithDescription("Samples given up on, by reason."), metric.WithUnit("{sample}"))
	errs = errors.Join(errs, err)
	t.QueueWriteErrors, err = m.Int64Counter("otelcol_llminference_remote_write_queue_write_errors",
		metric.WithDescription("Scrapes the queue's disk refused to write (full, read-only, failing); held in memory within queue.max_memory_mib."), metric.WithUnit("{scrape}"))
	errs = errors.Join(errs, err)
	if errs != nil {
		return nil, errs
	}
	_, err = m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		bytes, scrapes, age := observe()
		o.ObserveInt64(t.QueueSize, bytes)
		o.ObserveInt64(t.QueueScrapes, scrapes)
		o.ObserveFloat64(t.QueueOldestAge, age)
		return nil
	}, t.QueueSize, t.QueueScrapes, t.QueueOldestAge)
	return &t, err
}
