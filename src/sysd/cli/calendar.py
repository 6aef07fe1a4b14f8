"""``sysd calendar`` and ``sysd cron``: calendar specs and crontab translation.

``sysd calendar SPEC...`` prints what ``systemd-analyze calendar`` prints
(same table, same alignment, "Iter. #N" rows); ``sysd cron 'EXPR'`` prints
the ``OnCalendar=`` lines for a cron schedule, the next firings by cron's
rules and by the translated lines, and a ready-to-use unit snippet.  Both
take ``--json``.  Nothing here needs a running systemd.
"""

from __future__ import annotations

import argparse
import errno as _errno
import json
import sys
import time
from datetime import datetime
from typing import Any

from .._core.calendar import (
    USEC_PER_SEC,
    _datetime_to_usec,
    _usec_to_datetime,
    errno_text,
    wall_to_utc,
)
from ..calendar import CalendarSpec, format_timestamp, format_timestamp_relative, in_utc_timezone
from ..cron import CronExpression, calendar_next_fires, timer_unit
from ..errors import InvalidCalendarSpecError, InvalidCronExpressionError
from . import print_error

__all__ = ["add_parsers"]


def _count(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return n


def _base_time(text: str | None) -> int:
    """--base-time: what ``systemd-analyze calendar --base-time=`` 252 takes (systemd's
    timestamps: ``@SECONDS``, ``now``, ``2024-05-01 10:00``, ``yesterday``, ``-1h``,
    ``... UTC``), and also ISO 8601 with ``T`` (``2024-05-01T10:00:00+02:00``; without an
    offset it is local time).

    systemd-analyze 252 refuses a trailing zone name (``Europe/Berlin``, ``CET``, ``GMT``:
    its forked parse fails), though ``UTC`` and a local abbreviation that names no zone
    file (``CEST``) go; so does sysd.
    """
    if text is None:
        return time.time_ns() // 1000
    # imported only when a base time is given: plain `sysd calendar` stays light
    from ..journal import InvalidTimestampError, _time

    word = text[text.rfind(" ") + 1 :] if " " in text else ""
    if word and word.lower() != "utc" and _time._zoneinfo(word) is not None:
        raise argparse.ArgumentTypeError(
            f"invalid base time {text!r}: systemd-analyze takes no zone but UTC here"
        )
    try:
        return _time.parse_timestamp(text)
    except InvalidTimestampError as exc:
        if "T" not in text:
            raise argparse.ArgumentTypeError(str(exc)) from None
    try:
        dt = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid base time {text!r} (use @SECONDS, 'now', YYYY-MM-DD[ HH:MM[:SS]] or ISO 8601)"
        ) from None
    if dt.tzinfo is not None:
        return _datetime_to_usec(dt)
    naive = dt - datetime(1970, 1, 1)
    wall = naive.days * 86400 + naive.seconds
    t = wall_to_utc(wall)
    if t is None:
        raise argparse.ArgumentTypeError(f"{text!r} does not exist in the local time zone")
    return t * USEC_PER_SEC + dt.microsecond


def _table(rows: list[tuple[str, str]]) -> str:
    """systemd's two-column table: first column right-aligned, no header."""
    width = max((len(a) for a, _ in rows), default=0)
    return "".join(f"{a.rjust(width)} {b}".rstrip() + "\n" for a, b in rows)


def _iso(usec: int) -> str:
    return _usec_to_datetime(usec).isoformat().replace("+00:00", "Z")


# ------------------------------------------------------------------ calendar


def _calendar_one(text: str, base: int, iterations: int, now: int) -> tuple[int, str, Any]:
    """(status, table text, JSON object) for one spec, as systemd-analyze does it."""
    try:
        spec = CalendarSpec.parse(text)
    except InvalidCalendarSpecError as exc:
        code = getattr(exc, "errno", _errno.EINVAL)
        print_error(f"Failed to parse calendar specification '{text}': {errno_text(code)}", "")
        print(f"  {exc.text}", file=sys.stderr)
        return 1, "", {"spec": text, "error": exc.text, "errno": _errno.errorcode.get(code)}
    rows: list[tuple[str, str]] = []
    if spec.normalized != text:
        rows.append(("Original form:", text))
    rows.append(("Normalized form:", spec.normalized))
    show_utc = not in_utc_timezone()
    elapses: list[dict[str, Any]] = []
    n = base
    for i in range(iterations):
        nxt, err = spec._next(n)
        if err == _errno.ENOENT:
            if i == 0:
                rows.append(("Next elapse:", "never"))
            break
        if err:
            print_error(f"Failed to determine next elapse for '{text}': {errno_text(err)}", "")
            return 1, "", {"spec": text, "error": errno_text(err), "errno": _errno.errorcode[err]}
        local = format_timestamp(nxt)
        rows.append(("Next elapse:" if i == 0 else f"Iter. #{i + 1}:", local))
        if show_utc:
            rows.append(("(in UTC):", format_timestamp(nxt, utc=True)))
        rows.append(("From now:", format_timestamp_relative(nxt, now)))
        elapses.append({"usec": nxt, "utc": _iso(nxt), "local": local})
        n = nxt
    obj = {"spec": text, "normalized": spec.normalized, "next_elapses": elapses}
    return 0, _table(rows), obj


def _cmd_calendar(args: argparse.Namespace) -> int:
    base = args.base_time if args.base_time is not None else _base_time(None)
    now = time.time_ns() // 1000
    status = 0
    out: list[Any] = []
    for k, text in enumerate(args.specs):
        rc, table, obj = _calendar_one(text, base, args.iterations, now)
        status = status or rc
        out.append(obj)
        if not args.json:
            sys.stdout.write(table)
            if k + 1 < len(args.specs):
                sys.stdout.write("\n")
    if args.json:
        json.dump(out, sys.stdout, indent=2)
        sys.stdout.write("\n")
    return status


# ------------------------------------------------------------------ cron


def _cmd_cron(args: argparse.Namespace) -> int:
    expression = " ".join(args.expression)
    try:
        cron = CronExpression.parse(expression)
        calendars = cron.to_calendar(args.tz)
        unit_text = timer_unit(
            expression,
            args.command,
            unit=args.unit,
            name=args.name,
            persistent=not args.no_persistent,
            tz=args.tz,
        )
    except (InvalidCronExpressionError, InvalidCalendarSpecError) as exc:
        print_error(str(exc))
        return 1
    base = args.base_time if args.base_time is not None else _base_time(None)
    after = _usec_to_datetime(base)
    by_cron = [_datetime_to_usec(d) for d in cron.next_fires(after, args.iterations, args.tz)]
    by_systemd = [
        _datetime_to_usec(d) for d in calendar_next_fires(calendars, after, args.iterations)
    ]
    if args.json:
        json.dump(
            {
                "expression": expression,
                "explanation": cron.explain(),
                "on_calendar": calendars,
                "next_fires": {
                    "cron": [_iso(u) for u in by_cron],
                    "systemd": [_iso(u) for u in by_systemd],
                },
                "agree": by_cron == by_systemd,
                "unit": unit_text,
            },
            sys.stdout,
            indent=2,
        )
        sys.stdout.write("\n")
        return 0
    rows: list[tuple[str, str]] = [
        ("Cron expression:", expression),
        ("Explanation:", cron.explain()),
    ]
    rows += [("OnCalendar=:", c) for c in calendars]
    show_utc = not in_utc_timezone()
    for i, u in enumerate(by_systemd):
        rows.append(("Next elapse:" if i == 0 else f"Iter. #{i + 1}:", format_timestamp(u)))
        if show_utc:
            rows.append(("(in UTC):", format_timestamp(u, utc=True)))
    if not by_systemd:
        rows.append(("Next elapse:", "never"))
    sys.stdout.write(_table(rows))
    if by_cron == by_systemd:
        print(f"\ncron's own rules give the same {len(by_cron)} firing(s).")
    else:
        print("\ncron's own rules differ (daylight-saving transitions?):")
        diff = [("cron:", format_timestamp(u)) for u in by_cron]
        sys.stdout.write(_table(diff))
    print()
    sys.stdout.write(unit_text)
    return 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "calendar",
        help="normalise calendar specs and show their next elapses (like systemd-analyze)",
        description="Parse OnCalendar= specifications and print what "
        "`systemd-analyze calendar` prints.",
    )
    p.add_argument("specs", nargs="+", metavar="SPEC", help="calendar specification")
    p.add_argument("--iterations", type=_count, default=1, metavar="N", help="show N elapses")
    p.add_argument(
        "--base-time",
        type=_base_time,
        metavar="TIME",
        help="compute elapses after TIME (@SECONDS, 'now' or an ISO date) instead of now",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_cmd_calendar)

    c = sub.add_parser(
        "cron",
        help="translate a cron expression into OnCalendar= lines and a timer unit",
        description="Translate a 5-field (or 6-field, seconds first) cron expression.",
    )
    c.add_argument("expression", nargs="+", metavar="EXPR", help="cron expression (quote it)")
    c.add_argument("--iterations", type=_count, default=5, metavar="N", help="show N firings")
    c.add_argument(
        "--base-time", type=_base_time, metavar="TIME", help="firings after TIME instead of now"
    )
    c.add_argument("--command", help="command for the generated .service (run by /bin/sh)")
    c.add_argument("--unit", help="existing unit for the timer to start instead")
    c.add_argument("--name", default="cron-job", help="unit name stem (default: cron-job)")
    c.add_argument("--tz", help="IANA time zone of the schedule (cron's CRON_TZ=)")
    c.add_argument("--no-persistent", action="store_true", help="do not add Persistent=true")
    c.add_argument("--json", action="store_true", help="print JSON")
    c.set_defaults(func=_cmd_cron)
