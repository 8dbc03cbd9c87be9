# Lightspeed Orchestrator — every set-up step lives here or in .ci/run, nothing by hand.
#   make run     start the server on 127.0.0.1:50051 with examples/pipelines.json, data in data/,
#                and the web dashboard on http://127.0.0.1:8080/ (rebuilds the server jar first
#                only if a source changed). Choose with
#                make run PORT=50052 HTTP_PORT=8081 DATA=/tmp/ls2 ARGS="--fsync never"
#   make run-cluster  three local cluster nodes in the background (examples/cluster-local.json,
#                data/cluster/), prints each node's API address and pid; make stop-cluster stops them.
#                METRICS_PORT_BASE=9470 HTTP_PORT_BASE=8090 add each node's /metrics and dashboard
#   make test    proto lint and breaking check + the whole test suite (what CI runs)
#   make build   compile everything and package the server jar
#   make cli     build the operator CLI jar (client-java) and print how to run it
#   make clients       regenerate the Python, Go and TypeScript clients' code from proto/
#   make test-clients  the clients' story examples against one real server; every client against an mTLS one;
#                      Python, Go and TypeScript failing over from a killed server to a second one
#   make test-dashboard  every metric of examples/grafana/lightspeed-dashboard.json exists on a real server
#   make test-readme  run the README's "Your first worker" blocks as written, each in an empty directory
#   make test-lincheck  vet and unit-test the linearizability checker tools/lincheck (Go, seconds)
#   make dist    target/lightspeed-orchestrator-<version>.tar.gz: bin/ scripts, jars, examples (needs only Java 17+)
#   make image   OCI image tarball server/target/lightspeed-orchestrator-image.tar (Jib, no Docker daemon)
#   make test-image  check the image's config, run it unpacked (chroot) and probe its health
#   make test-dist  unpack the archive in a temp dir, start its server, call it with its CLI
#   make bench   server load and recovery benchmarks (< 15 min), rewrites BENCHMARKS.md
#   make bench-jmh  JMH benchmarks of the core (about 4 min), rewrites BENCHMARKS.md
#   make bench-cluster  a 3-node cluster: fail-over, catch-up, 3 nodes vs one (about 20 min)

# -B: batch mode, no colours; -ntp: no download progress. .mvn/jvm.config stops the stray
# `[0m` escapes Maven 3.8's console library prints even then.
MVN ?= mvn -B -ntp
SERVER_JAR := server/target/lightspeed-orchestrator-server-0.1.0-SNAPSHOT-all.jar
CLI_JAR := client-java/target/lightspeed-orchestrator-client-0.1.0-SNAPSHOT-cli.jar

.PHONY: all build cli browser-tools dist test-dist image test-image test-readme test-lincheck test test-java test-smoke lint-proto run run-cluster stop-cluster clean help clients clients-tools check-clients test-clients bench bench-peer bench-jmh bench-cluster

all: build

# The header comment above, up to its first blank line.
help:
	@sed -n '2,/^$$/p' Makefile | sed -n 's/^#   //p'

build:
	$(MVN) -q install -DskipTests -DskipITs

# The CLI jar needs the proto module installed first; -am builds it too, tests skipped.
cli:
	$(MVN) -q -pl client-java -am install -DskipTests -DskipITs
	@echo
	@echo "Built $(CLI_JAR). Run it with:"
	@echo "  java -jar $(CLI_JAR) --help"
	@echo "  alias lightspeed='java -jar $(CURDIR)/$(CLI_JAR)'"
	@echo "  lightspeed --target 127.0.0.1:50051 pipelines list   # or export LIGHTSPEED_TARGET"

# buf lint, and buf breaking against proto/baseline/v1.binpb (the version 1 API): every
# change of the API must be an addition.
lint-proto:
	bash scripts/buf-lint.sh
	bash scripts/buf-breaking.sh

# Debian's chromium + chromium-driver for the dashboard's browser test (apt, idempotent).
browser-tools:
	bash scripts/browser-tools.sh

test-java: browser-tools
	$(MVN) install

# grpcurl against the real server jar (installs a pinned grpcurl into .tools/bin if needed), the
# README's "Running in production" commands (openssl, TLS, tokens, metrics, mutual TLS),
# `make run` with PORT/DATA/ARGS, and the dashboard's HTTP port (the README's curl JSON example).
test-smoke:
	bash scripts/grpcurl-smoke.sh
	bash scripts/production-smoke.sh
	bash scripts/make-run-check.sh
	bash scripts/dashboard-smoke.sh

# The clients' pinned generators and runtimes: .venv, .tools/bin, client-typescript/node_modules.
clients-tools:
	bash scripts/clients-tools.sh

clients: clients-tools
	bash scripts/gen-clients.sh

# Fails when the committed generated code differs from a fresh generation from proto/. (The
# clients' reason lists are generated too: the ErrorReason enum of error_reason.proto.)
check-clients: clients-tools
	bash scripts/check-clients-generated.sh
	bash scripts/check-web-generated.sh

test-clients:
	bash scripts/clients-test.sh
	bash scripts/clients-mtls-test.sh
	bash scripts/clients-failover-test.sh

# The Porcupine history checker (docs/cluster.md, "Checking histories"). Its run on recorded
# histories, LinearizabilityIT, is part of test-java (client-java's integration tests).
test-lincheck:
	cd tools/lincheck && go vet ./... && go test ./...

test: lint-proto check-clients test-lincheck test-java test-smoke test-clients test-dist test-readme test-image test-dashboard

# The README is the test input: scripts/readme_blocks.py extracts the marked blocks.
test-readme:
	bash scripts/readme-test.sh

# The distribution archive (scripts/dist.sh says what it holds); test-dist packs it itself.
dist: build
	bash scripts/dist.sh

test-dist:
	bash scripts/dist-test.sh

# The base (a jlink runtime + Debian's libc, scripts/image-base.sh) is made here, since no
# registry with a JRE base image is reachable; Jib adds the server's classes and libraries.
image: build
	bash scripts/image-base.sh
	$(MVN) -q -pl server jib:buildTar

test-image: image
	bash scripts/image-test.sh

# Every metric the Grafana dashboard (examples/grafana/) names exists on a real server.
test-dashboard: clients-tools
	bash scripts/dashboard-test.sh

# Benchmarks (bench/ module; never part of `make test`). Results and logs go to bench/results/.
#     make bench LOADGEN_ARGS=--quick             a one-minute smoke run
#     make bench LOADGEN_ARGS=--server-jfr        also record a JFR profile of each server
#     make bench-jmh JMH_ARGS='-p backlog=10000'  any JMH options
LOADGEN_ARGS ?=
JMH_ARGS ?= -f 1 -wi 3 -w 2s -i 5 -r 2s -prof gc -prof dev.lightspeed.orchestrator.bench.jmh.CpuTimeProfiler

# The server's load cases and recovery, then the Work stream against BullMQ (bench/peer/bullmq:
# installs redis-server and bullmq itself); PEER_ARGS e.g. --redis-fsync-variants (see the script).
bench: build
	bash bench/scripts/run-bench.sh load $(LOADGEN_ARGS)
	bash bench/scripts/run-peer-bench.sh $(PEER_ARGS)

bench-peer: build
	bash bench/scripts/run-peer-bench.sh $(PEER_ARGS)

# The cluster's fail-over time and 3 nodes against one (about 15 min; --quick: about 4 min).
#     make bench-cluster CLUSTER_BENCH_ARGS=--quick
bench-cluster: build
	bash bench/scripts/run-cluster-bench.sh $(CLUSTER_BENCH_ARGS)

bench-jmh: build
	bash bench/scripts/run-bench.sh jmh $(JMH_ARGS)

# `make run`'s settings: a second checkout, or another program on 50051, picks its own.
PORT ?= 50051
HTTP_PORT ?= 8080
DATA ?= data
ARGS ?=

# The server jar is rebuilt only when a file it is built from changed (the proto and server
# modules, their poms and the parent pom), so a repeated `make run` starts at once.
SERVER_SOURCES := pom.xml proto/pom.xml server/pom.xml cluster/pom.xml $(shell find proto/lightspeed server/src cluster/src/main -type f 2>/dev/null)

$(SERVER_JAR): $(SERVER_SOURCES)
	@echo "building the server jar (a source changed; tests skipped)"
	$(MVN) -pl server -am install -DskipTests -DskipITs
	@touch $@

run: $(SERVER_JAR)
	java -XX:+ExitOnOutOfMemoryError -jar $(SERVER_JAR) --bind 127.0.0.1 --port $(PORT) --data-dir $(DATA) --http-port $(HTTP_PORT) --config examples/pipelines.json $(ARGS)

# Three local cluster nodes in the background (examples/cluster-local.json, data and logs under
# data/cluster/); returns once each serves, printing its API address and pid (docs/cluster.md).
run-cluster: $(SERVER_JAR)
	bash scripts/cluster-local.sh start $(SERVER_JAR)

stop-cluster:
	bash scripts/cluster-local.sh stop

clean:
	$(MVN) -q clean
