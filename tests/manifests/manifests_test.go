// Package manifests checks configs/kubernetes: strict decoding, least privilege, hardening,
// and that the ConfigMap is the shipped pipeline and passes the collector's own validation.
package manifests

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/otelcol-llminference/otelcol-llminference/tests/harness"
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
