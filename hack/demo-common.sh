# Sourced by hack/demo.sh and hack/demo-scheduling.sh: where the repository, tug and
# the local platform's folder are, say (a step's heading), and start_platform.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tug="$root/bin/tug"
dir="${TUGBOAT_DEV_DIR:-$HOME/.tugboat/dev}"
export TUGBOAT_DEV_DIR="$dir"
cd "$root"

say() { printf '\n### %s\n' "$*"; }

# start_platform WHAT: starts the local platform (reused when it runs), WHAT
# saying what it holds.
start_platform() {
	say "$1"
	"$tug" dev up --bin-dir "${TUGBOAT_TESTBIN:-${KUBEBUILDER_ASSETS:-}}"
}
