package llminferenceremotewriteexporter

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"testing"
	"time"

	prw "github.com/open-telemetry/opentelemetry-collector-contrib/pkg/translator/prometheusremotewrite"
	"github.com/prometheus/prometheus/prompb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otelcol-llminference/otelcol-llminference/components/internal/promconv"
	"github.com/otelcol-llminference/otelcol-llminference/tests/fixtures"
)

// scrapeOf converts a real engine output as the receiver does, on a resource like the
// receiver's (identity, job and instance), for a second scrape when stale is set, after which
// every series is gone (stale markers for all of them).
func scrapeOf(t testing.TB, body []byte, pod string, stale bool) pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	a := rm.Resource().Attributes()
	for k, v := range map[string]string{"namespace": "llm", "pod": pod, "node": "n1", "workload_name": "qwen", "backend": "vllm",
		"k8s.pod.uid": "u1", "service.name": "llminference", "service.instance.id": "10.0.0.1:8000"} {
		a.PutStr(k, v)
	}
	ms := rm.ScopeMetrics().AppendEmpty().Metrics()
	c := promconv.NewConverter(100000)
	_, err := c.Convert(body, "text/plain; version=0.0.4", t0, ms)
	require.NoError(t, err)
	if stale {
		ms.RemoveIf(func(pmetric.Metric) bool { return true })
		_, err = c.Convert([]byte("# nothing\n"), "text/plain; version=0.0.4", t0.Add(time.Second), ms)
		require.NoError(t, err)
		require.Positive(t, ms.Len())
	}
	return md
}

// flatten renders a WriteRequest as one line per sample, sorted: labels, value bits, time.
func flatten(req *prompb.WriteRequest) []string {
	var out []string
	for _, ts := range req.Timeseries {
		var b strings.Builder
		for _, l := range ts.Labels {
			fmt.Fprintf(&b, "%s=%q,", l.Name, l.Value)
		}
		for _, s := range ts.Samples {
			out = append(out, fmt.Sprintf("%s %x @%d", b.String(), math.Float64bits(s.Value), s.Timestamp))
		}
	}
	sort.Strings(out)
	return out
}

// TestEncoderMatchesContribTranslator: for the real vLLM, SGLang and dcgm-exporter outputs,
// with stale markers and external labels, our encoder sends exactly the series, labels,
// values and timestamps that contrib's prometheusremotewrite translator produces with the
// resource labels passed as external labels (what this exporter did before it had an encoder).
func TestEncoderMatchesContribTranslator(t *testing.T) {
	resourceLabels := []string{"namespace", "pod", "node", "workload_name", "backend"}
	external := map[string]string{"cluster": "prod", "pod": "never-wins"}
	for _, name := range fixtures.All {
		for _, stale := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s stale=%v", name, stale), func(t *testing.T) {
				md := scrapeOf(t, fixtures.Sample(name), "qwen-0", stale)

				enc := newEncoder(resourceLabels, external)
				var got prompb.WriteRequest
				require.NoError(t, got.Unmarshal(enc.appendMetrics(nil, md)))

				labels := map[string]string{"cluster": "prod"}
				attrs := md.ResourceMetrics().At(0).Resource().Attributes()
				for _, k := range resourceLabels {
					v, _ := attrs.Get(k)
					labels[k] = v.Str()
				}
				want, err := prw.FromMetrics(md, prw.Settings{ExternalLabels: labels, DisableTargetInfo: true, DisableScopeInfo: true,
					TranslationStrategy: "UnderscoreEscapingWithoutSuffixes"})
				require.NoError(t, err)
				var wantReq prompb.WriteRequest
				for _, ts := range want {
					wantReq.Timeseries = append(wantReq.Timeseries, *ts)
				}
				g, w := flatten(&got), flatten(&wantReq)
				require.NotEmpty(t, w)
				assert.Equal(t, len(w), len(g))
				assert.Equal(t, w, g)
			})
		}
	}
}

func TestEncodedRecordsConcatenate(t *testing.T) {
	enc := newEncoder([]string{"pod"}, nil)
	a := enc.appendMetrics(nil, scrape("a", t0))
	b := enc.appendMetrics(nil, scrape("b", t0.Add(time.Second)))
	var both, one prompb.WriteRequest
	require.NoError(t, both.Unmarshal(append(append([]byte(nil), a...), b...)))
	require.NoError(t, one.Unmarshal(a))
	assert.Len(t, both.Timeseries, 2*len(one.Timeseries))
}

// BenchmarkEncode measures encoding the largest real engine output (after conversion).
func BenchmarkEncode(b *testing.B) {
	md := scrapeOf(b, fixtures.Sample(fixtures.VLLMMixed), "qwen-0", false)
	enc := newEncoder([]string{"namespace", "pod", "node", "workload_name", "backend"}, map[string]string{"cluster": "prod"})
	var buf []byte
	series := 0
	for b.Loop() {
		buf = enc.appendMetrics(buf[:0], md)
	}
	var req prompb.WriteRequest
	require.NoError(b, req.Unmarshal(buf))
	series = len(req.Timeseries)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*series), "ns/series")
}

// BenchmarkContribTranslate is the same work through contrib's translator and prompb marshalling.
func BenchmarkContribTranslate(b *testing.B) {
	md := scrapeOf(b, fixtures.Sample(fixtures.VLLMMixed), "qwen-0", false)
	labels := map[string]string{"cluster": "prod", "namespace": "llm", "pod": "qwen-0", "node": "n1", "workload_name": "qwen", "backend": "vllm"}
	series := 0
	for b.Loop() {
		tss, err := prw.FromMetrics(md, prw.Settings{ExternalLabels: labels, DisableTargetInfo: true, DisableScopeInfo: true,
			TranslationStrategy: "UnderscoreEscapingWithoutSuffixes"})
		if err != nil {
			b.Fatal(err)
		}
		req := prompb.WriteRequest{}
		for _, ts := range tss {
			req.Timeseries = append(req.Timeseries, *ts)
		}
		if _, err := req.Marshal(); err != nil {
			b.Fatal(err)
		}
		series = len(tss)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*series), "ns/series")
}
