package kubernetes_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"

	"github.com/otelcol-llminference/otelcol-llminference/tests/harness"
	shipped "github.com/otelcol-llminference/otelcol-llminference/tests/manifests"
)

const release = "otelcol-llminference"

// kubeVersion is the version of the API server the tests run (helm built from source assumes
// v1.20 when it is not told, below the chart's kubeVersion).
const kubeVersion = "1.36.3"

var chartDir = filepath.Join(shipped.Dir(), "..", "helm", "otelcol-llminference")

func helmBin(t *testing.T) string {
	harness.RequireE2E(t)
	bin := os.Getenv("HELM_BIN")
	if bin == "" {
		t.Skip("Helm test: run through `make test-kubernetes` (builds helm, sets HELM_BIN)")
	}
	return bin
}

// helm runs the helm binary; a failure returns its output as the error's text.
func helm(t *testing.T, args ...string) (string, error) {
	cmd := exec.Command(helmBin(t), args...)
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+t.TempDir(), "HELM_CONFIG_HOME="+t.TempDir(), "HELM_DATA_HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), &exec.ExitError{ProcessState: cmd.ProcessState, Stderr: out}
	}
	return string(out), nil
}

// rendered is the chart's objects, by kind.
type rendered struct {
	role      *rbacv1.ClusterRole
	binding   *rbacv1.ClusterRoleBinding
	sa        *corev1.ServiceAccount
	configMap *corev1.ConfigMap
	secret    *corev1.Secret
	ds        *appsv1.DaemonSet
	all       []any
}

// template renders the chart as `helm install <release> -n <ns>` would, with --set values.
func template(t *testing.T, ns string, set ...string) rendered {
	t.Helper()
	return templateRelease(t, release, ns, set...)
}

func templateRelease(t *testing.T, name, ns string, set ...string) rendered {
	t.Helper()
	args := []string{"template", name, chartDir, "--namespace", ns, "--kube-version", kubeVersion}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	out, err := helm(t, args...)
	require.NoError(t, err, out)
	dec := serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict).UniversalDeserializer()
	var r rendered
	for _, doc := range strings.Split(out, "\n---") {
		if strings.TrimSpace(strings.TrimPrefix(doc, "---")) == "" {
			continue
		}
		obj, _, err := dec.Decode([]byte(doc), nil, nil)
		require.NoError(t, err, "a rendered object decodes strictly:\n%s", doc)
		r.all = append(r.all, obj)
		switch o := obj.(type) {
		case *rbacv1.ClusterRole:
			r.role = o
		case *rbacv1.ClusterRoleBinding:
			r.binding = o
		case *corev1.ServiceAccount:
			r.sa = o
		case *corev1.ConfigMap:
			r.configMap = o
		case *corev1.Secret:
			r.secret = o
		case *appsv1.DaemonSet:
			r.ds = o
		default:
			t.Fatalf("unexpected %T in the chart", obj)
		}
	}
	require.NotNil(t, r.ds)
	require.NotNil(t, r.configMap)
	return r
}

func TestHelmLint(t *testing.T) {
	out, err := helm(t, "lint", "--strict", chartDir, "--set", "remoteWrite.url=https://prom.example/api/v1/write")
	require.NoError(t, err, out)
	assert.Contains(t, out, "1 chart(s) linted, 0 chart(s) failed")
}

// TestHelmMatchesKustomize: with default values, the chart installs what configs/kubernetes
// does: the same RBAC, the same pipeline configuration, the same pod and container security,
// tolerations, probes, ports, mounts and environment.
func TestHelmMatchesKustomize(t *testing.T) {
	r := template(t, "otelcol-llminference", "remoteWrite.url=https://prom.example/api/v1/write")
	_, objs := manifests(t)
	for _, obj := range objs {
		switch k := obj.(type) {
		case *rbacv1.ClusterRole:
			assert.Equal(t, k.Rules, r.role.Rules, "ClusterRole rules")
		case *rbacv1.ClusterRoleBinding:
			assert.Equal(t, k.RoleRef, r.binding.RoleRef)
			assert.Equal(t, k.Subjects, r.binding.Subjects)
		case *corev1.ConfigMap:
			// The same file; a YAML block scalar in a rendered chart loses its final newline.
			assert.Equal(t, strings.TrimSuffix(k.Data["collector.yaml"], "\n"), strings.TrimSuffix(r.configMap.Data["collector.yaml"], "\n"), "the pipeline configuration")
		case *corev1.Secret:
			var keys, chartKeys []string
			for key := range k.StringData {
				keys = append(keys, key)
			}
			for key := range r.secret.StringData {
				chartKeys = append(chartKeys, key)
			}
			assert.ElementsMatch(t, keys, chartKeys, "the Secret's keys")
		case *appsv1.DaemonSet:
			kp, hp := k.Spec.Template.Spec, r.ds.Spec.Template.Spec
			assert.Equal(t, kp.SecurityContext, hp.SecurityContext, "pod security context")
			assert.Equal(t, kp.Tolerations, hp.Tolerations)
			assert.Equal(t, kp.AutomountServiceAccountToken, hp.AutomountServiceAccountToken)
			assert.Equal(t, k.Spec.UpdateStrategy, r.ds.Spec.UpdateStrategy)
			require.Len(t, hp.Containers, 1)
			kc, hc := kp.Containers[0], hp.Containers[0]
			assert.Equal(t, kc.SecurityContext, hc.SecurityContext, "container security context")
			assert.Equal(t, kc.Args, hc.Args)
			assert.Equal(t, kc.Ports, hc.Ports)
			assert.Equal(t, kc.LivenessProbe, hc.LivenessProbe)
			assert.Equal(t, kc.ReadinessProbe, hc.ReadinessProbe)
			assert.Equal(t, kc.VolumeMounts, hc.VolumeMounts)
			assert.Equal(t, kc.Resources, hc.Resources)
			assert.Equal(t, kc.Image, hc.Image, "the default image")
			for _, ev := range kc.Env {
				assert.Contains(t, hc.Env, ev, "the chart sets %s as Kustomize does", ev.Name)
			}
			assert.Equal(t, kp.Volumes[1].EmptyDir, hp.Volumes[1].EmptyDir, "the queue volume")
		}
	}
}

// TestHelmValuesReachTheCollector: every integration setting and the remote-write URL given as
// values is what the collector resolves from the rendered ConfigMap and environment (the
// collector's own print-config), and the deployment values reach the DaemonSet.
func TestHelmValuesReachTheCollector(t *testing.T) {
	bin := harness.RequireE2E(t)
	r := template(t, "monitoring",
		"integration.namespaces={llm,llm-canary}", "integration.podPort=metrics", "integration.metricsPath=/stats",
		"integration.collectionInterval=30s", "integration.scrapeTimeout=20s", "integration.accessName=prod-cn",
		"remoteWrite.url=https://prom.example/api/v1/write", "remoteWrite.username=ak", "remoteWrite.password=sk",
		"image.repository=registry.example/otelcol-llminference", "image.tag=9.9.9",
		"queue.volume=hostPath", "queue.hostPath=/data/llminf", "resources.limits.memory=1Gi",
		"tolerations[0].key=dedicated", "tolerations[0].operator=Exists")

	// What the collector resolves from the rendered files, the DaemonSet's environment and the Secret.
	c := r.ds.Spec.Template.Spec.Containers[0]
	cfg := printConfig(t, bin, r)
	rcv, _ := dig(cfg, "receivers", "llminference").(map[string]any)
	assert.Equal(t, []any{"llm", "llm-canary"}, rcv["namespaces"])
	assert.Equal(t, "metrics", rcv["pod_port"])
	assert.Equal(t, "/stats", rcv["metrics_path"])
	assert.Equal(t, "30s", rcv["collection_interval"])
	assert.Equal(t, "20s", rcv["scrape_timeout"])
	assert.Equal(t, "prod-cn", rcv["access_name"])
	assert.Equal(t, "https://prom.example/api/v1/write", dig(cfg, "exporters", "llminference_remote_write", "endpoint"))

	assert.Equal(t, "registry.example/otelcol-llminference:9.9.9", c.Image)
	assert.Equal(t, "1Gi", c.Resources.Limits.Memory().String())
	assert.Equal(t, "dedicated", r.ds.Spec.Template.Spec.Tolerations[0].Key)
	queue := r.ds.Spec.Template.Spec.Volumes[1]
	require.NotNil(t, queue.HostPath, "queue.volume=hostPath")
	assert.Equal(t, "/data/llminf", queue.HostPath.Path)
	assert.Equal(t, "monitoring", r.ds.Namespace)
	assert.Equal(t, "monitoring", r.binding.Subjects[0].Namespace)

	// An existing Secret replaces the chart's own.
	r = template(t, "monitoring", "remoteWrite.existingSecret=my-remote-write")
	assert.Nil(t, r.secret)
	assert.Equal(t, "my-remote-write", r.ds.Spec.Template.Spec.Containers[0].EnvFrom[0].SecretRef.Name)
}

// TestHelmRefusesBadValues: values the chart cannot honour stop the install with a message
// naming the value.
func TestHelmRefusesBadValues(t *testing.T) {
	for _, tt := range []struct {
		set  []string
		want string
	}{
		{nil, "remoteWrite.url is required"},
		{[]string{"output=otlp"}, "otlp.endpoint is required with output otlp"},
		{[]string{"output=kafka", "remoteWrite.url=https://x/api/v1/write"}, `output must be remoteWrite or otlp, got "kafka"`},
		{[]string{"remoteWrite.url=https://x/api/v1/write", "queue.volume=nfs"}, `queue.volume must be emptyDir or hostPath, got "nfs"`},
	} {
		args := []string{"template", release, chartDir, "--kube-version", kubeVersion}
		for _, s := range tt.set {
			args = append(args, "--set", s)
		}
		out, err := helm(t, args...)
		require.Error(t, err, "helm template %v", tt.set)
		assert.Contains(t, out, tt.want)
	}
}

// dryRunChart: the API server accepts every object the chart renders (server-side dry run,
// strict field validation), as `helm install --dry-run=server` would check.
func (e *env) dryRunChart(t *testing.T) {
	helmBin(t)
	// Another release than the Kustomize objects already there, whose cluster-wide names it
	// would take.
	const ns = "llminf-helm"
	e.namespace(ns)
	r := templateRelease(t, ns, ns, "remoteWrite.url=https://prom.example/api/v1/write")
	for _, obj := range r.all {
		err := e.create(ctxT(t), obj, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}, FieldValidation: "Strict"})
		require.NoError(t, err, "%T", obj)
	}
	_, err := e.admin.AppsV1().DaemonSets(ns).Get(ctxT(t), r.ds.Name, metav1.GetOptions{})
	require.Error(t, err, "a dry run creates nothing")
}

// printConfig resolves the rendered chart's configuration files as the collector would in the
// DaemonSet (its literal environment, the Secret, a node), with the collector's own print-config.
func printConfig(t *testing.T, bin string, r rendered) map[string]any {
	t.Helper()
	c := r.ds.Spec.Template.Spec.Containers[0]
	env := []string{"K8S_NODE_NAME=node-1", "K8S_NODE_IP=10.1.2.3"}
	for _, ev := range c.Env {
		if ev.ValueFrom == nil {
			env = append(env, ev.Name+"="+ev.Value)
		}
	}
	for k, v := range r.secret.StringData {
		env = append(env, k+"="+v)
	}
	dir := t.TempDir()
	args := []string{"print-config", "--mode", "unredacted"}
	for _, a := range c.Args {
		file := strings.TrimPrefix(a, "--config=/etc/otelcol-llminference/")
		require.Contains(t, r.configMap.Data, file, "%s is in the ConfigMap", a)
		path := filepath.Join(dir, file)
		require.NoError(t, os.WriteFile(path, []byte(r.configMap.Data[file]), 0o600))
		args = append(args, "--config", path)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, stderr.String())
	var resolved map[string]any
	require.NoError(t, yaml.Unmarshal(out, &resolved), string(out))
	return resolved
}

func dig(m any, path ...string) any {
	for _, p := range path {
		mm, ok := m.(map[string]any)
		if !ok {
			return nil
		}
		m = mm[p]
	}
	return m
}

// TestHelmOutputOTLP: output: otlp ships configs/collector/otlp.yaml (schema: opentelemetry,
// otlp_http with its queue on file_storage) with the endpoint and credentials of the values, and
// podMetadata's keys become k8s.pod.label.<key> attributes.
func TestHelmOutputOTLP(t *testing.T) {
	bin := harness.RequireE2E(t)
	r := template(t, "monitoring", "output=otlp", "otlp.endpoint=https://otlp.example/api/v1/otlp", "otlp.username=u", "otlp.password=p",
		"podMetadata.labels={team,app.kubernetes.io/part-of}", "podMetadata.annotations={cost-center}")
	want, err := os.ReadFile(filepath.Join(shipped.Dir(), "..", "collector", "otlp.yaml"))
	require.NoError(t, err)
	assert.Equal(t, strings.TrimSuffix(string(want), "\n"), strings.TrimSuffix(r.configMap.Data["collector.yaml"], "\n"))
	assert.Equal(t, "https://otlp.example/api/v1/otlp", r.secret.StringData["OTLP_ENDPOINT"])
	assert.NotContains(t, r.secret.StringData, "REMOTE_WRITE_URL")

	cfg := printConfig(t, bin, r)
	assert.Equal(t, "https://otlp.example/api/v1/otlp", dig(cfg, "exporters", "otlp_http", "endpoint"))
	assert.Equal(t, "u", dig(cfg, "extensions", "basicauth/otlp", "client_auth", "username"))
	assert.Equal(t, "opentelemetry", dig(cfg, "processors", "llminference", "schema"))
	assert.Equal(t, "file_storage/queue", dig(cfg, "exporters", "otlp_http", "sending_queue", "storage"))
	assert.Equal(t, []any{"memory_limiter", "k8s_attributes", "llminference"}, dig(cfg, "service", "pipelines", "metrics", "processors"))
	assert.Equal(t, []any{
		map[string]any{"tag_name": "k8s.pod.label.team", "key": "team", "key_regex": "", "from": "pod"},
		map[string]any{"tag_name": "k8s.pod.label.app.kubernetes.io/part-of", "key": "app.kubernetes.io/part-of", "key_regex": "", "from": "pod"},
	}, dig(cfg, "processors", "k8s_attributes", "extract", "labels"))
	assert.Equal(t, []any{map[string]any{"tag_name": "k8s.pod.annotation.cost-center", "key": "cost-center", "key_regex": "", "from": "pod"}},
		dig(cfg, "processors", "k8s_attributes", "extract", "annotations"))
	assert.Nil(t, dig(cfg, "exporters", "llminference_remote_write"), "no remote-write exporter with output otlp")

	// An existing Secret replaces the chart's own.
	r = template(t, "monitoring", "output=otlp", "otlp.existingSecret=my-otlp")
	assert.Nil(t, r.secret)
	assert.Equal(t, "my-otlp", r.ds.Spec.Template.Spec.Containers[0].EnvFrom[0].SecretRef.Name)
}

// TestHelmPodMetadataMatchesKustomize: the chart's podMetadata and the Kustomize component
// configs/kubernetes/k8s-attributes (built by kustomize itself) give the same k8s_attributes
// overlay and arguments for the same keys, the remote-write labels included; with no keys the
// chart runs no k8s_attributes.
func TestHelmPodMetadataMatchesKustomize(t *testing.T) {
	bin := harness.RequireE2E(t)
	kustomize := os.Getenv("KUSTOMIZE_BIN")
	if kustomize == "" {
		t.Skip("run through `make test-kubernetes` (builds kustomize, sets KUSTOMIZE_BIN)")
	}
	r := template(t, "otelcol-llminference", "remoteWrite.url=https://prom.example/api/v1/write", "podMetadata.labels={team,cost-center}")

	dir := t.TempDir()
	base, err := filepath.Rel(dir, shipped.Dir())
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(fmt.Sprintf(
		"resources: [%s]\ncomponents: [%s]\n", base, filepath.Join(base, "k8s-attributes"))), 0o600))
	out, err := exec.Command(kustomize, "build", dir).CombinedOutput()
	require.NoError(t, err, string(out))
	var cm corev1.ConfigMap
	var ds appsv1.DaemonSet
	for _, doc := range strings.Split(string(out), "\n---\n") {
		var meta metav1.TypeMeta
		require.NoError(t, yaml.Unmarshal([]byte(doc), &meta))
		switch meta.Kind {
		case "ConfigMap":
			require.NoError(t, yaml.UnmarshalStrict([]byte(doc), &cm))
		case "DaemonSet":
			require.NoError(t, yaml.UnmarshalStrict([]byte(doc), &ds))
		}
	}
	parse := func(s string) any {
		var v any
		require.NoError(t, yaml.Unmarshal([]byte(s), &v))
		return v
	}
	require.Contains(t, cm.Data, "k8s-attributes.yaml")
	assert.Equal(t, parse(cm.Data["k8s-attributes.yaml"]), parse(r.configMap.Data["k8s-attributes.yaml"]), "the same overlay")
	assert.Equal(t, parse(cm.Data["collector.yaml"]), parse(r.configMap.Data["collector.yaml"]))
	assert.Equal(t, ds.Spec.Template.Spec.Containers[0].Args, r.ds.Spec.Template.Spec.Containers[0].Args)

	cfg := printConfig(t, bin, r)
	assert.Equal(t, []any{"namespace", "pod", "node", "workload_name", "backend", "inference_role", "team", "cost_center"},
		dig(cfg, "exporters", "llminference_remote_write", "resource_labels"))

	// No keys: no overlay, no k8s_attributes.
	r = template(t, "otelcol-llminference", "remoteWrite.url=https://prom.example/api/v1/write")
	assert.NotContains(t, r.configMap.Data, "k8s-attributes.yaml")
	assert.Equal(t, []string{"--config=/etc/otelcol-llminference/collector.yaml"}, r.ds.Spec.Template.Spec.Containers[0].Args)
	assert.Nil(t, dig(printConfig(t, bin, r), "processors", "k8s_attributes"))
}
