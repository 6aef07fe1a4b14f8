"""ssh command lines, pure: host specs, the quoted remote command, what ssh's failures mean.

No I/O (tested with tables in tests/bus/test_ssh_spec.py); :mod:`sysd._bus.ssh` runs them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple, TypedDict

from ..errors import (
    HostAuthenticationError,
    HostKeyError,
    HostUnreachableError,
    InvalidHostError,
    RemoteBridgeMissingError,
    RemoteHostError,
    RemoteNotBootedError,
    SudoPasswordRequiredError,
)

BRIDGE = "systemd-stdio-bridge"
NOT_BOOTED = 97  # the guard's exit status when the host does not run systemd
# The remote command of a bridge: a constant guard (sysd's own text: nothing of the
# caller's is in it) that says so when the host was not booted with systemd (the bridge
# itself only logs to the journal), then execs the bridge, given as arguments ("$@").
# user=True: systemd 252's bridge ignores --user without --machine (it connects to the
# system bus), so the user bus is given explicitly from the remote login's environment
# (pam_systemd sets XDG_RUNTIME_DIR; else /run/user/UID, as later sd-bus versions do).
_GUARD = (
    "test -d /run/systemd/system || "
    "{ echo 'sysd: not booted with systemd (no /run/systemd/system)' >&2; exit 97; }; "
)
_USER_BUS = '"unix:path=${XDG_RUNTIME_DIR:-/run/user/$(id -u)}/bus"'


def bridge_command(
    *, user: bool = False, machine: str | None = None, sudo: bool = False
) -> tuple[str, ...]:
    """The remote argv running systemd-stdio-bridge for connect(host=...)."""
    if sudo and user:
        raise ValueError("sudo=True reaches the system manager: not with user=True")
    bridge = [BRIDGE]
    if machine is not None:
        bridge.append(f"--machine={machine}")
        if user:
            bridge.append("--user")
    elif user:
        script = _GUARD + f'exec "$@" --bus-path={_USER_BUS}'
        return ("sh", "-c", script, "sh", BRIDGE, "--user")
    if sudo:
        bridge[:0] = ["sudo", "-n", "--"]
    return ("sh", "-c", _GUARD + 'exec "$@"', "sh", *bridge)


# --------------------------------------------------------------------------- host specs

_NAME = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,252})")
_IPV6 = re.compile(r"[0-9A-Fa-f:.]{2,45}(?:%[A-Za-z0-9_.-]{1,32})?")
_USER = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@-]{0,63}")
_MACHINE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")
_BAD = re.compile(r"[\x00-\x20\x7f]")


class SshHost(NamedTuple):
    """A validated ssh destination: ``[user@]name[:port]``."""

    user: str | None
    name: str  # a host name, ssh_config alias, IPv4 or IPv6 address (no brackets)
    port: int | None = None

    @property
    def destination(self) -> str:
        """What ssh gets after ``--`` (the port goes in ``-p``)."""
        return f"{self.user}@{self.name}" if self.user else self.name

    def __str__(self) -> str:
        name = f"[{self.name}]" if ":" in self.name else self.name
        port = f":{self.port}" if self.port is not None else ""
        return f"{self.user}@{name}{port}" if self.user else f"{name}{port}"


class SshRoute(NamedTuple):
    """How ``sysd.connect(host=...)`` reaches a manager: resolved, not yet opened."""

    host: SshHost
    label: str  # the spec as the caller wrote it (errors name it)
    ssh_config: str | None
    sudo: bool


def _invalid(spec: str, why: str) -> InvalidHostError:
    return InvalidHostError(f"invalid host {spec!r}: {why}", spec=spec)


def parse_host(spec: str | SshHost) -> SshHost:
    """``[user@]host[:port]`` (``[v6addr]:port`` for IPv6) -> :class:`SshHost`.

    Refuses what could reach ssh as an option or a local/remote shell as syntax: a
    leading ``-``, whitespace and control characters, shell metacharacters, an empty
    part, a port that is not 1-65535 (:class:`~sysd.errors.InvalidHostError`).
    """
    if isinstance(spec, SshHost):
        return spec
    if not isinstance(spec, str):
        raise InvalidHostError(f"a host is a str, not {type(spec).__name__}")
    if not spec:
        raise _invalid(spec, "empty")
    if len(spec) > 512:
        raise _invalid(spec[:40] + "...", "too long")
    if _BAD.search(spec):
        raise _invalid(spec, "whitespace or control characters")
    if spec.startswith("-"):
        raise _invalid(spec, "starts with '-' (ssh would read it as an option)")
    user: str | None = None
    rest = spec
    if "@" in spec:
        user, _, rest = spec.rpartition("@")
        if not _USER.fullmatch(user):
            raise _invalid(spec, f"user {user!r} is not a login name")
    port: int | None = None
    if rest.startswith("["):
        addr, sep, tail = rest[1:].partition("]")
        if not sep or not _IPV6.fullmatch(addr) or ":" not in addr:
            raise _invalid(spec, "a bracketed host is an IPv6 address: [addr] or [addr]:port")
        if tail:
            if not tail.startswith(":"):
                raise _invalid(spec, "after [addr] only :port may follow")
            port = _port(spec, tail[1:])
        name = addr
    elif rest.count(":") > 1:  # a bare IPv6 address, no port
        if not _IPV6.fullmatch(rest):
            raise _invalid(spec, "not an IPv6 address (use [addr]:port for a port)")
        name = rest
    else:
        name, colon, port_text = rest.partition(":")
        if colon:
            port = _port(spec, port_text)
        if not name:
            raise _invalid(spec, "no host name")
        if not _NAME.fullmatch(name):
            raise _invalid(
                spec, "host names are letters, digits, '.', '-' and '_' (not first: '-', '.')"
            )
    return SshHost(user, name, port)


def _port(spec: str, text: str) -> int:
    if not text.isdigit() or not text.isascii() or len(text) > 5 or not 1 <= int(text) <= 65535:
        raise _invalid(spec, f"port {text!r} is not a number from 1 to 65535")
    return int(text)


def check_machine(spec: str, machine: str) -> str:
    """The ``/container`` part of ``host/container``: a machine name."""
    if not _MACHINE.fullmatch(machine) or ".." in machine:
        raise _invalid(spec, f"container {machine!r} is not a machine name")
    return machine


# --------------------------------------------------------------------------- command lines


def remote_command(remote_argv: Sequence[str], *, sudo: bool = False) -> str:
    """The one string ssh sends for the remote shell to parse: each argument quoted
    (``shlex``), so it arrives as exactly that argument; ``sudo=True`` runs it through
    ``sudo -n --`` (never prompts)."""
    import shlex

    if isinstance(remote_argv, str) or not remote_argv:
        raise ValueError("remote_argv is a non-empty list of arguments, not a string")
    for arg in remote_argv:
        if not isinstance(arg, str):
            raise TypeError(f"remote arguments are str, not {type(arg).__name__}: {arg!r}")
        if "\0" in arg:
            raise ValueError(f"a remote argument cannot hold a NUL byte: {arg!r}")
    argv = ["sudo", "-n", "--", *remote_argv] if sudo else list(remote_argv)
    return shlex.join(argv)


def _percent(path: str) -> str:
    """A path for ssh's ControlPath/-S, which expand %-tokens."""
    return path.replace("%", "%%")


def ssh_argv(
    host: str | SshHost,
    remote_argv: Sequence[str],
    *,
    ssh_config: str | None = None,
    control_path: str | None = None,
    sudo: bool = False,
    tty: bool = False,
) -> list[str]:
    """The local argv running ``remote_argv`` on ``host`` with ssh (pure).

    ``ssh_config``: ``ssh -F``.  ``control_path``: through that master (``-S``, and
    ``ControlMaster=no`` so a user's ``ControlMaster auto`` does not make this one a
    master).  ``tty``: ``-tt`` instead of ``-T``.
    """
    h = parse_host(host)
    argv = ["ssh"]
    if ssh_config:
        argv += ["-F", ssh_config]
    argv += ["-o", "BatchMode=yes", "-x", "-tt" if tty else "-T"]
    if control_path:
        argv += ["-o", "ControlMaster=no", "-S", _percent(control_path)]
    if h.port is not None:
        argv += ["-p", str(h.port)]
    argv += ["--", h.destination, remote_command(remote_argv, sudo=sudo)]
    return argv


def master_argv(host: SshHost, control_path: str, ssh_config: str | None) -> list[str]:
    """``ssh -M -N``: the master, in the foreground (sysd's child), no session of its own."""
    argv = ["ssh"]
    if ssh_config:
        argv += ["-F", ssh_config]
    argv += [
        "-o", "BatchMode=yes",
        "-o", "ControlMaster=yes",
        "-o", f"ControlPath={_percent(control_path)}",
        "-o", "ControlPersist=no",
        "-N", "-n", "-x", "-T",
    ]  # fmt: skip
    if host.port is not None:
        argv += ["-p", str(host.port)]
    return [*argv, "--", host.destination]


# --------------------------------------------------------------------------- errors

_UNREACHABLE = (
    "could not resolve hostname",
    "connection refused",
    "no route to host",
    "network is unreachable",
    "connection timed out",
    "operation timed out",
    "connection closed by",
    "connection reset",
    "kex_exchange_identification",
    "banner exchange",
    "broken pipe",
    "name or service not known",
)


class _Fields(TypedDict):
    host: str
    returncode: int | None
    stderr: str


def _line(stderr: str, *needles: str) -> str:
    """The stderr line holding the first needle found (else the last line)."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip().strip("@").strip()]
    for needle in needles:
        for ln in lines:
            if needle in ln.lower():
                return ln
    return lines[-1] if lines else ""


def classify(
    label: str,
    returncode: int | None,
    stderr: str,
    *,
    program: str | None = None,
    sudo: bool = False,
) -> RemoteHostError | None:
    """What ssh (or the remote ``program`` it ran) failing means, as a typed error naming
    ``label``; None when the output says nothing known (the caller decides).

    ssh exits 255 for its own failures (connect, login, host key); anything else is the
    remote command's status (127: not found, from the remote shell).
    """
    low = stderr.lower()
    kw: _Fields = {"host": label, "returncode": returncode, "stderr": stderr}
    if returncode == 255 or "host key verification failed" in low:
        if "remote host identification has changed" in low or (
            "host key for" in low and "has changed" in low
        ):
            return HostKeyError(
                f"the host key of {label} differs from the one in known_hosts "
                "(REMOTE HOST IDENTIFICATION HAS CHANGED)",
                **kw,
            )
        if "host key verification failed" in low or "host key is known" in low:
            why = _line(stderr, "host key is known", "host key verification failed")
            return HostKeyError(f"unknown host key for {label}: {why}", **kw)
        if "permission denied" in low or "too many authentication failures" in low:
            why = _line(stderr, "permission denied", "too many authentication failures")
            return HostAuthenticationError(f"ssh login to {label} refused: {why}", **kw)
        if any(s in low for s in _UNREACHABLE):
            return HostUnreachableError(
                f"cannot reach {label} over ssh: {_line(stderr, *_UNREACHABLE)}", **kw
            )
        if returncode == 255:
            why = _line(stderr) or "no message (LogLevel QUIET?)"
            return RemoteHostError(
                f"ssh to {label} failed (exit status 255): {why}",
                **kw,
                hint=f"`ssh -v {label} true` shows why",
            )
    if returncode == NOT_BOOTED and "sysd: not booted with systemd" in low:
        return RemoteNotBootedError(
            f"{label} is not booted with systemd (no /run/systemd/system there)", **kw
        )
    if sudo and "sudo:" in low and ("password is required" in low or "terminal is required" in low):
        hint = None  # the class's hint names the bridge
        if program and program != BRIDGE:
            hint = (
                f"allow the login user to run {program} without a password (sudoers: "
                f"USER ALL=(root) NOPASSWD: /usr/bin/{program}), or log in as root"
            )
        return SudoPasswordRequiredError(
            f"sudo on {label} wants a password (sysd runs `sudo -n`)", **kw, hint=hint
        )
    missing = "not found" in low or "no such file" in low
    if program and returncode and missing and program.lower() in low:
        if program == BRIDGE:
            return RemoteBridgeMissingError(
                f"{label} has no {program} (on the remote PATH): {_line(stderr, program)}",
                **kw,
            )
        return RemoteHostError(f"{label} has no {program}: {_line(stderr, program)}", **kw)
    if returncode == 127 or (returncode and missing and "sudo" in low):
        return RemoteHostError(
            f"a command was not found on {label}: {_line(stderr, 'not found', 'no such file')}",
            **kw,
            hint="install it there, or check the remote PATH",
        )
    return None
