"""The pure parts of sd.events(): patterns, filters, unit states, the coalescing queue.

Patterns are checked against glibc's own fnmatch(3) with FNM_NOESCAPE (what systemctl
calls), through ctypes: a differential test, not a table of our own beliefs.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import dataclasses
import itertools
from datetime import timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import sysd
from sysd._core.events import (
    EVENT_KINDS,
    GONE_KEEP,
    EventFilter,
    EventQueue,
    JobNew,
    JobRemoved,
    Overflow,
    Reloading,
    Resynced,
    UnitChanged,
    UnitStates,
    glob_regex,
    startup_finished,
)

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
FNM_NOESCAPE = 2


def glibc_fnmatch(pattern: str, name: str) -> bool:
    return _libc.fnmatch(pattern.encode(), name.encode(), FNM_NOESCAPE) == 0


NAMES = [
    "foo.service",
    "foo-bar.service",
    "foo@x.service",
    "foo@.service",
    "a\\x2db.service",
    "sys-devices-x.device",
    "]x.service",
    "!x.service",
    "^x.service",
    "-.mount",
    "x.socket",
    "xy.timer",
]
PATTERNS = [
    "foo*",
    "*.service",
    "foo?bar.service",
    "[fx]*",
    "[!f]*",
    "[^f]*",
    "[]]x.service",
    "[!]]*",
    "[a-f]oo*",
    "[z-a]*",
    "a\\x2db.service",
    "a\\*",
    "[-]*",
    "*[-.]mount",
    "*@*",
    "x[!.]*",
    "[!a-z]*",
]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_patterns_match_as_glibc_fnmatch_noescape(pattern: str) -> None:
    rx = glob_regex(pattern)
    for name in NAMES:
        assert (rx.fullmatch(name) is not None) == glibc_fnmatch(pattern, name), (pattern, name)


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet="ab.-[]!^*?\\@", min_size=1, max_size=8),
    st.text(alphabet="ab.-[]!^\\@", max_size=8),
)
def test_random_patterns_match_as_glibc(pattern: str, name: str) -> None:
    try:
        EventFilter(patterns=[pattern])
    except sysd.InvalidUnitNameError:
        assume(False)  # refused before any use (an unclosed "[", "[:alpha:]"...)
    assert (glob_regex(pattern).fullmatch(name) is not None) == glibc_fnmatch(pattern, name)


# ------------------------------------------------------------------- filters


def test_filter_by_units_patterns_types_kinds() -> None:
    f = EventFilter(units=["a.service"], patterns=["b*"], types=["service", "socket"])
    assert f.wants_unit("a.service") and f.wants_unit("b.socket")
    assert not f.wants_unit("b.timer") and not f.wants_unit("c.service")
    only = EventFilter(units="a.service")
    assert only.wants_path("/org/freedesktop/systemd1/unit/a_2eservice") is True
    assert only.wants_path("/org/freedesktop/systemd1/unit/b_2eservice") is False
    k = EventFilter(kinds=["JobRemoved", UnitChanged])
    assert k.wants(JobRemoved) and k.wants(UnitChanged) and not k.wants(JobNew)
    assert k.wants(Resynced) and k.wants(Overflow)  # about the stream itself: always
    assert k.wants_event(JobRemoved(1, "x.service", "done"))
    assert not k.wants_event(Reloading(True))
    assert EventFilter().all_units and not f.all_units


BAD = [
    ({"units": ["foo"]}, sysd.InvalidUnitNameError),
    ({"units": [""]}, sysd.InvalidUnitNameError),
    ({"units": [3]}, sysd.InvalidUnitNameError),
    ({"patterns": ["foo bar"]}, sysd.InvalidUnitNameError),
    ({"patterns": ["a/b*"]}, sysd.InvalidUnitNameError),
    ({"patterns": [""]}, sysd.InvalidUnitNameError),
    ({"patterns": ["x" * 256]}, sysd.InvalidUnitNameError),
    ({"patterns": [None]}, sysd.InvalidUnitNameError),
    ({"patterns": ["[[:alpha:]]*"]}, sysd.InvalidUnitNameError),
    ({"patterns": ["foo["]}, sysd.InvalidUnitNameError),
    ({"patterns": ["[a-"]}, sysd.InvalidUnitNameError),
    ({"types": ["services"]}, sysd.InvalidEventFilterError),
    ({"kinds": ["JobRemove"]}, sysd.InvalidEventFilterError),
    ({"kinds": [ValueError]}, sysd.InvalidEventFilterError),
    ({"kinds": 3}, sysd.InvalidEventFilterError),
]


@pytest.mark.parametrize(("kwargs", "error"), BAD)
def test_bad_filters_are_typed_value_errors(kwargs: dict, error: type[Exception]) -> None:  # type: ignore[type-arg]
    with pytest.raises(error) as info:
        EventFilter(**kwargs)
    assert isinstance(info.value, ValueError)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("size", [0, -1, True, 1.5, "8", None])
def test_bad_queue_sizes(size: object) -> None:
    with pytest.raises(sysd.InvalidEventFilterError):
        EventQueue(size)  # type: ignore[arg-type]


def test_every_kind_is_frozen_with_slots() -> None:
    for kind in EVENT_KINDS:
        assert dataclasses.is_dataclass(kind) and kind.__dataclass_params__.frozen  # type: ignore[attr-defined]
        assert "__slots__" in vars(kind)
    ev = UnitChanged("a.service", "active", "running", "loaded")
    with pytest.raises(dataclasses.FrozenInstanceError):
        ev.unit = "b.service"  # type: ignore[misc]
    assert hash(ev) == hash(UnitChanged("a.service", "active", "running", "loaded"))


def test_startup_finished_as_timedeltas() -> None:
    ev = startup_finished([0, 0, 1_000_000, 0, 2_500_000, 3_500_000])
    assert ev.kernel == timedelta(seconds=1) and ev.total == timedelta(seconds=3.5)
    assert ev.firmware is None and ev.initrd is None


# -------------------------------------------------------------------- states


def props(active: str, sub: str, load: str = "loaded", inv: bytes = b"\x01" * 16) -> dict:  # type: ignore[type-arg]
    return {"ActiveState": active, "SubState": sub, "LoadState": load, "InvocationID": inv}


def test_unit_states_report_only_real_changes_with_previous() -> None:
    s = UnitStates()
    first = s.update("a.service", props("inactive", "dead"))
    assert first is not None and first.previous is None
    assert s.update("a.service", props("inactive", "dead")) is None  # nothing changed
    s.note_result("a.service", {"Result": "exit-code"})
    ev = s.update("a.service", props("failed", "failed"))
    assert ev is not None and ev.previous == ("inactive", "dead", "loaded")
    assert ev.result == "exit-code" and ev.changed == {"active_state", "sub_state", "result"}
    assert ev.invocation_id == "01" * 16


def test_a_unit_loaded_again_as_it_was_left_is_no_change() -> None:
    s = UnitStates()
    s.seed("a.service", "active", "running", "loaded")
    assert s.update("a.service", props("inactive", "dead")) is not None
    s.remove("a.service")
    assert s.update("a.service", props("inactive", "dead", "not-found")) is None
    ev = s.update("a.service", props("active", "running"))
    assert ev is not None and ev.previous == ("inactive", "dead", "not-found")
    for i in range(GONE_KEEP + 10):
        s.seed(f"u{i}.service", "active", "running", "loaded")
        s.remove(f"u{i}.service")
    assert len(s.gone) == GONE_KEEP  # bounded


# --------------------------------------------------------------------- queue


def changed(unit: str, i: int) -> UnitChanged:
    return UnitChanged(
        unit,
        "active",
        f"s{i}",
        "loaded",
        ("active", f"s{i - 1}", "loaded"),
        changed=frozenset({"sub_state"}),
    )


def test_queue_coalesces_per_unit_keeping_the_newest_state() -> None:
    q = EventQueue(4)
    for i in range(1, 101):
        q.put(changed("a.service", i))
        q.put(changed("b.service", i))
    q.put(JobNew(1, "a.service"))
    out = []
    while q:
        out.append(q.get())
    assert isinstance(out[0], Overflow) and out[0].dropped > 0
    last = {e.unit: e for e in out if isinstance(e, UnitChanged)}
    assert last["a.service"].sub_state == "s100" and last["b.service"].sub_state == "s100"
    # the delivered chain still starts where the consumer last was
    a = [e for e in out if isinstance(e, UnitChanged) and e.unit == "a.service"]
    for before, after in itertools.pairwise(a):
        assert after.previous == before.state
    assert q.peak <= 4 + 2


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 9), st.booleans()), max_size=300), st.integers(1, 16))
def test_queue_bounded_and_newest_state_of_every_unit_kept(ops: list, size: int) -> None:  # type: ignore[type-arg]
    q = EventQueue(size)
    newest: dict[str, int] = {}
    total = 0
    for i, (unit_no, is_job) in enumerate(ops, 1):
        unit = f"u{unit_no}.service"
        if is_job:
            q.put(JobRemoved(i, unit, "done"))
        else:
            q.put(changed(unit, i))
            newest[unit] = i
        total += 1
        assert len(q._items) <= max(size, len(newest))  # bounded: queue, or one per unit
    delivered: dict[str, int] = {}
    count = dropped = 0
    while q:
        ev = q.get()
        if isinstance(ev, Overflow):
            dropped += ev.dropped
        else:
            count += 1
            if isinstance(ev, UnitChanged):
                delivered[ev.unit] = int(ev.sub_state[1:])
    assert delivered == newest
    assert count + dropped == total
