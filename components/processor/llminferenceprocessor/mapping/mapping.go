// Package mapping holds the tables that map each engine's metrics, per backend and generation,
// onto the unified llm_inference_* schema. The built-in tables are data (tables/*.yaml); users
// add their own in the same format through the processor's extra_mappings.
package mapping

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Types a unified metric can have, as in the Prometheus exposition.
const (
	TypeGauge     = "gauge"
	TypeCounter   = "counter"
	TypeHistogram = "histogram"
	TypeSummary   = "summary"
)

// TransformLoRAInfo turns vLLM's lora_requests_info (adapter lists in label values, the value a
// timestamp) into one series per adapter and state.
const TransformLoRAInfo = "lora_info"

// Table maps one backend generation's metrics onto the unified schema.
type Table struct {
	// Backend is the value of the pod's backend label this table serves; Aliases are more.
	Backend string   `yaml:"backend" mapstructure:"backend"`
	Aliases []string `yaml:"aliases" mapstructure:"aliases"`
	// DetectPrefix recognises the engine by its metric names when the backend label is missing.
	DetectPrefix string `yaml:"detect_prefix" mapstructure:"detect_prefix"`
	Generation   string `yaml:"generation" mapstructure:"generation"`
	// Priority decides between tables of one backend that map the same unified metric from
	// sources present in the same scrape: the higher wins (current names over older ones).
	Priority int       `yaml:"priority" mapstructure:"priority"`
	Metrics  []Mapping `yaml:"metrics" mapstructure:"metrics"`
}

// Mapping maps one source metric to one unified metric.
type Mapping struct {
	Unified string `yaml:"unified" mapstructure:"unified"`
	Type    string `yaml:"type" mapstructure:"type"`
	Source  string `yaml:"source" mapstructure:"source"`
	// SetLabels are constant labels added to every data point (e.g. a finished_reason the
	// engine does not expose).
	SetLabels map[string]string `yaml:"set_labels" mapstructure:"set_labels"`
	Transform string            `yaml:"transform" mapstructure:"transform"`
	Note      string            `yaml:"note" mapstructure:"note"`
}

//go:embed tables/*.yaml
var builtin embed.FS

// Builtin returns the built-in tables, in file name order.
func Builtin() ([]Table, error) {
	entries, err := fs.ReadDir(builtin, "tables")
	if err != nil {
		return nil, err
	}
	var out []Table
	for _, e := range entries {
		b, err := builtin.ReadFile(path.Join("tables", e.Name()))
		if err != nil {
			return nil, err
		}
		var t Table
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(&t); err != nil {
			return nil, fmt.Errorf("mapping table %s: %w", e.Name(), err)
		}
		if err := t.Validate(); err != nil {
			return nil, fmt.Errorf("mapping table %s: %w", e.Name(), err)
		}
		out = append(out, t)
	}
	return out, nil
}

var (
	metricName = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	labelName  = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
)

// Validate checks a table; errors name the offending entry.
func (t *Table) Validate() error {
	var errs []error
	if t.Backend == "" {
		errs = append(errs, errors.New("backend: must not be empty"))
	}
	for i, m := range t.Metrics {
		key := fmt.Sprintf("metrics[%d]", i)
		if !strings.HasPrefix(m.Unified, "llm_inference_") || !metricName.MatchString(m.Unified) {
			errs = append(errs, fmt.Errorf("%s.unified: %q must be a metric name starting with llm_inference_", key, m.Unified))
		}
		if !metricName.MatchString(m.Source) {
			errs = append(errs, fmt.Errorf("%s.source: %q is not a metric name", key, m.Source))
		}
		switch m.Type {
		case TypeGauge, TypeCounter, TypeHistogram, TypeSummary:
		default:
			errs = append(errs, fmt.Errorf("%s.type: %q must be gauge, counter, histogram or summary", key, m.Type))
		}
		switch m.Transform {
		case "":
		case TransformLoRAInfo:
			if m.Type != TypeGauge {
				errs = append(errs, fmt.Errorf("%s.transform: %s needs type gauge", key, m.Transform))
			}
		default:
			errs = append(errs, fmt.Errorf("%s.transform: unknown %q", key, m.Transform))
		}
		for k := range m.SetLabels {
			if !labelName.MatchString(k) {
				errs = append(errs, fmt.Errorf("%s.set_labels: %q is not a label name", key, k))
			}
		}
		if m.Type == TypeCounter && !strings.HasSuffix(m.Unified, "_total") {
			errs = append(errs, fmt.Errorf("%s.unified: counter %q must end in _total", key, m.Unified))
		}
	}
	return errors.Join(errs...)
}

// Backends returns every backend label value a table serves.
func (t *Table) Backends() []string { return append([]string{t.Backend}, t.Aliases...) }

// Markdown renders the tables as docs/metrics.md.
func Markdown(tables []Table) string {
	var b strings.Builder
	b.WriteString("# Unified metrics\n\n")
	b.WriteString("<!-- Generated from components/processor/llminferenceprocessor/mapping/tables by `make docs`; do not edit. -->\n\n")
	b.WriteString("The `llminference` processor renames each engine's metrics to these names (as they appear in\n")
	b.WriteString("Prometheus) without touching values, buckets or start times. Every series also carries\n")
	b.WriteString("`namespace`, `pod`, `node`, `workload_name`, `backend` (resource attributes, exported as labels)\n")
	b.WriteString("and `model_name`; the engine's own labels that tell series apart (`engine`, `finished_reason`,\n")
	b.WriteString("SGLang's rank labels, …) are kept. Where an engine has no source, nothing is emitted.\n\n")

	type cell struct{ sources []string }
	unified := map[string]string{} // name -> type
	var backends []string
	cells := map[string]map[string]*cell{} // unified -> backend -> sources
	for _, t := range tables {
		if !slices.Contains(backends, t.Backend) {
			backends = append(backends, t.Backend)
		}
		for _, m := range t.Metrics {
			unified[m.Unified] = m.Type
			if cells[m.Unified] == nil {
				cells[m.Unified] = map[string]*cell{}
			}
			c := cells[m.Unified][t.Backend]
			if c == nil {
				c = &cell{}
				cells[m.Unified][t.Backend] = c
			}
			src := "`" + m.Source + "`"
			if len(m.SetLabels) > 0 {
				var kv []string
				for k, v := range m.SetLabels {
					kv = append(kv, k+"=\""+v+"\"")
				}
				sort.Strings(kv)
				src += " (" + strings.Join(kv, ", ") + ")"
			}
			if t.Priority < 2 {
				src += " *(" + t.Generation + ")*"
			}
			c.sources = append(c.sources, src)
		}
	}
	names := make([]string, 0, len(unified))
	for n := range unified {
		names = append(names, n)
	}
	sort.Strings(names)
	b.WriteString("| unified | type |")
	for _, be := range backends {
		b.WriteString(" " + be + " |")
	}
	b.WriteString("\n|---|---|")
	for range backends {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, n := range names {
		fmt.Fprintf(&b, "| `%s` | %s |", n, unified[n])
		for _, be := range backends {
			if c := cells[n][be]; c != nil {
				b.WriteString(" " + strings.Join(c.sources, "<br>") + " |")
			} else {
				b.WriteString(" — |")
			}
		}
		b.WriteString("\n")
	}
	b.WriteString("| `llm_inference_pod_gpu_info` | gauge | GPU join | GPU join |\n\n")
	b.WriteString("`llm_inference_pod_gpu_info` (value 1; labels `gpu`, `gpu_uuid`, `gpu_model`) links each inference\n")
	b.WriteString("pod to the GPUs dcgm-exporter maps to it; the `DCGM_FI_*` series of those GPUs keep their names and\n")
	b.WriteString("gain `workload_name`, `model_name` and `backend`.\n\n## Tables\n")
	for _, t := range tables {
		fmt.Fprintf(&b, "\n### %s — %s\n\nBackend label values: %s. Priority %d.\n\n", t.Backend, t.Generation, "`"+strings.Join(t.Backends(), "`, `")+"`", t.Priority)
		b.WriteString("| source | unified | notes |\n|---|---|---|\n")
		for _, m := range t.Metrics {
			note := m.Note
			if m.Transform != "" {
				note = strings.TrimSpace("transform `" + m.Transform + "`; " + note)
			}
			fmt.Fprintf(&b, "| `%s` | `%s` | %s |\n", m.Source, m.Unified, note)
		}
	}
	return b.String()
}
