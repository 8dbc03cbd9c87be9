"""A producer that keeps W outstanding sends calls of W: when a call returns, the items that waited
for it wait further for those its callers send again, instead of leaving at once in a call of
their own (which made a producer with 64 outstanding alternate two calls of about 32 each: twice
the round trips, each paying the server's fsync). The waiting items are counted before the callers
are answered, so callers that send again from their future's callback are not counted twice.
Run: .venv/bin/python client-python/tests/batcher_waited.py  (exit 0 = ok; scripts/clients-test.sh)"""

import sys
import threading
from concurrent.futures import TimeoutError as FutureTimeout

from lightspeed_orchestrator.producer import BatchingOptions, _Batcher


def run(resend_in_callback: bool) -> list:
    """4 items in a call that returned (flush), 4 in the call held in flight, 4 waiting for it;
    then each of the 4 answered callers sends again at once. Returns the calls' sizes."""
    calls, held = [], []
    in_flight = threading.Event()

    def send(items, done) -> None:
        calls.append(len(items))
        if len(calls) == 2:
            held.append(done)  # answered below, from another thread, as grpc does
            in_flight.set()
        else:
            done([True] * len(items), None)

    # A timer that never fires within the test: only flush() or the refill rule sends.
    batcher = _Batcher(BatchingOptions(max_items=100, max_delay=3600), send, lambda item: 1)
    add = lambda: batcher.add("stage", object())  # noqa: E731
    for _ in range(4):
        add()
    batcher.flush(30)  # a call of 4 returned
    second = [add() for _ in range(4)]  # the refill: a call of 4 leaves and stays in flight
    if not in_flight.wait(30):
        raise AssertionError(f"the refill did not leave (calls {calls})")
    for _ in range(4):
        add()  # 4 more wait for it: 8 outstanding
    again = []
    if resend_in_callback:
        # as bench/clients/python/loadgen.py's window: the caller sends again while answered
        for f in second:
            f.add_done_callback(lambda _f: again.append(add()))
    answer = threading.Thread(target=lambda: held[0]([True] * 4, None), daemon=True)
    answer.start()
    if not resend_in_callback:
        for f in second:  # each answered caller sends again at once, as a window does
            f.result(30)
            again.append(add())
    answer.join(30)
    try:
        for f in list(again):
            f.result(10)
    except FutureTimeout:
        raise AssertionError(f"the refilled call did not leave without the timer (calls {calls})")
    return calls


def main() -> int:
    errors = []
    for resend_in_callback in (False, True):
        try:
            calls = run(resend_in_callback)
            if calls != [4, 4, 8]:
                errors.append(f"calls {calls}, expected [4, 4, 8]: what waited should leave with the refill")
        except AssertionError as e:
            errors.append(str(e))
        if errors:
            errors[-1] += f" (callers send again {'from the callback' if resend_in_callback else 'after result()'})"
            break
    for e in errors:
        print("FAIL:", e, file=sys.stderr)
    if errors:
        return 1
    print("ok: what waited for a call leaves with the items its callers send again")
    return 0


if __name__ == "__main__":
    sys.exit(main())
