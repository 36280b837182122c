package llminferencereceiver

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/confmap"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Config is the llminference receiver's configuration.
type Config struct {
	// AccessName is an optional name of this integration, added as resource attribute llm.access_name.
	AccessName string `mapstructure:"access_name"`
	// CollectionInterval is how often every target is scraped.
	CollectionInterval time.Duration `mapstructure:"collection_interval"`
	// ScrapeTimeout bounds one scrape (connect, headers and body); must not exceed CollectionInterval.
	ScrapeTimeout time.Duration `mapstructure:"scrape_timeout"`
	// MetricsPath is the HTTP path scraped on discovered pods.
	MetricsPath string `mapstructure:"metrics_path"`
	// BackendMetricsPaths are the paths of backends that serve Prometheus metrics elsewhere
	// (trtllm-serve: /prometheus/metrics), by backend label value; they win over metrics_path.
	BackendMetricsPaths map[string]string `mapstructure:"backend_metrics_paths"`
	// PodPort is the container port name (e.g. "http") or number (e.g. "8000") to scrape, or
	// several (a YAML list, or separated by commas) tried in order.
	PodPort string `mapstructure:"pod_port"`
	// PrometheusAnnotations lets a pod's prometheus.io/port and prometheus.io/path annotations
	// override the port and path for that pod.
	PrometheusAnnotations bool `mapstructure:"prometheus_annotations"`
	// ModelLabel is a pod label naming the model the pod serves, for engines whose metrics name
	// none (llama.cpp, TGI, Triton); without it, or without the label, the workload name is used.
	ModelLabel string `mapstructure:"model_label"`
	// RoleLabels are the pod labels that state a pod's role in a prefill/decode deployment
	// (prefill, decode, router, ...), tried in order: RoleBasedGroup's two generations, llm-d
	// and Dynamo's operator by default. A pod without any says nothing: the processor then
	// reads the role from the engine's own metrics, else takes it as aggregated (both).
	RoleLabels []string `mapstructure:"role_labels"`
	// Namespaces restricts discovery; empty means every namespace.
	Namespaces []string `mapstructure:"namespaces"`
	// WorkloadLabel is the pod label whose presence makes a pod a target; its value is the workload name.
	WorkloadLabel string `mapstructure:"workload_label"`
	// BackendLabel is the pod label naming the inference engine (vllm, sglang, vllm-pd, ...).
	BackendLabel string `mapstructure:"backend_label"`

	Kubernetes    KubernetesConfig  `mapstructure:"kubernetes"`
	StaticTargets []StaticTarget    `mapstructure:"static_targets"`
	GPUExporter   GPUExporterConfig `mapstructure:"gpu_exporter"`
	Limits        LimitsConfig      `mapstructure:"limits"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// AuthType says how the receiver authenticates to the Kubernetes API server.
type AuthType string

const (
	AuthTypeServiceAccount AuthType = "serviceAccount"
	AuthTypeKubeConfig     AuthType = "kubeConfig"
	AuthTypeNone           AuthType = "none"
)

// KubernetesConfig configures pod discovery.
type KubernetesConfig struct {
	Enabled  bool     `mapstructure:"enabled"`
	AuthType AuthType `mapstructure:"auth_type"`
	// NodeName restricts discovery to pods scheduled on this node (the DaemonSet's own node).
	NodeName string `mapstructure:"node_name"`
}

// StaticTarget is a fixed inference endpoint, for hosts without Kubernetes and local runs.
type StaticTarget struct {
	Endpoint  string `mapstructure:"endpoint"`
	Workload  string `mapstructure:"workload"`
	Backend   string `mapstructure:"backend"`
	Namespace string `mapstructure:"namespace"`
	Pod       string `mapstructure:"pod"`
	// Model is optional: the model, for engines whose metrics name none (as model_label).
	Model string `mapstructure:"model"`
	// Node is optional; it defaults to kubernetes.node_name.
	Node string `mapstructure:"node"`
	// Role is optional: the role a pod's role label would give (prefill, decode, router, ...).
	Role string `mapstructure:"role"`
}

// GPUExporterConfig points at the node-local NVIDIA dcgm-exporter.
type GPUExporterConfig struct {
	// Endpoint is the full URL of dcgm-exporter's metrics, e.g. http://10.0.0.5:9400/metrics. Empty disables it.
	Endpoint string `mapstructure:"endpoint"`
}

// LimitsConfig protects the collector from misbehaving targets.
type LimitsConfig struct {
	// MaxBodyBytes caps the decompressed response body of one scrape.
	MaxBodyBytes int64 `mapstructure:"max_body_bytes"`
	// MaxSeriesPerTarget caps the samples of one scrape; a larger scrape fails as a whole.
	MaxSeriesPerTarget int `mapstructure:"max_series_per_target"`
}

// DefaultRoleLabels are the role label keys read by default: RoleBasedGroup v1alpha2 (since
// v0.7) and v1alpha1, llm-d, and NVIDIA Dynamo's operator (absent there means aggregated).
func DefaultRoleLabels() []string {
	return []string{
		"rbg.workloads.x-k8s.io/role-name",
		"rolebasedgroup.workloads.x-k8s.io/role",
		"llm-d.ai/role",
		"nvidia.com/dynamo-sub-component-type",
	}
}

func createDefaultConfig() *Config {
	return &Config{
		CollectionInterval: 15 * time.Second,
		ScrapeTimeout:      10 * time.Second,
		MetricsPath:        "/metrics",
		BackendMetricsPaths: map[string]string{
			"trtllm": "/prometheus/metrics", "trtllm-serve": "/prometheus/metrics", "tensorrt-llm": "/prometheus/metrics",
		},
		PodPort:               "http",
		PrometheusAnnotations: true,
		RoleLabels:            DefaultRoleLabels(),
		WorkloadLabel:         "alibabacloud.com/inference-workload",
		BackendLabel:          "alibabacloud.com/inference-backend",
		Kubernetes: KubernetesConfig{
			Enabled:  true,
			AuthType: AuthTypeServiceAccount,
		},
		Limits: LimitsConfig{
			MaxBodyBytes:       16 << 20,
			MaxSeriesPerTarget: 50000,
		},
	}
}

// Validate checks the configuration; every error names the offending key.
func (cfg *Config) Validate() error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if cfg.CollectionInterval <= 0 {
		add("collection_interval", "must be positive, got %s", cfg.CollectionInterval)
	}
	if cfg.ScrapeTimeout <= 0 {
		add("scrape_timeout", "must be positive, got %s", cfg.ScrapeTimeout)
	} else if cfg.CollectionInterval > 0 && cfg.ScrapeTimeout > cfg.CollectionInterval {
		add("scrape_timeout", "(%s) must be <= collection_interval (%s)", cfg.ScrapeTimeout, cfg.CollectionInterval)
	}
	if !strings.HasPrefix(cfg.MetricsPath, "/") {
		add("metrics_path", "must start with '/', got %q", cfg.MetricsPath)
	}
	for _, p := range strings.Split(cfg.PodPort, ",") {
		if err := validatePodPort(strings.TrimSpace(p)); err != nil {
			add("pod_port", "%v", err)
		}
	}
	for backend, path := range cfg.BackendMetricsPaths {
		if !strings.HasPrefix(path, "/") {
			add("backend_metrics_paths."+backend, "must start with '/', got %q", path)
		}
	}
	if cfg.ModelLabel != "" {
		if msgs := validation.IsQualifiedName(cfg.ModelLabel); len(msgs) > 0 {
			add("model_label", "%q is not a valid label key: %s", cfg.ModelLabel, strings.Join(msgs, "; "))
		}
	}
	for i, k := range cfg.RoleLabels {
		if msgs := validation.IsQualifiedName(k); len(msgs) > 0 {
			add(fmt.Sprintf("role_labels[%d]", i), "%q is not a valid label key: %s", k, strings.Join(msgs, "; "))
		}
	}
	for i, ns := range cfg.Namespaces {
		if msgs := validation.IsDNS1123Label(ns); len(msgs) > 0 {
			add(fmt.Sprintf("namespaces[%d]", i), "%q is not a valid namespace name: %s", ns, strings.Join(msgs, "; "))
		}
	}
	if msgs := validation.IsQualifiedName(cfg.WorkloadLabel); len(msgs) > 0 {
		add("workload_label", "%q is not a valid label key: %s", cfg.WorkloadLabel, strings.Join(msgs, "; "))
	}
	if msgs := validation.IsQualifiedName(cfg.BackendLabel); len(msgs) > 0 {
		add("backend_label", "%q is not a valid label key: %s", cfg.BackendLabel, strings.Join(msgs, "; "))
	}
	if cfg.Kubernetes.Enabled {
		switch cfg.Kubernetes.AuthType {
		case AuthTypeServiceAccount, AuthTypeKubeConfig, AuthTypeNone:
		default:
			add("kubernetes.auth_type", "must be one of serviceAccount, kubeConfig, none; got %q", cfg.Kubernetes.AuthType)
		}
	}
	seen := map[string]int{}
	for i, t := range cfg.StaticTargets {
		key := fmt.Sprintf("static_targets[%d]", i)
		if err := validateEndpoint(t.Endpoint); err != nil {
			add(key+".endpoint", "%v", err)
		} else if j, dup := seen[t.Endpoint]; dup {
			add(key+".endpoint", "%q is already static_targets[%d]", t.Endpoint, j)
		} else {
			seen[t.Endpoint] = i
		}
		if t.Workload == "" {
			add(key+".workload", "must not be empty")
		}
	}
	if cfg.GPUExporter.Endpoint != "" {
		if err := validateEndpoint(cfg.GPUExporter.Endpoint); err != nil {
			add("gpu_exporter.endpoint", "%v", err)
		}
	}
	if cfg.Limits.MaxBodyBytes <= 0 {
		add("limits.max_body_bytes", "must be positive, got %d", cfg.Limits.MaxBodyBytes)
	}
	if cfg.Limits.MaxSeriesPerTarget <= 0 {
		add("limits.max_series_per_target", "must be positive, got %d", cfg.Limits.MaxSeriesPerTarget)
	}
	if !cfg.Kubernetes.Enabled && len(cfg.StaticTargets) == 0 && cfg.GPUExporter.Endpoint == "" {
		errs = append(errs, errors.New("no targets: enable kubernetes, or set static_targets or gpu_exporter.endpoint"))
	}
	return errors.Join(errs...)
}

// Unmarshal lets pod_port be written as a YAML number (8000) as well as a name ("http"), and
// as a list of them.
func (cfg *Config) Unmarshal(conf *confmap.Conf) error {
	var port string
	switch v := conf.Get("pod_port").(type) {
	case int, int32, int64, uint, uint32, uint64:
		port = fmt.Sprint(v)
	case []any:
		parts := make([]string, len(v))
		for i, p := range v {
			parts[i] = fmt.Sprint(p)
		}
		port = strings.Join(parts, ",")
	}
	if port != "" {
		if err := conf.Merge(confmap.NewFromStringMap(map[string]any{"pod_port": port})); err != nil {
			return err
		}
	}
	return conf.Unmarshal(cfg)
}

func validatePodPort(p string) error {
	if p == "" {
		return errors.New("must not be empty")
	}
	if n, err := strconv.Atoi(p); err == nil {
		if n < 1 || n > 65535 {
			return fmt.Errorf("port number %d out of range 1-65535", n)
		}
		return nil
	}
	if msgs := validation.IsValidPortName(p); len(msgs) > 0 {
		return fmt.Errorf("%q is neither a port number nor a valid port name: %s", p, strings.Join(msgs, "; "))
	}
	return nil
}

func validateEndpoint(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("must be an absolute http(s) URL like http://127.0.0.1:8000/metrics, got %q", s)
	}
	return nil
}
