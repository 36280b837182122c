package llminferenceremotewriteexporter

import (
	"math/rand/v2"
	"time"

	"go.opentelemetry.io/collector/config/configretry"
)

// backoff is exponential back-off with jitter, as configured by retry_on_failure.
type backoff struct {
	cfg     configretry.BackOffConfig
	current time.Duration
}

func newBackoff(cfg configretry.BackOffConfig) *backoff {
	return &backoff{cfg: cfg, current: cfg.InitialInterval}
}

func (b *backoff) reset() { b.current = b.cfg.InitialInterval }

// next returns the next delay: the current interval randomised by randomization_factor, then
// grows the interval by multiplier up to max_interval.
func (b *backoff) next() time.Duration {
	d := b.current
	if f := b.cfg.RandomizationFactor; f > 0 {
		d = time.Duration(float64(d) * (1 - f + 2*f*rand.Float64()))
	}
	grown := time.Duration(float64(b.current) * max(b.cfg.Multiplier, 1))
	b.current = min(grown, b.cfg.MaxInterval)
	return d
}
