package llminferenceprocessor

import (
	"strings"

	"github.com/otelcol-llminference/otelcol-llminference/components/processor/llminferenceprocessor/otelschema"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// reshape does the per-data-point work of a rule on m (already renamed), in this order: take a
// histogram's or summary's sum or count as a counter (from), keep the points whose labels match
// (match) and drop those labels, scale values, rename labels, set labels by cases, and give the
// model label its unified name and spelling, or the pod's model where it has none. Only tables
// of engines that need it take this path; vLLM's and SGLang's renames stay free of it.
func reshape(m pmetric.Metric, r *rule, e *engine, st *podState) {
	if r.From != "" {
		fromPart(m, r.From)
	}
	if len(r.match) > 0 {
		keepMatching(m, r.match)
	}
	if r.Scale != 0 {
		scale(m, r.Scale)
	}
	if len(r.renames)+len(r.cases) == 0 && e.modelLabel == "" && !e.modelNone {
		return
	}
	otelschema.ForEachAttrs(m, func(a pcommon.Map) {
		for _, kv := range r.renames {
			if v, ok := a.Get(kv[0]); ok {
				a.PutStr(kv[1], v.Str())
				a.Remove(kv[0])
			}
		}
		for _, c := range r.cases {
			if matches(a, c.when) {
				for _, kv := range c.set {
					a.PutStr(kv[0], kv[1])
				}
				break
			}
		}
		if e.modelLabel != "" {
			if v, ok := a.Get(e.modelLabel); ok {
				model := st.spelling(v.Str())
				a.Remove(e.modelLabel)
				a.PutStr(lblModel, model)
			}
		}
		// Series without a model (engines that name none; Dynamo's worker gauges) get the pod's,
		// so that they filter by model like the rest.
		if _, ok := a.Get(lblModel); !ok && st.model != "" {
			a.PutStr(lblModel, st.model)
		}
	})
}

// matches reports whether a has every label of want with its value ("" matches an absent label).
func matches(a pcommon.Map, want [][2]string) bool {
	for _, kv := range want {
		v, ok := a.Get(kv[0])
		if (ok && v.Str() != kv[1]) || (!ok && kv[1] != "") {
			return false
		}
	}
	return true
}

// keepMatching removes the data points of m whose labels do not match, and the matched labels
// of the others.
func keepMatching(m pmetric.Metric, want [][2]string) {
	drop := func(a pcommon.Map) bool {
		if !matches(a, want) {
			return true
		}
		for _, kv := range want {
			a.Remove(kv[0])
		}
		return false
	}
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		m.Gauge().DataPoints().RemoveIf(func(dp pmetric.NumberDataPoint) bool { return drop(dp.Attributes()) })
	case pmetric.MetricTypeSum:
		m.Sum().DataPoints().RemoveIf(func(dp pmetric.NumberDataPoint) bool { return drop(dp.Attributes()) })
	case pmetric.MetricTypeHistogram:
		m.Histogram().DataPoints().RemoveIf(func(dp pmetric.HistogramDataPoint) bool { return drop(dp.Attributes()) })
	case pmetric.MetricTypeSummary:
		m.Summary().DataPoints().RemoveIf(func(dp pmetric.SummaryDataPoint) bool { return drop(dp.Attributes()) })
	}
}

// fromPart turns a histogram or summary into a cumulative counter of its sum or count, point
// by point (labels, start times, timestamps and stale flags kept).
func fromPart(m pmetric.Metric, part string) {
	sum := pmetric.NewSum()
	sum.SetIsMonotonic(true)
	sum.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	switch m.Type() {
	case pmetric.MetricTypeHistogram:
		dps := m.Histogram().DataPoints()
		for i := 0; i < dps.Len(); i++ {
			appendPart(sum.DataPoints(), dps.At(i), part)
		}
	case pmetric.MetricTypeSummary:
		dps := m.Summary().DataPoints()
		for i := 0; i < dps.Len(); i++ {
			appendPart(sum.DataPoints(), dps.At(i), part)
		}
	default:
		return
	}
	sum.MoveTo(m.SetEmptySum())
}

// countSumPoint is a histogram or summary data point.
type countSumPoint interface {
	Attributes() pcommon.Map
	StartTimestamp() pcommon.Timestamp
	Timestamp() pcommon.Timestamp
	Flags() pmetric.DataPointFlags
	Count() uint64
	Sum() float64
}

// appendPart appends a counter point of p's sum or count.
func appendPart[P countSumPoint](out pmetric.NumberDataPointSlice, p P, part string) {
	dp := out.AppendEmpty()
	p.Attributes().CopyTo(dp.Attributes())
	dp.SetStartTimestamp(p.StartTimestamp())
	dp.SetTimestamp(p.Timestamp())
	dp.SetFlags(p.Flags())
	v := float64(p.Count())
	if part == "sum" {
		v = p.Sum()
	}
	dp.SetDoubleValue(v)
}

// scale multiplies every value of m by f: divided by 1/f when that is a whole number (1000 for
// ms, 1e6 for µs), so that 250 ms becomes exactly 0.25 s.
func scale(m pmetric.Metric, f float64) {
	conv := func(v float64) float64 { return v * f }
	if inv := 1 / f; inv == float64(int64(inv)) {
		conv = func(v float64) float64 { return v / inv }
	}
	numbers := func(dps pmetric.NumberDataPointSlice) {
		for i := 0; i < dps.Len(); i++ {
			dp := dps.At(i)
			if dp.ValueType() == pmetric.NumberDataPointValueTypeInt {
				dp.SetDoubleValue(conv(float64(dp.IntValue())))
			} else {
				dp.SetDoubleValue(conv(dp.DoubleValue()))
			}
		}
	}
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		numbers(m.Gauge().DataPoints())
	case pmetric.MetricTypeSum:
		numbers(m.Sum().DataPoints())
	case pmetric.MetricTypeHistogram:
		dps := m.Histogram().DataPoints()
		for i := 0; i < dps.Len(); i++ {
			dp := dps.At(i)
			if dp.HasSum() {
				dp.SetSum(conv(dp.Sum()))
			}
			if dp.HasMin() {
				dp.SetMin(conv(dp.Min()))
			}
			if dp.HasMax() {
				dp.SetMax(conv(dp.Max()))
			}
			b := dp.ExplicitBounds()
			for j := 0; j < b.Len(); j++ {
				b.SetAt(j, conv(b.At(j)))
			}
		}
	case pmetric.MetricTypeSummary:
		dps := m.Summary().DataPoints()
		for i := 0; i < dps.Len(); i++ {
			dp := dps.At(i)
			dp.SetSum(conv(dp.Sum()))
			qs := dp.QuantileValues()
			for j := 0; j < qs.Len(); j++ {
				qs.At(j).SetValue(conv(qs.At(j).Value()))
			}
		}
	}
}

// learnSpellings records the spelling of each model named by key in ms: where an engine
// reports one model in several cases (Dynamo lower-cases it in its request metrics), the
// spelling with capitals is the model's name.
func (st *podState) learnSpellings(ms pmetric.MetricSlice, key string) {
	if st.spellings == nil {
		st.spellings = map[string]string{}
	}
	for i := 0; i < ms.Len(); i++ {
		otelschema.ForEachAttrs(ms.At(i), func(a pcommon.Map) {
			v, ok := a.Get(key)
			if !ok || v.Str() == "" {
				return
			}
			s := v.Str()
			lower := strings.ToLower(s)
			if known, ok := st.spellings[lower]; !ok || (known == lower && s != lower) {
				st.spellings[lower] = s
			}
		})
	}
}

// spelling returns the recorded spelling of a model name.
func (st *podState) spelling(model string) string {
	if s, ok := st.spellings[strings.ToLower(model)]; ok {
		return s
	}
	return model
}
