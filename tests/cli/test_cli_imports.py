"""What a one-shot command imports (not how long it takes: start-up time is measured by
bench/bench_cli.py).  A verb loads its own module and what it calls, nothing else: no
asyncio in the blocking CLI, and `is-active` neither the calendar, the typed snapshots,
the property converters nor the renderer."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.systemd

UNIT = "systemd-journald.service"

# Never in a blocking one-shot.
NEVER = {"asyncio", "sysd.aio", "sysd._async", "sysd._bus.aio", "sysd._sync.run"}
# Not for is-active (issue 10: "pulls in calendar, property converters, renderer,
# dataclasses and inspect"), nor for the library one-shot.
NOT_FOR_IS_ACTIVE = {
    "sysd.calendar",
    "sysd._core.calendar",
    "sysd._core.convert",
    "sysd._core.props",
    "sysd._core.status",
    "sysd._core.status_generated",
    "sysd.cli._render",
    "sysd.journal",
    "sysd._sync.timers",
    "sysd._sync.unitfiles",
    "sysd._sync.watch",
    "sysd._sync.job",
    "dataclasses",
    "inspect",
    "pathlib",
    "shutil",
}
OTHER_VERB_MODULES = {
    "sysd.cli.control",
    "sysd.cli.lists",
    "sysd.cli.run",
    "sysd.cli.sandbox",
    "sysd.cli.calendar",
    "sysd.cli.escape",
    "sysd.cli.timers",
    "sysd.cli.setprop",
}


def _modules(code: str) -> set[str]:
    code += "\nimport sys\nprint(' '.join(sorted(sys.modules)), file=sys.stderr)\n"
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return set(proc.stderr.split())


def _cli(*argv: str) -> str:
    return f"from sysd.cli import main\nassert main({list(argv)!r}) == 0"


def test_is_active(systemd_host: None) -> None:
    loaded = _modules(_cli("is-active", "-q", UNIT))
    assert "sysd._sync.unit" in loaded  # it did ask systemd
    assert not loaded & (NEVER | NOT_FOR_IS_ACTIVE | OTHER_VERB_MODULES)


def test_status(systemd_host: None) -> None:
    loaded = _modules(_cli("status", "--no-pager", UNIT))
    assert {"sysd.cli._render", "sysd._core.status"} <= loaded
    assert "sysd.journal._reader" in loaded  # it showed the last lines of the journal
    # nor the logging handler (logging and its atexit hook), nor subprocess (ctypes.util)
    assert not loaded & (
        NEVER | OTHER_VERB_MODULES | {"dataclasses", "inspect", "logging", "subprocess"}
    )


def test_control_verb_parses_without_the_queries() -> None:
    """`start` loads control.py, not the queries (units.py) nor the lists."""
    loaded = _modules("from sysd.cli import parse\nparse(['start', '--no-block', 'x.service'])")
    assert "sysd.cli.control" in loaded
    others = (OTHER_VERB_MODULES - {"sysd.cli.control"}) | {"sysd.cli.units"}
    assert not loaded & (NEVER | others)


def test_library_one_shot(systemd_host: None) -> None:
    loaded = _modules(
        f"import sysd\nwith sysd.connect() as sd:\n    assert sd.unit({UNIT!r}).is_active()"
    )
    assert not loaded & (NEVER | NOT_FOR_IS_ACTIVE | {"sysd.cli", "argparse"})


def test_import_sysd_and_help_import_no_typing() -> None:
    loaded = _modules("import sysd, sysd.cli")
    assert not loaded & {"typing", "sysd.errors", "argparse", "asyncio"}


@pytest.mark.host
@pytest.mark.parametrize(
    "setup",
    ["no _ncallbacks", "an atexit callback", "a second thread"],
)
def test_the_fast_exit_is_taken_only_when_nothing_would_run_at_exit(setup: str) -> None:
    """`_exit_now` skips interpreter shutdown only when that would run nothing: with an
    atexit callback, another thread, or a Python without CPython's atexit._ncallbacks it
    returns and the normal exit happens (the child prints from its atexit callback)."""
    code = {
        "no _ncallbacks": "import atexit; del atexit._ncallbacks",
        "an atexit callback": "import atexit; atexit.register(print, 'atexit ran')",
        "a second thread": (
            "import threading, time; threading.Thread(target=time.sleep, args=(0.2,)).start()"
        ),
    }[setup]
    script = (
        f"{code}\n"
        "from sysd.cli import _exit_now\n"
        "_exit_now(5)\n"
        "print('returned')\n"
        "raise SystemExit(7)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert out.returncode == 7, out.stderr
    assert "returned" in out.stdout


@pytest.mark.host
def test_the_fast_exit_is_taken_when_nothing_would_run_at_exit() -> None:
    script = (
        "from sysd.cli import _exit_now\n"
        "print('flushed', end='')\n"
        "_exit_now(5)\n"
        "print('not here')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert (out.returncode, out.stdout) == (5, "flushed")
