"""``sysd -H LIST VERB ...``: the verbs over many hosts at once (docs/fleet.md).

``-H`` takes a comma-separated list (``web1,web[2-4]``), ``@hosts.txt`` or an Ansible
inventory (``inventory.ini[:pattern]``); with more than one host, ``sysd`` comes
here instead of the single-host verbs (``sysd.cli._fleet_words``)::

    sysd -H @hosts is-active nginx          one line per distinct answer: web[1-3,7]: active
    sysd -H @hosts status nginx             the same with the state and sub-state
    sysd -H @hosts restart nginx --rolling --batch 2 --settle 5s --max-failures 1
    sysd -H @hosts logs -u nginx -n 20      the hosts' entries merged by time, host first

``--json`` prints each host's answer.  The exit status is the worst of the hosts, in
systemctl's codes (0 < 3 inactive < 4, 5, 6 no such unit... < 1 error, unreachable, failed).
On a terminal, a progress line on stderr says how many hosts are done, failed, pending.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from .._core.hostrange import fold
from . import USAGE_ERROR, UsageError, _parser_class, error_text, print_error

if TYPE_CHECKING:
    from .._core.fleet import FleetResult
    from .._sync.fleet import Fleet

__all__ = ["main"]

JOB_VERBS = ("start", "stop", "restart", "reload", "try-restart", "reload-or-restart")
VERBS = ("is-active", "is-failed", "status", "logs", *JOB_VERBS)
# worst last: an error (1: unreachable, failed) says nothing about the unit
_RANK = {0: 0, 3: 1, 4: 2, 5: 2, 6: 2, 1: 3}


def worst(codes: Sequence[int]) -> int:
    """The worst exit status of the hosts (0 for none)."""
    return max(codes, key=lambda c: _RANK.get(c, 3), default=0)


def _parser() -> argparse.ArgumentParser:
    parser = _parser_class()(prog="sysd", description="a verb over many hosts (-H LIST)")
    parser.add_argument("verb", choices=VERBS)
    parser.add_argument("units", nargs="*", metavar="UNIT")
    parser.add_argument("-H", "--host", required=True, help="hosts: a,b / @file / inv.ini:pat")
    parser.add_argument("--user", action="store_true", help="the users' managers")
    parser.add_argument("--system", action="store_true", help="the system managers (default)")
    parser.add_argument("--sudo", action="store_true", help="run the bridge through sudo -n")
    parser.add_argument("--ssh-config", metavar="FILE", help="ssh -F FILE")
    parser.add_argument("--timeout", type=float, default=25.0, metavar="SEC")
    parser.add_argument("--concurrency", type=int, default=64, metavar="N")
    parser.add_argument("--json", action="store_true", help="each host's answer")
    parser.add_argument("-q", "--quiet", action="store_true")
    parser.add_argument("--no-pager", action="store_true", help="(accepted; never pages)")
    parser.add_argument("--no-ask-password", action="store_true", help="(accepted)")
    # logs
    parser.add_argument("-u", "--unit", action="append", default=[], help="logs: the unit")
    parser.add_argument("-n", "--lines", type=int, default=10, help="logs: entries per host")
    # rolling
    parser.add_argument("--rolling", action="store_true", help="batch by batch, settled")
    parser.add_argument("--batch", default="1", help="hosts per batch: N or N%% (default 1)")
    parser.add_argument("--settle", default="5s", help="watch each started unit (default 5s)")
    parser.add_argument("--max-failures", default="0", help="failed hosts tolerated: N or N%%")
    parser.add_argument("--pause", default=None, help="wait between batches")
    return parser


class Progress:
    """``3/10 done, 1 failed, 6 pending`` on stderr, rewritten in place; on a terminal only."""

    def __init__(self, total: int, stream: Any = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.total = total
        self.done = self.failed = 0
        self.lock = threading.Lock()
        try:
            self.enabled = bool(self.stream.isatty())
        except (AttributeError, ValueError):
            self.enabled = False

    def __call__(self, host: str, ok: bool) -> None:
        with self.lock:
            self.done += 1
            self.failed += not ok
            if self.enabled:
                pending = self.total - self.done
                self.stream.write(
                    f"\r\x1b[K{self.done}/{self.total} done, {self.failed} failed, "
                    f"{pending} pending"
                )
                self.stream.flush()

    def clear(self) -> None:
        with self.lock:
            if self.enabled and self.done:
                self.stream.write("\r\x1b[K")
                self.stream.flush()


def main(words: Sequence[str]) -> int:
    """Run a fleet command line; the exit status."""
    from .._sync.fleet import Fleet

    try:
        args = _parser().parse_intermixed_args(list(words))
        _check(args)
    except UsageError as exc:
        print_error(str(exc), prefix="")
        return USAGE_ERROR
    from ..errors import SysdError

    try:
        fleet = Fleet(
            args.host,
            concurrency=args.concurrency,
            timeout=args.timeout,
            user=args.user,
            sudo=args.sudo,
            ssh_config=args.ssh_config,
        )
    except SysdError as exc:
        print_error(error_text(exc))
        return USAGE_ERROR
    progress = Progress(len(fleet.hosts))
    fleet.progress = progress
    try:
        with fleet:
            return _run(fleet, args, progress)
    except SysdError as exc:
        progress.clear()
        print_error(error_text(exc))
        return 1
    except KeyboardInterrupt:
        progress.clear()
        return 130


def _check(args: argparse.Namespace) -> None:
    if args.verb == "logs":
        if args.units:
            raise UsageError("sysd logs: name the unit with -u UNIT")
        if not args.unit:
            raise UsageError("sysd logs -H LIST: name a unit with -u UNIT")
    elif not args.units:
        raise UsageError(f"sysd {args.verb}: needs a unit name")
    if args.rolling and args.verb not in JOB_VERBS:
        raise UsageError(f"sysd {args.verb}: --rolling is for {', '.join(JOB_VERBS)}")
    if args.rolling and len(args.units) != 1:
        raise UsageError("sysd --rolling: one unit at a time")


def _run(fleet: Fleet, args: argparse.Namespace, progress: Progress) -> int:
    if args.verb == "logs":
        return _logs(fleet, args, progress)
    if args.rolling:
        return _rolling(fleet, args, progress)
    codes: list[int] = []
    out: dict[str, Any] = {}
    for unit in args.units:
        progress.done = progress.failed = 0
        if args.verb in ("is-active", "is-failed"):
            result: FleetResult[Any] = fleet.active_state(unit)
            code = _state_code(args.verb)
            text: Callable[[Any], str] = str
        elif args.verb == "status":
            result = fleet.status(unit)
            code = _status_code
            text = _status_text
        else:
            result = getattr(fleet, args.verb.replace("-", "_"))(unit)
            code = _job_code
            text = str
        progress.clear()
        codes += [
            _error_code(v) if isinstance(v, Exception) else code(v) for _, v in result.items()
        ]
        if args.json:
            out[unit] = {h: _json(v) for h, v in result.items()}
        elif not args.quiet or args.verb not in ("is-active", "is-failed"):
            _print_groups(result, text, unit if len(args.units) > 1 else None)
    if args.json:
        print(json.dumps(out if len(args.units) > 1 else out[args.units[0]], indent=2))
    return worst(codes)


def _state_code(verb: str) -> Callable[[str], int]:
    if verb == "is-active":
        return lambda state: 0 if state in ("active", "reloading") else 3
    return lambda state: 0 if state == "failed" else 1


def _status_code(status: Any) -> int:
    if status.load_state == "not-found":
        return 4
    return 0 if status.active_state in ("active", "reloading") else 3


def _status_text(status: Any) -> str:
    text = f"{status.active_state} ({status.sub_state})"
    if status.load_state != "loaded":
        text = f"{status.load_state}, {text}"
    return text


def _job_code(result: str) -> int:
    return 0 if result == "done" else 1


def _error_code(error: Exception) -> int:
    from ..errors import DBusError

    if isinstance(error, DBusError):  # as systemctl's translate_bus_error_to_exit_status()
        from .control import _EXIT_FOR_ERROR

        return _EXIT_FOR_ERROR.get(error.name, 1)
    return 1


def _error_line(error: Exception) -> str:
    return f"error: {error_text(error)}"


def _print_groups(result: FleetResult[Any], text: Callable[[Any], str], unit: str | None) -> None:
    from .._core.fleet import FleetResult

    head = f"{unit} " if unit else ""
    shown_as = FleetResult(
        {h: v if isinstance(v, Exception) else text(v) for h, v in result.items()}
    )
    for value, hosts in shown_as.by_value():
        shown = _error_line(value) if isinstance(value, Exception) else str(value)
        line = f"{head}{fold(hosts)}: {shown}"
        stream = sys.stderr if isinstance(value, Exception) else sys.stdout
        print(line, file=stream)


def _json(value: Any) -> Any:
    if isinstance(value, Exception):
        return {"error": {"type": type(value).__name__, "message": error_text(value)}}
    if hasattr(value, "active_state") and hasattr(value, "sub_state"):
        return {
            "load_state": value.load_state,
            "active_state": value.active_state,
            "sub_state": value.sub_state,
        }
    return value


def _rolling(fleet: Fleet, args: argparse.Namespace, progress: Progress) -> int:
    batch: Any = args.batch
    report = fleet.rolling(
        args.verb,
        args.units[0],
        batch=batch,
        settle=args.settle,
        max_failures=args.max_failures,
        pause=args.pause,
    )
    progress.clear()
    if args.json:
        out = {h: _json(v) for h, v in report.items()}
        out.update({h: "skipped" for h in report.skipped})
        print(json.dumps({"unit": report.unit, "hosts": out, "stopped": report.stopped}, indent=2))
    else:
        for i, hosts in enumerate(report.batches, 1):
            done = [h for h in hosts if h in report.ok]
            print(f"batch {i}/{len(report.batches) + bool(report.skipped)}: {fold(hosts)}"
                  + (f": {fold(done)} {args.verb} done" if done else ""))  # fmt: skip
        for host, error in report.failed.items():
            print_error(f"{host}: {error_text(error)}")
            rep = report.reports.get(host)
            if rep is not None:
                sys.stdout.write(_indent(rep.render()))
        if report.skipped:
            print(
                f"stopped after {len(report.failed)} failed host(s) (limit {report.limit}): "
                f"skipped {fold(report.skipped)}"
            )
    codes = [_error_code(v) if isinstance(v, Exception) else 0 for _, v in report.items()]
    return worst(codes + [1] * bool(report.skipped))


def _indent(text: str) -> str:
    return "".join(f"    {line}\n" for line in text.splitlines())


def _logs(fleet: Fleet, args: argparse.Namespace, progress: Progress) -> int:
    from ..journal._format import Formatter

    logs = fleet.logs(args.unit[0], lines=args.lines)
    progress.clear()
    codes = [_error_code(v) if isinstance(v, Exception) else 0 for _, v in logs.items()]
    for host, error in logs.failed.items():
        print_error(f"{host}: {error_text(error)}")
    out = sys.stdout.buffer
    if args.json:  # journalctl -o json's object, with the host it came from
        as_json = Formatter("json")
        for host, entry in logs.merged():
            record = json.loads(as_json(entry))
            record["_SYSD_HOST"] = host
            out.write(json.dumps(record).encode() + b"\n")
    else:
        formatter = Formatter("short", full=True, no_hostname=True)
        width = max((len(h) for h in logs.ok), default=0)
        for host, entry in logs.merged():
            out.write(f"{host:<{width}} ".encode() + formatter(entry))
    out.flush()
    return worst(codes)
