package diskqueue

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// smallDisk mounts a tmpfs of size bytes on a new directory: a real filesystem that fills up
// (ENOSPC) and can be made read-only (EROFS) under an open queue. Mounting needs root (as make
// test runs on these machines); elsewhere the test is skipped and says why.
func smallDisk(t *testing.T, size int) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d", size), "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a size-limited tmpfs (needs root): %v: %s", err, out)
	}
	// Lazily: a failed test may leave the queue's files open.
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	return dir
}

// fill takes all the room left on the disk of dir, as another writer on a shared volume
// would; the returned func gives it back.
func fill(t *testing.T, dir string) (free func()) {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	require.NoError(t, err)
	chunk := make([]byte, 4096)
	for {
		if _, err := f.Write(chunk); err != nil {
			require.ErrorIs(t, err, syscall.ENOSPC)
			break
		}
	}
	require.NoError(t, f.Close())
	return func() { require.NoError(t, os.Remove(path)) }
}

// bigRec is record i padded to n bytes, so that a few of them fill a small disk.
func bigRec(i, n int) []byte {
	r := append(rec(i), bytes.Repeat([]byte{'.'}, n)...)
	return r[:n]
}

// drainAll reads and commits everything on disk, tolerating a cursor that cannot be persisted
// (the disk is full or read-only), and returns each record's leading "record-NNNN".
func drainAll(t *testing.T, q *Queue) (out []string, commitErrs int) {
	for {
		recs, pos, err := q.Peek(5, 1<<30)
		require.NoError(t, err)
		if len(recs) == 0 {
			return out, commitErrs
		}
		for _, r := range recs {
			out = append(out, string(r[:len("record-0000")]))
		}
		if q.Commit(pos) != nil {
			commitErrs++
		}
	}
}

// TestDiskFullHoldsInMemoryUntilRoomReturns: the queue is larger than its disk. Appends beyond
// the disk are refused with ENOSPC; those records wait in memory (Push says so, with the
// cause), nothing is lost, and reading the backlog makes the room that they are then written
// into, in order.
func TestDiskFullHoldsInMemoryUntilRoomReturns(t *testing.T) {
	dir := smallDisk(t, 64<<10)
	var memDrops int
	q, err := Open(dir, Options{MaxBytes: 1 << 20, SegmentBytes: 16 << 10, MemoryBytes: 1 << 20,
		OnMemoryDrop: func([]byte) { memDrops++ }})
	require.NoError(t, err)
	const n = 200 // 200 KB into a 64 KiB disk
	var held int
	for i := range n {
		err := q.Push(bigRec(i, 1000))
		var h *HeldError
		if err != nil {
			require.ErrorAs(t, err, &h)
			require.ErrorIs(t, err, syscall.ENOSPC)
			held++
		}
	}
	assert.Greater(t, held, 100, "most of 200 KB did not fit on a 64 KiB disk")
	assert.Equal(t, int64(n), q.Records(), "held records are in the queue's count")
	assert.Positive(t, q.Held())

	got, _ := drainAll(t, q)
	assert.Equal(t, want(0, n), got, "every record, once, in order")
	assert.Zero(t, q.Held())
	assert.Zero(t, q.Records())
	assert.Zero(t, memDrops)
	require.NoError(t, q.Close())
}

// TestDiskFilledByAnotherWriter: another writer takes the rest of the volume. Pushes are held
// in memory, the oldest dropped (and reported) beyond MemoryBytes; the reader still gets what is
// on disk; once the room is given back, the held records are written first, in order, and
// the cursor is persisted again.
func TestDiskFilledByAnotherWriter(t *testing.T) {
	dir := smallDisk(t, 1<<20)
	var memDropped []string
	q, err := Open(dir, Options{MemoryBytes: 3 * 1000, OnMemoryDrop: func(p []byte) { memDropped = append(memDropped, string(p[:11])) }})
	require.NoError(t, err)
	for i := range 10 {
		require.NoError(t, q.Push(bigRec(i, 1000)))
	}
	free := fill(t, dir)
	fitted := 0 // the segment's last page may still take a record or two
	for i := 10; i < 20; i++ {
		err := q.Push(bigRec(i, 1000))
		if err == nil {
			require.Equal(t, 10+fitted, i, "only the first records fit in what the disk had left")
			fitted++
			continue
		}
		require.ErrorIs(t, err, syscall.ENOSPC)
		var h *HeldError
		require.True(t, errors.As(err, &h))
	}
	require.Less(t, fitted, 4)
	onDisk := 10 + fitted
	assert.Equal(t, want(onDisk, 17), memDropped, "beyond 3 records of memory, the oldest held go")
	assert.Equal(t, 3, q.Held())
	assert.Equal(t, int64(onDisk+3), q.Records())

	free()
	require.NoError(t, q.Push(bigRec(20, 1000)))
	assert.Zero(t, q.Held())
	got, commitErrs := drainAll(t, q)
	assert.Equal(t, append(want(0, onDisk), want(17, 21)...), got, "the disk's records, the held ones, then the new one")
	assert.Zero(t, commitErrs)
	require.NoError(t, q.Close())

	// The cursor was persisted: nothing is delivered twice after a reopen.
	q, err = Open(dir, Options{})
	require.NoError(t, err)
	got, _ = drainAll(t, q)
	assert.Empty(t, got)
	require.NoError(t, q.Close())
}

// TestFullDiskStillDelivers: with the volume full, the reader gets everything on disk; the
// commits that cannot write the cursor say so but move it (no record is read twice).
func TestFullDiskStillDelivers(t *testing.T) {
	dir := smallDisk(t, 1<<20)
	q, err := Open(dir, Options{MemoryBytes: 1 << 20})
	require.NoError(t, err)
	push(t, q, 0, 10)
	free := fill(t, dir)
	defer free()
	got, _ := drainAll(t, q)
	assert.Equal(t, want(0, 10), got)
	require.NoError(t, q.Close())
}

// TestCloseReportsHeldRecordsItCannotWrite: at Close, held records the disk still refuses are
// handed to OnMemoryDrop (counted by the exporter) and the error says how many were lost.
func TestCloseReportsHeldRecordsItCannotWrite(t *testing.T) {
	dir := smallDisk(t, 1<<20)
	var dropped int
	q, err := Open(dir, Options{MemoryBytes: 1 << 20, OnMemoryDrop: func([]byte) { dropped++ }})
	require.NoError(t, err)
	push(t, q, 0, 3)
	defer fill(t, dir)()
	for i := 3; i < 7; i++ {
		require.Error(t, q.Push(bigRec(i, 8192)))
	}
	err = q.Close()
	require.ErrorContains(t, err, "4 records held in memory could not be written to disk and are lost")
	assert.Equal(t, 4, dropped)
}

// TestNoMemoryFailsAtOnce: with MemoryBytes 0 the disk's error is returned as it is.
func TestNoMemoryFailsAtOnce(t *testing.T) {
	dir := smallDisk(t, 1<<20)
	q, err := Open(dir, Options{})
	require.NoError(t, err)
	defer fill(t, dir)()
	err = q.Push(bigRec(0, 8192))
	require.ErrorIs(t, err, syscall.ENOSPC)
	var h *HeldError
	assert.False(t, errors.As(err, &h))
	assert.Zero(t, q.Records())
	require.NoError(t, q.Close())
}

// TestReadOnlyVolumeFailsAtOpen: a queue directory that cannot be written fails Open with the
// system's reason (the exporter then names queue.directory and the collector does not start).
func TestReadOnlyVolumeFailsAtOpen(t *testing.T) {
	dir := smallDisk(t, 1<<20)
	out, err := exec.Command("mount", "-o", "remount,ro", dir).CombinedOutput()
	require.NoError(t, err, "%s", out)
	_, err = Open(dir, Options{})
	require.ErrorIs(t, err, syscall.EROFS)
}
