"""``sysd calendar`` / ``sysd cron`` in-process, compared with systemd-analyze 252."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator

import pytest

from sysd._core import calendar as cal
from sysd.cli import main

FROM_NOW = re.compile(r"^( *From now: ).*$", re.MULTILINE)


@pytest.fixture(autouse=True)
def _restore_local_zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Give libc back the zone of the restored $TZ: `--base-time` parsing calls tzset()
    with a test's $TZ, and without this every later in-process command (`sysd status`'s
    journal lines) would print local times in that test's zone."""
    yield
    monkeypatch.undo()
    time.tzset()


def _mask(text: str) -> str:
    """'From now:' depends on the wall clock of the run; keep the row, drop the value."""
    return FROM_NOW.sub(r"\1...", text)


def _analyze(args: list[str], tz: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("systemd-analyze")
    if exe is None:
        pytest.fail("systemd-analyze (systemd 252) is needed as the oracle for this test")
    env = dict(os.environ, TZ=tz, SYSTEMD_LOG_LEVEL="err", SYSTEMD_COLORS="0")
    return subprocess.run(
        [exe, *args], check=False, capture_output=True, text=True, env=env, timeout=60
    )


def _sysd(
    args: list[str], tz: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> tuple[int, str, str]:
    monkeypatch.setenv("TZ", tz)
    cal._reset_libc_state()  # like a freshly started systemd-analyze
    rc = main(args)
    out, err = capsys.readouterr()
    return rc, out, err


# Many specs (chosen and seeded random ones) against systemd-analyze in several zones:
# tests/systemd/test_cli_diff_tools.py


def test_calendar_single_spec_layout(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ["calendar", "--base-time=@1700000000", "--iterations=12", "hourly"]
    rc, out, _ = _sysd(args, "UTC", capsys, monkeypatch)
    assert rc == 0
    assert _mask(out) == _mask(_analyze(args, "UTC").stdout)
    lines = out.splitlines()
    assert lines[0] == "  Original form: hourly"
    assert lines[1] == "Normalized form: *-*-* *:00:00"
    assert lines[2] == "    Next elapse: Tue 2023-11-14 23:00:00 UTC"
    assert "      Iter. #10: Wed 2023-11-15 08:00:00 UTC" in lines


def test_calendar_never_and_deadlock(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    args = [
        "calendar",
        "--base-time=@1700889540",
        "*-01/5,04,08-14,25 06:00,19:00",  # systemd gives up (EDEADLK)
        "2017-09-24 02:30:00 Pacific/Auckland",
    ]
    theirs = _analyze(args, ":Europe/Berlin")
    rc, out, err = _sysd(args, ":Europe/Berlin", capsys, monkeypatch)
    assert (rc, _mask(out)) == (theirs.returncode, _mask(theirs.stdout))
    assert "Failed to determine next elapse for '*-01/5,04,08-14,25 06:00,19:00': " in err
    assert "Resource deadlock avoided" in err
    assert "Next elapse: never" in out


def test_calendar_error_message(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    rc, out, err = _sysd(["calendar", "Mon 25:00"], "UTC", capsys, monkeypatch)
    assert rc == 1
    assert out == ""
    first, detail = err.splitlines()[:2]
    assert first == "Failed to parse calendar specification 'Mon 25:00': Invalid argument"
    assert "hour value '25'" in detail


def test_calendar_json(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    args = ["calendar", "--json", "--base-time=@1700000000", "--iterations=2", "daily", "nope"]
    rc, out, _ = _sysd(args, ":Europe/Berlin", capsys, monkeypatch)
    assert rc == 1
    data = json.loads(out)
    assert data[0] == {
        "spec": "daily",
        "normalized": "*-*-* 00:00:00",
        "next_elapses": [
            {
                "usec": 1700002800000000,
                "utc": "2023-11-14T23:00:00Z",
                "local": "Wed 2023-11-15 00:00:00 CET",
            },
            {
                "usec": 1700089200000000,
                "utc": "2023-11-15T23:00:00Z",
                "local": "Thu 2023-11-16 00:00:00 CET",
            },
        ],
    }
    assert data[1]["spec"] == "nope"
    assert data[1]["errno"] == "EINVAL"


def test_calendar_base_time_forms(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    outs = []
    for base in ("@1700000000", "2023-11-14T22:13:20+00:00", "2023-11-14 23:13:20"):
        rc, out, _ = _sysd(
            ["calendar", "--json", f"--base-time={base}", "daily"],
            ":Europe/Berlin",
            capsys,
            monkeypatch,
        )
        assert rc == 0
        outs.append(json.loads(out)[0]["next_elapses"])
    assert outs[0] == outs[1] == outs[2]
    assert main(["calendar", "--base-time=yesterday-ish", "daily"]) == 1
    assert main(["calendar", "--iterations=-1", "daily"]) == 1
    capsys.readouterr()
    args = ["calendar", "--iterations=0", "daily"]  # only the forms, like systemd-analyze
    rc, out, _ = _sysd(args, "UTC", capsys, monkeypatch)
    assert (rc, out) == (0, _analyze(args, "UTC").stdout)


# ------------------------------------------------------------------ cron


def test_cron_text(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    args = [
        "cron",
        "0 0 1 * 1",
        "--base-time=@1700000000",
        "--iterations=3",
        "--command",
        "backup.sh",
    ]
    rc, out, _ = _sysd(args, "UTC", capsys, monkeypatch)
    assert rc == 0
    assert out.startswith(
        "Cron expression: 0 0 1 * 1\n"
        "    Explanation: At 00:00 on day 1 of the month or on Monday (cron matches either).\n"
        "    OnCalendar=: Mon *-*-* 00:00:00\n"
        "    OnCalendar=: *-*-01 00:00:00\n"
        "    Next elapse: Mon 2023-11-20 00:00:00 UTC\n"
        "       Iter. #2: Mon 2023-11-27 00:00:00 UTC\n"
        "       Iter. #3: Fri 2023-12-01 00:00:00 UTC\n"
    )
    assert "cron's own rules give the same 3 firing(s)." in out
    assert "OnCalendar=Mon *-*-* 00:00:00\nOnCalendar=*-*-01 00:00:00\n" in out
    assert 'ExecStart=/bin/sh -c "backup.sh"' in out


def test_cron_dst_difference_shown(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ["cron", "30 2 * * *", "--base-time=2024-03-30 12:00", "--iterations=2"]
    rc, out, _ = _sysd(args, ":Europe/Berlin", capsys, monkeypatch)
    assert rc == 0
    assert "    Next elapse: Mon 2024-04-01 02:30:00 CEST" in out
    assert "       (in UTC): Mon 2024-04-01 00:30:00 UTC" in out


def test_cron_json_and_errors(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    rc, out, _ = _sysd(
        ["cron", "--json", "*/15 9-17 * * 1-5", "--base-time=@1700000000", "--iterations=2"],
        "UTC",
        capsys,
        monkeypatch,
    )
    assert rc == 0
    data = json.loads(out)
    assert data["on_calendar"] == ["Mon..Fri *-*-* 09..17:00/15:00"]
    assert data["next_fires"]["cron"] == ["2023-11-15T09:00:00Z", "2023-11-15T09:15:00Z"]
    assert data["agree"] is True
    assert "[Timer]" in data["unit"]
    rc, out, err = _sysd(["cron", "@reboot"], "UTC", capsys, monkeypatch)
    assert rc == 1
    assert "OnBootSec=" in err
    # unquoted fields are joined, like `sysd cron 0 4 \* \* \*`
    rc, out, _ = _sysd(["cron", "--json", "0", "4", "*", "*", "*"], "UTC", capsys, monkeypatch)
    assert json.loads(out)["on_calendar"] == ["*-*-* 04:00:00"]
