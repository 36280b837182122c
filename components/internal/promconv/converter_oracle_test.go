package promconv

import (
	"bytes"
	"math"
	"sort"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otelcol-llminference/otelcol-llminference/tests/fixtures"
)

// TestConvertRealSamplesAgainstOracle converts every real engine output and checks each sample
// against an independent parser (prometheus/common expfmt): every family arrives with the right
// type, every series with exactly its labels and value, every histogram with its exact buckets.
func TestConvertRealSamplesAgainstOracle(t *testing.T) {
	for _, name := range fixtures.All {
		t.Run(name, func(t *testing.T) {
			body := fixtures.Sample(name)
			parser := expfmt.NewTextParser(model.UTF8Validation)
			fams, err := parser.TextToMetricFamilies(bytes.NewReader(body))
			require.NoError(t, err)

			ms := pmetric.NewMetricSlice()
			res, err := NewConverter(0).Convert(body, "text/plain; version=0.0.4; charset=utf-8", time.Unix(1700000000, 0), ms)
			require.NoError(t, err)
			got := index(ms)

			wantSamples := 0
			for famName, fam := range fams {
				if createdOf(fams, famName) {
					// The Python client's old-style <name>_created gauges: start times of their
					// family, not series of their own (the converter uses them as such).
					wantSamples += len(fam.Metric)
					continue
				}
				for _, m := range fam.Metric {
					switch fam.GetType() {
					case dto.MetricType_COUNTER:
						wantSamples++
						dp := findNumber(t, got, famName, pmetric.MetricTypeSum, labelsOf(m))
						assert.Equal(t, m.GetCounter().GetValue(), dp.DoubleValue(), famName)
					case dto.MetricType_GAUGE:
						wantSamples++
						dp := findNumber(t, got, famName, pmetric.MetricTypeGauge, labelsOf(m))
						assertFloatEqual(t, m.GetGauge().GetValue(), dp.DoubleValue(), famName)
					case dto.MetricType_UNTYPED:
						wantSamples++
						dp := findNumber(t, got, famName, pmetric.MetricTypeGauge, labelsOf(m))
						assertFloatEqual(t, m.GetUntyped().GetValue(), dp.DoubleValue(), famName)
					case dto.MetricType_HISTOGRAM:
						h := m.GetHistogram()
						wantSamples += len(h.Bucket) + 2
						dp := findHistogram(t, got, famName, labelsOf(m))
						assert.Equal(t, h.GetSampleCount(), dp.Count(), famName)
						assert.Equal(t, h.GetSampleSum(), dp.Sum(), famName)
						var bounds []float64
						var counts []uint64
						prev := uint64(0)
						for _, b := range h.Bucket {
							if math.IsInf(b.GetUpperBound(), 1) {
								continue
							}
							bounds = append(bounds, b.GetUpperBound())
							counts = append(counts, b.GetCumulativeCount()-prev)
							prev = b.GetCumulativeCount()
						}
						counts = append(counts, h.GetSampleCount()-prev)
						assert.Equal(t, bounds, dp.ExplicitBounds().AsRaw(), famName)
						assert.Equal(t, counts, dp.BucketCounts().AsRaw(), famName)
					case dto.MetricType_SUMMARY:
						s := m.GetSummary()
						wantSamples += len(s.Quantile) + 2
						dp := findSummary(t, got, famName, labelsOf(m))
						assert.Equal(t, s.GetSampleCount(), dp.Count(), famName)
						assert.Equal(t, s.GetSampleSum(), dp.Sum(), famName)
						require.Equal(t, len(s.Quantile), dp.QuantileValues().Len(), famName)
						for i, q := range s.Quantile {
							assert.Equal(t, q.GetQuantile(), dp.QuantileValues().At(i).Quantile(), famName)
							assert.Equal(t, q.GetValue(), dp.QuantileValues().At(i).Value(), famName)
						}
					default:
						t.Fatalf("oracle returned unexpected type %v for %s", fam.GetType(), famName)
					}
				}
			}
			assert.Equal(t, wantSamples, res.Samples, "sample lines counted")
			assert.Equal(t, len(got), countPoints(ms), "no data point beyond the oracle's")
			assert.Len(t, got, res.Series)
		})
	}
}

// createdOf reports whether famName is the _created gauge of a counter, histogram or summary.
func createdOf(fams map[string]*dto.MetricFamily, famName string) bool {
	base, ok := strings.CutSuffix(famName, "_created")
	if !ok || fams[famName].GetType() != dto.MetricType_GAUGE {
		return false
	}
	for _, name := range []string{base, base + "_total"} {
		if f, ok := fams[name]; ok && f.GetType() != dto.MetricType_GAUGE && f.GetType() != dto.MetricType_UNTYPED {
			return true
		}
	}
	return false
}

type pointKey struct {
	name   string
	typ    pmetric.MetricType
	labels string
}

type point struct {
	number    pmetric.NumberDataPoint
	histogram pmetric.HistogramDataPoint
	summary   pmetric.SummaryDataPoint
}

// index lists every data point of ms by metric name, type and attributes, failing on duplicates.
func index(ms pmetric.MetricSlice) map[pointKey]point {
	out := map[pointKey]point{}
	for i := 0; i < ms.Len(); i++ {
		m := ms.At(i)
		switch m.Type() {
		case pmetric.MetricTypeGauge:
			for j := 0; j < m.Gauge().DataPoints().Len(); j++ {
				dp := m.Gauge().DataPoints().At(j)
				out[pointKey{m.Name(), m.Type(), attrString(dp.Attributes())}] = point{number: dp}
			}
		case pmetric.MetricTypeSum:
			if !m.Sum().IsMonotonic() || m.Sum().AggregationTemporality() != pmetric.AggregationTemporalityCumulative {
				panic("sum not cumulative monotonic: " + m.Name())
			}
			for j := 0; j < m.Sum().DataPoints().Len(); j++ {
				dp := m.Sum().DataPoints().At(j)
				out[pointKey{m.Name(), m.Type(), attrString(dp.Attributes())}] = point{number: dp}
			}
		case pmetric.MetricTypeHistogram:
			for j := 0; j < m.Histogram().DataPoints().Len(); j++ {
				dp := m.Histogram().DataPoints().At(j)
				out[pointKey{m.Name(), m.Type(), attrString(dp.Attributes())}] = point{histogram: dp}
			}
		case pmetric.MetricTypeSummary:
			for j := 0; j < m.Summary().DataPoints().Len(); j++ {
				dp := m.Summary().DataPoints().At(j)
				out[pointKey{m.Name(), m.Type(), attrString(dp.Attributes())}] = point{summary: dp}
			}
		}
	}
	return out
}

func countPoints(ms pmetric.MetricSlice) int {
	n := 0
	for i := 0; i < ms.Len(); i++ {
		m := ms.At(i)
		switch m.Type() {
		case pmetric.MetricTypeGauge:
			n += m.Gauge().DataPoints().Len()
		case pmetric.MetricTypeSum:
			n += m.Sum().DataPoints().Len()
		case pmetric.MetricTypeHistogram:
			n += m.Histogram().DataPoints().Len()
		case pmetric.MetricTypeSummary:
			n += m.Summary().DataPoints().Len()
		}
	}
	return n
}

func attrString(m pcommon.Map) string {
	var parts []string
	m.Range(func(k string, v pcommon.Value) bool {
		parts = append(parts, k+"="+v.AsString())
		return true
	})
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

func labelsOf(m *dto.Metric) string {
	var parts []string
	for _, l := range m.Label {
		parts = append(parts, l.GetName()+"="+l.GetValue())
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

func findNumber(t *testing.T, got map[pointKey]point, name string, typ pmetric.MetricType, lbls string) pmetric.NumberDataPoint {
	t.Helper()
	p, ok := got[pointKey{name, typ, lbls}]
	require.Truef(t, ok, "missing %s %s{%s}", typ, name, lbls)
	return p.number
}

func findHistogram(t *testing.T, got map[pointKey]point, name, lbls string) pmetric.HistogramDataPoint {
	t.Helper()
	p, ok := got[pointKey{name, pmetric.MetricTypeHistogram, lbls}]
	require.Truef(t, ok, "missing histogram %s{%s}", name, lbls)
	return p.histogram
}

func findSummary(t *testing.T, got map[pointKey]point, name, lbls string) pmetric.SummaryDataPoint {
	t.Helper()
	p, ok := got[pointKey{name, pmetric.MetricTypeSummary, lbls}]
	require.Truef(t, ok, "missing summary %s{%s}", name, lbls)
	return p.summary
}

func assertFloatEqual(t *testing.T, want, got float64, msg string) {
	t.Helper()
	if math.IsNaN(want) {
		assert.True(t, math.IsNaN(got), msg)
		return
	}
	assert.Equal(t, want, got, msg)
}
