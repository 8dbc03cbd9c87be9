"""A call that completes before its callback is attached (grpc then runs the callback at once, on
the sending thread, which holds the batcher's lock) must not deadlock the batcher.
Run: .venv/bin/python client-python/tests/batcher_sync_done.py  (exit 0 = ok; scripts/clients-test.sh)"""

import sys
import threading

from lightspeed_orchestrator.producer import BatchingOptions, _Batcher


def main() -> int:
    # done() called synchronously inside send(), as grpc's add_done_callback does for a call
    # that has already finished.
    batcher = _Batcher(BatchingOptions(max_items=10), lambda items, done: done([True] * len(items), None),
                       lambda item: 1)
    results = []

    def produce() -> None:
        futures = [batcher.add("stage", i) for i in range(25)]
        batcher.flush()
        results.extend(f.result() for f in futures)

    t = threading.Thread(target=produce, daemon=True)
    t.start()
    t.join(30)  # a deadlock never ends; a working batcher finishes in milliseconds
    if t.is_alive() or results != [True] * 25:
        print("FAIL: the batcher deadlocked on a call that completed synchronously", file=sys.stderr)
        return 1
    print("ok: batcher survives synchronously completed calls")
    return 0


if __name__ == "__main__":
    sys.exit(main())
