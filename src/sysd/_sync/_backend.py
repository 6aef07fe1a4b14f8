"""The few primitives that differ between flavours (hand-written twin: _async/_backend.py)."""

from __future__ import annotations

import contextlib
import functools
import queue
import threading
import time
from collections.abc import Callable
from typing import Generic, ParamSpec, TypeVar

_P = ParamSpec("_P")
_T = TypeVar("_T")


# threading's own locks, not wrappers: their __enter__/__exit__ are C, so no KeyboardInterrupt
# can land inside them (a Python __exit__ interrupted at its first instruction would leave
# the lock held for good) -- see sysd/_interrupt.py.
StateLock = threading.Lock
"""Guards a few counters (``with``, never held across a call): threads may share a
connection (the async twin does nothing: one event loop)."""


class Slots:
    """At most ``size`` holders at a time; the others wait until a slot is free or their
    deadline passes (the async twin serves them first come, first served).

    The free slots are tokens in a ``queue.SimpleQueue``, whose methods are C: giving one
    back (``release``, a ``functools.partial`` of its ``put``) runs no Python frame from
    the call to its return, so a Ctrl-C cannot land inside it nor at its entry (where it
    lands before any Python function's first instruction, see sysd/_interrupt.py); it is
    raised after it.  A ``finally`` that calls ``release()`` first thing gives the slot
    back whenever the interrupt came."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._free: queue.SimpleQueue[None] = queue.SimpleQueue()
        for _ in range(size):
            self._free.put(None)
        self.release: Callable[[], None] = functools.partial(self._free.put, None)
        """Give a slot back (wakes one waiter)."""

    @property
    def used(self) -> int:
        return self.size - self._free.qsize()

    def try_acquire(self) -> bool:
        """Take a slot if one is free now (never waits)."""
        try:
            self._free.get_nowait()
        except queue.Empty:
            return False
        return True

    def acquire(self, deadline: float | None = None) -> bool:
        """Take a slot, waiting; False when ``deadline`` (monotonic) passed first."""
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            return self.try_acquire()
        try:
            self._free.get(timeout=left)
        except queue.Empty:
            return False
        return True


class Soon:
    """Runs ``job()`` soon in a worker thread of the connection's own (the async twin
    starts it as a task on the event loop).

    ``spawn`` is called from finalizers, on whatever thread triggered a garbage
    collection, maybe while that thread holds the connection's lock: it only puts the
    job on a SimpleQueue (made for that: no lock a finalizer could deadlock on), and
    the job (bus I/O) runs in the worker, which may wait for the lock like any other
    thread.  The worker is started by ``start()`` in ordinary code (starting a thread
    takes threading's own locks: never from a finalizer); it waits for jobs and ends
    at ``stop()`` (the connection closed), or once ``alive()`` says its connection
    was collected unclosed (checked every SOON_IDLE seconds while idle).
    """

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[Callable[[], object] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def start(self, alive: Callable[[], bool], name: str) -> None:
        with self._start_lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(
                target=_work, args=(self._jobs, alive), name=name, daemon=True
            )
            self._thread.start()

    def spawn(self, job: Callable[[], object]) -> None:
        self._jobs.put(job)

    def stop(self) -> None:
        """End the worker (its connection was closed): what is queued is dropped with
        the connection, which takes its match rules and pins along."""
        thread = self._thread
        if thread is None or not thread.is_alive():
            return
        self._jobs.put(None)
        if thread is not threading.current_thread():
            thread.join(1.0)  # idle: it ends at once (a one-shot CLI exits fast then)


SOON_IDLE = 2.0


def _work(jobs: queue.SimpleQueue[Callable[[], object] | None], alive: Callable[[], bool]) -> None:
    while True:
        try:
            job = jobs.get(timeout=SOON_IDLE)
        except queue.Empty:
            if not alive():
                return
            continue
        if job is None:  # stop()
            return
        try:
            job()
        except Exception:  # pragma: no cover - the jobs report nothing (quiet by design)
            pass


Lock = threading.RLock
"""A lock for ``with`` (re-entrant: a thread may re-enter while it holds it)."""


def sleep(seconds: float) -> None:
    time.sleep(seconds)


def to_thread(fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """Run blocking *fn* right here (the async twin runs it in a worker thread)."""
    return fn(*args, **kwargs)


def gather(jobs: list[Callable[[], _T]]) -> list[_T | Exception]:
    """Run every job, one after the other; each one's result or Exception, in order (the
    async twin runs them concurrently)."""
    out: list[_T | Exception] = []
    for job in jobs:
        try:
            out.append(job())
        except Exception as exc:  # handed back: the caller decides
            out.append(exc)
    return out


def gather_limited(
    jobs: list[Callable[[], _T]],
    limit: int,
    on_interrupt: Callable[[], None],
) -> list[_T | Exception]:
    """Run the jobs in at most ``limit`` threads (fleets: one job per host); each one's
    result or Exception, in order.  On Ctrl-C (or any BaseException) while waiting, the
    jobs not started are dropped, ``on_interrupt()`` runs (the fleet closes its
    connections, which ends the calls under way) and the threads are joined before
    the exception goes on.  The async twin runs them as tasks."""
    from concurrent.futures import ThreadPoolExecutor, wait

    if not jobs:
        return []
    pool = ThreadPoolExecutor(
        max_workers=max(1, min(limit, len(jobs))), thread_name_prefix="sysd-fleet"
    )
    try:
        futures = [pool.submit(job) for job in jobs]
        wait(futures)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        try:
            on_interrupt()
        finally:
            pool.shutdown(wait=True)
        raise
    pool.shutdown(wait=True)
    out: list[_T | Exception] = []
    for future in futures:
        exc = future.exception()
        if exc is None:
            out.append(future.result())
        elif isinstance(exc, Exception):
            out.append(exc)
        else:
            raise exc
    return out


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


def abandoned_when(check: Callable[[], bool]) -> contextlib.AbstractContextManager[None]:
    """Within the block, this thread's waits for an ssh master give up once ``check()``
    (the fleet's threads, once it is closed: a Ctrl-C is not held up by a host that does
    not answer).  The async twin does nothing: a task is cancelled instead."""
    from .._bus.ssh import abandoned_when as abandoned

    return abandoned(check)
