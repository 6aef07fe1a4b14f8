"""The everyday verbs for units and the manager, as systemctl spells them.

``sysd status [UNIT|PATTERN|PID...]``      what ``systemctl status`` shows (``-n`` journal lines)
``sysd list [PATTERN...]``                 loaded units (``--all``, ``--state``, ``--type``)
``sysd list-unit-files [PATTERN...]``      installed unit files, their state and preset
``sysd list-jobs``                         queued jobs
``sysd show [UNIT|JOB...] [-p NAME]``      properties as ``Name=value`` (the manager's)
``sysd cat UNIT|TEMPLATE...``              unit files and drop-ins
``sysd start|stop|restart|reload|try-restart|reload-or-restart|try-reload-or-restart UNIT...``
``sysd kill|reset-failed|freeze|thaw UNIT...``
``sysd enable|disable|mask|unmask UNIT...``
``sysd daemon-reload|daemon-reexec``
``sysd is-active|is-failed|is-enabled UNIT...``

Every verb takes the connection options (``--user``, ``-H``, ``-M``, ``--timeout``...) and
``--json`` (schemas in docs/cli.md).  Exit codes are systemctl's (docs/cli.md has the table).
Unit names are checked while parsing the arguments, so a bad one exits 2 before anything
connects.  Each verb is a few library calls; layouts live in :mod:`sysd.cli._render`.
"""

from __future__ import annotations

import argparse
import signal as _signal
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from .._core.unitname import is_template, normalize
from .._sync.systemd import Systemd, UnitFileChange, UnitInfo, _names
from .._sync.unit import ACTIVE_STATES, ENABLED_STATES, Unit
from ..errors import (
    DBusError,
    InvalidUnitNameError,
    JobError,
    NoSuchFileError,
    SysdError,
    UnitMaskedError,
)
from . import error_text, lazy_module, print_error, print_notice, print_warning
from ._pager import open_pager
from .basic import add_connection_options, connect, jsonable

if TYPE_CHECKING:
    from .._core.status import UnitStatus
    from .._sync.job import Job
    from . import _render as R
else:  # a one-shot `sysd is-active` needs neither the renderer nor the typed snapshots
    R = lazy_module("sysd.cli._render")


def to_json(value: Any) -> Any:
    from .._core.convert import to_json

    return to_json(value)


__all__ = ["add_parsers"]

# --------------------------------------------------------------------------- arguments

_GLOB_CHARS = frozenset("*?[")


def _is_glob(name: str) -> bool:
    return any(c in _GLOB_CHARS for c in name)


def _unit_arg(text: str) -> str:
    """A unit name or a glob pattern, checked as the library will check it."""
    if _is_glob(text):
        return text
    try:
        normalize(text)
    except InvalidUnitNameError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _cat_arg(text: str) -> str:
    """A unit name, a template (``getty@.service``: its file, as systemctl cat) or a glob."""
    if _is_glob(text):
        return text
    try:
        normalize(text, template=True)
    except InvalidUnitNameError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _unit_or_job_arg(text: str) -> str:
    """``show``: a number is a job id, as for systemctl show."""
    return text if text.isdigit() else _unit_arg(text)


def _unit_or_pid_arg(text: str) -> str:
    if text.isdigit():
        return text
    return _unit_arg(text)


def _unit_file_arg(text: str) -> str:
    """A unit file name (templates too) or an absolute path, as enable/disable take them."""
    try:
        _names([text])
    except (InvalidUnitNameError, ValueError) as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _signal_arg(text: str) -> int:
    """``TERM``, ``SIGTERM``, ``15`` or ``RTMIN+3``."""
    value = text.strip()
    if value.isdigit():
        number = int(value)
        if 0 < number < _signal.NSIG:
            return number
    else:
        name = value.upper()
        name = name if name.startswith("SIG") else "SIG" + name
        if name.startswith("SIGRTMIN+") and name[9:].isdigit():
            number = int(_signal.SIGRTMIN) + int(name[9:])
            if number <= int(_signal.SIGRTMAX):
                return number
        elif name in _signal.Signals.__members__:
            return int(_signal.Signals[name])
    raise argparse.ArgumentTypeError(f"unknown signal {text!r}")


def _lines_arg(text: str) -> int:
    if text.isdigit():
        return int(text)
    raise argparse.ArgumentTypeError(f"lines must be a number >= 0, not {text!r}")


def _split(values: Iterable[str] | None) -> list[str]:
    """``--state=a,b --state=c`` -> ``[a, b, c]``."""
    out: list[str] = []
    for value in values or ():
        out.extend(v for v in value.split(",") if v)
    return out


# ----------------------------------------------------------------------------- helpers


class _Out:
    """Where text goes and how it looks: colours and glyphs for stdout, width on a TTY."""

    def __init__(self, full: bool = False) -> None:
        self.style = R.Style(R.color_enabled(sys.stdout))
        self.glyphs = R.glyphs_for(sys.stdout)
        tty = _isatty(sys.stdout)
        self.width = None if full or not tty else _terminal_columns()


def _terminal_columns() -> int:
    import shutil

    return shutil.get_terminal_size().columns


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _emit(data: dict[str, Any]) -> None:
    import json

    print(json.dumps(data, indent=2, ensure_ascii=False))


def _error(text: str) -> None:
    print_error(text)


def _warn(text: str) -> None:
    """A warning as systemctl logs it: the text alone on stderr, yellow on a terminal."""
    print_warning(text)


def _visible(info: UnitInfo, show_all: bool, states: Sequence[str]) -> bool:
    """systemctl's ``output_show_unit()`` without the pattern and type checks."""
    if show_all:
        return True
    if info.following:
        return False
    if states:
        return True
    return info.job_id > 0 or info.active_state != "inactive"


def _type_order(name: str) -> tuple[str, str]:
    """systemctl's order for unit lists: by type suffix, then by name, ignoring case."""
    return (name.rpartition(".")[2].lower(), name.lower())


def _resolve(
    sd: Systemd,
    names: Sequence[str],
    args: argparse.Namespace,
    *,
    pids: bool = False,
    templates: bool = False,
) -> list[Any]:
    """Units as systemctl's ``expand_unit_names()`` gives them.

    With ``pids`` (``status``) numbers are processes, and come first; then the names as
    given, duplicates included; then the units the glob patterns match, all patterns in
    one ``ListUnitsByPatterns`` call, in the manager's order, filtered as ``list`` filters
    (inactive units only with ``--all``; ``--state``, ``--type`` when the verb has them).
    With ``templates`` (``cat``) a template name stays a name (no unit is loaded for it),
    and patterns match inactive units too, as systemctl cat's do.
    """
    by_pid: list[Unit] = []
    named: list[Unit | str] = []
    globs: list[str] = []
    for name in names:
        if _is_glob(name):
            globs.append(name)
        elif pids and name.isdigit():
            by_pid.append(sd.unit_by_pid(int(name)))
        elif templates and is_template(name):
            named.append(name)
        else:
            named.append(sd.unit(name))
    units: list[Any] = [*by_pid, *named]
    if globs:
        types, states = _types_and_states(args)
        rows = sd.list_units(globs, states=states, types=types)
        # systemctl cat lists every loaded unit a pattern matches, --all or not
        show_all = bool(getattr(args, "all", False)) or templates
        units += [sd.unit(r.name) for r in rows if _visible(r, show_all, states)]
    return units


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
    out = _Out(args.full)
    open_pager(args)
    with connect(args) as sd:
        if not args.units:
            return _system_status(sd, args, out)
        units = _resolve(sd, args.units, args, pids=True)
        rc = 0
        records = []
        first = True
        for unit in units:
            st: UnitStatus = unit.status()
            if st.load_state == "not-found" and st.active_state == "inactive":
                _error(f"Unit {unit.name} could not be found.")
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
        _emit({"units": records})
    return rc


def _system_status(sd: Systemd, args: argparse.Namespace, out: _Out) -> int:
    manager = sd.manager_status()
    host = args.host or args.machine or _hostname()
    processes = None
    process_error: DBusError | None = None
    try:
        processes = list(sd.unit("-.slice").processes())
    except DBusError as exc:
        process_error = exc
    if args.json:
        _emit(
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


# ------------------------------------------------------------------------------- lists


def _list(args: argparse.Namespace) -> int:
    types, states = _types_and_states(args)
    states += ["failed"] if args.failed else []
    with connect(args) as sd:
        rows = sd.list_units(args.patterns, states=states, types=types)
    rows = sorted(
        (r for r in rows if _visible(r, args.all, states)), key=lambda r: _type_order(r.name)
    )
    if args.json:
        _emit(
            {
                "units": [
                    {
                        "unit": r.name,
                        "description": r.description,
                        "load_state": r.load_state,
                        "active_state": r.active_state,
                        "sub_state": r.sub_state,
                        "following": r.following or None,
                        "job_id": r.job_id or None,
                        "job_type": r.job_type or None,
                    }
                    for r in rows
                ]
            }
        )
        return 0
    out = _Out(args.full)
    open_pager(args)
    jobs = any(r.job_id for r in rows)
    header = ["", "unit", "load", "active", "sub", *(["job"] if jobs else []), "description"]
    cells = []
    for r in rows:
        mark, unit_color, load_color = " ", "", ""
        if r.load_state in ("error", "not-found", "bad-setting", "masked"):
            mark, load_color = out.glyphs.black_circle, R.RED
            mark_color = R.YELLOW
        elif r.active_state == "failed":
            mark, unit_color = out.glyphs.black_circle, R.RED
            mark_color = R.RED
        else:
            mark_color = ""
        row = [
            R.Cell(mark, mark_color),
            R.Cell(r.name, unit_color),
            R.Cell(r.load_state, load_color),
            R.Cell(r.active_state, unit_color),
            R.Cell(r.sub_state, unit_color),
            *([R.Cell(r.job_type if r.job_id else "")] if jobs else []),
            R.Cell(r.description),
        ]
        cells.append(row[1:] if args.plain else row)
    if args.plain:
        header = header[1:]
    lines = R.table(
        header,
        cells,
        style=out.style,
        width=out.width,
        glyphs=out.glyphs,
        show_header=not args.no_legend,
    )
    if lines:
        print("\n".join(lines))
    if not args.no_legend:
        n = len(rows)
        if n:
            print(
                "\nLOAD   = Reflects whether the unit definition was properly loaded.\n"
                "ACTIVE = The high-level unit activation state, i.e. generalization of SUB.\n"
                "SUB    = The low-level unit activation state, values depend on unit type."
            )
            if jobs:
                print("JOB    = Pending job for the unit.\n")
        count = out.style(f"{n} loaded units listed.", R.HIGHLIGHT if n else R.RED)
        hint = out.style("To show all installed unit files use 'sysd list-unit-files'.", R.GREY)
        if args.all or "inactive" in states:
            print(f"{count}\n{hint}")
        elif not states:
            more = out.style("Pass --all to see loaded but inactive units, too.", R.GREY)
            print(f"{count} {more}\n{hint}")
        else:
            print(f"{n} loaded units listed.")
    return 0


# show_preset_for_state() in systemctl 252: no PRESET for these (a dash)
_NO_PRESET_STATES = frozenset({"alias", "static", "generated", "transient"})


def _list_unit_files(args: argparse.Namespace) -> int:
    """As systemctl list-unit-files: UNIT FILE, STATE, PRESET; exit 1 when none listed."""
    types, states = _types_and_states(args)
    suffixes = tuple("." + t for t in types)
    with connect(args) as sd:
        files = sd.list_unit_files(args.patterns, states=states)
        files = sorted(
            (f for f in files if not suffixes or f.name.endswith(suffixes)),
            key=lambda f: _type_order(f.name),
        )
        presets = sd.unit_file_presets(f.name for f in files if f.state not in _NO_PRESET_STATES)
    rc = 0 if files else 1
    if args.json:
        _emit(
            {
                "unit_files": [
                    {
                        "unit_file": f.name,
                        "path": f.path,
                        "state": f.state,
                        "preset": _preset_text(presets.get(f.name)),
                    }
                    for f in files
                ]
            }
        )
        return rc
    out = _Out(args.full)
    rows = []
    for f in files:
        if f.state in ("masked", "masked-runtime", "disabled", "bad"):
            color = R.RED
        elif f.state in ("enabled", "alias"):
            color = R.GREEN
        else:
            color = ""
        preset = presets.get(f.name)
        preset_cell = (
            R.Cell("-")
            if preset is None
            else R.Cell(_preset_text(preset) or "", R.GREEN if preset else R.RED)
        )
        rows.append([R.Cell(f.name), R.Cell(f.state, color), preset_cell])
    lines = R.table(
        ["unit file", "state", "preset"],
        rows,
        style=out.style,
        width=out.width,
        glyphs=out.glyphs,
        show_header=not args.no_legend,
    )
    if lines:
        print("\n".join(lines))
    if not args.no_legend:
        print(f"\n{len(files)} unit files listed.")
    return rc


def _preset_text(preset: bool | None) -> str | None:
    return None if preset is None else "enabled" if preset else "disabled"


_UNIT_TYPES = (
    "service", "mount", "swap", "socket", "target", "device", "automount", "timer", "path",
    "slice", "scope",
)  # fmt: skip
_LOAD_STATES = ("stub", "loaded", "not-found", "bad-setting", "error", "merged", "masked")


def _types_and_states(args: argparse.Namespace) -> tuple[list[str], list[str]]:
    """``-t``/``--type`` takes unit types and load states, as systemctl's; ``--state``."""
    types, states = [], _split(getattr(args, "state", None))
    for given in _split(getattr(args, "type", None)):
        word = given.lstrip(".")
        if word in _UNIT_TYPES:
            types.append(word)
        elif word in _LOAD_STATES:
            states.append(word)
        else:
            raise SysdError(
                f"Unknown unit type or load state '{word}'.",
                hint="-t takes " + ", ".join(_UNIT_TYPES + _LOAD_STATES),
            )
    return types, states


def _list_jobs(args: argparse.Namespace) -> int:
    with connect(args) as sd:
        jobs = sorted(sd.list_jobs(), key=lambda j: j.id)
    if args.json:
        _emit(
            {
                "jobs": [
                    {"id": j.id, "unit": j.unit, "job_type": j.job_type, "state": j.state}
                    for j in jobs
                ]
            }
        )
        return 0
    out = _Out(args.full)
    if not jobs:
        if not args.no_legend:
            print("No jobs running.")
        return 0
    rows = [
        [
            R.Cell(str(j.id)),
            R.Cell(j.unit),
            R.Cell(j.job_type),
            R.Cell(j.state, R.HIGHLIGHT if j.state == "running" else ""),
        ]
        for j in jobs
    ]
    lines = R.table(
        ["job", "unit", "type", "state"],
        rows,
        style=out.style,
        width=out.width,
        glyphs=out.glyphs,
        show_header=not args.no_legend,
    )
    print("\n".join(lines))
    if not args.no_legend:
        print(f"\n{len(jobs)} jobs listed.")
    return 0


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
    wanted = _split(args.property)
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
                _emit({"manager": {"properties": props}})
            else:
                sys.stdout.write(_show_text(manager, list(manager.dbus), wanted, args))
            return 0
        try:
            for job_id in (int(a) for a in args.units if a.isdigit()):
                path = f"/org/freedesktop/systemd1/job/{job_id}"
                from .._core.status import JobStatus

                job = JobStatus.from_dbus(sd.get_all(path, JobStatus.INTERFACE))
                emit(job, list(job.dbus), "job", job_id)
            for unit in _resolve(sd, [a for a in args.units if not a.isdigit()], args):
                st: UnitStatus = unit.status()
                raw = st.dbus
                # systemctl prints the type's interface first, then the Unit interface.
                type_names = [n for n in raw if n in _type_props(st)]
                order = type_names + [n for n in raw if n not in set(type_names)]
                emit(st, order, "unit", unit.name)
        finally:
            if args.json:
                _emit({"units": records})
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
        for unit in _resolve(sd, args.units, args, templates=True):
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
                _error(str(exc))
                rc = 1
                continue
            records.append({"unit": name, "text": text})
            if not args.json:
                sys.stdout.write(("" if first else "\n") + text)
            first = False
    if args.json:
        _emit({"units": records})
    return rc


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
    _error(f"Failed to {verb} {name}: {error_text(exc)}")
    if exc.name not in _NO_LOGS_HINT:
        user = " --user" if getattr(args, "user", False) else ""
        dashes = " --" if name.startswith("-") else ""
        scope = "user" if user else "system"
        _error(f"See {scope} logs and 'sysd{user} status{dashes} {name}' for details.")


def _jobs(args: argparse.Namespace) -> int:
    method = _JOB_VERBS[args.verb]
    rc = 0
    records = []
    with connect(args) as sd:
        for unit in _resolve(sd, args.units, args):
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
                _error(str(exc))
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
        _emit({"jobs": records})
    return rc


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
        for unit in _resolve(sd, names, args):
            try:
                if args.verb == "kill":
                    unit.kill(args.signal, args.kill_whom)
                elif args.verb == "reset-failed":
                    unit.reset_failed()
                elif args.verb == "freeze":
                    with R.Spinner(f"freeze {unit.name}"):
                        unit.freeze()
                else:
                    with R.Spinner(f"thaw {unit.name}"):
                        unit.thaw()
            except DBusError as exc:  # systemctl maps D-Bus errors for job verbs only
                _error(f"Failed to {_ACTION_WORDS[args.verb]} {unit.name}: {error_text(exc)}")
                rc = 1
                continue
            done.append(unit.name)
    if args.json:
        _emit({"verb": args.verb, "units": done})
    return rc


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
    if verb != "unmask":
        kwargs["now"] = args.now
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
            _error(f"Failed to {verb} unit: {error_text(exc)}")
            if args.json:
                _emit({"changes": [], "error": _error_record(exc)})
            return 1
    if args.json:
        _emit(
            {
                "changes": [
                    {"type": c.type, "file": c.file, "destination": c.destination or None}
                    for c in changes
                ],
                "error": None,
            }
        )
    else:
        _print_changes(changes, R.glyphs_for(sys.stderr).arrow_right)
    return 0


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
        _emit({"verb": args.verb})
    return 0


# --------------------------------------------------------------------------- is-verbs


def _is_state(args: argparse.Namespace) -> int:
    """is-active: 0 when any unit is active, else 3; is-failed: 0 when any failed, else 1."""
    records = []
    with connect(args) as sd:
        for unit in _resolve(sd, args.units, args):
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
        _emit({"units": records, "result": ok})
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
                _error(f"Failed to get unit file state for {full}: {reason}")
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
        _emit({"units": records, "result": rc == 0})
    return rc


# ------------------------------------------------------------------------------ parsers


def _parser(
    sub: Any, name: str, help_text: str, func: Callable[[argparse.Namespace], int]
) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(name, help=help_text, description=help_text)
    add_connection_options(p)
    p.set_defaults(func=func)
    return p


def _display_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("-l", "--full", action="store_true", help="do not ellipsize")


def _list_options(p: argparse.ArgumentParser) -> None:
    _display_options(p)
    p.add_argument("--no-legend", action="store_true", help="no header and footer")
    p.add_argument(
        "--state", action="append", metavar="STATE", help="only units in these states (a,b)"
    )
    p.add_argument("-t", "--type", action="append", metavar="TYPE", help="only these unit types")


def _pattern_options(p: argparse.ArgumentParser, *, all_help: str | None = None) -> None:
    """What selects the units a glob pattern matches, as for ``list``."""
    if all_help:
        p.add_argument("-a", "--all", action="store_true", help=all_help)
    p.add_argument(
        "--state", action="append", metavar="STATE", help="patterns match units in these states"
    )
    p.add_argument("-t", "--type", action="append", metavar="TYPE", help="and of these types")


def add_parsers(sub: Any) -> None:
    p = _parser(sub, "status", "show the runtime status of units, or of the manager", _status)
    p.add_argument("units", nargs="*", type=_unit_or_pid_arg, metavar="UNIT|PATTERN|PID")
    _display_options(p)
    p.add_argument(
        "-n", "--lines", type=_lines_arg, default=10, help="journal lines to show (default 10)"
    )
    _pattern_options(p, all_help="patterns match inactive units too")

    p = _parser(sub, "list", "list loaded units (systemctl list-units)", _list)
    p.add_argument("patterns", nargs="*", metavar="PATTERN")
    _list_options(p)
    p.add_argument("-a", "--all", action="store_true", help="inactive units too")
    p.add_argument("--failed", action="store_true", help="same as --state=failed")
    p.add_argument("--plain", action="store_true", help="no glyph column")

    p = _parser(sub, "list-unit-files", "list installed unit files", _list_unit_files)
    p.add_argument("patterns", nargs="*", metavar="PATTERN")
    _list_options(p)

    p = _parser(sub, "list-jobs", "list queued jobs", _list_jobs)
    _display_options(p)
    p.add_argument("--no-legend", action="store_true", help="no header and footer")

    p = _parser(sub, "show", "show unit (or manager) properties as Name=value", _show)
    p.add_argument("units", nargs="*", type=_unit_or_job_arg, metavar="UNIT|JOB")
    p.add_argument(
        "-p", "--property", action="append", metavar="NAME", help="only these (a,b; repeatable)"
    )
    p.add_argument("--value", action="store_true", help="print values only")
    _pattern_options(p, all_help="empty values too; patterns match inactive units too")

    p = _parser(sub, "cat", "show unit files and drop-ins", _cat)
    p.add_argument("units", nargs="+", type=_cat_arg, metavar="UNIT")
    _pattern_options(p, all_help="patterns match inactive units too")

    for verb in _JOB_VERBS:
        p = _parser(sub, verb, f"{verb} units and wait for the jobs", _jobs)
        p.add_argument("units", nargs="+", type=_unit_arg, metavar="UNIT")
        p.add_argument("--no-block", action="store_true", help="do not wait for the job")
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

    p = _parser(sub, "kill", "send a signal to the processes of units", _unit_action)
    p.add_argument("units", nargs="+", type=_unit_arg, metavar="UNIT")
    p.add_argument(
        "-s", "--signal", type=_signal_arg, default=int(_signal.SIGTERM), help="default: TERM"
    )
    p.add_argument(
        "--kill-whom",
        "--kill-who",
        dest="kill_whom",
        choices=["all", "main", "control"],
        default="all",
        help="which processes (default: all)",
    )
    p = _parser(sub, "reset-failed", "reset the failed state (all failed units)", _unit_action)
    p.add_argument("units", nargs="*", type=_unit_arg, metavar="UNIT")
    for verb in ("freeze", "thaw"):
        p = _parser(sub, verb, f"{verb} the processes of units (cgroup v2)", _unit_action)
        p.add_argument("units", nargs="+", type=_unit_arg, metavar="UNIT")

    for verb, help_text in (
        ("enable", "enable unit files"),
        ("disable", "disable unit files"),
        ("mask", "mask unit files"),
        ("unmask", "unmask unit files"),
    ):
        p = _parser(sub, verb, help_text, _unit_files)
        p.add_argument("units", nargs="+", type=_unit_file_arg, metavar="UNIT")
        p.add_argument("--runtime", action="store_true", help="until the next reboot only")
        if verb in ("enable", "mask"):
            p.add_argument("-f", "--force", action="store_true", help="replace conflicting links")
        if verb != "unmask":
            p.add_argument("--now", action="store_true", help="also start/stop the units")

    _parser(sub, "daemon-reload", "reload unit files and the manager configuration", _daemon)
    _parser(sub, "daemon-reexec", "re-execute the manager", _daemon)

    for verb, func, help_text in (
        ("is-active", _is_state, "exit 0 when any unit is active, else 3"),
        ("is-failed", _is_state, "exit 0 when any unit failed, else 1"),
        ("is-enabled", _is_enabled, "exit 0 when any unit file is enabled, else 1"),
    ):
        p = _parser(sub, verb, help_text, func)
        arg_type = _unit_arg if verb != "is-enabled" else _unit_name_arg
        p.add_argument("units", nargs="+", type=arg_type, metavar="UNIT")
        p.add_argument("-q", "--quiet", action="store_true", help="print nothing")
        if verb != "is-enabled":
            _pattern_options(p, all_help="patterns match inactive units too")


def _unit_name_arg(text: str) -> str:
    """A unit name or template (no patterns), as is-enabled takes it."""
    try:
        normalize(text, template=True)
    except InvalidUnitNameError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text
