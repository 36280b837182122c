package llminferenceremotewriteexporter

import (
	"slices"

	"github.com/golang/snappy"
)

// Queue records start with a format byte. recordSnappy: the rest is the snappy block of the
// protobuf encoding of a remote-write WriteRequest (remote write repeats every label on every
// series, which compresses three to five times). Any other first byte is an unknown format,
// which the sender skips with a log line. A new format takes a new byte, so that a queue left
// on disk by an older version is still read.
const recordSnappy byte = 0x03

// appendSnappyRecord appends the record of an encoded WriteRequest to rec.
func appendSnappyRecord(rec, writeRequest []byte) []byte {
	l := len(rec)
	rec = slices.Grow(rec, 1+snappy.MaxEncodedLen(len(writeRequest)))
	rec = append(rec, recordSnappy)
	return rec[:l+1+len(snappy.Encode(rec[l+1:cap(rec)], writeRequest))]
}

// recordLen is the length of a record's WriteRequest encoding; false for an unreadable record.
func recordLen(r []byte) (int, bool) {
	if len(r) == 0 {
		return 0, false
	}
	if r[0] != recordSnappy {
		return 0, false
	}
	n, err := snappy.DecodedLen(r[1:])
	return n, err == nil
}

// appendRecord appends a record's WriteRequest encoding (n bytes, from recordLen) to buf.
func appendRecord(buf, r []byte, n int) []byte {
	l := len(buf)
	buf = slices.Grow(buf, n)[:l+n]
	if _, err := snappy.Decode(buf[l:], r[1:]); err != nil {
		return buf[:l] // a corrupt block: its CRC passed, so it was written corrupt; skip it
	}
	return buf
}
