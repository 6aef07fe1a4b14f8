"""sysd.journal without journald: output formats, field checks, the native protocol payload,
timestamps, the logging handler and the journal file header checks.

The formats are compared with journalctl itself in tests/systemd/test_journal.py; here the
expected bytes follow logs-show.c line by line (TZ=UTC).
"""

from __future__ import annotations

import array
import errno
import fcntl
import logging
import os
import pickle
import socket
import struct
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import sysd.journal
from sysd.errors import SysdError
from sysd.journal import (
    Entry,
    Formatter,
    InvalidJournalFieldError,
    InvalidTimestampError,
    JournalCorruptError,
    JournalError,
    JournalHandler,
    JournalNotFoundError,
    JournalPermissionError,
    LibsystemdNotFoundError,
    _files,
    _format,
    _query,
    _writer,
    parse_timestamp,
    priority_for_level,
    unit_matches,
)

# 2023-11-14 22:13:20.123456 UTC, a Tuesday
T = 1_700_000_000_123_456
BOOT = bytes.fromhex("82d79e940d3444c3bc5fe1985bbaf31a")
CURSOR = "s=0e88;i=45;b=82d7;m=eb36;t=6613;x=7fbd"


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def entry(*items: bytes, realtime: int = T, monotonic: int = 12_345_678) -> Entry:
    return Entry(list(items), realtime, monotonic, BOOT, CURSOR)


BASIC = (b"_HOSTNAME=box", b"SYSLOG_IDENTIFIER=app", b"_PID=42", b"MESSAGE=hello")


# ------------------------------------------------------------------------------ Entry


def test_entry_is_a_read_only_mapping_decoded_on_access() -> None:
    e = entry(b"MESSAGE=h\xc3\xa9", b"BIN=\xff\x00", b"X=1", b"X=2", b"EMPTY=", b"EQ=a=b")
    assert e["MESSAGE"] == "hé"
    assert e["BIN"] == b"\xff\x00"
    assert e["X"] == "1" and e.getall("X") == ["1", "2"]
    assert e["EMPTY"] == "" and e["EQ"] == "a=b"
    assert list(e) == ["MESSAGE", "BIN", "X", "EMPTY", "EQ"]
    assert len(e) == 5 and "X" in e and "Y" not in e
    assert dict(e.items()) == e.as_dict() == {
        "MESSAGE": "hé", "BIN": b"\xff\x00", "X": "1", "EMPTY": "", "EQ": "a=b",
    }  # fmt: skip
    assert list(e.values()) == ["hé", b"\xff\x00", "1", "", "a=b"]
    assert e.get("NOPE", 7) == 7 and e.get("BIN") == b"\xff\x00"
    assert e.raw("MESSAGE") == "hé".encode()
    assert e.getall("NOPE") == []
    assert e.data == [b"MESSAGE=h\xc3\xa9", b"BIN=\xff\x00", b"X=1", b"X=2", b"EMPTY=", b"EQ=a=b"]
    with pytest.raises(KeyError):
        e["NOPE"]
    with pytest.raises(TypeError):
        e["X"] = "3"  # type: ignore[index]


def test_entry_attributes() -> None:
    e = entry(
        b"MESSAGE=hi", b"PRIORITY=3", b"_SYSTEMD_UNIT=a.service",
        b"_SYSTEMD_USER_UNIT=b.service", b"SYSLOG_IDENTIFIER=app", b"_PID=9",
    )  # fmt: skip
    assert e.message == "hi" and e.priority == 3 and e.unit == "a.service"
    assert e.user_unit == "b.service" and e.identifier == "app" and e.pid == 9
    assert e.timestamp.isoformat() == "2023-11-14T22:13:20.123456+00:00"
    assert e.timestamp.tzinfo is not None
    assert e.monotonic.total_seconds() == pytest.approx(12.345678)
    assert e.boot_id == BOOT.hex() and e.cursor == CURSOR
    assert e.realtime_usec == T and e.monotonic_usec == 12_345_678
    bare = Entry([b"PRIORITY=x"], 1, 1, BOOT, b"s=1")
    assert bare.message is None and bare.priority is None and bare.unit is None
    assert bare.pid is None and bare.user_unit is None and bare.identifier is None
    assert bare.cursor == "s=1"
    assert "Entry" in repr(e) and "hi" in repr(e)
    assert "..." in repr(entry(b"MESSAGE=" + b"x" * 100))
    back = pickle.loads(pickle.dumps(e))
    assert back == e and back.cursor == e.cursor and back.timestamp == e.timestamp


def test_the_address_comes_from_the_cursor_when_not_given() -> None:
    cursor = f"s=ab;i=2a;b={BOOT.hex()};m={12_345_678:x};t={T:x};x=f00".encode()
    e = Entry([b"MESSAGE=m"], cursor=cursor)
    assert (e.realtime_usec, e.monotonic_usec, e.boot_id) == (T, 12_345_678, BOOT.hex())
    assert e.cursor == cursor.decode()
    given = Entry([b"MESSAGE=m"], 5, 6, bytes(16), cursor)
    assert (given.realtime_usec, given.monotonic_usec) == (5, 6)
    for bad in (None, b"garbage", b"t=zz;m=1;b=00", b"t=1;m=1;b=00"):
        odd = Entry([b"MESSAGE=m"], cursor=bad)
        assert (odd.realtime_usec, odd.monotonic_usec, odd.boot_id) == (0, 0, "0" * 32)
    assert pickle.loads(pickle.dumps(e)).timestamp == e.timestamp


# ---------------------------------------------------------------------------- short


@pytest.mark.parametrize(
    ("mode", "stamp"),
    [
        ("short", b"Nov 14 22:13:20"),
        ("short-precise", b"Nov 14 22:13:20.123456"),
        ("short-iso", b"2023-11-14T22:13:20+0000"),
        ("short-iso-precise", b"2023-11-14T22:13:20.123456+0000"),
        ("short-unix", b"1700000000.123456"),
        ("short-full", b"Tue 2023-11-14 22:13:20 UTC"),
        ("short-monotonic", b"[   12.345678]"),
    ],
)
def test_short_family_timestamps(mode: str, stamp: bytes) -> None:
    assert Formatter(mode)(entry(*BASIC)) == stamp + b" box app[42]: hello\n"


def test_short_prefers_the_source_timestamp() -> None:
    e = entry(*BASIC, b"_SOURCE_REALTIME_TIMESTAMP=1600000000000000")
    assert Formatter("short-unix")(e).startswith(b"1600000000.000000 ")
    bad = entry(*BASIC, b"_SOURCE_REALTIME_TIMESTAMP=nope")
    assert Formatter("short-unix")(bad).startswith(b"1700000000.123456 ")
    mono = entry(*BASIC, b"_SOURCE_MONOTONIC_TIMESTAMP=0x10")
    assert Formatter("short-monotonic")(mono).startswith(b"[    0.000016]")


def test_short_delta() -> None:
    f = Formatter("short-delta")
    assert f(entry(*BASIC, monotonic=1_000_000)).startswith(b"[    1.000000" + b" " * 16 + b"]")
    assert f(entry(*BASIC, monotonic=3_500_000)).startswith(b"[    3.500000 <    2.500000 >]")


@pytest.mark.parametrize(
    ("fields", "who"),
    [
        ((b"SYSLOG_IDENTIFIER=app", b"_COMM=comm", b"_PID=1"), b" app[1]"),
        ((b"_COMM=comm", b"SYSLOG_PID=5"), b" comm[5]"),
        ((b"_PID=1", b"SYSLOG_PID=5"), b" unknown[1]"),
        ((), b" unknown"),
        ((b"SYSLOG_IDENTIFIER=" + b"x" * 300, b"_COMM=c"), b" c"),
        ((b"SYSLOG_IDENTIFIER=\x01", b"_COMM=c"), b" c"),
        ((b"SYSLOG_IDENTIFIER=a", b"SYSLOG_IDENTIFIER=b"), b" b"),  # parse_fieldv: last wins
    ],
)
def test_short_identifier_and_pid(fields: tuple[bytes, ...], who: bytes) -> None:
    assert Formatter("short")(entry(*fields, b"MESSAGE=m")) == b"Nov 14 22:13:20" + who + b": m\n"


def test_short_message_shapes() -> None:
    f = Formatter("short")
    head = b"Nov 14 22:13:20 box app[42]: "
    base = BASIC[:3]
    indent = b" " * len(head)
    assert f(entry(*base, b"MESSAGE=a\nb\n\nc\n")) == head + b"a\n" + indent + b"b\n" + indent + (
        b"\n" + indent + b"c\n"
    )
    assert f(entry(*base, b"MESSAGE=")) == head + b"\n"
    assert f(entry(*base, b"MESSAGE=\xff\xfe")) == head + b"[2B blob data]\n"
    assert f(entry(*base, b"MESSAGE=a\x07")) == head + b"[2B blob data]\n"
    assert f(entry(*base, b"MESSAGE=t\tx\x1b[31mred\x1b[0m\r")) == head + b"t        xred\n"
    assert f(entry(*base)) == b""  # no MESSAGE: skipped
    assert Formatter("short", show_all=True)(entry(*base, b"MESSAGE=\xff")) == head + b"\xff\n"
    long = b"x" * 5000
    assert f(entry(*base, b"MESSAGE=" + long)) == head + long + b"\n"
    assert f(entry(b"_HOSTNAME=" + b"h" * 300, b"MESSAGE=m")) == b"Nov 14 22:13:20 unknown: m\n"
    assert (
        Formatter("short", no_hostname=True)(entry(*BASIC)) == b"Nov 14 22:13:20 app[42]: hello\n"
    )


def test_with_unit() -> None:
    e = entry(b"_SYSTEMD_UNIT=a.service", b"_SYSTEMD_USER_UNIT=u.service", *BASIC)
    assert (
        Formatter("with-unit")(e)
        == b"Tue 2023-11-14 22:13:20 UTC box a.service/u.service[42]: hello\n"
    )
    assert (
        Formatter("with-unit")(entry(*BASIC)) == b"Tue 2023-11-14 22:13:20 UTC box app[42]: hello\n"
    )


def test_short_colors_by_priority_and_highlight() -> None:
    f = Formatter("short", color=True)
    red = entry(*BASIC, b"PRIORITY=3")
    assert f(red).endswith(b": \x1b[0;1;31mhello\x1b[0m\n")
    assert f(entry(*BASIC, b"PRIORITY=4")).endswith(b": \x1b[0;1;38;5;185mhello\x1b[0m\n")
    assert f(entry(*BASIC, b"PRIORITY=7")).endswith(b": \x1b[0;38;5;245mhello\x1b[0m\n")
    assert f(entry(*BASIC)).endswith(b": hello\n")
    assert f(entry(*BASIC, b"_TRANSPORT=audit")).endswith(b": \x1b[0;34mhello\x1b[0m\n")
    high = f(red, highlight=(1, 3))
    assert high.endswith(b": \x1b[0;1;31mh\x1b[0;1;39mel\x1b[0;1;31mlo\x1b[0m\n")


def test_short_ellipsizes_when_not_full() -> None:
    f = Formatter("short", full=False, columns=40)
    head = b"Nov 14 22:13:20 box app[42]: "  # 29 columns
    assert f(entry(*BASIC[:3], b"MESSAGE=short")) == head + b"short\n"
    out = f(entry(*BASIC[:3], b"MESSAGE=" + b"0123456789" * 3))
    assert out == head + b"012345678\xe2\x80\xa69\n" and f.ellipsized
    three = f(entry(*BASIC[:3], b"MESSAGE=a\nb\nc\nd"))
    assert three == head + b"a\n" + b" " * 29 + b"b\n" + b" " * 29 + b"c...\n"
    assert Formatter("short", full=False, columns=20)(entry(*BASIC)) == head + b"...\n"


def test_ellipsize_mem() -> None:
    assert _format.ellipsize_mem(b"abcdefghij", 5, 50) == "ab…ij".encode()
    assert _format.ellipsize_mem(b"abcdefghij", 5, 50, utf8=False) == b"a...j"
    assert _format.ellipsize_mem(b"abc", 5, 50) == b"abc"
    assert _format.ellipsize_mem(b"abc", 0, 50) == b""
    assert _format.ellipsize_mem(b"abcdef", 1, 50) == "…".encode()
    assert _format.ellipsize_mem(b"abcdef", 1, 50, utf8=False) == b"."
    assert _format.ellipsize_mem(b"abcdef", 2, 50, utf8=False) == b".."
    assert _format.ellipsize_mem("héllo wörld".encode(), 6, 50) == "hé…rld".encode()
    assert _format.ellipsize_mem("日本語テキスト".encode(), 6, 50) == "日…ト".encode()
    assert _format.ellipsize_mem("héllo".encode(), 9, 50) == "héllo".encode()


def test_strip_tab_ansi_moves_the_highlight() -> None:
    span = [3, 5]
    assert _format.strip_tab_ansi(b"\ta\x1b[1mbcd", span) == b"        abcd"
    assert span == [10, 12]
    assert _format.strip_tab_ansi(b"a\x1b]8;;http://x\x07b") == b"ab"
    assert _format.strip_tab_ansi(b"a\x1b[1;2x") == b"a\x1b[1;2x"
    assert _format.strip_tab_ansi(b"a\x1b") == b"a\x1b"
    assert _format.strip_tab_ansi(b"a\x1bQb") == b"a\x1bQb"
    assert _format.strip_tab_ansi(b"a\r\r\nb\rc\r") == b"a\nb\rc"
    assert _format.strip_tab_ansi(b"a\x1b]\x01") == b"a\x1b]\x01"
    assert _format.strip_tab_ansi(b"plain") == b"plain"


def test_is_printable_and_format_bytes() -> None:
    assert _format.is_printable(b"tab\tnewline\n")
    assert not _format.is_printable(b"nl\n", newline=False)
    for bad in (b"\x00", b"\x7f", "\u0085".encode(), "\ufdd0".encode(), "\U0001ffff".encode(),
                b"\xff", b"\xc3"):  # fmt: skip
        assert not _format.is_printable(bad), bad
    assert _format.is_printable("ünïcödé ✓".encode())
    assert [_format.format_bytes(n) for n in (0, 1023, 1024, 1536, 10 * 2**20, 3 * 2**40)] == [
        "0B", "1023B", "1.0K", "1.5K", "10.0M", "3.0T",
    ]  # fmt: skip


def test_safe_atou64() -> None:
    a = _format._safe_atou64
    assert [a(b"12"), a(b" 12"), a(b"0x10"), a(b"010"), a(b"0b11"), a(b"0o7"), a(b"+5")] == [
        12, 12, 16, 8, 3, 7, 5,
    ]  # fmt: skip
    assert [a(b""), a(b"-1"), a(b"1x"), a(b"18446744073709551616"), a(b"08")] == [None] * 5
    assert a(b"-0") == 0


def test_unformattable_timestamps_raise_value_error() -> None:
    with pytest.raises(ValueError, match="realtime"):
        Formatter("short")(entry(*BASIC, realtime=0))
    with pytest.raises(ValueError, match="monotonic"):
        Formatter("short-monotonic")(entry(*BASIC, monotonic=1 << 60))
    with pytest.raises(ValueError, match="unknown output mode"):
        Formatter("nope")
    assert _format.format_timestamp(0) is None
    assert _format.format_timestamp(253_402_300_800 * 10**6) == "--- XXXX-XX-XX XX:XX:XX"


# ---------------------------------------------------------------------- export, json


def test_export() -> None:
    e = entry(b"_BOOT_ID=" + BOOT.hex().encode(), b"MESSAGE=a\nb", b"BIN=\xff", b"OK=x\ty")
    assert Formatter("export")(e) == (
        f"__CURSOR={CURSOR}\n__REALTIME_TIMESTAMP={T}\n__MONOTONIC_TIMESTAMP=12345678\n"
        f"_BOOT_ID={BOOT.hex()}\n".encode()
        + b"MESSAGE\n" + struct.pack("<Q", 3) + b"a\nb\n"
        + b"BIN\n" + struct.pack("<Q", 1) + b"\xff\n"
        + b"OK=x\ty\n\n"
    )  # fmt: skip


def test_json_values() -> None:
    e = entry(
        b"MESSAGE=quote\" back\\ nl\n tab\t \xc3\xa9", b"BIN=\x00\xff", b"X=1", b"X=\x01",
        b"BIG=" + b"b" * 4092, b"EDGE=" + b"e" * 4090,
    )  # fmt: skip
    line = Formatter("json")(e)
    assert line == (
        b'{"__CURSOR":"' + CURSOR.encode() + b'","__REALTIME_TIMESTAMP":"' + str(T).encode()
        + b'","__MONOTONIC_TIMESTAMP":"12345678","_BOOT_ID":"' + BOOT.hex().encode() + b'",'
        b'"MESSAGE":"quote\\" back\\\\ nl\\n tab\\t \xc3\xa9","BIN":[0,255],"X":["1",[1]],'
        b'"BIG":null,"EDGE":"' + b"e" * 4090 + b'"}\n'
    )  # fmt: skip
    assert Formatter("json", show_all=True)(e).count(b"b" * 4092) == 1
    sse = Formatter("json-sse")(e)
    assert sse.startswith(b'data: {"__CURSOR"') and sse.endswith(b"}\n\n")
    seq = Formatter("json-seq")(e)
    assert seq.startswith(b'\x1e{"__CURSOR"') and seq.endswith(b"}\n")


def test_json_pretty() -> None:
    out = Formatter("json-pretty")(entry(b"A=1", b"B=\xff", b"C=x", b"C=\xfe"))
    assert out.endswith(
        b'\t"A" : "1",\n\t"B" : [\n\t\t255\n\t],\n'
        b'\t"C" : [\n\t\t"x",\n\t\t[\n\t\t\t254\n\t\t]\n\t]\n}\n'
    )
    assert out.startswith(b'{\n\t"__CURSOR" : "')


def test_cat_and_verbose() -> None:
    assert Formatter("cat")(entry(b"MESSAGE=one", b"MESSAGE=two")) == b"one\n"
    assert Formatter("cat")(entry(b"X=1")) == b""
    colored = Formatter("cat", color=True)
    assert colored(entry(b"MESSAGE=m", b"PRIORITY=2")) == b"\x1b[0;1;31mm\x1b[0m\n"
    assert colored(entry(b"MESSAGE=abc", b"PRIORITY=3"), highlight=(1, 2)) == (
        b"\x1b[0;1;31ma\x1b[0;1;39mb\x1b[0;1;31mc\x1b[0m\n"
    )
    verbose = Formatter("verbose")(entry(b"MESSAGE=a\nb", b"BIN=\xff", b"OK=1"))
    assert verbose == (
        f"Tue 2023-11-14 22:13:20.123456 UTC [{CURSOR}]\n".encode()
        + b"    MESSAGE=a\n            b\n    BIN=[1B blob data]\n    OK=1\n"
    )


# ------------------------------------------------------------------- fields, queries


@pytest.mark.parametrize(
    ("name", "valid", "protected_ok"),
    [
        ("MESSAGE", True, True), ("_PID", True, False), ("A1_B", True, True),
        ("1A", False, False), ("", False, False), ("a", False, False), ("A-B", False, False),
        ("X" * 64, True, True), ("X" * 65, False, False), ("ÄB", False, False),
    ],
)  # fmt: skip
def test_field_valid(name: str, valid: bool, protected_ok: bool) -> None:
    assert _query.field_valid(name) is valid
    assert _query.field_valid(name, allow_protected=False) is (valid and protected_ok)


def test_unit_matches_are_journalctls() -> None:
    assert unit_matches("a.service", user=False) == [
        "_SYSTEMD_UNIT=a.service",
        "+", "MESSAGE_ID=fc2e22bc6ee647b6b90729ab34a250b1", "_UID=0", "COREDUMP_UNIT=a.service",
        "+", "_PID=1", "UNIT=a.service",
        "+", "_UID=0", "OBJECT_SYSTEMD_UNIT=a.service",
    ]  # fmt: skip
    assert unit_matches("s.slice", user=False)[-2:] == ["+", "_SYSTEMD_SLICE=s.slice"]
    user = unit_matches("u.service", user=True, uid=1000)
    assert user[:2] == ["_SYSTEMD_USER_UNIT=u.service", "_UID=1000"]
    assert user.count("+") == 3 and user.count("_UID=0") == 2
    assert unit_matches("u.slice", user=True, uid=7)[-3:] == [
        "+", "_SYSTEMD_USER_SLICE=u.slice", "_UID=7",
    ]  # fmt: skip
    assert unit_matches("x.service", user=True)[1] == f"_UID={os.getuid()}"


def test_match_terms_priority_grep_units() -> None:
    assert _query.match_terms(["+", "A=1", "+", "B=2", "+"]) == [b"A=1", b"+", b"B=2"]
    assert _query.match_terms("A=x=y") == [b"A=x=y"]
    assert _query.match_terms([b"A=\xff"]) == [b"A=\xff"]
    for bad in (["a=1"], ["A"], ["=1"], [3]):
        with pytest.raises(InvalidJournalFieldError):
            _query.match_terms(bad)  # type: ignore[arg-type]
    p = _query.priority_levels
    assert p("warning") == [0, 1, 2, 3, 4] and p(0) == [0] and p("7") == list(range(8))
    assert p("err..warning") == [3, 4] == p("warning..err") == p((3, "warn"))
    assert p("ERROR") == [0, 1, 2, 3] and p("panic") == [0]
    for bad_level in ("loud", 8, -1, True, (1, 2, 3), "err..x"):
        with pytest.raises(InvalidJournalFieldError):
            p(bad_level)  # type: ignore[arg-type]
    assert _query.compile_grep("abc").search("xABCx")
    assert not _query.compile_grep("Abc").search("xabcx")
    with pytest.raises(InvalidJournalFieldError):
        _query.compile_grep("(")
    assert _query.mangle_unit("foo") == "foo.service"
    assert _query.mangle_unit("foo*") == "foo*"
    with pytest.raises(InvalidJournalFieldError):
        _query.mangle_unit("")


# ----------------------------------------------------------------------- timestamps

NOW = 1_700_000_000_000_000  # Tue 2023-11-14 22:13:20 UTC


@pytest.mark.parametrize(
    ("text", "usec"),
    [
        ("@1.5", 1_500_000),
        ("@1700000000", NOW),
        ("2012-09-22 16:34:22 UTC", 1_348_331_662_000_000),
        ("2012-09-22 16:34:22", 1_348_331_662_000_000),  # TZ=UTC
        ("2012-09-22 16:34:22.5 UTC", 1_348_331_662_500_000),
        ("2012-09-22 16:34:22.1234565", 1_348_331_662_123_457),
        ("12-09-22 16:34:22", 1_348_331_662_000_000),
        ("2012-09-22 16:34", 1_348_331_640_000_000),
        ("2012-09-22", 1_348_272_000_000_000),
        ("Sat 2012-09-22 16:34:22", 1_348_331_662_000_000),
        ("saturday 2012-09-22", 1_348_272_000_000_000),
        ("2012-09-22 16:34:22 Europe/Berlin", 1_348_324_462_000_000),
        ("16:34:22", 1_699_979_662_000_000),
        ("16:34", 1_699_979_640_000_000),
        ("Nov 14 10:00:00", 1_699_956_000_000_000),
        ("november 14 10:00:00.25", 1_699_956_000_250_000),
        ("now", NOW),
        ("today", 1_699_920_000_000_000),
        ("yesterday", 1_699_833_600_000_000),
        ("tomorrow UTC", 1_700_006_400_000_000),
        ("+5min", NOW + 300_000_000),
        ("-1h", NOW - 3_600_000_000),
        ("3h ago", NOW - 3 * 3_600_000_000),
        ("2d left", NOW + 2 * 86_400_000_000),
        ("2012-02-30", 1_330_560_000_000_000),  # normalised like mktime(): Mar 1
    ],
)
def test_parse_timestamp(text: str, usec: int) -> None:
    assert parse_timestamp(text, now_usec=NOW) == usec


@pytest.mark.parametrize(
    "text",
    ["", "garbage", "2012-13-01", "2012-09-22 25:00", "-1x", "Fri 2012-09-22", "@-1", "-100y",
     "10000-01-01", "1960-01-01", "Foo 12 10:00:00", "12:61"],
)  # fmt: skip
def test_parse_timestamp_errors(text: str) -> None:
    with pytest.raises(InvalidTimestampError) as info:
        parse_timestamp(text, now_usec=NOW)
    assert isinstance(info.value, ValueError) and info.value.value == text
    assert text in str(info.value) and info.value.hint


def test_to_usec_and_local_time(monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import UTC, datetime, timedelta, timezone

    from sysd.journal._time import to_usec

    assert to_usec(datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)) == NOW
    assert to_usec(datetime(2023, 11, 14, 23, 13, 20, tzinfo=timezone(timedelta(hours=1)))) == NOW
    assert to_usec(datetime(2023, 11, 14, 22, 13, 20)) == NOW  # naive: local = UTC here
    with pytest.raises(TypeError):
        to_usec(5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        parse_timestamp(5)  # type: ignore[arg-type]
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    assert parse_timestamp("2023-11-14 23:13:20") == NOW
    assert parse_timestamp("2023-11-14 23:13:20 CET") == NOW
    assert parse_timestamp("2023-11-14 22:13:20 UTC") == NOW


# -------------------------------------------------------------------------- writing


@pytest.mark.parametrize(
    ("fields", "payload"),
    [
        ([("MESSAGE", "hi")], b"MESSAGE=hi\n"),
        ([("MESSAGE", "a\nb")], b"MESSAGE\n" + struct.pack("<Q", 3) + b"a\nb\n"),
        ([("BIN", b"\xff\x00")], b"BIN=\xff\x00\n"),
        ([("N", 5), ("F", 1.5)], b"N=5\nF=1.5\n"),
        ([("X", ["a", b"b"])], b"X=a\nX=b\n"),
        ({"A": "", "B": "x"}, b"A=\nB=x\n"),
        ([("S", "\udcff")], b"S=\xff\n"),
        ([("M", bytearray(b"ba"))], b"M=ba\n"),
    ],
)
def test_native_payload(fields: Any, payload: bytes) -> None:
    assert _writer.encode(fields) == payload


@pytest.mark.parametrize(
    "fields",
    [[("message", "x")], [("_PID", "1")], [("1X", "x")], [("", "x")], [("A" * 65, "x")],
     [("A=B", "x")], [("X", None)], [("X", True)], [("X", object())], [("X",)], ["X"],
     [(b"X", "x")]],
)  # fmt: skip
def test_invalid_fields_are_refused_before_sending(fields: Any) -> None:
    with pytest.raises(InvalidJournalFieldError) as info:
        _writer.encode(fields)
    assert isinstance(info.value, ValueError)


@given(st.binary(max_size=200), st.from_regex(r"[A-Z][A-Z0-9_]{0,20}", fullmatch=True))
def test_payload_round_trips_like_journald_parses_it(value: bytes, name: str) -> None:
    payload = _writer.encode([(name, value)])
    if b"\n" in value:
        head, rest = payload.split(b"\n", 1)
        (size,) = struct.unpack("<Q", rest[:8])
        assert head == name.encode() and rest[8 : 8 + size] == value and rest[8 + size :] == b"\n"
    else:
        assert payload == name.encode() + b"=" + value + b"\n"


class FakeJournald:
    """A datagram socket standing in for /run/systemd/journal/socket."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(5)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)

    def receive(self) -> tuple[bytes, bytes | None, int]:
        """(datagram, memfd content or None, seals)."""
        fds = array.array("i")
        data, ancdata, _flags, _addr = self.sock.recvmsg(16 * 1024 * 1024, socket.CMSG_SPACE(4))
        for level, kind, cmsg in ancdata:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(cmsg[: len(cmsg) - len(cmsg) % fds.itemsize])
        if not fds:
            return data, None, 0
        fd = fds[0]
        try:
            seals = fcntl.fcntl(fd, getattr(fcntl, "F_GET_SEALS", 1034))
            return data, os.pread(fd, 64 * 1024 * 1024, 0), seals
        finally:
            os.close(fd)


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[FakeJournald]:
    server = FakeJournald(tmp_path / "socket")
    yield server
    server.sock.close()


def test_send_fields_adds_the_identifier(fake: FakeJournald) -> None:
    _writer.send_fields([("MESSAGE", "hi"), ("X", b"a\nb")], socket_path=fake.path)
    data, memfd, _ = fake.receive()
    ident = os.path.basename(sys.argv[0]).encode()
    assert memfd is None
    assert data == b"MESSAGE=hi\nX\n" + struct.pack("<Q", 3) + b"a\nb\nSYSLOG_IDENTIFIER=" + (
        ident + b"\n"
    )
    _writer.send_fields({"MESSAGE": "x", "SYSLOG_IDENTIFIER": "me"}, socket_path=fake.path)
    assert fake.receive()[0] == b"MESSAGE=x\nSYSLOG_IDENTIFIER=me\n"
    with pytest.raises(InvalidJournalFieldError):
        _writer.send_fields([], socket_path=fake.path)


def test_large_payloads_go_through_a_sealed_memfd(
    fake: FakeJournald, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_writer, "_SNDBUF", 4096)
    _writer._SOCKET.reset()
    try:
        big = b"x" * (1024 * 1024 + 3)
        _writer.send_fields([("MESSAGE", big), ("SYSLOG_IDENTIFIER", "t")], socket_path=fake.path)
        data, memfd, seals = fake.receive()
        assert data == b"" and memfd == b"MESSAGE=" + big + b"\nSYSLOG_IDENTIFIER=t\n"
        assert seals & 0xF == 0xF  # SEAL | SHRINK | GROW | WRITE
    finally:
        _writer._SOCKET.reset()


def test_send_errors_are_typed(tmp_path: Path) -> None:
    with pytest.raises(JournalNotFoundError) as info:
        _writer.send_fields([("MESSAGE", "x")], socket_path=str(tmp_path / "none"))
    assert info.value.errno == errno.ENOENT and isinstance(info.value, FileNotFoundError)
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    dead.bind(str(tmp_path / "dead"))
    dead.close()
    with pytest.raises(JournalNotFoundError):
        _writer.send_fields([("MESSAGE", "x")], socket_path=str(tmp_path / "dead"))
    assert isinstance(_writer._error(OSError(errno.EACCES, "x"), "p"), JournalPermissionError)
    other = _writer._error(OSError(errno.EIO, "x"), "p")
    assert type(other) is JournalError and other.errno == errno.EIO and other.path == "p"


def test_socket_is_recreated_after_fork() -> None:
    sockets = _writer._Socket()
    first = sockets.get()
    assert sockets.get() is first
    sockets._pid = -5  # as a child sees its parent's socket
    second = sockets.get()
    assert second is not first
    sockets.reset()
    first.close()


def test_send_builds_message_priority_and_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[Any] = []
    monkeypatch.setattr(_writer, "send_fields", lambda fields, **kw: sent.append(fields))
    sysd.journal.send("m", priority="warning", code_line=3, extra_field=b"\xff")
    sysd.journal.send("n", priority=None)
    sysd.journal.send("o")
    assert sent == [
        [("MESSAGE", "m"), ("PRIORITY", 4), ("CODE_LINE", 3), ("EXTRA_FIELD", b"\xff")],
        [("MESSAGE", "n")],
        [("MESSAGE", "o"), ("PRIORITY", 6)],
    ]
    for bad in (8, "loud", True, -1):
        with pytest.raises(InvalidJournalFieldError):
            sysd.journal.send("x", priority=bad)  # type: ignore[arg-type]


# -------------------------------------------------------------------------- handler


def test_priority_for_level() -> None:
    levels = [1, 10, 15, 20, 25, 30, 40, 50, 60]
    assert [priority_for_level(n) for n in levels] == [7, 7, 6, 6, 4, 4, 3, 2, 1]


def test_handler_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[list[tuple[str, Any]]] = []
    monkeypatch.setattr("sysd.journal._handler.send_fields", sent.append)
    handler = JournalHandler(identifier="demo", service_version="1.2")
    log = logging.getLogger("sysd.test.journal")
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    log.propagate = False
    try:
        log.warning("disk %s", "/srv", extra={"mount": "/srv", "bad-name": 1, "obj": [1]})
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            log.exception("failed")
        log.info("plain", stack_info=True)
    finally:
        log.removeHandler(handler)
    first = dict(sent[0])
    assert first["MESSAGE"] == "disk /srv" and first["PRIORITY"] == 4
    assert first["LOGGER"] == "sysd.test.journal" and first["CODE_FUNC"] == "test_handler_fields"
    assert first["CODE_FILE"] == __file__ and isinstance(first["CODE_LINE"], int)
    assert first["MOUNT"] == "/srv" and first["OBJ"] == "[1]" and "BAD-NAME" not in first
    assert first["SYSLOG_IDENTIFIER"] == "demo" and first["SERVICE_VERSION"] == "1.2"
    assert first["THREAD_NAME"] == "MainThread"
    second = dict(sent[1])
    assert second["PRIORITY"] == 3 and "RuntimeError: boom" in second["EXCEPTION_TEXT"]
    assert "Traceback" in second["MESSAGE"]
    assert "STACK_INFO" in dict(sent[2])
    with pytest.raises(InvalidJournalFieldError):
        JournalHandler(**{"bad-name": "x"})


def test_handler_drops_records_without_journald_and_reports_other_errors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    handled: list[logging.LogRecord] = []
    handler = JournalHandler()
    monkeypatch.setattr(handler, "handleError", handled.append)
    record = logging.LogRecord("n", logging.INFO, __file__, 1, "m", (), None)

    def missing(fields: Any) -> None:
        raise JournalNotFoundError("gone")

    def broken(fields: Any) -> None:
        raise JournalError("broken")

    monkeypatch.setattr("sysd.journal._handler.send_fields", missing)
    handler.emit(record)
    assert handled == []
    monkeypatch.setattr("sysd.journal._handler.send_fields", broken)
    handler.emit(record)
    assert handled == [record]


# --------------------------------------------------------------------- file headers


def _header(header_size: int = 264, arena: int = 1000, tail: int = 512) -> bytes:
    head = bytearray(272)
    head[:8] = _files.SIGNATURE
    struct.pack_into("<QQ", head, 88, header_size, arena)
    struct.pack_into("<Q", head, 136, tail)
    return bytes(head)


def test_journal_file_headers() -> None:
    assert _files.check_header(_header(), 264 + 1000) is None
    truncated = _files.check_header(_header(), 700, "f")
    assert truncated == _files.Damage("f", "truncated", 700, 1264)
    assert _files.check_header(_header(tail=2000), 264 + 1000).problem == "truncated"  # type: ignore[union-attr]
    assert _files.check_header(b"XXXXXXXX" + _header()[8:], 2000).problem == "bad header"  # type: ignore[union-attr]
    assert _files.check_header(_header()[:100], 2000).problem == "bad header"  # type: ignore[union-attr]
    assert _files.check_header(_header(header_size=8), 2000).problem == "bad header"  # type: ignore[union-attr]
    data = bytearray(_header()) + bytearray(500)
    assert _files.patch_header(data)
    assert (
        struct.unpack_from("<QQ", data, 88) == (264, 504) and _files.check_header(data, 772) is None
    )
    far = bytearray(_header(tail=5000)) + bytearray(8)
    assert _files.patch_header(far) and struct.unpack_from("<Q", far, 136) == (0,)
    assert not _files.patch_header(bytearray(b"short"))
    assert not _files.patch_header(bytearray(_header(header_size=4096)))


def test_scan_and_copies(tmp_path: Path) -> None:
    good = tmp_path / "a.journal"
    entry = bytes([3]) + bytes(7) + (64).to_bytes(8, "little")  # the tail object: an entry
    good.write_bytes(_header() + bytes(512 - 272) + entry + bytes(1000 - 8 - 240 - 16))
    zeroed = tmp_path / "z.journal"  # header intact, zeros from the tail object on
    zeroed.write_bytes(_header() + bytes(1000 - 8))
    bad = tmp_path / "sub" / "b.journal~"
    (tmp_path / "0123456789abcdef0123456789abcdef").mkdir()
    inner = tmp_path / "0123456789abcdef0123456789abcdef" / "c.journal"
    inner.write_bytes(_header() + bytes(10))
    bad.parent.mkdir()
    bad.write_bytes(b"junk")
    (tmp_path / "notes.txt").write_text("x")
    files = list(_files.directory_files(str(tmp_path)))
    assert files == [str(inner), str(good), str(zeroed)]  # "sub" is not a machine directory
    damaged = _files.scan([*files, str(tmp_path / "missing.journal")])
    assert [(d.path, d.problem) for d in damaged] == [
        (str(inner), "truncated"),
        (str(zeroed), "bad tail object"),
    ]
    workdir = _files.make_workdir()
    try:
        fd = _files.readable_copy(str(inner), workdir)
        assert fd is not None
        os.close(fd)
        assert _files.readable_copy(str(bad), workdir) is None
        assert _files.readable_copy(str(tmp_path / "none"), workdir) is None
    finally:
        _files.remove_workdir(workdir)
    assert not os.path.exists(workdir)
    assert list(_files.directory_files(str(tmp_path / "none"))) == []


# --------------------------------------------------------------------------- errors

ERRORS = [
    JournalError, JournalNotFoundError, JournalPermissionError, JournalCorruptError,
    LibsystemdNotFoundError, InvalidJournalFieldError, InvalidTimestampError,
]  # fmt: skip


@pytest.mark.parametrize("cls", ERRORS, ids=lambda c: c.__name__)
def test_errors_pickle_and_have_the_right_bases(cls: type[SysdError]) -> None:
    exc = cls("went wrong")
    back = pickle.loads(pickle.dumps(exc))
    assert type(back) is cls and str(back) == str(exc) and isinstance(exc, SysdError)
    assert cls.__name__ in _errors_doc()


def _errors_doc() -> str:
    from sysd import errors

    return errors.__doc__ or ""


def test_error_fields() -> None:
    nf = JournalNotFoundError("x", path="/p", errno=errno.ENOENT)
    assert isinstance(nf, FileNotFoundError) and isinstance(nf, OSError)
    assert nf.filename == "/p" and nf.strerror == os.strerror(errno.ENOENT) and "hint" in str(nf)
    assert isinstance(JournalPermissionError("x"), PermissionError)
    corrupt = pickle.loads(pickle.dumps(JournalCorruptError("x", path="/a", cursor="c")))
    assert corrupt.paths == ("/a",) and corrupt.cursor == "c" and corrupt.path == "/a"
    field = pickle.loads(pickle.dumps(InvalidJournalFieldError("x", field="F", hint="h")))
    assert field.field == "F" and field.hint == "h" and isinstance(field, ValueError)
    stamp = pickle.loads(pickle.dumps(InvalidTimestampError("x", value="v")))
    assert stamp.value == "v" and isinstance(stamp, ValueError)


def test_import_is_light() -> None:
    import subprocess

    code = (
        "import sys, sysd.journal\n"
        "print('asyncio' in sys.modules, 'sysd.journal._lib' in sys.modules, "
        "'sysd.journal._reader' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False", "False"], out.stderr


def test_public_names() -> None:
    for name in sysd.journal.__all__:
        assert getattr(sysd.journal, name) is not None
    with pytest.raises(AttributeError):
        sysd.journal.nope  # type: ignore[attr-defined]  # noqa: B018
    assert sysd.journal.aio.entries is not None


# --------------------------------------------------------------------------- SIGBUS

SIGBUS_PROBE = """
import mmap, os, sys
from sysd.journal import _sigbus
assert _sigbus.install() and _sigbus.install()
path = sys.argv[1]
with open(path, "wb") as f:
    f.write(b"A" * (2 * mmap.PAGESIZE))
fd = os.open(path, os.O_RDONLY)
mm = mmap.mmap(fd, 2 * mmap.PAGESIZE, prot=mmap.PROT_READ)
os.truncate(path, mmap.PAGESIZE)  # as journald does to a file it archives
print(mm[0], mm[mmap.PAGESIZE], mm[2 * mmap.PAGESIZE - 1], _sigbus.faults(), flush=True)
"""


def test_a_journal_file_truncated_under_a_map_reads_as_zeros(tmp_path: Path) -> None:
    import subprocess

    proc = subprocess.run(
        [sys.executable, "-c", SIGBUS_PROBE, str(tmp_path / "system.journal")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["65", "0", "0", "1"]


def test_other_sigbus_faults_are_not_swallowed(tmp_path: Path) -> None:
    import signal
    import subprocess

    proc = subprocess.run(
        [sys.executable, "-c", SIGBUS_PROBE, str(tmp_path / "not-a-journal.data")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == -signal.SIGBUS, (proc.returncode, proc.stdout, proc.stderr)


def test_long_and_binary_values_are_decoded_when_touched() -> None:
    long = b"L" * 5000
    e = entry(b"SHORT=s", b"LONG=" + long, b"BIN=" + b"\xff" * 5000, b"SMALLBIN=\xfe")
    assert e["SHORT"] == "s" and e._pending == 3  # LONG, BIN and SMALLBIN wait
    assert e.raw("LONG") == long and e["LONG"] == long.decode() and e._pending == 2
    assert e["LONG"] == long.decode() and e.raw("LONG") == long  # kept decoded
    assert e["BIN"] == b"\xff" * 5000 and e.get("SMALLBIN") == b"\xfe" and e._pending == 2
    assert dict(e.items()) == {"SHORT": "s", "LONG": long.decode(), "BIN": b"\xff" * 5000,
                               "SMALLBIN": b"\xfe"}  # fmt: skip
    assert list(e.values())[1] == long.decode() and e.as_dict()["BIN"] == b"\xff" * 5000
    plain = entry(b"A=1", b"B=2")
    assert type(plain.items()) is type({}.items()) and list(plain.values()) == ["1", "2"]
    assert plain.as_dict() == {"A": "1", "B": "2"}


# ------------------------------------------------------------------- library errors


def test_a_missing_libsystemd_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from sysd.journal import _lib

    monkeypatch.setattr(_lib, "_LIB", None)
    monkeypatch.setattr(_lib, "_SONAME", "libsystemd-sysd-test-missing.so.0")
    with pytest.raises(LibsystemdNotFoundError) as info:
        _lib.lib()
    assert "libsystemd-sysd-test-missing.so.0" in str(info.value) and info.value.hint
    assert isinstance(info.value, OSError)


def test_a_libsystemd_without_a_function_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from sysd.journal import _lib

    monkeypatch.setattr(_lib, "_LIB", None)
    monkeypatch.setattr(_lib, "_PROTOTYPES", [("sd_journal_from_the_future", None, None, True)])
    with pytest.raises(LibsystemdNotFoundError, match="sd_journal_from_the_future"):
        _lib.lib()


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (errno.ENOENT, JournalNotFoundError), (errno.EACCES, JournalPermissionError),
        (errno.EPERM, JournalPermissionError), (errno.EBADMSG, JournalCorruptError),
        (errno.ENODATA, JournalCorruptError), (errno.EADDRNOTAVAIL, JournalCorruptError),
        (errno.EIO, JournalCorruptError), (errno.ECHILD, JournalError),
        (errno.ENOMEM, JournalError),
    ],
)  # fmt: skip
def test_errno_mapping(code: int, cls: type[JournalError]) -> None:
    from sysd.journal._lib import journal_error

    exc = journal_error(-code, "reading", path="/p", cursor="c")
    assert type(exc) is cls and exc.errno == code and exc.path == "/p"
    assert str(exc).startswith(f"reading: {os.strerror(code)}")
    if code == errno.ECHILD:
        assert "fork" in str(exc)
