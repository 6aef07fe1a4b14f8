"""``sysd machines``: ``machinectl list`` (systemd 252), on :mod:`sysd.machine`.

The same table (sorted by name, ``-`` for what is unknown, one address shown per machine
with ``…`` when there are more), the same legend (``N machines listed.``/``No machines.``),
``--no-legend``, ``-a``/``--all`` (``.host`` too) and ``-o json``/``-o json-pretty`` (also
``--json``) as machinectl's ``table_print_json()``: null for what is unknown, the
addresses joined by newlines.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from .. import machine
from ..errors import SysdError
from . import error_text, print_error
from .login import _pretty, _table

__all__ = ["add_parsers"]

_HEADER = ["machine", "class", "service", "os", "version", "addresses"]


def _rows(infos: list[machine.MachineInfo]) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for m in infos:
        addrs = "\n".join(str(a) for a in m.addresses)
        rows.append([m.name, m.class_, m.service, m.os or None, m.version or None, addrs or None])
    rows.sort(key=lambda r: r[0].encode())  # strcmp()
    return rows


def _shown(cell: Any) -> str:
    if cell is None or cell == "":
        return "-"
    first, newline, _ = str(cell).partition("\n")
    return first + "…" if newline else first  # table_set_cell_height_max(1)


def _run(args: argparse.Namespace) -> int:
    output = "json" if args.json and not args.output else args.output
    try:
        with machine.connect(timeout=args.timeout) as md:
            rows = _rows(md.machines(all=args.all))
    except SysdError as exc:
        print_error(f"Could not get machines: {error_text(exc)}", prefix="")
        return 1
    if output in ("json", "json-pretty"):
        data = [dict(zip(_HEADER, [c or None for c in row], strict=True)) for row in rows]
        print(json.dumps(data, separators=(",", ":")) if output == "json" else _pretty(data))
        return 0
    if rows:
        shown = [[_shown(c) for c in row] for row in rows]
        for line in _table(_HEADER, shown, 0, legend=args.legend):
            print(line)
    if args.legend:
        print(f"\n{len(rows)} machines listed." if rows else "No machines.")
    return 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``sysd machines``."""
    text = "list registered containers and VMs (machinectl list)"
    p = sub.add_parser("machines", help=text, description=text[0].upper() + text[1:] + ".")
    p.add_argument("-a", "--all", action="store_true", help="include .host, the host itself")
    p.add_argument("--no-legend", dest="legend", action="store_false", help="no header and footer")
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
