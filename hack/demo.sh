#!/usr/bin/env bash
# `make demo`: a local Tugboat platform on embedded clusters (real kube-apiserver +
# etcd processes built by hack/test-binaries.sh), the database-as-a-service tutorial
# played on it, and what the platform deployed. Safe to re-run: a running platform
# is reused and the tutorial's steps are idempotent.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tug="$root/bin/tug"
dir="${TUGBOAT_DEV_DIR:-$HOME/.tugboat/dev}"
export TUGBOAT_DEV_DIR="$dir"
cd "$root"

say() { printf '\n### %s\n' "$*"; }

say "starting the local platform: management, services and workload clusters, the manager, a chart repository, a database stand-in"
"$tug" dev up --bin-dir "${TUGBOAT_TESTBIN:-${KUBEBUILDER_ASSETS:-}}"

export KUBECONFIG="$dir/mgmt.kubeconfig"
say "the cluster registry (kubectl get sveltoscluster -A --show-labels)"
kubectl get sveltoscluster -A --show-labels

say "the database-as-a-service tutorial"
"$tug" dev tutorial

say "what the platform deployed where (tug show addons)"
"$tug" show addons

say "per-cluster status (kubectl get clustersummaries -A -owide)"
kubectl get clustersummaries -A -owide

cat <<EOT

The platform keeps running. Explore it:
  export KUBECONFIG=$dir/mgmt.kubeconfig
  kubectl get clusterprofiles,eventtriggers,eventreports -A
  $tug show resources
  $tug show usage
  kubectl --kubeconfig $dir/services.kubeconfig get clusters.postgresql.cnpg.io,secrets,services -A
  kubectl --kubeconfig $dir/workload.kubeconfig get jobs -n todo -o yaml
Stop it with: make demo-down   (or: $tug dev down)
EOT
