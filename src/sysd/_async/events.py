"""A stream of systemd's events, on the connection's one subscription (stub: API only)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from .._core.events import Event, EventFilter, EventQueue, UnitChanged

if TYPE_CHECKING:
    from .systemd import AsyncSystemd

__all__ = ["AsyncEvents", "wait_for", "wait_for_units"]


class AsyncEvents:
    """``async with sd.events(...) as stream: async for event in stream: ...``."""

    def __init__(
        self,
        sd: AsyncSystemd,
        units: Iterable[str] | str | None,
        patterns: Iterable[str] | str | None,
        types: Iterable[str] | str | None,
        kinds: Iterable[type[Event] | str] | type[Event] | str | None,
        queue: int,
        reconnect: bool,
    ) -> None:
        self.sd = sd
        self.filter = EventFilter(units, patterns, types, kinds)
        self.queue = EventQueue(queue)
        self.reconnect = reconnect

    async def __aenter__(self) -> AsyncEvents:
        raise NotImplementedError("sd.events(): coming in the next commit")

    async def __aexit__(self, *exc: object) -> None:
        pass

    def __aiter__(self) -> AsyncEvents:
        return self

    async def __anext__(self) -> Event:
        raise NotImplementedError


async def wait_for(
    sd: AsyncSystemd,
    name: str,
    active_state: str | None,
    sub_state: str | None,
    predicate: Callable[[UnitChanged], bool] | None,
    timeout: float | None,
) -> UnitChanged:
    raise NotImplementedError("unit.wait_for(): coming in the next commit")


async def wait_for_units(
    sd: AsyncSystemd, names: Iterable[str] | str, state: str, timeout: float | None
) -> dict[str, UnitChanged]:
    raise NotImplementedError("sd.wait_for_units(): coming in the next commit")
