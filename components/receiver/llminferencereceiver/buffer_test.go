package llminferencereceiver

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestScrapeBufferKeepsAboutOneBody reads bodies of changing size the way fetch does: the
// buffer must hold each body without regrowing once sized, keep little more than the body
// (not the up-to-twice of growth by doubling), and let go of its room when bodies shrink.
func TestScrapeBufferKeepsAboutOneBody(t *testing.T) {
	keep := func(body int) int { want := body + body/16 + bytes.MinRead; return want + want/4 }
	tests := []struct {
		name    string
		sizes   []int
		maxCap  int // capacity allowed after the last body
		minCap  int
		samePtr bool // the last read reused the previous read's memory
	}{
		{name: "steady", sizes: []int{1 << 20, 1 << 20, 1<<20 + 1000}, maxCap: keep(1 << 20), minCap: 1 << 20, samePtr: true},
		{name: "grows a little", sizes: []int{1 << 20, 1 << 20, 1<<20 + 50_000}, maxCap: keep(1 << 20), minCap: 1<<20 + 50_000, samePtr: true},
		{name: "shrinks", sizes: []int{4 << 20, 100_000, 100_000}, maxCap: keep(100_000), minCap: 100_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var l scrapeLoop
			var prev *byte
			for i, n := range tt.sizes {
				l.sizeBuffer()
				got, err := l.buf.ReadFrom(bytes.NewReader(make([]byte, n)))
				require.NoError(t, err)
				require.EqualValues(t, n, got)
				l.lastBody = n
				if i == len(tt.sizes)-1 && tt.samePtr {
					assert.Same(t, prev, &l.buf.Bytes()[0], "the buffer was reallocated")
				}
				prev = &l.buf.Bytes()[0]
			}
			assert.LessOrEqual(t, l.buf.Cap(), tt.maxCap)
			assert.GreaterOrEqual(t, l.buf.Cap(), tt.minCap)
		})
	}
}
