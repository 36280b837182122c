package llmsim

import (
	"bytes"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// label is one name="value" pair.
type label struct{ k, v string }

// pyWriter writes the text exposition the way Python's prometheus_client does (vLLM, SGLang):
// HELP then TYPE per family, label names sorted, floats in Python repr ("1.0", "6.4929219e+07"),
// counters as <name>_total plus a <name>_created gauge family after the family.
type pyWriter struct {
	b       *bytes.Buffer
	created bool
}

func pyFloat(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case v == math.Trunc(v) && math.Abs(v) < 1e16:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	s := strconv.FormatFloat(v, 'g', -1, 64)
	// Python writes exponents with at least two digits, as Go does; nothing else to adjust.
	return s
}

func (w *pyWriter) family(name, typ, help string) {
	w.b.WriteString("# HELP ")
	w.b.WriteString(name)
	w.b.WriteByte(' ')
	w.b.WriteString(help)
	w.b.WriteString("\n# TYPE ")
	w.b.WriteString(name)
	w.b.WriteByte(' ')
	w.b.WriteString(typ)
	w.b.WriteByte('\n')
}

func (w *pyWriter) sample(name string, lbls []label, v float64) {
	w.b.WriteString(name)
	if len(lbls) > 0 {
		sorted := append([]label(nil), lbls...)
		sort.Slice(sorted, func(i, j int) bool { return sorted[i].k < sorted[j].k })
		w.b.WriteByte('{')
		for i, l := range sorted {
			if i > 0 {
				w.b.WriteByte(',')
			}
			w.b.WriteString(l.k)
			w.b.WriteString(`="`)
			w.b.WriteString(escape(l.v))
			w.b.WriteByte('"')
		}
		w.b.WriteByte('}')
	}
	w.b.WriteByte(' ')
	w.b.WriteString(pyFloat(v))
	w.b.WriteByte('\n')
}

var escaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)

func escape(s string) string { return escaper.Replace(s) }

func with(lbls []label, extra ...label) []label {
	return append(append(make([]label, 0, len(lbls)+len(extra)), lbls...), extra...)
}

// gauge writes a one-series gauge family.
func (w *pyWriter) gauge(name, help string, lbls []label, v float64) {
	w.family(name, "gauge", help)
	w.sample(name, lbls, v)
}

// counter writes a counter family whose declared name is base (exposed as base_total).
func (w *pyWriter) counter(base, help string, series [][]label, values []float64, created time.Time) {
	w.family(base+"_total", "counter", help)
	for i, l := range series {
		w.sample(base+"_total", l, values[i])
	}
	if w.created {
		w.family(base+"_created", "gauge", help)
		for _, l := range series {
			w.sample(base+"_created", l, float64(created.UnixNano())/1e9)
		}
	}
}

func (w *pyWriter) histogram(name, help string, lbls []label, h *histogram, created time.Time) {
	w.family(name, "histogram", help)
	for i, b := range h.bounds {
		w.sample(name+"_bucket", with(lbls, label{"le", pyFloat(b)}), float64(h.cumulative(i)))
	}
	w.sample(name+"_bucket", with(lbls, label{"le", "+Inf"}), float64(h.count))
	w.sample(name+"_count", lbls, float64(h.count))
	w.sample(name+"_sum", lbls, h.sum)
	if w.created {
		w.family(name+"_created", "gauge", help)
		w.sample(name+"_created", lbls, float64(created.UnixNano())/1e9)
	}
}

// byReason returns one label set per finish reason (base plus finished_reason) and its count.
func byReason(base []label, st *stats, reasons ...string) ([][]label, []float64) {
	series := make([][]label, 0, len(reasons))
	values := make([]float64, 0, len(reasons))
	for _, reason := range reasons {
		series = append(series, with(base, label{"finished_reason", reason}))
		values = append(values, st.finished[reason])
	}
	return series, values
}
