// Package metadata holds the component type and stability of the remote-write exporter, in the
// shape mdatagen produces (mdatagen is served here only at v0.155.0).
package metadata

import "go.opentelemetry.io/collector/component"

// Type is the exporter's type in collector configuration.
var Type = component.MustNewType("llminference_remote_write")

// ScopeName is the instrumentation scope of the exporter's own metrics.
const ScopeName = "github.com/otelcol-llminference/otelcol-llminference/components/exporter/llminferenceremotewriteexporter"

// MetricsStability is the stability of the metrics signal.
const MetricsStability = component.StabilityLevelAlpha
