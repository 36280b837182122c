package llminferencereceiver

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBodyPoolReadsWholeBodies reads bodies of many sizes, in small and large reads, with and
// without a fitting size hint: each comes back intact, a body over the limit is cut just past
// it (so that fetch can refuse it), and a read error is returned with what was read.
func TestBodyPoolReadsWholeBodies(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	body := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	tests := []struct {
		name      string
		size      int
		hint      int
		limit     int64
		oneByte   bool // the reader returns one byte per Read
		wantLen   int
		wantError bool
	}{
		{name: "empty", size: 0, hint: 0, limit: 1 << 20, wantLen: 0},
		{name: "small, no hint", size: 100, hint: 0, limit: 1 << 20, wantLen: 100},
		{name: "exactly a class", size: 4096, hint: 4096, limit: 1 << 20, wantLen: 4096},
		{name: "grows through classes", size: 300_000, hint: 0, limit: 1 << 20, wantLen: 300_000},
		{name: "hint fits", size: 300_000, hint: 320_000, limit: 1 << 20, wantLen: 300_000},
		{name: "one byte per read", size: 10_000, hint: 0, limit: 1 << 20, oneByte: true, wantLen: 10_000},
		{name: "at the limit", size: 5000, hint: 0, limit: 5000, wantLen: 5000},
		{name: "over the limit: cut one past it", size: 50_000, hint: 0, limit: 5000, wantLen: 5001},
		{name: "over the limit, hint larger", size: 50_000, hint: 100_000, limit: 5000, wantLen: 5001},
	}
	var p bodyPool
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := body(tt.size)
			var r io.Reader = bytes.NewReader(src)
			if tt.oneByte {
				r = iotest.OneByteReader(r)
			}
			got, err := p.read(r, tt.hint, tt.limit)
			require.NoError(t, err)
			require.Len(t, got, tt.wantLen)
			assert.True(t, bytes.Equal(src[:tt.wantLen], got))
			p.put(got)
		})
	}
	boom := errors.New("connection reset")
	got, err := p.read(io.MultiReader(bytes.NewReader([]byte("abc")), iotest.ErrReader(boom)), 0, 1<<20)
	require.ErrorIs(t, err, boom)
	assert.Equal(t, "abc", string(got))
}

// TestBodyPoolLendsAndBounds: a buffer put back is lent again to a body of its class (steady
// scrapes reuse memory rather than allocate), always with room for what was asked, and a class
// keeps no more than maxIdle idle buffers however many were put back.
func TestBodyPoolLendsAndBounds(t *testing.T) {
	var p bodyPool
	a := p.get(50_000)
	require.GreaterOrEqual(t, cap(a), 50_000)
	a = append(a, 1)
	p.put(a)
	b := p.get(60_000) // same class (64 KiB)
	assert.Same(t, &a[:1][0], &b[:1][0], "the idle buffer was not reused")
	assert.Empty(t, b)

	for _, n := range []int{1, 4096, 4097, 1 << 20, 1<<20 + 1, 3 << 20} {
		assert.GreaterOrEqual(t, cap(p.get(n)), n, "get(%d)", n)
	}

	var bufs [][]byte
	for i := 0; i < 3*maxIdle; i++ {
		bufs = append(bufs, p.get(100_000))
	}
	for _, b := range bufs {
		p.put(b)
	}
	c := class(100_000)
	assert.Len(t, p.idle[c], maxIdle)
	// A grown buffer goes to the class its capacity fills, never to a larger one: every idle
	// buffer holds what its class promises.
	// 300,000 bytes fill the 256 KiB class, where get(200_000) looks, not the 512 KiB one
	// that get(300_000) would need.
	p.put(make([]byte, 0, 300_000))
	require.Len(t, p.idle[class(200_000)], 1)
	assert.Equal(t, 300_000, cap(p.idle[class(200_000)][0]))
	assert.Empty(t, p.idle[class(300_000)])
	for c := range p.idle {
		for _, b := range p.idle[c] {
			assert.GreaterOrEqual(t, cap(b), 1<<(c+minBodyClass), "class %d", c)
		}
	}
}
