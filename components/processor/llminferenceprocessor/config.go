package llminferenceprocessor

import (
	"errors"
	"fmt"
	"time"

	"github.com/otelcol-llminference/otelcol-llminference/components/processor/llminferenceprocessor/mapping"
)

// Config is the llminference processor's configuration.
type Config struct {
	// Schema names what the processor emits: "prometheus" (llm_inference_* names and labels, for
	// remote write; the default) or "opentelemetry" (semantic-convention names, units and
	// attributes where a convention exists, llm_inference.* names elsewhere; for OTLP exporters).
	Schema string `mapstructure:"schema"`
	// KeepOriginalMetrics also forwards the engines' raw series (billed per series: off by default).
	KeepOriginalMetrics bool `mapstructure:"keep_original_metrics"`
	// ExtraMappings are user tables in the format of the built-in ones (tables/*.yaml).
	ExtraMappings []mapping.Table `mapstructure:"extra_mappings"`
	GPU           GPUConfig       `mapstructure:"gpu"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// The values of schema.
const (
	SchemaPrometheus    = "prometheus"
	SchemaOpenTelemetry = "opentelemetry"
)

// GPUConfig configures the join of dcgm-exporter series to inference pods.
type GPUConfig struct {
	Join bool `mapstructure:"join"`
	// KeepUnassignedGPUs forwards series of GPUs no inference pod uses.
	KeepUnassignedGPUs bool `mapstructure:"keep_unassigned_gpus"`
	// TTL forgets a pod<->GPU link (and an inference pod) not seen for this long.
	TTL time.Duration `mapstructure:"ttl"`
}

func createDefaultConfig() *Config {
	return &Config{Schema: SchemaPrometheus, GPU: GPUConfig{Join: true, TTL: 5 * time.Minute}}
}

// Validate checks the configuration; errors name the offending key.
func (cfg *Config) Validate() error {
	var errs []error
	if cfg.Schema != SchemaPrometheus && cfg.Schema != SchemaOpenTelemetry {
		errs = append(errs, fmt.Errorf("schema: must be %q or %q, got %q", SchemaPrometheus, SchemaOpenTelemetry, cfg.Schema))
	}
	if cfg.GPU.TTL <= 0 {
		errs = append(errs, fmt.Errorf("gpu.ttl: must be positive, got %s", cfg.GPU.TTL))
	}
	for i := range cfg.ExtraMappings {
		if err := cfg.ExtraMappings[i].Validate(); err != nil {
			errs = append(errs, fmt.Errorf("extra_mappings[%d]: %w", i, err))
		}
	}
	if len(errs) == 0 && len(cfg.ExtraMappings) > 0 {
		// What only the whole set of tables can tell (a backend included that no table serves).
		builtin, err := mapping.Builtin()
		if err == nil {
			_, err = compile(append(builtin, cfg.ExtraMappings...))
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("extra_mappings: %w", err))
		}
	}
	return errors.Join(errs...)
}
