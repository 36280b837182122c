// Package docs checks that README.md and docs/*.md name only configuration keys that exist in
// our components' configurations, so that a renamed or removed key cannot live on in the docs.
package docs

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.yaml.in/yaml/v3"

	"github.com/otelcol-llminference/otelcol-llminference/components/exporter/llminferenceremotewriteexporter"
	"github.com/otelcol-llminference/otelcol-llminference/components/processor/llminferenceprocessor"
	"github.com/otelcol-llminference/otelcol-llminference/components/processor/llminferenceprocessor/otelschema"
	"github.com/otelcol-llminference/otelcol-llminference/components/receiver/llminferencereceiver"
)

const root = "../.."

// ours are our components' configurations, by component type.
var ours = map[string]component.Config{
	"llminference/receiver":     llminferencereceiver.NewFactory().CreateDefaultConfig(),
	"llminference/processor":    llminferenceprocessor.NewFactory().CreateDefaultConfig(),
	"llminference_remote_write": llminferenceremotewriteexporter.NewFactory().CreateDefaultConfig(),
}

// keyPaths lists every key path of a configuration ("queue.flush_interval", and for a list of
// structs "static_targets.endpoint"), from its mapstructure tags as confmap decodes them.
func keyPaths(cfg any) map[string]bool {
	out := map[string]bool{}
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return
		}
		// configoptional.Optional[T] decodes as T.
		if strings.HasSuffix(t.PkgPath(), "configoptional") {
			if f, ok := t.FieldByName("value"); ok {
				walk(f.Type, prefix)
			}
			return
		}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag := f.Tag.Get("mapstructure")
			name, opts, _ := strings.Cut(tag, ",")
			switch {
			case tag == "-" || (!f.IsExported() && !f.Anonymous):
				continue
			case strings.Contains(opts, "squash") || (tag == "" && f.Anonymous):
				walk(f.Type, prefix)
				continue
			case name == "":
				name = strings.ToLower(f.Name)
			}
			out[prefix+name] = true
			if f.Type.Kind() == reflect.Map {
				out[prefix+name+".*"] = true // its keys are the user's (backend names, labels)
			}
			walk(f.Type, prefix+name+".")
		}
	}
	walk(reflect.TypeOf(cfg), "")
	return out
}

// isKey reports whether key names a key of cfgKeys: a whole path or its tail
// ("flush_interval", "queue.flush_interval").
func isKey(cfgKeys map[string]bool, key string) bool {
	for k := range cfgKeys {
		if k == key || strings.HasSuffix(k, "."+key) {
			return true
		}
	}
	return false
}

func TestKeyPathsSeeEveryKind(t *testing.T) {
	exp := keyPaths(ours["llminference_remote_write"])
	rcv := keyPaths(ours["llminference/receiver"])
	for _, k := range []string{"queue.flush_interval", "retry_on_failure.max_elapsed_time", "endpoint", "resource_labels", "timeout"} {
		assert.True(t, exp[k], "exporter key %s (plain, nested, squashed from confighttp)", k)
	}
	for _, k := range []string{"static_targets.endpoint", "kubernetes.node_name", "limits.max_body_bytes"} {
		assert.True(t, rcv[k], "receiver key %s (list of structs, nested)", k)
	}
	assert.False(t, isKey(exp, "resource_constant_labels"))
	assert.False(t, isKey(exp, "sending_queue"))
}

// markdown is README.md and every docs/*.md.
func markdown(t *testing.T) map[string]string {
	files, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	require.NoError(t, err)
	files = append(files, filepath.Join(root, "README.md"))
	out := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		rel, _ := filepath.Rel(root, f)
		out[rel] = string(b)
	}
	require.Contains(t, out, "README.md")
	return out
}

var fence = regexp.MustCompile("(?ms)^```(yaml|yml)\n(.*?)^```")

// TestYAMLBlocksUseRealKeys: every key under one of our components in a YAML block of the docs
// is a key of that component's configuration.
func TestYAMLBlocksUseRealKeys(t *testing.T) {
	checked := 0
	for file, text := range markdown(t) {
		for _, m := range fence.FindAllStringSubmatchIndex(text, -1) {
			block := text[m[4]:m[5]]
			line := strings.Count(text[:m[4]], "\n") + 1
			var doc map[string]any
			if err := yaml.Unmarshal([]byte(block), &doc); err != nil {
				continue // a fragment (a pod label, a manifest excerpt), not a collector config
			}
			for kind, section := range map[string]string{"receivers": "llminference/receiver", "processors": "llminference/processor", "exporters": ""} {
				comps, _ := doc[kind].(map[string]any)
				for id, body := range comps {
					typ, _, _ := strings.Cut(id, "/")
					key := section
					if kind == "exporters" {
						key = typ
					}
					if typ != "llminference" && typ != "llminference_remote_write" {
						continue
					}
					cfg, ok := ours[key]
					require.Truef(t, ok, "%s:%d: %s %q is not one of our components", file, line, kind, id)
					valid := keyPaths(cfg)
					for _, p := range yamlPaths(body, "") {
						checked++
						assert.Truef(t, hasPath(valid, p), "%s (YAML block at line %d): %s %q has no key %q", file, line, kind, id, p)
					}
				}
			}
		}
	}
	assert.Positive(t, checked, "the README documents the components' settings in YAML")
}

// hasPath reports whether p is a key path of valid, or lies under a map whose keys are free.
func hasPath(valid map[string]bool, p string) bool {
	if valid[p] {
		return true
	}
	for i := strings.LastIndexByte(p, '.'); i > 0; i = strings.LastIndexByte(p[:i], '.') {
		if valid[p[:i]+".*"] {
			return true
		}
	}
	return false
}

// yamlPaths lists the key paths of a decoded YAML value; list items share their list's path.
func yamlPaths(v any, prefix string) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		for k, sub := range x {
			out = append(out, prefix+k)
			out = append(out, yamlPaths(sub, prefix+k+".")...)
		}
	case []any:
		for _, sub := range x {
			out = append(out, yamlPaths(sub, prefix)...)
		}
	}
	return out
}

// codeSpan is an inline `token` or `token: value` that has the shape of a configuration key.
var codeSpan = regexp.MustCompile("`([a-z][a-z0-9_]*(?:\\.[a-z][a-z0-9_]*)*)(?::[^`]*)?`")

// foreign marks a paragraph about configuration that is not ours (contrib components, the
// collector's own settings, Prometheus, vmagent, ARMS): its keys are not checked here.
var foreign = regexp.MustCompile("contrib|exporterhelper|ARMS|Prometheus'|Prometheus 3|conventions define|vmagent|API server|`(prometheus_remote_write|prometheus|file_storage|batch|memory_limiter|k8s_?attributes|transform|filter|resource|otlp[a-z_]*|debug|health_check|pprof|basicauth|metric_relabel_configs)`")

// TestInlineKeysExist: a code span in the docs that looks like a configuration key (it has an
// underscore or a dot) and is not a name the product emits or reads (metric, label, resource
// attribute, file) must be a key of one of our components, unless its paragraph is about
// another component's configuration.
func TestInlineKeysExist(t *testing.T) {
	known := vocabulary(t)
	var keys []map[string]bool
	for _, cfg := range ours {
		keys = append(keys, keyPaths(cfg))
	}
	isOurKey := func(k string) bool {
		return slices.ContainsFunc(keys, func(ks map[string]bool) bool { return isKey(ks, k) })
	}
	checked := 0
	for file, text := range markdown(t) {
		text = fence.ReplaceAllStringFunc(text, func(b string) string { return strings.Repeat("\n", strings.Count(b, "\n")) })
		// A paragraph is about another component's configuration when it, the one before it
		// (the lead-in of a table) or its section's heading says so.
		line, heading, prev := 1, "", ""
		for _, para := range strings.Split(text, "\n\n") {
			if strings.HasPrefix(strings.TrimLeft(para, "\n"), "#") {
				heading = para
			}
			isForeign := foreign.MatchString(para) || foreign.MatchString(prev) || foreign.MatchString(heading)
			prev = para
			for _, m := range codeSpan.FindAllStringSubmatchIndex(para, -1) {
				tok := para[m[2]:m[3]]
				at := line + strings.Count(para[:m[0]], "\n")
				prefix := strings.HasSuffix(tok, "_") || strings.HasSuffix(tok, ".")
				if !strings.ContainsAny(tok, "_.") || known[tok] || isFile(tok) || prefix {
					continue
				}
				checked++
				if isOurKey(tok) || isForeign {
					continue
				}
				t.Errorf("%s:%d: `%s` is not a key of the llminference receiver, processor or llminference_remote_write exporter, nor a metric, label or attribute the product uses", file, at, tok)
			}
			line += strings.Count(para, "\n") + 2
		}
	}
	assert.Positive(t, checked, "the docs name configuration keys")
}

func isFile(tok string) bool {
	for _, ext := range []string{".go", ".yaml", ".yml", ".json", ".md", ".mod", ".sum", ".txt", ".html"} {
		if strings.HasSuffix(tok, ext) {
			return true
		}
	}
	return false
}

// vocabulary is every name the product emits or reads that is not a configuration key: metric
// and label names of the engines (real samples) and of the unified schema (mapping tables,
// dashboard, rules), and the string constants of our components (resource attributes, labels).
func vocabulary(t *testing.T) map[string]bool {
	word := regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_.:]*`)
	out := map[string]bool{}
	add := func(pattern string, only func(string) []string) {
		files, err := filepath.Glob(filepath.Join(root, pattern))
		require.NoError(t, err)
		require.NotEmpty(t, files, pattern)
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			b, err := os.ReadFile(f)
			require.NoError(t, err)
			for _, s := range only(string(b)) {
				for _, w := range word.FindAllString(s, -1) {
					w = strings.TrimRight(w, ".:")
					out[w] = true
					if i := strings.LastIndexByte(w, ':'); i >= 0 {
						out[w[i+1:]] = true // sglang:num_requests_total is also named num_requests_total
					}
				}
			}
		}
	}
	all := func(s string) []string { return []string{s} }
	add("tests/fixtures/samples/*.txt", all)
	add("components/processor/llminferenceprocessor/mapping/tables/*.yaml", all)
	add("configs/dashboards/llm-inference.json", all)
	add("configs/rules/llm-inference.rules.yaml", all)
	// String literals of the components' code, not its comments; mapstructure tags are keys
	// anyway.
	literal := regexp.MustCompile(`"([^"\\\n]*)"`)
	for _, dir := range []string{"components/*/*/*.go", "components/internal/*/*.go", "components/*/*/internal/*/*.go", "components/*/*/otelschema/*.go"} {
		add(dir, func(s string) []string {
			var lits []string
			for _, m := range literal.FindAllStringSubmatch(s, -1) {
				lits = append(lits, m[1])
			}
			return lits
		})
	}
	for _, cfg := range []component.Factory{llminferencereceiver.NewFactory(), llminferenceprocessor.NewFactory(), llminferenceremotewriteexporter.NewFactory()} {
		out[cfg.Type().String()] = true
	}
	// What a Prometheus 3 OTLP receiver makes of the OpenTelemetry names (docs/metrics.md).
	for _, m := range otelschema.Metrics {
		out[otelschema.PrometheusName(m)] = true
	}
	for _, m := range otelschema.GPUMetrics {
		out[otelschema.PrometheusName(m.Metric)] = true
	}
	for w := range out {
		if strings.Contains(w, ".") {
			out[strings.ReplaceAll(w, ".", "_")] = true
		}
	}
	require.True(t, out["llm_inference_requests_total"] && out["k8s.pod.name"] && out["workload_name"], fmt.Sprint(len(out)))
	return out
}
