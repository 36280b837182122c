package startuppagesextension

import (
	"context"
	"errors"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/extensioncapabilities"
	"go.uber.org/zap"
)

// errUnsupported is release's answer where it does nothing (not Linux): that is no warning.
var errUnsupported = errors.New("giving the binary's pages back is implemented on Linux only")

// released is what one release gave back.
type released struct {
	mappings      int    // the binary's read-only mappings advised
	skipped       int    // read-only mappings left alone because they hold private copies (relocations)
	rssFileBefore uint64 // RssFile in bytes before and after
	rssFileAfter  uint64
}

// startupPages releases the binary's pages once, when the collector says every pipeline has
// started: by then configuration, factories and component start-up are done, and what the
// pipelines touch from then on is faulted back in as they run.
type startupPages struct {
	logger  *zap.Logger
	release func() (released, error)
	once    sync.Once
}

var _ extensioncapabilities.PipelineWatcher = (*startupPages)(nil)

func newStartupPages(logger *zap.Logger, release func() (released, error)) *startupPages {
	return &startupPages{logger: logger, release: release}
}

func (*startupPages) Start(context.Context, component.Host) error { return nil }

func (*startupPages) Shutdown(context.Context) error { return nil }

// Ready releases the pages. A failure is logged, never returned: the collector runs the same
// with its pages mapped, so it must not refuse to start over them.
func (s *startupPages) Ready() error {
	s.once.Do(func() {
		r, err := s.release()
		if errors.Is(err, errUnsupported) {
			s.logger.Debug("The binary's start-up pages stay mapped", zap.Error(err))
			return
		}
		if err != nil {
			s.logger.Warn("Could not give the kernel back the binary's start-up pages; the collector runs the same, with a larger RSS", zap.Error(err))
			return
		}
		s.logger.Info("Gave the kernel back the binary's start-up pages; those the pipelines use are mapped again as they run",
			zap.Float64("rss_file_before_mib", mib(r.rssFileBefore)),
			zap.Float64("rss_file_after_mib", mib(r.rssFileAfter)),
			zap.Int("mappings", r.mappings),
			zap.Int("mappings_skipped", r.skipped))
	})
	return nil
}

func (*startupPages) NotReady() error { return nil }

func mib(b uint64) float64 { return float64(b*10/(1<<20)) / 10 }
