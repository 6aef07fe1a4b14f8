"""``sysd run`` against the real systemd, next to ``systemd-run`` (RELIABILITY.md item 41).

Each case runs the command line as a process, because what matters is what a shell
sees: the exit status, stdout/stderr, a terminal.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

import sysd
from sysd._core.calendar import CalendarSpec

SYSD = [sys.executable, "-m", "sysd", "run"]


def sysd_run(*args: str, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*SYSD, *args], input=input, capture_output=True, timeout=60, check=False)


def systemd_run(*args: str, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["systemd-run", *args], input=input, capture_output=True, timeout=60, check=False
    )


def tag() -> str:
    return uuid.uuid4().hex[:8]


@pytest.mark.parametrize(
    "script", ["exit 0", "exit 1", "exit 7", "kill -9 $$$$", "kill -TERM $$$$"]
)
def test_wait_exit_status_matches_systemd_run(script: str, systemd_host: None) -> None:
    ours = sysd_run("--wait", "--", "/bin/sh", "-c", script)
    theirs = systemd_run("--wait", "--", "/bin/sh", "-c", script)
    assert ours.returncode == theirs.returncode
    ours_lines = ours.stderr.decode().splitlines()
    theirs_lines = theirs.stderr.decode().splitlines()
    assert ours_lines[0].startswith("Running as unit: run-")
    # the same summary lines, up to the runtime's value
    assert [line.split(":")[0] for line in ours_lines] == [
        line.split(":")[0] for line in theirs_lines if not line.startswith("CPU time")
    ]
    assert ours_lines[1:3] == theirs_lines[1:3]  # result, code/status


def test_quiet_and_json(systemd_host: None) -> None:
    proc = sysd_run("--wait", "-q", "--json", "--", "/bin/sh", "-c", "exit 3")
    assert proc.returncode == 3 and proc.stderr == b""
    out = json.loads(proc.stdout)
    assert (out["result"], out["exit_code"], out["exit_status"]) == ("exit-code", 3, 3)
    assert out["unit"].startswith("run-") and len(out["invocation_id"]) == 32


def test_pipe(systemd_host: None) -> None:
    script = 'read x; echo "got $x"; echo err >&2; exit 3'
    ours = sysd_run("-q", "--pipe", "--", "/bin/sh", "-c", script, input=b"hello\n")
    theirs = systemd_run("-q", "--pipe", "--", "/bin/sh", "-c", script, input=b"hello\n")
    assert (ours.returncode, ours.stdout, ours.stderr) == (3, b"got hello\n", b"err\n")
    assert (ours.returncode, ours.stdout, ours.stderr) == (
        theirs.returncode,
        theirs.stdout,
        theirs.stderr,
    )


def test_pipe_large(systemd_host: None) -> None:
    data = os.urandom(3 * 1024 * 1024)
    proc = sysd_run("-q", "-P", "--", "/bin/cat", input=data)
    assert proc.returncode == 0 and proc.stdout == data


def test_environment_directory_user(test_user: tuple[str, int], systemd_host: None) -> None:
    user, uid = test_user
    os.environ["SYSDT_PASSED"] = "through"
    try:
        proc = sysd_run(
            "-q", "-P", "-E", "A=1", "-E", "SYSDT_PASSED", "--working-directory=/tmp",
            f"--uid={user}", "--", "/bin/sh", "-c", 'echo "$A $SYSDT_PASSED $(pwd) $(id -u)"',
        )  # fmt: skip
    finally:
        del os.environ["SYSDT_PASSED"]
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode().split() == ["1", "through", "/tmp", str(uid)]


def test_no_wait(systemd_host: None) -> None:
    name = f"sysdt-cli-{tag()}"
    proc = sysd_run("-u", name, "--", "/bin/sleep", "30")
    assert proc.returncode == 0
    assert proc.stderr.decode() == f"Running as unit: {name}.service\n"
    with sysd.connect() as sd:
        unit = sd.unit(name)
        assert unit.get("ActiveState") == "active"
        unit.stop()


def test_unit_name_is_mangled_like_systemd_run(systemd_host: None) -> None:
    proc = sysd_run("--wait", "-u", f"bad name {tag()}", "--", "/bin/true")
    assert proc.returncode == 0
    assert "Running as unit: bad\\x20name\\x20" in proc.stderr.decode()


def test_scope(systemd_host: None) -> None:
    proc = sysd_run("--scope", "--", "/bin/sh", "-c", "cat /proc/self/cgroup; exit 4")
    assert proc.returncode == 4
    unit = proc.stderr.decode().split("Running scope as unit: ")[1].strip()
    assert unit.endswith(".scope") and f"/{unit}" in proc.stdout.decode()
    theirs = systemd_run("--scope", "-q", "--", "/bin/sh", "-c", "exit 4")
    assert theirs.returncode == proc.returncode


def test_timer(systemd_host: None) -> None:
    spec = "*-*-* 04:05:06"
    name = f"sysdt-cli-timer-{tag()}"
    before = datetime.now(UTC)
    proc = sysd_run("--json", "-u", name, f"--on-calendar={spec}", "--", "/bin/true")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.decode().splitlines() == [
        f"Running timer as unit: {name}.timer",
        f"Will run service as unit: {name}.service",
    ]
    out = json.loads(proc.stdout)
    assert out["unit"] == f"{name}.timer" and out["service"] == f"{name}.service"
    ours = CalendarSpec.parse(spec).next_elapse(before)
    assert ours is not None and datetime.fromisoformat(out["next_elapse"]) == ours
    with sysd.connect() as sd:
        sd.unit(f"{name}.timer").stop()
    proc = sysd_run("--on-active=1h", "--timer-property=AccuracySec=1s", "--", "/bin/true")
    assert proc.returncode == 0
    timer = proc.stderr.decode().split("Running timer as unit: ")[1].split()[0]
    with sysd.connect() as sd:
        assert sd.unit(timer).get("AccuracyUSec") == 1_000_000
        sd.unit(timer).stop()


def test_socket_and_path(systemd_host: None) -> None:
    name = f"sysdt-cli-{tag()}"
    proc = sysd_run("-u", name, f"--socket-property=ListenStream=/run/{name}.sock", "/bin/true")
    assert proc.returncode == 0, proc.stderr
    assert f"Running socket as unit: {name}.socket" in proc.stderr.decode()
    proc = sysd_run("-u", name + "p", f"--path-property=PathExists=/run/{name}", "/bin/true")
    assert proc.returncode == 0, proc.stderr
    with sysd.connect() as sd:
        assert sd.unit(f"{name}.socket").get("ActiveState") == "active"
        sd.unit(f"{name}.socket").stop()
        sd.unit(f"{name}p.path").stop()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-p", "Bogus=1", "/bin/true"], "unknown property Bogus="),
        (["-p", "CPUQuota", "/bin/true"], "not an assignment"),
        (["--scope", "-r", "/bin/true"], "not supported with scope"),
        (["--pty", "--on-active=1s", "/bin/true"], "pty"),
        (["--timer-property=AccuracySec=1s", "/bin/true"], "no effect"),
        (["--on-active=1s", "--socket-property=ListenStream=/x", "/bin/true"], "one trigger"),
        (["--wait", "--on-active=1s", "/bin/true"], "wait"),
        (["--on-calendar=not a time", "/bin/true"], "calendar"),
        (["--nice=40", "/bin/true"], "nice"),
        (["--service-type=daemon", "/bin/true"], "service_type"),
        (["-S", "/bin/true"], "no command line is expected"),
        ([], "command line to execute required"),
    ],
)
def test_bad_arguments_exit_1_before_connecting(
    args: list[str], message: str, systemd_host: None
) -> None:
    env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": "unix:path=/nonexistent"}
    proc = subprocess.run(
        [*SYSD, "--no-private", *args], capture_output=True, timeout=60, env=env, check=False
    )
    assert proc.returncode == 1  # as systemd-run
    assert message in proc.stderr.decode()


def test_pty_in_a_terminal(systemd_host: None) -> None:
    """``sysd run --pty`` driven through a terminal, as a person would."""
    master, slave = os.openpty()
    proc = subprocess.Popen(
        [*SYSD, "--pty", "--", "/bin/sh", "-i"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
        env={**os.environ, "TERM": "xterm"},
    )
    os.close(slave)
    seen = b""

    def read_until(needle: bytes, timeout: float = 30) -> None:
        nonlocal seen
        deadline = time.monotonic() + timeout
        while needle not in seen:
            left = deadline - time.monotonic()
            assert left > 0, f"no {needle!r} in {seen!r}"
            ready, _, _ = select.select([master], [], [], left)
            if ready:
                try:
                    seen += os.read(master, 4096)
                except OSError:
                    break

    try:
        read_until(b"Press ^] three times within 1s to disconnect TTY.")
        read_until(b"# ")  # root's prompt (the unit has the manager's environment)
        os.write(master, b"echo $((6*7)); tty; echo $TERM\n")
        read_until(b"xterm")
        assert b"42" in seen and b"/dev/pts/" in seen
        os.write(master, b"exit 5\n")
        assert proc.wait(30) == 5
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)


def test_pty_disconnect_with_escape(systemd_host: None) -> None:
    master, slave = os.openpty()
    name = f"sysdt-cli-esc-{tag()}"
    proc = subprocess.Popen(
        # the terminal goes away when sysd lets go of it: SIGHUP, as with systemd-run
        [*SYSD, "-t", "-u", name, "--", "/bin/sh", "-c", "trap '' HUP; exec sleep 30"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
    )
    os.close(slave)
    try:
        deadline = time.monotonic() + 30
        seen = b""
        while b"disconnect TTY" not in seen and time.monotonic() < deadline:
            if select.select([master], [], [], 1)[0]:
                seen += os.read(master, 4096)
        time.sleep(0.2)
        os.write(master, b"\x1d\x1d\x1d")
        assert proc.wait(30) == 0  # let go: the unit goes on
        with sysd.connect() as sd:
            unit = sd.unit(f"{name}.service")
            assert unit.get("ActiveState") == "active"
            unit.stop()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)


def test_shell_is_not_needed_for_help() -> None:
    proc = subprocess.run([*SYSD, "--help"], capture_output=True, timeout=60, check=False)
    assert proc.returncode == 0 and b"--on-calendar" in proc.stdout


def test_same_dir(tmp_path: Path, systemd_host: None) -> None:
    proc = subprocess.run(
        [*SYSD, "-q", "-P", "-d", "--", "/bin/pwd"],
        capture_output=True,
        timeout=60,
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 0 and proc.stdout.decode().strip() == str(tmp_path)
