#!/usr/bin/env bash
# Installs what a fresh machine lacks for `make test` and `make demo`, by package
# name from Debian, then builds the test cluster binaries once per machine:
#   git                  (when missing)
#   chromium             (when missing: the dashboard's browser test)
#   prometheus           (when missing: the validateHealths metricSource test)
#   postgresql           hack/postgres.sh install
#   etcd-server, kube-apiserver, Flux's source-controller   hack/test-binaries.sh
# Idempotent and quick when everything is there.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if ! command -v git >/dev/null 2>&1; then
  echo "setup: installing git" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq git >&2
fi
if ! command -v chromium >/dev/null 2>&1; then
  echo "setup: installing chromium" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq chromium >&2
fi
if ! command -v prometheus >/dev/null 2>&1; then
  echo "setup: installing prometheus" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq prometheus >&2
fi
"$root/hack/postgres.sh" install
"$root/hack/test-binaries.sh" >/dev/null
