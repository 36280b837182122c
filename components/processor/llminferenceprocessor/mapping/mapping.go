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
	"math"
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

// ModelLabelNone is the model_label of an engine that labels no series with its model: the
// processor then labels them with the pod's model (a pod label, or the workload name).
const ModelLabelNone = "none"

// Parts of a histogram or summary source that a counter can be taken from.
const (
	FromSum   = "sum"
	FromCount = "count"
)

// Table maps one backend generation's metrics onto the unified schema.
type Table struct {
	// Backend is the value of the pod's backend label this table serves; Aliases are more.
	Backend string   `yaml:"backend" mapstructure:"backend"`
	Aliases []string `yaml:"aliases" mapstructure:"aliases"`
	// DetectPrefix recognises the engine by its metric names when the backend label is missing.
	// Engines whose names are generic (NIM) have none: only their backend label selects them.
	DetectPrefix string `yaml:"detect_prefix" mapstructure:"detect_prefix"`
	// ModelLabel is the engine's label that names the model (default model_name); it becomes
	// model_name, with one spelling per model in a pod (Dynamo lower-cases it in some series).
	// ModelLabelNone: the engine has no such label.
	ModelLabel string `yaml:"model_label" mapstructure:"model_label"`
	// RoleLabel is the engine's own label that states a pod's prefill/decode role, read when
	// the pod's labels say nothing (SGLang's engine_type; TensorRT-LLM's disaggregation_mode
	// under Dynamo); its values are normalised as pod roles are.
	RoleLabel string `yaml:"role_label" mapstructure:"role_label"`
	// RouterPrefix marks a router or gateway: a pod whose scrape has a metric with this prefix
	// has the role router (sgl-router, Dynamo's frontend), unless its labels say otherwise.
	RouterPrefix string `yaml:"router_prefix" mapstructure:"router_prefix"`
	// Includes are backends whose tables also apply to this one's pods: Dynamo's workers pass
	// their engine's own metrics (vllm:*, sglang:*, trtllm_*) through unchanged.
	Includes   []string `yaml:"includes" mapstructure:"includes"`
	Generation string   `yaml:"generation" mapstructure:"generation"`
	// Priority decides between tables of one backend that map the same unified metric from
	// sources present in the same scrape: the higher wins (current names over older ones).
	Priority int       `yaml:"priority" mapstructure:"priority"`
	Metrics  []Mapping `yaml:"metrics" mapstructure:"metrics"`
}

// Mapping maps one source metric (or part of it) to one unified metric.
type Mapping struct {
	Unified string `yaml:"unified" mapstructure:"unified"`
	// Type is the unified metric's type; the source has the same type, except with From.
	Type   string `yaml:"type" mapstructure:"type"`
	Source string `yaml:"source" mapstructure:"source"`
	// Match keeps only the source's data points whose labels have these values, and drops
	// those labels: they named the concept (nv_trt_llm_request_metrics{request_type="waiting"}).
	Match map[string]string `yaml:"match" mapstructure:"match"`
	// From takes a histogram's or summary's sum or count as a counter, for engines that count
	// a concept only there (TGI's token totals are tgi_request_input_length_sum).
	From string `yaml:"from" mapstructure:"from"`
	// Scale multiplies every value: gauge and counter values, histogram sums and bucket bounds,
	// summary sums and quantile values (0.001 for milliseconds, 0.000001 for microseconds).
	Scale float64 `yaml:"scale" mapstructure:"scale"`
	// RenameLabels renames source labels, old: new (TGI's err becomes error_type).
	RenameLabels map[string]string `yaml:"rename_labels" mapstructure:"rename_labels"`
	// SetLabels are constant labels added to every data point (e.g. a finished_reason the
	// engine does not expose).
	SetLabels map[string]string `yaml:"set_labels" mapstructure:"set_labels"`
	// LabelCases set labels from the values of others: the first case whose When matches a
	// data point (after RenameLabels) sets its Set; a point no case matches is left as it is.
	LabelCases []LabelCase `yaml:"label_cases" mapstructure:"label_cases"`
	Transform  string      `yaml:"transform" mapstructure:"transform"`
	Note       string      `yaml:"note" mapstructure:"note"`
}

// LabelCase is one case of Mapping.LabelCases. An empty When matches every data point; a
// value "" in When matches a point without that label.
type LabelCase struct {
	When map[string]string `yaml:"when" mapstructure:"when"`
	Set  map[string]string `yaml:"set" mapstructure:"set"`
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
		errs = append(errs, labelNames(key+".set_labels", m.SetLabels, false)...)
		errs = append(errs, labelNames(key+".match", m.Match, false)...)
		errs = append(errs, labelNames(key+".rename_labels", m.RenameLabels, true)...)
		for j, c := range m.LabelCases {
			errs = append(errs, labelNames(fmt.Sprintf("%s.label_cases[%d].when", key, j), c.When, false)...)
			errs = append(errs, labelNames(fmt.Sprintf("%s.label_cases[%d].set", key, j), c.Set, false)...)
			if len(c.Set) == 0 {
				errs = append(errs, fmt.Errorf("%s.label_cases[%d].set: must set a label", key, j))
			}
		}
		if m.Type == TypeCounter && !strings.HasSuffix(m.Unified, "_total") {
			errs = append(errs, fmt.Errorf("%s.unified: counter %q must end in _total", key, m.Unified))
		}
		switch m.From {
		case "":
		case FromSum, FromCount:
			if m.Type != TypeCounter {
				errs = append(errs, fmt.Errorf("%s.from: %s makes a counter, so type must be counter, got %q", key, m.From, m.Type))
			}
			if m.From == FromCount && m.Scale != 0 {
				errs = append(errs, fmt.Errorf("%s.scale: a count is not scaled", key))
			}
		default:
			errs = append(errs, fmt.Errorf("%s.from: %q must be sum or count", key, m.From))
		}
		if m.Scale < 0 || math.IsNaN(m.Scale) || math.IsInf(m.Scale, 0) {
			errs = append(errs, fmt.Errorf("%s.scale: must be a positive number, got %v", key, m.Scale))
		}
		if m.Transform != "" && (len(m.Match)+len(m.RenameLabels)+len(m.LabelCases) > 0 || m.Scale != 0 || m.From != "") {
			errs = append(errs, fmt.Errorf("%s.transform: %s does not combine with match, from, scale, rename_labels or label_cases", key, m.Transform))
		}
	}
	if t.RoleLabel != "" && !labelName.MatchString(t.RoleLabel) {
		errs = append(errs, fmt.Errorf("role_label: %q is not a label name", t.RoleLabel))
	}
	if t.RouterPrefix != "" && !metricName.MatchString(t.RouterPrefix) {
		errs = append(errs, fmt.Errorf("router_prefix: %q is not the start of a metric name", t.RouterPrefix))
	}
	if t.ModelLabel != "" && t.ModelLabel != ModelLabelNone && !labelName.MatchString(t.ModelLabel) {
		errs = append(errs, fmt.Errorf("model_label: %q is not a label name (or %q)", t.ModelLabel, ModelLabelNone))
	}
	return errors.Join(errs...)
}

// labelNames checks the keys (and, for renames, the values) of a label map.
func labelNames(key string, m map[string]string, values bool) []error {
	var errs []error
	for k, v := range m {
		if !labelName.MatchString(k) {
			errs = append(errs, fmt.Errorf("%s: %q is not a label name", key, k))
		}
		if values && !labelName.MatchString(v) {
			errs = append(errs, fmt.Errorf("%s: %q (new name of %q) is not a label name", key, v, k))
		}
	}
	return errs
}

// Backends returns every backend label value a table serves.
func (t *Table) Backends() []string { return append([]string{t.Backend}, t.Aliases...) }

// describe renders what a mapping does besides renaming, for the docs.
func describe(m Mapping) string {
	kvs := func(mp map[string]string, sep string) string {
		var kv []string
		for k, v := range mp {
			kv = append(kv, k+sep+v)
		}
		sort.Strings(kv)
		return strings.Join(kv, ", ")
	}
	var parts []string
	if len(m.Match) > 0 {
		parts = append(parts, "where "+kvs(m.Match, "="))
	}
	if m.From != "" {
		parts = append(parts, "its "+m.From)
	}
	if m.Scale != 0 {
		parts = append(parts, fmt.Sprintf("× %g", m.Scale))
	}
	if len(m.RenameLabels) > 0 {
		parts = append(parts, "label "+kvs(m.RenameLabels, "→"))
	}
	if len(m.SetLabels) > 0 {
		var kv []string
		for k, v := range m.SetLabels {
			kv = append(kv, k+"=\""+v+"\"")
		}
		sort.Strings(kv)
		parts = append(parts, strings.Join(kv, ", "))
	}
	for _, c := range m.LabelCases {
		when := "otherwise"
		if len(c.When) > 0 {
			when = "if " + kvs(c.When, "=")
		}
		parts = append(parts, when+": "+kvs(c.Set, "="))
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, "; ") + ")"
}

// Markdown renders the tables as docs/metrics.md.
func Markdown(tables []Table) string {
	var b strings.Builder
	b.WriteString("# Unified metrics\n\n")
	b.WriteString("<!-- Generated from components/processor/llminferenceprocessor/mapping/tables by `make docs`; do not edit. -->\n\n")
	b.WriteString("The `llminference` processor maps each engine's metrics to these names (as they appear in\n")
	b.WriteString("Prometheus). Most are renamed without touching values, buckets or start times; where an engine\n")
	b.WriteString("uses other units, one labelled family for several concepts, or only a histogram's sum, the table\n")
	b.WriteString("says how the value is taken (shown in brackets). Every series also carries `namespace`, `pod`,\n")
	b.WriteString("`node`, `workload_name`, `backend`, `inference_role` (resource attributes, exported as labels) and `model_name`\n")
	b.WriteString("(the engine's, or for engines that name no model the pod's `model_label` or else the workload);\n")
	b.WriteString("the engine's own labels that tell series apart (`engine`, `finished_reason`, rank labels, …) are\n")
	b.WriteString("kept.\n\n")
	b.WriteString("A \"—\" means the engine does not measure that concept: nothing is emitted (Dynamo workers also\n")
	b.WriteString("have their engine's column). Concepts some engines measure only as a total (`*_seconds_total`)\n")
	b.WriteString("give a mean when divided by the matching count; `llm_inference_request_time_per_output_token_seconds`\n")
	b.WriteString("is observed once per request (its mean time per output token) and is not inter-token latency.\n\n")

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
			src := "`" + m.Source + "`" + describe(m)
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
	b.WriteString("gain `workload_name`, `model_name`, `backend` and `inference_role`.\n\n")
	b.WriteString(rolesSection)
	b.WriteString("\n## Tables\n")
	for _, t := range tables {
		fmt.Fprintf(&b, "\n### %s — %s\n\nBackend label values: %s. Priority %d.\n\n", t.Backend, t.Generation, "`"+strings.Join(t.Backends(), "`, `")+"`", t.Priority)
		if t.ModelLabel != "" {
			fmt.Fprintf(&b, "Model label: `%s`.\n\n", t.ModelLabel)
		}
		if len(t.Includes) > 0 {
			fmt.Fprintf(&b, "Also maps the metrics of: %s.\n\n", "`"+strings.Join(t.Includes, "`, `")+"`")
		}
		if t.RoleLabel != "" {
			fmt.Fprintf(&b, "Role label: `%s` (read when the pod's labels state no role).\n\n", t.RoleLabel)
		}
		if t.RouterPrefix != "" {
			fmt.Fprintf(&b, "Router: a pod serving `%s*` has the role `router`.\n\n", t.RouterPrefix)
		}
		b.WriteString("| source | unified | notes |\n|---|---|---|\n")
		for _, m := range t.Metrics {
			note := m.Note
			if m.Transform != "" {
				note = strings.TrimSpace("transform `" + m.Transform + "`; " + note)
			}
			fmt.Fprintf(&b, "| `%s`%s | `%s` | %s |\n", m.Source, describe(m), m.Unified, note)
		}
	}
	return b.String()
}

// rolesSection explains inference_role and the counting rule, in docs/metrics.md.
const rolesSection = `## Roles: prefill, decode, routers, and counting once

Every series of an inference pod, and every GPU series joined to one, carries ` + "`inference_role`" + `
(ARMS calls the same label ` + "`rbg_role`" + `):

| value | pods |
|---|---|
| ` + "`prefill`" + ` | the prefill side of a prefill/decode (PD) deployment |
| ` + "`decode`" + ` | the decode side |
| ` + "`both`" + ` | aggregated serving, one engine doing both (the default) |
| ` + "`router`" + ` | a router or gateway in front of the engines (sgl-router, vllm-router, SGLang Model Gateway, Dynamo's frontend) |

Other values pass through lower-cased (a RoleBasedGroup's roles are named by its author). The role
comes from, in order:

1. the pod's labels, the receiver's ` + "`role_labels`" + `: ` + "`rbg.workloads.x-k8s.io/role-name`" + ` (RoleBasedGroup
   v1alpha2, v0.7 and later), ` + "`rolebasedgroup.workloads.x-k8s.io/role`" + ` (v1alpha1), ` + "`llm-d.ai/role`" + `,
   ` + "`nvidia.com/dynamo-sub-component-type`" + ` (absent there means aggregated); a static target's ` + "`role`" + `;
2. the engine's own metrics: a router's metrics (the table's ` + "`router_prefix`" + `) make it ` + "`router`" + `;
   SGLang's ` + "`engine_type`" + ` (prefill, decode; ` + "`unified`" + ` is ` + "`both`" + `, and older releases say ` + "`unified`" + ` even
   in PD mode, which is why the pod's label wins) and TensorRT-LLM's ` + "`disaggregation_mode`" + ` under Dynamo
   (the table's ` + "`role_label`" + `); vLLM's NIXL metrics carry no role;
3. else ` + "`both`" + `.

Spellings are normalised: ` + "`unified`" + `, ` + "`aggregated`" + `, ` + "`prefill_and_decode`" + `, ` + "`kv_both`" + ` are ` + "`both`" + `;
` + "`kv_producer`" + ` is ` + "`prefill`" + `, ` + "`kv_consumer`" + ` ` + "`decode`" + `; ` + "`gateway`" + ` and ` + "`frontend`" + ` are ` + "`router`" + `.

### Counting once

In PD serving every user request runs on a prefill pod (vLLM sends it there with max_tokens=1)
**and** on a decode pod, which receives the whole prompt again with its KV cache. Both count a
finished request and the prompt's tokens; the prefill pod also counts its one generated token. A
sum over a model's pods therefore counts each request twice and each prompt twice. The recording
rules (` + "`configs/rules`" + `) and the dashboard's model panels count once:

- **from the router** when the workload has one: it sees each user request once
  (` + "`llm_inference_router_requests_total`" + `, every finished request, ` + "`status`" + ` success or error;
  ` + "`llm_inference_router_request_duration_seconds`" + `; tokens and TTFT where the router counts them:
  Dynamo's frontend, the Model Gateway in gRPC mode);
- **else from the engines**: requests, generated tokens, inter-token latency and end-to-end latency
  from ` + "`decode`" + ` and ` + "`both`" + ` pods (each request finishes there once, and the decode side makes the
  output), prompt tokens and TTFT from ` + "`prefill`" + ` and ` + "`both`" + ` pods (each prompt is processed there
  once, and the prefill dominates the first token's wait).

In PromQL: ` + "`router figure or on (namespace, workload_name) engines' figure`" + `: the engines' figure only
for workloads whose router has none (sgl-router counts no tokens, so its workloads take tokens
from the engines and requests from the router). A workload without PD (every pod ` + "`both`" + `) is
counted as before. Two caveats: without a router, TTFT from the prefill side leaves out the KV
transfer and the decode's first step, and the end-to-end latency from the decode side leaves out
the prefill; the router's figures include both. The PD-specific series
(` + "`llm_inference_kv_transfer_*`" + `, ` + "`llm_inference_pd_queue_requests`" + `) are per role and are never summed across
roles.
`
