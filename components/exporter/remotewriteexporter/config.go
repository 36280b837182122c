package remotewriteexporter

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
)

// Config is the exporter's configuration.
type Config struct {
	// ClientConfig: endpoint, headers, auth (e.g. basicauth extension), TLS, timeout.
	confighttp.ClientConfig `mapstructure:",squash"`
	// QueueConfig is exporterhelper's queue; with `storage` set to a storage extension (e.g.
	// file_storage) it is persistent: the backlog lives on disk across outages and restarts.
	QueueConfig configoptional.Optional[exporterhelper.QueueBatchConfig] `mapstructure:"sending_queue"`
	// BackOffConfig retries 429 and 5xx answers and network errors; max_elapsed_time 0 = forever.
	BackOffConfig configretry.BackOffConfig `mapstructure:"retry_on_failure"`
	// ResourceLabels are resource attributes exported as labels on every series of the resource.
	ResourceLabels []string `mapstructure:"resource_labels"`
	// ExternalLabels are added to every series (e.g. cluster).
	ExternalLabels map[string]string `mapstructure:"external_labels"`
	// MaxBatchSizeBytes splits a push into write requests of at most this many (uncompressed) bytes.
	MaxBatchSizeBytes int `mapstructure:"max_batch_size_bytes"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// Unmarshal decodes the whole configuration. Without it, the Unmarshal of the embedded
// confighttp.ClientConfig is promoted to Config and decodes only the HTTP settings, silently
// ignoring sending_queue, retry_on_failure and the rest.
func (cfg *Config) Unmarshal(conf *confmap.Conf) error {
	return conf.Unmarshal(cfg)
}

func createDefaultConfig() *Config {
	client := confighttp.NewDefaultClientConfig()
	client.Timeout = 30 * time.Second
	queue := exporterhelper.NewDefaultQueueConfig()
	// One consumer: remote write needs the samples of a series in time order, and the queue is
	// FIFO. Throughput comes from batching queued scrapes into larger requests.
	queue.NumConsumers = 1
	queue.QueueSize = 10000
	retry := configretry.NewDefaultBackOffConfig()
	retry.MaxInterval = 30 * time.Second
	retry.MaxElapsedTime = 0 // an outage is waited out; the persistent queue holds the backlog
	return &Config{
		ClientConfig:      client,
		QueueConfig:       configoptional.Some(queue),
		BackOffConfig:     retry,
		ResourceLabels:    []string{"namespace", "pod", "node", "workload_name", "backend"},
		MaxBatchSizeBytes: 3 << 20,
	}
}

// Validate checks the configuration; errors name the offending key.
func (cfg *Config) Validate() error {
	var errs []error
	if u, err := url.Parse(cfg.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("endpoint: must be an absolute http(s) URL of the remote-write API, got %q", cfg.Endpoint))
	}
	if q := cfg.QueueConfig.Get(); cfg.QueueConfig.HasValue() && q.NumConsumers != 1 {
		errs = append(errs, fmt.Errorf("sending_queue.num_consumers: must be 1 (got %d): concurrent requests reorder a series' samples and the backend rejects them", q.NumConsumers))
	}
	if cfg.MaxBatchSizeBytes < 1024 {
		errs = append(errs, fmt.Errorf("max_batch_size_bytes: must be at least 1024, got %d", cfg.MaxBatchSizeBytes))
	}
	return errors.Join(errs...)
}
