package dashboards

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const path = "../../configs/dashboards/llm-inference.json"

func TestDashboardUpToDate(t *testing.T) {
	want, err := JSON()
	require.NoError(t, err)
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got), "configs/dashboards/llm-inference.json is stale: run `make dashboards`")
}

// TestDashboardShape: a Prometheus datasource variable; namespace -> workload -> model chained,
// multi-select with All; three rows; every panel with a description, a unit and valid PromQL
// that filters by the variables.
func TestDashboardShape(t *testing.T) {
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var d struct {
		Templating struct {
			List []struct {
				Name, Type        string
				Query             json.RawMessage
				Definition        string
				Multi, IncludeAll bool
			} `json:"list"`
		} `json:"templating"`
		Panels []struct {
			Type, Title, Description string
			FieldConfig              struct {
				Defaults struct{ Unit string } `json:"defaults"`
			} `json:"fieldConfig"`
			Targets []struct{ Expr string } `json:"targets"`
		} `json:"panels"`
	}
	require.NoError(t, json.Unmarshal(b, &d))
	vars := map[string]int{}
	for i, v := range d.Templating.List {
		vars[v.Name] = i
	}
	require.Contains(t, vars, "datasource")
	assert.JSONEq(t, `"prometheus"`, string(d.Templating.List[vars["datasource"]].Query))
	for _, name := range []string{"namespace", "workload_name", "model_name", "inference_role"} {
		v := d.Templating.List[vars[name]]
		assert.True(t, v.Multi && v.IncludeAll, name)
		assert.Contains(t, v.Definition, "label_values(llm_inference_target_up")
	}
	assert.Contains(t, d.Templating.List[vars["workload_name"]].Definition, `namespace=~"$namespace"`)
	assert.Contains(t, d.Templating.List[vars["model_name"]].Definition, `workload_name=~"$workload_name"`)

	require.Contains(t, vars, "node")
	assert.Contains(t, d.Templating.List[vars["node"]].Definition, "label_values(otelcol_llminference_remote_write_queue_scrapes")

	filters := map[string]string{}
	for _, r := range Rows {
		filters[r.Title] = r.Filter()
	}
	var rows []string
	filter := ""
	p := parser.NewParser(parser.Options{})
	for _, panel := range d.Panels {
		if panel.Type == "row" {
			rows = append(rows, panel.Title)
			filter = filters[panel.Title]
			continue
		}
		assert.NotEmpty(t, panel.Description, panel.Title)
		assert.NotEmpty(t, panel.FieldConfig.Defaults.Unit, panel.Title)
		require.NotEmpty(t, panel.Targets, panel.Title)
		for _, tg := range panel.Targets {
			assert.Contains(t, tg.Expr, filter, "%s filters by its row's variables", panel.Title)
			_, err := p.ParseExpr(strings.NewReplacer("$__rate_interval", "1m", "$namespace", "x", "$workload_name", "x", "$model_name", "x", "$inference_role", "x", "$node", "x").Replace(tg.Expr))
			assert.NoError(t, err, "%s: %s", panel.Title, tg.Expr)
		}
	}
	assert.Equal(t, []string{"Model", "Pod", "GPU (per pod)", "Prefill / decode", "Router", "Collector"}, rows)
	assert.Equal(t, Selector, filters["Model"])
	assert.Equal(t, CollectorSelector, filters["Collector"])
}

func TestLegend(t *testing.T) {
	assert.Equal(t, "p99 qwen-0", legend("p99 {{pod}}", map[string]string{"pod": "qwen-0"}))
	assert.Equal(t, "running", legend("running {{ pod }}", nil), "a missing label renders empty")
}

// TestPanelsSayWhatEnginesDoNotMeasure: a panel names, from the mapping tables, the engines
// that have none of its metrics, and shows a "not measured" text instead of an empty chart.
func TestPanelsSayWhatEnginesDoNotMeasure(t *testing.T) {
	measured, err := measuredBy()
	require.NoError(t, err)
	byTitle := map[string]Panel{}
	for _, r := range Rows {
		for _, p := range r.Panels {
			byTitle[p.Title] = p
		}
	}
	assert.Equal(t, []string{"llamacpp", "tgi"}, notMeasuredBy(byTitle["Time to first token"], measured), "no TTFT histogram")
	assert.Equal(t, []string{"llamacpp"}, notMeasuredBy(byTitle["Requests per second"], measured))
	assert.Equal(t, []string{"triton"}, notMeasuredBy(byTitle["Tokens per second"], measured), "Triton counts no tokens")
	assert.Empty(t, notMeasuredBy(byTitle["Targets up"], measured), "the collector's own series")

	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var d struct {
		Panels []struct {
			Title, Description string
			FieldConfig        struct {
				Defaults struct {
					NoValue string `json:"noValue"`
				} `json:"defaults"`
			} `json:"fieldConfig"`
		} `json:"panels"`
	}
	require.NoError(t, json.Unmarshal(b, &d))
	for _, p := range d.Panels {
		if p.Title == "Time to first token" {
			assert.Contains(t, p.Description, "Not measured by llamacpp, tgi")
			assert.Contains(t, p.FieldConfig.Defaults.NoValue, "Not measured by this engine")
		}
	}
}
