"""Opening transports (blocking): unix sockets and programs on a socketpair.

Shared by both connection shells: the asyncio one runs the blocking
``connect()`` of a unix socket in non-blocking mode itself, but spawning a
``unixexec`` program is the same fork/exec in both.
"""

from __future__ import annotations

import errno
import os
import socket
import time
from typing import TYPE_CHECKING

from .._interrupt import CriticalSection
from ..errors import BusConnectError, UserManagerNotRunningError

if TYPE_CHECKING:
    import subprocess

    from .ssh import Bridge

    Helper = subprocess.Popen[bytes] | Bridge  # what a connection ends when it closes
from .address import Target, Transport

SOCK_FLAGS = socket.SOCK_STREAM | socket.SOCK_CLOEXEC


def _remaining(deadline: float | None) -> float | None:
    if deadline is None:
        return None
    return max(0.0, deadline - time.monotonic())


def sockaddr(t: Transport) -> str | bytes:
    if t.abstract is not None:
        return b"\0" + t.abstract.encode()
    assert t.path is not None
    return t.path


def connect_error(t: Transport, exc: OSError) -> BusConnectError:
    where = t.describe()
    hint: str | None = None
    if isinstance(exc, FileNotFoundError):
        what = "no such socket"
        hint = "is the bus (or systemd) running there? check the address"
    elif isinstance(exc, ConnectionRefusedError):
        what = "connection refused (nobody is listening)"
    elif isinstance(exc, PermissionError):
        what = "permission denied"
        hint = "this socket is for root (try without private=True, or run as root)"
    elif exc.errno == errno.ENOTSOCK:
        what = "not a socket"
    else:
        what = os.strerror(exc.errno) if exc.errno else str(exc)
    return BusConnectError(f"cannot connect to {where}: {what}", address=where, hint=hint)


def no_transport(target: Target, failures: list[BusConnectError]) -> BusConnectError:
    """The error to raise when no transport of ``target`` could be opened.

    The user manager's own bus (``$XDG_RUNTIME_DIR/bus``, or its private socket)
    missing or refused means the user manager is not running for this user:
    say so, naming the user scope (RELIABILITY 31), rather than "no such socket".
    """
    if target.scope == "user" and all(
        isinstance(e.__cause__, (FileNotFoundError, ConnectionRefusedError)) for e in failures
    ):
        uid = os.geteuid()
        return UserManagerNotRunningError(
            f"the user manager (user scope, uid {uid}) is not running: nothing listens on "
            f"{target.description}",
            address=target.description,
            hint=f"start it with `systemctl start user@{uid}.service`, or log in with a session",
        )
    if len(failures) == 1:
        return failures[0]
    return BusConnectError(
        "cannot connect: " + "; ".join(e.text for e in failures), address=target.description
    )


def spawn(t: Transport) -> tuple[socket.socket, subprocess.Popen[bytes]]:
    """Start a unixexec program with its stdin/stdout on one end of a socketpair."""
    assert t.path is not None
    import shutil  # only unixexec needs these: `import sysd` stays without them
    import subprocess

    program = t.path if "/" in t.path else shutil.which(t.path)
    if program is None:
        raise BusConnectError(
            f"cannot connect to {t.describe()}: program {t.path!r} not found on PATH",
            address=t.describe(),
        )
    ours = proc = None
    try:
        with CriticalSection():  # the sockets and the process come into being owned
            ours, theirs = socket.socketpair(socket.AF_UNIX, SOCK_FLAGS)
            try:
                proc = subprocess.Popen(
                    list(t.argv) or [t.path],
                    executable=program,
                    stdin=theirs.fileno(),
                    stdout=theirs.fileno(),
                    close_fds=True,
                    start_new_session=True,
                )
            finally:
                theirs.close()
        return ours, proc
    except BaseException as exc:  # a Ctrl-C held back to the section's end lands here too
        discard(ours, proc)
        if isinstance(exc, OSError):
            raise BusConnectError(
                f"cannot start {t.describe()}: {exc.strerror or exc}", address=t.describe()
            ) from exc
        raise


def open_blocking(t: Transport, deadline: float | None) -> tuple[socket.socket, Helper | None]:
    if t.kind == "ssh":
        from .ssh import open_bridge

        assert t.ssh is not None
        return open_bridge(t.ssh, t.argv, deadline)
    if t.kind == "unixexec":
        return spawn(t)
    sock = None
    try:
        with CriticalSection():  # no socket object exists unowned, not even for a bytecode
            sock = socket.socket(socket.AF_UNIX, SOCK_FLAGS)
        sock.settimeout(_remaining(deadline))
        sock.connect(sockaddr(t))
        return sock, None
    except TimeoutError as exc:
        discard(sock, None)
        raise BusConnectError(
            f"cannot connect to {t.describe()}: timed out", address=t.describe()
        ) from exc
    except OSError as exc:
        discard(sock, None)
        raise connect_error(t, exc) from exc
    except BaseException:  # Ctrl-C while connecting
        discard(sock, None)
        raise


def discard(sock: socket.socket | None, proc: Helper | None) -> None:
    """Close a transport no connection took over yet (an open that failed or was cut)."""
    if sock is not None:
        sock.close()
    reap(proc)


def reap(proc: Helper | None) -> None:
    """End a unixexec helper we started (its stdio is already closed); an ssh bridge
    also lets go of its host's master."""
    if proc is None:
        return
    import subprocess

    if not isinstance(proc, subprocess.Popen):
        proc.reap()
        return
    if proc.poll() is not None:
        return

    try:
        proc.wait(timeout=0.5)
    except subprocess.TimeoutExpired:
        proc.terminate()
        try:
            proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
