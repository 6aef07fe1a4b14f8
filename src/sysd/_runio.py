"""The bytes of a run: its pipes and pseudo terminal, the pump thread, our terminal.

No asyncio here: the pump moves bytes in a thread of its own (so a service writing
megabytes never blocks on a full pipe while we wait on the bus), shared by both
flavours of :mod:`sysd._async.run`.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import selectors
import struct
import subprocess
import termios
import threading
import time
from typing import TYPE_CHECKING, Any, BinaryIO

from ._core.run import (
    Prop,
    Redirect,
    RunSpec,
    SupportsFileno,
)

if TYPE_CHECKING:
    pass

_GATE_LIMIT = 5.0  # seconds terminal input waits for the service's exec at most
#: What ``stdin``/``stdout``/``stderr`` take: None (systemd's default), an fd, a file
#: object, or ``sysd.PIPE``/``sysd.DEVNULL``/``sysd.STDOUT``.
Stream = int | SupportsFileno | Redirect | None


def _fileno(value: object) -> int:
    if isinstance(value, int):
        return value
    fileno = value.fileno  # type: ignore[attr-defined]
    fd = fileno()
    assert isinstance(fd, int)
    return fd


def _overridden(spec: RunSpec, name: str) -> bool:
    return any(a.name == name for a in spec.properties)


# ========================================================================= services


# ============================================================================ stdio


class _Stdio:
    """The unit's stdin/stdout/stderr: which fds it gets, what the pump moves.

    ``prepare()`` opens pipes (or the pty); ``child`` maps 0/1/2 to an fd to give,
    ``"null"``, or None (the default: the journal for a service, our own stdio for
    a scope).  The pump owns the fds on our side from then on; ``close_child_ends()``
    closes our copies of the ends given away, once systemd (or the child) has them.
    """

    def __init__(
        self,
        stdin: Stream,
        stdout: Stream,
        stderr: Stream,
        data: bytes | None,
        *,
        pty: bool,
        wait: bool,
        opened: tuple[int, str] | None = None,
    ) -> None:
        self.stdin, self.stdout, self.stderr = stdin, stdout, stderr
        self.data = data
        self.pty = pty
        self.opened = opened  # a pty opened elsewhere (a container's): master, slave path
        self.wait = wait
        self.child: dict[int, int | str | None] = {0: None, 1: None, 2: None}
        self.tty_path: str | None = None
        self.pump: _Pump | None = None
        self.stdin_file: BinaryIO | None = None
        self._given: list[int] = []  # our copies of fds given away: closed after the call

    def _get_pump(self) -> _Pump:
        if self.pump is None:
            self.pump = _Pump()
        return self.pump

    def _pipe(self) -> tuple[int, int]:
        r, w = os.pipe()
        return r, w

    def prepare(self) -> None:
        try:
            if self.pty:
                self._prepare_pty()
            else:
                self._prepare_pipes()
        except BaseException:
            self.discard()
            raise

    def _prepare_pipes(self) -> None:
        stdin, stdout, stderr = self.stdin, self.stdout, self.stderr
        if stdin is Redirect.DEVNULL:
            self.child[0] = "null"
        elif stdin is Redirect.PIPE:
            r, w = self._pipe()
            self._given.append(r)
            self.child[0] = r
            if self.data is not None:
                self._get_pump().write(w, self.data, close=True)
            elif not self.wait:
                self.stdin_file = open(w, "wb")  # noqa: SIM115 - the caller's to close
            else:
                os.close(w)  # nothing to send: EOF at once
        elif stdin is not None:
            self.child[0] = _fileno(stdin)
        if stdout is Redirect.DEVNULL:
            self.child[1] = "null"
        elif stdout is Redirect.PIPE:
            r, w = self._pipe()
            self._given.append(w)
            self._get_pump().capture(r, "stdout")
            self.child[1] = w
        elif stdout is not None:
            self.child[1] = _fileno(stdout)
        if stderr is Redirect.STDOUT:
            self.child[2] = self.child[1] if stdout is not None else "stdout"
        elif stderr is Redirect.DEVNULL:
            self.child[2] = "null"
        elif stderr is Redirect.PIPE:
            r, w = self._pipe()
            self._given.append(w)
            self._get_pump().capture(r, "stderr")
            self.child[2] = w
        elif stderr is not None:
            self.child[2] = _fileno(stderr)

    def _prepare_pty(self) -> None:
        pump = self._get_pump()
        slave: int | str
        if self.opened is not None:  # the service opens TTYPath itself (StandardInput=tty)
            (master, self.tty_path), self.opened = self.opened, None
            pump.own(master)
            slave = "tty"
        else:
            master, slave = os.openpty()
            self._given.append(slave)
            pump.own(master)
            self.tty_path = os.ttyname(slave)
        os.set_blocking(master, False)
        stdin, stdout, stderr = self.stdin, self.stdout, self.stderr
        # what the terminal reads: our stdin, input= bytes, a given fd, or nothing
        if stdin is None:
            if _valid_fd(0):
                pump.forward_in(0, master, terminal=os.isatty(0))
        elif stdin is Redirect.PIPE:
            if self.data is not None:
                pump.write(master, self.data, close=False)
        elif stdin is not Redirect.DEVNULL:
            pump.forward_in(_fileno(stdin), master, terminal=False)
        # what it writes: to our stdout, captured, to a given fd, or dropped
        if stdout is None:
            pump.tty_output(master, 1 if _valid_fd(1) else None)
        elif stdout is Redirect.PIPE:
            pump.tty_output(master, None, key="stdout")
        elif stdout is Redirect.DEVNULL:
            pump.tty_output(master, None)
        else:
            pump.tty_output(master, _fileno(stdout))
        self.child[0] = self.child[1] = slave
        if stderr is None or stderr is Redirect.STDOUT:
            self.child[2] = slave
        elif stderr is Redirect.DEVNULL:
            self.child[2] = "null"
        elif stderr is Redirect.PIPE:
            r, w = self._pipe()
            self._given.append(w)
            pump.capture(r, "stderr")
            self.child[2] = w
        else:
            self.child[2] = _fileno(stderr)
        pump.copy_window_size(master)
        pump.hold_input_until_exec(master)

    def service_props(self, spec: RunSpec) -> tuple[list[Prop], list[str]]:
        """(``Standard*``/``TTYPath`` properties, ``TERM=`` for the environment)."""
        props: list[Prop] = []
        names = {0: "StandardInput", 1: "StandardOutput", 2: "StandardError"}
        for fd, value in self.child.items():
            if isinstance(value, int):
                props.append((names[fd] + "FileDescriptor", "h", value))
            elif value in ("null", "tty"):
                props.append((names[fd], "s", value))
        if (
            self.child[2] is None
            and self.child[1] is not None
            and not _overridden(spec, "StandardError")
        ):
            # None means the journal (systemd's "inherit" would follow stdout)
            props.append(("StandardError", "s", "journal"))
        env: list[str] = []
        if self.tty_path is not None:
            props.append(("TTYPath", "s", self.tty_path))
        terminal = self.tty_path is not None or any(
            isinstance(v, int) and _isatty(v) for v in self.child.values()
        )
        term = os.environ.get("TERM")
        if terminal and term and "\0" not in term:
            env.append(f"TERM={term}")
        return props, env

    def popen_args(self) -> dict[str, Any]:
        """stdin/stdout/stderr for subprocess.Popen (a scope's child)."""
        out: dict[str, Any] = {}
        for fd, key in ((0, "stdin"), (1, "stdout"), (2, "stderr")):
            value = self.child[fd]
            if value == "null":
                out[key] = subprocess.DEVNULL
            elif value == "stdout":
                out[key] = subprocess.STDOUT
            else:
                out[key] = value
        return out

    def close_child_ends(self) -> None:
        fds, self._given = self._given, []
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)

    def discard(self) -> None:
        """Nothing will run: close everything (when the pump thread never started)."""
        if self.opened is not None:
            os.close(self.opened[0])
            self.opened = None
        self.close_child_ends()
        if self.pump is not None:
            self.pump.close_fds()
        if self.stdin_file is not None:
            with contextlib.suppress(OSError):
                self.stdin_file.close()


def _valid_fd(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def _isatty(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False


class _Pump:
    """Moves bytes between sysd's side and the unit's stdio, in a thread of its own.

    Channels: bytes to *write* to an fd (then close it, for a pipe); fds to
    *capture* until EOF; a pty master whose output goes to an fd (or is captured
    or dropped) and into which an input fd is *forwarded* (our terminal, in raw
    mode, with its window size, and ``^]`` three times within a second to let go).
    ``run()`` returns when every output reached EOF (the unit and systemd closed
    their ends) and every write is done; ``finish()`` makes it read what is left
    and return; ``abort()`` makes it return at once.  It closes the fds it owns
    (pipe ends and the master), never the ones it was lent (our stdin/stdout).
    """

    ESCAPE = 0x1D  # ^]

    def __init__(self) -> None:
        self._owned: set[int] = set()
        self._writes: dict[int, tuple[memoryview, bool]] = {}  # fd -> (left, close after)
        self._reads: dict[int, tuple[str | None, int | None]] = {}  # fd -> (key, copy to)
        self._forwards: dict[int, int] = {}  # input fd -> pty master
        self._pending: dict[int, bytearray] = {}  # master -> forwarded bytes not yet written
        self._terminal_in: int | None = None
        self._terminal = _Terminal()
        self._held: set[int] = set()  # fds left alone until take_terminal()
        self.last_byte: int | None = None  # the last byte written to our terminal
        self._winsize_master: int | None = None
        self._buffers: dict[str, bytearray] = {}
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._finishing = False
        self._aborted = False
        self.disconnected = False  # ^] ^] ^]: the user let go of the terminal
        self._escapes: list[float] = []
        self._gated: int | None = None  # a pty master whose input waits for the exec
        self._gate_deadline = 0.0

    # --------------------------------------------------------------- setting up

    def hold_input_until_exec(self, master: int) -> None:
        """Write nothing into the terminal until the service's process executed.

        systemd resets the terminal it gets on stdin (``reset_terminal_fd()``: a
        ``tcflush(TCIOFLUSH)``) in the forked child before ``execve()``; bytes
        written earlier would be thrown away.  The child is found as the
        terminal's foreground process group; it has executed once its binary
        differs from its parent's (the manager's).
        """
        self._gated = master
        self._gate_deadline = time.monotonic() + _GATE_LIMIT

    def own(self, fd: int) -> None:
        self._owned.add(fd)

    def write(self, fd: int, data: bytes, *, close: bool) -> None:
        self.own(fd)
        os.set_blocking(fd, False)
        self._writes[fd] = (memoryview(data), close)

    def capture(self, fd: int, key: str) -> None:
        self.own(fd)
        os.set_blocking(fd, False)
        self._buffers.setdefault(key, bytearray())
        self._reads[fd] = (key, None)

    def tty_output(self, master: int, to_fd: int | None, key: str | None = None) -> None:
        if key is not None:
            self._buffers.setdefault(key, bytearray())
        self._reads[master] = (key, to_fd)
        if to_fd is not None and _isatty(to_fd):
            self._terminal.out_fd = to_fd
            self._held.add(master)

    def forward_in(self, fd: int, master: int, *, terminal: bool) -> None:
        self._forwards[fd] = master
        if terminal:
            self._terminal_in = fd
            self._terminal.in_fd = fd
            self._held.add(fd)

    def copy_window_size(self, master: int) -> None:
        self._winsize_master = master
        self._sync_winsize()

    def output(self, key: str) -> bytes | None:
        buf = self._buffers.get(key)
        return bytes(buf) if buf is not None else None

    # ------------------------------------------------------------ from outside

    def finish(self) -> None:
        """The unit is done: read what is there, then stop."""
        self._finishing = True
        self._wake()

    def abort(self) -> None:
        """Stop now."""
        self._aborted = True
        self._wake()

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")

    # -------------------------------------------------------------- the thread

    def run(self) -> None:
        try:
            self._loop()
        finally:
            self.release_terminal()
            self.close_fds()

    # --------------------------------------------------------- our terminal

    def take_terminal(self) -> None:
        """Start forwarding our terminal: raw mode, then the unit's output and our input.

        Until then (the unit is being started, the caller prints what it started, as
        systemd-run does before it forwards) our terminal stays cooked and the unit's
        output waits in the pty.  Called from the caller's thread; idempotent.
        """
        self._terminal.make_raw()
        if self._held:
            self._held.clear()
            self._wake()

    def release_terminal(self) -> None:
        """Give our terminal back: its modes as they were, the cursor at a line's start."""
        self._terminal.restore(self.last_byte)

    def _loop(self) -> None:
        sel = selectors.DefaultSelector()
        try:
            sel.register(self._wake_r, selectors.EVENT_READ)
            registered: dict[int, int] = {}
            while not self._aborted:
                if not self._reads and not self._writes:
                    return  # every output reached EOF, every input was written
                if self._finishing and not self._reads:
                    return
                want = self._interest()
                for fd in list(registered):
                    if fd not in want:
                        sel.unregister(fd)
                        del registered[fd]
                for fd, events in want.items():
                    if registered.get(fd) != events:
                        if fd in registered:
                            sel.modify(fd, events)
                        else:
                            sel.register(fd, events)
                        registered[fd] = events
                timeout = None
                if self._finishing:
                    timeout = 0.05
                elif self._gated is not None and (
                    self._gated in self._writes or self._pending.get(self._gated)
                ):
                    timeout = 0.002  # input waits for the exec: look again soon
                elif self._terminal_in is not None and self._winsize_master is not None:
                    timeout = 0.25  # follow the terminal's window size
                ready = sel.select(timeout)
                if not ready:
                    if self._finishing:
                        return  # nothing more arrived: done
                    self._sync_winsize()
                    continue
                for key, events in ready:
                    fd = key.fd
                    if fd == self._wake_r:
                        with contextlib.suppress(OSError):
                            os.read(fd, 512)
                        continue
                    if events & selectors.EVENT_WRITE:
                        self._on_writable(fd)
                    if events & selectors.EVENT_READ:
                        self._on_readable(fd)
        finally:
            sel.close()

    def _interest(self) -> dict[int, int]:
        want: dict[int, int] = {}
        held = self._held
        for fd in self._reads:
            if fd not in held:
                want[fd] = selectors.EVENT_READ
        if not self._finishing:
            gated = self._gate_closed()
            for fd, master in self._forwards.items():
                if fd not in held and not self._pending.get(master):
                    want[fd] = want.get(fd, 0) | selectors.EVENT_READ
            for fd in self._writes:
                if fd != gated:
                    want[fd] = want.get(fd, 0) | selectors.EVENT_WRITE
            for master, buf in self._pending.items():
                if buf and master != gated:
                    want[master] = want.get(master, 0) | selectors.EVENT_WRITE
        return want

    def _gate_closed(self) -> int | None:
        """The master input must still wait for (None once the child executed)."""
        master = self._gated
        if master is None:
            return None
        if time.monotonic() > self._gate_deadline or _child_executed(master):
            self._gated = None
            return None
        return master

    def _on_writable(self, fd: int) -> None:
        if fd in self._writes:
            view, close = self._writes[fd]
            try:
                n = os.write(fd, view[:65536])
            except BlockingIOError:
                return
            except OSError:  # EPIPE: the reader is gone
                n = len(view)
            view = view[n:]
            if view:
                self._writes[fd] = (view, close)
                return
            del self._writes[fd]
            if close:
                self._close(fd)
            return
        buf = self._pending.get(fd)
        if buf:
            try:
                n = os.write(fd, buf)
            except BlockingIOError:
                return
            except OSError:
                buf.clear()
                return
            del buf[:n]

    def _on_readable(self, fd: int) -> None:
        if fd in self._forwards:
            self._forward(fd)
        if fd not in self._reads:
            return
        key, to_fd = self._reads[fd]
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            return
        except OSError:  # EIO: the pty has no slave any more -- its EOF
            chunk = b""
        if not chunk:
            del self._reads[fd]
            self._forwards = {i: m for i, m in self._forwards.items() if m != fd}
            self._pending.pop(fd, None)
            self._writes.pop(fd, None)
            self._close(fd)
            return
        if key is not None:
            self._buffers[key] += chunk
        if to_fd is not None:
            _write_all(to_fd, chunk)
            if to_fd == self._terminal.out_fd:
                self.last_byte = chunk[-1]

    def _forward(self, fd: int) -> None:
        master = self._forwards[fd]
        try:
            chunk = os.read(fd, 4096)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:  # our input ended: stop forwarding (the terminal stays)
            del self._forwards[fd]
            return
        if fd == self._terminal_in and self._escaped(chunk):
            self.disconnected = True
            self._aborted = True
            return
        self._pending.setdefault(master, bytearray()).extend(chunk)

    def _escaped(self, chunk: bytes) -> bool:
        now = time.monotonic()
        for b in chunk:
            if b == self.ESCAPE:
                self._escapes = [t for t in self._escapes if now - t < 1.0] + [now]
                if len(self._escapes) >= 3:
                    return True
            else:
                self._escapes.clear()
        return False

    def _sync_winsize(self) -> None:
        master = self._winsize_master
        if master is None:
            return
        for fd in (self._terminal_in, 1, 0):
            if fd is None:
                continue
            try:
                size = fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8)
            except OSError:
                continue
            rows, cols = struct.unpack("HHHH", size)[:2]
            if rows and cols:
                with contextlib.suppress(OSError):
                    current = fcntl.ioctl(master, termios.TIOCGWINSZ, b"\0" * 8)
                    if current != size:
                        fcntl.ioctl(master, termios.TIOCSWINSZ, size)
                return

    def _close(self, fd: int) -> None:
        if fd in self._owned:
            self._owned.discard(fd)
            with contextlib.suppress(OSError):
                os.close(fd)

    def close_fds(self) -> None:
        """Close every fd the pump owns (and its wake-up pipe); idempotent."""
        for fd in list(self._owned):
            self._close(fd)
        self._reads.clear()
        self._writes.clear()
        self._pending.clear()
        fds = (self._wake_r, self._wake_w)
        self._wake_r = self._wake_w = -1
        for fd in fds:
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)


class _Terminal:
    """Our terminal while a pty is forwarded to it, handled as systemd 252's ptyfwd.c does.

    ``make_raw()``: the input terminal gets ``cfmakeraw()`` (keeping its output flags
    when the output is another terminal); an output terminal that is not the input's
    gets raw output (no ``\\n`` -> ``\\r\\n``: the service's pty already did that)
    but keeps its input and local flags.  ``restore()`` puts back what was saved and,
    when something was written and its last byte was not a newline, writes one, so
    that what follows (a summary, the shell prompt) starts on a line of its own, as
    systemd-run does.  Both may be called from any thread, each takes effect once.
    """

    def __init__(self) -> None:
        self.in_fd: int | None = None
        self.out_fd: int | None = None
        self._saved: list[tuple[int, list[Any]]] = []
        self._raw = False
        self._done = False
        self._lock = threading.Lock()

    def make_raw(self) -> None:
        with self._lock:
            if self._raw or self._done:
                return
            self._raw = True
            same = _same_file(self.in_fd, self.out_fd)
            if self.in_fd is not None:
                with contextlib.suppress(termios.error, OSError):
                    saved = termios.tcgetattr(self.in_fd)
                    raw = _cfmakeraw(saved)
                    if not same:
                        raw[1] = saved[1]  # oflag: the output is someone else's
                    termios.tcsetattr(self.in_fd, termios.TCSANOW, raw)
                    self._saved.append((self.in_fd, saved))
            if self.out_fd is not None and not same:
                with contextlib.suppress(termios.error, OSError):
                    saved = termios.tcgetattr(self.out_fd)
                    raw = _cfmakeraw(saved)
                    raw[0], raw[3] = saved[0], saved[3]  # iflag, lflag
                    termios.tcsetattr(self.out_fd, termios.TCSANOW, raw)
                    self._saved.append((self.out_fd, saved))

    def restore(self, last_byte: int | None) -> None:
        with self._lock:
            if self._done:
                return
            self._done = True
            for fd, saved in reversed(self._saved):
                with contextlib.suppress(termios.error, OSError):
                    termios.tcsetattr(fd, termios.TCSANOW, saved)
            self._saved.clear()
            if self.out_fd is not None and last_byte is not None and last_byte != 0x0A:
                _write_all(self.out_fd, b"\n")


def _cfmakeraw(mode: list[Any]) -> list[Any]:
    """glibc's ``cfmakeraw()`` on a ``termios.tcgetattr()`` list (a new list)."""
    iflag, oflag, cflag, lflag = mode[:4]
    iflag &= ~(
        termios.IGNBRK
        | termios.BRKINT
        | termios.PARMRK
        | termios.ISTRIP
        | termios.INLCR
        | termios.IGNCR
        | termios.ICRNL
        | termios.IXON
    )
    oflag &= ~termios.OPOST
    lflag &= ~(termios.ECHO | termios.ECHONL | termios.ICANON | termios.ISIG | termios.IEXTEN)
    cflag &= ~(termios.CSIZE | termios.PARENB)
    cflag |= termios.CS8
    cc = list(mode[6])
    cc[termios.VMIN] = 1
    cc[termios.VTIME] = 0
    return [iflag, oflag, cflag, lflag, mode[4], mode[5], cc]


def _same_file(a: int | None, b: int | None) -> bool:
    if a is None or b is None:
        return False
    try:
        sa, sb = os.fstat(a), os.fstat(b)
    except OSError:
        return False
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


def _child_executed(master: int) -> bool:
    """Whether the process that owns the pty as its terminal has executed its command.

    Before ``execve()`` the child is a fork of the manager: the same binary, and not
    readable for others when the manager is not dumpable (a user manager); after it, its
    own binary.
    """
    try:
        pgrp = os.tcgetpgrp(master)
    except OSError:
        return False
    if pgrp <= 0:
        return False
    try:
        with open(f"/proc/{pgrp}/stat", "rb") as f:
            stat = f.read()
        ppid = int(stat.rpartition(b")")[2].split()[1])
        exe = os.readlink(f"/proc/{pgrp}/exe")
    except (OSError, ValueError, IndexError):
        return False
    try:
        return exe != os.readlink(f"/proc/{ppid}/exe")
    except OSError:
        return True  # the manager's binary is hidden from us, the child's is not: executed


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            n = os.write(fd, view)
        except BlockingIOError:
            time.sleep(0.005)
            continue
        except OSError:
            return  # our side went away (EPIPE): drop it
        view = view[n:]
