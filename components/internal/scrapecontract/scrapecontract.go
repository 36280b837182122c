// Package scrapecontract is what the llminference receiver hands the llminference processor: the
// resource attributes that say which target a scrape came from, the kinds of target, the
// receiver's own per-target metrics, and how a stale marker is flagged. Both components import
// it, so a name can change in one place only.
package scrapecontract

import (
	"net"
	"net/url"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// Target kinds, the value of resource attribute AttrTargetKind.
const (
	// KindInference is an inference engine's pod (or a static endpoint standing for one).
	KindInference = "inference"
	// KindGPUExporter is the node's dcgm-exporter.
	KindGPUExporter = "gpu_exporter"
)

// Resource attributes set on every scrape's resource.
const (
	AttrTargetKind    = "llm.target.kind"
	AttrNamespace     = "k8s.namespace.name"
	AttrPodName       = "k8s.pod.name"
	AttrPodUID        = "k8s.pod.uid"
	AttrNodeName      = "k8s.node.name"
	AttrContainerName = "k8s.container.name"
	AttrWorkload      = "llm.workload.name"
	AttrBackend       = "llm.backend"
	// AttrModel is the model a pod serves, from its pod label (the receiver's model_label), for
	// engines that name no model in their metrics.
	AttrModel = "llm.model.name"
	// AttrRole is the pod's role as its labels state it (the receiver's role_labels: prefill,
	// decode, router, ...), as found; the processor normalises it, or finds it in the engine's
	// own metrics when the pod says nothing.
	AttrRole          = "llm.inference.role"
	AttrAccessName    = "llm.access_name"
	AttrServerAddress = "server.address"
	AttrServerPort    = "server.port"
	// AttrServiceName and AttrServiceInstance become job and instance after remote write, as a
	// Prometheus scrape would label them.
	AttrServiceName     = "service.name"
	AttrServiceInstance = "service.instance.id"
)

// ServiceName is the value of AttrServiceName (the job label).
const ServiceName = "llminference"

// BackendUnknown is the backend of a target whose pod has no backend label; the processor then
// recognises the engine by its metric names.
const BackendUnknown = "unknown"

// The receiver's own metrics, one series per target, added to every scrape.
const (
	// SelfMetricPrefix starts every metric of the unified schema, the receiver's included; the
	// processor forwards metrics with this prefix as they are.
	SelfMetricPrefix = "llm_inference_"
	// MetricUp is 1 when the last scrape succeeded, else 0; its stale marker means the target
	// went away (the processor then forgets the pod).
	MetricUp             = "llm_inference_target_up"
	MetricScrapeDuration = "llm_inference_scrape_duration_seconds"
	MetricScrapeSamples  = "llm_inference_scrape_samples"
)

// IsSelfMetric tells the receiver's per-target metrics (up, scrape duration, samples).
func IsSelfMetric(name string) bool {
	return name == MetricUp || strings.HasPrefix(name, "llm_inference_scrape_")
}

// StaleFlags flag a data point as a stale marker: the series ended (the exporter writes
// Prometheus' staleness NaN).
var StaleFlags = pmetric.DefaultDataPointFlags.WithNoRecordedValue(true)

// Target is the identity a target's scrapes are reported under.
type Target struct {
	Kind      string
	Namespace string
	Pod       string
	PodUID    string
	Node      string
	Container string
	Workload  string
	Backend   string
	Model     string
	Role      string
}

// PutResource writes the target's identity, and the address of scrapeURL, into attrs. Empty
// identity fields are left out.
func (t *Target) PutResource(attrs pcommon.Map, scrapeURL, accessName string) {
	putIf := func(k, v string) {
		if v != "" {
			attrs.PutStr(k, v)
		}
	}
	attrs.PutStr(AttrTargetKind, t.Kind)
	putIf(AttrNamespace, t.Namespace)
	putIf(AttrPodName, t.Pod)
	putIf(AttrPodUID, t.PodUID)
	putIf(AttrNodeName, t.Node)
	putIf(AttrContainerName, t.Container)
	putIf(AttrWorkload, t.Workload)
	putIf(AttrBackend, t.Backend)
	putIf(AttrModel, t.Model)
	putIf(AttrRole, t.Role)
	putIf(AttrAccessName, accessName)
	u, err := url.Parse(scrapeURL)
	if err != nil {
		return
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	attrs.PutStr(AttrServerAddress, host)
	if p, err := strconv.Atoi(port); err == nil {
		attrs.PutInt(AttrServerPort, int64(p))
	}
	attrs.PutStr(AttrServiceName, ServiceName)
	attrs.PutStr(AttrServiceInstance, net.JoinHostPort(host, port))
}

// Self-metric descriptions.
const (
	descUp       = "1 if the last scrape of the target succeeded, else 0."
	descDuration = "Duration of the last scrape of the target, in seconds."
	descSamples  = "Samples in the last successful scrape of the target (0 when it failed)."
)

// AppendSelfMetrics appends the receiver's per-target metrics of one scrape to ms.
func AppendSelfMetrics(ms pmetric.MetricSlice, ts pcommon.Timestamp, up bool, durationSeconds float64, samples int) {
	v := 0.0
	if up {
		v = 1
	}
	appendGauge(ms, MetricUp, descUp, ts, v, false)
	appendGauge(ms, MetricScrapeDuration, descDuration, ts, durationSeconds, false)
	appendGauge(ms, MetricScrapeSamples, descSamples, ts, float64(samples), false)
}

// AppendSelfMetricsStale appends a stale marker for each of the receiver's per-target metrics
// (the target went away) and returns how many.
func AppendSelfMetricsStale(ms pmetric.MetricSlice, ts pcommon.Timestamp) int {
	for _, name := range []string{MetricUp, MetricScrapeDuration, MetricScrapeSamples} {
		appendGauge(ms, name, "", ts, 0, true)
	}
	return 3
}

func appendGauge(ms pmetric.MetricSlice, name, desc string, ts pcommon.Timestamp, v float64, stale bool) {
	m := ms.AppendEmpty()
	m.SetName(name)
	m.SetDescription(desc)
	dp := m.SetEmptyGauge().DataPoints().AppendEmpty()
	dp.SetTimestamp(ts)
	if stale {
		dp.SetFlags(StaleFlags)
		return
	}
	dp.SetDoubleValue(v)
}
