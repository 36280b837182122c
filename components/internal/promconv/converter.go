// Package promconv converts successive scrapes of one Prometheus / OpenMetrics target into
// OpenTelemetry pdata metrics.
//
// Parsing is done by prometheus/prometheus model/textparse. A Converter keeps per-target state
// between scrapes: the identity of every series line seen (so a steady-state scrape does not
// re-parse label sets), the start time of every cumulative series (from `_created` when the
// target exposes it, else first sight, moved on counter resets), and the set of live series (so a
// series that disappears gets exactly one stale marker: a data point flagged
// NoRecordedValue, which the Prometheus remote-write exporter turns into a staleness NaN).
//
// Metric names are kept exactly as the target exposes them: counters by their sample name
// (`vllm:prompt_tokens_total`), histograms and summaries by their family name
// (`vllm:time_to_first_token_seconds`).
package promconv

import (
	"bytes"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otelcol-llminference/otelcol-llminference/components/internal/scrapecontract"
)

// ErrTooManySamples is returned (wrapped) when a scrape exceeds the converter's sample limit.
var ErrTooManySamples = errors.New("too many samples")

type kind uint8

const (
	kindGauge kind = iota
	kindSum
	kindHistogram
	kindSummary
)

type role uint8

const (
	roleValue    role = iota // gauge or counter value
	roleBucket               // histogram _bucket{le}
	roleSum                  // histogram/summary _sum
	roleCount                // histogram/summary _count
	roleQuantile             // summary {quantile}
	roleCreated              // _created of a counter/histogram/summary (text format)
)

// attr is one label that becomes a data point attribute.
type attr struct{ name, value string }

// series is one data point's identity over time: a gauge or counter line, or a whole
// histogram/summary (all its bucket/quantile/sum/count lines).
type series struct {
	name  string
	kind  kind
	attrs []attr

	start   pcommon.Timestamp // start of the cumulative series; 0 until first seen
	last    float64           // last value (counter) or count (histogram/summary), for reset detection
	created float64           // last _created value seen, seconds
	seen    uint64            // generation of the last scrape that had this series
	dead    bool              // removed from the converter; lines pointing here must be rebuilt

	// current scrape
	dp pmetric.NumberDataPoint // counter data point, to patch its start time from a later _created line
	ts pcommon.Timestamp

	// histogram/summary assembly, reused across scrapes
	bounds    []float64 // histogram: le bounds (without +Inf); summary: quantiles
	values    []float64 // histogram: cumulative bucket counts; summary: quantile values
	inf       float64
	hasInf    bool
	sum       float64
	count     float64
	hasCount  bool
	staleNext bool // series was exported by a successful scrape; it owes a stale marker when it goes
}

// line is the cached identity of one raw exposition line (`name{labels}`). It is kept to 32
// bytes (a size class of its own): there is one per sample line of every target.
type line struct {
	s     *series
	fam   *family // the family of the TYPE line above it, nil before any
	bound float64
	seen  uint32 // the low bits of the generation that last had this line: equality is all that is asked
	role  role
	typ   typeCode // the TYPE line's type
}

// typeCode is a family type (model.MetricType, a string) as a byte, for the line cache.
type typeCode uint8

const (
	typeUnknown typeCode = iota
	typeCounter
	typeGauge
	typeHistogram
	typeGaugeHistogram
	typeSummary
	typeInfo
	typeStateset
	typeOther typeCode = 0xff // a type outside the list below: lines under it are never cached
)

var typeCodes = [...]model.MetricType{
	typeUnknown: model.MetricTypeUnknown, typeCounter: model.MetricTypeCounter, typeGauge: model.MetricTypeGauge,
	typeHistogram: model.MetricTypeHistogram, typeGaugeHistogram: model.MetricTypeGaugeHistogram,
	typeSummary: model.MetricTypeSummary, typeInfo: model.MetricTypeInfo, typeStateset: model.MetricTypeStateset,
}

func codeOf(t model.MetricType) typeCode {
	for i, c := range typeCodes {
		if c == t {
			return typeCode(i)
		}
	}
	return typeOther
}

// matches tells whether a cached line can stand for a line under family fam of type typ.
func (ln *line) matches(fam *family, typ typeCode) bool {
	return ln != nil && !ln.s.dead && ln.fam == fam && ln.typ == typ && typ != typeOther
}

// lineKey identifies a sample line (its name and labels as written) by two independent 64-bit
// hashes instead of a copy of its text: the line cache is then 16 bytes a line rather than the
// line's length (200 to 400 bytes for vLLM's labels), the biggest part of the heap at scale. A
// false match needs both xxhash and maphash, whose seed is random per process, to collide on
// the same pair of lines of one target: about 2^-128 per pair, and not something a target can
// aim for.
type lineKey struct{ xx, mh uint64 }

var lineSeed = maphash.MakeSeed()

func keyOf(raw []byte) lineKey {
	return lineKey{xx: xxhash.Sum64(raw), mh: maphash.Bytes(lineSeed, raw)}
}

// family is the metadata (HELP, UNIT) of a metric family.
type family struct {
	name string
	help string
	unit string
	seen uint64
}

// Converter is the conversion state of one scrape target. It is not safe for concurrent use.
type Converter struct {
	maxSamples int

	st       *labels.SymbolTable
	lbls     labels.Labels
	digest   *xxhash.Digest
	lines    lineTable
	series   map[uint64]*series
	families map[string]*family
	byName   map[string]int // emitted metric name -> index in dst, for the current scrape
	touched  []*series      // histograms/summaries seen in the current scrape
	gen      uint64
	fastFams []*family // resolveCached's families, reused

	// strs interns the label names and values (and metric names) of this target's series: the
	// same few model names, GPU ids and label names repeat on every series, and a series would
	// otherwise keep the whole label text of the line it was built from.
	strs     map[string]string
	strsLive int // len(strs) after it was last rebuilt from the live series
}

// NewConverter returns a Converter that fails a scrape with more than maxSamples sample lines
// (0 = unlimited).
func NewConverter(maxSamples int) *Converter {
	return &Converter{
		maxSamples: maxSamples,
		st:         labels.NewSymbolTable(),
		digest:     xxhash.New(),
		series:     map[uint64]*series{},
		families:   map[string]*family{},
		byName:     map[string]int{},
		strs:       map[string]string{},
	}
}

// Result describes one converted scrape.
type Result struct {
	// Samples is the number of sample lines in the body.
	Samples int
	// Series is the number of data points produced (a histogram counts once).
	Series int
	// Stale is the number of stale markers appended for series that disappeared.
	Stale int
}

// Convert parses body (served with contentType) scraped at ts and appends its metrics, plus
// stale markers for series that were present in the previous scrape and are gone now, to dst.
// On error dst may hold a partial result that the caller must discard, and should call
// AppendStale (a failed scrape makes every series stale, as in Prometheus).
func (c *Converter) Convert(body []byte, contentType string, ts time.Time, dst pmetric.MetricSlice) (Result, error) {
	return c.convert(body, contentType, ts, dst, true)
}

// convert is Convert; fastPath false parses with textparse even where the cached fast path
// could resolve the body (the tests compare the two).
func (c *Converter) convert(body []byte, contentType string, ts time.Time, dst pmetric.MetricSlice, fastPath bool) (Result, error) {
	var res Result
	// textparse stops at a NUL byte as if the input ended there: binary garbage would pass as
	// an empty, successful scrape and mark every series stale.
	if i := bytes.IndexByte(body, 0); i >= 0 {
		return res, fmt.Errorf("parse error: NUL byte at offset %d: not a text exposition", i)
	}
	if fastPath && isTextFormat(contentType) && c.lines.len() > 0 {
		buf := fastSamples.Get().(*[]fastSample)
		samples, ok := c.resolveCached(body, (*buf)[:0])
		if ok {
			res = c.convertResolved(samples, ts, dst)
		}
		clear(samples) // the pool must not keep this target's lines alive
		*buf = samples[:0]
		fastSamples.Put(buf)
		if ok {
			return res, nil
		}
	}
	p, err := textparse.New(body, contentType, c.st, textparse.ParserOptions{
		OpenMetricsSkipSTSeries: true,
		FallbackContentType:     "text/plain",
	})
	if p == nil {
		return res, fmt.Errorf("unsupported exposition: %w", err)
	}
	c.gen++
	clear(c.byName)
	c.touched = c.touched[:0]
	scrapeTS := pcommon.NewTimestampFromTime(ts)

	var fam *family
	famType, famCode := model.MetricTypeUnknown, typeUnknown
	for {
		entry, err := p.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return res, fmt.Errorf("parse error: %w", err)
		}
		switch entry {
		case textparse.EntryType:
			name, t := p.Type()
			fam = c.family(name)
			famType, famCode = t, codeOf(t)
		case textparse.EntryHelp:
			name, help := p.Help()
			if f := c.family(name); f.help != string(help) {
				f.help = string(help)
			}
		case textparse.EntryUnit:
			name, unit := p.Unit()
			if f := c.family(name); f.unit != string(unit) {
				f.unit = string(unit)
			}
		case textparse.EntrySeries:
			res.Samples++
			if c.maxSamples > 0 && res.Samples > c.maxSamples {
				return res, fmt.Errorf("%w: more than %d", ErrTooManySamples, c.maxSamples)
			}
			raw, tsp, v := p.Series()
			key := keyOf(raw)
			ln := c.lines.get(key)
			if !ln.matches(fam, famCode) {
				ln = c.newLine(key, p, fam, famType)
			}
			ln.seen = uint32(c.gen)
			pts := scrapeTS
			if tsp != nil {
				pts = pcommon.Timestamp(*tsp * int64(time.Millisecond))
			}
			c.add(ln, v, pts, p.StartTimestamp(), dst)
		}
	}
	for _, s := range c.touched {
		c.finish(s, dst)
	}
	res.Series, res.Stale = c.sweep(scrapeTS, dst)
	return res, nil
}

// convertResolved converts a scrape whose lines resolveCached resolved: the same steps as
// Convert's textparse loop, without the parsing.
func (c *Converter) convertResolved(samples []fastSample, ts time.Time, dst pmetric.MetricSlice) Result {
	var res Result
	c.gen++
	clear(c.byName)
	c.touched = c.touched[:0]
	scrapeTS := pcommon.NewTimestampFromTime(ts)
	for _, f := range c.fastFams {
		f.seen = c.gen // as family() does on the textparse path, so sweep keeps them
	}
	for i := range samples {
		s := &samples[i]
		res.Samples++
		s.ln.seen = uint32(c.gen)
		pts := scrapeTS
		if s.hasTS {
			pts = pcommon.Timestamp(s.ts * int64(time.Millisecond))
		}
		c.add(s.ln, s.v, pts, 0, dst) // the text format has no start timestamps
	}
	for _, s := range c.touched {
		c.finish(s, dst)
	}
	res.Series, res.Stale = c.sweep(scrapeTS, dst)
	return res
}

// family interns a family name: a lookup with string(name) does not allocate, so only a family
// never seen before costs an allocation.
func (c *Converter) family(name []byte) *family {
	f, ok := c.families[string(name)]
	if !ok {
		f = &family{name: string(name)}
		c.families[f.name] = f
	}
	f.seen = c.gen
	return f
}

// classify tells what a sample named sName is within the family (famName, famType): the metric
// it belongs to, that metric's kind, and the line's role in it.
func classify(famName string, famType model.MetricType, sName string) (string, kind, role) {
	if famName != "" && strings.HasPrefix(sName, famName) {
		suffix := sName[len(famName):]
		switch famType {
		case model.MetricTypeCounter:
			switch suffix {
			case "", "_total":
				return sName, kindSum, roleValue
			}
		case model.MetricTypeGauge:
			if suffix == "" {
				return sName, kindGauge, roleValue
			}
		case model.MetricTypeHistogram:
			switch suffix {
			case "_bucket":
				return famName, kindHistogram, roleBucket
			case "_sum":
				return famName, kindHistogram, roleSum
			case "_count":
				return famName, kindHistogram, roleCount
			}
		case model.MetricTypeSummary:
			switch suffix {
			case "":
				return famName, kindSummary, roleQuantile
			case "_sum":
				return famName, kindSummary, roleSum
			case "_count":
				return famName, kindSummary, roleCount
			}
		}
	}
	// Gauges, info, stateset, gauge histograms, untyped and stray lines: one gauge per name.
	return sName, kindGauge, roleValue
}

// newLine parses the labels of a line not in the cache (or whose cached identity is outdated)
// and finds or creates its series.
func (c *Converter) newLine(lk lineKey, p textparse.Parser, fam *family, famType model.MetricType) *line {
	p.Labels(&c.lbls)
	famName := ""
	if fam != nil {
		famName = fam.name
	}
	sName := c.intern(c.lbls.Get(model.MetricNameLabel))
	name, k, r := classify(famName, famType, sName)
	ln := &line{role: r, fam: fam, typ: codeOf(famType)}
	skip := ""
	switch r {
	case roleBucket, roleQuantile:
		skip = "quantile"
		if r == roleBucket {
			skip = model.BucketLabel
		}
		b, err := strconv.ParseFloat(c.lbls.Get(skip), 64)
		if err != nil || math.IsNaN(b) {
			// Not a usable bucket or quantile: keep the line as a plain gauge rather than lose it.
			name, k, r, skip = sName, kindGauge, roleValue, ""
			ln.role = r
		}
		ln.bound = b
	}
	if r == roleValue && k == kindGauge && strings.HasSuffix(sName, "_created") && sName == famName {
		// Text format: the Python client exposes a counter's or histogram's creation time as a
		// separate gauge family `<base>_created` after the family itself.
		if s := c.createdTarget(strings.TrimSuffix(sName, "_created")); s != nil {
			ln.role, ln.s = roleCreated, s
			c.lines.put(lk, ln)
			return ln
		}
	}
	key := c.key(name, skip)
	s := c.series[key]
	if s == nil || s.kind != k || s.name != name {
		if s != nil {
			s.dead = true
		}
		s = &series{name: name, kind: k, attrs: c.attrs(skip)}
		c.series[key] = s
	}
	ln.s = s
	c.lines.put(lk, ln)
	return ln
}

// createdTarget finds the counter, histogram or summary series, with the current labels, that
// a `<base>_created` line belongs to.
func (c *Converter) createdTarget(base string) *series {
	if s := c.series[c.key(base+"_total", "")]; s != nil && s.kind == kindSum {
		return s
	}
	if s := c.series[c.key(base, "")]; s != nil && (s.kind == kindHistogram || s.kind == kindSummary) {
		return s
	}
	return nil
}

var sep = []byte{0xff}

// key hashes a metric name and the current labels, leaving out __name__ and skip.
func (c *Converter) key(name, skip string) uint64 {
	d := c.digest
	d.Reset()
	_, _ = d.WriteString(name)
	_, _ = d.Write(sep)
	c.lbls.Range(func(l labels.Label) {
		if l.Name == model.MetricNameLabel || l.Name == skip {
			return
		}
		_, _ = d.WriteString(l.Name)
		_, _ = d.Write(sep)
		_, _ = d.WriteString(l.Value)
		_, _ = d.Write(sep)
	})
	return d.Sum64()
}

// intern returns s as a string of its own, the same one for every series of the target.
func (c *Converter) intern(s string) string {
	if v, ok := c.strs[s]; ok {
		return v
	}
	s = strings.Clone(s) // s is part of the line's whole label text
	c.strs[s] = s
	return s
}

// compactStrs rebuilds the intern table from the live series once it has doubled since the
// last rebuild, so strings of series that went away (churning label values) are not kept.
func (c *Converter) compactStrs() {
	if len(c.strs) <= 2*c.strsLive+64 {
		return
	}
	live := make(map[string]string, 2*c.strsLive)
	for _, s := range c.series {
		live[s.name] = s.name
		for _, a := range s.attrs {
			live[a.name] = a.name
			live[a.value] = a.value
		}
	}
	c.strs, c.strsLive = live, len(live)
}

func (c *Converter) attrs(skip string) []attr {
	out := make([]attr, 0, c.lbls.Len())
	c.lbls.Range(func(l labels.Label) {
		if l.Name == model.MetricNameLabel || l.Name == skip {
			return
		}
		out = append(out, attr{c.intern(l.Name), c.intern(l.Value)})
	})
	return out
}

// add records one sample line of the current scrape.
func (c *Converter) add(ln *line, v float64, ts pcommon.Timestamp, startMs int64, dst pmetric.MetricSlice) {
	s := ln.s
	switch ln.role {
	case roleValue:
		if s.seen == c.gen {
			return // duplicate line in one scrape: the first one wins
		}
		s.seen = c.gen
		m := c.metric(s, dst)
		if s.kind == kindGauge {
			dp := m.Gauge().DataPoints().AppendEmpty()
			putAttrs(dp.Attributes(), s.attrs)
			dp.SetTimestamp(ts)
			dp.SetDoubleValue(v)
		} else {
			c.advance(s, v, ts, startMs)
			dp := m.Sum().DataPoints().AppendEmpty()
			putAttrs(dp.Attributes(), s.attrs)
			dp.SetStartTimestamp(s.start)
			dp.SetTimestamp(ts)
			dp.SetDoubleValue(v)
			s.dp = dp
		}
	case roleCreated:
		if s.seen != c.gen {
			return // the series itself is not in this scrape
		}
		if v != s.created && v > 0 {
			s.created = v
			s.start = pcommon.Timestamp(v * 1e9)
		}
		if s.kind == kindSum {
			s.dp.SetStartTimestamp(s.start)
		}
	default:
		if s.seen != c.gen {
			s.seen = c.gen
			s.ts = ts
			s.bounds, s.values = s.bounds[:0], s.values[:0]
			s.inf, s.hasInf, s.sum, s.count, s.hasCount = 0, false, 0, 0, false
			if startMs > 0 {
				s.created = float64(startMs) / 1e3
			}
			c.touched = append(c.touched, s)
		}
		switch ln.role {
		case roleBucket:
			if math.IsInf(ln.bound, 1) {
				s.inf, s.hasInf = v, true
			} else {
				s.bounds = append(s.bounds, ln.bound)
				s.values = append(s.values, v)
			}
		case roleQuantile:
			s.bounds = append(s.bounds, ln.bound)
			s.values = append(s.values, v)
		case roleSum:
			s.sum = v
		case roleCount:
			s.count, s.hasCount = v, true
		}
	}
}

// advance moves a cumulative series' start time: the target's own creation time when it
// exposes one, else the first time the series was seen, and the reset point after a decrease.
func (c *Converter) advance(s *series, v float64, ts pcommon.Timestamp, startMs int64) {
	if startMs > 0 {
		s.created = float64(startMs) / 1e3
		s.start = pcommon.Timestamp(startMs * int64(time.Millisecond))
	} else if s.start == 0 {
		s.start = ts
	} else if v < s.last && s.created == 0 {
		s.start = ts - pcommon.Timestamp(time.Millisecond)
	}
	s.last = v
}

// finish writes an assembled histogram or summary data point.
func (c *Converter) finish(s *series, dst pmetric.MetricSlice) {
	count := s.count
	if !s.hasCount && s.kind == kindHistogram {
		count = s.inf
	}
	startMs := int64(0)
	if s.created > 0 {
		startMs = int64(s.created * 1e3)
	}
	c.advance(s, count, s.ts, startMs)
	if !slices.IsSorted(s.bounds) {
		sortPairs(s.bounds, s.values)
	}
	m := c.metric(s, dst)
	if s.kind == kindHistogram {
		dp := m.Histogram().DataPoints().AppendEmpty()
		putAttrs(dp.Attributes(), s.attrs)
		dp.SetStartTimestamp(s.start)
		dp.SetTimestamp(s.ts)
		dp.SetCount(toCount(count))
		dp.SetSum(s.sum)
		dp.ExplicitBounds().Append(s.bounds...)
		bc := dp.BucketCounts()
		bc.EnsureCapacity(len(s.values) + 1)
		prev := 0.0
		for _, cum := range s.values {
			bc.Append(toCount(cum - prev))
			prev = max(prev, cum)
		}
		total := count
		if s.hasInf {
			total = s.inf
		}
		bc.Append(toCount(total - prev))
	} else {
		dp := m.Summary().DataPoints().AppendEmpty()
		putAttrs(dp.Attributes(), s.attrs)
		dp.SetStartTimestamp(s.start)
		dp.SetTimestamp(s.ts)
		dp.SetCount(toCount(count))
		dp.SetSum(s.sum)
		qs := dp.QuantileValues()
		qs.EnsureCapacity(len(s.bounds))
		for i, q := range s.bounds {
			qv := qs.AppendEmpty()
			qv.SetQuantile(q)
			qv.SetValue(s.values[i])
		}
	}
}

func toCount(v float64) uint64 {
	if !(v > 0) { // also NaN
		return 0
	}
	return uint64(math.Round(v))
}

// sortPairs sorts bounds ascending, keeping values aligned (exposition order is not guaranteed).
func sortPairs(bounds, values []float64) {
	idx := make([]int, len(bounds))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return compareFloat(bounds[a], bounds[b]) })
	b2, v2 := slices.Clone(bounds), slices.Clone(values)
	for i, j := range idx {
		bounds[i], values[i] = b2[j], v2[j]
	}
}

func compareFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// metric returns the metric s belongs to in dst for the current scrape, appending it if needed.
func (c *Converter) metric(s *series, dst pmetric.MetricSlice) pmetric.Metric {
	if i, ok := c.byName[s.name]; ok && i < dst.Len() {
		if m := dst.At(i); m.Name() == s.name && m.Type() == metricType(s.kind) {
			return m
		}
	}
	m := dst.AppendEmpty()
	m.SetName(s.name)
	if f := c.familyOf(s.name); f != nil {
		m.SetDescription(f.help)
		m.SetUnit(f.unit)
	}
	switch s.kind {
	case kindGauge:
		m.SetEmptyGauge()
	case kindSum:
		sum := m.SetEmptySum()
		sum.SetIsMonotonic(true)
		sum.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	case kindHistogram:
		m.SetEmptyHistogram().SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	case kindSummary:
		m.SetEmptySummary()
	}
	c.byName[s.name] = dst.Len() - 1
	return m
}

// familyOf finds the metadata of the family a metric name came from (an OpenMetrics counter's
// family has no _total suffix).
func (c *Converter) familyOf(name string) *family {
	if f, ok := c.families[name]; ok {
		return f
	}
	if base, ok := strings.CutSuffix(name, "_total"); ok {
		return c.families[base]
	}
	return nil
}

func metricType(k kind) pmetric.MetricType {
	switch k {
	case kindSum:
		return pmetric.MetricTypeSum
	case kindHistogram:
		return pmetric.MetricTypeHistogram
	case kindSummary:
		return pmetric.MetricTypeSummary
	}
	return pmetric.MetricTypeGauge
}

func putAttrs(m pcommon.Map, attrs []attr) {
	m.EnsureCapacity(len(attrs))
	for _, a := range attrs {
		m.PutStr(a.name, a.value)
	}
}

// sweep appends stale markers for series not seen in the current scrape, forgets them, and
// drops cache entries nothing refers to any more. It returns live and stale series counts.
func (c *Converter) sweep(ts pcommon.Timestamp, dst pmetric.MetricSlice) (live, stale int) {
	for k, s := range c.series {
		if s.seen == c.gen {
			// Only a successful scrape's series are exported, and so owe a stale marker later.
			s.staleNext = true
			live++
			continue
		}
		if s.staleNext {
			c.appendStale(s, ts, dst)
			stale++
		}
		s.dead = true
		delete(c.series, k)
	}
	gen := uint32(c.gen)
	c.lines.retain(func(ln *line) bool { return ln.seen == gen && !ln.s.dead })
	for k, f := range c.families {
		if f.seen != c.gen {
			delete(c.families, k)
		}
	}
	c.compactStrs()
	return live, stale
}

// AppendStale appends a stale marker for every series of the last successful scrape and forgets
// all state: used when the target goes away or a scrape fails, as Prometheus does.
func (c *Converter) AppendStale(ts time.Time, dst pmetric.MetricSlice) int {
	clear(c.byName)
	pts := pcommon.NewTimestampFromTime(ts)
	n := 0
	for _, s := range c.series {
		if s.staleNext {
			c.appendStale(s, pts, dst)
			n++
		}
		s.dead = true
	}
	clear(c.series)
	c.lines.reset()
	return n
}

func (c *Converter) appendStale(s *series, ts pcommon.Timestamp, dst pmetric.MetricSlice) {
	m := c.metric(s, dst)
	switch s.kind {
	case kindGauge:
		dp := m.Gauge().DataPoints().AppendEmpty()
		putAttrs(dp.Attributes(), s.attrs)
		dp.SetTimestamp(ts)
		dp.SetFlags(scrapecontract.StaleFlags)
	case kindSum:
		dp := m.Sum().DataPoints().AppendEmpty()
		putAttrs(dp.Attributes(), s.attrs)
		dp.SetStartTimestamp(s.start)
		dp.SetTimestamp(ts)
		dp.SetFlags(scrapecontract.StaleFlags)
	case kindHistogram:
		// The exporter marks each bucket series stale, so the bounds must be the last ones seen.
		dp := m.Histogram().DataPoints().AppendEmpty()
		putAttrs(dp.Attributes(), s.attrs)
		dp.SetStartTimestamp(s.start)
		dp.SetTimestamp(ts)
		dp.SetFlags(scrapecontract.StaleFlags)
		dp.ExplicitBounds().Append(s.bounds...)
		dp.BucketCounts().Append(make([]uint64, len(s.bounds)+1)...)
	case kindSummary:
		dp := m.Summary().DataPoints().AppendEmpty()
		putAttrs(dp.Attributes(), s.attrs)
		dp.SetStartTimestamp(s.start)
		dp.SetTimestamp(ts)
		dp.SetFlags(scrapecontract.StaleFlags)
		for _, q := range s.bounds {
			dp.QuantileValues().AppendEmpty().SetQuantile(q)
		}
	}
	s.staleNext = false
}
