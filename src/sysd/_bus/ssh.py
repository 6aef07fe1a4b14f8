"""ssh as a transport: host specs, the ssh command line, one multiplexed master per host.

OpenSSH does the work (the user's ``~/.ssh/config``, agent and known_hosts apply); sysd
adds only what multiplexing needs and ``BatchMode=yes`` (nothing ever prompts).

Pure (no I/O; defined in :mod:`sysd._bus.sshspec`, re-exported here)::

    parse_host("admin@web1:2222") -> SshHost(user="admin", name="web1", port=2222)
        validated: InvalidHostError for a leading '-', whitespace, control or shell
        characters, a port outside 1-65535
    ssh_argv(host, remote_argv, *, ssh_config=None, control_path=None, sudo=False, tty=False)
        -> ["ssh", ..., "--", "admin@web1", "'quoted' 'remote' 'command'"]: every remote
        argument shlex-quoted into the one command string the remote shell parses
    classify(label, returncode, stderr, program=...) -> RemoteHostError | None
        what ssh's exit status and stderr (or the remote command's) mean, typed

Masters: one ``ssh -M`` (ControlMaster) per (destination, port, ssh_config) in this
process, in a private runtime directory (mode 0700, removed when the master ends),
shared by every connection and command to that host and ended when its last user
releases it (also on error, cancellation and Ctrl-C; at interpreter exit at the latest)::

    with ssh.lease_sync("web1", ssh_config=None, timeout=25) as lease:   # blocking
        subprocess.run(lease.argv(["journalctl", "-o", "export", "-n", "10"]), ...)
    async with ssh.lease("web1") as lease: ...                             # asyncio
    lease = ssh.acquire(host, deadline=...) / await ssh.acquire_async(...); lease.release()

``ssh_config`` defaults to ``$SYSD_SSH_CONFIG`` (as in ``connect()``).
``lease.control_path`` is the master's socket; ``lease.argv(remote_argv, sudo=, tty=)``
is :func:`ssh_argv` through it (no handshake); ``lease.scratch(stem)`` a file name in
the master's private directory (e.g. for a command's stderr; removed with it).  Errors
starting the master (unreachable, login refused, host key) are raised by ``acquire``
typed (:class:`RemoteHostError` subclasses) within the deadline; :func:`classify` types
a remote command's failure the same way.  After ``fork()`` the child starts its own
masters and never ends the parent's.  :func:`live_masters` lists what runs (tests).

Bridges: :func:`open_bridge` / :func:`open_bridge_async` start ``systemd-stdio-bridge``
through a lease for ``sysd.connect(host=...)`` and return the socket and a
:class:`Bridge` whose ``reap()`` ends it and releases the lease; ``diagnose()`` says
why it ended during the connect (bridge missing, sudo wants a password, not booted).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import AsyncIterator, Callable, Generator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, TypeVar

from .._interrupt import CriticalSection
from ..errors import HostUnreachableError, RemoteHostError
from .sshspec import (
    BRIDGE,
    SshHost,
    SshRoute,
    _Fields,
    _line,
    bridge_command,
    check_machine,
    classify,
    master_argv,
    parse_host,
    remote_command,
    ssh_argv,
)

if TYPE_CHECKING:
    import socket
    import subprocess

__all__ = [
    "Bridge",
    "Lease",
    "SshHost",
    "SshRoute",
    "bridge_command",
    "check_machine",
    "acquire",
    "acquire_async",
    "classify",
    "default_ssh_config",
    "lease",
    "lease_sync",
    "live_masters",
    "open_bridge",
    "open_bridge_async",
    "parse_host",
    "remote_command",
    "ssh_argv",
]


def _timeout_error(label: str, what: str) -> HostUnreachableError:
    return HostUnreachableError(
        f"{what} {label} did not finish within the connect deadline",
        host=label,
        hint="the host may be down or filtered; pass a longer timeout= to wait longer",
    )


# --------------------------------------------------------------------------- waiting

T = TypeVar("T")
# A wait is a generator yielding how long to sleep next and returning its result, driven
# by time.sleep (blocking) or asyncio.sleep (asyncio): one copy of each waiting logic.
Wait = Generator[float, None, T]


def _drive(wait: Wait[T]) -> T:
    try:
        while True:
            time.sleep(next(wait))
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
    finally:
        wait.close()


async def _drive_async(wait: Wait[T]) -> T:
    import asyncio

    try:
        while True:
            await asyncio.sleep(next(wait))
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
    finally:
        wait.close()


def _poll(until: Callable[[], bool], deadline: float | None) -> Wait[bool]:
    """Yield sleeps (2 ms doubling to 10 ms) until ``until()`` or the deadline (False).

    ssh says nothing when its master is ready: the control socket appearing is the sign,
    so the step bounds how late a connect notices it (a 50 ms step cost ~40 ms of each
    connect's ~0.13 s in the lab); 100 checks a second cost ~1% of a core per waiter."""
    delay = 0.002
    while not until():
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            delay = min(delay, left)
        yield delay
        delay = min(delay * 2, 0.01)
    return True


# --------------------------------------------------------------------------- masters


# sun_path holds 107 bytes; ssh binds "<ControlPath>.<16 random chars>" first, and the
# path is <base>/sysd-ssh-XXXXXXXX/control: a base of at most 60 bytes leaves room.
_MAX_BASE = 60


def _runtime_base() -> str:
    """Where private master directories go: $XDG_RUNTIME_DIR when it is writable and
    short enough for a socket path, else the temporary directory, else /tmp."""
    import tempfile

    base = os.environ.get("XDG_RUNTIME_DIR")
    usable = base and len(base.encode()) <= _MAX_BASE and os.path.isdir(base)
    if base and usable and os.access(base, os.W_OK):
        return base
    base = tempfile.gettempdir()
    return base if len(base.encode()) <= _MAX_BASE else "/tmp"


class _Master:
    """One ``ssh -M`` process and its private directory."""

    def __init__(self, host: SshHost, label: str, ssh_config: str | None) -> None:
        self.host = host
        self.label = label
        self.ssh_config = ssh_config
        self.users = 0
        self.directory = ""
        self.control_path = ""
        self.proc: subprocess.Popen[bytes] | None = None
        self.error: RemoteHostError | None = None
        self.ready = False
        self.stopped = False
        self.counter = 0

    def start(self) -> None:
        """Make the directory and start ssh (called with the registry lock held)."""
        import subprocess
        import tempfile

        self.directory = tempfile.mkdtemp(prefix="sysd-ssh-", dir=_runtime_base())
        self.control_path = os.path.join(self.directory, "control")
        argv = master_argv(self.host, self.control_path, self.ssh_config)
        try:
            with open(os.path.join(self.directory, "master.err"), "wb") as err:
                self.proc = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=err,
                    close_fds=True,
                    start_new_session=True,  # a terminal's Ctrl-C is for sysd, not ssh
                )
        except OSError as exc:
            self.error = RemoteHostError(
                f"cannot run ssh for {self.label}: {exc.strerror or exc}",
                host=self.label,
                hint="install the OpenSSH client (ssh on PATH)",
            )

    def settled(self) -> bool:
        """Ready (the control socket is there) or failed (ssh exited): updates state."""
        if self.ready or self.error is not None:
            return True
        assert self.proc is not None
        if os.path.exists(self.control_path):  # ssh links it in place once logged in
            self.ready = True
            return True
        rc = self.proc.poll()
        if rc is None:
            return False
        stderr = self.read_stderr()
        self.error = classify(self.label, rc, stderr) or RemoteHostError(
            f"ssh to {self.label} ended (exit status {rc}) before it was ready: "
            f"{_line(stderr) or 'no message'}",
            host=self.label,
            returncode=rc,
            stderr=stderr,
        )
        return True

    def read_stderr(self) -> str:
        try:
            with open(os.path.join(self.directory, "master.err"), "rb") as f:
                return f.read(65536).decode("utf-8", "replace")
        except OSError:
            return ""

    def dead(self) -> bool:
        """Failed, or exited after it was ready (the connection dropped)."""
        return self.error is not None or (
            self.proc is not None and self.ready and self.proc.poll() is not None
        )

    def next_name(self, stem: str) -> str:
        self.counter += 1
        return os.path.join(self.directory, f"{stem}-{self.counter}")

    def stop(self) -> None:
        """End ssh (SIGTERM; it closes the connection and unlinks its socket) and remove
        the directory.  Idempotent."""
        if self.stopped:
            return
        self.stopped = True
        proc = self.proc
        if proc is not None:
            _end(proc, grace=0.0, group=True)
        if self.directory:
            import shutil

            shutil.rmtree(self.directory, ignore_errors=True)


def _end(proc: subprocess.Popen[bytes], *, grace: float, group: bool = False) -> None:
    """Wait ``grace`` seconds for ``proc`` to exit, then SIGTERM, then SIGKILL.

    ``group``: signal its process group (it leads one: started in a new session), so
    a ProxyCommand it runs ends too (ssh killed while connecting leaves it behind).
    The group is signalled only while ``proc`` is unreaped: its id cannot be reused."""
    import signal
    import subprocess

    def send(sig: int) -> None:
        if group:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)

    if proc.poll() is not None:
        return
    try:
        if grace:
            try:
                proc.wait(timeout=grace)
                return
            except subprocess.TimeoutExpired:
                pass
        send(signal.SIGTERM)
        try:
            proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            send(signal.SIGKILL)
            proc.wait()
    except ProcessLookupError:
        pass


_lock = threading.Lock()
_masters: dict[tuple[str, int | None, str | None], _Master] = {}
_atexit = False


def _forked() -> None:
    # the child's copies of the parent's masters are the parent's to end
    global _lock
    _lock = threading.Lock()
    _masters.clear()


os.register_at_fork(after_in_child=_forked)


def _stop_all() -> None:
    with _lock:
        masters = list(_masters.values())
        _masters.clear()
    for m in masters:
        m.stop()


def live_masters() -> list[tuple[str, str]]:
    """(host, control path) of the masters this process runs (tests check it is empty)."""
    with _lock:
        return [(m.label, m.control_path) for m in _masters.values()]


class Lease:
    """A use of a host's master: ``control_path``, ``argv()``; ``release()`` once done."""

    def __init__(self, master: _Master) -> None:
        self._master: _Master | None = master
        self.host = master.host
        self.label = master.label
        self.ssh_config = master.ssh_config
        self.control_path = master.control_path
        self._pid = os.getpid()

    def argv(
        self, remote_argv: Sequence[str], *, sudo: bool = False, tty: bool = False
    ) -> list[str]:
        """:func:`ssh_argv` through this master."""
        return ssh_argv(
            self.host,
            remote_argv,
            ssh_config=self.ssh_config,
            control_path=self.control_path,
            sudo=sudo,
            tty=tty,
        )

    def scratch(self, stem: str) -> str:
        """A fresh file name in the master's private directory (removed with it)."""
        assert self._master is not None
        return self._master.next_name(stem)

    @property
    def released(self) -> bool:
        return self._master is None

    def release(self) -> None:
        """Let go of the master (idempotent); the last user's release ends it."""
        with CriticalSection():
            master, self._master = self._master, None
            if master is None or self._pid != os.getpid():
                return  # after fork(): the parent's master is the parent's to end
            with _lock:
                master.users -= 1
                last = master.users == 0
                if last:
                    key = _key(master.host, master.ssh_config)
                    if _masters.get(key) is master:
                        del _masters[key]
            if last:
                master.stop()


def _key(host: SshHost, ssh_config: str | None) -> tuple[str, int | None, str | None]:
    return (host.destination, host.port, ssh_config)


def _take(host: SshHost, label: str, ssh_config: str | None) -> Lease:
    """Count a user of the host's master (starting it if needed): call in a section."""
    global _atexit
    with _lock:
        key = _key(host, ssh_config)
        master = _masters.get(key)
        if master is None or master.dead():
            master = _Master(host, label, ssh_config)
            _masters[key] = master
            if not _atexit:
                import atexit

                atexit.register(_stop_all)
                _atexit = True
            master.start()
        master.users += 1
        return Lease(master)


# A blocking caller that connects in a thread of its own (the blocking fleet) sets this
# around the connect: once it says so (the fleet was closed by a Ctrl-C), a wait for a
# host's master ends at its next poll step instead of at the connect deadline, so the
# Ctrl-C is not held up by an unreachable host.  asyncio cancels the task instead.
_abandoned: ContextVar[Callable[[], bool] | None] = ContextVar("sysd_ssh_abandoned", default=None)


@contextmanager
def abandoned_when(check: Callable[[], bool]) -> Iterator[None]:
    """Within the block, this thread's waits for a master give up once ``check()``."""
    token = _abandoned.set(check)
    try:
        yield
    finally:
        _abandoned.reset(token)


def _settle(lease: Lease, deadline: float | None) -> Wait[Lease]:
    master = lease._master
    assert master is not None
    abandoned = _abandoned.get()

    def settled() -> bool:
        if abandoned is not None and abandoned():
            return True
        with _lock:
            return master.settled()

    if not (yield from _poll(settled, deadline)):
        raise _timeout_error(lease.label, "the ssh connection to")
    if abandoned is not None and abandoned() and not master.ready:
        raise RemoteHostError(
            f"gave up connecting to {lease.label}: its caller was closed meanwhile",
            host=lease.label,
        )
    if master.error is not None:
        import copy

        raise copy.copy(master.error)  # one copy per waiter: tracebacks are per raise
    return lease


def default_ssh_config(ssh_config: str | None) -> str | None:
    """``ssh_config``, else ``$SYSD_SSH_CONFIG`` when set (``ssh -F``), else None."""
    return ssh_config if ssh_config is not None else os.environ.get("SYSD_SSH_CONFIG") or None


def acquire(
    host: str | SshHost,
    *,
    ssh_config: str | None = None,
    deadline: float | None = None,
    label: str | None = None,
) -> Lease:
    """A lease on ``host``'s master (started if none runs), ready by ``deadline``
    (``time.monotonic()``), or a typed :class:`~sysd.errors.RemoteHostError`.
    ``ssh_config``: default ``$SYSD_SSH_CONFIG``."""
    h = parse_host(host)
    ssh_config = default_ssh_config(ssh_config)
    lease = None
    try:
        with CriticalSection():
            lease = _take(h, label or str(h), ssh_config)
        return _drive(_settle(lease, deadline))
    except BaseException:
        if lease is not None:
            lease.release()
        raise


async def acquire_async(
    host: str | SshHost,
    *,
    ssh_config: str | None = None,
    deadline: float | None = None,
    label: str | None = None,
) -> Lease:
    """:func:`acquire` for asyncio (waits without blocking the loop; cancellable)."""
    h = parse_host(host)
    ssh_config = default_ssh_config(ssh_config)
    lease = None
    try:
        lease = _take(h, label or str(h), ssh_config)
        return await _drive_async(_settle(lease, deadline))
    except BaseException:
        if lease is not None:
            lease.release()
        raise


def _deadline(timeout: float | None) -> float | None:
    return None if timeout is None else time.monotonic() + timeout


@contextmanager
def lease_sync(
    host: str | SshHost, *, ssh_config: str | None = None, timeout: float | None = 25.0
) -> Iterator[Lease]:
    """``with lease_sync(host) as lease:`` the host's master for the block."""
    held = acquire(host, ssh_config=ssh_config, deadline=_deadline(timeout))
    try:
        yield held
    finally:
        held.release()


@asynccontextmanager
async def lease(
    host: str | SshHost, *, ssh_config: str | None = None, timeout: float | None = 25.0
) -> AsyncIterator[Lease]:
    """``async with lease(host) as lease:`` the host's master for the block."""
    held = await acquire_async(host, ssh_config=ssh_config, deadline=_deadline(timeout))
    try:
        yield held
    finally:
        held.release()


# --------------------------------------------------------------------------- bridges


class Bridge:
    """The ssh process carrying one connection's bridge, and its lease on the master."""

    def __init__(
        self, proc: subprocess.Popen[bytes], lease: Lease, stderr_path: str, route: SshRoute
    ) -> None:
        self.proc = proc
        self.lease = lease
        self.stderr_path = stderr_path
        self.route = route
        self.said: str | None = None  # its stderr, kept when it is reaped

    def reap(self) -> None:
        """End the bridge (its socket is closed: it exits on EOF), keep what it said,
        and release the master.  Idempotent."""
        with CriticalSection():
            if self.said is not None:
                return
            if self.lease._pid != os.getpid():  # after fork(): not ours to end
                self.said = ""
                return
            try:
                _end(self.proc, grace=0.5)
            finally:
                self.said = self._read_stderr()
                try:
                    os.unlink(self.stderr_path)
                except OSError:
                    pass
                self.lease.release()

    def _read_stderr(self) -> str:
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read(65536).decode("utf-8", "replace")
        except OSError:
            return ""

    def _diagnose(self, deadline: float | None) -> Wait[RemoteHostError | None]:
        """Why the bridge ended while connecting (None: it did not end: no idea)."""
        proc = self.proc
        # it closed its end: its exit follows (give it the deadline, at most 5 s)
        soon = time.monotonic() + 5.0
        limit = soon if deadline is None else min(deadline, soon)
        yield from _poll(lambda: proc.poll() is not None, limit)
        rc = proc.poll()
        if rc is None or rc == 0:
            return None
        route = self.route
        stderr = self.said if self.said is not None else self._read_stderr()
        err = classify(route.label, rc, stderr, program=BRIDGE, sudo=route.sudo)
        if err is not None:
            return err
        kw: _Fields = {"host": route.label, "returncode": rc, "stderr": stderr}
        return RemoteHostError(
            f"{BRIDGE} on {route.label} exited with status {rc}: "
            f"{_line(stderr) or 'no message on stderr'}",
            **kw,
            hint=f"its messages are in that host's journal (journalctl -t {BRIDGE})",
        )

    def diagnose(self, deadline: float | None) -> RemoteHostError | None:
        return _drive(self._diagnose(deadline))

    async def diagnose_async(self, deadline: float | None) -> RemoteHostError | None:
        return await _drive_async(self._diagnose(deadline))


def _spawn_bridge(
    lease: Lease, route: SshRoute, remote_argv: Sequence[str]
) -> tuple[socket.socket, Bridge]:
    import socket
    import subprocess

    argv = lease.argv(remote_argv)  # bridge_command() put sudo where it belongs
    bridge: Bridge | None = None
    ours = None
    try:
        with CriticalSection():  # the process and its owner come into being together
            ours, theirs = socket.socketpair(
                socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC
            )
            stderr_path = lease.scratch("bridge.err")
            try:
                with open(stderr_path, "wb") as err:
                    proc = subprocess.Popen(
                        argv,
                        stdin=theirs.fileno(),
                        stdout=theirs.fileno(),
                        stderr=err,
                        close_fds=True,
                        start_new_session=True,
                    )
            except OSError as exc:
                raise RemoteHostError(
                    f"cannot run ssh for {route.label}: {exc.strerror or exc}", host=route.label
                ) from exc
            finally:
                theirs.close()
            bridge = Bridge(proc, lease, stderr_path, route)
        return ours, bridge
    except BaseException:  # a Ctrl-C held back to the section's end lands here
        if ours is not None:
            ours.close()
        if bridge is not None:
            bridge.reap()
        raise


def open_bridge(
    route: SshRoute, remote_argv: Sequence[str], deadline: float | None
) -> tuple[socket.socket, Bridge]:
    """Lease the host's master and start the bridge through it (blocking)."""
    held = acquire(route.host, ssh_config=route.ssh_config, deadline=deadline, label=route.label)
    try:
        return _spawn_bridge(held, route, remote_argv)
    except BaseException:
        held.release()
        raise


async def open_bridge_async(
    route: SshRoute, remote_argv: Sequence[str], deadline: float | None
) -> tuple[socket.socket, Bridge]:
    """:func:`open_bridge` for asyncio."""
    held = await acquire_async(
        route.host, ssh_config=route.ssh_config, deadline=deadline, label=route.label
    )
    try:
        return _spawn_bridge(held, route, remote_argv)
    except BaseException:
        held.release()
        raise
