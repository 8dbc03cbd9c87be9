#!/usr/bin/env python3
"""Checks the OCI image tarball that `make image` writes, and unpacks its file system.

    check_image.py IMAGE.tar [ROOTFS]

Reads index.json, the manifest and the config (verifying each blob's sha256), and checks the
entrypoint (the jlink runtime running ServerMain), the default arguments (every interface,
/data, metrics on 9464), the exposed ports (50051, 9464), the /data volume and the unprivileged
user. With ROOTFS, unpacks the layers there in order (gzip or plain tar; whiteouts honoured).
Prints one line per check; exits 1 if any failed.
"""

import gzip
import hashlib
import io
import json
import os
import shutil
import sys
import tarfile

failed = 0


def check(name, ok, detail=""):
    global failed
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else f": {detail}"))
    failed += 0 if ok else 1


def main():
    image = sys.argv[1]
    rootfs = sys.argv[2] if len(sys.argv) > 2 else None
    with tarfile.open(image) as tar:
        def blob(digest):
            data = tar.extractfile("blobs/" + digest.replace(":", "/")).read()
            if "sha256:" + hashlib.sha256(data).hexdigest() != digest:
                sys.exit(f"{image}: blob {digest} does not match its digest")
            return data

        index = json.load(tar.extractfile("index.json"))
        manifest = json.loads(blob(index["manifests"][0]["digest"]))
        check("OCI manifest", manifest["mediaType"] == "application/vnd.oci.image.manifest.v1+json",
              manifest.get("mediaType"))
        config = json.loads(blob(manifest["config"]["digest"]))["config"]
        entrypoint = config.get("Entrypoint") or []
        check("entrypoint runs ServerMain on the image's Java runtime",
              entrypoint[:1] == ["/opt/java/bin/java"]
              and entrypoint[-1] == "dev.lightspeed.orchestrator.boot.ServerMain", entrypoint)
        cmd = " ".join(config.get("Cmd") or [])
        check("default arguments", cmd == "--bind 0.0.0.0 --port 50051 --data-dir /data "
              "--metrics-bind 0.0.0.0 --metrics-port 9464", cmd)
        ports = sorted((config.get("ExposedPorts") or {}).keys())
        check("exposed ports 50051/tcp and 9464/tcp", ports == ["50051/tcp", "9464/tcp"], ports)
        volumes = sorted((config.get("Volumes") or {}).keys())
        check("volume /data", volumes == ["/data"], volumes)
        check("unprivileged user", config.get("User") == "65532:65532", config.get("User"))
        if rootfs:
            for layer in manifest["layers"]:
                data = blob(layer["digest"])
                if data[:2] == b"\x1f\x8b":
                    data = gzip.decompress(data)
                with tarfile.open(fileobj=io.BytesIO(data)) as lt:
                    for member in lt.getmembers():
                        base = os.path.basename(member.name)
                        if base.startswith(".wh."):
                            target = os.path.join(rootfs, os.path.dirname(member.name), base[4:])
                            if os.path.isdir(target) and not os.path.islink(target):
                                shutil.rmtree(target)
                            elif os.path.lexists(target):
                                os.remove(target)
                            continue
                        lt.extract(member, rootfs, numeric_owner=True)
            check("unpacked: the Java runtime is there",
                  os.access(os.path.join(rootfs, "opt/java/bin/java"), os.X_OK))
            check("unpacked: the classpath file is there",
                  os.path.isfile(os.path.join(rootfs, "app/jib-classpath-file")))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
