#!/usr/bin/env python3
"""Extracts the README's tested blocks: a fenced block right after a line
``<!-- readme-test: LANG PATH -->`` is the file PATH of language LANG, and one after
``<!-- readme-test: LANG run -->`` holds the commands that run it.

    readme_blocks.py README.md LANG DIR   writes LANG's files under DIR and DIR/.readme-run.sh
    readme_blocks.py README.md --list     prints the languages, one a line

Fails when a marker is not followed by a fenced block, a language has no run block, or a
path would leave DIR.
"""

import os
import re
import sys

MARKER = re.compile(r"^<!-- readme-test: (\S+) (\S+) -->$")


def blocks(readme):
    lines = open(readme, encoding="utf-8").read().split("\n")
    found = []
    i = 0
    while i < len(lines):
        m = MARKER.match(lines[i])
        if not m:
            i += 1
            continue
        if i + 1 >= len(lines) or not lines[i + 1].startswith("```"):
            sys.exit(f"{readme}:{i + 1}: a readme-test marker must be followed by a fenced block")
        end = i + 2
        while end < len(lines) and lines[end] != "```":
            end += 1
        if end == len(lines):
            sys.exit(f"{readme}:{i + 2}: unterminated fenced block")
        found.append((m.group(1), m.group(2), "\n".join(lines[i + 2:end]) + "\n"))
        i = end + 1
    return found


def main():
    readme = sys.argv[1]
    found = blocks(readme)
    if sys.argv[2] == "--list":
        for lang in dict.fromkeys(lang for lang, _, _ in found):
            print(lang)
        return
    lang, out = sys.argv[2], sys.argv[3]
    mine = [(path, text) for l, path, text in found if l == lang]
    if not any(path == "run" for path, _ in mine):
        sys.exit(f"{readme}: no 'readme-test: {lang} run' block")
    for path, text in mine:
        target = os.path.join(out, ".readme-run.sh" if path == "run" else path)
        if not os.path.realpath(target).startswith(os.path.realpath(out) + os.sep):
            sys.exit(f"{readme}: {path} leaves the directory")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "w", encoding="utf-8") as f:
            f.write(text)


if __name__ == "__main__":
    main()
