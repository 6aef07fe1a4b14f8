"""sysd.daemon without systemd: the datagrams it sends to a NOTIFY_SOCKET we bind ourselves
(path and abstract), validation tables, $LISTEN_* and $WATCHDOG_* parsing, the import cost.

The real manager's side is tests/systemd/test_daemon_e2e.py.
"""

from __future__ import annotations

import array
import errno
import json
import os
import pickle
import select
import socket
import struct
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from sysd import daemon
from sysd.daemon import (
    InvalidDaemonEnvironmentError,
    InvalidNotifyError,
    ListenFd,
    NotifyError,
    NotifyTimeoutError,
    Watchdog,
)
from sysd.errors import SysdError

SRC = Path(__file__).resolve().parents[2] / "src"
ENV_VARS = (
    "NOTIFY_SOCKET",
    "LISTEN_PID",
    "LISTEN_FDS",
    "LISTEN_FDNAMES",
    "WATCHDOG_USEC",
    "WATCHDOG_PID",
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


class FakeManager:
    """A datagram socket standing in for systemd's /run/systemd/notify."""

    def __init__(self, address: str) -> None:
        self.address = address  # as in $NOTIFY_SOCKET
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("\0" + address[1:] if address.startswith("@") else address)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.sock.settimeout(5)

    def recv(self) -> tuple[bytes, tuple[int, int, int] | None, list[int]]:
        """One datagram: payload, (pid, uid, gid), received fds (ours to close)."""
        ancsize = socket.CMSG_SPACE(struct.calcsize("iII")) + socket.CMSG_SPACE(253 * 4)
        data, ancdata, flags, _ = self.sock.recvmsg(8192, ancsize)
        assert not flags & (socket.MSG_TRUNC | socket.MSG_CTRUNC)
        creds = None
        fds: list[int] = []
        for level, kind, payload in ancdata:
            assert level == socket.SOL_SOCKET
            if kind == socket.SCM_CREDENTIALS:
                creds = struct.unpack("iII", payload)
            elif kind == socket.SCM_RIGHTS:
                fds += array.array("i", payload[: len(payload) - len(payload) % 4]).tolist()
        return data, creds, fds

    def pending(self) -> bool:
        readable, _, _ = select.select([self.sock], [], [], 0)
        return bool(readable)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(params=["path", "abstract"])
def manager(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FakeManager]:
    if request.param == "path":
        address = str(tmp_path / "notify")
    else:
        address = f"@sysd-test-notify-{uuid.uuid4().hex}"
    fake = FakeManager(address)
    monkeypatch.setenv("NOTIFY_SOCKET", address)
    yield fake
    fake.close()


# ---------------------------------------------------------------- no socket


def test_no_notify_socket_returns_false() -> None:
    assert daemon.notify(ready=True) is False
    assert daemon.notify(status="x", unset_environment=True) is False
    assert daemon.notify_barrier() is False
    assert Watchdog().ping() is False


def test_empty_notify_socket_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", "")
    assert daemon.notify(ready=True) is False


def test_input_is_checked_even_without_a_socket() -> None:
    with pytest.raises(InvalidNotifyError):
        daemon.notify(status="two\nlines")


# ------------------------------------------------------------- the datagram


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"ready": True}, b"READY=1"),
        ({"reloading": True}, b"RELOADING=1"),
        ({"stopping": True}, b"STOPPING=1"),
        ({"ready": True, "status": "serving"}, b"READY=1\nSTATUS=serving"),
        ({"status": ""}, b"STATUS="),  # clears StatusText
        ({"status": "Grüße ✓"}, "STATUS=Grüße ✓".encode()),
        ({"errno": 2}, b"ERRNO=2"),
        ({"errno": 0}, b"ERRNO=0"),
        (
            {"buserror": "org.freedesktop.DBus.Error.TimedOut"},
            b"BUSERROR=org.freedesktop.DBus.Error.TimedOut",
        ),
        ({"mainpid": 4711, "ready": True}, b"MAINPID=4711\nREADY=1"),
        ({"watchdog": True}, b"WATCHDOG=1"),
        ({"watchdog": "trigger"}, b"WATCHDOG=trigger"),
        ({"watchdog_usec": 20_000_000}, b"WATCHDOG_USEC=20000000"),
        ({"watchdog_usec": timedelta(seconds=2)}, b"WATCHDOG_USEC=2000000"),
        ({"watchdog_usec": 0}, b"WATCHDOG_USEC=0"),
        ({"extend_timeout": 1.5}, b"EXTEND_TIMEOUT_USEC=1500000"),
        ({"extend_timeout": 10}, b"EXTEND_TIMEOUT_USEC=10000000"),
        ({"extend_timeout": timedelta(milliseconds=250)}, b"EXTEND_TIMEOUT_USEC=250000"),
        ({"extend_timeout": 1e-7}, b"EXTEND_TIMEOUT_USEC=1"),  # rounded up, never to 0
        ({"fdstore_remove": True, "fdname": "old"}, b"FDSTOREREMOVE=1\nFDNAME=old"),
        ({"fields": {"X_PHASE": "warm", "X_N": 3}}, b"X_PHASE=warm\nX_N=3"),
        ({"status": "a", "fields": {"X_A": ""}}, b"STATUS=a\nX_A="),
    ],
)
def test_datagram(manager: FakeManager, kwargs: dict[str, Any], expected: bytes) -> None:
    assert daemon.notify(**kwargs) is True
    data, creds, fds = manager.recv()
    assert data == expected
    assert fds == []
    # The kernel attaches our credentials (the manager drops datagrams without them);
    # sysd adds none itself when they are ours.
    assert creds == (os.getpid(), os.getuid(), os.getgid())


def test_raw_state_lines(manager: FakeManager) -> None:
    assert daemon.notify("READY=1\nSTATUS=raw\n") is True
    assert manager.recv()[0] == b"READY=1\nSTATUS=raw"
    assert daemon.notify("X_A=1", status="typed") is True
    assert manager.recv()[0] == b"STATUS=typed\nX_A=1"


def test_largest_message_is_sent(manager: FakeManager) -> None:
    status = "x" * (daemon.NOTIFY_MESSAGE_MAX - len("STATUS="))
    assert daemon.notify(status=status)
    assert len(manager.recv()[0]) == daemon.NOTIFY_MESSAGE_MAX


def test_fdstore_passes_fds(manager: FakeManager) -> None:
    r, w = os.pipe()
    sock_a, sock_b = socket.socketpair()
    try:
        assert daemon.notify(fdstore=True, fdname="state", fds=[r, sock_a]) is True
        data, _, fds = manager.recv()
        assert data == b"FDSTORE=1\nFDNAME=state"
        assert len(fds) == 2
        got_r = os.fdopen(fds[0], "rb", buffering=0)
        got_sock = socket.socket(fileno=fds[1])
        with got_r, got_sock:
            os.write(w, b"through the store")
            assert got_r.read(17) == b"through the store"
            sock_b.sendall(b"ping")
            assert got_sock.recv(4) == b"ping"
            assert got_sock.family == socket.AF_UNIX
    finally:
        for fd in (r, w):
            os.close(fd)
        sock_a.close()
        sock_b.close()


def test_fdpoll_zero(manager: FakeManager) -> None:
    r, w = os.pipe()
    try:
        assert daemon.notify(fdstore=True, fdpoll=False, fds=[r])
        data, _, fds = manager.recv()
        assert data == b"FDSTORE=1\nFDPOLL=0"
        for fd in fds:
            os.close(fd)
    finally:
        os.close(r)
        os.close(w)


def test_fds_not_open_is_an_os_error(manager: FakeManager) -> None:
    closed = 999_999  # (a just-closed fd would be reused by the socket sysd opens)
    with pytest.raises(NotifyError) as info:
        daemon.notify(fdstore=True, fds=[closed])
    assert info.value.errno == errno.EBADF and isinstance(info.value, OSError)
    assert "not open" in str(info.value)


def test_credentials_on_behalf_of_another_pid_as_root(manager: FakeManager) -> None:
    if os.geteuid() != 0:
        pytest.fail("the test suite runs as root (inside the sandbox)")
    other = os.getppid()
    assert daemon.notify(ready=True, pid=other)
    _, creds, _ = manager.recv()
    assert creds == (other, os.getuid(), os.getgid())


def test_credentials_fall_back_without_privilege() -> None:
    """Faked credentials are refused (EPERM) to the unprivileged: sent with our own, as
    sd_pid_notify_with_fds() does.  An abstract socket: nobody may write to it."""
    if os.geteuid() != 0:
        pytest.fail("the test suite runs as root (inside the sandbox)")
    manager = FakeManager(f"@sysd-test-notify-{uuid.uuid4().hex}")
    code = f"""
        import os, sys
        sys.path.insert(0, {str(SRC)!r})
        from sysd import daemon
        print(os.getpid(), daemon.notify(ready=True, pid=os.getppid()))
    """
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={"NOTIFY_SOCKET": manager.address, "PATH": os.environ.get("PATH", "")},
        user=65534,
        group=65534,
        extra_groups=[],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    child_pid, sent = proc.stdout.split()
    assert sent == "True"
    try:
        data, creds, _ = manager.recv()
    finally:
        manager.close()
    assert data == b"READY=1"
    assert creds == (int(child_pid), 65534, 65534)


# ------------------------------------------------------------------ validation

BAD_CALLS: list[tuple[dict[str, Any], str | None]] = [
    ({"status": "two\nlines"}, "STATUS"),
    ({"status": "nul\0byte"}, "STATUS"),
    ({"status": "\udcff"}, "STATUS"),  # lone surrogate: not UTF-8
    ({"buserror": "a\nb"}, "BUSERROR"),
    ({"buserror": ""}, "BUSERROR"),
    ({"fdstore": True, "fds": [-1]}, "fds"),
    ({"fdstore": True, "fds": list(range(254))}, "fds"),
    ({"fdstore": True, "fds": [0], "fdname": "a:b"}, "FDNAME"),
    ({"fdstore": True, "fds": [0], "fdname": "tab\t"}, "FDNAME"),
    ({"fdstore": True, "fds": [0], "fdname": "caf\u00e9"}, "FDNAME"),
    ({"fdstore": True, "fds": [0], "fdname": "x" * 256}, "FDNAME"),
    ({"fdstore": True}, "FDSTORE"),
    ({"fds": [0], "ready": True}, "fds"),
    ({"fdname": "x", "ready": True}, "FDNAME"),
    ({"fdstore_remove": True}, "FDSTOREREMOVE"),
    ({"fdstore": True, "fdstore_remove": True, "fds": [0], "fdname": "x"}, "FDSTORE"),
    ({"fdpoll": False, "ready": True}, "FDPOLL"),
    ({"mainpid": 0}, "MAINPID"),
    ({"mainpid": -5}, "MAINPID"),
    ({"mainpid": True}, "MAINPID"),
    ({"mainpid": 2**31}, "MAINPID"),
    ({"pid": 0, "ready": True}, "pid"),
    ({"errno": -1}, "ERRNO"),
    ({"errno": 4096}, "ERRNO"),
    ({"ready": True, "stopping": True}, "STOPPING"),
    ({"ready": True, "reloading": True}, "RELOADING"),
    ({"watchdog": "yes"}, "WATCHDOG"),
    ({"watchdog_usec": -1}, "WATCHDOG_USEC"),
    ({"watchdog_usec": 1.5}, "WATCHDOG_USEC"),
    ({"extend_timeout": -0.5}, "EXTEND_TIMEOUT_USEC"),
    ({"extend_timeout": float("inf")}, "EXTEND_TIMEOUT_USEC"),
    ({"extend_timeout": float("nan")}, "EXTEND_TIMEOUT_USEC"),
    ({"fields": {"BARRIER": "1"}}, "BARRIER"),
    ({"fields": {"A=B": "1"}}, "A=B"),
    ({"fields": {"": "1"}}, ""),
    ({"fields": {"X_A": "1\n2"}}, "X_A"),
    ({}, None),
    ({"status": "x" * daemon.NOTIFY_MESSAGE_MAX}, None),
]


@pytest.mark.parametrize(("kwargs", "field"), BAD_CALLS)
def test_invalid_input(manager: FakeManager, kwargs: dict[str, Any], field: str | None) -> None:
    with pytest.raises(InvalidNotifyError) as info:
        daemon.notify(**kwargs)
    assert info.value.field == field
    assert isinstance(info.value, ValueError) and isinstance(info.value, SysdError)
    assert not manager.pending()  # nothing was sent


@pytest.mark.parametrize("state", ["BARRIER=1", "READY=1\nBARRIER=1", "A\0B"])
def test_invalid_raw_state(manager: FakeManager, state: str) -> None:
    with pytest.raises(InvalidNotifyError):
        daemon.notify(state)
    assert not manager.pending()


@pytest.mark.parametrize("name", ["", "stored", "a b", "x" * 255, "~!@#$%^&*()"])
def test_valid_fdnames(manager: FakeManager, name: str) -> None:
    r, w = os.pipe()
    try:
        assert daemon.notify(fdstore=True, fdname=name, fds=[r])
        data, _, fds = manager.recv()
        assert data == f"FDSTORE=1\nFDNAME={name}".encode()
        for fd in fds:
            os.close(fd)
    finally:
        os.close(r)
        os.close(w)


def test_fds_accept_objects_with_fileno(manager: FakeManager) -> None:
    a, b = socket.socketpair()
    with a, b:
        assert daemon.notify(fdstore=True, fds=[a])
        _, _, fds = manager.recv()
        assert len(fds) == 1
        os.close(fds[0])


# ------------------------------------------------------------- socket problems


@pytest.mark.parametrize(
    ("address", "code"),
    [
        ("relative/path", errno.EINVAL),
        ("@", errno.EINVAL),
        ("/", errno.EINVAL),
        ("vsock:2:1234", errno.EINVAL),
        ("/" + "x" * 107, errno.ENAMETOOLONG),
        ("@" + "x" * 107, errno.EINVAL),
    ],
)
def test_unusable_notify_socket(monkeypatch: pytest.MonkeyPatch, address: str, code: int) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", address)
    with pytest.raises(NotifyError) as info:
        daemon.notify(ready=True)
    assert info.value.errno == code
    assert info.value.address == address
    assert isinstance(info.value, OSError) and isinstance(info.value, SysdError)
    assert "hint:" in str(info.value)


def test_stale_notify_socket(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "gone"))
    with pytest.raises(NotifyError) as info:
        daemon.notify(ready=True)
    assert info.value.errno == errno.ENOENT
    assert "stale" in str(info.value)

    # A socket file nobody listens on any more.
    path = tmp_path / "dead"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as dead:
        dead.bind(str(path))
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    with pytest.raises(NotifyError) as info:
        daemon.notify(ready=True)
    assert info.value.errno == errno.ECONNREFUSED


def test_full_queue_waits_then_times_out(manager: FakeManager) -> None:
    """A manager that does not read: notify waits for room (EAGAIN), up to its deadline."""
    sent = 0
    with pytest.raises(NotifyTimeoutError) as info:
        for _ in range(100_000):
            daemon.notify(status=f"n{sent}", timeout=0.2)
            sent += 1
    assert sent > 0
    assert isinstance(info.value, TimeoutError) and isinstance(info.value, NotifyError)
    assert info.value.errno == errno.ETIMEDOUT

    with pytest.raises(NotifyTimeoutError):
        daemon.notify(status="no wait", timeout=0)

    # Room appears while we wait: the send goes through, well before the deadline.
    def drain() -> None:
        time.sleep(0.2)
        manager.recv()

    thread = threading.Thread(target=drain)
    thread.start()
    start = time.monotonic()
    assert daemon.notify(status="after", timeout=30) is True
    assert time.monotonic() - start < 20
    thread.join()


# --------------------------------------------------------- unset_environment


def test_unset_environment_after_success(manager: FakeManager) -> None:
    assert daemon.notify(ready=True, unset_environment=True)
    assert "NOTIFY_SOCKET" not in os.environ
    assert daemon.notify(ready=True) is False


def test_unset_environment_after_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", "relative")
    with pytest.raises(NotifyError):
        daemon.notify(ready=True, unset_environment=True)
    assert "NOTIFY_SOCKET" not in os.environ


# ------------------------------------------------------------------- barrier


def test_barrier(manager: FakeManager) -> None:
    def answer() -> None:
        data, _, fds = manager.recv()
        assert data == b"BARRIER=1" and len(fds) == 1
        time.sleep(0.05)
        os.close(fds[0])  # the manager closes the fd when it reaches the barrier

    thread = threading.Thread(target=answer)
    thread.start()
    assert daemon.notify_barrier(timeout=10) is True
    thread.join()


def test_barrier_times_out(manager: FakeManager) -> None:
    start = time.monotonic()
    with pytest.raises(NotifyTimeoutError):
        daemon.notify_barrier(timeout=0.2)
    assert 0.15 < time.monotonic() - start < 10
    _, _, fds = manager.recv()
    for fd in fds:
        os.close(fd)


def test_barrier_does_not_leak_fds(manager: FakeManager) -> None:
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(5):
        with pytest.raises(NotifyTimeoutError):
            daemon.notify_barrier(timeout=0)
        for fd in manager.recv()[2]:
            os.close(fd)
    assert len(os.listdir("/proc/self/fd")) == before


# ----------------------------------------------------------------- listen_fds


def test_listen_fds_none(monkeypatch: pytest.MonkeyPatch) -> None:
    assert daemon.listen_fds() == []
    assert daemon.listen_sockets() == []
    monkeypatch.setenv("LISTEN_FDS", "2")  # no LISTEN_PID
    assert daemon.listen_fds() == []
    monkeypatch.setenv("LISTEN_PID", str(os.getpid() + 1))  # someone else's
    assert daemon.listen_fds() == []
    monkeypatch.setenv("LISTEN_PID", str(os.getpid()))
    monkeypatch.delenv("LISTEN_FDS")
    assert daemon.listen_fds() == []


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"LISTEN_PID": "abc", "LISTEN_FDS": "1"}, "LISTEN_PID"),
        ({"LISTEN_PID": "0", "LISTEN_FDS": "1"}, "LISTEN_PID"),
        ({"LISTEN_PID": "-1", "LISTEN_FDS": "1"}, "LISTEN_PID"),
        ({"LISTEN_PID": "{pid}", "LISTEN_FDS": "0"}, "LISTEN_FDS"),
        ({"LISTEN_PID": "{pid}", "LISTEN_FDS": "-1"}, "LISTEN_FDS"),
        ({"LISTEN_PID": "{pid}", "LISTEN_FDS": "x"}, "LISTEN_FDS"),
        ({"LISTEN_PID": "{pid}", "LISTEN_FDS": "2", "LISTEN_FDNAMES": "one"}, "LISTEN_FDNAMES"),
        ({"LISTEN_PID": "{pid}", "LISTEN_FDS": "1", "LISTEN_FDNAMES": "a:b"}, "LISTEN_FDNAMES"),
        ({"LISTEN_PID": "{pid}", "LISTEN_FDS": "1", "LISTEN_FDNAMES": ""}, "LISTEN_FDNAMES"),
    ],
)
def test_listen_fds_malformed(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], variable: str
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value.replace("{pid}", str(os.getpid())))
    with pytest.raises(InvalidDaemonEnvironmentError) as info:
        daemon.listen_fds(unset_environment=True)
    assert info.value.variable == variable
    assert isinstance(info.value, ValueError)
    # unset_environment holds whatever happened
    assert not {"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"} & set(os.environ)


def _child(code: str, env: dict[str, str] | None = None) -> Any:
    """Run code in a fresh interpreter (fds 3... are ours to play with there); its JSON."""
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**os.environ, "PYTHONPATH": str(SRC), **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


PASS_FDS = """
    import fcntl, json, os, socket
    from sysd import daemon

    # Put a unix listener, a UDP socket and a pipe at fds 3, 4, 5 as systemd would.
    objects = [socket.socket(socket.AF_UNIX, socket.SOCK_STREAM),
               socket.socket(socket.AF_INET, socket.SOCK_DGRAM)]
    objects[0].bind("\\0sysd-test-listen-" + str(os.getpid()))
    objects[0].listen()
    r, w = os.pipe()
    high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 100) for fd in (objects[0].fileno(),
                                                           objects[1].fileno(), r)]
    for sock in objects:
        sock.detach()
    for i, fd in enumerate(high):
        os.dup2(fd, 3 + i, inheritable=True)
        os.close(fd)
    os.environ["LISTEN_PID"] = str(os.getpid())
    os.environ["LISTEN_FDS"] = "3"
"""


def test_listen_fds_with_names() -> None:
    out = _child(
        PASS_FDS
        + """
    os.environ["LISTEN_FDNAMES"] = "web:dns:state"
    fds = daemon.listen_fds()
    socks = daemon.listen_sockets()
    print(json.dumps({
        "fds": [list(entry) for entry in fds],
        "inheritable": [os.get_inheritable(fd) for fd, _ in fds],
        "is_socket": [entry.is_socket() for entry in fds],
        "socks": [[s.fileno(), int(s.family), int(s.type)] for s in socks],
        "web": [s.fileno() for s in daemon.listen_sockets("web")],
        "env": "LISTEN_FDS" in os.environ,
    }))
    """
    )
    assert out["fds"] == [[3, "web"], [4, "dns"], [5, "state"]]
    assert out["inheritable"] == [False, False, False]  # FD_CLOEXEC, as sd_listen_fds()
    assert out["is_socket"] == [True, True, False]
    assert out["socks"] == [
        [3, int(socket.AF_UNIX), int(socket.SOCK_STREAM)],
        [4, int(socket.AF_INET), int(socket.SOCK_DGRAM)],
    ]
    assert out["web"] == [3]
    assert out["env"] is True


def test_listen_fds_without_names_and_unset() -> None:
    out = _child(
        PASS_FDS
        + """
    fds = daemon.listen_fds(unset_environment=True)
    print(json.dumps({"fds": [list(e) for e in fds],
                      "left": sorted(k for k in os.environ if k.startswith("LISTEN_")),
                      "again": len(daemon.listen_fds())}))
    """
    )
    assert out["fds"] == [[3, "unknown"], [4, "unknown"], [5, "unknown"]]
    assert out["left"] == []
    assert out["again"] == 0


def test_listen_fds_empty_names_are_kept() -> None:
    out = _child(
        PASS_FDS
        + """
    os.environ["LISTEN_FDNAMES"] = "::"
    print(json.dumps([e.name for e in daemon.listen_fds()]))
    """
    )
    assert out == ["", "", ""]


def test_listen_fds_not_open() -> None:
    out = _child(
        """
        import json, os
        from sysd import daemon
        os.environ.update(LISTEN_PID=str(os.getpid()), LISTEN_FDS="300")
        try:
            daemon.listen_fds()
        except daemon.InvalidDaemonEnvironmentError as exc:
            print(json.dumps([exc.variable, str(exc)]))
        """
    )
    assert out[0] == "LISTEN_FDS"
    assert "not open" in out[1]


def test_listen_fd_record() -> None:
    entry = ListenFd(3, "web")
    fd, name = entry
    assert (fd, name) == (3, "web") and entry.fd == 3 and entry.name == "web"


# ------------------------------------------------------------------- watchdog


def test_watchdog_disabled() -> None:
    assert daemon.watchdog_enabled() is False
    assert daemon.watchdog_timeout() is None
    assert daemon.watchdog_interval() is None
    wd = Watchdog()
    assert not wd.enabled and wd.interval is None and wd.time_left() is None
    assert not wd.due()
    assert wd.ping_if_due() is False


def test_watchdog_enabled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", "3000000")
    assert daemon.watchdog_enabled() is True
    assert daemon.watchdog_timeout() == timedelta(seconds=3)
    assert daemon.watchdog_interval() == 1.5
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    assert daemon.watchdog_enabled() is True
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid() + 1))  # for another process
    assert daemon.watchdog_enabled() is False
    assert daemon.watchdog_interval() is None
    assert "WATCHDOG_PID" in os.environ
    daemon.watchdog_enabled(unset_environment=True)
    assert "WATCHDOG_PID" not in os.environ and "WATCHDOG_USEC" not in os.environ


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"WATCHDOG_USEC": "0"}, "WATCHDOG_USEC"),  # "not set" to systemd: -EINVAL
        ({"WATCHDOG_USEC": "abc"}, "WATCHDOG_USEC"),
        ({"WATCHDOG_USEC": "-1"}, "WATCHDOG_USEC"),
        ({"WATCHDOG_USEC": str(2**64 - 1)}, "WATCHDOG_USEC"),  # infinity
        ({"WATCHDOG_USEC": "1000", "WATCHDOG_PID": "x"}, "WATCHDOG_PID"),
    ],
)
def test_watchdog_malformed(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], variable: str
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(InvalidDaemonEnvironmentError) as info:
        daemon.watchdog_enabled()
    assert info.value.variable == variable


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_watchdog_helper(manager: FakeManager, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", "2000000")
    clock = FakeClock()
    wd = Watchdog(clock=clock)
    assert wd.enabled and wd.interval == 1.0 and wd.timeout == timedelta(seconds=2)
    assert wd.time_left() == 1.0 and not wd.due()
    assert wd.ping_if_due() is False
    assert not manager.pending()
    clock.now += 0.6
    assert wd.time_left() == pytest.approx(0.4)
    clock.now += 0.5
    assert wd.due() and wd.time_left() == 0.0
    assert wd.ping_if_due() is True
    assert manager.recv()[0] == b"WATCHDOG=1"
    assert wd.time_left() == 1.0
    assert wd.trigger() is True
    assert manager.recv()[0] == b"WATCHDOG=trigger"
    assert wd.set_timeout(timedelta(seconds=10)) is True
    assert manager.recv()[0] == b"WATCHDOG_USEC=10000000"
    assert wd.interval == 5.0 and wd.time_left() == 5.0
    assert "interval=5.0" in repr(wd)


# --------------------------------------------------------------------- errors


def test_errors_pickle() -> None:
    errors: list[SysdError] = [
        InvalidNotifyError("bad", field="STATUS", hint="one line"),
        InvalidDaemonEnvironmentError("bad", variable="LISTEN_FDS"),
        NotifyError("gone", address="/run/x", errno=errno.ENOENT, hint="stale"),
        NotifyTimeoutError("slow", address="@x", errno=errno.ETIMEDOUT),
    ]
    for exc in errors:
        copy = pickle.loads(pickle.dumps(exc))
        assert type(copy) is type(exc) and str(copy) == str(exc)
        for attr in ("field", "variable", "address", "errno", "strerror", "hint"):
            assert getattr(copy, attr, None) == getattr(exc, attr, None)


def test_error_tree() -> None:
    assert issubclass(InvalidNotifyError, ValueError)
    assert issubclass(InvalidDaemonEnvironmentError, ValueError)
    assert issubclass(NotifyError, OSError)
    assert issubclass(NotifyTimeoutError, TimeoutError)
    assert issubclass(NotifyTimeoutError, NotifyError)
    for cls in (InvalidNotifyError, InvalidDaemonEnvironmentError, NotifyError):
        assert issubclass(cls, SysdError)
    exc = NotifyError("x", errno=errno.EACCES)
    assert exc.strerror == os.strerror(errno.EACCES) and str(exc) == "x"


def test_booted_is_sd_booted() -> None:
    assert daemon.booted() is os.path.isdir("/run/systemd/system/")


# ---------------------------------------------------------------- import cost


def test_daemon_module_needs_neither_asyncio_nor_dbus_fast() -> None:
    """sysd/daemon.py and what it imports, with sysd/__init__ bypassed: importing asyncio
    or dbus_fast fails there."""
    code = f"""
        import importlib.abc, sys, types
        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("asyncio", "dbus_fast"):
                    raise ImportError("blocked: " + name)
                return None
        sys.meta_path.insert(0, Block())
        pkg = types.ModuleType("sysd")
        pkg.__path__ = [{str(SRC / "sysd")!r}]
        sys.modules["sysd"] = pkg
        import sysd.daemon
        assert sysd.daemon.notify(ready=True) is False
        print("ok")
    """
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={k: v for k, v in os.environ.items() if k != "NOTIFY_SOCKET"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


def _modules_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sys.modules))"
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(SRC)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return set(proc.stdout.split())


def test_import_sysd_daemon_does_not_import_asyncio() -> None:
    modules = _modules_after("import sysd.daemon")
    assert "asyncio" not in modules
    assert not any(m.startswith(("sysd._async", "sysd.aio")) for m in modules)


def test_import_sysd_daemon_does_not_import_dbus_fast() -> None:
    modules = _modules_after("import sysd.daemon")
    assert not any(m.split(".")[0] == "dbus_fast" for m in modules)
