package promconv

import (
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
