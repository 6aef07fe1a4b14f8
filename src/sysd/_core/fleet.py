"""What a fleet call returns: each host's value or error (pure, shared by both flavours)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from ..errors import FleetError
from .hostrange import fold

if TYPE_CHECKING:
    from .report import FailureReport

__all__ = ["FleetLogs", "FleetResult", "RollingReport"]

_T = TypeVar("_T")


class FleetResult(Generic[_T]):
    """Each host's answer: its value or its error, in the fleet's host order.

    ``result[host]`` is the value (the host's error raised); ``.ok`` the hosts that
    answered, ``.failed`` those that did not (host -> exception), ``.by_value()``
    the distinct answers with the hosts that gave each.  Nothing is raised for a
    host's failure unless :meth:`raise_for_failures` is called.
    """

    def __init__(self, results: Mapping[str, _T | Exception], skipped: Sequence[str] = ()):
        self.results: dict[str, _T | Exception] = dict(results)
        self.skipped: list[str] = list(skipped)

    @property
    def ok(self) -> dict[str, _T]:
        return {h: v for h, v in self.results.items() if not isinstance(v, Exception)}

    @property
    def failed(self) -> dict[str, Exception]:
        return {h: v for h, v in self.results.items() if isinstance(v, Exception)}

    @property
    def hosts(self) -> list[str]:
        return list(self.results) + self.skipped

    def __getitem__(self, host: str) -> _T:
        value = self.results[host]
        if isinstance(value, Exception):
            raise value
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    def items(self) -> Iterator[tuple[str, _T | Exception]]:
        return iter(self.results.items())

    def by_value(self) -> list[tuple[_T | Exception, list[str]]]:
        """The distinct answers, each with its hosts, most hosts first: equal values
        group; errors group by type and message (the first such error stands for them)."""
        groups: list[tuple[_T | Exception, list[str]]] = []
        for host, value in self.results.items():
            key = _error_key(value)
            for seen, hosts in groups:
                same = _error_key(seen) == key if key is not None else _equal(seen, value)
                if same:
                    hosts.append(host)
                    break
            else:
                groups.append((value, [host]))
        groups.sort(key=lambda group: -len(group[1]))
        return groups

    def folded(self) -> list[tuple[_T | Exception, str]]:
        """:meth:`by_value` with the hosts folded for display: ``("active", "web[1-3,7]")``."""
        return [(value, fold(hosts)) for value, hosts in self.by_value()]

    def raise_for_failures(self) -> FleetResult[_T]:
        """Raise :class:`~sysd.errors.FleetError` if any host failed (or was skipped);
        else return this result."""
        failed = self.failed
        if failed or self.skipped:
            parts = [f"{len(failed)} of {len(self.hosts)} hosts failed"]
            if failed:
                first_host, first = next(iter(failed.items()))
                parts.append(f"{fold(list(failed))}; {first_host}: {first}")
            if self.skipped:
                parts.append(f"{len(self.skipped)} skipped: {fold(self.skipped)}")
            error = FleetError(" ".join(parts), failed=dict(failed), skipped=self.skipped)
            raise error from next(iter(failed.values()), None)
        return self

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} {len(self.ok)} ok, {len(self.failed)} failed"
            + (f", {len(self.skipped)} skipped" if self.skipped else "")
            + ">"
        )


def _error_key(value: object) -> tuple[type, str] | None:
    return (type(value), str(value)) if isinstance(value, Exception) else None


def _equal(a: object, b: object) -> bool:
    if isinstance(a, Exception) or isinstance(b, Exception):
        return False
    try:
        return bool(a == b)
    except Exception:  # a value that will not compare: not the same answer
        return False


class RollingReport(FleetResult[str]):
    """What :meth:`AsyncFleet.rolling` did: each host reached maps to the job's result
    (``"done"``) or its error; ``skipped`` lists the hosts never touched (the run
    stopped before their batch), never as succeeded; ``reports`` the failure report
    of each failed host (None where none could be had); ``batches`` the host names
    of each batch run; ``stopped`` whether it stopped early."""

    def __init__(self, action: str, unit: str) -> None:
        super().__init__({})
        self.action = action
        self.unit = unit
        self.batches: list[list[str]] = []
        self.reports: dict[str, FailureReport | None] = {}
        self.stopped = False
        self.limit = 0

    def __repr__(self) -> str:
        return (
            f"<RollingReport {self.action} {self.unit}: {len(self.ok)} ok, "
            f"{len(self.failed)} failed, {len(self.skipped)} skipped>"
        )


class _Timed(Protocol):
    @property
    def realtime_usec(self) -> int: ...


_E = TypeVar("_E", bound=_Timed)


class FleetLogs(FleetResult[list[_E]]):
    """:meth:`Fleet.logs`: each host's entries; :meth:`merged` interleaves them by time."""

    def merged(self) -> list[tuple[str, _E]]:
        """(host, entry) for every host's entries, by ``__REALTIME_TIMESTAMP`` (a tie
        keeps host order); hosts that failed contribute nothing."""
        rows = [(host, entry) for host, entries in self.ok.items() for entry in entries]
        rows.sort(key=lambda row: row[1].realtime_usec)  # stable: ties keep host order
        return rows
