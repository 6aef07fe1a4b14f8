"""Failure reports: fetch what explains a failed job or run (the record is _core/report.py).

Bounded and harmless by design (issue 13): everything here runs within a deadline and
a line cap, and never raises for its own trouble: a property or journal read that
fails becomes the report's ``properties_missing_reason`` / ``logs_missing_reason``,
so the error the report rides on is raised as it would have been without it.

The log lines are those of the failing invocation, not of a time window: the unit's
own processes' lines (``_SYSTEMD_INVOCATION_ID``) and the manager's messages about that
invocation (``INVOCATION_ID``), plus the manager's messages about the job (``JOB_ID``).
journald stores lines asynchronously, and a unit's output (a stream) may be stored after
the manager's messages about its end (datagrams): first journald is asked to store what it
has received (``io.systemd.Journal.Synchronize``, as ``journalctl --sync``; root only),
then the read is repeated until the manager's message that ends the story is in (the
job's done message, or for a run the unit's "Failed with result" message), or the
deadline passes.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._core.jobs import type_interface
from .._core.report import (
    FailureReport,
    LogLine,
    activation_pids,
    invocation_hex,
    job_logs_done,
    journal_matches,
    report_from_status,
)
from .._core.systemd1 import UNIT_INTERFACE
from .._core.unitname import to_dbus_path
from .._interrupt import CriticalSection, close_socket
from ..errors import SysdError
from ._backend import sleep, to_thread

if TYPE_CHECKING:
    from ..journal import Entry
    from .systemd import AsyncSystemd

__all__ = ["DEFAULT_LINES", "DEFAULT_TIMEOUT", "MAX_LINES", "attach_report", "failure_report"]

DEFAULT_LINES = 10
MAX_LINES = 1000  # the cap, whatever is asked
DEFAULT_TIMEOUT = 5.0  # seconds for the whole report (properties, journal, waiting for it)
_POLL = 0.05  # between two reads of the journal while the final message is not in yet
_DEPENDENCIES_MAX = 64  # required units looked at for a dependency failure
REMOTE_REASON = (
    "not fetched: the journal of a manager reached over an address= or a stand-in bridge "
    "is not read (only this machine's, a host='s and a machine='s are)"
)


async def failure_report(
    sd: AsyncSystemd,
    unit: str,
    *,
    invocation_id: Any = None,
    job_id: int | None = None,
    job_type: str | None = None,
    job_result: str | None = None,
    ran: bool | None = None,
    sent_at: float | None = None,
    lines: int = DEFAULT_LINES,
    timeout: float = DEFAULT_TIMEOUT,
    seen: Mapping[str, Any] | None = None,
    fallback: dict[str, Any] | None = None,
) -> FailureReport:
    """Build the :class:`FailureReport` of ``unit`` on ``sd``'s manager.

    ``invocation_id`` (UUID, bytes or hex): the failing invocation (default: the unit's
    current one).  ``job_id``/``job_type``/``job_result``: the job that failed, if any.
    ``ran``: whether the unit ran for that job (False: a dependency, condition,
    assertion or the start limit stopped it; then the logs are the manager's messages
    about the job, and when the start limit refused it also the last run's).
    ``sent_at``: ``time.monotonic()`` when the job was asked for; with it (and a manager
    on this machine, sharing the clock), ``ran`` is judged by whether the unit left
    "inactive" since (InactiveExitTimestampMonotonic).  ``lines``: the last N
    journal lines (at most 1000).  ``timeout``: seconds for all of it.  ``seen``:
    property values seen in signals (kept when the unit was collected since).
    ``fallback``: report fields known already (used when the unit cannot be read).
    Never raises for its own trouble (see the module's docstring).
    """
    deadline = time.monotonic() + max(timeout, 0.0)
    lines = max(0, min(int(lines), MAX_LINES))
    invocation = invocation_hex(invocation_id)
    st, properties_reason = await _snapshot(sd, unit, invocation, seen, deadline)
    if invocation is None and st is not None:
        invocation = invocation_hex(_attr(st, "invocation_id"))
    if ran is None and sent_at is not None and sd.target.scope in ("system", "user"):
        left = _attr(st, "inactive_exit_timestamp_monotonic") if st is not None else None
        ran = left is not None and left.total_seconds() >= sent_at
    failed_deps: list[str] = []
    if job_result == "dependency" and st is not None:
        failed_deps = await _failed_dependencies(sd, st, deadline)
    result = _attr(st, "result") if st is not None else (fallback or {}).get("result")
    logs: list[LogLine] = []
    reason: str | None = None
    remote = _remote_journal(sd) if sd.target.scope == "remote" else None
    if lines == 0:
        reason = "not fetched: lines=0"
    elif remote is False:
        reason = REMOTE_REASON
    else:
        # a job that did not run the unit but failed: the start limit refused it (its
        # Result says start-limit-hit only when the unit had not failed already), and
        # the runs that hit the limit are what explains it
        refused = ran is False and (result == "start-limit-hit" or job_result == "failed")
        logs_invocation = invocation if ran is not False or refused else None
        if logs_invocation is None and job_id is None:
            reason = "none: the unit has no invocation ID (it never ran)"
        else:
            pids: tuple[int, ...] = ()
            if logs_invocation and st is not None:
                pids = activation_pids(st, last_run=refused)
            # the story's end to wait for: the job's done message, or a failed run's
            # "Failed with result" (none for a canceled job, a unit that did not fail:
            # then the first read is all)
            closing: str | None = None
            if job_id is not None:
                closing = "JOB_ID" if job_logs_done(job_type, job_result) else None
            elif result not in (None, "success"):
                closing = "UNIT_RESULT"
            logs, reason = await _logs(
                _scope(sd), unit, logs_invocation, job_id, pids, lines, deadline, closing, remote
            )
    return report_from_status(
        unit,
        st,
        job_id=job_id,
        job_type=job_type,
        job_result=job_result,
        invocation_id=invocation,
        ran=ran,
        failed_dependencies=failed_deps,
        logs=logs,
        logs_missing_reason=reason,
        properties_missing_reason=properties_reason,
        fallback=fallback,
    )


async def attach_report(error: Any, sd: AsyncSystemd, unit: str, **kwargs: Any) -> None:
    """Set ``error.report`` to the unit's report; whatever goes wrong, ``error`` stays
    the error to raise (a report that could not be built says why)."""
    try:
        error.report = await failure_report(sd, unit, **kwargs)
    except Exception as exc:  # the report must never mask the error it explains
        error.report = FailureReport(
            unit=unit,
            job_id=kwargs.get("job_id"),
            job_type=kwargs.get("job_type"),
            job_result=kwargs.get("job_result"),
            logs_missing_reason=f"not fetched: {_why(exc)}",
            properties_missing_reason=f"not read: {_why(exc)}",
        )


def _why(exc: BaseException) -> str:
    text = exc.text if isinstance(exc, SysdError) else str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _left(deadline: float) -> float:
    return max(deadline - time.monotonic(), 0.001)


def _attr(st: Any, name: str) -> Any:
    try:
        return getattr(st, name, None)
    except (KeyError, ValueError, TypeError):
        return None


async def _snapshot(
    sd: AsyncSystemd,
    unit: str,
    invocation: str | None,
    seen: Mapping[str, Any] | None,
    deadline: float,
) -> tuple[Any, str | None]:
    """The unit's typed snapshot (or the values seen, when it was collected), and why
    there is none."""
    from .._core.status import status_class_for

    cls = status_class_for(unit)
    path = to_dbus_path(unit)
    try:
        props = dict(await sd.get_all(path, UNIT_INTERFACE, timeout=_left(deadline)))
        iface = type_interface(unit)
        type_props: dict[str, Any] = {}
        if iface is not None and cls.TYPE_INTERFACE is not None:
            type_props = dict(await sd.get_all(path, iface, timeout=_left(deadline)))
    except (SysdError, OSError) as exc:
        if seen:
            return cls.from_dbus(seen, seen), f"{_why(exc)} (values seen before are shown)"
        return None, _why(exc)
    if seen and _collected({**props, **type_props}, seen, invocation):
        # a fresh copy loaded in place of the collected unit (an inactive unit is unloaded
        # as its job ends, unless pinned): what its signals said is the truth, the rest
        # (Exec* statuses, which condition failed) went with it
        return cls.from_dbus({**props, **seen}, {**type_props, **seen}), COLLECTED
    current = invocation_hex(props.get("InvocationID"))
    if props.get("LoadState") == "not-found":
        return None, "the unit was unloaded (collected) after it ended"
    if invocation and current != invocation:
        if current:
            return None, f"not shown: they are of a later run (invocation {current})"
        return None, "the unit was unloaded (collected) after it ended"
    return cls.from_dbus(props, type_props), None


COLLECTED = (
    "the unit was unloaded as its job ended: shown as its last signals said (which "
    "Exec* step or condition failed went with it)"
)


def _collected(props: Mapping[str, Any], seen: Mapping[str, Any], invocation: str | None) -> bool:
    """Whether ``props`` (just read) are of a fresh copy of the unit whose signals ``seen``."""
    known = invocation or invocation_hex(seen.get("InvocationID"))
    if known and invocation_hex(props.get("InvocationID")) != known:
        return True
    # a fresh copy's timestamps are all 0: any the signals told of that it lacks
    return any(
        isinstance(value, int) and int(props.get(key) or 0) < value
        for key, value in seen.items()
        if key.endswith("TimestampMonotonic")
    )


async def _failed_dependencies(sd: AsyncSystemd, st: Any, deadline: float) -> list[str]:
    """The units this one requires (Requires=, Requisite=, BindsTo=) that are failed."""
    names: list[str] = []
    for attr in ("requires", "requisite", "binds_to"):
        for name in _attr(st, attr) or ():
            if name not in names:
                names.append(name)
    failed = []
    for name in names[:_DEPENDENCIES_MAX]:
        if time.monotonic() >= deadline:
            break
        try:
            state = await sd.get_property(
                to_dbus_path(name), UNIT_INTERFACE, "ActiveState", timeout=_left(deadline)
            )
        except (SysdError, OSError):
            continue
        if state == "failed":
            failed.append(name)
    return failed


def _boot_id() -> str | None:
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            return f.read().strip().replace("-", "") or None
    except OSError:
        return None


def _remote_journal(sd: AsyncSystemd) -> Any:
    """Where a remote manager's journal is read (the connection's host or container), or
    False when it cannot be (a bare address=, a bridge without either)."""
    from ..journal._remote import RemoteTarget

    try:
        return RemoteTarget.of(sd.target)
    except SysdError:
        return False


def _scope(sd: AsyncSystemd) -> str:
    """system or user: which manager's messages (a remote one's by what the connection
    says it reaches)."""
    if sd.target.scope == "remote":
        return "user" if sd.target.description.startswith("user ") else "system"
    return sd.target.scope


async def _logs(
    scope: str,
    unit: str,
    invocation: str | None,
    job_id: int | None,
    pids: Sequence[int],
    lines: int,
    deadline: float,
    closing: str | None,
    remote: Any = None,
) -> tuple[list[LogLine], str | None]:
    """The last ``lines`` journal lines of the invocation (and job), read again until the
    manager's closing message is in or the deadline passes.  ``remote``: another
    machine's journal (a :class:`~sysd.journal._remote.RemoteTarget`), read with
    journalctl there; its boot and its user's UID are not known here, so the invocation,
    job and unit alone select (PID matches need the boot: left out)."""
    if remote is not None:
        synced, boot_id = await to_thread(synchronize_remote_journal, remote, deadline)
    else:
        synced, boot_id = await to_thread(synchronize_journal, deadline), _boot_id()
    matches = journal_matches(
        invocation_id=invocation,
        job_id=job_id,
        unit=unit,
        scope=scope,
        uid=None if remote is not None else os.geteuid(),
        boot_id=boot_id,
        pids=pids,
    )
    entries: Sequence[Entry] = ()
    while True:
        try:
            if remote is not None:
                entries = await read_remote_entries(remote, matches, lines, deadline)
            else:
                entries = await read_entries(matches, lines)
        except (SysdError, OSError) as exc:
            return [], f"not fetched: {_why(exc)}"
        if closing is None and not entries:
            return [], "none found"
        if closing is None or _closed(entries, closing, job_id):
            break
        if time.monotonic() + _POLL >= deadline:
            note = "the manager's final message about it was not in the journal in time"
            if not entries:
                return [], f"none found: {note}"
            return _lines(entries), f"maybe incomplete: {note}"
        await sleep(_POLL)
    if synced is False:
        note = "journald did not confirm in time that it had stored everything"
        return _lines(entries), f"maybe incomplete: {note}"
    return _lines(entries), None


JOURNAL_VARLINK = "/run/systemd/journal/io.systemd.journal"


def synchronize_journal(deadline: float, path: str = JOURNAL_VARLINK) -> bool | None:
    """Ask journald to store every message it received so far (``journalctl --sync``):
    True when it did, None when it could not be asked (not root, no journald), False
    when it did not answer in time."""
    left = deadline - time.monotonic()
    if left <= 0:
        return False
    request = {"method": "io.systemd.Journal.Synchronize", "parameters": {}}
    sock = None
    try:
        # created in a critical section, inside the try that closes it: a Ctrl-C cannot
        # leave it to the garbage collector (``with socket.socket()`` can: the socket's
        # own __enter__ is Python, and an interrupt at its first line skips the ``with``)
        with CriticalSection():
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        sock.settimeout(left)
        sock.connect(path)
        sock.sendall(json.dumps(request).encode() + b"\0")
        reply = b""
        while not reply.endswith(b"\0"):
            chunk = sock.recv(4096)
            if not chunk:
                return None
            reply += chunk
        return "error" not in json.loads(reply[:-1]) or None
    except TimeoutError:
        return False
    except (OSError, ValueError):
        return None
    finally:
        if sock is not None:
            close_socket(sock)


# fixed text: nothing of the caller's reaches the remote shell here
_REMOTE_SYNC = (
    "journalctl --sync >/dev/null 2>&1; s=$?; cat /proc/sys/kernel/random/boot_id; exit $s"
)


def synchronize_remote_journal(remote: Any, deadline: float) -> tuple[bool | None, str | None]:
    """``journalctl --sync`` on a host over its ssh master, as :func:`synchronize_journal`
    does here, and that host's boot ID (its processes' lines are matched by PID within
    it): (None, None) where neither can be asked (a container)."""
    import subprocess

    from .._bus import ssh

    host = remote.host
    if host is None or "/" in host:
        return None, None
    try:
        with ssh.lease_sync(host, ssh_config=remote.config, timeout=_left(deadline)) as lease:
            argv = lease.argv(["sh", "-c", _REMOTE_SYNC], sudo=remote.sudo)
            done = subprocess.run(
                argv,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=_left(deadline),
                check=False,
            )
    except subprocess.TimeoutExpired:
        return False, None
    except (SysdError, OSError):
        return None, None
    boot = done.stdout.decode("ascii", "replace").strip().replace("-", "")
    boot_id = boot if len(boot) == 32 and all(c in "0123456789abcdef" for c in boot) else None
    return (done.returncode == 0 or None), boot_id


async def read_entries(matches: list[str], lines: int) -> list[Entry]:
    """The last ``lines`` entries of the local journal matching ``matches``."""
    from ..journal import AsyncEntries

    async with AsyncEntries(matches=matches, lines=lines) as it:
        return [entry async for entry in it]


async def read_remote_entries(
    remote: Any, matches: list[str], lines: int, deadline: float
) -> list[Entry]:
    """The last ``lines`` entries matching ``matches`` in a remote journal (journalctl
    there, over the connection's ssh master or ``-M``), within the report's deadline."""
    from ..journal._remote import AsyncRemoteEntries

    async with AsyncRemoteEntries(
        remote._replace(timeout=max(_left(deadline), 0.1)), matches=matches, lines=lines
    ) as it:
        return [entry async for entry in it]


def _closed(entries: Sequence[Entry], closing: str, job_id: int | None) -> bool:
    """Whether the manager's message that ends the story is among the entries: the job's
    done message (``closing="JOB_ID"``) or the unit's result (``"UNIT_RESULT"``)."""
    if closing == "JOB_ID":
        return any(entry.get("JOB_ID") == str(job_id) for entry in entries)
    return any(closing in entry for entry in entries)


def _lines(entries: Sequence[Entry]) -> list[LogLine]:
    from ..journal import Formatter

    plain = Formatter("short")
    colored = Formatter("short", color=True)
    out = []
    for entry in entries:
        priority = entry.get("PRIORITY")
        out.append(
            LogLine(
                plain(entry).decode("utf-8", "replace"),
                colored(entry).decode("utf-8", "replace"),
                int(priority) if isinstance(priority, str) and priority.isdigit() else None,
            )
        )
    return out
