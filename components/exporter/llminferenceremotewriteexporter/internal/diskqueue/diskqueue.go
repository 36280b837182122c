// Package diskqueue is a strictly FIFO, at-least-once queue of byte records on disk.
//
// Remote write needs both properties: a backend refuses samples older than what it already holds
// for a series, so records must leave in the order they came in, also across a crash; and a record
// may be forgotten only after the backend accepted it. Records are appended to segment files;
// a cursor file (created by renaming, then rewritten in place, with a checksum) says how far the
// consumer has committed. After a crash the
// consumer resumes at the cursor: the uncommitted head is delivered again, first, in order.
//
// Every record goes to disk before Push returns, in one write. With Options.TailBytes the newest
// records are also kept in memory until committed, and Peek serves them from there: a sender
// that keeps up never reads back what was just written (no open, read or allocation per
// record), and only a backlog larger than the tail is read from disk.
//
// Layout of a segment: records of [4-byte big-endian length][4-byte CRC-32C of payload][payload].
// A torn or corrupt tail (a crash in the middle of an append) is cut off when the queue opens.
//
// A disk that refuses writes (full, read-only, failing) loses nothing at once: with
// Options.MemoryBytes, records wait in memory, in order, and are written before any newer one as
// soon as the disk takes writes again. A reader is never blocked by it: Peek serves what is on
// disk, and a Commit that cannot persist the cursor still moves it (after a crash the records
// are delivered again: at least once).
package diskqueue

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// ErrFull is returned by Push when the queue holds its maximum size.
var ErrFull = errors.New("disk queue full")

// HeldError is returned by Push when the disk refused the record and the queue holds it in
// memory instead (Options.MemoryBytes): it is not lost, but it is not durable either.
type HeldError struct{ Err error }

func (e *HeldError) Error() string {
	return "held in memory: the disk refused the write: " + e.Err.Error()
}

func (e *HeldError) Unwrap() error { return e.Err }

// ErrLocked is returned by Open when another process holds the queue directory.
var ErrLocked = errors.New("the queue directory is in use by another process: two collectors must not share one queue")

const (
	headerSize = 8
	segSuffix  = ".seg"
	cursorFile = "cursor"
	lockFile   = "lock"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Position is a place in the queue: a segment and an offset in it.
type Position struct {
	Segment uint64
	Offset  int64
}

// Queue is safe for one producer side (Push, from many goroutines) and one consumer (Peek/Commit).
type Queue struct {
	dir             string
	maxBytes        int64
	segmentSize     int64
	sync            bool
	dropOldest      bool
	onDrop          func([]byte)
	onCorrupt       func([]byte, int64)
	memBytes        int64
	onMemDrop       func([]byte)
	onCursorDamaged func(error)

	mu       sync.Mutex
	records  int64    // records not yet committed
	lastPeek peekMark // what the last Peek returned, to count a Commit of it
	segments []uint64 // ids in order; the last is being written
	sizes    map[uint64]int64
	w        *os.File
	lock     *os.File // held while the queue is open
	cursor   Position
	notify   chan struct{}
	closed   bool
	// held are records the disk refused, oldest first, waiting to be written.
	held      [][]byte
	heldBytes int64
	// tail are the newest records on disk, in order up to the end of the queue (Options.TailBytes).
	tail      []tailRecord
	tailBytes int64
	tailMax   int64
	spare     [][]byte // frames of committed tail records, for reuse
	frame     []byte   // the frame of the record being written, without a tail
	// cur is the cursor file, open for rewriting in place once a Commit has created it.
	cur *os.File
}

// tailRecord is a record of the in-memory tail: its frame as on disk (header and payload) and
// where it starts and ends in the queue.
type tailRecord struct {
	frame      []byte
	start, end Position
}

// before says whether p comes before o in the queue.
func (p Position) before(o Position) bool {
	return p.Segment < o.Segment || (p.Segment == o.Segment && p.Offset < o.Offset)
}

// peekMark is a Peek's range: n records from from to to.
type peekMark struct {
	from, to Position
	n        int64
}

// Options of a queue.
type Options struct {
	// MaxBytes caps the queue's size on disk; Push fails with ErrFull above it.
	MaxBytes int64
	// SegmentBytes is the size after which a new segment file starts (default 16 MiB).
	SegmentBytes int64
	// Sync makes every Push and Commit fsync (survives power loss, not only process crashes).
	Sync bool
	// DropOldest makes a full queue drop its oldest segment to make room for a new record,
	// instead of refusing the record with ErrFull: in monitoring, recent data matters most.
	DropOldest bool
	// OnDrop, if set, is called with each record DropOldest drops (under the queue's lock: it
	// must not call the queue).
	OnDrop func(payload []byte)
	// OnCorrupt, if set, is called for what Peek skips as unreadable: a record failing its
	// checksum (payload as read), or the rest of a segment whose record lengths make no sense
	// (payload nil), with the bytes skipped.
	OnCorrupt func(payload []byte, bytes int64)
	// MemoryBytes bounds the records held in memory while the disk refuses writes; 0 holds
	// none (Push returns the write error). Beyond it the oldest held records are dropped.
	MemoryBytes int64
	// OnMemoryDrop, if set, is called (under the queue's lock) with each held record dropped:
	// beyond MemoryBytes, or at Close when the disk still refuses it.
	OnMemoryDrop func(payload []byte)
	// OnCursorDamaged, if set, is called at Open when the cursor file cannot be read as one (a
	// power loss in the middle of its rewrite, damage): the queue then delivers all it holds
	// again, from its oldest segment.
	OnCursorDamaged func(err error)
	// TailBytes keeps up to this many bytes of the newest records in memory, besides on disk,
	// for Peek to serve without reading the disk; 0 keeps none.
	TailBytes int64
}

// Open opens (or creates) the queue in dir, which it locks against other processes until Close.
func Open(dir string, opts Options) (*Queue, error) {
	if opts.SegmentBytes <= 0 {
		opts.SegmentBytes = 16 << 20
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	q, err := open(dir, opts)
	if err != nil {
		if lock != nil {
			lock.Close()
		}
		return nil, err
	}
	q.lock = lock
	return q, nil
}

func open(dir string, opts Options) (*Queue, error) {
	q := &Queue{dir: dir, maxBytes: opts.MaxBytes, segmentSize: opts.SegmentBytes, sync: opts.Sync,
		dropOldest: opts.DropOldest, onDrop: opts.OnDrop, onCorrupt: opts.OnCorrupt, memBytes: opts.MemoryBytes, onMemDrop: opts.OnMemoryDrop,
		onCursorDamaged: opts.OnCursorDamaged, tailMax: opts.TailBytes, sizes: map[uint64]int64{}, notify: make(chan struct{}, 1)}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if id, ok := strings.CutSuffix(e.Name(), segSuffix); ok {
			n, err := strconv.ParseUint(id, 10, 64)
			if err != nil {
				continue
			}
			q.segments = append(q.segments, n)
		}
	}
	sort.Slice(q.segments, func(i, j int) bool { return q.segments[i] < q.segments[j] })
	if err := q.readCursor(); err != nil {
		return nil, err
	}
	for _, id := range q.segments {
		size, err := q.validLength(id)
		if err != nil {
			return nil, err
		}
		q.sizes[id] = size
	}
	// Segments wholly before the cursor were consumed (a crash after Commit, before deletion).
	for len(q.segments) > 0 && q.segments[0] < q.cursor.Segment {
		_ = os.Remove(q.segPath(q.segments[0]))
		delete(q.sizes, q.segments[0])
		q.segments = q.segments[1:]
	}
	if len(q.segments) == 0 {
		q.segments = []uint64{q.cursor.Segment}
		q.sizes[q.cursor.Segment] = 0
	} else if q.cursor.Segment < q.segments[0] {
		q.cursor = Position{Segment: q.segments[0]}
	}
	last := q.segments[len(q.segments)-1]
	f, err := os.OpenFile(q.segPath(last), os.O_CREATE|os.O_WRONLY, 0o640)
	if err != nil {
		return nil, err
	}
	// Cut a torn tail so that appends continue a valid record stream.
	if err := f.Truncate(q.sizes[last]); err != nil {
		f.Close()
		return nil, err
	}
	if _, err := f.Seek(q.sizes[last], io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	q.w = f
	n, err := q.countRecords()
	if err != nil {
		f.Close()
		return nil, err
	}
	q.records = n
	return q, nil
}

func (q *Queue) segPath(id uint64) string {
	return filepath.Join(q.dir, fmt.Sprintf("%020d%s", id, segSuffix))
}

// validLength scans a segment and returns the length of its readable part: up to a torn tail
// (a crash in the middle of an append) or a length that makes no sense. A record that fails
// its checksum but is whole stays: Peek skips it and reports it (OnCorrupt), and the records
// after it are kept.
func (q *Queue) validLength(id uint64) (int64, error) {
	f, err := os.Open(q.segPath(id))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r := bufio.NewReader(f)
	var off int64
	for {
		_, n, err := readRecord(r)
		if err != nil && !errors.Is(err, errChecksum) {
			return off, nil // EOF, torn tail or a senseless length: the readable part ends here
		}
		off += n
	}
}

// Errors of readRecord: a whole record whose payload fails its checksum (its length n is
// known, so reading can go on after it), or a length larger than any record.
var (
	errChecksum  = errors.New("checksum mismatch: corrupt record")
	errBadLength = errors.New("record too large: corrupt segment")
)

func readRecord(r io.Reader) ([]byte, int64, error) {
	var hdr [headerSize]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, 0, err
	}
	size := binary.BigEndian.Uint32(hdr[:4])
	if size > 1<<30 {
		return nil, 0, errBadLength
	}
	payload := make([]byte, size)
	if _, err := io.ReadFull(r, payload); err != nil {
		return nil, 0, err
	}
	n := int64(headerSize) + int64(size)
	if crc32.Checksum(payload, castagnoli) != binary.BigEndian.Uint32(hdr[4:]) {
		return payload, n, errChecksum
	}
	return payload, n, nil
}

func (q *Queue) readCursor() error {
	b, err := os.ReadFile(filepath.Join(q.dir, cursorFile))
	if errors.Is(err, os.ErrNotExist) {
		if len(q.segments) > 0 {
			q.cursor = Position{Segment: q.segments[0]}
		}
		return nil
	}
	if err != nil {
		return err
	}
	pos, err := parseCursor(b)
	if err != nil {
		// Lose nothing: deliver everything on disk again (at least once), and say so.
		if len(q.segments) > 0 {
			q.cursor = Position{Segment: q.segments[0]}
		}
		if q.onCursorDamaged != nil {
			q.onCursorDamaged(fmt.Errorf("disk queue cursor %q: %w", b, err))
		}
	} else {
		q.cursor = pos
	}
	return nil
}

// formatCursor writes pos as the cursor file holds it: "<segment> <offset> <crc>\n" in
// fixed-width fields, so that every rewrite in place covers the whole of the previous one; the
// CRC-32C of the first two fields tells a cursor torn by a power loss from a valid one.
// (parseCursor also reads those written before, "<segment> <offset>".)
func formatCursor(pos Position) []byte {
	b := fmt.Appendf(nil, "%020d %020d", pos.Segment, pos.Offset)
	return fmt.Appendf(b, " %08x\n", crc32.Checksum(b, castagnoli))
}

func parseCursor(b []byte) (Position, error) {
	var pos Position
	fields := strings.Fields(string(b))
	if len(fields) != 2 && len(fields) != 3 {
		return pos, errors.New("want a segment, an offset and a checksum")
	}
	seg, err := strconv.ParseUint(fields[0], 10, 64)
	if err != nil {
		return pos, err
	}
	off, err := strconv.ParseInt(fields[1], 10, 64)
	if err != nil || off < 0 {
		return pos, fmt.Errorf("offset %q", fields[1])
	}
	if len(fields) == 3 {
		sum, err := strconv.ParseUint(fields[2], 16, 32)
		if err != nil || uint32(sum) != crc32.Checksum([]byte(fields[0]+" "+fields[1]), castagnoli) {
			return pos, errors.New("checksum mismatch: torn or damaged")
		}
	}
	return Position{Segment: seg, Offset: off}, nil
}

// Records is the number of records not yet committed, held ones included.
func (q *Queue) Records() int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.records + int64(len(q.held))
}

// Held is the number of records held in memory because the disk refused them.
func (q *Queue) Held() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.held)
}

// countRecords counts the records from the cursor on, reading only their headers (at open,
// and after a drop moved the cursor under a Peek).
func (q *Queue) countRecords() (int64, error) {
	var n int64
	for _, id := range q.segments {
		if id < q.cursor.Segment {
			continue
		}
		off := int64(0)
		if id == q.cursor.Segment {
			off = q.cursor.Offset
		}
		err := q.eachRecordHeader(id, off, func(*os.File, int64, uint32) error { n++; return nil })
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// eachRecordHeader calls f with the segment file and the offset and payload length of each
// record of segment id from offset off on.
func (q *Queue) eachRecordHeader(id uint64, off int64, f func(file *os.File, off int64, size uint32) error) error {
	file, err := os.Open(q.segPath(id))
	if err != nil {
		return err
	}
	defer file.Close()
	var hdr [headerSize]byte
	for off < q.sizes[id] {
		if _, err := file.ReadAt(hdr[:], off); err != nil {
			return err
		}
		size := binary.BigEndian.Uint32(hdr[:4])
		if err := f(file, off, size); err != nil {
			return err
		}
		off += headerSize + int64(size)
	}
	return nil
}

// dropHeadLocked drops the oldest segment (not the one being written), handing its
// uncommitted records to OnDrop, and moves the cursor to the next segment.
func (q *Queue) dropHeadLocked() error {
	id := q.segments[0]
	off := int64(0)
	if id == q.cursor.Segment {
		off = q.cursor.Offset
	}
	var dropped int64
	err := q.eachRecordHeader(id, off, func(file *os.File, at int64, size uint32) error {
		dropped++
		if q.onDrop == nil {
			return nil
		}
		payload := make([]byte, size)
		if _, err := file.ReadAt(payload, at+headerSize); err != nil {
			return err
		}
		q.onDrop(payload)
		return nil
	})
	if err != nil {
		return err
	}
	if err := os.Remove(q.segPath(id)); err != nil {
		return err
	}
	delete(q.sizes, id)
	q.segments = q.segments[1:]
	q.cursor = Position{Segment: q.segments[0]}
	q.records -= dropped
	q.trimTailLocked(Position{Segment: id + 1}, false) // the dropped segment's records
	return q.syncDir()
}

// Size is the bytes not yet committed: on disk, and held in memory.
func (q *Queue) Size() int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.pendingLocked() + q.heldBytes
}

func (q *Queue) pendingLocked() int64 {
	var n int64
	for _, id := range q.segments {
		n += q.sizes[id]
	}
	return n - q.cursor.Offset
}

// Push appends a record. It fails with ErrFull when the queue is at its size limit (and does
// not drop its oldest), and with a *HeldError when the disk refused the record and it is held
// in memory (Options.MemoryBytes).
func (q *Queue) Push(payload []byte) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return errors.New("disk queue closed")
	}
	// Held records are older: they go first, or the new one waits behind them.
	err := q.writeHeldLocked()
	if err == nil {
		err = q.appendLocked(payload)
	}
	if err != nil {
		if errors.Is(err, ErrFull) && len(q.held) == 0 {
			return err
		}
		return q.holdLocked(payload, err)
	}
	q.signal()
	return nil
}

func (q *Queue) signal() {
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

// appendLocked writes one record at the end of the queue, dropping the oldest segment for room
// (DropOldest) or failing with ErrFull. A failed write leaves no partial record behind.
func (q *Queue) appendLocked(payload []byte) error {
	rec := int64(headerSize + len(payload))
	for q.maxBytes > 0 && q.pendingLocked()+rec > q.maxBytes {
		if !q.dropOldest || len(q.segments) < 2 {
			return ErrFull // refusing; or only the segment being written is left
		}
		if err := q.dropHeadLocked(); err != nil {
			return err
		}
	}
	last := q.segments[len(q.segments)-1]
	if q.sizes[last] > 0 && q.sizes[last]+rec > q.segmentSize {
		if err := q.rollLocked(); err != nil {
			return err
		}
		last = q.segments[len(q.segments)-1]
	}
	// Header and payload in one buffer: one write per record.
	frame := q.frameBuffer(int(rec))
	binary.BigEndian.PutUint32(frame[:4], uint32(len(payload)))
	binary.BigEndian.PutUint32(frame[4:8], crc32.Checksum(payload, castagnoli))
	copy(frame[headerSize:], payload)
	_, err := q.w.Write(frame)
	if err == nil && q.sync {
		err = q.w.Sync()
	}
	if err != nil {
		// Leave no partial (or unsynced) record behind for the next append.
		_ = q.w.Truncate(q.sizes[last])
		_, _ = q.w.Seek(q.sizes[last], io.SeekStart)
		q.recycle(frame)
		return err
	}
	start := Position{Segment: last, Offset: q.sizes[last]}
	q.sizes[last] += rec
	q.records++
	if q.tailMax > 0 {
		q.tail = append(q.tail, tailRecord{frame: frame, start: start, end: Position{Segment: last, Offset: q.sizes[last]}})
		q.tailBytes += rec
		for q.tailBytes > q.tailMax {
			// Forgotten, not recycled: a Peek may have returned it and the sender hold it.
			q.trimTailLocked(q.tail[0].end, false)
		}
	}
	return nil
}

// frameBuffer returns a buffer of n bytes for a record's frame: a spare one when the frame will
// join the tail, else the one reused from write to write.
func (q *Queue) frameBuffer(n int) []byte {
	if q.tailMax <= 0 {
		if cap(q.frame) < n || cap(q.frame) > 4*n+(64<<10) {
			q.frame = make([]byte, n) // also lets an outsized record's buffer go
		}
		return q.frame[:n]
	}
	for i, b := range q.spare {
		if cap(b) >= n && cap(b) <= 2*n+4096 {
			last := len(q.spare) - 1
			q.spare[i], q.spare[last] = q.spare[last], nil
			q.spare = q.spare[:last]
			return b[:n]
		}
	}
	return make([]byte, n, n+n/8)
}

// maxSpare bounds the spare frames kept for reuse: about one flush interval's scrapes.
const maxSpare = 32

// recycle keeps the frame of a record that left the tail (committed, or never written) for
// reuse.
func (q *Queue) recycle(frame []byte) {
	if q.tailMax > 0 && len(q.spare) < maxSpare {
		q.spare = append(q.spare, frame)
	}
}

// trimTailLocked forgets the tail's records before pos, recycling their frames when they
// were delivered (a Commit: nobody holds them any more).
func (q *Queue) trimTailLocked(pos Position, delivered bool) {
	n := 0
	for n < len(q.tail) && !pos.before(q.tail[n].end) {
		q.tailBytes -= int64(len(q.tail[n].frame))
		if delivered {
			q.recycle(q.tail[n].frame)
		}
		q.tail[n] = tailRecord{}
		n++
	}
	q.tail = q.tail[n:]
	if len(q.tail) == 0 {
		q.tail = nil // the backing array's start moved on: let it go
	}
}

// peekTailLocked serves a Peek from the tail when the tail starts at pos, the committed
// position. It never starts before it (a Commit forgets what it passes), so otherwise a backlog
// older than the tail is on disk only.
func (q *Queue) peekTailLocked(pos Position, maxRecords int, maxBytes int64) ([][]byte, Position, bool) {
	if len(q.tail) == 0 {
		return nil, pos, false
	}
	// pos at the end of a consumed segment is the start of the next.
	if first := q.tail[0].start; first != pos && (first != Position{Segment: pos.Segment + 1} || pos.Offset != q.sizes[pos.Segment]) {
		return nil, pos, false
	}
	var out [][]byte
	var total int64
	for i := 0; i < len(q.tail) && len(out) < maxRecords; i++ {
		payload := q.tail[i].frame[headerSize:]
		if len(out) > 0 && total+int64(len(payload)) > maxBytes {
			break // the budget is exceeded only by a single first record
		}
		out = append(out, payload)
		total += int64(len(payload))
		pos = q.tail[i].end
	}
	return out, pos, true
}

// holdLocked keeps a record the disk refused (err) in memory, within MemoryBytes, dropping the
// oldest held records beyond it.
func (q *Queue) holdLocked(payload []byte, err error) error {
	if q.memBytes <= 0 {
		return err
	}
	q.held = append(q.held, append([]byte(nil), payload...))
	q.heldBytes += int64(len(payload))
	for q.heldBytes > q.memBytes {
		if q.onMemDrop != nil {
			q.onMemDrop(q.held[0])
		}
		q.heldBytes -= int64(len(q.held[0]))
		q.held[0] = nil
		q.held = q.held[1:]
	}
	return &HeldError{Err: err}
}

// writeHeldLocked writes the held records to disk, oldest first, until the disk refuses one.
func (q *Queue) writeHeldLocked() error {
	wrote := false
	for len(q.held) > 0 {
		if err := q.appendLocked(q.held[0]); err != nil {
			if wrote {
				q.signal()
			}
			return err
		}
		wrote = true
		q.heldBytes -= int64(len(q.held[0]))
		q.held[0] = nil
		q.held = q.held[1:]
	}
	if wrote {
		q.signal()
	}
	if len(q.held) == 0 {
		q.held = nil // let a long outage's backing array go
	}
	return nil
}

// rollLocked starts a new segment. If it cannot be created, the current one stays the one
// written.
func (q *Queue) rollLocked() error {
	id := q.segments[len(q.segments)-1] + 1
	f, err := os.OpenFile(q.segPath(id), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	_ = q.w.Close() // written and (with Sync) synced record by record: nothing is pending in it
	q.w = f
	q.segments = append(q.segments, id)
	q.sizes[id] = 0
	return q.syncDir()
}

// syncDir makes the directory's entries (a new segment, a renamed cursor) durable, with
// Options.Sync: a file's own fsync does not persist its name.
func (q *Queue) syncDir() error {
	if !q.sync {
		return nil
	}
	d, err := os.Open(q.dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Notify signals (without blocking the producer) that records were pushed.
func (q *Queue) Notify() <-chan struct{} { return q.notify }

// Peek returns up to maxRecords records and at most maxBytes of payload (but always the first
// record) from the committed position on, and the position after them. Nothing is removed. The
// records are the caller's to read, not to change, until the Commit that moves past them.
func (q *Queue) Peek(maxRecords int, maxBytes int64) ([][]byte, Position, error) {
	q.mu.Lock()
	if out, pos, ok := q.peekTailLocked(q.cursor, maxRecords, maxBytes); ok {
		q.lastPeek = peekMark{from: q.cursor, to: pos, n: int64(len(out))}
		q.mu.Unlock()
		return out, pos, nil
	}
	segments := append([]uint64(nil), q.segments...)
	sizes := make(map[uint64]int64, len(q.sizes))
	for k, v := range q.sizes {
		sizes[k] = v
	}
	pos := q.cursor
	from := pos
	q.mu.Unlock()

	var out [][]byte
	var total int64
	consumed := int64(0) // records returned or skipped as corrupt
	recount := false     // a segment's unreadable tail was skipped: its records are unknown
	for _, id := range segments {
		if id < pos.Segment {
			continue
		}
		if id > pos.Segment {
			pos = Position{Segment: id}
		}
		if pos.Offset >= sizes[id] {
			continue
		}
		f, err := os.Open(q.segPath(id))
		if errors.Is(err, os.ErrNotExist) {
			continue // dropped (DropOldest) since the snapshot
		}
		if err != nil {
			return nil, pos, err
		}
		if _, err := f.Seek(pos.Offset, io.SeekStart); err != nil {
			f.Close()
			return nil, pos, err
		}
		r := bufio.NewReader(io.LimitReader(f, sizes[id]-pos.Offset))
		for len(out) < maxRecords && pos.Offset < sizes[id] {
			rec, n, err := readRecord(r)
			if errors.Is(err, errChecksum) {
				// Damaged on disk since it was written: skipped and reported, never wedging
				// the queue (the sender would otherwise wait at it forever).
				if q.onCorrupt != nil {
					q.onCorrupt(rec, n)
				}
				pos.Offset += n
				consumed++
				continue
			}
			if err != nil {
				// A senseless length or a cut record inside what was appended whole: nothing
				// after it in this segment can be found; skip to the next segment.
				if q.onCorrupt != nil {
					q.onCorrupt(nil, sizes[id]-pos.Offset)
				}
				pos.Offset = sizes[id]
				recount = true
				break
			}
			if len(out) > 0 && total+int64(len(rec)) > maxBytes {
				break // the budget is exceeded only by a single first record
			}
			out = append(out, rec)
			total += int64(len(rec))
			pos.Offset += n
			consumed++
		}
		f.Close()
		if len(out) >= maxRecords || (len(out) > 0 && pos.Offset < sizes[id]) {
			break // full, or stopped inside this segment by the byte budget
		}
	}
	q.mu.Lock()
	q.lastPeek = peekMark{from: from, to: pos, n: consumed}
	if recount {
		q.lastPeek.n = -1
	}
	q.mu.Unlock()
	if len(out) == 0 && pos != from {
		// Only unreadable data was found: nothing will be delivered to commit it, so it is
		// committed here (it cannot be read again anyway).
		if err := q.Commit(pos); err != nil {
			return nil, pos, err
		}
	}
	return out, pos, nil
}

// Commit records that everything before pos was delivered; fully consumed segments are deleted.
// If the cursor cannot be persisted (a full or read-only disk), it still moves in memory, so the
// reader goes on, and the error is returned; after a crash the records since the last persisted
// cursor are delivered again.
func (q *Queue) Commit(pos Position) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if pos.Segment < q.cursor.Segment || (pos.Segment == q.cursor.Segment && pos.Offset < q.cursor.Offset) {
		return nil // a drop (DropOldest) already moved the cursor past pos
	}
	err := q.persistCursor(pos)
	exact := q.lastPeek.from == q.cursor && q.lastPeek.to == pos && q.lastPeek.n >= 0
	q.cursor = pos
	q.trimTailLocked(pos, true)
	if last := q.segments[len(q.segments)-1]; len(q.held) > 0 && pos.Segment == last && pos.Offset == q.sizes[last] && pos.Offset > 0 {
		// Records wait in memory and the reader consumed all the disk has: start a new segment
		// so that the consumed one is deleted below, which may be the room they need.
		if q.rollLocked() == nil {
			q.cursor = Position{Segment: last + 1}
		}
	}
	for len(q.segments) > 1 && q.segments[0] < q.cursor.Segment {
		_ = os.Remove(q.segPath(q.segments[0]))
		delete(q.sizes, q.segments[0])
		q.segments = q.segments[1:]
	}
	if exact {
		q.records -= q.lastPeek.n
	} else if n, err := q.countRecords(); err == nil { // a drop came between Peek and Commit
		q.records = n
	}
	_ = q.writeHeldLocked() // room may have been made; if not, the next Push tries again
	return err
}

// persistCursor writes pos as the cursor file. The first time after Open it writes a new file
// and renames it over the old one (atomic, whatever the old one held) and keeps it open; from
// then on it rewrites it in place, one write of the same length (and an fsync with
// Options.Sync) instead of a create, a write, a close and a rename per Commit.
func (q *Queue) persistCursor(pos Position) error {
	b := formatCursor(pos)
	if q.cur != nil {
		_, err := q.cur.WriteAt(b, 0)
		if err == nil && q.sync {
			err = q.cur.Sync()
		}
		if err == nil {
			return nil
		}
		// Start over with a new file next time: this one may hold a part of b.
		_ = q.cur.Close()
		q.cur = nil
		return err
	}
	tmp := filepath.Join(q.dir, cursorFile+".tmp")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil && q.sync {
		err = f.Sync()
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(q.dir, cursorFile))
	}
	if err != nil {
		f.Close()
		return err
	}
	q.cur = f
	return q.syncDir()
}

// Close closes the write segment; the queue's content stays on disk for the next Open.
func (q *Queue) Close() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return nil
	}
	q.closed = true
	var err error
	if q.writeHeldLocked() != nil {
		err = fmt.Errorf("%d records held in memory could not be written to disk and are lost", len(q.held))
		for _, rec := range q.held {
			if q.onMemDrop != nil {
				q.onMemDrop(rec)
			}
		}
		q.held, q.heldBytes = nil, 0
	}
	err = errors.Join(err, q.w.Close())
	if q.cur != nil {
		err = errors.Join(err, q.cur.Close())
	}
	if q.lock != nil {
		err = errors.Join(err, q.lock.Close()) // closing releases the lock
	}
	return err
}
