"""Watching one unit's properties as systemd announces them.

A watch subscribes (reference counted), adds a PropertiesChanged match for the
unit on a message bus (the private socket delivers everything anyway), and
keeps every value seen, so the last state of a unit that systemd collects
right after it stopped is still there.  After a daemon-reload or reexec the
unit is read again; a unit removed during a reload counts as removed only if
it is gone once the reload is over (RELIABILITY.md 21).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .._bus.wire import match_rule
from .._core.unitname import to_dbus_path
from ..errors import BusDisconnectedError, DBusError, WaitTimeoutError

if TYPE_CHECKING:
    from .systemd import AsyncSystemd, _Watched

__all__ = ["AsyncUnitWatch"]

UNIT_INTERFACE = "org.freedesktop.systemd1.Unit"
PROPERTIES_INTERFACE = "org.freedesktop.DBus.Properties"


class AsyncUnitWatch:
    """The properties of one unit, kept current from systemd's signals."""

    def __init__(self, sd: AsyncSystemd, name: str) -> None:
        self.sd = sd
        self.name = name
        self.path = to_dbus_path(name)
        self._entry: _Watched | None = None
        self._rule: str | None = None
        self._invocation: Any = None

    @property
    def props(self) -> Mapping[str, Any]:
        """Every property value seen so far, by D-Bus name (Unit and type interface)."""
        return self._live().props

    @property
    def removed(self) -> bool:
        """True once systemd unloaded the unit (garbage-collected it)."""
        return self._live().removed

    def _live(self) -> _Watched:
        if self._entry is None:
            raise RuntimeError("use the watch as a context manager first")
        return self._entry

    async def __aenter__(self) -> AsyncUnitWatch:
        sd = self.sd
        self._entry = sd._watch(self.path)
        try:
            await sd._subscribe()
            try:
                if sd.bus.target.hello:
                    rule = match_rule(
                        sender="org.freedesktop.systemd1",
                        path=self.path,
                        interface=PROPERTIES_INTERFACE,
                        member="PropertiesChanged",
                    )
                    await sd.bus.add_match(rule)
                    self._rule = rule
            except BaseException:
                await sd._unsubscribe()
                raise
        except BaseException:
            sd._unwatch(self.path)
            self._entry = None
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        sd = self.sd
        try:
            if self._rule is not None and not sd.bus.closed:
                await sd.bus.remove_match(self._rule)
            await sd._unsubscribe()
        finally:
            sd._unwatch(self.path)
            self._rule = None

    async def refresh(self) -> Mapping[str, Any]:
        """Read the unit again (GetAll of the Unit interface) unless it is gone."""
        entry = self._live()
        if entry.removed:
            return entry.props
        try:
            props = await self.sd.get_all(self.path, UNIT_INTERFACE)
        except DBusError:
            return entry.props
        invocation = props.get("InvocationID")
        known = entry.props.get("InvocationID", self._invocation)
        if props.get("LoadState") == "not-found" or (known and invocation != known):
            # a stub loaded in place of the collected unit: keep what we saw
            entry.removed = True
            return entry.props
        entry.props.update(props)
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
        entry = self._live()
        deadline = None if timeout is None else time.monotonic() + timeout
        generation = sd._generation
        while True:
            if until(entry.props) or entry.removed:
                return entry.props
            if generation != sd._generation:  # reload or reexec: read it again
                generation = sd._generation
                await self.refresh()
                continue
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise WaitTimeoutError(f"{self.name} did not reach the awaited state in time")
            changes = entry.changes
            gen = generation
            try:
                await sd.bus.wait_until(_news(sd, entry, changes, gen), left)
            except BusDisconnectedError:
                await sd._reconnect(deadline)


def _news(sd: AsyncSystemd, entry: _Watched, changes: int, generation: int) -> Callable[[], bool]:
    return lambda: (
        entry.changes != changes or entry.removed or sd._generation != generation or sd.bus.closed
    )
