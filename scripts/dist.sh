#!/usr/bin/env bash
# Packs the distribution archive target/lightspeed-orchestrator-<version>.tar.gz from the built
# jars (run `make build` first; `make dist` does):
#   lightspeed-orchestrator-<version>/
#     bin/lightspeed-server, bin/lightspeed   start scripts (need only a Java 17+ runtime)
#     lib/                                    the server jar and the CLI jar (each self-contained)
#     examples/                               pipelines.json, Prometheus and Grafana files, compose.yaml
#     docs/, README.md
# Prints the archive's path. The version is the project's (root pom.xml).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

version="$(sed -n 's:^  <version>\(.*\)</version>.*:\1:p' pom.xml | head -n 1)"
server_jar="server/target/lightspeed-orchestrator-server-${version}-all.jar"
cli_jar="client-java/target/lightspeed-orchestrator-client-${version}-cli.jar"
for jar in "${server_jar}" "${cli_jar}"; do
  if [[ ! -f ${jar} ]]; then
    echo "dist: ${jar} is missing: run make build first" >&2
    exit 1
  fi
done

name="lightspeed-orchestrator-${version}"
stage="target/dist/${name}"
rm -rf "target/dist"
mkdir -p "${stage}/bin" "${stage}/lib"
install -m 755 dist/bin/lightspeed-server dist/bin/lightspeed "${stage}/bin/"
install -m 644 "${server_jar}" "${stage}/lib/lightspeed-orchestrator-server.jar"
install -m 644 "${cli_jar}" "${stage}/lib/lightspeed-orchestrator-cli.jar"
cp -R examples docs README.md "${stage}/"
printf '%s\n' "${version}" > "${stage}/VERSION"
archive="target/${name}.tar.gz"
# Owner and order fixed, so that the archive's listing does not depend on who built it.
tar --sort=name --owner=0 --group=0 --numeric-owner -C target/dist -czf "${archive}" "${name}"
echo "${archive}"
