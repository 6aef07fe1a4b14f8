"""What the differential CLI tests share: the environment both sides run in, the tool and
sysd as processes or in-process, the sandwich that tells a tool's own changes from sysd's,
and the differences sysd makes on purpose (named in docs/cli.md)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sysd.cli import main

ROOT = Path(__file__).resolve().parents[2]
SEED = 20261207

# name -> what sysd does on purpose that systemd 252's tool does not (docs/cli.md)
INTENTIONAL: dict[str, str] = {
    "logs-json-key-order": "JSON objects list the keys in the entry's order",
    "logs-output-fields-cat-order": "-o cat --output-fields=A,B: the fields in the order given",
    "logs-grep-lines-order": "-g with -n prints the last N matches oldest first",
    "logs-until-lines": "-U with -n: the last N entries up to then",
    "logs-after-cursor-filtered": "--after-cursor whose entry -p/-t leave out: none skipped",
    "timers-remote-clock": "timers -H: monotonic elapses on the remote manager's clock",
    "logs-device-path": "logs /dev/NODE: not supported (an error)",
    "logs-user-follow-no-files": "logs --user -f without user journal files: exits",
    "calendar-base-time-iso": "calendar --base-time= also takes ISO 8601 with T",
}

ENV = {
    "PATH": "/usr/bin:/bin:/usr/sbin:/sbin",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "SYSTEMD_COLORS": "0",
    "TZ": "Europe/Berlin",
    "PYTHONPATH": str(ROOT / "src"),
    "COLUMNS": "80",
}


def tool(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    exe = shutil.which(argv[0], path=ENV["PATH"])
    if exe is None:
        pytest.fail(f"{argv[0]} (systemd 252) is needed as the oracle for this test")
    return subprocess.run(
        [exe, *argv[1:]], capture_output=True, timeout=60, check=False, env=env or ENV
    )


def sysd_cli(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "sysd", *argv],
        capture_output=True,
        timeout=60,
        check=False,
        env=env or ENV,
    )


class InProcess:
    """``sysd.cli.main`` in this process with ENV's locale, zone, width and colours."""

    def __init__(self, capsys: pytest.CaptureFixture[bytes], monkeypatch: pytest.MonkeyPatch):
        self.capsys = capsys
        for key in ("TZ", "COLUMNS", "SYSTEMD_COLORS", "LANG", "LC_ALL"):
            monkeypatch.setenv(key, ENV[key])
        monkeypatch.delenv("NO_COLOR", raising=False)
        time.tzset()

    def __call__(self, *argv: str) -> tuple[int, bytes, bytes]:
        self.capsys.readouterr()
        try:
            rc = main(list(argv))
        except SystemExit as exc:  # argparse
            rc = exc.code if isinstance(exc.code, int) else 2
        out, err = self.capsys.readouterr()
        return rc, out, err


@pytest.fixture
def inproc(
    capsysbinary: pytest.CaptureFixture[bytes], monkeypatch: pytest.MonkeyPatch
) -> Iterator[InProcess]:
    yield InProcess(capsysbinary, monkeypatch)
    monkeypatch.undo()
    time.tzset()


def _sandwich(
    theirs: Callable[[], tuple[int, bytes]], mine: Callable[[], tuple[int, bytes]], tries: int = 8
) -> tuple[tuple[int, bytes], tuple[int, bytes]]:
    """The tool, sysd, the tool again: when the tool's two runs agree, what it shows did
    not change while sysd ran (a relative time ticking over, PID 1 logging one more line,
    a timer another test left behind that fired "500ms ago"), so sysd must print the same.
    Retried while they disagree, a little later each time: no test of timing."""
    for attempt in range(tries):
        before, got, after = theirs(), mine(), theirs()
        if before == after:
            return got, before
        time.sleep(0.1 * attempt)
    raise AssertionError(
        f"the tool's own output kept changing over {tries} tries: {before!r} then {after!r}"
    )
