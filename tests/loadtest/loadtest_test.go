package loadtest

import (
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-llminference/otelcol-llminference/tests/harness"
)

// TestContendersDoTheSameWork runs every contender of make bench briefly over a small
// workload, every peer in every form: each must deliver exactly the samples served, under the
// same metric names with the same counts (a peer's floor, which renames nothing, under the
// source names), so that the side-by-side figures compare the same work.
func TestContendersDoTheSameWork(t *testing.T) {
	bin := harness.RequireE2E(t)
	peers := PeerBinaries(t)
	renames, err := Renames()
	require.NoError(t, err)
	require.NotEmpty(t, renames)
	w, err := StartWorkload(Small(500*time.Millisecond), renames)
	require.NoError(t, err)
	defer w.Close()
	// Prometheus' scrape manager applies new targets after 5 s: Run gives the stock pipeline and
	// the Prometheus agents a longer warm-up (prometheusTargetDelay).
	opts := RunOptions{Warmup: 3 * time.Second, Measure: 3 * time.Second, OtelcolBin: bin, PeerBins: peers, Dir: t.TempDir(), Renames: renames}
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
	sources := map[string]bool{}
	for _, n := range outputNames(renames) {
		sources[n[0]] = true
	}
	for _, c := range AllContenders {
		var got []string
		for name := range results[c].Metrics {
			got = append(got, name)
		}
		sort.Strings(got)
		if _, form, _ := splitPeer(c); form == FormNone {
			assert.Len(t, got, len(names), "%s: as many metrics as ours", c)
			for _, name := range got {
				assert.True(t, sources[name] || strings.HasPrefix(name, "DCGM_"), "%s delivers %s, not a source of ours", c, name)
			}
			continue
		}
		assert.Equal(t, names, got, "%s delivers other metrics than ours", c)
	}
}

// PeerBinaries finds the peers' binaries: Debian's vmagent and prometheus on PATH, the current
// ones where make put them (VMAGENT_CURRENT_BIN, PROMETHEUS3_BIN).
func PeerBinaries(t *testing.T) map[string]string {
	out := map[string]string{}
	for peer, find := range map[string]func() (string, error){
		VMAgent179:   func() (string, error) { return exec.LookPath("vmagent") },
		PromAgent242: func() (string, error) { return exec.LookPath("prometheus") },
		VMAgent1151:  func() (string, error) { return exec.LookPath(os.Getenv("VMAGENT_CURRENT_BIN")) },
		PromAgent316: func() (string, error) { return exec.LookPath(os.Getenv("PROMETHEUS3_BIN")) },
	} {
		bin, err := find()
		require.NoError(t, err, "%s: run through make test, which installs or builds it", peer)
		out[peer] = bin
	}
	return out
}
