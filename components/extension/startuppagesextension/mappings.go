package startuppagesextension

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// span is one mapping of the binary: [lo, hi).
type span struct{ lo, hi uintptr }

// binarySpans reads /proc/<pid>/smaps and returns the read-only, private mappings of the file
// that holds addr (an address of the binary's code), and how many of that file's read-only
// mappings it left out because they hold anonymous pages. Writable mappings (.data, .bss) are
// never returned: dropping their pages would lose the program's state. Nor is a read-only
// mapping with anonymous pages: a position-independent binary's relocated read-only data is a
// private copy, and dropping it would bring back the file's unrelocated bytes.
func binarySpans(smaps io.Reader, addr uintptr) (spans []span, skipped int, err error) {
	type mapping struct {
		span
		perms, path string
		anonymous   uint64
	}
	var all []*mapping
	var cur *mapping
	sc := bufio.NewScanner(smaps)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if m, ok := parseHeader(line); ok {
			cur = &mapping{span: m.span, perms: m.perms, path: m.path}
			all = append(all, cur)
			continue
		}
		if v, ok := strings.CutPrefix(line, "Anonymous:"); ok && cur != nil {
			n, err := bytesOfKB(v)
			if err != nil {
				return nil, 0, fmt.Errorf("smaps: %q: %w", line, err)
			}
			cur.anonymous = n
		}
	}
	if err := sc.Err(); err != nil {
		return nil, 0, fmt.Errorf("smaps: %w", err)
	}
	path := ""
	for _, m := range all {
		if m.lo <= addr && addr < m.hi {
			path = m.path
			break
		}
	}
	if path == "" || strings.HasPrefix(path, "[") {
		return nil, 0, errors.New("smaps: no file mapping holds the binary's code")
	}
	for _, m := range all {
		if m.path != path || strings.Contains(m.perms, "w") || !strings.HasSuffix(m.perms, "p") {
			continue
		}
		if m.anonymous != 0 {
			skipped++
			continue
		}
		spans = append(spans, m.span)
	}
	return spans, skipped, nil
}

// bytesOfKB reads a /proc size field's value, "  1234 kB", as bytes.
func bytesOfKB(v string) (uint64, error) {
	kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
	return kb << 10, err
}

type header struct {
	span
	perms, path string
}

// parseHeader parses a mapping's first line: "lo-hi perms offset dev inode [path]". The path
// is the rest of the line (it may hold spaces); other lines are "Key: value".
func parseHeader(line string) (header, bool) {
	f := strings.Fields(line)
	if len(f) < 5 || strings.HasSuffix(f[0], ":") {
		return header{}, false
	}
	lo, hi, ok := strings.Cut(f[0], "-")
	if !ok {
		return header{}, false
	}
	l, err1 := strconv.ParseUint(lo, 16, 64)
	h, err2 := strconv.ParseUint(hi, 16, 64)
	if err1 != nil || err2 != nil || h <= l {
		return header{}, false
	}
	path := ""
	if len(f) > 5 {
		// Everything after the inode field, which may be padded with spaces.
		rest := line
		for range 5 {
			rest = strings.TrimLeft(rest, " ")
			rest = rest[strings.IndexByte(rest, ' ')+1:]
		}
		path = strings.TrimSpace(rest)
	}
	return header{span: span{uintptr(l), uintptr(h)}, perms: f[1], path: path}, true
}
