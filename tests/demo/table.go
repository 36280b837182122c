package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/otelcol-llminference/otelcol-llminference/tests/harness"
)

// row is one line of the live table: a model (aggregated over its pods) or one pod.
type row struct {
	model, pod                         string
	reqRate, running, waiting, kv      float64
	ttft50, ttft99, tokIn, tokOut, gpu float64
}

// The queries read the engines' own names, each engine and generation in turn ("or"): the demo
// shows the path from engine to Prometheus works for all of them.
func queries(window string) map[string]string {
	rate := func(metrics ...string) string {
		parts := make([]string, len(metrics))
		for i, m := range metrics {
			parts[i] = fmt.Sprintf("rate(%s[%s])", m, window)
		}
		return strings.Join(parts, " or ")
	}
	quantile := func(q string) string {
		return fmt.Sprintf("histogram_quantile(%s, sum by (le, model_name, k8s_pod_name) (%s))", q,
			rate("vllm:time_to_first_token_seconds_bucket", "sglang:time_to_first_token_seconds_bucket"))
	}
	return map[string]string{
		"req":     "sum by (model_name, k8s_pod_name) (" + rate("vllm:request_success_total", "sglang:num_requests_total") + ")",
		"running": "sum by (model_name, k8s_pod_name) (vllm:num_requests_running or sglang:num_running_reqs)",
		"waiting": "sum by (model_name, k8s_pod_name) (vllm:num_requests_waiting or sglang:num_queue_reqs)",
		"kv":      "100 * max by (model_name, k8s_pod_name) (vllm:kv_cache_usage_perc or vllm:gpu_cache_usage_perc or sglang:token_usage)",
		"ttft50":  quantile("0.5"),
		"ttft99":  quantile("0.99"),
		"tokin":   "sum by (model_name, k8s_pod_name) (" + rate("vllm:prompt_tokens_total", "sglang:prompt_tokens_total") + ")",
		"tokout":  "sum by (model_name, k8s_pod_name) (" + rate("vllm:generation_tokens_total", "sglang:generation_tokens_total") + ")",
		"gpu":     "avg by (pod) (DCGM_FI_DEV_GPU_UTIL)",
	}
}

// readTable queries Prometheus and assembles per-pod rows plus per-model aggregates.
func readTable(ctx context.Context, prom *harness.Prometheus, interval time.Duration) ([]row, error) {
	window := fmt.Sprintf("%ds", int(math.Max(6, 6*interval.Seconds())))
	pods := map[string]*row{}
	get := func(pod, model string) *row {
		r := pods[pod]
		if r == nil {
			r = &row{pod: pod, model: model, reqRate: math.NaN(), running: math.NaN(), waiting: math.NaN(), kv: math.NaN(),
				ttft50: math.NaN(), ttft99: math.NaN(), tokIn: math.NaN(), tokOut: math.NaN(), gpu: math.NaN()}
			pods[pod] = r
		}
		return r
	}
	q := queries(window)
	for _, key := range []string{"running", "req", "waiting", "kv", "ttft50", "ttft99", "tokin", "tokout"} {
		res, err := prom.Query(ctx, q[key])
		if err != nil {
			return nil, err
		}
		for _, s := range res {
			r := get(s.Labels["k8s_pod_name"], s.Labels["model_name"])
			switch key {
			case "req":
				r.reqRate = s.Value
			case "running":
				r.running = s.Value
			case "waiting":
				r.waiting = s.Value
			case "kv":
				r.kv = s.Value
			case "ttft50":
				r.ttft50 = s.Value
			case "ttft99":
				r.ttft99 = s.Value
			case "tokin":
				r.tokIn = s.Value
			case "tokout":
				r.tokOut = s.Value
			}
		}
	}
	gpu, err := prom.Query(ctx, q["gpu"])
	if err != nil {
		return nil, err
	}
	for _, s := range gpu {
		if r := pods[s.Labels["pod"]]; r != nil {
			r.gpu = s.Value
		}
	}
	return aggregate(pods), nil
}

// aggregate orders pods under their model, with a model row first: sums of rates and queues,
// the max of KV usage, the max of pods' TTFT quantiles (an upper bound) and the mean GPU use.
func aggregate(pods map[string]*row) []row {
	byModel := map[string][]*row{}
	for _, r := range pods {
		byModel[r.model] = append(byModel[r.model], r)
	}
	models := make([]string, 0, len(byModel))
	for m := range byModel {
		models = append(models, m)
	}
	sort.Strings(models)
	var out []row
	for _, m := range models {
		ps := byModel[m]
		sort.Slice(ps, func(i, j int) bool { return ps[i].pod < ps[j].pod })
		agg := row{model: m}
		sum := func(f func(*row) float64) float64 {
			t, n := 0.0, 0
			for _, p := range ps {
				if v := f(p); !math.IsNaN(v) {
					t += v
					n++
				}
			}
			if n == 0 {
				return math.NaN()
			}
			return t
		}
		maxOf := func(f func(*row) float64) float64 {
			t := math.NaN()
			for _, p := range ps {
				if v := f(p); !math.IsNaN(v) && (math.IsNaN(t) || v > t) {
					t = v
				}
			}
			return t
		}
		agg.reqRate = sum(func(r *row) float64 { return r.reqRate })
		agg.running = sum(func(r *row) float64 { return r.running })
		agg.waiting = sum(func(r *row) float64 { return r.waiting })
		agg.kv = maxOf(func(r *row) float64 { return r.kv })
		agg.ttft50 = maxOf(func(r *row) float64 { return r.ttft50 })
		agg.ttft99 = maxOf(func(r *row) float64 { return r.ttft99 })
		agg.tokIn = sum(func(r *row) float64 { return r.tokIn })
		agg.tokOut = sum(func(r *row) float64 { return r.tokOut })
		agg.gpu = sum(func(r *row) float64 { return r.gpu }) / float64(len(ps))
		out = append(out, agg)
		for _, p := range ps {
			out = append(out, *p)
		}
	}
	return out
}

func printTable(w io.Writer, elapsed time.Duration, rows []row) {
	fmt.Fprintf(w, "\n[%s] %-38s %7s %5s %5s %5s %9s %9s %9s %9s %5s\n", fmtElapsed(elapsed),
		"MODEL / POD", "REQ/S", "RUN", "WAIT", "KV%", "TTFT p50", "TTFT p99", "TOK/S IN", "TOK/S OUT", "GPU%")
	for _, r := range rows {
		name := "model " + r.model
		if r.pod != "" {
			name = "  pod " + r.pod
		}
		fmt.Fprintf(w, "        %-38s %7s %5s %5s %5s %9s %9s %9s %9s %5s\n", name,
			num(r.reqRate, 2), num(r.running, 0), num(r.waiting, 0), num(r.kv, 0),
			secs(r.ttft50), secs(r.ttft99), num(r.tokIn, 0), num(r.tokOut, 0), num(r.gpu, 0))
	}
	if len(rows) == 0 {
		fmt.Fprintln(w, "        (no data in Prometheus yet)")
	}
}

func fmtElapsed(d time.Duration) string {
	s := int(d.Seconds())
	return fmt.Sprintf("%02d:%02d", s/60, s%60)
}

func num(v float64, prec int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	return fmt.Sprintf("%.*f", prec, v)
}

func secs(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	return fmt.Sprintf("%.2fs", v)
}
