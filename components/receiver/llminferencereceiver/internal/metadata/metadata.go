// Package metadata holds the component type and stability of the llminference receiver,
// in the shape mdatagen produces (mdatagen is served here only at v0.155.0).
package metadata

import "go.opentelemetry.io/collector/component"

var (
	// Type is the receiver's type in collector configuration.
	Type = component.MustNewType("llminference")
	// ScopeName is the instrumentation scope of every metric the receiver emits.
	ScopeName = "github.com/otelcol-llminference/otelcol-llminference/components/receiver/llminferencereceiver"
)

const (
	// MetricsStability is the stability of the metrics signal.
	MetricsStability = component.StabilityLevelAlpha
)
