"""``sysd watch [PATTERN...]`` and ``sysd wait UNIT...``: the events stream on the command line.

``sysd watch`` prints one line per event of ``sd.events()`` (time, unit, old -> new state,
result), coloured on a terminal, or with ``--json`` one JSON object per line (JSON Lines;
the schema is in docs/events.md), until interrupted.

``sysd wait`` waits until every unit named is in ``--state`` (default ``inactive``) and
exits 0, 1 when ``--timeout`` passes first, 3 when a unit reached ``failed`` instead (unless
``failed`` is the state waited for).

Patterns, unit names, types, kinds, states and the timeout are checked before anything
connects: a bad one is a one-line error and exit status 1, as systemctl's.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Iterable
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from . import UsageError, lazy_module
from .basic import add_connection_options

if TYPE_CHECKING:
    from .._core import events as E
    from . import _render as R
else:  # `sysd wait foo --bad` refuses before loading any of the stream
    E = lazy_module("sysd._core.events")
    R = lazy_module("sysd.cli._render")

__all__ = ["add_parsers", "event_json", "event_line"]

# systemd 252's unit_active_state_table: what --state takes
ACTIVE_STATES: Final = (
    "active", "reloading", "inactive", "failed", "activating", "deactivating", "maintenance",
)  # fmt: skip
_UNIT_TYPES: Final = (
    "service", "mount", "swap", "socket", "target", "device", "automount", "timer", "path",
    "slice", "scope",
)  # fmt: skip

# exit statuses of `sysd wait`
WAIT_REACHED: Final = 0
WAIT_TIMEOUT: Final = 1
WAIT_FAILED: Final = 3


# ----------------------------------------------------------------------- arguments


def _split(values: Iterable[str] | None) -> list[str]:
    """``--type=a,b --type=c`` -> ``[a, b, c]``."""
    return [v for value in values or () for v in value.split(",") if v]


def _unit_filter(words: list[str], verb: str) -> tuple[list[str], list[str]]:
    """Names (``.service`` added to a bare one, as systemctl does) and glob patterns."""
    from .._core.unitname import normalize
    from ..errors import InvalidUnitNameError

    units, patterns = [], []
    for word in words:
        if any(c in word for c in "*?["):
            patterns.append(word)
            continue
        try:
            units.append(normalize(word))
        except InvalidUnitNameError as exc:
            raise UsageError(
                f"sysd {verb}: invalid unit name or pattern '{word}': {exc.text}"
            ) from None
    return units, patterns


def _types(values: list[str] | None) -> list[str]:
    out = []
    for given in _split(values):
        word = given.lstrip(".")
        if word not in _UNIT_TYPES:
            known = ", ".join(_UNIT_TYPES)
            raise UsageError(f"sysd watch: unknown unit type '{word}' (one of: {known})")
        out.append(word)
    return out


def _kinds(values: list[str] | None) -> list[str]:
    names = [k.__name__ for k in E.EVENT_KINDS]
    lowered = {n.lower(): n for n in names}
    out = []
    for given in _split(values):
        name = lowered.get(given.lower())
        if name is None:
            known = ", ".join(names)
            raise UsageError(f"sysd watch: unknown event kind '{given}' (one of: {known})")
        out.append(name)
    return out


def timeout_arg(text: str) -> float:
    """Seconds (``30``, ``1.5``) or a systemd time span (``2min``, ``1h 30s``);
    ``infinity`` waits forever (``math.inf``)."""
    from .._core import timespan
    from ..errors import InvalidTimespanError

    try:
        span = timespan.parse(text.strip())
    except (InvalidTimespanError, ValueError):
        raise argparse.ArgumentTypeError(f"invalid timeout '{text}'") from None
    return math.inf if span is None else span.total_seconds()


def state_arg(text: str) -> str:
    if text not in ACTIVE_STATES:
        raise argparse.ArgumentTypeError(
            f"unknown state '{text}' (one of: {', '.join(ACTIVE_STATES)})"
        )
    return text


def _filter(args: argparse.Namespace, words: list[str]) -> dict[str, Any]:
    """The keyword arguments of ``sd.events()``, every one checked (no bus touched yet)."""
    units, patterns = _unit_filter(words, "watch")
    kwargs: dict[str, Any] = {
        "units": units or None,
        "patterns": patterns or None,
        "types": _types(getattr(args, "type", None)) or None,
        "kinds": _kinds(getattr(args, "kind", None)) or None,
    }
    E.EventFilter(**kwargs)  # the library's own checks (patterns' characters...), typed
    return kwargs


# ----------------------------------------------------------------------- rendering


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, frozenset | set):
        return sorted(value)
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    return value


def event_json(event: Any, received: datetime) -> dict[str, Any]:
    """One event as the JSON object ``sysd watch --json`` prints (docs/events.md)."""
    out: dict[str, Any] = {
        "time": received.astimezone(UTC).isoformat(),
        "event": type(event).__name__,
    }
    for f in fields(event):
        value = getattr(event, f.name)
        if f.name == "previous":
            out["previous"] = (
                None
                if value is None
                else dict(zip(("active_state", "sub_state", "load_state"), value, strict=True))
            )
        elif isinstance(value, timedelta):
            out[f"{f.name}_usec"] = value // timedelta(microseconds=1)
        elif value is None and "timedelta" in str(f.type):
            out[f"{f.name}_usec"] = None
        else:
            out[f.name] = _jsonable(value)
    return out


def _time_text(when: datetime) -> str:
    return when.astimezone().strftime("%Y-%m-%d %H:%M:%S.%f")


def _span(value: timedelta | None) -> str:
    from .._core import timespan

    return "-" if value is None else timespan.format(value, timedelta(milliseconds=1))


def event_line(event: Any, received: datetime, style: R.Style, glyphs: R.Glyphs = R.ASCII) -> str:
    """One event as a line of ``sysd watch``: the time it was received (local; the
    change's own time is in ``--json``'s ``timestamp``), the unit, what happened."""
    name = type(event).__name__
    head = style(_time_text(received), R.GREY)
    unit = getattr(event, "unit", None)
    if unit is not None:
        head += " " + style(unit, R.HIGHLIGHT) + ":"
    if name == "UnitChanged":
        new = style(f"{event.active_state}/{event.sub_state}", R.active_color(event.active_state))
        if event.previous is None or tuple(event.previous[:2]) == (
            event.active_state,
            event.sub_state,
        ):
            text = new  # the first sight of a unit, or a change of load state, run or result
        else:
            old_active, old_sub, _ = event.previous
            text = f"{old_active}/{old_sub} {glyphs.arrow_right} {new}"
        if event.previous is not None and event.previous[2] != event.load_state:
            text += f" (load: {event.previous[2]} {glyphs.arrow_right} {event.load_state})"
        elif event.previous is None and event.load_state != "loaded":
            text += f" (load: {event.load_state})"
        if "invocation_id" in event.changed and event.invocation_id:
            text += f" invocation={event.invocation_id}"
        if event.result is not None:
            ok = event.result == "success"
            text += " result=" + style(event.result, "" if ok else R.RED)
    elif name == "UnitNew":
        text = "new"
    elif name == "UnitRemoved":
        text = "removed"
    elif name == "JobNew":
        text = f"job {event.job_id} queued"
    elif name == "JobRemoved":
        ok = event.result in ("done", "skipped")
        text = f"job {event.job_id} " + style(event.result, "" if ok else R.RED)
    elif name == "UnitFilesChanged":
        text = "unit files changed"
    elif name == "Reloading":
        text = "manager reloading" if event.active else "manager reloaded"
    elif name == "Reexecuted":
        text = "manager re-executed"
    elif name == "StartupFinished":
        phases = ("firmware", "loader", "kernel", "initrd", "userspace")
        parts = [f"{p} {_span(getattr(event, p))}" for p in phases if getattr(event, p)]
        text = f"startup finished in {_span(event.total)}"
        if parts:
            text += f" ({', '.join(parts)})"
    elif name == "Resynced":
        changed = sorted(event.changed_units)
        text = style("resynced after a reconnect", R.HIGHLIGHT)
        text += f": {len(changed)} unit{'' if len(changed) == 1 else 's'} changed meanwhile"
    elif name == "Overflow":
        text = style(
            f"overflow: {event.dropped} events coalesced or dropped (output fell behind;"
            " the newest state of every unit follows)",
            R.YELLOW,
        )
    else:  # an event kind this version does not know: its fields
        text = name + " " + json.dumps(event_json(event, received), default=str)
    return f"{head} {text}"


# --------------------------------------------------------------------------- watch


def _watch(args: argparse.Namespace) -> int:
    from .basic import connect

    kwargs = _filter(args, args.patterns)
    out = sys.stdout
    style = R.Style(R.color_enabled(out) and not args.json)
    glyphs = R.glyphs_for(out)
    with connect(args) as sd, sd.events(**kwargs) as events:
        for event in events:
            received = datetime.now(UTC)
            if args.json:
                line = json.dumps(event_json(event, received), ensure_ascii=False)
            else:
                line = event_line(event, received, style, glyphs)
            out.write(line + "\n")
            out.flush()
    return 0


# ---------------------------------------------------------------------------- wait


def _wait(args: argparse.Namespace) -> int:
    from .._sync.systemd import connect
    from ..errors import WaitTimeoutError

    units, patterns = _unit_filter(args.units, "wait")
    if patterns:
        raise UsageError(f"sysd wait: give unit names, not patterns: {', '.join(patterns)}")
    target: str = args.state
    timeout = None if args.timeout == math.inf else args.timeout
    with connect(
        user=args.user,
        address=args.address,
        private=args.private,
        host=args.host,
        machine=args.machine,
        timeout=args.call_timeout,
        interactive=args.interactive,
    ) as sd:
        try:
            states = sd.wait_for_units(units, state=target, timeout=timeout)
        except WaitTimeoutError as exc:
            if not args.quiet:
                from . import print_error

                print_error(exc.text)
            return WAIT_TIMEOUT
    if args.json:  # the UnitChanged (or current state) that settled each unit
        now = datetime.now(UTC)
        print(json.dumps({u: event_json(e, now) for u, e in states.items()}, indent=2))
    failed = [u for u, e in states.items() if e.active_state == "failed" != target]
    if failed:
        if not args.quiet:
            from . import print_error

            print_error(f"{', '.join(failed)} failed instead of reaching '{target}'.")
        return WAIT_FAILED
    return WAIT_REACHED


# ------------------------------------------------------------------------- parsers


def add_parsers(sub: Any) -> None:
    p = sub.add_parser(
        "watch",
        help="print unit state changes and manager events as they happen",
        description="Print every event of systemd (unit state changes, jobs, reloads...) "
        "as it happens, one line each, until interrupted.",
    )
    p.add_argument(
        "patterns", nargs="*", metavar="PATTERN", help="unit names or globs (default: all units)"
    )
    add_connection_options(p)
    p.add_argument(
        "-t", "--type", action="append", metavar="TYPE", help="only units of these types"
    )
    p.add_argument(
        "--kind",
        action="append",
        metavar="KIND",
        help="only these events (UnitChanged, JobRemoved, ...; comma-separated)",
    )
    p.set_defaults(func=_watch)

    w = sub.add_parser(
        "wait",
        help="wait until units reach a state (exit 0; 1 on timeout, 3 if failed instead)",
        description="Wait until every unit named is in --state; exit 0 then, 1 when "
        "--timeout passes first, 3 when a unit failed instead.",
        conflict_handler="resolve",
    )
    w.add_argument("units", nargs="+", metavar="UNIT", help="unit names")
    add_connection_options(w)
    w.add_argument(
        "--state",
        type=state_arg,
        default="inactive",
        metavar="STATE",
        help=f"the ActiveState to wait for: {', '.join(ACTIVE_STATES)} (default inactive)",
    )
    # replaces the connection options' --timeout (each call's deadline): here it is the wait's
    w.add_argument(
        "--timeout",
        type=timeout_arg,
        default=None,
        metavar="SEC",
        help="give up after this long (seconds or a time span: 30, 2min); default never",
    )
    w.add_argument("-q", "--quiet", action="store_true", help="no message on timeout or failure")
    w.set_defaults(func=_wait, call_timeout=25.0)
