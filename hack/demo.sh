#!/usr/bin/env bash
# `make demo`: a local Tugboat platform on embedded clusters (real kube-apiserver +
# etcd processes built by hack/test-binaries.sh), the manager running, the clusters
# registered as in the database-as-a-service tutorial, and what the platform shows.
# Safe to re-run: a running platform is reused.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tug="$root/bin/tug"
dir="${TUGBOAT_DEV_DIR:-$HOME/.tugboat/dev}"
export TUGBOAT_DEV_DIR="$dir"

say() { printf '\n== %s\n' "$*"; }

say "starting the local platform (management, services and workload clusters + the manager)"
"$tug" dev up --bin-dir "${TUGBOAT_TESTBIN:-${KUBEBUILDER_ASSETS:-}}"

export KUBECONFIG="$dir/mgmt.kubeconfig"
say "the cluster registry (kubectl get sveltoscluster -A --show-labels)"
kubectl get sveltoscluster -A --show-labels

say "the tutorial's manifests are accepted unchanged by the management cluster (server-side dry run)"
for f in "$root"/../shared/fixtures/dbaas/*.yaml; do
  [ -f "$f" ] || continue
  kubectl apply --dry-run=server -f "$f"
done

cat <<EOT

The platform keeps running. Explore it:
  export KUBECONFIG=$dir/mgmt.kubeconfig
  kubectl get sveltoscluster -A --show-labels
  kubectl --kubeconfig $dir/services.kubeconfig get ns
  $tug register cluster --namespace=demo --cluster=extra --kubeconfig=$dir/workload.kubeconfig --labels=env=demo
Stop it with: make demo-down   (or: $tug dev down)
EOT
