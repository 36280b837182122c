//go:build tools

// Package tools pins Prometheus v3 for the OTLP backend tests: its OTLP
// receiver is the third-party backend the opentelemetry schema is checked against.
package tools

import _ "github.com/prometheus/prometheus/cmd/prometheus"
