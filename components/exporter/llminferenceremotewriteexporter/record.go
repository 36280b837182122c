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

// blockBody splits a record's snappy block into its decoded length and its body (the elements
// after the length's varint); false for an unreadable record.
func blockBody(r []byte) (int, []byte, bool) {
	b, ok := block(r)
	if !ok {
		return 0, nil, false
	}
	n, k := binary.Uvarint(b)
	if k <= 0 || n > 0xffffffff {
		return 0, nil, false
	}
	return int(n), b[k:], true
}

// Requests are built without decoding a record. A snappy block is the varint of its decoded
// length, then elements: literals, and copies whose offsets count back from where they are
// decoded and never reach before their own block's start. So the elements of several blocks,
// one after another, behind the varint of their summed lengths, are one valid block that
// decodes to the concatenation: the records' WriteRequests joined, which is a WriteRequest.
// This saves a decode and an encode of every byte sent (a fifth of the collector's CPU).

// requestHeaderRoom is what a request buffer keeps free at its start for the varint of its
// decoded length (known only once its records are chosen).
const requestHeaderRoom = binary.MaxVarintLen64

// startRequest empties buf for a request.
func startRequest(buf []byte) []byte {
	return append(buf[:0], make([]byte, requestHeaderRoom)...)
}

// finishRequest writes the request's decoded length (decoded, the sum of its records') in
// front of the elements in buf and returns the snappy block.
func finishRequest(buf []byte, decoded int) []byte {
	var hdr [binary.MaxVarintLen64]byte
	k := binary.PutUvarint(hdr[:], uint64(decoded))
	start := requestHeaderRoom - k
	copy(buf[start:], hdr[:k])
	return buf[start:]
}
