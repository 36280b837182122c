package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"go.yaml.in/yaml/v3"

	"github.com/otelcol-llminference/otelcol-llminference/components/processor/llminferenceprocessor/mapping"
	"github.com/otelcol-llminference/otelcol-llminference/configs/dashboards"
	"github.com/otelcol-llminference/otelcol-llminference/internal/llmsim"
	"github.com/otelcol-llminference/otelcol-llminference/tests/harness"
)

// tick is how often the simulators' state changes in this test: two scrapes in the same tick
// (away from its edges) must see the same values.
const tick = 2 * time.Second

// TestValueFidelity: Prometheus scrapes the simulated vLLM (both generations) and SGLang pods
// directly and also receives the collector's remote write (configs/local.yaml, the shipped demo
// pipeline). For every unified series, every sample must equal the source series' samples taken
// in the same simulator tick: names change, values, labels and buckets do not.
func TestValueFidelity(t *testing.T) {
	bin := harness.RequireE2E(t)
	cfg := llmsim.DemoConfig()
	for i := range cfg.Endpoints {
		cfg.Endpoints[i].Listen = "127.0.0.1:0"
	}
	fleet, err := llmsim.StartClock(cfg, func() time.Time { return time.Now().Truncate(tick) })
	require.NoError(t, err)
	t.Cleanup(fleet.Close)

	rules, err := filepath.Abs(filepath.Join("..", "..", "configs", "rules", "llm-inference.rules.yaml"))
	require.NoError(t, err)
	var scrape strings.Builder
	fmt.Fprintf(&scrape, "global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}\nrule_files: [%q]\n", rules)
	scrape.WriteString("scrape_configs:\n  - job_name: direct\n    static_configs:\n")
	// Prometheus scrapes the vLLM and SGLang pods directly (the other engines, with their
	// conversions, are TestEnginesEndToEnd's).
	direct := map[string]string{"qwen3-chat-0": "vllm", "qwen3-chat-1": "vllm", "llama-chat-0": "sglang"}
	for _, ep := range fleet.Endpoints {
		if _, ok := direct[ep.Spec.Name]; ok {
			fmt.Fprintf(&scrape, "      - {targets: [%q], labels: {sim_pod: %q}}\n", strings.TrimSuffix(strings.TrimPrefix(ep.URL, "http://"), "/metrics"), ep.Spec.Name)
		}
	}
	inference := len(fleet.Endpoints) - 1 // every endpoint but the dcgm-exporter
	gpus := 0                             // one per engine pod: routers have none
	for _, ep := range fleet.Endpoints {
		if ep.Spec.Engine != llmsim.EngineDCGM && ep.Spec.Engine != llmsim.EngineSGLRouter {
			gpus++
		}
	}
	prom := harness.StartPrometheus(t, scrape.String())
	harness.StartCollectorFile(t, bin, filepath.Join("..", "..", "configs", "local.yaml"),
		"LLMINF_INTERVAL=1s", "LLMINF_SCRAPE_TIMEOUT=1s", "LLMINF_QUEUE_DIR="+t.TempDir(),
		"LLMINF_QWEN0_URL="+fleet.Endpoint("qwen3-chat-0").URL,
		"LLMINF_QWEN1_URL="+fleet.Endpoint("qwen3-chat-1").URL,
		"LLMINF_LLAMA0_URL="+fleet.Endpoint("llama-chat-0").URL,
		"LLMINF_TRTLLM0_URL="+fleet.Endpoint("qwen3-small-0").URL,
		"LLMINF_TGI0_URL="+fleet.Endpoint("smollm-0").URL,
		"LLMINF_DYNAMO0_URL="+fleet.Endpoint("qwen3-dynamo-0").URL,
		"LLMINF_GEMMA0_URL="+fleet.Endpoint("gemma-0").URL,
		"LLMINF_LLAMAPD_ROUTER_URL="+fleet.Endpoint("llama-pd-router-0").URL,
		"LLMINF_LLAMAPD_PREFILL_URL="+fleet.Endpoint("llama-pd-prefill-0").URL,
		"LLMINF_LLAMAPD_DECODE_URL="+fleet.Endpoint("llama-pd-decode-0").URL,
		"LLMINF_QWENPD_PREFILL_URL="+fleet.Endpoint("qwen3-pd-prefill-0").URL,
		"LLMINF_QWENPD_DECODE_URL="+fleet.Endpoint("qwen3-pd-decode-0").URL,
		"LLMINF_DCGM_URL="+fleet.Endpoint("dcgm").URL,
		"LLMINF_REMOTE_WRITE_URL="+prom.WriteURL(),
		"LLMINF_HEALTH_ADDR=127.0.0.1:"+strconv.Itoa(harness.FreePort(t)),
		"LLMINF_TELEMETRY_PORT="+strconv.Itoa(harness.FreePort(t)),
	)

	ctx := context.Background()
	require.Eventually(t, func() bool {
		up, err := prom.Query(ctx, fmt.Sprintf(`count(llm_inference_target_up == 1) == %d and count(up{job="direct"} == 1) == 3`, inference+1))
		return err == nil && len(up) == 1
	}, 60*time.Second, 250*time.Millisecond, "all targets up for both scrapers")
	// Both scrapers must have recorded several ticks' worth of samples.
	require.Eventually(t, func() bool {
		n, err := prom.Query(ctx, `min(count_over_time(llm_inference_requests_running[20s])) >= 8 and min(count_over_time(vllm:num_requests_running{job="direct"}[20s])) >= 8`)
		return err == nil && len(n) == 1
	}, 60*time.Second, 500*time.Millisecond)
	at := time.Now()

	tables, err := mapping.Builtin()
	require.NoError(t, err)
	compared := 0
	for pod, backend := range direct {
		present := exposedNames(t, fleet.Endpoint(pod).URL)
		for _, r := range winningRules(tables, backend, present) {
			suffixes := []string{""}
			if r.Type == mapping.TypeHistogram {
				suffixes = []string{"_bucket", "_sum", "_count"}
			}
			for _, sfx := range suffixes {
				n := compareSeries(t, ctx, prom, at, pod, r, sfx)
				assert.Positivef(t, n, "%s: %s%s <- %s%s compared no samples", pod, r.Unified, sfx, r.Source, sfx)
				compared += n
			}
		}
	}
	t.Logf("compared %d samples of unified series with their sources", compared)

	// The GPU join: every DCGM series of the fleet names its pod's workload and model.
	gpu, err := prom.Query(ctx, `DCGM_FI_DEV_GPU_UTIL`)
	require.NoError(t, err)
	require.Len(t, gpu, gpus, "one GPU per engine pod")
	for _, s := range gpu {
		ep := fleet.Endpoint(s.Labels["pod"])
		assert.Equal(t, ep.Spec.Workload, s.Labels["workload_name"])
		assert.Equal(t, ep.Spec.Model, s.Labels["model_name"])
		role := ep.Spec.Role // a PD member's, as its target or engine says
		switch {
		case ep.Spec.Engine == llmsim.EngineDynamoFrontend:
			role = "router" // Dynamo's frontend routes
		case role == "":
			role = "both"
		}
		assert.Equal(t, role, s.Labels["inference_role"], "the GPU's pod's role: %s", s.Labels["pod"])
	}
	info, err := prom.Query(ctx, `llm_inference_pod_gpu_info`)
	require.NoError(t, err)
	assert.Len(t, info, gpus, "one GPU per engine pod")

	measured := measuredConcepts(t, fleet, tables)
	dashboardPanelsHaveData(t, ctx, prom, fleet, measured)
	snapshotLoadsInBrowser(t, ctx, prom)

	pdCountsOnce(t, ctx, prom, fleet, recordingRules(t, rules))

	// The recording rules of configs/rules produce finite series for every model whose engine
	// measures what the rule reads.
	for record, expr := range recordingRules(t, rules) {
		for _, ep := range fleet.Endpoints {
			if ep.Spec.Engine == llmsim.EngineDCGM || !measures(measured[ep.Spec.Name], expr) {
				continue
			}
			q := fmt.Sprintf(`%s{model_name=%q}`, record, ep.Spec.Model)
			assert.Eventuallyf(t, func() bool {
				res, err := prom.Query(ctx, q)
				if err != nil || len(res) == 0 {
					return false
				}
				for _, s := range res {
					if math.IsNaN(s.Value) || math.IsInf(s.Value, 0) {
						return false
					}
				}
				return true
			}, 60*time.Second, time.Second, "recording rule %s has no finite series for %s (%s)", record, ep.Spec.Model, ep.Spec.Engine)
		}
	}
}

// demoBackends is the backend label of each pod of the demo fleet, as configs/local.yaml sets it.
var demoBackends = map[string]string{"qwen3-chat-0": "vllm", "qwen3-chat-1": "vllm", "llama-chat-0": "sglang",
	"qwen3-small-0": "trtllm", "smollm-0": "tgi", "qwen3-dynamo-0": "dynamo", "gemma-0": "llamacpp",
	"llama-pd-router-0": "sglang-router", "llama-pd-prefill-0": "sglang", "llama-pd-decode-0": "sglang",
	"qwen3-pd-prefill-0": "vllm", "qwen3-pd-decode-0": "vllm"}

// measuredConcepts returns, per pod of the fleet, the unified metrics its engine measures: those
// of its backend's own tables whose source the pod exposes.
func measuredConcepts(t *testing.T, fleet *llmsim.Fleet, tables []mapping.Table) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for _, ep := range fleet.Endpoints {
		backend, ok := demoBackends[ep.Spec.Name]
		if !ok {
			continue
		}
		present := exposedNames(t, ep.URL)
		out[ep.Spec.Name] = map[string]bool{}
		for _, tb := range tables {
			if tb.Backend != backend {
				continue
			}
			for _, m := range tb.Metrics {
				if present[m.Source] { // family names: a histogram's, for rules that take its sum
					out[ep.Spec.Name][m.Unified] = true
				}
			}
		}
	}
	return out
}

var unifiedRef = regexp.MustCompile(`llm_inference_[a-z_]+`)

// onceAlternatives splits an expression that counts once ("router's or on (...) engines'")
// into its alternatives.
var onceAlternatives = regexp.MustCompile(`\bor on \([a-z_, ]*\)`)

// measures reports whether every unified metric an expression reads is measured (the
// collector's own llm_inference_target_up and pod_gpu_info, and DCGM series, always are); of
// an expression that counts once, whether one of its alternatives is.
func measures(concepts map[string]bool, expr string) bool {
	for _, alt := range onceAlternatives.Split(expr, -1) {
		if measuresAll(concepts, alt) {
			return true
		}
	}
	return false
}

func measuresAll(concepts map[string]bool, expr string) bool {
	for _, name := range unifiedRef.FindAllString(expr, -1) {
		for _, sfx := range []string{"_bucket", "_sum", "_count"} {
			name = strings.TrimSuffix(name, sfx)
		}
		if name == "llm_inference_target_up" || name == "llm_inference_pod_gpu_info" {
			continue
		}
		if !concepts[name] {
			return false
		}
	}
	return true
}

// dashboardPanelsHaveData evaluates every panel query of configs/dashboards/llm-inference.json
// with the variables set to each pod's model in turn, and lists the panels empty for an engine
// that measures what they show (a panel says when an engine does not).
func dashboardPanelsHaveData(t *testing.T, ctx context.Context, prom *harness.Prometheus, fleet *llmsim.Fleet, measured map[string]map[string]bool) {
	b, err := os.ReadFile(filepath.Join("..", "..", "configs", "dashboards", "llm-inference.json"))
	require.NoError(t, err)
	var d struct {
		Panels []struct {
			Type, Title string
			Targets     []struct{ Expr string } `json:"targets"`
		} `json:"panels"`
	}
	require.NoError(t, json.Unmarshal(b, &d))
	var pods []*llmsim.Endpoint
	for pod := range demoBackends {
		pods = append(pods, fleet.Endpoint(pod))
	}
	var empty []string
	panels, row := 0, ""
	for _, p := range d.Panels {
		if p.Type == "row" {
			row = p.Title
			continue
		}
		panels++
		for _, ep := range pods {
			engine := ep.Spec.Name + "/" + ep.Spec.Engine
			// The prefill/decode row for the PD workloads' pods, the router row for routers:
			// other workloads have none, and those rows say so.
			if (row == "Prefill / decode" && ep.Spec.Group == "") || (row == "Router" && ep.Spec.Role != llmsim.RoleRouter) {
				continue
			}
			// As Grafana does: a variable's value is regex-escaped, and the backslashes escaped again
			// inside the PromQL string literal.
			re := func(v string) string { return strings.ReplaceAll(regexp.QuoteMeta(v), `\`, `\\`) }
			vars := strings.NewReplacer("$namespace", re(ep.Spec.Namespace), "$workload_name", re(ep.Spec.Workload),
				"$model_name", re(ep.Spec.Model), "$inference_role", ".*", "$node", ".+", "$__rate_interval", "30s")
			for _, tg := range p.Targets {
				if !measures(measured[ep.Spec.Name], tg.Expr) {
					continue // the panel says this engine does not measure it
				}
				q := vars.Replace(tg.Expr)
				ok := assert.Eventually(t, func() bool {
					res, err := prom.Query(ctx, q)
					if err != nil {
						t.Logf("%s: %v", p.Title, err)
						return false
					}
					if len(res) == 0 {
						return false
					}
					for _, s := range res {
						if math.IsNaN(s.Value) || math.IsInf(s.Value, 0) {
							return false
						}
					}
					return true
				}, 10*time.Second, time.Second)
				if !ok {
					empty = append(empty, fmt.Sprintf("%s [%s]: %s", p.Title, engine, q))
				}
			}
		}
	}
	assert.Empty(t, empty, "dashboard panels without finite data for an engine")
	t.Logf("dashboard: %d panels checked for %d pods", panels, len(pods))
}

// snapshotLoadsInBrowser renders the dashboard snapshot from this Prometheus and loads it in
// Debian's headless Chromium: no console message, no external asset, every chart has data.
func snapshotLoadsInBrowser(t *testing.T, ctx context.Context, prom *harness.Prometheus) {
	html, err := dashboards.Snapshot(ctx, prom, dashboards.Vars{}, time.Now(), 2*time.Minute)
	require.NoError(t, err)
	// (A router's worker URLs are legend text, not assets: the checks are for references.)
	for _, external := range []string{"src=", "href=", `="http`, "url(", "@import"} {
		assert.NotContains(t, string(html), external, "self-contained page")
	}
	dir := t.TempDir()
	page := filepath.Join(dir, "snapshot.html")
	require.NoError(t, os.WriteFile(page, html, 0o600))
	browser, err := exec.LookPath("chromium")
	require.NoError(t, err, "chromium not installed (Debian package chromium; .ci/run installs it)")
	cctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(cctx, browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--user-data-dir="+filepath.Join(dir, "profile"),
		"--enable-logging=stderr", "--v=0", "--dump-dom", "file://"+page)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "chromium: %s", stderr.String())
	for _, line := range strings.Split(stderr.String(), "\n") {
		assert.NotContains(t, line, "CONSOLE", "console message on the page")
	}
	m := regexp.MustCompile(`<pre id="check">([^<]*)</pre>`).FindStringSubmatch(stdout.String())
	require.NotNil(t, m, "the page's self-check ran")
	var check struct {
		Charts int      `json:"charts"`
		Empty  []string `json:"empty"`
	}
	require.NoError(t, json.Unmarshal([]byte(htmlUnescape(m[1])), &check))
	panels := 0
	for _, r := range dashboards.Rows {
		panels += len(r.Panels)
	}
	assert.Equal(t, panels, check.Charts, "one chart per panel")
	assert.Empty(t, check.Empty, "charts without data in the browser")
	t.Logf("snapshot: %d charts rendered with data in headless Chromium (%d bytes)", check.Charts, len(html))
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&#34;", `"`, "&quot;", `"`, "&amp;", "&", "&lt;", "<", "&gt;", ">").Replace(s)
}

// recordingRules returns the recording rules of the rules file: record -> expression.
func recordingRules(t *testing.T, path string) map[string]string {
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var file struct {
		Groups []struct {
			Rules []struct{ Record, Expr string } `yaml:"rules"`
		} `yaml:"groups"`
	}
	require.NoError(t, yaml.Unmarshal(b, &file))
	out := map[string]string{}
	for _, g := range file.Groups {
		for _, r := range g.Rules {
			if r.Record != "" {
				out[r.Record] = r.Expr
			}
		}
	}
	require.NotEmpty(t, out)
	return out
}

// exposedNames lists the families (sample names) a simulated endpoint exposes.
func exposedNames(t *testing.T, url string) map[string]bool {
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, err = buf.ReadFrom(resp.Body)
	require.NoError(t, err)
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(&buf)
	require.NoError(t, err)
	out := map[string]bool{}
	for name := range fams {
		out[name] = true
	}
	return out
}

// winningRules returns the rules that apply to a pod: its backend's, whose source it exposes,
// the highest priority per unified name; transforms (LoRA) change values by design and are left out.
func winningRules(tables []mapping.Table, backend string, present map[string]bool) []mapping.Mapping {
	best := map[string]int{}
	type cand struct {
		m        mapping.Mapping
		priority int
	}
	var cands []cand
	for _, tb := range tables {
		if tb.Backend != backend {
			continue
		}
		for _, m := range tb.Metrics {
			if !present[m.Source] || m.Transform != "" {
				continue
			}
			cands = append(cands, cand{m, tb.Priority})
			if p, ok := best[m.Unified]; !ok || tb.Priority > p {
				best[m.Unified] = tb.Priority
			}
		}
	}
	var out []mapping.Mapping
	for _, c := range cands {
		if c.priority == best[c.m.Unified] {
			out = append(out, c.m)
		}
	}
	return out
}

// compareSeries compares the unified series of rule r (with suffix, for histograms) against
// its source, sample by sample in the same tick, and returns how many samples it compared.
func compareSeries(t *testing.T, ctx context.Context, prom *harness.Prometheus, at time.Time, pod string, r mapping.Mapping, suffix string) int {
	var ours strings.Builder
	fmt.Fprintf(&ours, `{__name__=%q, pod=%q`, r.Unified+suffix, pod)
	for k, v := range r.SetLabels {
		fmt.Fprintf(&ours, `, %s=%q`, k, v)
	}
	ours.WriteString("}[20s]")
	got, err := prom.QueryRaw(ctx, ours.String(), at)
	require.NoError(t, err)
	direct, err := prom.QueryRaw(ctx, fmt.Sprintf(`{__name__=%q, sim_pod=%q}[20s]`, r.Source+suffix, pod), at)
	require.NoError(t, err)

	ignore := map[string]bool{"__name__": true, "job": true, "instance": true, "sim_pod": true,
		"namespace": true, "pod": true, "node": true, "workload_name": true, "backend": true, "inference_role": true}
	for k := range r.SetLabels {
		ignore[k] = true
	}
	bySeries := map[string][]harness.Point{}
	for _, s := range direct {
		bySeries[seriesKey(s.Labels, ignore)] = s.Samples
	}
	require.Lenf(t, got, len(direct), "%s%s: as many series as %s%s", r.Unified, suffix, r.Source, suffix)
	n := 0
	for _, s := range got {
		key := seriesKey(s.Labels, ignore)
		src, ok := bySeries[key]
		if !assert.Truef(t, ok, "%s%s{%s} has a source series", r.Unified, suffix, key) {
			continue
		}
		n += eachSameTick(s.Samples, src, func(p, q harness.Point) {
			if !(p.Value == q.Value || (math.IsNaN(p.Value) && math.IsNaN(q.Value))) {
				t.Errorf("%s%s{%s} at %.3f = %v, source %s%s = %v at %.3f", r.Unified, suffix, key, p.Time, p.Value, r.Source, suffix, q.Value, q.Time)
			}
		})
	}
	return n
}

// eachSameTick calls f for every pair of samples of ours and src taken in the same simulator
// tick, and returns how many pairs there were.
func eachSameTick(ours, src []harness.Point, f func(p, q harness.Point)) int {
	n := 0
	for _, p := range ours {
		tk, ok := tickOf(p.Time)
		if !ok {
			continue
		}
		for _, q := range src {
			if tq, ok := tickOf(q.Time); ok && tq == tk {
				n++
				f(p, q)
			}
		}
	}
	return n
}

// tickOf returns the simulator tick of a sample time, or false within 150 ms of a tick's edges
// (a scrape started there may have been served by either tick).
func tickOf(ts float64) (int64, bool) {
	period := tick.Seconds()
	frac := math.Mod(ts, period)
	if frac < 0.15 || frac > period-0.15 {
		return 0, false
	}
	return int64(ts / period), true
}

func seriesKey(lbls map[string]string, ignore map[string]bool) string {
	var parts []string
	for k, v := range lbls {
		if ignore[k] {
			continue
		}
		if k == "le" {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				v = formatLe(f)
			}
		}
		parts = append(parts, k+"="+v)
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// pdCountsOnce: for the PD workloads of the demo fleet, one behind sgl-router (llama-pd) and
// one without a router (qwen3-pd), the recording rules' model-level request, prompt-token and
// generated-token rates equal what the simulator served its users (its truth over the same
// minute, within 10%: the samples arrive a second or two late and rate() extrapolates), while
// a plain sum over the workload's pods counts requests and prompts about twice.
func pdCountsOnce(t *testing.T, ctx context.Context, prom *harness.Prometheus, fleet *llmsim.Fleet, exprs map[string]string) {
	checks := []struct {
		record, plain string
		truth         func(llmsim.Truth) float64
	}{
		{"model:llm_inference_requests:rate1m", "llm_inference_requests_total", func(x llmsim.Truth) float64 { return x.Requests }},
		{"model:llm_inference_prompt_tokens:rate1m", "llm_inference_prompt_tokens_total", func(x llmsim.Truth) float64 { return x.PromptTokens }},
		{"model:llm_inference_generation_tokens:rate1m", "", func(x llmsim.Truth) float64 { return x.GenerationTokens }},
	}
	for _, wl := range []struct{ workload, member string }{{"llama-pd", "llama-pd-prefill-0"}, {"qwen3-pd", "qwen3-pd-prefill-0"}} {
		for _, c := range checks {
			var got, want, plain float64
			ok := assert.Eventually(t, func() bool {
				at := time.Now().Add(-3 * time.Second)
				truth, _ := fleet.Endpoint(wl.member).TruthBetween(at.Add(-time.Minute), at)
				want = c.truth(truth) / 60
				res, err := prom.QueryAt(ctx, exprs[c.record], at)
				if err != nil {
					return false
				}
				got = math.NaN()
				for _, s := range res {
					if s.Labels["workload_name"] == wl.workload {
						got = s.Value
					}
				}
				if c.plain != "" {
					p, err := prom.QueryAt(ctx, fmt.Sprintf(`sum(rate(%s{workload_name=%q}[1m]))`, c.plain, wl.workload), at)
					if err != nil || len(p) != 1 {
						return false
					}
					plain = p[0].Value
				}
				return want > 0 && math.Abs(got-want) <= 0.1*want
			}, 90*time.Second, 2*time.Second)
			t.Logf("%s %s: rules %.2f/s, served %.2f/s, a plain sum over the pods %.2f/s", wl.workload, c.record, got, want, plain)
			assert.Truef(t, ok, "%s: %s is %.3f, the simulator served %.3f", wl.workload, c.record, got, want)
			if c.plain != "" {
				assert.Greater(t, plain, 1.7*want, "%s: a plain sum counts %s about twice (or the test could not tell)", wl.workload, c.plain)
			}
		}
	}
}
