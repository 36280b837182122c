package harness

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"
)

// Backend modes of a FaultProxy.
const (
	ModeUp      = "up"      // forward to Prometheus
	ModeDown    = "down"    // drop the connection without an answer (backend unreachable)
	Mode503     = "503"     // Service Unavailable
	Mode429     = "429"     // Too Many Requests, Retry-After: 1
	ModeReject1 = "reject1" // answer the next request 400, then go up
)

// FaultProxy stands between the collector and Prometheus' remote-write endpoint, answers as a
// failing backend would when told to, and records which samples of one metric it forwarded.
type FaultProxy struct {
	*httptest.Server
	target string
	metric string

	mu        sync.Mutex
	mode      string
	forwarded map[string]int // "pod@ts" of metric samples accepted by Prometheus -> times
	rejected  map[string]int // samples answered 400
	requests  map[string]int // requests per answer
}

// NewFaultProxy forwards to Prometheus' write URL and records samples of metric.
func NewFaultProxy(t testing.TB, writeURL, metric string) *FaultProxy {
	f := &FaultProxy{target: writeURL, metric: metric, mode: ModeUp,
		forwarded: map[string]int{}, rejected: map[string]int{}, requests: map[string]int{}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

// WriteURL is the proxy's remote-write endpoint.
func (f *FaultProxy) WriteURL() string { return f.URL + "/api/v1/write" }

// SetMode changes how the next requests are answered.
func (f *FaultProxy) SetMode(m string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mode = m
}

// Forwarded returns, per "pod@timestamp" of the recorded metric, how often Prometheus accepted it.
func (f *FaultProxy) Forwarded() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]int, len(f.forwarded))
	for k, v := range f.forwarded {
		out[k] = v
	}
	return out
}

// Rejected returns the recorded metric's samples the proxy answered with 400.
func (f *FaultProxy) Rejected() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]int, len(f.rejected))
	for k, v := range f.rejected {
		out[k] = v
	}
	return out
}

// Requests counts requests by the answer they got.
func (f *FaultProxy) Requests() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]int{}
	for k, v := range f.requests {
		out[k] = v
	}
	return out
}

func (f *FaultProxy) samples(body []byte) []string {
	raw, err := snappy.Decode(nil, body)
	if err != nil {
		return nil
	}
	var wr prompb.WriteRequest
	if err := wr.Unmarshal(raw); err != nil {
		return nil
	}
	var out []string
	for _, ts := range wr.Timeseries {
		name, pod := "", ""
		for _, l := range ts.Labels {
			switch l.Name {
			case "__name__":
				name = l.Value
			case "pod":
				pod = l.Value
			}
		}
		if name != f.metric {
			continue
		}
		for _, s := range ts.Samples {
			out = append(out, pod+"@"+strconv.FormatInt(s.Timestamp, 10))
		}
	}
	return out
}

func (f *FaultProxy) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	mode := f.mode
	if mode == ModeReject1 {
		f.mode = ModeUp
	}
	f.requests[mode]++
	f.mu.Unlock()
	switch mode {
	case ModeDown:
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				_ = c.Close()
				return
			}
		}
		http.Error(w, "down", http.StatusBadGateway)
		return
	case Mode503:
		http.Error(w, "backend overloaded", http.StatusServiceUnavailable)
		return
	case Mode429:
		w.Header().Set("Retry-After", "1")
		http.Error(w, "rate limited", http.StatusTooManyRequests)
		return
	case ModeReject1:
		f.mu.Lock()
		for _, k := range f.samples(body) {
			f.rejected[k]++
		}
		f.mu.Unlock()
		http.Error(w, "bad sample: invalid label", http.StatusBadRequest)
		return
	}
	req, _ := http.NewRequestWithContext(r.Context(), http.MethodPost, f.target, bytes.NewReader(body))
	req.Header = r.Header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		f.mu.Lock()
		for _, k := range f.samples(body) {
			f.forwarded[k]++
		}
		f.mu.Unlock()
	}
	for k, v := range resp.Header {
		w.Header()[k] = v // Content-Type: an OTLP client reads the answer by it
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}
