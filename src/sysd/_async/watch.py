"""Watching one unit's properties as systemd announces them.

A watch holds the connection's one subscription (reference counted; its broad
PropertiesChanged match serves every watched unit) and keeps every value seen,
so the last state of a unit that systemd collects right after it stopped is
still there.  After a daemon-reload, reexec or reconnect the unit is read
again; a unit removed during a reload counts as removed only if it is gone
once the reload is over (RELIABILITY.md 21).  Entering registers nothing that
leaving (or an interrupted entering) does not undo.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .._core.jobs import type_interface
from .._core.systemd1 import UNIT_INTERFACE
from .._core.unitname import to_dbus_path
from .._interrupt import AsyncCriticalSection
from ..errors import BusDisconnectedError, DBusError, WaitTimeoutError
from .subscription import GONE, Watched

if TYPE_CHECKING:
    from .subscription import AsyncSubscription
    from .systemd import AsyncSystemd

__all__ = ["AsyncUnitWatch"]


class AsyncUnitWatch:
    """The properties of one unit, kept current from systemd's signals."""

    def __init__(self, sd: AsyncSystemd, name: str) -> None:
        self.sd = sd
        self.name = name
        self.path = to_dbus_path(name)
        self._entry: Watched | None = None
        self._held = False
        self._invocation: Any = None

    @property
    def props(self) -> Mapping[str, Any]:
        """Every property value seen so far, by D-Bus name (Unit and type interface)."""
        return self._live().props

    @property
    def removed(self) -> bool:
        """True once systemd unloaded the unit (garbage-collected it)."""
        return self._live().removed

    def _live(self) -> Watched:
        if self._entry is None:
            raise RuntimeError("use the watch as a context manager first")
        return self._entry

    async def __aenter__(self) -> AsyncUnitWatch:
        if self._held:
            raise RuntimeError("this watch is already entered")
        sub = self.sd._subscription
        try:
            # the entry, the subscription's count and the marker __aexit__ reads go
            # together: a Ctrl-C in between waits for the end of the block (blocking
            # flavour), which is inside this try
            with AsyncCriticalSection():
                self._entry = sub.watch(self.path)
                sub.hold()
                self._held = True
            await sub.set_up()
            return self
        except BaseException:
            await self.__aexit__(None, None, None)
            raise

    async def __aexit__(self, *exc: object) -> None:
        """Leave (nothing when not entered: callers may call it on any path)."""
        with AsyncCriticalSection():
            if not self._held:
                return
            self._held = False
            sub = self.sd._subscription
            # the entry goes first: once the holders count is down to none (release
            # awaits the teardown), nothing this watch counted is left to see
            try:
                sub.unwatch(self.path)
            finally:
                await sub.release()

    async def refresh(self) -> Mapping[str, Any]:
        """Read the unit again (GetAll of Unit and of its type interface) unless it is gone.

        Raises the typed disconnect/no-reply error while systemd is away (the waiters
        reconnect and read again)."""
        entry = self._live()
        if entry.removed:
            return entry.props
        sub = self.sd._subscription
        generation = sub.generation
        iface = type_interface(self.name)
        # Signals that arrive while we read are newer than the read (the unit may end
        # between the two GetAll, or while a thread sharing the connection holds it):
        # what they changed is not overwritten with the older values read.
        touched = entry.begin_read()
        try:
            props = await self.sd.get_all(self.path, UNIT_INTERFACE)
            invocation = props.get("InvocationID")
            known = entry.props.get("InvocationID", self._invocation)
            if props.get("LoadState") == "not-found" or (known and invocation != known):
                # a stub loaded in place of the collected unit: keep what we saw
                entry.removed = True
                entry.removed_at = entry.changes
                return entry.props
            if iface is not None:  # Result, ExecMainStatus...: what changed in a gap
                props.update(await self.sd.get_all(self.path, iface))
        except GONE:
            raise
        except DBusError:
            return entry.props
        finally:
            entry.end_read()
        if touched:
            props = {key: value for key, value in props.items() if key not in touched}
        entry.props.update(props)
        if "Result" in props and entry.props.get("ActiveState") in ("failed", "inactive"):
            # trusted as the run's result only once the unit has ended: one read while it
            # still runs (Result=success) is no answer, and its end may go unsignalled
            # (a unit that fails while systemd re-executes: systemd sends no change for
            # it while reloading), so the result is read from the unit then
            entry.result_generation = generation
        entry.changes += 1
        self._invocation = invocation
        return entry.props

    async def wait(
        self,
        until: Callable[[Mapping[str, Any]], bool],
        timeout: float | None = None,
    ) -> Mapping[str, Any]:
        """Wait until ``until(props)`` holds or the unit is removed; return the props.

        ``timeout`` (seconds, None for no limit) raises WaitTimeoutError.
        """
        sd = self.sd
        sub = sd._subscription
        entry = self._live()
        deadline = None if timeout is None else time.monotonic() + timeout
        generation = sub.generation
        while True:
            if until(entry.props) or entry.removed:
                return entry.props
            if generation != sub.generation:  # reload or reexec: read it again
                generation = sub.generation
                try:
                    await self.refresh()
                except GONE:  # systemd away again: wait for it, then read again
                    generation = -1
                    await sub.reconnect(deadline)
                continue
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise WaitTimeoutError(f"{self.name} did not reach the awaited state in time")
            changes = entry.changes
            gen = generation
            try:
                await sd.bus.wait_until(_news(sub, entry, changes, gen), left)
            except BusDisconnectedError:
                await sub.reconnect(deadline)


def _news(
    sub: AsyncSubscription, entry: Watched, changes: int, generation: int
) -> Callable[[], bool]:
    sd = sub.sd
    return lambda: (
        entry.changes != changes or entry.removed or sub.generation != generation or sd.bus.closed
    )
