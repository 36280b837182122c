package dashboards

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"math"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/otelcol-llminference/otelcol-llminference/internal/localstack"
)

// Vars are the dashboard variables' values; empty means All.
type Vars struct{ Namespace, Workload, Model, Role, Node string }

type chartSeries struct {
	Name   string
	Color  string
	Points string // SVG polyline points
	Last   string
}

type chart struct {
	Title, Description string
	Min, Max           string
	Series             []chartSeries
}

type section struct {
	Title  string
	Charts []chart
}

var palette = []string{"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"}

// Snapshot evaluates every panel over the last window of a Prometheus and renders a
// self-contained HTML page (inline SVG and CSS, no external assets), one small chart per panel.
func Snapshot(ctx context.Context, prom *localstack.Prometheus, vars Vars, end time.Time, window time.Duration) ([]byte, error) {
	re := func(v string) string {
		if v == "" {
			return ".*"
		}
		return v
	}
	repl := strings.NewReplacer("$namespace", re(vars.Namespace), "$workload_name", re(vars.Workload), "$model_name", re(vars.Model), "$inference_role", re(vars.Role), "$node", re(vars.Node), "$__rate_interval", "1m")
	step := window / 60
	var sections []section
	for _, row := range Rows {
		sec := section{Title: row.Title}
		for _, p := range row.Panels {
			c := chart{Title: p.Title, Description: p.Description}
			type line struct {
				name string
				pts  []localstack.Point
			}
			var lines []line
			lo, hi := math.Inf(1), math.Inf(-1)
			for _, q := range p.Queries {
				series, err := prom.QueryRange(ctx, repl.Replace(q.Expr), end.Add(-window), end, step)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", p.Title, err)
				}
				for _, s := range series {
					var pts []localstack.Point
					for _, pt := range s.Samples {
						if !math.IsNaN(pt.Value) && !math.IsInf(pt.Value, 0) {
							pts = append(pts, pt)
							lo, hi = math.Min(lo, pt.Value), math.Max(hi, pt.Value)
						}
					}
					if len(pts) > 0 {
						lines = append(lines, line{legend(q.Legend, s.Labels), pts})
					}
				}
			}
			sort.Slice(lines, func(i, j int) bool { return lines[i].name < lines[j].name })
			if hi == lo {
				hi = lo + 1
			}
			start := float64(end.Add(-window).UnixNano()) / 1e9
			for i, l := range lines {
				var b strings.Builder
				for _, pt := range l.pts {
					x := 300 * (pt.Time - start) / window.Seconds()
					y := 95 - 90*(pt.Value-lo)/(hi-lo)
					fmt.Fprintf(&b, "%.1f,%.1f ", x, y)
				}
				c.Series = append(c.Series, chartSeries{Name: l.name, Color: palette[i%len(palette)],
					Points: strings.TrimSpace(b.String()), Last: format(l.pts[len(l.pts)-1].Value, p.Unit)})
			}
			if len(lines) > 0 {
				c.Min, c.Max = format(lo, p.Unit), format(hi, p.Unit)
			}
			sec.Charts = append(sec.Charts, c)
		}
		sections = append(sections, sec)
	}
	var out bytes.Buffer
	err := page.Execute(&out, map[string]any{
		"Sections": sections, "At": end.UTC().Format(time.RFC3339), "Window": window.String(),
		"Vars": fmt.Sprintf("namespace=%s workload=%s model=%s", re(vars.Namespace), re(vars.Workload), re(vars.Model)),
	})
	return out.Bytes(), err
}

var placeholder = regexp.MustCompile(`\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}`)

// legend fills a Grafana legend format ({{label}}) from a series' labels; a missing label is
// empty, as in Grafana.
func legend(format string, lbls map[string]string) string {
	return strings.TrimSpace(placeholder.ReplaceAllStringFunc(format, func(m string) string {
		return lbls[placeholder.FindStringSubmatch(m)[1]]
	}))
}

// unitFormats renders a value in a Grafana unit: format applied to the value times scale.
var unitFormats = map[string]struct {
	format string
	scale  float64
}{
	"percentunit": {"%.1f%%", 100},
	"percent":     {"%.1f%%", 1},
	"reqps":       {"%.2f req/s", 1},
	"Bps":         {"%.3g B/s", 1},
	"decmbytes":   {"%.0f MB", 1},
	"watt":        {"%.0f W", 1},
	"celsius":     {"%.0f °C", 1},
	"rotmhz":      {"%.0f MHz", 1},
}

func format(v float64, unit string) string {
	if unit == "s" {
		if math.Abs(v) < 1 {
			return fmt.Sprintf("%.0f ms", v*1000)
		}
		return fmt.Sprintf("%.2f s", v)
	}
	if f, ok := unitFormats[unit]; ok {
		return fmt.Sprintf(f.format, v*f.scale)
	}
	return fmt.Sprintf("%.3g", v)
}

var page = template.Must(template.New("snapshot").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>LLM inference dashboard snapshot</title>
<style>
body{font-family:system-ui,sans-serif;margin:16px;background:#fafafa;color:#222}
h1{font-size:18px} h2{font-size:15px;margin:18px 0 6px;border-bottom:1px solid #ccc}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(320px,1fr));gap:10px}
figure.chart{margin:0;background:#fff;border:1px solid #ddd;border-radius:4px;padding:6px}
figcaption{font-size:12px;font-weight:600} .desc{font-size:11px;color:#666;font-weight:400}
svg{width:100%;height:100px;background:#fcfcfc} .range{font-size:10px;color:#888}
ul{list-style:none;padding:0;margin:4px 0 0;font-size:11px} li span{display:inline-block;width:9px;height:9px;margin-right:4px}
.empty{font-size:12px;color:#b00}
</style></head><body>
<h1>LLM inference — snapshot at {{.At}} (last {{.Window}}; {{.Vars}})</h1>
{{range .Sections}}<h2>{{.Title}}</h2><div class="grid">
{{range .Charts}}<figure class="chart" data-title="{{.Title}}"><figcaption>{{.Title}} <span class="desc">— {{.Description}}</span></figcaption>
{{if .Series}}<div class="range">{{.Min}} … {{.Max}}</div><svg viewBox="0 0 300 100" preserveAspectRatio="none">{{range .Series}}<polyline fill="none" stroke="{{.Color}}" stroke-width="1.5" points="{{.Points}}"></polyline>{{end}}</svg>
<ul>{{range .Series}}<li><span style="background:{{.Color}}"></span>{{.Name}}: {{.Last}}</li>{{end}}</ul>{{else}}<div class="empty">no data</div>{{end}}
</figure>
{{end}}</div>
{{end}}<pre id="check"></pre>
<script>
// Self-check, read by the headless-browser test: every chart has at least one line with points.
(function () {
  var charts = document.querySelectorAll("figure.chart"), empty = [];
  charts.forEach(function (c) {
    var lines = c.querySelectorAll("svg polyline");
    var ok = Array.prototype.some.call(lines, function (l) { return l.getAttribute("points").trim().length > 0; });
    if (!ok) { empty.push(c.getAttribute("data-title")); }
  });
  document.getElementById("check").textContent = JSON.stringify({charts: charts.length, empty: empty});
})();
</script>
</body></html>
`))
