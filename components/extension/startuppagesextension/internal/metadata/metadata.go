// Package metadata holds the component type and stability of the startup_pages extension, in
// the shape mdatagen produces (mdatagen is served here only at v0.155.0).
package metadata

import "go.opentelemetry.io/collector/component"

var (
	// Type is the extension's type in collector configuration.
	Type = component.MustNewType("startup_pages")
)

const (
	// ExtensionStability is the stability of the extension.
	ExtensionStability = component.StabilityLevelAlpha
)
