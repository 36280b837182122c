// Package manifests checks configs/kubernetes: strict decoding, least privilege, hardening,
// and that the ConfigMap is the shipped pipeline and passes the collector's own validation.
package manifests

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/otelcol-llminference/otelcol-llminference/tests/harness"
	"github.com/otelcol-llminference/otelcol-llminference/tests/loadtest"
)

// decodeAll is Load by file name.
func decodeAll(t *testing.T) map[string]runtime.Object {
	ms, err := Load()
	require.NoError(t, err)
	out := map[string]runtime.Object{}
	for _, m := range ms {
		out[m.File] = m.Object
	}
	return out
}

func TestManifests(t *testing.T) {
	objs := decodeAll(t)

	t.Run("RBAC is exactly pods get/list/watch", func(t *testing.T) {
		role := objs["clusterrole.yaml"].(*rbacv1.ClusterRole)
		require.Len(t, role.Rules, 1)
		r := role.Rules[0]
		assert.Equal(t, []string{""}, r.APIGroups)
		assert.Equal(t, []string{"pods"}, r.Resources)
		assert.ElementsMatch(t, []string{"list", "watch"}, r.Verbs)
		assert.Empty(t, r.ResourceNames)
		assert.Empty(t, r.NonResourceURLs)
		binding := objs["clusterrolebinding.yaml"].(*rbacv1.ClusterRoleBinding)
		sa := objs["serviceaccount.yaml"].(*corev1.ServiceAccount)
		assert.Equal(t, role.Name, binding.RoleRef.Name)
		require.Len(t, binding.Subjects, 1)
		assert.Equal(t, sa.Name, binding.Subjects[0].Name)
		assert.Equal(t, sa.Namespace, binding.Subjects[0].Namespace)
	})

	t.Run("DaemonSet is hardened and wired", func(t *testing.T) {
		ds := objs["daemonset.yaml"].(*appsv1.DaemonSet)
		pod := ds.Spec.Template.Spec
		assert.Equal(t, objs["serviceaccount.yaml"].(*corev1.ServiceAccount).Name, pod.ServiceAccountName)
		require.Len(t, pod.Containers, 1)
		c := pod.Containers[0]
		sc := c.SecurityContext
		require.NotNil(t, sc)
		assert.True(t, *sc.ReadOnlyRootFilesystem, "read-only root filesystem")
		assert.False(t, *sc.AllowPrivilegeEscalation, "no privilege escalation")
		assert.True(t, *sc.RunAsNonRoot, "non-root")
		assert.False(t, *sc.Privileged)
		assert.Equal(t, []corev1.Capability{"ALL"}, sc.Capabilities.Drop)
		assert.NotZero(t, *pod.SecurityContext.RunAsUser, "a non-root UID")
		assert.NotNil(t, c.Resources.Requests.Cpu())
		assert.False(t, c.Resources.Limits.Memory().IsZero(), "memory limit")
		assert.False(t, c.Resources.Requests.Memory().IsZero(), "memory request")

		env := map[string]string{}
		for _, e := range c.Env {
			if e.ValueFrom != nil && e.ValueFrom.FieldRef != nil {
				env[e.Name] = e.ValueFrom.FieldRef.FieldPath
			}
		}
		assert.Equal(t, "spec.nodeName", env["K8S_NODE_NAME"])
		assert.Equal(t, "status.hostIP", env["K8S_NODE_IP"])
		// make bench runs ours with the DaemonSet's Go runtime settings: they must stay the same.
		for _, kv := range loadtest.DaemonSetEnv {
			k, v, _ := strings.Cut(kv, "=")
			i := slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == k })
			require.GreaterOrEqual(t, i, 0, "the DaemonSet sets %s, as make bench runs ours", k)
			got := c.Env[i].Value
			if ref := c.Env[i].ValueFrom; ref != nil && ref.ResourceFieldRef != nil {
				// As the kubelet resolves it: the container's resource over the divisor, rounded up.
				got = resourceFieldValue(t, c, ref.ResourceFieldRef)
			}
			assert.Equal(t, v, got, "%s: the DaemonSet and make bench (loadtest.DaemonSetEnv) differ", k)
		}
		secret := objs["secret.yaml"].(*corev1.Secret)
		require.Len(t, c.EnvFrom, 1)
		assert.Equal(t, secret.Name, c.EnvFrom[0].SecretRef.Name)
		for _, k := range []string{"REMOTE_WRITE_URL", "REMOTE_WRITE_USERNAME", "REMOTE_WRITE_PASSWORD"} {
			assert.Contains(t, secret.StringData, k)
		}

		for _, p := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe} {
			require.NotNil(t, p)
			assert.Equal(t, "health", p.HTTPGet.Port.String())
		}
		assert.True(t, slices.ContainsFunc(c.Ports, func(p corev1.ContainerPort) bool { return p.Name == "health" && p.ContainerPort == 13133 }),
			"the probes' port is the health_check extension's")
		assert.True(t, slices.ContainsFunc(pod.Tolerations, func(t corev1.Toleration) bool { return t.Key == "nvidia.com/gpu" }), "GPU-node toleration")

		mounts := map[string]string{}
		for _, m := range c.VolumeMounts {
			mounts[m.Name] = m.MountPath
		}
		var queueEnv string
		for _, e := range c.Env {
			if e.Name == "QUEUE_DIR" {
				queueEnv = e.Value
			}
		}
		assert.True(t, strings.HasPrefix(queueEnv, mounts["queue"]), "the queue directory is on the queue volume")
		cm := objs["configmap.yaml"].(*corev1.ConfigMap)
		for _, v := range pod.Volumes {
			if v.Name == "config" {
				assert.Equal(t, cm.Name, v.ConfigMap.Name)
			}
		}
		assert.Contains(t, c.Args, "--config="+mounts["config"]+"/collector.yaml")
	})

	t.Run("ConfigMap is configs/collector/daemonset.yaml", func(t *testing.T) {
		cm := objs["configmap.yaml"].(*corev1.ConfigMap)
		want, err := os.ReadFile("../../configs/collector/daemonset.yaml")
		require.NoError(t, err)
		assert.Equal(t, string(want), cm.Data["collector.yaml"], "run `make manifests`")
	})

	// The other files make manifests writes from configs/collector.
	t.Run("generated copies are current", func(t *testing.T) {
		for copyOf, path := range map[string]string{
			"daemonset.yaml": "../../configs/helm/otelcol-llminference/files/collector.yaml",
			"otlp.yaml":      "../../configs/helm/otelcol-llminference/files/otlp.yaml",
		} {
			want, err := os.ReadFile("../../configs/collector/" + copyOf)
			require.NoError(t, err)
			got, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, string(want), string(got), "%s: run `make manifests`", path)
		}
		want, err := os.ReadFile("../../configs/collector/k8s-attributes.yaml")
		require.NoError(t, err)
		b, err := os.ReadFile("../../configs/kubernetes/k8s-attributes/configmap.yaml")
		require.NoError(t, err)
		var patch corev1.ConfigMap
		require.NoError(t, yaml.UnmarshalStrict(b, &patch))
		assert.Equal(t, string(want), patch.Data["k8s-attributes.yaml"], "run `make manifests`")
	})
}

// validate runs the collector's own `validate` on config files with env; it returns the output
// and whether it passed.
func validate(t *testing.T, bin string, env []string, files ...string) (string, bool) {
	args := []string{"validate"}
	for _, f := range files {
		args = append(args, "--config", f)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err == nil
}

// TestShippedOverlaysPassValidate: configs/collector/otlp.yaml, and the k8s_attributes overlay on
// both outputs, pass the collector's own validate with the DaemonSet's environment, and otlp.yaml
// refuses a missing endpoint naming the key.
func TestShippedOverlaysPassValidate(t *testing.T) {
	bin := harness.RequireE2E(t)
	node := []string{"K8S_NODE_NAME=gpu-node-1", "K8S_NODE_IP=10.0.0.5", "QUEUE_DIR=" + t.TempDir()}
	otlp := append([]string{"OTLP_ENDPOINT=https://otlp.example.com:4318"}, node...)
	rw := append([]string{"REMOTE_WRITE_URL=https://prometheus.example.com/api/v1/write", "REMOTE_WRITE_USERNAME=ak", "REMOTE_WRITE_PASSWORD=sk"}, node...)
	dir := "../../configs/collector/"
	for _, tt := range []struct {
		env   []string
		files []string
	}{
		{otlp, []string{dir + "otlp.yaml"}},
		{rw, []string{dir + "daemonset.yaml", dir + "k8s-attributes.yaml"}},
	} {
		out, ok := validate(t, bin, tt.env, tt.files...)
		assert.True(t, ok, "%v: %s", tt.files, out)
	}
	out, ok := validate(t, bin, node, dir+"otlp.yaml")
	assert.False(t, ok)
	assert.Contains(t, out, "otlp_http")
	assert.Contains(t, out, "endpoint")
}

// TestConfigMapPassesValidate runs the collector's own `validate` on the ConfigMap's config,
// with the environment the DaemonSet gives it.
func TestConfigMapPassesValidate(t *testing.T) {
	bin := harness.RequireE2E(t)
	cm := decodeAll(t)["configmap.yaml"].(*corev1.ConfigMap)
	path := filepath.Join(t.TempDir(), "collector.yaml")
	require.NoError(t, os.WriteFile(path, []byte(cm.Data["collector.yaml"]), 0o600))
	cmd := exec.Command(bin, "validate", "--config", path)
	cmd.Env = append(os.Environ(), "K8S_NODE_NAME=gpu-node-1", "K8S_NODE_IP=10.0.0.5",
		"REMOTE_WRITE_URL=https://prometheus.example.com/api/v1/write", "REMOTE_WRITE_USERNAME=ak", "REMOTE_WRITE_PASSWORD=sk",
		"QUEUE_DIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "validate: %s", out)

	// And it refuses a broken one, naming the key.
	cmd = exec.Command(bin, "validate", "--config", path)
	cmd.Env = append(os.Environ(), "K8S_NODE_NAME=gpu-node-1", "K8S_NODE_IP=10.0.0.5", "REMOTE_WRITE_URL=prometheus:9090")
	out, err = cmd.CombinedOutput()
	require.Error(t, err)
	assert.Contains(t, string(out), "llminference_remote_write: endpoint")
}

// resourceFieldValue is what the kubelet gives an environment variable taken from the
// container's resources: the quantity over the divisor (default 1), rounded up.
func resourceFieldValue(t *testing.T, c corev1.Container, ref *corev1.ResourceFieldSelector) string {
	t.Helper()
	var q resource.Quantity
	switch ref.Resource {
	case "limits.cpu":
		q = *c.Resources.Limits.Cpu()
	case "requests.cpu":
		q = *c.Resources.Requests.Cpu()
	default:
		t.Fatalf("resource %q: not one the bench's settings come from", ref.Resource)
	}
	require.False(t, q.IsZero(), "%s is set: without it the kubelet gives the node's allocatable", ref.Resource)
	div := ref.Divisor
	if div.IsZero() {
		div = resource.MustParse("1")
	}
	return strconv.FormatInt((q.MilliValue()+div.MilliValue()-1)/div.MilliValue(), 10)
}
