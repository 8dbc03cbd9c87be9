#!/usr/bin/env python3
"""Turns bench/results/peer.jsonl (run-peer-bench.sh) into the Markdown tables of BENCHMARKS.md's
"Work stream vs. BullMQ" section. Usage: peer-table.py peer.jsonl [peer-machine.txt]"""

import json
import sys

ORDER = ["bullmq", "bullmq-fsync-everysec", "bullmq-fsync-always", "node", "python", "go", "java"]
NAMES = {"bullmq": "BullMQ", "bullmq-fsync-everysec": "BullMQ, AOF everysec",
         "bullmq-fsync-always": "BullMQ, AOF always", "node": "Node", "python": "Python", "go": "Go",
         "java": "Java"}
TARGET = {"enqueue": 3, "lifecycle": 2, "retry": 2, "dlq": 2}
RATE_WORKLOADS = ["enqueue", "lifecycle", "retry", "dlq"]


def main() -> None:
    rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip().startswith("{")]
    by = {(r["client"], r["workload"]): r for r in rows}
    clients = [c for c in ORDER if any(k[0] == c for k in by)]
    out = []
    out.append("| workload (target vs. BullMQ) | " + " | ".join(NAMES[c] for c in clients) + " |")
    out.append("|---|" + "---:|" * len(clients))
    for w in RATE_WORKLOADS:
        base = by.get(("bullmq", w))
        cells = []
        for c in clients:
            r = by.get((c, w))
            if r is None:
                cells.append("–")
            elif base is None or c.startswith("bullmq"):
                cells.append(f"{r['rate']:,.0f}/s")
            else:
                cells.append(f"{r['rate']:,.0f}/s ({r['rate'] / base['rate']:.2f}×)")
        out.append(f"| {w} rate (≥ {TARGET[w]}×) | " + " | ".join(cells) + " |")
        if w == "lifecycle":
            cells = [f"{by[(c, w)]['take_ack_p99_ms']:.1f} ms" if "take_ack_p99_ms" in by.get((c, w), {})
                     else "–" for c in clients]
            out.append("| lifecycle take→ack p99 (≤ BullMQ) | " + " | ".join(cells) + " |")
    for w in RATE_WORKLOADS:
        cells = [f"{by[(c, w)]['server_cpu_us_per_item']:,.0f} µs" if "server_cpu_us_per_item" in by.get((c, w), {})
                 else "–" for c in clients]
        out.append(f"| server CPU per batch, {w} | " + " | ".join(cells) + " |")
    timing = [r for r in rows if r["workload"] in ("retry-start", "lease-start")]
    if timing:
        out.append("")
        out.append("| time-driven start (target ≤ 50 ms late) | batches | due after | late p50 | p99 | max"
                   " | server's start late p50 / p99 / max |")
        out.append("|---|---:|---:|---:|---:|---:|---:|")
        for r in timing:
            due = "retry_at_ms" if r["workload"] == "retry-start" else "lease_deadline_ms"
            out.append(f"| {r['workload']} (observed start − {due}) | {r['items']} | {r['wait_ms']} ms"
                       f" | {r['late_p50_ms']:.0f} ms | {r['late_p99_ms']:.0f} ms | {r['late_max_ms']:.0f} ms"
                       f" | {r['server_late_p50_ms']:.0f} / {r['server_late_p99_ms']:.0f} /"
                       f" {r['server_late_max_ms']:.0f} ms |")
    if len(sys.argv) > 2:
        out.append("")
        out.append("```")
        out.extend(line.rstrip() for line in open(sys.argv[2]))
        out.append("```")
    print("\n".join(out))


if __name__ == "__main__":
    main()
