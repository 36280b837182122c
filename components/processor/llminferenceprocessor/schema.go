package llminferenceprocessor

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otelcol-llminference/otelcol-llminference/components/processor/llminferenceprocessor/mapping"
)

// rule is a compiled mapping entry. Label maps become sorted pairs, for deterministic output
// and no map iteration per data point.
type rule struct {
	mapping.Mapping
	priority int
	mtype    pmetric.MetricType // the source's type (histogram or summary for From)
	setAttrs [][2]string
	match    [][2]string
	renames  [][2]string
	cases    []labelCase
	// perPoint is set when the rule itself changes data points beyond setAttrs (a slower path
	// that vLLM's and SGLang's tables never take); an engine's model label is the engine's.
	perPoint bool
}

type labelCase struct{ when, set [][2]string }

// engine is every table of one backend, indexed by source metric name.
type engine struct {
	name   string
	detect string
	// modelLabel is the engine's model label when it is not model_name; modelNone when the
	// engine has none.
	modelLabel string
	modelNone  bool
	// roleLabels are the engine's own labels that state a pod's role (its tables' and its
	// included backends'); routerPrefix marks a router's metrics.
	roleLabels   []string
	routerPrefix string
	includes     []string
	sources      map[string][]*rule
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

func compile(tables []mapping.Table) (*schema, error) {
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
		e.includes = append(e.includes, t.Includes...)
		if t.RoleLabel != "" && !slices.Contains(e.roleLabels, t.RoleLabel) {
			e.roleLabels = append(e.roleLabels, t.RoleLabel)
		}
		if e.routerPrefix == "" {
			e.routerPrefix = t.RouterPrefix
		}
		switch t.ModelLabel {
		case "", lblModel:
		case mapping.ModelLabelNone:
			e.modelNone = true
		default:
			e.modelLabel = t.ModelLabel
		}
		for _, b := range t.Backends() {
			if _, taken := s.byBackend[b]; !taken {
				s.byBackend[b] = e
			}
		}
		for _, m := range t.Metrics {
			r := &rule{Mapping: m, priority: t.Priority, mtype: metricTypeOf(m.Type),
				setAttrs: pairs(m.SetLabels), match: pairs(m.Match), renames: pairs(m.RenameLabels)}
			if m.From != "" {
				r.mtype = pmetric.MetricTypeHistogram
			}
			for _, c := range m.LabelCases {
				r.cases = append(r.cases, labelCase{when: pairs(c.When), set: pairs(c.Set)})
			}
			r.perPoint = m.From != "" || m.Scale != 0 || len(r.match)+len(r.renames)+len(r.cases) > 0
			e.sources[m.Source] = append(e.sources[m.Source], r)
			if m.From != "" {
				// A summary's sum and count serve as well as a histogram's.
				rs := *r
				rs.mtype = pmetric.MetricTypeSummary
				e.sources[m.Source] = append(e.sources[m.Source], &rs)
			}
		}
	}
	// Included backends' rules apply too; their sources have other names (other prefixes).
	for _, e := range s.engines {
		for _, b := range e.includes {
			inc := s.byBackend[b]
			if inc == nil {
				return nil, fmt.Errorf("mapping tables of backend %s: includes %q, which no table serves", e.name, b)
			}
			if inc == e {
				continue
			}
			for _, l := range inc.roleLabels {
				if !slices.Contains(e.roleLabels, l) {
					e.roleLabels = append(e.roleLabels, l)
				}
			}
			for src, rules := range inc.sources {
				e.sources[src] = append(e.sources[src], rules...)
			}
		}
	}
	return s, nil
}

// pairs returns a label map as pairs sorted by name.
func pairs(m map[string]string) [][2]string {
	if len(m) == 0 {
		return nil
	}
	out := make([][2]string, 0, len(m))
	for k, v := range m {
		out = append(out, [2]string{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
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
