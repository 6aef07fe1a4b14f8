"""sysd._core.analyze_history: the units' state transitions -> spans -> the SVG that
``plot(units=..., since=...)`` returns (tables; the journal side is in
tests/systemd/test_analyze_history_systemd.py)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sysd._core.analyze_history import (
    FAILED,
    MESSAGE_STATES,
    STARTED,
    STARTING,
    STATES,
    STOPPED,
    Span,
    Transition,
    history_spans,
    history_svg,
    state_of,
)

SVG = "{http://www.w3.org/2000/svg}"
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
# systemd's own list of message IDs: an unpacked systemd 252 source, or the header
# libsystemd-dev installs (Debian 12's is 252's; bench/setup.sh installs it)
HEADERS = [
    Path("/work/systemd-src/systemd-252.39/src/systemd/sd-messages.h"),
    Path("/usr/include/systemd/sd-messages.h"),
]
HEADER = next((h for h in HEADERS if h.exists()), HEADERS[0])


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("message_id", "job_result", "state"),
    [
        (STARTING, None, "activating"),
        (STARTED, "done", "active"),
        (FAILED, "failed", "failed"),
        (FAILED, "timeout", "failed"),
        (FAILED, "dependency", "inactive"),
        (FAILED, "skipped", "inactive"),
        (STOPPED.upper(), "done", "inactive"),
        ("d34d037fff1847e6ae669a370e694725", None, "reloading"),
        ("7b05ebc668384222baa8881179cfda54", None, "active"),
        ("de5b426a63be47a7b6ac3eaac82e2f6f", None, "deactivating"),
        ("7ad2d189f7e94e70a38c781354912448", None, "inactive"),  # Deactivated successfully
        ("d9b373ed55a64feb8242e02dbe79a49c", "exit-code", "failed"),  # Failed with result
        ("98e322203f7a4ed290d09fe03c09fe15", None, None),  # process exited: no state
        ("", None, None),
    ],
)
def test_state_of_a_message(message_id: str, job_result: str | None, state: str | None) -> None:
    assert state_of(message_id, job_result) == state


@pytest.mark.skipif(
    not HEADER.exists(), reason="no sd-messages.h here (systemd 252's source, libsystemd-dev)"
)
def test_message_ids_are_systemd_252s() -> None:
    text = HEADER.read_text()
    for name in ("STARTING", "STARTED", "FAILED", "STOPPING", "STOPPED", "RELOADING"):
        m = re.search(rf"SD_MESSAGE_UNIT_{name}\s+SD_ID128_MAKE\(([0-9a-f,]+)\)", text)
        assert m is not None, name
        assert m.group(1).replace(",", "") in MESSAGE_STATES, name


NOW = at(100)


@pytest.mark.parametrize(
    ("transitions", "current", "expected"),
    [
        # nothing in the range: the current state all along
        ([], "active", [Span("active", 0, 100)]),
        ([], "maintenance", [Span("inactive", 0, 100)]),
        # started and still running: active up to now
        (
            [("activating", 10), ("active", 12)],
            "active",
            [Span("activating", 10, 12), Span("active", 12, 100)],
        ),
        # a start that failed: "Failed with result" then "Failed to start" is one span
        (
            [("activating", 10), ("failed", 11), ("failed", 11.5)],
            "failed",
            [Span("activating", 10, 11), Span("failed", 11, 100)],
        ),
        # start, stop, start again; out of order in the input
        (
            [
                ("inactive", 30),
                ("activating", 10),
                ("active", 10.5),
                ("deactivating", 29),
                ("activating", 50),
                ("active", 51),
            ],
            "active",
            [
                Span("activating", 10, 10.5),
                Span("active", 10.5, 29),
                Span("deactivating", 29, 30),
                Span("inactive", 30, 50),
                Span("activating", 50, 51),
                Span("active", 51, 100),
            ],
        ),
        # transitions outside since..now are not drawn
        ([("active", -5), ("failed", 150)], "failed", [Span("failed", 0, 100)]),
    ],
)
def test_spans(transitions: list[tuple[str, float]], current: str, expected: list[Span]) -> None:
    ts = [Transition("a.service", at(s), state) for state, s in transitions]
    ts.append(Transition("other.service", at(20), "failed"))
    spans = history_spans(["a.service"], ts, {"a.service": current}, T0, NOW)
    assert spans == {"a.service": expected}


def test_spans_keep_the_order_of_units() -> None:
    spans = history_spans(["b", "a"], [], {"a": "active", "b": "inactive"}, T0, NOW)
    assert list(spans) == ["b", "a"]


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg.split("\n", 2)[2])


def test_svg_has_a_row_per_unit_with_its_bars_an_axis_and_a_legend() -> None:
    names = ["a.service", 'x&<y>".service']
    ts = [Transition("a.service", at(10), "activating"), Transition("a.service", at(12), "active")]
    spans = history_spans(names, ts, {"a.service": "active", names[1]: "failed"}, T0, NOW)
    root = _parse(history_svg(spans, T0, NOW, "252"))
    rows = [g for g in root.iter(f"{SVG}g") if g.get("class") == "unit"]
    assert [g.get("data-unit") for g in rows] == names  # escaped, and read back
    assert [t.text for g in rows for t in g.iter(f"{SVG}text")] == names
    bars = [[(r.get("class"), r.get("data-start")) for r in g.iter(f"{SVG}rect")] for g in rows]
    assert bars == [
        [("activating", "10.000000"), ("active", "12.000000")],
        [("failed", "0.000000")],
    ]
    first = list(rows[0].iter(f"{SVG}rect"))
    assert float(first[0].get("x", "")) == pytest.approx(100.0)  # 1000 px for 100 s
    assert float(first[1].get("width", "")) == pytest.approx(880.0)
    ticks = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "sec"]
    assert ticks == [f"{s}s" for s in range(0, 101, 10)]
    legend = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "legend")
    assert [r.get("class") for r in legend.iter(f"{SVG}rect")] == list(STATES)
    style = "".join(root.itertext())
    for state in STATES:
        assert f"rect.{state} " in style


@pytest.mark.parametrize(
    ("seconds", "step"), [(5, 1), (30, 5), (100, 10), (3600, 300), (86400, 7200), (10**7, 10**6)]
)
def test_axis_ticks_are_round_and_about_ten(seconds: int, step: int) -> None:
    end = T0 + timedelta(seconds=seconds)
    root = _parse(history_svg({"a": [Span("active", 0, seconds)]}, T0, end))
    ticks = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "sec"]
    assert ticks[:2] == ["0s", f"{step}s"]
    assert 4 <= len(ticks) <= 13


def test_an_empty_range_still_draws() -> None:
    root = _parse(history_svg({"a": [Span("inactive", 0, 0)]}, T0, T0))
    assert [g.get("data-unit") for g in root.iter(f"{SVG}g") if g.get("class") == "unit"] == ["a"]
