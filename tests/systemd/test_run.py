"""``run()``: transient services, scopes and triggers against the real systemd.

One connection per flavour (private socket, system bus) is shared by the module's
tests; every wait is bounded.  ``run`` is called as the function for now
(``sd.run(...)`` once the lead adds the method).
"""

from __future__ import annotations

import asyncio
import os
import pwd
import signal
import socket
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import sysd
import sysd.aio
from sysd._async.run import run as arun
from sysd._core.calendar import CalendarSpec
from sysd._core.run import (
    DEVNULL,
    PIPE,
    STDOUT,
    InvalidRunOptionError,
    RunFailedError,
    RunTimeoutError,
    UnknownUserError,
)
from sysd._sync.run import RunningUnit, TriggerHandle, run

TRANSIENT = Path("/run/systemd/transient")
TRUE = "/bin/true"
SH = "/bin/sh"


@pytest.fixture(scope="module", params=["private", "bus"])
def conn(request: pytest.FixtureRequest, systemd_host: None) -> Iterator[sysd.Systemd]:
    with sysd.connect(private=request.param == "private") as sd:
        yield sd


@pytest.fixture(scope="module")
def priv(systemd_host: None) -> Iterator[sysd.Systemd]:
    with sysd.connect(private=True) as sd:
        yield sd


def name(stem: str) -> str:
    return f"sysdt-run-{stem}-{uuid.uuid4().hex[:8]}"


# ------------------------------------------------------------------ exit status


@pytest.mark.parametrize("code", [0, 1, 7])
def test_exit_codes(conn: sysd.Systemd, code: int) -> None:
    r = run(conn, [SH, "-c", f"exit {code}"], wait=True)
    assert r.exit_code == code and r.exit_signal is None
    assert r.result == ("success" if code == 0 else "exit-code")
    assert r.returncode == code and r.exit_status == code and r.ok is (code == 0)
    assert r.invocation_id is not None and r.main_pid
    assert r.started_at is not None and r.exited_at is not None
    assert r.started_at <= r.exited_at <= datetime.now(UTC) + timedelta(seconds=1)
    assert r.stdout is None and r.stderr is None


def test_death_by_signal(conn: sysd.Systemd) -> None:
    r = run(conn, [SH, "-c", "kill -9 $$$$"], wait=True)  # $$ is systemd's escape for $
    assert (r.result, r.exit_code, r.exit_signal) == ("signal", None, signal.SIGKILL)
    assert r.returncode == -9 and r.exit_status == 255


def test_runtime_max_sec_expiry(priv: sysd.Systemd) -> None:
    t0 = time.monotonic()
    r = run(priv, ["/bin/sleep", "30"], wait=True, properties={"RuntimeMaxSec": "0.3"})
    assert time.monotonic() - t0 < 10
    assert (r.result, r.exit_signal) == ("timeout", signal.SIGTERM)


def test_oneshot_with_remain_after_exit(conn: sysd.Systemd) -> None:
    unit = name("oneshot")
    r = run(
        conn,
        [SH, "-c", "echo done"],
        name=unit,
        service_type="oneshot",
        remain_after_exit=True,
        wait=True,
        capture_output=True,
    )
    assert (r.result, r.exit_code, r.stdout) == ("success", 0, b"done\n")
    u = conn.unit(unit)
    assert (u.get("ActiveState"), u.get("SubState")) == ("active", "exited")
    u.stop()
    assert conn.unit(unit).get("LoadState") == "not-found"  # collected after the stop


def test_oneshot_failing_is_a_result_not_a_job_error(conn: sysd.Systemd) -> None:
    r = run(conn, [SH, "-c", "exit 3"], service_type="oneshot", wait=True)
    assert (r.result, r.exit_code) == ("exit-code", 3)
    with pytest.raises(sysd.JobFailedError):  # without waiting: the start job failed
        run(conn, [SH, "-c", "exit 3"], service_type="oneshot")


def test_exec_failure(conn: sysd.Systemd) -> None:
    r = run(conn, ["/bin/true"], wait=True, user="root", cwd="/nonexistent-dir")
    assert r.result == "exit-code" and r.exit_code == 200  # 200/CHDIR


def test_check_raises_run_failed_error(priv: sysd.Systemd) -> None:
    with pytest.raises(RunFailedError) as info:
        run(priv, [SH, "-c", "echo oops >&2; exit 4"], wait=True, check=True, capture_output=True)
    err = info.value
    assert (err.exit_code, err.result, err.stderr) == (4, "exit-code", b"oops\n")
    assert err.unit and err.unit.endswith(".service") and err.run_result is not None
    run(priv, [TRUE], wait=True, check=True)


def test_timeout_stops_the_unit(conn: sysd.Systemd) -> None:
    unit = name("timeout")
    t0 = time.monotonic()
    with pytest.raises(RunTimeoutError) as info:
        # 2 s, not less: the shell must have started and echoed (a loaded machine)
        run(conn, [SH, "-c", "echo started; exec sleep 30"], name=unit, wait=True,
            timeout=2, stdout=PIPE)  # fmt: skip
    assert time.monotonic() - t0 < 15
    err = info.value
    assert err.unit == f"{unit}.service" and err.timeout == 2
    assert err.run_result is not None and err.run_result.exit_signal == signal.SIGTERM
    assert err.stdout == b"started\n"
    assert conn.unit(unit).get("LoadState") == "not-found"


# ------------------------------------------------------------------ I/O


def test_large_stdout_and_stderr_without_deadlock(conn: sysd.Systemd) -> None:
    size = 3 * 1024 * 1024
    script = f"head -c {size} /dev/zero | tr '\\0' o & head -c {size} /dev/zero >&2; wait"
    r = run(conn, [SH, "-c", script], wait=True, capture_output=True)
    assert r.ok
    assert r.stdout == b"o" * size and r.stderr == b"\0" * size


def test_stdin_from_a_pipe(conn: sysd.Systemd) -> None:
    data = os.urandom(2 * 1024 * 1024)
    r = run(conn, ["/bin/cat"], wait=True, input=data, stdout=PIPE)
    assert r.stdout == data
    # an fd we write to ourselves
    rfd, wfd = os.pipe()
    with os.fdopen(wfd, "wb") as w:
        w.write(b"line one\nline two\n")
    try:
        r = run(conn, ["/usr/bin/wc", "-l"], wait=True, stdin=rfd, stdout=PIPE)
    finally:
        os.close(rfd)
    assert r.stdout.strip() == b"2"


def test_stdin_pipe_without_input_is_eof(conn: sysd.Systemd) -> None:
    r = run(conn, ["/bin/cat"], stdin=PIPE, stdout=PIPE, wait=True)
    assert (r.result, r.stdout) == ("success", b"")


def test_stdin_pipe_handle(priv: sysd.Systemd) -> None:
    with run(priv, ["/bin/cat"], stdin=PIPE, stdout=PIPE) as h:
        assert h.stdin is not None
        h.stdin.write(b"streamed\n")
        h.stdin.close()
        r = h.wait(30)
    assert r.stdout == b"streamed\n"


def test_stdout_to_a_file_and_stderr_merged(priv: sysd.Systemd, tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    with out.open("wb") as f:
        r = run(priv, [SH, "-c", "echo a; echo b >&2"], wait=True, stdout=f, stderr=STDOUT)
    assert r.ok and sorted(out.read_bytes().split()) == [b"a", b"b"]
    r = run(priv, [SH, "-c", "echo a; echo b >&2"], wait=True, stdout=PIPE, stderr=STDOUT)
    assert sorted(r.stdout.split()) == [b"a", b"b"] and r.stderr is None
    r = run(priv, [SH, "-c", "echo a; echo b >&2"], wait=True, stdout=DEVNULL, stderr=PIPE)
    assert r.stdout is None and r.stderr == b"b\n"


def test_pty_round_trip(conn: sysd.Systemd) -> None:
    r = run(
        conn,
        [SH, "-c", "read x; echo got:$x; tty; stty size"],
        pty=True,
        input=b"hello\n",
        stdout=PIPE,
        wait=True,
    )
    assert r.ok
    lines = r.stdout.decode().splitlines()
    assert lines[0] == "hello" and lines[1] == "got:hello"  # the terminal echoes input
    assert lines[2].startswith("/dev/pts/")


def test_env_cwd_and_user_applied(
    conn: sysd.Systemd, test_user: tuple[str, int], tmp_path: Path
) -> None:
    user, uid = test_user
    home = pwd.getpwnam(user).pw_dir
    r = run(
        conn,
        [SH, "-c", 'echo "$GREETING|$(pwd)|$(id -un)|$(id -u)|$HOME"'],
        env={"GREETING": "hi there"},
        cwd="/tmp",
        user=user,
        wait=True,
        stdout=PIPE,
    )
    assert r.ok, r
    assert r.stdout.decode().strip() == f"hi there|/tmp|{user}|{uid}|{home}"
    r = run(conn, [SH, "-c", "pwd"], cwd="~", user=user, wait=True, stdout=PIPE)
    assert r.stdout.decode().strip() == home


def test_command_resolved_on_path(priv: sysd.Systemd) -> None:
    r = run(priv, ["true"], wait=True)
    assert r.ok
    h = run(priv, ["sleep", "5"])
    with h:
        assert "/sleep" in h.status().raw("ExecStart")[0][0]
        h.stop()


# ------------------------------------------------------------------ collection


@pytest.mark.parametrize("outcome", ["success", "failure"])
def test_unit_gone_after_it_ran_with_collect(conn: sysd.Systemd, outcome: str) -> None:
    unit = name("collect")
    r = run(conn, [SH, "-c", "exit 0" if outcome == "success" else "exit 2"], name=unit, wait=True)
    assert r.result == ("success" if outcome == "success" else "exit-code")
    assert conn.unit(unit).get("LoadState") == "not-found"
    assert not (TRANSIENT / f"{unit}.service").exists()


def test_failed_unit_stays_without_collect(conn: sysd.Systemd) -> None:
    unit = name("nocollect")
    r = run(conn, [SH, "-c", "exit 2"], name=unit, wait=True, collect=False)
    assert r.result == "exit-code"
    u = conn.unit(unit)
    try:
        assert u.get("ActiveState") == "failed" and u.get("Result") == "exit-code"
        assert (TRANSIENT / f"{unit}.service").exists()
    finally:
        u.reset_failed()
    assert conn.unit(unit).get("LoadState") == "not-found"
    assert not (TRANSIENT / f"{unit}.service").exists()


def test_name_in_use_is_unit_exists(priv: sysd.Systemd) -> None:
    unit = name("exists")
    with run(priv, ["/bin/sleep", "10"], name=unit) as h:
        with pytest.raises(sysd.UnitExistsError):
            run(priv, [TRUE], name=unit)
        h.stop()


# ------------------------------------------------------------------ handles


def test_running_unit_handle(conn: sysd.Systemd) -> None:
    h = run(conn, ["/bin/sleep", "30"])
    assert isinstance(h, RunningUnit)
    with h:
        assert h.invocation_id is not None and h.main_pid
        st = h.status()
        assert st.active_state == "active" and st.main_pid == h.main_pid
        h.kill(signal.SIGUSR1)
        r = h.wait(30)
        assert (r.result, r.exit_signal) == ("signal", signal.SIGUSR1)
        assert r.invocation_id == h.invocation_id
        assert h.wait() is r


def test_handle_wait_timeout_leaves_the_unit_running(priv: sysd.Systemd) -> None:
    with run(priv, ["/bin/sleep", "30"]) as h:
        with pytest.raises(sysd.WaitTimeoutError):
            h.wait(0.2)
        assert h.status().active_state == "active"
        h.stop()
        assert h.wait(30).exit_signal == signal.SIGTERM


# ------------------------------------------------------------------ scopes


def test_scope_contains_the_forked_child(conn: sysd.Systemd) -> None:
    h = run(conn, ["/bin/sleep", "30"], scope=True)
    with h:
        pid = h.main_pid
        assert pid is not None
        assert conn.unit_by_pid(pid).name == h.unit and h.unit.endswith(".scope")
        assert f"/{h.unit}\n" in Path(f"/proc/{pid}/cgroup").read_text()
        assert conn.unit(h.unit).get("ActiveState") == "active"
        assert h.invocation_id is not None
        h.stop()
        r = h.wait(30)
    assert r.exit_signal == signal.SIGTERM and r.result == "signal"
    assert r.invocation_id == h.invocation_id


def test_scope_exit_status_and_environment(priv: sysd.Systemd) -> None:
    r = run(
        priv,
        [SH, "-c", 'echo "$A $INVOCATION_ID"; pwd; exit 5'],
        scope=True,
        env={"A": "b"},
        wait=True,
        capture_output=True,
        cwd="/tmp",
    )
    assert (r.exit_code, r.result) == (5, "exit-code")
    assert r.invocation_id is not None
    assert r.stdout == f"b {r.invocation_id.hex}\n/tmp\n".encode()


# ------------------------------------------------------------------ triggers


def test_transient_timer_fires(conn: sysd.Systemd, tmp_path: Path) -> None:
    mark = tmp_path / "fired"
    t0 = time.monotonic()
    # AccuracySec= (default 1 min) would let systemd fire it up to a minute late
    h = run(
        conn,
        [SH, "-c", f"echo fired > {mark}"],
        on_active="2s",
        timer_properties={"AccuracySec": "1ms"},
    )
    assert isinstance(h, TriggerHandle)
    with h:
        assert h.unit.endswith(".timer") and h.service.endswith(".service")
        assert h.next_elapse is not None
        # 2 s after the timer started, which was before now (by as much as the machine's
        # load made it): a wrong clock conversion is off by far more
        left = (h.next_elapse - datetime.now(UTC)).total_seconds()
        assert -5 < left <= 2.5, left
        assert conn.unit(h.unit).get("ActiveState") == "active"
        r = h.wait(30)
    assert r.ok and mark.read_text() == "fired\n"
    assert time.monotonic() - t0 >= 1.9


def test_on_calendar_next_elapse_matches_sysd(conn: sysd.Systemd) -> None:
    spec = "Mon..Fri *-*-* 03:30:00"
    before = datetime.now(UTC)
    h = run(conn, [TRUE], on_calendar=spec, name=name("calendar"))
    with h:
        ours = CalendarSpec.parse(spec).next_elapse(before)
        assert h.next_elapse == ours
        timer = conn.unit(h.unit)
        assert timer.get("TimersCalendar") == [
            ("OnCalendar", str(CalendarSpec.parse(spec)), timer.get("NextElapseUSecRealtime"))
        ]
        h.stop()
    assert conn.unit(h.unit).get("LoadState") == "not-found"


def test_socket_activation_delivers_listen_fds(conn: sysd.Systemd) -> None:
    path = f"/run/{name('sock')}.sock"
    # the service accepts on the fd it was given and reports what it got
    code = (
        "import os, socket; s = socket.socket(fileno=3); c, _ = s.accept(); "
        "c.sendall(('%s %s %s' % (os.environ['LISTEN_FDS'], os.environ['LISTEN_FDNAMES'], "
        "os.environ['LISTEN_PID'] == str(os.getpid()))).encode())"
    )
    h = run(conn, [sys.executable, "-c", code], socket_properties={"ListenStream": path})
    with h:
        assert h.unit.endswith(".socket")
        assert conn.unit(h.unit).get("ActiveState") == "active"
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(30)
            s.connect(path)
            reply = s.recv(1024).decode()
        r = h.wait(30)
        assert r.ok, r
        assert reply == f"1 {h.unit} True"
        h.stop()


def test_path_trigger(priv: sysd.Systemd, tmp_path: Path) -> None:
    watched = tmp_path / "trigger-me"
    out = tmp_path / "ran"
    with run(priv, [SH, "-c", f"touch {out}"], path_properties={"PathExists": str(watched)}) as h:
        assert h.unit.endswith(".path")
        watched.touch()
        assert h.wait(30).ok and out.exists()
        h.stop()


# ------------------------------------------------------------------ nothing sent

_BAD_RUNS: list[tuple[str, list[str], dict[str, Any], type[Exception]]] = [
    ("empty cmd", [], {}, InvalidRunOptionError),
    ("relative cwd", [TRUE], {"cwd": "tmp"}, InvalidRunOptionError),
    ("malformed property", [TRUE], {"properties": ["CPUQuota"]}, sysd.InvalidPropertyError),
    ("empty property", [TRUE], {"properties": [""]}, sysd.InvalidPropertyError),
    ("unknown property", [TRUE], {"properties": {"NoSuch": "1"}}, sysd.InvalidPropertyError),
    ("unknown user", [TRUE], {"user": "no-such-user-xyz"}, UnknownUserError),
    ("unknown group", [TRUE], {"group": "no-such-group-xyz"}, UnknownUserError),
    ("invalid name", [TRUE], {"name": "foo@.service"}, sysd.InvalidUnitNameError),
    ("invalid slice", [TRUE], {"slice": "a b/c"}, sysd.InvalidUnitNameError),
    ("missing command", ["no-such-command-xyz"], {}, InvalidRunOptionError),
    ("capture and stdout", [TRUE], {"capture_output": True, "stdout": PIPE}, InvalidRunOptionError),
    ("input and stdin", [TRUE], {"input": b"x", "stdin": DEVNULL}, InvalidRunOptionError),
    ("input not bytes", [TRUE], {"input": "text"}, InvalidRunOptionError),
    ("STDOUT for stdout", [TRUE], {"stdout": STDOUT}, InvalidRunOptionError),
    ("stdin not a file", [TRUE], {"stdin": "file.txt"}, InvalidRunOptionError),
    ("negative fd", [TRUE], {"stdout": -1}, InvalidRunOptionError),
    ("bad calendar", [TRUE], {"on_calendar": "tomorrowish"}, sysd.InvalidCalendarSpecError),
    ("pty with timer", [TRUE], {"pty": True, "on_active": "1s"}, InvalidRunOptionError),
    ("timeout without wait", [TRUE], {"timeout": 1}, InvalidRunOptionError),
    ("bad env", [TRUE], {"env": {"A B": "1"}}, InvalidRunOptionError),
    ("bad nice", [TRUE], {"nice": -21}, InvalidRunOptionError),
]


@pytest.mark.parametrize(
    ("case", "cmd", "options", "error"), _BAD_RUNS, ids=[c[0] for c in _BAD_RUNS]
)
def test_invalid_input_raises_before_the_bus_is_touched(
    priv: sysd.Systemd, case: str, cmd: list[str], options: dict[str, Any], error: type
) -> None:
    calls: list[str] = []
    original = priv.bus.call_message

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[3])
        return original(*args, **kwargs)

    priv.bus.call_message = spy  # type: ignore[method-assign]
    try:
        with pytest.raises(error):
            run(priv, cmd, **options)
    finally:
        priv.bus.call_message = original  # type: ignore[method-assign]
    assert calls == []


# ------------------------------------------------------------------ many, and asyncio


def test_200_runs_lose_no_job_signal(systemd_host: None) -> None:
    async def main() -> None:
        async with sysd.aio.connect(private=True) as sd:
            async with asyncio.timeout(120):
                results = await asyncio.gather(
                    *(arun(sd, [SH, "-c", f"exit {i % 3}"], wait=True) for i in range(200))
                )
            assert [r.exit_code for r in results] == [i % 3 for i in range(200)]
            assert len({r.unit for r in results}) == 200
            # everything let go
            assert sd._subscription.holders == 0 and not sd._subscription.watched
        async with sysd.aio.connect(private=False) as sd:
            # on a bus each AddRef'd unit costs systemd a match: keep a few dozen in flight
            gate = asyncio.Semaphore(32)

            async def one(i: int) -> int | None:
                async with gate:
                    return (await arun(sd, [SH, "-c", f"exit {i % 2}"], wait=True)).exit_code

            async with asyncio.timeout(120):
                codes = await asyncio.gather(*(one(i) for i in range(200)))
            assert codes == [i % 2 for i in range(200)]
            assert sd._subscription.holders == 0 and not sd._subscription.watched
            assert sd._subscription.pins == 0  # every AddRef was matched by an Unref

    asyncio.run(main())


def test_async_run_capture_and_cancellation(systemd_host: None) -> None:
    unit = name("cancel")

    async def main() -> None:
        async with sysd.aio.connect() as sd:
            r = await arun(sd, [SH, "-c", "echo async"], wait=True, capture_output=True)
            assert (r.result, r.stdout, r.stderr) == ("success", b"async\n", b"")
            task = asyncio.create_task(arun(sd, ["/bin/sleep", "30"], name=unit, wait=True))
            async with sd.watch_unit(f"{unit}.service") as w:
                await w.wait(lambda p: p.get("ActiveState") == "active", timeout=30)
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
                await w.wait(lambda p: p.get("ActiveState") in ("inactive", "failed"), 30)
            async with await arun(sd, ["/bin/sleep", "30"]) as h:
                await h.stop()
                assert (await h.wait(30)).exit_signal == signal.SIGTERM

    asyncio.run(main())


def test_user_manager(as_user: Any) -> None:
    proc = as_user(
        """
        import os, sysd
        from sysd._sync.run import run
        from sysd._core.run import PIPE
        with sysd.connect(user=True) as sd:
            r = run(sd, ["/bin/sh", "-c", "id -u; exit 3"], wait=True, stdout=PIPE)
            print(r.exit_code, r.stdout.decode().strip(), r.unit.startswith("run-"))
            r = run(sd, ["/bin/sh", "-c", "id -u"], scope=True, wait=True, stdout=PIPE)
            print(r.exit_code, r.stdout.decode().strip(), r.unit.endswith(".scope"))
            r = run(sd, ["/bin/sh", "-c", "read x; echo got:$x"], pty=True, input=b"hi\\n",
                    stdout=PIPE, wait=True)
            print(r.stdout.split())
        """
    )
    assert proc.returncode == 0, proc.stderr
    uid = str(os.environ.get("SYSD_TEST_UID"))
    assert proc.stdout.split("\n")[:3] == [f"3 {uid} True", f"0 {uid} True", "[b'hi', b'got:hi']"]
