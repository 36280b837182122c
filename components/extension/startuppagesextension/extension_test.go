package startuppagesextension

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/extensioncapabilities"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-llminference/otelcol-llminference/components/extension/startuppagesextension/internal/metadata"
)

func TestFactoryBuildsAPipelineWatcher(t *testing.T) {
	f := NewFactory()
	assert.Equal(t, metadata.Type, f.Type())
	cfg := f.CreateDefaultConfig()
	require.NoError(t, componenttest.CheckConfigStruct(cfg))
	ext, err := f.Create(context.Background(), extensiontest.NewNopSettings(metadata.Type), cfg)
	require.NoError(t, err)
	// The service calls Ready only on extensions that are PipelineWatchers.
	_, ok := ext.(extensioncapabilities.PipelineWatcher)
	assert.True(t, ok)
	require.NoError(t, ext.Start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, ext.Shutdown(context.Background()))
}

func TestReadyReleasesOnceAndLogs(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		wantLevel string
		wantMsg   string
	}{
		{name: "released", wantLevel: "info", wantMsg: "Gave the kernel back"},
		// The collector must start the same: Ready says nothing of the failure but the log.
		{name: "failed", err: errors.New("no smaps"), wantLevel: "warn", wantMsg: "Could not give the kernel back"},
		// Not Linux: nothing to warn about.
		{name: "unsupported", err: errUnsupported, wantLevel: "debug", wantMsg: "stay mapped"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			core, logs := observer.New(zap.DebugLevel)
			calls := 0
			s := newStartupPages(zap.New(core), func() (released, error) {
				calls++
				return released{mappings: 2, rssFileBefore: 53 << 20, rssFileAfter: 1 << 20}, tt.err
			})
			require.NoError(t, s.Start(context.Background(), componenttest.NewNopHost()))
			require.NoError(t, s.Ready())
			require.NoError(t, s.NotReady())
			require.NoError(t, s.Ready()) // a second Ready releases nothing again
			require.NoError(t, s.Shutdown(context.Background()))
			assert.Equal(t, 1, calls)
			require.Equal(t, 1, logs.Len())
			entry := logs.All()[0]
			assert.Equal(t, tt.wantLevel, entry.Level.String())
			assert.Contains(t, entry.Message, tt.wantMsg)
			if tt.err == nil {
				fields := entry.ContextMap()
				assert.Equal(t, 53.0, fields["rss_file_before_mib"])
				assert.Equal(t, 1.0, fields["rss_file_after_mib"])
			}
		})
	}
}
