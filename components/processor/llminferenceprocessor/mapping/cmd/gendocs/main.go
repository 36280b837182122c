// Command gendocs prints docs/metrics.md from the built-in mapping tables and the OpenTelemetry names (`make docs`).
package main

import (
	"fmt"
	"os"

	"github.com/otelcol-llminference/otelcol-llminference/components/processor/llminferenceprocessor/mapping"
	"github.com/otelcol-llminference/otelcol-llminference/components/processor/llminferenceprocessor/otelschema"
)

func main() {
	tables, err := mapping.Builtin()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Print(mapping.Markdown(tables) + otelschema.Markdown())
}
