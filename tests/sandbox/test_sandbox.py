"""sysd.sandbox: the throwaway real systemd, its CLI verb and its pytest plugin.

Tests marked ``host`` boot sandboxes themselves, so they run on the host (the
plugin's auto mode runs them before moving the rest into a sandbox) and are
skipped inside one.  The others are pure and run anywhere.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import sysd.sandbox
from sysd.errors import SandboxError
from sysd.sandbox import _nspawn
from sysd.sandbox import pytest_plugin as plugin

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="booting a sandbox needs root")
host = [pytest.mark.host, needs_root]


def _mounts_under(directory: str | Path) -> list[str]:
    """Mount points in or under ``directory`` (other sandboxes may come and go meanwhile)."""
    prefix = str(directory).rstrip("/")
    with open("/proc/self/mounts") as f:
        points = [line.split()[1] for line in f]
    return [p for p in points if p == prefix or p.startswith(prefix + "/")]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0): count it as gone.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


# ---------------------------------------------------------------- pure parts


def test_booted_and_inside_follow_their_markers(monkeypatch: pytest.MonkeyPatch) -> None:
    assert sysd.sandbox.booted() == os.path.isdir("/run/systemd/system")
    monkeypatch.setenv("SYSD_SANDBOX", "1")
    assert sysd.sandbox.inside()
    monkeypatch.delenv("SYSD_SANDBOX")
    assert sysd.sandbox.inside() == os.path.exists("/etc/sysd-sandbox")


def test_nspawn_command_line_has_the_recipe() -> None:
    argv = _nspawn.nspawn_argv(
        "/usr/bin/systemd-nspawn",
        root="/d/fs/root",
        name="sysd-x",
        bus_dir="/d/fs/bus",
        binds=[("/work/main", "/work/main"), ("/a:b", "/c")],
    )
    for flag in (
        "--register=no",
        "--keep-unit",
        "--private-network",
        "--machine=sysd-x",
        "--directory=/d/fs/root",
        "--bind=/d/fs/bus:/run/dbus",
        "--bind=/work/main:/work/main",
        "--bind=/a\\:b:/c",
        "--boot",
    ):
        assert flag in argv
    assert argv[-3:] == ["--", "systemd.unit=multi-user.target", "systemd.firstboot=off"]


def test_systemd_run_command_line() -> None:
    argv = _nspawn.systemd_run_argv(
        ["python", "-m", "pytest"], cwd="/work/main", env={"A": "1"}, user="tester"
    )
    assert argv[:4] == ["systemd-run", "--wait", "--pipe", "--quiet"]
    assert "--property=WorkingDirectory=/work/main" in argv
    assert "--setenv=A=1" in argv
    assert "--uid=tester" in argv
    assert argv[-4:] == ["--", "python", "-m", "pytest"]


def test_environment_inside_drops_host_session(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", "/run/systemd/notify")
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nowhere")
    monkeypatch.setenv("VIRTUAL_ENV", "/work/venv")
    monkeypatch.setenv("HOME", "/root")
    env = _nspawn.clean_environment({"X": "1"})
    assert "NOTIFY_SOCKET" not in env and "DBUS_SYSTEM_BUS_ADDRESS" not in env
    assert env["VIRTUAL_ENV"] == "/work/venv" and env["X"] == "1" and "PATH" in env
    assert "HOME" not in _nspawn.clean_environment({}, user="tester")
    assert _nspawn.clean_environment({}, inherit=False).keys() == {"PATH"}


def test_auto_binds_skip_system_directories() -> None:
    assert _nspawn.auto_binds("/work/main") == ["/work/main"]
    assert _nspawn.auto_binds("/tmp/project") == ["/tmp/project"]
    for system in ("/", "/root", "/tmp", "/usr/lib", "/proc/1", "/etc"):
        assert _nspawn.auto_binds(system) == []


@pytest.mark.parametrize(
    ("host_rc", "inner_rc", "combined"),
    [
        (0, 0, 0),
        (5, 0, 0),
        (0, 5, 0),
        (5, 5, 5),
        (1, 0, 1),
        (0, 1, 1),
        (1, 1, 1),
        (5, 1, 1),
        (1, 2, 2),
    ],
)
def test_exit_statuses_combine(host_rc: int, inner_rc: int, combined: int) -> None:
    assert plugin._combine(host_rc, inner_rc) == combined


def test_not_root_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(SandboxError, match=r"missing root privileges \(running as uid 1000\)"):
        sysd.sandbox.check()


def test_missing_overlayfs_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_nspawn, "have_overlayfs", lambda: False)
    with pytest.raises(SandboxError, match=r"missing .*overlayfs") as info:
        sysd.sandbox.check()
    assert "modprobe overlay" in str(info.value)


def test_missing_nspawn_without_apt_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    real = _nspawn.find_program
    gone = {"systemd-nspawn", "apt-get"}
    monkeypatch.setattr(_nspawn, "find_program", lambda n: None if n in gone else real(n))
    with pytest.raises(SandboxError, match=r"systemd-nspawn \(package systemd-container\)"):
        _nspawn.check_requirements(install=True)


def test_missing_nspawn_is_installed_with_apt(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "apt.log"
    apt = tmp_path / "apt-get"  # a stand-in that records what it was asked to do
    apt.write_text(f'#!/bin/sh\necho "$@" >> {log}\n')
    apt.chmod(0o755)
    real = _nspawn.find_program

    def find(name: str) -> str | None:
        if name == "systemd-nspawn":
            installed = log.exists() and "install" in log.read_text()
            return "/usr/bin/systemd-nspawn" if installed else None
        return str(apt) if name == "apt-get" else real(name)

    monkeypatch.setattr(_nspawn, "is_root", lambda: True)
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(_nspawn, "have_overlayfs", lambda: True)
    monkeypatch.setattr(_nspawn, "find_program", find)
    monkeypatch.setattr(_nspawn, "_apt_lists_present", lambda: False)
    tools = _nspawn.check_requirements(install=True)
    assert tools.nspawn == "/usr/bin/systemd-nspawn"
    assert log.read_text().splitlines() == [
        "update",
        "install -y --no-install-recommends systemd-container",
    ]
    err = capfd.readouterr().err
    assert "installing the Debian package systemd-container" in err
    assert "apt-get update" in err


def test_nested_sandbox_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYSD_SANDBOX", "1")
    with pytest.raises(SandboxError, match="nested sandboxes are not supported"):
        sysd.sandbox.Sandbox().start()


def test_bad_name_and_missing_bind_fail_before_booting() -> None:
    with pytest.raises(SandboxError, match="invalid sandbox name"):
        sysd.sandbox.Sandbox(name="no/slashes")
    with pytest.raises(SandboxError, match="does not exist"):
        sysd.sandbox.Sandbox(binds=["/nonexistent/sysd-test-path"])


@pytest.mark.parametrize("target", ["/tmp", "/tmp/", "/var/tmp", "/run", "/", "/dev/shm"])
def test_binding_onto_what_the_boot_owns_is_refused(target: str, tmp_path: Path) -> None:
    # `sandbox run --bind /tmp` once let the booted systemd's tmpfiles empty the host's /tmp
    marker = tmp_path / "kept"
    marker.write_text("")
    with pytest.raises(SandboxError, match=f"onto the sandbox's {target.rstrip('/') or '/'}:"):
        sysd.sandbox.Sandbox(binds=[(tmp_path, target)])
    if target in ("/tmp", "/var/tmp"):
        with pytest.raises(SandboxError, match="bind a directory under"):
            sysd.sandbox.Sandbox(binds=[target])
    assert marker.exists()
    sysd.sandbox.Sandbox(binds=[(tmp_path, "/tmp/sysd-bound")])  # a mount point under it: fine


def test_cli_without_command_exits_1() -> None:
    from sysd.cli import main

    assert main(["sandbox", "run"]) == 1


# ----------------------------------------------------------------- host side


@pytest.fixture(scope="module")
def sb() -> Iterator[sysd.sandbox.Sandbox]:
    """One sandbox shared by the tests that only use it."""
    if os.geteuid() != 0 or sysd.sandbox.inside():
        pytest.skip("needs root on the host")
    with sysd.sandbox.Sandbox(binds=[str(Path(__file__).resolve().parents[2])]) as box:
        yield box


@pytest.mark.host
@needs_root
def test_boots_running_quickly(sb: sysd.sandbox.Sandbox) -> None:
    assert sb.boot_state in ("running", "degraded")
    assert sb.boot_seconds is not None and sb.boot_seconds < 20
    state = sb.exec(["systemctl", "is-system-running"], capture=True)
    assert state.stdout.strip() in ("running", "degraded")
    assert sb.test_user == ("tester", 4242)
    assert sb.root.is_dir() and (sb.root / "etc/sysd-sandbox").exists()
    assert Path(f"/proc/{sb.leader_pid}/comm").read_text().strip() == "systemd"


@pytest.mark.host
@needs_root
def test_bus_address_answers_auth_from_the_host(sb: sysd.sandbox.Sandbox) -> None:
    assert sb.bus_address.startswith("unix:path=")
    path = sb.bus_address.removeprefix("unix:path=")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(path)
        s.sendall(b"\0AUTH EXTERNAL " + str(os.getuid()).encode().hex().encode() + b"\r\n")
        assert s.recv(4096).startswith(b"OK ")
    ping = subprocess.run(
        ["busctl", f"--address={sb.bus_address}", "call", "org.freedesktop.systemd1",
         "/org/freedesktop/systemd1", "org.freedesktop.DBus.Peer", "Ping"],
        capture_output=True, text=True, timeout=10, check=False,
    )  # fmt: skip
    assert ping.returncode == 0, ping.stderr


@pytest.mark.host
@needs_root
@pytest.mark.parametrize("status", [0, 7])
def test_exec_passes_exit_status(sb: sysd.sandbox.Sandbox, status: int) -> None:
    assert sb.exec(["sh", "-c", f"exit {status}"]).returncode == status


@pytest.mark.host
@needs_root
def test_exec_check_raises_with_status(sb: sysd.sandbox.Sandbox) -> None:
    with pytest.raises(sysd.sandbox.SandboxCommandError) as info:
        sb.exec(["sh", "-c", "echo oops >&2; exit 4"], check=True, capture=True)
    assert info.value.returncode == 4 and "oops" in str(info.value)


@pytest.mark.host
@needs_root
@pytest.mark.parametrize("status", [0, 7])
def test_run_unit_passes_exit_status(sb: sysd.sandbox.Sandbox, status: int) -> None:
    assert sb.run_unit(["sh", "-c", f"exit {status}"]) == status


@pytest.mark.host
@needs_root
@pytest.mark.parametrize("status", [0, 3])
def test_run_unit_outlives_systemd_run_giving_up_in_a_reexec_storm(
    sb: sysd.sandbox.Sandbox, status: int
) -> None:
    # systemd-run --wait exits (with 0) when a daemon-reexec cuts its state query, while
    # the unit runs on: the sandbox once went down under the tests it ran
    unit = f"sysd-storm-{status}.service"
    storm = "for i in $(seq 40); do systemctl daemon-reexec; done"
    started = time.monotonic()
    rc = sb.run_unit(["sh", "-c", f"{storm}; sleep 2; exit {status}"], unit=unit)
    assert rc == status
    assert time.monotonic() - started >= 2  # it waited for the unit's end
    shown = sb.exec(["systemctl", "show", "-p", "LoadState", "--value", unit], capture=True)
    assert shown.stdout.strip() == "not-found"  # not left behind, failed or not


@pytest.mark.host
@needs_root
def test_run_unit_runs_in_a_unit_with_cwd_env_and_bound_writes(
    sb: sysd.sandbox.Sandbox, capfd: pytest.CaptureFixture[str]
) -> None:
    checkout = Path(__file__).resolve().parents[2]
    out = checkout / f".sysd-sandbox-test-{os.getpid()}"
    try:
        script = (
            'echo "$PWD $SYSD_SANDBOX $SYSD_TEST_USER $SYSD_TEST_UID $EXTRA"; '
            f"cat /proc/self/cgroup | grep -c run-; echo written > {out.name}"
        )
        rc = sb.run_unit(["sh", "-c", script], cwd=checkout, env={"EXTRA": "yes"})
        assert rc == 0
        lines = capfd.readouterr().out.splitlines()
        assert lines[0] == f"{checkout} 1 tester 4242 yes"
        assert int(lines[1]) >= 1  # lives in run-*.service
        assert out.read_text() == "written\n"  # the bound checkout keeps what was written
    finally:
        out.unlink(missing_ok=True)


@pytest.mark.host
@needs_root
def test_unprivileged_user_and_its_manager(sb: sysd.sandbox.Sandbox) -> None:
    who = sb.exec(["sh", "-c", "id -u; echo $HOME; echo $XDG_RUNTIME_DIR"], user="tester",
                  capture=True)  # fmt: skip
    assert who.stdout.split() == ["4242", "/home/tester", "/run/user/4242"]
    assert sb.exec(["test", "-S", "/run/user/4242/bus"]).returncode == 0
    user_units = sb.exec(["systemctl", "--user", "is-system-running"], user="tester",
                         capture=True)  # fmt: skip
    assert user_units.stdout.strip() in ("running", "degraded"), user_units.stderr
    # the host's Python (under /root) runs for the unprivileged user too
    code = "import sysd.sandbox as s; exit(0 if s.inside() else 9)"
    py = sb.run_unit([sys.executable, "-c", code], user="tester")
    assert py == 0
    denied = sb.exec(["systemctl", "start", "systemd-hostnamed.service"], user="tester",
                     capture=True)  # fmt: skip
    assert denied.returncode != 0


@pytest.mark.host
@needs_root
def test_journald_rate_limit_is_off(sb: sysd.sandbox.Sandbox) -> None:
    conf = sb.exec(["systemd-analyze", "cat-config", "systemd/journald.conf"], capture=True)
    assert "RateLimitBurst=0" in conf.stdout and "RateLimitIntervalSec=0" in conf.stdout


@pytest.mark.host
@needs_root
def test_two_sandboxes_at_once(sb: sysd.sandbox.Sandbox) -> None:
    with sysd.sandbox.Sandbox() as other:
        assert other.name != sb.name
        assert other.bus_address != sb.bus_address
        assert other.leader_pid != sb.leader_pid
        names = [box.exec(["hostname"], capture=True).stdout.strip() for box in (sb, other)]
        assert names == [sb.name, other.name]
        other.exec(["touch", "/etc/only-in-other"], check=True)
        assert sb.exec(["test", "-e", "/etc/only-in-other"]).returncode == 1
    assert sb.running


@pytest.mark.host
@needs_root
def test_teardown_leaves_no_mounts_no_processes_no_files() -> None:
    with sysd.sandbox.Sandbox() as box:
        directory, nspawn, leader = box.directory, box.nspawn_pid, box.leader_pid
        assert len(_mounts_under(directory)) == 2  # tmpfs + overlay
        box.exec(["touch", "/etc/written-in-sandbox"], check=True)
    assert _mounts_under(directory) == []
    assert not _alive(nspawn) and not _alive(leader)
    assert not directory.exists()
    assert not os.path.exists("/etc/written-in-sandbox")


@pytest.mark.host
@needs_root
def test_teardown_on_exception_in_the_with_block() -> None:
    box = sysd.sandbox.Sandbox()
    with pytest.raises(ZeroDivisionError), box:
        nspawn = box.nspawn_pid
        1 / 0  # noqa: B018
    assert not box.running and not _alive(nspawn)
    assert _mounts_under(box.directory) == [] and not box.directory.exists()
    with pytest.raises(SandboxError, match="not running"):
        box.exec(["true"])


@pytest.mark.host
@needs_root
def test_boot_failure_reports_nspawn_output_and_cleans_up() -> None:
    box = sysd.sandbox.Sandbox(nspawn_args=["--no-such-nspawn-option"])
    with pytest.raises(SandboxError, match="exited with status") as info:
        box.start()
    assert "no-such-nspawn-option" in str(info.value)  # the tail of its output
    assert _mounts_under(box.directory) == [] and not box.directory.exists()


@pytest.mark.host
@needs_root
def test_boot_deadline_is_a_clear_error_and_cleans_up() -> None:
    box = sysd.sandbox.Sandbox(boot_timeout=0.05)
    with pytest.raises(SandboxError, match=r"did not finish booting within 0.05 s"):
        box.start()
    assert _mounts_under(box.directory) == [] and not box.directory.exists()


@pytest.mark.host
@needs_root
def test_cli_run_passes_exit_status_and_keeps_what_it_wrote_in_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sysd.cli import main

    monkeypatch.chdir(tmp_path)  # under /tmp: invisible inside unless bound, and it is
    assert main(["sandbox", "run", "--", "sh", "-c", "echo unit > out; exit 3"]) == 3
    assert main(["sandbox", "run", "--no-unit", "--", "sh", "-c", "exit 4"]) == 4
    assert (tmp_path / "out").read_text() == "unit\n"


@pytest.mark.host
@needs_root
def test_cli_run_relative_script_as_in_the_docs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """The example in docs/sandbox.md:
    ``sysd sandbox run --bind /srv/data -E DEBUG=1 -- ./integration-test.sh``."""
    from sysd.cli import main

    data = tmp_path / "data"
    data.mkdir()
    (data / "input").write_text("from the bound directory\n")
    work = tmp_path / "work"
    work.mkdir()
    script = work / "integration-test.sh"
    script.write_text(f'#!/bin/sh\necho "$DEBUG $(cat {data}/input)" > result\nexit 5\n')
    script.chmod(0o755)
    (work / "bin").mkdir()
    (work / "bin" / "tool").write_text("#!/bin/sh\necho tool ran\n")
    (work / "bin" / "tool").chmod(0o755)
    monkeypatch.chdir(work)
    argv = ["sandbox", "run", "--bind", str(data), "-E", "DEBUG=1", "--", "./integration-test.sh"]
    assert main(argv) == 5
    assert (work / "result").read_text() == "1 from the bound directory\n"
    assert main(["sandbox", "run", "--no-unit", "--", "bin/tool"]) == 0
    assert "tool ran" in capfd.readouterr().out
    # the cwd not in the sandbox: a relative command cannot be found there, said so
    assert main(["sandbox", "run", "--no-bind-cwd", "--", "./integration-test.sh"]) == 2
    assert "not in the sandbox" in capfd.readouterr().err


def test_relative_commands_resolve_against_the_working_directory() -> None:
    assert _nspawn.resolve_command(["./x.sh", "./arg"], "/w") == ["/w/x.sh", "./arg"]
    assert _nspawn.resolve_command(["../bin/x"], "/w/sub") == ["/w/bin/x"]
    assert _nspawn.resolve_command(["python", "-V"], "/w") == ["python", "-V"]
    assert _nspawn.resolve_command(["/bin/true"], "/w") == ["/bin/true"]


@pytest.mark.host
@needs_root
@pytest.mark.parametrize("user", [False, True], ids=["root", "tester"])
def test_cli_shell_keeps_path_so_sysd_is_found(user: bool, tmp_path: Path) -> None:
    """``sysd sandbox shell`` is not a login shell: the caller's PATH (a virtualenv's
    bin, where ``sysd`` is) survives, for root and for the test user."""
    venv_bin = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": f"{venv_bin}:/usr/bin:/bin"}
    proc = subprocess.run(
        [sys.executable, "-m", "sysd", "sandbox", "shell", *(["--user"] if user else [])],
        input="command -v sysd; id -un; pwd; sysd --help >/dev/null && echo help-ok; exit 3\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 3, proc.stderr
    assert proc.stdout.splitlines() == [
        f"{venv_bin}/sysd",
        "tester" if user else "root",
        str(tmp_path),
        "help-ok",
    ], proc.stderr


@pytest.mark.host
@needs_root
def test_cli_ctrl_c_tears_down() -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "sysd", "sandbox", "run", "-v", "--", "sleep", "60"],
        stdin=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, like a terminal's foreground job
    ) as proc:
        try:
            assert proc.stderr is not None
            line = proc.stderr.readline()
            assert "running after" in line or "degraded after" in line, line
            directory = line.split("unix:path=")[1].split("/fs/bus/")[0]
            assert len(_mounts_under(directory)) == 2
            time.sleep(0.3)
            os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does
            assert proc.wait(timeout=30) == 130
        finally:
            if proc.poll() is None:
                proc.kill()
    assert _mounts_under(directory) == [] and not os.path.exists(directory)


@pytest.mark.host
@needs_root
def test_plugin_auto_runs_host_tests_then_the_rest_inside(tmp_path: Path) -> None:
    (tmp_path / "test_split.py").write_text(
        textwrap.dedent(
            """
            import os, pytest, sysd.sandbox

            @pytest.mark.host
            def test_host_ok():
                assert not sysd.sandbox.inside()

            @pytest.mark.host
            def test_host_fails():
                assert False

            def test_inside(sysd_bus_address, sysd_test_user):
                assert sysd.sandbox.inside()
                assert os.environ["SYSD_TEST_USER"] == "tester"
                assert os.environ["SYSD_TEST_UID"] == "4242"
                assert sysd_bus_address == "unix:path=/run/dbus/system_bus_socket"
                assert sysd_test_user == ("tester", 4242)
                open("written-inside", "w").write("yes")
            """
        )
    )
    (tmp_path / "pytest.ini").write_text("[pytest]\nsysd_sandbox = auto\n")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SYSD_", "PYTEST_")) and k != "PYTHONPATH"
    }
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=110, check=False,
    )  # fmt: skip
    out = result.stdout + result.stderr
    assert result.returncode == 1, out  # the failing host test fails the whole run
    assert "total: 2 passed, 1 failed, 0 skipped" in out, out
    assert (tmp_path / "written-inside").read_text() == "yes"  # the rootdir was bound


@pytest.mark.host
@needs_root
def test_sigkilled_owner_halts_and_cleanup_removes_leftovers(tmp_path: Path) -> None:
    base = tmp_path / "sandboxes"
    base.mkdir()
    code = textwrap.dedent(
        f"""
        import sys, time, sysd.sandbox
        sb = sysd.sandbox.Sandbox(base_dir={str(base)!r}).start()
        print(sb.directory, sb.nspawn_pid, sb.leader_pid, flush=True)
        time.sleep(60)
        """
    )
    with subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, start_new_session=True
    ) as owner:
        assert owner.stdout is not None
        directory, nspawn, leader = owner.stdout.readline().split()
        assert Path(directory).parent == base
        owner.kill()  # no chance to clean up
        owner.wait()
    assert len(_mounts_under(directory)) == 2  # what cleanup is for
    deadline = time.monotonic() + 20
    while _alive(int(leader)) and time.monotonic() < deadline:  # halts by parent-death signal
        time.sleep(0.05)
    assert not _alive(int(leader))
    assert sysd.sandbox.cleanup_stale(base) == [Path(directory)]
    assert _mounts_under(directory) == []
    assert not Path(directory).exists()
    deadline = time.monotonic() + 20  # nspawn exits once its container is gone
    while _alive(int(nspawn)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(int(nspawn))


@pytest.mark.host
@needs_root
def test_cleanup_leaves_live_sandboxes_alone(sb: sysd.sandbox.Sandbox) -> None:
    assert sb.directory not in sysd.sandbox.cleanup_stale(sb.directory.parent)
    assert sb.running and sb.exec(["true"]).returncode == 0


def test_unit_outcome_is_systemd_runs() -> None:
    from sysd.sandbox import _unit

    assert _unit.parse_show("LoadState=loaded\nResult=exit-code\nX=a=b\n")["X"] == "a=b"
    assert _unit.exit_status({"Result": "success", "ExecMainStatus": "3"}) == 0
    assert _unit.exit_status({"Result": "exit-code", "ExecMainStatus": "3"}) == 3
    assert _unit.exit_status({"Result": "signal", "ExecMainStatus": "9"}) == 79
    assert _unit.exit_status({"Result": "core-dump", "ExecMainStatus": "11"}) == 1
    assert _unit.exit_status({"Result": "timeout"}) == 1


def test_unit_outcome_waits_for_a_unit_systemd_run_gave_up_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sysd.sandbox import _unit

    monkeypatch.setattr(_unit, "POLL", 0.001)
    states = iter(["active", "active", "deactivating", "failed"])
    resets: list[str] = []

    def ask() -> dict[str, str]:
        return {"ActiveState": next(states), "Result": "exit-code", "ExecMainStatus": "5"}

    # systemd-run said 0 (it gave up); the unit says 5, and the failed unit is reset
    assert _unit.settle(ask, lambda _s: None, lambda: resets.append("x"), 0, None, "t") == 5
    assert resets == ["x"]
    # gone (collected) after being seen running: it ended well
    seen = iter([{"ActiveState": "active"}, {"LoadState": "not-found", "ActiveState": "inactive"}])
    assert _unit.settle(lambda: next(seen), lambda _s: None, lambda: None, 0, None, "t") == 0
    # never seen running and gone: systemd-run's own status (it could not start it)
    gone = {"LoadState": "not-found", "ActiveState": "inactive"}
    assert _unit.settle(lambda: gone, lambda _s: None, lambda: None, 1, None, "t") == 1
    # could not ask at all: systemd-run's status stands
    assert _unit.settle(lambda: None, lambda _s: None, lambda: None, 7, None, "t") == 7
    # past the deadline: killed, SandboxError
    kills: list[str] = []
    monkeypatch.setattr(_unit, "GRACE", 0.01)
    with pytest.raises(SandboxError, match="did not finish in time"):
        _unit.settle(lambda: {"ActiveState": "active"}, kills.append, lambda: None, 0, 0.0, "t")
    assert kills == ["SIGINT", "SIGKILL"]
