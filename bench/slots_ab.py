"""The blocking connection's job and pin budget: slots as SimpleQueue tokens, against the old
Condition-guarded counter.

``Slots`` (src/sysd/_sync/_backend.py) counts the jobs awaited and the units pinned on a
blocking connection.  It used to be a counter guarded by a ``threading.Condition`` whose
``release()`` was a Python method; a Ctrl-C at that method's entry skipped the release (a
slot lost for good).  Its free slots are now tokens in a ``queue.SimpleQueue``: ``release``
is a ``functools.partial`` of ``put`` (C from the call to its return), ``try_acquire`` a
``get_nowait``.  Every start/stop/restart and every ``run(wait=True)`` takes one job slot
and, on the bus, one pin slot.  This measures a ``try_acquire`` + ``release`` pair both
ways, alternated in one process, best of 7 x 200,000 pairs (no contention: the common case).

    .venv/bin/python bench/slots_ab.py

Results: bench/RESULTS.md, "Blocking budget: slots a Ctrl-C cannot leak".
"""

from __future__ import annotations

import threading
import timeit

from sysd._sync._backend import Slots

N = 200_000


class ConditionSlots:
    """The old blocking Slots (as of e6779b7)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.used = 0
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)

    def try_acquire(self) -> bool:
        with self._lock:
            if self.used < self.size:
                self.used += 1
                return True
            return False

    def release(self) -> None:
        with self._lock:
            self.used -= 1
            self._cond.notify()


def pairs(slots: ConditionSlots | Slots) -> None:
    take, give = slots.try_acquire, slots.release
    for _ in range(N):
        take()
        give()


def main() -> None:
    old, new = ConditionSlots(256), Slots(256)
    best = {"condition": float("inf"), "simplequeue": float("inf")}
    for _ in range(7):
        best["condition"] = min(best["condition"], timeit.timeit(lambda: pairs(old), number=1))
        best["simplequeue"] = min(best["simplequeue"], timeit.timeit(lambda: pairs(new), number=1))
    assert old.used == 0 and new.used == 0
    for name, seconds in best.items():
        print(f"{name:12s} {seconds / N * 1e9:7.0f} ns per try_acquire + release")
    print(f"ratio simplequeue/condition: {best['simplequeue'] / best['condition']:.2f}")


if __name__ == "__main__":
    main()
