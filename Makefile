# Tugboat — see README.md. The two commands: `make demo` and `make test`.
SHELL := /usr/bin/env bash -o pipefail
export GONOSUMDB := k8s.io
export GOFLAGS := -mod=mod

CACHE        ?= $(CURDIR)/.cache
BIN          ?= $(CURDIR)/bin
TOOLS        := $(CACHE)/tools
KUBE_VERSION ?= v1.36.3
CONTROLLER_GEN_VERSION ?= v0.23.0
CONTROLLER_GEN := $(TOOLS)/controller-gen-$(CONTROLLER_GEN_VERSION)
GO_TEST_FLAGS ?= -timeout 30m

.PHONY: all build generate chart-crds chart-rbac setup test test-unit lint demo demo-scheduling demo-down testbin clean bench bench-large chaos

all: build

build:
	go build -o $(BIN)/ ./cmd/...

$(CONTROLLER_GEN):
	@mkdir -p $(TOOLS)
	GOBIN=$(TOOLS) go install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_GEN_VERSION)
	mv $(TOOLS)/controller-gen $@

## generate: deepcopy methods and CRDs from the API types, the manager's ClusterRole from the RBAC markers
generate: $(CONTROLLER_GEN)
	$(CONTROLLER_GEN) object paths=./api/...
	$(CONTROLLER_GEN) crd paths=./api/... output:crd:dir=config/crd/bases
	$(CONTROLLER_GEN) rbac:roleName=tugboat-manager paths=./internal/... output:rbac:dir=config/rbac
	gofmt -w api
	$(MAKE) chart-crds chart-rbac

## chart-crds: copy the CRDs into the Helm chart (charts/tugboat/crds)
chart-crds:
	rm -f charts/tugboat/crds/*.yaml
	cp config/crd/bases/*.yaml charts/tugboat/crds/

## chart-rbac: copy the generated ClusterRole/Role into the Helm chart (charts/tugboat/files)
chart-rbac:
	cp config/rbac/role.yaml charts/tugboat/files/role.yaml

## setup: install what this machine lacks (Debian packages) and build the test cluster binaries
setup:
	@KUBE_VERSION=$(KUBE_VERSION) hack/setup.sh

## testbin: kube-apiserver (built from k8s.io/kubernetes) and etcd for the test clusters
testbin:
	@KUBE_VERSION=$(KUBE_VERSION) hack/test-binaries.sh >/dev/null

## test: everything, against real API servers (installs and builds what is missing first)
test: setup lint
	KUBEBUILDER_ASSETS=$$(KUBE_VERSION=$(KUBE_VERSION) hack/test-binaries.sh) \
	  go test $(GO_TEST_FLAGS) ./...

## test-unit: the unit tier, in seconds: no API server, database or git repository (-short; internal/testenv)
test-unit:
	go test -short ./...

## lint: go vet, gofmt, and no tracked file refers to a path outside the repository (hack/checkpaths)
lint:
	go vet ./...
	go run ./hack/checkpaths .
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

## demo: a local platform on embedded clusters (see README.md)
demo: setup build
	TUGBOAT_TESTBIN=$$(KUBE_VERSION=$(KUBE_VERSION) hack/test-binaries.sh) hack/demo.sh

## demo-scheduling: the multi-cluster scheduling tutorial (dev → stage) on the local platform (see README.md)
demo-scheduling: setup build
	TUGBOAT_TESTBIN=$$(KUBE_VERSION=$(KUBE_VERSION) hack/test-binaries.sh) hack/demo-scheduling.sh

demo-down: build
	$(BIN)/tug dev down

clean:
	rm -rf $(BIN)

## bench: Go benchmarks of the hot pure functions, then the fleet harness (4 API servers × 50 registrations = 200
## clusters, manager in-process); rewrites bench/RESULTS.md but its section 9 (make bench-large's; ~20 minutes; not part of make test)
BENCH_FLAGS ?=
bench: testbin
	@mkdir -p bench/out
	go test -run '^$$' -bench . -benchmem ./bench/ | tee bench/out/gobench.txt
	KUBEBUILDER_ASSETS=$$(KUBE_VERSION=$(KUBE_VERSION) hack/test-binaries.sh) \
	  go run ./bench/fleet -out bench/RESULTS.md -gobench bench/out/gobench.txt -cpuprofile bench/out/cpu-fanout.pprof $(BENCH_FLAGS)

## bench-large: the fleet harness at issue 18's sizes, rewriting only section 9 of bench/RESULTS.md: 10 API servers ×
## 100 = 1,000 registrations on one in-process manager (new profile with baseline, label change, content change,
## drift on every cluster, event storm of 1,000 events, withdrawal with baseline, steady state, manager restart), then
## 5 manager processes (cmd/manager --shard-key=shard-N) over 5 × 1,000 more registrations (fan-out and withdrawal with
## baselines, each process's RSS). Meant to take ~35 minutes on an idle 2-core machine; on a loaded one 11 API servers may
## not start (use BENCH_LARGE_FLAGS='-apiservers 5 -per-server 200'). BENCH_LARGE_FLAGS adds or overrides flags (e.g.
## -shard-objects 10 on a bigger machine, -shards 0 to skip the sharded run)
BENCH_LARGE_FLAGS ?=
bench-large: testbin
	@mkdir -p bench/out
	go build -o bench/out/manager ./cmd/manager
	KUBEBUILDER_ASSETS=$$(KUBE_VERSION=$(KUBE_VERSION) hack/test-binaries.sh) \
	  go run ./bench/fleet -section large -out bench/RESULTS.md -cpuprofile bench/out/cpu-large.pprof \
	  -apiservers 10 -per-server 100 -sizes 10,1000 -drift-all -drift 30 -events 20 -storm 1000 \
	  -phases fanout,label,content,drift,events,storm,steady,restart -gitops 0 -steady 1m -wait 10m \
	  -shards 5 -shard-clusters 1000 -shard-objects 2 -manager-binary bench/out/manager $(BENCH_LARGE_FLAGS)

## chaos: the long variants of test/chaos (TUGBOAT_CHAOS=long): the manager killed mid-rollout, leader changes, a
## managed API server down, management etcd and API server restarts, revoked credentials, an event storm, against
## real API servers; ends with the table of outcomes (test/chaos/out/table.md; not part of make test)
CHAOS_FLAGS ?=
chaos: testbin
	@mkdir -p test/chaos/out && rm -f test/chaos/out/results.jsonl test/chaos/out/table.md
	KUBEBUILDER_ASSETS=$$(KUBE_VERSION=$(KUBE_VERSION) hack/test-binaries.sh) TUGBOAT_CHAOS=long TUGBOAT_CHAOS_OUT=$(CURDIR)/test/chaos/out \
	  go test -count=1 -timeout 180m -v $(CHAOS_FLAGS) ./test/chaos/ | tee test/chaos/out/chaos.log; \
	  status=$$?; echo; cat test/chaos/out/table.md 2>/dev/null || echo "chaos: no outcome recorded"; exit $$status
