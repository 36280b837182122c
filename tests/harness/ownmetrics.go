package harness

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// CollectorMetric reads one metric from a collector's own metrics endpoint on 127.0.0.1:port:
// the sum of the series of that name whose labels include match ("k=v"; "" matches all), a
// histogram counting its observations; -1 when the endpoint or the metric is absent.
func CollectorMetric(port int, name, match string) float64 {
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return -1
	}
	fam, ok := fams[name]
	if !ok {
		return -1
	}
	k, v, _ := strings.Cut(match, "=")
	total := 0.0
	for _, m := range fam.Metric {
		found := match == ""
		for _, l := range m.Label {
			if l.GetName() == k && l.GetValue() == v {
				found = true
			}
		}
		if !found {
			continue
		}
		switch {
		case m.Counter != nil:
			total += m.GetCounter().GetValue()
		case m.Gauge != nil:
			total += m.GetGauge().GetValue()
		case m.Histogram != nil:
			total += float64(m.GetHistogram().GetSampleCount())
		}
	}
	return total
}
