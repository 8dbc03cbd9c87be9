#!/usr/bin/env python3
"""Packs a root file system directory as a one-layer image tarball in the `docker save` format
(manifest.json, the image config, one uncompressed layer tar), the format Jib reads as a base
image with from.image = tar://FILE.

    image_tar.py ROOTFS OUT.tar

Entries are sorted, owned by root, with a fixed mtime, so the same ROOTFS gives the same
layer digest; /data and /tmp are owned by the unprivileged user 65532 (tmp with the sticky bit).
"""

import hashlib
import io
import json
import os
import sys
import tarfile

EPOCH = 946684800  # 2000-01-01: a fixed mtime
UNPRIVILEGED = 65532


def layer(rootfs):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        paths = []
        for dirpath, dirnames, filenames in os.walk(rootfs):
            dirnames.sort()
            for name in sorted(dirnames + filenames):
                paths.append(os.path.join(dirpath, name))
        for path in sorted(paths):
            rel = os.path.relpath(path, rootfs)
            info = tar.gettarinfo(path, arcname=rel)
            info.mtime = EPOCH
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            if rel in ("data", "tmp"):
                info.uid = info.gid = UNPRIVILEGED
                info.uname = info.gname = "lightspeed"
                info.mode = 0o1777 if rel == "tmp" else 0o750
            if info.isfile():
                with open(path, "rb") as f:
                    tar.addfile(info, f)
            else:
                tar.addfile(info)
    return buf.getvalue()


def main():
    rootfs, out = sys.argv[1], sys.argv[2]
    data = layer(rootfs)
    diff_id = "sha256:" + hashlib.sha256(data).hexdigest()
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {
            "Env": ["PATH=/opt/java/bin:/usr/bin:/bin", "JAVA_HOME=/opt/java", "LANG=C.UTF-8"],
            "User": f"{UNPRIVILEGED}:{UNPRIVILEGED}",
        },
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created_by": "scripts/image-base.sh: jlink runtime + Debian libc6, zlib1g, libstdc++6, libgcc-s1"}],
    }
    config_bytes = json.dumps(config, sort_keys=True).encode()
    config_name = hashlib.sha256(config_bytes).hexdigest() + ".json"
    manifest = [{"Config": config_name, "RepoTags": ["lightspeed-orchestrator-base:local"],
                 "Layers": ["layer.tar"]}]
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, content in (("manifest.json", json.dumps(manifest).encode()),
                              (config_name, config_bytes), ("layer.tar", data)):
            info = tarfile.TarInfo(name)
            info.size = len(content)
            info.mtime = EPOCH
            tar.addfile(info, io.BytesIO(content))


if __name__ == "__main__":
    main()
