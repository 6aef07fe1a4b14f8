"""``sysd sandbox``: run a command against a throwaway real systemd.

``sysd sandbox run [--bind PATH]... [--as-unit|--no-unit] [--user] -- CMD...``
boots a sandbox (see :mod:`sysd.sandbox`), runs CMD inside — by default as a
transient unit with the current directory as WorkingDirectory= and the current
directory bound in read-write, so what CMD writes there survives, and a relative
CMD (``./script.sh``) is found there — passes its exit status through and tears
the sandbox down.  ``sysd sandbox shell`` opens an interactive shell inside (not a
login shell: PATH stays, so ``sysd`` and the virtualenv are found); ``sysd sandbox
check`` says whether this host can boot one at all; ``sysd sandbox cleanup``
removes sandboxes whose process was killed.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from ..errors import SandboxError
from ..sandbox._nspawn import auto_binds, ensure_std_fds, runtime_binds, sigterm_as_exit
from . import print_error

if TYPE_CHECKING:
    from ..sandbox import Sandbox

__all__ = ["add_parsers"]


def _command(args: argparse.Namespace, parser: argparse.ArgumentParser) -> list[str]:
    cmd: list[str] = list(args.cmd)
    if cmd and cmd[0] == "--":
        cmd = cmd[1:]
    if not cmd:
        parser.error("a command is required: sysd sandbox run -- CMD [ARG...]")
    return cmd


def _binds(args: argparse.Namespace, cwd: str) -> list[str | tuple[str, str]]:
    binds: list[str | tuple[str, str]] = []
    for spec in args.bind:
        src, sep, dst = spec.partition(":")
        binds.append((src, dst) if sep else src)
    if args.bind_cwd:
        binds.extend(auto_binds(cwd))
    # the venv (and sysd) this command runs from, so that `sysd` works inside too
    binds.extend(p for p in runtime_binds() if not _covered(p, binds))
    return binds


def _covered(path: str, binds: list[str | tuple[str, str]]) -> bool:
    """Whether ``path`` is already visible inside through one of ``binds``."""
    for bind in binds:
        src = bind[0] if isinstance(bind, tuple) else bind
        dst = bind[1] if isinstance(bind, tuple) else bind
        if src == dst and (path == src or path.startswith(src.rstrip("/") + "/")):
            return True
    return False


def _env(args: argparse.Namespace, parser: argparse.ArgumentParser) -> dict[str, str]:
    env: dict[str, str] = {}
    for item in args.setenv:
        name, sep, value = item.partition("=")
        if not name:
            parser.error(f"bad -E/--setenv {item!r}: use NAME=VALUE or NAME")
        env[name] = value if sep else os.environ.get(name, "")
    return env


def _visible(sb: Sandbox, path: str) -> bool:
    """Whether directory ``path`` exists inside (in the container's mounts: a host
    directory under /tmp is hidden by the container's own /tmp unless bound)."""
    return os.path.isdir(f"/proc/{sb.leader_pid}/root{path}")


def _run(args: argparse.Namespace) -> int:
    from ..sandbox import Sandbox

    parser: argparse.ArgumentParser = args.parser
    cmd = _command(args, parser)
    env = _env(args, parser)
    ensure_std_fds()
    cwd = os.getcwd()
    with sigterm_as_exit():
        sb = Sandbox(binds=_binds(args, cwd), boot_timeout=args.boot_timeout)
        with sb:
            if args.verbose:
                print(
                    f"sysd sandbox: {sb.name} {sb.boot_state} after {sb.boot_seconds or 0:.2f} s; "
                    f"bus {sb.bus_address}",
                    file=sys.stderr,
                )
            user = sb.test_user.name if args.user else None
            if not _visible(sb, cwd):
                if "/" in cmd[0] and not cmd[0].startswith("/"):
                    print_error(
                        f"sysd sandbox: {cmd[0]} is relative to {cwd}, which is not in the "
                        "sandbox (it is not bound: drop --no-bind-cwd, or --bind it)",
                        prefix="",
                    )
                    return 2
                print(f"sysd sandbox: {cwd} is not in the sandbox: running in /", file=sys.stderr)
                cwd = "/"
            if args.unit:
                return sb.run_unit(cmd, cwd=cwd, env=env, user=user)
            return sb.exec(cmd, cwd=cwd, env=env, user=user).returncode


def _shell(args: argparse.Namespace) -> int:
    from ..sandbox import Sandbox

    cwd = os.getcwd()
    with sigterm_as_exit(), Sandbox(binds=_binds(args, cwd), boot_timeout=args.boot_timeout) as sb:
        print(
            f"sysd sandbox: {sb.name} is {sb.boot_state}; exit the shell to throw it away "
            f"(user {sb.test_user.name}, uid {sb.test_user.uid})",
            file=sys.stderr,
        )
        user = sb.test_user.name if args.user else None
        return sb.shell(user=user, cwd=cwd if _visible(sb, cwd) else None)


def _check(args: argparse.Namespace) -> int:
    from ..sandbox import booted, check, inside

    try:
        check(install=args.install)
    except SandboxError as exc:
        print_error(f"sysd sandbox: {exc}", prefix="")
        return 1
    where = (
        "inside a sysd sandbox"
        if inside()
        else ("booted with systemd" if booted() else "not booted with systemd")
    )
    print(f"sysd sandbox: this host can boot sandboxes ({where})")
    return 0


def _cleanup(args: argparse.Namespace) -> int:
    from ..sandbox import cleanup_stale

    for path in cleanup_stale(args.base_dir):
        print(f"sysd sandbox: removed {path}")
    return 0


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--bind",
        action="append",
        default=[],
        metavar="PATH[:DEST]",
        help="bind a host directory read-write into the sandbox (repeatable)",
    )
    p.add_argument(
        "--no-bind-cwd",
        dest="bind_cwd",
        action="store_false",
        help="do not bind the current directory in (writes there then vanish)",
    )
    p.add_argument(
        "--user",
        action="store_true",
        help="run as the sandbox's unprivileged test user (tester) instead of root",
    )
    p.add_argument(
        "--boot-timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="give up when the sandbox is not running after this long (default 60)",
    )


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``sysd sandbox {run,shell,check}``."""
    top = sub.add_parser(
        "sandbox",
        help="run commands against a throwaway real systemd (needs root)",
        description="Boot this machine's own / in a container with systemd-nspawn over a "
        "tmpfs overlay (every write outside bound directories vanishes), use it, throw it away.",
    )
    verbs = top.add_subparsers(dest="sandbox_verb", metavar="ACTION")
    verbs.required = True

    run = verbs.add_parser(
        "run",
        help="boot a sandbox, run CMD inside, pass its exit status through",
        description="Boot a sandbox, run CMD inside (by default as a transient unit via "
        "systemd-run --wait --pipe, in the current directory, which is bound in), pass its "
        "exit status through, and tear the sandbox down.",
    )
    _common(run)
    mode = run.add_mutually_exclusive_group()
    mode.add_argument(
        "--as-unit",
        dest="unit",
        action="store_true",
        default=True,
        help="run CMD as a transient service unit (default)",
    )
    mode.add_argument(
        "--no-unit",
        dest="unit",
        action="store_false",
        help="run CMD directly with nsenter, outside any unit",
    )
    run.add_argument(
        "-E",
        "--setenv",
        action="append",
        default=[],
        metavar="NAME[=VALUE]",
        help="set an environment variable for CMD (repeatable)",
    )
    run.add_argument("-v", "--verbose", action="store_true", help="say when the sandbox is up")
    run.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD [ARG...]")
    run.set_defaults(func=_run, parser=run)

    shell = verbs.add_parser(
        "shell",
        help="boot a sandbox and open an interactive shell inside",
        description="Boot a sandbox and open an interactive shell inside, in the current "
        "directory, with your environment (PATH included: not a login shell); the sandbox "
        "is thrown away when the shell exits.",
    )
    _common(shell)
    shell.set_defaults(func=_shell)

    check = verbs.add_parser(
        "check",
        help="say whether this host can boot a sandbox, and what it lacks",
    )
    check.add_argument(
        "--install",
        action="store_true",
        help="install systemd-nspawn with apt-get when it is missing",
    )
    check.set_defaults(func=_check)

    cleanup = verbs.add_parser(
        "cleanup",
        help="unmount and remove sandboxes left by processes that were killed (SIGKILL)",
    )
    cleanup.add_argument(
        "--base-dir",
        default="/tmp",
        metavar="DIR",
        help="where the sandboxes' directories are (default /tmp)",
    )
    cleanup.set_defaults(func=_cleanup)
