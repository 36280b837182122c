package loadtest

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/otelcol-llminference/otelcol-llminference/components/processor/llminferenceprocessor/mapping"
	"github.com/otelcol-llminference/otelcol-llminference/internal/localstack"
)

// Contender names.
const (
	// Ours is the production pipeline: llminference receiver -> llminference processor ->
	// llminference_remote_write (our encoder and disk queue).
	Ours = "ours"
	// OursPRW is the same receiver and processor with contrib's prometheus_remote_write.
	OursPRW = "ours-prw"
	Stock   = "stock" // prometheus receiver -> transform + filter -> prometheus_remote_write
)

// AllContenders in the order they take turns: ours, then every peer in every form (peers.go).
var AllContenders = append([]string{Ours, OursPRW, Stock}, PeerContenders(Peers...)...)

// Rename is one source-to-unified rename the stock pipeline and vmagent must do.
type Rename struct {
	Source, Unified, Type string
}

// Renames are the vLLM renames of our built-in mapping tables (both generations, as our
// processor handles both), so that every contender does the same renames.
func Renames() ([]Rename, error) {
	tables, err := mapping.Builtin()
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []Rename
	for _, t := range tables {
		if t.Backend != "vllm" {
			continue
		}
		for _, m := range t.Metrics {
			if m.Transform != "" || seen[m.Source] {
				continue // LoRA info is restructured, not renamed; the load fleet serves none
			}
			seen[m.Source] = true
			out = append(out, Rename{Source: m.Source, Unified: m.Unified, Type: m.Type})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Source < out[j].Source })
	return out, nil
}

// remoteWriteExporter is contrib's remote-write exporter block of ours-prw and stock, set to
// send exactly what our own exporter sends: names as they are, the pod identity as labels.
func remoteWriteExporter(sinkURL string) string {
	return fmt.Sprintf(`  prometheus_remote_write:
    endpoint: %s
    translation_strategy: UnderscoreEscapingWithoutSuffixes
    resource_constant_labels: {included: [namespace, pod, node, workload_name, backend]}
    target_info: {enabled: false}
    disable_scope_info: true
    remote_write_queue: {queue_size: 100000, num_consumers: 2}
    retry_on_failure: {enabled: true, initial_interval: 100ms, max_interval: 1s}
`, sinkURL)
}

const telemetryOff = `  telemetry:
    metrics: {level: none}
    logs: {level: warn}
`

// OursConfig is our pipeline over the workload's targets, with our exporter and its disk
// queue (production) or contrib's prometheus_remote_write.
func OursConfig(w *Workload, sinkURL, queueDir string, disk bool, pprof string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `receivers:
  llminference:
    collection_interval: %s
    scrape_timeout: %s
    kubernetes: {enabled: false, node_name: %s}
    static_targets:
`, w.Interval, w.timeout(), w.Node)
	for _, t := range w.Targets {
		fmt.Fprintf(&b, "      - {endpoint: %q, workload: %s, backend: vllm, namespace: %s, pod: %s}\n", t.URL, t.Workload, t.Namespace, t.Pod)
	}
	if w.GPU != nil {
		fmt.Fprintf(&b, "    gpu_exporter: {endpoint: %q}\n", w.GPU.URL)
	}
	b.WriteString(`processors:
  llminference: {}
  batch: {timeout: 1s}
exporters:
`)
	exporter, processors := "prometheus_remote_write", "[llminference, batch]"
	if disk {
		exporter, processors = "llminference_remote_write", "[llminference]"
		fmt.Fprintf(&b, `  llminference_remote_write:
    endpoint: %s
    queue: {directory: %q, max_batch_scrapes: 200}
`, sinkURL, queueDir)
	} else {
		b.WriteString(remoteWriteExporter(sinkURL))
	}
	// startup_pages as in the DaemonSet's configuration (configs/collector/daemonset.yaml).
	b.WriteString("extensions:\n  startup_pages: {}\n")
	ext := "  extensions: [startup_pages]\n"
	if pprof != "" {
		fmt.Fprintf(&b, "  pprof: {endpoint: %q}\n", pprof)
		ext = "  extensions: [startup_pages, pprof]\n"
	}
	fmt.Fprintf(&b, `service:
%s%s  pipelines:
    metrics: {receivers: [llminference], processors: %s, exporters: [%s]}
`, ext, telemetryOff, processors, exporter)
	return b.String()
}

// scrapeConfigs is the Prometheus scrape configuration shared by the stock pipeline and
// vmagent: one job for the engines, one for dcgm-exporter, with the pod identity as target
// labels. relabel, when set, is added to the engines' job.
func scrapeConfigs(w *Workload, indent, relabel string) string {
	var b strings.Builder
	p := func(format string, args ...any) { b.WriteString(indent + fmt.Sprintf(format, args...) + "\n") }
	p("scrape_configs:")
	p("  - job_name: engines")
	p("    scrape_interval: %s", promDuration(w.Interval))
	p("    scrape_timeout: %s", promDuration(w.timeout()))
	p("    static_configs:")
	for _, t := range w.Targets {
		p("      - targets: [%q]", strings.TrimSuffix(strings.TrimPrefix(t.URL, "http://"), "/metrics"))
		p("        labels: {namespace: %s, pod: %s, node: %s, workload_name: %s, backend: vllm}", t.Namespace, t.Pod, w.Node, t.Workload)
	}
	if relabel != "" {
		p("    metric_relabel_configs:")
		for _, l := range strings.Split(strings.TrimRight(relabel, "\n"), "\n") {
			p("    %s", l)
		}
	}
	if w.GPU != nil {
		p("  - job_name: dcgm")
		p("    scrape_interval: %s", promDuration(w.Interval))
		p("    scrape_timeout: %s", promDuration(w.timeout()))
		p("    static_configs:")
		p("      - targets: [%q]", strings.TrimSuffix(strings.TrimPrefix(w.GPU.URL, "http://"), "/metrics"))
		p("        labels: {node: %s}", w.Node)
	}
	return b.String()
}

// StockConfig is the stock collector pipeline: contrib's prometheus receiver, transform
// renames (one OTTL statement per mapping) and a filter dropping the unmapped engine metrics.
func StockConfig(w *Workload, renames []Rename, sinkURL string) string {
	var b strings.Builder
	b.WriteString("receivers:\n  prometheus:\n    config:\n")
	b.WriteString(scrapeConfigs(w, "      ", ""))
	b.WriteString(`processors:
  transform:
    error_mode: ignore
    metric_statements:
      - context: metric
        statements:
`)
	for _, r := range renames {
		// The receiver names a counter family without _total (as its TYPE line does).
		cond := fmt.Sprintf("metric.name == %q", r.Source)
		if base, ok := strings.CutSuffix(r.Source, "_total"); ok && r.Type == mapping.TypeCounter {
			cond = fmt.Sprintf("metric.name == %q or metric.name == %q", r.Source, base)
		}
		fmt.Fprintf(&b, "          - 'set(metric.name, %q) where %s'\n", r.Unified, cond)
	}
	b.WriteString(`  filter:
    error_mode: ignore
    metrics:
      metric:
        - 'IsMatch(metric.name, "^vllm:")'
  batch: {timeout: 1s}
exporters:
`)
	b.WriteString(remoteWriteExporter(sinkURL))
	fmt.Fprintf(&b, `service:
%s  pipelines:
    metrics: {receivers: [prometheus], processors: [transform, filter, batch], exporters: [prometheus_remote_write]}
`, telemetryOff)
	return b.String()
}

// StartContender starts one contender over the workload, shipping to sinkURL.
func StartContender(name string, w *Workload, o RunOptions, sinkURL, dir string) (*localstack.Process, error) {
	renames, otelcol := o.Renames, o.OtelcolBin
	write := func(file, body string) (string, error) {
		path := filepath.Join(dir, file)
		return path, os.WriteFile(path, []byte(body), 0o600)
	}
	if peer, form, ok := splitPeer(name); ok {
		return startPeer(peer, form, w, o, sinkURL, dir, write)
	}
	name, bin, env := oursVariant(name, o.OursEnv)
	if bin != "" {
		otelcol = bin
	}
	switch name {
	case Ours, OursPRW:
		queue := filepath.Join(dir, "queue")
		cfg, err := write(name+".yaml", OursConfig(w, sinkURL, queue, name == Ours, o.Pprof))
		if err != nil {
			return nil, err
		}
		return startCold(env, otelcol, "--config", cfg)
	case Stock:
		cfg, err := write("stock.yaml", StockConfig(w, renames, sinkURL))
		if err != nil {
			return nil, err
		}
		return startCold(OneCoreEnv, otelcol, "--config", cfg)
	}
	return nil, fmt.Errorf("unknown contender %q", name)
}

// promDuration formats d as Prometheus configuration durations are written (no fractions).
func promDuration(d time.Duration) string { return fmt.Sprintf("%dms", d.Milliseconds()) }

// oursVariant splits a variant of ours for A/B runs into the contender, its binary ("" for
// the bench's) and its environment: "ours@/tmp/otelcol-before" runs another build,
// "ours+GOMAXPROCS=2+GOGC=100" other settings, after env so that they win.
func oursVariant(name string, env []string) (string, string, []string) {
	parts := strings.Split(name, "+")
	base, bin, _ := strings.Cut(parts[0], "@")
	return base, bin, append(slices.Clip(env), parts[1:]...)
}
