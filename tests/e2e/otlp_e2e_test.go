package e2e

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otelcol-llminference/otelcol-llminference/internal/llmsim"
	"github.com/otelcol-llminference/otelcol-llminference/tests/harness"
)

// otlpFleet is a vLLM pod (current names, LoRA adapters), a vLLM pod of the V0/V1 names, an
// SGLang pod and the node's dcgm-exporter.
func otlpFleet(t *testing.T) (*llmsim.Fleet, string) {
	cfg := llmsim.Config{Seed: 11, Node: "gpu-node-1", Endpoints: []llmsim.EndpointSpec{
		{Engine: llmsim.EngineVLLM, Listen: "127.0.0.1:0", PodSpec: llmsim.PodSpec{Name: "qwen3-0", Namespace: "llm", Workload: "qwen3", Model: "Qwen/Qwen3-8B", Rate: 4, LoRAAdapters: []string{"sql-lora"}}},
		{Engine: llmsim.EngineVLLMLegacy, Listen: "127.0.0.1:0", PodSpec: llmsim.PodSpec{Name: "qwen3-1", Namespace: "llm", Workload: "qwen3", Model: "Qwen/Qwen3-8B", Rate: 3}},
		{Engine: llmsim.EngineSGLang, Listen: "127.0.0.1:0", PodSpec: llmsim.PodSpec{Name: "llama-0", Namespace: "llm", Workload: "llama", Model: "meta-llama/Llama-3.1-8B-Instruct", Rate: 5}},
		{Engine: llmsim.EngineDCGM, Listen: "127.0.0.1:0"},
	}}
	fleet, err := llmsim.StartClock(cfg, func() time.Time { return time.Now().Truncate(tick) })
	require.NoError(t, err)
	t.Cleanup(fleet.Close)
	var targets strings.Builder
	for _, p := range []struct{ pod, backend string }{{"qwen3-0", "vllm"}, {"qwen3-1", "vllm"}, {"llama-0", "sglang"}} {
		ep := fleet.Endpoint(p.pod)
		fmt.Fprintf(&targets, "      - {endpoint: %q, workload: %q, backend: %q, namespace: llm, pod: %q}\n", ep.URL, ep.Spec.Workload, p.backend, p.pod)
	}
	return fleet, fmt.Sprintf(`receivers:
  llminference:
    collection_interval: 1s
    scrape_timeout: 1s
    kubernetes: {enabled: false, node_name: gpu-node-1}
    static_targets:
%s    gpu_exporter: {endpoint: %q}
`, targets.String(), fleet.Endpoint("dcgm").URL)
}

// Where a Prometheus 3 OTLP receiver (default translation) stores the OpenTelemetry form of each
// series of the remote-write pipeline. Written out, not computed: the test checks the names,
// units and instruments the processor gives, through the backend's own translation.
var otlpPromNames = map[string]string{
	"llm_inference_requests_running":                      "llm_inference_request_running",
	"llm_inference_requests_waiting":                      "llm_inference_request_waiting",
	"llm_inference_kv_cache_usage_ratio":                  "llm_inference_kv_cache_utilization_ratio",
	"llm_inference_prompt_tokens_total":                   "llm_inference_usage_input_tokens_total",
	"llm_inference_generation_tokens_total":               "llm_inference_usage_output_tokens_total",
	"llm_inference_requests_total":                        "llm_inference_requests_total",
	"llm_inference_time_to_first_token_seconds":           "gen_ai_server_time_to_first_token_seconds",
	"llm_inference_e2e_request_latency_seconds":           "gen_ai_server_request_duration_seconds",
	"llm_inference_request_time_per_output_token_seconds": "gen_ai_server_time_per_output_token_seconds",
	"llm_inference_inter_token_latency_seconds":           "llm_inference_inter_token_latency_seconds",
	"llm_inference_request_queue_time_seconds":            "llm_inference_request_queue_duration_seconds",
	"llm_inference_request_prompt_tokens":                 "llm_inference_request_input_tokens",
	"llm_inference_request_generation_tokens":             "llm_inference_request_output_tokens",
	"llm_inference_prefix_cache_hits_total":               "llm_inference_prefix_cache_hits_total",
	"llm_inference_prefix_cache_queries_total":            "llm_inference_prefix_cache_queries_total",
	"llm_inference_preemptions_total":                     "llm_inference_preemptions_total",
	"llm_inference_lora_adapter_info":                     "llm_inference_lora_adapter_info",
	"llm_inference_pod_gpu_info":                          "llm_inference_pod_gpu_info",
	"llm_inference_target_up":                             "llm_inference_target_up",
	"llm_inference_scrape_duration_seconds":               "llm_inference_scrape_duration_seconds",
	"llm_inference_scrape_samples":                        "llm_inference_scrape_samples",
}

type gpuExpect struct {
	name  string
	scale float64
	set   map[string]string
}

var otlpGPUNames = map[string]gpuExpect{
	"DCGM_FI_DEV_GPU_UTIL":                 {"hw_gpu_utilization_ratio", 0.01, map[string]string{"hw_gpu_task": "general"}},
	"DCGM_FI_DEV_ENC_UTIL":                 {"hw_gpu_utilization_ratio", 0.01, map[string]string{"hw_gpu_task": "encoder"}},
	"DCGM_FI_DEV_DEC_UTIL":                 {"hw_gpu_utilization_ratio", 0.01, map[string]string{"hw_gpu_task": "decoder"}},
	"DCGM_FI_DEV_FB_USED":                  {"hw_gpu_memory_usage_bytes", 1 << 20, nil},
	"DCGM_FI_DEV_FB_FREE":                  {"llm_inference_gpu_memory_free_bytes", 1 << 20, nil},
	"DCGM_FI_DEV_FB_RESERVED":              {"llm_inference_gpu_memory_reserved_bytes", 1 << 20, nil},
	"DCGM_FI_DEV_POWER_USAGE":              {"hw_power_watts", 1, map[string]string{"hw_type": "gpu"}},
	"DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION": {"hw_energy_joules_total", 0.001, map[string]string{"hw_type": "gpu"}},
	"DCGM_FI_DEV_GPU_TEMP":                 {"hw_temperature_celsius", 1, map[string]string{"hw_sensor_location": "gpu"}},
	"DCGM_FI_DEV_MEMORY_TEMP":              {"hw_temperature_celsius", 1, map[string]string{"hw_sensor_location": "memory"}},
	"DCGM_FI_DEV_SM_CLOCK":                 {"llm_inference_gpu_clock_frequency_hertz", 1e6, map[string]string{"llm_inference_gpu_clock": "sm"}},
	"DCGM_FI_DEV_MEM_CLOCK":                {"llm_inference_gpu_clock_frequency_hertz", 1e6, map[string]string{"llm_inference_gpu_clock": "memory"}},
	"DCGM_FI_DEV_MEM_COPY_UTIL":            {"llm_inference_gpu_memory_copy_utilization_ratio", 0.01, nil},
	"DCGM_FI_PROF_GR_ENGINE_ACTIVE":        {"llm_inference_gpu_graphics_engine_utilization_ratio", 1, nil},
	"DCGM_FI_PROF_PIPE_TENSOR_ACTIVE":      {"llm_inference_gpu_tensor_pipe_utilization_ratio", 1, nil},
	"DCGM_FI_PROF_DRAM_ACTIVE":             {"llm_inference_gpu_dram_utilization_ratio", 1, nil},
	"DCGM_FI_PROF_PCIE_TX_BYTES":           {"llm_inference_gpu_pcie_throughput_bytes_per_second", 1, map[string]string{"network_io_direction": "transmit"}},
	"DCGM_FI_PROF_PCIE_RX_BYTES":           {"llm_inference_gpu_pcie_throughput_bytes_per_second", 1, map[string]string{"network_io_direction": "receive"}},
	"DCGM_FI_DEV_PCIE_REPLAY_COUNTER":      {"llm_inference_gpu_pcie_replays_total", 1, nil},
	"DCGM_FI_DEV_XID_ERRORS":               {"llm_inference_gpu_xid_last", 1, nil},
	// Fields without a convention keep their DCGM name; Prometheus' translation adds _total to
	// those that are counters.
	"DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL":      {"DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL_total", 1, nil},
	"DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS":   {"DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS_total", 1, nil},
	"DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS": {"DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS_total", 1, nil},
}

// The remote-write labels and the Prometheus 3 labels of their OpenTelemetry attributes
// (resource attributes promoted by the Prometheus config below).
var otlpLabels = map[string]string{
	"namespace": "k8s_namespace_name", "pod": "k8s_pod_name", "node": "k8s_node_name", "container": "k8s_container_name",
	"workload_name": "llm_inference_workload_name", "backend": "llm_inference_backend", "inference_role": "llm_inference_role",
	"model_name": "gen_ai_request_model", "finished_reason": "llm_inference_finish_reason", "error_type": "error_type",
	"adapter": "llm_inference_lora_adapter_name", "state": "llm_inference_lora_adapter_state",
	"gpu": "llm_inference_gpu_index", "gpu_uuid": "hw_id", "gpu_model": "hw_model",
	"UUID": "hw_id", "modelName": "hw_model", "device": "hw_name", "DCGM_FI_DRIVER_VERSION": "hw_driver_version",
	"pci_bus_id": "llm_inference_gpu_pci_bus_id", "Hostname": "host_name", "pod_uid": "k8s_pod_uid",
}

const prom3OTLPConfig = `global: {scrape_interval: 1s}
otlp:
  promote_resource_attributes: [k8s.namespace.name, k8s.pod.name, k8s.node.name, llm_inference.workload.name, llm_inference.backend, llm_inference.role]
`

// TestOpenTelemetrySchemaInPrometheus3: one collector scrapes vLLM, SGLang and dcgm-exporter
// once and ships each scrape twice to a Prometheus 3: over remote write with schema: prometheus,
// and over OTLP/HTTP (the collector's sending queue on file_storage) with schema: opentelemetry
// into Prometheus' own OTLP receiver. Every remote-write series (each histogram bucket
// included) must have its OpenTelemetry twin under the expected name and labels, with the same
// value at the same timestamp (dcgm units scaled as documented), and nothing else may arrive.
func TestOpenTelemetrySchemaInPrometheus3(t *testing.T) {
	bin := harness.RequireE2E(t)
	_, receiver := otlpFleet(t)
	prom := harness.StartPrometheus3(t, prom3OTLPConfig)
	harness.StartCollector(t, bin, receiver+fmt.Sprintf(`processors:
  llminference: {}
  llminference/otel: {schema: opentelemetry}
exporters:
  llminference_remote_write:
    endpoint: %s
    queue: {directory: %q, flush_interval: 200ms}
  otlp_http:
    endpoint: %s/api/v1/otlp
    sending_queue: {enabled: true, storage: file_storage, num_consumers: 1, batch: {flush_timeout: 200ms, sizer: items, min_size: 8192}}
    retry_on_failure: {enabled: true, initial_interval: 100ms, max_interval: 1s, max_elapsed_time: 0s}
extensions:
  file_storage: {directory: %q}
service:
  extensions: [file_storage]
  telemetry: {metrics: {level: none}}
  pipelines:
    metrics/prometheus: {receivers: [llminference], processors: [llminference], exporters: [llminference_remote_write]}
    metrics/opentelemetry: {receivers: [llminference], processors: [llminference/otel], exporters: [otlp_http]}
`, prom.WriteURL(), t.TempDir(), prom.URL, t.TempDir()))

	ctx := context.Background()
	require.Eventually(t, func() bool {
		n, err := prom.Query(ctx, `min(count_over_time(llm_inference_requests_running[20s])) >= 10 and min(count_over_time(llm_inference_request_running[20s])) >= 10 and count(hw_gpu_utilization_ratio) >= 3`)
		return err == nil && len(n) == 1
	}, 90*time.Second, 500*time.Millisecond, "both pipelines delivered 10 scrapes")
	at := time.Now().Add(-2 * time.Second) // both pipelines have flushed what is before

	// Both pipelines land in the same Prometheus, some names alike: the remote-write series carry
	// node, the OTLP ones k8s_node_name.
	rw, err := prom.QueryRaw(ctx, `{__name__=~"llm_inference_.+|DCGM_.+", node!=""}[15s]`, at)
	require.NoError(t, err)
	otlp, err := prom.QueryRaw(ctx, `{__name__!="target_info", k8s_node_name!=""}[15s]`, at)
	require.NoError(t, err)
	have := map[string][]harness.Point{} // name{labels} -> samples
	for _, s := range otlp {
		assert.Equal(t, "llminference", s.Labels["job"], s.Labels["__name__"])
		have[seriesID(s.Labels)] = s.Samples
	}

	compared, names := 0, map[string]bool{}
	want := map[string]bool{}
	for _, s := range rw {
		name := s.Labels["__name__"]
		oname, scale, set := otlpTwin(name)
		names[name] = true
		lbls := map[string]string{"__name__": oname}
		for k, v := range s.Labels {
			if k == "__name__" {
				continue
			}
			if n, ok := otlpLabels[k]; ok {
				k = n
			}
			lbls[k] = v
		}
		for k, v := range set {
			lbls[k] = v
		}
		id := seriesID(lbls)
		want[id] = true
		h, ok := have[id]
		if !assert.True(t, ok, "%s did not arrive over OTLP (from %s)", id, name) {
			continue
		}
		byTime := map[float64]float64{}
		for _, p := range h {
			byTime[p.Time] = p.Value
		}
		for _, p := range s.Samples {
			v, ok := byTime[p.Time]
			if !assert.True(t, ok, "%s: the sample at %.3f did not arrive over OTLP", id, p.Time) {
				continue
			}
			w := p.Value * scale
			if !(v == w || math.Abs(v-w) <= 1e-12*math.Abs(w) || (math.IsNaN(v) && math.IsNaN(w))) {
				t.Errorf("%s at %.3f: OTLP %v, remote write %v x %v = %v", id, p.Time, v, p.Value, scale, w)
			}
			compared++
		}
	}
	// Nothing arrives over OTLP that the remote-write pipeline did not send.
	for id := range have {
		assert.True(t, want[id], "%s arrived over OTLP with no remote-write twin", id)
	}
	// The unified metrics of the three pods and the dcgm fields were among those compared.
	for _, must := range []string{"llm_inference_time_to_first_token_seconds_bucket", "llm_inference_e2e_request_latency_seconds_bucket",
		"llm_inference_inter_token_latency_seconds_bucket", "llm_inference_prompt_tokens_total", "llm_inference_requests_running",
		"llm_inference_kv_cache_usage_ratio", "llm_inference_lora_adapter_info", "llm_inference_pod_gpu_info",
		"DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "DCGM_FI_DEV_POWER_USAGE"} {
		assert.True(t, names[must], "%s was compared", must)
	}
	t.Logf("compared %d samples of %d series (%d names) with their OpenTelemetry twins in Prometheus 3", compared, len(want), len(names))
	assert.Greater(t, compared, 2000)
}

// seriesID renders a Prometheus series as name{labels} without job and instance (each pipeline
// names them its way), le in one spelling and empty labels dropped.
func seriesID(l map[string]string) string {
	parts := make([]string, 0, len(l))
	for k, v := range l {
		switch {
		case k == "__name__" || k == "job" || k == "instance" || v == "":
			continue
		case k == "le":
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				v = formatLe(f)
			}
		}
		parts = append(parts, k+"="+v)
	}
	sort.Strings(parts)
	return l["__name__"] + "{" + strings.Join(parts, ",") + "}"
}

// otlpTwin returns where the OpenTelemetry form of remote-write series name lands in
// Prometheus 3, the scale of its values and the attributes it gains. dcgm fields without a
// convention or a name of ours keep their DCGM name.
func otlpTwin(name string) (string, float64, map[string]string) {
	if g, ok := otlpGPUNames[name]; ok {
		return g.name, g.scale, g.set
	}
	if n, ok := otlpPromNames[name]; ok {
		return n, 1, nil
	}
	for _, sfx := range []string{"_bucket", "_sum", "_count"} {
		if n, ok := otlpPromNames[strings.TrimSuffix(name, sfx)]; ok && strings.HasSuffix(name, sfx) {
			return n + sfx, 1, nil
		}
	}
	return name, 1, nil
}

// TestOTLPRoundTripToASecondCollector: the collector's opentelemetry schema over OTLP/gRPC to a
// second collector process (our binary: otlp receiver -> file exporter). What the second one
// writes must be exactly what the first one sent, as its own file exporter recorded it: every
// data point's resource, attributes, value, timestamp, start time, type, temporality and
// monotonicity. Counters and histograms keep their start time from scrape to scrape.
func TestOTLPRoundTripToASecondCollector(t *testing.T) {
	bin := harness.RequireE2E(t)
	_, receiver := otlpFleet(t)
	dir := t.TempDir()
	sent, received := filepath.Join(dir, "sent.json"), filepath.Join(dir, "received.json")
	grpcAddr := "127.0.0.1:" + strconv.Itoa(harness.FreePort(t))
	harness.StartCollector(t, bin, fmt.Sprintf(`receivers:
  otlp:
    protocols:
      grpc: {endpoint: %q}
exporters:
  file: {path: %q, flush_interval: 100ms}
service:
  telemetry: {metrics: {level: none}}
  pipelines:
    metrics: {receivers: [otlp], exporters: [file]}
`, grpcAddr, received))
	harness.StartCollector(t, bin, receiver+fmt.Sprintf(`processors:
  llminference: {schema: opentelemetry}
exporters:
  otlp_grpc:
    endpoint: %q
    tls: {insecure: true}
    sending_queue: {enabled: true, storage: file_storage, num_consumers: 1}
    retry_on_failure: {enabled: true, initial_interval: 100ms, max_interval: 1s, max_elapsed_time: 0s}
  file: {path: %q, flush_interval: 100ms}
extensions:
  file_storage: {directory: %q}
service:
  extensions: [file_storage]
  telemetry: {metrics: {level: none}}
  pipelines:
    metrics: {receivers: [llminference], processors: [llminference], exporters: [otlp_grpc, file]}
`, grpcAddr, sent, t.TempDir()))

	// Ten scrapes of every target sent, and the second collector caught up with the first.
	var want, got map[string]dpRecord
	require.Eventually(t, func() bool {
		want, got = readPoints(t, sent), readPoints(t, received)
		scrapes := 0
		for _, r := range want {
			if r.metric == "llm_inference.target.up" {
				scrapes++
			}
		}
		if scrapes < 40 {
			return false
		}
		for k := range want {
			if _, ok := got[k]; !ok {
				return false
			}
		}
		return true
	}, 60*time.Second, 500*time.Millisecond, "the second collector received every data point the first one sent")
	want = readPoints(t, sent) // what was sent by the time the comparison is made
	mismatch := 0
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			continue // sent after the last read of received
		}
		if g != w && mismatch < 10 {
			mismatch++
			t.Errorf("%s:\n sent     %+v\n received %+v", k, w, g)
		}
	}
	assert.GreaterOrEqual(t, len(got), 1000)

	// The instruments: counters cumulative and monotonic, histograms cumulative, start times
	// set and the same for every point of a series.
	starts := map[string]uint64{}
	kinds := map[string]int{}
	for k, r := range got {
		kinds[r.kind]++
		switch {
		case r.kind == "sum" && !r.monotonic:
			// An UpDownCounter from a scraped gauge: the source says nothing of when it started.
			assert.Equal(t, "cumulative", r.temporality, k)
		case r.kind == "sum", r.kind == "histogram":
			assert.Equal(t, "cumulative", r.temporality, k)
			assert.NotZero(t, r.start, "%s has a start time", k)
			assert.LessOrEqual(t, r.start, r.ts, k)
			series := k[:strings.LastIndexByte(k, '@')]
			if s, ok := starts[series]; ok && r.metric != "hw.energy" {
				assert.Equal(t, s, r.start, "%s keeps its start time", series)
			}
			starts[series] = r.start
		}
		switch r.metric {
		case "llm_inference.usage.input_tokens", "llm_inference.requests", "hw.energy":
			assert.Equal(t, "sum", r.kind, k)
			assert.True(t, r.monotonic, "%s is monotonic", k)
		case "llm_inference.request.running", "hw.gpu.memory.usage":
			assert.Equal(t, "sum", r.kind, k)
			assert.False(t, r.monotonic, "%s is an UpDownCounter", k)
		case "gen_ai.server.time_to_first_token":
			assert.Equal(t, "histogram", r.kind, k)
			assert.Equal(t, "s", r.unit, k)
		}
	}
	t.Logf("%d data points received as sent (%v)", len(got), kinds)
	assert.Positive(t, kinds["histogram"])
}

// dpRecord is one data point as a file exporter wrote it, everything the round trip must keep.
type dpRecord struct {
	metric, unit, kind, temporality string
	monotonic                       bool
	start, ts                       uint64
	value                           string
}

// readPoints reads a file exporter's JSON lines into data points keyed by resource, metric,
// attributes and timestamp.
func readPoints(t *testing.T, path string) map[string]dpRecord {
	out := map[string]dpRecord{}
	f, err := os.Open(path)
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var um pmetric.JSONUnmarshaler
	for sc.Scan() {
		md, err := um.UnmarshalMetrics(sc.Bytes())
		if err != nil {
			continue // a line being written
		}
		rms := md.ResourceMetrics()
		for i := 0; i < rms.Len(); i++ {
			res := attrString(rms.At(i).Resource().Attributes())
			sms := rms.At(i).ScopeMetrics()
			for j := 0; j < sms.Len(); j++ {
				ms := sms.At(j).Metrics()
				for k := 0; k < ms.Len(); k++ {
					addPoints(out, res, ms.At(k))
				}
			}
		}
	}
	return out
}

func addPoints(out map[string]dpRecord, res string, m pmetric.Metric) {
	base := dpRecord{metric: m.Name(), unit: m.Unit(), kind: strings.ToLower(m.Type().String())}
	add := func(attrs pcommon.Map, start, ts pcommon.Timestamp, value string) {
		r := base
		r.start, r.ts, r.value = uint64(start), uint64(ts), value
		out[res+"|"+m.Name()+"|"+attrString(attrs)+"@"+strconv.FormatUint(uint64(ts), 10)] = r
	}
	num := func(dp pmetric.NumberDataPoint) string {
		if dp.ValueType() == pmetric.NumberDataPointValueTypeInt {
			return strconv.FormatInt(dp.IntValue(), 10)
		}
		return strconv.FormatFloat(dp.DoubleValue(), 'g', -1, 64) + fmt.Sprintf(" flags=%d", dp.Flags())
	}
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		for i := 0; i < m.Gauge().DataPoints().Len(); i++ {
			dp := m.Gauge().DataPoints().At(i)
			add(dp.Attributes(), dp.StartTimestamp(), dp.Timestamp(), num(dp))
		}
	case pmetric.MetricTypeSum:
		base.temporality = strings.ToLower(m.Sum().AggregationTemporality().String())
		base.monotonic = m.Sum().IsMonotonic()
		for i := 0; i < m.Sum().DataPoints().Len(); i++ {
			dp := m.Sum().DataPoints().At(i)
			add(dp.Attributes(), dp.StartTimestamp(), dp.Timestamp(), num(dp))
		}
	case pmetric.MetricTypeHistogram:
		base.temporality = strings.ToLower(m.Histogram().AggregationTemporality().String())
		for i := 0; i < m.Histogram().DataPoints().Len(); i++ {
			dp := m.Histogram().DataPoints().At(i)
			add(dp.Attributes(), dp.StartTimestamp(), dp.Timestamp(),
				fmt.Sprintf("count=%d sum=%g bounds=%v counts=%v flags=%d", dp.Count(), dp.Sum(), dp.ExplicitBounds().AsRaw(), dp.BucketCounts().AsRaw(), dp.Flags()))
		}
	}
}

func attrString(a pcommon.Map) string {
	parts := make([]string, 0, a.Len())
	a.Range(func(k string, v pcommon.Value) bool {
		parts = append(parts, k+"="+v.AsString())
		return true
	})
	sort.Strings(parts)
	return strings.Join(parts, ",")
}
