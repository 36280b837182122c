package llminferenceprocessor

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otelcol-llminference/otelcol-llminference/components/internal/scrapecontract"
)

type gpuRow struct {
	index         int
	namespace     string
	pod           string
	exportedNames bool // labels as exported_namespace / exported_pod / exported_container
}

func dcgmBody(rows ...gpuRow) []byte {
	var b strings.Builder
	for _, f := range []struct{ name, typ, val string }{
		{"DCGM_FI_DEV_GPU_UTIL", "gauge", "87"},
		{"DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "counter", "123456789"},
	} {
		fmt.Fprintf(&b, "# TYPE %s %s\n", f.name, f.typ)
		for _, r := range rows {
			ns, pod, ctr := "namespace", "pod", "container"
			if r.exportedNames {
				ns, pod, ctr = "exported_namespace", "exported_pod", "exported_container"
			}
			fmt.Fprintf(&b, "%s{gpu=\"%d\",UUID=\"GPU-%d\",pci_bus_id=\"0000:%02d:00.0\",device=\"nvidia%d\",modelName=\"NVIDIA H100 80GB HBM3\",Hostname=\"gpu-node-1\",%s=\"engine\",%s=\"%s\",%s=\"%s\"} %s\n",
				f.name, r.index, r.index, r.index, r.index, ctr, ns, r.namespace, pod, r.pod, f.val)
		}
	}
	return []byte(b.String())
}

var running = []byte("# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running{engine=\"0\",model_name=\"Qwen/Qwen3-8B\"} 3\n")
var sgRunning = []byte("# TYPE sglang:num_running_reqs gauge\nsglang:num_running_reqs{model_name=\"meta-llama/Llama-3.1-8B-Instruct\",tp_rank=\"0\"} 5\n")

// gpuSeries lists the DCGM_FI_DEV_GPU_UTIL data points by GPU UUID with their join labels.
func gpuSeries(md pmetric.Metrics) map[string]map[string]string {
	out := map[string]map[string]string{}
	m, ok := metricsOf(md, "")["DCGM_FI_DEV_GPU_UTIL"]
	if !ok {
		return out
	}
	for i := 0; i < m.Gauge().DataPoints().Len(); i++ {
		a := m.Gauge().DataPoints().At(i).Attributes()
		out[str(a, "UUID")] = map[string]string{
			"namespace": str(a, "namespace"), "pod": str(a, "pod"), "container": str(a, "container"),
			"workload_name": str(a, "workload_name"), "model_name": str(a, "model_name"), "backend": str(a, "backend"),
		}
		_, exported := a.Get("exported_pod")
		if exported {
			out[str(a, "UUID")]["exported_pod"] = "still there"
		}
	}
	return out
}

// podGPUs lists llm_inference_pod_gpu_info of a pod: UUID -> "1" or "stale".
func podGPUs(md pmetric.Metrics, pod string) map[string]string {
	out := map[string]string{}
	m, ok := metricsOf(md, pod)[metricPodGPUInfo]
	if !ok {
		return out
	}
	for i := 0; i < m.Gauge().DataPoints().Len(); i++ {
		dp := m.Gauge().DataPoints().At(i)
		v := "1"
		if dp.Flags().NoRecordedValue() {
			v = "stale"
		}
		out[str(dp.Attributes(), "gpu_uuid")] = v
	}
	return out
}

func TestGPUJoin(t *testing.T) {
	p, now := newTestProcessor(t, createDefaultConfig())
	node := dcgmBody(
		gpuRow{0, "llm", "qwen-0", false}, gpuRow{1, "llm", "qwen-0", false}, // one pod, two GPUs
		gpuRow{2, "llm", "llama-0", false},          // another inference pod on the node
		gpuRow{3, "default", "training-job", false}, // not an inference pod
		gpuRow{4, "", "", false},                    // idle GPU, no pod
	)
	step := func(d time.Duration, withDCGM bool) pmetric.Metrics {
		*now = now.Add(d)
		md := pmetric.NewMetrics()
		scrape(t, md, inferencePod("qwen-0", "qwen-chat", "vllm"), running, *now)
		scrape(t, md, inferencePod("llama-0", "llama-chat", "sglang"), sgRunning, *now)
		if withDCGM {
			scrape(t, md, gpuExporter(), node, *now)
		}
		return process(t, p, md)
	}

	out := step(0, true)
	gpus := gpuSeries(out)
	assert.Equal(t, map[string]map[string]string{
		"GPU-0": {"namespace": "llm", "pod": "qwen-0", "container": "engine", "workload_name": "qwen-chat", "model_name": "Qwen/Qwen3-8B", "backend": "vllm"},
		"GPU-1": {"namespace": "llm", "pod": "qwen-0", "container": "engine", "workload_name": "qwen-chat", "model_name": "Qwen/Qwen3-8B", "backend": "vllm"},
		"GPU-2": {"namespace": "llm", "pod": "llama-0", "container": "engine", "workload_name": "llama-chat", "model_name": "meta-llama/Llama-3.1-8B-Instruct", "backend": "sglang"},
	}, gpus, "GPUs of inference pods joined; others dropped")
	energy := metricsOf(out, "")["DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"]
	require.Equal(t, pmetric.MetricTypeSum, energy.Type(), "DCGM names and types unchanged")
	assert.Equal(t, 3, energy.Sum().DataPoints().Len())

	// Links learnt from the first GPU scrape show on the pods' next scrapes.
	out = step(15*time.Second, true)
	assert.Equal(t, map[string]string{"GPU-0": "1", "GPU-1": "1"}, podGPUs(out, "qwen-0"))
	assert.Equal(t, map[string]string{"GPU-2": "1"}, podGPUs(out, "llama-0"))
	info := metricsOf(out, "qwen-0")[metricPodGPUInfo].Gauge().DataPoints().At(0).Attributes()
	assert.Equal(t, "NVIDIA H100 80GB HBM3", str(info, "gpu_model"))
	assert.Equal(t, "Qwen/Qwen3-8B", str(info, "model_name"))
	assert.Contains(t, []string{"0", "1"}, str(info, "gpu"))
	for i := 0; i < out.ResourceMetrics().Len(); i++ {
		rm := out.ResourceMetrics().At(i)
		if str(rm.Resource().Attributes(), scrapecontract.AttrPodName) == "qwen-0" {
			v, ok := rm.Resource().Attributes().Get(attrGPUUUIDs)
			require.True(t, ok)
			assert.Equal(t, []any{"GPU-0", "GPU-1"}, v.Slice().AsRaw())
		}
	}

	// dcgm-exporter stops reporting; after the TTL the links go, with one stale marker each.
	step(4*time.Minute, false)
	out = step(2*time.Minute, false)
	assert.Equal(t, map[string]string{"GPU-0": "stale", "GPU-1": "stale"}, podGPUs(out, "qwen-0"))
	out = step(15*time.Second, false)
	assert.Empty(t, podGPUs(out, "qwen-0"), "stale once")
}

func TestGPUJoinKeepUnassignedAndExportedLabels(t *testing.T) {
	cfg := createDefaultConfig()
	cfg.GPU.KeepUnassignedGPUs = true
	p, _ := newTestProcessor(t, cfg)
	md := pmetric.NewMetrics()
	scrape(t, md, inferencePod("qwen-0", "qwen-chat", "vllm"), running, t0)
	scrape(t, md, gpuExporter(), dcgmBody(gpuRow{0, "llm", "qwen-0", true}, gpuRow{3, "default", "training-job", false}), t0)
	gpus := gpuSeries(process(t, p, md))
	assert.Equal(t, map[string]string{"namespace": "llm", "pod": "qwen-0", "container": "engine", "workload_name": "qwen-chat", "model_name": "Qwen/Qwen3-8B", "backend": "vllm"}, gpus["GPU-0"],
		"exported_ labels become the unified namespace/pod/container")
	assert.Equal(t, "training-job", gpus["GPU-3"]["pod"], "kept unassigned")
	assert.Empty(t, gpus["GPU-3"]["workload_name"])
}

// TestGPUJoinTargetGone: when the inference target goes away (the receiver's stale marker on
// its up metric), its GPU links go stale and its GPUs stop being joined.
func TestGPUJoinTargetGone(t *testing.T) {
	p, now := newTestProcessor(t, createDefaultConfig())
	node := dcgmBody(gpuRow{0, "llm", "qwen-0", false})
	md := pmetric.NewMetrics()
	scrape(t, md, inferencePod("qwen-0", "qwen-chat", "vllm"), running, *now)
	scrape(t, md, gpuExporter(), node, *now)
	process(t, p, md)
	*now = now.Add(15 * time.Second)
	md = pmetric.NewMetrics()
	scrape(t, md, inferencePod("qwen-0", "qwen-chat", "vllm"), running, *now)
	require.Equal(t, map[string]string{"GPU-0": "1"}, podGPUs(process(t, p, md), "qwen-0"))

	*now = now.Add(15 * time.Second)
	md = pmetric.NewMetrics()
	rm := scrape(t, md, inferencePod("qwen-0", "qwen-chat", "vllm"), running, *now)
	ms := rm.ScopeMetrics().At(0).Metrics()
	for i := 0; i < ms.Len(); i++ {
		ms.At(i).Gauge().DataPoints().At(0).SetFlags(scrapecontract.StaleFlags)
	}
	out := process(t, p, md)
	assert.Equal(t, map[string]string{"GPU-0": "stale"}, podGPUs(out, "qwen-0"))

	md = pmetric.NewMetrics()
	scrape(t, md, gpuExporter(), node, now.Add(15*time.Second))
	assert.Empty(t, gpuSeries(process(t, p, md)), "the pod is no inference pod any more")
}

func TestGPUJoinDisabled(t *testing.T) {
	cfg := createDefaultConfig()
	cfg.GPU.Join = false
	p, _ := newTestProcessor(t, cfg)
	md := pmetric.NewMetrics()
	scrape(t, md, gpuExporter(), dcgmBody(gpuRow{3, "default", "training-job", false}), t0)
	gpus := gpuSeries(process(t, p, md))
	require.Len(t, gpus, 1, "untouched")
	keys := make([]string, 0)
	for k := range gpus {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	assert.Equal(t, []string{"GPU-3"}, keys)
}
