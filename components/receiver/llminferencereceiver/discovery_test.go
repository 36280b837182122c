package llminferencereceiver

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/otelcol-llminference/otelcol-llminference/components/internal/scrapecontract"
)

const (
	workloadKey = "alibabacloud.com/inference-workload"
	backendKey  = "alibabacloud.com/inference-backend"
	ourNode     = "gpu-node-1"
)

type podOpt func(*corev1.Pod)

func newPod(name string, opts ...podOpt) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: "llm", UID: types.UID("uid-" + name),
			Labels: map[string]string{workloadKey: "qwen-chat", backendKey: "vllm"},
		},
		Spec: corev1.PodSpec{
			NodeName: ourNode,
			Containers: []corev1.Container{{
				Name:  "engine",
				Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8000, Protocol: corev1.ProtocolTCP}},
			}},
		},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.1.2.3"},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func onNode(n string) podOpt          { return func(p *corev1.Pod) { p.Spec.NodeName = n } }
func inNamespace(ns string) podOpt    { return func(p *corev1.Pod) { p.Namespace = ns } }
func withoutLabel(k string) podOpt    { return func(p *corev1.Pod) { delete(p.Labels, k) } }
func withLabel(k, v string) podOpt    { return func(p *corev1.Pod) { p.Labels[k] = v } }
func phase(ph corev1.PodPhase) podOpt { return func(p *corev1.Pod) { p.Status.Phase = ph } }
func ip(a string) podOpt              { return func(p *corev1.Pod) { p.Status.PodIP = a } }
func annotated(k, v string) podOpt {
	return func(p *corev1.Pod) {
		if p.Annotations == nil {
			p.Annotations = map[string]string{}
		}
		p.Annotations[k] = v
	}
}
func ports(c ...corev1.Container) podOpt {
	return func(p *corev1.Pod) { p.Spec.Containers = c }
}

func TestTargetFor(t *testing.T) {
	tests := []struct {
		name       string
		pod        *corev1.Pod
		podPort    string
		namespaces []string
		wantURL    string // "" = not a target
		container  string
		backend    string
		invalid    string
	}{
		{name: "labelled running pod", pod: newPod("a"), wantURL: "http://10.1.2.3:8000/metrics", container: "engine", backend: "vllm"},
		{name: "other node", pod: newPod("a", onNode("gpu-node-2"))},
		{name: "namespace not selected", pod: newPod("a", inNamespace("default")), namespaces: []string{"llm-a", "llm"}},
		{name: "namespace selected", pod: newPod("a"), namespaces: []string{"llm-a", "llm"}, wantURL: "http://10.1.2.3:8000/metrics", container: "engine", backend: "vllm"},
		{name: "no workload label", pod: newPod("a", withoutLabel(workloadKey))},
		{name: "empty workload label still opts in", pod: newPod("a", withLabel(workloadKey, "")), wantURL: "http://10.1.2.3:8000/metrics", container: "engine", backend: "vllm"},
		{name: "pending without IP", pod: newPod("a", phase(corev1.PodPending), ip(""))},
		{name: "running without IP", pod: newPod("a", ip(""))},
		{name: "failed", pod: newPod("a", phase(corev1.PodFailed))},
		{name: "succeeded", pod: newPod("a", phase(corev1.PodSucceeded))},
		{name: "no backend label", pod: newPod("a", withoutLabel(backendKey)), wantURL: "http://10.1.2.3:8000/metrics", container: "engine", backend: "unknown"},
		{name: "underscore backend label", pod: newPod("a", withoutLabel(backendKey), withLabel("alibabacloud.com/inference_backend", "sglang")), wantURL: "http://10.1.2.3:8000/metrics", container: "engine", backend: "sglang"},
		{name: "backend vllm-pd", pod: newPod("a", withLabel(backendKey, "vllm-pd")), wantURL: "http://10.1.2.3:8000/metrics", container: "engine", backend: "vllm-pd"},
		{name: "no port with that name", pod: newPod("a"), podPort: "metrics"},
		{name: "port by number", pod: newPod("a"), podPort: "8000", wantURL: "http://10.1.2.3:8000/metrics", container: "engine", backend: "vllm"},
		{name: "port name in second container", pod: newPod("a", ports(
			corev1.Container{Name: "proxy", Ports: []corev1.ContainerPort{{Name: "web", ContainerPort: 80}}},
			corev1.Container{Name: "sglang", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 30000}}},
		)), wantURL: "http://10.1.2.3:30000/metrics", container: "sglang", backend: "vllm"},
		{name: "UDP port of that name is skipped", pod: newPod("a", ports(
			corev1.Container{Name: "engine", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 53, Protocol: corev1.ProtocolUDP}}},
		))},
		{name: "IPv6 pod", pod: newPod("a", ip("fd00::5")), wantURL: "http://[fd00::5]:8000/metrics", container: "engine", backend: "vllm"},
		{name: "port names tried in order", pod: newPod("a", ports(
			corev1.Container{Name: "engine", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8000}, {Name: "metrics", ContainerPort: 9090}}},
		)), podPort: "metrics,http", wantURL: "http://10.1.2.3:9090/metrics", container: "engine", backend: "vllm"},
		{name: "second port name when the first is absent", pod: newPod("a"), podPort: "metrics, http", wantURL: "http://10.1.2.3:8000/metrics", container: "engine", backend: "vllm"},
		{name: "trtllm-serve's own path", pod: newPod("a", withLabel(backendKey, "trtllm")), wantURL: "http://10.1.2.3:8000/prometheus/metrics", container: "engine", backend: "trtllm"},
		{name: "annotations override port and path", pod: newPod("a", annotated("prometheus.io/port", "9400"), annotated("prometheus.io/path", "/stats/prom")),
			wantURL: "http://10.1.2.3:9400/stats/prom", container: "engine", backend: "vllm"},
		{name: "annotated port need not be declared", pod: newPod("a", withLabel(backendKey, "trtllm"), annotated("prometheus.io/port", "8001")),
			wantURL: "http://10.1.2.3:8001/prometheus/metrics", container: "engine", backend: "trtllm"},
		{name: "a bad port annotation makes a failing target", pod: newPod("a", annotated("prometheus.io/port", "http-ish")),
			wantURL: "http://10.1.2.3:8000/metrics", container: "engine", backend: "vllm", invalid: `annotation prometheus.io/port: "http-ish" is not a port number`},
		{name: "a bad path annotation makes a failing target", pod: newPod("a", annotated("prometheus.io/path", "metrics?x=1")),
			wantURL: "http://10.1.2.3:8000/metrics", container: "engine", backend: "vllm", invalid: `annotation prometheus.io/path: "metrics?x=1" is not an absolute URL path`},
		{name: "a bad annotation on a pod without the port still shows", pod: newPod("a", annotated("prometheus.io/port", "0")), podPort: "metrics",
			wantURL: "http://10.1.2.3:0/metrics", backend: "vllm", invalid: `annotation prometheus.io/port: "0" is not a port number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := createDefaultConfig()
			cfg.Kubernetes.NodeName = ourNode
			cfg.Namespaces = tt.namespaces
			if tt.podPort != "" {
				cfg.PodPort = tt.podPort
			}
			d := newPodDiscovery(cfg, nil, zap.NewNop(), nil, nil)
			got := d.targetFor(tt.pod)
			if tt.wantURL == "" {
				assert.Nil(t, got)
				return
			}
			require.NotNil(t, got)
			assert.Equal(t, tt.wantURL, got.url)
			assert.Equal(t, tt.invalid, got.invalid)
			assert.Equal(t, tt.container, got.Container)
			assert.Equal(t, tt.backend, got.Backend)
			assert.Equal(t, "pod/uid-a", got.key)
			assert.Equal(t, tt.pod.Labels[workloadKey], got.Workload)
			assert.Equal(t, scrapecontract.KindInference, got.Kind)
		})
	}
}

// localPod is a pod whose "IP" is 127.0.0.1 and whose http port is the test server's.
func localPod(t *testing.T, srv *metricsServer, name string, opts ...podOpt) *corev1.Pod {
	p := newPod(name, ip("127.0.0.1"))
	p.Spec.Containers[0].Ports[0].ContainerPort = srv.port(t)
	for _, o := range opts {
		o(p)
	}
	return p
}

func k8sConfig() *Config {
	cfg := testConfig()
	cfg.Kubernetes.Enabled = true
	cfg.Kubernetes.NodeName = ourNode
	return cfg
}

func hasTarget(r *llmReceiver, pod string) bool {
	for _, tg := range targetsOf(r) {
		if tg.Pod == pod {
			return true
		}
	}
	return false
}

func TestDiscoveryLifecycle(t *testing.T) {
	srv := newMetricsServer(t, nil)
	client := fake.NewClientset()
	r, sink := startReceiver(t, k8sConfig(), client)
	ctx := context.Background()
	pods := client.CoreV1().Pods("llm")

	// The fake API server ignores the node field selector: our own check must drop this pod.
	_, err := pods.Create(ctx, localPod(t, srv, "elsewhere", onNode("gpu-node-2")), metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = pods.Create(ctx, localPod(t, srv, "starting", phase(corev1.PodPending), ip("")), metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = pods.Create(ctx, localPod(t, srv, "unlabelled", withoutLabel(workloadKey)), metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = pods.Create(ctx, localPod(t, srv, "qwen-0"), metav1.CreateOptions{})
	require.NoError(t, err)

	// Events are handled in order, so once qwen-0 is a target the others have been judged.
	require.Eventually(t, func() bool { return hasTarget(r, "qwen-0") }, waitFor, tick)
	assert.Len(t, targetsOf(r), 1, "only qwen-0 is a target: %v", targetsOf(r))

	// qwen-0 is scraped and reported with its Kubernetes identity.
	require.Eventually(t, func() bool { v, _ := selfMetric(sink, "qwen-0", scrapecontract.MetricUp); return len(v) > 0 }, waitFor, tick)
	for _, v := range views(sink) {
		if resAttr(v.res, scrapecontract.AttrPodName) == "qwen-0" {
			assert.Equal(t, "llm", resAttr(v.res, scrapecontract.AttrNamespace))
			assert.Equal(t, "uid-qwen-0", resAttr(v.res, scrapecontract.AttrPodUID))
			assert.Equal(t, ourNode, resAttr(v.res, scrapecontract.AttrNodeName))
			assert.Equal(t, "engine", resAttr(v.res, scrapecontract.AttrContainerName))
			assert.Equal(t, "qwen-chat", resAttr(v.res, scrapecontract.AttrWorkload))
			assert.Equal(t, "vllm", resAttr(v.res, scrapecontract.AttrBackend))
			assert.Equal(t, scrapecontract.KindInference, resAttr(v.res, scrapecontract.AttrTargetKind))
			assert.Equal(t, "127.0.0.1", resAttr(v.res, scrapecontract.AttrServerAddress))
			break
		}
	}

	// The pending pod starts running: it becomes a target.
	p, err := pods.Get(ctx, "starting", metav1.GetOptions{})
	require.NoError(t, err)
	p.Status.Phase, p.Status.PodIP = corev1.PodRunning, "127.0.0.1"
	_, err = pods.UpdateStatus(ctx, p, metav1.UpdateOptions{})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return hasTarget(r, "starting") }, waitFor, tick)

	steps := []struct {
		name   string
		pod    string
		change func()
	}{
		{"label removed", "qwen-0", func() {
			p, err := pods.Get(ctx, "qwen-0", metav1.GetOptions{})
			require.NoError(t, err)
			delete(p.Labels, workloadKey)
			_, err = pods.Update(ctx, p, metav1.UpdateOptions{})
			require.NoError(t, err)
		}},
		{"pod failed", "starting", func() {
			p, err := pods.Get(ctx, "starting", metav1.GetOptions{})
			require.NoError(t, err)
			p.Status.Phase = corev1.PodFailed
			_, err = pods.UpdateStatus(ctx, p, metav1.UpdateOptions{})
			require.NoError(t, err)
		}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			require.Eventually(t, func() bool { return staleMarkers(sink, s.pod, "vllm:prompt_tokens_total") == 0 && hasTarget(r, s.pod) }, waitFor, tick)
			require.Eventually(t, func() bool { v, _ := selfMetric(sink, s.pod, scrapecontract.MetricUp); return len(v) > 0 }, waitFor, tick)
			s.change()
			// The target leaves the map before its stale markers are emitted: wait for both.
			require.Eventually(t, func() bool {
				return !hasTarget(r, s.pod) && staleMarkers(sink, s.pod, "vllm:prompt_tokens_total") > 0
			}, waitFor, tick)
			assert.Equal(t, 1, staleMarkers(sink, s.pod, "vllm:prompt_tokens_total"), "one stale marker per series")
			assert.Equal(t, 1, staleMarkers(sink, s.pod, "vllm:num_requests_running"))
			_, stale := selfMetric(sink, s.pod, scrapecontract.MetricUp)
			assert.Equal(t, 1, stale, "the target's up series goes stale too")
		})
	}

	t.Run("pod deleted", func(t *testing.T) {
		_, err := pods.Create(ctx, localPod(t, srv, "qwen-1"), metav1.CreateOptions{})
		require.NoError(t, err)
		require.Eventually(t, func() bool { v, _ := selfMetric(sink, "qwen-1", scrapecontract.MetricUp); return len(v) > 0 }, waitFor, tick)
		require.NoError(t, pods.Delete(ctx, "qwen-1", metav1.DeleteOptions{}))
		require.Eventually(t, func() bool {
			return !hasTarget(r, "qwen-1") && staleMarkers(sink, "qwen-1", "vllm:prompt_tokens_total") > 0
		}, waitFor, tick)
		assert.Equal(t, 1, staleMarkers(sink, "qwen-1", "vllm:prompt_tokens_total"))
	})

	t.Run("pod IP changes: scrape the new address", func(t *testing.T) {
		srv2 := newMetricsServer(t, nil)
		_, err := pods.Create(ctx, localPod(t, srv, "moving"), metav1.CreateOptions{})
		require.NoError(t, err)
		require.Eventually(t, func() bool { return srv.hits.Load() > 0 && hasTarget(r, "moving") }, waitFor, tick)
		p, err := pods.Get(ctx, "moving", metav1.GetOptions{})
		require.NoError(t, err)
		p.Spec.Containers[0].Ports[0].ContainerPort = srv2.port(t)
		_, err = pods.Update(ctx, p, metav1.UpdateOptions{})
		require.NoError(t, err)
		require.Eventually(t, func() bool { return srv2.hits.Load() > 0 }, waitFor, tick)
	})
}

func TestDiscoveryNamespaces(t *testing.T) {
	srv := newMetricsServer(t, nil)
	client := fake.NewClientset(
		localPod(t, srv, "in-a", inNamespace("team-a")),
		localPod(t, srv, "in-b", inNamespace("team-b")),
		localPod(t, srv, "in-c", inNamespace("team-c")),
	)
	cfg := k8sConfig()
	cfg.Namespaces = []string{"team-a", "team-c"}
	r, _ := startReceiver(t, cfg, client)
	require.Eventually(t, func() bool { return hasTarget(r, "in-a") && hasTarget(r, "in-c") }, waitFor, tick)
	assert.False(t, hasTarget(r, "in-b"))
	assert.Len(t, targetsOf(r), 2)
}

// TestDiscoveryWatchErrors breaks the watch (410 Gone, then a closed connection) while pods
// change: known targets must keep being scraped, and the re-list must pick up what changed.
func TestDiscoveryWatchErrors(t *testing.T) {
	srv := newMetricsServer(t, nil)
	client := fake.NewClientset(localPod(t, srv, "known"))
	var watches atomic.Int32
	broken := make(chan *watch.FakeWatcher, 2)
	client.PrependWatchReactor("pods", func(k8stesting.Action) (bool, watch.Interface, error) {
		// The first two watches are ours to break; later ones are the tracker's real watches.
		if n := watches.Add(1); n <= 2 {
			w := watch.NewFakeWithChanSize(1, false)
			broken <- w
			return true, w, nil
		}
		return false, nil, nil
	})
	r, sink := startReceiver(t, k8sConfig(), client)
	require.Eventually(t, func() bool { return hasTarget(r, "known") }, waitFor, tick)

	w1 := <-broken
	// While nobody watches: a new pod appears and is only visible to a re-list.
	require.NoError(t, client.Tracker().Add(localPod(t, srv, "added-while-down")))
	upBefore, _ := selfMetric(sink, "known", scrapecontract.MetricUp)
	w1.Error(&metav1.Status{Status: metav1.StatusFailure, Code: 410, Reason: metav1.StatusReasonExpired, Message: "too old resource version"})
	w1.Stop()
	require.Eventually(t, func() bool { return hasTarget(r, "added-while-down") }, waitFor, tick)

	w2 := <-broken
	require.NoError(t, client.Tracker().Delete(corev1.SchemeGroupVersion.WithResource("pods"), "llm", "known"))
	w2.Stop() // connection closed
	require.Eventually(t, func() bool {
		return !hasTarget(r, "known") && staleMarkers(sink, "known", "vllm:prompt_tokens_total") > 0
	}, waitFor, tick)

	upAfter, _ := selfMetric(sink, "known", scrapecontract.MetricUp)
	assert.Greater(t, len(upAfter), len(upBefore), "the known pod kept being scraped while the watch was broken")
	assert.Equal(t, 1, staleMarkers(sink, "known", "vllm:prompt_tokens_total"), "deletion seen by the re-list still marks stale")
	assert.True(t, hasTarget(r, "added-while-down"))
	assert.GreaterOrEqual(t, watches.Load(), int32(3), "the informer watched again after each break")
}

// TestDiscoveryAPIServerDownAtStart: the collector starts, scrapes static targets, and keeps
// retrying the API server in the background.
func TestDiscoveryAPIServerDownAtStart(t *testing.T) {
	srv := newMetricsServer(t, nil)
	client := fake.NewClientset()
	var fail atomic.Bool
	fail.Store(true)
	client.PrependReactor("list", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		if fail.Load() {
			return true, nil, assert.AnError
		}
		return false, nil, nil
	})
	cfg := k8sConfig()
	cfg.StaticTargets = []StaticTarget{{Endpoint: srv.URL + "/metrics", Workload: "static", Pod: "static-0"}}
	r, sink := startReceiver(t, cfg, client)
	require.Eventually(t, func() bool { v, _ := selfMetric(sink, "static-0", scrapecontract.MetricUp); return len(v) > 0 }, waitFor, tick)
	require.NoError(t, client.Tracker().Add(localPod(t, srv, "late")))
	fail.Store(false)
	require.Eventually(t, func() bool { return hasTarget(r, "late") }, 30*time.Second, tick)
}

// TestAnnotationsAndModelLabel: a pod's prometheus.io annotations pick the port and path that
// are scraped; a bad annotation gives a target that is down, with one warning naming it, and
// never stops the receiver; the model_label pod label becomes llm.model.name.
func TestAnnotationsAndModelLabel(t *testing.T) {
	var paths sync.Map
	srv := newMetricsServer(t, func(w http.ResponseWriter, r *http.Request) {
		paths.Store(r.URL.Path, true)
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_, _ = w.Write([]byte(exposition))
	})
	core, logs := observer.New(zapcore.InfoLevel)
	cfg := k8sConfig()
	cfg.ModelLabel = "example.com/model"
	cfg.PodPort = "nosuchport" // only the annotation can give the port
	client := fake.NewClientset()
	_, sink := startReceiverFull(t, cfg, client, zap.New(core))
	ctx := context.Background()
	pods := client.CoreV1().Pods("llm")
	port := strconv.Itoa(int(srv.port(t)))
	_, err := pods.Create(ctx, localPod(t, srv, "annotated", annotated("prometheus.io/port", port), annotated("prometheus.io/path", "/custom/metrics"),
		withLabel("example.com/model", "Llama-3.1-8B")), metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = pods.Create(ctx, localPod(t, srv, "broken", annotated("prometheus.io/port", "eighty")), metav1.CreateOptions{})
	require.NoError(t, err)

	require.Eventually(t, func() bool { _, ok := paths.Load("/custom/metrics"); return ok }, waitFor, tick, "the annotated path and port are scraped")
	// Several failing scrapes of the broken pod, each reported as down.
	require.Eventually(t, func() bool { v, _ := selfMetric(sink, "broken", scrapecontract.MetricUp); return len(v) >= 5 }, waitFor, tick)
	up, _ := selfMetric(sink, "broken", scrapecontract.MetricUp)
	for _, v := range up {
		assert.Zero(t, v, "the pod with a bad annotation is down")
	}
	failed := logs.FilterMessage("Scrape failed").All()
	require.Len(t, failed, 1, "one warning for the bad annotation, not one per scrape")
	assert.Contains(t, failed[0].ContextMap()["error"], `annotation prometheus.io/port: "eighty" is not a port number`)
	assert.Equal(t, "broken", failed[0].ContextMap()["pod"])

	models := map[string]string{}
	for _, v := range views(sink) {
		model, _ := v.res.Get(scrapecontract.AttrModel) // absent for the unlabelled pod
		models[resAttr(v.res, scrapecontract.AttrPodName)] = model.Str()
	}
	assert.Equal(t, map[string]string{"annotated": "Llama-3.1-8B", "broken": ""}, models, "llm.model.name from the pod label")
}

// TestRoleLabels: a pod's role comes from the first role label it has (RoleBasedGroup's two
// generations, llm-d, Dynamo's operator by default; role_labels changes the list), as found on
// the pod; a pod with none says nothing (the processor decides).
func TestRoleLabels(t *testing.T) {
	tests := []struct {
		name   string
		labels map[string]string
		keys   []string // role_labels; nil = the default
		want   string
	}{
		{name: "RoleBasedGroup v1alpha2", labels: map[string]string{"rbg.workloads.x-k8s.io/role-name": "prefill"}, want: "prefill"},
		{name: "RoleBasedGroup v1alpha1", labels: map[string]string{"rolebasedgroup.workloads.x-k8s.io/role": "decode"}, want: "decode"},
		{name: "llm-d", labels: map[string]string{"llm-d.ai/role": "both"}, want: "both"},
		{name: "Dynamo operator", labels: map[string]string{"nvidia.com/dynamo-sub-component-type": "prefill"}, want: "prefill"},
		{name: "no role label", labels: nil, want: ""},
		{name: "the first key in the list wins", labels: map[string]string{"rbg.workloads.x-k8s.io/role-name": "router", "llm-d.ai/role": "decode"}, want: "router"},
		{name: "an empty value says nothing", labels: map[string]string{"rbg.workloads.x-k8s.io/role-name": "", "llm-d.ai/role": "decode"}, want: "decode"},
		{name: "as found: the processor normalises", labels: map[string]string{"llm-d.ai/role": "Prefill"}, want: "Prefill"},
		{name: "role_labels replaces the defaults", labels: map[string]string{"llm-d.ai/role": "decode", "example.com/tier": "gateway"}, keys: []string{"example.com/tier"}, want: "gateway"},
		{name: "role_labels empty reads none", labels: map[string]string{"llm-d.ai/role": "decode"}, keys: []string{}, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := createDefaultConfig()
			cfg.Kubernetes.NodeName = ourNode
			if tt.keys != nil {
				cfg.RoleLabels = tt.keys
			}
			pod := newPod("a")
			for k, v := range tt.labels {
				pod.Labels[k] = v
			}
			got := newPodDiscovery(cfg, nil, zap.NewNop(), nil, nil).targetFor(pod)
			require.NotNil(t, got)
			assert.Equal(t, tt.want, got.Role)
		})
	}
}
