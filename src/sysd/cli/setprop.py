"""``sysd set-property UNIT NAME=VALUE... [--runtime]``, as ``systemctl set-property``."""

from __future__ import annotations

import argparse
import json
from typing import Any

from .._core.unitname import normalize
from ..errors import DBusError, InvalidPropertyError, InvalidUnitNameError
from . import USAGE_ERROR, error_text, print_error
from .basic import add_connection_options, connect


def _unit(text: str) -> str:
    try:
        return normalize(text)
    except InvalidUnitNameError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _set_property(args: argparse.Namespace) -> int:
    from .._sync.unit import to_assignments

    try:  # checked before anything connects, as argument errors are
        assignments = to_assignments(args.unit, args.assignments)
    except InvalidPropertyError as exc:
        print_error(str(exc))
        return USAGE_ERROR
    with connect(args) as sd:
        try:
            sd.unit(args.unit).set_properties(assignments, runtime=args.runtime)
        except DBusError as exc:  # as systemctl words it, with our hint
            print_error(f"Failed to set unit properties on {args.unit}: {error_text(exc)}")
            return 1
    if args.json:
        sent = [
            {"name": a.name, "signature": a.signature, "value": _jsonable(a.value)}
            for a in assignments
        ]
        print(json.dumps({"unit": args.unit, "runtime": args.runtime, "properties": sent}))
    return 0


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return list(value)
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def add_parsers(sub: Any) -> None:
    p = sub.add_parser(
        "set-property",
        help="change unit properties at run time (CPUQuota=20%%, MemoryMax=1G, ...)",
    )
    add_connection_options(p)
    p.add_argument("unit", type=_unit, metavar="UNIT")
    p.add_argument("assignments", nargs="+", metavar="NAME=VALUE")
    p.add_argument("--runtime", action="store_true", help="until the next reboot only")
    p.set_defaults(func=_set_property)
