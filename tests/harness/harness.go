// Package harness starts the real programs that end-to-end tests need — Prometheus with its
// remote-write receiver and the built collector — on 127.0.0.1, and stops them when the test ends.
package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// RequireE2E skips the test unless end-to-end tests were asked for (make test sets
// LLMINF_E2E=1 and OTELCOL_BIN), and returns the collector binary's path.
func RequireE2E(t testing.TB) string {
	t.Helper()
	if os.Getenv("LLMINF_E2E") != "1" {
		t.Skip("end-to-end test: run through `make test` (sets LLMINF_E2E=1 and OTELCOL_BIN)")
	}
	bin := os.Getenv("OTELCOL_BIN")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("OTELCOL_BIN=%q: %v (run `make build`)", bin, err)
	}
	return bin
}

// FreePort returns a TCP port free on 127.0.0.1 at the time of the call.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Process is a started program whose output is kept for the test log.
type Process struct {
	Name string
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{}
	err  error
}

func (p *Process) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}

// Output returns what the process printed so far.
func (p *Process) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Pid is the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// StartProcess runs name with args in its own process group (so Stop ends its children too),
// keeping its output; it dies with the calling process.
func StartProcess(name string, args ...string) (*Process, error) {
	return StartProcessEnv(nil, name, args...)
}

// StartProcessEnv is StartProcess with extra environment variables ("K=V").
func StartProcessEnv(env []string, name string, args ...string) (*Process, error) {
	p := &Process{Name: filepath.Base(name), done: make(chan struct{})}
	p.cmd = exec.Command(name, args...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p, p
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	return p, nil
}

// Start runs name with args; the process is stopped when the test ends, and its output is
// logged if the test failed.
func Start(t testing.TB, name string, args ...string) *Process {
	t.Helper()
	return StartEnv(t, nil, name, args...)
}

// StartEnv is Start with extra environment variables ("K=V").
func StartEnv(t testing.TB, env []string, name string, args ...string) *Process {
	t.Helper()
	p, err := StartProcessEnv(env, name, args...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("---- output of %s ----\n%s", p.Name, tail(p.Output(), 8000))
		}
	})
	return p
}

// Stop asks the process to end (SIGTERM), and kills it after 10 s.
func (p *Process) Stop() {
	if p.Exited() {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

// Kill ends the process with SIGKILL, as a node failure or OOM kill would.
func (p *Process) Kill() {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// WaitHTTP polls url until it answers 200, p exits, or the timeout passes.
func WaitHTTP(p *Process, u string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if p != nil && p.Exited() {
			return fmt.Errorf("%s exited before %s answered: %v\n%s", p.Name, u, p.err, tail(p.Output(), 4000))
		}
		resp, err := http.Get(u)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s did not answer 200 within %s", u, timeout)
}

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
	cfg := filepath.Join(dir, "prometheus.yml")
	if configYAML == "" {
		configYAML = "global: {}\n"
	}
	if err := os.WriteFile(cfg, []byte(configYAML), 0o600); err != nil {
		return nil, err
	}
	p, err := StartProcess("prometheus",
		"--config.file="+cfg,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--web.enable-remote-write-receiver",
		"--log.level=warn",
	)
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

// StartPrometheus starts a Prometheus for the test on a free 127.0.0.1 port (see NewPrometheus).
func StartPrometheus(t testing.TB, configYAML string) *Prometheus {
	t.Helper()
	prom, err := NewPrometheus("127.0.0.1:"+strconv.Itoa(FreePort(t)), t.TempDir(), configYAML)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		prom.Stop()
		if t.Failed() {
			t.Logf("---- output of prometheus ----\n%s", tail(prom.Output(), 8000))
		}
	})
	return prom
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

// StartCollectorFile runs the collector binary on a configuration file with extra environment.
func StartCollectorFile(t testing.TB, bin, path string, env ...string) *Process {
	t.Helper()
	return StartEnv(t, env, bin, "--config", path)
}

// StartCollector writes configYAML to a file and runs the collector binary on it.
func StartCollector(t testing.TB, bin, configYAML string) *Process {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "collector.yaml")
	if err := os.WriteFile(cfg, []byte(configYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	return Start(t, bin, "--config", cfg)
}

// RSS returns the resident set size of a running process, in bytes (from /proc).
func (p *Process) RSS() (int64, error) {
	st, err := ProcStatus(p.Pid(), "VmRSS")
	return st["VmRSS"], err
}

// ProcStatus reads the given size fields of /proc/<pid>/status (VmRSS, VmHWM, RssAnon, ...),
// in bytes; a field the kernel does not report is an error.
func ProcStatus(pid int, keys ...string) (map[string]int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(keys))
	for _, line := range strings.Split(string(b), "\n") {
		key, rest, ok := strings.Cut(line, ":")
		if !ok || !slices.Contains(keys, key) {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("/proc/%d/status %s: %w", pid, key, err)
		}
		out[key] = kb << 10
	}
	for _, k := range keys {
		if _, ok := out[k]; !ok {
			return nil, fmt.Errorf("no %s for pid %d", k, pid)
		}
	}
	return out, nil
}
