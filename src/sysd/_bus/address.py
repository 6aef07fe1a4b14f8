"""Where to connect: D-Bus address strings and sysd's connection options, resolved.

Pure: reads the environment and checks for a few paths, but opens nothing.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import NamedTuple

from ..errors import BusConnectError, NotBootedError, UserManagerNotRunningError
from .sshspec import BRIDGE, SshRoute, bridge_command, check_machine, parse_host, remote_command

SYSTEM_BUS_DEFAULT = "unix:path=/run/dbus/system_bus_socket"
SYSTEM_PRIVATE_SOCKET = "/run/systemd/private"
BOOTED_MARKER = "/run/systemd/system"


class Transport(NamedTuple):
    """One way to reach a bus: a unix socket, or a program speaking D-Bus on its stdio."""

    kind: str  # "unix", "unixexec" or "ssh"
    path: str | None = None  # socket path (unix), program (unixexec)
    abstract: str | None = None  # abstract socket name (unix)
    argv: tuple[str, ...] = ()  # unixexec argv (argv[0] included); ssh: the remote argv
    ssh: SshRoute | None = None  # ssh: the host, through its master (sysd._bus.ssh)

    def describe(self) -> str:
        if self.kind == "ssh" and self.ssh is not None:
            return f"ssh:{self.ssh.label} {remote_command(self.argv)}"
        if self.kind == "unixexec":
            import shlex

            return "unixexec:" + shlex.join(self.argv or (self.path or "",))
        if self.abstract is not None:
            return f"unix:abstract={self.abstract}"
        return f"unix:path={self.path}"


class Target(NamedTuple):
    """A resolved connection target: transports to try in order, and how to greet."""

    transports: tuple[Transport, ...]
    hello: bool  # a message bus (send Hello) or a peer-to-peer socket (systemd's private one)
    scope: str  # "system", "user", "remote", "address"
    description: str
    fds: bool  # whether unix fd passing can work on these transports
    machine: str | None = None  # the local container this reaches (machine=), if any
    host: str | None = None  # the ssh host spec this reaches (host=), if any (remote journal)


def _unescape(value: str, address: str) -> str:
    try:
        from urllib.parse import unquote_to_bytes  # imported on use: rare, and slow to import

        return unquote_to_bytes(value).decode()
    except UnicodeDecodeError as exc:
        raise BusConnectError(
            f"invalid escape in D-Bus address {address!r}", address=address
        ) from exc


def parse_address(address: str) -> list[Transport]:
    """Parse a D-Bus address (``;``-separated alternatives) into transports.

    Supports ``unix:path=``, ``unix:abstract=`` and ``unixexec:path=,argv0=,argv1=...``.
    Unsupported transports (tcp, nonce-tcp, launchd...) raise BusConnectError.
    """
    transports: list[Transport] = []
    for part in address.split(";"):
        if not part:
            continue
        kind, sep, rest = part.partition(":")
        if not sep:
            raise BusConnectError(
                f"D-Bus address {part!r} has no transport prefix", address=address
            )
        opts: dict[str, str] = {}
        for kv in rest.split(","):
            if not kv:
                continue
            key, eq, value = kv.partition("=")
            if not eq:
                raise BusConnectError(
                    f"D-Bus address {part!r}: key {key!r} has no value", address=address
                )
            opts[key] = _unescape(value, address)
        if kind == "unix":
            if "path" in opts:
                transports.append(Transport("unix", path=opts["path"]))
            elif "abstract" in opts:
                transports.append(Transport("unix", abstract=opts["abstract"]))
            else:
                raise BusConnectError(
                    f"D-Bus address {part!r}: unix transport needs path= or abstract=",
                    address=address,
                )
        elif kind == "unixexec":
            path = opts.get("path")
            if not path:
                raise BusConnectError(
                    f"D-Bus address {part!r}: unixexec needs path=", address=address
                )
            argv: list[str] = []
            i = 0
            while f"argv{i}" in opts or i == 0:
                argv.append(opts.get(f"argv{i}", path))
                i += 1
            transports.append(Transport("unixexec", path=path, argv=tuple(argv)))
        else:
            raise BusConnectError(
                f"D-Bus transport {kind!r} is not supported by sysd (use unix: or unixexec:)",
                address=address,
            )
    if not transports:
        raise BusConnectError(f"empty D-Bus address {address!r}", address=address)
    return transports


def escape_value(value: str) -> str:
    """Escape a value for use in a D-Bus address (the inverse of the address parser)."""
    out = []
    for byte in value.encode():
        ch = chr(byte)
        if ch.isascii() and (ch.isalnum() or ch in "-_/.\\*"):
            out.append(ch)
        else:
            out.append(f"%{byte:02x}")
    return "".join(out)


def unixexec_address(argv: list[str] | tuple[str, ...]) -> str:
    """A ``unixexec:`` address running argv (argv[0] looked up on PATH by the spawner)."""
    parts = [f"path={escape_value(argv[0])}"]
    parts += [f"argv{i}={escape_value(a)}" for i, a in enumerate(argv)]
    return "unixexec:" + ",".join(parts)


MACHINES_DIR = "/run/systemd/machines"
CONTAINER_BUS_SOCKET = "run/dbus/system_bus_socket"


def machine_leader(name: str, machines_dir: str = MACHINES_DIR) -> int | None:
    """The host PID of a registered container's init, from machined's state file
    (``/run/systemd/machines/NAME``, ``LEADER=``; sd-bus's ``container_get_leader()``), or
    None when it cannot be read (no such machine, not root, a name that is not a file's)."""
    if not name or "/" in name or name.startswith("."):
        return None
    try:
        with open(os.path.join(machines_dir, name), encoding="utf-8") as f:
            for line in f:
                key, _, value = line.rstrip("\n").partition("=")
                if key == "LEADER" and value.isdigit():
                    return int(value)
    except (OSError, UnicodeDecodeError):
        return None
    return None


def machine_registered(name: str, machines_dir: str = MACHINES_DIR) -> bool:
    """Whether machined has a container of that name registered (its state file exists);
    ``.host`` is this machine, always there."""
    if name == ".host":
        return True
    return "/" not in name and os.path.exists(os.path.join(machines_dir, name))


def machine_bus_socket(name: str, machines_dir: str = MACHINES_DIR) -> str | None:
    """The container's system bus socket as reached from here
    (``/proc/LEADER/root/run/dbus/system_bus_socket``), or None when it is not there."""
    leader = machine_leader(name, machines_dir)
    if leader is None:
        return None
    path = f"/proc/{leader}/root/{CONTAINER_BUS_SOCKET}"
    try:
        return path if os.path.exists(path) else None
    except OSError:
        return None


def booted() -> bool:
    """True when this host runs systemd as init (the same check as sd_booted())."""
    return os.path.isdir(BOOTED_MARKER)


def resolve(
    *,
    user: bool = False,
    address: str | None = None,
    private: bool | None = None,
    host: str | None = None,
    machine: str | None = None,
    sudo: bool = False,
    ssh_config: str | None = None,
    environ: Mapping[str, str] | None = None,
    euid: int | None = None,
) -> Target:
    """Turn :func:`sysd.connect`'s keyword arguments into a :class:`Target`.

    ``sudo``/``ssh_config`` (default ``$SYSD_SSH_CONFIG``) apply to ``host=`` only."""
    env = os.environ if environ is None else environ
    if host is None and (sudo or ssh_config is not None):
        raise ValueError("sudo= and ssh_config= apply to host= (a remote host over ssh) only")
    uid = os.geteuid() if euid is None else euid
    chosen = [n for n, v in (("address", address), ("host", host), ("machine", machine)) if v]
    if len(chosen) > 1:
        raise ValueError(f"pass only one of address=, host=, machine= (got {', '.join(chosen)})")

    if address is not None:
        return Target(
            tuple(parse_address(address)),
            hello=not private,
            scope="address",
            description=address,
            fds=not address.startswith("unixexec:"),
        )

    if host is not None:
        # systemd's own convention (-H): [USER@]HOST[:PORT][/MACHINE], over ssh through
        # one multiplexed master per host (sysd._bus.ssh)
        spec, _, container = host.partition("/")
        h = parse_host(spec)
        config = ssh_config if ssh_config is not None else env.get("SYSD_SSH_CONFIG") or None
        machine_name = check_machine(host, container) if container else None
        argv = bridge_command(user=user, machine=machine_name, sudo=sudo)
        return Target(
            (Transport("ssh", path="ssh", argv=argv, ssh=SshRoute(h, host, config, sudo)),),
            hello=True,
            scope="remote",
            description=f"{'user' if user else 'system'} manager on {host} (ssh)",
            fds=False,
            host=host,
        )

    if machine is not None:
        where = f"{'user' if user else 'system'} manager in container {machine}"
        direct = None if user or uid != 0 else machine_bus_socket(machine)
        if direct is not None:
            # as sd-bus does for -M: the container's own bus socket, reached through its
            # leader's root; a real unix socket, so file descriptors pass (run with pipes)
            return Target(
                (Transport("unix", path=direct),),
                hello=True,
                scope="remote",
                description=f"{where} (its bus socket unix:path={direct}: fd passing)",
                fds=True,
                machine=machine,
            )
        bridge = [BRIDGE, f"--machine={machine}"]
        if user:
            bridge.append("--user")
        return Target(
            (Transport("unixexec", path=BRIDGE, argv=tuple(bridge)),),
            hello=True,
            scope="remote",
            description=f"{where} (systemd-stdio-bridge: no fd passing)",
            fds=False,
            machine=machine,
        )

    if user:
        runtime = env.get("XDG_RUNTIME_DIR")
        if private:
            if not runtime:
                raise UserManagerNotRunningError(
                    "XDG_RUNTIME_DIR is not set, so the user manager's private socket is unknown"
                )
            path = os.path.join(runtime, "systemd/private")
            return Target((Transport("unix", path=path),), False, "user", f"unix:path={path}", True)
        session = env.get("DBUS_SESSION_BUS_ADDRESS")
        if session:
            return Target(tuple(parse_address(session)), True, "user", session, True)
        if not runtime:
            raise UserManagerNotRunningError(
                "XDG_RUNTIME_DIR is not set: cannot find the user manager's bus "
                "(no login session for this user?)"
            )
        path = os.path.join(runtime, "bus")
        return Target((Transport("unix", path=path),), True, "user", f"unix:path={path}", True)

    # The system manager.
    explicit = env.get("DBUS_SYSTEM_BUS_ADDRESS")
    auto_private = private is None and not explicit and uid == 0
    if private and not booted() and not os.path.exists(SYSTEM_PRIVATE_SOCKET):
        raise NotBootedError("System has not been booted with systemd as init system (PID 1).")
    if private or (auto_private and os.path.exists(SYSTEM_PRIVATE_SOCKET)):
        return Target(
            (Transport("unix", path=SYSTEM_PRIVATE_SOCKET),),
            False,
            "system",
            f"unix:path={SYSTEM_PRIVATE_SOCKET}",
            True,
        )
    if explicit:
        return Target(tuple(parse_address(explicit)), True, "system", explicit, True)
    if not booted():
        raise NotBootedError("System has not been booted with systemd as init system (PID 1).")
    return Target(
        tuple(parse_address(SYSTEM_BUS_DEFAULT)), True, "system", SYSTEM_BUS_DEFAULT, True
    )
