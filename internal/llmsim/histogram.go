package llmsim

// histogram is a Prometheus-style histogram with fixed upper bounds (an implicit +Inf last).
type histogram struct {
	bounds []float64
	counts []uint64 // per bucket (not cumulative), len(bounds)+1
	sum    float64
	count  uint64
}

func newHistogram(bounds []float64) *histogram {
	return &histogram{bounds: bounds, counts: make([]uint64, len(bounds)+1)}
}

// observeN records n observations of v.
func (h *histogram) observeN(v float64, n uint64) {
	if n == 0 {
		return
	}
	i := 0
	for i < len(h.bounds) && v > h.bounds[i] {
		i++
	}
	h.counts[i] += n
	h.sum += v * float64(n)
	h.count += n
}

func (h *histogram) observe(v float64) { h.observeN(v, 1) }

// cumulative returns the cumulative count of bucket i (i == len(bounds) is +Inf).
func (h *histogram) cumulative(i int) uint64 {
	var c uint64
	for j := 0; j <= i; j++ {
		c += h.counts[j]
	}
	return c
}
