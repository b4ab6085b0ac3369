# Tributary — the local stack and the test suite.
#   make up       install what is missing and start everything on 127.0.0.1
#   make test     start the stack if needed, then run every Go test
#   make help     all targets
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Every module of go.work, as package patterns.
GO_PKGS = $(shell go list -m -f '{{.Dir}}/...')
# The stack's addresses, exported for the tests.
STACK_ENV = eval "$$(infra/stack.sh env)"
GO_TEST_FLAGS ?= -race -count=1 -timeout 30m
SOAK ?= 10m
TEST_SOAK ?= 60s
BENCH ?= .
# Fuzz targets (package:Target): message decoding and merging, the worker's
# and the API server's configuration, the pipeline-graph parser. Crashers
# are kept in each package's testdata/fuzz and rerun by every go test.
FUZZ_TARGETS = ./shared/fn:FuzzAdapt ./shared/join:FuzzMerge ./shared/join:FuzzMergeMatchesEncodingJSON ./shared/jsonobj:FuzzFields ./shared/worker:FuzzJoinID ./shared/worker:FuzzValidate \
	./apiserver/config:FuzzFromEnv ./apiserver/httpapi:FuzzParseGraph ./functions/summarizer:FuzzSummarize
FUZZTIME ?= 60s
TEST_FUZZTIME ?= 15s

.PHONY: help up down status logs test rules bench bench-api bench-runtime fuzz chaos chaos-cluster

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

up: ## install what is missing, build and start the whole stack
	@infra/stack.sh up

down: ## stop what the stack started (Nomad jobs are purged first)
	@infra/stack.sh down

status: ## each service: state, address, pid, log file
	@infra/stack.sh status

logs: ## follow the logs (SERVICE=kafka for one)
	@infra/stack.sh logs $(SERVICE)

test: up ## start the stack if needed, then run every test: Go, the UI's unit tests, its generated types, the UI end to end (CI=true: a missing service fails)
	@infra/stack.sh await prometheus alertmanager
	@$(MAKE) --no-print-directory rules
	@$(STACK_ENV); set -o pipefail; echo "==> go test $(GO_TEST_FLAGS) (every module; the soak comes next, alone, then the TestCluster scenarios on their own topology)"; \
	go test $(GO_TEST_FLAGS) -skip '^(TestChaosSoak|TestCluster.*)$$' $(GO_PKGS)
	@$(STACK_ENV); set -o pipefail; echo "==> soak for $(TEST_SOAK), alone: its load is 80% of a capacity measured on a machine no other test shares"; \
	TRIBUTARY_SOAK=$(TEST_SOAK) go test $(GO_TEST_FLAGS) -v -run '^TestChaosSoak$$' ./infra/demo | grep --line-buffered -E '^(---|ok|FAIL|PASS)|chaos'
	@echo "==> faults on the multi-node topology (make chaos-cluster, ~4 min)"; $(MAKE) --no-print-directory chaos-cluster
	@echo "==> UI unit tests (vitest)"; cd frontend && npm test --silent
	@$(STACK_ENV); echo "==> UI types: frontend/src/api/schema.d.ts against $$TRIBUTARY_API_URL/openapi.json"; cd frontend && npm run check-types --silent
	@$(STACK_ENV); export CHROMIUM="$$(infra/stack.sh browser | tail -1)"; \
	echo "==> UI end-to-end tests (headless $$CHROMIUM; screenshots in frontend/test-results)"; \
	cd frontend && npm run e2e --silent
	@echo "==> the README's 'Your first function' steps"; infra/first-function-test.sh
	@echo "==> the README's 'Your first Python function' steps"; infra/first-function-test.sh "Your first Python function" shout-py
	@$(MAKE) --no-print-directory fuzz FUZZTIME=$(TEST_FUZZTIME)

rules: ## promtool: check the shipped Prometheus configuration and unit-test every alert rule
	@promtool=$$(infra/stack.sh promtool | tail -1); set -e; \
	echo "==> promtool check config infra/prometheus/prometheus.yml"; $$promtool check config infra/prometheus/prometheus.yml; \
	echo "==> promtool test rules infra/prometheus/tests"; $$promtool test rules infra/prometheus/tests/*.yml

bench: up ## run the benchmarks (BENCH=regexp to choose)
	@$(STACK_ENV); go test -run '^$$' -bench '$(BENCH)' -benchmem -count=1 -timeout 60m $(GO_PKGS)

bench-api: up ## load the API with wrk: GET /api/v1/workers with 200 workers, against /healthz
	@infra/bench-api.sh

bench-runtime: ## the worker runtime against a bare reference loop, one table from one run (~5 min, on a running stack; TRIBUTARY_BENCH_PROFILE_DIR=dir for CPU profiles)
	@$(STACK_ENV); go test -run '^$$' -bench '^BenchmarkRuntime$$' -benchtime 1x -count 1 -timeout 30m ./shared/worker

fuzz: ## run every fuzz target for FUZZTIME each (default 60s)
	@set -e; for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; name=$${t##*:}; \
	echo "==> fuzz $$name ($$pkg, $(FUZZTIME))"; infra/fuzz-one.sh $$pkg $$name $(FUZZTIME); done

chaos: up ## fault scenarios on the real stack (worker SIGKILL; broker, Redis, Nomad agent, API server restarts; MySQL outage) and a 10-minute soak (SOAK=10m): ids lost, duplicated, recovery
	@$(STACK_ENV); set -o pipefail; TRIBUTARY_SOAK=$(SOAK) go test -p 1 -count=1 -v -run 'TestChaos' -timeout 60m ./infra/demo ./apiserver/httpapi | grep --line-buffered -E '^(---|ok|FAIL|PASS)|chaos'

chaos-cluster: up ## faults on a multi-node topology (infra/cluster.sh: Redis Cluster, 3 brokers, Nomad server + 2 clients): Redis master killed, Nomad client lost or partitioned, broker removed; brought up and torn down around the run
	@set -o pipefail; start=$$SECONDS; $(STACK_ENV); infra/cluster.sh up && eval "$$(infra/cluster.sh env)" && \
	go test -p 1 -count=1 -v -run '^TestCluster' -timeout 60m ./shared/join ./infra/demo | grep --line-buffered -E '^(---|ok|FAIL|PASS)|chaos-cluster|invalid'; rc=$$?; \
	infra/cluster.sh down; echo "==> make chaos-cluster: $$((SECONDS - start))s"; exit $$rc
