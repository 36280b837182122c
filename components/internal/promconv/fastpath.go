package promconv

import (
	"bytes"
	"strconv"
	"strings"
	"sync"
	"unsafe"
)

// fastSample is one sample line of a steady-state scrape, resolved through the line cache.
type fastSample struct {
	ln    *line
	v     float64
	ts    int64
	hasTS bool
}

var (
	prefixHelp = []byte("# HELP ")
	prefixType = []byte("# TYPE ")
)

// fastSamples lends resolveCached its buffer for one scrape. Conversions run on a few workers,
// so a handful of buffers serve every target instead of one per target kept between scrapes.
var fastSamples = sync.Pool{New: func() any { return new([]fastSample) }}

// resolveCached is the steady-state fast path for the Prometheus text format: a scrape whose
// every sample line is already in the line cache (same series text, same family) needs no
// lexing of label sets, only a split of each line into its series text, value and timestamp.
// It reads body without changing any state and returns the resolved samples appended to
// samples (the caller's buffer, returned either way so that it can be reused), or ok=false as
// soon as anything is new or unusual (a new series or family, changed HELP text, a format
// detail it does not handle); the caller then converts the scrape with textparse, which
// validates everything. Lines it accepts are exactly those textparse accepted before.
func (c *Converter) resolveCached(body []byte, samples []fastSample) (_ []fastSample, ok bool) {
	c.fastFams = c.fastFams[:0]
	var fam *family
	famType := typeUnknown
	for len(body) > 0 {
		var l []byte
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			l, body = body[:i], body[i+1:]
		} else {
			l, body = body, nil
		}
		if len(l) == 0 {
			continue
		}
		if l[0] == '#' {
			switch {
			case bytes.HasPrefix(l, prefixType):
				name, typ, found := bytes.Cut(l[len(prefixType):], []byte{' '})
				f := c.families[string(name)]
				if !found || f == nil {
					return samples, false
				}
				switch string(typ) {
				case "counter":
					famType = typeCounter
				case "gauge":
					famType = typeGauge
				case "histogram":
					famType = typeHistogram
				case "summary":
					famType = typeSummary
				case "untyped":
					famType = typeUnknown
				default:
					return samples, false
				}
				fam = f
				c.fastFams = append(c.fastFams, f)
			case bytes.HasPrefix(l, prefixHelp):
				name, help, _ := bytes.Cut(l[len(prefixHelp):], []byte{' '})
				if f := c.families[string(name)]; f == nil || f.help != string(help) || bytes.IndexByte(help, '\\') >= 0 {
					return samples, false // new or changed HELP: textparse unescapes and records it
				} else {
					c.fastFams = append(c.fastFams, f)
				}
			case bytes.Contains(l, []byte("HELP")) || bytes.Contains(l, []byte("TYPE")):
				return samples, false // metadata spelled in a way this path does not parse
			}
			continue // a plain comment
		}
		end := seriesEnd(l)
		if end <= 0 {
			return samples, false
		}
		ln := c.lines.get(keyOf(l[:end]))
		if !ln.matches(fam, famType) {
			return samples, false
		}
		rest := trimBlank(l[end:])
		if len(rest) == len(l[end:]) { // no blank between series and value
			return samples, false
		}
		value, rest := token(rest)
		if bytes.ContainsAny(value, "pP_") { // textparse keeps to pre-Go 1.13 float formats
			return samples, false
		}
		v, ok := parseDecimal(value)
		if !ok {
			var err error
			if v, err = strconv.ParseFloat(unsafeString(value), 64); err != nil {
				return samples, false
			}
		}
		s := fastSample{ln: ln, v: v}
		if rest = trimBlank(rest); len(rest) > 0 {
			tsb, after := token(rest)
			if len(trimBlank(after)) > 0 {
				return samples, false
			}
			var err error
			if s.ts, err = strconv.ParseInt(unsafeString(tsb), 10, 64); err != nil {
				return samples, false
			}
			s.hasTS = true
		}
		samples = append(samples, s)
		if c.maxSamples > 0 && len(samples) > c.maxSamples {
			return samples, false // the slow path reports the limit
		}
	}
	return samples, true
}

// seriesEnd returns where the series text (the name, and the label set when there is one)
// of a well-formed sample line ends, without lexing it: the value and timestamp after it hold
// no brace, so a line with a label set ends its series at the last '}', and one without at its
// first blank. For a malformed line it returns some position, or 0, and that is safe: the
// text up to it is looked up in the line cache, whose keys are series texts textparse accepted
// whole, and the rest of the line must be exactly blanks, a value and an optional timestamp.
// So a line the cache resolves is a series textparse accepted followed by a valid sample, and
// any other line sends the scrape to textparse. Looking at a handful of bytes instead of every
// label is what makes the warm path cheap: label values (model names, paths) are most of a line.
func seriesEnd(l []byte) int {
	if bytes.IndexByte(l, '{') >= 0 {
		return bytes.LastIndexByte(l, '}') + 1
	}
	for i, c := range l {
		if c == ' ' || c == '\t' {
			return i
		}
	}
	return len(l)
}

// pow10 holds the powers of ten that float64 represents exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseDecimal parses the values most lines carry (counts, token totals, seconds: an optional
// minus, digits, an optional fraction) without strconv's general machinery, and says false
// for anything else, which strconv.ParseFloat then parses. When the digits, point removed, fit
// in 2^53 and the fraction has at most 22 digits, both the digits and the power of ten are
// exact float64s, so their quotient is the correctly rounded value: what ParseFloat returns
// (it takes the same shortcut).
func parseDecimal(b []byte) (float64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	var mant uint64
	digits, frac, point := 0, 0, false
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			if mant = mant*10 + uint64(c-'0'); mant > 1<<53 { // no overflow: it was <= 2^53
				return 0, false
			}
			digits++
			if point {
				frac++
			}
		case c == '.' && !point:
			point = true
		default:
			return 0, false
		}
	}
	if digits == 0 || frac >= len(pow10) {
		return 0, false
	}
	v := float64(mant) / pow10[frac]
	if neg {
		v = -v
	}
	return v, true
}

func trimBlank(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	return b
}

func token(b []byte) (tok, rest []byte) {
	i := 0
	for i < len(b) && b[i] != ' ' && b[i] != '\t' {
		i++
	}
	return b[:i], b[i:]
}

// isTextFormat says whether contentType is the Prometheus text format, as textparse decides
// (not OpenMetrics, whose _created and exemplar handling only textparse does, nor protobuf).
func isTextFormat(contentType string) bool {
	return contentType == "" || strings.HasPrefix(contentType, "text/plain")
}

// unsafeString views b as a string without copying, for parsing functions that do not keep
// it (an error that would keep it is discarded).
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
