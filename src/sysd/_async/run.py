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
  pump (:mod:`sysd._runio`) in a thread of its own, so a service writing megabytes never
  blocks on a full pipe while we wait on the bus.
* a **scope** is a process sysd forks: the child waits (in a tiny exec helper)
  until the scope holding its PID has started, learns the scope's invocation
  id, then executes the command -- so everything it starts is in the scope.
* a **trigger** (timer, socket, path) is started with the service as an
  auxiliary unit of the same call (``start_transient_trigger()``).
"""

from __future__ import annotations

import os
import pwd
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, overload

from .._core.machine import check_machine_name
from .._core.run import (
    InvalidRunOptionError,
    Redirect,
    RunResult,
    RunSpec,
    UnknownUserError,
    validate,
    with_command,
)
from .._runio import Stream
from ..errors import InvalidMachineCallError
from ._backend import to_thread
from .run_handles import AsyncRunningUnit, AsyncTriggerHandle
from .run_scope import _start_scope
from .run_service import _start_service, _start_trigger

if TYPE_CHECKING:
    from datetime import timedelta

    from .systemd import AsyncSystemd

__all__ = [
    "AsyncRunningUnit",
    "AsyncTriggerHandle",
    "RunResult",
    "Stream",
    "run",
]

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
    machine: str | None = ...,
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
    machine: str | None = ...,
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
    machine: str | None = ...,
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
    machine: str | None = None,
) -> RunResult | AsyncRunningUnit:
    """Run ``cmd`` in a transient unit, as ``systemd-run`` does (see docs/run.md).

    ``wait=False`` returns an :class:`AsyncRunningUnit` once the start job is done
    (an :class:`AsyncTriggerHandle` when a timer/socket/path trigger was asked
    for); ``wait=True`` returns the :class:`RunResult` once the main process
    exited.  Every option is checked before anything is sent.  ``machine``: run it
    in that local container instead (``systemd-run -M``), through a connection to
    its manager that this call opens and closes (a handle keeps it until closed).
    """
    if machine is not None:
        options = {k: v for k, v in locals().items() if k not in ("sd", "cmd", "machine")}
        return await _run_in_machine(sd, machine, cmd, options)
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


async def _run_in_machine(
    sd: AsyncSystemd, machine: object, cmd: Sequence[str], options: dict[str, Any]
) -> RunResult | AsyncRunningUnit:
    """``run(..., machine=NAME)``: the same run on the container's manager (its bus socket
    as root, so pipes and a pty work; see :func:`sysd.connect`)."""
    if sd.target.scope == "remote":
        raise InvalidRunOptionError(
            f"machine= needs a connection to this machine's manager, not to "
            f"{sd.target.description}",
            option="machine",
            hint="connect to the host the container runs on, or connect to the container "
            "itself and leave machine= out",
        )
    try:
        name = check_machine_name(machine, field="machine", host=False)
    except InvalidMachineCallError as exc:
        raise InvalidRunOptionError(str(exc), option="machine", hint=exc.hint) from exc
    from .systemd import connect

    inner = await connect(machine=name, user=sd.target.scope == "user", timeout=sd.bus.timeout)
    try:
        out: RunResult | AsyncRunningUnit = await run(inner, cmd, **options)
    except BaseException:
        await inner.aclose()
        raise
    if isinstance(out, AsyncRunningUnit):
        out._owns(inner)  # closed with the handle
    else:
        await inner.aclose()
    return out


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
