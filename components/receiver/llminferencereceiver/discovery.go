package llminferencereceiver

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/otelcol-llminference/otelcol-llminference/components/internal/scrapecontract"
)

// podDiscovery watches labelled pods and turns them into targets. The API server does the
// filtering (label selector, spec.nodeName field selector, one watch per configured namespace);
// every event is checked again locally, because a fake or misbehaving server may not filter.
type podDiscovery struct {
	cfg    *Config
	client kubernetes.Interface
	logger *zap.Logger
	upsert func(*target)
	remove func(key string)

	factories []informers.SharedInformerFactory
	stopCh    chan struct{}
}

func newPodDiscovery(cfg *Config, client kubernetes.Interface, logger *zap.Logger, upsert func(*target), remove func(string)) *podDiscovery {
	return &podDiscovery{cfg: cfg, client: client, logger: logger, upsert: upsert, remove: remove, stopCh: make(chan struct{})}
}

func (d *podDiscovery) start() {
	namespaces := d.cfg.Namespaces
	if len(namespaces) == 0 {
		namespaces = []string{metav1.NamespaceAll}
	}
	tweak := func(o *metav1.ListOptions) {
		o.LabelSelector = d.cfg.WorkloadLabel // "key" = the label exists
		if d.cfg.Kubernetes.NodeName != "" {
			o.FieldSelector = fields.OneTermEqualSelector("spec.nodeName", d.cfg.Kubernetes.NodeName).String()
		}
	}
	for _, ns := range namespaces {
		// No resync: the informer re-lists by itself after a watch breaks (including 410 Gone).
		f := informers.NewSharedInformerFactoryWithOptions(d.client, 0, informers.WithNamespace(ns), informers.WithTweakListOptions(tweak))
		inf := f.Core().V1().Pods().Informer()
		if err := inf.SetTransform(slimPod); err != nil {
			d.logger.Warn("Pod informer transform not set", zap.Error(err))
		}
		if err := inf.SetWatchErrorHandler(func(_ *cache.Reflector, err error) {
			d.logger.Warn("Pod watch failed; known targets keep being scraped while it re-lists", zap.String("namespace", ns), zap.Error(err))
		}); err != nil {
			d.logger.Warn("Pod watch error handler not set", zap.Error(err))
		}
		_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    d.onPod,
			UpdateFunc: func(_, obj any) { d.onPod(obj) },
			DeleteFunc: d.onDelete,
		})
		f.Start(d.stopCh)
		d.factories = append(d.factories, f)
	}
}

func (d *podDiscovery) stop() {
	close(d.stopCh)
	for _, f := range d.factories {
		f.Shutdown()
	}
}

func podKey(uid string) string { return "pod/" + uid }

func (d *podDiscovery) onPod(obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	if t := d.targetFor(pod); t != nil {
		d.upsert(t)
	} else {
		d.remove(podKey(string(pod.UID)))
	}
}

func (d *podDiscovery) onDelete(obj any) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	if pod, ok := obj.(*corev1.Pod); ok {
		d.remove(podKey(string(pod.UID)))
	}
}

// targetFor returns the target a pod stands for, or nil when it is not (or no longer) one.
func (d *podDiscovery) targetFor(pod *corev1.Pod) *target {
	cfg := d.cfg
	if node := cfg.Kubernetes.NodeName; node != "" && pod.Spec.NodeName != node {
		return nil
	}
	if len(cfg.Namespaces) > 0 && !slices.Contains(cfg.Namespaces, pod.Namespace) {
		return nil
	}
	workload, ok := pod.Labels[cfg.WorkloadLabel]
	if !ok || pod.Status.Phase != corev1.PodRunning || pod.Status.PodIP == "" {
		return nil
	}
	backend := backendOf(pod.Labels, cfg.BackendLabel)
	ports, path, invalid := scrapeSettings(cfg, pod, backend)
	container, port, ok := findPort(pod, ports)
	if !ok && invalid == "" {
		return nil
	}
	u := url.URL{Scheme: "http", Host: net.JoinHostPort(pod.Status.PodIP, strconv.Itoa(int(port))), Path: path}
	model := ""
	if cfg.ModelLabel != "" {
		model = pod.Labels[cfg.ModelLabel]
	}
	role := ""
	for _, k := range cfg.RoleLabels {
		if v := pod.Labels[k]; v != "" {
			role = v
			break
		}
	}
	return &target{
		key:     podKey(string(pod.UID)),
		url:     u.String(),
		invalid: invalid,
		Target: scrapecontract.Target{
			Kind:      scrapecontract.KindInference,
			Namespace: pod.Namespace,
			Pod:       pod.Name,
			PodUID:    string(pod.UID),
			Node:      pod.Spec.NodeName,
			Container: container,
			Workload:  workload,
			Backend:   backend,
			Model:     model,
			Role:      role,
		},
	}
}

// Pod annotations that override the port and path of one pod, as Prometheus users write them.
const (
	annotationPort = "prometheus.io/port"
	annotationPath = "prometheus.io/path"
)

// scrapeSettings returns the ports to try, in order, and the path of a pod: its annotations
// (when prometheus_annotations), else its backend's path (backend_metrics_paths) and pod_port,
// else metrics_path. An annotation that is not a port or a path is reported in invalid: the
// pod is then a target whose scrapes fail with that reason, rather than silently skipped.
func scrapeSettings(cfg *Config, pod *corev1.Pod, backend string) (ports []string, path, invalid string) {
	ports = strings.Split(cfg.PodPort, ",")
	path = cfg.MetricsPath
	if p, ok := cfg.BackendMetricsPaths[backend]; ok {
		path = p
	}
	if !cfg.PrometheusAnnotations {
		return ports, path, ""
	}
	var problems []string
	if a, ok := pod.Annotations[annotationPort]; ok {
		if n, err := strconv.Atoi(strings.TrimSpace(a)); err != nil || n < 1 || n > 65535 {
			problems = append(problems, fmt.Sprintf("annotation %s: %q is not a port number", annotationPort, a))
		} else {
			ports = []string{strconv.Itoa(n)}
		}
	}
	if a, ok := pod.Annotations[annotationPath]; ok {
		if u, err := url.Parse(a); err != nil || !strings.HasPrefix(a, "/") || u.Path != a {
			problems = append(problems, fmt.Sprintf("annotation %s: %q is not an absolute URL path", annotationPath, a))
		} else {
			path = a
		}
	}
	return ports, path, strings.Join(problems, "; ")
}

// backendOf reads the backend label, accepting the underscore spelling
// (alibabacloud.com/inference_backend) that public examples use, and "unknown" when absent.
func backendOf(lbls map[string]string, key string) string {
	if v := lbls[key]; v != "" {
		return v
	}
	prefix, name, found := strings.Cut(key, "/")
	if !found {
		name, prefix = prefix, ""
	}
	for _, alt := range []string{strings.ReplaceAll(name, "-", "_"), strings.ReplaceAll(name, "_", "-")} {
		if alt == name {
			continue
		}
		if found {
			alt = prefix + "/" + alt
		}
		if v := lbls[alt]; v != "" {
			return v
		}
	}
	return scrapecontract.BackendUnknown
}

// findPort finds the first of ports (names or numbers) the pod has, each looked up in
// container order.
func findPort(pod *corev1.Pod, ports []string) (string, int32, bool) {
	for _, p := range ports {
		if c, n, ok := findOnePort(pod, strings.TrimSpace(p)); ok {
			return c, n, true
		}
	}
	return "", 0, false
}

// findOnePort finds the container port named (or numbered) podPort, in container order.
func findOnePort(pod *corev1.Pod, podPort string) (string, int32, bool) {
	num, err := strconv.Atoi(podPort)
	byNumber := err == nil
	for _, c := range pod.Spec.Containers {
		for _, p := range c.Ports {
			if p.Protocol != "" && p.Protocol != corev1.ProtocolTCP {
				continue
			}
			if (byNumber && int(p.ContainerPort) == num) || (!byNumber && p.Name == podPort) {
				return c.Name, p.ContainerPort, true
			}
		}
	}
	if byNumber && len(pod.Spec.Containers) > 0 {
		// A number need not be declared: Prometheus scrapes undeclared ports too.
		return pod.Spec.Containers[0].Name, int32(num), true
	}
	return "", 0, false
}

// slimPod keeps only what discovery reads, so the informer cache of a busy node stays small.
func slimPod(obj any) (any, error) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil
	}
	containers := make([]corev1.Container, len(pod.Spec.Containers))
	for i, c := range pod.Spec.Containers {
		containers[i] = corev1.Container{Name: c.Name, Ports: c.Ports}
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: pod.Name, Namespace: pod.Namespace, UID: pod.UID, Labels: pod.Labels,
			Annotations:     scrapeAnnotations(pod.Annotations),
			ResourceVersion: pod.ResourceVersion, DeletionTimestamp: pod.DeletionTimestamp,
		},
		Spec:   corev1.PodSpec{NodeName: pod.Spec.NodeName, Containers: containers},
		Status: corev1.PodStatus{Phase: pod.Status.Phase, PodIP: pod.Status.PodIP},
	}, nil
}

// scrapeAnnotations keeps the annotations discovery reads (pods carry many, some large).
func scrapeAnnotations(a map[string]string) map[string]string {
	var out map[string]string
	for _, k := range []string{annotationPort, annotationPath} {
		if v, ok := a[k]; ok {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = v
		}
	}
	return out
}

// newKubeClient builds a client for the configured authentication.
func newKubeClient(auth AuthType) (kubernetes.Interface, error) {
	var rc *rest.Config
	var err error
	switch auth {
	case AuthTypeServiceAccount:
		rc, err = rest.InClusterConfig()
	case AuthTypeKubeConfig:
		rules := clientcmd.NewDefaultClientConfigLoadingRules()
		rc, err = clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
	case AuthTypeNone:
		host, port := os.Getenv("KUBERNETES_SERVICE_HOST"), os.Getenv("KUBERNETES_SERVICE_PORT")
		if host == "" || port == "" {
			return nil, fmt.Errorf("kubernetes.auth_type none: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set")
		}
		rc = &rest.Config{Host: "https://" + net.JoinHostPort(host, port), TLSClientConfig: rest.TLSClientConfig{Insecure: true}}
	default:
		return nil, fmt.Errorf("kubernetes.auth_type: unknown %q", auth)
	}
	if err != nil {
		return nil, fmt.Errorf("kubernetes.auth_type %s: %w", auth, err)
	}
	rc.UserAgent = "otelcol-llminference"
	return kubernetes.NewForConfig(rc)
}
