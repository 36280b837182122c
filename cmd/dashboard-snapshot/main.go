// Command snapshot renders the dashboard's panels from a running Prometheus into a
// self-contained HTML page (`make dashboard-snapshot`, e.g. while `make demo` runs).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/otelcol-llminference/otelcol-llminference/configs/dashboards"
	"github.com/otelcol-llminference/otelcol-llminference/internal/localstack"
)

func main() {
	url := flag.String("prometheus", "http://127.0.0.1:19090", "Prometheus base URL")
	out := flag.String("out", "dashboard-snapshot.html", "output file")
	window := flag.Duration("window", 10*time.Minute, "time range to draw")
	var v dashboards.Vars
	flag.StringVar(&v.Namespace, "namespace", "", "namespace (regex; empty = All)")
	flag.StringVar(&v.Workload, "workload", "", "workload_name (regex; empty = All)")
	flag.StringVar(&v.Model, "model", "", "model_name (regex; empty = All)")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := dashboards.Snapshot(ctx, &localstack.Prometheus{URL: *url}, v, time.Now(), *window)
	if err == nil {
		err = os.WriteFile(*out, b, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "snapshot:", err)
		os.Exit(1)
	}
	fmt.Println("wrote", *out)
}
