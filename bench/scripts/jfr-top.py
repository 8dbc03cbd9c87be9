#!/usr/bin/env python3
"""Top frames of a JFR recording's execution samples, from `jfr print` (JDK 17).

usage: bench/scripts/jfr-top.py FILE.jfr [--top N] [--thread SUBSTRING] [--native] [--callers TEXT]
                                [--between HH:MM:SS HH:MM:SS]   (one case of a server's recording)
                                [--owners 'NAME=TEXT|TEXT;NAME=TEXT']

Prints, per thread filter: the hottest leaf frames (self time) and the hottest frames anywhere
in the stack (total time), as a share of the samples. Uses jdk.ExecutionSample (Java code
running on CPU); jdk.NativeMethodSample (threads in native code, e.g. epoll or fsync) is counted
separately.

--owners charges each sample to the innermost frame that contains one of the owners' texts, e.g.
  --owners 'raft client=org.apache.ratis.client.|org.apache.ratis.grpc.client.;ours=dev.lightspeed.'
so a callback of ours that runs under Ratis' client is ours, and protobuf or Netty code that
Ratis' client calls is the client's. Samples with no owner are listed by thread.
"""
import argparse
import collections
import re
import subprocess
import sys


BETWEEN = None  # (first, last) "HH:MM:SS" of the samples kept, from --between


def samples(path, event):
    out = subprocess.run(
        ["jfr", "print", "--events", event, "--stack-depth", "64", path],
        check=True, capture_output=True, text=True).stdout
    for block in out.split(event + " {")[1:]:
        if BETWEEN:
            at = re.search(r"startTime = (\d\d:\d\d:\d\d)", block)
            if not at or not BETWEEN[0] <= at.group(1) <= BETWEEN[1]:
                continue
        thread = re.search(r'sampledThread = "([^"]*)"', block)
        frames = re.findall(r"^\s+([\w$.<>/]+\(.*?\)) line:", block, re.M)
        if frames:
            yield (thread.group(1) if thread else "?"), frames


def method(frame):
    return re.sub(r"\(.*\)", "", frame)


def owners_report(path, event, thread_filter, spec):
    owners = []
    for part in spec.split(";"):
        name, _, texts = part.partition("=")
        owners.append((name.strip(), [t for t in texts.split("|") if t]))
    counts = collections.Counter()
    n = 0
    for thread, frames in samples(path, event):
        if thread_filter and thread_filter not in thread:
            continue
        n += 1
        owner = None
        for f in frames:
            owner = next((name for name, texts in owners if any(t in f for t in texts)), None)
            if owner:
                break
        counts[owner or "no owner: " + re.sub(r"\d+", "#", thread)] += 1
    print(f"== {event} by owner: {n} samples")
    for o, c in counts.most_common():
        print(f"{100*c/max(n, 1):6.1f}%  {c:6d}  {o}")


def report(path, event, top, thread_filter, callers_of=None):
    leaf = collections.Counter()
    total = collections.Counter()
    threads = collections.Counter()
    callers = collections.Counter()
    n = 0
    for thread, frames in samples(path, event):
        if thread_filter and thread_filter not in thread:
            continue
        n += 1
        threads[re.sub(r"\d+", "#", thread)] += 1
        leaf[method(frames[0])] += 1
        for m in set(method(f) for f in frames):
            total[m] += 1
        if callers_of:
            for i, f in enumerate(frames):
                if callers_of in method(f) and i + 1 < len(frames):
                    callers[" <- ".join(method(x) for x in frames[i + 1:i + 4])] += 1
                    break
    print(f"== {event}: {n} samples{' in threads matching ' + repr(thread_filter) if thread_filter else ''}")
    if n == 0:
        return
    print("-- threads")
    for t, c in threads.most_common(8):
        print(f"{100*c/n:6.1f}%  {t}")
    print("-- self (leaf frame)")
    for m, c in leaf.most_common(top):
        print(f"{100*c/n:6.1f}%  {m}")
    print("-- total (anywhere in the stack)")
    for m, c in total.most_common(top):
        print(f"{100*c/n:6.1f}%  {m}")
    if callers_of:
        print(f"-- callers of {callers_of} (3 frames up)")
        for m, c in callers.most_common(top):
            print(f"{100*c/n:6.1f}%  {m}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("file")
    p.add_argument("--top", type=int, default=20)
    p.add_argument("--thread", default=None)
    p.add_argument("--native", action="store_true", help="also jdk.NativeMethodSample")
    p.add_argument("--callers", default=None, help="who calls frames containing this text")
    p.add_argument("--owners", default=None,
                   help="NAME=TEXT|TEXT;...: samples by the innermost frame holding a TEXT")
    p.add_argument("--between", nargs=2, metavar=("FIRST", "LAST"),
                   help="only samples from FIRST to LAST (HH:MM:SS, the recording's clock)")
    a = p.parse_args()
    global BETWEEN
    BETWEEN = a.between
    if a.owners:
        owners_report(a.file, "jdk.ExecutionSample", a.thread, a.owners)
        return
    report(a.file, "jdk.ExecutionSample", a.top, a.thread, a.callers)
    if a.native:
        report(a.file, "jdk.NativeMethodSample", a.top, a.thread, a.callers)


if __name__ == "__main__":
    sys.exit(main())
