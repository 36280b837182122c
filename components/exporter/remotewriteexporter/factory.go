package remotewriteexporter

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/otelcol-llminference/otelcol-llminference/components/exporter/remotewriteexporter/internal/metadata"
)

// NewFactory returns the factory of the durable Prometheus remote-write exporter.
func NewFactory() exporter.Factory {
	return exporter.NewFactory(
		metadata.Type,
		func() component.Config { return createDefaultConfig() },
		exporter.WithMetrics(createMetricsExporter, metadata.MetricsStability),
	)
}

func createMetricsExporter(ctx context.Context, set exporter.Settings, c component.Config) (exporter.Metrics, error) {
	cfg := c.(*Config)
	e := newExporter(cfg, set)
	return exporterhelper.NewMetrics(ctx, set, cfg, e.push,
		exporterhelper.WithStart(e.start),
		exporterhelper.WithQueue(cfg.QueueConfig),
		exporterhelper.WithRetry(cfg.BackOffConfig),
		// The HTTP client's timeout bounds each request; exporterhelper's would cut a long push.
		exporterhelper.WithTimeout(exporterhelper.TimeoutConfig{Timeout: 0}),
		exporterhelper.WithCapabilities(consumer.Capabilities{MutatesData: true}),
	)
}
