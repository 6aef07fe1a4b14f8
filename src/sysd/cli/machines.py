"""``sysd machines``, ``sysd images``: ``machinectl list`` and ``list-images`` (systemd 252),
on :mod:`sysd.machine`.

The same table (sorted by name, ``-`` for what is unknown, one address shown per machine
with ``…`` when there are more), the same legend (``N machines listed.``/``No machines.``),
``--no-legend``, ``-a``/``--all`` (``.host`` too) and ``-o json``/``-o json-pretty`` (also
``--json``) as machinectl's ``table_print_json()``: null for what is unknown, the
addresses joined by newlines.  ``sysd images``: NAME TYPE RO USAGE CREATED MODIFIED, sizes as
``FORMAT_BYTES()`` (USAGE right-aligned, blank where unknown), times as ``format_timestamp()``
(``-`` where unknown);
in JSON, sizes and times as numbers (bytes, µs), null for an unknown size.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from .. import machine
from .._core.calendar import format_timestamp
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


_IMAGE_HEADER = ["name", "type", "ro", "usage", "created", "modified"]


def _usec(dt: Any) -> int:
    from datetime import UTC, datetime, timedelta

    if dt is None:
        return 0
    return int((dt - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1))


def _image_table(rows: list[list[str]], *, legend: bool) -> list[str]:
    """format-table's layout for list-images: columns one space apart (at least one wide),
    USAGE right-aligned (its header cell is, the cells below inherit it), the last one
    unpadded."""
    text = ([[h.upper() for h in _IMAGE_HEADER]] if legend else []) + rows
    widths = [max(1, *(len(r[i]) for r in text)) for i in range(len(_IMAGE_HEADER))]
    lines = []
    for row in text:
        cells = []
        for i, cell in enumerate(row):
            if i == 3:
                cells.append(cell.rjust(widths[i]))
            elif i == len(row) - 1:
                cells.append(cell)
            else:
                cells.append(cell.ljust(widths[i]))
        lines.append(" ".join(cells))
    return lines


def _run_images(args: argparse.Namespace) -> int:
    from ._render import format_bytes

    output = "json" if args.json and not args.output else args.output
    try:
        with machine.connect(timeout=args.timeout) as md:
            images = md.images(all=args.all)
    except SysdError as exc:
        print_error(f"Could not get images: {error_text(exc)}", prefix="")
        return 1
    images.sort(key=lambda i: i.name.encode())
    if output in ("json", "json-pretty"):
        data = [
            dict(
                zip(
                    _IMAGE_HEADER,
                    [i.name, i.type, i.read_only, i.usage, _usec(i.created), _usec(i.modified)],
                    strict=True,
                )
            )
            for i in images
        ]
        print(json.dumps(data, separators=(",", ":")) if output == "json" else _pretty(data))
        return 0
    if images:
        rows = [
            [
                i.name,
                i.type,
                "yes" if i.read_only else "no",
                format_bytes(i.usage) or "",
                format_timestamp(_usec(i.created)) if i.created else "-",
                format_timestamp(_usec(i.modified)) if i.modified else "-",
            ]
            for i in images
        ]
        for line in _image_table(rows, legend=args.legend):
            print(line)
    if args.legend:
        print(f"\n{len(images)} images listed." if images else "No images.")
    return 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``sysd machines`` and ``sysd images``."""
    _add(sub, "machines", "list registered containers and VMs (machinectl list)", _run)
    _add(sub, "images", "list container and VM images (machinectl list-images)", _run_images)


def _add(sub: Any, verb: str, text: str, func: Any) -> None:
    p = sub.add_parser(verb, help=text, description=text[0].upper() + text[1:] + ".")
    p.add_argument("-a", "--all", action="store_true", help="include .host and hidden ones")
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
    p.set_defaults(func=func)
