"""The few primitives that differ between flavours (hand-written twin: _async/_backend.py)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, ParamSpec, TypeVar

_P = ParamSpec("_P")
_T = TypeVar("_T")


class StateLock:
    """Guards a few counters (``with``, never held across a call): threads may share a
    connection (the async twin does nothing: one event loop)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def __enter__(self) -> None:
        self._lock.acquire()

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


class Slots:
    """At most ``size`` holders at a time; the others wait until a slot is free or their
    deadline passes (the async twin serves them first come, first served)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.used = 0
        self._cond = threading.Condition(threading.Lock())

    def try_acquire(self) -> bool:
        """Take a slot if one is free now (never waits)."""
        with self._cond:
            if self.used < self.size:
                self.used += 1
                return True
            return False

    def acquire(self, deadline: float | None = None) -> bool:
        """Take a slot, waiting; False when ``deadline`` (monotonic) passed first."""
        with self._cond:
            while self.used >= self.size:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._cond.wait(left)
            self.used += 1
            return True

    def release(self) -> None:
        """Give a slot back (wakes one waiter)."""
        with self._cond:
            self.used -= 1
            self._cond.notify()


class Soon:
    """Does nothing: the async twin starts a job on the event loop from a finalizer;
    here no loop runs, and the connection's next use does the work."""

    def spawn(self, job: Callable[[], object]) -> None:
        pass


class Lock:
    """A lock for ``with`` (re-entrant: a thread may re-enter while it holds it)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()

    def __enter__(self) -> None:
        self._lock.acquire()

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


def sleep(seconds: float) -> None:
    time.sleep(seconds)


def to_thread(fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """Run blocking *fn* right here (the async twin runs it in a worker thread)."""
    return fn(*args, **kwargs)


class ThreadHandle(Generic[_T]):
    """*fn* running in its own daemon thread; ``handle.join()`` for its result
    (the twin of the async ``AsyncThreadHandle``)."""

    def __init__(self, fn: Callable[[], _T], name: str) -> None:
        self._value: _T | None = None
        self._exc: BaseException | None = None
        self._done = threading.Event()

        def target() -> None:
            try:
                self._value = fn()
            except BaseException as exc:  # re-raised in join()
                self._exc = exc
            finally:
                self._done.set()

        self._thread = threading.Thread(target=target, name=name, daemon=True)
        self._thread.start()

    def done(self) -> bool:
        return self._done.is_set()

    def join(self, timeout: float | None = None) -> _T:
        """The thread's result (its exception re-raised); TimeoutError after ``timeout``."""
        if not self._done.wait(timeout):
            raise TimeoutError
        if self._exc is not None:
            raise self._exc
        return self._value  # type: ignore[return-value]
