// Command llmsim serves simulated inference engines' and dcgm-exporter's /metrics endpoints.
//
//	llmsim --demo                       # the make-demo fleet on 127.0.0.1:18001-18012 and :19400
//	llmsim --config fleet.yaml          # a fleet described in YAML (see internal/llmsim.Config)
//	llmsim --demo --fault qwen3-chat-1=slow
//
// Faults can also be changed while it runs: curl -X POST 'http://ADDR/fault?mode=error'.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/otelcol-llminference/otelcol-llminference/internal/llmsim"
)

type faults []string

func (f *faults) String() string     { return strings.Join(*f, ",") }
func (f *faults) Set(s string) error { *f = append(*f, s); return nil }

func main() {
	configPath := flag.String("config", "", "fleet configuration (YAML)")
	demo := flag.Bool("demo", false, "serve the built-in demo fleet")
	seed := flag.Uint64("seed", 0, "override the configuration's seed")
	var fl faults
	flag.Var(&fl, "fault", "NAME=MODE: start endpoint NAME (pod name, or dcgm) with a fault: slow, error, garbage, restart (repeatable)")
	flag.Parse()

	var cfg llmsim.Config
	switch {
	case *configPath != "":
		var err error
		if cfg, err = llmsim.LoadConfig(*configPath); err != nil {
			fail(err)
		}
	case *demo:
		cfg = llmsim.DemoConfig()
	default:
		fail(fmt.Errorf("give --config FILE or --demo"))
	}
	if *seed != 0 {
		cfg.Seed = *seed
	}
	for _, f := range fl {
		name, mode, ok := strings.Cut(f, "=")
		found := false
		for i := range cfg.Endpoints {
			if cfg.Endpoints[i].Name == name || (name == llmsim.EngineDCGM && cfg.Endpoints[i].Engine == llmsim.EngineDCGM) {
				cfg.Endpoints[i].Fault, found = llmsim.Fault(mode), true
			}
		}
		if !ok || !found {
			fail(fmt.Errorf("--fault %q: want NAME=MODE with NAME an endpoint", f))
		}
	}
	fleet, err := llmsim.Start(cfg)
	if err != nil {
		fail(err)
	}
	defer fleet.Close()
	for _, ep := range fleet.Endpoints {
		fmt.Printf("%-12s %-28s %s\n", ep.Spec.Engine, ep.Spec.Name, ep.URL)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "llmsim:", err)
	os.Exit(2)
}
