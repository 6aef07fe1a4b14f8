"""The systemd manager connection: the source of truth for both flavours.

``src/sysd/_sync/systemd.py`` is generated from this file by
``tools/unasync.py`` (CI checks it is up to date): write async code here, never
edit the generated twin.
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from .._bus.address import Target, machine_registered, resolve
from .._bus.aio import AsyncConnection, open_owned
from .._bus.wire import (
    DEFAULT,
    PROPERTIES_INTERFACE,
    Variant,
    check_properties,
    check_property,
)
from .._core import unitname
from .._core.systemd1 import MANAGER_INTERFACE, MANAGER_PATH, SYSTEMD_BUS_NAME, UNIT_INTERFACE
from ..errors import (
    BusDisconnectedError,
    BusError,
    DBusError,
    NoReplyError,
    NoSuchMachineError,
    ServiceUnknownError,
    SysdError,
    UserManagerNotRunningError,
)
from .install import AsyncInstall, UnitFileChange, UnitFileChanges, file_changes
from .queueing import queue_job
from .subscription import AsyncSubscription
from .unit import AsyncUnit

if TYPE_CHECKING:
    from datetime import timedelta
    from pathlib import Path

    from .._core.ensure import Change
    from .._core.events import Event, UnitChanged
    from .._core.introspect import NodeInfo
    from .._core.machine import MachineInfo
    from .._core.status import ManagerStatus
    from .events import AsyncEvents
    from .job import AsyncJob
    from .login import AsyncInhibitor, AsyncLogin
    from .machine import AsyncMachine
    from .proxy import AsyncProxy
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
    "UnitFileChanges",
    "UnitFileInfo",
    "UnitInfo",
    "connect",
]

RELOAD_TIMEOUT = 120.0  # daemon-reload and daemon-reexec can take long on big systems


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


class AsyncSystemd(AsyncInstall):
    """A connection to one systemd manager (system or user, local or remote).

    Get one from :func:`connect`; close it with ``aclose()`` or use it as a
    context manager.  ``bus`` is the underlying D-Bus connection.
    """

    def __init__(self, bus: AsyncConnection) -> None:
        self.bus = bus
        # systemd's bus name; on the private socket there is no bus to route by name.
        self.destination: str | None = SYSTEMD_BUS_NAME if bus.target.hello else None
        self._closed = False  # closed by its owner: never reconnected
        # Subscribe, match rules, signal handler and reconnecting, shared by every job
        # wait, watch and run on this connection (reference counted).
        self._subscription = AsyncSubscription(self)
        # (destination, path) -> introspected node, for proxy() (see _async/proxy.py)
        self._introspected: dict[tuple[str | None, str], NodeInfo] = {}

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
        try:
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
        except DBusError as exc:
            self._no_manager(exc, destination)
            raise

    def _no_manager(self, exc: DBusError, destination: str | None) -> None:
        """Raise UserManagerNotRunningError if ``exc`` says that a user bus has no
        systemd on it: no owner, or dbus-daemon's activation file for it
        (Exec=/bin/false) failed."""
        missing = isinstance(exc, ServiceUnknownError) or exc.name.startswith(_SPAWN)
        user_manager = destination is None and self.bus.target.scope == "user"
        if missing and user_manager and not self._subscription.seen_manager:
            raise _no_user_manager(self.bus.target) from exc

    async def call_many(
        self,
        calls: Iterable[tuple[str, str | None, str, str, Sequence[Any]]],
        *,
        destination: str | None = None,
        timeout: float | None = DEFAULT,
        interactive: bool | None = None,
        return_exceptions: bool = False,
    ) -> list[Any]:
        """Many calls to one peer at once: ``(path, interface, member, signature, args)``
        each; their values in the same order (docs/connecting.md, "Many calls at once").

        All are checked and encoded before any is sent, then pipelined with no task
        per call: a bulk read costs less than a ``gather`` of :meth:`call`.  An error
        reply raises at once unless ``return_exceptions`` is true, which puts each
        call's :class:`sysd.SysdError` in its place.  ``destination`` None means
        systemd itself.
        """
        peer = destination if destination is not None else self.destination
        try:
            results = await self.bus.call_many(
                [(peer, *call) for call in calls],
                timeout=timeout,
                interactive=interactive,
                return_exceptions=return_exceptions,
            )
        except DBusError as exc:
            self._no_manager(exc, destination)
            raise
        for i, value in enumerate(results):
            if isinstance(value, DBusError):
                try:
                    self._no_manager(value, destination)
                except UserManagerNotRunningError as exc:
                    results[i] = exc
        return results

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
        value = await self.call(
            destination,
            path,
            PROPERTIES_INTERFACE,
            "Get",
            "ss",
            (interface, name),
            timeout=timeout,
        )
        if destination is None:  # systemd's: of the type its schema says (RELIABILITY 12)
            check_property(interface, name, value)
        return value

    async def get_property_many(
        self,
        properties: Iterable[tuple[str, str, str]],
        *,
        destination: str | None = None,
        timeout: float | None = DEFAULT,
        return_exceptions: bool = False,
    ) -> list[Any]:
        """Many properties at once, ``(path, interface, name)`` each (as
        :meth:`call_many`); the values in the same order, checked as
        :meth:`get_property` checks them."""
        wanted = list(properties)
        calls = [(path, PROPERTIES_INTERFACE, "Get", "ss", (i, name)) for path, i, name in wanted]
        values = await self.call_many(
            calls,
            destination=destination,
            timeout=timeout,
            return_exceptions=return_exceptions,
        )
        if destination is None:  # systemd's: of the type its schema says (RELIABILITY 12)
            for i, ((_path, iface, name), value) in enumerate(zip(wanted, values, strict=True)):
                if isinstance(value, SysdError):
                    continue
                try:
                    check_property(iface, name, value)
                except SysdError as exc:
                    if not return_exceptions:
                        raise
                    values[i] = exc
        return values

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
        if destination is None:
            check_properties(interface, result)
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

    async def proxy(
        self,
        destination: str | None,
        path: str,
        *,
        refresh: bool = False,
        timeout: float | None = DEFAULT,
    ) -> AsyncProxy:
        """A proxy for any D-Bus object, built from its introspection (docs/proxy.md).

        ``destination`` None means systemd itself.  The object is introspected once
        per connection (``refresh=True`` asks again); its methods check their
        arguments against the introspected signatures before anything is sent.
        """
        from .proxy import proxy  # on first use, as timers and unitfiles

        return await proxy(self, destination, path, refresh=refresh, timeout=timeout)

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

    async def ensure(
        self,
        names: str | Iterable[str],
        active: bool | None = None,
        enabled: bool | None = None,
        masked: bool | None = None,
        *,
        restart: bool = False,
        reload: bool = False,
        settle: timedelta | float | str | None = None,
        dry_run: bool = False,
        daemon_reload: bool | str = "auto",
    ) -> list[Change]:
        """``unit.ensure()`` for several units (asyncio: concurrently); one Change each.

        Names and options are checked before anything is sent; every unit is tried,
        then the first error (in the order given) is raised."""
        from .._core.ensure import request
        from .ensure import ensure_many

        req = request(active, enabled, masked, restart, reload, settle, dry_run, daemon_reload)
        units = [unitname.normalize(n) for n in ([names] if isinstance(names, str) else names)]
        if not units:
            from ..errors import InvalidEnsureError

            raise InvalidEnsureError("ensure() needs at least one unit name")
        return await ensure_many(self, units, req)

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
        await self._subscription.reconnect(deadline)

    async def get_default_target(self) -> str:
        target: str = await self.manager_call("GetDefaultTarget")
        return target

    async def set_default_target(self, name: str, *, force: bool = True) -> UnitFileChanges:
        changes = await self.manager_call(
            "SetDefaultTarget", "sb", (unitname.normalize(name), force)
        )
        return file_changes(changes)

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

    # Run ``queue()`` (a call returning a job path) with the job's end observable:
    # waited for, or counted until its end is seen; safe across a daemon-reexec.
    queue_job = queue_job

    def subscribed(self) -> AsyncSubscription:
        """Keep this connection subscribed to systemd's signals for a while (a context manager).

        Every job wait subscribes and unsubscribes around itself (reference
        counted); a batch of many jobs, runs or watches on one connection is
        faster inside ``with sd.subscribed():``, which holds one subscription
        for all of them.
        """
        return self._subscription

    def watch_unit(self, name: str) -> AsyncUnitWatch:
        """Follow a unit's properties as systemd announces them (a context manager).

        ``async with sd.watch_unit(name) as w: await w.wait(lambda p: ...)``;
        ``w.props`` holds what was seen (PropertiesChanged), ``w.removed``
        tells whether systemd unloaded the unit.  Values survive the unit's
        garbage collection.
        """
        from .watch import AsyncUnitWatch

        return AsyncUnitWatch(self, unitname.normalize(name))

    def events(
        self,
        units: Iterable[str] | str | None = None,
        patterns: Iterable[str] | str | None = None,
        types: Iterable[str] | str | None = None,
        kinds: Iterable[type[Event] | str] | type[Event] | str | None = None,
        queue: int = 1024,
        reconnect: bool | float = True,
    ) -> AsyncEvents:
        """A stream of typed events from this manager (a context manager and iterator).

        See :class:`sysd.aio.Events` and docs/events.md.  Every argument is checked
        here, before anything is sent (InvalidUnitNameError, InvalidEventFilterError).
        """
        from .events import AsyncEvents

        return AsyncEvents(self, units, patterns, types, kinds, queue, reconnect)

    async def wait_for_units(
        self,
        names: Iterable[str] | str,
        state: str = "active",
        *,
        timeout: float | None = None,
    ) -> dict[str, UnitChanged]:
        """Wait until every unit's ActiveState is ``state`` (or ``failed``), as
        ``systemctl --wait``; returns the event (or current state) that settled each."""
        from .events import wait_for_units

        return await wait_for_units(self, names, state, timeout)

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

    # ------------------------------------------------------------------ logind

    def _login_bus(self) -> AsyncConnection | None:
        """This connection when logind is reachable on it (a system bus), else None."""
        target = self.bus.target
        return self.bus if target.hello and target.scope != "user" else None

    async def login(self) -> AsyncLogin:
        """logind (sessions, users, seats, power actions; see :mod:`sysd.login`): on this
        connection when it is a system bus, else on a new one (closed with the result)."""
        from .login import AsyncLogin, connect

        bus = self._login_bus()
        return AsyncLogin(bus, owned=False) if bus is not None else await connect()

    def inhibit(
        self,
        what: str = "sleep:shutdown",
        *,
        who: str | None = None,
        why: str = "Unknown reason",
        mode: str = "block",
        timeout: float | None = DEFAULT,
    ) -> AsyncInhibitor:
        """An inhibitor lock from logind, as a context manager (see :mod:`sysd.login`):
        ``with sd.inhibit("sleep:shutdown", who="backup", why="copying"): ...``."""
        from .login import AsyncInhibitor

        return AsyncInhibitor(
            what, who=who, why=why, mode=mode, bus=self._login_bus(), timeout=timeout
        )

    # ------------------------------------------------------------------ machined

    async def machines(
        self, *, all: bool = False, timeout: float | None = DEFAULT
    ) -> list[MachineInfo]:
        """Registered machines (containers, VMs) as machined lists them (see
        docs/containers.md): on this connection when it is a system bus, else a new one."""
        from .machine import AsyncMachined, connect

        bus = self._login_bus()
        machined = AsyncMachined(bus, owned=False) if bus is not None else await connect()
        async with machined:
            return await machined.machines(all=all, timeout=timeout)

    async def machine(self, name: str, *, timeout: float | None = DEFAULT) -> AsyncMachine:
        """A handle on a registered machine: status(), terminate(), kill(), copy_to()...
        Raises :class:`~sysd.errors.NoSuchMachineError`."""
        from .machine import open_machine

        return await open_machine(self._login_bus(), name, timeout=timeout)

    # ------------------------------------------------------------------ closing

    @property
    def closed(self) -> bool:
        return self.bus.closed

    async def aclose(self) -> None:
        try:
            self._closed = True
            await self.bus.aclose()
        finally:
            self._subscription.closed()  # blocking: its release thread ends with it

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
    sudo: bool = False,
    ssh_config: str | None = None,
    timeout: float | None = 25.0,
    interactive: bool = False,
) -> AsyncSystemd:
    """Connect to a systemd manager.

    ``user``: the calling user's manager.  ``address``: any D-Bus address.
    ``private``: systemd's private socket (``None``: when root and it exists).
    ``host``: ``[user@]host[:port][/container]`` over ssh (one shared ssh master per
    host; ``sudo=True`` runs the remote bridge through ``sudo -n``; ``ssh_config``:
    ``ssh -F``, default ``$SYSD_SSH_CONFIG``).  ``machine``: a local
    container.  ``timeout``: the default deadline of every call (``None``
    waits forever), and of connecting.  ``interactive``: let polkit ask the user.
    """
    target = resolve(
        user=user,
        address=address,
        private=private,
        host=host,
        machine=machine,
        sudo=sudo,
        ssh_config=ssh_config,
    )
    if target.machine is not None and not machine_registered(target.machine):
        # the bridge would fail its authentication without saying why (sd-bus reads the
        # same state file to find the container)
        raise NoSuchMachineError(
            f"No machine '{target.machine}' known",
            hint="`sysd machines` (or `machinectl list`) lists the registered ones",
        )
    return await open_owned(target, AsyncSystemd, timeout=timeout, interactive=interactive)


_SPAWN = "org.freedesktop.DBus.Error.Spawn."


def _no_user_manager(target: Target) -> UserManagerNotRunningError:
    """A user bus without systemd on it: the user manager is not running (RELIABILITY 31)."""
    uid = os.geteuid()
    return UserManagerNotRunningError(
        f"the user manager (user scope, uid {uid}) is not running: nobody owns "
        f"{SYSTEMD_BUS_NAME} on {target.description}",
        address=target.description,
        hint=f"start it with `systemctl start user@{uid}.service`, or log in with a session",
    )
