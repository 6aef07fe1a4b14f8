"""``sysd timers [--all] [--json]``: what ``systemctl list-timers`` prints."""

from __future__ import annotations

import argparse
import json
import time
from datetime import timedelta
from typing import Any

from .._core.calendar import format_timestamp, format_timestamp_relative
from .basic import add_connection_options, connect

_USEC = timedelta(microseconds=1)


def _columns(rows: list[list[str]], header: list[str]) -> list[str]:
    """systemd's table: left-aligned columns, one space apart, trailing blanks cut."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    out = []
    for row in [header, *rows]:
        out.append(" ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return out


def _timers(args: argparse.Namespace) -> int:
    with connect(args) as sd:
        timers = sd.list_timers(all=args.all)
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "timer": t.timer,
                        "activates": list(t.activates),
                        "next": t.next_elapse.isoformat() if t.next_elapse else None,
                        "left_usec": t.left // _USEC if t.left is not None else None,
                        "last": t.last_trigger.isoformat() if t.last_trigger else None,
                        "passed_usec": t.passed // _USEC if t.passed is not None else None,
                    }
                    for t in timers
                ],
                indent=2,
            )
        )
        return 0
    now = time.clock_gettime_ns(time.CLOCK_REALTIME) // 1000
    rows = []
    for t in timers:
        nxt, last = t.next_elapse_usec, t.last_trigger_usec
        rows.append(
            [
                format_timestamp(nxt) if nxt else "-",
                format_timestamp_relative(nxt, now) if nxt else "-",
                format_timestamp(last) if last else "-",
                format_timestamp_relative(last, now) if last else "-",
                t.timer,
                ", ".join(t.activates),
            ]
        )
    if not args.no_legend:
        for line in _columns(rows, ["NEXT", "LEFT", "LAST", "PASSED", "UNIT", "ACTIVATES"]):
            print(line)
        print(f"\n{len(timers)} timers listed.")
        if not args.all:
            print("Pass --all to see loaded but inactive timers, too.")
    else:
        for row in rows:
            print(" ".join(row))
    return 0


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("timers", help="list timers: next and last elapse, what they activate")
    add_connection_options(p)
    p.add_argument("-a", "--all", action="store_true", help="also loaded but inactive timers")
    p.add_argument("--no-legend", action="store_true", help="no header and footer")
    p.set_defaults(func=_timers)
