"""The unit queries, as systemctl spells them.

``sysd status [UNIT|PATTERN|PID...]``      what ``systemctl status`` shows (``-n`` journal lines)
``sysd show [UNIT|JOB...] [-p NAME]``      properties as ``Name=value`` (the manager's)
``sysd cat UNIT|TEMPLATE...``              unit files and drop-ins
``sysd is-active|is-failed|is-enabled UNIT...``

The lists are in :mod:`sysd.cli.lists`; what changes units (jobs, kill, enable, daemon-reload...)
in :mod:`sysd.cli.control`; the argument types and unit resolution they share in
:mod:`sysd.cli._unitargs`.

Every verb takes the connection options (``--user``, ``-H``, ``-M``, ``--timeout``...) and
``--json`` (schemas in docs/cli.md).  Exit codes are systemctl's (docs/cli.md has the table).
Unit names are checked while parsing the arguments, so a bad one exits 1 before anything
connects.  Each verb is a few library calls; layouts live in :mod:`sysd.cli._render`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from .._core.unitname import normalize
from .._sync.systemd import Systemd
from .._sync.unit import ACTIVE_STATES, ENABLED_STATES, Unit
from ..errors import (
    DBusError,
    InvalidUnitNameError,
    NoSuchFileError,
    SysdError,
    UnitMaskedError,
)
from . import error_text, lazy_module, print_error, print_warning
from ._pager import open_pager
from ._unitargs import (
    Out,
    cat_arg,
    display_options,
    emit_json,
    lines_arg,
    pattern_options,
    resolve,
    split_values,
    unit_arg,
    unit_name_arg,
    unit_or_job_arg,
    unit_or_pid_arg,
    verb_parser,
)
from .basic import connect, jsonable

if TYPE_CHECKING:
    from .._core.status import UnitStatus
    from . import _render as R
else:  # a one-shot `sysd is-active` needs neither the renderer nor the typed snapshots
    R = lazy_module("sysd.cli._render")


def to_json(value: Any) -> Any:
    from .._core.convert import to_json

    return to_json(value)


__all__ = ["add_parsers"]

# ----------------------------------------------------------------------------- helpers


def _warn(text: str) -> None:
    """A warning as systemctl logs it: the text alone on stderr, yellow on a terminal."""
    print_warning(text)


def _is_local(args: argparse.Namespace) -> bool:
    return not (args.host or args.machine or args.address)


def _comm(pids: Iterable[int | None]) -> dict[int, str]:
    """Process names from /proc: systemctl shows them for local connections only."""
    names = {}
    for pid in pids:
        if pid:
            try:
                with open(f"/proc/{pid}/comm", encoding="utf-8", errors="replace") as f:
                    names[pid] = f.read().strip()
            except OSError:
                continue
    return names


# ----------------------------------------------------------------------------- status

# The status fields of `sysd status --json` (docs/cli.md), by snapshot attribute.
STATUS_FIELDS = (
    "description",
    "load_state",
    "active_state",
    "sub_state",
    "freezer_state",
    "result",
    "unit_file_state",
    "unit_file_preset",
    "fragment_path",
    "drop_in_paths",
    "main_pid",
    "control_pid",
    "status_text",
    "tasks_current",
    "tasks_max",
    "memory_current",
    "memory_max",
    "cpu_usage",
    "control_group",
    "triggered_by",
    "triggers",
    "documentation",
)


def _status_json(unit: Unit, st: UnitStatus, processes: list[Any] | None) -> dict[str, Any]:
    record: dict[str, Any] = {"unit": unit.name}
    for field in STATUS_FIELDS:
        value = getattr(st, field, None)
        if field in ("drop_in_paths", "triggered_by", "triggers", "documentation"):
            value = list(value or ())
        record[field] = to_json(value)
    record["since"] = to_json(st.since)
    code = getattr(st, "exec_main_code", None)
    record["main_exit"] = (
        {"code": code, "status": getattr(st, "exec_main_status", None)} if code else None
    )
    record["processes"] = (
        None
        if processes is None
        else [{"cgroup": c, "pid": p, "command": cmd} for c, p, cmd in processes]
    )
    return record


def _status(args: argparse.Namespace) -> int:
    out = Out(args.full)
    open_pager(args)
    with connect(args) as sd:
        if not args.units:
            return _system_status(sd, args, out)
        units = resolve(sd, args.units, args, pids=True)
        rc = 0
        records = []
        first = True
        for unit in units:
            st: UnitStatus = unit.status()
            if st.load_state == "not-found" and st.active_state == "inactive":
                print_error(f"Unit {unit.name} could not be found.")
                rc = rc or 4
                if args.json:
                    records.append(_status_json(unit, st, None))
                continue
            processes = None
            process_error: DBusError | None = None
            if getattr(st, "control_group", None):
                try:
                    processes = list(unit.processes())
                except DBusError as exc:
                    process_error = exc
            rc = rc or (0 if st.active_state in ACTIVE_STATES else 3)
            if args.json:
                records.append(_status_json(unit, st, processes))
                continue
            states = {}
            for name in (*(st.triggered_by or ()), *(st.triggers or ())):
                try:
                    states[name] = sd.unit(name).active_state()
                except (DBusError, InvalidUnitNameError):
                    continue
            comm = (
                _comm([getattr(st, "main_pid", None), getattr(st, "control_pid", None)])
                if _is_local(args)
                else {}
            )
            if not first:
                print()
            first = False
            lines = R.status_lines(
                st,
                style=out.style,
                glyphs=out.glyphs,
                processes=processes,
                states=states,
                comm=comm,
                width=out.width,
            )
            print("\n".join(lines))
            if process_error is not None:  # where systemctl says so: under CGroup:
                sys.stdout.flush()
                _warn(
                    f"Failed to dump process list for '{unit.name}', ignoring: {process_error.text}"
                )
            if args.lines > 0 and _is_local(args):  # the journal, as systemctl status
                from .logs import print_unit_journal

                sys.stdout.flush()
                print_unit_journal(
                    unit.name,
                    user=args.user,
                    lines=args.lines,
                    not_before=getattr(st, "inactive_exit_timestamp_monotonic", None),
                    full=out.width is None,
                    color=out.style.enabled,
                )
    if args.json:
        emit_json({"units": records})
    return rc


def _system_status(sd: Systemd, args: argparse.Namespace, out: Out) -> int:
    manager = sd.manager_status()
    host = args.host or args.machine or _hostname()
    processes = None
    process_error: DBusError | None = None
    try:
        processes = list(sd.unit("-.slice").processes())
    except DBusError as exc:
        process_error = exc
    if args.json:
        emit_json(
            {
                "manager": {
                    "host": host,
                    "system_state": manager.system_state,
                    "n_names": manager.n_names,
                    "n_jobs": manager.n_jobs,
                    "n_failed_units": manager.n_failed_units,
                    "since": to_json(manager.userspace_timestamp),
                    "version": manager.version,
                    "tainted": manager.tainted,
                    "control_group": manager.control_group or "/",
                    "processes": None
                    if processes is None
                    else [{"cgroup": c, "pid": p, "command": cmd} for c, p, cmd in processes],
                }
            }
        )
        return 0
    lines = R.system_status_lines(
        manager,
        host=host,
        style=out.style,
        glyphs=out.glyphs,
        processes=processes,
        width=out.width,
    )
    print("\n".join(lines))
    if process_error is not None:  # where systemctl says so: under CGroup:
        sys.stdout.flush()
        _warn(
            f"Failed to dump process list for '{host}', ignoring: "
            f"{process_error.message or process_error.name}"
        )
    return 0


def _hostname() -> str:
    import socket

    return socket.gethostname()


# -------------------------------------------------------------------------- show, cat


def _signature_of(value: Any) -> str:
    """A D-Bus signature for a property the schema does not know (a newer systemd's)."""
    if isinstance(value, bool):
        return "b"
    if isinstance(value, int):
        return "x"
    if isinstance(value, str):
        return "s"
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "as"
    return "v"


def _show(args: argparse.Namespace) -> int:
    """Properties as systemctl show prints them: job ids first, then units; the manager's
    without arguments.  Each object is printed as soon as it is read (an error later
    leaves it on stdout, as with systemctl), a blank line before all but the first."""
    wanted = split_values(args.property)
    records = []
    first = True

    def emit(obj: Any, order: Sequence[str], key: str, ident: Any) -> None:
        nonlocal first
        if args.json:
            props = {n: jsonable(obj.dbus[n]) for n in order if _picked(n, wanted)}
            records.append({key: ident, "properties": props})
        else:
            sys.stdout.write(("" if first else "\n") + _show_text(obj, order, wanted, args))
            first = False

    with connect(args) as sd:
        if not args.units:
            manager = sd.manager_status()
            if args.json:
                props = {n: jsonable(v) for n, v in manager.dbus.items() if _picked(n, wanted)}
                emit_json({"manager": {"properties": props}})
            else:
                sys.stdout.write(_show_text(manager, list(manager.dbus), wanted, args))
            return 0
        try:
            for job_id in (int(a) for a in args.units if a.isdigit()):
                path = f"/org/freedesktop/systemd1/job/{job_id}"
                from .._core.status import JobStatus

                job = JobStatus.from_dbus(sd.get_all(path, JobStatus.INTERFACE))
                emit(job, list(job.dbus), "job", job_id)
            for unit in resolve(sd, [a for a in args.units if not a.isdigit()], args):
                st: UnitStatus = unit.status()
                raw = st.dbus
                # systemctl prints the type's interface first, then the Unit interface.
                type_names = [n for n in raw if n in _type_props(st)]
                order = type_names + [n for n in raw if n not in set(type_names)]
                emit(st, order, "unit", unit.name)
        finally:
            if args.json:
                emit_json({"units": records})
    return 0


def _picked(name: str, wanted: Sequence[str]) -> bool:
    return not wanted or name in wanted


def _show_text(st: Any, order: Sequence[str], wanted: Sequence[str], args: Any) -> str:
    """The lines of one object's properties, each ending in a newline."""
    from ._show import property_lines  # only show needs the property printer

    signatures = {f.dbus_name: f.signature for f in type(st).FIELDS.values()}
    raw = st.dbus
    lines = []
    for name in order:
        if _picked(name, wanted):
            value = raw[name]
            lines += property_lines(
                name,
                signatures.get(name) or _signature_of(value),
                value,
                show_empty=bool(wanted) or args.all,
                value_only=args.value,
            )
    return "".join(line + "\n" for line in lines)


def _type_props(st: UnitStatus) -> frozenset[str]:
    props = st.__dict__.get("_type_props") or {}
    return frozenset(props)


def _cat(args: argparse.Namespace) -> int:
    """As systemctl cat: files of each unit (a template's too), a blank line between
    units; ``# Unit NAME is masked.`` for a masked one (no blank line before it)."""
    records = []
    rc = 0
    first = True
    with connect(args) as sd:
        for unit in resolve(sd, args.units, args, templates=True):
            name = unit if isinstance(unit, str) else unit.name
            try:
                text = sd.cat(unit) if isinstance(unit, str) else unit.cat()
            except UnitMaskedError:
                text = f"# Unit {name} is masked.\n"
                records.append({"unit": name, "text": text})
                if not args.json:
                    sys.stdout.write(text)
                continue
            except SysdError as exc:  # no files, a remote manager
                print_error(str(exc))
                rc = 1
                continue
            records.append({"unit": name, "text": text})
            if not args.json:
                sys.stdout.write(("" if first else "\n") + text)
            first = False
    if args.json:
        emit_json({"units": records})
    return rc


# --------------------------------------------------------------------------- is-verbs


def _is_state(args: argparse.Namespace) -> int:
    """is-active: 0 when any unit is active, else 3; is-failed: 0 when any failed, else 1."""
    records = []
    with connect(args) as sd:
        for unit in resolve(sd, args.units, args):
            state = unit.active_state()
            records.append({"unit": unit.name, "state": state})
            if not (args.quiet or args.json):
                print(state)
    if args.verb == "is-active":
        ok = any(r["state"] in ACTIVE_STATES for r in records)
        fail = 3
    else:
        ok = any(r["state"] == "failed" for r in records)
        fail = 1
    if args.json:
        emit_json({"units": records, "result": ok})
    return 0 if ok else fail


def _is_enabled(args: argparse.Namespace) -> int:
    """0 when any unit file is enabled-ish (enabled, static, alias, indirect...), else 1.

    As systemctl: the states in the order of the arguments; the first unit whose state
    cannot be had ends the command with status 1 (later units are not asked about).
    """
    records = []
    rc = 1
    with connect(args) as sd:
        for name in args.units:
            full = normalize(name, template=True)
            try:
                state = sd.unit_file_state(full)
            except (NoSuchFileError, DBusError) as exc:
                reason = (
                    "No such file or directory"
                    if isinstance(exc, NoSuchFileError)
                    else error_text(exc)
                )
                print_error(f"Failed to get unit file state for {full}: {reason}")
                records.append({"unit": full, "state": None})
                rc = -1
                break
            records.append({"unit": full, "state": state})
            if state in ENABLED_STATES:
                rc = 0
            if not (args.quiet or args.json):
                print(state)
    rc = 1 if rc < 0 else rc
    if args.json:
        emit_json({"units": records, "result": rc == 0})
    return rc


# ------------------------------------------------------------------------------ parsers


def add_parsers(sub: Any) -> None:
    p = verb_parser(sub, "status", "show the runtime status of units, or of the manager", _status)
    p.add_argument("units", nargs="*", type=unit_or_pid_arg, metavar="UNIT|PATTERN|PID")
    display_options(p)
    p.add_argument(
        "-n", "--lines", type=lines_arg, default=10, help="journal lines to show (default 10)"
    )
    pattern_options(p, all_help="patterns match inactive units too")

    p = verb_parser(sub, "show", "show unit (or manager) properties as Name=value", _show)
    p.add_argument("units", nargs="*", type=unit_or_job_arg, metavar="UNIT|JOB")
    p.add_argument(
        "-p", "--property", action="append", metavar="NAME", help="only these (a,b; repeatable)"
    )
    p.add_argument("--value", action="store_true", help="print values only")
    pattern_options(p, all_help="empty values too; patterns match inactive units too")

    p = verb_parser(sub, "cat", "show unit files and drop-ins", _cat)
    p.add_argument("units", nargs="+", type=cat_arg, metavar="UNIT")
    pattern_options(p, all_help="patterns match inactive units too")

    for verb, func, help_text in (
        ("is-active", _is_state, "exit 0 when any unit is active, else 3"),
        ("is-failed", _is_state, "exit 0 when any unit failed, else 1"),
        ("is-enabled", _is_enabled, "exit 0 when any unit file is enabled, else 1"),
    ):
        p = verb_parser(sub, verb, help_text, func)
        arg_type = unit_arg if verb != "is-enabled" else unit_name_arg
        p.add_argument("units", nargs="+", type=arg_type, metavar="UNIT")
        p.add_argument("-q", "--quiet", action="store_true", help="print nothing")
        if verb != "is-enabled":
            pattern_options(p, all_help="patterns match inactive units too")
