"""``sysd.analyze.plot(units=..., since=...)``: the state history of throwaway units,
started, stopped and failed in the sandbox's real systemd, checked against the
manager's own timestamps (``systemctl show``) and rendered in headless Chromium."""

from __future__ import annotations

import asyncio
import itertools
import json
import subprocess
import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from test_analyze_systemd import ENV, _chromium, ours
from throwaway_units import Units

import sysd
import sysd.aio
import sysd.analyze
from sysd.errors import InvalidCallError, InvalidTimestampError, InvalidUnitNameError

SVG = "{http://www.w3.org/2000/svg}"


def _rows(svg: str) -> dict[str, list[tuple[str, float, float]]]:
    root = ET.fromstring(svg.split("\n", 2)[2])  # parses as XML
    return {
        g.get("data-unit", ""): [
            (r.get("class", ""), float(r.get("data-start", "")), float(r.get("data-end", "")))
            for r in g.iter(f"{SVG}rect")
        ]
        for g in root.iter(f"{SVG}g")
        if g.get("class") == "unit"
    }


def _sync_journal() -> None:
    """journald has written what PID 1 sent it before now (``journalctl --sync``)."""
    subprocess.run(["journalctl", "--sync"], check=True, timeout=60)


def _since_seconds(sd: sysd.Systemd, unit: str, prop: str, since: datetime) -> float:
    usec: int = sd.get_property(sd.unit(unit).path, "org.freedesktop.systemd1.Unit", prop)
    return (datetime.fromtimestamp(0, UTC) + timedelta(microseconds=usec) - since).total_seconds()


@pytest.fixture
def history(sd: sysd.Systemd, units: Units) -> tuple[list[str], datetime]:
    """Three units: ``up`` started and running, ``down`` started and stopped, ``bad``
    failing to start; and a time before all that.  ``down`` is Type=simple: it goes
    from inactive to active in one step, and systemd logs no "Starting" for it (job.c:
    the job is gone before the message); ``up`` is Type=exec, activating until its
    program runs, and references ``down`` (``After=``) so that systemd keeps ``down``
    loaded, with its timestamps, once it is inactive."""
    up = units.add(
        "hist-up",
        f"[Unit]\nAfter={units.name('hist-down')}\n"
        "[Service]\nType=exec\nExecStart=/bin/sleep infinity\n",
    )
    down = units.add("hist-down", "[Service]\nExecStart=/bin/sleep infinity\n")
    bad = units.add("hist-bad", "[Service]\nType=oneshot\nExecStart=/bin/false\n")
    units.reload()
    since = datetime.now(UTC) - timedelta(seconds=1)
    sd.unit(up).start()
    sd.unit(down).start()
    sd.unit(down).stop()
    with pytest.raises(sysd.JobFailedError):
        sd.unit(bad).start()
    _sync_journal()
    return [up, down, bad], since


def test_history_rows_and_spans_follow_the_transitions(
    sd: sysd.Systemd, history: tuple[list[str], datetime]
) -> None:
    (up, down, bad), since = history
    svg = sysd.analyze.plot(sd, units=[up, down, bad], since=since)
    rows = _rows(svg)
    assert list(rows) == [up, down, bad]  # one row per unit, in the order asked
    states = {u: [s for s, _, _ in spans] for u, spans in rows.items()}
    assert states == {
        up: ["activating", "active"],
        down: ["active", "deactivating", "inactive"],
        bad: ["activating", "failed"],
    }
    for spans in rows.values():  # consecutive, in time order, the last one up to now
        assert all(a[2] == b[1] for a, b in itertools.pairwise(spans))
        assert all(s <= e for _, s, e in spans)
        assert spans[-1][2] == pytest.approx(max(e for _, _, e in spans))
    # where the bars start agrees with the manager's timestamps (the journal message is
    # logged in the same step of PID 1's event loop as the state change)
    for unit, state, prop in (
        (up, "activating", "InactiveExitTimestamp"),
        (up, "active", "ActiveEnterTimestamp"),
        (down, "active", "ActiveEnterTimestamp"),
        (down, "deactivating", "ActiveExitTimestamp"),
        (down, "inactive", "InactiveEnterTimestamp"),
        (bad, "activating", "InactiveExitTimestamp"),
        (bad, "failed", "InactiveEnterTimestamp"),
    ):
        start = next(s for st, s, _ in rows[unit] if st == state)
        assert start == pytest.approx(_since_seconds(sd, unit, prop, since), abs=0.5), (
            unit,
            state,
        )


def test_since_as_text_and_the_async_twin(
    sd: sysd.Systemd, history: tuple[list[str], datetime]
) -> None:
    (up, down, bad), _ = history

    async def twin() -> str:
        async with sysd.aio.connect() as asd:
            return await sysd.aio.analyze.plot(asd, units=(up, down, bad), since="-5min")

    for svg in (sysd.analyze.plot(sd, units=[up, down, bad], since="-5min"), asyncio.run(twin())):
        rows = _rows(svg)
        assert [s for s, _, _ in rows[down]] == ["active", "deactivating", "inactive"]
        assert rows[up][-1][0] == "active"
    # a bare name gets .service; without since: this boot, from the first transition
    stem = up.removesuffix(".service")
    rows = _rows(sysd.analyze.plot(sd, units=stem))
    assert list(rows) == [up] and rows[up][0][:2] == ("activating", 0.0)


def test_a_unit_without_transitions_is_drawn_in_its_current_state(
    sd: sysd.Systemd, history: tuple[list[str], datetime]
) -> None:
    (up, _, bad), _ = history
    since = datetime.now(UTC) - timedelta(milliseconds=1)
    rows = _rows(sysd.analyze.plot(sd, units=[up, bad, "no-such-unit-here.service"], since=since))
    assert [spans[0][0] for spans in rows.values()] == ["active", "failed", "inactive"]
    assert all(len(spans) == 1 for spans in rows.values())


def test_bad_input_is_a_typed_error_before_any_io(sd: sysd.Systemd) -> None:
    for bad in ("", "a/b.service", "x" * 300 + ".service", 3):
        with pytest.raises(InvalidUnitNameError):
            sysd.analyze.plot(sd, units=[bad])  # type: ignore[list-item]
    with pytest.raises(InvalidCallError):
        sysd.analyze.plot(sd, units=[])
    with pytest.raises(InvalidCallError):
        sysd.analyze.plot(sd, since="-1h")
    for since in ("soon", "+1h", datetime.now(UTC) + timedelta(hours=1)):
        with pytest.raises(InvalidTimestampError):
            sysd.analyze.plot(sd, units="dbus.service", since=since)
    with pytest.raises(InvalidTimestampError):
        sysd.analyze.plot(sd, units="dbus.service", since=3600)  # type: ignore[arg-type]
    for argv, word in (
        (("plot", "--unit", "a/b"), "a/b"),
        (("plot", "--unit", "dbus.service", "--since=soon"), "soon"),
        (("plot", "--since=-1h"), "--since"),
        (("blame", "--unit", "dbus.service"), "--unit"),
    ):
        out, err, rc = ours(*argv)
        assert rc == 1 and out == "" and word in err and "Traceback" not in err, argv


def test_cli_writes_the_history(history: tuple[list[str], datetime]) -> None:
    (up, down, bad), _ = history
    out, err, rc = ours("plot", "--unit", up, "--unit", down, "--unit", bad, "--since=-5min")
    assert rc == 0, err
    assert list(_rows(out)) == [up, down, bad]
    out, err, rc = ours("plot", "--unit", up, "--json")
    assert rc == 0, err
    doc = json.loads(out)
    assert doc["units"] == [up] and list(_rows(doc["svg"])) == [up]


_MEASURE = """
<pre id="measured"></pre>
<script>
const svg = document.querySelector("svg");
const rows = [];
for (const g of svg.querySelectorAll("g.unit")) {
  const label = g.querySelector("text");
  const bars = [...g.querySelectorAll("rect")].map(r => {
    const b = r.getBoundingClientRect();
    return {state: r.getAttribute("class"), x: b.x, width: b.width, y: b.y};
  });
  rows.push({unit: g.getAttribute("data-unit"), label: label.textContent,
             text_width: label.getBBox().width, bars: bars});
}
const size = svg.getBoundingClientRect();
document.getElementById("measured").textContent =
  JSON.stringify({width: size.width, height: size.height, rows: rows});
</script>
"""


@pytest.mark.timeout(300)
def test_history_renders_in_a_headless_browser(
    sd: sysd.Systemd, history: tuple[list[str], datetime], tmp_path: Path
) -> None:
    """Chromium lays the picture out: one labelled group of bars per unit, one row
    each, the bars left to right in the order of the states."""
    names, since = history
    svg = sysd.analyze.plot(sd, units=names, since=since)
    page = tmp_path / "history.html"
    page.write_text(
        "<!DOCTYPE html><html><body>" + svg.split("\n", 2)[2] + _MEASURE + "</body></html>"
    )
    proc = subprocess.run(
        [_chromium(), "--headless", "--no-sandbox", "--disable-gpu",
         f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    marker = '<pre id="measured">'
    assert marker in proc.stdout, proc.stdout[-2000:]
    measured = json.loads(
        proc.stdout.split(marker, 1)[1].split("</pre>", 1)[0].replace("&amp;", "&")
    )
    assert measured["width"] >= 1000 and measured["height"] > 100
    rows = measured["rows"]
    assert [r["unit"] for r in rows] == [r["label"] for r in rows] == names
    expected = _rows(svg)
    ys = []
    for row in rows:
        assert row["text_width"] > 0, row["unit"]  # the label was laid out
        assert [b["state"] for b in row["bars"]] == [s for s, _, _ in expected[row["unit"]]]
        xs = [b["x"] for b in row["bars"]]
        assert xs == sorted(xs), row["unit"]
        assert len({round(b["y"], 1) for b in row["bars"]}) == 1, row["unit"]  # one row
        ys.append(row["bars"][0]["y"])
    assert ys == sorted(ys) and len(set(ys)) == len(ys)


def test_a_user_managers_units() -> None:
    """``--user``: the user manager's messages (``USER_UNIT=``, from its init.scope),
    read by the user from their own journal file."""
    name = f"hist{uuid.uuid4().hex[:6]}"
    subprocess.run(["useradd", "-m", name], check=True, timeout=60)
    uid = int(subprocess.run(["id", "-u", name], capture_output=True, text=True, check=True).stdout)
    units = Path(f"/home/{name}/.config/systemd/user")
    units.mkdir(parents=True)
    (units / "hist.service").write_text("[Service]\nType=exec\nExecStart=/bin/sleep infinity\n")
    (units / "hist-bad.service").write_text("[Service]\nType=oneshot\nExecStart=/bin/false\n")
    subprocess.run(["chown", "-R", name, f"/home/{name}"], check=True)
    subprocess.run(["systemctl", "start", f"user@{uid}.service"], check=True, timeout=60)
    env = {**ENV, "XDG_RUNTIME_DIR": f"/run/user/{uid}", "HOME": f"/home/{name}"}
    as_user = ["runuser", "-u", name, "--", "env", *[f"{k}={v}" for k, v in env.items()]]
    try:
        for unit in ("hist.service", "hist-bad.service"):
            subprocess.run(
                [*as_user, "systemctl", "--user", "start", unit], timeout=60, check=False
            )
        _sync_journal()
        out, err, rc = ours(
            "--user", "plot", "--unit", "hist", "--unit", "hist-bad", env=env, user=name
        )
        assert rc == 0, err
        rows = _rows(out)
        assert {u: [s for s, _, _ in spans] for u, spans in rows.items()} == {
            "hist.service": ["activating", "active"],
            "hist-bad.service": ["activating", "failed"],
        }
    finally:
        subprocess.run(["systemctl", "stop", f"user@{uid}.service"], check=False, timeout=60)
        subprocess.run(["userdel", "-r", name], check=False, timeout=60, capture_output=True)
