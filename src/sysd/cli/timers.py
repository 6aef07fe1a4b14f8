"""``sysd timers [PATTERN...] [--all] [--no-legend] [-l] [--plain] [--json]``:
``systemctl list-timers``."""

from __future__ import annotations

import argparse
import json
import time
from datetime import timedelta
from typing import Any

from .._core.calendar import format_timestamp, format_timestamp_relative
from . import _render as R
from ._pager import open_pager
from ._unitargs import Out
from .basic import add_connection_options, connect

_USEC = timedelta(microseconds=1)


def _timers(args: argparse.Namespace) -> int:
    with connect(args) as sd:
        timers = sd.list_timers(all=args.all, patterns=args.patterns)
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
        # unset (0) and never (infinity, e.g. an inactive timer's) both print as "-"
        nxt = t.next_elapse_usec if t.next_elapse is not None else 0
        last = t.last_trigger_usec if t.last_trigger is not None else 0
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
    header = ["next", "left", "last", "passed", "unit", "activates"]
    out = Out(args.full)
    open_pager(args)
    out.table(header, rows, legend=not args.no_legend)
    if not args.no_legend:  # output_legend(): highlighted, red when there are none
        on = out.style.code(R.HIGHLIGHT if timers else R.RED)
        print(f"\n{on}{len(timers)} timers listed.{out.style.code(R.NORMAL)}")
        if not args.all:
            print("Pass --all to see loaded but inactive timers, too.")
    return 0


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("timers", help="list timers: next and last elapse, what they activate")
    p.add_argument("patterns", nargs="*", metavar="PATTERN", help="timer names or globs")
    add_connection_options(p)
    p.add_argument("-a", "--all", action="store_true", help="also loaded but inactive timers")
    p.add_argument("--no-legend", action="store_true", help="no header and footer")
    # systemctl's global options, which list-timers takes: -l keeps the table at its
    # natural width on a terminal, and --plain changes nothing in it
    p.add_argument("-l", "--full", action="store_true", help="do not shorten columns")
    p.add_argument("--plain", action="store_true", help="accepted, as by systemctl list-timers")
    p.set_defaults(func=_timers)
