package diskqueue

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func rec(i int) []byte { return []byte(fmt.Sprintf("record-%04d", i)) }

func push(t *testing.T, q *Queue, from, to int) {
	for i := from; i < to; i++ {
		require.NoError(t, q.Push(rec(i)))
	}
}

// drain peeks n records at a time, commits them, and returns them all.
func drain(t *testing.T, q *Queue, n int) []string { return drainN(t, q, n, -1) }

// drainN peeks n records at a time and commits them, batches times (all, when negative), and
// returns them.
func drainN(t *testing.T, q *Queue, n, batches int) []string {
	var out []string
	for ; batches != 0; batches-- {
		recs, pos, err := q.Peek(n, 1<<30)
		require.NoError(t, err)
		if len(recs) == 0 {
			return out
		}
		for _, r := range recs {
			out = append(out, string(r))
		}
		require.NoError(t, q.Commit(pos))
	}
	return out
}

func want(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, string(rec(i)))
	}
	return out
}

func TestFIFOAcrossSegments(t *testing.T) {
	dir := t.TempDir()
	q, err := Open(dir, Options{SegmentBytes: 100})
	require.NoError(t, err)
	push(t, q, 0, 50)
	segs, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	assert.Greater(t, len(segs), 5, "rolled into several segments")
	assert.Equal(t, want(0, 50), drain(t, q, 7))
	segs, _ = filepath.Glob(filepath.Join(dir, "*.seg"))
	assert.Len(t, segs, 1, "consumed segments deleted")
	assert.Zero(t, q.Size())
	require.NoError(t, q.Close())
}

// TestUncommittedRedeliveredFirstAfterReopen: a crash after Peek and before Commit delivers the
// same records again, before anything pushed later, in order.
func TestUncommittedRedeliveredFirstAfterReopen(t *testing.T) {
	dir := t.TempDir()
	q, err := Open(dir, Options{SegmentBytes: 120})
	require.NoError(t, err)
	push(t, q, 0, 20)
	recs, pos, err := q.Peek(5, 1<<30)
	require.NoError(t, err)
	require.Len(t, recs, 5)
	require.NoError(t, q.Commit(pos)) // 0-4 delivered
	_, _, err = q.Peek(5, 1<<30)      // 5-9 in flight, never committed: the process dies
	require.NoError(t, err)
	crash(q)

	q2, err := Open(dir, Options{SegmentBytes: 120})
	require.NoError(t, err)
	push(t, q2, 20, 25)
	assert.Equal(t, want(5, 25), drain(t, q2, 3))
}

// closedQueue writes records [0, n) to a new queue in dir, closes it, and returns its segment.
func closedQueue(t *testing.T, dir string, n int) string {
	q, err := Open(dir, Options{})
	require.NoError(t, err)
	push(t, q, 0, n)
	require.NoError(t, q.Close())
	segs, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	require.Len(t, segs, 1)
	return segs[0]
}

func TestTornTailIsCut(t *testing.T) {
	dir := t.TempDir()
	seg := closedQueue(t, dir, 3)
	f, err := os.OpenFile(seg, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.Write([]byte{0, 0, 0, 40, 1, 2, 3}) // a record header and a few bytes: a crash mid-append
	require.NoError(t, err)
	require.NoError(t, f.Close())

	q2, err := Open(dir, Options{})
	require.NoError(t, err)
	push(t, q2, 3, 5)
	assert.Equal(t, want(0, 5), drain(t, q2, 10), "the torn record is gone, later appends are readable")
}

func TestCorruptRecordStopsReading(t *testing.T) {
	dir := t.TempDir()
	seg := closedQueue(t, dir, 2)
	b, err := os.ReadFile(seg)
	require.NoError(t, err)
	b[len(b)-1] ^= 0xff // flip a payload bit of the second record
	require.NoError(t, os.WriteFile(seg, b, 0o640))
	q2, err := Open(dir, Options{})
	require.NoError(t, err)
	assert.Equal(t, want(0, 1), drain(t, q2, 10), "a record failing its checksum is not delivered")
}

func TestFull(t *testing.T) {
	q, err := Open(t.TempDir(), Options{MaxBytes: 100})
	require.NoError(t, err)
	n := 0
	for ; n < 100; n++ {
		if err := q.Push(rec(n)); err != nil {
			require.ErrorIs(t, err, ErrFull)
			break
		}
	}
	assert.Equal(t, 5, n, "5 records of 19 bytes fit in 100")
	recs, pos, err := q.Peek(2, 1<<30)
	require.NoError(t, err)
	require.Len(t, recs, 2)
	require.NoError(t, q.Commit(pos))
	assert.NoError(t, q.Push(rec(99)), "room again after a commit")
}

func TestPeekByteLimitReturnsAtLeastOne(t *testing.T) {
	q, err := Open(t.TempDir(), Options{})
	require.NoError(t, err)
	push(t, q, 0, 4)
	recs, _, err := q.Peek(100, 1)
	require.NoError(t, err)
	assert.Len(t, recs, 1)
	recs, _, err = q.Peek(100, 25)
	require.NoError(t, err)
	assert.Len(t, recs, 2, "stops once the byte budget is reached")
}

// crash lets go of a queue as a dying process does: its files close (the lock with them)
// without any further write.
func crash(q *Queue) {
	_ = q.w.Close()
	if q.cur != nil {
		_ = q.cur.Close()
	}
	if q.lock != nil {
		_ = q.lock.Close()
	}
}

// TestQueueDirectoryIsLocked: a second open of the same directory (a second collector on the
// same volume) fails at once with a clear error; after Close, or a crash, it opens.
func TestQueueDirectoryIsLocked(t *testing.T) {
	dir := t.TempDir()
	q, err := Open(dir, Options{})
	require.NoError(t, err)
	push(t, q, 0, 3)
	_, err = Open(dir, Options{})
	require.ErrorIs(t, err, ErrLocked)
	assert.Contains(t, err.Error(), "two collectors must not share one queue")
	require.NoError(t, q.Close())

	q2, err := Open(dir, Options{})
	require.NoError(t, err, "free again after Close")
	crash(q2)
	q3, err := Open(dir, Options{})
	require.NoError(t, err, "free again after a crash")
	assert.Equal(t, want(0, 3), drain(t, q3, 10), "nothing lost to the lock")
	require.NoError(t, q3.Close())
}

// TestSyncedQueue: with Sync, appends, new segments and cursor renames are fsynced (files and
// the directory) and the queue behaves the same.
func TestSyncedQueue(t *testing.T) {
	dir := t.TempDir()
	q, err := Open(dir, Options{SegmentBytes: 120, Sync: true})
	require.NoError(t, err)
	push(t, q, 0, 10)
	assert.Equal(t, want(0, 10), drain(t, q, 4))
	push(t, q, 10, 15)
	require.NoError(t, q.Close())
	q, err = Open(dir, Options{SegmentBytes: 120, Sync: true})
	require.NoError(t, err)
	assert.Equal(t, want(10, 15), drain(t, q, 10), "committed records stay delivered, the rest is there")
	require.NoError(t, q.Close())
}

// TestRecordsCountsTheBacklog: the records not yet committed, across segments and a reopen.
func TestRecordsCountsTheBacklog(t *testing.T) {
	dir := t.TempDir()
	q, err := Open(dir, Options{SegmentBytes: 120})
	require.NoError(t, err)
	push(t, q, 0, 10)
	recs, pos, err := q.Peek(3, 1<<30)
	require.NoError(t, err)
	require.Len(t, recs, 3)
	require.NoError(t, q.Commit(pos))
	assert.EqualValues(t, 7, q.Records())
	require.NoError(t, q.Close())
	q, err = Open(dir, Options{SegmentBytes: 120})
	require.NoError(t, err)
	assert.EqualValues(t, 7, q.Records(), "after a reopen")
	require.NoError(t, q.Close())
}

// TestFullQueueDropsOldest: with DropOldest a full queue drops its oldest segment for each new
// record it cannot hold, handing every dropped record to OnDrop, and keeps the newest records,
// in order; a commit of a batch peeked before the drop does not move the cursor back.
func TestFullQueueDropsOldest(t *testing.T) {
	var dropped []string
	q, err := Open(t.TempDir(), Options{MaxBytes: 400, SegmentBytes: 120, DropOldest: true,
		OnDrop: func(p []byte) { dropped = append(dropped, string(p)) }})
	require.NoError(t, err)
	push(t, q, 0, 5)
	recs, pos, err := q.Peek(2, 1<<30) // 0 and 1 in flight
	require.NoError(t, err)
	require.Len(t, recs, 2)
	push(t, q, 5, 30) // never ErrFull: the oldest goes
	require.NoError(t, q.Commit(pos), "a commit behind the cursor is ignored")
	kept := drain(t, q, 100)
	require.NotEmpty(t, kept)
	assert.Equal(t, want(30-len(kept), 30), kept, "the newest records, in order")
	assert.Equal(t, want(0, 30-len(kept)), dropped, "each dropped record handed over once, oldest first")
	assert.LessOrEqual(t, int64(len(kept))*(headerSize+11), int64(400))
	assert.Zero(t, q.Records())
	require.NoError(t, q.Close())
}

// TestFullQueueRefuses: without DropOldest a full queue refuses new records and keeps the old.
func TestFullQueueRefuses(t *testing.T) {
	q, err := Open(t.TempDir(), Options{MaxBytes: 100, SegmentBytes: 120})
	require.NoError(t, err)
	n := 0
	for ; n < 20; n++ {
		if err := q.Push([]byte(fmt.Sprintf("record-%04d", n))); err != nil {
			require.ErrorIs(t, err, ErrFull)
			break
		}
	}
	assert.Equal(t, want(0, n), drain(t, q, 100))
	require.NoError(t, q.Close())
}

// corruptions records what Peek skipped.
type corruptions struct {
	records int
	bytes   int64
}

func (c *corruptions) opts(o Options) Options {
	o.OnCorrupt = func(payload []byte, n int64) {
		if payload != nil {
			c.records++
		}
		c.bytes += n
	}
	return o
}

// TestCorruptRecordIsSkippedAndReported: a record damaged on disk (its checksum fails) between
// good ones is skipped and reported once; the records after it are delivered, and the backlog
// count reaches zero.
func TestCorruptRecordIsSkippedAndReported(t *testing.T) {
	dir := t.TempDir()
	seg := closedQueue(t, dir, 3)
	b, err := os.ReadFile(seg)
	require.NoError(t, err)
	b[headerSize] ^= 0xff // the first payload byte of the first record
	require.NoError(t, os.WriteFile(seg, b, 0o640))
	var c corruptions
	q, err := Open(dir, c.opts(Options{}))
	require.NoError(t, err)
	assert.EqualValues(t, 3, q.Records())
	assert.Equal(t, want(1, 3), drain(t, q, 10), "the records after the damaged one are delivered")
	assert.Equal(t, 1, c.records)
	assert.EqualValues(t, headerSize+len("record-0000"), c.bytes)
	assert.Zero(t, q.Records())
	require.NoError(t, q.Close())
}

// TestDamageWhileOpenNeverWedges: damage that appears while the queue is open (a bad disk)
// is skipped as well, including a damaged length, after which the rest of that segment is
// skipped and reading goes on with the next segment; only unreadable data left commits itself.
func TestDamageWhileOpenNeverWedges(t *testing.T) {
	dir := t.TempDir()
	var c corruptions
	q, err := Open(dir, c.opts(Options{SegmentBytes: 60})) // three 19-byte records a segment
	require.NoError(t, err)
	push(t, q, 0, 9)
	segs, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	require.GreaterOrEqual(t, len(segs), 3)
	b, err := os.ReadFile(segs[0])
	require.NoError(t, err)
	b[0] = 0xff // the first record's length: nothing in this segment can be found now
	require.NoError(t, os.WriteFile(segs[0], b, 0o640))
	got := drain(t, q, 10)
	require.NotEmpty(t, got)
	first := len(want(0, 9)) - len(got)
	assert.Equal(t, want(first, 9), got, "everything after the damaged segment, in order")
	assert.EqualValues(t, len(b), c.bytes, "the whole damaged segment reported")
	assert.Zero(t, q.Records())

	// Only damaged data left: the next Peek skips it, reports it and commits it, once.
	push(t, q, 9, 10)
	segs, _ = filepath.Glob(filepath.Join(dir, "*.seg"))
	last := segs[len(segs)-1]
	b, err = os.ReadFile(last)
	require.NoError(t, err)
	b[len(b)-1] ^= 0xff
	require.NoError(t, os.WriteFile(last, b, 0o640))
	before := c.records
	for i := 0; i < 3; i++ {
		recs, _, err := q.Peek(10, 1<<30)
		require.NoError(t, err)
		assert.Empty(t, recs)
	}
	assert.Equal(t, before+1, c.records, "reported once, not at every Peek")
	assert.Zero(t, q.Records())
	require.NoError(t, q.Close())
}

// TestZeroLengthSegments: power loss can leave a segment file with no data: a new one whose
// first record never reached the disk (the last), or one whose blocks were lost (in the
// middle). Opening does not fail, the other segments' records are delivered in order, nothing
// is reported (there are no bytes to report), and appends go on.
func TestZeroLengthSegments(t *testing.T) {
	for _, tc := range []struct {
		name string
		cut  func(segs []string) string // the segment emptied
	}{
		{"the last segment", func(s []string) string { return s[len(s)-1] }},
		{"a middle segment", func(s []string) string { return s[1] }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			q, err := Open(dir, Options{SegmentBytes: 60}) // three records a segment
			require.NoError(t, err)
			push(t, q, 0, 9)
			require.NoError(t, q.Close())
			segs, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
			sort.Strings(segs)
			require.Len(t, segs, 3)
			emptied := tc.cut(segs)
			require.NoError(t, os.Truncate(emptied, 0))
			var lost []string // the emptied segment's records
			for i, s := range segs {
				if s == emptied {
					lost = want(3*i, 3*i+3)
				}
			}

			var reported int
			q, err = Open(dir, Options{SegmentBytes: 60, OnCorrupt: func([]byte, int64) { reported++ }})
			require.NoError(t, err)
			push(t, q, 9, 11)
			var wantAll []string
			for _, r := range want(0, 11) {
				if !slices.Contains(lost, r) {
					wantAll = append(wantAll, r)
				}
			}
			assert.Equal(t, wantAll, drain(t, q, 4), "everything else, in order")
			assert.Zero(t, reported)
			require.NoError(t, q.Close())
		})
	}
}
