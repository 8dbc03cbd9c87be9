#!/usr/bin/env bash
# Builds the container image's base, target/image-base/base.tar, without any container
# registry (only Docker Hub / gcr.io host JRE base images, and they are not reachable from the
# project's machines) and without a Docker daemon:
#   - a Java runtime made by jlink from this machine's JDK 17 (its jmods), with the modules the
#     server needs (jdeps of the server jar, plus jdk.crypto.ec for EC TLS keys),
#   - the C libraries that runtime links (ldd: libc, libm, libz, libstdc++, libgcc_s), unpacked
#     from Debian's own packages (apt-get download libc6 zlib1g libstdc++6 libgcc-s1),
#   - /etc/passwd and /etc/group with an unprivileged user "lightspeed" (65532), /tmp, /data,
# packed as a one-layer image in the `docker save` format, which Jib reads with
# from.image = tar://... (scripts/image_tar.py). Needs a Debian-family host with apt sources.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

MODULES=java.base,java.logging,java.management,java.naming,java.sql,jdk.crypto.ec,jdk.httpserver,jdk.jfr,jdk.management,jdk.unsupported
PACKAGES=(libc6 zlib1g libstdc++6 libgcc-s1)

out=target/image-base
rm -rf "${out}"
mkdir -p "${out}/debs" "${out}/rootfs"
rootfs="${PWD}/${out}/rootfs"

java_home="${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")}"
if [[ ! -d ${java_home}/jmods ]]; then
  echo "image-base: ${java_home} has no jmods/ (jlink needs a full JDK 17, e.g. Debian's openjdk-17-jdk-headless)" >&2
  exit 1
fi
echo "image-base: jlink from ${java_home}: ${MODULES}"
"${java_home}/bin/jlink" --module-path "${java_home}/jmods" --add-modules "${MODULES}" \
  --strip-debug --no-header-files --no-man-pages --compress=2 --output "${rootfs}/opt/java"

echo "image-base: Debian packages ${PACKAGES[*]}"
# A fresh machine may have no package lists yet: fetch them once (as root) and try again.
download() { (cd "${out}/debs" && apt-get download "${PACKAGES[@]}" 2>&1 | grep -v '^W: Download is performed unsandboxed'); }
if ! download || [[ $(find "${out}/debs" -name '*.deb' | wc -l) -lt ${#PACKAGES[@]} ]]; then
  if [[ $(id -u) == 0 ]]; then
    echo "image-base: apt-get update"
    apt-get update -qq
    rm -f "${out}"/debs/*.deb
    download || true
  fi
fi
if [[ $(find "${out}/debs" -name '*.deb' | wc -l) -lt ${#PACKAGES[@]} ]]; then
  echo "image-base: could not download ${PACKAGES[*]} from the Debian archive (apt-get download)" >&2
  exit 1
fi
for deb in "${out}"/debs/*.deb; do
  dpkg-deb -x "${deb}" "${rootfs}"
  echo "$(dpkg-deb -f "${deb}" Package)=$(dpkg-deb -f "${deb}" Version)" >> "${out}/packages.txt"
done
rm -rf "${rootfs}/usr/share/doc" "${rootfs}/usr/share/lintian" "${rootfs}/usr/share/locale"

mkdir -p "${rootfs}/etc" "${rootfs}/tmp" "${rootfs}/data" "${rootfs}/proc" "${rootfs}/sys" "${rootfs}/dev"
printf 'root:x:0:0:root:/root:/sbin/nologin\nlightspeed:x:65532:65532:lightspeed:/data:/sbin/nologin\n' > "${rootfs}/etc/passwd"
printf 'root:x:0:\nlightspeed:x:65532:\n' > "${rootfs}/etc/group"

python3 scripts/image_tar.py "${rootfs}" "${out}/base.tar"
echo "image-base: ${out}/base.tar ($(du -h "${out}/base.tar" | cut -f1)); packages: $(paste -sd, "${out}/packages.txt")"
