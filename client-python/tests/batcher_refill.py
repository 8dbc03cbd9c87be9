"""A call that holds as many items as the lane's last call returned leaves at once, without
waiting for the timer (a producer with a bounded window refills right after its results come
back); fewer wait for the timer or a flush, as before.
Run: .venv/bin/python client-python/tests/batcher_refill.py  (exit 0 = ok; scripts/clients-test.sh)"""

import sys

from lightspeed_orchestrator.producer import BatchingOptions, _Batcher


def main() -> int:
    calls = []

    def send(items, done) -> None:
        calls.append(list(items))
        done([True] * len(items), None)  # answered at once

    # A timer that never fires within the test: only flush() or the refill rule sends.
    batcher = _Batcher(BatchingOptions(max_items=100, max_delay=3600), send, lambda item: 1)
    first = [batcher.add("stage", i) for i in range(8)]
    batcher.flush(30)
    refill = [batcher.add("stage", i) for i in range(8, 16)]
    alone = batcher.add("stage", 16)
    errors = []
    if calls != [list(range(8)), list(range(8, 16))]:
        errors.append(f"calls {calls}, expected one of 8 (flushed) and one of 8 (refill, no flush)")
    if not all(f.done() for f in first + refill):
        errors.append("the refilled items did not leave without the timer")
    if alone.done():
        errors.append("an item fewer than the last call returned left without the timer")
    batcher.flush(30)
    if not alone.done():
        errors.append("flush did not send the last item")
    for e in errors:
        print("FAIL:", e, file=sys.stderr)
    if errors:
        return 1
    print("ok: a call as large as the last one returned leaves without the timer")
    return 0


if __name__ == "__main__":
    sys.exit(main())
