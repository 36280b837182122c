package llminferenceremotewriteexporter

import (
	"encoding/binary"
	"slices"
	"time"

	"github.com/golang/snappy"
)

// Queue records start with a format byte. recordSnappy: the rest is the snappy block of the
// protobuf encoding of a remote-write WriteRequest (remote write repeats every label on every
// series, which compresses three to five times). recordTimedSnappy (what enqueue writes): an
// 8-byte enqueue time (Unix nanoseconds) and a 4-byte sample count, big-endian, then the same
// block; the exporter's telemetry reads them without decoding. Any other first byte is an
// unknown format, which the sender skips with a log line. A new format takes a new byte, so
// that a queue left on disk by an older version is still read.
const (
	recordSnappy      byte = 0x03
	recordTimedSnappy byte = 0x04
	timedHeader            = 1 + 8 + 4
)

// appendSnappyRecord appends the record of an encoded WriteRequest to rec (the older format,
// without time and count).
func appendSnappyRecord(rec, writeRequest []byte) []byte {
	l := len(rec)
	rec = slices.Grow(rec, 1+snappy.MaxEncodedLen(len(writeRequest)))
	rec = append(rec, recordSnappy)
	return rec[:l+1+len(snappy.Encode(rec[l+1:cap(rec)], writeRequest))]
}

// appendTimedRecord appends the record of an encoded WriteRequest of samples samples, queued
// at enqueued, to rec.
func appendTimedRecord(rec, writeRequest []byte, enqueued time.Time, samples int) []byte {
	l := len(rec)
	rec = slices.Grow(rec, timedHeader+snappy.MaxEncodedLen(len(writeRequest)))
	rec = append(rec, recordTimedSnappy)
	rec = binary.BigEndian.AppendUint64(rec, uint64(enqueued.UnixNano()))
	rec = binary.BigEndian.AppendUint32(rec, uint32(samples))
	return rec[:l+timedHeader+len(snappy.Encode(rec[l+timedHeader:cap(rec)], writeRequest))]
}

// recordMeta returns a record's enqueue time and sample count; false for a record without
// them (the older format, or unreadable).
func recordMeta(r []byte) (time.Time, int, bool) {
	if len(r) < timedHeader || r[0] != recordTimedSnappy {
		return time.Time{}, 0, false
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(r[1:9]))), int(binary.BigEndian.Uint32(r[9:13])), true
}

// block is the snappy block of a record of a known format.
func block(r []byte) ([]byte, bool) {
	switch {
	case len(r) >= 1 && r[0] == recordSnappy:
		return r[1:], true
	case len(r) >= timedHeader && r[0] == recordTimedSnappy:
		return r[timedHeader:], true
	}
	return nil, false
}

// recordLen is the length of a record's WriteRequest encoding; false for an unreadable record.
func recordLen(r []byte) (int, bool) {
	if len(r) == 0 {
		return 0, false
	}
	b, ok := block(r)
	if !ok {
		return 0, false
	}
	n, err := snappy.DecodedLen(b)
	return n, err == nil
}

// appendRecord appends a record's WriteRequest encoding (n bytes, from recordLen) to buf.
func appendRecord(buf, r []byte, n int) []byte {
	l := len(buf)
	buf = slices.Grow(buf, n)[:l+n]
	b, _ := block(r)
	if _, err := snappy.Decode(buf[l:], b); err != nil {
		return buf[:l] // a corrupt block: its CRC passed, so it was written corrupt; skip it
	}
	return buf
}
