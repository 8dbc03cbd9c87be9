#!/usr/bin/env bash
# The container image of `make image` (server/target/lightspeed-orchestrator-image.tar, OCI):
#   1. its config (scripts/check_image.py): entrypoint, default arguments, exposed ports 50051 and
#      9464, the /data volume, the unprivileged user;
#   2. it runs, without a container runtime: its layers unpacked into a directory, the entrypoint
#      run there with chroot as user 65532 (with the image's environment and a private /proc,
#      which is what a container runtime provides), sharing this machine's network:
#        --help exits 0; the default arguments (0.0.0.0, no TLS) are refused with exit 2 and the
#        reason; with --bind 127.0.0.1 on free ports it serves: `lightspeed pipelines list` (the
#        CLI jar, outside) answers, /metrics answers, and it writes its journal into /data.
# Part 2 needs root (unshare, chroot); without it, it says SKIPPED. Builds the image first if it
# is missing (make image). Ends with "N passed, N failed".
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib-server.sh
root="${PWD}"
image="server/target/lightspeed-orchestrator-image.tar"
CLI_JAR="${root}/client-java/target/lightspeed-orchestrator-client-0.1.0-SNAPSHOT-cli.jar"
[[ -f ${image} ]] || make --no-print-directory image
[[ -f ${CLI_JAR} ]] || make --no-print-directory build

work="$(mktemp -d -t lightspeed-image.XXXXXX)"
runner=""
# The processes chrooted into the unpacked image (their /proc/PID/root is it).
in_rootfs() {
  local p
  for p in /proc/[0-9]*; do
    [[ "$(readlink "${p}/root" 2>/dev/null)" == "${work}/rootfs" ]] && echo "${p#/proc/}"
  done
  return 0
}
cleanup() {
  if [[ -n ${runner} ]] && kill -0 "${runner}" 2>/dev/null; then
    kill -TERM "${runner}" 2>/dev/null || true   # timeout -> unshare -> (--kill-child) the server
    wait "${runner}" 2>/dev/null || true
  fi
  for _ in $(seq 1 300); do
    [[ -z "$(in_rootfs)" ]] && break
    sleep 0.1
  done
  rm -rf "${work}"
}
trap cleanup EXIT

passed=0
failed=0
check() { # NAME EXPECTED-REGEX OUTPUT
  if grep -Eq -- "$2" <<<"$3"; then
    echo "ok   $1"; passed=$((passed + 1))
  else
    echo "FAIL $1: expected /$2/ in:"; sed 's/^/       /' <<<"$3"; failed=$((failed + 1))
  fi
}

rootfs="${work}/rootfs"
mkdir -p "${rootfs}"
if out="$(python3 scripts/check_image.py "${image}" "${rootfs}")"; then ok=1; else ok=0; fi
echo "${out}"
passed=$((passed + $(grep -c '^ok' <<<"${out}" || true)))
failed=$((failed + $(grep -c '^FAIL' <<<"${out}" || true)))

if [[ $(id -u) != 0 ]] || ! unshare --mount --fork true 2>/dev/null; then
  echo "SKIPPED running the image: needs root (unshare --mount, chroot)"
else
  mapfile -t entrypoint < <(python3 -c '
import json, sys, tarfile
t = tarfile.open(sys.argv[1])
blob = lambda d: json.load(t.extractfile("blobs/" + d.replace(":", "/")))
m = blob(json.load(t.extractfile("index.json"))["manifests"][0]["digest"])
c = blob(m["config"]["digest"])["config"]
print("\n".join(c["Entrypoint"]))' "${image}")
  mapfile -t defaults < <(python3 -c '
import json, sys, tarfile
t = tarfile.open(sys.argv[1])
blob = lambda d: json.load(t.extractfile("blobs/" + d.replace(":", "/")))
m = blob(json.load(t.extractfile("index.json"))["manifests"][0]["digest"])
print("\n".join(blob(m["config"]["digest"])["config"]["Cmd"]))' "${image}")
  mkdir -p "${rootfs}/proc"
  # Runs the entrypoint with ARGS in the unpacked image, as a container runtime would: the
  # image's environment, a private /proc, chroot into its file system as its user.
  chroot_bin="$(command -v chroot)"
  # in_image SECONDS ARGS...: the entrypoint with ARGS; in_image_run SECONDS COMMAND...: any command.
  in_image() {
    local limit=$1
    shift
    in_image_run "${limit}" "${entrypoint[@]}" "$@"
  }
  in_image_run() {
    local limit=$1
    shift
    exec timeout "${limit}" env -i PATH=/opt/java/bin:/usr/bin:/bin JAVA_HOME=/opt/java LANG=C.UTF-8 \
      "$(command -v unshare)" --mount --fork --kill-child=TERM \
      /bin/sh -c 'r=$1; shift; mount -t proc proc "$r/proc" && exec "$0" --userspec=65532:65532 "$r" "$@"' \
      "${chroot_bin}" "${rootfs}" "$@"
  }
  status=0
  out="$(in_image 60 --help 2>&1)" || status=$?
  check "image: --help exits 0" '^0$' "${status}"
  check "image: --help lists the flags" '--tls-client-ca' "${out}"
  status=0
  out="$(in_image 60 "${defaults[@]}" 2>&1)" || status=$?
  check "image: the default arguments without TLS and tokens are refused (exit 2)" '^2$' "${status}"
  check "image: ... saying why" 'refusing to listen on 0\.0\.0\.0' "${out}"

  port="$(free_port)"
  metrics_port="$(free_port)"
  in_image 600 --bind 127.0.0.1 --port "${port}" --data-dir /data --metrics-port "${metrics_port}" \
    >"${work}/server.log" 2>&1 &
  runner=$!
  for _ in $(seq 1 300); do
    grep -q "listening on" "${work}/server.log" && break
    kill -0 "${runner}" 2>/dev/null || break
    sleep 0.1
  done
  check "image: the server starts as user 65532" 'listening on 127\.0\.0\.1' "$(cat "${work}/server.log")"
  status=0
  out="$(timeout 60 java -jar "${CLI_JAR}" --target "127.0.0.1:${port}" pipelines list 2>&1)" || status=$?
  check "image: lightspeed pipelines list answers" '^0$' "${status}"
  check "image: /metrics answers" '^lightspeed_pipelines ' "$(curl -s "http://127.0.0.1:${metrics_port}/metrics")"
  probe=(/opt/java/bin/java -cp @/app/jib-classpath-file dev.lightspeed.orchestrator.boot.HealthProbe)
  status=0
  out="$(in_image_run 60 "${probe[@]}" "127.0.0.1:${port}" 2>&1)" || status=$?
  check "image: the health check (HealthProbe) exits 0: SERVING" '^0 SERVING$' "${status} ${out}"
  status=0
  out="$(in_image_run 60 "${probe[@]}" --timeout-ms 2000 "127.0.0.1:$(free_port)" 2>&1)" || status=$?
  check "image: the health check of nothing listening exits 1" '^1 UNAVAILABLE' "${status} ${out}"
  check "image: the journal is in the /data volume" '.' "$(find "${rootfs}/data" -type f -user 65532 | head -n 1)"
fi

echo "image: ${passed} passed, ${failed} failed"
(( failed == 0 ))
