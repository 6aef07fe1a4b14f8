"""sysd.cli._render: colours, tables, values, the status layout, the spinner (pure)."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime, timedelta

import pytest

from sysd._core.status import ManagerStatus, ServiceStatus
from sysd._core.table import column_widths
from sysd.cli import _render as R

USEC = 1_000_000
T0 = 1_700_000_000 * USEC  # Tue 2023-11-14 22:13:20 UTC


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")


class Tty(io.StringIO):
    """A terminal stand-in."""

    encoding = "utf-8"

    def isatty(self) -> bool:
        return True


# ---------------------------------------------------------------------------- colours


@pytest.mark.parametrize(
    ("env", "tty", "expected"),
    [
        ({}, True, True),
        ({}, False, False),
        ({"NO_COLOR": ""}, True, False),
        ({"NO_COLOR": "1"}, True, False),
        ({"TERM": "dumb"}, True, False),
        ({"SYSTEMD_COLORS": "0"}, True, False),
        ({"SYSTEMD_COLORS": "no"}, True, False),
        ({"SYSTEMD_COLORS": "1"}, False, True),
        ({"SYSTEMD_COLORS": "yes", "NO_COLOR": "1"}, False, True),
        ({"SYSTEMD_COLORS": "256"}, False, True),
        ({"SYSTEMD_COLORS": "bogus"}, True, True),
        ({"SYSTEMD_COLORS": "bogus"}, False, False),
    ],
)
def test_color_enabled(env: dict[str, str], tty: bool, expected: bool) -> None:
    stream = Tty() if tty else io.StringIO()
    assert R.color_enabled(stream, env) is expected


def test_closed_stream_has_no_colour() -> None:
    stream = Tty()
    stream.close()
    assert R.color_enabled(io.StringIO(), {}) is False


def test_style() -> None:
    assert R.Style(False)("x", R.RED) == "x"
    assert R.Style(True)("x", R.RED) == "\x1b[0;1;31mx\x1b[0m"
    assert R.Style(True)("x", "") == "x"
    assert R.Style(True)("", R.RED) == ""
    assert R.Style(False).code(R.RED) == ""


def test_active_colour_and_glyphs() -> None:
    assert R.active_color("failed") == R.RED
    assert R.active_color("active") == R.active_color("reloading") == R.GREEN
    assert R.active_color("inactive") == R.active_color(None) == ""
    g = R.UNICODE
    assert g.for_state("active") == "\u25cf"
    assert g.for_state("inactive") == "\u25cb"
    assert g.for_state("failed") == "\u00d7"
    assert g.for_state("reloading") == "\u21bb"
    assert g.for_state("activating") == "\u25cf"
    assert R.ASCII.for_state("failed") == "x"


def test_glyphs_follow_the_encoding() -> None:
    assert R.glyphs_for(Tty()) is R.UNICODE
    ascii_stream = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    assert R.glyphs_for(ascii_stream) is R.ASCII


# ----------------------------------------------------------------------------- values


@pytest.mark.parametrize(
    ("value", "expected"),
    [  # systemd 252 src/test/test-format-util.c, IEC with the point and a trailing B
        (900, "900B"),
        (1023, "1023B"),
        (1024, "1.0K"),
        (1100, "1.0K"),
        (1500, "1.4K"),
        (3 * 1024**2, "3.0M"),
        (3 * 1024**3, "3.0G"),
        (3 * 1024**4, "3.0T"),
        (3 * 1024**5, "3.0P"),
        (3 * 1024**6, "3.0E"),
        (2**64 - 1, None),
        (None, None),
    ],
)
def test_format_bytes(value: int | None, expected: str | None) -> None:
    assert R.format_bytes(value) == expected


def test_timestamp_text() -> None:
    dt = datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert R.timestamp_text(dt) == "Tue 2023-11-14 22:13:20 UTC"
    assert R.timestamp_text(dt, T0 + 5 * 60 * USEC) == "Tue 2023-11-14 22:13:20 UTC; 5min ago"
    assert R.timestamp_text(dt, T0 - 90 * USEC) == "Tue 2023-11-14 22:13:20 UTC; 1min 30s left"
    assert R.timestamp_text(None, T0) is None


def test_ellipsize() -> None:
    assert R.ellipsize("abcdef", 10) == "abcdef"
    assert R.ellipsize("abcdef", 6) == "abcdef"
    assert R.ellipsize("abcdef", 4) == "abc\u2026"
    assert R.ellipsize("abcdef", 4, R.ASCII) == "a..."
    assert R.ellipsize("abcdef", 0) == ""


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("plain", "plain"),
        ("a-b_c.d/e:f=g", "a-b_c.d/e:f=g"),
        ("two words", '"two words"'),
        ('say "hi"', '"say \\"hi\\""'),
        ("$HOME", '"\\$HOME"'),
        ("*.conf", '"*.conf"'),
        ("", ""),
    ],
)
def test_shell_quote(word: str, expected: str) -> None:
    assert R.shell_quote(word) == expected


def test_exit_text_and_signal_names() -> None:
    assert R.exit_text(1, 0) == "code=exited, status=0/SUCCESS"
    assert R.exit_text(1, 1) == "code=exited, status=1/FAILURE"
    assert R.exit_text(1, 7) == "code=exited, status=7"
    assert R.exit_text(1, 203) == "code=exited, status=203/EXEC"
    assert R.exit_text(2, 15) == "code=killed, signal=TERM"
    assert R.exit_text(3, 11) == "code=dumped, signal=SEGV"
    assert R.signal_name(9) == "KILL"
    assert R.signal_name(999) == "999"


# ----------------------------------------------------------------------------- tables


def test_table_layout() -> None:
    lines = R.table(
        ["", "unit", "load", "description"],
        [[" ", "a.service", "loaded", "A"], ["\u25cf", "bb.service", "not-found", "Bee"]],
        style=R.Style(False),
    )
    assert lines == [
        "  UNIT       LOAD      DESCRIPTION",
        "  a.service  loaded    A",
        "\u25cf bb.service not-found Bee",
    ]


def test_table_without_rows_keeps_the_header() -> None:
    lines = R.table(["", "unit", "load"], [], style=R.Style(False))
    assert lines == ["  UNIT LOAD"]
    assert R.table(["unit"], [], style=R.Style(False), show_header=False) == []


def test_table_shrinks_columns_to_the_width() -> None:
    """format-table.c: each column gets 1 plus a share of the rest by weight; a column
    whose share covers it gets what it asked for first (whole outputs are compared with
    systemctl's on a terminal in tests/systemd/test_cli_diff_tty.py)."""
    rows: list[list[str | R.Cell]] = [["a.service", "a long description that does not fit"]]
    lines = R.table(["unit", "description"], rows, style=R.Style(False), width=30)
    assert lines[1] == "a.service a long description \u2026"  # cut, not stripped
    assert max(len(line) for line in lines) <= 30
    assert column_widths([9, 36], 30) == [9, 20]
    assert column_widths([40, 40, 5], 31) == [12, 12, 5]
    assert column_widths([40, 40], 1) == [1, 1]  # never below the minimum
    full = R.table(["unit", "description"], rows, style=R.Style(False))
    assert full[1].endswith("does not fit")


def test_table_colours_only_when_enabled() -> None:
    rows: list[list[str | R.Cell]] = [[R.Cell("x.service", R.RED), "failed"]]
    plain = R.table(["unit", "active"], rows, style=R.Style(False))
    assert "\x1b" not in "".join(plain)
    coloured = R.table(["unit", "active"], rows, style=R.Style(True))
    assert coloured[1] == "\x1b[0;1;31mx.service\x1b[0m failed"
    # systemd 252's ansi_underline() is ANSI_NORMAL ANSI_UNDERLINE; the gaps are underlined
    assert coloured[0].startswith(R.NORMAL + R.UNDERLINE + "UNIT     " + R.NORMAL)


# ---------------------------------------------------------------------- process tree


def test_process_tree_nests_cgroups() -> None:
    base = "/system.slice/web.service"
    procs = [
        (base, 120, "/usr/bin/web"),
        (base, 99, "/usr/bin/web --worker"),
        (f"{base}/sub/b", 300, "b"),
        (f"{base}/sub/a", 200, "a"),
        ("/elsewhere", 7, "stray"),
    ]
    assert R.process_tree(base, procs, prefix="  ") == [
        "  \u251c\u2500 99 /usr/bin/web --worker",
        "  \u251c\u2500120 /usr/bin/web",
        "  \u2514\u2500sub",
        "    \u251c\u2500a",
        "    \u2502 \u2514\u2500200 a",
        "    \u2514\u2500b",
        "      \u2514\u2500300 b",
        "  \u2023 7 stray",
    ]


def test_process_tree_ascii_and_width() -> None:
    procs = [("/u", 1, "x" * 100)]
    lines = R.process_tree("/u", procs, glyphs=R.ASCII, width=40)
    assert lines == ["`-1 " + "x" * 33 + "..."]  # 40 - len("`-1 "), ASCII ellipsis
    assert R.process_tree("/none", []) == []


# ---------------------------------------------------------------------------- status


def _failed_oneshot() -> ServiceStatus:
    start, leave = T0 - 2 * USEC, T0 - USEC
    unit = {
        "Id": "fail.service",
        "Description": "fail.service",
        "LoadState": "loaded",
        "ActiveState": "failed",
        "SubState": "failed",
        "FragmentPath": "/run/systemd/system/fail.service",
        "UnitFileState": "static",
        "UnitFilePreset": "enabled",
        "InactiveEnterTimestamp": leave,
        "ActiveEnterTimestamp": 0,
        "ActiveExitTimestamp": 0,
        "DropInPaths": [],
        "TriggeredBy": [],
        "Triggers": [],
        "Documentation": [],
        "ConditionResult": True,
        "AssertResult": True,
    }
    service = {
        "Result": "exit-code",
        "MainPID": 0,
        "ControlPID": 0,
        "ExecMainPID": 92,
        "ExecMainCode": 1,
        "ExecMainStatus": 7,
        "ExecMainStartTimestamp": start,
        "ExecMainExitTimestamp": leave,
        "ExecStart": [
            ("/bin/sh", ["/bin/sh", "-c", "exit 7"], False, start, 1, leave, 2, 92, 1, 7)
        ],
        "ControlGroup": "",
        "MemoryCurrent": 2**64 - 1,
        "TasksCurrent": 2**64 - 1,
        "CPUUsageNSec": 2**64 - 1,
        "IPIngressBytes": 2**64 - 1,
        "IPEgressBytes": 2**64 - 1,
        "IOReadBytes": 2**64 - 1,
        "IOWriteBytes": 2**64 - 1,
        "StatusText": "",
    }
    return ServiceStatus.from_dbus(unit, service)


def test_status_of_a_failed_oneshot_matches_systemctl() -> None:
    # systemctl status of the same unit on systemd 252 (journal lines left out)
    lines = R.status_lines(_failed_oneshot(), style=R.Style(False), now_usec=T0 + 50_000)
    assert lines == [
        "\u00d7 fail.service",
        "     Loaded: loaded (/run/systemd/system/fail.service; static)",
        "     Active: failed (Result: exit-code) since Tue 2023-11-14 22:13:19 UTC; 1s ago",
        "    Process: 92 ExecStart=/bin/sh -c exit 7 (code=exited, status=7)",
        "   Main PID: 92 (code=exited, status=7)",
    ]


def test_status_colours() -> None:
    lines = R.status_lines(_failed_oneshot(), style=R.Style(True), now_usec=T0)
    assert lines[0] == f"{R.RED}\u00d7{R.NORMAL} fail.service"
    assert f"{R.RED}failed (failed){R.NORMAL}" not in lines[2]  # sub == active: no "(sub)"
    assert lines[2].startswith(f"     Active: {R.RED}failed{R.NORMAL} (Result: exit-code)")
    assert f"{R.RED}(code=exited, status=7){R.NORMAL}" in lines[3]


def test_status_of_a_running_service() -> None:
    unit = {
        "Id": "web.service",
        "Description": "Web server",
        "LoadState": "loaded",
        "ActiveState": "active",
        "SubState": "running",
        "FreezerState": "running",
        "FragmentPath": "/etc/systemd/system/web.service",
        "UnitFileState": "enabled",
        "UnitFilePreset": "disabled",
        "ActiveEnterTimestamp": T0,
        "DropInPaths": ["/etc/systemd/system/web.service.d/a.conf", "/run/x.d/b.conf"],
        "TriggeredBy": ["web.socket"],
        "Documentation": ["man:web(8)", "https://example.com"],
        "NeedDaemonReload": True,
    }
    service = {
        "MainPID": 1234,
        "ExecMainPID": 1234,
        "ControlPID": 0,
        "StatusText": "Ready.",
        "ControlGroup": "/system.slice/web.service",
        "TasksCurrent": 5,
        "TasksMax": 4915,
        "MemoryCurrent": 10 * 1024 * 1024,
        "MemoryMax": 2**64 - 1,
        "MemoryHigh": 2**64 - 1,
        "MemorySwapMax": 2**64 - 1,
        "MemoryLimit": 2**64 - 1,
        "MemoryAvailable": 2**64 - 1,
        "MemoryMin": 0,
        "MemoryLow": 0,
        "CPUUsageNSec": 1_234_567_890,
        "IPIngressBytes": 2**64 - 1,
        "IPEgressBytes": 2**64 - 1,
    }
    st = ServiceStatus.from_dbus(unit, service)
    lines = R.status_lines(
        st,
        style=R.Style(False),
        now_usec=T0 + 3 * 3600 * USEC,
        processes=[("/system.slice/web.service", 1234, "/usr/bin/web")],
        states={"web.socket": "active"},
        comm={1234: "web"},
    )
    assert lines == [
        "\u25cf web.service - Web server",
        "     Loaded: loaded (/etc/systemd/system/web.service; enabled; preset: disabled)",
        "    Drop-In: /etc/systemd/system/web.service.d",
        "             \u2514\u2500a.conf",
        "             /run/x.d",
        "             \u2514\u2500b.conf",
        "     Active: active (running) since Tue 2023-11-14 22:13:20 UTC; 3h 0min ago",
        "TriggeredBy: \u25cf web.socket",
        "       Docs: man:web(8)",
        "             https://example.com",
        "   Main PID: 1234 (web)",
        '     Status: "Ready."',
        "      Tasks: 5 (limit: 4915)",
        "     Memory: 10.0M",
        "        CPU: 1.234s",
        "     CGroup: /system.slice/web.service",
        "             \u2514\u25001234 /usr/bin/web",
        "Warning: The unit file, source configuration file or drop-ins of web.service changed "
        "on disk. Run 'sysd daemon-reload' to reload units.",
    ]


def test_system_status() -> None:
    manager = ManagerStatus.from_dbus(
        {
            "SystemState": "degraded",
            "NNames": 167,
            "NJobs": 0,
            "NFailedUnits": 2,
            "UserspaceTimestamp": T0,
            "Version": "252.39",
            "Tainted": "cgroupsv1",
            "ControlGroup": "",
        }
    )
    lines = R.system_status_lines(manager, host="box", style=R.Style(False), now_usec=T0 + USEC)
    assert lines == [
        "\u25cf box",
        "    State: degraded",
        "    Units: 167 loaded (incl. loaded aliases)",
        "     Jobs: 0 queued",
        "   Failed: 2 units",
        "    Since: Tue 2023-11-14 22:13:20 UTC; 1s ago",
        "  systemd: 252.39",
        "  Tainted: cgroupsv1",
        "   CGroup: /",
    ]


# ---------------------------------------------------------------------------- spinner


def test_spinner_draws_on_a_terminal_and_erases_itself() -> None:
    tty = Tty()
    with R.Spinner("start web.service", stream=tty, interval=0.01, delay=0):
        time.sleep(0.15)
    text = tty.getvalue()
    assert "start web.service (" in text
    assert text.startswith("\r\x1b[K")
    assert text.endswith("\r\x1b[K")
    assert "\u280b" in text


def test_spinner_is_silent_in_a_pipe_and_for_quick_work() -> None:
    pipe = io.StringIO()
    spinner = R.Spinner("start web.service", stream=pipe, delay=0)
    with spinner:
        time.sleep(0.05)
        assert spinner._thread is None
    assert pipe.getvalue() == ""
    tty = Tty()
    with R.Spinner("start web.service", stream=tty, delay=5):
        pass
    assert tty.getvalue() == ""


def test_spinner_frames() -> None:
    spinner = R.Spinner("stop x.service", stream=Tty())
    assert spinner.frame(0, 2.345) == "\u280b stop x.service (2.3s)"
    assert spinner.frame(1, 65.0) == "\u2819 stop x.service (1min 5s)"
    ascii_spinner = R.Spinner("x", stream=io.TextIOWrapper(io.BytesIO(), encoding="ascii"))
    assert ascii_spinner.frame(3, 0) == "\\ x (0.0s)"


def test_verb_index_matches_the_modules() -> None:
    import argparse
    import importlib

    from sysd import cli

    for module, verbs in cli._VERB_INDEX.items():
        parser = argparse.ArgumentParser()
        sub = parser.add_subparsers()
        importlib.import_module(module).add_parsers(sub)
        assert tuple(sorted(sub.choices)) == tuple(sorted(verbs)), module
    assert set(cli._VERB_INDEX) == set(cli._VERB_MODULES)


def test_next_elapse_as_systemctls_calc_next_elapse() -> None:
    realtime = datetime.fromtimestamp(T0 // USEC + 3600, UTC)
    now, mono = T0, 1000 * USEC
    # monotonic only: now + (next - now_mono)
    got = R.next_elapse(None, timedelta(seconds=1000 + 60), now, mono)
    assert got == datetime.fromtimestamp(T0 // USEC + 60, UTC)
    # both: the earlier
    assert R.next_elapse(realtime, timedelta(seconds=1000 + 60), now, mono) == got
    assert R.next_elapse(realtime, timedelta(seconds=1000 + 7200), now, mono) == realtime
    # realtime only, or neither
    assert R.next_elapse(realtime, None, now, mono) == realtime
    assert R.next_elapse(None, None, now, mono) is None
