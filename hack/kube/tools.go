//go:build tools

// Package tools pins the kube-apiserver main package for this tools module.
package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
