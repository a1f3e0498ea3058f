#!/usr/bin/env bash
# Builds (once per machine) the binaries that the test clusters run:
#   kube-apiserver     from the k8s.io/kubernetes Go module, in the tools module hack/kube
#   etcd               from Debian's etcd-server package
#   source-controller  Flux's, from its Go module in the tools module hack/flux, with the
#                      Flux source CRDs that module ships (in flux-crds/)
#   capi-crds/         Cluster API's Cluster CRD, from the sigs.k8s.io/cluster-api module
#                      (the version of its API module in go.mod), for tests that play Cluster API
# and puts them side by side in $TUGBOAT_CACHE/testbin/<kube-version>/ (default
# ~/.cache/tugboat, outside the work tree so that every clone on this machine shares
# one build), which is what KUBEBUILDER_ASSETS / the test harness point at.
# Prints that folder.
#
# Re-running is cheap: a cached binary of the right version is kept.
set -euo pipefail

KUBE_VERSION="${KUBE_VERSION:-v1.36.3}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${TUGBOAT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tugboat}"
out="${TESTBIN_DIR:-$cache/testbin/$KUBE_VERSION}"
mkdir -p "$out"

log() { printf 'test-binaries: %s\n' "$*" >&2; }

# --- etcd --------------------------------------------------------------------
if [ ! -x "$out/etcd" ]; then
  if ! command -v etcd >/dev/null 2>&1 && [ ! -x /usr/bin/etcd ]; then
    log "installing etcd-server from Debian"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    # policy-rc.d keeps the package from starting its own etcd service.
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    apt-get install -y -qq etcd-server >&2
    rm -f /usr/sbin/policy-rc.d
    systemctl disable --now etcd >/dev/null 2>&1 || true
  fi
  ln -sf "$(command -v etcd || echo /usr/bin/etcd)" "$out/etcd"
fi

# --- kube-apiserver ----------------------------------------------------------
if [ ! -x "$out/kube-apiserver" ]; then
  log "building kube-apiserver $KUBE_VERSION from the k8s.io/kubernetes module (a few minutes, once per machine)"
  minor="${KUBE_VERSION#v1.}"; minor="${minor%%.*}"
  (
    cd "$root/hack/kube"
    export GONOSUMDB=k8s.io GOFLAGS=-mod=mod
    go build -trimpath -o "$out/kube-apiserver.tmp" \
      -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean" \
      k8s.io/kubernetes/cmd/kube-apiserver
  )
  mv "$out/kube-apiserver.tmp" "$out/kube-apiserver"
fi

# --- Flux source-controller ---------------------------------------------------
if [ ! -x "$out/source-controller" ] || [ ! -d "$out/flux-crds" ]; then
  log "building Flux's source-controller from its Go module (a few minutes, once per machine)"
  (
    cd "$root/hack/flux"
    export GONOSUMDB=k8s.io GOFLAGS=-mod=mod
    go build -trimpath -ldflags "-s -w" -o "$out/source-controller.tmp" github.com/fluxcd/source-controller
    moddir="$(go list -m -f '{{.Dir}}' github.com/fluxcd/source-controller)"
    rm -rf "$out/flux-crds.tmp" && mkdir -p "$out/flux-crds.tmp"
    cp "$moddir"/config/crd/bases/*.yaml "$out/flux-crds.tmp/"
    chmod 644 "$out/flux-crds.tmp/"*.yaml
  )
  rm -rf "$out/flux-crds" && mv "$out/flux-crds.tmp" "$out/flux-crds"
  mv "$out/source-controller.tmp" "$out/source-controller"
fi

# --- Cluster API's Cluster CRD ---------------------------------------------------
if [ ! -d "$out/capi-crds" ]; then
  capi_version="$(cd "$root" && GOFLAGS=-mod=mod go list -m -f '{{.Version}}' sigs.k8s.io/cluster-api/api)"
  log "fetching Cluster API's CRDs from the sigs.k8s.io/cluster-api module $capi_version"
  moddir="$(cd "$root" && GOFLAGS=-mod=mod go mod download -json "sigs.k8s.io/cluster-api@$capi_version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  rm -rf "$out/capi-crds.tmp" && mkdir -p "$out/capi-crds.tmp"
  cp "$moddir/core/config/crd/bases/cluster.x-k8s.io_clusters.yaml" "$out/capi-crds.tmp/"
  chmod 644 "$out/capi-crds.tmp/"*.yaml
  mv "$out/capi-crds.tmp" "$out/capi-crds"
fi

echo "$out"
