"""``sysd watch``/``sysd wait`` without systemd: every event kind's line and JSON object, and
every bad argument refused with one line and exit status 1 before anything connects."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from sysd import (
    JobNew,
    JobRemoved,
    Overflow,
    Reexecuted,
    Reloading,
    Resynced,
    StartupFinished,
    UnitChanged,
    UnitFilesChanged,
    UnitNew,
    UnitRemoved,
)
from sysd.cli import _render as R
from sysd.cli import main
from sysd.cli.watch import event_json, event_line, timeout_arg

WHEN = datetime(2026, 12, 7, 6, 40, 1, 123456, tzinfo=UTC)
STAMP = datetime(2026, 12, 7, 6, 40, 0, 500000, tzinfo=UTC)
PLAIN = R.Style(False)
# a bus nobody listens on: an argument checked too late would say it cannot connect
NOWHERE = "unix:path=/nonexistent/sysd-test-bus"

CHANGED = UnitChanged(
    "foo.service", "activating", "start", "loaded", ("inactive", "dead", "loaded"),
    "success", "ab" * 16, STAMP, frozenset({"active_state", "sub_state"}),
)  # fmt: skip

LINES = [
    (CHANGED, "foo.service: inactive/dead -> activating/start result=success"),
    (
        UnitChanged(
            "foo.service",
            "failed",
            "failed",
            "loaded",
            ("active", "running", "loaded"),
            "exit-code",
            None,
            None,
            frozenset({"active_state"}),
        ),
        "foo.service: active/running -> failed/failed result=exit-code",
    ),
    (
        UnitChanged(
            "new.service",
            "active",
            "running",
            "loaded",
            None,
            None,
            None,
            None,
            frozenset({"active_state"}),
        ),
        "new.service: active/running",
    ),
    (
        UnitChanged(
            "gone.service",
            "inactive",
            "dead",
            "not-found",
            ("inactive", "dead", "loaded"),
            None,
            None,
            None,
            frozenset({"load_state"}),
        ),
        "gone.service: inactive/dead (load: loaded -> not-found)",
    ),
    (
        UnitChanged(
            "foo.service",
            "inactive",
            "dead",
            "loaded",
            ("inactive", "dead", "loaded"),
            "success",
            "cd" * 16,
            None,
            frozenset({"invocation_id"}),
        ),
        "foo.service: inactive/dead invocation=" + "cd" * 16 + " result=success",
    ),
    (UnitNew("foo.service"), "foo.service: new"),
    (UnitRemoved("foo.service"), "foo.service: removed"),
    (JobNew(42, "foo.service"), "foo.service: job 42 queued"),
    (JobRemoved(42, "foo.service", "done"), "foo.service: job 42 done"),
    (JobRemoved(43, "bar.service", "failed"), "bar.service: job 43 failed"),
    (UnitFilesChanged(), "unit files changed"),
    (Reloading(True), "manager reloading"),
    (Reloading(False), "manager reloaded"),
    (Reexecuted(), "manager re-executed"),
    (
        StartupFinished(
            None,
            None,
            timedelta(seconds=1, milliseconds=200),
            None,
            timedelta(seconds=3),
            timedelta(seconds=4, milliseconds=200),
        ),
        "startup finished in 4.200s (kernel 1.200s, userspace 3s)",
    ),
    (
        Resynced(frozenset({"a.service", "b.service"})),
        "resynced after a reconnect: 2 units changed meanwhile",
    ),
    (
        Overflow(17),
        "overflow: 17 events coalesced or dropped (output fell behind; "
        "the newest state of every unit follows)",
    ),
]


@pytest.mark.parametrize(("event", "text"), LINES, ids=[type(e).__name__ for e, _ in LINES])
def test_line_per_event_kind(event: object, text: str) -> None:
    line = event_line(event, WHEN, PLAIN, R.ASCII)
    stamp = WHEN.astimezone().strftime("%Y-%m-%d %H:%M:%S.%f")  # received, not the event's
    assert line == f"{stamp} {text}"
    assert "\x1b" not in line


def test_line_uses_the_glyph_arrow_and_colours_when_asked() -> None:
    line = event_line(CHANGED, WHEN, R.Style(True), R.UNICODE)
    assert "\u2192" in line
    assert R.HIGHLIGHT + "foo.service" + R.NORMAL in line
    failed = UnitChanged("x.service", "failed", "failed", "loaded", ("active", "running", "loaded"),
                         "exit-code", None, None, frozenset({"active_state"}))  # fmt: skip
    colored = event_line(failed, WHEN, R.Style(True), R.UNICODE)
    assert R.RED + "failed/failed" + R.NORMAL in colored
    assert R.RED + "exit-code" + R.NORMAL in colored


def test_json_schema_of_unit_changed() -> None:
    obj = event_json(CHANGED, WHEN)
    assert json.loads(json.dumps(obj)) == obj
    assert obj == {
        "time": "2026-12-07T06:40:01.123456+00:00",
        "event": "UnitChanged",
        "unit": "foo.service",
        "active_state": "activating",
        "sub_state": "start",
        "load_state": "loaded",
        "previous": {"active_state": "inactive", "sub_state": "dead", "load_state": "loaded"},
        "result": "success",
        "invocation_id": "ab" * 16,
        "timestamp": "2026-12-07T06:40:00.500000+00:00",
        "changed": ["active_state", "sub_state"],
    }


JSON = [
    (UnitNew("a.service"), {"unit": "a.service"}),
    (UnitRemoved("a.service"), {"unit": "a.service"}),
    (JobNew(7, "a.service"), {"job_id": 7, "unit": "a.service"}),
    (JobRemoved(7, "a.service", "done"), {"job_id": 7, "unit": "a.service", "result": "done"}),
    (UnitFilesChanged(), {}),
    (Reloading(True), {"active": True}),
    (Reexecuted(), {}),
    (
        StartupFinished(
            None, None, timedelta(seconds=1), None, timedelta(seconds=2), timedelta(seconds=3)
        ),
        {
            "firmware_usec": None,
            "loader_usec": None,
            "kernel_usec": 1_000_000,
            "initrd_usec": None,
            "userspace_usec": 2_000_000,
            "total_usec": 3_000_000,
        },
    ),
    (
        Resynced(frozenset({"b.service", "a.service"})),
        {"changed_units": ["a.service", "b.service"]},
    ),
    (Overflow(3), {"dropped": 3}),
]


@pytest.mark.parametrize(("event", "fields"), JSON, ids=[type(e).__name__ for e, _ in JSON])
def test_json_schema_of_other_kinds(event: object, fields: dict[str, object]) -> None:
    obj = event_json(event, WHEN)
    assert obj == {"time": "2026-12-07T06:40:01.123456+00:00", "event": type(event).__name__,
                   **fields}  # fmt: skip
    assert json.loads(json.dumps(obj)) == obj


def test_previous_none_is_null() -> None:
    first = UnitChanged("n.service", "active", "running", "loaded")
    obj = event_json(first, WHEN)
    assert obj["previous"] is None
    assert obj["timestamp"] is None
    assert obj["changed"] == []


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30", 30.0), ("1.5", 1.5), ("2min", 120.0), ("1h 30s", 3630.0), ("0", 0.0)],
)
def test_timeout_values(text: str, seconds: float) -> None:
    assert timeout_arg(text) == seconds


BAD = [
    (["watch", "foo/bar"], "sysd watch: invalid unit name or pattern 'foo/bar'"),
    (["watch", "ok.service", "a b*"], "invalid unit pattern 'a b*'"),
    (["watch", "foo["], "sysd: invalid unit pattern 'foo['"),
    (["watch", "--type=bogus"], "sysd watch: unknown unit type 'bogus'"),
    (["watch", "-t", "service,nope"], "sysd watch: unknown unit type 'nope'"),
    (["watch", "--kind=Nope"], "sysd watch: unknown event kind 'Nope'"),
    (["wait", "foo", "--state=bogus"], "sysd wait: argument --state: unknown state 'bogus'"),
    (["wait", "foo", "--timeout=abc"], "sysd wait: argument --timeout: invalid timeout 'abc'"),
    (["wait", "foo", "--timeout=-1"], "sysd wait: argument --timeout: invalid timeout '-1'"),
    (["wait", "foo*"], "sysd wait: give unit names, not patterns: foo*"),
    (["wait", "foo/bar"], "sysd wait: invalid unit name or pattern 'foo/bar'"),
    (["wait"], "sysd wait: the following arguments are required: UNIT"),
]


@pytest.mark.parametrize(("argv", "message"), BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_arguments_exit_1_before_the_bus(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = main([*argv, "--address", NOWHERE])
    out, err = capsys.readouterr()
    assert rc == 1
    assert out == ""
    assert message in err
    assert len(err.strip().splitlines()) == 1, err
    assert "connect" not in err and "Traceback" not in err


def test_kind_names_are_case_insensitive_and_comma_separated(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # checked, accepted, and then the connection fails: the bus is where it stops
    rc = main(["watch", "--kind=unitchanged,JobRemoved", "--address", NOWHERE])
    _, err = capsys.readouterr()
    assert rc == 1
    assert "cannot connect" in err


def test_the_docs_json_example_has_the_schemas_keys() -> None:
    from pathlib import Path

    doc = Path(__file__).resolve().parents[2] / "docs" / "events.md"
    text = doc.read_text(encoding="utf-8")
    block = text.split("```json\n", 1)[1].split("```", 1)[0]
    example = json.loads(block)
    assert list(example) == list(event_json(CHANGED, WHEN))
