//go:build tools

// Package etcd pins the etcd build for the Kubernetes integration tests.
package etcd

import _ "go.etcd.io/etcd/server/v3"
