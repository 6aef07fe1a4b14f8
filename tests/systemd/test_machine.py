"""sysd.machine and run(machine=...) against a real container registered with the
sandbox's machined, compared with machinectl, busctl and systemd-run -M on the same one.

The container is booted once for this module (../shared/guide/SANDBOX.md: a nested
``systemd-nspawn --register=yes --volatile=overlay`` over a bind of ``/``, as a transient
service with ``--keep-unit``), and terminated by the last test, which checks that nothing
is left: no machine registered, no unit.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_diff_support import ENV, sysd_cli, tool
from test_docs import _RUNNER, BLOCK, expected_prints

import sysd
import sysd.aio
from sysd import machine
from sysd._bus.address import machine_bus_socket, machine_leader, resolve
from sysd.errors import (
    FileExistsDBusError,
    InvalidMachineCallError,
    InvalidRunOptionError,
    NoSuchImageError,
    NoSuchMachineError,
)

NAME = "h11-ct"
UNIT = "h11-ct.service"
INNER_ROOT = "/run/h11-innerroot"
ROOT = Path(__file__).resolve().parents[2]
MACHINE1 = ("org.freedesktop.machine1", "/org/freedesktop/machine1")


def sh(*argv: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=check)


def _registered(name: str) -> bool:
    return sh("machinectl", "show", name, "-p", "State", check=False).returncode == 0


def _wait(what: Any, timeout: float, text: str) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {text}:\n{_diagnosis()}")
        time.sleep(0.2)


def _diagnosis() -> str:
    """What the container's unit and console (nspawn's output, in its journal) show."""
    out = [sh("machinectl", "status", NAME, "--no-pager", check=False).stdout]
    out.append(sh("systemctl", "status", UNIT, "--no-pager", "-n", "0", check=False).stdout)
    out.append(sh("journalctl", "-u", UNIT, "-n", "60", "--no-pager", check=False).stdout)
    return "\n".join(out)


def _booted(name: str) -> bool:
    proc = sh("systemctl", "-M", name, "is-system-running", check=False)
    return proc.stdout.strip() in ("running", "degraded")


@pytest.fixture(scope="module")
def container(systemd_host: None) -> Iterator[str]:
    """One container for the module (booting one costs seconds on a shared machine)."""
    os.makedirs(INNER_ROOT, exist_ok=True)
    sh("mount", "--bind", "/", INNER_ROOT)
    try:
        # KillMode=mixed, as systemd-nspawn@.service: stopping the unit sends SIGTERM to
        # nspawn only, which halts the container; SIGTERM to every process would reach
        # the container's systemd too, which re-executes on it instead of shutting down
        # (seen: the halt then hung until the stop timeout)
        sh(
            "systemd-run",
            f"--unit={UNIT}",
            "-p",
            "Delegate=yes",
            "-p",
            "KillMode=mixed",
            "systemd-nspawn",
            "--register=yes",
            "--keep-unit",
            "--volatile=overlay",
            "-D",
            INNER_ROOT,
            "-M",
            NAME,
            "-b",
        )
        _wait(lambda: _registered(NAME), 60, f"{NAME} to register")
        _wait(lambda: _booted(NAME), 90, f"{NAME} to boot")
        yield NAME
    finally:
        if _registered(NAME):
            sh("machinectl", "terminate", NAME, check=False)
        sh("systemctl", "stop", UNIT, check=False, timeout=120)
        sh("systemctl", "reset-failed", UNIT, check=False)
        _wait(lambda: not _registered(NAME), 60, f"{NAME} to go")
        sh("umount", INNER_ROOT, check=False)


def busctl_json(*args: str) -> Any:
    return json.loads(sh("busctl", "--json=short", *args).stdout)


# --------------------------------------------------------------------------- listing


def test_machines_lists_it_as_busctl_and_machinectl_do(container: str, sd: sysd.Systemd) -> None:
    rows = busctl_json("call", *MACHINE1, "org.freedesktop.machine1.Manager", "ListMachines")
    listed = {m.name: m for m in sd.machines(all=True)}
    assert set(listed) == {r[0] for r in rows["data"][0]}
    assert ".host" not in {m.name for m in sd.machines()}
    m = listed[container]
    show = dict(
        line.split("=", 1) for line in sh("machinectl", "show", container).stdout.splitlines()
    )
    assert (m.class_, m.service, m.unit) == ("container", "systemd-nspawn", UNIT)
    assert m.leader == int(show["Leader"]) and m.root_directory == INNER_ROOT
    assert m.state == "running" and m.id is not None and m.id.hex == show["Id"]
    assert m.addresses == ()  # no private network
    release = busctl_json(
        "call",
        *MACHINE1,
        "org.freedesktop.machine1.Manager",
        "GetMachineOSRelease",
        "s",
        container,
    )["data"][0]
    assert m.os_release == release and m.os == release["ID"]
    assert m.version == release["VERSION_ID"]


def test_status_matches_getall(container: str, sd: sysd.Systemd) -> None:
    with sd.machine(container) as m:
        status = m.status()
        props = busctl_json(
            "call",
            MACHINE1[0],
            m.path,
            "org.freedesktop.DBus.Properties",
            "GetAll",
            "s",
            "org.freedesktop.machine1.Machine",
        )["data"][0]
        assert {k: v["data"] for k, v in props.items()} == {
            k: list(v) if isinstance(v, bytes | tuple | list) else v for k, v in status.dbus.items()
        }
        assert status.name == container and status.leader == props["Leader"]["data"]
        assert status.timestamp is not None and status.timestamp.tzinfo is not None
        assert m.info().leader == status.leader
        assert m.addresses() == ()
        assert m.os_release()["ID"] == "debian"
        assert repr(status) == f"<MachineStatus {container!r} 'running'>"


@pytest.mark.parametrize("output", ["short", "json", "json-pretty", "no-legend", "all"])
def test_cli_machines_matches_machinectl(container: str, output: str) -> None:
    args = {
        "short": [],
        "json": ["-o", "json"],
        "json-pretty": ["-o", "json-pretty"],
        "no-legend": ["--no-legend"],
        "all": ["--all"],
    }[output]
    theirs = tool("machinectl", "list", "--no-pager", *args)
    mine = sysd_cli("machines", *args)
    assert mine.returncode == theirs.returncode == 0
    assert mine.stdout.decode() == theirs.stdout.decode()


def test_cli_machines_json_flag(container: str) -> None:
    mine = sysd_cli("machines", "--json")
    theirs = tool("machinectl", "list", "-o", "json")
    assert json.loads(mine.stdout) == json.loads(theirs.stdout)


def test_aio_machines(container: str) -> None:
    import asyncio

    async def main() -> tuple[list[str], str]:
        async with await sysd.aio.connect() as sd:
            names = [m.name for m in await sd.machines()]
            async with await sd.machine(container) as m:
                return names, (await m.status()).state or ""

    names, state = asyncio.run(main())
    assert container in names and state == "running"


# --------------------------------------------------------------------------- errors


def test_no_such_machine(container: str, sd: sysd.Systemd) -> None:
    with pytest.raises(NoSuchMachineError, match="h11-nope") as info:
        sd.machine("h11-nope")
    assert isinstance(info.value, LookupError)
    with machine.connect() as md, pytest.raises(NoSuchMachineError):
        md.machine_by_pid(os.getpid())  # this process is the sandbox's, not a machine's


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("", "name"),
        ("a_b", "name"),
        ("-x", "name"),
        ("a..b", "name"),
        ("x" * 65, "name"),
        (3, "name"),
    ],
)
def test_invalid_machine_name_refused_before_sending(
    sd: sysd.Systemd, name: Any, field: str
) -> None:
    with pytest.raises(InvalidMachineCallError) as info:
        sd.machine(name)
    assert info.value.field == field and isinstance(info.value, ValueError)


def test_kill_and_paths_checked(container: str, sd: sysd.Systemd) -> None:
    with sd.machine(container) as m:
        with pytest.raises(InvalidMachineCallError, match="whom"):
            m.kill(signal.SIGCONT, whom="everyone")
        with pytest.raises(InvalidMachineCallError, match="signal"):
            m.kill(0)
        with pytest.raises(InvalidMachineCallError, match="absolute"):
            m.copy_from("etc/hostname", "/tmp/x")
        m.kill(signal.SIGCONT)  # harmless: every process of it gets a SIGCONT
        m.kill(signal.SIGCONT, whom="leader")
        assert m.status().state == "running"


def test_bind_mount_into_the_running_container(container: str, sd: sysd.Systemd) -> None:
    src = Path("/run/h11-bind")
    src.mkdir(exist_ok=True)
    (src / "file").write_text("bound\n")
    with sd.machine(container) as m:
        m.bind_mount(src, "/mnt/h11-bind", read_only=True, mkdir=True)
        with sysd.connect(machine=container) as inside:
            seen = inside.run(
                ["sh", "-c", "cat /mnt/h11-bind/file; touch /mnt/h11-bind/x || echo read-only"],
                capture_output=True,
                wait=True,
            )
    assert seen.stdout == b"bound\nread-only\n"


def _read_pty(fd: int, until: bytes, timeout: float = 60) -> bytes:
    """What a pty master gives until ``until`` shows.  A read fails with EIO while
    nothing has the slave open: before a getty opens it, and after the command ends."""
    seen = b""
    deadline = time.monotonic() + timeout
    while until not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if not ready:
            continue
        try:
            seen += os.read(fd, 4096)
        except OSError:  # EIO: no slave open (yet, or any more)
            time.sleep(0.1)
    return seen


def test_open_shell_and_login(container: str, sd: sysd.Systemd) -> None:
    with sd.machine(container) as m:
        fd, path = m.open_shell(
            path="/bin/sh",
            args=["sh", "-c", "echo shell-$((6*7)) $FOO; tty; echo end"],
            env={"FOO": "x"},
        )
        try:
            out = _read_pty(fd, b"end\r\n").replace(b"\r\n", b"\n").decode()
        finally:
            os.close(fd)
        assert out.splitlines() == ["shell-42 x", path, "end"]
        fd, path = m.open_login()
        try:
            assert b"login: " in _read_pty(fd, b"login: "), path
        finally:
            os.close(fd)
        with pytest.raises(InvalidMachineCallError, match="path="):
            m.open_shell(args=["sh"])
        with pytest.raises(InvalidMachineCallError, match="absolute"):
            m.open_shell(path="bin/sh")


# --------------------------------------------------------------------------- images

IMAGES = "/var/lib/machines"


def _image_names(all: bool = False) -> set[str]:
    out = tool("machinectl", "list-images", "-o", "json", *(["--all"] if all else []))
    return {row["name"] for row in json.loads(out.stdout)}


def test_images_clone_rename_remove(systemd_host: None) -> None:
    os.makedirs(f"{IMAGES}/h11-img/etc", exist_ok=True)
    Path(f"{IMAGES}/h11-img/etc/os-release").write_text("ID=h11\n")
    try:
        with machine.connect() as md:
            assert {i.name for i in md.images()} == _image_names()
            assert {i.name for i in md.images(all=True)} == _image_names(all=True)
            img = md.image("h11-img")
            assert (img.name, img.type, img.read_only) == ("h11-img", "directory", False)
            assert img.path.startswith("/org/freedesktop/machine1/image/")
            md.clone_image("h11-img", "h11-img2")
            assert Path(f"{IMAGES}/h11-img2/etc/os-release").read_text() == "ID=h11\n"
            md.rename_image("h11-img2", "h11-img3")
            assert {"h11-img", "h11-img3"} <= _image_names()
            md.remove_image("h11-img3")
            assert "h11-img3" not in _image_names()
            with pytest.raises(NoSuchImageError):
                md.image("h11-img3")
            with pytest.raises(InvalidMachineCallError):
                md.clone_image("h11-img", "a/b")
            md.mark_image_read_only("h11-img")
            assert md.image("h11-img").read_only
            for args in ([], ["--all"], ["--no-legend"], ["-o", "json"], ["-o", "json-pretty"]):
                theirs = tool("machinectl", "list-images", "--no-pager", *args)
                mine = sysd_cli("images", *args)
                assert mine.returncode == theirs.returncode == 0
                assert mine.stdout.decode() == theirs.stdout.decode(), args
            md.mark_image_read_only("h11-img", False)
            assert not md.image("h11-img").read_only
    finally:
        for name in ("h11-img", "h11-img2", "h11-img3"):
            subprocess.run(["rm", "-rf", f"{IMAGES}/{name}"], check=False)


# --------------------------------------------------------------------------- connecting


def test_connect_machine_uses_its_bus_socket(container: str) -> None:
    leader = machine_leader(container)
    assert leader == int(sh("machinectl", "show", container, "-p", "Leader", "--value").stdout)
    assert machine_bus_socket(container) == f"/proc/{leader}/root/run/dbus/system_bus_socket"
    with sysd.connect(machine=container) as sd:
        assert "fd passing" in repr(sd) and f"/proc/{leader}/root" in repr(sd)
        assert sd.bus.unix_fds
        with sysd.connect() as host:
            assert sd.version == host.version
    # without root, or without the socket: systemd-stdio-bridge, said so
    bridged = resolve(machine=container, euid=1000)
    assert "systemd-stdio-bridge" in bridged.description and not bridged.fds
    assert resolve(machine="h11-nope").transports[0].kind == "unixexec"


# --------------------------------------------------------------------------- run inside


def test_run_pipes_inside(container: str) -> None:
    leader = machine_leader(container)
    with sysd.connect(machine=container) as sd:
        result = sd.run(
            ["sh", "-c", "readlink /proc/self/ns/pid; cat; echo oops >&2; exit 3"],
            input=b"from the host\n",
            capture_output=True,
            wait=True,
        )
    assert result.exit_code == 3 and result.result == "exit-code"
    pidns = os.readlink(f"/proc/{leader}/ns/pid")  # the container's, not ours
    assert pidns != os.readlink("/proc/self/ns/pid")
    assert result.stdout == f"{pidns}\nfrom the host\n".encode()
    assert result.stderr == b"oops\n"


def test_machine_handle_connects_inside(container: str, sd: sysd.Systemd) -> None:
    with sd.machine(container) as m, m.connect() as inside:
        assert "fd passing" in repr(inside)
        result = inside.run(["cat"], input=b"x", capture_output=True, wait=True)
    assert result.stdout == b"x"


def test_run_pipes_match_systemd_run(container: str) -> None:
    cmd = ["sh", "-c", "cat /etc/hostname; printf '%s' \"$0\"", "x y"]
    theirs = sh("systemd-run", "-M", container, "--wait", "--pipe", "--quiet", *cmd).stdout
    with sysd.connect(machine=container) as sd:
        mine = sd.run(cmd, capture_output=True, wait=True)
    assert mine.stdout is not None and mine.stdout.decode() == theirs


def test_cli_run_pipe_matches_systemd_run(container: str) -> None:
    """``sysd run -M NAME --pipe --wait`` next to ``systemd-run -M NAME --pipe --wait``:
    the same output, stdin passed through, the same exit status."""
    cmd = ["--pipe", "--wait", "--quiet", "--", "sh", "-c", "tr a-z A-Z; exit 4"]
    env = {**ENV, "SYSTEMD_COLORS": "0"}
    theirs = subprocess.run(
        ["systemd-run", "-M", container, *cmd],
        input=b"abc\n",
        capture_output=True,
        timeout=60,
        env=env,
        check=False,
    )
    mine = subprocess.run(
        [sys.executable, "-m", "sysd", "run", "-M", container, *cmd],
        input=b"abc\n",
        capture_output=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert (mine.returncode, mine.stdout) == (theirs.returncode, theirs.stdout) == (4, b"ABC\n")


def test_run_pty_inside(container: str) -> None:
    with sysd.connect(machine=container) as sd:
        result = sd.run(
            ["sh", "-c", "tty; test -t 0 && echo is-a-tty; read x; echo got:$x; exit 5"],
            pty=True,
            input=b"hello\n",
            stdout=sysd.PIPE,
            stderr=sysd.STDOUT,
            wait=True,
        )
    assert result.exit_code == 5, result
    assert result.stdout is not None
    lines = result.stdout.replace(b"\r\n", b"\n").decode().split("\n")
    # the terminal echoes what is typed, whenever it is typed: only the order of the
    # service's own lines is certain
    assert [x for x in lines if x.startswith("/dev/pts/")], lines
    assert lines.index("is-a-tty") < lines.index("got:hello")


def test_run_pty_inside_refuses_stderr_apart(container: str) -> None:
    with sysd.connect(machine=container) as sd:
        for kwargs in ({"capture_output": True}, {"stderr": sysd.PIPE}, {"stderr": 2}):
            with pytest.raises(InvalidRunOptionError, match="terminal") as info:
                sd.run(["true"], name="h11-refused.service", pty=True, wait=True, **kwargs)  # type: ignore[call-overload]
            assert info.value.option == "stderr" and "stderr=sysd.STDOUT" in str(info.value)
        assert "h11-refused.service" not in [u.name for u in sd.list_units()]  # none sent


def test_cancelling_a_pty_run_inside_leaves_nothing(container: str) -> None:
    """Cancelled at random points (while machined opens the pty, while the unit starts,
    while it runs): no fd of ours left open, nothing held by the connection, no unit
    left running in the container."""
    import asyncio
    import random

    rng = random.Random(1511)
    names: list[str] = []

    def open_fds() -> int:
        return len(os.listdir("/proc/self/fd"))

    async def main() -> None:
        async with await sysd.aio.connect(machine=container) as sd:
            fds = open_fds()
            end = time.monotonic() + 20
            for i in range(25):
                if time.monotonic() > end:
                    break
                name = f"h11-cancel-{i}.service"
                names.append(name)
                task = asyncio.create_task(
                    sd.run(
                        ["sleep", "30"],
                        name=name,
                        pty=True,
                        stdin=sysd.DEVNULL,
                        stdout=sysd.PIPE,
                        stderr=sysd.STDOUT,
                        wait=True,
                    )
                )
                await asyncio.sleep(rng.uniform(0, 0.15))
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                sub = sd._subscription
                assert not (sub.holders or sub.watched or sub.pending_jobs or sub.pins), i
                assert open_fds() == fds, i

    asyncio.run(asyncio.wait_for(main(), 90))
    deadline = time.monotonic() + 30
    with sysd.connect(machine=container) as sd:
        while True:
            active = [u.name for u in sd.list_units() if u.name in names]
            if not active or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    assert active == []


def test_ctrl_c_on_a_blocking_pty_run_inside_leaves_nothing(container: str) -> None:
    """Ctrl-C (SIGINT, as tests/reliability delivers it) at random points of a blocking
    pty run inside: no fd left open, nothing held, no unit left running."""
    import importlib.util
    import random

    spec = importlib.util.spec_from_file_location(
        "h11_reliability_support", ROOT / "tests" / "reliability" / "reliability_support.py"
    )
    assert spec is not None and spec.loader is not None
    support = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(support)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    rng = random.Random(1512)
    names: list[str] = []
    with sysd.connect(machine=container) as sd:
        fds = support.open_fds()
        end = time.monotonic() + 25
        for i in range(40):
            if time.monotonic() > end:
                break
            name = f"h11-sigint-{i}.service"
            names.append(name)
            with (
                contextlib.suppress(KeyboardInterrupt),
                support.interrupt_after(rng.uniform(0, 0.15)),
            ):
                sd.run(
                    ["sleep", "30"],
                    name=name,
                    pty=True,
                    stdin=sysd.DEVNULL,
                    stdout=sysd.PIPE,
                    stderr=sysd.STDOUT,
                    wait=True,
                )
            assert support.left_behind(sd) == [], i
            assert support.open_fds() == fds, i
        deadline = time.monotonic() + 30
        while True:
            active = [u.name for u in sd.list_units() if u.name in names]
            if not active or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    assert active == []


def test_run_machine_keyword_matches_systemd_run_m(container: str, sd: sysd.Systemd) -> None:
    """``sd.run(cmd, machine=NAME)`` from the host's connection, next to ``systemd-run -M``;
    the connection it opened for the run is closed after it."""
    cmd = ["sh", "-c", "cat /etc/hostname; readlink /proc/self/ns/pid; cat"]
    theirs = sh("systemd-run", "-M", container, "--wait", "--pipe", "--quiet", *cmd).stdout
    fds = len(os.listdir("/proc/self/fd"))
    mine = sd.run(cmd, machine=container, input=b"", capture_output=True, wait=True)
    assert mine.stdout is not None and mine.stdout.decode() == theirs
    assert len(os.listdir("/proc/self/fd")) == fds


def test_run_machine_keyword_handle_owns_its_connection(container: str, sd: sysd.Systemd) -> None:
    fds = len(os.listdir("/proc/self/fd"))
    with sd.run(["sleep", "30"], machine=container, name="h11-kw-sleep.service") as handle:
        assert "fd passing" in repr(handle.sd) and handle.sd is not sd
        assert handle.status().active_state == "active"
        handle.stop()
        assert handle.wait().result == "success"  # SIGTERM is a clean end for a service
    assert len(os.listdir("/proc/self/fd")) == fds
    handle = sd.run(["cat"], machine=container, input=b"kept", capture_output=True)
    assert handle.wait().stdout == b"kept"  # waiting to the end lets go of it too
    assert len(os.listdir("/proc/self/fd")) == fds
    assert "h11-kw-sleep.service" not in [u.name for u in sd.list_units()]


def test_run_machine_keyword_errors(container: str, sd: sysd.Systemd) -> None:
    fds = len(os.listdir("/proc/self/fd"))
    for bad in ("a_b", "", "-x", 3):
        with pytest.raises(InvalidRunOptionError) as info:
            sd.run(["true"], machine=bad, wait=True)  # type: ignore[arg-type]
        assert info.value.option == "machine"
    with pytest.raises(NoSuchMachineError, match="h11-nope"):
        sd.run(["true"], machine="h11-nope", wait=True)
    with pytest.raises(NoSuchMachineError, match="h11-nope"):
        sysd.connect(machine="h11-nope")
    with sysd.connect(machine=container) as inside, pytest.raises(InvalidRunOptionError) as info:
        inside.run(["true"], machine=container, wait=True)
    assert info.value.option == "machine" and "container" in str(info.value)
    with pytest.raises(InvalidRunOptionError):  # the run's own options: checked inside
        sd.run(["true"], machine=container, wait=True, nice=99)
    assert len(os.listdir("/proc/self/fd")) == fds


def test_cancelling_a_machine_keyword_run_leaves_nothing(container: str) -> None:
    """Cancelled at random points (connecting to the container, starting, running): the
    connection opened for the run is closed, nothing held, no unit left running."""
    import asyncio
    import random

    rng = random.Random(1513)
    names: list[str] = []

    async def main() -> None:
        async with await sysd.aio.connect() as sd:
            fds = len(os.listdir("/proc/self/fd"))
            end = time.monotonic() + 20
            for i in range(20):
                if time.monotonic() > end:
                    break
                name = f"h11-kwcancel-{i}.service"
                names.append(name)
                task = asyncio.create_task(
                    sd.run(["sleep", "30"], name=name, machine=container, wait=True)
                )
                await asyncio.sleep(rng.uniform(0, 0.3))
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                await asyncio.sleep(0)  # the connection's reader task ends
                assert len(os.listdir("/proc/self/fd")) == fds, i

    asyncio.run(asyncio.wait_for(main(), 90))
    deadline = time.monotonic() + 30
    with sysd.connect(machine=container) as sd:
        while True:
            active = [u.name for u in sd.list_units() if u.name in names]
            if not active or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    assert active == []


def test_run_over_bridge_refused_with_a_hint(container: str) -> None:
    target = resolve(machine=container, euid=1000)  # what a non-root caller gets
    with sysd.Systemd(_open_bridge(target)) as sd:
        assert "systemd-stdio-bridge" in repr(sd)
        with pytest.raises(InvalidRunOptionError, match="file descriptor passing") as info:
            sd.run(["true"], capture_output=True, wait=True)
        assert "pty=True" in str(info.value)
        # the pty needs no fd passing: it comes from machined
        result = sd.run(
            ["sh", "-c", "echo via-bridge"],
            pty=True,
            stdin=sysd.DEVNULL,
            stdout=sysd.PIPE,
            wait=True,
        )
        assert result.stdout is not None and b"via-bridge" in result.stdout


def test_run_over_ssh_refuses_pipes_and_pty_with_a_hint(systemd_host: None) -> None:
    """host= (ssh) keeps refusing pipes and a pty, before sending, saying what to use.
    A stand-in for an ssh connection: this sandbox's bridge, with host='s target."""
    from sysd._bus.address import Target, Transport

    bridge = Transport("unixexec", path="systemd-stdio-bridge", argv=("systemd-stdio-bridge",))
    target = Target((bridge,), True, "remote", "system manager on web1 (ssh)", False)
    with sysd.Systemd(_open_bridge(target)) as sd:
        for kwargs, option in (
            ({"capture_output": True}, "stdout"),
            ({"pty": True}, "pty"),
            ({"stdin": sysd.PIPE}, "stdout"),
        ):
            with pytest.raises(InvalidRunOptionError) as info:
                sd.run(["true"], name="h11-ssh.service", wait=True, **kwargs)  # type: ignore[call-overload]
            assert info.value.option == option
            assert "ssh -t HOST sysd run --pty" in str(info.value)
        assert "h11-ssh.service" not in [u.name for u in sd.list_units()]


def _open_bridge(target: Any) -> Any:
    from sysd._bus.sync import Connection

    return Connection.open(target)


def test_cli_run_pty_on_a_real_terminal(container: str) -> None:
    """``sysd run -M NAME --pty`` with a pseudo terminal as the user's: typed into, read."""
    master, slave = os.openpty()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sysd",
            "run",
            "-M",
            container,
            "--pty",
            "--quiet",
            "--",
            "sh",
            "-c",
            "printf 'name? '; read x; echo hello-$x; exit 7",
        ],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
        env={**ENV, "TERM": "xterm"},
    )
    os.close(slave)
    seen = b""
    typed = False
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            if not typed and b"name? " in seen:
                os.write(master, b"h11\r")
                typed = True
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                seen += chunk
            elif proc.poll() is not None:
                break
        assert proc.wait(timeout=30) == 7, seen
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    assert b"hello-h11" in seen, seen


# --------------------------------------------------------------------------- docs

DOC = ROOT / "docs" / "containers.md"
DOC_BLOCKS = [m.group(2) for m in BLOCK.finditer(DOC.read_text())]


@pytest.mark.parametrize("index", range(len(DOC_BLOCKS)))
def test_docs_containers_examples(container: str, index: int, tmp_path: Path) -> None:
    """docs/containers.md's examples (marked ``not run`` for tests/systemd/test_docs.py,
    which has no container), here with this module's container as ``"web"``, their
    printed values checked against their comments as test_docs.py does."""
    code = DOC_BLOCKS[index].replace('"web"', json.dumps(container))
    proc = subprocess.run(
        [sys.executable, "-c", _RUNNER, code, json.dumps(expected_prints(code))],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 0, f"docs/containers.md#{index}:\n{proc.stdout}\n{proc.stderr}"


def test_docs_containers_examples_are_all_found() -> None:
    assert len(DOC_BLOCKS) >= 6
    checked = sum(len(expected_prints(code)) for code in DOC_BLOCKS)
    assert checked >= 8


# --------------------------------------------------------------------------- copy, end


def test_copy_in_and_out_then_terminate(container: str, tmp_path: Path) -> None:
    src = tmp_path / "in.txt"
    src.write_bytes(b"h11 copy\n")
    back = tmp_path / "back.txt"
    with sysd.connect() as sd, sd.machine(container) as m:
        m.copy_to(src, "/root/h11-in.txt")
        with sysd.connect(machine=container) as inside:
            seen = inside.run(["cat", "/root/h11-in.txt"], capture_output=True, wait=True)
        assert seen.stdout == b"h11 copy\n"
        m.copy_from("/root/h11-in.txt", back)
        assert back.read_bytes() == b"h11 copy\n"
        with pytest.raises(FileExistsDBusError):  # a FileExistsError
            m.copy_from("/root/h11-in.txt", back)
        src.write_bytes(b"second\n")
        m.copy_to(src, "/root/h11-in.txt", replace=True)
        m.copy_from("/root/h11-in.txt", back, replace=True)
        assert back.read_bytes() == b"second\n"

        m.terminate()
    _wait(lambda: not _registered(container), 60, f"{container} to go")
    with sysd.connect() as sd:
        assert container not in [x.name for x in sd.machines()]
        with pytest.raises(NoSuchMachineError):
            sd.machine(container)
        left = sh(
            "systemctl", "list-units", "--all", "--plain", "--no-legend", "h11-ct*", "machine-h11*"
        ).stdout
        assert left.strip() == ""
    assert machine_leader(container) is None
