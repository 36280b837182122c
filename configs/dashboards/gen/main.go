// Command gen prints configs/dashboards/llm-inference.json (`make dashboards`).
package main

import (
	"fmt"
	"os"

	"github.com/otelcol-llminference/otelcol-llminference/configs/dashboards"
)

func main() {
	b, err := dashboards.JSON()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Stdout.Write(b)
}
