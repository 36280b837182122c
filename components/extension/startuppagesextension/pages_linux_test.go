package startuppagesextension

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// state lives in .data, a writable mapping of the binary: releasing must leave it alone.
var state = []int{1, 2, 3}

func TestReleaseUnmapsTheTestBinarysPagesAndKeepsItsState(t *testing.T) {
	state[1] = 42 // a private copy of .data's page now holds the only 42
	// Map every page of the binary's read-only mappings, so that what release gives back is
	// most of RssFile, not as little as the test binary happened to touch.
	spans, _, err := ownSpans()
	require.NoError(t, err)
	mem, err := os.Open("/proc/self/mem")
	require.NoError(t, err)
	defer mem.Close()
	size := uintptr(0)
	for _, s := range spans {
		_, err := mem.ReadAt(make([]byte, s.hi-s.lo), int64(s.lo))
		require.NoError(t, err)
		size += s.hi - s.lo
	}
	before, err := rssFile()
	require.NoError(t, err)
	require.GreaterOrEqual(t, before, uint64(size), "every read-only page is mapped")

	r, err := releaseExecutablePages()
	require.NoError(t, err)
	assert.Equal(t, before, r.rssFileBefore)
	assert.GreaterOrEqual(t, r.mappings, 2, "code and read-only data")
	// Reading /proc/self/status maps a few pages back in; everything else is gone.
	t.Logf("RssFile %d -> %d KiB", before>>10, r.rssFileAfter>>10)
	assert.Less(t, r.rssFileAfter, before/2)

	// The program runs on: its code and read-only data come back from the file, its state stays.
	assert.Equal(t, []int{1, 42, 3}, state)
	again, err := releaseExecutablePages()
	require.NoError(t, err)
	assert.Equal(t, r.mappings, again.mappings)
}
