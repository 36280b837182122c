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
	model, pod string
	values     map[string]float64
}

// columns of the table, each a PromQL expression over the unified schema, grouped {by} model or pod:
// the same query serves every engine and generation.
var columns = []struct {
	key, header, expr string
}{
	{"req", "REQ/S", "sum by ({by}) (rate(llm_inference_requests_total[{window}]))"},
	{"running", "RUN", "sum by ({by}) (llm_inference_requests_running)"},
	{"waiting", "WAIT", "sum by ({by}) (llm_inference_requests_waiting)"},
	{"kv", "KV%", "100 * max by ({by}) (llm_inference_kv_cache_usage_ratio)"},
	{"ttft50", "TTFT p50", "histogram_quantile(0.5, sum by (le, {by}) (rate(llm_inference_time_to_first_token_seconds_bucket[{window}])))"},
	{"ttft99", "TTFT p99", "histogram_quantile(0.99, sum by (le, {by}) (rate(llm_inference_time_to_first_token_seconds_bucket[{window}])))"},
	{"tokin", "TOK/S IN", "sum by ({by}) (rate(llm_inference_prompt_tokens_total[{window}]))"},
	{"tokout", "TOK/S OUT", "sum by ({by}) (rate(llm_inference_generation_tokens_total[{window}]))"},
	{"gpu", "GPU%", "avg by ({by}) (DCGM_FI_DEV_GPU_UTIL)"},
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
			res, err := prom.Query(ctx, expr(c.expr, level, window))
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
	fmt.Fprintf(w, "\n[%s] %-38s", fmtElapsed(elapsed), "MODEL / POD")
	for _, c := range columns {
		fmt.Fprintf(w, " %9s", c.header)
	}
	fmt.Fprintln(w)
	for _, r := range rows {
		name := "model " + r.model
		if r.pod != "" {
			name = "  pod " + r.pod
		}
		fmt.Fprintf(w, "        %-38s", name)
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
