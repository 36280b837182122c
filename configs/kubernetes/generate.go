//go:build ignore

// generate writes configmap.yaml, and the Helm chart's files/collector.yaml, from
// ../collector/daemonset.yaml; the chart's files/otlp.yaml from ../collector/otlp.yaml; and the
// k8s-attributes component's ConfigMap patch from ../collector/k8s-attributes.yaml
// (`make manifests`); tests fail when they differ.
package main

import (
	"os"
	"strings"
)

func main() {
	cfg := read("configs/collector/daemonset.yaml")
	write("configs/kubernetes/configmap.yaml", configMap("configs/collector/daemonset.yaml", "collector.yaml", cfg, true))
	write("configs/helm/otelcol-llminference/files/collector.yaml", cfg)
	write("configs/helm/otelcol-llminference/files/otlp.yaml", read("configs/collector/otlp.yaml"))
	write("configs/kubernetes/k8s-attributes/configmap.yaml",
		configMap("configs/collector/k8s-attributes.yaml", "k8s-attributes.yaml", read("configs/collector/k8s-attributes.yaml"), false))
}

func read(path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		panic(err)
	}
	return b
}

func write(path string, b []byte) {
	if err := os.WriteFile(path, b, 0o644); err != nil {
		panic(err)
	}
}

// configMap renders file as the key of the shipped ConfigMap (a patch of it: no labels).
func configMap(from, key string, file []byte, labels bool) []byte {
	var b strings.Builder
	b.WriteString("# Generated from " + from + " by `make manifests`; do not edit.\n")
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: otelcol-llminference\n  namespace: otelcol-llminference\n")
	if labels {
		b.WriteString("  labels:\n    app.kubernetes.io/name: otelcol-llminference\n")
	}
	b.WriteString("data:\n  " + key + ": |\n")
	for _, line := range strings.Split(strings.TrimRight(string(file), "\n"), "\n") {
		if line == "" {
			b.WriteString("\n")
		} else {
			b.WriteString("    " + line + "\n")
		}
	}
	return []byte(b.String())
}
