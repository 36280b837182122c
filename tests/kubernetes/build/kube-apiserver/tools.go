//go:build tools

// Package kubeapiserver pins the kube-apiserver build for the Kubernetes
// integration tests; nothing here is part of the product.
package kubeapiserver

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
