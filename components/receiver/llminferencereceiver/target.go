package llminferencereceiver

import (
	"net"
	"net/url"
	"strconv"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// Target kinds, the value of resource attribute llm.target.kind.
const (
	kindInference   = "inference"
	kindGPUExporter = "gpu_exporter"
)

// Resource attribute names set on every scrape's resource.
const (
	attrNamespace     = "k8s.namespace.name"
	attrPodName       = "k8s.pod.name"
	attrPodUID        = "k8s.pod.uid"
	attrNodeName      = "k8s.node.name"
	attrContainerName = "k8s.container.name"
	attrWorkload      = "llm.workload.name"
	attrBackend       = "llm.backend"
	attrAccessName    = "llm.access_name"
	attrTargetKind    = "llm.target.kind"
	attrServerAddress = "server.address"
	attrServerPort    = "server.port"
	attrServiceName   = "service.name"
	attrServiceInst   = "service.instance.id"
)

// backendUnknown is the backend of a target whose pod has no backend label.
const backendUnknown = "unknown"

// target is one endpoint to scrape and the identity it is reported under.
type target struct {
	// key identifies the target; a target whose key is unchanged is not restarted.
	key string
	url string

	kind      string
	namespace string
	pod       string
	podUID    string
	node      string
	container string
	workload  string
	backend   string
}

// same reports whether two targets scrape the same URL under the same identity.
func (t *target) same(o *target) bool { return *t == *o }

// resource fills the resource of this target's scrapes.
func (t *target) resource(res pcommon.Resource, accessName string) {
	attrs := res.Attributes()
	putIf := func(k, v string) {
		if v != "" {
			attrs.PutStr(k, v)
		}
	}
	attrs.PutStr(attrTargetKind, t.kind)
	putIf(attrNamespace, t.namespace)
	putIf(attrPodName, t.pod)
	putIf(attrPodUID, t.podUID)
	putIf(attrNodeName, t.node)
	putIf(attrContainerName, t.container)
	putIf(attrWorkload, t.workload)
	putIf(attrBackend, t.backend)
	putIf(attrAccessName, accessName)
	if u, err := url.Parse(t.url); err == nil {
		host, port := u.Hostname(), u.Port()
		if port == "" {
			port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
		}
		attrs.PutStr(attrServerAddress, host)
		if p, err := strconv.Atoi(port); err == nil {
			attrs.PutInt(attrServerPort, int64(p))
		}
		// job / instance after Prometheus remote write, as a Prometheus scrape would label them.
		attrs.PutStr(attrServiceName, "llminference")
		attrs.PutStr(attrServiceInst, net.JoinHostPort(host, port))
	}
}
