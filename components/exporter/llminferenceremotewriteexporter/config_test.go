package llminferenceremotewriteexporter

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/otelcol-llminference/otelcol-llminference/components/exporter/llminferenceremotewriteexporter/internal/metadata"
)

// TestLoadConfig decodes every section: a regression test for the embedded HTTP client config
// swallowing the others (the queue and retry settings were then silently ignored).
func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	sub, err := cm.Sub(component.NewID(metadata.Type).String())
	require.NoError(t, err)
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	require.NoError(t, sub.Unmarshal(cfg))
	require.NoError(t, confmap.Validate(cfg))

	assert.Equal(t, "https://prometheus.example.com/api/v1/write", cfg.Endpoint)
	assert.Equal(t, 12*time.Second, cfg.Timeout)
	assert.Equal(t, "tenant-a", headerValue(cfg, "X-Scope-OrgID"))
	assert.Equal(t, QueueConfig{Directory: "/var/lib/otelcol-llminference/queue", MaxSizeMiB: 512, FSync: true, WhenFull: WhenFullRefuse, MaxMemoryMiB: 8, MaxBatchScrapes: 50, FlushInterval: time.Second}, cfg.Queue)
	assert.Equal(t, 20*time.Second, cfg.BackOffConfig.MaxInterval)
	assert.Equal(t, []string{"namespace", "pod"}, cfg.ResourceLabels)
	assert.Equal(t, map[string]string{"cluster": "prod"}, cfg.ExternalLabels)
	assert.Equal(t, 1<<20, cfg.MaxBatchSizeBytes)
}

func headerValue(cfg *Config, k string) string {
	v, _ := cfg.Headers.Get(k)
	return string(v)
}
