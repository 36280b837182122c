package llminferenceprocessor

import (
	"sort"
	"strings"

	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otelcol-llminference/otelcol-llminference/components/processor/llminferenceprocessor/mapping"
)

// rule is a compiled mapping entry.
type rule struct {
	mapping.Mapping
	priority int
	mtype    pmetric.MetricType
	setAttrs [][2]string // sorted, for deterministic output
}

// engine is every table of one backend, indexed by source metric name.
type engine struct {
	name    string
	detect  string
	sources map[string][]*rule
}

// schema resolves a resource's backend to its engine.
type schema struct {
	byBackend map[string]*engine
	engines   []*engine
}

func metricTypeOf(t string) pmetric.MetricType {
	switch t {
	case mapping.TypeCounter:
		return pmetric.MetricTypeSum
	case mapping.TypeHistogram:
		return pmetric.MetricTypeHistogram
	case mapping.TypeSummary:
		return pmetric.MetricTypeSummary
	}
	return pmetric.MetricTypeGauge
}

func compile(tables []mapping.Table) *schema {
	s := &schema{byBackend: map[string]*engine{}}
	for _, t := range tables {
		e := s.byBackend[t.Backend]
		if e == nil {
			e = &engine{name: t.Backend, detect: t.DetectPrefix, sources: map[string][]*rule{}}
			s.engines = append(s.engines, e)
		}
		if e.detect == "" {
			e.detect = t.DetectPrefix
		}
		for _, b := range t.Backends() {
			if _, taken := s.byBackend[b]; !taken {
				s.byBackend[b] = e
			}
		}
		for _, m := range t.Metrics {
			r := &rule{Mapping: m, priority: t.Priority, mtype: metricTypeOf(m.Type)}
			for k, v := range m.SetLabels {
				r.setAttrs = append(r.setAttrs, [2]string{k, v})
			}
			sort.Slice(r.setAttrs, func(i, j int) bool { return r.setAttrs[i][0] < r.setAttrs[j][0] })
			e.sources[m.Source] = append(e.sources[m.Source], r)
		}
	}
	return s
}

// engineFor returns the engine of a backend label value; a pod without the label ("unknown")
// is recognised by its metric names. Other backends have no engine: their metrics pass through.
func (s *schema) engineFor(backend string, ms pmetric.MetricSlice) *engine {
	if e := s.byBackend[backend]; e != nil {
		return e
	}
	if backend != "" && backend != "unknown" {
		return nil
	}
	for i := 0; i < ms.Len(); i++ {
		name := ms.At(i).Name()
		for _, e := range s.engines {
			if e.detect != "" && strings.HasPrefix(name, e.detect) {
				return e
			}
		}
	}
	return nil
}
