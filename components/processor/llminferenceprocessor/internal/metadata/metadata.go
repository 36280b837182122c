// Package metadata holds the component type and stability of the llminference processor, in
// the shape mdatagen produces (mdatagen is served here only at v0.155.0).
package metadata

import "go.opentelemetry.io/collector/component"

var (
	// Type is the processor's type in collector configuration.
	Type = component.MustNewType("llminference")
	// ScopeName is the instrumentation scope of metrics the processor creates.
	ScopeName = "github.com/otelcol-llminference/otelcol-llminference/components/processor/llminferenceprocessor"
)

const (
	// MetricsStability is the stability of the metrics signal.
	MetricsStability = component.StabilityLevelAlpha
)
