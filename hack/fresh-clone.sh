#!/usr/bin/env bash
# The two-command promise, checked: clone this repository (its committed HEAD)
# into an empty folder with nothing beside it, then run there
#   make demo       — must print the tutorial's Todo table line, deliver the
#                     GitOps act's second commit, and show the staging cluster
#                     created on request receive its environment and leave
#                     nothing behind
#   make demo-down
#   make test       — must pass
# The machine's caches are reused (kube-apiserver in ~/.cache/tugboat, Go's module
# and build caches); nothing else outside the clone is read. The local platform's
# state goes to a folder inside the work folder.
#
#   hack/fresh-clone.sh [--keep] [--skip-test]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
keep="" skip_test=""
for a in "$@"; do
  case "$a" in
    --keep) keep=1 ;;
    --skip-test) skip_test=1 ;;
    *) echo "usage: $0 [--keep] [--skip-test]" >&2; exit 2 ;;
  esac
done

work="$(mktemp -d /tmp/tugboat-fresh-clone-XXXXXX)"
chmod 755 "$work" # the database stand-in's PostgreSQL runs as the postgres user
clone="$work/empty/tugboat"
mkdir -p "$work/empty"
export TUGBOAT_DEV_DIR="$work/dev"
cleanup() {
  [ ! -x "$clone/bin/tug" ] || "$clone/bin/tug" dev down >/dev/null 2>&1 || true
  if [ -z "$keep" ]; then rm -rf "$work"; else echo "fresh-clone: kept $work" >&2; fi
}
trap cleanup EXIT

say() { printf '\n=== fresh-clone: %s\n' "$*" >&2; }

say "git clone $(git -C "$root" rev-parse --short HEAD) into $work/empty (nothing beside it)"
git clone -q "$root" "$clone"
[ "$(ls -A "$work/empty")" = tugboat ] || { echo "fresh-clone: the clone's folder is not alone" >&2; exit 1; }
cd "$clone"
unset KUBEBUILDER_ASSETS

say "make demo"
make demo 2>&1 | tee "$work/demo.log"
grep -q 'Todo table created' "$work/demo.log" || { echo "fresh-clone: make demo did not print the Todo table line" >&2; exit 1; }
grep -q 'hello again from git' "$work/demo.log" || { echo "fresh-clone: make demo's GitOps act did not deliver the second commit" >&2; exit 1; }
grep -q 'ok: ConfigMap platform-system/platform-baseline environment=staging' "$work/demo.log" || { echo "fresh-clone: make demo's staging cluster did not receive its environment's chart" >&2; exit 1; }
grep -q 'ok: nothing of staging/staging left in the registry' "$work/demo.log" || { echo "fresh-clone: make demo's staging cluster left something in the registry" >&2; exit 1; }
say "make demo-down"
make demo-down

if [ -z "$skip_test" ]; then
  say "make test"
  make test
fi
say "passed: make demo${skip_test:+ (make test skipped)}${skip_test:- and make test} on a fresh clone"
