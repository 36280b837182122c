package startuppagesextension

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"

	"golang.org/x/sys/unix"
)

// releaseExecutablePages unmaps the binary's read-only pages (code, read-only data, the
// function tables) from this process. They are clean file pages: unmapping loses nothing, and a
// page touched again is mapped again from the page cache, or read back from the file.
//
// MADV_COLD first moves them to the inactive list, so the kernel reclaims them before anything
// in use; MADV_DONTNEED then unmaps them. MADV_PAGEOUT would also free them at once, but for file
// pages the kernel allows it only to the file's owner or a writer, and in the image the binary
// belongs to root while the collector runs as 10001.
func releaseExecutablePages() (released, error) {
	spans, skipped, err := ownSpans()
	if err != nil {
		return released{}, err
	}
	r := released{mappings: len(spans), skipped: skipped}
	if r.rssFileBefore, err = rssFile(); err != nil {
		return released{}, err
	}
	for _, s := range spans {
		// MADV_COLD arrived in Linux 5.4; without it, unmapping alone still empties RSS.
		if err := madvise(s, unix.MADV_COLD); err != nil && !errors.Is(err, unix.EINVAL) {
			return released{}, fmt.Errorf("madvise(MADV_COLD) %#x-%#x: %w", s.lo, s.hi, err)
		}
		if err := madvise(s, unix.MADV_DONTNEED); err != nil {
			return released{}, fmt.Errorf("madvise(MADV_DONTNEED) %#x-%#x: %w", s.lo, s.hi, err)
		}
	}
	if r.rssFileAfter, err = rssFile(); err != nil {
		return released{}, err
	}
	return r, nil
}

// ownSpans is binarySpans of this process: the mappings of the file that holds this code.
func ownSpans() (spans []span, skipped int, err error) {
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return nil, 0, err
	}
	return binarySpans(bytes.NewReader(smaps), reflect.ValueOf(ownSpans).Pointer())
}

// madvise takes the span as addresses, not as a []byte: the mapping is not Go memory.
func madvise(s span, advice int) error {
	if _, _, e := unix.Syscall(unix.SYS_MADVISE, s.lo, s.hi-s.lo, uintptr(advice)); e != 0 {
		return e
	}
	return nil
}

// rssFile is this process's RssFile from /proc/self/status, in bytes.
func rssFile() (uint64, error) {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(status)) {
		if v, ok := strings.CutPrefix(line, "RssFile:"); ok {
			n, err := bytesOfKB(v)
			if err != nil {
				return 0, fmt.Errorf("/proc/self/status: %q: %w", strings.TrimSpace(line), err)
			}
			return n, nil
		}
	}
	return 0, errors.New("/proc/self/status has no RssFile")
}
