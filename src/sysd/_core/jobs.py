"""What a job's end means: results, typed errors, hints.  Pure (no I/O).

Ported from systemd 252's src/shared/bus-wait-for-jobs.c (check_wait_response
and log_job_error_with_service_result), so sysd says what systemctl says.
"""

from __future__ import annotations

from typing import NamedTuple

from ..errors import JOB_ERRORS, JobError

__all__ = [
    "SUCCESS",
    "JobRemoved",
    "deduce_result",
    "exit_status",
    "job_error",
    "type_interface",
]

SUCCESS = frozenset({"done", "skipped"})

# Service.Result (and the other types' Result) explained, as systemctl does.
_EXPLANATIONS = {
    "resources": "of unavailable resources or another system error",
    "protocol": "the service did not take the steps required by its unit configuration",
    "timeout": "a timeout was exceeded",
    "exit-code": "the control process exited with error code",
    "signal": "a fatal signal was delivered to the control process",
    "core-dump": "a fatal signal was delivered causing the control process to dump core",
    "watchdog": "the service failed to send watchdog ping",
    "start-limit-hit": "start of the service was attempted too often",
    "oom-kill": "of an out-of-memory (OOM) situation",
}

_RESULT_TEXT = {
    "canceled": "Job for {unit} canceled.",
    "timeout": "Job for {unit} timed out.",
    "dependency": "A dependency job for {unit} failed.",
    "invalid": "{unit} is not active, cannot reload.",
    "assert": "Assertion failed on job for {unit}.",
    "unsupported": "Operation on or unit type of {unit} not supported on this system.",
    "collected": "Queued job for {unit} was garbage collected.",
    "once": "Unit {unit} was started already once and can't be started again.",
}

_TYPE_INTERFACES = {
    "service": "Service",
    "socket": "Socket",
    "target": "Target",
    "device": "Device",
    "mount": "Mount",
    "automount": "Automount",
    "swap": "Swap",
    "timer": "Timer",
    "path": "Path",
    "slice": "Slice",
    "scope": "Scope",
}

# Unit types whose type interface has a Result property worth reporting.
_HAS_RESULT = frozenset(
    {"service", "socket", "mount", "automount", "swap", "timer", "path", "scope"}
)

CLD_EXITED, CLD_KILLED, CLD_DUMPED = 1, 2, 3


class JobRemoved(NamedTuple):
    """The payload of Manager.JobRemoved (id, job path, unit, result)."""

    job_id: int
    path: str
    unit: str
    result: str


def type_interface(unit: str) -> str | None:
    """The D-Bus interface of a unit's type (``org.freedesktop.systemd1.Service``)."""
    suffix = unit.rpartition(".")[2]
    name = _TYPE_INTERFACES.get(suffix)
    return f"org.freedesktop.systemd1.{name}" if name else None


def has_result(unit: str) -> bool:
    return unit.rpartition(".")[2] in _HAS_RESULT


def exit_status(code: int | None, status: int | None) -> tuple[int | None, int | None]:
    """(exit_code, exit_signal) from ExecMainCode/ExecMainStatus (siginfo si_code)."""
    if code == CLD_EXITED:
        return status, None
    if code in (CLD_KILLED, CLD_DUMPED):
        return None, status
    return None, None


def job_error(
    *,
    unit: str,
    job_id: int | None,
    job_type: str | None,
    result: str,
    service_result: str | None = None,
    exit_code: int | None = None,
    exit_signal: int | None = None,
) -> JobError | None:
    """The typed error for a job result, or None for success (``done``/``skipped``)."""
    if result in SUCCESS:
        return None
    cls = JOB_ERRORS.get(result, JobError)
    hint: str | None = None
    if result in _RESULT_TEXT:
        text = _RESULT_TEXT[result].format(unit=unit)
    elif result == "failed":
        why = _EXPLANATIONS.get(service_result or "")
        text = f"Job for {unit} failed because {why}." if why else f"Job for {unit} failed."
        if exit_code is not None and service_result == "exit-code":
            text = text[:-1] + f" ({exit_code})."
        elif exit_signal is not None and service_result in ("signal", "core-dump"):
            text = text[:-1] + f" (signal {exit_signal})."
        if service_result == "start-limit-hit":
            hint = f"reset the failed state first: `sysd reset-failed {unit}`, then start it again"
        else:
            hint = f"see `sysd status {unit}` and `sysd logs -u {unit}`"
    else:
        text = f"Job for {unit} ended with result {result!r} (systemd newer than sysd?)."
    if result == "dependency":
        hint = "see `sysd list --state=failed` and the journal of the units it requires"
    return cls(
        text,
        unit=unit,
        job_id=job_id,
        job_type=job_type,
        result=result,
        service_result=service_result,
        exit_code=exit_code,
        exit_signal=exit_signal,
        hint=hint,
    )


def deduce_result(job_type: str, active_state: str, unit_result: str | None) -> str:
    """A job's result when its JobRemoved signal was lost (systemd reexecuted).

    Judged the way systemd judges it: a start-like job is ``done`` when the unit
    is active (or finished successfully, for units that deactivate by design),
    ``failed`` when the unit failed; a stop-like job is ``done`` once the unit
    is inactive or failed.
    """
    if job_type in ("stop",):
        return "done" if active_state in ("inactive", "failed") else "canceled"
    if active_state in ("active", "reloading", "refreshing"):
        return "done"
    if active_state == "failed":
        return "failed"
    if active_state == "inactive":
        return "done" if unit_result in (None, "success") else "failed"
    return "canceled"
