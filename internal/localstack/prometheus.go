package localstack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Prometheus is a real Prometheus server accepting remote write.
type Prometheus struct {
	*Process
	URL string // e.g. http://127.0.0.1:34567
}

// WriteURL is the remote-write endpoint.
func (p *Prometheus) WriteURL() string { return p.URL + "/api/v1/write" }

// NewPrometheus starts Debian's prometheus listening on addr with the remote-write receiver,
// storing in dir, with configYAML (an empty scrape configuration when ""), and waits until ready.
func NewPrometheus(addr, dir, configYAML string) (*Prometheus, error) {
	return NewPrometheusBin("prometheus", addr, dir, configYAML)
}

// NewPrometheusBin is NewPrometheus with the binary bin and extra flags (a Prometheus 3 with
// --web.enable-otlp-receiver).
func NewPrometheusBin(bin, addr, dir, configYAML string, flags ...string) (*Prometheus, error) {
	cfg := filepath.Join(dir, "prometheus.yml")
	if configYAML == "" {
		configYAML = "global: {}\n"
	}
	if err := os.WriteFile(cfg, []byte(configYAML), 0o600); err != nil {
		return nil, err
	}
	p, err := StartProcess(bin, append([]string{
		"--config.file=" + cfg,
		"--storage.tsdb.path=" + filepath.Join(dir, "data"),
		"--web.listen-address=" + addr,
		"--web.enable-remote-write-receiver",
		"--log.level=warn",
	}, flags...)...)
	if err != nil {
		return nil, err
	}
	prom := &Prometheus{Process: p, URL: "http://" + addr}
	if err := WaitHTTP(p, prom.URL+"/-/ready", 30*time.Second); err != nil {
		p.Stop()
		return nil, err
	}
	return prom, nil
}

// Sample is one series of an instant query result.
type Sample struct {
	Labels map[string]string
	Value  float64
	Time   float64
}

// Query runs an instant PromQL query.
func (p *Prometheus) Query(ctx context.Context, q string) ([]Sample, error) {
	return p.QueryAt(ctx, q, time.Time{})
}

// QueryAt runs an instant PromQL query at time at (now when zero).
func (p *Prometheus) QueryAt(ctx context.Context, q string, at time.Time) ([]Sample, error) {
	res, err := p.query(ctx, q, at)
	if err != nil {
		return nil, err
	}
	out := make([]Sample, 0, len(res))
	for _, r := range res {
		pt, err := parsePoint(q, r.Value)
		if err != nil {
			return nil, err
		}
		out = append(out, Sample{Labels: r.Metric, Value: pt.Value, Time: pt.Time})
	}
	return out, nil
}

// queryResult is one element of the "result" of Prometheus' query API: Value for a vector,
// Values for a matrix.
type queryResult struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
	Values [][2]any          `json:"values"`
}

func (p *Prometheus) query(ctx context.Context, q string, at time.Time) ([]queryResult, error) {
	v := url.Values{"query": {q}}
	if !at.IsZero() {
		v.Set("time", unixSeconds(at))
	}
	return p.api(ctx, "/api/v1/query", v)
}

func unixSeconds(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixNano())/1e9, 'f', 3, 64)
}

// QueryRange evaluates q from start to end every step.
func (p *Prometheus) QueryRange(ctx context.Context, q string, start, end time.Time, step time.Duration) ([]Series, error) {
	res, err := p.api(ctx, "/api/v1/query_range", url.Values{"query": {q}, "start": {unixSeconds(start)}, "end": {unixSeconds(end)},
		"step": {strconv.FormatFloat(step.Seconds(), 'f', -1, 64)}})
	if err != nil {
		return nil, err
	}
	return toSeries(q, res)
}

func (p *Prometheus) api(ctx context.Context, path string, v url.Values) ([]queryResult, error) {
	q := v.Get("query")
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.URL+path, bytes.NewBufferString(v.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []queryResult `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, err
	}
	if body.Status != "success" {
		return nil, fmt.Errorf("query %q: %s", q, body.Error)
	}
	return body.Data.Result, nil
}

// parsePoint decodes a [time, "value"] pair of the query API.
func parsePoint(q string, pv [2]any) (Point, error) {
	ts, _ := pv[0].(float64)
	s, _ := pv[1].(string)
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return Point{}, fmt.Errorf("query %q: value %q: %w", q, s, err)
	}
	return Point{Time: ts, Value: v}, nil
}

// Series is one series of a range-vector query: its raw samples.
type Series struct {
	Labels  map[string]string
	Samples []Point
}

// Point is one raw sample.
type Point struct {
	Time  float64 // seconds
	Value float64
}

// QueryRaw evaluates a range selector (e.g. `up[1m]`) at time at and returns the raw samples.
func (p *Prometheus) QueryRaw(ctx context.Context, selector string, at time.Time) ([]Series, error) {
	res, err := p.query(ctx, selector, at)
	if err != nil {
		return nil, err
	}
	return toSeries(selector, res)
}

func toSeries(q string, res []queryResult) ([]Series, error) {
	out := make([]Series, 0, len(res))
	for _, r := range res {
		s := Series{Labels: r.Metric}
		for _, pv := range r.Values {
			pt, err := parsePoint(q, pv)
			if err != nil {
				return nil, err
			}
			s.Samples = append(s.Samples, pt)
		}
		out = append(out, s)
	}
	return out, nil
}
