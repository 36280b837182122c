package llminferencereceiver

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/otelcol-llminference/otelcol-llminference/components/receiver/llminferencereceiver/internal/metadata"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)

	custom := createDefaultConfig()
	custom.AccessName = "prod-llm"
	custom.CollectionInterval = 30 * time.Second
	custom.ScrapeTimeout = 5 * time.Second
	custom.MetricsPath = "/v1/metrics"
	custom.PodPort = "8000"
	custom.Namespaces = []string{"llm", "llm-staging"}
	custom.BackendLabel = "alibabacloud.com/inference_backend"
	custom.Kubernetes = KubernetesConfig{Enabled: true, AuthType: AuthTypeKubeConfig, NodeName: "gpu-node-1"}
	custom.StaticTargets = []StaticTarget{{Endpoint: "http://127.0.0.1:8000/metrics", Workload: "qwen-chat", Backend: "vllm", Namespace: "default", Pod: "qwen-chat-0"}}
	custom.GPUExporter.Endpoint = "http://10.0.0.5:9400/metrics"
	custom.Limits = LimitsConfig{MaxBodyBytes: 1 << 20, MaxSeriesPerTarget: 1000}
	// A list of ports, tried in order; a user's backend path beside the built-in ones.
	ports := createDefaultConfig()
	ports.PodPort = "metrics,8000"
	ports.ModelLabel = "example.com/model"
	ports.PrometheusAnnotations = false
	ports.BackendMetricsPaths["my-engine"] = "/stats/prometheus"

	tests := []struct {
		id   component.ID
		want *Config
	}{
		{id: component.NewID(metadata.Type), want: createDefaultConfig()},
		{id: component.NewIDWithName(metadata.Type, "custom"), want: custom},
		{id: component.NewIDWithName(metadata.Type, "ports"), want: ports},
	}
	for _, tt := range tests {
		t.Run(tt.id.String(), func(t *testing.T) {
			cfg := NewFactory().CreateDefaultConfig()
			sub, err := cm.Sub(tt.id.String())
			require.NoError(t, err)
			require.NoError(t, sub.Unmarshal(cfg))
			require.NoError(t, confmap.Validate(cfg))
			assert.Equal(t, tt.want, cfg)
		})
	}
}

func TestDefaultsMatchTheIntegration(t *testing.T) {
	cfg := createDefaultConfig()
	assert.Equal(t, 15*time.Second, cfg.CollectionInterval)
	assert.Equal(t, 10*time.Second, cfg.ScrapeTimeout)
	assert.Equal(t, "/metrics", cfg.MetricsPath)
	assert.Equal(t, "http", cfg.PodPort)
	assert.Empty(t, cfg.Namespaces)
	assert.Equal(t, "alibabacloud.com/inference-workload", cfg.WorkloadLabel)
	assert.Equal(t, "alibabacloud.com/inference-backend", cfg.BackendLabel)
	assert.Equal(t, KubernetesConfig{Enabled: true, AuthType: AuthTypeServiceAccount}, cfg.Kubernetes)
	assert.Equal(t, LimitsConfig{MaxBodyBytes: 16777216, MaxSeriesPerTarget: 50000}, cfg.Limits)
	assert.NoError(t, cfg.Validate())
}

func TestValidateNamesTheKey(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantErr string
	}{
		{"timeout above interval", func(c *Config) { c.ScrapeTimeout = 20 * time.Second }, "scrape_timeout: (20s) must be <= collection_interval (15s)"},
		{"zero interval", func(c *Config) { c.CollectionInterval = 0 }, "collection_interval: must be positive"},
		{"zero timeout", func(c *Config) { c.ScrapeTimeout = 0 }, "scrape_timeout: must be positive"},
		{"relative path", func(c *Config) { c.MetricsPath = "metrics" }, "metrics_path: must start with '/'"},
		{"empty port", func(c *Config) { c.PodPort = "" }, "pod_port: must not be empty"},
		{"port out of range", func(c *Config) { c.PodPort = "70000" }, "pod_port: port number 70000 out of range"},
		{"bad port name", func(c *Config) { c.PodPort = "Not_A_Port!" }, "pod_port: \"Not_A_Port!\" is neither a port number nor a valid port name"},
		{"bad namespace", func(c *Config) { c.Namespaces = []string{"ok", "Bad_NS"} }, "namespaces[1]: \"Bad_NS\" is not a valid namespace name"},
		{"bad workload label", func(c *Config) { c.WorkloadLabel = "a b" }, "workload_label: \"a b\" is not a valid label key"},
		{"bad role label", func(c *Config) { c.RoleLabels = []string{"llm-d.ai/role", "no spaces/in keys"} }, "role_labels[1]: \"no spaces/in keys\" is not a valid label key"},
		{"bad backend label", func(c *Config) { c.BackendLabel = "" }, "backend_label"},
		{"bad auth type", func(c *Config) { c.Kubernetes.AuthType = "token" }, "kubernetes.auth_type: must be one of serviceAccount, kubeConfig, none; got \"token\""},
		{"static endpoint not a URL", func(c *Config) {
			c.StaticTargets = []StaticTarget{{Endpoint: "127.0.0.1:8000", Workload: "w"}}
		}, "static_targets[0].endpoint: must be an absolute http(s) URL"},
		{"static without workload", func(c *Config) {
			c.StaticTargets = []StaticTarget{{Endpoint: "http://127.0.0.1:8000/metrics"}}
		}, "static_targets[0].workload: must not be empty"},
		{"duplicate static endpoint", func(c *Config) {
			c.StaticTargets = []StaticTarget{{Endpoint: "http://a:1/m", Workload: "w"}, {Endpoint: "http://a:1/m", Workload: "w"}}
		}, "static_targets[1].endpoint: \"http://a:1/m\" is already static_targets[0]"},
		{"gpu endpoint", func(c *Config) { c.GPUExporter.Endpoint = "ftp://x/metrics" }, "gpu_exporter.endpoint: must be an absolute http(s) URL"},
		{"body limit", func(c *Config) { c.Limits.MaxBodyBytes = 0 }, "limits.max_body_bytes: must be positive"},
		{"series limit", func(c *Config) { c.Limits.MaxSeriesPerTarget = -1 }, "limits.max_series_per_target: must be positive"},
		{"nothing to scrape", func(c *Config) { c.Kubernetes.Enabled = false }, "no targets"},
		{"bad port in a list", func(c *Config) { c.PodPort = "http,70000" }, "pod_port: port number 70000 out of range"},
		{"relative backend path", func(c *Config) { c.BackendMetricsPaths["my-engine"] = "m" }, "backend_metrics_paths.my-engine: must start with '/'"},
		{"bad model label", func(c *Config) { c.ModelLabel = "a b" }, "model_label: \"a b\" is not a valid label key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := createDefaultConfig()
			tt.mutate(cfg)
			assert.ErrorContains(t, cfg.Validate(), tt.wantErr)
		})
	}

	t.Run("static targets without kubernetes are valid", func(t *testing.T) {
		cfg := createDefaultConfig()
		cfg.Kubernetes.Enabled = false
		cfg.StaticTargets = []StaticTarget{{Endpoint: "http://127.0.0.1:8000/metrics", Workload: "w"}}
		assert.NoError(t, cfg.Validate())
	})
}
