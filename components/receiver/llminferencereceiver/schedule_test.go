package llminferencereceiver

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestScheduleWaves: up to targetsPerWave targets share one instant per interval, at the node's
// phase of the wall clock; more targets fall into waves spread evenly over the interval; every
// instant is strictly after the time asked about and at most one interval later.
func TestScheduleWaves(t *testing.T) {
	const interval = 15 * time.Second
	const phase = 4 * time.Second
	epoch := time.Unix(1_800_000_000, 0) // a multiple of 15 s since the Unix epoch
	require.Zero(t, epoch.UnixNano()%int64(interval))
	for _, tc := range []struct {
		name      string
		targets   int
		at        time.Time
		wantWaves int
	}{
		{"one target", 1, epoch, 1},
		{"a node's worth", targetsPerWave, epoch.Add(3 * time.Second), 1},
		{"just past one wave", targetsPerWave + 1, epoch.Add(7 * time.Second), 2},
		{"200 targets", 200, epoch.Add(14 * time.Second), 13},
		{"exactly at the phase", 3, epoch.Add(phase), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := schedule{interval: interval, phase: phase, targets: func() int { return tc.targets }}
			offsets := map[time.Duration]int{}
			for i := range tc.targets {
				next := s.next(fmt.Sprintf("static/http://10.0.0.%d:8000/metrics", i), tc.at)
				require.True(t, next.After(tc.at), "strictly after")
				require.LessOrEqual(t, next.Sub(tc.at), interval, "within one interval")
				offsets[time.Duration(next.UnixNano())%interval]++
			}
			assert.LessOrEqual(t, len(offsets), tc.wantWaves, "instants: %v", offsets)
			waves := map[time.Duration]bool{} // the phase plus k/waves of the interval
			for k := range tc.wantWaves {
				waves[(phase+time.Duration(k)*interval/time.Duration(tc.wantWaves))%interval] = true
			}
			for off, n := range offsets {
				assert.True(t, waves[off], "wave at %s", off)
				if tc.wantWaves > 1 {
					assert.LessOrEqual(t, n, 2*targetsPerWave, "a wave stays bounded: %v", offsets)
				}
			}
			if tc.targets <= targetsPerWave {
				assert.Equal(t, map[time.Duration]int{phase: tc.targets}, offsets, "all at the node's phase")
			}
		})
	}
}

// TestTargetsScrapedTogether: a collector's targets are fetched at the same instant, not each
// at an offset of its own within the interval.
func TestTargetsScrapedTogether(t *testing.T) {
	var mu sync.Mutex
	first := map[string]time.Time{}
	var cfg = testConfig()
	cfg.CollectionInterval, cfg.ScrapeTimeout = time.Second, time.Second
	for i := range 3 {
		name := fmt.Sprintf("p%d", i)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			mu.Lock()
			if _, ok := first[name]; !ok {
				first[name] = time.Now()
			}
			mu.Unlock()
			_, _ = w.Write([]byte("vllm:num_requests_running{engine=\"0\",model_name=\"m\"} 1\n"))
		}))
		t.Cleanup(srv.Close)
		cfg.StaticTargets = append(cfg.StaticTargets, StaticTarget{Endpoint: srv.URL + "/metrics", Workload: "w", Pod: name})
	}
	startReceiver(t, cfg, nil)
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(first) == 3 }, 5*time.Second, 10*time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	var lo, hi time.Time
	for _, at := range first {
		if lo.IsZero() || at.Before(lo) {
			lo = at
		}
		hi = maxTime(hi, at)
	}
	// Spread over a 1 s interval, three targets would be ~500 ms apart; together, they are
	// fetched within the time the loops take to start their requests.
	assert.Less(t, hi.Sub(lo), 150*time.Millisecond, "first fetches: %v", first)
}
