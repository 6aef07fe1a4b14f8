"""sysd.daemon against the real systemd 252 (RELIABILITY.md 40).

Every service here is a transient unit started with ``systemd-run`` running a small Python
script that uses :mod:`sysd.daemon`; the test reads the unit's state over D-Bus with sysd.
Services never race the test: where timing matters they wait for a file the test creates
(``wait_file``) and report back through files (``report``), so the polls below have
generous deadlines and no fixed sleeps, except where a duration is the point (watchdog,
EXTEND_TIMEOUT_USEC).
"""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

import sysd
from sysd import daemon
from sysd._sync.unit import Unit

SRC = Path(__file__).resolve().parents[2] / "src"
T = TypeVar("T")

PRELUDE = """\
import json, os, signal, socket, sys, time
from datetime import timedelta
from pathlib import Path
from sysd import daemon

CTL = Path(sys.argv[1])

def wait_file(name, timeout=120):
    deadline = time.monotonic() + timeout
    while not (CTL / name).exists():
        if time.monotonic() > deadline:
            sys.exit(f"timed out waiting for {name}")
        time.sleep(0.01)

def report(name, value):
    tmp = CTL / (name + ".tmp")
    tmp.write_text(json.dumps(value))
    os.replace(tmp, CTL / name)

"""


def wait_for(check: Callable[[], T], what: str, timeout: float = 30.0) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)


class Services:
    """Transient services running sysd.daemon scripts; stopped and reset afterwards."""

    def __init__(self, sd: sysd.Systemd) -> None:
        self.sd = sd
        self.tag = uuid.uuid4().hex[:8]
        self.ctl = Path(tempfile.mkdtemp(prefix="sysd-daemon-test-", dir="/run"))
        self.units: list[str] = []
        self.paths: list[Path] = []

    def name(self, stem: str) -> str:
        return f"sysdt-daemon-{stem}-{self.tag}"

    def run(
        self,
        stem: str,
        body: str,
        *properties: str,
        socket_properties: tuple[str, ...] = (),
    ) -> Unit:
        """Start the script as NAME.service (behind NAME.socket with socket_properties)."""
        name = self.name(stem)
        script = self.ctl / f"svc_{stem}.py"  # (never "socket.py": it would shadow socket)
        script.write_text(PRELUDE + textwrap.dedent(body))
        cmd = [
            "systemd-run",
            f"--unit={name}",
            "--quiet",
            "-E",
            f"PYTHONPATH={SRC}",
            "-E",
            "PYTHONDONTWRITEBYTECODE=1",
            "-E",
            "PYTHONUNBUFFERED=1",
        ]
        for prop in properties:
            cmd += ["-p", prop]
        for prop in socket_properties:
            cmd.append(f"--socket-property={prop}")
        if not socket_properties:
            cmd.append("--no-block")  # a Type=notify start job waits for READY=1
        cmd += [sys.executable, str(script), str(self.ctl)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
        assert proc.returncode == 0, proc.stderr
        self.units.append(name)
        return self.sd.unit(f"{name}.{'socket' if socket_properties else 'service'}")

    def journal(self, stem: str) -> str:
        """The service's journal, for failure messages."""
        proc = subprocess.run(
            ["journalctl", "--no-pager", "-q", "-o", "cat", "-u", f"{self.name(stem)}.service"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        return proc.stdout

    def touch(self, name: str) -> None:
        (self.ctl / name).touch()

    def read(self, name: str, timeout: float = 30.0) -> Any:
        path = self.ctl / name
        wait_for(path.exists, f"the service to report {name!r}", timeout)
        return json.loads(path.read_text())

    def cleanup(self) -> None:
        for name in self.units:
            subprocess.run(
                ["systemctl", "stop", f"{name}.socket", f"{name}.service"],
                capture_output=True,
                timeout=60,
                check=False,
            )
            subprocess.run(
                ["systemctl", "reset-failed", f"{name}.socket", f"{name}.service"],
                capture_output=True,
                timeout=60,
                check=False,
            )
        for path in self.paths:
            path.unlink(missing_ok=True)
        shutil.rmtree(self.ctl, ignore_errors=True)


@pytest.fixture
def services(sd: sysd.Systemd) -> Iterator[Services]:
    s = Services(sd)
    yield s
    s.cleanup()


def state(unit: Unit) -> str:
    """ActiveState, or "gone" once a transient unit has been unloaded."""
    try:
        value: str = unit.active_state()
    except (sysd.UnknownObjectError, sysd.NoSuchUnitError):
        return "gone"
    return value


# ---------------------------------------------------------------- readiness


def test_type_notify_is_activating_until_ready(sd: sysd.Systemd, services: Services) -> None:
    unit = services.run(
        "ready",
        """
        daemon.notify(status="starting: 0 % ✓")
        wait_file("go")
        sent = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        assert daemon.notify(ready=True, status="ready")
        report("sent", sent)
        signal.pause()
        """,
        "Type=notify",
        "NotifyAccess=main",
    )
    # STATUS= is taken while the unit is still starting.
    wait_for(lambda: unit.get("StatusText") == "starting: 0 % ✓", "STATUS=starting")
    assert unit.active_state() == "activating"
    assert unit.get("SubState") == "start"

    services.touch("go")
    wait_for(lambda: unit.active_state() == "active", "active after READY=1", timeout=10)
    assert unit.get("StatusText") == "ready"
    status = unit.status()
    assert status.active_state == "active" and status.sub_state == "running"

    # systemd entered `active` after the datagram left, and promptly.
    sent = services.read("sent")
    entered = unit.get("ActiveEnterTimestampMonotonic")
    assert sent <= entered < sent + 5_000_000, (sent, entered)


def test_still_activating_without_ready(sd: sysd.Systemd, services: Services) -> None:
    """A service that sends everything but READY=1 stays activating."""
    unit = services.run(
        "noready",
        """
        daemon.notify(status="working")
        daemon.notify(watchdog=True)
        daemon.notify_barrier(timeout=10)
        report("barrier", True)
        signal.pause()
        """,
        "Type=notify",
    )
    assert services.read("barrier") is True  # every notification above was processed
    assert unit.get("StatusText") == "working"
    assert unit.active_state() == "activating"


def test_extend_timeout(sd: sysd.Systemd, services: Services) -> None:
    """EXTEND_TIMEOUT_USEC= keeps a slow start past TimeoutStartSec=1."""
    unit = services.run(
        "extend",
        """
        while not (CTL / "go").exists():
            daemon.notify(extend_timeout=3, status="still starting")
            time.sleep(0.1)
        daemon.notify(ready=True, status="started")
        signal.pause()
        """,
        "Type=notify",
        "TimeoutStartSec=1",
    )
    wait_for(lambda: unit.get("StatusText") == "still starting", "the first extension")
    time.sleep(2.5)  # well past TimeoutStartSec=1: the point of this test
    assert unit.active_state() == "activating"
    services.touch("go")
    wait_for(lambda: unit.active_state() == "active", "active", timeout=10)
    assert unit.get("Result") == "success"


# ------------------------------------------------------------------- reload

RELOADER = """
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGHUP})
daemon.notify(ready=True, status="serving")
n = 0
while True:
    signal.sigwait({signal.SIGHUP})
    n += 1
    daemon.notify(reloading=True, status=f"reloading {n}")
    wait_file(f"reload-{n}")
    daemon.notify(ready=True, status=f"reloaded {n}")
"""


def test_reloading_ready_cycle(sd: sysd.Systemd, services: Services) -> None:
    """The service reloads on SIGHUP: RELOADING=1 makes it `reloading`, READY=1 `active`."""
    unit = services.run("reload", RELOADER, "Type=notify")
    wait_for(lambda: unit.active_state() == "active", "active")
    for n in (1, 2):
        unit.kill(signal.SIGHUP, "main")
        wait_for(lambda: unit.active_state() == "reloading", f"reloading ({n})")
        assert unit.get("StatusText") == f"reloading {n}"
        assert unit.get("SubState") == "reload"
        services.touch(f"reload-{n}")
        wait_for(lambda: unit.active_state() == "active", f"active again ({n})", timeout=10)
        assert unit.get("StatusText") == f"reloaded {n}"


def test_systemctl_reload_with_exec_reload_kill(sd: sysd.Systemd, services: Services) -> None:
    """``systemctl reload`` with ExecReload=kill -HUP $MAINPID: `reloading` until READY=1.

    Whether systemd sees RELOADING=1 before `kill` exits (it stays in the reload and the
    job waits for READY=1) or after (it goes active, ends the job, and is `reloading` again
    at RELOADING=1) is a race inside systemd 252; from the moment RELOADING=1 is processed
    the unit is `reloading` either way, and `active` after READY=1.
    """
    unit = services.run("execreload", RELOADER, "Type=notify", "ExecReload=/bin/kill -HUP $MAINPID")
    wait_for(lambda: unit.active_state() == "active", "active")
    with subprocess.Popen(
        ["systemctl", "reload", unit.name], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as reload:
        wait_for(lambda: unit.get("StatusText") == "reloading 1", "the service's RELOADING=1")
        assert unit.active_state() == "reloading"
        services.touch("reload-1")
        wait_for(lambda: unit.active_state() == "active", "active after READY=1", timeout=10)
        assert unit.get("StatusText") == "reloaded 1"
        _, err = reload.communicate(timeout=60)
    assert reload.returncode == 0, err
    assert unit.get("ReloadResult") == "success"


def test_stopping(sd: sysd.Systemd, services: Services) -> None:
    unit = services.run(
        "stopping",
        """
        daemon.notify(ready=True)
        wait_file("stop")
        daemon.notify(stopping=True, status="shutting down")
        wait_file("exit")
        """,
        "Type=notify",
        "RemainAfterExit=no",
    )
    wait_for(lambda: unit.active_state() == "active", "active")
    services.touch("stop")
    wait_for(lambda: unit.active_state() == "deactivating", "deactivating after STOPPING=1")
    assert unit.get("StatusText") == "shutting down"
    services.touch("exit")
    wait_for(lambda: state(unit) in ("inactive", "gone"), "inactive")


# ----------------------------------------------------------------- watchdog


def test_watchdog_keepalive_and_expiry(sd: sysd.Systemd, services: Services) -> None:
    unit = services.run(
        "watchdog",
        """
        report("env", {
            "enabled": daemon.watchdog_enabled(),
            "interval": daemon.watchdog_interval(),
            "timeout_us": daemon.watchdog_timeout() // timedelta(microseconds=1),
        })
        wd = daemon.Watchdog()
        daemon.notify(ready=True)
        pings = 0
        while not (CTL / "stop-pinging").exists():
            time.sleep(min(wd.time_left(), 0.05))
            pings += wd.ping_if_due()
        report("pings", pings)
        signal.pause()  # alive, but silent
        """,
        "Type=notify",
        # 2 s, not 1: a ping is due every second, and a loaded 2-core machine must not
        # hold the service back for the second of slack that leaves
        "WatchdogSec=2",
        "LimitCORE=0",  # SIGABRT on expiry: no core dump
    )
    assert services.read("env") == {"enabled": True, "interval": 1.0, "timeout_us": 2_000_000}
    wait_for(lambda: unit.active_state() == "active", "active")
    first = unit.get("WatchdogTimestampMonotonic")
    end = time.monotonic() + 4  # two watchdog periods
    while time.monotonic() < end:
        assert unit.active_state() == "active"
        time.sleep(0.05)
    assert unit.get("WatchdogTimestampMonotonic") > first  # the pings arrived

    services.touch("stop-pinging")
    assert services.read("pings") >= 3
    wait_for(lambda: unit.active_state() == "failed", "the watchdog to fire", timeout=30)
    assert unit.get("Result") == "watchdog"


def test_watchdog_trigger(sd: sysd.Systemd, services: Services) -> None:
    """WATCHDOG=trigger acts as an expired watchdog, even without WatchdogSec=."""
    unit = services.run(
        "trigger",
        """
        report("enabled", daemon.watchdog_enabled())
        daemon.notify(ready=True)
        wait_file("go")
        daemon.notify(watchdog="trigger", status="giving up")
        signal.pause()
        """,
        "Type=notify",
        "LimitCORE=0",
    )
    assert services.read("enabled") is False
    wait_for(lambda: unit.active_state() == "active", "active")
    services.touch("go")
    wait_for(lambda: unit.active_state() == "failed", "the watchdog action", timeout=30)
    assert unit.get("Result") == "watchdog"


# ------------------------------------------------------- socket activation


def test_socket_activation(sd: sysd.Systemd, services: Services) -> None:
    stream = Path(f"/run/sysd-test-{services.tag}.sock")
    dgram = Path(f"/run/sysd-test-{services.tag}.dgram")
    services.paths += [stream, dgram]
    sock_unit = services.run(
        "socket",
        """
        report("fds", [list(entry) for entry in daemon.listen_fds()])
        socks = daemon.listen_sockets("web")  # once: each socket object owns its fd
        report("socks", [[s.fileno(), int(s.family), int(s.type)] for s in socks])
        listener = next(s for s in socks if s.type == socket.SOCK_STREAM)
        while True:
            conn, _ = listener.accept()
            with conn:
                conn.sendall(f"hello from {os.getpid()}".encode())
        """,
        socket_properties=(
            f"ListenStream={stream}",
            f"ListenDatagram={dgram}",
            "FileDescriptorName=web",
        ),
    )
    assert sock_unit.active_state() == "active"
    service = sd.unit(sock_unit.name.removesuffix(".socket") + ".service")
    assert state(service) in ("inactive", "gone")  # nobody connected yet

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.settimeout(30)
        client.connect(str(stream))
        reply = b""
        try:
            while chunk := client.recv(100):
                reply += chunk
        except OSError as exc:
            pytest.fail(f"{exc}; the service's journal:\n{services.journal('socket')}")
    assert reply.startswith(b"hello from ")

    assert services.read("fds") == [[3, "web"], [4, "web"]]
    assert services.read("socks") == [
        [3, int(socket.AF_UNIX), int(socket.SOCK_STREAM)],
        [4, int(socket.AF_UNIX), int(socket.SOCK_DGRAM)],
    ]
    service = sd.unit(sock_unit.name.removesuffix(".socket") + ".service")
    assert service.active_state() == "active"
    assert reply == f"hello from {service.get('MainPID')}".encode()


def test_socket_default_name_is_the_socket_unit(sd: sysd.Systemd, services: Services) -> None:
    stream = Path(f"/run/sysd-test-{services.tag}-plain.sock")
    services.paths.append(stream)
    sock_unit = services.run(
        "plain",
        """
        report("fds", [list(entry) for entry in daemon.listen_fds()])
        (listener,) = daemon.listen_sockets()
        conn, _ = listener.accept()
        conn.sendall(b"ok")
        conn.close()
        signal.pause()
        """,
        socket_properties=(f"ListenStream={stream}",),
    )
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.settimeout(30)
        client.connect(str(stream))
        assert client.recv(2) == b"ok"
    assert services.read("fds") == [[3, sock_unit.name]]


# ------------------------------------------------------------------ fd store

FDSTORE = """
fds = daemon.listen_fds()
report(f"start-{os.getpid()}", [list(entry) for entry in fds])
got = {name: fd for fd, name in fds}
if "state" in got:
    with os.fdopen(got["state"], "rb") as f:
        content = f.read().decode()
    daemon.notify(ready=True, status="restored " + content)
else:
    fd = os.memfd_create("state")
    os.write(fd, ("generation-1 " + CTL.name).encode())
    os.lseek(fd, 0, os.SEEK_SET)
    assert daemon.notify(fdstore=True, fds=[fd], fdname="state")
    scratch = os.memfd_create("scratch")
    assert daemon.notify(fdstore=True, fds=[scratch], fdname="scratch")
    assert daemon.notify(fdstore_remove=True, fdname="scratch")
    os.close(fd)
    os.close(scratch)
    daemon.notify(ready=True, status="stored")
report(f"pid-{os.getpid()}", True)
signal.pause()
"""


def test_fdstore_round_trip_across_restart(sd: sysd.Systemd, services: Services) -> None:
    unit = services.run("fdstore", FDSTORE, "Type=notify", "FileDescriptorStoreMax=4")
    wait_for(lambda: unit.active_state() == "active", "active")
    assert unit.get("StatusText") == "stored"
    assert unit.get("NFileDescriptorStore") == 1  # "scratch" was removed again
    first_pid = unit.get("MainPID")
    assert services.read(f"start-{first_pid}") == []

    unit.restart()  # waits for READY=1 of the new process
    assert unit.active_state() == "active"
    second_pid = unit.get("MainPID")
    assert second_pid != first_pid
    assert services.read(f"start-{second_pid}") == [[3, "state"]]
    assert unit.get("StatusText") == f"restored generation-1 {services.ctl.name}"
    assert unit.get("NFileDescriptorStore") == 1  # still in the store for the next restart


def test_fdstore_polling(sd: sysd.Systemd, services: Services) -> None:
    """A stored pipe whose writer closes is dropped (EPOLLHUP), unless FDPOLL=0."""
    unit = services.run(
        "fdpoll",
        """
        fds = daemon.listen_fds()
        if fds:
            report("second", [name for _, name in fds])
        else:
            polled_r, polled_w = os.pipe()
            kept_r, kept_w = os.pipe()
            daemon.notify(fdstore=True, fds=[polled_r], fdname="polled")
            daemon.notify(fdstore=True, fds=[kept_r], fdname="kept", fdpoll=False)
            daemon.notify(ready=True)
            wait_file("close")
            os.close(polled_w)
            os.close(kept_w)
            report("closed", True)
        daemon.notify(ready=True)
        signal.pause()
        """,
        "Type=notify",
        "FileDescriptorStoreMax=4",
    )
    wait_for(lambda: unit.active_state() == "active", "active")
    assert unit.get("NFileDescriptorStore") == 2
    services.touch("close")
    assert services.read("closed") is True
    wait_for(lambda: unit.get("NFileDescriptorStore") == 1, "the polled fd to be dropped")
    unit.restart()
    assert services.read("second") == ["kept"]


def test_fdstore_needs_fd_store_max(sd: sysd.Systemd, services: Services) -> None:
    """Without FileDescriptorStoreMax= systemd closes stored fds: notify() still says True
    (the datagram went out; see sd_notify(3))."""
    unit = services.run(
        "nostore",
        """
        r, w = os.pipe()
        report("sent", daemon.notify(fdstore=True, fds=[r], fdname="x"))
        daemon.notify(ready=True)
        signal.pause()
        """,
        "Type=notify",
    )
    assert services.read("sent") is True
    wait_for(lambda: unit.active_state() == "active", "active")
    assert unit.get("NFileDescriptorStore") == 0


# ------------------------------------------------------------------- MAINPID


def test_mainpid_from_a_forking_helper(sd: sysd.Systemd, services: Services) -> None:
    """A launcher forks the daemon proper, hands over with MAINPID= + READY=1, waits on the
    barrier and exits; the child stays the unit's main process."""
    unit = services.run(
        "mainpid",
        """
        child = os.fork()
        if child == 0:
            report("child", os.getpid())
            signal.pause()
            os._exit(0)
        wait_file("go")
        daemon.notify(mainpid=child, ready=True, status="handed over")
        report("barrier", daemon.notify_barrier(timeout=10))
        """,
        "Type=notify",
    )
    child = services.read("child")
    launcher = unit.get("MainPID")
    assert launcher != child and unit.active_state() == "activating"
    services.touch("go")
    wait_for(lambda: unit.active_state() == "active", "active")
    assert unit.get("MainPID") == child
    assert unit.get("StatusText") == "handed over"
    assert services.read("barrier") is True
    # The launcher exits; the unit carries on with the child.
    wait_for(lambda: [p.pid for p in unit.processes()] == [child], "the launcher to exit")
    assert unit.active_state() == "active" and unit.get("MainPID") == child


# --------------------------------------------------------- outside Type=notify


def test_plain_service_has_no_notify_socket(sd: sysd.Systemd) -> None:
    code = """
        import json, os
        from sysd import daemon
        print(json.dumps({
            "notify": daemon.notify(ready=True, status="nobody listens"),
            "barrier": daemon.notify_barrier(),
            "socket": os.environ.get("NOTIFY_SOCKET"),
            "booted": daemon.booted(),
            "listen": daemon.listen_fds(),
            "watchdog": daemon.watchdog_enabled(),
        }))
    """
    proc = subprocess.run(
        [
            "systemd-run",
            "--wait",
            "--pipe",
            "--quiet",
            "--collect",
            f"--unit=sysdt-daemon-plain-{uuid.uuid4().hex[:8]}",
            "-E",
            f"PYTHONPATH={SRC}",
            sys.executable,
            "-c",
            textwrap.dedent(code),
        ],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {
        "notify": False,
        "barrier": False,
        "socket": None,
        "booted": True,
        "listen": [],
        "watchdog": False,
    }


def test_booted() -> None:
    assert daemon.booted() is True
