"""Another machine's journal: ``journalctl -o export`` over ssh (``host=``) or for a local
container (``-M``, ``machine=``), parsed into the same :class:`Entry` objects.

::

    with sysd.journal.entries(host="admin@web1", unit="nginx", lines=20) as it:
        for entry in it:
            print(entry.timestamp, entry.message)

The filters are sysd's (:func:`sysd.journal.entries`), turned into journalctl's options
by :func:`sysd._core.journal_export.plan`; every value is one ``--option=value`` word
(matches after ``--``), and over ssh every word of the remote command is shell-quoted.

One object owns the journalctl (or ssh) process: :class:`_Stream`.  It is started in a
critical section (a Ctrl-C between the fork and keeping the handle is held back until
the handle is kept, then closes it), and :meth:`_Stream.close` ends it — SIGTERM, then
SIGKILL if it lingers — when the reader is closed, exhausted, garbage-collected, when
the caller's loop is interrupted (KeyboardInterrupt raised out of ``next()``), or when
an asyncio task reading it is cancelled.  Over ssh, the remote journalctl ends when its
stdout goes away (journalctl -f watches stdout for POLLHUP).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno as _errno
import os
import re
import select
import shlex
import signal
import subprocess
import tempfile
from collections import deque
from collections.abc import Iterator
from typing import IO, Any, Final, NamedTuple

from .._core.journal_export import ExportParser, Plan, plan
from .._core.machine import check_machine_name
from .._interrupt import CriticalSection
from ..errors import InvalidCallError, JournalStreamError, RemoteJournalError
from ._entry import Entry

__all__ = ["AsyncRemoteEntries", "RemoteEntries", "RemoteTarget", "journalctl_argv"]

_READ: Final = 1 << 16  # bytes per read
_TERM_GRACE: Final = 5.0  # seconds after SIGTERM before SIGKILL (journalctl/ssh end at once)
_STDERR_KEEP: Final = 4096  # bytes of stderr kept for the error


# --------------------------------------------------------------------------- transport

# STAND-IN for h20's ``sysd._bus.ssh.parse_host`` / ``ssh_argv`` (same signatures, the
# seam of docs/issue14-plan): used until that module exists, then theirs is used.
_HOST_RE: Final = re.compile(r"(?:(?P<user>[A-Za-z0-9._][A-Za-z0-9._-]*)@)?(?P<host>[^\s@:/]+)"
                             r"(?::(?P<port>[0-9]{1,5}))?")  # fmt: skip


class _StandInHost(NamedTuple):
    user: str | None
    host: str
    port: int | None

    @property
    def destination(self) -> str:
        return f"{self.user}@{self.host}" if self.user else self.host


def _standin_parse_host(spec: str) -> _StandInHost:
    m = _HOST_RE.fullmatch(spec) if isinstance(spec, str) else None
    if m is None or m["host"].startswith("-") or any(ord(c) < 0x20 or c == "\x7f" for c in spec):
        raise InvalidCallError(
            f"invalid host {spec!r}: expected [user@]host[:port]",
            hint="a host name or address, no spaces or control characters, not starting with -",
        )
    port = int(m["port"]) if m["port"] else None
    if port is not None and not 0 < port < 65536:
        raise InvalidCallError(f"invalid port in host {spec!r}")
    return _StandInHost(m["user"], m["host"], port)


def _standin_ssh_argv(
    host: Any,
    remote_argv: list[str],
    *,
    ssh_config: str | None = None,
    control_path: str | None = None,
    sudo: bool = False,
    tty: bool = False,
) -> list[str]:
    argv = ["ssh", "-x", "-t" if tty else "-T", "-o", "BatchMode=yes"]
    if ssh_config:
        argv += ["-F", ssh_config]
    if control_path:
        argv += ["-o", f"ControlPath={control_path}"]
    if host.port is not None:
        argv += ["-p", str(host.port)]
    words = ["sudo", "-n", "--", *remote_argv] if sudo else list(remote_argv)
    return [*argv, "--", host.destination, shlex.join(words)]


try:  # h20's transport, once merged
    from .._bus.ssh import parse_host as _parse_host  # type: ignore[import-not-found,unused-ignore]
    from .._bus.ssh import ssh_argv as _ssh_argv  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # pragma: no cover - until then
    _parse_host = _standin_parse_host  # type: ignore[assignment,unused-ignore]
    _ssh_argv = _standin_ssh_argv  # type: ignore[assignment,unused-ignore]


class RemoteTarget(NamedTuple):
    """Where a remote journal is read: ``host`` (``[user@]host[:port][/container]``, ssh)
    or ``machine`` (a local container, ``journalctl -M``); neither: this machine's
    journalctl (what the tests compare with the library's own reader)."""

    host: str | None = None
    machine: str | None = None
    ssh_config: str | None = None
    sudo: bool = False

    @property
    def where(self) -> str:
        if self.host is not None:
            return f"host {self.host}"
        if self.machine is not None:
            return f"container {self.machine}"
        return "this machine (journalctl)"

    @classmethod
    def of(cls, target: Any) -> RemoteTarget:
        """The remote journal of a connection's :class:`~sysd._bus.address.Target`."""
        host = getattr(target, "host", None)
        machine = getattr(target, "machine", None)
        if host is None and machine is None:
            raise InvalidCallError(f"no remote journal behind {target.description}")
        return cls(
            host=host,
            machine=None if host is not None else machine,
            ssh_config=getattr(target, "ssh_config", None),
            sudo=bool(getattr(target, "sudo", False)),
        )


def journalctl_argv(target: RemoteTarget, args: list[str]) -> list[str]:
    """The local argv that runs ``journalctl ARGS`` where ``target`` says (pure)."""
    if target.host is not None and target.machine is not None:
        raise InvalidCallError("pass host= or machine=, not both")
    if target.machine is not None:
        name = check_machine_name(target.machine, field="machine", host=False)
        return ["journalctl", f"--machine={name}", *args]
    if target.host is None:
        return ["journalctl", *args]
    spec, slash, container = target.host.partition("/")
    host = _parse_host(spec)  # the host first: it is what ssh would see
    remote = ["journalctl", *args]
    if slash:
        name = check_machine_name(container, field="machine", host=False)
        remote = ["journalctl", f"--machine={name}", *args]
    config = target.ssh_config
    if config is None:
        config = os.environ.get("SYSD_SSH_CONFIG") or None
    argv: list[str] = _ssh_argv(host, remote, ssh_config=config, sudo=target.sudo)
    return argv


# ------------------------------------------------------------------------ the process


class _Stream:
    """One journalctl (or ssh) process and its stdout: started, read, ended (one owner)."""

    def __init__(self, argv: list[str], where: str) -> None:
        self.argv = argv
        self.where = where
        self.proc: subprocess.Popen[bytes] | None = None
        self.fd = -1
        self.stopped = False  # ended by us (its exit status says nothing)
        self._stderr: IO[bytes] | None = None

    def start(self) -> None:
        """Run it; a Ctrl-C meanwhile is raised once the process is kept (to be closed)."""
        with CriticalSection():
            self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
            try:
                self.proc = subprocess.Popen(
                    self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                    stderr=self._stderr, close_fds=True, bufsize=0,
                )  # fmt: skip
            except FileNotFoundError as exc:
                program = self.argv[0]
                raise RemoteJournalError(
                    f"cannot run {program} to read the journal of {self.where}: {exc.strerror}",
                    where=self.where, hint=f"install {program} on this machine",
                ) from None  # fmt: skip
            assert self.proc.stdout is not None
            self.fd = self.proc.stdout.fileno()
            os.set_blocking(self.fd, False)

    def read(self) -> bytes | None:
        """What is there now (``b""``: the end; None: nothing yet)."""
        try:
            return os.read(self.fd, _READ)
        except BlockingIOError:
            return None
        except OSError as exc:
            if exc.errno == _errno.EBADF and self.proc is None:
                return b""
            raise

    def finish(self) -> tuple[int, str]:
        """After the end of its output: its exit status and what it said on stderr."""
        proc = self.proc
        assert proc is not None
        status = proc.wait()
        return status, self._said()

    def _said(self) -> str:
        f = self._stderr
        if f is None:
            return ""
        try:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - _STDERR_KEEP))
            return f.read().decode("utf-8", "replace").strip()
        except (OSError, ValueError):
            return ""

    def close(self) -> None:
        """End the process (if still running) and release its pipes (idempotent)."""
        with CriticalSection():
            proc, self.proc = self.proc, None
            if proc is not None:
                if proc.poll() is None:
                    self.stopped = True
                    with contextlib.suppress(ProcessLookupError):
                        proc.send_signal(signal.SIGTERM)
                    try:
                        proc.wait(_TERM_GRACE)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait()
                if proc.stdout is not None:
                    proc.stdout.close()
            self.fd = -1
            stderr, self._stderr = self._stderr, None
            if stderr is not None:
                stderr.close()


# -------------------------------------------------------------------------- the reader


class _Core:
    """What both readers share: the plan, the stream(s), the parser and the selection.

    :meth:`pull` never waits: it reads what the process wrote, parses it and hands out
    the entries the plan keeps (and raises the process's failure once its entries
    are out).
    """

    def __init__(self, target: RemoteTarget, kwargs: dict[str, Any]) -> None:
        for key in ("directory",):
            if kwargs.get(key) is not None:
                raise InvalidCallError(f"{key}= reads local files: not with host= or machine=")
        kwargs.pop("directory", None)
        kwargs.pop("poll_interval", None)
        self.target = target
        self.plan: Plan = plan(**kwargs)
        self.matches = self.plan.matches  # the follow pass adds them after its start
        journalctl_argv(target, self.plan.args)  # check the target before anything runs
        self.stream: _Stream | None = None
        self.parser = ExportParser()
        self.ready: deque[Entry] = deque()
        self.held: list[Entry] = []  # newest first (reverse_buffer), handed out at the end
        self.kept = 0
        self.newest: str | None = None  # the newest cursor seen (for the follow pass)
        self.done = self.plan.empty
        self.no_such_units = False
        self.error: BaseException | None = None

    def start(self, args: list[str]) -> None:
        stream = _Stream(journalctl_argv(self.target, args), self.target.where)
        self.stream = stream
        stream.start()

    def open(self) -> None:
        if not self.done and self.stream is None:
            self.start(self.plan.args)

    def fileno(self) -> int:
        return self.stream.fd if self.stream is not None else -1

    def pull(self) -> bool:
        """Read and parse what there is; True when something happened (entries or the end)."""
        if self.done or self.stream is None:
            return self.done
        data = self.stream.read()
        if data is None:
            return False
        if data:
            try:
                entries = self.parser.feed(data)
            except JournalStreamError as exc:
                self._fail(exc)
                return True
            self._take(entries)
            return True
        self._ended()
        return True

    def _take(self, entries: list[Entry]) -> None:
        p = self.plan
        grep = p.grep
        for entry in entries:
            if self.done:
                return
            if self.newest is None and p.then is not None:
                self.newest = entry.cursor
            rt = entry._realtime if entry._realtime is not None else entry.realtime_usec
            if p.until is not None and rt > p.until:
                if p.stop_after_until:
                    self._stop()
                    return
                continue
            if p.since is not None and rt < p.since:
                if p.reverse_buffer:  # going back: nothing older is wanted
                    self._stop()
                    return
                continue
            if grep is not None:
                raw = _message(entry)
                if raw is None or grep.search(raw.decode("utf-8", "surrogateescape")) is None:
                    continue
            kept = entry if p.fields is None else _only(entry, p.fields)
            if p.reverse_buffer:
                self.held.append(kept)
            else:
                self.ready.append(kept)
            self.kept += 1
            if p.limit is not None and self.kept >= p.limit:
                self._stop()
                return

    def _stop(self) -> None:
        """Enough read: end the process, hand out what is held, follow on if planned."""
        if self.stream is not None:
            self.stream.close()
            self.stream = None
        self._pass_done()

    def _pass_done(self) -> None:
        if self.held:
            self.ready.extend(reversed(self.held))
            self.held = []
        then = self.plan.then
        if then is not None:
            self.plan = Plan(args=[], follow=True, since=None, grep=self.plan.grep,
                             fields=self.plan.fields)  # fmt: skip
            start = [f"--after-cursor={self.newest}"] if self.newest else ["--lines=0"]
            self.parser = ExportParser()
            # then ends with --lines=all: a later --lines=0 wins (getopt: the last one)
            self.start([*then, *start, *self.matches])
            return
        self.done = True

    def _ended(self) -> None:
        """The process closed its output: its status says whether that was the end."""
        stream = self.stream
        assert stream is not None
        status, said = stream.finish()
        self.stream = None
        stream.close()
        if status == 0:
            try:
                self.parser.close()
            except JournalStreamError as exc:
                self._fail(exc)
                return
            self._pass_done()
            return
        if self.plan.units and "Failed to add filter for units" in said:
            self.no_such_units = True  # a glob that matched no unit: nothing, as locally
            self.ready.clear()
            self.done = True
            return
        self._fail(_failure(self.target, status, said))

    def _fail(self, exc: BaseException) -> None:
        if self.stream is not None:
            self.stream.close()
            self.stream = None
        if self.held:
            self.ready.extend(reversed(self.held))
            self.held = []
        self.error = exc
        self.done = True

    def take_error(self) -> BaseException | None:
        error, self.error = self.error, None
        return error

    def close(self) -> None:
        self.done = True
        stream, self.stream = self.stream, None
        if stream is not None:
            stream.close()


def _message(entry: Entry) -> bytes | None:
    try:
        return entry.raw("MESSAGE")
    except KeyError:
        return None


def _only(entry: Entry, fields: list[bytes]) -> Entry:
    """The entry as the local reader reads it with ``fields=``: each field's first value,
    in the order asked."""
    items = entry._items
    picked = []
    for name in fields:
        prefix = name + b"="
        for item in items:
            if item.startswith(prefix):
                picked.append(item)
                break
    return Entry(picked, entry._realtime, entry._monotonic, entry._boot, entry._cursor)


def _failure(target: RemoteTarget, status: int, said: str) -> BaseException:
    from ..errors import JournalNotFoundError

    last = said.splitlines()[-1] if said else ""
    where = target.where
    if target.host is not None and status == 255:
        text = f"ssh to {target.host} failed" + (f": {last}" if last else "")
        return RemoteJournalError(
            text, where=where, status=status, stderr=said,
            hint="check that `ssh HOST true` works without a password (BatchMode)",
        )  # fmt: skip
    if "command not found" in said or status == 127:
        return RemoteJournalError(
            f"journalctl is not installed on {where}", where=where, status=status, stderr=said
        )
    if "is not available" in said or "No such boot" in said or "No journal files" in said:
        return JournalNotFoundError(f"journalctl on {where}: {last}", errno=_errno.ENODATA)
    text = f"journalctl on {where} exited with status {status}" + (f": {last}" if last else "")
    return RemoteJournalError(text, where=where, status=status, stderr=said)


class RemoteEntries(Iterator[Entry]):
    """A remote journal's entries (blocking): :func:`sysd.journal.entries` with ``host=``
    or ``machine=``.  Iterate it; :meth:`close` it (or ``with``) to end the process."""

    def __init__(self, target: RemoteTarget, **kwargs: Any) -> None:
        core = _Core(target, kwargs)  # checks everything: nothing runs on a bad argument
        self._core = core
        self._last: Entry | None = None
        try:
            core.open()
        except BaseException:
            core.close()
            raise

    @classmethod
    def for_target(
        cls, target: Any, name: str, *, user: bool = False, lines: int | None = 10,
        follow: bool = False, **kwargs: Any,
    ) -> RemoteEntries:  # fmt: skip
        """A unit's logs on the machine a connection's ``target`` reaches (``Unit.logs()``)."""
        key = "user_unit" if user else "unit"
        return cls(RemoteTarget.of(target), **{key: name, "lines": lines, "follow": follow},
                   **kwargs)  # fmt: skip

    @property
    def no_such_units(self) -> bool:
        """True when the unit globs matched no unit in that journal (nothing is read)."""
        return self._core.no_such_units

    @property
    def cursor(self) -> str | None:
        return self._last.cursor if self._last is not None else None

    @property
    def target(self) -> RemoteTarget:
        return self._core.target

    def fileno(self) -> int:
        """The pipe from the process (readable when it wrote; -1 when none runs)."""
        return self._core.fileno()

    def next_nowait(self) -> Entry | None:
        """The next entry if one is there now; None when not yet (following or reading);
        ``StopIteration`` at the end."""
        core = self._core
        try:
            while not core.ready:
                error = core.take_error()
                if error is not None:
                    self.close()
                    raise error
                if core.done:
                    self.close()
                    raise StopIteration
                if not core.pull():
                    return None
        except BaseException:
            self.close()
            raise
        entry = core.ready.popleft()
        self._last = entry
        return entry

    def wait(self, timeout: float | None = None) -> None:
        """Block until the process wrote something (or ended), at most ``timeout`` s."""
        fd = self._core.fileno()
        if fd < 0 or self._core.ready:
            return
        try:
            select.select([fd], [], [], timeout)
        except BaseException:
            self.close()
            raise

    def __iter__(self) -> RemoteEntries:
        return self

    def __next__(self) -> Entry:
        while True:
            entry = self.next_nowait()
            if entry is not None:
                return entry
            self.wait(None)

    def close(self) -> None:
        """End the process and drop what was not read (idempotent)."""
        self._core.close()

    @property
    def closed(self) -> bool:
        return self._core.done and self._core.stream is None

    def __enter__(self) -> RemoteEntries:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<RemoteEntries of {self._core.target.where} ({state})>"


class AsyncRemoteEntries:
    """The asyncio twin of :class:`RemoteEntries`: ``async for`` / ``async with``.

    The process starts at the first ``__anext__``; waiting is ``loop.add_reader`` on its
    pipe.  A cancelled ``__anext__`` ends the process (the stream is closed).
    """

    def __init__(self, target: RemoteTarget, **kwargs: Any) -> None:
        core = _Core(target, kwargs)
        self._core = core
        self._last: Entry | None = None

    @classmethod
    def for_target(
        cls, target: Any, name: str, *, user: bool = False, lines: int | None = 10,
        follow: bool = False, **kwargs: Any,
    ) -> AsyncRemoteEntries:  # fmt: skip
        key = "user_unit" if user else "unit"
        return cls(RemoteTarget.of(target), **{key: name, "lines": lines, "follow": follow},
                   **kwargs)  # fmt: skip

    @property
    def no_such_units(self) -> bool:
        return self._core.no_such_units

    @property
    def cursor(self) -> str | None:
        return self._last.cursor if self._last is not None else None

    @property
    def target(self) -> RemoteTarget:
        return self._core.target

    def __aiter__(self) -> AsyncRemoteEntries:
        return self

    async def __anext__(self) -> Entry:
        core = self._core
        try:
            if core.stream is None and not core.done:
                core.open()
            while not core.ready:
                error = core.take_error()
                if error is not None:
                    raise error
                if core.done:
                    raise StopAsyncIteration
                if not core.pull():
                    await self._readable(core.fileno())
        except BaseException:  # cancelled, interrupted, failed or at the end: stop it
            core.close()
            raise
        entry = core.ready.popleft()
        self._last = entry
        return entry

    async def _readable(self, fd: int) -> None:
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()

        def wake() -> None:
            if not waiter.done():
                waiter.set_result(None)

        loop.add_reader(fd, wake)
        try:
            await waiter
        finally:
            loop.remove_reader(fd)

    async def aclose(self) -> None:
        """End the process (idempotent)."""
        self._core.close()

    def close(self) -> None:
        self._core.close()

    async def __aenter__(self) -> AsyncRemoteEntries:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._core.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self._core.close()

    def __repr__(self) -> str:
        state = "closed" if self._core.done and self._core.stream is None else "open"
        return f"<AsyncRemoteEntries of {self._core.target.where} ({state})>"
