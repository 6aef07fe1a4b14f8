"""``sysd run``: systemd-run, over the library's ``run()``.

``sysd run [OPTIONS] [--] CMD [ARGS...]`` starts ``CMD`` in a transient service
(``--scope``: a scope around a process sysd forks; ``--on-*``/``--*-property``: a
timer, socket or path unit that starts it later), with systemd-run's options,
messages and exit status: with ``--wait``, ``--pipe`` or ``--pty`` the command's
exit status is sysd's (0 for success, the exit code, 255 for a signal, 1 otherwise).
Bad options exit 2 before anything connects.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from .._core import unitname
from .._core.convert import to_json
from .._core.run import RunResult, validate
from .._core.timespan import format_usec
from .._sync.run import RunningUnit, TriggerHandle, run
from ..errors import (
    InvalidCalendarSpecError,
    InvalidPropertyError,
    InvalidTimespanError,
    InvalidUnitNameError,
)
from ..errors import SysdError as _SysdError
from ._render import format_bytes, signal_name
from .basic import add_connection_options, connect

__all__ = ["add_parsers"]

_TIMER_OPTIONS = (
    ("on_active", "OnActiveSec"),
    ("on_boot", "OnBootSec"),
    ("on_startup", "OnStartupSec"),
    ("on_unit_active", "OnUnitActiveSec"),
    ("on_unit_inactive", "OnUnitInactiveSec"),
)


def _log(args: argparse.Namespace, text: str) -> None:
    if not args.quiet:
        print(text, file=sys.stderr, flush=True)


def _environment(items: Sequence[str] | None) -> dict[str, str]:
    """``-E NAME=VALUE``; ``-E NAME`` passes our value through (when we have one)."""
    env: dict[str, str] = {}
    for item in items or ():
        name, eq, value = item.partition("=")
        if eq:
            env[name] = value
        elif name in os.environ:
            env[name] = os.environ[name]
    return env


def _unit_name(args: argparse.Namespace, trigger: bool) -> str | None:
    """The name as systemd-run mangles ``-u`` (escaping instead of refusing)."""
    if args.unit is None:
        return None
    if trigger:
        kinds = unitname.NameKind.PLAIN | unitname.NameKind.INSTANCE
        if unitname.is_valid(args.unit, kinds):
            return str(args.unit)
        return unitname.mangle(args.unit, ".service")
    return unitname.mangle(args.unit, ".scope" if args.scope else ".service")


def _stdio_mode(args: argparse.Namespace) -> str | None:
    """systemd-run's ARG_STDIO_*: ``pty``, ``pipe`` or None (``-t -P``: pty on a tty)."""
    if args.pty and args.pipe:
        ttys = all(os.isatty(fd) for fd in (0, 1, 2))
        return "pty" if ttys else "pipe"
    if args.pty:
        return "pty"
    if args.pipe:
        return "pipe"
    return None


def _options(args: argparse.Namespace, stdio: str | None) -> dict[str, Any]:
    trigger = bool(
        args.socket_property
        or args.path_property
        or args.timer_property
        or args.on_calendar
        or args.on_clock_change
        or args.on_timezone_change
        or any(getattr(args, o) for o, _ in _TIMER_OPTIONS)
    )
    timer_props = list(args.timer_property or [])
    if args.on_clock_change:
        timer_props.append("OnClockChange=yes")
    if args.on_timezone_change:
        timer_props.append("OnTimezoneChange=yes")
    cwd = args.working_directory
    if cwd is not None and not cwd.startswith(("/", "~")):
        cwd = os.path.abspath(cwd)  # parse_path_argument(): relative to ours
    opts: dict[str, Any] = dict(
        name=_unit_name(args, trigger),
        description=args.description,
        slice=args.slice,
        scope=args.scope,
        user=args.uid,
        group=args.gid,
        nice=args.nice,
        cwd=cwd,
        env=_environment(args.setenv),
        service_type=args.service_type,
        properties=args.property or None,
        remain_after_exit=args.remain_after_exit,
        collect=args.collect,
        send_sighup=args.send_sighup,
        pty=stdio == "pty",
        on_calendar=args.on_calendar or None,
        timer_properties=timer_props or None,
        socket_properties=args.socket_property or None,
        path_properties=args.path_property or None,
    )
    for option, _prop in _TIMER_OPTIONS:
        values = getattr(args, option)
        if values:
            # several --on-active=: systemd-run sends them all; run() takes one each
            opts[option] = values[0]
            if len(values) > 1:
                extra = [f"{_prop}={v}" for v in values[1:]]
                opts["timer_properties"] = [*(opts["timer_properties"] or []), *extra]
    return opts


def _check(
    args: argparse.Namespace, parser: argparse.ArgumentParser
) -> tuple[str | None, dict[str, Any]]:
    """Everything systemd-run's parse_argv() refuses: exit 2 before connecting."""
    if args.command and args.command[0] == "--":
        args.command = args.command[1:]
    stdio = _stdio_mode(args)
    if args.shell:
        if args.command:
            parser.error("if --shell is used, no command line is expected")
        args.command = [os.environ.get("SHELL") or "/bin/sh"]
        if not args.scope:
            if stdio is None:
                stdio = "pty" if all(os.isatty(fd) for fd in (0, 1, 2)) else "pipe"
            args.working_directory = args.working_directory or os.getcwd()
            args.service_type = args.service_type or "exec"
            args.wait = True
        args.collect = True
    if args.same_dir:
        here = os.getcwd()
        args.working_directory = None if here == "/" else here
    if not args.command:
        parser.error("command line to execute required")
    try:
        opts = _options(args, stdio)
        validate(
            args.command,
            stdio=stdio is not None,
            wait=args.wait,
            **{k: v for k, v in opts.items() if k != "pty"},
            pty=stdio == "pty",
        )
    except (
        InvalidUnitNameError,
        InvalidPropertyError,
        InvalidTimespanError,
        InvalidCalendarSpecError,
        ValueError,
    ) as exc:
        parser.error(str(exc))
    if args.scope and (args.host or args.machine):
        parser.error("scope execution is not supported on remote systems")
    if stdio and args.host:
        parser.error("--pty/--pipe is only supported when connecting to the local system")
    return stdio, opts


def _summary(args: argparse.Namespace, result: RunResult) -> None:
    """What systemd-run prints after --wait (stderr)."""
    if args.quiet or not args.wait:
        return
    if result.result:
        _log(args, f"Finished with result: {result.result}")
    if result.exit_code is not None:
        _log(args, f"Main processes terminated with: code=exited/status={result.exit_code}")
    elif result.exit_signal is not None:
        code = "dumped" if result.result == "core-dump" else "killed"
        name = signal_name(result.exit_signal)
        _log(args, f"Main processes terminated with: code={code}/status={name}")
    runtime = result.runtime
    if runtime is not None and runtime.total_seconds() > 0:
        usec = runtime // _USEC
        _log(args, f"Service runtime: {format_usec(usec, 1000)}")
    if result.cpu_usage is not None:
        _log(args, f"CPU time consumed: {format_usec(result.cpu_usage // _USEC, 1000)}")
    for label, value in (
        ("IP traffic received", result.ip_ingress_bytes),
        ("IP traffic sent", result.ip_egress_bytes),
        ("IO bytes read", result.io_read_bytes),
        ("IO bytes written", result.io_write_bytes),
    ):
        text = format_bytes(value)
        if text is not None:
            _log(args, f"{label}: {text}")


def _result_json(result: RunResult) -> dict[str, Any]:
    out = {
        name: to_json(getattr(result, name))
        for name in (
            "unit",
            "invocation_id",
            "result",
            "exit_code",
            "exit_signal",
            "started_at",
            "exited_at",
            "main_pid",
            "cpu_usage",
            "memory_peak",
            "io_read_bytes",
            "io_write_bytes",
            "ip_ingress_bytes",
            "ip_egress_bytes",
        )
    }
    out["exit_status"] = result.exit_status
    return out


def _run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    stdio, opts = _check(args, parser)
    with connect(args) as sd:
        if stdio == "pipe":
            opts.update(stdin=0, stdout=1, stderr=2)
        if args.scope:
            # systemd-run execs the command once the scope is there; sysd forks it
            scope: RunningUnit = run(sd, args.command, wait=False, **opts)
            with scope:
                _log(args, f"Running scope as unit: {scope.unit}")
                result = scope.wait()
            _emit_json(args, _result_json(result))
            if result.exit_signal is not None:
                return 128 + result.exit_signal  # what a shell reports for the exec'd command
            return result.exit_code or 0
        handle: RunningUnit = run(sd, args.command, wait=False, **opts)
        with handle:
            if isinstance(handle, TriggerHandle):
                _log(args, f"Running {handle.spec.trigger} as unit: {handle.unit}")
                _log(args, f"Will run service as unit: {handle.service}")
                out: dict[str, Any] = {"unit": handle.unit, "service": handle.service}
                if handle.next_elapse is not None:
                    out["next_elapse"] = to_json(handle.next_elapse)
                _emit_json(args, out)
                return 0
            _log(args, f"Running as unit: {handle.unit}")
            if not (args.wait or stdio):
                _emit_json(
                    args, {"unit": handle.unit, "invocation_id": to_json(handle.invocation_id)}
                )
                return 0
            if stdio == "pty":
                # the terminal is forwarded (raw) from the first wait() on, as systemd-run
                # forwards it once these lines are out
                _log(args, "Press ^] three times within 1s to disconnect TTY.")
            waited = _wait(args, handle)
            if waited is None:  # disconnected from the terminal, not waiting
                return 0
            result = waited
        if stdio == "pty" and not args.quiet:
            sys.stdout.flush()
        _summary(args, result)
        _emit_json(args, _result_json(result))
        return result.exit_status


def _wait(args: argparse.Namespace, handle: RunningUnit) -> RunResult | None:
    if args.wait:
        return handle.wait()
    while True:  # --pty/--pipe without --wait: ^] ^] ^] lets go of the unit
        try:
            return handle.wait(0.25)
        except _SysdError:
            if handle.disconnected:
                return None


def _emit_json(args: argparse.Namespace, value: dict[str, Any]) -> None:
    if args.json:
        print(json.dumps(value), flush=True)


_USEC = timedelta(microseconds=1)


def add_parsers(sub: Any) -> None:
    p = sub.add_parser(
        "run",
        help="run a command in a transient service, scope, or timer/socket/path (systemd-run)",
        description="Run a command in a transient service or scope, as systemd-run does.",
    )
    add_connection_options(p)
    g = p.add_argument_group("unit")
    g.add_argument("-u", "--unit", metavar="NAME", help="the unit's name (default: generated)")
    g.add_argument("--description", metavar="TEXT")
    g.add_argument("--slice", metavar="SLICE", help="run in this slice")
    g.add_argument("--scope", action="store_true", help="run as a scope rather than a service")
    g.add_argument(
        "-p", "--property", action="append", metavar="NAME=VALUE", help="a unit property"
    )
    g.add_argument("-r", "--remain-after-exit", action="store_true")
    g.add_argument("--service-type", metavar="TYPE", help="simple, exec, oneshot, ...")
    g.add_argument("--uid", metavar="USER", help="run as this user")
    g.add_argument("--gid", metavar="GROUP", help="run as this group")
    g.add_argument("--nice", type=int, metavar="NICE")
    g.add_argument("--working-directory", metavar="PATH")
    g.add_argument("-d", "--same-dir", action="store_true", help="our working directory")
    g.add_argument(
        "-E", "--setenv", action="append", metavar="NAME[=VALUE]", help="an environment variable"
    )
    g.add_argument("--send-sighup", action="store_true", help="send SIGHUP when terminating")
    g.add_argument(
        "-G", "--collect", action="store_true", help="unload the unit after it ran, even failed"
    )
    g = p.add_argument_group("running")
    g.add_argument("--wait", action="store_true", help="wait until the service stopped again")
    g.add_argument("-t", "--pty", "--tty", action="store_true", help="run on a pseudo terminal")
    g.add_argument("-P", "--pipe", action="store_true", help="pass our stdin/stdout/stderr")
    g.add_argument("-q", "--quiet", action="store_true", help="no informational messages")
    g.add_argument("-S", "--shell", action="store_true", help="run $SHELL interactively")
    g = p.add_argument_group("triggers")
    for option, _prop in _TIMER_OPTIONS:
        flag = "--" + option.replace("_", "-")
        g.add_argument(flag, dest=option, action="append", metavar="TIMESPAN")
    g.add_argument("--on-calendar", action="append", metavar="SPEC")
    g.add_argument("--on-clock-change", action="store_true")
    g.add_argument("--on-timezone-change", action="store_true")
    g.add_argument("--timer-property", action="append", metavar="NAME=VALUE")
    g.add_argument("--socket-property", action="append", metavar="NAME=VALUE")
    g.add_argument("--path-property", action="append", metavar="NAME=VALUE")
    p.add_argument("command", nargs=argparse.REMAINDER, metavar="-- CMD [ARG...]")
    p.set_defaults(func=lambda args: _run(args, p))
