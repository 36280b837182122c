package startuppagesextension

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBinarySpans(t *testing.T) {
	smaps, err := os.ReadFile("testdata/smaps")
	require.NoError(t, err)
	text, rodata := span{0x400000, 0x2ea7000}, span{0x2ea7000, 0x61d9000}
	tests := []struct {
		name        string
		addr        uintptr
		wantSpans   []span
		wantSkipped int
		wantErr     string
	}{
		{
			// The relocated read-only mapping (anonymous pages), .data, the shared mapping of the
			// same file, other files and anonymous memory are all left alone.
			name: "code address: the binary's clean read-only private mappings", addr: 0x401000,
			wantSpans: []span{text, rodata}, wantSkipped: 1,
		},
		{name: "an address in read-only data finds the same file", addr: 0x3000000, wantSpans: []span{text, rodata}, wantSkipped: 1},
		{name: "first byte of a mapping", addr: 0x400000, wantSpans: []span{text, rodata}, wantSkipped: 1},
		{name: "end of a mapping is outside it", addr: 0x8400000, wantErr: "no file mapping"},
		{name: "anonymous memory", addr: 0x6400000, wantErr: "no file mapping"},
		{name: "a pseudo-file: [vdso]", addr: 0x7ffd00022000, wantErr: "no file mapping"},
		{name: "another file", addr: 0x7f0000000000, wantSpans: []span{{0x7f0000000000, 0x7f0000010000}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spans, skipped, err := binarySpans(strings.NewReader(string(smaps)), tt.addr)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantSpans, spans)
			assert.Equal(t, tt.wantSkipped, skipped)
		})
	}
}

func TestBinarySpansRejectsAMalformedAnonymousCount(t *testing.T) {
	smaps := "00400000-00500000 r-xp 00000000 fe:00 1 /bin/x\nAnonymous: many kB\n"
	_, _, err := binarySpans(strings.NewReader(smaps), 0x400000)
	require.ErrorContains(t, err, `"Anonymous: many kB"`)
}

func TestParseHeader(t *testing.T) {
	tests := []struct {
		line string
		want header
		ok   bool
	}{
		{"00400000-02ea7000 r-xp 00000000 fe:00 10240205    /usr/bin/otelcol", header{span{0x400000, 0x2ea7000}, "r-xp", "/usr/bin/otelcol"}, true},
		{"00400000-02ea7000 r-xp 00000000 fe:00 10240205    /opt/my dir/otelcol (deleted)", header{span{0x400000, 0x2ea7000}, "r-xp", "/opt/my dir/otelcol (deleted)"}, true},
		{"0638f000-08400000 rw-p 00000000 00:00 0", header{span{0x638f000, 0x8400000}, "rw-p", ""}, true},
		{"Size:              43676 kB", header{}, false},
		{"VmFlags: rd ex mr mw me sd", header{}, false},
		{"zz-02ea7000 r-xp 00000000 fe:00 1 /x", header{}, false},
		{"02ea7000-00400000 r-xp 00000000 fe:00 1 /x", header{}, false},
	}
	for _, tt := range tests {
		got, ok := parseHeader(tt.line)
		assert.Equal(t, tt.ok, ok, tt.line)
		assert.Equal(t, tt.want, got, tt.line)
	}
}
