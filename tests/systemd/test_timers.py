"""The timers view as records and JSON (against systemctl list-timers: test_cli_diff_tools.py)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
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


# `sysd timers` against systemctl list-timers, whole outputs: test_cli_diff_tools.py


def test_json_and_async(capsys: pytest.CaptureFixture[str], timers: dict[str, str]) -> None:
    assert main(["timers", "--json"]) == 0
    data = {t["timer"]: t for t in json.loads(capsys.readouterr().out)}
    assert data[timers["cal"]]["next"].endswith(f"{AT}+00:00")

    async def go() -> None:
        async with sysd.aio.connect() as sd:
            names = [t.timer for t in await sd.list_timers(all=True)]
            assert timers["cal"] in names and timers["mono"] in names

    asyncio.run(go())
