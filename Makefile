# Lightspeed Orchestrator — every set-up step lives here or in .ci/run, nothing by hand.
#   make run     build and start the server on 127.0.0.1:50051 with examples/pipelines.json,
#                and the web dashboard on http://127.0.0.1:8080/
#   make test    proto lint + the whole test suite (what CI runs)
#   make build   compile everything and package the server jar
#   make cli     build the operator CLI jar (client-java) and print how to run it
#   make clients       regenerate the Python, Go and TypeScript clients' code from proto/
#   make test-clients  run the three clients' story examples against one real server
#   make bench   server load and recovery benchmarks (< 15 min), rewrites BENCHMARKS.md
#   make bench-jmh  JMH benchmarks of the core (about 4 min), rewrites BENCHMARKS.md

MVN ?= mvn -B -ntp
SERVER_JAR := server/target/lightspeed-orchestrator-server-0.1.0-SNAPSHOT-all.jar
CLI_JAR := client-java/target/lightspeed-orchestrator-client-0.1.0-SNAPSHOT-cli.jar

.PHONY: all build cli browser-tools test test-java test-smoke lint-proto run clean help clients clients-tools check-clients test-clients bench bench-jmh

all: build

help:
	@grep -E '^#   make' Makefile | sed 's/^#   //'

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

lint-proto:
	bash scripts/buf-lint.sh

# Debian's chromium + chromium-driver for the dashboard's browser test (apt, idempotent).
browser-tools:
	bash scripts/browser-tools.sh

test-java: browser-tools
	$(MVN) install

# grpcurl against the real server jar (installs a pinned grpcurl into .tools/bin if needed), and
# the README's "Running in production" commands (openssl, TLS, tokens, metrics, mutual TLS), and
# the dashboard's HTTP port (the README's curl JSON example).
test-smoke:
	bash scripts/grpcurl-smoke.sh
	bash scripts/production-smoke.sh
	bash scripts/dashboard-smoke.sh

# The clients' pinned generators and runtimes: .venv, .tools/bin, client-typescript/node_modules.
clients-tools:
	bash scripts/clients-tools.sh

clients: clients-tools
	bash scripts/gen-clients.sh

# Fails when a client's reason constants differ from the server's Reason enum, or when the
# committed generated code differs from a fresh generation from proto/.
check-clients: clients-tools
	python3 scripts/check-reasons.py
	bash scripts/check-clients-generated.sh
	bash scripts/check-web-generated.sh

test-clients:
	bash scripts/clients-test.sh

test: lint-proto check-clients test-java test-smoke test-clients

# Benchmarks (bench/ module; never part of `make test`). Results and logs go to bench/results/.
#     make bench LOADGEN_ARGS=--quick             a one-minute smoke run
#     make bench LOADGEN_ARGS=--server-jfr        also record a JFR profile of each server
#     make bench-jmh JMH_ARGS='-p backlog=10000'  any JMH options
LOADGEN_ARGS ?=
JMH_ARGS ?= -f 1 -wi 3 -w 2s -i 5 -r 2s -prof gc -prof dev.lightspeed.orchestrator.bench.jmh.CpuTimeProfiler

bench: build
	bash bench/scripts/run-bench.sh load $(LOADGEN_ARGS)

bench-jmh: build
	bash bench/scripts/run-bench.sh jmh $(JMH_ARGS)

run: build
	java -jar $(SERVER_JAR) --bind 127.0.0.1 --port 50051 --config examples/pipelines.json --data-dir data --http-port 8080

clean:
	$(MVN) -q clean
