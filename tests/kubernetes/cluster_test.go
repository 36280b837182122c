package kubernetes_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	authv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/otelcol-llminference/otelcol-llminference/internal/llmsim"
	"github.com/otelcol-llminference/otelcol-llminference/tests/harness"
	"github.com/otelcol-llminference/otelcol-llminference/tests/kubernetes/kubeapi"
	"github.com/otelcol-llminference/otelcol-llminference/tests/rwsink"
)

const (
	workloadLabel = "alibabacloud.com/inference-workload"
	backendLabel  = "alibabacloud.com/inference-backend"
	ourNode       = "gpu-node-a"
	otherNode     = "gpu-node-b"
	// interval is the collectors' collection_interval in these tests.
	interval = 2 * time.Second
)

// env is one control plane (etcd and two API servers on it), the manifests of
// configs/kubernetes applied, and a remote-write sink. Collectors talk to API server A; the
// test changes the cluster through B, so that A can be restarted while the cluster changes
// and A's request counters hold only what collectors asked.
type env struct {
	t       *testing.T
	bin     string
	cluster *kubeapi.Cluster
	a, b    *kubeapi.APIServer
	admin   *kubernetes.Clientset // through B
	sink    *rwsink.Sink
	port    int32 // the engines' container port; every pod IP is a different 127/8 address
	nextIP  atomic.Uint32
}

func newEnv(t *testing.T) *env {
	bin := harness.RequireE2E(t)
	c := kubeapi.Start(t, 2)
	e := &env{t: t, bin: bin, cluster: c, a: c.APIServers[0], b: c.APIServers[1]}
	e.admin = e.b.Admin(t)
	sink, err := rwsink.Start(rwsink.Options{TrackLabel: "pod"})
	require.NoError(t, err)
	t.Cleanup(sink.Close)
	e.sink = sink
	e.port = int32(harness.FreePort(t))
	e.nextIP.Store(10)
	return e
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// serviceAccountToken mints a bound token for a ServiceAccount (TokenRequest API), as the
// kubelet does for the DaemonSet's pods.
func (e *env) serviceAccountToken(ns, name string) string {
	tr, err := e.admin.CoreV1().ServiceAccounts(ns).CreateToken(ctxT(e.t), name,
		&authv1.TokenRequest{Spec: authv1.TokenRequestSpec{ExpirationSeconds: ptr(int64(3600))}}, metav1.CreateOptions{})
	require.NoError(e.t, err)
	return tr.Status.Token
}

func ptr[T any](v T) *T { return &v }

func (e *env) namespace(name string) {
	_, err := e.admin.CoreV1().Namespaces().Create(ctxT(e.t), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	require.NoError(e.t, err)
}

// collector runs the collector binary with Kubernetes discovery against API server A,
// authenticated by token, shipping to the sink.
type collector struct {
	*harness.Process
}

type collectorOpts struct {
	token      string
	namespaces []string
	podPort    string
	env        []string
	// server, if set, is where the collector reaches API server A (a proxy in front of it).
	server string
	// node is the collector's node (default ourNode).
	node string
	// overlays are configuration files loaded after the collector's own (--config, in order).
	overlays []string
	// telemetryPort, if set, serves the collector's own metrics there.
	telemetryPort int
}

func (e *env) startCollector(o collectorOpts) *collector {
	t := e.t
	if o.podPort == "" {
		o.podPort = "http"
	}
	kubeconfig := e.a.Kubeconfig(t, "collector", o.token)
	if o.server != "" {
		kubeconfig = e.a.KubeconfigVia(t, "collector", o.token, o.server)
	}
	if o.node == "" {
		o.node = ourNode
	}
	telemetry := "telemetry: {metrics: {level: none}}"
	if o.telemetryPort != 0 {
		telemetry = fmt.Sprintf("telemetry: {metrics: {readers: [{pull: {exporter: {prometheus: {host: 127.0.0.1, port: %d}}}}]}}", o.telemetryPort)
	}
	cfg := fmt.Sprintf(`
receivers:
  llminference:
    collection_interval: %s
    scrape_timeout: 1s
    pod_port: %q
    namespaces: [%s]
    kubernetes: {enabled: true, auth_type: kubeConfig, node_name: %s}
processors:
  memory_limiter: {check_interval: 1s, limit_percentage: 80, spike_limit_percentage: 20}
  llminference: {}
exporters:
  llminference_remote_write:
    endpoint: %s
    queue: {directory: %q}
    retry_on_failure: {enabled: true, initial_interval: 100ms, max_interval: 1s, max_elapsed_time: 0s}
service:
  %s
  pipelines:
    metrics: {receivers: [llminference], processors: [llminference], exporters: [llminference_remote_write]}
`, interval, o.podPort, strings.Join(o.namespaces, ", "), o.node, e.sink.URL, t.TempDir(), telemetry)
	path := filepath.Join(t.TempDir(), "collector.yaml")
	require.NoError(t, os.WriteFile(path, []byte(cfg), 0o600))
	args := []string{"--config", path}
	for _, ov := range o.overlays {
		args = append(args, "--config", ov)
	}
	env := append([]string{"KUBECONFIG=" + kubeconfig, "K8S_NODE_NAME=" + o.node}, o.env...)
	return &collector{harness.StartEnv(t, env, e.bin, args...)}
}

// enginePod is a pod in the API server plus the simulated engine behind its IP.
type enginePod struct {
	ns, name, ip string
	engine       *llmsim.Endpoint
	fleet        *llmsim.Fleet
	// firstScrape is when the engine first answered a scrape (zero until then).
	mu          sync.Mutex
	firstScrape time.Time
}

func (p *enginePod) served() int64 { return p.engine.Served() }

type podOpts struct {
	ns, name, node string
	labels         map[string]string
	annotations    map[string]string
	containers     []corev1.Container // default: one container "engine" with port http
	pending        bool               // leave it Pending, without an IP
	dataParallel   int                // the engine's series multiplier (vLLM's engine label); 0 = 1
}

// createPod starts a simulated vLLM engine on a fresh 127/8 address, creates the pod through
// B and, unless pending, sets its status Running with that IP, as a kubelet would.
func (e *env) createPod(o podOpts) *enginePod {
	t := e.t
	n := e.nextIP.Add(1)
	ip := fmt.Sprintf("127.0.%d.%d", n/250, n%250+2)
	if o.node == "" {
		o.node = ourNode
	}
	if o.containers == nil {
		o.containers = []corev1.Container{{Name: "engine", Image: "vllm/vllm-openai:v0.11.0",
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: e.port}}}}
	}
	fleet, err := llmsim.Start(llmsim.Config{Seed: 1, Node: o.node, Endpoints: []llmsim.EndpointSpec{{
		Engine: llmsim.EngineVLLM, Listen: net.JoinHostPort(ip, fmt.Sprint(e.port)),
		PodSpec: llmsim.PodSpec{Name: o.name, Namespace: o.ns, Workload: "qwen", Model: "Qwen/Qwen3-8B", Rate: 2, DataParallel: o.dataParallel},
	}}})
	require.NoError(t, err)
	t.Cleanup(fleet.Close)
	p := &enginePod{ns: o.ns, name: o.name, ip: ip, engine: fleet.Endpoints[0], fleet: fleet}
	go func() { // note when the first scrape arrives, for the time-to-first-scrape figure
		for p.served() == 0 {
			select {
			case <-time.After(10 * time.Millisecond):
			case <-t.Context().Done():
				return
			}
		}
		p.mu.Lock()
		p.firstScrape = time.Now()
		p.mu.Unlock()
	}()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: o.name, Namespace: o.ns, Labels: o.labels, Annotations: o.annotations},
		Spec:       corev1.PodSpec{NodeName: o.node, Containers: o.containers},
	}
	_, err = e.admin.CoreV1().Pods(o.ns).Create(ctxT(t), pod, metav1.CreateOptions{})
	require.NoError(t, err)
	if !o.pending {
		e.patchStatus(p, corev1.PodRunning, ip)
	}
	return p
}

func (e *env) patchStatus(p *enginePod, phase corev1.PodPhase, ip string) {
	body := fmt.Sprintf(`{"status":{"phase":%q}}`, phase)
	if ip != "" {
		body = fmt.Sprintf(`{"status":{"phase":%q,"podIP":%q,"podIPs":[{"ip":%q}]}}`, phase, ip, ip)
	}
	_, err := e.admin.CoreV1().Pods(p.ns).Patch(ctxT(e.t), p.name, types.MergePatchType, []byte(body), metav1.PatchOptions{}, "status")
	require.NoError(e.t, err)
}

func (e *env) deletePod(p *enginePod) {
	// No kubelet confirms the deletion: a zero grace period removes the pod at once.
	err := e.admin.CoreV1().Pods(p.ns).Delete(ctxT(e.t), p.name, metav1.DeleteOptions{GracePeriodSeconds: ptr(int64(0))})
	require.NoError(e.t, err)
}

func (e *env) removeLabel(p *enginePod, key string) {
	body := fmt.Sprintf(`{"metadata":{"labels":{%q:null}}}`, key)
	_, err := e.admin.CoreV1().Pods(p.ns).Patch(ctxT(e.t), p.name, types.MergePatchType, []byte(body), metav1.PatchOptions{})
	require.NoError(e.t, err)
}

func labelled(workload, backend string) map[string]string {
	return map[string]string{workloadLabel: workload, backendLabel: backend}
}

// waitScraped waits until the pod's engine has answered n more scrapes than it had.
func waitScraped(t *testing.T, p *enginePod, more int64, within time.Duration) {
	t.Helper()
	start := p.served()
	require.Eventuallyf(t, func() bool { return p.served() >= start+more }, within, 20*time.Millisecond,
		"%s/%s: expected %d more scrapes within %s, got %d", p.ns, p.name, more, within, p.served()-start)
}

// waitStopped asserts that scraping of gone stopped and its series were marked stale: the sink
// receives stale markers for the pod, and after that the engine serves no more scrapes while
// control, a pod still scraped, is scraped twice more.
func (e *env) waitStopped(t *testing.T, gone, control *enginePod) {
	t.Helper()
	require.Eventuallyf(t, func() bool { return e.sink.Label(gone.name).StaleMarkers > 0 }, 3*interval+5*time.Second, 20*time.Millisecond,
		"%s: no stale markers arrived after it stopped being a target", gone.name)
	before := gone.served()
	waitScraped(t, control, 2, 3*interval+5*time.Second)
	require.Equalf(t, before, gone.served(), "%s is still scraped after its stale markers", gone.name)
}

// firstScrapeAfter is how long after since the pod's engine was first scraped.
func (p *enginePod) firstScrapeAfter(since time.Time) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.firstScrape.IsZero() {
		return -1
	}
	return p.firstScrape.Sub(since)
}

// boundRole creates a ServiceAccount bound to a ClusterRole with rules and returns its token.
func (e *env) boundRole(name string, rules []rbacv1.PolicyRule) string {
	ctx := ctxT(e.t)
	const ns = "otelcol-llminference"
	_, err := e.admin.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	require.NoError(e.t, err)
	_, err = e.admin.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}, metav1.CreateOptions{})
	require.NoError(e.t, err)
	_, err = e.admin.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: name},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: name, Namespace: ns}},
	}, metav1.CreateOptions{})
	require.NoError(e.t, err)
	return e.serviceAccountToken(ns, name)
}
