"""sysd._core.convert by table: the rules (property -> converter kind) and the converters."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Network, IPv6Network
from types import MappingProxyType
from typing import Any
from uuid import UUID

import pytest

from sysd._core import convert as cv
from sysd._core import schema
from sysd._core.convert import (
    CalendarTimer,
    ExecCommand,
    Field,
    MonotonicTimer,
    converter,
    kind_for,
    python_type,
    to_json,
)
from sysd._core.timespan import USEC_INFINITY

INF = 0xFFFFFFFFFFFFFFFF
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
US = timedelta(microseconds=1)

# ------------------------------------------------------------------------------ converters

CASES: list[tuple[str, Callable[[Any], Any], Any, Any]] = [
    # (label, converter, raw, expected)
    ("timestamp 0 is unset", cv.timestamp, 0, None),
    ("timestamp 1 µs", cv.timestamp, 1, EPOCH + US),
    (
        "timestamp, recorded ExecMainStartTimestamp",
        cv.timestamp,
        1795765960523807,
        datetime(2026, 11, 27, 7, 52, 40, 523807, tzinfo=UTC),
    ),
    ("timestamp infinity", cv.timestamp, USEC_INFINITY, None),
    ("timestamp past year 9999", cv.timestamp, 253402300800 * 10**6, None),
    (
        "timestamp last µs of 9999",
        cv.timestamp,
        253402300799999999,
        datetime.max.replace(tzinfo=UTC),
    ),
    ("monotonic 0 is unset", cv.monotonic, 0, None),
    ("monotonic", cv.monotonic, 1042168339, timedelta(seconds=1042, microseconds=168339)),
    ("monotonic infinity", cv.monotonic, INF, None),
    ("before_boot 0 is unset", cv.before_boot, 0, None),
    ("before_boot (FirmwareTimestampMonotonic)", cv.before_boot, 5_000_000, timedelta(seconds=-5)),
    ("before_boot infinity", cv.before_boot, INF, None),
    ("usec 0 is zero (WatchdogUSec off)", cv.usec, 0, timedelta(0)),
    ("usec 90 s (TimeoutStartUSec)", cv.usec, 90_000_000, timedelta(seconds=90)),
    ("usec infinity (RuntimeMaxUSec)", cv.usec, INF, None),
    ("usec largest finite", cv.usec, INF - 1, timedelta(microseconds=INF - 1)),
    ("nsec 50 µs (TimerSlackNSec)", cv.nsec, 50_000, timedelta(microseconds=50)),
    ("nsec truncates to µs", cv.nsec, 1_999, US),
    ("nsec below 1 µs", cv.nsec, 999, timedelta(0)),
    ("nsec infinity (CPUUsageNSec off)", cv.nsec, INF, None),
    ("seconds (LimitCPU)", cv.seconds, 60, timedelta(minutes=1)),
    ("seconds RLIM_INFINITY", cv.seconds, INF, None),
    ("bytes 0 (MemoryMin)", cv.CONVERTERS["bytes"], 0, 0),
    ("bytes (MemoryMax=1G)", cv.CONVERTERS["bytes"], 1 << 30, 1 << 30),
    ("bytes infinity (MemoryMax)", cv.CONVERTERS["bytes"], INF, None),
    ("bytes 2^64-2 is a value", cv.CONVERTERS["bytes"], INF - 1, INF - 1),
    ("count (TasksMax)", cv.CONVERTERS["count"], 28909, 28909),
    ("count unset (TasksCurrent)", cv.CONVERTERS["count"], INF, None),
    ("unset32 UID", cv.unset32, 61234, 61234),
    ("unset32 UID 0 is root", cv.unset32, 0, 0),
    ("unset32 unset", cv.unset32, 0xFFFFFFFF, None),
    ("unset16 TTYRows", cv.unset16, 24, 24),
    ("unset16 unset", cv.unset16, 0xFFFF, None),
    ("unset_negative LogLevelMax", cv.unset_negative, 6, 6),
    ("unset_negative 0", cv.unset_negative, 0, 0),
    ("unset_negative -1", cv.unset_negative, -1, None),
    ("pid", cv.pid, 39, 39),
    ("pid 0 is none", cv.pid, 0, None),
    ("uuid empty", cv.uuid, b"", None),
    ("uuid all zero", cv.uuid, bytes(16), None),
    (
        "uuid",
        cv.uuid,
        bytes.fromhex("073b7130574b45cbb0e276653dab5289"),
        UUID("073b7130-574b-45cb-b0e2-76653dab5289"),
    ),
    ("uuid wrong length", cv.uuid, b"\x01\x02", None),
    ("job_ref none", cv.job_ref, (0, "/"), None),
    (
        "job_ref",
        cv.job_ref,
        (7, "/org/freedesktop/systemd1/job/7"),
        (7, "/org/freedesktop/systemd1/job/7"),
    ),
    ("load_error none", cv.load_error, ("", ""), None),
    (
        "load_error",
        cv.load_error,
        ("org.freedesktop.systemd1.NoSuchUnit", "Unit x.service not found."),
        ("org.freedesktop.systemd1.NoSuchUnit", "Unit x.service not found."),
    ),
    ("cpu_set empty", cv.cpu_set, b"", frozenset()),
    ("cpu_set 0-3", cv.cpu_set, b"\x0f", frozenset({0, 1, 2, 3})),
    ("cpu_set 8", cv.cpu_set, b"\x00\x01", frozenset({8})),
    ("cpu_set 0,7", cv.cpu_set, b"\x81", frozenset({0, 7})),
    ("cpu_set 0,15", cv.cpu_set, b"\x01\x80", frozenset({0, 15})),
    ("ip_prefixes none", cv.ip_prefixes, [], ()),
    (
        "ip_prefixes v4 and v6",
        cv.ip_prefixes,
        [(2, b"\x7f\x00\x00\x01", 8), (10, bytes(15) + b"\x01", 128), (2, b"\x0a\x01\x02\x03", 16)],
        (IPv4Network("127.0.0.0/8"), IPv6Network("::1/128"), IPv4Network("10.1.0.0/16")),
    ),
    (
        "device_usec",
        cv.device_usec,
        [("/dev/sda", 25_000), ("/dev/sdb", INF)],
        (("/dev/sda", timedelta(milliseconds=25)), ("/dev/sdb", None)),
    ),
    (
        "timers_monotonic (recorded systemd-tmpfiles-clean.timer)",
        cv.timers_monotonic,
        [("OnUnitActiveUSec", 86400000000, 0), ("OnBootUSec", 900000000, 2398420303)],
        (
            MonotonicTimer("OnUnitActiveUSec", timedelta(days=1), None),
            MonotonicTimer("OnBootUSec", timedelta(minutes=15), 2398420303 * US),
        ),
    ),
    (
        "timers_calendar",
        cv.timers_calendar,
        [("OnCalendar", "*-*-* 00:00:00", 1795824000000000), ("OnCalendar", "weekly", 0)],
        (
            CalendarTimer("OnCalendar", "*-*-* 00:00:00", datetime(2026, 11, 28, tzinfo=UTC)),
            CalendarTimer("OnCalendar", "weekly", None),
        ),
    ),
]


@pytest.mark.parametrize(
    ("func", "raw", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_converter(func: Callable[[Any], Any], raw: Any, expected: Any) -> None:
    got = func(raw)
    assert got == expected
    assert type(got) is type(expected)
    if isinstance(got, datetime):
        assert got.tzinfo is UTC


EXEC_RAW = ("/bin/sh", ["/bin/sh", "-c", "exit 3"])
EXEC_TIMES = (1795766417126860, 1498771392, 1795766417128563, 1498773095, 64, 1, 3)


def test_exec_commands_plain_and_ex() -> None:
    plain = cv.exec_commands([(*EXEC_RAW, True, *EXEC_TIMES)])
    ex = cv.exec_commands([(*EXEC_RAW, ["ignore-failure", "no-env-expand"], *EXEC_TIMES)])
    expected = ExecCommand(
        "/bin/sh",
        ("/bin/sh", "-c", "exit 3"),
        ("ignore-failure",),
        EPOCH + 1795766417126860 * US,
        1498771392 * US,
        EPOCH + 1795766417128563 * US,
        1498773095 * US,
        64,
        1,
        3,
    )
    assert plain == (expected,)
    assert ex == (expected._replace(flags=("ignore-failure", "no-env-expand")),)
    assert plain[0].ignore_failure and ex[0].ignore_failure
    never_ran = cv.exec_commands([("/bin/true", ["/bin/true"], False, 0, 0, 0, 0, 0, 0, 0)])
    assert never_ran == (
        ExecCommand("/bin/true", ("/bin/true",), (), None, None, None, None, None, 0, 0),
    )
    assert not never_ran[0].ignore_failure
    assert cv.exec_commands([]) == ()


# ------------------------------------------------------------------------- freeze, types

FREEZE = [
    ("s", "x", "x"),
    ("ay", b"\x00", b"\x00"),
    ("as", ["a", "b"], ("a", "b")),
    ("a(ss)", [("a", "b")], (("a", "b"),)),
    ("(bas)", (True, ["x"]), (True, ("x",))),
    ("(aiai)", ([1, 2], [15]), ((1, 2), (15,))),
    ("aay", [b"A=1", b"B=2"], (b"A=1", b"B=2")),
    ("a(sba(ss))", [("/img", False, [("root", "ro")])], (("/img", False, (("root", "ro"),)),)),
    ("a{sv}", {"a": [1]}, MappingProxyType({"a": [1]})),
    ("a{sas}", {"a": ["x"]}, MappingProxyType({"a": ("x",)})),
]


@pytest.mark.parametrize(("signature", "raw", "expected"), FREEZE, ids=[f[0] for f in FREEZE])
def test_freeze(signature: str, raw: Any, expected: Any) -> None:
    got = converter("freeze", signature)(raw)
    assert got == expected
    assert type(got) is type(expected)


TYPES = [
    ("raw", "s", "str"),
    ("raw", "b", "bool"),
    ("raw", "d", "float"),
    ("raw", "y", "int"),
    ("raw", "o", "str"),
    ("raw", "ay", "bytes"),
    ("freeze", "as", "tuple[str, ...]"),
    ("freeze", "(bas)", "tuple[bool, tuple[str, ...]]"),
    (
        "freeze",
        "a(sasbttttuii)",
        "tuple[tuple[str, tuple[str, ...], bool, int, int, int, int, int, int, int], ...]",
    ),
    ("freeze", "a{sv}", "Mapping[str, Any]"),
    ("freeze", "aay", "tuple[bytes, ...]"),
    ("timestamp", "t", "datetime | None"),
    ("usec", "t", "timedelta | None"),
    ("cpu_set", "ay", "frozenset[int]"),
    ("exec_commands", "a(sasbttttuii)", "tuple[ExecCommand, ...]"),
]


@pytest.mark.parametrize(("kind", "signature", "expected"), TYPES)
def test_python_type(kind: str, signature: str, expected: str) -> None:
    assert python_type(kind, signature) == expected


def test_python_type_refuses_two_types() -> None:
    with pytest.raises(ValueError):
        python_type("raw", "ss")


def test_converter_is_cached_and_unknown_kinds_freeze() -> None:
    assert converter("usec", "t") is converter("usec", "t") is cv.usec
    assert converter("raw", "s") is cv.raw
    assert converter("kind-from-the-future", "as")(["a"]) == ("a",)
    assert converter("kind-from-the-future", "t")(5) == 5


# ------------------------------------------------------------------------------ the rules

RULES = [
    # (property, signature, kind): each rule of kind_for, with the properties it names
    ("LastTriggerUSec", "t", "timestamp"),
    ("NextElapseUSecRealtime", "t", "timestamp"),
    ("LastTriggerUSecMonotonic", "t", "monotonic"),
    ("NextElapseUSecMonotonic", "t", "monotonic"),
    ("LimitCPU", "t", "seconds"),
    ("DefaultLimitCPUSoft", "t", "seconds"),
    ("LimitRTTIME", "t", "usec"),
    ("DefaultLimitRTTIMESoft", "t", "usec"),
    ("CapabilityBoundingSet", "t", "raw"),
    ("AmbientCapabilities", "t", "raw"),
    ("RestrictNamespaces", "t", "raw"),
    ("MountFlags", "t", "raw"),
    ("CoredumpFilter", "t", "raw"),
    ("ControlGroupId", "t", "raw"),
    ("MainPID", "u", "pid"),
    ("ControlPID", "u", "pid"),
    ("ExecMainPID", "u", "pid"),
    ("UID", "u", "unset32"),
    ("GID", "u", "unset32"),
    ("TTYRows", "q", "unset16"),
    ("TTYColumns", "q", "unset16"),
    ("LogLevelMax", "i", "unset_negative"),
    ("NUMAPolicy", "i", "unset_negative"),
    ("InvocationID", "ay", "uuid"),
    ("Job", "(uo)", "job_ref"),
    ("LoadError", "(ss)", "load_error"),
    ("IPAddressAllow", "a(iayu)", "ip_prefixes"),
    ("IODeviceLatencyTargetUSec", "a(st)", "device_usec"),
    ("TimersMonotonic", "a(stt)", "timers_monotonic"),
    ("TimersCalendar", "a(sst)", "timers_calendar"),
    ("CPUAffinity", "ay", "cpu_set"),
    ("EffectiveMemoryNodes", "ay", "cpu_set"),
    # rule 2: time by name
    ("ExecMainStartTimestamp", "t", "timestamp"),
    ("ExecMainStartTimestampMonotonic", "t", "monotonic"),
    ("FirmwareTimestampMonotonic", "t", "before_boot"),
    ("LoaderTimestampMonotonic", "t", "before_boot"),
    ("KernelTimestampMonotonic", "t", "usec"),
    ("InitRDTimestampMonotonic", "t", "monotonic"),
    ("TimeoutStartUSec", "t", "usec"),
    ("CPUQuotaPerSecUSec", "t", "usec"),
    ("CPUUsageNSec", "t", "nsec"),
    ("TimerSlackNSec", "t", "nsec"),
    # rule 3: bytes
    ("IOReadBytes", "t", "bytes"),
    ("IPEgressBytes", "t", "bytes"),
    ("MemoryCurrent", "t", "bytes"),
    ("MemoryAvailable", "t", "bytes"),
    ("DefaultMemoryLow", "t", "bytes"),
    ("LimitFSIZE", "t", "bytes"),
    ("DefaultLimitMSGQUEUESoft", "t", "bytes"),
    ("ReceiveBuffer", "t", "bytes"),
    ("PipeSize", "t", "bytes"),
    # rule 4: counts
    ("TasksMax", "t", "count"),
    ("TasksCurrent", "t", "count"),
    ("DefaultTasksMax", "t", "count"),
    ("IPIngressPackets", "t", "count"),
    ("IOWriteOperations", "t", "count"),
    ("CPUWeight", "t", "count"),
    ("StartupBlockIOWeight", "t", "count"),
    ("CPUShares", "t", "count"),
    ("LimitNOFILE", "t", "count"),
    ("DefaultLimitNICESoft", "t", "count"),
    # rule 5 and 6
    ("ExecStart", "a(sasbttttuii)", "exec_commands"),
    ("ExecStartEx", "a(sasasttttuii)", "exec_commands"),
    ("Names", "as", "freeze"),
    ("SELinuxContext", "(bs)", "freeze"),
    ("ActiveState", "s", "raw"),
    ("NRestarts", "u", "raw"),
    ("RootHash", "ay", "raw"),
    ("Progress", "d", "raw"),
    # a rule names a signature: another signature falls through (Job.Id is no job_ref)
    ("Job", "u", "raw"),
    ("MainPID", "t", "raw"),
    ("InvocationID", "s", "raw"),
    # names a newer systemd may add follow the same patterns; unknown "t" stays raw
    ("SomeNewThingUSec", "t", "usec"),
    ("SomeNewTimestamp", "t", "timestamp"),
    ("SomeNewMask", "t", "raw"),
]


@pytest.mark.parametrize(
    ("name", "signature", "kind"), RULES, ids=[f"{r[0]}:{r[1]}" for r in RULES]
)
def test_kind_for(name: str, signature: str, kind: str) -> None:
    assert kind_for(name, signature) == kind


def test_schema_kinds_are_the_rules() -> None:
    """schema.py records kind_for's answer for every property, and every kind is known."""
    for iface in schema.INTERFACES.values():
        for prop in iface.properties:
            assert prop.kind == kind_for(prop.name, prop.signature), prop
            assert prop.kind in cv.CONVERTERS or prop.kind == "freeze", prop


def test_every_kind_has_a_type() -> None:
    assert set(cv.KIND_TYPES) == set(cv.CONVERTERS) - {"raw"}


# ------------------------------------------------------------------------------------ Field


class _Thing:
    _SOURCE = "_type_props"
    max_age: Field[timedelta | None] = Field("MaxAgeUSec", "t", "usec")
    name: Field[str] = Field("Name", "s", "raw", "")

    def __init__(self, props: dict[str, Any]) -> None:
        self._props: dict[str, Any] = {}
        self._type_props = props


def test_field_converts_once_and_caches() -> None:
    calls: list[Any] = []
    field = _Thing.__dict__["max_age"]
    real = field.convert

    def spy(value: Any) -> Any:
        calls.append(value)
        return real(value)

    field.convert = spy
    try:
        thing = _Thing({"MaxAgeUSec": 1_500_000})
        assert thing.max_age == timedelta(seconds=1.5)
        assert thing.max_age == timedelta(seconds=1.5)
        assert calls == [1_500_000]
        assert thing.__dict__["max_age"] == timedelta(seconds=1.5)
    finally:
        field.convert = real


def test_field_missing_and_misshapen_give_the_default() -> None:
    assert _Thing({}).max_age is None
    assert _Thing({}).name == ""
    assert _Thing({"MaxAgeUSec": "not a number"}).max_age is None
    assert _Thing({"Name": "x"}).name == "x"


def test_field_on_the_class_is_the_descriptor() -> None:
    field = _Thing.max_age
    assert isinstance(field, Field)
    assert (field.dbus_name, field.signature, field.kind, field.name) == (
        "MaxAgeUSec",
        "t",
        "usec",
        "max_age",
    )
    assert field.source == "_type_props"
    assert repr(field) == "<Field max_age = MaxAgeUSec (t, usec)>"


# ------------------------------------------------------------------------------------- JSON

JSON: list[tuple[Any, Any]] = [
    (None, None),
    ("active", "active"),
    (3, 3),
    (True, True),
    (0.5, 0.5),
    (datetime(2026, 11, 27, 7, 12, 40, 523807, tzinfo=UTC), "2026-11-27T07:12:40.523807+00:00"),
    (timedelta(seconds=90, microseconds=5), 90.000005),
    (UUID("073b7130-574b-45cb-b0e2-76653dab5289"), "073b7130574b45cbb0e276653dab5289"),
    (b"\x00\xff", "AP8="),
    (IPv6Network("::1/128"), "::1/128"),
    (frozenset({3, 1, 2}), [1, 2, 3]),
    (("a", ("b", 1)), ["a", ["b", 1]]),
    (
        MonotonicTimer("OnBootUSec", timedelta(minutes=15), None),
        {"base": "OnBootUSec", "value": 900.0, "next_elapse": None},
    ),
    (MappingProxyType({"a": (1,)}), {"a": [1]}),
]


@pytest.mark.parametrize(("value", "expected"), JSON, ids=[type(j[0]).__name__ for j in JSON])
def test_to_json(value: Any, expected: Any) -> None:
    got = to_json(value)
    assert got == expected
    json.dumps(got)
