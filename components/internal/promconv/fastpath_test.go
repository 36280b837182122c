package promconv

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// TestSeriesEnd finds where a well-formed sample line's name and labels end, whatever the
// label values hold (braces, escaped quotes, blanks).
func TestSeriesEnd(t *testing.T) {
	tests := []struct {
		line string
		want string // the series part
	}{
		{`up 1`, `up`},
		{"up\t1", `up`},
		{`up`, `up`},
		{`a{b="c"} 1`, `a{b="c"}`},
		{`a{} 1`, `a{}`},
		{`a{b="}"} 1`, `a{b="}"}`},
		{`a{b="x\"}"} 1`, `a{b="x\"}"}`},
		{`a{b="x\\"} 1`, `a{b="x\\"}`},
		{`a{b="x\\\"}",c="d"} 1`, `a{b="x\\\"}",c="d"}`},
		{`a{b="c",d="e}f",g="h"} 2 123`, `a{b="c",d="e}f",g="h"}`},
		{`a{b="with blanks { and braces }"} 2`, `a{b="with blanks { and braces }"}`},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.line[:seriesEnd([]byte(tt.line))])
		})
	}
}

// TestFastPathRefusesWhatTextparseMustJudge: seriesEnd does not lex, so the line cache and the
// strict value syntax are what keep malformed lines off the fast path. After a scrape of good
// lines has filled the cache, a scrape with one odd line must not be resolved (textparse then
// judges it), while the same lines written differently but validly still are.
func TestFastPathRefusesWhatTextparseMustJudge(t *testing.T) {
	const prime = "# TYPE a gauge\n" + `a{b="c"} 1` + "\n" + `a{b="c",d="e}f",g="h"} 2` + "\nup 1\n"
	tests := []struct {
		name    string
		line    string
		resolve bool
	}{
		{"same lines, new values", `a{b="c"} 7`, true},
		{"tab before the value", "a{b=\"c\"}\t7", true},
		{"timestamp", `up 2 1600000000000`, true},
		{"brace inside a value", `a{b="c",d="e}f",g="h"} 3`, true},
		{"no blank before the value", `a{b="c"}7`, false},
		{"extra token", `a{b="c"} 1 2 3`, false},
		{"brace after the value", `a{b="c"} 1 }`, false},
		{"label set cut open", `up{ 1`, false},
		{"word after the value", `up 1 x`, false},
		{"no value", `up`, false},
		{"blank but no value", `a{b="c"} `, false},
		{"hex float", `a{b="c"} 0x1p3`, false},
		{"underscore in number", `a{b="c"} 1_000`, false},
		{"float timestamp", `up 1 1.5`, false},
		{"cached text is a prefix of the name", `upx 1`, false},
		{"label set of another line spliced", `a{b="c"} 1 a{b="c"}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewConverter(0)
			_, err := c.Convert([]byte(prime), textCT, t0, pmetric.NewMetricSlice())
			require.NoError(t, err)
			body := strings.Replace(prime, "up 1\n", tt.line+"\n", 1)
			if strings.HasPrefix(tt.line, "a{") {
				body = strings.Replace(prime, `a{b="c"} 1`+"\n", tt.line+"\n", 1)
			}
			if strings.HasPrefix(tt.line, `a{b="c",d`) {
				body = strings.Replace(prime, `a{b="c",d="e}f",g="h"} 2`+"\n", tt.line+"\n", 1)
			}
			_, ok := c.resolveCached([]byte(body), nil)
			assert.Equal(t, tt.resolve, ok, "body:\n%s", body)
		})
	}
}

// TestParseDecimalAgreesWithStrconv: where parseDecimal answers, it answers exactly what
// strconv.ParseFloat does (bit for bit, the sign of zero included), on hand-picked values and
// on random decimals of every length around the 2^53 and 22-digit limits; it declines the
// rest.
func TestParseDecimalAgreesWithStrconv(t *testing.T) {
	tests := []struct {
		in       string
		accepted bool
	}{
		{"0", true}, {"-0", true}, {"7", true}, {"1234567", true}, {"0.1", true}, {"-2.5", true},
		{"0.1234567", true}, {"9007199254740992", true}, {"0.0000000000000000000001", true},
		{"3.0000000000000000000001", false}, {"0.30000000000000004", false}, // digits beyond 2^53
		{".5", true}, {"5.", true},
		{"90071992547409919", false}, // beyond 2^53 digits: strconv rounds
		{"1e3", false}, {"+1", false}, {"NaN", false}, {"+Inf", false}, {"-Inf", false},
		{"1_000", false}, {"0x10", false}, {"", false}, {"-", false}, {".", false}, {"1.2.3", false},
		{"0.00000000000000000000001", false}, // 23 fraction digits
	}
	check := func(in string, wantAccepted *bool) {
		t.Helper()
		got, ok := parseDecimal([]byte(in))
		if wantAccepted != nil {
			assert.Equal(t, *wantAccepted, ok, in)
		}
		if !ok {
			return
		}
		want, err := strconv.ParseFloat(in, 64)
		require.NoError(t, err, in)
		assert.Equal(t, math.Float64bits(want), math.Float64bits(got), in)
	}
	for _, tt := range tests {
		check(tt.in, &tt.accepted)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 200000; i++ {
		var b strings.Builder
		if rng.IntN(4) == 0 {
			b.WriteByte('-')
		}
		n := 1 + rng.IntN(20)
		point := rng.IntN(n + 1)
		for j := 0; j < n; j++ {
			if j == point && rng.IntN(2) == 0 {
				b.WriteByte('.')
			}
			b.WriteByte(byte('0' + rng.IntN(10)))
		}
		check(b.String(), nil)
	}
}
