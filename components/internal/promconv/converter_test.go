package promconv

import (
	"bytes"
	"errors"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otelcol-llminference/otelcol-llminference/tests/fixtures"
)

const textCT = "text/plain; version=0.0.4"
const omCT = "application/openmetrics-text; version=1.0.0"

var t0 = time.Unix(1700000000, 0)

func convert(t *testing.T, c *Converter, body string, ct string, ts time.Time) (pmetric.MetricSlice, Result) {
	t.Helper()
	ms := pmetric.NewMetricSlice()
	res, err := c.Convert([]byte(body), ct, ts, ms)
	require.NoError(t, err)
	return ms, res
}

func metricByName(ms pmetric.MetricSlice, name string) (pmetric.Metric, bool) {
	for i := 0; i < ms.Len(); i++ {
		if ms.At(i).Name() == name {
			return ms.At(i), true
		}
	}
	return pmetric.Metric{}, false
}

func TestCounterStartTime(t *testing.T) {
	tests := []struct {
		name   string
		ct     string
		scrape []string // successive bodies
		want   []time.Time
	}{
		{
			name:   "first seen, then kept",
			ct:     textCT,
			scrape: []string{"# TYPE c_total counter\nc_total 5\n", "# TYPE c_total counter\nc_total 7\n"},
			want:   []time.Time{t0, t0},
		},
		{
			name:   "reset moves start to just before the scrape that saw it",
			ct:     textCT,
			scrape: []string{"# TYPE c_total counter\nc_total 5\n", "# TYPE c_total counter\nc_total 2\n", "# TYPE c_total counter\nc_total 3\n"},
			want:   []time.Time{t0, t0.Add(time.Second - time.Millisecond), t0.Add(time.Second - time.Millisecond)},
		},
		{
			name: "text format _created family (Python client)",
			ct:   textCT,
			scrape: []string{
				"# TYPE c_total counter\nc_total{a=\"x\"} 5\n# TYPE c_created gauge\nc_created{a=\"x\"} 1.6e9\n",
				"# TYPE c_total counter\nc_total{a=\"x\"} 1\n# TYPE c_created gauge\nc_created{a=\"x\"} 1.6000001e9\n",
			},
			want: []time.Time{time.Unix(1600000000, 0), time.Unix(1600000100, 0)},
		},
		{
			name: "OpenMetrics _created",
			ct:   omCT,
			scrape: []string{
				"# TYPE c counter\nc_total 5\nc_created 1.6e9\n# EOF\n",
			},
			want: []time.Time{time.Unix(1600000000, 0)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewConverter(0)
			for i, body := range tt.scrape {
				ms, _ := convert(t, c, body, tt.ct, t0.Add(time.Duration(i)*time.Second))
				m, ok := metricByName(ms, "c_total")
				require.True(t, ok)
				_, created := metricByName(ms, "c_created")
				assert.False(t, created, "_created is folded into the start time, not exported")
				dp := m.Sum().DataPoints().At(0)
				assert.Equal(t, pcommon.NewTimestampFromTime(tt.want[i]), dp.StartTimestamp(), "scrape %d", i)
				assert.Equal(t, pcommon.NewTimestampFromTime(t0.Add(time.Duration(i)*time.Second)), dp.Timestamp())
			}
		})
	}
}

func TestHistogramResetAndCreated(t *testing.T) {
	body := func(count int, created string) string {
		s := "# TYPE h histogram\n" +
			"h_bucket{le=\"0.5\"} 1\nh_bucket{le=\"1\"} " + itoa(count) + "\nh_bucket{le=\"+Inf\"} " + itoa(count) + "\nh_sum 2.5\nh_count " + itoa(count) + "\n"
		if created != "" {
			s += "# TYPE h_created gauge\nh_created " + created + "\n"
		}
		return s
	}
	c := NewConverter(0)
	ms, _ := convert(t, c, body(4, ""), textCT, t0)
	m, _ := metricByName(ms, "h")
	assert.Equal(t, pcommon.NewTimestampFromTime(t0), m.Histogram().DataPoints().At(0).StartTimestamp())
	ms, _ = convert(t, c, body(2, ""), textCT, t0.Add(time.Second))
	m, _ = metricByName(ms, "h")
	assert.Equal(t, pcommon.NewTimestampFromTime(t0.Add(time.Second-time.Millisecond)), m.Histogram().DataPoints().At(0).StartTimestamp(), "count decreased: reset")

	c = NewConverter(0)
	ms, _ = convert(t, c, body(4, "1.5e9"), textCT, t0)
	m, _ = metricByName(ms, "h")
	assert.Equal(t, pcommon.NewTimestampFromTime(time.Unix(1500000000, 0)), m.Histogram().DataPoints().At(0).StartTimestamp())
	_, exported := metricByName(ms, "h_created")
	assert.False(t, exported)
}

func itoa(i int) string { return pcommon.NewValueInt(int64(i)).AsString() }

func TestStaleness(t *testing.T) {
	full := "# TYPE g gauge\ng{a=\"1\"} 1\ng{a=\"2\"} 2\n" +
		"# TYPE c_total counter\nc_total 3\n" +
		"# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\n" +
		"# TYPE s summary\ns{quantile=\"0.5\"} 1\ns{quantile=\"0.9\"} 2\ns_sum 3\ns_count 4\n"
	c := NewConverter(0)
	_, res := convert(t, c, full, textCT, t0)
	assert.Equal(t, 5, res.Series)
	assert.Equal(t, 0, res.Stale)

	// g{a="2"}, the counter, the histogram and the summary disappear.
	ms, res := convert(t, c, "# TYPE g gauge\ng{a=\"1\"} 1\n", textCT, t0.Add(time.Second))
	assert.Equal(t, 1, res.Series)
	assert.Equal(t, 4, res.Stale)
	stale := staleKeys(ms)
	assert.ElementsMatch(t, []string{"g a=2", "c_total", "h", "s"}, stale)
	h, _ := metricByName(ms, "h")
	assert.Equal(t, []float64{1}, h.Histogram().DataPoints().At(0).ExplicitBounds().AsRaw(), "stale histogram keeps its bounds so every bucket series goes stale")
	s, _ := metricByName(ms, "s")
	assert.Equal(t, 2, s.Summary().DataPoints().At(0).QuantileValues().Len())

	// Exactly once: a third scrape without them emits nothing more.
	_, res = convert(t, c, "# TYPE g gauge\ng{a=\"1\"} 1\n", textCT, t0.Add(2*time.Second))
	assert.Equal(t, 0, res.Stale)

	// A series that comes back is fresh: new start time.
	ms, _ = convert(t, c, full, textCT, t0.Add(3*time.Second))
	ct, _ := metricByName(ms, "c_total")
	assert.Equal(t, pcommon.NewTimestampFromTime(t0.Add(3*time.Second)), ct.Sum().DataPoints().At(0).StartTimestamp())

	// Target gone: every series stale, once.
	ms = pmetric.NewMetricSlice()
	assert.Equal(t, 5, c.AppendStale(t0.Add(4*time.Second), ms))
	assert.Len(t, staleKeys(ms), 5)
	assert.Equal(t, 0, c.AppendStale(t0.Add(5*time.Second), pmetric.NewMetricSlice()))
}

// staleKeys lists "name attrs" of every data point flagged NoRecordedValue, failing on others.
func staleKeys(ms pmetric.MetricSlice) []string {
	var out []string
	add := func(name string, flags pmetric.DataPointFlags, attrs pcommon.Map) {
		if flags.NoRecordedValue() {
			k := name
			if a := attrString(attrs); a != "" {
				k += " " + a
			}
			out = append(out, k)
		}
	}
	for i := 0; i < ms.Len(); i++ {
		m := ms.At(i)
		switch m.Type() {
		case pmetric.MetricTypeGauge:
			for j := 0; j < m.Gauge().DataPoints().Len(); j++ {
				dp := m.Gauge().DataPoints().At(j)
				add(m.Name(), dp.Flags(), dp.Attributes())
			}
		case pmetric.MetricTypeSum:
			for j := 0; j < m.Sum().DataPoints().Len(); j++ {
				dp := m.Sum().DataPoints().At(j)
				add(m.Name(), dp.Flags(), dp.Attributes())
			}
		case pmetric.MetricTypeHistogram:
			for j := 0; j < m.Histogram().DataPoints().Len(); j++ {
				dp := m.Histogram().DataPoints().At(j)
				add(m.Name(), dp.Flags(), dp.Attributes())
			}
		case pmetric.MetricTypeSummary:
			for j := 0; j < m.Summary().DataPoints().Len(); j++ {
				dp := m.Summary().DataPoints().At(j)
				add(m.Name(), dp.Flags(), dp.Attributes())
			}
		}
	}
	return out
}

func TestBadInput(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		ct      string
		limit   int
		wantErr string
		is      error
	}{
		{name: "garbage", body: "\x00\x01 this is not metrics {{{\n", ct: textCT, wantErr: "parse error"},
		{name: "unterminated label", body: "a{b=\"c} 1\n", ct: textCT, wantErr: "parse error"},
		{name: "missing value", body: "a{b=\"c\"}\n", ct: textCT, wantErr: "parse error"},
		{name: "too many samples", body: "a 1\nb 2\nc 3\n", ct: textCT, limit: 2, is: ErrTooManySamples},
		{name: "unknown content type falls back to text", body: "a 1\n", ct: "application/json"},
		{name: "openmetrics without EOF", body: "# TYPE a gauge\na 1\n", ct: omCT, wantErr: "parse error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewConverter(tt.limit)
			_, err := c.Convert([]byte(tt.body), tt.ct, t0, pmetric.NewMetricSlice())
			switch {
			case tt.is != nil:
				assert.True(t, errors.Is(err, tt.is), "got %v", err)
			case tt.wantErr != "":
				assert.ErrorContains(t, err, tt.wantErr)
			default:
				assert.NoError(t, err)
			}
		})
	}
}

func TestOddButValidExpositions(t *testing.T) {
	t.Run("duplicate line: first wins", func(t *testing.T) {
		ms, res := convert(t, NewConverter(0), "a 1\na 2\n", textCT, t0)
		m, _ := metricByName(ms, "a")
		require.Equal(t, 1, m.Gauge().DataPoints().Len())
		assert.Equal(t, 1.0, m.Gauge().DataPoints().At(0).DoubleValue())
		assert.Equal(t, 1, res.Series)
	})
	t.Run("unsorted buckets", func(t *testing.T) {
		ms, _ := convert(t, NewConverter(0), "# TYPE h histogram\nh_bucket{le=\"2\"} 3\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 4\nh_sum 5\nh_count 4\n", textCT, t0)
		m, _ := metricByName(ms, "h")
		dp := m.Histogram().DataPoints().At(0)
		assert.Equal(t, []float64{1, 2}, dp.ExplicitBounds().AsRaw())
		assert.Equal(t, []uint64{1, 2, 1}, dp.BucketCounts().AsRaw())
	})
	t.Run("histogram without _count uses +Inf", func(t *testing.T) {
		ms, _ := convert(t, NewConverter(0), "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 4\n", textCT, t0)
		m, _ := metricByName(ms, "h")
		assert.Equal(t, uint64(4), m.Histogram().DataPoints().At(0).Count())
	})
	t.Run("bad le keeps the line as a gauge", func(t *testing.T) {
		ms, _ := convert(t, NewConverter(0), "# TYPE h histogram\nh_bucket{le=\"x\"} 1\n", textCT, t0)
		m, ok := metricByName(ms, "h_bucket")
		require.True(t, ok)
		assert.Equal(t, pmetric.MetricTypeGauge, m.Type())
	})
	t.Run("family changes type between scrapes", func(t *testing.T) {
		c := NewConverter(0)
		convert(t, c, "# TYPE x gauge\nx 1\n", textCT, t0)
		ms, _ := convert(t, c, "# TYPE x counter\nx 2\n", textCT, t0.Add(time.Second))
		var types []pmetric.MetricType
		for i := 0; i < ms.Len(); i++ {
			types = append(types, ms.At(i).Type())
		}
		assert.Contains(t, types, pmetric.MetricTypeSum)
	})
	t.Run("explicit timestamps are kept", func(t *testing.T) {
		ms, _ := convert(t, NewConverter(0), "a 1 1600000000123\n", textCT, t0)
		m, _ := metricByName(ms, "a")
		assert.Equal(t, pcommon.Timestamp(1600000000123*int64(time.Millisecond)), m.Gauge().DataPoints().At(0).Timestamp())
	})
	t.Run("label values kept exactly", func(t *testing.T) {
		ms, _ := convert(t, NewConverter(0), "a{model_name=\"Qwen/Qwen3-8B\",q=\"a\\\"b\\\\c\\n\"} 1\n", textCT, t0)
		m, _ := metricByName(ms, "a")
		attrs := m.Gauge().DataPoints().At(0).Attributes().AsRaw()
		assert.Equal(t, map[string]any{"model_name": "Qwen/Qwen3-8B", "q": "a\"b\\c\n"}, attrs)
	})
}

// TestSteadyStateAllocations guards the line cache: a repeated scrape must not parse label
// sets again, so its allocations are those of pdata alone.
func TestSteadyStateCacheSize(t *testing.T) {
	c := NewConverter(0)
	body := "# TYPE g gauge\ng{a=\"1\"} 1\ng{a=\"2\"} 2\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\n"
	for i := 0; i < 3; i++ {
		convert(t, c, body, textCT, t0.Add(time.Duration(i)*time.Second))
	}
	assert.Equal(t, 6, c.lines.len(), "one cache entry per line")
	assert.Len(t, c.series, 3, "one series per gauge line and per histogram")
	convert(t, c, "# TYPE g gauge\ng{a=\"1\"} 1\n", textCT, t0.Add(5*time.Second))
	assert.Equal(t, 1, c.lines.len(), "lines of vanished series are dropped")
	assert.Len(t, c.series, 1)
}

// TestFailedScrapeOwesNoStaleForUnexportedSeries: series first seen in a scrape that failed
// were never exported, so they must not get stale markers; earlier exported ones must.
func TestFailedScrapeOwesNoStaleForUnexportedSeries(t *testing.T) {
	c := NewConverter(2)
	convert(t, c, "a 1\n", textCT, t0)
	_, err := c.Convert([]byte("a 1\nb 2\nc 3\n"), textCT, t0.Add(time.Second), pmetric.NewMetricSlice())
	require.ErrorIs(t, err, ErrTooManySamples)
	ms := pmetric.NewMetricSlice()
	assert.Equal(t, 1, c.AppendStale(t0.Add(time.Second), ms))
	assert.Equal(t, []string{"a"}, staleKeys(ms))
}

// TestFastPathEqualsTextparse converts a sequence of scrapes of every real sample, with
// values changing, a series leaving and coming back, a new series, a changed HELP text, a
// family changing type and explicit timestamps, twice: with the cached fast path and with
// textparse alone. Every scrape must give the very same metrics.
func TestFastPathEqualsTextparse(t *testing.T) {
	for _, name := range fixtures.All {
		t.Run(name, func(t *testing.T) {
			base := string(fixtures.Sample(name))
			lines := strings.Split(base, "\n")
			firstSample := 0
			for i, l := range lines {
				if l != "" && l[0] != '#' {
					firstSample = i
					break
				}
			}
			bump := func(s string, by string) string { // change every value: append digits to it
				out := strings.Split(s, "\n")
				for i, l := range out {
					if l == "" || l[0] == '#' {
						continue
					}
					if j := strings.LastIndexByte(l, ' '); j > 0 && !strings.ContainsAny(l[j+1:], "NaInf") {
						out[i] = l + by
					}
				}
				return strings.Join(out, "\n")
			}
			without := strings.Join(append(append([]string{}, lines[:firstSample]...), lines[firstSample+1:]...), "\n")
			scrapes := []string{
				base,
				bump(base, "1"),
				bump(base, "2"),
				without, // one series gone: a stale marker
				base,    // back
				base + "brand_new_metric{a=\"b\"} 7\n",
				strings.Replace(base, "# HELP ", "# HELP changed_help_of_nothing x\n# HELP ", 1),
				"# TYPE brand_new_metric counter\nbrand_new_metric{a=\"b\"} 8\n" + base,
				base + "with_ts 3 1600000000123\n",
				base + "with_ts 4 1600000001123\n",
				"",
			}
			fast, slow := NewConverter(0), NewConverter(0)
			ts := t0
			for i, body := range scrapes {
				ts = ts.Add(15 * time.Second)
				mf, mS := pmetric.NewMetricSlice(), pmetric.NewMetricSlice()
				rf, errF := fast.Convert([]byte(body), textCT, ts, mf)
				rs, errS := slow.convert([]byte(body), textCT, ts, mS, false)
				require.Equal(t, errS, errF, "scrape %d", i)
				require.Equal(t, rs, rf, "scrape %d", i)
				require.Equal(t, canonical(t, mS), canonical(t, mf), "scrape %d", i)
			}
		})
	}
}

// canonical renders metrics as sorted lines of one data point each: stale markers come out of
// a map sweep in no particular order.
func canonical(t *testing.T, ms pmetric.MetricSlice) []string {
	var out []string
	for i := 0; i < ms.Len(); i++ {
		m := ms.At(i)
		one := pmetric.NewMetricSlice()
		m.CopyTo(one.AppendEmpty())
		c := one.At(0)
		var n int
		switch c.Type() {
		case pmetric.MetricTypeGauge:
			n = c.Gauge().DataPoints().Len()
		case pmetric.MetricTypeSum:
			n = c.Sum().DataPoints().Len()
		case pmetric.MetricTypeHistogram:
			n = c.Histogram().DataPoints().Len()
		case pmetric.MetricTypeSummary:
			n = c.Summary().DataPoints().Len()
		}
		for j := 0; j < n; j++ {
			single := pmetric.NewMetricSlice()
			m.CopyTo(single.AppendEmpty())
			s := single.At(0)
			keep := func(k int) bool { return k == j }
			k := 0
			switch s.Type() {
			case pmetric.MetricTypeGauge:
				s.Gauge().DataPoints().RemoveIf(func(pmetric.NumberDataPoint) bool { k++; return !keep(k - 1) })
			case pmetric.MetricTypeSum:
				s.Sum().DataPoints().RemoveIf(func(pmetric.NumberDataPoint) bool { k++; return !keep(k - 1) })
			case pmetric.MetricTypeHistogram:
				s.Histogram().DataPoints().RemoveIf(func(pmetric.HistogramDataPoint) bool { k++; return !keep(k - 1) })
			case pmetric.MetricTypeSummary:
				s.Summary().DataPoints().RemoveIf(func(pmetric.SummaryDataPoint) bool { k++; return !keep(k - 1) })
			}
			out = append(out, metricsJSON(t, single))
		}
	}
	sort.Strings(out)
	return out
}

// TestConverterKeepsNothingOfTheBody: the receiver lends a body's buffer to the next scrape of
// any target as soon as Convert returns, so neither the metrics Convert produced nor the
// converter's cache may point into it. Each real sample is converted from a buffer that is
// then overwritten; that scrape's metrics and the next scrape's (through the cache) must equal
// those of a converter whose buffers were left alone.
func TestConverterKeepsNothingOfTheBody(t *testing.T) {
	for _, name := range fixtures.All {
		t.Run(name, func(t *testing.T) {
			body := fixtures.Sample(name)
			ct := textCT
			lent, kept := NewConverter(0), NewConverter(0)
			ts := t0
			for i := 0; i < 2; i++ {
				buf := bytes.Clone(body)
				mLent, mKept := pmetric.NewMetricSlice(), pmetric.NewMetricSlice()
				_, err := lent.Convert(buf, ct, ts, mLent)
				require.NoError(t, err)
				for j := range buf {
					buf[j] = 'x'
				}
				_, err = kept.Convert(bytes.Clone(body), ct, ts, mKept)
				require.NoError(t, err)
				require.Equal(t, canonical(t, mKept), canonical(t, mLent), "scrape %d", i)
				ts = ts.Add(15 * time.Second)
			}
		})
	}
}

// TestTypeCodesAreDistinct: the line cache compares family types by code, so two types with
// one code would let a line cached under one stand for a line under the other.
func TestTypeCodesAreDistinct(t *testing.T) {
	seen := map[typeCode]model.MetricType{}
	for _, mt := range typeCodes {
		code := codeOf(mt)
		require.NotEqual(t, typeOther, code, mt)
		prev, dup := seen[code]
		require.False(t, dup, "%s and %s share code %d", prev, mt, code)
		seen[code] = mt
	}
	assert.Equal(t, typeOther, codeOf("made-up"))
	var ln *line
	assert.False(t, ln.matches(nil, typeUnknown), "no cached line")
	ln = &line{s: &series{}, typ: typeOther}
	assert.False(t, ln.matches(nil, typeOther), "a line under an unlisted type is never reused")
}
