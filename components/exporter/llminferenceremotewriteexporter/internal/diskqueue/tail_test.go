package diskqueue

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTailDeliversTheSame: with no tail, a tail smaller than the backlog (the head is read from
// disk, the rest from memory) and a tail holding everything, the queue delivers the same
// records in the same order, across segments, commits in between, a reopen and dropped
// segments.
func TestTailDeliversTheSame(t *testing.T) {
	for _, tc := range []struct {
		name string
		tail int64
	}{
		{"no tail", 0},
		{"tail of 3 records", 3 * (headerSize + 11)},
		{"tail of everything", 1 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			opts := Options{SegmentBytes: 100, TailBytes: tc.tail}
			q, err := Open(dir, opts)
			require.NoError(t, err)
			push(t, q, 0, 20)
			got := drainN(t, q, 7, 2) // 14 records, in two batches
			push(t, q, 20, 50)
			got = append(got, drain(t, q, 5)...)
			assert.Equal(t, want(0, 50), got)
			push(t, q, 50, 60)
			got = drainN(t, q, 4, 1)
			require.NoError(t, q.Close())

			q, err = Open(dir, opts)
			require.NoError(t, err)
			push(t, q, 60, 70)
			got = append(got, drain(t, q, 3)...)
			assert.Equal(t, want(50, 70), got, "the reopened queue goes on from its cursor")
			require.NoError(t, q.Close())

			var dropped []string
			q, err = Open(t.TempDir(), Options{MaxBytes: 400, SegmentBytes: 120, DropOldest: true, TailBytes: tc.tail,
				OnDrop: func(p []byte) { dropped = append(dropped, string(p)) }})
			require.NoError(t, err)
			push(t, q, 0, 30)
			kept := drain(t, q, 4)
			assert.Equal(t, want(0, 30), append(dropped, kept...), "dropped or delivered, once each, in order")
			require.NoError(t, q.Close())
		})
	}
}

// TestTailIsServedFromMemory: damage the segment on disk after the records were written. With
// a tail Peek still returns them intact, as written, and finds nothing to report: it did not
// read the disk. Without one, the same damage is found and reported.
func TestTailIsServedFromMemory(t *testing.T) {
	for _, tc := range []struct {
		tail        int64
		wantCorrupt bool
	}{{1 << 20, false}, {0, true}} {
		dir := t.TempDir()
		var c corruptions
		q, err := Open(dir, c.opts(Options{TailBytes: tc.tail}))
		require.NoError(t, err)
		push(t, q, 0, 5)
		segs, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
		require.Len(t, segs, 1)
		f, err := os.OpenFile(segs[0], os.O_WRONLY, 0)
		require.NoError(t, err)
		_, err = f.WriteAt([]byte("XXXX"), headerSize+2) // inside the first payload
		require.NoError(t, err)
		require.NoError(t, f.Close())

		got := drain(t, q, 10)
		if tc.wantCorrupt {
			assert.Equal(t, 1, c.records, "without a tail the damaged record is read, and skipped")
			assert.Equal(t, want(1, 5), got)
		} else {
			assert.Zero(t, c.records, "nothing read from disk")
			assert.Equal(t, want(0, 5), got, "the records as pushed")
		}
		require.NoError(t, q.Close())
	}
}

// TestPeekedRecordsStayUntilCommit: records a Peek returned from the tail are not touched by
// later pushes, nor by the tail forgetting them; after their Commit their memory is reused,
// and what is delivered next is still right.
func TestPeekedRecordsStayUntilCommit(t *testing.T) {
	q, err := Open(t.TempDir(), Options{TailBytes: 2 * (headerSize + 11)})
	require.NoError(t, err)
	push(t, q, 0, 2)
	recs, pos, err := q.Peek(10, 1<<30)
	require.NoError(t, err)
	require.Len(t, recs, 2)
	push(t, q, 2, 6) // the tail forgets 0 and 1
	assert.Equal(t, want(0, 2), []string{string(recs[0]), string(recs[1])}, "held records unchanged")
	require.NoError(t, q.Commit(pos))
	assert.Equal(t, want(2, 6), drain(t, q, 1))
	for i := 6; i < 40; i += 2 { // commits hand frames back, pushes take them
		push(t, q, i, i+2)
		assert.Equal(t, want(i, i+2), drain(t, q, 1))
	}
	require.NoError(t, q.Close())
}

// TestCursorRewrittenInPlace: the first Commit after Open creates the cursor file (renamed into
// place), later ones rewrite that same file; a reopen resumes where the last Commit was.
func TestCursorRewrittenInPlace(t *testing.T) {
	dir := t.TempDir()
	q, err := Open(dir, Options{SegmentBytes: 100})
	require.NoError(t, err)
	push(t, q, 0, 30)
	drainN(t, q, 3, 1)
	first, err := os.Stat(filepath.Join(dir, cursorFile))
	require.NoError(t, err)
	drainN(t, q, 3, 4) // crosses segments
	later, err := os.Stat(filepath.Join(dir, cursorFile))
	require.NoError(t, err)
	assert.True(t, os.SameFile(first, later), "rewritten in place, not replaced")
	assert.Equal(t, first.Size(), later.Size())
	crash(q)

	q, err = Open(dir, Options{SegmentBytes: 100})
	require.NoError(t, err)
	assert.Equal(t, want(15, 30), drain(t, q, 100))
	require.NoError(t, q.Close())
}

// TestCursorFiles: a cursor of the earlier format is read; one that fails its checksum or is
// not a cursor at all opens the queue anyway, says so, and loses nothing: everything on disk is
// delivered again.
func TestCursorFiles(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cursor  func(valid []byte) []byte
		want    []string
		damaged bool
	}{
		{"valid", func(valid []byte) []byte { return valid }, want(3, 10), false},
		{"earlier format", func([]byte) []byte { return []byte("1 0") }, want(3, 10), false},
		{"torn", func(valid []byte) []byte { return append(valid[:12:12], strings.Repeat("0", len(valid)-12)...) }, want(0, 10), true},
		{"not a cursor", func([]byte) []byte { return []byte("\x00\x00\x00") }, want(0, 10), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			opts := Options{SegmentBytes: 60} // three records of 19 bytes per segment
			q, err := Open(dir, opts)
			require.NoError(t, err)
			push(t, q, 0, 10)
			drainN(t, q, 3, 1) // the cursor is at the end of segment 0, which stays
			require.NoError(t, q.Close())
			path := filepath.Join(dir, cursorFile)
			valid, err := os.ReadFile(path)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(path, tc.cursor(valid), 0o640))

			var damaged []error
			opts.OnCursorDamaged = func(err error) { damaged = append(damaged, err) }
			q, err = Open(dir, opts)
			require.NoError(t, err)
			assert.Equal(t, tc.want, drain(t, q, 100))
			assert.Equal(t, tc.damaged, len(damaged) == 1, "%v", damaged)
			require.NoError(t, q.Close())
		})
	}
}
