package kubernetes_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	shipped "github.com/otelcol-llminference/otelcol-llminference/tests/manifests"
)

// manifests decodes configs/kubernetes (tests/manifests.Load).
func manifests(t *testing.T) (files []string, objs []any) {
	ms, err := shipped.Load()
	require.NoError(t, err)
	for _, m := range ms {
		files = append(files, m.File)
		objs = append(objs, m.Object)
	}
	return files, objs
}

// applyManifests creates every manifest of configs/kubernetes on the API server (through B):
// the server validates and admits each one, as `kubectl apply -k configs/kubernetes` would
// have it do. The DaemonSet's pod template is also created as a Pod on a node, so that it
// passes pod validation and admission itself.
func (e *env) applyManifests(t *testing.T) {
	ctx := ctxT(t)
	files, objs := manifests(t)
	var ds *appsv1.DaemonSet
	for i, obj := range objs {
		if o, ok := obj.(*appsv1.DaemonSet); ok {
			ds = o
		}
		require.NoErrorf(t, e.create(ctx, obj, metav1.CreateOptions{FieldValidation: "Strict"}), "creating %s on the API server", files[i])
	}
	require.NotNil(t, ds, "configs/kubernetes has no DaemonSet")
	pod := &corev1.Pod{ObjectMeta: ds.Spec.Template.ObjectMeta, Spec: ds.Spec.Template.Spec}
	pod.Name, pod.Namespace = ds.Name+"-template-check", ds.Namespace
	pod.Spec.NodeName = otherNode
	_, err := e.admin.CoreV1().Pods(ds.Namespace).Create(ctx, pod, metav1.CreateOptions{FieldValidation: "Strict"})
	require.NoError(t, err, "the DaemonSet's pod template, created as a Pod")
	// The collector must not discover itself: its own pod has no inference label.
	_, hasLabel := pod.Labels[workloadLabel]
	require.False(t, hasLabel)
}

// create creates one object of the kinds our manifests and chart hold, through B.
func (e *env) create(ctx context.Context, obj any, opts metav1.CreateOptions) error {
	c := e.admin
	var err error
	switch o := obj.(type) {
	case *corev1.Namespace:
		_, err = c.CoreV1().Namespaces().Create(ctx, o, opts)
	case *corev1.ServiceAccount:
		_, err = c.CoreV1().ServiceAccounts(o.Namespace).Create(ctx, o, opts)
	case *rbacv1.ClusterRole:
		_, err = c.RbacV1().ClusterRoles().Create(ctx, o, opts)
	case *rbacv1.ClusterRoleBinding:
		_, err = c.RbacV1().ClusterRoleBindings().Create(ctx, o, opts)
	case *corev1.ConfigMap:
		_, err = c.CoreV1().ConfigMaps(o.Namespace).Create(ctx, o, opts)
	case *corev1.Secret:
		_, err = c.CoreV1().Secrets(o.Namespace).Create(ctx, o, opts)
	case *appsv1.DaemonSet:
		_, err = c.AppsV1().DaemonSets(o.Namespace).Create(ctx, o, opts)
	default:
		return fmt.Errorf("no creation path for %T; add one to this test", obj)
	}
	return err
}

// shippedRole is the ClusterRole of configs/kubernetes.
func shippedRole(t *testing.T) *rbacv1.ClusterRole {
	_, objs := manifests(t)
	for _, o := range objs {
		if r, ok := o.(*rbacv1.ClusterRole); ok {
			return r
		}
	}
	t.Fatal("configs/kubernetes has no ClusterRole")
	return nil
}
