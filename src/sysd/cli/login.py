"""``sysd sessions``, ``sysd users``, ``sysd seats``: ``loginctl list-sessions``,
``list-users``, ``list-seats`` (systemd 252), on :mod:`sysd.login`.

The same table (numeric columns right-aligned, sorted by the first column), the same
legend (``N sessions listed.``/``No sessions.``), ``--no-legend``, and ``-o json`` /
``-o json-pretty`` (also ``--json``) as loginctl's ``table_print_json()``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import Any

from .. import login
from ..errors import SysdError
from . import error_text, print_error

__all__ = ["add_parsers"]

_WORDS = {"sessions": "sessions", "users": "users", "seats": "seats"}


def _table(header: Sequence[str], rows: list[list[Any]], right: int, *, legend: bool) -> list[str]:
    """format-table's layout: columns one space apart (at least one wide), the first
    ``right`` ones right-aligned, the last one unpadded; without the legend the header
    neither shows nor counts for the widths."""
    text = ([[h.upper() for h in header]] if legend else []) + [
        [_text(c) for c in row] for row in rows
    ]
    widths = [max(1, *(len(r[i]) for r in text)) for i in range(len(header))]
    lines = []
    for row in text:
        cells = []
        for i, cell in enumerate(row):
            if i < right:
                cells.append(cell.rjust(widths[i]))
            elif i == len(row) - 1:
                cells.append(cell)
            else:
                cells.append(cell.ljust(widths[i]))
        lines.append(" ".join(cells))
    return lines


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _pretty(data: list[dict[str, Any]]) -> str:
    """json_variant_dump(JSON_FORMAT_PRETTY) of a list of flat objects: tabs, " : "."""
    if not data:
        return "[]"
    objects = []
    for obj in data:
        members = ",\n".join(f"\t\t{json.dumps(k)} : {json.dumps(v)}" for k, v in obj.items())
        objects.append(f"\t{{\n{members}\n\t}}")
    return "[\n" + ",\n".join(objects) + "\n]"


def _rows(lg: login.Login, what: str) -> tuple[list[str], list[list[Any]], int]:
    if what == "sessions":
        rows: list[list[Any]] = []
        for s in lg.sessions():
            try:
                tty = lg.session(s.id).tty or ""
            except SysdError:
                tty = "n/a"  # gone meanwhile, as loginctl's strna()
            rows.append([s.id, s.uid, s.user, s.seat, tty])
        rows.sort(key=lambda r: r[0].encode())  # strcmp(), stable
        return ["session", "uid", "user", "seat", "tty"], rows, 2
    if what == "users":
        rows = [[u.uid, u.name, bool(lg.user(u.uid).linger)] for u in lg.users()]
        rows.sort(key=lambda r: r[0])
        return ["uid", "user", "linger"], rows, 1
    rows = [[s.id] for s in lg.seats()]
    rows.sort(key=lambda r: r[0].encode())
    return ["seat"], rows, 0


def _run(args: argparse.Namespace) -> int:
    what: str = args.verb
    output = "json" if args.json and not args.output else args.output
    try:
        with login.connect(timeout=args.timeout) as lg:
            header, rows, right = _rows(lg, what)
    except SysdError as exc:
        print_error(f"Failed to list {what}: {error_text(exc)}", prefix="")
        return 1
    if output in ("json", "json-pretty"):
        data = [dict(zip(header, row, strict=True)) for row in rows]
        if output == "json":
            print(json.dumps(data, separators=(",", ":")))
        else:
            print(_pretty(data))
        return 0  # no legend with JSON, as loginctl
    if rows:
        for line in _table(header, rows, right, legend=args.legend):
            print(line)
    if args.legend:
        print(f"\n{len(rows)} {_WORDS[what]} listed." if rows else f"No {_WORDS[what]}.")
    return 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``sysd sessions``, ``sysd users``, ``sysd seats``."""
    for verb, text in (
        ("sessions", "list login sessions (loginctl list-sessions)"),
        ("users", "list logged-in and lingering users (loginctl list-users)"),
        ("seats", "list seats (loginctl list-seats)"),
    ):
        p = sub.add_parser(verb, help=text, description=text[0].upper() + text[1:] + ".")
        p.add_argument(
            "--no-legend", dest="legend", action="store_false", help="no header and footer"
        )
        p.add_argument(
            "-o",
            "--output",
            choices=("short", "json", "json-pretty"),
            default=None,
            help="json or json-pretty for machine-readable output",
        )
        p.add_argument("--json", action="store_true", help="the same as -o json")
        p.add_argument(
            "--timeout", type=float, default=25.0, metavar="SEC", help="each call's deadline"
        )
        p.set_defaults(func=_run)
