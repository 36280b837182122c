package startuppagesextension

// Config is the startup_pages extension's configuration. It has no settings: what is given back
// (the binary's read-only pages) and when (once every pipeline has started) are not choices an
// operator needs to make.
type Config struct{}

// Validate accepts every Config; it exists so the collector validates the extension like any other.
func (*Config) Validate() error { return nil }
