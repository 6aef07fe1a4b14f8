"""Failure reports: why a unit's job or run failed, in one immutable, picklable record.

Pure (no I/O): :func:`report_from_status` reads a unit snapshot (``unit.status()``'s
typed model, or anything with the same attribute names) and the journal lines fetched
for the failing invocation, and :meth:`FailureReport.render` prints it the way
``systemctl status`` would show the parts that explain a failure, then the log lines.
The fetching lives in ``_async/report.py``.

Which ``Exec*=`` step failed is judged as ``systemctl status`` shows it: every command
line of the unit keeps the status of its last run (code, status, start time); the
step that failed is the last one started during this activation whose exit is not
clean and whose failure is not ignored (``-`` prefix).  The activation began when the
manager checked the unit's conditions (``ConditionTimestampMonotonic``, taken on every
start before anything is forked; ``InactiveExitTimestampMonotonic`` is taken only after
the first command was forked, so it cannot serve).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Final, NamedTuple
from uuid import UUID

from .exitstatus import CLD_EXITED, exit_text

__all__ = [
    "EXEC_STEPS",
    "activation_pids",
    "FailedStep",
    "FailureReport",
    "LogLine",
    "failed_conditions",
    "failed_step",
    "invocation_hex",
    "job_logs_done",
    "journal_matches",
    "report_from_status",
]

# The command lists a unit may have, by typed field and property name, in the order
# systemd runs them (systemctl status lists them so too).
EXEC_STEPS: Final = (
    ("exec_condition", "ExecCondition"),
    ("exec_start_pre", "ExecStartPre"),
    ("exec_start", "ExecStart"),
    ("exec_start_post", "ExecStartPost"),
    ("exec_reload", "ExecReload"),
    ("exec_stop", "ExecStop"),
    ("exec_stop_post", "ExecStopPost"),
    ("exec_mount", "ExecMount"),
    ("exec_unmount", "ExecUnmount"),
    ("exec_remount", "ExecRemount"),
    ("exec_activate", "ExecActivate"),
    ("exec_deactivate", "ExecDeactivate"),
    ("exec_start_chown", "ExecStartChown"),
)


NORMAL: Final = "\x1b[0m"
RED: Final = "\x1b[0;1;31m"
YELLOW: Final = "\x1b[0;1;38;5;185m"
GREEN: Final = "\x1b[0;1;32m"

_LABEL: Final = 10  # systemctl status right-aligns its labels to this width


class FailedStep(NamedTuple):
    """The ``Exec*=`` command that failed: ``name`` (``"ExecStartPre"``), its ``argv``,
    the ``pid`` it ran as, and ``code``/``status`` (CLD_* code and exit status or signal)."""

    name: str
    argv: tuple[str, ...]
    pid: int | None
    code: int
    status: int

    def __str__(self) -> str:
        command = " ".join(self.argv) or "n/a"
        return f"{self.name}={command} ({exit_text(self.code, self.status)})"


class LogLine(NamedTuple):
    """One journal line of the report: ``text`` as ``journalctl -o short`` prints it,
    ``colored`` the same with journalctl's colours, and the entry's ``priority``."""

    text: str
    colored: str
    priority: int | None = None


@dataclass(frozen=True)
class FailureReport:
    """Why a unit's job (or run) failed, as far as systemd and the journal tell.

    ``unit``; the job: ``job_id``, ``job_type``, ``job_result`` (None for a run);
    the unit: ``active_state``, ``sub_state``, ``result`` (its type's Result, e.g.
    Service.Result ``exit-code``), ``exec_main_pid``/``exec_main_code``/``exec_main_status``,
    ``failed_step`` (which ``Exec*=`` command failed, None when none did),
    ``control_pid``; ``condition_result``/``failed_conditions`` and
    ``assert_result``/``failed_asserts`` (``"ConditionPathExists=/x"``, as systemctl
    prints them); ``n_restarts``; ``need_daemon_reload``; ``invocation_id`` (32 hex
    digits) of the invocation the logs are of, and ``ran``: whether the unit ran for
    this job (False when it never got that far: a dependency, condition, assertion or
    the start limit stopped it, so the logs are the manager's messages about the job);
    ``failed_dependencies``: required units that are failed; ``logs``: the last journal
    lines of that invocation; ``logs_missing_reason``: why there are none or fewer
    (not fetched over ``host=``/``machine=``, the journal unreadable, a deadline),
    ``properties_missing_reason``: why the unit's properties could not be read.
    """

    unit: str
    description: str | None = None
    job_id: int | None = None
    job_type: str | None = None
    job_result: str | None = None
    active_state: str | None = None
    sub_state: str | None = None
    result: str | None = None
    exec_main_pid: int | None = None
    exec_main_code: int | None = None
    exec_main_status: int | None = None
    failed_step: FailedStep | None = None
    control_pid: int | None = None
    condition_result: bool | None = None
    failed_conditions: tuple[str, ...] = ()
    assert_result: bool | None = None
    failed_asserts: tuple[str, ...] = ()
    n_restarts: int | None = None
    need_daemon_reload: bool | None = None
    invocation_id: str | None = None
    ran: bool | None = None
    failed_dependencies: tuple[str, ...] = ()
    logs: tuple[LogLine, ...] = field(default=(), repr=False)
    logs_missing_reason: str | None = None
    properties_missing_reason: str | None = None

    @property
    def exit_code(self) -> int | None:
        """The main process's exit status when it exited (None otherwise)."""
        return self.exec_main_status if self.exec_main_code == CLD_EXITED else None

    @property
    def exit_signal(self) -> int | None:
        """The signal that killed the main process (None otherwise)."""
        if self.exec_main_code in (2, 3):
            return self.exec_main_status
        return None

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready values (``sysd start --json``): the fields by name,
        ``failed_step`` as an object, ``logs`` as the lines' text."""
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if isinstance(value, FailedStep):
                value = value._asdict() | {"argv": list(value.argv)}
            elif name == "logs":
                value = [line.text.rstrip("\n") for line in value]
            elif isinstance(value, tuple):
                value = list(value)
            out[name] = value
        return out

    def lines(self, *, color: bool = False) -> list[str]:
        """The status part, one line each (see :meth:`render`)."""

        def paint(text: str, code: str) -> str:
            return f"{code}{text}{NORMAL}" if color and code and text else text

        out: list[str] = []
        active = self.active_state
        on = RED if active == "failed" else GREEN if active == "active" else ""
        glyph = {"failed": "\u00d7", "active": "\u25cf"}.get(active or "", "\u25cb")
        head = f"{paint(glyph, on)} {self.unit}"
        if self.description and self.description != self.unit:
            head += f" - {self.description}"
        out.append(head)
        if self.job_result is not None:
            job = f"{self.job_type or 'job'}"
            if self.job_id is not None:
                job += f" (job {self.job_id})"
            ok = self.job_result in ("done", "skipped")
            out.append(_label("Job") + f"{job}: " + paint(self.job_result, "" if ok else RED))
        if active is not None:
            sub = self.sub_state if self.sub_state and self.sub_state != active else None
            text = f"{active} ({sub})" if sub else active
            line = _label("Active") + paint(text, on)
            if self.result and self.result != "success":
                line += f" (Result: {self.result})"
            out.append(line)
        if self.failed_step is not None:
            step = self.failed_step
            command = " ".join(step.argv) or "n/a"
            out.append(
                _label("Failed")
                + f"{step.pid or 0} {step.name}={command} "
                + paint(f"({exit_text(step.code, step.status)})", RED)
            )
        elif self.exec_main_code and self.exec_main_pid:
            how = exit_text(self.exec_main_code, self.exec_main_status or 0)
            out.append(_label("Main PID") + f"{self.exec_main_pid} ({how})")
        if self.condition_result is False:
            out.append(_label("Condition") + "start " + paint("condition failed", YELLOW))
            out.extend(_tree(self.failed_conditions))
        if self.assert_result is False:
            out.append(_label("Assert") + "start " + paint("assertion failed", RED))
            out.extend(_tree(self.failed_asserts))
        for i, dep in enumerate(self.failed_dependencies):
            out.append(_label("Failed dep" if i == 0 else "") + paint(dep, RED))
        if self.n_restarts:
            out.append(_label("Restarts") + str(self.n_restarts))
        if self.invocation_id:
            note = "" if self.ran is not False else " (an earlier run: this job did not run it)"
            out.append(_label("Invocation") + self.invocation_id + note)
        if self.properties_missing_reason:
            out.append(_label("Properties") + self.properties_missing_reason)
        if self.need_daemon_reload:
            out.append(
                paint(
                    f"Warning: The unit file, source configuration file or drop-ins of "
                    f"{self.unit} changed on disk. Run 'sysd daemon-reload' to reload units.",
                    RED,
                )
            )
        if self.logs_missing_reason:
            out.append(_label("Logs") + self.logs_missing_reason)
        return out

    def render(self, *, color: bool = False) -> str:
        """The report as text: status-like lines, an empty line, then the log lines;
        ``color``: ANSI colours as ``systemctl status`` and ``journalctl`` use them."""
        text = "\n".join(self.lines(color=color)) + "\n"
        if self.logs:
            text += "\n" + "".join(
                (line.colored if color else line.text).rstrip("\n") + "\n" for line in self.logs
            )
        return text

    def __str__(self) -> str:
        return self.render()


def _label(name: str) -> str:
    return f"{name:>{_LABEL}}: " if name else " " * (_LABEL + 2)


def _tree(items: Sequence[str]) -> list[str]:
    out = []
    for i, item in enumerate(items):
        branch = "├─" if i + 1 < len(items) else "└─"
        out.append(" " * (_LABEL + 2) + f"{branch} {item} was not met")
    return out


def failed_conditions(entries: Iterable[Sequence[Any]] | None) -> tuple[str, ...]:
    """``Conditions``/``Asserts`` entries (type, trigger, negate, parameter, state) that
    failed (state < 0), as ``systemctl status`` names them: ``ConditionPathExists=|!/x``.

    When none is marked failed (the unit was unloaded and read again: nothing tested),
    the one entry there is, or each entry followed by ``" (one of these)"``."""
    items = [e for e in entries or () if len(e) >= 5]
    failed = [e for e in items if e[4] < 0]
    if not failed and any(e[4] for e in items):
        return ()  # tested, and none failed
    if failed or len(items) == 1:
        return tuple(_condition_text(e) for e in (failed or items))
    return tuple(f"{_condition_text(e)} (one of these)" for e in items)


def _condition_text(entry: Sequence[Any]) -> str:
    name, trigger, negate, param = entry[0], entry[1], entry[2], entry[3]
    return f"{name}={'|' if trigger else ''}{'!' if negate else ''}{param}"


def _clean(code: int, status: int) -> bool:
    return code == CLD_EXITED and status == 0


def failed_step(st: Any) -> FailedStep | None:
    """The ``Exec*=`` command of the unit snapshot ``st`` that failed last in the current
    activation (see the module's docstring), or None."""
    since: timedelta | None = _get(st, "condition_timestamp_monotonic")
    best: tuple[timedelta, int, FailedStep] | None = None
    order = 0
    for attr, name in EXEC_STEPS:
        try:
            commands = getattr(st, attr, None)
        except (KeyError, ValueError, TypeError):
            commands = None
        for cmd in commands or ():
            order += 1
            if not cmd.code or _clean(cmd.code, cmd.status) or cmd.ignore_failure:
                continue
            started = cmd.start_monotonic or timedelta(0)
            if since and started < since:
                continue  # a run before this activation
            step = FailedStep(name, tuple(cmd.argv), cmd.pid or None, cmd.code, cmd.status)
            if best is None or (started, order) >= best[:2]:
                best = (started, order, step)
    return best[2] if best else None


def invocation_hex(value: Any) -> str | None:
    """An invocation ID as the journal spells it (32 hex digits), from a UUID, bytes
    (``InvocationID`` as D-Bus sends it) or text; None for the null ID or nothing."""
    if value is None:
        return None
    if isinstance(value, UUID):
        hexa = value.hex
    elif isinstance(value, bytes | bytearray | list | tuple):
        raw = bytes(value)
        hexa = raw.hex() if len(raw) == 16 else ""
    else:
        hexa = UUID(str(value)).hex if value else ""
    return hexa if hexa and hexa != "0" * 32 else None


def activation_pids(st: Any, *, last_run: bool = False) -> tuple[int, ...]:
    """The PIDs of the unit's commands (and main process) started in this activation
    (see :func:`failed_step` for when it began); with ``last_run``, of each command's
    last run whenever it was (a start refused by the start limit checked the conditions
    again, after the run that hit the limit)."""
    since: timedelta | None = None if last_run else _get(st, "condition_timestamp_monotonic")
    pids: list[int] = []
    for attr, _name in EXEC_STEPS:
        for cmd in _get(st, attr) or ():
            started = cmd.start_monotonic or timedelta(0)
            if cmd.pid and cmd.start_monotonic and (not since or started >= since):
                pids.append(cmd.pid)
    main = _get(st, "exec_main_pid")
    main_start: timedelta | None = _get(st, "exec_main_start_timestamp_monotonic")
    if main and main_start and (not since or main_start >= since):
        pids.append(main)
    return tuple(sorted(set(pids)))


def journal_matches(
    *,
    invocation_id: str | None,
    job_id: int | None,
    unit: str,
    scope: str = "system",
    uid: int | None = None,
    boot_id: str | None = None,
    pids: Sequence[int] = (),
) -> list[str]:
    """The journal match terms (``"+"`` between alternatives) for a failing invocation.

    Its own processes' lines by ``_SYSTEMD_INVOCATION_ID``, the manager's messages about
    it by ``INVOCATION_ID`` (a user manager: ``USER_INVOCATION_ID``) from the manager
    itself (PID 1; a user manager: the user's UID), and with ``job_id`` the manager's
    messages about that job of this boot (``JOB_ID``, for a job that never ran the unit).

    ``pids``: the invocation's processes, matched by unit, PID and boot too: journald
    tags a line with the invocation only while it can still read the process's cgroup,
    and a process that exits at once may be gone before its first line is read.
    """
    terms: list[str] = []
    user = scope == "user"
    manager = [f"_UID={uid}"] if user and uid is not None else ["_PID=1"]
    if invocation_id:
        terms += [f"_SYSTEMD_INVOCATION_ID={invocation_id}", "+"]
        key = "USER_INVOCATION_ID" if user else "INVOCATION_ID"
        terms += [f"{key}={invocation_id}", *manager]
        if pids and boot_id:
            unit_key = "_SYSTEMD_USER_UNIT" if user else "_SYSTEMD_UNIT"
            terms += ["+", f"{unit_key}={unit}", *(f"_PID={p}" for p in pids)]
            terms.append(f"_BOOT_ID={boot_id}")
    if job_id is not None:
        if terms:
            terms.append("+")
        terms += [f"JOB_ID={job_id}", f"{'USER_UNIT' if user else 'UNIT'}={unit}", *manager]
        if boot_id:
            terms.append(f"_BOOT_ID={boot_id}")
    return terms


# The job results systemd logs a "done" message for (job_done_message_format() in
# systemd 252's job.c), by job type; restarts end as start jobs.
_DONE_MESSAGES: Final = {
    "start": frozenset(
        {"done", "timeout", "failed", "dependency", "assert", "unsupported", "collected", "once"}
    ),
    "stop": frozenset({"done", "failed", "timeout"}),
    "reload": frozenset({"done", "failed", "timeout"}),
}
_AS_START: Final = frozenset({"restart", "try-restart", "reload-or-restart", "verify-active"})


def job_logs_done(job_type: str | None, job_result: str | None) -> bool:
    """Whether the manager logs a message (with ``JOB_ID``) when such a job ends: a
    canceled job, for one, ends without a word."""
    kind = "start" if job_type in _AS_START else job_type
    return job_result in _DONE_MESSAGES.get(kind or "", frozenset())


def _get(st: Any, name: str) -> Any:
    try:
        return getattr(st, name, None)
    except (KeyError, ValueError, TypeError):
        return None


def report_from_status(
    unit: str,
    st: Any,
    *,
    job_id: int | None = None,
    job_type: str | None = None,
    job_result: str | None = None,
    invocation_id: str | None = None,
    ran: bool | None = None,
    failed_dependencies: Sequence[str] = (),
    logs: Sequence[LogLine] = (),
    logs_missing_reason: str | None = None,
    properties_missing_reason: str | None = None,
    fallback: dict[str, Any] | None = None,
) -> FailureReport:
    """A report from a unit snapshot ``st`` (None when it could not be read: then the
    ``fallback`` fields, e.g. what the job or run already knew, are all there is)."""
    values: dict[str, Any] = dict(fallback or {})
    if st is not None:
        picked = {
            "description": _get(st, "description"),
            "active_state": _get(st, "active_state"),
            "sub_state": _get(st, "sub_state"),
            "result": _get(st, "result"),
            "exec_main_pid": _get(st, "exec_main_pid") or None,
            "exec_main_code": _get(st, "exec_main_code") or None,
            "exec_main_status": _get(st, "exec_main_status"),
            "control_pid": _get(st, "control_pid") or None,
            "condition_result": _get(st, "condition_result"),
            "assert_result": _get(st, "assert_result"),
            "n_restarts": _get(st, "n_restarts"),
            "need_daemon_reload": _get(st, "need_daemon_reload"),
        }
        if not picked["exec_main_code"]:
            picked["exec_main_status"] = None
        # a condition/assert never checked reads as false with no timestamp: not a failure
        for key, stamp in (
            ("condition_result", "condition_timestamp"),
            ("assert_result", "assert_timestamp"),
        ):
            if picked[key] is False and _get(st, stamp) is None:
                picked[key] = None
        values.update({k: v for k, v in picked.items() if v is not None})
        step = failed_step(st)
        if step is not None:
            values["failed_step"] = step
        if values.get("condition_result") is False:
            values["failed_conditions"] = failed_conditions(_get(st, "conditions"))
        if values.get("assert_result") is False:
            values["failed_asserts"] = failed_conditions(_get(st, "asserts"))
        if invocation_id is None:
            invocation_id = invocation_hex(_get(st, "invocation_id"))
    return FailureReport(
        unit=unit,
        job_id=job_id,
        job_type=job_type,
        job_result=job_result,
        invocation_id=invocation_id,
        ran=ran,
        failed_dependencies=tuple(failed_dependencies),
        logs=tuple(logs),
        logs_missing_reason=logs_missing_reason,
        properties_missing_reason=properties_missing_reason,
        **values,
    )
