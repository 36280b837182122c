package llminferenceremotewriteexporter

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/confmap"
)

// Config is the exporter's configuration.
type Config struct {
	// ClientConfig: endpoint, headers, auth (e.g. basicauth extension), TLS, timeout.
	confighttp.ClientConfig `mapstructure:",squash"`
	// Queue is the on-disk FIFO every scrape goes through (see internal/diskqueue).
	Queue QueueConfig `mapstructure:"queue"`
	// BackOffConfig paces retries of network errors, 429 and 5xx; max_elapsed_time 0 = forever;
	// enabled false drops what the backend did not take instead of retrying it.
	BackOffConfig configretry.BackOffConfig `mapstructure:"retry_on_failure"`
	// ResourceLabels are resource attributes exported as labels on every series of the resource.
	ResourceLabels []string `mapstructure:"resource_labels"`
	// ExternalLabels are added to every series (e.g. cluster).
	ExternalLabels map[string]string `mapstructure:"external_labels"`
	// MaxBatchSizeBytes splits a send into write requests of at most this many (uncompressed) bytes.
	MaxBatchSizeBytes int `mapstructure:"max_batch_size_bytes"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// Policies of a full queue (queue.when_full).
const (
	WhenFullDropOldest = "drop_oldest"
	WhenFullRefuse     = "refuse"
)

// QueueConfig configures the on-disk queue.
type QueueConfig struct {
	// Directory holds the queue; it must outlive the process (a volume in Kubernetes).
	Directory string `mapstructure:"directory"`
	// MaxSizeMiB caps the backlog on disk; WhenFull says what happens beyond it.
	MaxSizeMiB int64 `mapstructure:"max_size_mib"`
	// WhenFull is drop_oldest (the default: the oldest segment of the backlog goes, as in
	// vmagent, since recent data matters most in monitoring) or refuse (new scrapes are refused
	// until the backend catches up). Either way every dropped sample is counted.
	WhenFull string `mapstructure:"when_full"`
	// MaxMemoryMiB bounds the scrapes held in memory while the disk refuses writes (full,
	// read-only, failing): they are written, first and in order, once it takes writes again.
	// Beyond it the oldest held scrapes are dropped (counted, reason disk_error). 0 holds
	// none: a scrape the disk refuses is dropped at once.
	MaxMemoryMiB int64 `mapstructure:"max_memory_mib"`
	// FSync makes every append and commit durable against power loss too (slower).
	FSync bool `mapstructure:"fsync"`
	// MaxBatchScrapes is how many queued scrapes one send combines at most.
	MaxBatchScrapes int `mapstructure:"max_batch_scrapes"`
	// FlushInterval is how long the sender, finding the queue empty, lets new scrapes gather
	// before it sends them: one request (and one commit) per interval instead of one per
	// scrape. A backlog is sent at once, in full batches. 0 sends every scrape as it comes.
	FlushInterval time.Duration `mapstructure:"flush_interval"`
}

// Unmarshal decodes the whole configuration. Without it, the Unmarshal of the embedded
// confighttp.ClientConfig is promoted to Config and decodes only the HTTP settings, silently
// ignoring queue, retry_on_failure and the rest.
func (cfg *Config) Unmarshal(conf *confmap.Conf) error {
	return conf.Unmarshal(cfg)
}

func createDefaultConfig() *Config {
	client := confighttp.NewDefaultClientConfig()
	client.Timeout = 30 * time.Second
	retry := configretry.NewDefaultBackOffConfig()
	retry.InitialInterval = time.Second
	retry.MaxInterval = 30 * time.Second
	retry.MaxElapsedTime = 0 // an outage is waited out; the queue on disk holds the backlog
	return &Config{
		ClientConfig:      client,
		Queue:             QueueConfig{MaxSizeMiB: 1024, WhenFull: WhenFullDropOldest, MaxMemoryMiB: 32, MaxBatchScrapes: 200, FlushInterval: time.Second},
		BackOffConfig:     retry,
		ResourceLabels:    []string{"namespace", "pod", "node", "workload_name", "backend", "inference_role"},
		MaxBatchSizeBytes: 3 << 20,
	}
}

// Validate checks the configuration; errors name the offending key.
func (cfg *Config) Validate() error {
	var errs []error
	if u, err := url.Parse(cfg.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("endpoint: must be an absolute http(s) URL of the remote-write API, got %q", cfg.Endpoint))
	}
	if cfg.Queue.Directory == "" {
		errs = append(errs, errors.New("queue.directory: must be set: every scrape is queued on disk before it is sent"))
	}
	if cfg.Queue.MaxSizeMiB <= 0 {
		errs = append(errs, fmt.Errorf("queue.max_size_mib: must be positive, got %d", cfg.Queue.MaxSizeMiB))
	}
	if cfg.Queue.WhenFull != WhenFullDropOldest && cfg.Queue.WhenFull != WhenFullRefuse {
		errs = append(errs, fmt.Errorf("queue.when_full: must be %s or %s, got %q", WhenFullDropOldest, WhenFullRefuse, cfg.Queue.WhenFull))
	}
	if cfg.Queue.MaxMemoryMiB < 0 {
		errs = append(errs, fmt.Errorf("queue.max_memory_mib: must not be negative, got %d", cfg.Queue.MaxMemoryMiB))
	}
	if cfg.Queue.MaxBatchScrapes <= 0 {
		errs = append(errs, fmt.Errorf("queue.max_batch_scrapes: must be positive, got %d", cfg.Queue.MaxBatchScrapes))
	}
	// Checked whether or not retries are enabled: a setting that is wrong stays wrong.
	if cfg.BackOffConfig.InitialInterval <= 0 || cfg.BackOffConfig.MaxInterval < cfg.BackOffConfig.InitialInterval {
		errs = append(errs, fmt.Errorf("retry_on_failure: initial_interval (%s) must be positive and at most max_interval (%s)",
			cfg.BackOffConfig.InitialInterval, cfg.BackOffConfig.MaxInterval))
	}
	if cfg.Queue.FlushInterval < 0 {
		errs = append(errs, fmt.Errorf("queue.flush_interval: must not be negative, got %s", cfg.Queue.FlushInterval))
	}
	if cfg.MaxBatchSizeBytes < 1024 {
		errs = append(errs, fmt.Errorf("max_batch_size_bytes: must be at least 1024, got %d", cfg.MaxBatchSizeBytes))
	}
	return errors.Join(errs...)
}
