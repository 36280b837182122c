package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/otelcol-llminference/otelcol-llminference/internal/localstack"
)

// row is one line of the live table: a model (aggregated over its pods) or one pod.
type row struct {
	model, pod, role string
	values           map[string]float64
}

// columns of the table, each a PromQL expression over the unified schema, grouped {by} model or
// pod: the same query serves every engine and generation. At the model level, requests and
// tokens count each request once (docs/metrics.md, "Counting once"): a prefill/decode request
// runs on a prefill and a decode pod, so the model row takes requests from the router or the
// decode side, prompts and TTFT from the prefill side; a pod row is what that pod did.
var columns = []struct {
	key, header, expr, model string // model: the model-level expression, when it differs
}{
	{"req", "REQ/S", "sum by ({by}) (rate(llm_inference_requests_total[{window}]))",
		`sum by (model_name) (sum by (workload_name, model_name) (rate(llm_inference_router_requests_total[{window}])) or on (workload_name) sum by (workload_name, model_name) (rate(llm_inference_requests_total{inference_role=~"decode|both"}[{window}])))`},
	{"running", "RUN", "sum by ({by}) (llm_inference_requests_running)", ""},
	{"waiting", "WAIT", "sum by ({by}) (llm_inference_requests_waiting)", ""},
	{"kv", "KV%", "100 * max by ({by}) (llm_inference_kv_cache_usage_ratio)", ""},
	{"ttft50", "TTFT p50", "histogram_quantile(0.5, sum by (le, {by}) (rate(llm_inference_time_to_first_token_seconds_bucket[{window}])))",
		"histogram_quantile(0.5, sum by (le, model_name) (" + once("llm_inference_time_to_first_token_seconds_bucket", "le, ", "prefill|both") + "))"},
	{"ttft99", "TTFT p99", "histogram_quantile(0.99, sum by (le, {by}) (rate(llm_inference_time_to_first_token_seconds_bucket[{window}])))",
		"histogram_quantile(0.99, sum by (le, model_name) (" + once("llm_inference_time_to_first_token_seconds_bucket", "le, ", "prefill|both") + "))"},
	{"tokin", "TOK/S IN", "sum by ({by}) (rate(llm_inference_prompt_tokens_total[{window}]))",
		"sum by (model_name) (" + once("llm_inference_prompt_tokens_total", "", "prefill|both") + ")"},
	{"tokout", "TOK/S OUT", "sum by ({by}) (rate(llm_inference_generation_tokens_total[{window}]))",
		"sum by (model_name) (" + once("llm_inference_generation_tokens_total", "", "decode|both") + ")"},
	{"gpu", "GPU%", "avg by ({by}) (DCGM_FI_DEV_GPU_UTIL)", ""},
}

// once is the rate of metric counted once per workload: its router's series when the workload
// has them, else those of the engines in roles (extra: more grouping labels, e.g. "le, ").
func once(metric, extra, roles string) string {
	by := "sum by (" + extra + "workload_name, model_name) "
	return by + "(rate(" + metric + `{inference_role="router"}[{window}])) or on (workload_name) ` +
		by + "(rate(" + metric + `{inference_role=~"` + roles + `"}[{window}]))`
}

func expr(tmpl, by, window string) string {
	return strings.NewReplacer("{by}", by, "{window}", window).Replace(tmpl)
}

// readTable queries Prometheus once per column and level (model, pod).
func readTable(ctx context.Context, prom *localstack.Prometheus, interval time.Duration) ([]row, error) {
	window := fmt.Sprintf("%ds", int(math.Max(30, 6*interval.Seconds())))
	rows := map[[2]string]*row{}
	for _, level := range []string{"model_name", "model_name, pod"} {
		for _, c := range columns {
			tmpl := c.expr
			if level == "model_name" && c.model != "" {
				tmpl = c.model
			}
			res, err := prom.Query(ctx, expr(tmpl, level, window))
			if err != nil {
				return nil, err
			}
			for _, s := range res {
				k := [2]string{s.Labels["model_name"], s.Labels["pod"]}
				if k[0] == "" {
					continue
				}
				r := rows[k]
				if r == nil {
					r = &row{model: k[0], pod: k[1], values: map[string]float64{}}
					rows[k] = r
				}
				r.values[c.key] = s.Value
			}
		}
	}
	// Each pod's role (prefill, decode, both, router), from its up series.
	roles, err := prom.Query(ctx, "max by (model_name, pod, inference_role) (llm_inference_target_up)")
	if err != nil {
		return nil, err
	}
	for _, s := range roles {
		k := [2]string{s.Labels["model_name"], s.Labels["pod"]}
		if r := rows[k]; r != nil {
			r.role = s.Labels["inference_role"]
		} else if k[0] != "" && k[1] != "" { // a router: no column of its own has a value
			rows[k] = &row{model: k[0], pod: k[1], role: s.Labels["inference_role"], values: map[string]float64{}}
		}
	}
	out := make([]row, 0, len(rows))
	for _, r := range rows {
		out = append(out, *r)
	}
	// Each model, then its pods.
	sort.Slice(out, func(i, j int) bool {
		if out[i].model != out[j].model {
			return out[i].model < out[j].model
		}
		return out[i].pod < out[j].pod
	})
	return out, nil
}

func printTable(w io.Writer, elapsed time.Duration, rows []row) {
	fmt.Fprintf(w, "\n[%s] %-38s %-7s", fmtElapsed(elapsed), "MODEL / POD", "ROLE")
	for _, c := range columns {
		fmt.Fprintf(w, " %9s", c.header)
	}
	fmt.Fprintln(w)
	for _, r := range rows {
		name := "model " + r.model
		if r.pod != "" {
			name = "  pod " + r.pod
		}
		role := r.role
		if role == "" {
			role = "-"
		}
		fmt.Fprintf(w, "        %-38s %-7s", name, role)
		for _, c := range columns {
			v, ok := r.values[c.key]
			fmt.Fprintf(w, " %9s", format(c.key, v, ok))
		}
		fmt.Fprintln(w)
	}
	if len(rows) == 0 {
		fmt.Fprintln(w, "        (no data in Prometheus yet)")
	}
}

func format(key string, v float64, ok bool) string {
	if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	switch key {
	case "req":
		return fmt.Sprintf("%.2f", v)
	case "ttft50", "ttft99":
		return fmt.Sprintf("%.2fs", v)
	}
	return fmt.Sprintf("%.0f", v)
}

func fmtElapsed(d time.Duration) string {
	s := int(d.Seconds())
	return fmt.Sprintf("%02d:%02d", s/60, s%60)
}
