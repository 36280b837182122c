package llmsim

import (
	"bytes"
	"strconv"
)

// plainWriter writes the text exposition the way the Rust and C++ exporters do (TGI's
// metrics-exporter-prometheus, Dynamo's prometheus crate, llama.cpp, Triton): counter families
// named as declared (with or without _total), no _created series, whole numbers without a
// decimal point, labels in the order given.
type plainWriter struct {
	b *bytes.Buffer
	// noHelp leaves out HELP lines (metrics-exporter-prometheus writes only TYPE by default).
	noHelp bool
}

func plainFloat(v float64) string {
	if v == float64(int64(v)) {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

func (w *plainWriter) family(name, typ, help string) {
	if !w.noHelp {
		w.b.WriteString("# HELP " + name + " " + help + "\n")
	}
	w.b.WriteString("# TYPE " + name + " " + typ + "\n")
}

func (w *plainWriter) sample(name string, lbls []label, v float64) {
	w.b.WriteString(name)
	if len(lbls) > 0 {
		w.b.WriteByte('{')
		for i, l := range lbls {
			if i > 0 {
				w.b.WriteByte(',')
			}
			w.b.WriteString(l.k + `="` + escape(l.v) + `"`)
		}
		w.b.WriteByte('}')
	}
	w.b.WriteString(" " + plainFloat(v) + "\n")
}

func (w *plainWriter) gauge(name, help string, lbls []label, v float64) {
	w.family(name, "gauge", help)
	w.sample(name, lbls, v)
}

// counter writes a counter family under exactly the name given.
func (w *plainWriter) counter(name, help string, series [][]label, values []float64) {
	w.family(name, "counter", help)
	for i, l := range series {
		w.sample(name, l, values[i])
	}
}

func (w *plainWriter) histogram(name, help string, lbls []label, h *histogram) {
	w.family(name, "histogram", help)
	for i, b := range h.bounds {
		w.sample(name+"_bucket", with(lbls, label{"le", plainFloat(b)}), float64(h.cumulative(i)))
	}
	w.sample(name+"_bucket", with(lbls, label{"le", "+Inf"}), float64(h.count))
	w.sample(name+"_sum", lbls, h.sum)
	w.sample(name+"_count", lbls, float64(h.count))
}
