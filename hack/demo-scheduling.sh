#!/usr/bin/env bash
# `make demo-scheduling`: the multi-cluster scheduling tutorial (Kalypso's) from dev to stage on the local
# platform (`tug dev up`, started when it does not run): the control plane, the app team's repository and the
# platform GitOps repository on the platform's Git server, four clusters created on request (drone and large, for
# dev and for stage), the hello-world app registered, its dev assignments, dev compliant, the commit promoted to
# stage and the stage assignments. The clusters are left running to explore (--keep); re-running removes them
# first. Safe to re-run.
set -euo pipefail
# shellcheck source=hack/demo-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/demo-common.sh"

start_platform "starting the local platform (reused when it runs): management, services and workload clusters, the manager with the GitOps scheduler, Flux's source-controller, a Git server"

say "the multi-cluster scheduling tutorial, dev → stage (tug dev tutorial scheduling --keep)"
"$tug" dev tutorial scheduling --keep

export KUBECONFIG="$dir/mgmt.kubeconfig"
say "the environments (kubectl get environments -n scheduling-demo)"
kubectl get environments -n scheduling-demo

say "compliance per member cluster (tug schedule status -n scheduling-demo)"
"$tug" schedule status -n scheduling-demo

cat <<EOT

The clusters keep running. Explore them:
  export KUBECONFIG=$dir/mgmt.kubeconfig
  kubectl get environments,gitopsrepos -n scheduling-demo -o yaml
  kubectl get sveltoscluster -A --show-labels
  kubectl --kubeconfig $dir/drone-dev.kubeconfig get configmap -n dev-drone-hello-world-app-functional-test platform-config -o yaml
  git clone -b stage $(cat "$dir/git.url")/kalypso-gitops.git   # what the scheduler rendered for stage
  $tug dev tutorial scheduling   # again: removes these clusters first, plays the act, deletes them at the end
Stop everything with: make demo-down   (or: $tug dev down)
EOT
