"""pytest plugin ``sysd``: run a test suite against a real systemd, anywhere.

Registered as the ``pytest11`` entry point ``sysd``, so it is active wherever
sysd is installed; it does nothing unless asked.

Modes (``--sysd-sandbox=MODE`` on the command line, else the ini option
``sysd_sandbox``, default ``never``):

``never``
    Run as usual.
``auto``
    When this host is not booted with systemd and we are not already inside a
    sandbox: (1) run the tests marked ``@pytest.mark.host`` here, on the host, in
    a child ``python -m pytest`` with the same arguments; (2) boot a
    :class:`~sysd.sandbox.Sandbox` (binding the rootdir), re-run the same command
    line inside it as a unit, with the host tests deselected; (3) tear it down and
    exit with the combined status.  If no sandbox can be booted the run fails,
    saying why.  On a host booted with systemd, or inside a sandbox, run as usual.
``always``
    As ``auto``, even on a host booted with systemd.

Inside, the tests see ``SYSD_SANDBOX=1``, ``SYSD_TEST_USER`` (``tester``) and
``SYSD_TEST_UID`` (``4242``), run as root in a transient unit, in the directory
pytest was started from, with the checkout bound read-write.

Fixtures: ``systemd_sandbox`` (a session :class:`~sysd.sandbox.Sandbox`, booted
on first use), ``sysd_bus_address`` (the system bus of a real systemd: the
local one inside a sandbox, else that fixture's) and ``sysd_test_user``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ..errors import SandboxError
from . import _nspawn
from ._nspawn import ENV_PHASE, ENV_TEST_UID, ENV_TEST_USER, booted, inside
from ._sandbox import Sandbox, SandboxUser

__all__ = [
    "pytest_addoption",
    "pytest_cmdline_main",
    "pytest_collection_modifyitems",
    "pytest_configure",
    "pytest_sessionfinish",
    "sysd_bus_address",
    "systemd_sandbox",
    "sysd_test_user",
]

_MODES = ("auto", "always", "never")
_ENV_STATS = "SYSD_SANDBOX_STATS"  # where a phase writes its outcome counts (JSON)
_HOST_MARKER = (
    "host: runs on the host, outside any sysd sandbox (e.g. tests that boot sandboxes); "
    "run before the rest in --sysd-sandbox=auto, skipped inside a sandbox"
)
_LOCAL_BUS = "unix:path=/run/dbus/system_bus_socket"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sysd", "sysd: real systemd sandbox")
    group.addoption(
        "--sysd-sandbox",
        dest="sysd_sandbox",
        choices=_MODES,
        default=None,
        help="run the tests inside a throwaway real systemd: auto (when the host is not "
        "booted with systemd), always, never (default: ini sysd_sandbox, else never)",
    )
    group.addoption(
        "--sysd-sandbox-bind",
        dest="sysd_sandbox_binds",
        action="append",
        default=[],
        metavar="PATH",
        help="another host directory to bind read-write into the sandbox (repeatable)",
    )
    parser.addini(
        "sysd_sandbox",
        "default for --sysd-sandbox: auto, always or never",
        default="never",
    )
    parser.addini(
        "sysd_sandbox_binds",
        "host directories to bind read-write into the sandbox, besides the rootdir "
        "(relative to the configuration file; ones that do not exist are skipped)",
        type="paths",
        default=[],
    )


def _mode(config: pytest.Config) -> str:
    mode = config.getoption("sysd_sandbox") or str(config.getini("sysd_sandbox")).strip()
    if mode not in _MODES:
        raise pytest.UsageError(f"sysd_sandbox = {mode!r}: expected one of {', '.join(_MODES)}")
    return mode


def _informational(config: pytest.Config) -> bool:
    """Invocations that only print something: never split them."""
    opt = config.option
    return any(
        getattr(opt, name, False)
        for name in (
            "help",
            "version",
            "markers",
            "showfixtures",
            "show_fixtures_per_test",
            "collectonly",
        )
    )


def _wants_split(config: pytest.Config) -> bool:
    if inside() or os.environ.get(ENV_PHASE) or hasattr(config, "workerinput"):
        return False
    if _informational(config):
        return False
    mode = _mode(config)
    return mode == "always" or (mode == "auto" and not booted())


# ---------------------------------------------------------------- the split


def _say(text: str, *, error: bool = False) -> None:
    # Progress goes to stdout, interleaved with pytest's own output; failures to stderr.
    print(f"sysd sandbox: {text}", file=sys.stderr if error else sys.stdout, flush=True)


def _binds(config: pytest.Config) -> list[str]:
    wanted: list[str] = [str(config.rootpath)]
    wanted += _nspawn.auto_binds(str(config.invocation_params.dir))
    wanted += [str(p) for p in config.getini("sysd_sandbox_binds")]
    wanted += list(config.getoption("sysd_sandbox_binds") or [])
    for option in ("xmlpath", "basetemp", "reportlog"):  # outputs written outside rootdir
        value = getattr(config.option, option, None)
        if value:
            wanted.append(os.path.dirname(os.path.abspath(str(value))))
    wanted += _nspawn.runtime_binds()
    chosen: list[str] = []
    for path in (os.path.abspath(p) for p in wanted):
        if not os.path.isdir(path) or path == "/":
            continue
        if any(path == c or path.startswith(c.rstrip("/") + "/") for c in chosen):
            continue
        chosen = [c for c in chosen if not c.startswith(path + "/")]
        chosen.append(path)
    return chosen


def _combine(host: int, inner: int) -> int:
    """One exit status for both halves: a failure in either fails the run."""
    no_tests = int(pytest.ExitCode.NO_TESTS_COLLECTED)
    if host == no_tests:
        return inner
    if inner in (0, no_tests):
        return host
    return inner if host == 0 else max(host, inner)


def _read_stats(path: Path) -> dict[str, int] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return {k: int(v) for k, v in data.items()} if isinstance(data, dict) else None


def _summary(host: dict[str, int] | None, inner: dict[str, int] | None) -> None:
    if host is None or inner is None:
        return

    def show(s: dict[str, int]) -> str:
        keys = ("passed", "failed", "error", "skipped", "xfailed", "xpassed")
        parts = [f"{s.get(k, 0)} {k}" for k in keys if s.get(k, 0)]
        return ", ".join(parts) or "no tests"

    total = {k: host.get(k, 0) + inner.get(k, 0) for k in set(host) | set(inner)}
    _say(f"on the host: {show(host)}; inside the sandbox: {show(inner)}")
    failed = total.get("failed", 0) + total.get("error", 0)
    print(
        f"total: {total.get('passed', 0)} passed, {failed} failed, "
        f"{total.get('skipped', 0)} skipped",
        flush=True,
    )


def _run_child(cmd: list[str], *, cwd: str, env: dict[str, str]) -> int:
    """Run the host half; when we are interrupted, let it tear its sandboxes down.

    subprocess.run would SIGKILL it 0.25 s after a Ctrl-C, leaving the mounts of
    the sandboxes its tests booted.  Instead: give it time to stop by itself (the
    terminal's Ctrl-C reached it too), then SIGINT, then SIGKILL.
    """
    with subprocess.Popen(cmd, cwd=cwd, env=env) as proc:
        try:
            return proc.wait()
        except BaseException:
            with _nspawn.sigint_deferred():
                for sig, grace in ((None, 2.0), (signal.SIGINT, 30.0), (signal.SIGKILL, 5.0)):
                    if sig is not None and proc.poll() is None:
                        proc.send_signal(sig)
                    try:
                        proc.wait(timeout=grace)
                        break
                    except subprocess.TimeoutExpired:
                        continue
            raise


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> int | None:
    """In auto/always mode, run host tests here and everything else in a sandbox."""
    if not _wants_split(config):
        return None
    try:
        _nspawn.check_requirements(install=True)
    except SandboxError as exc:
        _say(f"cannot run the tests against a real systemd: {exc}", error=True)
        _say("refusing to run them without one (that would skip every systemd test)", error=True)
        return int(pytest.ExitCode.INTERNAL_ERROR)

    _nspawn.ensure_std_fds()
    args = list(config.invocation_params.args)
    cwd = str(config.invocation_params.dir)
    pytest_cmd = [sys.executable, "-m", "pytest", *args]
    with (
        _nspawn.sigterm_as_exit(),
        tempfile.TemporaryDirectory(prefix="sysd-pytest-") as scratch,
    ):
        host_stats = Path(scratch) / "host.json"
        inner_stats = Path(scratch) / "inner.json"
        why = "--sysd-sandbox=always" if booted() else "this host is not booted with systemd"
        _say(f"{why}: running @pytest.mark.host tests on the host first")
        try:
            host_rc = _run_child(
                pytest_cmd,
                cwd=cwd,
                env={**os.environ, ENV_PHASE: "host", _ENV_STATS: str(host_stats)},
            )
        except KeyboardInterrupt:
            return int(pytest.ExitCode.INTERRUPTED)
        if host_rc not in (0, 1, int(pytest.ExitCode.NO_TESTS_COLLECTED)):
            return host_rc
        maxfail = int(getattr(config.option, "maxfail", 0) or 0)  # -x is maxfail=1
        host_counts = _read_stats(host_stats) or {}
        host_failures = host_counts.get("failed", 0) + host_counts.get("error", 0)
        if host_rc == 1 and maxfail and host_failures >= maxfail:
            return host_rc

        binds = [*_binds(config), scratch]
        _say(f"booting a throwaway systemd for the other tests (binding {', '.join(binds)})")
        try:
            with Sandbox(binds=binds) as sb:
                state = sb.boot_state
                if state == "degraded":
                    state += f" (failed: {', '.join(sb.failed_units()) or 'none now'})"
                _say(f"{sb.name} {state} after {sb.boot_seconds or 0:.2f} s; running tests")
                inner_rc = sb.run_unit(
                    pytest_cmd,
                    cwd=cwd,
                    env={
                        ENV_PHASE: "inner",
                        _ENV_STATS: str(inner_stats),
                        "PYTHONDONTWRITEBYTECODE": "1",
                    },
                )
        except SandboxError as exc:
            _say(f"could not run the tests in a sandbox: {exc}", error=True)
            return int(pytest.ExitCode.INTERNAL_ERROR)
        except KeyboardInterrupt:
            return int(pytest.ExitCode.INTERRUPTED)
        if inner_rc == 0 and _read_stats(inner_stats) is None:
            # systemd-run --wait gave up on the unit (a call of its cut by a daemon-reexec)
            # and the sandbox went down under the tests: never report that as a pass
            _say("the tests inside the sandbox did not finish (their runner ended)", error=True)
            return int(pytest.ExitCode.INTERNAL_ERROR)
        _summary(_read_stats(host_stats), _read_stats(inner_stats))
    return _combine(host_rc, inner_rc)


# ------------------------------------------------------------ every process


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", _HOST_MARKER)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Split by the ``host`` marker: host-only on the host, the rest inside."""
    phase = os.environ.get(ENV_PHASE)
    if inside():
        host_items = [i for i in items if i.get_closest_marker("host") is not None]
        if not host_items:
            return
        if phase == "inner":  # the host half already ran them
            _deselect(config, items, host_items)
        else:
            skip = pytest.mark.skip(reason="host-only test: runs on the host, not in a sandbox")
            for item in host_items:
                item.add_marker(skip)
    elif phase == "host":
        _deselect(config, items, [i for i in items if i.get_closest_marker("host") is None])


def _deselect(config: pytest.Config, items: list[pytest.Item], drop: list[pytest.Item]) -> None:
    if not drop:
        return
    dropped = set(map(id, drop))
    config.hook.pytest_deselected(items=drop)
    items[:] = [i for i in items if id(i) not in dropped]


def pytest_sessionfinish(session: pytest.Session) -> None:
    """In a split run, report this half's outcome counts to the parent."""
    path = os.environ.get(_ENV_STATS)
    if not path or hasattr(session.config, "workerinput"):
        return
    reporter: Any = session.config.pluginmanager.get_plugin("terminalreporter")
    stats: dict[str, list[Any]] = getattr(reporter, "stats", {}) if reporter else {}
    counts = {
        k: len(stats.get(k, []))
        for k in ("passed", "failed", "error", "skipped", "xfailed", "xpassed", "deselected")
    }
    with contextlib.suppress(OSError):
        Path(path).write_text(json.dumps(counts))


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="session")
def systemd_sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    """A throwaway real systemd for this test session, booted on first use.

    The rootdir (and ``sysd_sandbox_binds``) is bound read-write.  Needs root;
    fails (never skips) when no sandbox can be booted.  Inside a sandbox there is
    none to boot: use ``sysd_bus_address``, or mark the test ``@pytest.mark.host``.
    """
    if inside():
        pytest.fail(
            "systemd_sandbox: already inside a sysd sandbox (booting another is not "
            "supported); use sysd_bus_address, or mark the test @pytest.mark.host",
            pytrace=False,
        )
    config = request.config
    binds = [str(config.rootpath), *(str(p) for p in config.getini("sysd_sandbox_binds"))]
    binds += list(config.getoption("sysd_sandbox_binds") or [])
    try:
        sb = Sandbox(binds=dict.fromkeys(binds)).start()
    except SandboxError as exc:
        pytest.fail(f"systemd_sandbox: {exc}", pytrace=False)
    try:
        yield sb
    finally:
        sb.close()


@pytest.fixture(scope="session")
def sysd_bus_address(request: pytest.FixtureRequest) -> str:
    """D-Bus address of a real systemd's system bus.

    Inside a sandbox: the local one.  Elsewhere: the ``systemd_sandbox`` fixture's
    (never the host's own systemd, which tests must not change).
    """
    if inside():
        return _LOCAL_BUS
    sb: Sandbox = request.getfixturevalue("systemd_sandbox")
    return sb.bus_address


@pytest.fixture(scope="session")
def sysd_test_user(request: pytest.FixtureRequest) -> SandboxUser:
    """The unprivileged user of the sandbox the tests talk to: ``("tester", 4242)``."""
    if inside():
        name = os.environ.get(ENV_TEST_USER, "tester")
        uid = os.environ.get(ENV_TEST_UID, "4242")
        return SandboxUser(name, int(uid))
    sb: Sandbox = request.getfixturevalue("systemd_sandbox")
    return sb.test_user
