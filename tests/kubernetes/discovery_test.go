package kubernetes_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otelcol-llminference/otelcol-llminference/tests/harness"
	shipped "github.com/otelcol-llminference/otelcol-llminference/tests/manifests"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// TestDiscoveryAgainstRealAPIServer runs the collector with Kubernetes discovery against a
// real kube-apiserver and etcd, authenticated as the ServiceAccount of configs/kubernetes,
// bound to the ClusterRole shipped there. Simulated engines listen on the pods' 127/8 IPs.
// The subtests run in order on one cluster; each uses its own namespaces.
func TestDiscoveryAgainstRealAPIServer(t *testing.T) {
	e := newEnv(t)
	t.Run("manifests are accepted by the API server", e.applyManifests)
	t.Run("the Helm chart's objects are accepted by the API server (server-side dry run)", e.dryRunChart)
	if t.Failed() {
		return
	}
	for _, ns := range []string{"llm-a", "llm-b", "llm-other", "llm-num", "llm-ann", "llm-churn", "llm-part", "llm-roles", "llm-team"} {
		e.namespace(ns)
	}
	token := e.serviceAccountToken("otelcol-llminference", "otelcol-llminference")
	col := e.startCollector(collectorOpts{token: token, namespaces: []string{"llm-a", "llm-b"}})

	var control *enginePod
	t.Run("targets", func(t *testing.T) {
		never := []*enginePod{
			e.createPod(podOpts{ns: "llm-a", name: "on-other-node", node: otherNode, labels: labelled("qwen", "vllm")}),
			e.createPod(podOpts{ns: "llm-other", name: "outside-namespaces", labels: labelled("qwen", "vllm")}),
			e.createPod(podOpts{ns: "llm-a", name: "unlabelled", labels: map[string]string{backendLabel: "vllm"}}),
			e.createPod(podOpts{ns: "llm-a", name: "pending", labels: labelled("qwen", "vllm"), pending: true}),
		}
		running := time.Now()
		control = e.createPod(podOpts{ns: "llm-a", name: "qwen-0", labels: labelled("qwen", "vllm")})
		// The engine is the second container; the first one's port is not named http.
		multi := e.createPod(podOpts{ns: "llm-b", name: "qwen-multi", labels: labelled("qwen", "vllm-pd"), containers: []corev1.Container{
			{Name: "proxy", Image: "envoyproxy/envoy:v1.31", Ports: []corev1.ContainerPort{{Name: "metrics", ContainerPort: e.port + 1}}},
			{Name: "engine", Image: "vllm/vllm-openai:v0.11.0", Ports: []corev1.ContainerPort{{Name: "grpc", ContainerPort: e.port + 2}, {Name: "http", ContainerPort: e.port}}},
		}})
		// The first scrape comes within one interval of the pod running: the watch
		// delivered it, nothing waited for a re-list.
		waitScraped(t, control, 1, interval+time.Second)
		require.Eventually(t, func() bool { return e.sink.Label(control.name).Samples > 0 }, 5*time.Second, 10*time.Millisecond)
		t.Logf("pod Running -> first scrape %s, first sample at the backend %s (collection_interval %s)",
			control.firstScrapeAfter(running).Round(time.Millisecond), e.sink.Label(control.name).FirstSeen.Sub(running).Round(time.Millisecond), interval)
		waitScraped(t, multi, 1, interval+time.Second)
		waitScraped(t, control, 3, 4*interval)
		for _, p := range never {
			assert.Zerof(t, p.served(), "%s/%s was scraped", p.ns, p.name)
			assert.Zerof(t, e.sink.Label(p.name).Samples, "%s/%s has samples at the backend", p.ns, p.name)
		}
	})
	if t.Failed() {
		return
	}

	t.Run("label removal, deletion and Failed stop scraping with stale markers", func(t *testing.T) {
		unlabel := e.createPod(podOpts{ns: "llm-a", name: "qwen-unlabel", labels: labelled("qwen", "vllm")})
		deleted := e.createPod(podOpts{ns: "llm-a", name: "qwen-delete", labels: labelled("qwen", "vllm")})
		failed := e.createPod(podOpts{ns: "llm-b", name: "qwen-failed", labels: labelled("qwen", "sglang")})
		for _, p := range []*enginePod{unlabel, deleted, failed} {
			waitScraped(t, p, 2, 3*interval+time.Second)
		}
		e.removeLabel(unlabel, workloadLabel)
		e.deletePod(deleted)
		e.patchStatus(failed, corev1.PodFailed, "")
		for _, p := range []*enginePod{unlabel, deleted, failed} {
			e.waitStopped(t, p, control)
		}
	})

	t.Run("port by number", func(t *testing.T) {
		byNumber := e.startCollector(collectorOpts{token: token, namespaces: []string{"llm-num"}, podPort: fmt.Sprint(e.port)})
		defer byNumber.Stop()
		// Declared without a name, in the second container.
		p := e.createPod(podOpts{ns: "llm-num", name: "qwen-num", labels: labelled("qwen", "vllm"), containers: []corev1.Container{
			{Name: "init-model", Image: "busybox:1.36"},
			{Name: "engine", Image: "vllm/vllm-openai:v0.11.0", Ports: []corev1.ContainerPort{{ContainerPort: e.port}}},
		}})
		waitScraped(t, p, 2, 3*interval+time.Second)
		// The main collector scrapes port name http only and does not watch llm-num.
		require.Zero(t, strings.Count(col.Output(), "qwen-num"))
	})

	t.Run("prometheus.io annotations override port and path; a bad one shows the pod down", func(t *testing.T) {
		ann := e.startCollector(collectorOpts{token: token, namespaces: []string{"llm-ann"}})
		defer ann.Stop()
		// Its only port is named "metrics", not the collector's "http": the annotation finds it.
		unnamed := []corev1.Container{{Name: "engine", Image: "vllm/vllm-openai:v0.11.0", Ports: []corev1.ContainerPort{{Name: "metrics", ContainerPort: e.port}}}}
		byPort := e.createPod(podOpts{ns: "llm-ann", name: "qwen-ann-port", labels: labelled("qwen", "vllm"), containers: unnamed,
			annotations: map[string]string{"prometheus.io/port": fmt.Sprint(e.port), "prometheus.io/path": "/metrics"}})
		waitScraped(t, byPort, 2, 3*interval+time.Second)
		// The engine serves /metrics only: scraping the annotated path fails with its 404.
		byPath := e.createPod(podOpts{ns: "llm-ann", name: "qwen-ann-path", labels: labelled("qwen", "vllm"),
			annotations: map[string]string{"prometheus.io/path": "/v2/metrics"}})
		bad := e.createPod(podOpts{ns: "llm-ann", name: "qwen-ann-bad", labels: labelled("qwen", "vllm"),
			annotations: map[string]string{"prometheus.io/port": "eight-thousand"}})
		require.Eventually(t, func() bool {
			return strings.Contains(ann.Output(), "HTTP status 404") && strings.Contains(ann.Output(), `annotation prometheus.io/port: \"eight-thousand\" is not a port number`)
		}, 3*interval+5*time.Second, 50*time.Millisecond, "both failures reported:\n%s", ann.Output())
		waitScraped(t, byPort, 2, 3*interval+time.Second) // several intervals later, still running
		assert.Zero(t, byPath.served(), "the annotated path, not /metrics, is scraped")
		assert.Zero(t, bad.served(), "a bad port annotation is never guessed around")
		assert.Equal(t, 1, strings.Count(ann.Output(), "eight-thousand"), "one warning for the bad annotation")
	})

	t.Run("less than the shipped ClusterRole fails", func(t *testing.T) {
		shipped := shippedRole(t)
		for _, rule := range shipped.Rules {
			for _, verb := range rule.Verbs {
				t.Run("without "+verb, func(t *testing.T) {
					var rules []rbacv1.PolicyRule
					for _, r := range shipped.Rules {
						r = *r.DeepCopy()
						r.Verbs = slices.DeleteFunc(r.Verbs, func(v string) bool { return v == verb })
						if len(r.Verbs) > 0 {
							rules = append(rules, r)
						}
					}
					name := "reduced-without-" + verb
					ns := "llm-rbac-" + verb
					e.namespace(ns)
					token := e.boundRole(name, rules)
					p := e.createPod(podOpts{ns: ns, name: "qwen-rbac-" + verb, labels: labelled("qwen", "vllm")})
					// The informer as it works against every API server: a LIST, then a WATCH.
					// (client-go turns off the streaming watch-list itself when a server lacks it.)
					classic := e.startCollector(collectorOpts{token: token, namespaces: []string{ns}, env: []string{"KUBE_FEATURE_WatchListClient=false"}})
					defer classic.Stop()
					want := fmt.Sprintf(`cannot %s resource \"pods\"`, verb)
					require.Eventuallyf(t, func() bool { return strings.Count(classic.Output(), want) >= 2 }, 30*time.Second, 50*time.Millisecond,
						"the collector never reported %q", want)
					if verb == "list" {
						assert.Zero(t, p.served(), "scraped although pods cannot be listed")
						// Against this API server (1.36), the informer's streaming watch-list
						// needs no list permission; older servers need it, so the role keeps it.
						streaming := e.startCollector(collectorOpts{token: token, namespaces: []string{ns}})
						defer streaming.Stop()
						waitScraped(t, p, 1, 2*interval+time.Second)
						assert.NotContains(t, streaming.Output(), want)
					}
				})
			}
		}
	})

	t.Run("API server restart", func(t *testing.T) {
		stays := e.createPod(podOpts{ns: "llm-b", name: "qwen-stays", labels: labelled("qwen", "vllm")})
		goes := e.createPod(podOpts{ns: "llm-b", name: "qwen-goes", labels: labelled("qwen", "vllm")})
		waitScraped(t, stays, 2, 3*interval+time.Second)
		waitScraped(t, goes, 1, 3*interval+time.Second)
		// The resource version the collector's watches have reached before the outage.
		seen, err := e.admin.CoreV1().Pods("llm-b").List(ctxT(t), metav1.ListOptions{})
		require.NoError(t, err)

		down := time.Now()
		e.a.Stop()
		// Known pods keep being scraped while the collector's API server is away...
		waitScraped(t, stays, 3, 5*interval)
		// ...and the cluster changes meanwhile, through the other API server.
		e.deletePod(goes)
		arrives := e.createPod(podOpts{ns: "llm-b", name: "qwen-arrives", labels: labelled("qwen", "vllm")})
		relabelled := e.createPod(podOpts{ns: "llm-a", name: "qwen-relabelled", labels: map[string]string{}})
		_, err = e.admin.CoreV1().Pods("llm-a").Patch(ctxT(t), relabelled.name, types.MergePatchType,
			[]byte(fmt.Sprintf(`{"metadata":{"labels":{%q:"qwen"}}}`, workloadLabel)), metav1.PatchOptions{})
		require.NoError(t, err)
		waitScraped(t, stays, 2, 5*interval)
		require.Zero(t, arrives.served(), "scraped before the API server returned")

		require.NoError(t, e.a.Start())
		back := time.Now()
		// A watch resumed from before the outage is answered 410 Gone by the returned server:
		// the collector's watches, which resume from there, must re-list to go on.
		w, err := e.a.Admin(t).CoreV1().Pods("llm-b").Watch(ctxT(t), metav1.ListOptions{ResourceVersion: seen.ResourceVersion})
		require.NoError(t, err)
		ev := <-w.ResultChan()
		w.Stop()
		status, isStatus := ev.Object.(*metav1.Status)
		require.Truef(t, ev.Type == "ERROR" && isStatus && status.Code == 410, "a watch from resourceVersion %s got %s %v, not 410 Gone", seen.ResourceVersion, ev.Type, ev.Object)
		t.Logf("a watch resumed from resourceVersion %s after the restart: %d %s", seen.ResourceVersion, status.Code, status.Message)
		t.Logf("API server A was down %s; the collector kept scraping known pods (%s served %d scrapes meanwhile)",
			back.Sub(down).Round(time.Millisecond), stays.name, stays.served())
		// client-go's reflector retried the refused watch with its jittered back-off
		// (0.8 s doubling to 30 s, up to twice that with jitter), which spares a returning
		// API server the whole fleet at once; the change arrives at the next retry. Each
		// namespace's informer backs off on its own, so each gets the full bound.
		waitScraped(t, arrives, 1, 75*time.Second)
		waitScraped(t, relabelled, 1, 75*time.Second)
		t.Logf("after A was ready again: new pod first scraped in %s, relabelled pod in %s",
			arrives.firstScrapeAfter(back).Round(time.Millisecond), relabelled.firstScrapeAfter(back).Round(time.Millisecond))
		e.waitStopped(t, goes, stays)
	})

	t.Run("roles from pod labels", func(t *testing.T) {
		// A collector of its own for the namespace; each pod states its role with one of the
		// default role label keys, or says nothing.
		rcol := e.startCollector(collectorOpts{token: token, namespaces: []string{"llm-roles"}})
		defer rcol.Stop()
		with := func(k, v string) map[string]string {
			l := labelled("qwen", "vllm-pd")
			if k != "" {
				l[k] = v
			}
			return l
		}
		want := map[string]string{}
		for _, p := range []struct{ name, key, value, role string }{
			{"role-rbg-v1alpha2", "rbg.workloads.x-k8s.io/role-name", "prefill", "prefill"},
			{"role-rbg-v1alpha1", "rolebasedgroup.workloads.x-k8s.io/role", "decode", "decode"},
			{"role-llm-d", "llm-d.ai/role", "Decode", "decode"},
			{"role-dynamo", "nvidia.com/dynamo-sub-component-type", "prefill", "prefill"},
			{"role-router", "rbg.workloads.x-k8s.io/role-name", "router", "router"},
			{"role-none", "", "", "both"},
		} {
			e.createPod(podOpts{ns: "llm-roles", name: p.name, labels: with(p.key, p.value)})
			want[p.name] = p.role
		}
		got := map[string]string{}
		require.Eventually(t, func() bool {
			for pod := range want {
				got[pod] = e.sink.Label(pod).UpLabels["inference_role"]
			}
			return assert.ObjectsAreEqual(want, got)
		}, 6*interval+5*time.Second, 100*time.Millisecond, "inference_role at the backend: %v", got)
	})

	t.Run("pod labels through k8s_attributes (configs/collector/k8s-attributes.yaml)", func(t *testing.T) {
		// The shipped overlay as it is, run with the shipped ClusterRole's token; only the
		// authentication is the test's (a kubeconfig instead of the in-cluster service account).
		auth := filepath.Join(t.TempDir(), "auth.yaml")
		require.NoError(t, os.WriteFile(auth, []byte("processors:\n  k8s_attributes: {auth_type: kubeConfig}\n"), 0o600))
		overlays := []string{filepath.Join(shipped.Dir(), "..", "collector", "k8s-attributes.yaml"), auth}
		ours, theirs := harness.FreePort(t), harness.FreePort(t)
		kcol := e.startCollector(collectorOpts{token: token, namespaces: []string{"llm-team"}, overlays: overlays, telemetryPort: ours})
		defer kcol.Stop()
		// A collector on another node, with the same overlay: its k8s_attributes must not even
		// learn of this node's pods (the API server filters by node).
		ocol := e.startCollector(collectorOpts{token: token, namespaces: []string{"llm-team"}, overlays: overlays, telemetryPort: theirs, node: "gpu-node-c"})
		defer ocol.Stop()

		l := labelled("search", "vllm")
		l["team"], l["cost-center"], l["secret-project"] = "search-infra", "cc-42", "apollo"
		labelledPod := e.createPod(podOpts{ns: "llm-team", name: "team-labelled", labels: l})
		e.createPod(podOpts{ns: "llm-team", name: "team-unlabelled", labels: labelled("search", "vllm")})
		e.createPod(podOpts{ns: "llm-team", name: "on-node-c", node: "gpu-node-c", labels: map[string]string{"team": "other"}})

		var got, bare map[string]string
		require.Eventually(t, func() bool {
			got, bare = e.sink.Label("team-labelled").UpLabels, e.sink.Label("team-unlabelled").UpLabels
			return got["team"] == "search-infra" && bare["pod"] == "team-unlabelled"
		}, 6*interval+10*time.Second, 100*time.Millisecond, "the listed pod labels reach the backend: %v", got)
		assert.Equal(t, "cc-42", got["cost_center"], "cost-center, as tag_name cost_center")
		for k := range got {
			assert.NotContains(t, k, "secret", "an unlisted pod label stays out")
		}
		assert.NotContains(t, bare, "team", "a pod without the label gets none")

		// k8s_attributes' own count of pods it learnt of: ours saw this node's pods, the other
		// collector exactly the one pod of its node.
		require.Eventually(t, func() bool {
			return harness.CollectorMetric(theirs, "otelcol_k8s_watcher_pod_added", "") == 1
		}, 30*time.Second, 200*time.Millisecond, "the other node's collector learnt of its one pod: %v (ours %v)",
			harness.CollectorMetric(theirs, "otelcol_k8s_watcher_pod_added", ""), harness.CollectorMetric(ours, "otelcol_k8s_watcher_pod_added", ""))
		assert.GreaterOrEqual(t, harness.CollectorMetric(ours, "otelcol_k8s_watcher_pod_added", ""), 2.0)
		waitScraped(t, labelledPod, 2, 3*interval+5*time.Second) // events of this node had time to reach it
		assert.Equal(t, 1.0, harness.CollectorMetric(theirs, "otelcol_k8s_watcher_pod_added", ""), "and never this node's")
	})

	t.Run("network partition from the API server", func(t *testing.T) {
		// A collector of its own, reaching A through a proxy that can cut the network.
		part := newPartition(t, e.a.URL)
		pcol := e.startCollector(collectorOpts{token: token, namespaces: []string{"llm-part"}, server: part.URL()})
		defer pcol.Stop()
		stays := e.createPod(podOpts{ns: "llm-part", name: "part-stays", labels: labelled("qwen", "vllm")})
		goes := e.createPod(podOpts{ns: "llm-part", name: "part-goes", labels: labelled("qwen", "vllm")})
		waitScraped(t, stays, 2, 3*interval+5*time.Second)
		waitScraped(t, goes, 1, 3*interval+time.Second)

		part.Cut()
		cut := time.Now()
		// Known pods keep being scraped while the API server cannot be reached...
		waitScraped(t, stays, 5, 7*interval)
		// ...and the cluster changes meanwhile.
		e.deletePod(goes)
		arrives := e.createPod(podOpts{ns: "llm-part", name: "part-arrives", labels: labelled("qwen", "vllm")})
		waitScraped(t, stays, 2, 3*interval+time.Second)
		require.Zero(t, arrives.served(), "scraped during the partition")

		part.Heal()
		healed := time.Now()
		// The connection open at the cut stays silent: client-go's HTTP/2 health check (a
		// ping after 30 s without a frame, 15 s to answer) drops it, and the informers
		// reconnect and resume their watches.
		waitScraped(t, arrives, 1, 90*time.Second)
		found := time.Now()
		t.Logf("partition of %s: known pods scraped throughout (%s: %d scrapes); after healing, a pod created during it first scraped within %s (%s after the cut)",
			healed.Sub(cut).Round(time.Millisecond), stays.name, stays.served(),
			found.Sub(healed).Round(100*time.Millisecond), found.Sub(cut).Round(100*time.Millisecond))
		e.waitStopped(t, goes, stays)
		require.False(t, pcol.Exited(), "the collector survived the partition")
	})

	t.Run("API load of 50 churning pods", func(t *testing.T) {
		col.Stop() // A's request counters from now on are the churn collector's alone
		ctx := context.Background()
		before, err := e.a.RequestCounts(ctx, "pods")
		require.NoError(t, err)
		churner := e.startCollector(collectorOpts{token: token, namespaces: []string{"llm-churn"}})
		start := time.Now()
		const pods, spread, life = 50, 110 * time.Second, 8 * time.Second
		var wg sync.WaitGroup
		var mu sync.Mutex
		var firsts []time.Duration
		var churned []*enginePod
		for i := 0; i < pods; i++ {
			time.Sleep(time.Until(start.Add(time.Duration(i) * spread / pods)))
			running := time.Now()
			p := e.createPod(podOpts{ns: "llm-churn", name: fmt.Sprintf("churn-%02d", i), labels: labelled("qwen", "vllm")})
			mu.Lock()
			churned = append(churned, p)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				deadline := running.Add(life)
				for p.served() == 0 && time.Now().Before(deadline) {
					time.Sleep(10 * time.Millisecond)
				}
				time.Sleep(time.Until(deadline))
				mu.Lock()
				firsts = append(firsts, p.firstScrapeAfter(running))
				mu.Unlock()
				e.deletePod(p)
			}()
		}
		wg.Wait()
		for _, p := range churned {
			require.Eventuallyf(t, func() bool { return e.sink.Label(p.name).StaleMarkers > 0 }, 3*interval+5*time.Second, 50*time.Millisecond,
				"%s: no stale markers after deletion", p.name)
			assert.Positivef(t, p.served(), "%s was never scraped in its %s of life", p.name, life)
		}
		elapsed := time.Since(start)
		churner.Stop()
		// A watch is counted when it ends; wait for the server to see the collector's go.
		var after map[string]float64
		require.Eventually(t, func() bool {
			after, err = e.a.RequestCounts(ctx, "pods")
			return err == nil && after["WATCH"] > before["WATCH"]
		}, 10*time.Second, 100*time.Millisecond)
		delta := map[string]float64{}
		total := 0.0
		for verb, v := range after {
			if d := v - before[verb]; d > 0 {
				delta[verb] = d
				total += d
			}
		}
		sort.Slice(firsts, func(i, j int) bool { return firsts[i] < firsts[j] })
		t.Logf("%d pods churned over %s: API requests for pods by the collector %v = %.0f (%.1f per minute); pod Running -> first scrape: median %s, max %s",
			pods, elapsed.Round(time.Second), delta, total, total/elapsed.Minutes(),
			firsts[len(firsts)/2].Round(time.Millisecond), firsts[len(firsts)-1].Round(time.Millisecond))
		// One informer: one initial list (or a streaming watch-list) and one watch, no polling.
		assert.LessOrEqual(t, delta["LIST"], 1.0, "LIST requests")
		assert.LessOrEqual(t, delta["WATCH"], 2.0, "WATCH requests")
		assert.Zero(t, delta["GET"], "GET requests")
		assert.LessOrEqual(t, total, 3.0, "pod requests in all")
	})
}
