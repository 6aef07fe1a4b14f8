"""The systemd manager connection: the source of truth for both flavours.

``src/sysd/_sync/systemd.py`` is generated from this file by
``tools/unasync.py`` (CI checks it is up to date): write async code here, never
edit the generated twin.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from .._bus.address import Target, resolve
from .._bus.aio import AsyncConnection
from .._bus.wire import (
    DBUS_DEST,
    DBUS_IFACE,
    DBUS_PATH,
    DEFAULT,
    Message,
    Variant,
    match_rule,
    unwrap,
)
from .._core import unitname
from .._core.jobs import JobRemoved
from ..errors import (
    BusConnectError,
    BusDisconnectedError,
    BusError,
    DBusError,
    NoReplyError,
)
from ._backend import sleep
from .unit import AsyncUnit

if TYPE_CHECKING:
    from pathlib import Path

    from .._core.status import ManagerStatus
    from .job import AsyncJob
    from .run import run as _run_function
    from .timers import TimerInfo
    from .watch import AsyncUnitWatch

__all__ = [
    "JobInfo",
    "MANAGER_INTERFACE",
    "MANAGER_PATH",
    "PROPERTIES_INTERFACE",
    "SYSTEMD_BUS_NAME",
    "AsyncSystemd",
    "UnitFileChange",
    "UnitFileInfo",
    "UnitInfo",
    "connect",
]

SYSTEMD_BUS_NAME = "org.freedesktop.systemd1"
MANAGER_PATH = "/org/freedesktop/systemd1"
MANAGER_INTERFACE = "org.freedesktop.systemd1.Manager"
PROPERTIES_INTERFACE = "org.freedesktop.DBus.Properties"
UNIT_INTERFACE = "org.freedesktop.systemd1.Unit"
RELOAD_TIMEOUT = 120.0  # daemon-reload and daemon-reexec can take long on big systems
PENDING_JOBS_MAX = 256  # ~500 pending jobs from one client knock systemd 252 off the bus
_REMOVED_KEEP = 4096  # JobRemoved signals remembered while subscribed

_SIGNAL_RULES = (
    match_rule(
        sender=SYSTEMD_BUS_NAME, path=MANAGER_PATH, interface=MANAGER_INTERFACE, member="JobRemoved"
    ),
    match_rule(
        sender=SYSTEMD_BUS_NAME, path=MANAGER_PATH, interface=MANAGER_INTERFACE, member="Reloading"
    ),
    match_rule(
        sender=SYSTEMD_BUS_NAME,
        path=MANAGER_PATH,
        interface=MANAGER_INTERFACE,
        member="UnitRemoved",
    ),
    match_rule(
        sender=DBUS_DEST,
        path=DBUS_PATH,
        interface=DBUS_IFACE,
        member="NameOwnerChanged",
        arg0=SYSTEMD_BUS_NAME,
    ),
)


class AsyncSubscription:
    """``with sd.subscribed():`` holds one subscription (see AsyncSystemd.subscribed)."""

    def __init__(self, sd: AsyncSystemd) -> None:
        self.sd = sd

    async def __aenter__(self) -> AsyncSystemd:
        await self.sd._subscribe()
        return self.sd

    async def __aexit__(self, *exc: object) -> None:
        await self.sd._unsubscribe()


class _Watched:
    """What we saw of one unit while watching it (reference counted)."""

    __slots__ = ("changes", "count", "invalidated", "props", "removed")

    def __init__(self) -> None:
        self.count = 0
        self.props: dict[str, Any] = {}
        self.invalidated: set[str] = set()
        self.removed = False
        self.changes = 0


class UnitInfo(NamedTuple):
    """One row of ListUnits: a loaded unit and its states."""

    name: str
    description: str
    load_state: str
    active_state: str
    sub_state: str
    following: str
    path: str
    job_id: int
    job_type: str
    job_path: str


class UnitFileInfo(NamedTuple):
    """One unit file and its enablement state (ListUnitFiles)."""

    name: str
    path: str
    state: str


class JobInfo(NamedTuple):
    """One queued job (ListJobs)."""

    id: int
    unit: str
    job_type: str
    state: str
    path: str
    unit_path: str


class UnitFileChange(NamedTuple):
    """One change made by enable/disable/mask/...: ``type`` is symlink, unlink, ..."""

    type: str
    file: str
    destination: str


class AsyncSystemd:
    """A connection to one systemd manager (system or user, local or remote).

    Get one from :func:`connect`; close it with ``aclose()`` or use it as a
    context manager.  ``bus`` is the underlying D-Bus connection.
    """

    def __init__(self, bus: AsyncConnection) -> None:
        self.bus = bus
        # systemd's bus name; on the private socket there is no bus to route by name.
        self.destination: str | None = SYSTEMD_BUS_NAME if bus.target.hello else None
        # Subscription (reference counted: one waiter never unsubscribes another).
        self._subscribers = 0
        self._removed: OrderedDict[str, JobRemoved] = OrderedDict()
        self._generation = 0  # bumped when systemd reloads, reexecutes or we reconnect
        self._reloading = False
        self._systemd_owner: str | None = None
        self._pending_jobs = 0
        # Properties seen in PropertiesChanged for units whose job we await: the
        # truth about a failure even when the unit is collected right after.
        self._watched: dict[str, _Watched] = {}

    @property
    def target(self) -> Target:
        return self.bus.target

    def __repr__(self) -> str:
        state = "closed" if self.bus.closed else "open"
        return f"<{type(self).__name__} {self.bus.target.description} ({state})>"

    # ------------------------------------------------------------------ generic

    async def call(
        self,
        destination: str | None,
        path: str,
        interface: str | None,
        member: str,
        signature: str = "",
        args: Sequence[Any] = (),
        *,
        timeout: float | None = DEFAULT,
        interactive: bool | None = None,
    ) -> Any:
        """Call any D-Bus method; returns None, the single value, or a tuple.

        ``destination`` None means systemd itself.  Variants come back as
        their values; error replies raise the typed :class:`sysd.DBusError`.
        """
        return await self.bus.call(
            destination if destination is not None else self.destination,
            path,
            interface,
            member,
            signature,
            args,
            timeout=timeout,
            interactive=interactive,
        )

    async def get_property(
        self,
        path: str,
        interface: str,
        name: str,
        *,
        destination: str | None = None,
        timeout: float | None = DEFAULT,
    ) -> Any:
        """One property of any object (``org.freedesktop.DBus.Properties.Get``)."""
        return await self.call(
            destination,
            path,
            PROPERTIES_INTERFACE,
            "Get",
            "ss",
            (interface, name),
            timeout=timeout,
        )

    async def get_all(
        self,
        path: str,
        interface: str,
        *,
        destination: str | None = None,
        timeout: float | None = DEFAULT,
    ) -> dict[str, Any]:
        """All properties of one interface of any object, by D-Bus name."""
        result: dict[str, Any] = await self.call(
            destination,
            path,
            PROPERTIES_INTERFACE,
            "GetAll",
            "s",
            (interface,),
            timeout=timeout,
        )
        return result

    async def set_property(
        self,
        path: str,
        interface: str,
        name: str,
        signature: str,
        value: Any,
        *,
        destination: str | None = None,
        timeout: float | None = DEFAULT,
    ) -> None:
        """Set one property (``Properties.Set``; systemd allows it on the manager only)."""
        await self.call(
            destination,
            path,
            PROPERTIES_INTERFACE,
            "Set",
            "ssv",
            (interface, name, Variant(signature, value)),
            timeout=timeout,
        )

    # ------------------------------------------------------------------ manager

    async def manager_property(self, name: str, *, timeout: float | None = DEFAULT) -> Any:
        """A property of org.freedesktop.systemd1.Manager by its D-Bus name."""
        return await self.get_property(MANAGER_PATH, MANAGER_INTERFACE, name, timeout=timeout)

    @property
    def version(self) -> Awaitable[str]:
        """systemd's version string (Manager.Version), e.g. ``"252.39-1~deb12u2"``."""
        return self._version()

    async def _version(self) -> str:
        value: str = await self.manager_property("Version")
        return value

    async def ping(self, *, timeout: float | None = DEFAULT) -> None:
        """Round-trip to systemd (``org.freedesktop.DBus.Peer.Ping``)."""
        await self.call(None, MANAGER_PATH, "org.freedesktop.DBus.Peer", "Ping", timeout=timeout)

    async def manager_call(
        self,
        member: str,
        signature: str = "",
        args: Sequence[Any] = (),
        *,
        timeout: float | None = DEFAULT,
    ) -> Any:
        """Call a method of org.freedesktop.systemd1.Manager."""
        return await self.call(
            None, MANAGER_PATH, MANAGER_INTERFACE, member, signature, args, timeout=timeout
        )

    # -------------------------------------------------------------------- units

    async def unit(self, name: str, *, timeout: float | None = DEFAULT) -> AsyncUnit:
        """The unit called ``name`` (validated locally; aliases resolve to the primary name).

        A bare name gets ``.service`` as systemctl does (``"nginx"`` ->
        ``nginx.service``); names that cannot be units raise
        InvalidUnitNameError before anything is sent.
        """
        primary = unitname.normalize(name)
        path = unitname.to_dbus_path(primary)
        unit_id: str = await self.get_property(path, UNIT_INTERFACE, "Id", timeout=timeout)
        if unit_id != primary:
            path = unitname.to_dbus_path(unit_id)
        return AsyncUnit(self, unit_id, path)

    async def unit_by_pid(self, pid: int, *, timeout: float | None = DEFAULT) -> AsyncUnit:
        """The unit a process belongs to (GetUnitByPID)."""
        path: str = await self.manager_call("GetUnitByPID", "u", (pid,), timeout=timeout)
        unit_id: str = await self.get_property(path, UNIT_INTERFACE, "Id", timeout=timeout)
        return AsyncUnit(self, unit_id, path)

    async def list_units(
        self,
        patterns: Iterable[str] = (),
        *,
        states: Iterable[str] = (),
        types: Iterable[str] = (),
        timeout: float | None = DEFAULT,
    ) -> list[UnitInfo]:
        """Loaded units, optionally by glob patterns, states and unit types."""
        pats, sts = list(patterns), list(states)
        if pats or sts:
            rows = await self.manager_call(
                "ListUnitsByPatterns", "asas", (sts, pats), timeout=timeout
            )
        else:
            rows = await self.manager_call("ListUnits", timeout=timeout)
        suffixes = tuple("." + t.lstrip(".") for t in types)
        if suffixes:
            rows = [row for row in rows if row[0].endswith(suffixes)]
        # _make checks the arity as UnitInfo(*row) does, without parsing ten arguments:
        # a third less time for a thousand units
        return list(map(UnitInfo._make, rows))

    async def list_unit_files(
        self,
        patterns: Iterable[str] = (),
        *,
        states: Iterable[str] = (),
        timeout: float | None = DEFAULT,
    ) -> list[UnitFileInfo]:
        """Installed unit files and their states (enabled, disabled, static, masked...)."""
        rows = await self.manager_call(
            "ListUnitFilesByPatterns", "asas", (list(states), list(patterns)), timeout=timeout
        )
        files = [UnitFileInfo(path.rpartition("/")[2], path, state) for path, state in rows]
        return sorted(files)

    async def unit_file_state(self, name: str, *, timeout: float | None = DEFAULT) -> str:
        """``enabled``, ``disabled``, ``static``, ``masked``, ... of a unit file (templates too).

        A unit without any unit file raises NoSuchFileError (a LookupError).
        """
        state: str = await self.manager_call(
            "GetUnitFileState", "s", (unitname.normalize(name, template=True),), timeout=timeout
        )
        return state

    async def manager_status(self, *, timeout: float | None = DEFAULT) -> ManagerStatus:
        """An immutable typed snapshot of the manager (one GetAll)."""
        from .._core.status import ManagerStatus

        props = await self.get_all(MANAGER_PATH, MANAGER_INTERFACE, timeout=timeout)
        return ManagerStatus.from_dbus(props)

    async def reset_failed(self) -> None:
        """Reset the failed state of every unit (Manager.ResetFailed)."""
        await self.manager_call("ResetFailed")

    async def list_jobs(self, *, timeout: float | None = DEFAULT) -> list[JobInfo]:
        rows = await self.manager_call("ListJobs", timeout=timeout)
        return [JobInfo(*row) for row in rows]

    async def list_timers(
        self, *, all: bool = False, patterns: Sequence[str] = ()
    ) -> list[TimerInfo]:
        """Timers in next-elapse order with what they activate (``systemctl list-timers``);
        ``patterns``: names or globs (``"backup*"``; a bare name means ``NAME.timer``)."""
        from . import timers  # imported on first use, as unitfiles and watch: one-shots

        return await timers.list_timers(self, all=all, patterns=patterns)

    async def job(self, job_id: int, *, timeout: float | None = DEFAULT) -> AsyncJob:
        """A handle on a queued job by its id (GetJob)."""
        path: str = await self.manager_call("GetJob", "u", (job_id,), timeout=timeout)
        props = await self.get_all(path, "org.freedesktop.systemd1.Job", timeout=timeout)
        from .job import AsyncJob  # on first use, as timers and unitfiles: one-shots

        return AsyncJob(self, path, props["Unit"][0], props["JobType"], job_id=job_id)

    # ---------------------------------------------------------------- run

    if TYPE_CHECKING:
        run = _run_function  # the typed signature: see sysd._async.run.run
    else:

        def run(self, *args, **kwargs):
            """Run a command in a transient unit, as ``systemd-run`` (see docs/run.md)."""
            from .run import run  # loaded on first use: it is large

            return run(self, *args, **kwargs)

    # ------------------------------------------------------------- manager ops

    async def daemon_reload(self, *, timeout: float | None = RELOAD_TIMEOUT) -> None:
        """Reload all unit files (Manager.Reload); returns when systemd is done."""
        await self.manager_call("Reload", timeout=timeout)

    async def daemon_reexec(self, *, timeout: float | None = RELOAD_TIMEOUT) -> None:
        """Re-execute systemd (Manager.Reexecute).

        systemd does not answer; its disconnect is the success.  Returns once
        systemd is back and this object is usable again (reconnecting when the
        private socket dropped).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            await self.manager_call("Reexecute", timeout=timeout)
        except (BusDisconnectedError, NoReplyError):
            pass
        await self._reconnect(deadline)

    async def get_default_target(self) -> str:
        target: str = await self.manager_call("GetDefaultTarget")
        return target

    async def set_default_target(self, name: str, *, force: bool = True) -> list[UnitFileChange]:
        changes = await self.manager_call(
            "SetDefaultTarget", "sb", (unitname.normalize(name), force)
        )
        return _changes(changes)

    async def environment(self) -> dict[str, str]:
        """The manager's environment block (what units inherit)."""
        entries: list[str] = await self.manager_property("Environment")
        return dict(e.split("=", 1) for e in entries if "=" in e)

    async def set_environment(self, values: Mapping[str, str]) -> None:
        for key in values:
            if not key or "=" in key:
                raise ValueError(f"invalid environment variable name {key!r}")
        await self.manager_call("SetEnvironment", "as", ([f"{k}={v}" for k, v in values.items()],))

    async def unset_environment(self, names: Iterable[str]) -> None:
        await self.manager_call("UnsetEnvironment", "as", (list(names),))

    # --------------------------------------------------------------- unit files

    async def enable(
        self,
        names: str | Iterable[str],
        *,
        runtime: bool = False,
        force: bool = False,
        now: bool = False,
        reload: bool = True,
    ) -> list[UnitFileChange]:
        """Enable unit files; returns the changes made.  ``now`` also starts them."""
        files = _names(names)
        # Not EnableUnitFilesWithFlags: the system bus policy lets unprivileged callers send
        # EnableUnitFiles only, so that polkit can decide (as for systemctl).
        _install_info, changes = await self.manager_call(
            "EnableUnitFiles", "asbb", (files, runtime, force)
        )
        return await self._after_install(files, _changes(changes), reload, "start" if now else None)

    async def disable(
        self,
        names: str | Iterable[str],
        *,
        runtime: bool = False,
        now: bool = False,
        reload: bool = True,
    ) -> list[UnitFileChange]:
        files = _names(names)
        changes = await self.manager_call("DisableUnitFiles", "asb", (files, runtime))
        return await self._after_install(files, _changes(changes), reload, "stop" if now else None)

    async def reenable(
        self,
        names: str | Iterable[str],
        *,
        runtime: bool = False,
        force: bool = False,
        now: bool = False,
        reload: bool = True,
    ) -> list[UnitFileChange]:
        files = _names(names)
        _install_info, changes = await self.manager_call(
            "ReenableUnitFiles", "asbb", (files, runtime, force)
        )
        return await self._after_install(
            files, _changes(changes), reload, "restart" if now else None
        )

    async def mask(
        self,
        names: str | Iterable[str],
        *,
        runtime: bool = False,
        force: bool = False,
        now: bool = False,
        reload: bool = True,
    ) -> list[UnitFileChange]:
        files = _names(names)
        changes = await self.manager_call("MaskUnitFiles", "asbb", (files, runtime, force))
        return await self._after_install(files, _changes(changes), reload, "stop" if now else None)

    async def unmask(
        self, names: str | Iterable[str], *, runtime: bool = False, reload: bool = True
    ) -> list[UnitFileChange]:
        files = _names(names)
        changes = await self.manager_call("UnmaskUnitFiles", "asb", (files, runtime))
        return await self._after_install(files, _changes(changes), reload, None)

    async def preset(
        self,
        names: str | Iterable[str],
        *,
        runtime: bool = False,
        force: bool = False,
        reload: bool = True,
    ) -> list[UnitFileChange]:
        files = _names(names)
        _install_info, changes = await self.manager_call(
            "PresetUnitFiles", "asbb", (files, runtime, force)
        )
        return await self._after_install(files, _changes(changes), reload, None)

    async def link(
        self,
        paths: str | Iterable[str],
        *,
        runtime: bool = False,
        force: bool = False,
        reload: bool = True,
    ) -> list[UnitFileChange]:
        """Link unit files from outside the search path (absolute paths)."""
        files = [paths] if isinstance(paths, str) else list(paths)
        for path in files:
            if not path.startswith("/"):
                raise ValueError(f"link needs absolute unit file paths, got {path!r}")
        changes = await self.manager_call("LinkUnitFiles", "asbb", (files, runtime, force))
        return await self._after_install(files, _changes(changes), reload, None)

    async def revert(
        self, names: str | Iterable[str], *, reload: bool = True
    ) -> list[UnitFileChange]:
        """Drop vendor overrides: drop-ins, /etc copies, masks (systemctl revert)."""
        files = _names(names)
        changes = await self.manager_call("RevertUnitFiles", "as", (files,))
        return await self._after_install(files, _changes(changes), reload, None)

    async def _after_install(
        self,
        names: list[str],
        changes: list[UnitFileChange],
        reload: bool,
        then: str | None,
    ) -> list[UnitFileChange]:
        if reload and changes:
            await self.daemon_reload()
        if then is not None:
            for name in names:
                unit = await self.unit(name.rpartition("/")[2])
                await getattr(unit, then)()
        return changes

    # ------------------------------------------------ unit files (local host)

    async def write_unit(
        self, name: str, text: str | bytes, *, runtime: bool = False, reload: bool = True
    ) -> Path:
        """Write a unit file atomically into this manager's unit directory.

        ``/etc/systemd/system`` (``/run/...`` with ``runtime``) for the system
        manager, ``~/.config/systemd/user`` for a user manager; then reload.
        """
        from . import unitfiles

        return await unitfiles.write_unit(self, name, text, runtime=runtime, reload=reload)

    async def write_dropin(
        self,
        unit: str,
        name: str,
        text: str | bytes,
        *,
        runtime: bool = False,
        reload: bool = True,
    ) -> Path:
        """Write ``<unit>.d/<name>`` (a ``.conf`` file) atomically; then reload."""
        from . import unitfiles

        return await unitfiles.write_dropin(self, unit, name, text, runtime=runtime, reload=reload)

    async def remove_dropin(
        self, unit: str, name: str, *, runtime: bool = False, reload: bool = True
    ) -> bool:
        """Remove a drop-in (and its directory when empty); False when it was not there."""
        from . import unitfiles

        return await unitfiles.remove_dropin(self, unit, name, runtime=runtime, reload=reload)

    async def cat(self, name: str) -> str:
        """``systemctl cat NAME``: the unit's fragment and drop-ins as systemd has them
        loaded; a template (``getty@.service``) as found in the manager's search path."""
        from . import unitfiles

        return await unitfiles.cat(self, name)

    async def unit_file_presets(self, names: Iterable[str]) -> dict[str, bool]:
        """Whether the preset policy (``*.preset`` files on this host) enables each unit
        file: ``systemctl list-unit-files``' PRESET column."""
        from . import unitfiles

        return await unitfiles.presets(self, names)

    # --------------------------------------------------------------------- jobs

    async def _job(
        self,
        method: str,
        unit: AsyncUnit,
        job_type: str,
        mode: str,
        wait: bool,
        timeout: float | None,
    ) -> AsyncJob:
        """Queue a job for a unit (StartUnit and friends) and wait for it if asked."""
        return await self.queue_job(
            lambda: self.manager_call(method, "ss", (unit.name, mode)),
            unit.name,
            job_type,
            wait=wait,
            timeout=timeout,
        )

    async def queue_job(
        self,
        queue: Callable[[], Awaitable[str]],
        unit_name: str,
        job_type: str,
        *,
        wait: bool = True,
        timeout: float | None = None,
    ) -> AsyncJob:
        """Run ``queue()`` (a call returning a job path) with the job's end observable.

        The JobRemoved match and Subscribe go in first, the unit is pinned and
        watched, then the job is queued; with ``wait`` this returns once the
        job ended (typed JobError otherwise).  Used by every job-queueing
        method, StartTransientUnit included.
        """
        if self._pending_jobs >= PENDING_JOBS_MAX:
            raise BusError(
                f"{PENDING_JOBS_MAX} jobs already awaited on this connection",
                hint="more would knock systemd 252 off the bus; open another connection",
            )
        from .job import AsyncJob

        self._pending_jobs += 1
        unit_path = unitname.to_dbus_path(unit_name)
        pinned = False
        try:
            if wait:
                self._watch(unit_path)
                await self._subscribe()
            try:
                if wait:
                    pinned = await self._ref(unit_path)
                path: str = await queue()
                job = AsyncJob(self, path, unit_name, job_type)
                if wait:
                    await job.wait(timeout)
                return job
            finally:
                if pinned:
                    await self._unref(unit_path)
                if wait:
                    await self._unsubscribe()
                    self._unwatch(unit_path)
        finally:
            self._pending_jobs -= 1

    def subscribed(self) -> AsyncSubscription:
        """Keep this connection subscribed to systemd's signals for a while (a context manager).

        Every job wait subscribes and unsubscribes around itself (reference
        counted); a batch of many jobs, runs or watches on one connection is
        faster inside ``with sd.subscribed():``, which holds one subscription
        for all of them.
        """
        return AsyncSubscription(self)

    def watch_unit(self, name: str) -> AsyncUnitWatch:
        """Follow a unit's properties as systemd announces them (a context manager).

        ``async with sd.watch_unit(name) as w: await w.wait(lambda p: ...)``;
        ``w.props`` holds what was seen (PropertiesChanged), ``w.removed``
        tells whether systemd unloaded the unit.  Values survive the unit's
        garbage collection.
        """
        from .watch import AsyncUnitWatch

        return AsyncUnitWatch(self, unitname.normalize(name))

    def _watch(self, path: str) -> _Watched:
        entry = self._watched.get(path)
        if entry is None:
            entry = self._watched[path] = _Watched()
        entry.count += 1
        return entry

    def _unwatch(self, path: str) -> None:
        entry = self._watched.get(path)
        if entry is not None:
            entry.count -= 1
            if entry.count <= 0:
                del self._watched[path]

    def _seen(self, path: str) -> dict[str, Any]:
        """Unit properties seen changing while we waited (empty when none)."""
        entry = self._watched.get(path)
        return entry.props if entry is not None else {}

    async def _ref(self, path: str) -> bool:
        """Pin a unit so it is not collected while we wait (False when refused)."""
        try:
            await self.call(None, path, UNIT_INTERFACE, "Ref")
        except DBusError:
            return False
        return True

    async def _unref(self, path: str) -> None:
        try:
            await self.call(None, path, UNIT_INTERFACE, "Unref")
        except (DBusError, BusError):
            pass

    def _on_signal(self, msg: Message) -> None:
        iface = msg.interface
        if iface == MANAGER_INTERFACE:
            if self._systemd_owner is not None and msg.sender != self._systemd_owner:
                return  # someone else's signal with systemd's interface name
            member = msg.member
            if member == "JobRemoved":
                job_id, path, unit, result = msg.body
                removed = self._removed
                removed[path] = JobRemoved(job_id, path, unit, result)
                while len(removed) > _REMOVED_KEEP:
                    removed.popitem(last=False)
            elif member == "Reloading":
                self._reloading = bool(msg.body[0])
                if not self._reloading:
                    self._generation += 1
            elif member == "UnitRemoved" and self._watched and not self._reloading:
                # During a reload every unit is removed and re-added: a watch reads its
                # unit again once the reload is over (RELIABILITY 21).
                entry = self._watched.get(msg.body[1])
                if entry is not None:
                    entry.removed = True
        elif iface == PROPERTIES_INTERFACE and msg.member == "PropertiesChanged":
            entry = self._watched.get(msg.path or "")
            ours = self._systemd_owner is None or msg.sender == self._systemd_owner
            if entry is not None and ours and msg.signature.startswith("sa{sv}"):
                entry.props.update(unwrap(msg.body[1]))
                entry.invalidated.update(msg.body[2])
                entry.changes += 1
        elif iface == DBUS_IFACE and msg.member == "NameOwnerChanged":
            name, _old, new = msg.body
            if name == SYSTEMD_BUS_NAME:
                self._systemd_owner = new or None
                self._generation += 1

    async def _subscribe(self) -> None:
        """Receive systemd's signals (reference counted; match rules first)."""
        self._subscribers += 1
        if self._subscribers > 1:
            return
        try:
            await self._start_subscription()
        except BaseException:
            self._subscribers -= 1
            self.bus.remove_signal_handler(self._on_signal)
            raise

    async def _start_subscription(self) -> None:
        bus = self.bus
        bus.add_signal_handler(self._on_signal)
        if bus.target.hello:
            for rule in _SIGNAL_RULES:
                await bus.add_match(rule)
            try:
                self._systemd_owner = await bus.call(
                    DBUS_DEST, DBUS_PATH, DBUS_IFACE, "GetNameOwner", "s", (SYSTEMD_BUS_NAME,)
                )
            except DBusError:
                self._systemd_owner = None
        try:
            await self.manager_call("Subscribe")
        except DBusError as exc:
            if exc.name != "org.freedesktop.systemd1.AlreadySubscribed":
                raise

    async def _unsubscribe(self) -> None:
        self._subscribers -= 1
        if self._subscribers > 0:
            return
        bus = self.bus
        bus.remove_signal_handler(self._on_signal)
        self._removed.clear()
        if bus.closed:
            return
        try:
            await self.manager_call("Unsubscribe")
        except (DBusError, BusError):
            pass
        if bus.target.hello:
            for rule in _SIGNAL_RULES:
                await bus.remove_match(rule)

    async def _reconnect(self, deadline: float | None) -> None:
        """After systemd reexecuted: wait until it answers again, reconnecting if needed."""
        limit = time.monotonic() + 60.0 if deadline is None else deadline
        delay = 0.05
        while True:
            try:
                if self.bus.closed:
                    bus = await AsyncConnection.open(
                        self.bus.target, timeout=self.bus.timeout, interactive=self.bus.interactive
                    )
                    self.bus = bus
                    if self._subscribers:
                        await self._start_subscription()
                await self.ping(timeout=max(0.05, min(5.0, limit - time.monotonic())))
                self._generation += 1
                return
            except (BusConnectError, BusDisconnectedError, NoReplyError, DBusError) as exc:
                if time.monotonic() + delay > limit:
                    raise BusDisconnectedError(
                        f"systemd did not come back after re-executing: {exc}"
                    ) from exc
            await sleep(delay)
            delay = min(delay * 2, 0.5)

    # ------------------------------------------------------------------ closing

    @property
    def closed(self) -> bool:
        return self.bus.closed

    async def aclose(self) -> None:
        await self.bus.aclose()

    async def __aenter__(self) -> AsyncSystemd:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


async def connect(
    *,
    user: bool = False,
    address: str | None = None,
    private: bool | None = None,
    host: str | None = None,
    machine: str | None = None,
    timeout: float | None = 25.0,
    interactive: bool = False,
) -> AsyncSystemd:
    """Connect to a systemd manager.

    ``user``: the calling user's manager.  ``address``: any D-Bus address.
    ``private``: systemd's private socket (``None``: when root and it exists).
    ``host``: ``[user@]host[:port][/container]`` over ssh.  ``machine``: a local
    container.  ``timeout``: the default deadline of every call (``None``
    waits forever).  ``interactive``: let polkit ask the user.
    """
    target = resolve(user=user, address=address, private=private, host=host, machine=machine)
    bus = await AsyncConnection.open(target, timeout=timeout, interactive=interactive)
    return AsyncSystemd(bus)


def _names(names: str | Iterable[str]) -> list[str]:
    items = [names] if isinstance(names, str) else list(names)
    if not items:
        raise ValueError("no unit names given")
    out = []
    for item in items:
        if item.startswith("/"):
            out.append(item)  # a unit file path, as systemctl accepts
        elif unitname.is_valid(item, unitname.NameKind.ANY):
            out.append(item)
        else:
            out.append(unitname.normalize(item))
    return out


def _changes(rows: Iterable[Sequence[str]]) -> list[UnitFileChange]:
    return [UnitFileChange(kind, file, dest) for kind, file, dest in rows]
