package promconv

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLineTableAgainstMap: random puts, overwrites and retains, checked after each step
// against a Go map holding the same lines. Keys are drawn so that many share their low bits
// (long probe sequences, clusters that retain must not break) or their first hash only.
func TestLineTableAgainstMap(t *testing.T) {
	for _, tc := range []struct {
		name string
		key  func(r *rand.Rand) lineKey
	}{
		{"uniform", func(r *rand.Rand) lineKey { return lineKey{xx: r.Uint64(), mh: r.Uint64()} }},
		{"low bits shared", func(r *rand.Rand) lineKey { return lineKey{xx: r.Uint64N(16) << 40, mh: r.Uint64N(1 << 20)} }},
		{"first hash shared", func(r *rand.Rand) lineKey { return lineKey{xx: 7, mh: r.Uint64N(300)} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			var tab lineTable
			want := map[lineKey]*line{}
			var keys []lineKey
			check := func(step int) {
				require.Equal(t, len(want), tab.len(), "step %d", step)
				for _, k := range keys {
					require.Same(t, want[k], tab.get(k), "step %d key %v", step, k)
				}
				if len(tab.slots) > 0 {
					assert.LessOrEqual(t, 4*tab.len(), 3*len(tab.slots), "at most 3/4 full")
				}
			}
			for step := range 3000 {
				switch op := r.IntN(10); {
				case op < 6: // a new line, or another line for a known key
					k := tc.key(r)
					if _, ok := want[k]; !ok {
						keys = append(keys, k)
					}
					ln := &line{}
					want[k] = ln
					tab.put(k, ln)
				case op < 9: // a scrape's sweep: keep about 70%
					keep := map[*line]bool{}
					for k, ln := range want {
						if r.IntN(10) < 7 {
							keep[ln] = true
						} else {
							delete(want, k)
						}
					}
					tab.retain(func(ln *line) bool { return keep[ln] })
				default:
					tab.retain(func(*line) bool { return true }) // steady state: nothing dropped
				}
				if step%50 == 0 || step == 2999 {
					check(step)
				}
			}
			tab.retain(func(*line) bool { return false })
			assert.Zero(t, tab.len())
			assert.Nil(t, tab.slots, "an emptied table gives its memory back")
			tab.put(lineKey{xx: 1}, &line{})
			tab.reset()
			assert.Nil(t, tab.get(lineKey{xx: 1}))
		})
	}
}
