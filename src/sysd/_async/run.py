"""``systemd-run`` for Python: transient services, scopes and triggers; their end, output, pty.

Written once, as asyncio (``src/sysd/_sync/run.py`` is generated
by ``tools/unasync.py``).  What is a function of the options lives in
:mod:`sysd._core.run`; this module does the I/O, as systemd 252's
``src/run/run.c`` does:

* a **service** is one ``StartTransientUnit`` call.  A watch on the unit is in
  place before the call (``sd.watch_unit``: every PropertiesChanged value is
  kept, so a unit collected right after it exited still tells how), and on a
  message bus the unit carries ``AddRef=yes`` (pinned to our connection until
  we ``Unref`` it, so its accounting can be read after it ended).  systemd 252
  refuses ``Ref``/``AddRef`` on its private socket; there the exit status and
  timestamps come from the watch, and accounting only while the unit is still
  loaded.
* stdin/stdout/stderr: ``sysd.PIPE`` makes a pipe whose far end is passed as
  ``Standard*FileDescriptor`` (SCM_RIGHTS), an fd or file object is passed as
  it is; ``pty=True`` allocates a pseudo terminal whose slave the service gets
  (``TTYPath=`` too) and whose master sysd forwards.  The bytes are moved by a
  :class:`_Pump` in a thread of its own, so a service writing megabytes never
  blocks on a full pipe while we wait on the bus.
* a **scope** is a process sysd forks: the child waits (in a tiny exec helper)
  until the scope holding its PID has started, learns the scope's invocation
  id, then executes the command -- so everything it starts is in the scope.
* a **trigger** (timer, socket, path) is started with the service as an
  auxiliary unit of the same call (``start_transient_trigger()``).
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import os
import pwd
import selectors
import signal as _signal
import struct
import subprocess
import sys
import termios
import threading
import time
import warnings
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, BinaryIO, Literal, overload
from uuid import UUID

from .._bus.wire import Variant
from .._core import unitname
from .._core.convert import timestamp
from .._core.run import (
    InvalidRunOptionError,
    Prop,
    Redirect,
    RunResult,
    RunSpec,
    RunTimeoutError,
    SupportsFileno,
    UnknownUserError,
    make_unit_name,
    run_ended,
    run_result,
    scope_properties,
    scope_result,
    service_properties,
    trigger_properties,
    validate,
    with_command,
)
from .._interrupt import AsyncCriticalSection
from ..errors import (
    BusDisconnectedError,
    BusError,
    DBusError,
    JobError,
    RunFailedError,
    WaitTimeoutError,
)
from ._backend import AsyncThreadHandle, to_thread

if TYPE_CHECKING:
    from datetime import timedelta

    from .._core.status import UnitStatus
    from .job import AsyncJob
    from .subscription import AsyncSubscription
    from .systemd import AsyncSystemd
    from .watch import AsyncUnitWatch

__all__ = [
    "AsyncRunningUnit",
    "AsyncTriggerHandle",
    "RunResult",
    "Stream",
    "run",
]

UNIT_INTERFACE = "org.freedesktop.systemd1.Unit"
SERVICE_INTERFACE = "org.freedesktop.systemd1.Service"
SCOPE_INTERFACE = "org.freedesktop.systemd1.Scope"
TIMER_INTERFACE = "org.freedesktop.systemd1.Timer"
_START_SIGNATURE = "ssa(sv)a(sa(sv))"
# Accounting systemd-run reports once the unit is done (read while the unit is still there).
_ACCOUNTING = {  # the switch, and what systemd reports when it is on
    "CPUAccounting": ("CPUUsageNSec",),
    "MemoryAccounting": ("MemoryPeak",),  # systemd >= 255; 252 has no peak to report
    "IOAccounting": ("IOReadBytes", "IOWriteBytes"),
    "IPAccounting": ("IPIngressBytes", "IPEgressBytes"),
}
_GATE_LIMIT = 5.0  # seconds terminal input waits for the service's exec at most
_PUMP_GRACE = 5.0  # seconds to let output reach EOF after the unit ended, then drain and stop
_ABORT_GRACE = 1.0  # seconds an aborted pump gets to stop writing to our terminal

#: What ``stdin``/``stdout``/``stderr`` take: None (systemd's default), an fd, a file
#: object, or ``sysd.PIPE``/``sysd.DEVNULL``/``sysd.STDOUT``.
Stream = int | SupportsFileno | Redirect | None

# What accounting a connection's manager reports for units that leave the switches at
# their defaults (learnt from the first unit read; forgotten after a reload): often
# nothing, and then reading it is a round trip saved.
_ACCOUNTING_PLANS: weakref.WeakKeyDictionary[object, tuple[int, frozenset[str]]] = (
    weakref.WeakKeyDictionary()
)

# Per-connection counters for generated names (systemd-run makes one unit per connection).
_SEQUENCES: weakref.WeakKeyDictionary[object, itertools.count[int]] = weakref.WeakKeyDictionary()


# ============================================================================ the API


@overload
async def run(
    sd: AsyncSystemd,
    cmd: Sequence[str],
    *,
    wait: Literal[True],
    name: str | None = ...,
    description: str | None = ...,
    slice: str | None = ...,
    scope: bool = ...,
    user: str | None = ...,
    group: str | None = ...,
    nice: int | None = ...,
    cwd: str | os.PathLike[str] | None = ...,
    env: Mapping[str, str] | None = ...,
    service_type: str | None = ...,
    properties: Mapping[str, object] | Sequence[str] | str | None = ...,
    remain_after_exit: bool = ...,
    collect: bool = ...,
    send_sighup: bool = ...,
    stdin: Stream = ...,
    stdout: Stream = ...,
    stderr: Stream = ...,
    input: bytes | None = ...,
    capture_output: bool = ...,
    pty: bool = ...,
    check: bool = ...,
    timeout: float | None = ...,
    on_active: str | float | timedelta | None = ...,
    on_boot: str | float | timedelta | None = ...,
    on_startup: str | float | timedelta | None = ...,
    on_unit_active: str | float | timedelta | None = ...,
    on_unit_inactive: str | float | timedelta | None = ...,
    on_calendar: str | Sequence[str] | None = ...,
    timer_properties: Mapping[str, object] | Sequence[str] | str | None = ...,
    socket_properties: Mapping[str, object] | Sequence[str] | str | None = ...,
    path_properties: Mapping[str, object] | Sequence[str] | str | None = ...,
) -> RunResult: ...


@overload
async def run(
    sd: AsyncSystemd,
    cmd: Sequence[str],
    *,
    wait: Literal[False] = ...,
    name: str | None = ...,
    description: str | None = ...,
    slice: str | None = ...,
    scope: bool = ...,
    user: str | None = ...,
    group: str | None = ...,
    nice: int | None = ...,
    cwd: str | os.PathLike[str] | None = ...,
    env: Mapping[str, str] | None = ...,
    service_type: str | None = ...,
    properties: Mapping[str, object] | Sequence[str] | str | None = ...,
    remain_after_exit: bool = ...,
    collect: bool = ...,
    send_sighup: bool = ...,
    stdin: Stream = ...,
    stdout: Stream = ...,
    stderr: Stream = ...,
    input: bytes | None = ...,
    capture_output: bool = ...,
    pty: bool = ...,
    check: bool = ...,
    timeout: float | None = ...,
    on_active: str | float | timedelta | None = ...,
    on_boot: str | float | timedelta | None = ...,
    on_startup: str | float | timedelta | None = ...,
    on_unit_active: str | float | timedelta | None = ...,
    on_unit_inactive: str | float | timedelta | None = ...,
    on_calendar: str | Sequence[str] | None = ...,
    timer_properties: Mapping[str, object] | Sequence[str] | str | None = ...,
    socket_properties: Mapping[str, object] | Sequence[str] | str | None = ...,
    path_properties: Mapping[str, object] | Sequence[str] | str | None = ...,
) -> AsyncRunningUnit: ...


@overload
async def run(
    sd: AsyncSystemd,
    cmd: Sequence[str],
    *,
    wait: bool,
    name: str | None = ...,
    description: str | None = ...,
    slice: str | None = ...,
    scope: bool = ...,
    user: str | None = ...,
    group: str | None = ...,
    nice: int | None = ...,
    cwd: str | os.PathLike[str] | None = ...,
    env: Mapping[str, str] | None = ...,
    service_type: str | None = ...,
    properties: Mapping[str, object] | Sequence[str] | str | None = ...,
    remain_after_exit: bool = ...,
    collect: bool = ...,
    send_sighup: bool = ...,
    stdin: Stream = ...,
    stdout: Stream = ...,
    stderr: Stream = ...,
    input: bytes | None = ...,
    capture_output: bool = ...,
    pty: bool = ...,
    check: bool = ...,
    timeout: float | None = ...,
    on_active: str | float | timedelta | None = ...,
    on_boot: str | float | timedelta | None = ...,
    on_startup: str | float | timedelta | None = ...,
    on_unit_active: str | float | timedelta | None = ...,
    on_unit_inactive: str | float | timedelta | None = ...,
    on_calendar: str | Sequence[str] | None = ...,
    timer_properties: Mapping[str, object] | Sequence[str] | str | None = ...,
    socket_properties: Mapping[str, object] | Sequence[str] | str | None = ...,
    path_properties: Mapping[str, object] | Sequence[str] | str | None = ...,
) -> RunResult | AsyncRunningUnit: ...


async def run(
    sd: AsyncSystemd,
    cmd: Sequence[str],
    *,
    wait: bool = False,
    name: str | None = None,
    description: str | None = None,
    slice: str | None = None,
    scope: bool = False,
    user: str | None = None,
    group: str | None = None,
    nice: int | None = None,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    service_type: str | None = None,
    properties: Mapping[str, object] | Sequence[str] | str | None = None,
    remain_after_exit: bool = False,
    collect: bool = True,
    send_sighup: bool = False,
    stdin: Stream = None,
    stdout: Stream = None,
    stderr: Stream = None,
    input: bytes | None = None,
    capture_output: bool = False,
    pty: bool = False,
    check: bool = False,
    timeout: float | None = None,
    on_active: str | float | timedelta | None = None,
    on_boot: str | float | timedelta | None = None,
    on_startup: str | float | timedelta | None = None,
    on_unit_active: str | float | timedelta | None = None,
    on_unit_inactive: str | float | timedelta | None = None,
    on_calendar: str | Sequence[str] | None = None,
    timer_properties: Mapping[str, object] | Sequence[str] | str | None = None,
    socket_properties: Mapping[str, object] | Sequence[str] | str | None = None,
    path_properties: Mapping[str, object] | Sequence[str] | str | None = None,
) -> RunResult | AsyncRunningUnit:
    """Run ``cmd`` in a transient unit, as ``systemd-run`` does (see docs/run.md).

    ``wait=False`` returns an :class:`AsyncRunningUnit` once the start job is done
    (an :class:`AsyncTriggerHandle` when a timer/socket/path trigger was asked
    for); ``wait=True`` returns the :class:`RunResult` once the main process
    exited.  Every option is checked before anything is sent.
    """
    if capture_output:
        if stdout is not None or stderr is not None:
            raise InvalidRunOptionError(
                "capture_output=True may not be used with stdout= or stderr=",
                option="capture_output",
            )
        stdout = stderr = Redirect.PIPE
    if input is not None:
        if not isinstance(input, bytes | bytearray | memoryview):
            raise InvalidRunOptionError(
                f"input= must be bytes, not {type(input).__name__}", option="input"
            )
        if stdin is not None and stdin is not Redirect.PIPE:
            raise InvalidRunOptionError("input= and stdin= may not both be used", option="input")
        stdin = Redirect.PIPE
    _check_stream(stdin, "stdin", allow_stdout=False)
    _check_stream(stdout, "stdout", allow_stdout=False)
    _check_stream(stderr, "stderr", allow_stdout=True)
    redirected = any(s is not None for s in (stdin, stdout, stderr))
    spec = validate(
        cmd,
        name=name,
        description=description,
        slice=slice,
        scope=scope,
        user=user,
        group=group,
        nice=nice,
        cwd=cwd,
        env=env,
        service_type=service_type,
        properties=properties,
        remain_after_exit=remain_after_exit,
        collect=collect,
        send_sighup=send_sighup,
        stdio=redirected,
        pty=pty,
        wait=wait,
        timeout=timeout,
        on_active=on_active,
        on_boot=on_boot,
        on_startup=on_startup,
        on_unit_active=on_unit_active,
        on_unit_inactive=on_unit_inactive,
        on_calendar=on_calendar,
        timer_properties=timer_properties,
        socket_properties=socket_properties,
        path_properties=path_properties,
    )
    local = sd.target.scope != "remote"
    # a container's pty comes from machined here (OpenMachinePTY), as systemd-run -M does:
    # only a stderr given apart from it needs fd passing then
    machine_pty = pty and not scope and sd.target.machine is not None
    if machine_pty and stderr not in (None, Redirect.STDOUT, Redirect.DEVNULL):
        # the service opens the container's pty itself (StandardInput=tty + TTYPath=), and
        # systemd ignores TTYPath= once any Standard*FileDescriptor= is given
        raise InvalidRunOptionError(
            f"pty=True in container {sd.target.machine}: stderr goes to the terminal, "
            f"it cannot be a pipe or a file descriptor of its own",
            option="stderr",
            hint="pass stdout=sysd.PIPE with stderr=sysd.STDOUT (or sysd.DEVNULL) instead of "
            "capture_output=True, or run without pty=True to get stderr apart",
        )
    fds_needed = not machine_pty and (redirected or pty) and not scope
    if fds_needed and not sd.bus.unix_fds:
        raise InvalidRunOptionError(
            f"stdin/stdout/stderr and pty need file descriptor passing, which "
            f"{sd.target.description} does not support",
            option="stdout" if redirected else "pty",
            hint=_no_fds_hint(sd),
        )
    if ((pty and not machine_pty) or scope) and not local:
        raise InvalidRunOptionError(
            f"{'scope=True' if scope else 'pty=True'} needs a manager on this machine",
            option="scope" if scope else "pty",
            hint=None if scope else _no_fds_hint(sd),
        )
    if _preflight_blocks(spec, local):
        spec = await to_thread(_preflight, spec, local)
    else:
        spec = _preflight(spec, local)
    data = bytes(input) if input is not None else None
    if spec.mode == "scope":
        return await _start_scope(sd, spec, stdin, stdout, stderr, data, wait, check)
    if spec.trigger is not None:
        return await _start_trigger(sd, spec)
    return await _start_service(sd, spec, stdin, stdout, stderr, data, pty, wait, check)


def _no_fds_hint(sd: AsyncSystemd) -> str | None:
    if sd.target.machine is not None:
        return (
            "as root, sysd connects to the container's own bus socket, which passes them; "
            "or use pty=True (its terminal comes from machined)"
        )
    if sd.target.scope == "remote":
        return (
            "over ssh sysd cannot pass pipes or a terminal: run sysd on that host "
            "(e.g. `ssh -t HOST sysd run --pty ...`)"
        )
    return None


class AsyncRunningUnit:
    """A unit started by :func:`run` with ``wait=False``.

    ``unit`` is its name, ``invocation_id`` its invocation (None until systemd
    reported it), ``stdin`` a writable binary file when ``stdin=sysd.PIPE`` was
    given without ``input=``.  ``await wait()`` for the :class:`RunResult`;
    ``stop()``, ``kill()``, ``status()`` act on the unit.  Use it as a context
    manager (or ``aclose()``) to let go of what sysd holds for it (the watch, the
    bus reference, the pipes) if you do not wait.
    """

    def __init__(
        self,
        sd: AsyncSystemd,
        unit: str,
        spec: RunSpec,
        watch: AsyncUnitWatch,
        *,
        pinned: bool = False,
        pump: _Pump | None = None,
        pump_thread: AsyncThreadHandle[None] | None = None,
        stdin: BinaryIO | None = None,
        job: AsyncJob | None = None,
    ) -> None:
        self.sd = sd
        self.unit = unit
        self.spec = spec
        self.stdin = stdin
        self.job = job
        self._watch: AsyncUnitWatch | None = watch
        self._pinned = pinned
        self._pump = pump
        self._pump_thread = pump_thread
        self._result: RunResult | None = None
        self._invocation: UUID | None = None
        self._final: Mapping[str, Any] = {}  # the last values seen (the failure report)
        self._job_slot = False  # a slot of the connection's job budget, for the start job
        # Dropped unclosed: the watch and the pin are released right after (on the event
        # loop; blocking: by the connection's release thread; a finalizer cannot do I/O),
        # with a ResourceWarning as for an unclosed file.
        # The finalizer holds what to release, never the handle itself.
        self._finalizer = weakref.finalize(
            self, _dropped, sd._subscription, watch, watch.path if pinned else None, unit
        )
        self._finalizer.atexit = False  # alive at exit: the connection goes with the process
        sd._subscription.expect_dropped()

    def __repr__(self) -> str:
        state = "done" if self._result is not None else "running"
        return f"<{type(self).__name__} {self.unit} ({state})>"

    # ------------------------------------------------------------------ reading

    @property
    def invocation_id(self) -> UUID | None:
        """The unit's invocation id (``$INVOCATION_ID`` of its processes)."""
        if self._invocation is None and self._watch is not None:
            raw = self._watch.props.get("InvocationID")
            if raw:
                self._invocation = UUID(bytes=bytes(raw))
        if self._invocation is None and self._result is not None:
            self._invocation = self._result.invocation_id
        return self._invocation

    @property
    def main_pid(self) -> int | None:
        """The main process's PID as systemd last reported it (None when not running)."""
        if self._watch is None:
            return None
        pid = self._watch.props.get("MainPID") or self._watch.props.get("ExecMainPID")
        return int(pid) if pid else None

    @property
    def result(self) -> RunResult | None:
        """The :class:`RunResult` once :meth:`wait` returned it, else None."""
        return self._result

    @property
    def disconnected(self) -> bool:
        """True once the user let go of the terminal (``^]`` three times, ``pty=True``
        forwarding our terminal); the unit goes on."""
        return self._pump is not None and self._pump.disconnected

    async def status(self) -> UnitStatus:
        """The unit's typed status snapshot (while it is loaded)."""
        unit = await self.sd.unit(self.unit)
        return await unit.status()

    # ------------------------------------------------------------------ control

    async def stop(self, *, timeout: float | None = None) -> None:
        """Stop the unit (its processes are killed as its KillMode= says); waits for the job."""
        unit = await self.sd.unit(self.unit)
        await unit.stop(timeout=timeout)

    async def kill(self, signal: int = _signal.SIGTERM, whom: str = "all") -> None:
        """Send ``signal`` to the unit's processes (``whom``: all, main, control)."""
        await self.sd.manager_call("KillUnit", "ssi", (self.unit, whom, int(signal)))

    # ------------------------------------------------------------------ waiting

    async def wait(self, timeout: float | None = None) -> RunResult:
        """Wait until the main process exited (the unit is inactive or failed, or active
        and exited with ``remain_after_exit``); return its :class:`RunResult`.

        ``timeout`` bounds the wait only (:class:`sysd.WaitTimeoutError`; the unit
        goes on).
        """
        if self._result is None:
            if self._pump is not None:
                self._pump.take_terminal()  # forwarded while we wait, as systemd-run does
            watch = self._live()
            remain = self.spec.remain_after_exit
            props = await watch.wait(lambda p: run_ended(p, remain), timeout)
            if not run_ended(props, remain) and not watch.removed:  # pragma: no cover
                raise WaitTimeoutError(f"{self.unit} did not end in time")
            if not props.get("ExecMainCode"):
                props = await self._exit_unseen(watch)
            self._result = await self._finish(props)
        return self._result

    async def _exit_unseen(self, watch: AsyncUnitWatch) -> Mapping[str, Any]:
        """The main process's exit was not seen (its signal was lost with the bus: a
        dbus-daemon restart or kill): read the unit again; if systemd collected it in
        the gap (its pin went with the old connection), its result is lost: say so
        rather than return the values from before (exit_code=None, result='success')."""
        props = await watch.refresh()
        if props.get("ExecMainCode") or not watch.removed:
            return props
        raise BusDisconnectedError(
            f"{self.unit}: its result is unknown: it ended while the bus connection was "
            "lost, and systemd collected it before sysd could read it again"
        )

    async def _finish(self, props: Mapping[str, Any]) -> RunResult:
        """Read what is left to read, release everything, build the result."""
        watch = self._live()
        final = dict(props)
        still_there = self._pinned or (
            not watch.removed
            and (
                (final.get("ActiveState") == "failed" and not self.spec.collect)
                or final.get("ActiveState") == "active"
            )
        )
        if still_there:
            final.update(await _accounting(self.sd, self.spec, watch.path, SERVICE_INTERFACE))
        self._final = final
        stdout, stderr = await self._collect_output(final)
        await self.aclose()
        return run_result(self.unit, final, stdout=stdout, stderr=stderr)

    async def _collect_output(self, props: Mapping[str, Any]) -> tuple[bytes | None, bytes | None]:
        pump, thread = self._pump, self._pump_thread
        if pump is None or thread is None:
            return None, None
        if props.get("ActiveState") == "active":  # RemainAfterExit: systemd keeps the fds
            pump.finish()
        try:
            await thread.join(_PUMP_GRACE)
        except TimeoutError:  # someone else holds the pipes open: take what is there
            pump.finish()
            await thread.join()
        return pump.output("stdout"), pump.output("stderr")

    def _live(self) -> AsyncUnitWatch:
        if self._watch is None:
            raise RuntimeError(f"{self.unit}: this handle was closed")
        return self._watch

    # ------------------------------------------------------------------ closing

    async def aclose(self) -> None:
        """Let go of the watch, the bus reference and the pipes (the unit goes on)."""
        # the undo, whole: a Ctrl-C meanwhile is raised once it is done (blocking flavour)
        with AsyncCriticalSection():
            self._finalizer.detach()
            self._release_job_slot()
            watch, self._watch = self._watch, None
            if self._pump is not None:
                if self._pump_thread and not self._pump_thread.done():
                    self._pump.abort()
                    with contextlib.suppress(TimeoutError):
                        await self._pump_thread.join(_ABORT_GRACE)
                self._pump.release_terminal()
            if self.stdin is not None and self._result is not None:
                with contextlib.suppress(OSError):
                    self.stdin.close()
            if watch is None:
                return
            try:
                if self._pinned:
                    self._pinned = False
                    await _unref(self.sd, watch.path)
            finally:
                await watch.__aexit__(None, None, None)

    async def __aenter__(self) -> AsyncRunningUnit:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def _release_job_slot(self) -> None:
        with AsyncCriticalSection():  # the marker and the count go together (Ctrl-C)
            if self._job_slot:
                self._job_slot = False
                self.sd._subscription.release_job()


def _dropped(sub: AsyncSubscription, watch: AsyncUnitWatch, pinned: str | None, unit: str) -> None:
    """A run handle was garbage-collected unclosed: queue its release, and warn."""
    sub.dropped_handle(watch, pinned)
    warnings.warn(
        f"unclosed run handle for {unit}: use it as a context manager or call close()",
        ResourceWarning,
        stacklevel=2,
    )


class AsyncTriggerHandle(AsyncRunningUnit):
    """A timer, socket or path unit started by :func:`run`, and the service it starts.

    ``unit`` is the trigger unit, ``service`` the service; ``next_elapse`` (timers)
    when the timer elapses next, as an aware datetime.  ``await wait()`` waits for
    the first run of the service to end and returns its :class:`RunResult`;
    ``stop()`` stops the trigger and the service.
    """

    def __init__(
        self,
        sd: AsyncSystemd,
        unit: str,
        service: str,
        spec: RunSpec,
        watch: AsyncUnitWatch,
        *,
        job: AsyncJob | None = None,
    ) -> None:
        super().__init__(sd, service, spec, watch, job=job)
        self.unit = unit
        self.service = service
        self.next_elapse: datetime | None = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.unit} -> {self.service}>"

    async def wait(self, timeout: float | None = None) -> RunResult:
        """Wait until the service ran once and ended; its :class:`RunResult`."""
        if self._result is None:
            watch = self._live()
            props = await watch.wait(run_ended, timeout)
            final = dict(props)
            self._result = run_result(self.service, final)
            await self.aclose()
        return self._result

    async def refresh_next_elapse(self) -> datetime | None:
        """Read the timer's next elapse again (None for sockets and paths)."""
        if self.spec.trigger != "timer":
            return None
        path = unitname.to_dbus_path(self.unit)
        try:
            props = await self.sd.get_all(path, TIMER_INTERFACE)
        except DBusError:
            return None
        self.next_elapse = _next_elapse(props, local=self.sd.target.scope != "remote")
        return self.next_elapse

    async def stop(self, *, timeout: float | None = None) -> None:
        """Stop the trigger unit, then the service (if it is loaded)."""
        for name in (self.unit, self.service):
            try:
                unit = await self.sd.unit(name)
                await unit.stop(timeout=timeout)
            except DBusError:
                continue

    async def kill(self, signal: int = _signal.SIGTERM, whom: str = "all") -> None:
        """Send ``signal`` to the service's processes."""
        await self.sd.manager_call("KillUnit", "ssi", (self.service, whom, int(signal)))

    async def status(self) -> UnitStatus:
        """The trigger unit's typed status snapshot."""
        unit = await self.sd.unit(self.unit)
        return await unit.status()


class AsyncScopeRun(AsyncRunningUnit):
    """A scope run: the main process is our child; its end is ``waitpid``'s answer."""

    def __init__(
        self,
        sd: AsyncSystemd,
        unit: str,
        spec: RunSpec,
        watch: AsyncUnitWatch,
        proc: subprocess.Popen[bytes],
        waiter: AsyncThreadHandle[int],
        *,
        pinned: bool,
        started_at: datetime,
        pump: _Pump | None,
        pump_thread: AsyncThreadHandle[None] | None,
        stdin: BinaryIO | None,
        job: AsyncJob | None,
    ) -> None:
        super().__init__(
            sd,
            unit,
            spec,
            watch,
            pinned=pinned,
            pump=pump,
            pump_thread=pump_thread,
            stdin=stdin,
            job=job,
        )
        self.proc = proc
        self._waiter = waiter
        self._started_at = started_at

    @property
    def main_pid(self) -> int | None:
        return self.proc.pid if self.proc.returncode is None else None

    async def wait(self, timeout: float | None = None) -> RunResult:
        """Wait until the scope's main process (our child) exited; its RunResult."""
        if self._result is None:
            try:
                returncode = await self._waiter.join(timeout)
            except TimeoutError:
                raise WaitTimeoutError(
                    f"{self.unit}: process {self.proc.pid} is still running"
                ) from None
            exited_at = datetime.now(UTC)
            watch = self._live()
            final = dict(watch.props)
            if self._pinned or not watch.removed:
                final.update(await _accounting(self.sd, self.spec, watch.path, SCOPE_INTERFACE))
            stdout, stderr = await self._collect_output({})
            await self.aclose()
            self._result = scope_result(
                self.unit,
                final,
                returncode,
                pid=self.proc.pid,
                started_at=self._started_at,
                exited_at=exited_at,
                stdout=stdout,
                stderr=stderr,
            )
        return self._result


# ================================================================= before any call


def _check_stream(value: object, option: str, *, allow_stdout: bool) -> None:
    if value is None or value is Redirect.PIPE or value is Redirect.DEVNULL:
        return
    if value is Redirect.STDOUT:
        if not allow_stdout:
            raise InvalidRunOptionError(f"{option}=sysd.STDOUT is for stderr only", option=option)
        return
    if isinstance(value, bool) or not (isinstance(value, int) or hasattr(value, "fileno")):
        raise InvalidRunOptionError(
            f"{option}= must be None, an fd, a file object, sysd.PIPE or sysd.DEVNULL, "
            f"not {type(value).__name__}",
            option=option,
        )
    if isinstance(value, int) and value < 0:
        raise InvalidRunOptionError(f"{option}={value}: not a file descriptor", option=option)


def _fileno(value: object) -> int:
    if isinstance(value, int):
        return value
    fileno = value.fileno  # type: ignore[attr-defined]
    fd = fileno()
    assert isinstance(fd, int)
    return fd


def _preflight(spec: RunSpec, local: bool) -> RunSpec:
    """The checks that read this machine (blocking: run off the event loop).

    Like systemd-run: the command is made absolute from our $PATH (the manager
    uses a fixed search path), and -- beyond systemd-run -- ``user``/``group``
    must exist here, so a typo is a clear error instead of status 217/USER.
    """
    if not local:
        return spec
    if spec.resolve_executable:
        exe = _find_executable(spec.cmd[0])
        if exe is not None:
            spec = with_command(spec, (exe, *spec.cmd[1:]))
    if not spec.dynamic_user:
        import grp

        if spec.user is not None and not spec.user.isdigit():
            try:
                pwd.getpwnam(spec.user)
            except KeyError:
                raise UnknownUserError(
                    f"unknown user {spec.user!r}: no such account on this machine",
                    option="user",
                    user=spec.user,
                    hint="check the name (getent passwd), or use DynamicUser=yes in properties",
                ) from None
        if spec.group is not None and not spec.group.isdigit():
            try:
                grp.getgrnam(spec.group)
            except KeyError:
                raise UnknownUserError(
                    f"unknown group {spec.group!r}: no such group on this machine",
                    option="group",
                    user=spec.group,
                ) from None
    return spec


def _preflight_blocks(spec: RunSpec, local: bool) -> bool:
    """Whether the checks may block: account lookups (NSS may ask the network) and
    $PATH searches go to a thread; one stat() of an absolute path does not."""
    if not local:
        return False
    names = (spec.user, spec.group)
    if not spec.dynamic_user and any(n is not None and not n.isdigit() for n in names):
        return True
    return spec.resolve_executable and not spec.cmd[0].startswith("/")


def _find_executable(name: str) -> str | None:
    """systemd's ``find_executable()`` with our $PATH; None to leave the name as it is
    (permission problems, as systemd-run does)."""
    if "/" in name:
        path = os.path.abspath(name)
        if os.path.isdir(path):
            raise InvalidRunOptionError(f"{name!r} is a directory", option="cmd")
        if not os.path.exists(path):
            raise InvalidRunOptionError(
                f"failed to find executable {name}: no such file", option="cmd"
            )
        return path
    import shutil

    found = shutil.which(name)
    if found is None:
        for directory in os.environ.get("PATH", os.defpath).split(os.pathsep):
            candidate = os.path.join(directory or ".", name)
            if os.path.exists(candidate) and not os.access(candidate, os.X_OK):
                return None  # not ours to run, maybe the manager's: leave it
        raise InvalidRunOptionError(
            f"failed to find executable {name}: not on $PATH",
            option="cmd",
            hint="give the absolute path",
        )
    return os.path.abspath(found)


def _generated_name(sd: AsyncSystemd, unit_type: str) -> str:
    bus = sd.bus
    unique = bus.unique_name
    if unique is None:
        return make_unit_name(None, unit_type, random_hex=os.urandom(16).hex())
    seq = _SEQUENCES.setdefault(bus, itertools.count())
    return make_unit_name(unique, unit_type, next(seq))


def _variants(props: Sequence[Prop]) -> list[tuple[str, Variant]]:
    return [(name, Variant(sig, value)) for name, sig, value in props]


def _overridden(spec: RunSpec, name: str) -> bool:
    return any(a.name == name for a in spec.properties)


# ========================================================================= services


async def _start_service(
    sd: AsyncSystemd,
    spec: RunSpec,
    stdin: Stream,
    stdout: Stream,
    stderr: Stream,
    data: bytes | None,
    pty: bool,
    wait: bool,
    check: bool,
) -> RunResult | AsyncRunningUnit:
    name = spec.name or _generated_name(sd, "service")
    deadline = None if spec.timeout is None else time.monotonic() + spec.timeout
    sub = sd._subscription
    watch = sd.watch_unit(name)
    io: _Stdio | None = None
    thread: AsyncThreadHandle[None] | None = None
    handle: AsyncRunningUnit | None = None
    slot = pinned = sent = False
    opened: tuple[int, str] | None = None  # a container's pty (master fd, its path there)
    # One try for every step, each counted together with the marker its undo reads in a
    # critical section (a Ctrl-C there is raised at the end of it, inside this try).
    try:
        # the start job counts against the connection's job budget: wait in line for a slot
        with AsyncCriticalSection():
            slot = sub.jobs.try_acquire()
        if not slot:  # waiting in line (the budget is used up): interruptible
            await sub.acquire_job(deadline, f"run {name}")
            slot = True
        if pty and sd.target.machine is not None:
            from .machine import open_machine_pty

            opened = await open_machine_pty(sd.target.machine, deadline)
        with AsyncCriticalSection():
            io = _Stdio(stdin, stdout, stderr, data, pty=pty, wait=wait, opened=opened)
            opened = None  # io owns it now
            io.prepare()
        with AsyncCriticalSection():
            pinned = _pin(sd)  # AddRef needs bus tracking: a message bus
        stdio, extra_env = io.service_props(spec)
        props = service_properties(spec, add_ref=pinned, stdio=stdio, extra_env=extra_env)
        args: tuple[Any, ...] = (name, "fail", _variants(props), [])
        await watch.__aenter__()  # left below on every path (nothing when not entered)
        with AsyncCriticalSection():
            if io.pump is not None:
                thread = AsyncThreadHandle(io.pump.run, f"sysd-run-{name}")
        try:
            sent = True  # from here on the unit may exist, even if the call is cut short
            job = await sd.queue_job(
                lambda: sd.manager_call("StartTransientUnit", _START_SIGNATURE, args),
                name,
                "start",
                wait=False,
                counted=True,  # the start job's slot is taken above
            )
        finally:
            io.close_child_ends()  # systemd has them now (or nobody will)
        with AsyncCriticalSection():  # the handle owns all of it from here
            if pinned:  # the unit exists now, with AddRef=yes: pinned again after a reconnect
                sd._subscription.pinned_unit(watch.path)
            handle = AsyncRunningUnit(
                sd,
                name,
                spec,
                watch,
                pinned=pinned,
                pump=io.pump,
                pump_thread=thread,
                stdin=io.stdin_file,
                job=job,
            )
            handle._job_slot = slot  # given back once the start job is over, or at aclose()
            slot = False
        return await _after_start(handle, job, wait, check)
    except BaseException as exc:
        if handle is not None:
            # _after_start cleaned up (or was interrupted as it began): the interrupted
            # unit is stopped (again: harmless), the handle closed (again: nothing)
            if not isinstance(exc, Exception):
                await _stop_created(sd, name, exc)
            await handle.aclose()
            raise
        if slot:
            sub.release_job()
        if opened is not None:
            os.close(opened[0])
        if io is not None:
            if thread is not None and io.pump is not None:
                io.pump.abort()  # the thread closes its fds
            else:
                io.discard()
            if io.stdin_file is not None:
                with contextlib.suppress(OSError):
                    io.stdin_file.close()
        created = sent and not isinstance(exc, DBusError)  # a refusal created nothing
        try:
            if created:
                await _stop_created(sd, name, exc)
            if created and pinned:
                await _unref(sd, watch.path)
            elif pinned:
                _unpin(sd)
        finally:
            await watch.__aexit__(None, None, None)
        raise


async def _after_start(
    handle: AsyncRunningUnit, job: AsyncJob, wait: bool, check: bool
) -> RunResult | AsyncRunningUnit:
    """Wait for the start job (and the run, with ``wait``), as systemd-run does."""
    spec = handle.spec
    deadline = None if spec.timeout is None else time.monotonic() + spec.timeout
    try:
        try:
            try:
                try:
                    await _wait_start_job(handle, job, _left(deadline))
                finally:
                    handle._release_job_slot()
            except JobError:
                # A job that failed because the command failed (a oneshot exiting 1, an
                # exec failure) is a result when waiting; one that never ran it is not.
                if not wait or not _ran(handle._live().props):
                    raise
            if not wait:
                return handle
            result = await handle.wait(_left(deadline))
        except WaitTimeoutError:
            if deadline is None:
                raise
            await _stop_quietly(handle)
            partial = await _result_after_stop(handle)
            raise RunTimeoutError(
                f"{handle.unit} still running after {spec.timeout:g} s: stopped it",
                unit=handle.unit,
                timeout=spec.timeout,
                run_result=partial,
            ) from None
    except BaseException as exc:
        # interrupted or cancelled: as subprocess.run kills; without ``wait`` too, as the
        # caller never got the handle to stop it with
        interrupted = not isinstance(exc, Exception)
        if (wait or interrupted) and not isinstance(exc, JobError | RunTimeoutError):
            await _stop_created(handle.sd, handle.unit, exc)
        await handle.aclose()
        raise
    if check:
        await _check(handle.sd, result, getattr(handle, "_final", None))
    return result


async def _check(sd: AsyncSystemd, result: RunResult, seen: Mapping[str, Any] | None) -> None:
    """``check=True``: RunFailedError unless the run succeeded, with its failure report."""
    try:
        result.check_returncode()
    except RunFailedError as exc:
        from .report import attach_report

        code = 1 if result.exit_code is not None else 2 if result.exit_signal is not None else None
        status = result.exit_code if result.exit_code is not None else result.exit_signal
        fallback = {"result": result.result, "exec_main_code": code, "exec_main_status": status}
        await attach_report(
            exc,
            sd,
            result.unit,
            invocation_id=result.invocation_id,
            seen=seen,
            fallback={k: v for k, v in fallback.items() if v is not None},
        )
        raise


async def _wait_start_job(handle: AsyncRunningUnit, job: AsyncJob, timeout: float | None) -> None:
    """``job.wait()`` without its first look at the job object: the watch wakes for the
    unit's Job property, which systemd changes right after sending JobRemoved
    (``job_uninstall()``), so the JobRemoved is in by then.  Should that signal have been
    lost (systemd re-executed), ``job.wait()`` looks the job up again and deduces."""
    sd = handle.sd
    removed = sd._subscription.removed
    path = job.path

    def over(props: Mapping[str, Any]) -> bool:
        current = props.get("Job")
        return path in removed or (current is not None and current[0] == 0 and _ran(props))

    deadline = None if timeout is None else time.monotonic() + timeout
    await handle._live().wait(over, timeout)
    await job.wait(_left(deadline))


def _left(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.0, deadline - time.monotonic())


def _ran(props: Mapping[str, Any]) -> bool:
    """Whether the unit left "inactive" for this start (it ran, or tried to)."""
    return bool(props.get("InactiveExitTimestampMonotonic")) or props.get("Result") not in (
        None,
        "success",
    )


async def _stop_quietly(handle: AsyncRunningUnit) -> None:
    with contextlib.suppress(DBusError, BusError):
        await handle.sd.manager_call("StopUnit", "ss", (handle.unit, "replace"))


async def _stop_created(sd: AsyncSystemd, name: str, exc: BaseException) -> None:
    """Stop a transient unit this call created (or may have) when the caller gets no
    handle on it (RELIABILITY.md 48); when that is impossible, say so in ``exc``."""
    try:
        await sd.manager_call("StopUnit", "ss", (name, "replace"))
    except DBusError:
        pass  # no such unit: it was never created, or is gone already
    except BusError:
        exc.add_note(f"sysd: the transient unit {name} may still be running: stop it")
    except BaseException:  # interrupted again while stopping it
        exc.add_note(f"sysd: the transient unit {name} may still be running: stop it")
        raise


async def _result_after_stop(handle: AsyncRunningUnit) -> RunResult | None:
    try:
        return await handle.wait(30.0)
    except (WaitTimeoutError, DBusError, BusError):
        return None


async def _accounting(sd: AsyncSystemd, spec: RunSpec, path: str, interface: str) -> dict[str, Any]:
    """The accounting of a unit that is still loaded (one GetAll), when there is any.

    systemd 252 reports CPU/IO/IP use only with ``CPUAccounting=``/``IOAccounting=``/
    ``IPAccounting=`` on; a unit leaves them at the manager's defaults unless the
    properties say otherwise, so once one unit showed that nothing is on, later units
    are not asked.
    """
    own = any(a.name in _ACCOUNTING for a in spec.properties)
    cached = _ACCOUNTING_PLANS.get(sd.bus)
    generation = sd._subscription.generation
    if not own and cached is not None and cached[0] == generation and not cached[1]:
        return {}
    try:
        props = await sd.get_all(path, interface)
    except (DBusError, BusError):
        return {}
    if not own:
        on = frozenset(
            key
            for switch, keys in _ACCOUNTING.items()
            if props.get(switch)
            for key in keys
            if key in props
        )
        _ACCOUNTING_PLANS[sd.bus] = (generation, on)
    return {key: props[key] for keys in _ACCOUNTING.values() for key in keys if key in props}


def _pin(sd: AsyncSystemd) -> bool:
    """Whether this run's unit gets ``AddRef=yes`` (a slot of the connection's pins).

    Only on a message bus (bus tracking), and only while one of the connection's
    pin slots (PINS_MAX, shared with job waits' ``Ref``) is free: each pinned unit
    costs systemd a match rule on the bus, and about 500 of them knock systemd 252
    off it (RELIABILITY.md 44).  Runs beyond that are watched unpinned, as on the
    private socket.  Counted on the connection object, not on one bus: a reconnect
    does not reset the count.
    """
    if not sd.bus.target.hello:
        return False
    return sd._subscription.pin_slots.try_acquire()


def _unpin(sd: AsyncSystemd) -> None:
    sd._subscription.release_pin()


async def _unref(sd: AsyncSystemd, path: str) -> None:
    with AsyncCriticalSection():  # the count and the mark go together (Ctrl-C)
        _unpin(sd)
        sd._subscription.unpinned_unit(path)
    with contextlib.suppress(DBusError, BusError):
        await sd.call(None, path, UNIT_INTERFACE, "Unref")


# ============================================================================ stdio


class _Stdio:
    """The unit's stdin/stdout/stderr: which fds it gets, what the pump moves.

    ``prepare()`` opens pipes (or the pty); ``child`` maps 0/1/2 to an fd to give,
    ``"null"``, or None (the default: the journal for a service, our own stdio for
    a scope).  The pump owns the fds on our side from then on; ``close_child_ends()``
    closes our copies of the ends given away, once systemd (or the child) has them.
    """

    def __init__(
        self,
        stdin: Stream,
        stdout: Stream,
        stderr: Stream,
        data: bytes | None,
        *,
        pty: bool,
        wait: bool,
        opened: tuple[int, str] | None = None,
    ) -> None:
        self.stdin, self.stdout, self.stderr = stdin, stdout, stderr
        self.data = data
        self.pty = pty
        self.opened = opened  # a pty opened elsewhere (a container's): master, slave path
        self.wait = wait
        self.child: dict[int, int | str | None] = {0: None, 1: None, 2: None}
        self.tty_path: str | None = None
        self.pump: _Pump | None = None
        self.stdin_file: BinaryIO | None = None
        self._given: list[int] = []  # our copies of fds given away: closed after the call

    def _get_pump(self) -> _Pump:
        if self.pump is None:
            self.pump = _Pump()
        return self.pump

    def _pipe(self) -> tuple[int, int]:
        r, w = os.pipe()
        return r, w

    def prepare(self) -> None:
        try:
            if self.pty:
                self._prepare_pty()
            else:
                self._prepare_pipes()
        except BaseException:
            self.discard()
            raise

    def _prepare_pipes(self) -> None:
        stdin, stdout, stderr = self.stdin, self.stdout, self.stderr
        if stdin is Redirect.DEVNULL:
            self.child[0] = "null"
        elif stdin is Redirect.PIPE:
            r, w = self._pipe()
            self._given.append(r)
            self.child[0] = r
            if self.data is not None:
                self._get_pump().write(w, self.data, close=True)
            elif not self.wait:
                self.stdin_file = open(w, "wb")  # noqa: SIM115 - the caller's to close
            else:
                os.close(w)  # nothing to send: EOF at once
        elif stdin is not None:
            self.child[0] = _fileno(stdin)
        if stdout is Redirect.DEVNULL:
            self.child[1] = "null"
        elif stdout is Redirect.PIPE:
            r, w = self._pipe()
            self._given.append(w)
            self._get_pump().capture(r, "stdout")
            self.child[1] = w
        elif stdout is not None:
            self.child[1] = _fileno(stdout)
        if stderr is Redirect.STDOUT:
            self.child[2] = self.child[1] if stdout is not None else "stdout"
        elif stderr is Redirect.DEVNULL:
            self.child[2] = "null"
        elif stderr is Redirect.PIPE:
            r, w = self._pipe()
            self._given.append(w)
            self._get_pump().capture(r, "stderr")
            self.child[2] = w
        elif stderr is not None:
            self.child[2] = _fileno(stderr)

    def _prepare_pty(self) -> None:
        pump = self._get_pump()
        slave: int | str
        if self.opened is not None:  # the service opens TTYPath itself (StandardInput=tty)
            (master, self.tty_path), self.opened = self.opened, None
            pump.own(master)
            slave = "tty"
        else:
            master, slave = os.openpty()
            self._given.append(slave)
            pump.own(master)
            self.tty_path = os.ttyname(slave)
        os.set_blocking(master, False)
        stdin, stdout, stderr = self.stdin, self.stdout, self.stderr
        # what the terminal reads: our stdin, input= bytes, a given fd, or nothing
        if stdin is None:
            if _valid_fd(0):
                pump.forward_in(0, master, terminal=os.isatty(0))
        elif stdin is Redirect.PIPE:
            if self.data is not None:
                pump.write(master, self.data, close=False)
        elif stdin is not Redirect.DEVNULL:
            pump.forward_in(_fileno(stdin), master, terminal=False)
        # what it writes: to our stdout, captured, to a given fd, or dropped
        if stdout is None:
            pump.tty_output(master, 1 if _valid_fd(1) else None)
        elif stdout is Redirect.PIPE:
            pump.tty_output(master, None, key="stdout")
        elif stdout is Redirect.DEVNULL:
            pump.tty_output(master, None)
        else:
            pump.tty_output(master, _fileno(stdout))
        self.child[0] = self.child[1] = slave
        if stderr is None or stderr is Redirect.STDOUT:
            self.child[2] = slave
        elif stderr is Redirect.DEVNULL:
            self.child[2] = "null"
        elif stderr is Redirect.PIPE:
            r, w = self._pipe()
            self._given.append(w)
            pump.capture(r, "stderr")
            self.child[2] = w
        else:
            self.child[2] = _fileno(stderr)
        pump.copy_window_size(master)
        pump.hold_input_until_exec(master)

    def service_props(self, spec: RunSpec) -> tuple[list[Prop], list[str]]:
        """(``Standard*``/``TTYPath`` properties, ``TERM=`` for the environment)."""
        props: list[Prop] = []
        names = {0: "StandardInput", 1: "StandardOutput", 2: "StandardError"}
        for fd, value in self.child.items():
            if isinstance(value, int):
                props.append((names[fd] + "FileDescriptor", "h", value))
            elif value in ("null", "tty"):
                props.append((names[fd], "s", value))
        if (
            self.child[2] is None
            and self.child[1] is not None
            and not _overridden(spec, "StandardError")
        ):
            # None means the journal (systemd's "inherit" would follow stdout)
            props.append(("StandardError", "s", "journal"))
        env: list[str] = []
        if self.tty_path is not None:
            props.append(("TTYPath", "s", self.tty_path))
        terminal = self.tty_path is not None or any(
            isinstance(v, int) and _isatty(v) for v in self.child.values()
        )
        term = os.environ.get("TERM")
        if terminal and term and "\0" not in term:
            env.append(f"TERM={term}")
        return props, env

    def popen_args(self) -> dict[str, Any]:
        """stdin/stdout/stderr for subprocess.Popen (a scope's child)."""
        out: dict[str, Any] = {}
        for fd, key in ((0, "stdin"), (1, "stdout"), (2, "stderr")):
            value = self.child[fd]
            if value == "null":
                out[key] = subprocess.DEVNULL
            elif value == "stdout":
                out[key] = subprocess.STDOUT
            else:
                out[key] = value
        return out

    def close_child_ends(self) -> None:
        fds, self._given = self._given, []
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)

    def discard(self) -> None:
        """Nothing will run: close everything (when the pump thread never started)."""
        if self.opened is not None:
            os.close(self.opened[0])
            self.opened = None
        self.close_child_ends()
        if self.pump is not None:
            self.pump.close_fds()
        if self.stdin_file is not None:
            with contextlib.suppress(OSError):
                self.stdin_file.close()


def _valid_fd(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def _isatty(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False


class _Pump:
    """Moves bytes between sysd's side and the unit's stdio, in a thread of its own.

    Channels: bytes to *write* to an fd (then close it, for a pipe); fds to
    *capture* until EOF; a pty master whose output goes to an fd (or is captured
    or dropped) and into which an input fd is *forwarded* (our terminal, in raw
    mode, with its window size, and ``^]`` three times within a second to let go).
    ``run()`` returns when every output reached EOF (the unit and systemd closed
    their ends) and every write is done; ``finish()`` makes it read what is left
    and return; ``abort()`` makes it return at once.  It closes the fds it owns
    (pipe ends and the master), never the ones it was lent (our stdin/stdout).
    """

    ESCAPE = 0x1D  # ^]

    def __init__(self) -> None:
        self._owned: set[int] = set()
        self._writes: dict[int, tuple[memoryview, bool]] = {}  # fd -> (left, close after)
        self._reads: dict[int, tuple[str | None, int | None]] = {}  # fd -> (key, copy to)
        self._forwards: dict[int, int] = {}  # input fd -> pty master
        self._pending: dict[int, bytearray] = {}  # master -> forwarded bytes not yet written
        self._terminal_in: int | None = None
        self._terminal = _Terminal()
        self._held: set[int] = set()  # fds left alone until take_terminal()
        self.last_byte: int | None = None  # the last byte written to our terminal
        self._winsize_master: int | None = None
        self._buffers: dict[str, bytearray] = {}
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._finishing = False
        self._aborted = False
        self.disconnected = False  # ^] ^] ^]: the user let go of the terminal
        self._escapes: list[float] = []
        self._gated: int | None = None  # a pty master whose input waits for the exec
        self._gate_deadline = 0.0

    # --------------------------------------------------------------- setting up

    def hold_input_until_exec(self, master: int) -> None:
        """Write nothing into the terminal until the service's process executed.

        systemd resets the terminal it gets on stdin (``reset_terminal_fd()``: a
        ``tcflush(TCIOFLUSH)``) in the forked child before ``execve()``; bytes
        written earlier would be thrown away.  The child is found as the
        terminal's foreground process group; it has executed once its binary
        differs from its parent's (the manager's).
        """
        self._gated = master
        self._gate_deadline = time.monotonic() + _GATE_LIMIT

    def own(self, fd: int) -> None:
        self._owned.add(fd)

    def write(self, fd: int, data: bytes, *, close: bool) -> None:
        self.own(fd)
        os.set_blocking(fd, False)
        self._writes[fd] = (memoryview(data), close)

    def capture(self, fd: int, key: str) -> None:
        self.own(fd)
        os.set_blocking(fd, False)
        self._buffers.setdefault(key, bytearray())
        self._reads[fd] = (key, None)

    def tty_output(self, master: int, to_fd: int | None, key: str | None = None) -> None:
        if key is not None:
            self._buffers.setdefault(key, bytearray())
        self._reads[master] = (key, to_fd)
        if to_fd is not None and _isatty(to_fd):
            self._terminal.out_fd = to_fd
            self._held.add(master)

    def forward_in(self, fd: int, master: int, *, terminal: bool) -> None:
        self._forwards[fd] = master
        if terminal:
            self._terminal_in = fd
            self._terminal.in_fd = fd
            self._held.add(fd)

    def copy_window_size(self, master: int) -> None:
        self._winsize_master = master
        self._sync_winsize()

    def output(self, key: str) -> bytes | None:
        buf = self._buffers.get(key)
        return bytes(buf) if buf is not None else None

    # ------------------------------------------------------------ from outside

    def finish(self) -> None:
        """The unit is done: read what is there, then stop."""
        self._finishing = True
        self._wake()

    def abort(self) -> None:
        """Stop now."""
        self._aborted = True
        self._wake()

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")

    # -------------------------------------------------------------- the thread

    def run(self) -> None:
        try:
            self._loop()
        finally:
            self.release_terminal()
            self.close_fds()

    # --------------------------------------------------------- our terminal

    def take_terminal(self) -> None:
        """Start forwarding our terminal: raw mode, then the unit's output and our input.

        Until then (the unit is being started, the caller prints what it started, as
        systemd-run does before it forwards) our terminal stays cooked and the unit's
        output waits in the pty.  Called from the caller's thread; idempotent.
        """
        self._terminal.make_raw()
        if self._held:
            self._held.clear()
            self._wake()

    def release_terminal(self) -> None:
        """Give our terminal back: its modes as they were, the cursor at a line's start."""
        self._terminal.restore(self.last_byte)

    def _loop(self) -> None:
        sel = selectors.DefaultSelector()
        try:
            sel.register(self._wake_r, selectors.EVENT_READ)
            registered: dict[int, int] = {}
            while not self._aborted:
                if not self._reads and not self._writes:
                    return  # every output reached EOF, every input was written
                if self._finishing and not self._reads:
                    return
                want = self._interest()
                for fd in list(registered):
                    if fd not in want:
                        sel.unregister(fd)
                        del registered[fd]
                for fd, events in want.items():
                    if registered.get(fd) != events:
                        if fd in registered:
                            sel.modify(fd, events)
                        else:
                            sel.register(fd, events)
                        registered[fd] = events
                timeout = None
                if self._finishing:
                    timeout = 0.05
                elif self._gated is not None and (
                    self._gated in self._writes or self._pending.get(self._gated)
                ):
                    timeout = 0.002  # input waits for the exec: look again soon
                elif self._terminal_in is not None and self._winsize_master is not None:
                    timeout = 0.25  # follow the terminal's window size
                ready = sel.select(timeout)
                if not ready:
                    if self._finishing:
                        return  # nothing more arrived: done
                    self._sync_winsize()
                    continue
                for key, events in ready:
                    fd = key.fd
                    if fd == self._wake_r:
                        with contextlib.suppress(OSError):
                            os.read(fd, 512)
                        continue
                    if events & selectors.EVENT_WRITE:
                        self._on_writable(fd)
                    if events & selectors.EVENT_READ:
                        self._on_readable(fd)
        finally:
            sel.close()

    def _interest(self) -> dict[int, int]:
        want: dict[int, int] = {}
        held = self._held
        for fd in self._reads:
            if fd not in held:
                want[fd] = selectors.EVENT_READ
        if not self._finishing:
            gated = self._gate_closed()
            for fd, master in self._forwards.items():
                if fd not in held and not self._pending.get(master):
                    want[fd] = want.get(fd, 0) | selectors.EVENT_READ
            for fd in self._writes:
                if fd != gated:
                    want[fd] = want.get(fd, 0) | selectors.EVENT_WRITE
            for master, buf in self._pending.items():
                if buf and master != gated:
                    want[master] = want.get(master, 0) | selectors.EVENT_WRITE
        return want

    def _gate_closed(self) -> int | None:
        """The master input must still wait for (None once the child executed)."""
        master = self._gated
        if master is None:
            return None
        if time.monotonic() > self._gate_deadline or _child_executed(master):
            self._gated = None
            return None
        return master

    def _on_writable(self, fd: int) -> None:
        if fd in self._writes:
            view, close = self._writes[fd]
            try:
                n = os.write(fd, view[:65536])
            except BlockingIOError:
                return
            except OSError:  # EPIPE: the reader is gone
                n = len(view)
            view = view[n:]
            if view:
                self._writes[fd] = (view, close)
                return
            del self._writes[fd]
            if close:
                self._close(fd)
            return
        buf = self._pending.get(fd)
        if buf:
            try:
                n = os.write(fd, buf)
            except BlockingIOError:
                return
            except OSError:
                buf.clear()
                return
            del buf[:n]

    def _on_readable(self, fd: int) -> None:
        if fd in self._forwards:
            self._forward(fd)
        if fd not in self._reads:
            return
        key, to_fd = self._reads[fd]
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            return
        except OSError:  # EIO: the pty has no slave any more -- its EOF
            chunk = b""
        if not chunk:
            del self._reads[fd]
            self._forwards = {i: m for i, m in self._forwards.items() if m != fd}
            self._pending.pop(fd, None)
            self._writes.pop(fd, None)
            self._close(fd)
            return
        if key is not None:
            self._buffers[key] += chunk
        if to_fd is not None:
            _write_all(to_fd, chunk)
            if to_fd == self._terminal.out_fd:
                self.last_byte = chunk[-1]

    def _forward(self, fd: int) -> None:
        master = self._forwards[fd]
        try:
            chunk = os.read(fd, 4096)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:  # our input ended: stop forwarding (the terminal stays)
            del self._forwards[fd]
            return
        if fd == self._terminal_in and self._escaped(chunk):
            self.disconnected = True
            self._aborted = True
            return
        self._pending.setdefault(master, bytearray()).extend(chunk)

    def _escaped(self, chunk: bytes) -> bool:
        now = time.monotonic()
        for b in chunk:
            if b == self.ESCAPE:
                self._escapes = [t for t in self._escapes if now - t < 1.0] + [now]
                if len(self._escapes) >= 3:
                    return True
            else:
                self._escapes.clear()
        return False

    def _sync_winsize(self) -> None:
        master = self._winsize_master
        if master is None:
            return
        for fd in (self._terminal_in, 1, 0):
            if fd is None:
                continue
            try:
                size = fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8)
            except OSError:
                continue
            rows, cols = struct.unpack("HHHH", size)[:2]
            if rows and cols:
                with contextlib.suppress(OSError):
                    current = fcntl.ioctl(master, termios.TIOCGWINSZ, b"\0" * 8)
                    if current != size:
                        fcntl.ioctl(master, termios.TIOCSWINSZ, size)
                return

    def _close(self, fd: int) -> None:
        if fd in self._owned:
            self._owned.discard(fd)
            with contextlib.suppress(OSError):
                os.close(fd)

    def close_fds(self) -> None:
        """Close every fd the pump owns (and its wake-up pipe); idempotent."""
        for fd in list(self._owned):
            self._close(fd)
        self._reads.clear()
        self._writes.clear()
        self._pending.clear()
        fds = (self._wake_r, self._wake_w)
        self._wake_r = self._wake_w = -1
        for fd in fds:
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)


class _Terminal:
    """Our terminal while a pty is forwarded to it, handled as systemd 252's ptyfwd.c does.

    ``make_raw()``: the input terminal gets ``cfmakeraw()`` (keeping its output flags
    when the output is another terminal); an output terminal that is not the input's
    gets raw output (no ``\\n`` -> ``\\r\\n``: the service's pty already did that)
    but keeps its input and local flags.  ``restore()`` puts back what was saved and,
    when something was written and its last byte was not a newline, writes one, so
    that what follows (a summary, the shell prompt) starts on a line of its own, as
    systemd-run does.  Both may be called from any thread, each takes effect once.
    """

    def __init__(self) -> None:
        self.in_fd: int | None = None
        self.out_fd: int | None = None
        self._saved: list[tuple[int, list[Any]]] = []
        self._raw = False
        self._done = False
        self._lock = threading.Lock()

    def make_raw(self) -> None:
        with self._lock:
            if self._raw or self._done:
                return
            self._raw = True
            same = _same_file(self.in_fd, self.out_fd)
            if self.in_fd is not None:
                with contextlib.suppress(termios.error, OSError):
                    saved = termios.tcgetattr(self.in_fd)
                    raw = _cfmakeraw(saved)
                    if not same:
                        raw[1] = saved[1]  # oflag: the output is someone else's
                    termios.tcsetattr(self.in_fd, termios.TCSANOW, raw)
                    self._saved.append((self.in_fd, saved))
            if self.out_fd is not None and not same:
                with contextlib.suppress(termios.error, OSError):
                    saved = termios.tcgetattr(self.out_fd)
                    raw = _cfmakeraw(saved)
                    raw[0], raw[3] = saved[0], saved[3]  # iflag, lflag
                    termios.tcsetattr(self.out_fd, termios.TCSANOW, raw)
                    self._saved.append((self.out_fd, saved))

    def restore(self, last_byte: int | None) -> None:
        with self._lock:
            if self._done:
                return
            self._done = True
            for fd, saved in reversed(self._saved):
                with contextlib.suppress(termios.error, OSError):
                    termios.tcsetattr(fd, termios.TCSANOW, saved)
            self._saved.clear()
            if self.out_fd is not None and last_byte is not None and last_byte != 0x0A:
                _write_all(self.out_fd, b"\n")


def _cfmakeraw(mode: list[Any]) -> list[Any]:
    """glibc's ``cfmakeraw()`` on a ``termios.tcgetattr()`` list (a new list)."""
    iflag, oflag, cflag, lflag = mode[:4]
    iflag &= ~(
        termios.IGNBRK
        | termios.BRKINT
        | termios.PARMRK
        | termios.ISTRIP
        | termios.INLCR
        | termios.IGNCR
        | termios.ICRNL
        | termios.IXON
    )
    oflag &= ~termios.OPOST
    lflag &= ~(termios.ECHO | termios.ECHONL | termios.ICANON | termios.ISIG | termios.IEXTEN)
    cflag &= ~(termios.CSIZE | termios.PARENB)
    cflag |= termios.CS8
    cc = list(mode[6])
    cc[termios.VMIN] = 1
    cc[termios.VTIME] = 0
    return [iflag, oflag, cflag, lflag, mode[4], mode[5], cc]


def _same_file(a: int | None, b: int | None) -> bool:
    if a is None or b is None:
        return False
    try:
        sa, sb = os.fstat(a), os.fstat(b)
    except OSError:
        return False
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


def _child_executed(master: int) -> bool:
    """Whether the process that owns the pty as its terminal has executed its command.

    Before ``execve()`` the child is a fork of the manager: the same binary, and not
    readable for others when the manager is not dumpable (a user manager); after it, its
    own binary.
    """
    try:
        pgrp = os.tcgetpgrp(master)
    except OSError:
        return False
    if pgrp <= 0:
        return False
    try:
        with open(f"/proc/{pgrp}/stat", "rb") as f:
            stat = f.read()
        ppid = int(stat.rpartition(b")")[2].split()[1])
        exe = os.readlink(f"/proc/{pgrp}/exe")
    except (OSError, ValueError, IndexError):
        return False
    try:
        return exe != os.readlink(f"/proc/{ppid}/exe")
    except OSError:
        return True  # the manager's binary is hidden from us, the child's is not: executed


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            n = os.write(fd, view)
        except BlockingIOError:
            time.sleep(0.005)
            continue
        except OSError:
            return  # our side went away (EPIPE): drop it
        view = view[n:]


# ========================================================================== scopes

# The exec helper of a scope run: waits until sysd says the scope holding its PID is
# there (and what its invocation id is), then becomes the command.  Python -I -S:
# no site, no user environment; it drops the LC_CTYPE its own start may have added.
_SCOPE_HELPER = """\
import os, sys
fd = int(sys.argv[1])
data = b""
while True:
    chunk = os.read(fd, 64)
    if not chunk:
        break
    data += chunk
os.close(fd)
if not data:
    os._exit(127)
os.environ["INVOCATION_ID"] = data.decode().strip()
if sys.argv[2] == "-":
    os.environ.pop("LC_CTYPE", None)
try:
    os.execv(sys.argv[3], sys.argv[3:])
except OSError as e:
    sys.stderr.write("sysd run: failed to execute %s: %s\\n" % (sys.argv[3], e.strerror))
    os._exit(127 if e.errno == 2 else 126)
"""


@dataclass
class _ScopeChild:
    argv: list[str]
    env: dict[str, str]
    cwd: str | None
    user: int | None = None
    group: int | None = None
    extra_groups: list[int] | None = None
    pass_fds: tuple[int, ...] = field(default=())


def _scope_child(spec: RunSpec, go_fd: int) -> _ScopeChild:
    """What ``start_transient_scope()`` does after the scope started, prepared up front."""
    import grp

    env = dict(os.environ)
    uid = gid = None
    groups: list[int] | None = None
    cwd = spec.cwd
    if spec.group is not None:
        gid = int(spec.group) if spec.group.isdigit() else grp.getgrnam(spec.group).gr_gid
    if spec.user is not None:
        entry = pwd.getpwuid(int(spec.user)) if spec.user.isdigit() else pwd.getpwnam(spec.user)
        uid = entry.pw_uid
        if gid is None:
            gid = entry.pw_gid
        env.update(
            HOME=entry.pw_dir, SHELL=entry.pw_shell, USER=entry.pw_name, LOGNAME=entry.pw_name
        )
        groups = os.getgrouplist(entry.pw_name, gid)
        if cwd == "~":
            cwd = entry.pw_dir
    if cwd == "~":
        cwd = os.path.expanduser("~")
    if cwd is not None and cwd.startswith("-"):
        cwd = cwd[1:] if os.path.isdir(cwd[1:]) else None
    for item in spec.env:
        key, _, value = item.partition("=")
        env[key] = value
    argv = [
        sys.executable,
        "-I",
        "-S",
        "-c",
        _SCOPE_HELPER,
        str(go_fd),
        "+" if "LC_CTYPE" in env else "-",
        *spec.cmd,
    ]
    return _ScopeChild(argv, env, cwd, uid, gid, groups, (go_fd,))


def _spawn_scope_child(
    child: _ScopeChild, stdio: dict[str, Any], nice: int | None
) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        child.argv,
        **stdio,
        cwd=child.cwd,
        env=child.env,
        user=child.user,
        group=child.group,
        extra_groups=child.extra_groups,
        pass_fds=child.pass_fds,
        close_fds=True,
    )
    if nice is not None:
        try:
            os.setpriority(os.PRIO_PROCESS, proc.pid, nice)
        except OSError as exc:
            proc.kill()
            proc.wait()
            raise InvalidRunOptionError(
                f"failed to set nice level {nice}: {exc.strerror}", option="nice"
            ) from exc
    return proc


async def _start_scope(
    sd: AsyncSystemd,
    spec: RunSpec,
    stdin: Stream,
    stdout: Stream,
    stderr: Stream,
    data: bytes | None,
    wait: bool,
    check: bool,
) -> RunResult | AsyncRunningUnit:
    name = spec.name or _generated_name(sd, "scope")
    io = _Stdio(stdin, stdout, stderr, data, pty=False, wait=wait)
    io.prepare()
    go_r, go_w = os.pipe()
    try:
        child = await to_thread(_scope_child, spec, go_r)
        proc = await to_thread(_spawn_scope_child, child, io.popen_args(), spec.nice)
    except BaseException:
        io.discard()
        os.close(go_w)
        raise
    finally:
        os.close(go_r)
        io.close_child_ends()
    thread: AsyncThreadHandle[None] | None = None
    if io.pump is not None:
        thread = AsyncThreadHandle(io.pump.run, f"sysd-scope-{name}")
    watch = sd.watch_unit(name)
    queued = pinned = False
    try:
        with AsyncCriticalSection():  # counted and marked together (Ctrl-C: sysd/_interrupt)
            pinned = _pin(sd)
        await watch.__aenter__()
        try:
            props = scope_properties(spec, add_ref=pinned, pid=proc.pid)
            args: tuple[Any, ...] = (name, "fail", _variants(props), [])
            slot = False  # the start job's slot
            try:
                with AsyncCriticalSection():
                    slot = sd._subscription.jobs.try_acquire()
                if not slot:  # waiting in line (the budget is used up): interruptible
                    await sd._subscription.acquire_job(None, f"run {name}")
                    slot = True
                queued = True  # from here on the unit may exist, even if the call is cut short
                job = await sd.queue_job(
                    lambda: sd.manager_call("StartTransientUnit", _START_SIGNATURE, args),
                    name,
                    "start",
                    wait=False,
                    counted=True,  # its slot is taken above
                )
                if pinned:  # the scope exists, with AddRef=yes: pinned again after a reconnect
                    sd._subscription.pinned_unit(watch.path)
                await job.wait()
            finally:
                if slot:
                    sd._subscription.release_job()
            invocation = watch.props.get("InvocationID")
            if not invocation:
                invocation = await sd.get_property(watch.path, UNIT_INTERFACE, "InvocationID")
            os.write(go_w, bytes(invocation).hex().encode() + b"\n")
        except BaseException:
            try:
                if queued and pinned:
                    await _unref(sd, watch.path)
                elif pinned:
                    _unpin(sd)
                pinned = False
            finally:
                await watch.__aexit__(None, None, None)
            raise
    except BaseException:
        try:
            if pinned:  # the watch could not even start
                _unpin(sd)
        finally:
            await watch.__aexit__(None, None, None)  # nothing when not entered (or left)
        os.close(go_w)
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await to_thread(proc.wait)
        if thread is not None and io.pump is not None:
            io.pump.abort()
        if io.stdin_file is not None:
            with contextlib.suppress(OSError):
                io.stdin_file.close()
        raise
    os.close(go_w)
    waiter = AsyncThreadHandle(proc.wait, f"sysd-scope-wait-{name}")
    invocation_id = UUID(bytes=bytes(invocation))
    handle = AsyncScopeRun(
        sd,
        name,
        spec,
        watch,
        proc,
        waiter,
        pinned=pinned,
        started_at=datetime.now(UTC),
        pump=io.pump,
        pump_thread=thread,
        stdin=io.stdin_file,
        job=job,
    )
    handle._invocation = invocation_id
    if not wait:
        return handle
    try:
        try:
            result = await handle.wait(spec.timeout)
        except WaitTimeoutError:
            if spec.timeout is None:
                raise
            await _stop_quietly(handle)
            try:
                partial: RunResult | None = await handle.wait(30.0)
            except WaitTimeoutError:
                partial = None
            raise RunTimeoutError(
                f"{name} still running after {spec.timeout:g} s: stopped it",
                unit=name,
                timeout=spec.timeout,
                run_result=partial,
            ) from None
    except BaseException as exc:
        if not isinstance(exc, RunTimeoutError):
            await _stop_quietly(handle)
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
        await handle.aclose()
        raise
    if check:
        await _check(handle.sd, result, getattr(handle, "_final", None))
    return result


# ========================================================================= triggers


async def _start_trigger(sd: AsyncSystemd, spec: RunSpec) -> AsyncTriggerHandle:
    trigger_type = spec.trigger
    assert trigger_type is not None
    if spec.name is not None and spec.trigger_name is not None:
        service, trigger = spec.name, spec.trigger_name
    else:
        service = _generated_name(sd, "service")
        trigger = unitname.change_suffix(service, f".{trigger_type}")
    tprops = trigger_properties(spec, add_ref=False)
    sprops = service_properties(spec, add_ref=False)
    args = (trigger, "fail", _variants(tprops), [(service, _variants(sprops))])
    watch = sd.watch_unit(service)
    sent: list[bool] = []

    async def start() -> str:
        sent.append(True)  # from here on the units may exist, even if the call is cut short
        path: str = await sd.manager_call("StartTransientUnit", _START_SIGNATURE, args)
        return path

    try:
        await watch.__aenter__()  # left below on every path (nothing when not entered)
        job = await sd.queue_job(start, trigger, "start", wait=True)
        handle = AsyncTriggerHandle(sd, trigger, service, spec, watch, job=job)
        await handle.refresh_next_elapse()
    except BaseException as exc:
        try:
            if sent and not isinstance(exc, Exception):  # interrupted: nobody gets a handle
                await _stop_created(sd, trigger, exc)
                await _stop_created(sd, service, exc)
        finally:
            await watch.__aexit__(None, None, None)
        raise
    return handle


def _next_elapse(props: Mapping[str, Any], *, local: bool) -> datetime | None:
    """The earlier of a timer's realtime and monotonic next elapse, as a UTC datetime.

    The monotonic one is converted with this machine's clocks (only when the
    manager is local: another machine's CLOCK_MONOTONIC means nothing here).
    """
    out: list[datetime] = []
    realtime = props.get("NextElapseUSecRealtime")
    if isinstance(realtime, int):
        when = timestamp(realtime)
        if when is not None:
            out.append(when)
    mono = props.get("NextElapseUSecMonotonic")
    if local and isinstance(mono, int) and 0 < mono < 2**64 - 1:
        now_mono = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        now_real = time.time_ns() // 1000
        when = timestamp(now_real + (mono - now_mono))
        if when is not None:
            out.append(when)
    return min(out) if out else None
