"""One unit: its state as typed values, and control that waits for the truth."""

from __future__ import annotations

import signal as _signal
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from .._bus.wire import DEFAULT, Variant
from .._core.jobs import type_interface
from .._core.systemd1 import UNIT_INTERFACE
from ..errors import NoSuchFileError, UnknownMethodError, UnknownPropertyError

if TYPE_CHECKING:
    from collections.abc import Callable

    from .._core.ensure import Change
    from .._core.events import UnitChanged
    from .._core.properties import Assignment
    from .._core.report import FailureReport
    from .._core.status import UnitStatus
    from ..journal import AsyncEntries
    from ..journal._remote import AsyncRemoteEntries
    from .job import AsyncJob
    from .systemd import AsyncSystemd

__all__ = ["AsyncUnit", "Process"]


# systemctl is-enabled succeeds for these UnitFileState values.
ENABLED_STATES = frozenset(
    {"enabled", "enabled-runtime", "static", "alias", "indirect", "generated"}
)
ACTIVE_STATES = frozenset({"active", "reloading", "refreshing"})


class Process(NamedTuple):
    """A process of a unit (Manager.GetUnitProcesses)."""

    cgroup: str
    pid: int
    command: str


class AsyncUnit:
    """A unit of one manager, by its primary name (aliases resolved).

    Get one with ``await sd.unit(name)``.  Nouns read (``status()``, ``get()``,
    ``is_active()``), verbs act (``start()``, ``kill()``); actions wait for
    their job unless ``wait=False``.
    """

    def __init__(self, sd: AsyncSystemd, name: str, path: str) -> None:
        self.sd = sd
        self.name = name
        self.path = path
        self.interface = type_interface(name)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AsyncUnit) and other.sd is self.sd and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)

    # ------------------------------------------------------------------ reading

    async def status(self, *, timeout: float | None = DEFAULT) -> UnitStatus:
        """An immutable typed snapshot: the Unit interface plus the type's interface.

        One GetAll per interface; fields are converted lazily on access.
        """
        from .._core.status import status_class_for  # the typed model loads on first use

        cls = status_class_for(self.name)
        unit_props = await self.sd.get_all(self.path, UNIT_INTERFACE, timeout=timeout)
        type_props = None
        if cls.TYPE_INTERFACE is not None:  # targets have no properties of their own
            type_props = await self.sd.get_all(self.path, cls.TYPE_INTERFACE, timeout=timeout)
        return cls.from_dbus(unit_props, type_props)

    async def get(
        self, name: str, *, interface: str | None = None, timeout: float | None = DEFAULT
    ) -> Any:
        """Any D-Bus property by its D-Bus name (``"CPUUsageNSec"``), raw.

        Looked up on the Unit interface, then the unit type's interface (or the
        ``interface`` given).  A property this unit type or systemd version
        lacks gives None.
        """
        interfaces = [interface] if interface else [UNIT_INTERFACE, self.interface]
        for iface in interfaces:
            if iface is None:
                continue
            try:
                return await self.sd.get_property(self.path, iface, name, timeout=timeout)
            except (UnknownPropertyError, UnknownMethodError):
                continue
        return None

    async def active_state(self) -> str:
        state: str = await self.sd.get_property(self.path, UNIT_INTERFACE, "ActiveState")
        return state

    async def is_active(self) -> bool:
        """True when active (or reloading), as ``systemctl is-active`` succeeds."""
        return await self.active_state() in ACTIVE_STATES

    async def is_failed(self) -> bool:
        return await self.active_state() == "failed"

    async def unit_file_state(self) -> str:
        """``enabled``, ``disabled``, ``static``, ``masked``... (GetUnitFileState)."""
        try:
            return await self.sd.unit_file_state(self.name)
        except NoSuchFileError:  # no unit file at all: the unit's own view ("" or "transient")
            state: str = await self.sd.get_property(self.path, UNIT_INTERFACE, "UnitFileState")
            return state

    async def is_enabled(self) -> bool:
        """True where ``systemctl is-enabled`` exits 0."""
        return await self.unit_file_state() in ENABLED_STATES

    async def cat(self) -> str:
        """The unit's fragment and drop-ins, as ``systemctl cat`` prints them (local host)."""
        from . import unitfiles

        return await unitfiles.cat(self.sd, self)

    def logs(
        self, lines: int | None = 10, follow: bool = False, **kwargs: Any
    ) -> AsyncEntries | AsyncRemoteEntries:
        """The unit's journal entries, as ``journalctl -u`` (``--user-unit`` on a user manager).

        The last ``lines`` entries (None: all), then new ones with ``follow``;
        more filters as :func:`sysd.journal.entries` takes them.  On a connection made
        with ``host=`` or ``machine=``, the journal there: ``journalctl -o export`` over
        ssh or with ``-M`` (an AsyncRemoteEntries of the same entries).
        """
        target = self.sd.target
        if target.scope == "remote" and (target.host or target.machine):
            from ..journal._remote import AsyncRemoteEntries

            user = any("--user" in t.argv for t in target.transports if t.argv)
            return AsyncRemoteEntries.for_target(
                target, self.name, user=user, lines=lines, follow=follow, **kwargs
            )
        from ..journal import AsyncEntries

        return AsyncEntries.for_unit(
            self.name, scope=target.scope, lines=lines, follow=follow, **kwargs
        )

    async def failure_report(
        self, invocation_id: Any = None, *, lines: int = 10, timeout: float = 5.0
    ) -> FailureReport:
        """Why the unit failed (or how its last run went): its state, the ``Exec*=``
        step that failed, failed conditions/assertions, restarts, and the last ``lines``
        journal lines of the invocation ``invocation_id`` (default: the current one;
        at most 1000), all within ``timeout`` seconds.  Never raises for its own
        trouble: what could not be fetched, the report says why.  ``report.render()``
        prints it.  The same report rides on a waited job's JobError (``e.report``).
        """
        from .report import failure_report

        return await failure_report(
            self.sd, self.name, invocation_id=invocation_id, lines=lines, timeout=timeout
        )

    async def processes(self) -> list[Process]:
        """The unit's processes: cgroup, pid, command line."""
        rows = await self.sd.manager_call("GetUnitProcesses", "s", (self.name,))
        return [Process(c, p, cmd) for c, p, cmd in rows]

    async def wait_for(
        self,
        active_state: str | None = None,
        sub_state: str | None = None,
        predicate: Callable[[UnitChanged], bool] | None = None,
        *,
        timeout: float | None = None,
    ) -> UnitChanged:
        """Wait until the unit is in ``active_state``/``sub_state`` (and ``predicate``
        holds); returns the UnitChanged (or the current state) that satisfied it.

        Race-free: systemd's signals are followed before the state is first read.
        ``timeout`` (seconds) raises WaitTimeoutError.
        """
        from .events import wait_for

        return await wait_for(self.sd, self.name, active_state, sub_state, predicate, timeout)

    # ------------------------------------------------------------------ control

    async def start(
        self, mode: str = "replace", *, wait: bool = True, timeout: float | None = None
    ) -> AsyncJob:
        """Start the unit; with ``wait`` return only when the job ended (typed JobError
        on failure).  ``timeout`` bounds the wait, not the job."""
        return await self.sd._job("StartUnit", self, "start", mode, wait, timeout)

    async def stop(
        self, mode: str = "replace", *, wait: bool = True, timeout: float | None = None
    ) -> AsyncJob:
        return await self.sd._job("StopUnit", self, "stop", mode, wait, timeout)

    async def restart(
        self, mode: str = "replace", *, wait: bool = True, timeout: float | None = None
    ) -> AsyncJob:
        return await self.sd._job("RestartUnit", self, "restart", mode, wait, timeout)

    async def reload(
        self, mode: str = "replace", *, wait: bool = True, timeout: float | None = None
    ) -> AsyncJob:
        return await self.sd._job("ReloadUnit", self, "reload", mode, wait, timeout)

    async def try_restart(
        self, mode: str = "replace", *, wait: bool = True, timeout: float | None = None
    ) -> AsyncJob:
        return await self.sd._job("TryRestartUnit", self, "try-restart", mode, wait, timeout)

    async def reload_or_restart(
        self, mode: str = "replace", *, wait: bool = True, timeout: float | None = None
    ) -> AsyncJob:
        return await self.sd._job("ReloadOrRestartUnit", self, "restart", mode, wait, timeout)

    async def try_reload_or_restart(
        self, mode: str = "replace", *, wait: bool = True, timeout: float | None = None
    ) -> AsyncJob:
        return await self.sd._job(
            "ReloadOrTryRestartUnit", self, "try-restart", mode, wait, timeout
        )

    async def ensure(
        self,
        active: bool | None = None,
        enabled: bool | None = None,
        masked: bool | None = None,
        *,
        restart: bool = False,
        reload: bool = False,
        settle: timedelta | float | str | None = None,
        dry_run: bool = False,
        daemon_reload: bool | str = "auto",
    ) -> Change:
        """Bring the unit to a desired state, doing only what is missing (docs/units.md).

        Returns a :class:`Change` (``changed``, ``actions`` in order, ``before``/``after``).
        Options are checked before anything is sent (InvalidEnsureError); ``settle``
        (a timedelta, seconds, ``"5s"``) watches a started unit that long and raises
        UnitSettleError if it does not stay up.
        """
        from .._core.ensure import request
        from .ensure import ensure

        req = request(active, enabled, masked, restart, reload, settle, dry_run, daemon_reload)
        return await ensure(self.sd, self.name, req)

    async def set_properties(
        self,
        properties: str | Mapping[str, object] | Iterable[str] | Iterable[Assignment],
        *,
        runtime: bool = False,
    ) -> list[Assignment]:
        """Change properties at run time, in systemd's own syntax (``systemctl set-property``).

        ``properties``: ``"CPUQuota=20%"``, a list of such strings, a mapping
        (``{"MemoryMax": "1G"}``, typed values too) or parsed Assignments.  All
        are checked before anything is sent (InvalidPropertyError).  Persistent
        unless ``runtime``.  Returns what was sent.
        """
        assignments = to_assignments(self.name, properties)
        await self.sd.manager_call(
            "SetUnitProperties",
            "sba(sv)",
            (self.name, runtime, [(a.name, Variant(a.signature, a.value)) for a in assignments]),
        )
        return assignments

    async def kill(self, signal: int = _signal.SIGTERM, whom: str = "all") -> None:
        """Send a signal to the unit's processes (``whom``: all, main, control)."""
        await self.sd.manager_call("KillUnit", "ssi", (self.name, whom, int(signal)))

    async def reset_failed(self) -> None:
        await self.sd.manager_call("ResetFailedUnit", "s", (self.name,))

    async def freeze(self) -> None:
        """Freeze the unit's processes (cgroup freezer); needs cgroup v2 support."""
        await self.sd.manager_call("FreezeUnit", "s", (self.name,))

    async def thaw(self) -> None:
        await self.sd.manager_call("ThawUnit", "s", (self.name,))


def to_assignments(
    unit: str,
    properties: str | Mapping[str, object] | Iterable[str] | Iterable[Assignment],
) -> list[Assignment]:
    """Parsed assignments for a unit (by its type), passing Assignments through."""
    from .._core.properties import Assignment, parse  # the language loads on first use

    if isinstance(properties, str | Mapping):
        return parse(unit.rpartition(".")[2], properties)
    items = list(properties)
    if items and all(isinstance(i, Assignment) for i in items):
        return items  # type: ignore[return-value]
    return parse(unit.rpartition(".")[2], items)  # type: ignore[arg-type]
