package promconv

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otelcol-llminference/otelcol-llminference/tests/fixtures"
)

// FuzzConvert feeds arbitrary bodies through parse-and-convert. Whatever the input, it must not
// panic, and a successful conversion must be well-formed pdata that a second scrape of the same
// body reproduces without stale markers. `make test` runs the seed corpus; `make fuzz` explores.
func FuzzConvert(f *testing.F) {
	// Go's fuzzer stalls on seeds of tens of KiB, so each real sample seeds with its head, cut at
	// a line boundary; the whole samples are covered by TestConvertRealSamplesAgainstOracle.
	for _, name := range fixtures.All {
		body := fixtures.Sample(name)
		if len(body) > 2048 {
			body = body[:bytes.LastIndexByte(body[:2048], '\n')+1]
		}
		f.Add(body, false)
	}
	f.Add([]byte("# TYPE c counter\nc_total 1\nc_created 1.6e9\n# EOF\n"), true)
	f.Add([]byte("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 2\n"), false)
	f.Add([]byte("# TYPE s summary\ns{quantile=\"0.5\"} 1\ns_sum 1\ns_count 2\n"), false)
	f.Add([]byte("a{b=\"c\"} NaN\na{b=\"d\"} +Inf 123\n"), false)
	f.Fuzz(func(t *testing.T, body []byte, openMetrics bool) {
		ct := "text/plain; version=0.0.4"
		if openMetrics {
			ct = "application/openmetrics-text; version=1.0.0"
		}
		c := NewConverter(10000)
		ms := pmetric.NewMetricSlice()
		res, err := c.Convert(body, ct, time.Unix(1700000000, 0), ms)
		if err != nil {
			return
		}
		if n := countPoints(ms); n != res.Series {
			t.Fatalf("%d data points, result says %d", n, res.Series)
		}
		for i := 0; i < ms.Len(); i++ {
			m := ms.At(i)
			if m.Type() != pmetric.MetricTypeHistogram {
				continue
			}
			for j := 0; j < m.Histogram().DataPoints().Len(); j++ {
				dp := m.Histogram().DataPoints().At(j)
				if dp.BucketCounts().Len() != dp.ExplicitBounds().Len()+1 {
					t.Fatalf("histogram %s: %d buckets for %d bounds", m.Name(), dp.BucketCounts().Len(), dp.ExplicitBounds().Len())
				}
			}
		}
		ms2 := pmetric.NewMetricSlice()
		res2, err := c.Convert(body, ct, time.Unix(1700000001, 0), ms2)
		if err != nil {
			t.Fatalf("second conversion of an accepted body failed: %v", err)
		}
		if res2.Stale != 0 || res2.Series != res.Series {
			t.Fatalf("same body twice: %+v then %+v", res, res2)
		}
		// The second scrape took the cached fast path where it could; textparse alone must
		// give the very same metrics.
		slow := NewConverter(10000)
		_, _ = slow.convert(body, ct, time.Unix(1700000000, 0), pmetric.NewMetricSlice(), false)
		msSlow := pmetric.NewMetricSlice()
		if _, err := slow.convert(body, ct, time.Unix(1700000001, 0), msSlow, false); err != nil {
			t.Fatalf("textparse path failed where the fast path did not: %v", err)
		}
		if a, b := metricsJSON(t, ms2), metricsJSON(t, msSlow); a != b {
			t.Fatalf("fast path and textparse differ:\nfast %s\nslow %s", a, b)
		}
	})
}

func metricsJSON(t testing.TB, ms pmetric.MetricSlice) string {
	md := pmetric.NewMetrics()
	ms.CopyTo(md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics())
	b, err := (&pmetric.JSONMarshaler{}).MarshalMetrics(md)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// FuzzFastPathAfterPriming: a first scrape fills the line cache, then an arbitrary second
// scrape goes through the cached fast path where it can. The pair must convert exactly as
// textparse alone converts it (same result, same error, same metrics): whatever the second
// body does with the texts the first one cached, the fast path may only resolve lines that
// textparse accepts and reads the same way.
func FuzzFastPathAfterPriming(f *testing.F) {
	for _, name := range fixtures.All {
		body := fixtures.Sample(name)
		if len(body) > 2048 {
			body = body[:bytes.LastIndexByte(body[:2048], '\n')+1]
		}
		f.Add(body, body)
		f.Add(body, bytes.ReplaceAll(body, []byte("} "), []byte("}")))
		f.Add(body, bytes.ReplaceAll(body, []byte("\n"), []byte(" }\n")))
	}
	f.Add([]byte("a{b=\"c\"} 1\nup 1\n"), []byte("a{b=\"c\"} 1 a{b=\"c\"}\nup 1 2 3\n"))
	f.Fuzz(func(t *testing.T, first, second []byte) {
		const ct = "text/plain; version=0.0.4"
		fast, slow := NewConverter(10000), NewConverter(10000)
		ts := time.Unix(1700000000, 0)
		for i, body := range [][]byte{first, second} {
			mf, ms := pmetric.NewMetricSlice(), pmetric.NewMetricSlice()
			rf, errF := fast.Convert(body, ct, ts, mf)
			rs, errS := slow.convert(body, ct, ts, ms, false)
			if (errF == nil) != (errS == nil) || (errF != nil && errF.Error() != errS.Error()) {
				t.Fatalf("scrape %d: fast path error %v, textparse %v", i, errF, errS)
			}
			if errF != nil {
				return // a failed scrape's partial output is discarded by the caller
			}
			if rf != rs {
				t.Fatalf("scrape %d: fast path %+v, textparse %+v", i, rf, rs)
			}
			// Sorted: stale markers come out of a map sweep in no particular order.
			if a, b := strings.Join(canonical(t, mf), "\n"), strings.Join(canonical(t, ms), "\n"); a != b {
				t.Fatalf("scrape %d: fast path and textparse differ:\nfast %s\nslow %s", i, a, b)
			}
			ts = ts.Add(time.Second)
		}
	})
}
