#!/usr/bin/env bash
# Builds kube-apiserver and etcd from the Go module proxy into $1 (default
# .cache/k8s/bin) for the Kubernetes integration tests. A binary that exists
# with the expected version in its name is not rebuilt; the Go build cache
# makes a rebuild after `make clean` a matter of seconds.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/../../../.cache/k8s/bin}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
K8S_VERSION=v1.36.3
ETCD_VERSION=v3.6.16
export GOFLAGS=-mod=mod

if [[ ! -x "$out/kube-apiserver-$K8S_VERSION" ]]; then
	echo "building kube-apiserver $K8S_VERSION (about 3-4 min cold)"
	(cd "$here/kube-apiserver" && go build -trimpath -ldflags "-s -w \
		-X k8s.io/component-base/version.gitVersion=$K8S_VERSION \
		-X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=36" \
		-o "$out/kube-apiserver-$K8S_VERSION.tmp" k8s.io/kubernetes/cmd/kube-apiserver)
	mv "$out/kube-apiserver-$K8S_VERSION.tmp" "$out/kube-apiserver-$K8S_VERSION"
fi
if [[ ! -x "$out/etcd-$ETCD_VERSION" ]]; then
	echo "building etcd $ETCD_VERSION (about 30 s cold)"
	(cd "$here/etcd" && go build -trimpath -ldflags "-s -w" -o "$out/etcd-$ETCD_VERSION.tmp" go.etcd.io/etcd/server/v3)
	mv "$out/etcd-$ETCD_VERSION.tmp" "$out/etcd-$ETCD_VERSION"
fi
ln -sf "kube-apiserver-$K8S_VERSION" "$out/kube-apiserver"
ln -sf "etcd-$ETCD_VERSION" "$out/etcd"
echo "kube-apiserver and etcd in $out"
