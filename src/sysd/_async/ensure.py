"""``unit.ensure()`` / ``sd.ensure()``: bring units to a desired state, idempotently.

The options are checked and the plan is made in ``_core/ensure.py`` (no I/O);
this module reads the state before, runs the plan, reads the state after, and
with ``settle`` watches a started unit on an event stream for a while.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, NoReturn

from .._core import unitname
from .._core.ensure import ACTIVE, Change, JobResult, Request, UnitState, holds, plan
from .._core.events import UnitChanged
from .._core.jobs import exit_status, type_interface
from .._core.systemd1 import SERVICE_INTERFACE, UNIT_INTERFACE
from ..errors import (
    BusError,
    DBusError,
    NoSuchFileError,
    SysdError,
    UnitSettleError,
    WaitTimeoutError,
)
from ._backend import gather
from .unit import AsyncUnit

if TYPE_CHECKING:
    from .systemd import AsyncSystemd

__all__ = ["ensure", "ensure_many"]

_INSTALL = ("unmask", "enable", "disable", "mask")


async def read_state(sd: AsyncSystemd, name: str) -> tuple[str, UnitState, dict[str, Any]]:
    """(primary name, state, Unit properties) of a unit: one GetAll, and GetUnitFileState
    as ``systemctl is-enabled`` asks it (the unit's own property when it has no file)."""
    props = await sd.get_all(unitname.to_dbus_path(name), UNIT_INTERFACE)
    unit_id = props.get("Id") or name
    try:
        file_state = await sd.unit_file_state(unit_id)
    except NoSuchFileError:
        file_state = props.get("UnitFileState", "")
    state = UnitState(
        props.get("ActiveState", ""),
        props.get("SubState", ""),
        file_state,
        props.get("LoadState", ""),
    )
    return unit_id, state, props


State = tuple[str, UnitState, dict[str, Any]]


async def ensure(
    sd: AsyncSystemd, name: str, req: Request, known: State | None = None, reloaded: bool = False
) -> Change:
    """One unit to the state ``req`` asks (``name`` already normalized).

    ``known``: the unit's state read already (by :func:`ensure_many`), ``reloaded``:
    the daemon-reload its plan may hold was done already (once for several units)."""
    unit_id, before, props = known if known is not None else await read_state(sd, name)
    actions = plan(req, unit_id, before, bool(props.get("NeedDaemonReload")))
    if req.dry_run or not actions:
        return Change(unit_id, bool(actions), actions, before, before, (), req.dry_run,
                      holds(req, before))  # fmt: skip
    unit = AsyncUnit(sd, unit_id, unitname.to_dbus_path(unit_id))
    jobs: list[JobResult] = []
    installed = False  # unit files changed: systemd reloads them before the job
    for action in actions:
        if action == "daemon-reload":
            if not reloaded:
                await sd.daemon_reload()
        elif action in _INSTALL:
            changes = await getattr(sd, action)([unit_id], reload=False)
            installed = installed or bool(changes)
        else:
            if installed:
                await sd.daemon_reload()
                installed = False
            job = await getattr(unit, action)()
            jobs.append(JobResult(action, job.id, job.result or "done"))
            if req.settle is not None and action in ("start", "restart"):
                await settle(sd, unit, action, job.id, req.settle)
    if installed:
        await sd.daemon_reload()
    _, after, _ = await read_state(sd, unit_id)
    return Change(unit_id, True, actions, before, after, tuple(jobs), False, holds(req, after))


async def ensure_many(sd: AsyncSystemd, names: Iterable[str], req: Request) -> list[Change]:
    """Several units at once (asyncio: concurrently; blocking: one after the other).

    Every unit's state is read first: when any of their plans starts with a
    daemon-reload, it is done once for all of them (each Change still names it).
    Every unit is tried; the first error (in the order given) is raised after."""
    units = list(dict.fromkeys(names))
    known: dict[str, State] = {}
    reloaded = False
    if len(units) > 1 and not req.dry_run and req.daemon_reload is not False:
        reads = await gather([_reader(sd, name) for name in units])
        for name, read in zip(units, reads, strict=True):
            if isinstance(read, Exception):
                continue  # raised again when that unit is ensured
            known[name] = read
            unit_id, before, props = read
            try:
                planned = plan(req, unit_id, before, bool(props.get("NeedDaemonReload")))
            except SysdError:
                continue  # that unit fails on its own, without a reload for it
            reloaded = reloaded or "daemon-reload" in planned
        if reloaded:
            await sd.daemon_reload()
    results = await gather([_one(sd, name, req, known.get(name), reloaded) for name in units])
    changes = []
    for result in results:
        if isinstance(result, Exception):
            raise result
        changes.append(result)
    return changes


def _reader(sd: AsyncSystemd, name: str) -> Callable[[], Awaitable[State]]:
    async def run() -> State:
        return await read_state(sd, name)

    return run


def _one(
    sd: AsyncSystemd, name: str, req: Request, known: State | None, reloaded: bool
) -> Callable[[], Awaitable[Change]]:
    async def run() -> Change:
        return await ensure(sd, name, req, known, reloaded)

    return run


# ---------------------------------------------------------------------- settling


async def _main_process(sd: AsyncSystemd, unit: AsyncUnit) -> tuple[int, int]:
    """(MainPID, NRestarts) of a service; (0, 0) for other unit types."""
    if unit.interface != SERVICE_INTERFACE:
        return 0, 0
    pid: int = await sd.get_property(unit.path, SERVICE_INTERFACE, "MainPID")
    restarts: int = await sd.get_property(unit.path, SERVICE_INTERFACE, "NRestarts")
    return pid, restarts


async def settle(
    sd: AsyncSystemd, unit: AsyncUnit, action: str, job_id: int, seconds: float
) -> None:
    """Watch a unit just started for ``seconds``: UnitSettleError if it leaves active, its
    main process goes, or another run of it begins (InvocationID changes: a restart loop).

    Race-free: the InvocationID, MainPID and NRestarts are read right after the job,
    then the stream is opened and its first reading compared with them; from then on
    every change is an event, and at the end MainPID and NRestarts are read again."""
    started = await sd.get_all(unit.path, UNIT_INTERFACE)
    invocation = _hex(started.get("InvocationID"))
    main_pid, restarts = await _main_process(sd, unit)
    deadline = time.monotonic() + seconds

    async def fail(reason: str, text: str) -> NoReturn:
        raise await _settle_error(sd, unit, action, job_id, reason, text, invocation, seconds)

    if started.get("ActiveState") not in ACTIVE:
        await fail("left-active", f"is {started.get('ActiveState')} right after the {action}")

    async def check(event: UnitChanged | None) -> None:
        if event is None:
            return
        if event.active_state not in ACTIVE:
            await fail(
                "left-active",
                f"left active ({event.active_state}/{event.sub_state}) within {seconds:g} s",
            )
        if invocation and event.invocation_id and event.invocation_id != invocation:
            await fail("restarted", f"was started again within {seconds:g} s (a restart loop)")

    async with sd.events(units=[unit.name], kinds=[UnitChanged]) as stream:
        await check(await stream.refresh(unit.name))
        while (left := deadline - time.monotonic()) > 0:
            try:
                event = await stream.get(left)
            except WaitTimeoutError:
                break
            if isinstance(event, UnitChanged) and event.unit == unit.name:
                await check(event)
    pid_now, restarts_now = await _main_process(sd, unit)
    if restarts_now > restarts:  # restarted by systemd and back up between two events
        await fail("restarted", f"was restarted by systemd within {seconds:g} s")
    if main_pid and pid_now != main_pid:
        await fail("main-process-died", f"lost its main process {main_pid} within {seconds:g} s")


def _hex(value: Any) -> str | None:
    return bytes(value).hex() if value else None


async def _settle_error(
    sd: AsyncSystemd,
    unit: AsyncUnit,
    action: str,
    job_id: int,
    reason: str,
    text: str,
    invocation: str | None,
    seconds: float,
) -> UnitSettleError:
    service_result = exit_code = exit_signal = None
    iface = type_interface(unit.name)
    if iface is not None:
        try:
            props = await sd.get_all(unit.path, iface)
        except (DBusError, BusError):  # the error is what matters; its details are extra
            props = {}
        service_result = props.get("Result") or None
        exit_code, exit_signal = exit_status(props.get("ExecMainCode"), props.get("ExecMainStatus"))
    error = UnitSettleError(
        f"{unit.name} {text}"
        + (f": {service_result}" if service_result and service_result != "success" else ""),
        unit=unit.name,
        job_id=job_id,
        job_type=action,
        result="done",
        service_result=service_result,
        exit_code=exit_code,
        exit_signal=exit_signal,
    )
    error.reason = reason
    error.invocation_id = invocation
    error.settle = seconds
    # the failure report of the run that was started (its logs by invocation, not by
    # time); bounded, and never in the way of the error itself
    from .report import failure_report

    error.report = await failure_report(
        sd, unit.name, invocation_id=invocation, job_id=job_id, job_type=action, job_result="done"
    )
    return error
