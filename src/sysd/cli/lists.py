"""The lists, as systemctl prints them.

``sysd list [PATTERN...]``                 loaded units (``--all``, ``--state``, ``--type``)
``sysd list-unit-files [PATTERN...]``      installed unit files, their state and preset
``sysd list-jobs``                         queued jobs

Options, ``--json`` and exit codes as for the other unit verbs (:mod:`sysd.cli.units`).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from . import lazy_module
from ._pager import open_pager
from ._unitargs import Out, display_options, emit_json, types_and_states, verb_parser, visible
from .basic import connect

if TYPE_CHECKING:
    from . import _render as R
else:
    R = lazy_module("sysd.cli._render")

__all__ = ["add_parsers"]


def _suffix(name: str) -> str:
    return name.rpartition(".")[2]


def _red_or_yellow(style: Any, color: str, underline: bool) -> str:
    """ansi_highlight_{red,yellow}() or their _underline() forms (without colours: "")."""
    if not style.enabled:
        return ""
    return R.underlined(style, color) if underline else color


def _type_order(name: str) -> tuple[str, str]:
    """systemctl's order for unit lists: by type suffix, then by name, ignoring case."""
    return (name.rpartition(".")[2].lower(), name.lower())


# ------------------------------------------------------------------------------- lists


def _list(args: argparse.Namespace) -> int:
    types, states = types_and_states(args)
    states += ["failed"] if args.failed else []
    with connect(args) as sd:
        rows = sd.list_units(args.patterns, states=states, types=types)
    rows = sorted(
        (r for r in rows if visible(r, args.all, states)), key=lambda r: _type_order(r.name)
    )
    if args.json:
        emit_json(
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
    out = Out(args.full)
    open_pager(args)
    jobs = any(r.job_id for r in rows)
    header = ["", "unit", "load", "active", "sub", *(["job"] if jobs else []), "description"]
    style = out.style
    cells = []
    for i, r in enumerate(rows):
        # systemctl underlines the last unit of each type (the next one is of another)
        last_of_type = i + 1 < len(rows) and _suffix(rows[i + 1].name) != _suffix(r.name)
        on_underline = R.underlined(style) if last_of_type else ""
        on_circle = on_loaded = on_active = ""
        circle = False
        if r.load_state in ("error", "not-found", "bad-setting", "masked") and not args.plain:
            circle = True
            on_circle = _red_or_yellow(style, R.YELLOW, last_of_type)
            on_loaded = _red_or_yellow(style, R.RED, last_of_type)
        elif r.active_state == "failed" and not args.plain:
            circle = True
            on_circle = on_active = _red_or_yellow(style, R.RED, last_of_type)
        else:
            on_circle = on_active = on_loaded = on_underline
        row = [
            R.Cell(out.glyphs.black_circle if circle else " ", on_circle, on_circle),
            R.Cell(r.name, on_active, on_active),
            R.Cell(r.load_state, on_loaded, on_loaded),
            R.Cell(r.active_state, on_active, on_active),
            R.Cell(r.sub_state, on_active, on_active),
            *([R.Cell(r.job_type if r.job_id else "", on_underline, on_underline)] if jobs else []),
            R.Cell(r.description, on_underline, on_underline),
        ]
        cells.append(row[1:] if args.plain else row)
    if args.plain:
        header = header[1:]
    out.table(header, cells, legend=not args.no_legend)
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
    types, states = types_and_states(args)
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
        emit_json(
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
    out = Out(args.full)
    open_pager(args)
    style = out.style
    rows = []
    for i, f in enumerate(files):
        last_of_type = i + 1 < len(files) and _suffix(files[i + 1].name) != _suffix(f.name)
        on_underline = R.underlined(style) if last_of_type else ""
        if f.state in ("masked", "masked-runtime", "disabled", "bad"):
            color = _red_or_yellow(style, R.RED, last_of_type)
        elif f.state in ("enabled", "alias"):
            color = _red_or_yellow(style, R.GREEN, last_of_type)
        else:
            color = on_underline
        preset = presets.get(f.name)
        if f.state in _NO_PRESET_STATES:  # no preset asked for: an empty (grey) cell
            grey = R.underlined(style, R.GREY) if last_of_type else style.code(R.GREY)
            preset_cell = R.Cell("-", grey, grey)
        elif preset is None:  # the query failed: "n/a"
            na = on_underline if last_of_type else style.code(R.NORMAL)
            preset_cell = R.Cell("n/a", na, na)
        else:
            pc = _red_or_yellow(style, R.GREEN if preset else R.RED, last_of_type)
            preset_cell = R.Cell(_preset_text(preset) or "", pc, pc)
        rows.append([R.Cell(f.name, on_underline, on_underline), R.Cell(f.state, color, color),
                     preset_cell])  # fmt: skip
    out.table(["unit file", "state", "preset"], rows, legend=not args.no_legend)
    if not args.no_legend:
        print(f"\n{len(files)} unit files listed.")
    return rc


def _preset_text(preset: bool | None) -> str | None:
    return None if preset is None else "enabled" if preset else "disabled"


def _list_jobs(args: argparse.Namespace) -> int:
    with connect(args) as sd:
        jobs = sorted(sd.list_jobs(), key=lambda j: j.id)
    if args.json:
        emit_json(
            {
                "jobs": [
                    {"id": j.id, "unit": j.unit, "job_type": j.job_type, "state": j.state}
                    for j in jobs
                ]
            }
        )
        return 0
    out = Out(args.full)
    if not jobs:
        if not args.no_legend:
            style = out.style
            print(f"{style.code(R.GREEN)}No jobs running.{style.code(R.NORMAL)}")
        return 0
    open_pager(args)
    on = out.style.code(R.HIGHLIGHT)
    rows = [
        [
            R.Cell(str(j.id)),
            R.Cell(j.unit, on if j.state == "running" else ""),
            R.Cell(j.job_type),
            R.Cell(j.state, on if j.state == "running" else ""),
        ]
        for j in jobs
    ]
    out.table(["job", "unit", "type", "state"], rows, legend=not args.no_legend)
    if not args.no_legend:
        style = out.style
        print(f"\n{style.code(R.HIGHLIGHT)}{len(jobs)} jobs listed{style.code(R.NORMAL)}.")
    return 0


# ------------------------------------------------------------------------------ parsers


def _list_options(p: argparse.ArgumentParser) -> None:
    display_options(p)
    p.add_argument("--no-legend", action="store_true", help="no header and footer")
    p.add_argument(
        "--state", action="append", metavar="STATE", help="only units in these states (a,b)"
    )
    p.add_argument("-t", "--type", action="append", metavar="TYPE", help="only these unit types")


def add_parsers(sub: Any) -> None:
    p = verb_parser(sub, "list", "list loaded units (systemctl list-units)", _list)
    p.add_argument("patterns", nargs="*", metavar="PATTERN")
    _list_options(p)
    p.add_argument("-a", "--all", action="store_true", help="inactive units too")
    p.add_argument("--failed", action="store_true", help="same as --state=failed")
    p.add_argument("--plain", action="store_true", help="no glyph column")

    p = verb_parser(sub, "list-unit-files", "list installed unit files", _list_unit_files)
    p.add_argument("patterns", nargs="*", metavar="PATTERN")
    _list_options(p)

    p = verb_parser(sub, "list-jobs", "list queued jobs", _list_jobs)
    display_options(p)
    p.add_argument("--no-legend", action="store_true", help="no header and footer")
