#!/usr/bin/env bash
# `make demo`: a local Tugboat platform on embedded clusters (real kube-apiserver +
# etcd processes built by hack/test-binaries.sh), the database-as-a-service tutorial
# played on it, a GitOps act (a commit travelling from the platform's Git server to
# the workload cluster; then the platform's environments from Git and a staging
# cluster created on request, filled by its environment and deleted), a portal act
# (CloudEvents over JetStream and HTTP create and give back a team's database),
# and what the platform deployed. Safe to re-run: a running platform
# is reused and the tutorial's steps are idempotent.
set -euo pipefail
# shellcheck source=hack/demo-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/demo-common.sh"

start_platform "starting the local platform: management, services and workload clusters, the manager, Flux's source-controller, a Git server, a chart repository, a database stand-in"

export KUBECONFIG="$dir/mgmt.kubeconfig"
say "the cluster registry (kubectl get sveltoscluster -A --show-labels)"
kubectl get sveltoscluster -A --show-labels

say "the database-as-a-service tutorial"
"$tug" dev tutorial

say "the GitOps act: a commit travels from Git to the workload cluster; a staging cluster on request gets its environment (tug dev tutorial gitops)"
"$tug" dev tutorial gitops

say "the portal act: a CloudEvent over JetStream creates a team's database, one POSTed over HTTP gives it back (tug dev tutorial portal)"
"$tug" dev tutorial portal

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
  kubectl get gitrepositories -A; git clone $(cat "$dir/git.url")/gitops-demo.git
  the dashboard: $(cat "$dir/dashboard.url" 2>/dev/null) (token: $dir/dashboard.token)
  $tug dev tutorial portal --team red   # CloudEvents: NATS $(cat "$dir/nats.url" 2>/dev/null), HTTP $(cat "$dir/events.url" 2>/dev/null)
  $tug dev repo create NAME   # another repository on the platform's Git server
  $tug dev cluster create NAME --labels env=staging   # a cluster on request; env=development|staging|production
  $tug dev cluster list; $tug dev cluster delete NAME
Stop it with: make demo-down   (or: $tug dev down)
EOT
