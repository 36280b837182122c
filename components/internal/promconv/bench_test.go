package promconv

import (
	"runtime"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otelcol-llminference/otelcol-llminference/tests/fixtures"
)

// BenchmarkScrapeConvert converts the largest real sample (vLLM, ~185 samples incl. 17
// histograms) as a target scraped over and over would be: the per-target cache is warm after the
// first scrape. It reports cost per sample line.
func BenchmarkScrapeConvert(b *testing.B) {
	for _, name := range []string{fixtures.VLLMMixed, fixtures.DCGMExporter} {
		b.Run(name, func(b *testing.B) {
			body := fixtures.Sample(name)
			c := NewConverter(0)
			ts := time.Unix(1700000000, 0)
			res, err := c.Convert(body, textCT, ts, pmetric.NewMetricSlice())
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				ts = ts.Add(15 * time.Second)
				if _, err := c.Convert(body, textCT, ts, pmetric.NewMetricSlice()); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			perOp := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			b.ReportMetric(perOp/float64(res.Samples), "ns/sample")
			b.ReportMetric(float64(res.Samples), "samples/scrape")
		})
	}
}

// BenchmarkRetainedHeap reports what warm converters keep between scrapes, per sample line:
// the line cache, series and their buffers. A node with 200 targets holds 200 of them, so this
// is most of the collector's heap at scale.
func BenchmarkRetainedHeap(b *testing.B) {
	for _, name := range []string{fixtures.VLLMMixed, fixtures.DCGMExporter} {
		b.Run(name, func(b *testing.B) {
			body := fixtures.Sample(name)
			const targets = 100
			var before, after runtime.MemStats
			lines := 0
			for i := 0; i < b.N; i++ {
				runtime.GC()
				runtime.ReadMemStats(&before)
				cs := make([]*Converter, targets)
				ts := time.Unix(1700000000, 0)
				for j := range cs {
					cs[j] = NewConverter(0)
					for k := 0; k < 3; k++ { // the first scrape fills the cache, later ones take the fast path
						res, err := cs[j].Convert(body, textCT, ts.Add(time.Duration(k)*15*time.Second), pmetric.NewMetricSlice())
						if err != nil {
							b.Fatal(err)
						}
						lines = res.Samples
					}
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				runtime.KeepAlive(cs)
			}
			b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(targets*lines), "retained-B/line")
		})
	}
}
