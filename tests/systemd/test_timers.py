"""The timers view against systemctl list-timers, and next elapses against sysd's calendar."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import sysd
import sysd.aio
from sysd.calendar import CalendarSpec
from sysd.cli import main

RUN = Path("/run/systemd/system")
# The calendar timer's daily time: far from now, so it never elapses during the tests
# (its next elapse and "never triggered" are asserted).
AT = "16:05:06" if 2 <= dt.datetime.now(dt.UTC).hour <= 6 else "04:05:06"


@pytest.fixture
def timers(sd: sysd.Systemd) -> Iterator[dict[str, str]]:
    tag = uuid.uuid4().hex[:6]
    cal = f"sysdt-cal-{tag}"
    (RUN / f"{cal}.service").write_text("[Service]\nType=oneshot\nExecStart=/bin/true\n")
    (RUN / f"{cal}.timer").write_text(f"[Timer]\nOnCalendar=*-*-* {AT}\n")
    mono = f"sysdt-mono-{tag}"
    sd.daemon_reload()
    sd.unit(f"{cal}.timer").start()
    subprocess.run(
        ["systemd-run", f"--unit={mono}", "--on-active=2h", "--quiet", "/bin/true"], check=True
    )
    yield {"cal": f"{cal}.timer", "mono": f"{mono}.timer"}
    for name in (f"{cal}.timer", f"{mono}.timer"):
        subprocess.run(["systemctl", "stop", name], check=False)
    for p in RUN.glob(f"sysdt-cal-{tag}.*"):
        p.unlink()
    sd.daemon_reload()


def test_list_timers_records(sd: sysd.Systemd, timers: dict[str, str]) -> None:
    rows = {t.timer: t for t in sd.list_timers()}
    cal, mono = rows[timers["cal"]], rows[timers["mono"]]
    assert cal.activates == (timers["cal"].replace(".timer", ".service"),)
    assert mono.activates == (timers["mono"].replace(".timer", ".service"),)
    expected = CalendarSpec.parse(f"*-*-* {AT}").next_elapse(dt.datetime.now(dt.UTC))
    assert cal.next_elapse == expected
    assert cal.last_trigger is None and cal.passed is None
    assert mono.left is not None
    assert dt.timedelta(hours=1, minutes=59) < mono.left <= dt.timedelta(hours=2)
    order = [t.next_elapse_usec for t in sd.list_timers()]
    assert order == sorted(order)


def test_cli_matches_systemctl_list_timers(
    capsys: pytest.CaptureFixture[str], timers: dict[str, str]
) -> None:
    for extra in ([], ["--all"]):
        want = subprocess.run(
            ["systemctl", "list-timers", "--no-pager", *extra],
            capture_output=True,
            text=True,
            check=True,
            env={"TZ": "UTC", "PATH": "/usr/bin:/bin"},
        ).stdout
        old = os.environ.get("TZ")
        os.environ["TZ"] = "UTC"
        try:
            assert main(["timers", *extra]) == 0
        finally:
            if old is None:
                del os.environ["TZ"]
            else:
                os.environ["TZ"] = old
        got = capsys.readouterr().out

        def cut(text: str) -> list[list[str]]:
            # NEXT (4 words), LAST (4 words), UNIT and ACTIVATES; relative columns may tick
            lines = [line for line in text.splitlines() if "sysdt-" in line]
            return [line.split()[:4] + line.split()[-2:] for line in lines]

        assert cut(got) == cut(want)
        assert (
            got.splitlines()[-2 if not extra else -1] == want.splitlines()[-2 if not extra else -1]
        )
        assert got.splitlines()[0].split() == want.splitlines()[0].split()


def test_json_and_async(capsys: pytest.CaptureFixture[str], timers: dict[str, str]) -> None:
    assert main(["timers", "--json"]) == 0
    data = {t["timer"]: t for t in json.loads(capsys.readouterr().out)}
    assert data[timers["cal"]]["next"].endswith(f"{AT}+00:00")

    async def go() -> None:
        async with sysd.aio.connect() as sd:
            names = [t.timer for t in await sd.list_timers(all=True)]
            assert timers["cal"] in names and timers["mono"] in names

    asyncio.run(go())
