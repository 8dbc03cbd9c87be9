#!/usr/bin/env python3
"""Fails when a client's list of error reasons drifts from the server's.

The server's reasons (google.rpc.ErrorInfo.reason) are the constants of the enum
server/src/main/java/dev/lightspeed/orchestrator/core/Reason.java. Each client lists them too:
Java ErrorReason (plus its own UNKNOWN), Python class Reason, Go Reason* constants, TypeScript
Reason object. This prints every reason missing from, or extra in, each client file (and any
constant whose name does not match its value, or is listed twice) and exits 1 on any of them.

Order is not checked. Standard library only: python3 scripts/check-reasons.py (run by
`make check-clients`).
"""

from __future__ import annotations

import os
import re
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

SERVER = "server/src/main/java/dev/lightspeed/orchestrator/core/Reason.java"
JAVA = "client-java/src/main/java/dev/lightspeed/orchestrator/client/errors/ErrorReason.java"
PYTHON = "client-python/src/lightspeed_orchestrator/errors.py"
GO = "client-go/orchestrator/errors.go"
TYPESCRIPT = "client-typescript/src/errors.ts"

# Client-only constants that are not server reasons.
CLIENT_ONLY = {JAVA: {"UNKNOWN"}}

IDENT = re.compile(r"[A-Z][A-Z0-9_]*")


class FormatError(Exception):
    pass


def read(path: str) -> str:
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return f.read()


def strip_java_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def java_enum(path: str, enum: str) -> list[tuple[str, str]]:
    """The constants of `enum <enum> {` up to the `;` that ends them (or the enum's `}`)."""
    text = strip_java_comments(read(path))
    start = re.search(r"\benum\s+" + enum + r"\s*\{", text)
    if not start:
        raise FormatError(f"no 'enum {enum} {{' found")
    body = text[start.end():]
    # Drop the constants' arguments, e.g. (Category.INVALID_ARGUMENT), and annotations.
    body = re.sub(r"\([^()]*\)", "", body)
    body = re.sub(r"@\w+(\.\w+)*", "", body)
    end = min(i for i in (body.find(";"), body.find("}"), len(body)) if i >= 0)
    names = []
    for item in body[:end].split(","):
        item = item.strip()
        if not item:
            continue
        if not IDENT.fullmatch(item):
            raise FormatError(f"unexpected enum constant {item!r}")
        names.append((item, item))
    return names


def block(path: str, opening: str, closing: str) -> str:
    """The text between the first match of `opening` and the next match of `closing`."""
    text = read(path)
    start = re.search(opening, text, flags=re.M)
    if not start:
        raise FormatError(f"no line matching {opening!r} found")
    end = re.compile(closing, flags=re.M).search(text, start.end())
    if not end:
        raise FormatError(f"no {closing!r} after {opening!r}")
    return text[start.end():end.start()]


def python_reasons(path: str) -> list[tuple[str, str]]:
    body = block(path, r"^class Reason\b.*:$", r"^\S")  # up to the next top-level line
    return re.findall(r'^\s+([A-Z][A-Z0-9_]*)\s*=\s*"([^"]*)"', body, flags=re.M)


def go_reasons(path: str) -> list[tuple[str, str]]:
    return re.findall(r'^\s*(Reason\w*)\s*=\s*"([^"]*)"', read(path), flags=re.M)


def typescript_reasons(path: str) -> list[tuple[str, str]]:
    body = block(path, r"^export const Reason\s*=\s*\{", r"^\}")
    return re.findall(r'^\s*"?([A-Z][A-Z0-9_]*)"?\s*:\s*"([^"]*)"', body, flags=re.M)


def go_name(reason: str) -> str:
    return "Reason" + "".join(w.capitalize() for w in reason.split("_"))


CLIENTS = [
    (JAVA, "enum ErrorReason", lambda p: java_enum(p, "ErrorReason"), lambda v: v),
    (PYTHON, "class Reason", python_reasons, lambda v: v),
    (GO, "Reason* constants", go_reasons, go_name),
    (TYPESCRIPT, "const Reason", typescript_reasons, lambda v: v),
]


def main() -> int:
    try:
        server = [name for name, _ in java_enum(SERVER, "Reason")]
    except (OSError, FormatError) as e:
        print(f"check-reasons: cannot read the server's reasons from {SERVER}: {e}", file=sys.stderr)
        return 1
    if not server:
        print(f"check-reasons: found no reasons in {SERVER}", file=sys.stderr)
        return 1
    expected = set(server)

    problems = []
    for path, what, extract, name_for in CLIENTS:
        try:
            pairs = extract(path)
        except (OSError, FormatError) as e:
            problems.append(f"{path}: cannot read its reasons ({what}): {e}")
            continue
        if not pairs:
            problems.append(f"{path}: found no reasons ({what}); did its format change?")
            continue
        values = [v for _, v in pairs]
        extra_ok = CLIENT_ONLY.get(path, set())
        missing = [r for r in server if r not in values]
        extra = [v for v in values if v not in expected and v not in extra_ok]
        duplicates = sorted({v for v in values if values.count(v) > 1})
        misnamed = [f"{n} = {v!r} (expected {name_for(v)})" for n, v in pairs
                    if n != name_for(v) and v not in extra_ok]
        if missing:
            problems.append(f"{path}: missing {', '.join(missing)}")
        if extra:
            problems.append(f"{path}: extra (not in {os.path.basename(SERVER)}) {', '.join(extra)}")
        if duplicates:
            problems.append(f"{path}: listed twice {', '.join(duplicates)}")
        if misnamed:
            problems.append(f"{path}: name does not match value: {'; '.join(misnamed)}")

    if problems:
        for p in problems:
            print(f"check-reasons: {p}", file=sys.stderr)
        print(f"check-reasons: FAILED: the clients' reason constants differ from {SERVER}; "
              "add or remove them in the files above (and their docs)", file=sys.stderr)
        return 1
    print(f"check-reasons: the Java, Python, Go and TypeScript clients list the server's "
          f"{len(server)} reasons")
    return 0


if __name__ == "__main__":
    sys.exit(main())
