//go:build ignore

// generate writes configmap.yaml, and the Helm chart's files/collector.yaml, from
// ../collector/daemonset.yaml (`make manifests`); a test fails when they differ.
package main

import (
	"os"
	"strings"
)

func main() {
	cfg, err := os.ReadFile("configs/collector/daemonset.yaml")
	if err != nil {
		panic(err)
	}
	var b strings.Builder
	b.WriteString("# Generated from configs/collector/daemonset.yaml by `make manifests`; do not edit.\n")
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: otelcol-llminference\n  namespace: otelcol-llminference\n")
	b.WriteString("  labels:\n    app.kubernetes.io/name: otelcol-llminference\ndata:\n  collector.yaml: |\n")
	for _, line := range strings.Split(strings.TrimRight(string(cfg), "\n"), "\n") {
		if line == "" {
			b.WriteString("\n")
		} else {
			b.WriteString("    " + line + "\n")
		}
	}
	if err := os.WriteFile("configs/kubernetes/configmap.yaml", []byte(b.String()), 0o644); err != nil {
		panic(err)
	}
	if err := os.WriteFile("configs/helm/otelcol-llminference/files/collector.yaml", cfg, 0o644); err != nil {
		panic(err)
	}
}
