"""``sysd analyze [time|blame|critical-chain [UNIT...]|plot] [--fuzz=SEC] [--json]``:
``systemd-analyze``'s boot analysis verbs, over :mod:`sysd.analyze`.

The text is what systemd-analyze 252 prints (its table, its tree glyphs, its colours on
a terminal, its pager); ``--json`` prints the typed values instead.  Without a verb it
is ``time``, as for systemd-analyze.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from . import USAGE_ERROR, colors_enabled, print_error
from ._pager import open_pager
from .basic import add_connection_options

if TYPE_CHECKING:
    import sysd
    from sysd._core.analyze import ChainNode, StartupTime, UnitTime

__all__ = ["VERBS", "add_parsers"]

VERBS = ("time", "blame", "critical-chain", "plot", "security")
_US = timedelta(microseconds=1)
_RED = "\x1b[0;1;31m"  # ansi_highlight_red()
_NORMAL = "\x1b[0m"


def _usec(value: timedelta | None) -> int | None:
    return None if value is None else value // _US


def _connect(args: argparse.Namespace, *, full_bus: bool = False) -> sysd.Systemd:
    from .._sync.systemd import connect

    private = args.private
    if full_bus and private is None and not args.user:
        # plot asks systemd-hostnamed for the title line: the bus, not the private socket,
        # as systemd-analyze does
        private = False
    return connect(
        user=args.user,
        address=args.address,
        private=private,
        host=args.host,
        machine=args.machine,
        timeout=args.timeout,
        interactive=args.interactive,
    )


def _startup_json(st: StartupTime) -> dict[str, Any]:
    return {
        "firmware_usec": _usec(st.firmware),
        "loader_usec": _usec(st.loader),
        "kernel_usec": _usec(st.kernel),
        "initrd_usec": _usec(st.initrd),
        "userspace_usec": _usec(st.userspace),
        "total_usec": _usec(st.total),
        "target": st.target,
        "target_reached_usec": _usec(st.target_reached),
        "text": st.text,
    }


def _unit_json(t: UnitTime) -> dict[str, Any]:
    return {
        "unit": t.unit,
        "time_usec": _usec(t.time),
        "activating_usec": _usec(t.activating),
        "activated_usec": _usec(t.activated),
        "deactivating_usec": _usec(t.deactivating),
        "deactivated_usec": _usec(t.deactivated),
    }


def _node_json(node: ChainNode) -> dict[str, Any]:
    return {
        "unit": node.unit,
        "at_usec": _usec(node.at),
        "took_usec": _usec(node.took),
        "timed": node.timed,
        "repeated": node.repeated,
        "children": [_node_json(c) for c in node.children],
    }


def _time(args: argparse.Namespace) -> int:
    from .. import analyze

    with _connect(args) as sd:
        st = analyze.startup_time(sd)
    if args.json:
        print(json.dumps(_startup_json(st), indent=2))
    else:
        print(st.text)
    return 0


def _blame(args: argparse.Namespace) -> int:
    from .. import analyze
    from .._core.analyze import UnitTimes, blame_lines

    with _connect(args) as sd:
        times = analyze.blame(sd)
    if args.json:
        print(json.dumps([_unit_json(t) for t in times], indent=2))
        return 0
    ellipsis = _glyphs().ellipsis
    tty = _isatty(sys.stdout)
    paged = open_pager(args)
    width = _terminal_columns() if tty and not paged else None
    rows = [UnitTimes(t.unit, 1, 0, 0, 0, t.time // _US) for t in times]
    for line in blame_lines(rows, width=width, ellipsis=ellipsis):
        print(line)
    return 0


def _critical_chain(args: argparse.Namespace) -> int:
    from .. import analyze
    from .._core.analyze import CHAIN_HEADER, chain_lines
    from .._core.timespan import parse_usec
    from ..errors import InvalidTimespanError

    try:
        fuzz = parse_usec(args.fuzz) if args.fuzz is not None else 0
    except InvalidTimespanError as exc:
        print_error(f"Failed to parse --fuzz= value: {exc}", prefix="")
        return USAGE_ERROR
    with _connect(args) as sd:
        roots = analyze.critical_chain(sd, args.units or None, fuzz=timedelta(microseconds=fuzz))
    if args.json:
        print(json.dumps([_node_json(r) for r in roots], indent=2))
        return 0
    color = colors_enabled()
    g = _glyphs()
    open_pager(args)
    lines = chain_lines(
        roots,
        tree=(g.tree_branch, g.tree_right, g.tree_vertical, g.tree_space),
        red=_RED if color else "",
        normal=_NORMAL if color else "",
    )
    sys.stdout.write(CHAIN_HEADER + "\n")
    for line in lines:
        print(line)
    return 0


def _plot(args: argparse.Namespace) -> int:
    from .. import analyze

    if args.unit:
        # the state history: input checked before connecting (typed errors, exit 1)
        from .._sync.analyze import _history_names, _history_since

        _history_names(args.unit)
        _history_since(args.since)
        with _connect(args) as sd:
            svg = analyze.plot(sd, units=args.unit, since=args.since)
        if args.json:
            print(json.dumps({"units": _history_names(args.unit), "svg": svg}, indent=2))
        else:
            sys.stdout.write(svg)
        return 0
    with _connect(args, full_bus=True) as sd:
        if args.json:
            from .._core.analyze import unit_time
            from .._core.analyze_plot import plot_units
            from .._sync.analyze import boot_timestamps, unit_timestamps

            boot = boot_timestamps(sd)
            st = analyze.startup_time(sd)
            units = plot_units(unit_timestamps(sd, boot), boot)
            svg = analyze.plot(sd)
            print(
                json.dumps(
                    {
                        "startup": _startup_json(st),
                        "units": [_unit_json(unit_time(t)) for t in units],
                        "svg": svg,
                    },
                    indent=2,
                )
            )
            return 0
        svg = analyze.plot(sd)
    sys.stdout.write(svg)
    return 0


def _glyphs() -> Any:
    """systemd's glyphs for this locale (``is_locale_utf8()``): ASCII when the locale
    variable that decides is set to a locale that is not UTF-8 (``LANG=C`` too, where
    Python itself would coerce to UTF-8), UTF-8 when none is set."""
    from ._render import ASCII, UNICODE

    env = os.environ
    # Python's own locale coercion (PEP 538) puts LC_CTYPE=C.UTF-8 into the environment
    # for LANG=C: systemd sees the C locale
    coerced = env.get("LC_CTYPE") in (None, "", "C.UTF-8")
    if not env.get("LC_ALL") and env.get("LANG") in ("C", "POSIX") and coerced:
        return ASCII
    for name in ("LC_ALL", "LC_CTYPE", "LANG"):
        value = os.environ.get(name)
        if value:
            flat = value.lower().replace("-", "")
            return UNICODE if flat.endswith("utf8") or ".utf8@" in flat else ASCII
    return UNICODE


def _emoji(utf8: bool) -> bool:
    """systemd's ``emoji_enabled()``: ``$SYSTEMD_EMOJI`` when set, else not on a dumb or
    Linux console terminal (or without ``$TERM``), else in a UTF-8 locale."""
    forced = os.environ.get("SYSTEMD_EMOJI", "").strip().lower()
    if forced in ("1", "yes", "y", "true", "t", "on"):
        return True
    if forced in ("0", "no", "n", "false", "f", "off"):
        return False
    if os.environ.get("TERM") in (None, "dumb", "linux"):
        return False
    return utf8


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _terminal_columns() -> int:
    from . import _columns

    return _columns()


def _not_finished(exc: Exception) -> int:
    """systemd-analyze's three lines for a manager still starting up; exit status 1."""
    user = bool(getattr(exc, "user", False))
    finish = getattr(exc, "finish_timestamp", 0)
    print_error(
        "Bootup is not yet finished "
        f"(org.freedesktop.systemd1.Manager.FinishTimestampMonotonic={finish}).\n"
        "Please try again later.\n"
        f"Hint: Use 'systemctl{' --user' if user else ''} list-jobs' to see active jobs",
        prefix="",
    )
    return 1


def _security(args: argparse.Namespace) -> int:
    from .. import analyze
    from .._core.analyze_security import (
        details_json,
        details_lines,
        overview_json,
        overview_lines,
        summary_line,
    )
    from ..errors import SysdError

    threshold = 100 if args.threshold is None else args.threshold
    color = colors_enabled()
    utf8 = _glyphs().ellipsis != "..."
    emoji = _emoji(utf8)
    open_pager(args)

    def compact(value: object) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    rc = 0
    with _connect(args) as sd:
        if not args.units:
            reports = analyze.security(sd)
            if args.json:
                print(compact(overview_json(reports, emoji=emoji)))
            else:
                for line in overview_lines(reports, color=color, emoji=emoji):
                    print(line)
            return 1 if any(r.exposure_tenths > threshold for r in reports) else 0
        from .._async.analyze import _service_name

        names = []
        for unit in args.units:  # all names are checked before anything is analyzed
            try:
                names.append(_service_name(unit))
            except SysdError as exc:
                print_error(exc.text, prefix="")
                return 1
        shown = []
        for i, name in enumerate(names):
            if i:
                print()
            try:
                (report,) = analyze.security(sd, name)
            except SysdError as exc:
                print_error(getattr(exc, "message", None) or exc.text, prefix="")
                rc = 1
                continue
            if args.json:
                print(compact(details_json(report)))
            else:
                for line in details_lines(report, utf8=utf8, color=color):
                    print(line)
                print()
                print(summary_line(report, utf8=utf8, color=color, emoji=emoji))
            shown.append(report)
            if report.exposure_tenths > threshold:
                rc = 1
        if len(names) > 1:
            print()
            if args.json:
                print(compact(overview_json(shown, emoji=emoji)))
            else:
                for line in overview_lines(shown, color=color, emoji=emoji):
                    print(line)
    return rc


def _threshold(text: str) -> int:
    if not text.isdigit() or int(text) > 100:
        raise argparse.ArgumentTypeError(f"Failed to parse threshold: {text}")
    return int(text)


_RUN = {
    "time": _time,
    "blame": _blame,
    "critical-chain": _critical_chain,
    "plot": _plot,
    "security": _security,
}


def _analyze(args: argparse.Namespace) -> int:
    from ..errors import BootNotFinishedError

    verb = args.what or "time"
    if verb not in _RUN:
        print_error(f"Unknown command verb {verb}.", prefix="")
        return USAGE_ERROR
    if args.units and verb not in ("critical-chain", "security"):
        print_error("Too many arguments.", prefix="")
        return USAGE_ERROR
    if args.fuzz is not None and verb != "critical-chain":
        print_error("Option --fuzz= is only used by critical-chain.", prefix="")
        return USAGE_ERROR
    if (args.unit or args.since is not None) and verb != "plot":
        print_error("Options --unit= and --since= are only used by plot.", prefix="")
        return USAGE_ERROR
    if args.since is not None and not args.unit:
        print_error("Option --since= needs --unit=.", prefix="")
        return USAGE_ERROR
    if args.threshold is not None and verb != "security":
        print_error("Option --threshold= is only supported for security right now.", prefix="")
        return USAGE_ERROR
    try:
        return _RUN[verb](args)
    except BootNotFinishedError as exc:
        return _not_finished(exc)


def add_parsers(sub: Any) -> None:
    p = sub.add_parser(
        "analyze",
        help="boot analysis: time, blame, critical-chain, plot (systemd-analyze)",
        description="Where the boot's time went, as systemd-analyze shows it. "
        "VERB: time (default), blame, critical-chain [UNIT...], plot (SVG on stdout; "
        "with --unit NAME... [--since=TIME] the units' state history), "
        "security [UNIT...].",
    )
    p.add_argument("what", nargs="?", metavar="VERB", help=", ".join(VERBS))
    p.add_argument("units", nargs="*", metavar="UNIT", help="critical-chain, security: units")
    p.add_argument(
        "--fuzz",
        metavar="SEC",
        help="critical-chain: also follow units that finished up to SEC earlier",
    )
    p.add_argument(
        "--threshold",
        type=_threshold,
        metavar="N",
        help="security: exit 1 when a service's exposure is above N (0..100, tenths)",
    )
    p.add_argument(
        "--unit",
        action="append",
        metavar="NAME",
        help="plot: the state history of this unit instead of the boot (repeatable)",
    )
    p.add_argument(
        "--since",
        metavar="TIME",
        help='plot --unit: from TIME, as journalctl takes it ("-1h"; default: this boot)',
    )
    add_connection_options(p)
    p.set_defaults(func=_analyze)
    if isinstance(p, argparse.ArgumentParser):
        # options anywhere, as systemd-analyze's getopt takes them: `critical-chain
        # --fuzz 1s UNIT` (argparse alone stops taking positionals after an option)
        p.parse_args = p.parse_intermixed_args  # type: ignore[method-assign]
