package llminferenceprocessor

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otelcol-llminference/otelcol-llminference/components/processor/llminferenceprocessor/internal/metadata"
	"github.com/otelcol-llminference/otelcol-llminference/components/processor/llminferenceprocessor/mapping"
	"github.com/otelcol-llminference/otelcol-llminference/components/processor/llminferenceprocessor/otelschema"
)

func mappingTable(backend, source, unified, typ string) mapping.Table {
	return mapping.Table{Backend: backend, Priority: 1, Metrics: []mapping.Mapping{{Unified: unified, Type: typ, Source: source}}}
}

// TestExtraMappingsFromConfig: a user adds an engine by adding a table in the collector config.
func TestExtraMappingsFromConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	sub, err := cm.Sub(component.NewIDWithName(metadata.Type, "trtllm").String())
	require.NoError(t, err)
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	require.NoError(t, sub.Unmarshal(cfg))
	require.NoError(t, confmap.Validate(cfg))
	require.Len(t, cfg.ExtraMappings, 1)
	assert.Equal(t, "trtllm", cfg.ExtraMappings[0].Backend)
	assert.True(t, cfg.GPU.KeepUnassignedGPUs)

	p, _ := newTestProcessor(t, cfg)
	md := pmetric.NewMetrics()
	scrape(t, md, inferencePod("t-0", "wl", "trtllm"), []byte("# TYPE trtllm_num_requests_running gauge\ntrtllm_num_requests_running{model_name=\"m\"} 2\n# TYPE trtllm_kv_cache_utilization gauge\ntrtllm_kv_cache_utilization{model_name=\"m\"} 0.4\n"), t0)
	got := metricsOf(process(t, p, md), "t-0")
	assert.Equal(t, 2.0, got["llm_inference_requests_running"].Gauge().DataPoints().At(0).DoubleValue())
	assert.Equal(t, 0.4, got["llm_inference_kv_cache_usage_ratio"].Gauge().DataPoints().At(0).DoubleValue())
}

func TestDocsUpToDate(t *testing.T) {
	tables, err := mapping.Builtin()
	require.NoError(t, err)
	want := mapping.Markdown(tables) + otelschema.Markdown()
	got := readFile(t, filepath.Join("..", "..", "..", "docs", "metrics.md"))
	assert.Equal(t, want, got, "docs/metrics.md is stale: run `make docs`")
}
