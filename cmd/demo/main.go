// Command demo runs the whole product locally (`make demo`): the simulated fleet of cmd/llmsim,
// a local Prometheus with the remote-write receiver, and the collector on configs/local.yaml; every
// collection interval it prints a table read back from Prometheus, per model and per pod.
//
// Environment: OTELCOL_BIN (the collector), DEMO_DURATION (stop after this long; default: until
// Ctrl-C), LLMINF_INTERVAL (collection interval, default 5s), DEMO_PROMETHEUS_ADDR (default
// 127.0.0.1:19090), DEMO_CONFIG (default configs/local.yaml).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/otelcol-llminference/otelcol-llminference/internal/llmsim"
	"github.com/otelcol-llminference/otelcol-llminference/internal/localstack"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func env(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func run() error {
	bin := env("OTELCOL_BIN", "bin/otelcol-llminference")
	config := env("DEMO_CONFIG", "configs/local.yaml")
	promAddr := env("DEMO_PROMETHEUS_ADDR", "127.0.0.1:19090")
	interval, err := time.ParseDuration(env("LLMINF_INTERVAL", "5s"))
	if err != nil {
		return fmt.Errorf("LLMINF_INTERVAL: %w", err)
	}
	var duration time.Duration
	if d := os.Getenv("DEMO_DURATION"); d != "" {
		if duration, err = time.ParseDuration(d); err != nil {
			return fmt.Errorf("DEMO_DURATION: %w", err)
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, duration)
		defer cancel()
	}

	// Everything started below is stopped on the way out, and nothing else is touched.
	fleet, err := llmsim.Start(llmsim.DemoConfig())
	if err != nil {
		return fmt.Errorf("simulated fleet: %w (is another demo running?)", err)
	}
	defer fleet.Close()
	fmt.Println("Simulated fleet (node " + fleet.Node() + "):")
	for _, ep := range fleet.Endpoints {
		fmt.Printf("  %-12s %-14s %s\n", ep.Spec.Engine, ep.Spec.Name, ep.URL)
	}

	dir, err := os.MkdirTemp("", "llminference-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	prom, err := localstack.NewPrometheus(promAddr, dir, "")
	if err != nil {
		return fmt.Errorf("prometheus: %w", err)
	}
	defer prom.Stop()

	abs, _ := filepath.Abs(config)
	// The collector's disk queue lives in the demo's temporary directory.
	col, err := localstack.StartProcessEnv([]string{"LLMINF_QUEUE_DIR=" + filepath.Join(dir, "queue")}, bin, "--config", abs)
	if err != nil {
		return err
	}
	defer col.Stop()
	if err := localstack.WaitHTTP(col, "http://"+env("LLMINF_HEALTH_ADDR", "127.0.0.1:13133")+"/", 30*time.Second); err != nil {
		return fmt.Errorf("collector: %w", err)
	}

	fmt.Printf("\nPrometheus UI:       %s/graph\n", prom.URL)
	fmt.Printf("Collector metrics:   http://127.0.0.1:%s/metrics\n", env("LLMINF_TELEMETRY_PORT", "18888"))
	fmt.Printf("Collector config:    %s (scraping every %s)\n", config, interval)
	if duration > 0 {
		fmt.Printf("Stopping after %s; Ctrl-C stops earlier.\n", duration)
	} else {
		fmt.Println("Ctrl-C stops the demo.")
	}

	start := time.Now()
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done(): // Ctrl-C or DEMO_DURATION: the deferred stops run in reverse order
			fmt.Println("\nStopping: collector, Prometheus, simulated fleet.")
			return nil
		case <-ticker.C:
		}
		if col.Exited() {
			return fmt.Errorf("collector exited:\n%s", col.Output())
		}
		rows, err := readTable(ctx, prom, interval)
		if err != nil && ctx.Err() == nil {
			fmt.Println("query:", err)
			continue
		}
		printTable(os.Stdout, time.Since(start), rows)
	}
}
