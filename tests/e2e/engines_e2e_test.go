package e2e

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-llminference/otelcol-llminference/components/processor/llminferenceprocessor/mapping"
	"github.com/otelcol-llminference/otelcol-llminference/internal/llmsim"
	"github.com/otelcol-llminference/otelcol-llminference/tests/harness"
)

// TestEnginesEndToEnd runs a simulated pod of every engine beyond vLLM and SGLang (trtllm-serve,
// TGI, a Dynamo frontend and a Dynamo TensorRT-LLM worker, llama.cpp, Triton with the
// TensorRT-LLM backend behind an ensemble, LMDeploy, NIM); a
// real Prometheus scrapes them directly and receives the collector's remote write. Every
// unified series must equal its source in the same simulator tick once the table's conversion
// is applied here, independently: units scaled (bucket bounds too), a histogram's sum taken as
// a counter, points selected by label, labels renamed and set; and each pod's model named once.
func TestEnginesEndToEnd(t *testing.T) {
	bin := harness.RequireE2E(t)
	pods := []struct {
		engine, backend string
		spec            llmsim.PodSpec
	}{
		{llmsim.EngineTRTLLM, "trtllm", llmsim.PodSpec{Name: "trtllm-0", Model: "Qwen/Qwen3-0.6B", Rate: 3}},
		{llmsim.EngineTGI, "tgi", llmsim.PodSpec{Name: "tgi-0", Model: "HuggingFaceTB/SmolLM3-3B", Rate: 3}},
		{llmsim.EngineDynamoFrontend, "dynamo", llmsim.PodSpec{Name: "dynamo-0", Model: "Qwen/Qwen3-8B", Rate: 3}},
		{llmsim.EngineLlamaCpp, "llamacpp", llmsim.PodSpec{Name: "llamacpp-0", Model: "gemma-3-4b", Rate: 2}},
		{llmsim.EngineDynamoTRTLLMWorker, "dynamo", llmsim.PodSpec{Name: "dynworker-0", Model: "Qwen/Qwen3-0.6B", Rate: 3}},
		{llmsim.EngineTriton, "triton", llmsim.PodSpec{Name: "triton-0", Model: "llama-3.1-8b", Rate: 3}},
		{llmsim.EngineLMDeploy, "lmdeploy", llmsim.PodSpec{Name: "lmdeploy-0", Model: "internlm/internlm3-8b-instruct", Rate: 3}},
		{llmsim.EngineNIM, "nim", llmsim.PodSpec{Name: "nim-0", Model: "meta/llama-3.1-8b-instruct", Rate: 3}},
	}
	cfg := llmsim.Config{Seed: 7, Node: "gpu-node-1"}
	for _, p := range pods {
		spec := p.spec
		spec.Namespace, spec.Workload = "llm", p.spec.Name[:strings.IndexByte(p.spec.Name, '-')]
		cfg.Endpoints = append(cfg.Endpoints, llmsim.EndpointSpec{Engine: p.engine, Listen: "127.0.0.1:0", PodSpec: spec})
	}
	fleet, err := llmsim.StartClock(cfg, func() time.Time { return time.Now().Truncate(tick) })
	require.NoError(t, err)
	t.Cleanup(fleet.Close)

	var scrape, targets strings.Builder
	scrape.WriteString("global: {scrape_interval: 1s, scrape_timeout: 1s}\nscrape_configs:\n")
	for _, p := range pods {
		ep := fleet.Endpoint(p.spec.Name)
		u, err := url.Parse(ep.URL)
		require.NoError(t, err)
		fmt.Fprintf(&scrape, "  - job_name: direct-%s\n    metrics_path: %s\n    static_configs: [{targets: [%q], labels: {sim_pod: %q}}]\n",
			p.spec.Name, u.Path, u.Host, p.spec.Name)
		fmt.Fprintf(&targets, "      - {endpoint: %q, workload: %q, backend: %q, namespace: llm, pod: %q}\n",
			ep.URL, ep.Spec.Workload, p.backend, p.spec.Name)
	}
	prom := harness.StartPrometheus(t, scrape.String())
	config := fmt.Sprintf(`receivers:
  llminference:
    collection_interval: 1s
    scrape_timeout: 1s
    kubernetes: {enabled: false, node_name: gpu-node-1}
    static_targets:
%sprocessors:
  llminference: {}
exporters:
  llminference_remote_write:
    endpoint: %s
    queue: {directory: %q, flush_interval: 200ms}
service:
  telemetry: {metrics: {level: none}}
  pipelines:
    metrics: {receivers: [llminference], processors: [llminference], exporters: [llminference_remote_write]}
`, targets.String(), prom.WriteURL(), t.TempDir())
	path := filepath.Join(t.TempDir(), "collector.yaml")
	require.NoError(t, os.WriteFile(path, []byte(config), 0o600))
	harness.StartCollectorFile(t, bin, path)

	ctx := context.Background()
	require.Eventually(t, func() bool {
		n, err := prom.Query(ctx, fmt.Sprintf(`count(llm_inference_target_up == 1) == %d and count(up{job=~"direct-.*"} == 1) == %d
			and min(count_over_time(llm_inference_target_up[20s])) >= 8`, len(pods), len(pods)))
		return err == nil && len(n) == 1
	}, 90*time.Second, 500*time.Millisecond, "every pod up for both scrapers, with several ticks of samples")
	at := time.Now()

	tables, err := mapping.Builtin()
	require.NoError(t, err)
	compared := 0
	for _, p := range pods {
		present := exposedNames(t, fleet.Endpoint(p.spec.Name).URL)
		rules := winningRules(tables, p.backend, present)
		require.NotEmpty(t, rules, p.spec.Name)
		for _, r := range rules {
			suffixes := []string{""}
			if r.Type == mapping.TypeHistogram {
				suffixes = []string{"_bucket", "_sum", "_count"}
			}
			for _, sfx := range suffixes {
				n := compareConverted(t, ctx, prom, at, p.spec.Name, r, rules, sfx)
				assert.Positivef(t, n, "%s: %s%s <- %s compared no samples", p.spec.Name, r.Unified, sfx, r.Source)
				compared += n
			}
		}
		// One model name per pod: the engine's (Dynamo's proper spelling, not its lower-cased
		// request label), or for engines that name none the workload.
		want := p.spec.Model
		if p.backend == "tgi" || p.backend == "llamacpp" || p.backend == "triton" {
			want = fleet.Endpoint(p.spec.Name).Spec.Workload
		}
		models, err := prom.Query(ctx, fmt.Sprintf(`count by (model_name) ({__name__=~"llm_inference_.+", pod=%q})`, p.spec.Name))
		require.NoError(t, err)
		require.Len(t, models, 1, "%s: one model name", p.spec.Name)
		assert.Equal(t, want, models[0].Labels["model_name"], p.spec.Name)
	}
	t.Logf("compared %d converted samples of unified series with their sources", compared)
}

// compareConverted is compareSeries for rules that convert: the source's points are selected
// (match), their labels renamed and set, their values and bucket bounds scaled, or the sum of a
// histogram source taken, before they are compared with the unified series tick by tick.
func compareConverted(t *testing.T, ctx context.Context, prom *harness.Prometheus, at time.Time, pod string, r mapping.Mapping, all []mapping.Mapping, suffix string) int {
	srcName, ourName := r.Source+suffix, r.Unified+suffix
	if r.From != "" {
		srcName = r.Source + "_" + r.From
	}
	var sel strings.Builder
	fmt.Fprintf(&sel, `{__name__=%q, sim_pod=%q`, srcName, pod)
	for k, v := range r.Match {
		fmt.Fprintf(&sel, `, %s=%q`, k, v)
	}
	sel.WriteString("}[20s]")
	direct, err := prom.QueryRaw(ctx, sel.String(), at)
	require.NoError(t, err)
	var ours strings.Builder
	fmt.Fprintf(&ours, `{__name__=%q, pod=%q`, ourName, pod)
	for k, v := range r.SetLabels { // the series of this rule, not of others feeding the same name
		fmt.Fprintf(&ours, `, %s=%q`, k, v)
	}
	ours.WriteString("}[20s]")
	got, err := prom.QueryRaw(ctx, ours.String(), at)
	require.NoError(t, err)
	// Series of the same unified name that another rule labels (NIM's failures beside its
	// finished requests) are that rule's.
	got = slices.DeleteFunc(got, func(s harness.Series) bool {
		for _, o := range all {
			if o.Unified != r.Unified || o.Source == r.Source || len(o.SetLabels) == 0 {
				continue
			}
			theirs := true
			for k, v := range o.SetLabels {
				if _, mine := r.SetLabels[k]; mine || s.Labels[k] != v {
					theirs = false
				}
			}
			if theirs {
				return true
			}
		}
		return false
	})

	// Identity and model labels are checked elsewhere; labels a case sets depend on others.
	ignore := map[string]bool{"__name__": true, "job": true, "instance": true, "sim_pod": true, "namespace": true, "pod": true,
		"node": true, "workload_name": true, "backend": true, "inference_role": true, "model": true, "model_name": true}
	for _, c := range r.LabelCases {
		for k := range c.Set {
			ignore[k] = true
		}
	}
	// Scaled as a person would: divided by 1000 for milliseconds, by 1e6 for microseconds.
	conv := func(v float64) float64 {
		if r.Scale == 0 {
			return v
		}
		if inv := 1 / r.Scale; inv == math.Round(inv) {
			return v / inv
		}
		return v * r.Scale
	}
	scaleValue := r.Scale != 0 && (suffix == "" || suffix == "_sum") // bucket values and counts are counts
	bySeries := map[string][]harness.Point{}
	for _, s := range direct {
		lbls := map[string]string{}
		for k, v := range s.Labels {
			if _, matched := r.Match[k]; matched {
				continue
			}
			if to, ok := r.RenameLabels[k]; ok {
				k = to
			}
			if k == "le" && r.Scale != 0 {
				if f, err := strconv.ParseFloat(v, 64); err == nil {
					v = formatLe(conv(f))
				}
			}
			lbls[k] = v
		}
		for k, v := range r.SetLabels {
			lbls[k] = v
		}
		bySeries[seriesKey(lbls, ignore)] = s.Samples
	}
	require.Lenf(t, got, len(direct), "%s: as many series as %s", ourName, srcName)
	n := 0
	for _, s := range got {
		key := seriesKey(s.Labels, ignore)
		src, ok := bySeries[key]
		if !assert.Truef(t, ok, "%s{%s} has a source series among %v", ourName, key, keys(bySeries)) {
			continue
		}
		n += eachSameTick(s.Samples, src, func(p, q harness.Point) {
			want := q.Value
			if scaleValue {
				want = conv(q.Value)
			}
			if p.Value != want && !(math.IsNaN(p.Value) && math.IsNaN(want)) {
				t.Errorf("%s{%s} at %.3f = %v, want %v from %s = %v", ourName, key, p.Time, p.Value, want, srcName, q.Value)
			}
		})
	}
	return n
}

func keys(m map[string][]harness.Point) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
