"""The few primitives that differ between flavours (hand-written twin: _sync/_backend.py)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Generic, ParamSpec, TypeVar

_P = ParamSpec("_P")
_T = TypeVar("_T")


class AsyncStateLock:
    """Guards a few counters (``with``, never held across a call): nothing to do on one
    event loop; the blocking twin is a threading.Lock (threads may share a connection)."""

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        pass


class AsyncLock:
    """A lock held across awaits (``async with``); the blocking twin is a threading.RLock."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()

    async def __aenter__(self) -> None:
        await self._lock.acquire()

    async def __aexit__(self, *exc: object) -> None:
        self._lock.release()


class AsyncSlots:
    """At most ``size`` holders at a time; the others wait in line (first come, first
    served) until a slot is free or their deadline passes.  The blocking twin is a
    threading.Condition (threads may share a connection)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.used = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    def try_acquire(self) -> bool:
        """Take a slot if one is free now (never waits)."""
        if self.used < self.size and not self._waiters:
            self.used += 1
            return True
        return False

    async def acquire(self, deadline: float | None = None) -> bool:
        """Take a slot, waiting in line; False when ``deadline`` (monotonic) passed first."""
        if self.try_acquire():
            return True
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        self._waiters.append(fut)
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        try:
            async with asyncio.timeout(left):
                await fut
        except BaseException as exc:
            if fut.done() and not fut.cancelled():
                self.release()  # handed to us as we left: pass it on
            else:
                fut.cancel()
                if fut in self._waiters:
                    self._waiters.remove(fut)
            if isinstance(exc, TimeoutError):
                return False
            raise
        return True

    def release(self) -> None:
        """Give a slot back: to the first in line, if anyone waits."""
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(None)  # the slot passes on: ``used`` stays
                return
        self.used -= 1


class AsyncSoon:
    """Starts ``job()`` soon as a task on the event loop running when this was made,
    from any thread or a finalizer (``call_soon_threadsafe``); nothing once that loop
    is closed.  The blocking twin runs the jobs in a worker thread of its own."""

    def __init__(self) -> None:
        try:
            self._loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = None
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, alive: Callable[[], bool], name: str) -> None:
        """Nothing to start: the loop runs the jobs (the blocking twin starts a thread)."""

    def stop(self) -> None:
        """Nothing to stop: what was spawned finishes on the loop."""

    def spawn(self, job: Callable[[], Awaitable[None]]) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return

        def start() -> None:
            async def run() -> None:
                await job()

            task = loop.create_task(run())
            self._tasks.add(task)  # a reference until done (the loop keeps only weak ones)
            task.add_done_callback(self._tasks.discard)

        with contextlib.suppress(RuntimeError):  # closed meanwhile
            loop.call_soon_threadsafe(start)


async def sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


async def to_thread(fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """Run blocking *fn* (file I/O) in a worker thread, off the event loop."""
    return await asyncio.to_thread(fn, *args, **kwargs)


async def gather(jobs: list[Callable[[], Awaitable[_T]]]) -> list[_T | Exception]:
    """Run every job concurrently; each one's result or Exception, in order (the blocking
    twin runs them one after the other)."""
    results = await asyncio.gather(*(job() for job in jobs), return_exceptions=True)
    out: list[_T | Exception] = []
    for result in results:
        if isinstance(result, BaseException) and not isinstance(result, Exception):
            raise result  # cancelled, Ctrl-C: not a unit's failure
        out.append(result)
    return out


async def gather_limited(
    jobs: list[Callable[[], Awaitable[_T]]],
    limit: int,
    on_interrupt: Callable[[], Awaitable[None]],
) -> list[_T | Exception]:
    """Run the jobs, at most ``limit`` at a time (fleets: one job per host); each one's
    result or Exception, in order.  Cancelled or interrupted, the running jobs are
    cancelled, then ``on_interrupt()`` runs (the fleet closes its connections) and the
    cancellation goes on.  The blocking twin runs them in ``limit`` threads."""
    slots = asyncio.Semaphore(max(1, limit))

    async def one(job: Callable[[], Awaitable[_T]]) -> _T:
        async with slots:
            return await job()

    try:
        results = await asyncio.gather(*(one(job) for job in jobs), return_exceptions=True)
    except BaseException:
        await on_interrupt()
        raise
    out: list[_T | Exception] = []
    for result in results:
        if isinstance(result, BaseException) and not isinstance(result, Exception):
            await on_interrupt()
            raise result
        out.append(result)
    return out


class AsyncThreadHandle(Generic[_T]):
    """*fn* running in its own daemon thread; ``await handle.join()`` for its result.

    For blocking work that must run *concurrently* with the caller (moving bytes
    between pipes while the caller waits on the bus): the default executor is
    not used, so many of these never queue behind each other.
    """

    def __init__(self, fn: Callable[[], _T], name: str) -> None:
        loop = asyncio.get_running_loop()
        self._future: asyncio.Future[_T] = loop.create_future()

        def target() -> None:
            try:
                value = fn()
            except BaseException as exc:  # handed to the awaiting task
                _settle_threadsafe(loop, self._future, None, exc)
            else:
                _settle_threadsafe(loop, self._future, value, None)

        self._thread = threading.Thread(target=target, name=name, daemon=True)
        self._thread.start()

    def done(self) -> bool:
        return self._future.done()

    async def join(self, timeout: float | None = None) -> _T:
        """The thread's result (its exception re-raised); TimeoutError after ``timeout``.

        Cancelling the awaiting task does not stop the thread.
        """
        async with asyncio.timeout(timeout):
            return await asyncio.shield(self._future)


def _settle_threadsafe(
    loop: asyncio.AbstractEventLoop,
    future: asyncio.Future[_T],
    value: _T | None,
    exc: BaseException | None,
) -> None:
    def settle() -> None:
        if future.done():
            return
        if exc is not None:
            future.set_exception(exc)
        else:
            future.set_result(value)  # type: ignore[arg-type]

    try:
        loop.call_soon_threadsafe(settle)
    except RuntimeError:  # the loop is closed: nobody is waiting any more
        pass


def abandoned_when(check: Callable[[], bool]) -> contextlib.AbstractContextManager[None]:
    """Nothing: a task connecting is cancelled instead (the blocking twin ends a thread's
    wait for an ssh master once ``check()``)."""
    return contextlib.nullcontext()
