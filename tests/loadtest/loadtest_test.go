package loadtest

import (
	"os/exec"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-llminference/otelcol-llminference/tests/harness"
)

// TestContendersDoTheSameWork runs every contender of make bench briefly over a small
// workload: each must deliver exactly the samples served, under the same metric names with
// the same counts, so that the side-by-side figures compare the same work.
func TestContendersDoTheSameWork(t *testing.T) {
	bin := harness.RequireE2E(t)
	vmagent, err := exec.LookPath("vmagent")
	require.NoError(t, err, "vmagent is needed: apt-get install -y victoria-metrics")
	renames, err := Renames()
	require.NoError(t, err)
	require.NotEmpty(t, renames)
	w, err := StartWorkload(Small(500*time.Millisecond), renames)
	require.NoError(t, err)
	defer w.Close()
	// Prometheus' scrape manager applies new targets every 5 s: the stock pipeline starts late.
	opts := RunOptions{Warmup: 7 * time.Second, Measure: 3 * time.Second, OtelcolBin: bin, VMAgentBin: vmagent, Dir: t.TempDir(), Renames: renames}
	var names []string
	results := map[string]Result{}
	for _, c := range AllContenders {
		res, err := Run(c, w, opts)
		require.NoError(t, err)
		results[c] = res
		assert.Positive(t, res.Served, c)
		assert.Equal(t, res.Served, res.Delivered, "%s: delivered vs served", c)
		assert.Zero(t, res.Rejected, "%s: %s", c, res.FirstError)
		assert.Positive(t, res.CPUSeconds, c)
		assert.Positive(t, res.RSS, c)
		t.Logf("%-9s served %d delivered %d series %d cpu %.2fs", c, res.Served, res.Delivered, res.Series, res.CPUSeconds)
	}
	for name := range results[Ours].Metrics {
		names = append(names, name)
	}
	sort.Strings(names)
	require.Contains(t, names, "llm_inference_time_to_first_token_seconds_bucket")
	require.Contains(t, names, "DCGM_FI_DEV_GPU_UTIL")
	for _, c := range AllContenders {
		var got []string
		for name := range results[c].Metrics {
			got = append(got, name)
		}
		sort.Strings(got)
		assert.Equal(t, names, got, "%s delivers other metrics than ours", c)
	}
}
