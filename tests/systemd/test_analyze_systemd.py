"""sysd.analyze and ``sysd analyze`` against ``systemd-analyze`` 252, on the same boot
(inside the sandbox: a container, so firmware/loader/kernel/initrd are absent; the
full-boot case is tabled from the C code in tests/core/test_analyze.py).

Outputs are compared as a sandwich: systemd-analyze, sysd, systemd-analyze again; when
the two systemd-analyze runs agree, the manager's state did not change in between and
sysd must print exactly the same (stdout and exit status).  When they differ (a unit
started meanwhile), the sandwich is taken again, a bounded number of times.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path

import pytest

import sysd
import sysd.aio
import sysd.analyze
from sysd._core.analyze_plot import SCALE_X
from sysd.errors import BootNotFinishedError, InvalidUnitNameError

ROOT = Path(__file__).resolve().parents[2]
SVG = "{http://www.w3.org/2000/svg}"
ENV = {
    "PATH": "/usr/bin:/bin:/usr/sbin:/sbin",
    "LANG": "C.UTF-8",
    "SYSTEMD_COLORS": "0",
    "SYSTEMD_PAGER": "",
    "PYTHONPATH": str(ROOT / "src"),
    "COLUMNS": "80",
}

Result = tuple[str, str, int]  # stdout, stderr, exit status


def _run(argv: Sequence[str], env: dict[str, str] | None = None, user: str | None = None) -> Result:
    prefix = ["runuser", "-u", user, "--", "env"] if user else []
    proc = subprocess.run(
        [*prefix, *argv], capture_output=True, text=True, timeout=60, check=False, env=env or ENV
    )
    return proc.stdout, proc.stderr, proc.returncode


def tool(*argv: str, env: dict[str, str] | None = None, user: str | None = None) -> Result:
    exe = shutil.which("systemd-analyze", path=ENV["PATH"])
    if exe is None:
        pytest.fail("systemd-analyze (systemd 252) is needed as the oracle for this test")
    return _run([exe, *argv], env, user)


def ours(*argv: str, env: dict[str, str] | None = None, user: str | None = None) -> Result:
    return _run([sys.executable, "-m", "sysd", "analyze", *argv], env, user)


def same(
    *argv: str,
    env: dict[str, str] | None = None,
    user: str | None = None,
    theirs: Sequence[str] | None = None,
) -> Result:
    """sysd's output for ``argv``, asserted equal (stdout, status) to systemd-analyze's
    (for ``theirs`` when its arguments differ)."""
    other = argv if theirs is None else tuple(theirs)
    for _ in range(5):
        before = tool(*other, env=env, user=user)
        mine = ours(*argv, env=env, user=user)
        after = tool(*other, env=env, user=user)
        if (before[0], before[2]) == (after[0], after[2]):
            assert (mine[0], mine[2]) == (before[0], before[2]), (argv, mine[1])
            return mine
    pytest.fail(f"the manager's state kept changing under systemd-analyze {argv}")


# --------------------------------------------------------------------------- the verbs


def test_time_is_systemd_analyze_time() -> None:
    out, _, rc = same("time")
    assert out.startswith("Startup finished in ") and rc == 0
    assert same()[0] == out  # no verb: time, as for systemd-analyze


def test_blame_is_systemd_analyze_blame() -> None:
    out, _, _ = same("blame")
    assert len(out.splitlines()) >= 5


@pytest.mark.parametrize(
    "units",
    [
        (),
        ("default.target",),
        ("multi-user.target", "dbus.service", "systemd-journald.service"),
        ("basic.target", "sysinit.target"),
        ("no-such-unit-here.service",),  # valid, not loaded: only the header
    ],
    ids=lambda u: "+".join(u) or "default",
)
def test_critical_chain_is_systemd_analyzes(units: tuple[str, ...]) -> None:
    out, _, _ = same("critical-chain", *units)
    assert out.startswith('The time when unit became active or started is printed after the "@"')


@pytest.mark.parametrize("fuzz", ["0", "50ms", "1s", "1min"])
def test_critical_chain_fuzz(fuzz: str) -> None:
    same("critical-chain", f"--fuzz={fuzz}")
    same("critical-chain", "--fuzz", fuzz, "multi-user.target")


def test_critical_chain_colours_on_a_terminal_and_ascii_glyphs() -> None:
    # colour as on a terminal (SYSTEMD_COLORS forces what a TTY turns on): units that took
    # time to start are red
    out, _, _ = same("critical-chain", env={**ENV, "SYSTEMD_COLORS": "1"})
    assert "\x1b[0;1;31m" in out
    # glyphs: ASCII in a locale that is not UTF-8 (LANG=C set explicitly, as systemd's
    # is_locale_utf8() decides), though Python itself would coerce it to UTF-8
    for env in ({**ENV, "LANG": "C"}, {**ENV, "LC_ALL": "POSIX"}):
        out, _, _ = same("critical-chain", env=env)
        assert "`-" in out and "\u2514" not in out


def _units_in(svg: str) -> list[str]:
    root = ET.fromstring(svg.split("\n", 2)[2])
    names = []
    for text in root.iter(f"{SVG}text"):
        if text.get("class") in ("left", "right"):
            names.append((text.text or "").split(" (")[0])
    return names


# the labels of the plot that are not units: the phases' rows and the legend
PHASES = {"systemd", "Activating", "Active", "Deactivating", "Generators"}
PHASES |= {"Loading unit files", "firmware", "loader", "kernel", "initrd"}
PHASES |= {"Setting up security module"}


def test_plot_is_systemd_analyze_plot() -> None:
    out, _, _ = same("plot")
    assert out.startswith('<?xml version="1.0" standalone="no"?>')


def test_plot_has_one_labelled_bar_per_unit_that_systemd_analyze_draws(
    sd: sysd.Systemd,
) -> None:
    theirs, _, _ = tool("plot")
    mine = sysd.analyze.plot(sd)
    ET.fromstring(mine.split("\n", 2)[2])  # parses as XML
    mine_units = [n for n in _units_in(mine) if n not in PHASES]
    assert set(mine_units) == {n for n in _units_in(theirs) if n not in PHASES}
    assert len(mine_units) == len(set(mine_units)) > 5


def test_plot_bars_agree_with_the_unit_timestamps(sd: sysd.Systemd) -> None:
    svg = sysd.analyze.plot(sd)
    root = ET.fromstring(svg.split("\n", 2)[2])
    manager = sd.get_all("/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager")
    offset = manager["UserspaceTimestampMonotonic"]  # a container: counted from here
    graph = next(g for g in root.iter(f"{SVG}g"))
    rects = [r for r in graph.iter(f"{SVG}rect") if r.get("class") == "activating"]
    labels = [t for t in graph.iter(f"{SVG}text") if t.get("class") in ("left", "right")]
    labels = [t for t in labels if (t.text or "") != "systemd"]
    assert len(rects) == len(labels) > 5
    for rect, label in zip(rects, labels, strict=True):
        unit = (label.text or "").split(" (")[0]
        started = sd.get_property(
            sd.unit(unit).path, "org.freedesktop.systemd1.Unit", "InactiveExitTimestampMonotonic"
        )
        assert float(rect.get("x", "")) == round(SCALE_X * (started - offset), 3), unit


# --------------------------------------------------------------------------- the library


def test_library_values_match_the_text(sd: sysd.Systemd) -> None:
    st = sysd.analyze.startup_time(sd)
    assert (st.firmware, st.loader, st.kernel, st.initrd, st.total) == (None,) * 5
    assert st.userspace > timedelta(0)
    assert st.text == tool("time")[0].rstrip("\n")
    assert st.target == sd.unit("default.target").name
    blamed = sysd.analyze.blame(sd)
    times = [t.time for t in blamed]
    assert times == sorted(times, reverse=True) and all(t > timedelta(0) for t in times)
    for t in blamed:
        assert t.activating > timedelta(0)
        assert t.activated is None or t.activated >= t.activating
    (chain,) = sysd.analyze.critical_chain(sd)
    assert chain.unit == st.target
    node = chain
    while node.children:
        node = node.children[0]
        assert node.at is not None


def test_async_twins_give_the_same(sd: sysd.Systemd) -> None:
    async def main() -> tuple[object, ...]:
        async with sysd.aio.connect() as asd:
            a = sysd.aio.analyze
            return (
                await a.startup_time(asd),
                await a.blame(asd),
                await a.critical_chain(asd, ["multi-user.target"]),
            )

    for _ in range(3):
        sync = (
            sysd.analyze.startup_time(sd),
            sysd.analyze.blame(sd),
            sysd.analyze.critical_chain(sd, ["multi-user.target"]),
        )
        if asyncio.run(main()) == sync:
            return
    pytest.fail("sysd.aio.analyze differs from sysd.analyze")


# --------------------------------------------------------------------------- --json


def _json(*argv: str) -> object:
    out, err, rc = ours(*argv, "--json")
    assert rc == 0, err
    return json.loads(out)


def test_json_of_time_and_blame() -> None:
    st = _json("time")
    assert isinstance(st, dict)
    assert st["firmware_usec"] is None and st["total_usec"] is None
    assert st["userspace_usec"] > 0 and st["text"].startswith("Startup finished in ")
    rows = _json("blame")
    assert isinstance(rows, list) and rows
    assert {r["unit"] for r in rows} <= {line.split()[-1] for line in tool("blame")[0].splitlines()}
    assert [r["time_usec"] for r in rows] == sorted((r["time_usec"] for r in rows), reverse=True)


def test_json_of_critical_chain_is_the_tree() -> None:
    (root,) = _json("critical-chain", "multi-user.target")  # type: ignore[misc]
    text = tool("critical-chain", "multi-user.target")[0]
    units = []

    def walk(node: dict[str, object]) -> None:
        units.append(node["unit"])
        for child in node["children"]:  # type: ignore[attr-defined]
            walk(child)

    walk(root)
    assert root["unit"] == "multi-user.target" and root["timed"] is True
    lines = text.splitlines()[3:]
    shown = [line.lstrip("\u2502\u251c\u2514\u2500 ").split(" ")[0] for line in lines]
    assert [u for u in shown if u != "..."] == units


def test_json_of_plot_has_the_svg_and_the_units_drawn() -> None:
    doc = _json("plot")
    assert isinstance(doc, dict)
    assert doc["svg"].startswith("<?xml")
    assert [u["unit"] for u in doc["units"]] == [
        n for n in _units_in(doc["svg"]) if n not in ("systemd",)
    ][: len(doc["units"])]
    assert doc["startup"]["text"].startswith("Startup finished in ")


# --------------------------------------------------------------------------- errors


def test_unknown_verb_and_too_many_arguments_as_systemd_analyze() -> None:
    for argv in (("blah",), ("blame", "extra.service"), ("time", "x"), ("plot", "y")):
        mine, theirs = ours(*argv), tool(*argv)
        assert (mine[0], mine[1], mine[2]) == (theirs[0], theirs[1], theirs[2]), argv


def test_bad_unit_names_are_typed_errors_before_the_bus(sd: sysd.Systemd) -> None:
    for bad in ("foo", "", "a/b.service", "x" * 300 + ".service"):
        with pytest.raises(InvalidUnitNameError):
            sysd.analyze.critical_chain(sd, [bad])
    out, err, rc = ours("critical-chain", "foo")
    assert rc == 1 and out == "" and "foo" in err and "Traceback" not in err
    # systemd-analyze prints the header, "Failed to get ID: ..." and exits 0
    # (docs/analyze.md: differences)
    assert "Failed to get ID" in tool("critical-chain", "foo")[1]


def test_bad_fuzz_is_refused() -> None:
    out, err, rc = ours("critical-chain", "--fuzz=soon")
    assert rc == 1 and out == "" and "soon" in err
    assert tool("critical-chain", "--fuzz=soon")[2] == 1


@pytest.fixture
def unfinished_user() -> Iterator[tuple[str, int]]:
    """A user whose manager never finishes starting up: its default.target wants a
    oneshot service that never ends."""
    name = f"slow{uuid.uuid4().hex[:6]}"
    subprocess.run(["useradd", "-m", name], check=True, timeout=60)
    uid = int(subprocess.run(["id", "-u", name], capture_output=True, text=True, check=True).stdout)
    units = Path(f"/home/{name}/.config/systemd/user")
    (units / "default.target.wants").mkdir(parents=True)
    (units / "never.service").write_text("[Service]\nType=oneshot\nExecStart=/bin/sleep infinity\n")
    (units / "default.target.wants" / "never.service").symlink_to("../never.service")
    subprocess.run(["chown", "-R", name, f"/home/{name}"], check=True)
    subprocess.run(["systemctl", "start", f"user@{uid}.service"], check=True, timeout=60)
    try:
        yield name, uid
    finally:
        subprocess.run(["systemctl", "stop", f"user@{uid}.service"], check=False, timeout=60)
        subprocess.run(["userdel", "-r", name], check=False, timeout=60, capture_output=True)


def test_a_manager_still_starting_up(unfinished_user: tuple[str, int]) -> None:
    name, uid = unfinished_user
    env = {**ENV, "XDG_RUNTIME_DIR": f"/run/user/{uid}", "HOME": f"/home/{name}"}
    for verb in ("time", "blame", "critical-chain", "plot"):
        theirs = tool("--user", verb, env=env, user=name)
        assert theirs[2] == 1 and "Bootup is not yet finished" in theirs[1]
        mine = ours("--user", verb, env=env, user=name)
        assert mine == theirs, verb
    private = f"unix:path=/run/user/{uid}/systemd/private"
    with (
        sysd.connect(address=private, private=True) as sd,
        pytest.raises(BootNotFinishedError) as info,
    ):
        sysd.analyze.blame(sd)
    assert info.value.finish_timestamp == 0
    assert os.path.exists(f"/run/user/{uid}/systemd/private")


# --------------------------------------------------------------------------- security

RUN = Path("/run/systemd/system")

# Hardening variants for throwaway services: every kind of check gets a good, a partial
# and a bad answer somewhere (allow and deny lists of system calls, IP allow lists,
# device ACLs, umasks, home/system protection, users).
HARDENING = [
    "",
    "User=nobody\nPrivateTmp=yes\nUMask=0027\nProtectHome=read-only\nProtectSystem=full\n",
    "DynamicUser=yes\nSupplementaryGroups=adm\nRemoveIPC=yes\nUMask=0077\n"
    "ProtectHome=tmpfs\nProtectSystem=strict\nProtectProc=invisible\nProcSubset=pid\n"
    "SystemCallFilter=@system-service\nSystemCallArchitectures=native\n"
    "IPAddressDeny=any\nIPAddressAllow=localhost\nDevicePolicy=closed\n"
    "DeviceAllow=/dev/null rw\nRestrictAddressFamilies=AF_UNIX AF_INET\n"
    "RestrictNamespaces=yes\nCapabilityBoundingSet=CAP_NET_BIND_SERVICE\n"
    "NoNewPrivileges=yes\nLockPersonality=yes\nMemoryDenyWriteExecute=yes\n"
    "RestrictRealtime=yes\nRestrictSUIDSGID=yes\nProtectKernelModules=yes\n"
    "ProtectKernelLogs=yes\nProtectClock=yes\nPrivateDevices=yes\nPrivateUsers=yes\n"
    "ProtectHostname=yes\nKeyringMode=private\nNotifyAccess=main\n",
    "User=daemon\nSystemCallFilter=~@mount @swap @reboot\nSystemCallArchitectures=native x86\n"
    "IPAddressDeny=any\nIPAddressAllow=10.0.0.0/8\nRestrictAddressFamilies=~AF_PACKET\n"
    "RestrictNamespaces=~user net\nProtectProc=noaccess\nUMask=0002\n"
    "AmbientCapabilities=CAP_NET_RAW\n"
    "DevicePolicy=strict\nNotifyAccess=all\nDelegate=yes\nProtectSystem=yes\n",
    "DefaultDependencies=no\nUser=root\nSupplementaryGroups=adm\nRootDirectory=/\n"
    "SystemCallFilter=@basic-io @file-system\nUMask=0022\nProtectHome=yes\n",
]


@pytest.fixture
def hardened(sd: sysd.Systemd) -> Iterator[list[str]]:
    tag = uuid.uuid4().hex[:6]
    names = []
    for i, extra in enumerate(HARDENING):
        name = f"sysd-sec-{tag}-{i}.service"
        (RUN / name).write_text(f"[Service]\nExecStart=/bin/sleep infinity\n{extra}")
        names.append(name)
    (RUN / f"sysd-sec-{tag}-t@.service").write_text(
        "[Service]\nExecStart=/bin/sleep infinity\nPrivateNetwork=yes\n"
    )
    names.append(f"sysd-sec-{tag}-t@")  # a template: analyzed as its test-instance
    sd.daemon_reload()
    yield names
    for path in RUN.glob(f"sysd-sec-{tag}-*"):
        path.unlink()
    sd.daemon_reload()


def test_security_overview_is_systemd_analyzes() -> None:
    out, _, _ = same("security")
    assert out.startswith("UNIT ") and "EXPOSURE PREDICATE HAPPY" in out.splitlines()[0]
    same("security", "--json", theirs=("security", "--json=short"))
    # emoji smileys where systemd draws them: a terminal type that is not a console
    emoji = {**ENV, "TERM": "xterm-256color"}
    assert "\U0001f628" in same("security", env=emoji)[0]
    same("security", "--json", env=emoji, theirs=("security", "--json=short"))


def _security_same(*argv: str, env: dict[str, str] | None = None) -> None:
    same("security", *argv, env=env)
    same("security", "--json", *argv, env=env, theirs=("security", "--json=short", *argv))


def test_security_of_every_loaded_service_is_systemd_analyzes(sd: sysd.Systemd) -> None:
    services = [u.name for u in sd.list_units(types=["service"])]
    assert len(services) > 10
    _security_same(*services)  # each one's table and summary, then the overview of them


def test_security_of_hardened_services(hardened: list[str]) -> None:
    for name in hardened:
        _security_same(name)
    _security_same(*hardened)  # several: each table, then the overview
    # ASCII glyphs in a C locale (colour: systemd-analyze's security tables on a terminal
    # also carry hyperlinks and grey blanks, which sysd leaves out: docs/analyze.md)
    out, _, _ = same("security", hardened[2], env={**ENV, "LANG": "C"})
    assert "\n+ " in out and "-> Overall exposure level for" in out


def test_security_reports_are_typed(sd: sysd.Systemd, hardened: list[str]) -> None:
    (loose,) = sysd.analyze.security(sd, hardened[0])
    (tight,) = sysd.analyze.security(sd, hardened[2])
    assert loose.unit == hardened[0] and loose.level in ("UNSAFE", "EXPOSED", "DANGEROUS")
    assert tight.exposure < loose.exposure <= 10.0
    by_name = {f.name: f for f in tight.findings}
    assert by_name["PrivateNetwork="].passed is False
    assert by_name["SystemCallArchitectures="].passed is True
    assert by_name["SystemCallArchitectures="].description == (
        "Service may execute system calls only with native ABI"
    )
    assert by_name["User=/DynamicUser="].badness == 0
    (template,) = sysd.analyze.security(sd, hardened[-1])
    assert template.unit.endswith("@test-instance.service")
    everything = sysd.analyze.security(sd)  # the loaded services that are not oneshot
    assert [r.unit for r in everything] == sorted(r.unit for r in everything)
    assert "dbus.service" in {r.unit for r in everything}


def test_security_threshold_and_errors(sd: sysd.Systemd, hardened: list[str]) -> None:
    (tight,) = sysd.analyze.security(sd, hardened[2])
    above, below = str(tight.exposure_tenths - 1), str(tight.exposure_tenths)
    for threshold in (above, below, "0", "100"):
        argv = ("security", f"--threshold={threshold}", hardened[2])
        mine, theirs = ours(*argv), tool(*argv)
        assert mine[2] == theirs[2], threshold
    assert ours("security", "--threshold=1", hardened[2])[2] == 1
    assert ours("security", "--threshold=100", hardened[2])[2] == 0
    for argv in (
        ("security", "no-such-service-here"),
        ("security", "dbus.socket"),
        ("security", "--threshold=101", "dbus"),
        ("security", "--threshold=x", "dbus"),
        ("blame", "--threshold=50"),
    ):
        mine, theirs = ours(*argv), tool(*argv)
        assert (mine[0], mine[2]) == (theirs[0], theirs[2]), argv
        assert "Traceback" not in mine[1]
    with pytest.raises(sysd.NoSuchUnitError):
        sysd.analyze.security(sd, "no-such-service-here")
    with pytest.raises(InvalidUnitNameError):
        sysd.analyze.security(sd, "dbus.socket")


# --------------------------------------------------------------------------- in a browser

_MEASURE = """
<pre id="measured"></pre>
<script>
const svg = document.querySelector("svg");
const g = svg.querySelector("g");
const box = g.querySelector("rect.box").getBoundingClientRect();
const rows = [];
let bar = null;
for (const el of g.children) {
  if (el.tagName === "rect" && el.getAttribute("class") === "activating") bar = el;
  if (el.tagName === "text" && /left|right/.test(el.getAttribute("class") || "")) {
    const b = bar ? bar.getBoundingClientRect() : null;
    rows.push({label: el.textContent, x: b ? b.x - box.x : null, width: b ? b.width : null,
               text_width: el.getBBox().width});
    bar = null;
  }
}
const size = svg.getBoundingClientRect();
document.getElementById("measured").textContent =
  JSON.stringify({width: size.width, height: size.height, rows: rows});
</script>
"""


def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.fail("chromium (Debian's package) is needed to render the plot: scripts/setup")
    return exe


@pytest.mark.timeout(300)
def test_plot_renders_in_a_headless_browser(sd: sysd.Systemd, tmp_path: Path) -> None:
    """The SVG in Chromium: it lays out, every unit systemd-analyze draws has a labelled
    bar, and each bar starts where the unit's timestamp puts it."""
    svg = sysd.analyze.plot(sd)
    page = tmp_path / "plot.html"
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
    assert measured["width"] >= 800 and measured["height"] > 200
    rows = {r["label"].split(" (")[0]: r for r in measured["rows"] if r["label"] != "systemd"}
    theirs = {n for n in _units_in(tool("plot")[0]) if n not in PHASES}
    assert set(rows) == theirs  # one labelled bar per unit, the same units
    manager = sd.get_all("/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager")
    offset = manager["UserspaceTimestampMonotonic"]
    for name, row in rows.items():
        assert row["text_width"] > 0, name  # the label was laid out
        started = sd.get_property(
            sd.unit(name).path, "org.freedesktop.systemd1.Unit", "InactiveExitTimestampMonotonic"
        )
        assert row["x"] == pytest.approx(SCALE_X * (started - offset), abs=0.01), name
