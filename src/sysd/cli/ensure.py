"""``sysd ensure UNIT... [--active|--inactive] [--enabled|--disabled] [--masked|--unmasked]
[--restart|--reload] [--settle=5s] [--daemon-reload=auto|yes|no] [--dry-run] [--json]``

Brings units to a desired state, doing only what is missing (``unit.ensure()``).  One
line per unit: what was done (or would be, with ``--dry-run``), or that nothing was.
Exit status 0 when the state holds for every unit (changed or not), 1 when it could
not be reached (an error, or a state that does not hold afterwards: a failed
Condition, a unit file without [Install]).
"""

from __future__ import annotations

import argparse
from typing import Any

from .._core.ensure import Change, Request, request
from ..errors import DBusError, SysdError
from . import error_text, print_error
from ._unitargs import emit_json, unit_arg, verb_parser
from .basic import connect

__all__ = ["add_parsers"]

_DAEMON_RELOAD = {"auto": "auto", "yes": True, "no": False}


def _request(args: argparse.Namespace) -> Request:
    return request(
        args.active,
        args.enabled,
        args.masked,
        args.restart,
        args.reload,
        args.settle,
        args.dry_run,
        _DAEMON_RELOAD[args.daemon_reload],
    )


def _line(change: Change) -> str:
    if not change.changed:
        return f"{change.unit}: unchanged"
    verb = "would" if change.dry_run else "done"
    return f"{change.unit}: {verb}: {', '.join(change.actions)}"


def _unreached(change: Change) -> str:
    after = change.after
    return (
        f"{change.unit}: the state asked for does not hold afterwards (ActiveState="
        f"{after.active_state}, SubState={after.sub_state}, UnitFileState="
        f"{after.unit_file_state}, LoadState={after.load_state})"
    )


def _error_record(unit: str, exc: SysdError) -> dict[str, Any]:
    return {
        "unit": unit,
        "error": {
            "type": type(exc).__name__,
            "dbus_name": exc.name if isinstance(exc, DBusError) else None,
            "message": exc.message if isinstance(exc, DBusError) else exc.text,
            "hint": exc.hint,
            "reason": getattr(exc, "reason", None),
            "service_result": getattr(exc, "service_result", None),
            "exit_code": getattr(exc, "exit_code", None),
            "exit_signal": getattr(exc, "exit_signal", None),
        },
    }


def _ensure(args: argparse.Namespace) -> int:
    try:
        req = _request(args)  # checked before anything connects
    except SysdError as exc:
        print_error(str(exc))
        return 1
    rc = 0
    records: list[dict[str, Any]] = []
    with connect(args) as sd:
        for name in dict.fromkeys(args.units):
            try:
                change = sd.ensure(
                    name,
                    req.active,
                    req.enabled,
                    req.masked,
                    restart=req.restart,
                    reload=req.reload,
                    settle=req.settle,
                    dry_run=req.dry_run,
                    daemon_reload=req.daemon_reload,
                )[0]
            except SysdError as exc:
                print_error(f"{name}: {error_text(exc)}")
                records.append(_error_record(name, exc))
                rc = 1
                continue
            records.append(change.to_dict())
            if not args.json:
                print(_line(change))
            if not change.ok and not change.dry_run:
                print_error(_unreached(change))
                rc = 1
    if args.json:
        emit_json({"changes": records})
    return rc


def add_parsers(sub: Any) -> None:
    p = verb_parser(
        sub, "ensure", "bring units to a desired state, doing only what is missing", _ensure
    )
    p.add_argument("units", nargs="+", type=unit_arg, metavar="UNIT")
    for true, false, dest, helps in (
        ("--active", "--inactive", "active", ("start if not running", "stop if running")),
        ("--enabled", "--disabled", "enabled", ("enable if not enabled", "disable if enabled")),
        ("--masked", "--unmasked", "masked", ("mask if not masked", "unmask if masked")),
    ):
        group = p.add_mutually_exclusive_group()
        group.add_argument(true, dest=dest, action="store_true", default=None, help=helps[0])
        group.add_argument(false, dest=dest, action="store_false", help=helps[1])
    group = p.add_mutually_exclusive_group()
    group.add_argument("--restart", action="store_true", help="restart (starts if stopped)")
    group.add_argument(
        "--reload", action="store_true", help="reload the configuration (starts if stopped)"
    )
    p.add_argument(
        "--settle",
        metavar="SPAN",
        help="after a start or restart, watch the unit this long (5s, 1min): exit 1 if it "
        "does not stay up",
    )
    p.add_argument(
        "--daemon-reload",
        choices=["auto", "yes", "no"],
        default="auto",
        help="reload unit files first: when the unit needs it (auto, the default), always, never",
    )
    p.add_argument("--dry-run", action="store_true", help="say what would be done, do nothing")
