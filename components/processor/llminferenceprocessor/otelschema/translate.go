package otelschema

import (
	"sort"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// renames is a rename table as a slice: walking a few pairs per data point is cheaper than
// ranging over a map.
type renames [][2]string

func pairs(m map[string]string) renames {
	out := make(renames, 0, len(m))
	for k, v := range m {
		out = append(out, [2]string{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

var (
	commonPairs   = pairs(CommonAttributes)
	resourcePairs = pairs(Resource)
	gpuPairs      = pairs(GPUAttributes)
	metricPairs   = func() map[string]renames {
		out := map[string]renames{}
		for name, m := range Metrics {
			if len(m.Attributes) > 0 {
				out[name] = pairs(m.Attributes)
			}
		}
		return out
	}()
)

// Translator translates scrapes to the OpenTelemetry names. It is not safe for concurrent use
// (the processor calls it under its lock).
type Translator struct {
	// scratch holds a value while its key is renamed: moving values (no copy, no allocation)
	// instead of Remove and PutStr, which allocates per data point.
	scratch pcommon.Value
}

// NewTranslator returns a Translator.
func NewTranslator() *Translator { return &Translator{scratch: pcommon.NewValueEmpty()} }

// rename moves the values of the keys of rs to their new keys ("" removes them). The entry freed
// by the removal takes the new key, so the attributes never grow.
func (t *Translator) rename(a pcommon.Map, rs renames) {
	for _, r := range rs {
		v, ok := a.Get(r[0])
		if !ok {
			continue
		}
		if r[1] != "" {
			v.MoveTo(t.scratch)
		}
		a.Remove(r[0])
		if r[1] != "" {
			t.scratch.MoveTo(a.PutEmpty(r[1]))
		}
	}
}

// Inference translates one inference pod's resource and metrics (already on the unified
// schema) to their OpenTelemetry names. backend picks per-backend exceptions.
func (t *Translator) Inference(rm pmetric.ResourceMetrics, backend string) {
	t.rename(rm.Resource().Attributes(), resourcePairs)
	sms := rm.ScopeMetrics()
	for i := 0; i < sms.Len(); i++ {
		ms := sms.At(i).Metrics()
		for j := 0; j < ms.Len(); j++ {
			m := ms.At(j)
			name := m.Name()
			if !strings.HasPrefix(name, unifiedPrefix) {
				continue // an engine's own series (keep_original_metrics)
			}
			extra := metricPairs[name]
			ForEachAttrs(m, func(a pcommon.Map) {
				t.rename(a, commonPairs)
				t.rename(a, extra)
			})
			if om, ok := For(backend, name); ok {
				publish(m, om, 0)
			}
		}
	}
}

const unifiedPrefix = "llm_inference_"

// GPU translates a dcgm-exporter target's resource and series: fields with a convention or an
// llm_inference.gpu.* name are renamed, scaled to the convention's unit and given the
// attributes that tell them apart; the fields that then share a name (hw.gpu.utilization for
// general, encoder and decoder) become one metric.
func (t *Translator) GPU(rm pmetric.ResourceMetrics) {
	t.rename(rm.Resource().Attributes(), resourcePairs)
	sms := rm.ScopeMetrics()
	for i := 0; i < sms.Len(); i++ {
		ms := sms.At(i).Metrics()
		merge := false
		for j := 0; j < ms.Len(); j++ {
			m := ms.At(j)
			name := m.Name()
			if strings.HasPrefix(name, unifiedPrefix) {
				if om, ok := Metrics[name]; ok {
					publish(m, om, 0)
				}
				continue
			}
			if !strings.HasPrefix(name, "DCGM_") {
				continue
			}
			gm, known := GPUMetrics[name]
			ForEachAttrs(m, func(a pcommon.Map) {
				t.rename(a, gpuPairs)
				if len(gm.Set) > 0 {
					a.EnsureCapacity(a.Len() + len(gm.Set))
				}
				for _, kv := range gm.Set {
					a.PutStr(kv[0], kv[1])
				}
			})
			if known {
				publish(m, gm.Metric, gm.Scale)
				merge = true
			}
		}
		if merge {
			mergeSameName(ms)
		}
	}
}

// publish renames m to om, sets its unit, scales its values and makes it om's instrument.
func publish(m pmetric.Metric, om Metric, scale float64) {
	m.SetName(om.Name)
	m.SetUnit(om.Unit)
	if scale != 0 && scale != 1 {
		scaleNumbers(m, scale)
	}
	switch om.Instrument {
	case UpDownCounter:
		toSum(m, false)
	case Counter:
		if m.Type() == pmetric.MetricTypeSum {
			m.Sum().SetIsMonotonic(true)
			m.Sum().SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
		}
	}
}

// toSum turns a gauge into a cumulative sum: a scrape of a value that goes up and down is what
// an UpDownCounter reports.
func toSum(m pmetric.Metric, monotonic bool) {
	if m.Type() != pmetric.MetricTypeGauge {
		if m.Type() == pmetric.MetricTypeSum {
			m.Sum().SetIsMonotonic(monotonic)
		}
		return
	}
	dps := pmetric.NewNumberDataPointSlice()
	m.Gauge().DataPoints().MoveAndAppendTo(dps)
	s := m.SetEmptySum()
	s.SetIsMonotonic(monotonic)
	s.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	dps.MoveAndAppendTo(s.DataPoints())
}

func numbers(m pmetric.Metric) pmetric.NumberDataPointSlice {
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		return m.Gauge().DataPoints()
	case pmetric.MetricTypeSum:
		return m.Sum().DataPoints()
	}
	return pmetric.NewNumberDataPointSlice()
}

// scaleNumbers multiplies every value of m by f; integers stay integers when f is a whole number.
func scaleNumbers(m pmetric.Metric, f float64) {
	dps := numbers(m)
	whole := f == float64(int64(f))
	for i := 0; i < dps.Len(); i++ {
		dp := dps.At(i)
		if dp.Flags().NoRecordedValue() {
			continue
		}
		switch dp.ValueType() {
		case pmetric.NumberDataPointValueTypeInt:
			if whole {
				dp.SetIntValue(dp.IntValue() * int64(f))
			} else {
				dp.SetDoubleValue(float64(dp.IntValue()) * f)
			}
		case pmetric.NumberDataPointValueTypeDouble:
			dp.SetDoubleValue(dp.DoubleValue() * f)
		}
	}
}

// mergeSameName moves the points of metrics that now share a name and type into the first one.
func mergeSameName(ms pmetric.MetricSlice) {
	first := map[string]int{}
	for i := 0; i < ms.Len(); i++ {
		m := ms.At(i)
		j, seen := first[m.Name()]
		if !seen {
			first[m.Name()] = i
			continue
		}
		dst := ms.At(j)
		if dst.Type() != m.Type() {
			continue
		}
		numbers(m).MoveAndAppendTo(numbers(dst))
	}
	ms.RemoveIf(func(m pmetric.Metric) bool {
		return (m.Type() == pmetric.MetricTypeGauge || m.Type() == pmetric.MetricTypeSum) && numbers(m).Len() == 0
	})
}

// forEachAttrs calls f with the attributes of every data point of m.
func ForEachAttrs(m pmetric.Metric, f func(pcommon.Map)) {
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		for i := 0; i < m.Gauge().DataPoints().Len(); i++ {
			f(m.Gauge().DataPoints().At(i).Attributes())
		}
	case pmetric.MetricTypeSum:
		for i := 0; i < m.Sum().DataPoints().Len(); i++ {
			f(m.Sum().DataPoints().At(i).Attributes())
		}
	case pmetric.MetricTypeHistogram:
		for i := 0; i < m.Histogram().DataPoints().Len(); i++ {
			f(m.Histogram().DataPoints().At(i).Attributes())
		}
	case pmetric.MetricTypeSummary:
		for i := 0; i < m.Summary().DataPoints().Len(); i++ {
			f(m.Summary().DataPoints().At(i).Attributes())
		}
	}
}
