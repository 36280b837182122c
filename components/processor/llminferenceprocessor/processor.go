// Package llminferenceprocessor maps every inference engine's metrics, in every generation of
// their names, onto one schema (llm_inference_*), and joins dcgm-exporter's GPU series to the
// inference pods that use those GPUs.
package llminferenceprocessor

import (
	"context"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.uber.org/zap"

	"github.com/otelcol-llminference/otelcol-llminference/components/processor/llminferenceprocessor/mapping"
	"github.com/otelcol-llminference/otelcol-llminference/components/processor/llminferenceprocessor/otelschema"

	"github.com/otelcol-llminference/otelcol-llminference/components/internal/scrapecontract"
)

// Labels of the unified schema. The pod identity goes on the resource (one write per scrape, not
// per data point); the exporter's resource_labels turns it into labels.
const (
	lblNamespace = "namespace"
	lblPod       = "pod"
	lblNode      = "node"
	lblWorkload  = "workload_name"
	lblBackend   = "backend"
	lblModel     = "model_name"

	attrGPUUUIDs = "gpu.uuid"
)

type llmProcessor struct {
	cfg    *Config
	logger *zap.Logger
	schema *schema
	otel   *otelschema.Translator // schema: opentelemetry
	now    func() time.Time

	mu         sync.Mutex
	pods       map[podKey]*podState
	links      map[podKey]map[string]*gpuLink // pod -> GPU UUID -> link
	lastExpire time.Time
	// scratch, reused under mu
	cands   []candidate
	best    map[string]int
	firstOf map[string]int
	actions []action
}

// action is what mapMetrics does with one source metric of a scrape.
type action int8

const (
	actionDrop    action = iota // an engine metric no rule maps (unless keep_original_metrics)
	actionKeep                  // forwarded as it is (self-metrics, keep_original_metrics)
	actionRename                // renamed in place by its first rule
	actionApplied               // actionRename, done
)

type podKey struct{ namespace, pod string }

// podState is what the processor remembers of an inference pod between scrapes.
type podState struct {
	workload, backend, model, node string
	role                           string // inference_role
	// engineRole is what the engine's own metrics say of the role (engine.roleOf), found
	// once, from the first scrape that succeeded: it does not change while the pod lives.
	engineRole      string
	engineRoleKnown bool
	seen            time.Time
	gpus            map[string]gpuLink // GPUs announced by llm_inference_pod_gpu_info
	lora            map[[2]string]bool // adapter/state series emitted
	// spellings maps a lower-cased model name to the spelling reported for it (engines that
	// lower-case the model in some series: Dynamo).
	spellings map[string]string
}

type gpuLink struct {
	index, uuid, model string
	seen               time.Time
}

type candidate struct {
	idx  int
	rule *rule
}

func newProcessor(cfg *Config, logger *zap.Logger) (*llmProcessor, error) {
	tables, err := mapping.Builtin()
	if err != nil {
		return nil, err
	}
	sch, err := compile(append(tables, cfg.ExtraMappings...))
	if err != nil {
		return nil, err
	}
	return &llmProcessor{
		cfg:     cfg,
		logger:  logger,
		schema:  sch,
		otel:    otelschema.NewTranslator(),
		now:     time.Now,
		pods:    map[podKey]*podState{},
		links:   map[podKey]map[string]*gpuLink{},
		best:    map[string]int{},
		firstOf: map[string]int{},
	}, nil
}

func (p *llmProcessor) processMetrics(_ context.Context, md pmetric.Metrics) (pmetric.Metrics, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	rms := md.ResourceMetrics()
	// Inference pods first, so a GPU scrape in the same batch already knows them.
	for i := 0; i < rms.Len(); i++ {
		if kind(rms.At(i)) == scrapecontract.KindInference {
			p.processInference(rms.At(i), now)
		}
	}
	for i := 0; i < rms.Len(); i++ {
		if kind(rms.At(i)) == scrapecontract.KindGPUExporter && p.cfg.GPU.Join {
			p.processGPU(rms.At(i), now)
		}
	}
	if p.cfg.Schema == SchemaOpenTelemetry {
		// Last, so that the GPU join and the pods' state work on the unified names.
		for i := 0; i < rms.Len(); i++ {
			switch rm := rms.At(i); kind(rm) {
			case scrapecontract.KindInference:
				p.otel.Inference(rm, str(rm.Resource().Attributes(), lblBackend))
			case scrapecontract.KindGPUExporter:
				p.otel.GPU(rm)
			}
		}
	}
	if now.Sub(p.lastExpire) >= time.Second {
		p.expire(now)
		p.lastExpire = now
	}
	rms.RemoveIf(func(rm pmetric.ResourceMetrics) bool {
		rm.ScopeMetrics().RemoveIf(func(sm pmetric.ScopeMetrics) bool { return sm.Metrics().Len() == 0 })
		return rm.ScopeMetrics().Len() == 0
	})
	return md, nil
}

func kind(rm pmetric.ResourceMetrics) string {
	v, _ := rm.Resource().Attributes().Get(scrapecontract.AttrTargetKind)
	return v.Str()
}

func str(m pcommon.Map, k string) string {
	v, _ := m.Get(k)
	return v.Str()
}

// processInference maps one inference pod's scrape onto the unified schema.
func (p *llmProcessor) processInference(rm pmetric.ResourceMetrics, now time.Time) {
	res := rm.Resource().Attributes()
	key := podKey{str(res, scrapecontract.AttrNamespace), str(res, scrapecontract.AttrPodName)}
	backend := str(res, scrapecontract.AttrBackend)
	res.PutStr(lblNamespace, key.namespace)
	res.PutStr(lblPod, key.pod)
	res.PutStr(lblNode, str(res, scrapecontract.AttrNodeName))
	res.PutStr(lblWorkload, str(res, scrapecontract.AttrWorkload))
	res.PutStr(lblBackend, backend)

	st := p.pods[key]
	if st == nil {
		st = &podState{}
		p.pods[key] = st
	}
	st.workload, st.backend, st.node, st.seen = str(res, scrapecontract.AttrWorkload), backend, str(res, scrapecontract.AttrNodeName), now

	// The role: the pod's labels win over what the engine's metrics say; neither: aggregated.
	podRole := normRole(str(res, scrapecontract.AttrRole))

	gone := false
	var ts pcommon.Timestamp
	sms := rm.ScopeMetrics()
	for i := 0; i < sms.Len(); i++ {
		ms := sms.At(i).Metrics()
		e := p.schema.engineFor(backend, ms)
		if podRole == "" && e != nil && !st.engineRoleKnown {
			// A failed scrape has no engine metrics to say anything: ask again next time.
			if r := e.roleOf(ms); r != "" || scrapeSucceeded(ms) {
				st.engineRole, st.engineRoleKnown = r, true
			}
		}
		switch {
		case e != nil && e.modelNone:
			// The engine names no model: the pod's model label, else its workload.
			st.model = str(res, scrapecontract.AttrModel)
			if st.model == "" {
				st.model = st.workload
			}
		case e != nil && e.modelLabel != "":
			st.learnSpellings(ms, e.modelLabel)
			if model := firstValue(ms, e.modelLabel); model != "" {
				st.model = st.spelling(model)
			} else if model := firstValue(ms, lblModel); model != "" {
				st.model = model // a worker's passed-through engine metrics
			}
		default:
			if model := firstValue(ms, lblModel); model != "" {
				st.model = model
			}
		}
		if g, t := targetGone(ms); g {
			gone, ts = true, t
		} else if t != 0 {
			ts = t
		}
		if e != nil {
			p.mapMetrics(ms, e, st)
		}
		addModel(ms, st.model)
	}
	switch {
	case podRole != "":
		st.role = podRole
	case st.engineRole != "":
		st.role = st.engineRole
	default:
		st.role = roleBoth
	}
	res.PutStr(lblRole, st.role)
	if ts == 0 {
		ts = pcommon.NewTimestampFromTime(now)
	}
	if sms.Len() > 0 {
		p.podGPUInfo(sms.At(0).Metrics(), res, key, st, ts, gone, now)
	}
	if gone {
		delete(p.pods, key)
	}
}

// mapMetrics renames mapped metrics in place (their data points, start times, flags and buckets
// stay as they are: no per-data-point work), copies when one source feeds several unified
// metrics or originals are kept, and drops unmapped engine metrics unless keep_original_metrics.
func (p *llmProcessor) mapMetrics(ms pmetric.MetricSlice, e *engine, st *podState) {
	n := ms.Len()
	p.cands = p.cands[:0]
	clear(p.best)
	for i := 0; i < n; i++ {
		m := ms.At(i)
		for _, r := range e.sources[m.Name()] {
			if r.mtype != m.Type() {
				continue
			}
			p.cands = append(p.cands, candidate{i, r})
			if b, ok := p.best[r.Unified]; !ok || r.priority > b {
				p.best[r.Unified] = r.priority
			}
		}
	}
	p.actions = p.actions[:0]
	for i := 0; i < n; i++ {
		a := actionDrop
		if p.cfg.KeepOriginalMetrics || strings.HasPrefix(ms.At(i).Name(), scrapecontract.SelfMetricPrefix) {
			a = actionKeep
		}
		p.actions = append(p.actions, a)
	}
	// Copies first, from the untouched originals; then in-place renames.
	for _, c := range p.cands {
		if c.rule.priority < p.best[c.rule.Unified] {
			continue // an older generation's name, while the current one is present
		}
		if p.actions[c.idx] == actionDrop {
			p.actions[c.idx] = actionRename // the first rule of a dropped source reuses it
			continue
		}
		dst := ms.AppendEmpty()
		ms.At(c.idx).CopyTo(dst)
		p.apply(dst, c.rule, e, st)
	}
	for _, c := range p.cands {
		if p.actions[c.idx] == actionRename && c.rule.priority >= p.best[c.rule.Unified] {
			p.apply(ms.At(c.idx), c.rule, e, st)
			p.actions[c.idx] = actionApplied
		}
	}
	i := 0
	ms.RemoveIf(func(m pmetric.Metric) bool {
		// A match that selected no data point leaves an empty metric: it says nothing.
		drop := (i < n && p.actions[i] == actionDrop) || dataPoints(m) == 0
		i++
		return drop
	})
	p.mergeSameName(ms)
}

// mergeSameName moves the data points of unified metrics that several sources feed (SGLang's
// finished and aborted request counters) into one metric of that name.
func (p *llmProcessor) mergeSameName(ms pmetric.MetricSlice) {
	clear(p.firstOf)
	merged := false
	for i := 0; i < ms.Len(); i++ {
		m := ms.At(i)
		if _, unified := p.best[m.Name()]; !unified {
			continue
		}
		j, seen := p.firstOf[m.Name()]
		if !seen {
			p.firstOf[m.Name()] = i
			continue
		}
		dst := ms.At(j)
		if dst.Type() != m.Type() {
			continue
		}
		switch m.Type() {
		case pmetric.MetricTypeGauge:
			m.Gauge().DataPoints().MoveAndAppendTo(dst.Gauge().DataPoints())
		case pmetric.MetricTypeSum:
			m.Sum().DataPoints().MoveAndAppendTo(dst.Sum().DataPoints())
		case pmetric.MetricTypeHistogram:
			m.Histogram().DataPoints().MoveAndAppendTo(dst.Histogram().DataPoints())
		case pmetric.MetricTypeSummary:
			m.Summary().DataPoints().MoveAndAppendTo(dst.Summary().DataPoints())
		}
		merged = true
	}
	if merged {
		ms.RemoveIf(func(m pmetric.Metric) bool { return dataPoints(m) == 0 })
	}
}

func dataPoints(m pmetric.Metric) int {
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		return m.Gauge().DataPoints().Len()
	case pmetric.MetricTypeSum:
		return m.Sum().DataPoints().Len()
	case pmetric.MetricTypeHistogram:
		return m.Histogram().DataPoints().Len()
	case pmetric.MetricTypeSummary:
		return m.Summary().DataPoints().Len()
	}
	return 0
}

// apply turns m (a copy or the original) into the unified metric of rule r.
func (p *llmProcessor) apply(m pmetric.Metric, r *rule, e *engine, st *podState) {
	m.SetName(r.Unified)
	if r.perPoint || e.modelLabel != "" || e.modelNone {
		reshape(m, r, e, st)
	}
	if len(r.setAttrs) > 0 {
		otelschema.ForEachAttrs(m, func(a pcommon.Map) {
			for _, kv := range r.setAttrs {
				a.PutStr(kv[0], kv[1])
			}
		})
	}
	if r.Transform == mapping.TransformLoRAInfo {
		p.loraInfo(m, st)
	}
}

// firstValue returns the first value of label key in ms (engines put their model and role
// labels on every series).
func firstValue(ms pmetric.MetricSlice, key string) string {
	model := ""
	for i := 0; i < ms.Len() && model == ""; i++ {
		otelschema.ForEachAttrs(ms.At(i), func(a pcommon.Map) {
			if model == "" {
				model = str(a, key)
			}
		})
	}
	return model
}

// addModel labels the receiver's self-metrics with the pod's model, so they filter like the rest.
func addModel(ms pmetric.MetricSlice, model string) {
	if model == "" {
		return
	}
	for i := 0; i < ms.Len(); i++ {
		m := ms.At(i)
		if m.Type() != pmetric.MetricTypeGauge || !scrapecontract.IsSelfMetric(m.Name()) {
			continue
		}
		otelschema.ForEachAttrs(m, func(a pcommon.Map) {
			if _, ok := a.Get(lblModel); !ok {
				a.PutStr(lblModel, model)
			}
		})
	}
}

// targetGone reports whether ms carries the receiver's stale marker for the target's up metric
// (the target went away), and a timestamp of the scrape.
func targetGone(ms pmetric.MetricSlice) (bool, pcommon.Timestamp) {
	for i := 0; i < ms.Len(); i++ {
		m := ms.At(i)
		if m.Name() == scrapecontract.MetricUp && m.Type() == pmetric.MetricTypeGauge && m.Gauge().DataPoints().Len() > 0 {
			dp := m.Gauge().DataPoints().At(0)
			return dp.Flags().NoRecordedValue(), dp.Timestamp()
		}
	}
	return false, 0
}

// scrapeSucceeded reports whether ms carries the receiver's up metric at 1.
func scrapeSucceeded(ms pmetric.MetricSlice) bool {
	for i := 0; i < ms.Len(); i++ {
		m := ms.At(i)
		if m.Name() == scrapecontract.MetricUp && m.Type() == pmetric.MetricTypeGauge && m.Gauge().DataPoints().Len() > 0 {
			return m.Gauge().DataPoints().At(0).DoubleValue() == 1
		}
	}
	return false
}

// loraInfo replaces vLLM's lora_requests_info data points (comma-joined adapter lists, value a
// timestamp) with one series per adapter and state from the newest data point, value 1, and a
// stale marker for each adapter series that disappeared.
func (p *llmProcessor) loraInfo(m pmetric.Metric, st *podState) {
	dps := m.Gauge().DataPoints()
	newest := -1
	for i := 0; i < dps.Len(); i++ {
		if dps.At(i).Flags().NoRecordedValue() {
			continue
		}
		if newest < 0 || dps.At(i).DoubleValue() > dps.At(newest).DoubleValue() {
			newest = i
		}
	}
	var ts pcommon.Timestamp
	now := map[[2]string]bool{}
	if dps.Len() > 0 {
		ts = dps.At(0).Timestamp()
	}
	if newest >= 0 {
		a := dps.At(newest).Attributes()
		ts = dps.At(newest).Timestamp()
		for _, state := range []string{"running", "waiting"} {
			for _, ad := range strings.Split(str(a, state+"_lora_adapters"), ",") {
				if ad = strings.TrimSpace(ad); ad != "" {
					now[[2]string{ad, state}] = true
				}
			}
		}
	}
	dps.RemoveIf(func(pmetric.NumberDataPoint) bool { return true })
	emit := func(k [2]string, stale bool) {
		dp := dps.AppendEmpty()
		dp.Attributes().PutStr("adapter", k[0])
		dp.Attributes().PutStr("state", k[1])
		if st.model != "" {
			dp.Attributes().PutStr(lblModel, st.model)
		}
		dp.SetTimestamp(ts)
		if stale {
			dp.SetFlags(scrapecontract.StaleFlags)
		} else {
			dp.SetDoubleValue(1)
		}
	}
	for k := range st.lora {
		if !now[k] {
			emit(k, true)
		}
	}
	for k := range now {
		emit(k, false)
	}
	st.lora = now
}
