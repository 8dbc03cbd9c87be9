"""One daemon thread that runs the client's short delays: the batchers' linger, the workers'
heartbeats and report timeouts. A ``threading.Timer`` would start a thread for each; callbacks
here must be quick and must not block (they only send, or hand over to a pool)."""

from __future__ import annotations

import heapq
import logging
import itertools
import threading
import time
from typing import Callable, List, Optional


_log = logging.getLogger(__name__)


class _Timers:
    """A heap of (time, sequence, callback) and the thread that runs them when due."""

    def __init__(self) -> None:
        self._heap: List[tuple] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._thread: Optional[threading.Thread] = None

    def schedule(self, delay: float, callback: Callable[[], None]) -> list:
        """Runs ``callback`` after ``delay`` seconds; returns a handle for :meth:`cancel`."""
        entry = [time.monotonic() + delay, next(self._seq), callback]
        with self._cond:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="lightspeed-timer", daemon=True)
                self._thread.start()
            heapq.heappush(self._heap, entry)
            if self._heap[0] is entry:
                self._cond.notify()
        return entry

    @staticmethod
    def cancel(entry: list) -> None:
        entry[2] = None  # left in the heap until its time (a cancel costs nothing): then skipped

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._heap or self._heap[0][0] > time.monotonic():
                    self._cond.wait(self._heap[0][0] - time.monotonic() if self._heap else None)
                callback = heapq.heappop(self._heap)[2]
            if callback is not None:
                try:
                    callback()
                except Exception:  # noqa: BLE001 - one failing callback must not stop the others
                    _log.exception("timer callback failed")


TIMERS = _Timers()
