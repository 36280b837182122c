package llminferenceremotewriteexporter

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// decodeRequest decodes one record's block, as a backend would.
func decodeRequest(t *testing.T, rec []byte) []byte {
	t.Helper()
	b, ok := block(rec)
	require.True(t, ok)
	raw, err := snappy.Decode(nil, b)
	require.NoError(t, err)
	return raw
}

// TestJoinedRecordsDecodeToTheirConcatenation: records joined without decoding (one varint in
// front of their elements) are a block that a stock snappy decoder expands to the records'
// bytes one after another, whatever the records hold: tiny ones (a one-byte length), empty
// ones, text with long back-references, incompressible bytes, and records larger than the
// encoder's 64 KiB chunks. Both record formats take part.
func TestJoinedRecordsDecodeToTheirConcatenation(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	repetitive := func(n int) []byte {
		return bytes.Repeat([]byte(`vllm:num_requests_running{model_name="qwen",pod="qwen-0"} 3`+"\n"), n)
	}
	tests := []struct {
		name string
		raws [][]byte
	}{
		{"one small record", [][]byte{[]byte("abc")}},
		{"empty records between", [][]byte{nil, []byte("x"), nil, []byte("yz")}},
		{"repetitive text", [][]byte{repetitive(10), repetitive(300), repetitive(1)}},
		{"incompressible", [][]byte{random(1000), random(70000)}},
		{"larger than a snappy chunk, mixed", [][]byte{repetitive(5000), random(200000), repetitive(3000)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []byte
			req := startRequest(nil)
			decoded := 0
			for i, raw := range tt.raws {
				var rec []byte
				if i%2 == 0 {
					rec = appendTimedRecord(nil, raw, time.Now(), 1)
				} else {
					rec = appendSnappyRecord(nil, raw)
				}
				n, body, ok := blockBody(rec)
				require.True(t, ok)
				require.Equal(t, len(raw), n)
				req = append(req, body...)
				decoded += n
				want = append(want, raw...)
			}
			got, err := snappy.Decode(nil, finishRequest(req, decoded))
			require.NoError(t, err)
			assert.True(t, bytes.Equal(want, got), "decoded %d bytes, want %d", len(got), len(want))
		})
	}
}

// TestBlockBodyRefusesUnreadableRecords: a record of an unknown format, or whose block does
// not start with a length, is refused (and dropped by the sender), not sent.
func TestBlockBodyRefusesUnreadableRecords(t *testing.T) {
	tests := []struct {
		name string
		rec  []byte
	}{
		{"empty", nil},
		{"unknown format", []byte{0x7f, 1, 2, 3}},
		{"timed header cut short", []byte{recordTimedSnappy, 0, 0}},
		{"length varint cut short", []byte{recordSnappy, 0x80, 0x80}},
		{"length beyond snappy's 32 bits", append([]byte{recordSnappy}, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01)},
	}
	for _, tt := range tests {
		_, _, ok := blockBody(tt.rec)
		assert.False(t, ok, tt.name)
	}
}
