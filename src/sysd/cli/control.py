"""The verbs that change units and the manager, as systemctl spells them.

``sysd start|stop|restart|reload|try-restart|reload-or-restart|try-reload-or-restart UNIT...``
``sysd kill|reset-failed|freeze|thaw UNIT...``
``sysd enable|disable|mask|unmask UNIT...``
``sysd daemon-reload|daemon-reexec``

Options, ``--json`` and exit codes as for the other unit verbs (:mod:`sysd.cli.units`): a
job verb exits as systemctl's ``translate_bus_error_to_exit_status()`` says.
"""

from __future__ import annotations

import argparse
import contextlib
import signal as _signal
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .._core.unitname import is_template, normalize
from .._sync.systemd import Systemd, UnitFileChange
from .._sync.unit import Unit
from ..errors import DBusError, JobError, SysdError, UnitMaskedError
from . import colors_enabled, error_text, lazy_module, print_error, print_notice
from ._unitargs import emit_json, resolve, signal_arg, unit_arg, unit_file_arg, verb_parser
from .basic import connect

if TYPE_CHECKING:
    from .._sync.job import Job
    from . import _render as R
else:
    R = lazy_module("sysd.cli._render")

__all__ = ["add_parsers"]


# ------------------------------------------------------------------------------- jobs

_JOB_VERBS = {
    "start": "start",
    "stop": "stop",
    "restart": "restart",
    "reload": "reload",
    "try-restart": "try_restart",
    "reload-or-restart": "reload_or_restart",
    "try-reload-or-restart": "try_reload_or_restart",
}

# translate_bus_error_to_exit_status() in systemd 252's systemctl-util.c
_EXIT_FOR_ERROR = {
    "org.freedesktop.DBus.Error.AccessDenied": 4,
    "org.freedesktop.systemd1.OnlyByDependency": 4,
    "org.freedesktop.systemd1.NoIsolation": 4,
    "org.freedesktop.systemd1.TransactionIsDestructive": 4,
    "org.freedesktop.systemd1.NoSuchUnit": 5,
    "org.freedesktop.systemd1.JobTypeNotApplicable": 3,
    "org.freedesktop.DBus.Error.NotSupported": 3,
    "org.freedesktop.systemd1.LoadFailed": 6,
}


def _job_record(unit: Unit, job: Job | None, error: SysdError | None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "unit": unit.name,
        "job_id": job.id if job else getattr(error, "job_id", None),
        "job_type": job.job_type if job else getattr(error, "job_type", None),
        "result": job.result if job else getattr(error, "result", None),
        "error": None,
    }
    if error is not None:
        record["error"] = _error_record(error)
    return record


def _error_record(error: SysdError) -> dict[str, Any]:
    """An error in --json output: systemd's message, the D-Bus error name beside it."""
    return {
        "type": type(error).__name__,
        "dbus_name": error.name if isinstance(error, DBusError) else None,
        "message": error.message if isinstance(error, DBusError) else error.text,
        "hint": error.hint,
        "service_result": getattr(error, "service_result", None),
        "exit_code": getattr(error, "exit_code", None),
        "exit_signal": getattr(error, "exit_signal", None),
        "report": report.as_dict() if (report := getattr(error, "report", None)) else None,
    }


# The errors after which systemctl does not point to the logs (start_unit_one()).
_NO_LOGS_HINT = frozenset(
    {
        "org.freedesktop.systemd1.NoSuchUnit",
        "org.freedesktop.systemd1.UnitMasked",
        "org.freedesktop.systemd1.JobTypeNotApplicable",
    }
)


def _job_call_failed(args: argparse.Namespace, name: str, exc: DBusError) -> None:
    """systemctl's two lines when a job could not be queued: what failed, and (unless
    the unit is missing, masked or cannot take the job) where to look."""
    # systemctl names the method (method_to_verb()): ReloadOrTryRestartUnit for try-reload-...
    verb = "reload-or-try-restart" if args.verb == "try-reload-or-restart" else args.verb
    print_error(f"Failed to {verb} {name}: {error_text(exc)}")
    if exc.name not in _NO_LOGS_HINT:
        user = " --user" if getattr(args, "user", False) else ""
        dashes = " --" if name.startswith("-") else ""
        scope = "user" if user else "system"
        print_error(f"See {scope} logs and 'sysd{user} status{dashes} {name}' for details.")


def _jobs(args: argparse.Namespace) -> int:
    method = _JOB_VERBS[args.verb]
    rc = 0
    records = []
    with connect(args) as sd:
        for unit in resolve(sd, args.units, args):
            action = getattr(unit, method)
            job: Job | None = None
            error: SysdError | None = None
            try:
                if args.no_block:
                    job = action(args.job_mode, wait=False)
                else:
                    with R.Spinner(f"{args.verb} {unit.name}"):
                        job = action(args.job_mode, wait=True, timeout=None)
            except JobError as exc:
                error = exc
                print_error(str(exc))
                if not args.no_report:
                    _print_report(exc)
                rc = rc or 1
            except UnitMaskedError as exc:
                if args.verb.startswith("try-"):  # systemctl ignores masked units here
                    records.append(_job_record(unit, None, None))
                    continue
                error = exc
                _job_call_failed(args, unit.name, exc)
                rc = rc or 1
            except DBusError as exc:
                error = exc
                _job_call_failed(args, unit.name, exc)
                rc = rc or _EXIT_FOR_ERROR.get(exc.name, 1)
            records.append(_job_record(unit, job, error))
    if args.json:
        emit_json({"jobs": records})
    return rc


def _print_report(exc: JobError) -> None:
    """The failure report after systemctl's line: the unit's state, the step that failed,
    the failing invocation's log lines (on stderr, beside the error it explains)."""
    report = exc.report
    if report is None:
        return
    text = report.render(color=colors_enabled())
    try:
        sys.stderr.write("\n" + text)
    except UnicodeEncodeError:
        sys.stderr.buffer.write(("\n" + text).encode("utf-8", "replace"))
    sys.stderr.flush()


# What systemctl says it failed to do, per verb ("Failed to kill unit x.service: ...").
_ACTION_WORDS = {
    "kill": "kill unit",
    "reset-failed": "reset failed state of unit",
    "freeze": "freeze unit",
    "thaw": "thaw unit",
}


def _unit_action(args: argparse.Namespace) -> int:
    """kill, reset-failed, freeze, thaw: one call per unit, no job."""
    rc = 0
    done = []
    with connect(args) as sd:
        names = args.units
        if args.verb == "reset-failed" and not names:
            names = [u.name for u in sd.list_units(states=["failed"])]
        for unit in resolve(sd, names, args):
            try:
                if args.verb == "kill":
                    unit.kill(args.signal, args.kill_whom)
                elif args.verb == "reset-failed":
                    unit.reset_failed()
                elif not _freezer(sd, unit, args):
                    rc = 1
                    continue
            except DBusError as exc:  # systemctl maps D-Bus errors for job verbs only
                print_error(f"Failed to {_ACTION_WORDS[args.verb]} {unit.name}: {error_text(exc)}")
                rc = 1
                continue
            done.append(unit.name)
    if args.json:
        emit_json({"verb": args.verb, "units": done})
    return rc


def _freezer(sd: Systemd, unit: Any, args: argparse.Namespace) -> bool:
    """freeze/thaw as systemctl 252's verb_clean_or_freeze(): unless --no-block, a
    reference on the unit first (so a unit that cannot be loaded is "Failed to add
    reference to unit"), dropped once the freezer call returned (when it is done)."""
    reffed = False
    if not getattr(args, "no_block", False):
        why = None
        if sd.bus.unique_name is None:
            # the private socket has no names to track a reference by (RefUnit: "Invalid
            # argument"); what RefUnit would refuse is the unit's load state, as LoadError
            load_error = unit.get("LoadError") or ("", "")
            why = load_error[1] if load_error[0] else None
        else:
            try:
                sd.manager_call("RefUnit", "s", (unit.name,))
                reffed = True
            except DBusError as exc:
                why = error_text(exc)
        if why is not None:
            print_error(f"Failed to add reference to unit {unit.name}: {why}")
            return False
    try:
        with R.Spinner(f"{args.verb} {unit.name}"):
            unit.freeze() if args.verb == "freeze" else unit.thaw()
    finally:
        if reffed:
            with contextlib.suppress(DBusError):
                sd.manager_call("UnrefUnit", "s", (unit.name,))
    return True


# -------------------------------------------------------------------------- unit files


def _print_changes(changes: Sequence[UnitFileChange], arrow: str) -> None:
    """As systemctl logs them (to stderr): ``Created symlink X → Y.`` / ``Removed "X".``"""
    for change in changes:
        if change.type == "symlink":
            _log(f"Created symlink {change.file} {arrow} {change.destination}.")
        elif change.type == "unlink":
            _log(f'Removed "{change.file}".')
        elif change.type == "masked":
            _log(f"Unit {change.file} is masked, ignoring.")
        elif change.type == "dangling":
            _log(f"Unit {change.file} is an alias to a unit that is not present, ignoring.")
        elif change.type == "destination not present":
            _log(
                f"Unit {change.destination} is added as a dependency to a non-existent unit "
                f"{change.file}."
            )
        else:
            _log(f"{change.type}: {change.file} {change.destination}".rstrip())


def _log(text: str) -> None:
    print(text, file=sys.stderr)


def _unit_files(args: argparse.Namespace) -> int:
    verb = args.verb
    kwargs: dict[str, Any] = {"runtime": args.runtime}
    if verb in ("enable", "mask"):
        kwargs["force"] = args.force
    with connect(args) as sd:
        if verb in ("mask", "unmask"):
            for name in args.units:
                if not _unit_exists(sd, name):
                    _notice(f"Unit {normalize(name)} does not exist, proceeding anyway.")
        action = getattr(sd, verb)
        try:
            with R.Spinner(f"{verb} {' '.join(args.units)}"):
                changes = action(args.units, **kwargs)
        except DBusError as exc:
            print_error(f"Failed to {verb} unit: {error_text(exc)}")
            if args.json:
                emit_json({"changes": [], "error": _error_record(exc)})
            return 1
        if args.json:
            emit_json(
                {
                    "changes": [
                        {"type": c.type, "file": c.file, "destination": c.destination or None}
                        for c in changes
                    ],
                    "error": None,
                }
            )
        elif not args.quiet:
            _print_changes(changes, R.glyphs_for(sys.stderr).arrow_right)
            if changes.carries_install_info is False:
                _notice(_NO_INSTALL_INFO.format(bullet=R.glyphs_for(sys.stderr).bullet))
        # --now: then start (enable) or stop (disable, mask) them, as systemctl does
        then = {"enable": "start", "disable": "stop", "mask": "stop"}.get(verb)
        if getattr(args, "now", False) and then is not None:
            for name in args.units:
                getattr(sd.unit(name.rpartition("/")[2]), then)()
    return 0


# systemctl 252's notice after enable/reenable when no file has an [Install] section
_NO_INSTALL_INFO = "\n".join(
    [
        "The unit files have no installation config (WantedBy=, RequiredBy=, Also=,",
        "Alias= settings in the [Install] section, and DefaultInstance= for template",
        "units). This means they are not meant to be enabled using systemctl.",
        " ",  # systemd's trick: the space keeps the line from being stripped
        "Possible reasons for having this kind of units are:",
        "{bullet} A unit may be statically enabled by being symlinked from another unit's",
        "  .wants/ or .requires/ directory.",
        "{bullet} A unit's purpose may be to act as a helper for some other unit which has",
        "  a requirement dependency on it.",
        "{bullet} A unit may be started when needed via activation (socket, path, timer,",
        "  D-Bus, udev, scripted systemctl call, ...).",
        "{bullet} In case of template units, the unit is meant to be enabled with some",
        "  instance name specified.",
    ]
)


def _unit_exists(sd: Systemd, name: str) -> bool:
    """systemctl's ``unit_exists()`` before mask/unmask: loaded, or not inactive.  A path
    or a template counts as existing (systemctl looks templates up on disk)."""
    if "/" in name or is_template(normalize(name, template=True)):
        return True
    try:
        unit = sd.unit(name)
        load = unit.get("LoadState")
        active = unit.get("ActiveState")
    except SysdError:
        return True  # the call that follows says what is wrong
    return bool(load != "not-found" or active != "inactive")


def _notice(text: str) -> None:
    """A notice as systemctl logs it (LOG_NOTICE): the text alone, bold on a terminal."""
    print_notice(text)


# ---------------------------------------------------------------------------- manager


def _daemon(args: argparse.Namespace) -> int:
    text = "reloading systemd" if args.verb == "daemon-reload" else "re-executing systemd"
    with connect(args) as sd, R.Spinner(text):
        if args.verb == "daemon-reload":
            sd.daemon_reload()
        else:
            sd.daemon_reexec()
    if args.json:
        emit_json({"verb": args.verb})
    return 0


# ------------------------------------------------------------------------------ parsers


def add_parsers(sub: Any) -> None:
    for verb in _JOB_VERBS:
        p = verb_parser(sub, verb, f"{verb} units and wait for the jobs", _jobs)
        p.add_argument("units", nargs="+", type=unit_arg, metavar="UNIT")
        p.add_argument("--no-block", action="store_true", help="do not wait for the job")
        p.add_argument(
            "--no-report",
            action="store_true",
            help="on failure, print only systemctl's one line (no status and log lines)",
        )
        p.add_argument(
            "--job-mode",
            default="replace",
            choices=[
                "fail",
                "replace",
                "replace-irreversibly",
                "isolate",
                "ignore-dependencies",
                "ignore-requirements",
                "flush",
            ],
            help="how the job deals with queued jobs (default: replace)",
        )

    p = verb_parser(sub, "kill", "send a signal to the processes of units", _unit_action)
    p.add_argument("units", nargs="+", type=unit_arg, metavar="UNIT")
    p.add_argument(
        "-s", "--signal", type=signal_arg, default=int(_signal.SIGTERM), help="default: TERM"
    )
    p.add_argument(
        "--kill-whom",
        "--kill-who",
        dest="kill_whom",
        choices=["all", "main", "control"],
        default="all",
        help="which processes (default: all)",
    )
    p = verb_parser(sub, "reset-failed", "reset the failed state (all failed units)", _unit_action)
    p.add_argument("units", nargs="*", type=unit_arg, metavar="UNIT")
    for verb in ("freeze", "thaw"):
        p = verb_parser(sub, verb, f"{verb} the processes of units (cgroup v2)", _unit_action)
        p.add_argument("units", nargs="+", type=unit_arg, metavar="UNIT")
        p.add_argument(
            "--no-block", action="store_true", help="no reference on the unit while it is done"
        )

    for verb, help_text in (
        ("enable", "enable unit files"),
        ("disable", "disable unit files"),
        ("mask", "mask unit files"),
        ("unmask", "unmask unit files"),
    ):
        p = verb_parser(sub, verb, help_text, _unit_files)
        p.add_argument("units", nargs="+", type=unit_file_arg, metavar="UNIT")
        p.add_argument("--runtime", action="store_true", help="until the next reboot only")
        if verb in ("enable", "mask"):
            p.add_argument("-f", "--force", action="store_true", help="replace conflicting links")
        if verb != "unmask":
            p.add_argument("--now", action="store_true", help="also start/stop the units")
        p.add_argument(
            "-q", "--quiet", action="store_true", help="say nothing about the changes made"
        )

    verb_parser(sub, "daemon-reload", "reload unit files and the manager configuration", _daemon)
    verb_parser(sub, "daemon-reexec", "re-execute the manager", _daemon)
