// Package startuppagesextension gives the kernel back the pages of the collector's binary that
// only start-up touched, once every pipeline has started.
//
// Why: a collector binary carries far more code and read-only data than one pipeline runs. The
// kernel maps every page that start-up touches (package initialisers, configuration, component
// factories), and with read-around and fault-around it maps their neighbours too: ~53 MiB of
// RssFile for otelcol-llminference, while the pages the running pipeline touches in 20 s add up
// to ~4.5 MiB. Those clean, file-backed pages stay mapped, and so counted in the process's RSS,
// until the kernel runs short of memory.
package startuppagesextension

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"

	"github.com/otelcol-llminference/otelcol-llminference/components/extension/startuppagesextension/internal/metadata"
)

// NewFactory returns the factory of the startup_pages extension.
func NewFactory() extension.Factory {
	return extension.NewFactory(
		metadata.Type,
		func() component.Config { return &Config{} },
		func(_ context.Context, set extension.Settings, _ component.Config) (extension.Extension, error) {
			return newStartupPages(set.Logger, releaseExecutablePages), nil
		},
		metadata.ExtensionStability,
	)
}
