// Package rwsink is a Prometheus remote-write receiver for tests and benchmarks. It decodes
// every request (remote write 1.0, snappy or zstd), validates each series as a real backend
// would, and counts what arrived: samples, stale markers, series, and per value of one tracked
// label (e.g. pod) when each was first and last seen. It stores no samples, so a long benchmark
// does not grow it beyond its series set.
package rwsink

import (
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/golang/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/prompb"
)

// Stats are the sink's counters.
type Stats struct {
	Requests     int64
	Samples      int64 // every sample, stale markers included
	StaleMarkers int64
	Series       int   // distinct series seen
	Rejected     int64 // requests answered 400
	FirstError   string
}

// LabelStats describes the samples carrying one value of the tracked label.
type LabelStats struct {
	Samples      int64
	StaleMarkers int64
	// FirstSeen and LastSeen are wall-clock arrival times; LastSample is the newest sample timestamp.
	FirstSeen, LastSeen time.Time
	LastSample          time.Time
	// UpLabels are the labels of the newest llm_inference_target_up series with this value:
	// the target's identity as the backend sees it.
	UpLabels map[string]string
}

// Sink is a running remote-write receiver.
type Sink struct {
	// URL is the write endpoint, http://127.0.0.1:<port>/api/v1/write.
	URL string

	srv      *http.Server
	ln       net.Listener
	track    string
	zstdDec  *zstd.Decoder
	mu       sync.Mutex
	stats    Stats
	series   map[string]struct{}
	byLabel  map[string]*LabelStats
	byMetric map[string]int64
	keyBuf   []byte
}

// Options configure a sink.
type Options struct {
	// TrackLabel keeps LabelStats per value of this label (empty: none).
	TrackLabel string
	// CountByMetric keeps a count of samples, stale markers not included, per metric name (see ByMetric).
	CountByMetric bool
}

// Start serves a sink on a free loopback port.
func Start(opts Options) (*Sink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	dec, err := zstd.NewReader(nil)
	if err != nil {
		return nil, err
	}
	s := &Sink{
		URL:     "http://" + ln.Addr().String() + "/api/v1/write",
		ln:      ln,
		track:   opts.TrackLabel,
		zstdDec: dec,
		series:  map[string]struct{}{},
		byLabel: map[string]*LabelStats{},
	}
	if opts.CountByMetric {
		s.byMetric = map[string]int64{}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/write", s.serveWrite)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// Close stops the sink.
func (s *Sink) Close() {
	_ = s.srv.Close()
	s.zstdDec.Close()
}

// Stats returns a snapshot of the counters.
func (s *Sink) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Series = len(s.series)
	return st
}

// Label returns the stats of one value of the tracked label (zero when never seen).
func (s *Sink) Label(v string) LabelStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ls := s.byLabel[v]; ls != nil {
		out := *ls
		out.UpLabels = maps.Clone(ls.UpLabels)
		return out
	}
	return LabelStats{}
}

// ByMetric returns the count of samples other than stale markers per metric name (nil unless
// Options.CountByMetric).
func (s *Sink) ByMetric() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byMetric == nil {
		return nil
	}
	out := make(map[string]int64, len(s.byMetric))
	for k, v := range s.byMetric {
		out[k] = v
	}
	return out
}

// maxBody bounds one decoded request, as backends do.
const maxBody = 64 << 20

func (s *Sink) serveWrite(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	if ct := r.Header.Get("Content-Type"); strings.Contains(ct, "io.prometheus.write.v2") {
		http.Error(w, "remote write 2.0 is not supported by this sink", http.StatusUnsupportedMediaType)
		return
	}
	compressed, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		s.reject(w, fmt.Errorf("reading body: %w", err))
		return
	}
	var raw []byte
	switch enc := r.Header.Get("Content-Encoding"); enc {
	case "", "snappy":
		raw, err = snappy.Decode(nil, compressed)
	case "zstd":
		raw, err = s.zstdDec.DecodeAll(compressed, nil)
	default:
		err = fmt.Errorf("unsupported Content-Encoding %q", enc)
	}
	if err != nil {
		s.reject(w, fmt.Errorf("decompressing: %w", err))
		return
	}
	var req prompb.WriteRequest
	if err := req.Unmarshal(raw); err != nil {
		s.reject(w, fmt.Errorf("decoding WriteRequest: %w", err))
		return
	}
	now := time.Now()
	for i := range req.Timeseries {
		if err := validate(&req.Timeseries[i], now); err != nil {
			s.reject(w, err)
			return
		}
	}
	s.record(&req, now)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Sink) reject(w http.ResponseWriter, err error) {
	s.mu.Lock()
	s.stats.Requests++
	s.stats.Rejected++
	if s.stats.FirstError == "" {
		s.stats.FirstError = err.Error()
	}
	s.mu.Unlock()
	http.Error(w, err.Error(), http.StatusBadRequest)
}

// validate applies the checks a Prometheus backend applies to a series before storing it.
func validate(ts *prompb.TimeSeries, now time.Time) error {
	if len(ts.Samples) == 0 && len(ts.Histograms) == 0 {
		return fmt.Errorf("series %s has no samples", labelsString(ts.Labels))
	}
	if len(ts.Histograms) > 0 {
		return fmt.Errorf("series %s: native histograms are not expected", labelsString(ts.Labels))
	}
	hasName := false
	for i, l := range ts.Labels {
		if l.Name == model.MetricNameLabel {
			hasName = true
			if !model.LegacyValidation.IsValidMetricName(l.Value) {
				return fmt.Errorf("invalid metric name %q", l.Value)
			}
		}
		if !model.LegacyValidation.IsValidLabelName(l.Name) {
			return fmt.Errorf("series %s: invalid label name %q", labelsString(ts.Labels), l.Name)
		}
		if l.Value == "" {
			return fmt.Errorf("series %s: empty value of label %q", labelsString(ts.Labels), l.Name)
		}
		if i > 0 && ts.Labels[i-1].Name >= l.Name {
			return fmt.Errorf("series %s: labels not sorted or duplicated at %q", labelsString(ts.Labels), l.Name)
		}
	}
	if !hasName {
		return fmt.Errorf("series %s has no __name__", labelsString(ts.Labels))
	}
	for i, smp := range ts.Samples {
		t := time.UnixMilli(smp.Timestamp)
		if t.Before(now.Add(-24*time.Hour)) || t.After(now.Add(10*time.Minute)) {
			return fmt.Errorf("series %s: timestamp %s out of range", labelsString(ts.Labels), t.UTC().Format(time.RFC3339))
		}
		if i > 0 && smp.Timestamp <= ts.Samples[i-1].Timestamp {
			return fmt.Errorf("series %s: samples out of order", labelsString(ts.Labels))
		}
	}
	return nil
}

func (s *Sink) record(req *prompb.WriteRequest, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Requests++
	for i := range req.Timeseries {
		ts := &req.Timeseries[i]
		n := int64(len(ts.Samples))
		var stale int64
		var newest int64
		for _, smp := range ts.Samples {
			if value.IsStaleNaN(smp.Value) {
				stale++
			}
			if smp.Timestamp > newest {
				newest = smp.Timestamp
			}
		}
		s.stats.Samples += n
		s.stats.StaleMarkers += stale

		s.keyBuf = s.keyBuf[:0]
		var name, tracked string
		for _, l := range ts.Labels {
			s.keyBuf = append(s.keyBuf, l.Name...)
			s.keyBuf = append(s.keyBuf, 0xff)
			s.keyBuf = append(s.keyBuf, l.Value...)
			s.keyBuf = append(s.keyBuf, 0xfe)
			switch l.Name {
			case model.MetricNameLabel:
				name = l.Value
			case s.track:
				tracked = l.Value
			}
		}
		if _, ok := s.series[string(s.keyBuf)]; !ok { // the lookup does not allocate
			s.series[string(s.keyBuf)] = struct{}{}
		}
		if s.byMetric != nil {
			s.byMetric[name] += n - stale
		}
		if s.track != "" && tracked != "" {
			ls := s.byLabel[tracked]
			if ls == nil {
				ls = &LabelStats{FirstSeen: now}
				s.byLabel[tracked] = ls
			}
			ls.Samples += n
			ls.StaleMarkers += stale
			if name == "llm_inference_target_up" {
				ls.UpLabels = make(map[string]string, len(ts.Labels))
				for _, l := range ts.Labels {
					ls.UpLabels[l.Name] = l.Value
				}
			}
			ls.LastSeen = now
			if t := time.UnixMilli(newest); t.After(ls.LastSample) {
				ls.LastSample = t
			}
		}
	}
}

func labelsString(ls []prompb.Label) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, l := range ls {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=%q", l.Name, l.Value)
	}
	b.WriteByte('}')
	return b.String()
}
