package llminferenceremotewriteexporter

import (
	"encoding/binary"
	"math"
	"math/bits"
	"strconv"

	"github.com/prometheus/prometheus/model/value"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// encoder writes pipeline metrics straight into the protobuf encoding of a remote-write 1.0
// WriteRequest, one TimeSeries with one sample per data point (histograms and summaries as
// their _bucket/quantile, _sum and _count series), the way Prometheus' own remote write sends
// them. It builds no intermediate prompb structs, label maps or signatures: labels are gathered
// into a reused slice of string references, sorted, sized and appended. The output of several
// calls concatenates into one valid WriteRequest, which is what lets the queue store encoded
// scrapes and batch them by concatenation.
//
// Naming is as the pipeline sets it (no unit or _total suffixes). Labels: the data point's
// attributes, then the resource's resource_labels, job and instance (from service.name /
// service.namespace and service.instance.id, as contrib's translator derives them) and the
// external labels; a data point attribute wins over a resource or external label of the same
// name, and empty values are left out.
type encoder struct {
	resourceLabels []string
	external       []label // sorted by name

	base []label // the current resource's labels, sorted by name
	lbls []label
	// A histogram's labels other than le, encoded: those sorting before le and those after.
	pre, post []byte
	bounds    map[float64]string // formatted le / quantile values
	// samples counts the samples appended since the last reset (the exporter's telemetry
	// counts what it queues, sends and drops in samples).
	samples int
}

// label is a label reference; value+suffix is the value (suffix: a metric name's _bucket,
// _sum or _count, appended while writing instead of concatenated).
type label struct {
	name, value, suffix string
}

func newEncoder(resourceLabels []string, external map[string]string) *encoder {
	e := &encoder{resourceLabels: resourceLabels, bounds: map[float64]string{}}
	for k, v := range external {
		if v != "" {
			e.external = append(e.external, label{name: sanitizeName(k), value: v})
		}
	}
	sortLabels(e.external)
	return e
}

// appendMetrics appends md's data points to buf as WriteRequest.timeseries entries.
func (e *encoder) appendMetrics(buf []byte, md pmetric.Metrics) []byte {
	rms := md.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		rm := rms.At(i)
		e.setResource(rm.Resource().Attributes())
		sms := rm.ScopeMetrics()
		for j := 0; j < sms.Len(); j++ {
			ms := sms.At(j).Metrics()
			for k := 0; k < ms.Len(); k++ {
				buf = e.appendMetric(buf, ms.At(k))
			}
		}
	}
	return buf
}

func (e *encoder) setResource(attrs pcommon.Map) {
	e.base = e.base[:0]
	for _, k := range e.resourceLabels {
		if v, ok := attrs.Get(k); ok {
			if s := valueString(v); s != "" {
				e.base = append(e.base, label{name: sanitizeName(k), value: s})
			}
		}
	}
	if name, ok := attrs.Get("service.name"); ok && name.Str() != "" {
		job := name.Str()
		if ns, ok := attrs.Get("service.namespace"); ok && ns.Str() != "" {
			job = ns.Str() + "/" + job
		}
		e.base = append(e.base, label{name: "job", value: job})
	}
	if inst, ok := attrs.Get("service.instance.id"); ok && inst.Str() != "" {
		e.base = append(e.base, label{name: "instance", value: inst.Str()})
	}
	for _, l := range e.external {
		if !hasLabel(e.base, l.name) {
			e.base = append(e.base, l)
		}
	}
	sortLabels(e.base)
}

func (e *encoder) appendMetric(buf []byte, m pmetric.Metric) []byte {
	name := m.Name()
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		return e.appendNumbers(buf, name, m.Gauge().DataPoints())
	case pmetric.MetricTypeSum:
		return e.appendNumbers(buf, name, m.Sum().DataPoints())
	case pmetric.MetricTypeHistogram:
		dps := m.Histogram().DataPoints()
		for i := 0; i < dps.Len(); i++ {
			buf = e.appendHistogram(buf, name, dps.At(i))
		}
	case pmetric.MetricTypeSummary:
		dps := m.Summary().DataPoints()
		for i := 0; i < dps.Len(); i++ {
			buf = e.appendSummary(buf, name, dps.At(i))
		}
	}
	// Exponential histograms are not produced by a Prometheus scrape; they are not sent.
	return buf
}

func (e *encoder) appendNumbers(buf []byte, name string, dps pmetric.NumberDataPointSlice) []byte {
	for i := 0; i < dps.Len(); i++ {
		dp := dps.At(i)
		v := math.Float64frombits(value.StaleNaN)
		if !dp.Flags().NoRecordedValue() {
			if dp.ValueType() == pmetric.NumberDataPointValueTypeInt {
				v = float64(dp.IntValue())
			} else {
				v = dp.DoubleValue()
			}
		}
		e.pointLabels(dp.Attributes(), name, "")
		buf = e.appendSeries(buf, v, dp.Timestamp())
	}
	return buf
}

func (e *encoder) appendHistogram(buf []byte, name string, dp pmetric.HistogramDataPoint) []byte {
	val := staleOr(dp.Flags().NoRecordedValue())
	ts := dp.Timestamp()
	attrs := dp.Attributes()
	bounds, counts := dp.ExplicitBounds(), dp.BucketCounts()
	// The bucket series differ only in le: their other labels are gathered, sorted and
	// encoded once, as the bytes before le and the bytes after it, and each bucket copies them.
	e.pointLabels(attrs, name, "_bucket")
	at := 0
	for at < len(e.lbls) && e.lbls[at].name <= "le" {
		at++
	}
	e.pre = appendLabels(e.pre[:0], e.lbls[:at])
	e.post = appendLabels(e.post[:0], e.lbls[at:])
	var cum uint64
	for i := 0; i < bounds.Len(); i++ {
		if i < counts.Len() {
			cum += counts.At(i)
		}
		buf = e.appendBucket(buf, e.formatBound(bounds.At(i)), val(float64(cum)), ts)
	}
	buf = e.appendBucket(buf, "+Inf", val(float64(dp.Count())), ts)
	// _sum and _count have the same labels but le, which e.lbls never held: only the name's
	// suffix changes, and the name keeps its place in the order.
	if dp.HasSum() {
		e.setNameSuffix("_sum")
		buf = e.appendSeries(buf, val(dp.Sum()), ts)
	}
	e.setNameSuffix("_count")
	return e.appendSeries(buf, val(float64(dp.Count())), ts)
}

// setNameSuffix sets the suffix of the name in e.lbls.
func (e *encoder) setNameSuffix(suffix string) {
	for i := range e.lbls {
		if e.lbls[i].name == "__name__" {
			e.lbls[i].suffix = suffix
			return
		}
	}
}

func (e *encoder) appendSummary(buf []byte, name string, dp pmetric.SummaryDataPoint) []byte {
	val := staleOr(dp.Flags().NoRecordedValue())
	ts := dp.Timestamp()
	attrs := dp.Attributes()
	qs := dp.QuantileValues()
	for i := 0; i < qs.Len(); i++ {
		q := qs.At(i)
		e.pointLabels(attrs, name, "")
		e.lbls = append(e.lbls, label{name: "quantile", value: e.formatBound(q.Quantile())})
		sortLabels(e.lbls)
		buf = e.appendSeries(buf, val(q.Value()), ts)
	}
	e.pointLabels(attrs, name, "_sum")
	buf = e.appendSeries(buf, val(dp.Sum()), ts)
	e.pointLabels(attrs, name, "_count")
	return e.appendSeries(buf, val(float64(dp.Count())), ts)
}

// pointLabels gathers a data point's labels, sorted: __name__, its attributes, and the
// resource's labels that no attribute overrides.
func (e *encoder) pointLabels(attrs pcommon.Map, name, suffix string) {
	e.lbls = append(e.lbls[:0], label{name: "__name__", value: name, suffix: suffix})
	for k, v := range attrs.All() {
		if s := valueString(v); s != "" && k != "__name__" {
			e.lbls = append(e.lbls, label{name: sanitizeName(k), value: s})
		}
	}
	n := len(e.lbls)
	for _, b := range e.base {
		if !hasLabel(e.lbls[:n], b.name) {
			e.lbls = append(e.lbls, b)
		}
	}
	sortLabels(e.lbls)
}

// appendSeries appends one WriteRequest.timeseries entry: e.lbls and one sample.
func (e *encoder) appendSeries(buf []byte, v float64, ts pcommon.Timestamp) []byte {
	e.samples++
	ms := int64(ts) / 1e6
	sampleSize := 1 + 8 + 1 + varintLen(uint64(ms))
	size := 1 + varintLen(uint64(sampleSize)) + sampleSize
	for i := range e.lbls {
		ls := e.lbls[i].size()
		size += 1 + varintLen(uint64(ls)) + ls
	}
	buf = append(buf, 0x0a) // WriteRequest.timeseries (1, bytes)
	buf = binary.AppendUvarint(buf, uint64(size))
	buf = appendLabels(buf, e.lbls)
	return appendSample(buf, sampleSize, v, ms)
}

// appendBucket appends the timeseries entry of one histogram bucket: the labels encoded in
// e.pre and e.post with le="bound" between them, and one sample.
func (e *encoder) appendBucket(buf []byte, bound string, v float64, ts pcommon.Timestamp) []byte {
	e.samples++
	ms := int64(ts) / 1e6
	sampleSize := 1 + 8 + 1 + varintLen(uint64(ms))
	le := label{name: "le", value: bound}
	ls := le.size()
	size := len(e.pre) + 1 + varintLen(uint64(ls)) + ls + len(e.post) + 1 + varintLen(uint64(sampleSize)) + sampleSize
	buf = append(buf, 0x0a) // WriteRequest.timeseries (1, bytes)
	buf = binary.AppendUvarint(buf, uint64(size))
	buf = append(buf, e.pre...)
	buf = appendLabel(buf, &le)
	buf = append(buf, e.post...)
	return appendSample(buf, sampleSize, v, ms)
}

// appendLabels appends ls as TimeSeries.labels entries.
func appendLabels(buf []byte, ls []label) []byte {
	for i := range ls {
		buf = appendLabel(buf, &ls[i])
	}
	return buf
}

func appendLabel(buf []byte, l *label) []byte {
	buf = append(buf, 0x0a) // TimeSeries.labels (1, bytes)
	buf = binary.AppendUvarint(buf, uint64(l.size()))
	buf = append(buf, 0x0a) // Label.name (1, bytes)
	buf = binary.AppendUvarint(buf, uint64(len(l.name)))
	buf = append(buf, l.name...)
	buf = append(buf, 0x12) // Label.value (2, bytes)
	buf = binary.AppendUvarint(buf, uint64(len(l.value)+len(l.suffix)))
	buf = append(buf, l.value...)
	return append(buf, l.suffix...)
}

// appendSample appends TimeSeries.samples: one sample (its encoding is sampleSize bytes).
func appendSample(buf []byte, sampleSize int, v float64, ms int64) []byte {
	buf = append(buf, 0x12) // TimeSeries.samples (2, bytes)
	buf = binary.AppendUvarint(buf, uint64(sampleSize))
	buf = append(buf, 0x09) // Sample.value (1, fixed64)
	buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(v))
	buf = append(buf, 0x10) // Sample.timestamp (2, varint)
	return binary.AppendUvarint(buf, uint64(ms))
}

func (l *label) size() int {
	vl := len(l.value) + len(l.suffix)
	return 1 + varintLen(uint64(len(l.name))) + len(l.name) + 1 + varintLen(uint64(vl)) + vl
}

func varintLen(x uint64) int { return (bits.Len64(x|1) + 6) / 7 }

// formatBound formats a bucket bound or quantile as Prometheus does, cached: a scrape repeats
// the same few bounds in every histogram.
func (e *encoder) formatBound(f float64) string {
	if s, ok := e.bounds[f]; ok {
		return s
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if len(e.bounds) < 4096 {
		e.bounds[f] = s
	}
	return s
}

// staleOr returns the value to send for a data point's samples: the staleness marker for all
// of them when the point is one.
func staleOr(stale bool) func(float64) float64 {
	if stale {
		return func(float64) float64 { return math.Float64frombits(value.StaleNaN) }
	}
	return func(v float64) float64 { return v }
}

// sortLabels sorts by name; label sets are small and mostly sorted, so insertion sort wins.
func sortLabels(ls []label) {
	for i := 1; i < len(ls); i++ {
		for j := i; j > 0 && ls[j].name < ls[j-1].name; j-- {
			ls[j], ls[j-1] = ls[j-1], ls[j]
		}
	}
}

func hasLabel(ls []label, name string) bool {
	for i := range ls {
		if ls[i].name == name {
			return true
		}
	}
	return false
}

func valueString(v pcommon.Value) string {
	if v.Type() == pcommon.ValueTypeStr {
		return v.Str()
	}
	return v.AsString()
}

// sanitizeName makes an attribute key a valid Prometheus label name, as contrib's translator
// does with underscore escaping; valid names (all of a Prometheus scrape's) are returned as is.
func sanitizeName(k string) string {
	valid := k != ""
	for i := 0; i < len(k) && valid; i++ {
		c := k[i]
		valid = c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9')
	}
	if valid {
		return k
	}
	b := []byte(k)
	for i, c := range b {
		if !(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
			b[i] = '_'
		}
	}
	if len(b) == 0 || (b[0] >= '0' && b[0] <= '9') {
		b = append([]byte("key_"), b...)
	}
	return string(b)
}
