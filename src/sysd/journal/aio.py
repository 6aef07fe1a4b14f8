"""Reading the journal from asyncio without blocking the event loop.

::

    import sysd.journal.aio

    async with sysd.journal.aio.entries(unit="nginx.service", lines=10, follow=True) as it:
        async for entry in it:
            print(entry.message)

The journal is opened (and any initial seek done) in a worker thread; reading then
happens on the loop in steps of at most a few hundred entries, with a yield to the
loop between steps.  While following, the reader waits on sd-journal's inotify
descriptor (``loop.add_reader``) and a poll timer of a few milliseconds while entries
arrive (backing off to 250 ms when none come: :func:`sysd.journal._reader.poll_delay`),
so new entries arrive with low latency, a quiet follower costs next to nothing, and a
cancelled task stops at once.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from ._entry import Entry
from ._reader import DEFAULT_POLL_INTERVAL, Entries, ReaderStatistics, State
from ._remote import AsyncRemoteEntries, RemoteTarget

__all__ = ["AsyncEntries", "AsyncRemoteEntries", "entries", "follow"]


class AsyncEntries:
    """The async twin of :class:`sysd.journal.Entries` (same arguments).

    Iterate it with ``async for``; close it with :meth:`aclose` or ``async with``.
    Nothing is opened until the first ``__anext__``.
    """

    def __init__(self, **kwargs: Any) -> None:
        self._kwargs = kwargs
        self._reader: Entries | None = None
        self._opened: Entries | None = None  # kept after closing, for statistics()
        self._opening: asyncio.Future[Entries] | None = None
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._watching = -1
        self._wakeup: asyncio.Future[None] | None = None
        self._ready = 0  # entries handed out since the last yield to the loop

    @classmethod
    def for_unit(
        cls,
        name: str,
        *,
        scope: str = "system",
        lines: int | None = 10,
        follow: bool = False,
        **kwargs: Any,
    ) -> AsyncEntries:
        """A unit's logs as ``Unit.logs()`` reads them (see :meth:`Entries.for_unit`).

        Raises at once for ``scope="remote"``; anything else wrong shows at the first
        ``__anext__``.
        """
        from . import _unit_kwargs

        return cls(**_unit_kwargs(name, scope, lines, follow, kwargs))

    @property
    def cursor(self) -> str | None:
        """The cursor of the last entry returned."""
        return self._reader.cursor if self._reader is not None else None

    def statistics(self) -> ReaderStatistics:
        """The reader's counters (:meth:`sysd.journal.Entries.statistics`); zeros before
        the first ``__anext__``."""
        if self._opened is None:
            return ReaderStatistics(0, 0, 0, 0, 0.0, 0)
        return self._opened.statistics()

    async def _open(self) -> Entries:
        loop = asyncio.get_running_loop()
        self._loop = loop
        future = loop.run_in_executor(None, lambda: Entries(**self._kwargs))
        try:
            reader = await asyncio.shield(future)
        except asyncio.CancelledError:
            # the thread goes on opening: close what it opens
            future.add_done_callback(_close_result)
            raise
        if self._closed:
            reader.close()
            raise StopAsyncIteration
        self._reader = self._opened = reader
        return reader

    def __aiter__(self) -> AsyncEntries:
        return self

    async def __anext__(self) -> Entry:
        if self._closed:
            raise StopAsyncIteration
        reader = self._reader or await self._open()
        while True:
            if self._ready >= 256:  # a long backlog: let the loop breathe between steps
                self._ready = 0
                await asyncio.sleep(0)
            try:
                entry = reader.next_nowait()
            except StopIteration:
                await self.aclose()
                raise StopAsyncIteration from None
            except BaseException:
                await self.aclose()
                raise
            if entry is not None:
                self._ready += 1
                return entry
            self._ready = 0
            if reader.state is State.MORE:  # a step found nothing (grep): yield, go on
                await asyncio.sleep(0)
                continue
            await self._wait(reader)

    async def _wait(self, reader: Entries) -> None:
        loop = self._loop or asyncio.get_running_loop()
        fd = reader.fileno()
        if self._watching != fd:
            loop.add_reader(fd, self._on_readable)
            self._watching = fd
        waiter: asyncio.Future[None] = loop.create_future()
        self._wakeup = waiter
        timer = loop.call_later(reader._poll_delay(), _wake, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            self._wakeup = None
        reader._wakeups += 1
        reader._state = State.MORE  # poll again

    def _on_readable(self) -> None:
        reader = self._reader
        if reader is None:
            return
        try:
            reader._process()  # drains the inotify descriptor
        except Exception:
            pass  # the next read reports the error
        if self._wakeup is not None:
            _wake(self._wakeup)

    async def aclose(self) -> None:
        """Stop reading and release the journal files (idempotent)."""
        self._closed = True
        reader, self._reader = self._reader, None
        if self._watching >= 0 and self._loop is not None:
            try:
                self._loop.remove_reader(self._watching)
            except (ValueError, OSError, RuntimeError):
                pass
            self._watching = -1
        if self._wakeup is not None:
            _wake(self._wakeup)
        if reader is not None:
            reader.close()

    async def __aenter__(self) -> AsyncEntries:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("open" if self._reader else "not opened")
        return f"<AsyncEntries ({state})>"


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def _close_result(future: asyncio.Future[Entries]) -> None:
    if not future.cancelled() and future.exception() is None:
        future.result().close()


def entries(
    *,
    unit: str | Iterable[str] | None = None,
    user_unit: str | Iterable[str] | None = None,
    priority: int | str | Sequence[int | str] | None = None,
    since: datetime | str | None = None,
    until: datetime | str | None = None,
    boot: bool | int | str | None = None,
    identifier: str | Iterable[str] | None = None,
    grep: str | re.Pattern[str] | None = None,
    matches: Iterable[str] | None = None,
    cursor: str | None = None,
    after_cursor: str | None = None,
    reverse: bool = False,
    lines: int | None = None,
    follow: bool = False,
    fields: Iterable[str] | None = None,
    directory: str | os.PathLike[str] | None = None,
    poll_interval: float = DEFAULT_POLL_INTERVAL,
    user: bool = False,
    host: str | None = None,
    machine: str | None = None,
    ssh_config: str | None = None,
    sudo: bool = False,
) -> AsyncEntries | AsyncRemoteEntries:
    """:func:`sysd.journal.entries` for asyncio: an async iterator of entries.

    With ``host=`` or ``machine=``: an :class:`AsyncRemoteEntries` (journalctl over
    ssh or ``-M``; the process starts at the first ``__anext__`` and ends when the
    iterator is closed or a task reading it is cancelled).
    """
    if host is not None or machine is not None:
        return AsyncRemoteEntries(
            RemoteTarget(host=host, machine=machine, ssh_config=ssh_config, sudo=sudo),
            unit=unit, user_unit=user_unit, priority=priority, since=since, until=until,
            boot=boot, identifier=identifier, grep=grep, matches=matches, cursor=cursor,
            after_cursor=after_cursor, reverse=reverse, lines=lines, follow=follow,
            fields=fields, directory=directory, user=user,
        )  # fmt: skip
    return AsyncEntries(
        unit=unit, user_unit=user_unit, priority=priority, since=since, until=until, boot=boot,
        identifier=identifier, grep=grep, matches=matches, cursor=cursor,
        after_cursor=after_cursor, reverse=reverse, lines=lines, follow=follow, fields=fields,
        directory=directory, poll_interval=poll_interval, user=user,
    )  # fmt: skip


def follow(**kwargs: Any) -> AsyncEntries | AsyncRemoteEntries:
    """``entries(..., follow=True)``: existing entries as selected, then new ones as they come."""
    kwargs["follow"] = True
    return entries(**kwargs)
