package llminferenceprocessor

import (
	"sort"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otelcol-llminference/otelcol-llminference/components/internal/scrapecontract"
)

const metricPodGPUInfo = "llm_inference_pod_gpu_info"

// dcgm-exporter label names; the exported_ forms appear when a Prometheus scrape renamed the
// exporter's own pod labels (honor_labels off) before the data reached us.
var (
	dcgmNamespace = []string{"namespace", "exported_namespace", "pod_namespace"}
	dcgmPod       = []string{"pod", "exported_pod", "pod_name"}
	dcgmContainer = []string{"container", "exported_container", "container_name"}
	dcgmUUID      = []string{"UUID", "uuid"}
)

// first returns the first of keys present in a, and which key it was.
func first(a pcommon.Map, keys []string) (string, string) {
	for _, k := range keys {
		if v, ok := a.Get(k); ok && v.Str() != "" {
			return v.Str(), k
		}
	}
	return "", ""
}

// processGPU records which pod uses which GPU, labels the DCGM series of inference pods' GPUs with
// the pod's workload, model and backend, and drops other GPUs' series unless keep_unassigned_gpus.
func (p *llmProcessor) processGPU(rm pmetric.ResourceMetrics, now time.Time) {
	res := rm.Resource().Attributes()
	res.PutStr(lblNode, str(res, scrapecontract.AttrNodeName))
	sms := rm.ScopeMetrics()
	for i := 0; i < sms.Len(); i++ {
		sms.At(i).Metrics().RemoveIf(func(m pmetric.Metric) bool {
			if !strings.HasPrefix(m.Name(), "DCGM_") {
				return false
			}
			var dps pmetric.NumberDataPointSlice
			switch m.Type() {
			case pmetric.MetricTypeGauge:
				dps = m.Gauge().DataPoints()
			case pmetric.MetricTypeSum:
				dps = m.Sum().DataPoints()
			default:
				return false
			}
			dps.RemoveIf(func(dp pmetric.NumberDataPoint) bool { return !p.joinGPU(dp.Attributes(), now) })
			return dps.Len() == 0
		})
	}
}

// joinGPU handles one DCGM data point's labels; false means drop it.
func (p *llmProcessor) joinGPU(a pcommon.Map, now time.Time) bool {
	ns, nsKey := first(a, dcgmNamespace)
	pod, podKeyName := first(a, dcgmPod)
	uuid, _ := first(a, dcgmUUID)
	if pod != "" && uuid != "" {
		p.link(podKey{ns, pod}, uuid, str(a, "gpu"), str(a, "modelName"), now)
	}
	st := p.pods[podKey{ns, pod}]
	if pod == "" || st == nil {
		return p.cfg.GPU.KeepUnassignedGPUs
	}
	// Room for the labels added below at once: one allocation per point, not one per label.
	a.EnsureCapacity(a.Len() + 6)
	// Normalise the identity labels to the unified names.
	if nsKey != "namespace" {
		a.Remove(nsKey)
		a.PutStr("namespace", ns)
	}
	if podKeyName != "pod" {
		a.Remove(podKeyName)
		a.PutStr("pod", pod)
	}
	if c, k := first(a, dcgmContainer); k != "" && k != "container" {
		a.Remove(k)
		a.PutStr("container", c)
	}
	a.PutStr(lblWorkload, st.workload)
	a.PutStr(lblBackend, st.backend)
	a.PutStr(lblRole, st.role)
	if st.model != "" {
		a.PutStr(lblModel, st.model)
	}
	return true
}

func (p *llmProcessor) link(k podKey, uuid, index, model string, now time.Time) {
	gpus := p.links[k]
	if gpus == nil {
		gpus = map[string]*gpuLink{}
		p.links[k] = gpus
	}
	l := gpus[uuid]
	if l == nil {
		l = &gpuLink{uuid: uuid}
		gpus[uuid] = l
	}
	l.index, l.model, l.seen = index, model, now
}

// podGPUInfo appends llm_inference_pod_gpu_info for the pod's current GPUs (stale markers for
// GPUs no longer linked, or all of them when the target is gone) and sets the resource's gpu.uuid.
func (p *llmProcessor) podGPUInfo(ms pmetric.MetricSlice, res pcommon.Map, k podKey, st *podState, ts pcommon.Timestamp, gone bool, now time.Time) {
	current := map[string]gpuLink{}
	if !gone {
		for uuid, l := range p.links[k] {
			if now.Sub(l.seen) <= p.cfg.GPU.TTL {
				current[uuid] = *l
			}
		}
	}
	if len(current) == 0 && len(st.gpus) == 0 {
		return
	}
	m := ms.AppendEmpty()
	m.SetName(metricPodGPUInfo)
	m.SetDescription("1 for each GPU the inference pod uses (from dcgm-exporter's pod mapping).")
	dps := m.SetEmptyGauge().DataPoints()
	add := func(l gpuLink, stale bool) {
		dp := dps.AppendEmpty()
		a := dp.Attributes()
		a.PutStr("gpu", l.index)
		a.PutStr("gpu_uuid", l.uuid)
		a.PutStr("gpu_model", l.model)
		if st.model != "" {
			a.PutStr(lblModel, st.model)
		}
		dp.SetTimestamp(ts)
		if stale {
			dp.SetFlags(scrapecontract.StaleFlags)
		} else {
			dp.SetDoubleValue(1)
		}
	}
	uuids := make([]string, 0, len(current))
	for uuid, l := range current {
		add(l, false)
		uuids = append(uuids, uuid)
	}
	for uuid, l := range st.gpus {
		if _, ok := current[uuid]; !ok {
			add(l, true)
		}
	}
	st.gpus = current
	if len(uuids) > 0 {
		sort.Strings(uuids)
		s := res.PutEmptySlice(attrGPUUUIDs)
		for _, u := range uuids {
			s.AppendEmpty().SetStr(u)
		}
	}
}

// expire forgets GPU links and inference pods not seen within the TTL.
func (p *llmProcessor) expire(now time.Time) {
	ttl := p.cfg.GPU.TTL
	for k, gpus := range p.links {
		for uuid, l := range gpus {
			if now.Sub(l.seen) > ttl {
				delete(gpus, uuid)
			}
		}
		if len(gpus) == 0 {
			delete(p.links, k)
		}
	}
	for k, st := range p.pods {
		if now.Sub(st.seen) > ttl {
			delete(p.pods, k)
		}
	}
}
