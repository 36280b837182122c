// Package kubeapi runs a real Kubernetes control plane for tests: etcd and one or more
// kube-apiservers sharing it, on loopback, with RBAC, TLS and service-account tokens. There is
// no kubelet, scheduler or controller manager: tests set pod status themselves and delete
// with a zero grace period.
//
// The binaries come from tests/kubernetes/build/build.sh (make test-kubernetes builds them);
// Start skips the test with a clear message when they are missing, unless LLMINF_K8S=1 asks
// for them, in which case it fails.
package kubeapi

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/otelcol-llminference/otelcol-llminference/tests/harness"
)

// BinDir is where the binaries are looked up: $KUBE_BIN_DIR, else .cache/k8s/bin at the repository root.
func BinDir() string {
	if d := os.Getenv("KUBE_BIN_DIR"); d != "" {
		return d
	}
	wd, _ := os.Getwd()
	for dir := wd; dir != "/"; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			if _, err := os.Stat(filepath.Join(dir, "builder-config.yaml")); err == nil {
				return filepath.Join(dir, ".cache", "k8s", "bin")
			}
		}
	}
	return filepath.Join(wd, ".cache", "k8s", "bin")
}

// Cluster is etcd plus its API servers.
type Cluster struct {
	t          testing.TB
	dir        string
	bin        string
	etcd       *proc
	etcdURL    string
	AdminToken string
	caFile     string
	CAPEM      []byte
	APIServers []*APIServer
}

// APIServer is one kube-apiserver process of the cluster.
type APIServer struct {
	c    *Cluster
	Name string
	Port int
	URL  string
	args []string
	log  string

	mu   sync.Mutex
	proc *proc
}

type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
	out  *os.File
}

// Start starts etcd and n API servers on it and waits until every one is ready.
// Everything is stopped (API servers first) when the test ends.
func Start(t testing.TB, n int) *Cluster {
	t.Helper()
	bin := BinDir()
	for _, name := range []string{"kube-apiserver", "etcd"} {
		if _, err := os.Stat(filepath.Join(bin, name)); err != nil {
			msg := fmt.Sprintf("%s not found in %s: run `make test-kubernetes` (or tests/kubernetes/build/build.sh)", name, bin)
			if os.Getenv("LLMINF_K8S") == "1" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
	dir := t.TempDir()
	c := &Cluster{t: t, dir: dir, bin: bin}
	if err := c.writePKI(); err != nil {
		t.Fatalf("pki: %v", err)
	}
	t.Cleanup(c.stop)

	clientPort, peerPort := harness.FreePort(t), harness.FreePort(t)
	c.etcdURL = fmt.Sprintf("http://127.0.0.1:%d", clientPort)
	peer := fmt.Sprintf("http://127.0.0.1:%d", peerPort)
	p, err := c.spawn("etcd", filepath.Join(bin, "etcd"),
		"--name", "test", "--data-dir", filepath.Join(dir, "etcd"),
		"--listen-client-urls", c.etcdURL, "--advertise-client-urls", c.etcdURL,
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
		"--initial-cluster", "test="+peer, "--log-level", "warn")
	if err != nil {
		t.Fatalf("etcd: %v", err)
	}
	c.etcd = p
	if err := waitHTTP(c.etcdURL+"/health", nil, 30*time.Second, p); err != nil {
		t.Fatalf("etcd not healthy: %v\n%s", err, tailFile(filepath.Join(dir, "etcd.log")))
	}
	for i := 0; i < n; i++ {
		a := &APIServer{c: c, Name: fmt.Sprintf("apiserver-%d", i)}
		a.Port = harness.FreePort(t)
		a.URL = fmt.Sprintf("https://127.0.0.1:%d", a.Port)
		a.log = filepath.Join(dir, a.Name+".log")
		a.args = []string{
			"--etcd-servers=" + c.etcdURL,
			"--bind-address=127.0.0.1",
			"--advertise-address=127.0.0.1",
			fmt.Sprintf("--secure-port=%d", a.Port),
			"--tls-cert-file=" + filepath.Join(dir, "apiserver.crt"),
			"--tls-private-key-file=" + filepath.Join(dir, "apiserver.key"),
			"--client-ca-file=" + c.caFile,
			"--token-auth-file=" + filepath.Join(dir, "tokens.csv"),
			"--authorization-mode=RBAC",
			"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
			"--service-account-key-file=" + filepath.Join(dir, "sa.pub"),
			"--service-account-signing-key-file=" + filepath.Join(dir, "sa.key"),
			"--service-cluster-ip-range=10.0.0.0/24",
			"--endpoint-reconciler-type=none",
			// No controller manager creates the namespaces' default ServiceAccounts.
			"--disable-admission-plugins=ServiceAccount",
			"--cert-dir=" + filepath.Join(dir, a.Name+"-certs"),
			"--profiling=false",
			// Without it, a stop with a watch open takes 60 s.
			"--shutdown-watch-termination-grace-period=2s",
		}
		c.APIServers = append(c.APIServers, a)
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i, a := range c.APIServers {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = a.Start() }()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// Start starts (or restarts) the API server and waits for /readyz.
func (a *APIServer) Start() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.proc != nil {
		return fmt.Errorf("%s already running", a.Name)
	}
	p, err := a.c.spawn(a.Name, filepath.Join(a.c.bin, "kube-apiserver"), a.args...)
	if err != nil {
		return err
	}
	a.proc = p
	if err := waitHTTP(a.URL+"/readyz", a.c.tlsConfig(), 60*time.Second, p); err != nil {
		return fmt.Errorf("%s not ready: %v\n%s", a.Name, err, tailFile(a.log))
	}
	return nil
}

// Stop stops the API server (SIGTERM) and waits for it to exit.
func (a *APIServer) Stop() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.proc != nil {
		a.proc.stop(30 * time.Second)
		a.proc = nil
	}
}

// Config is a client configuration for the API server with the given bearer token.
func (a *APIServer) Config(token string) *rest.Config {
	return &rest.Config{
		Host:            a.URL,
		BearerToken:     token,
		TLSClientConfig: rest.TLSClientConfig{CAData: a.c.CAPEM},
		QPS:             200,
		Burst:           400,
	}
}

// Admin is a clientset with cluster-admin rights (system:masters).
func (a *APIServer) Admin(t testing.TB) *kubernetes.Clientset {
	cs, err := kubernetes.NewForConfig(a.Config(a.c.AdminToken))
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// Kubeconfig writes a kubeconfig for this API server and token and returns its path.
func (a *APIServer) Kubeconfig(t testing.TB, name, token string) string {
	return a.KubeconfigVia(t, name, token, a.URL)
}

// KubeconfigVia is Kubeconfig with another server address for this API server (a proxy in
// front of it, on 127.0.0.1 as the API server's certificate requires).
func (a *APIServer) KubeconfigVia(t testing.TB, name, token, server string) string {
	path := filepath.Join(t.TempDir(), name+".kubeconfig")
	body := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: %s
    certificate-authority: %s
users:
- name: %s
  user:
    token: %s
contexts:
- name: test
  context: {cluster: test, user: %s}
current-context: test
`, server, a.c.caFile, name, token, name)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// RequestCounts sums the API server's own apiserver_request_total for one resource, by verb.
// Watches are counted when they end.
func (a *APIServer) RequestCounts(ctx context.Context, resource string) (map[string]float64, error) {
	fams, err := a.Metrics(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	if f := fams["apiserver_request_total"]; f != nil {
		for _, m := range f.GetMetric() {
			var verb, res, sub string
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "verb":
					verb = l.GetValue()
				case "resource":
					res = l.GetValue()
				case "subresource":
					sub = l.GetValue()
				}
			}
			if res == resource && sub == "" {
				out[verb] += m.GetCounter().GetValue()
			}
		}
	}
	return out, nil
}

// Metrics reads the API server's /metrics as the admin.
func (a *APIServer) Metrics(ctx context.Context) (map[string]*dto.MetricFamily, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.URL+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+a.c.AdminToken)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: a.c.tlsConfig()}, Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("/metrics: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(resp.Body)
}

// Log returns the API server's log so far.
func (a *APIServer) Log() string {
	b, _ := os.ReadFile(a.log)
	return string(b)
}

func (c *Cluster) stop() {
	for _, a := range c.APIServers {
		a.Stop() // before etcd, else shutdown waits a minute for it
	}
	if c.etcd != nil {
		c.etcd.stop(10 * time.Second)
	}
	if c.t.Failed() {
		for _, a := range c.APIServers {
			c.t.Logf("%s log tail:\n%s", a.Name, tailFile(a.log))
		}
	}
}

func (c *Cluster) spawn(name, bin string, args ...string) (*proc, error) {
	out, err := os.OpenFile(filepath.Join(c.dir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = out, out
	// Its own process group, and killed with the test binary if that dies.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, err
	}
	p := &proc{cmd: cmd, done: make(chan struct{}), out: out}
	go func() { _ = cmd.Wait(); out.Close(); close(p.done) }()
	return p, nil
}

func (p *proc) stop(grace time.Duration) {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (c *Cluster) tlsConfig() *tls.Config {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(c.CAPEM)
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}

func waitHTTP(u string, tc *tls.Config, timeout time.Duration, p *proc) error {
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: tc}, Timeout: 2 * time.Second}
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		if p.exited() {
			return fmt.Errorf("process exited")
		}
		resp, err := client.Get(u)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("%s: %s", resp.Status, bytes.TrimSpace(body))
		} else {
			last = err.Error()
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("timed out after %s: %s", timeout, last)
}

func tailFile(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > 15 {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}

// writePKI writes a CA, the API server's serving certificate, the service-account signing
// key pair and a static token file with one admin token.
func (c *Cluster) writePKI() error {
	caKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "llminference-test-ca"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	caCert, _ := x509.ParseCertificate(caDER)
	srvKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	srvTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "kube-apiserver"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("10.0.0.1")},
		DNSNames:    []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"},
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, caCert, &srvKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	saKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	saPub, err := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
	if err != nil {
		return err
	}
	tok := make([]byte, 24)
	if _, err := rand.Read(tok); err != nil {
		return err
	}
	c.AdminToken = hex.EncodeToString(tok)
	c.CAPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	c.caFile = filepath.Join(c.dir, "ca.crt")
	files := map[string][]byte{
		"ca.crt":        c.CAPEM,
		"apiserver.crt": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srvDER}),
		"apiserver.key": pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(srvKey)}),
		"sa.key":        pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(saKey)}),
		"sa.pub":        pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: saPub}),
		"tokens.csv":    []byte(c.AdminToken + ",admin,admin-uid,system:masters\n"),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(c.dir, name), b, 0o600); err != nil {
			return err
		}
	}
	return nil
}
