//go:build !linux

package startuppagesextension

// releaseExecutablePages is Linux's alone: elsewhere the collector keeps its pages mapped.
func releaseExecutablePages() (released, error) {
	return released{}, errUnsupported
}
