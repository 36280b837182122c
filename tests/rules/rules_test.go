// Package rules checks configs/rules with promtool (syntax and unit tests) and checks that every
// metric the rules select exists in what the collector ships.
package rules

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/otelcol-llminference/otelcol-llminference/components/processor/llminferenceprocessor/mapping"
)

const rulesFile = "../../configs/rules/llm-inference.rules.yaml"

func promtool(t *testing.T, args ...string) {
	t.Helper()
	if _, err := exec.LookPath("promtool"); err != nil {
		t.Fatalf("promtool not installed (Debian package prometheus; .ci/run installs it): %v", err)
	}
	cmd := exec.Command("promtool", args...)
	cmd.Dir = "../../configs/rules"
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "promtool %s:\n%s", strings.Join(args, " "), out)
}

func TestPromtoolCheckRules(t *testing.T) { promtool(t, "check", "rules", "llm-inference.rules.yaml") }

func TestPromtoolTestRules(t *testing.T) {
	promtool(t, "test", "rules", "llm-inference.rules.test.yaml")
}

// TestRulesSelectShippedMetrics: a misspelt metric in a rule never fires; every selector must name
// a unified metric (or a histogram series of one), the receiver's up metric, a DCGM field, one of
// the exporter's own metrics, or a series recorded by the rules themselves.
func TestRulesSelectShippedMetrics(t *testing.T) {
	tables, err := mapping.Builtin()
	require.NoError(t, err)
	known := map[string]bool{"llm_inference_target_up": true, "llm_inference_pod_gpu_info": true}
	// The exporter's own metrics, as its telemetry declares them.
	tel, err := os.ReadFile("../../components/exporter/llminferenceremotewriteexporter/internal/metadata/telemetry.go")
	require.NoError(t, err)
	own := regexp.MustCompile(`"(otelcol_llminference_remote_write_[a-z_]+)"`).FindAllStringSubmatch(string(tel), -1)
	require.NotEmpty(t, own)
	for _, m := range own {
		known[m[1]] = true
	}
	for _, tb := range tables {
		for _, m := range tb.Metrics {
			known[m.Unified] = true
			if m.Type == mapping.TypeHistogram {
				for _, s := range []string{"_bucket", "_sum", "_count"} {
					known[m.Unified+s] = true
				}
			}
		}
	}
	b, err := os.ReadFile(rulesFile)
	require.NoError(t, err)
	var file struct {
		Groups []struct {
			Rules []struct {
				Record string `json:"record"`
				Alert  string `json:"alert"`
				Expr   string `json:"expr"`
			} `json:"rules"`
		} `json:"groups"`
	}
	require.NoError(t, yaml.Unmarshal(b, &file))
	for _, g := range file.Groups {
		for _, r := range g.Rules {
			if r.Record != "" {
				known[r.Record] = true
			}
		}
	}
	p := parser.NewParser(parser.Options{})
	checked := 0
	for _, g := range file.Groups {
		for _, r := range g.Rules {
			expr, err := p.ParseExpr(r.Expr)
			require.NoError(t, err, r.Expr)
			parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
				vs, ok := n.(*parser.VectorSelector)
				if !ok {
					return nil
				}
				for _, m := range vs.LabelMatchers {
					if m.Name == model.MetricNameLabel && m.Type == labels.MatchEqual {
						checked++
						assert.Truef(t, known[m.Value] || strings.HasPrefix(m.Value, "DCGM_FI_"), "rule %s%s selects %q, which the collector does not ship", r.Record, r.Alert, m.Value)
					}
				}
				return nil
			})
		}
	}
	assert.Greater(t, checked, 20)
}
