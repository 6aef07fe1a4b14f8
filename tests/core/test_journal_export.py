"""The export-format parser and the journalctl options for entries()' filters (tables)."""

from __future__ import annotations

import random
import shlex
import struct
from datetime import UTC, datetime
from typing import Any

import pytest

from sysd._core.journal_export import ExportParser, parse_export, plan
from sysd.errors import (
    InvalidCallError,
    InvalidJournalFieldError,
    InvalidMachineCallError,
    JournalStreamError,
)
from sysd.journal._remote import RemoteTarget, journalctl_argv

BOOT = "6c7c6013a26343b29e964691ff25d04c"
CURSOR = f"s=739ad463348b4ceca5a9e69c95a3c93f;i=4ece7;b={BOOT};m=4fc72436e;t=4c508a72423d9;x=1"


def binary(name: bytes, value: bytes) -> bytes:
    return name + b"\n" + struct.pack("<Q", len(value)) + value + b"\n"


def header(
    cursor: str = CURSOR, realtime: int = 1342540861416409, mono: int = 21415215982
) -> bytes:
    return (
        f"__CURSOR={cursor}\n__REALTIME_TIMESTAMP={realtime}\n"
        f"__MONOTONIC_TIMESTAMP={mono}\n_BOOT_ID={BOOT}\n"
    ).encode()


ONE = header() + b"MESSAGE=hello\nPRIORITY=6\n_PID=1\n\n"
TWO = (
    header()
    + binary(b"MESSAGE", b"foo\nbar")
    + b"CODE_FILE=<string>\n"
    + binary(b"BLOB", bytes(range(256)))
    + binary(b"EMPTY", b"")
    + b"DUP=1\nDUP=2\n\n"
)


def test_a_text_entry() -> None:
    (e,) = parse_export(ONE)
    assert e.data == [f"_BOOT_ID={BOOT}".encode(), b"MESSAGE=hello", b"PRIORITY=6", b"_PID=1"]
    assert (e.cursor, e.realtime_usec, e.monotonic_usec, e.boot_id) == (
        CURSOR, 1342540861416409, 21415215982, BOOT,
    )  # fmt: skip
    assert e.timestamp == datetime(2012, 7, 17, 16, 1, 1, 416409, tzinfo=UTC)
    assert e.message == "hello" and e.priority == 6 and e["_BOOT_ID"] == BOOT


def test_binary_multiline_empty_and_repeated_fields() -> None:
    (e,) = parse_export(TWO)
    assert e.message == "foo\nbar"
    assert e["BLOB"] == bytes(range(256))
    assert e["EMPTY"] == ""
    assert e.getall("DUP") == ["1", "2"] and e["DUP"] == "1"
    assert e.raw("CODE_FILE") == b"<string>"


@pytest.mark.parametrize("seed", range(5))
def test_any_chunking_gives_the_same_entries(seed: int) -> None:
    stream = ONE + TWO + ONE
    whole = [(e.data, e.cursor, e.realtime_usec) for e in parse_export(stream)]
    rng = random.Random(seed)
    p = ExportParser()
    got = []
    i = 0
    while i < len(stream):
        n = 1 if seed == 0 else rng.randint(1, 40)
        got += p.feed(stream[i : i + n])
        i += n
    p.close()
    assert [(e.data, e.cursor, e.realtime_usec) for e in got] == whole
    assert len(whole) == 3


def test_unknown_dunder_lines_are_skipped_and_entries_without_header_kept() -> None:
    (a, b) = parse_export(b"__SEQNUM=5\n" + ONE + b"MESSAGE=bare\n\n")
    assert a.message == "hello" and "__SEQNUM" not in a
    assert b.data == [b"MESSAGE=bare"] and b.cursor is None and b.realtime_usec == 0


def test_blank_lines_between_entries_make_no_entry() -> None:
    assert len(parse_export(b"\n" + ONE + b"\n\n" + ONE)) == 2
    assert parse_export(b"") == []


@pytest.mark.parametrize(
    ("stream", "why"),
    [
        (b"bad name=1\n\n", "invalid field name"),
        (b"lower=1\n\n", "invalid field name"),
        (b"=1\n\n", "invalid field name"),
        (b"1ABC=1\n\n", "invalid field name"),
        (binary(b"X", b"ab")[:-1] + b"Z\n\n", "no newline after"),
        (b"__REALTIME_TIMESTAMP=abc\n\n", "invalid __REALTIME_TIMESTAMP"),
        (b"_BOOT_ID=xyz\n\n", "invalid _BOOT_ID"),
        (b"_BOOT_ID=00\n\n", "invalid _BOOT_ID"),
        (ONE[:-1], "ended inside an entry"),
        (ONE + b"MESSAGE=half", "ended inside an entry"),
        (header() + b"X\n" + struct.pack("<Q", 10) + b"abc", "ended inside an entry"),
    ],
)
def test_malformed_streams_are_typed_errors(stream: bytes, why: str) -> None:
    with pytest.raises(JournalStreamError, match=why) as info:
        parse_export(stream)
    assert info.value.offset is not None and 0 <= info.value.offset <= len(stream)
    assert "\n" not in str(info.value)


def test_a_field_larger_than_the_limit() -> None:
    p = ExportParser(max_size=100)
    with pytest.raises(JournalStreamError, match="a field of 101 bytes"):
        p.feed(b"X\n" + struct.pack("<Q", 101))
    p = ExportParser(max_size=100)
    with pytest.raises(JournalStreamError, match="longer than"):
        p.feed(b"X=" + b"a" * 200)


def test_the_error_offset_counts_from_the_stream_start() -> None:
    p = ExportParser()
    p.feed(ONE)
    with pytest.raises(JournalStreamError) as info:
        p.feed(b"bad line\n")
    assert info.value.offset == len(ONE)


# ------------------------------------------------------------------------------ the plan

S = 1_700_000_000_000_000  # µs
T = S + 3_600_000_000
AT_S, AT_T = "@1700000000.000000", "@1700003600.000000"
AT_T1 = "@1700003600.000001"
BASE = ["--output=export", "--no-pager", "--quiet"]
SINCE = datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
UNTIL = datetime(2023, 11, 14, 23, 13, 20, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kwargs", "args", "local"),
    [
        ({}, ["--lines=all"], {}),
        ({"lines": 10}, ["--lines=10"], {}),
        ({"lines": 0}, [], {"empty": True}),
        ({"lines": 0, "follow": True}, ["--lines=0", "--follow"], {}),
        ({"follow": True, "lines": 5}, ["--lines=5", "--follow"], {}),
        ({"follow": True}, ["--lines=all", "--follow"], {}),
        ({"follow": True, "since": SINCE}, [f"--since={AT_S}", "--lines=all", "--follow"], {}),
        ({"follow": True, "since": SINCE, "lines": 3}, ["--lines=3", "--follow"], {"since": S}),
        ({"since": SINCE}, [f"--since={AT_S}", "--lines=all"], {"since": S}),
        ({"since": SINCE, "until": UNTIL},
         [f"--since={AT_S}", f"--until={AT_T}", "--lines=all"], {"since": S, "until": T}),
        ({"until": UNTIL, "lines": 2}, ["--reverse", f"--until={AT_T1}", "--lines=2"],
         {"until": T, "limit": 2, "reverse_buffer": True}),
        ({"since": SINCE, "lines": 2}, ["--reverse", f"--since={AT_S}", "--lines=2"],
         {"since": S, "limit": 2, "reverse_buffer": True}),
        ({"grep": "x", "lines": 2}, ["--reverse", "--lines=all"],
         {"limit": 2, "reverse_buffer": True}),
        ({"reverse": True, "lines": 4}, ["--reverse", "--lines=4"], {"limit": 4}),
        ({"reverse": True, "until": UNTIL}, ["--reverse", f"--until={AT_T1}", "--lines=all"],
         {"until": T}),
        ({"cursor": "c;x=1", "lines": 3}, ["--cursor=c;x=1", "--lines=3"], {"limit": 3}),
        ({"after_cursor": "c", "until": UNTIL},
         ["--after-cursor=c", f"--until={AT_T}", "--lines=all"], {"until": T}),
        ({"after_cursor": "c", "reverse": True, "until": UNTIL},
         ["--after-cursor=c", "--reverse", "--lines=all"], {"until": T}),
        ({"cursor": "c", "follow": True, "lines": 3},
         ["--cursor=c", "--lines=all", "--follow"], {}),
        ({"unit": ["nginx", "-.slice", "a*"], "lines": 1},
         ["--unit=nginx.service", "--unit=-.slice", "--unit=a*", "--lines=1"], {}),
        ({"user_unit": "x", "user": True, "lines": 1},
         ["--user", "--user-unit=x.service", "--lines=1"], {}),
        ({"priority": "warning", "lines": 1}, ["--priority=0..4", "--lines=1"], {}),
        ({"priority": ("err", "info"), "lines": 1}, ["--priority=3..6", "--lines=1"], {}),
        ({"priority": "debug", "lines": 1}, ["--lines=1"], {}),
        ({"boot": True, "lines": 1}, ["--boot=0", "--lines=1"], {}),
        ({"boot": -1, "lines": 1}, ["--boot=-1", "--lines=1"], {}),
        ({"boot": BOOT.upper() + "-1", "lines": 1}, [f"--boot={BOOT}-1", "--lines=1"], {}),
        ({"identifier": ["a", "-b"], "lines": 1},
         ["--identifier=a", "--identifier=-b", "--lines=1"], {}),
        ({"fields": ["MESSAGE", "_PID", "MESSAGE"], "lines": 1},
         ["--output-fields=MESSAGE,_PID", "--lines=1"], {"fields": [b"MESSAGE", b"_PID"]}),
        ({"matches": ["A=1", "+", "B=$(reboot); '\"\n-x"], "lines": 1},
         ["--lines=1", "--", "A=1", "+", "B=$(reboot); '\"\n-x"], {}),
    ],
)  # fmt: skip
def test_plan_table(kwargs: dict[str, Any], args: list[str], local: dict[str, Any]) -> None:
    p = plan(**kwargs)
    extra = [a for a in p.args if a not in BASE]
    assert extra == args
    assert p.args[:3] == BASE
    for key, value in local.items():
        assert getattr(p, key) == value, key
    for key in {"since", "until", "limit", "empty", "reverse_buffer"} - set(local):
        assert getattr(p, key) in (None, False), key


def test_follow_with_grep_and_lines_reads_back_then_follows() -> None:
    p = plan(follow=True, grep="boom", lines=3, matches=["A=1"])
    assert p.args[3:] == ["--reverse", "--lines=all", "--", "A=1"]
    assert (p.limit, p.reverse_buffer, p.follow) == (3, True, False)
    assert p.then == [*BASE, "--follow", "--lines=all"]
    assert p.matches == ["--", "A=1"]


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"unit": ""}, InvalidJournalFieldError),
        ({"matches": ["$(reboot)"]}, InvalidJournalFieldError),
        ({"matches": ["-x=1"]}, InvalidJournalFieldError),
        ({"matches": ["a=1"]}, InvalidJournalFieldError),
        ({"matches": ["A B=1"]}, InvalidJournalFieldError),
        ({"priority": "loud"}, InvalidJournalFieldError),
        ({"priority": 9}, InvalidJournalFieldError),
        ({"fields": ["bad;"]}, InvalidJournalFieldError),
        ({"grep": "("}, InvalidJournalFieldError),
        ({"boot": "nope"}, InvalidCallError),
        ({"boot": "-1;reboot"}, InvalidCallError),
        ({"lines": -1}, InvalidCallError),
        ({"follow": True, "reverse": True}, InvalidCallError),
        ({"follow": True, "until": UNTIL}, InvalidCallError),
        ({"since": UNTIL, "until": SINCE}, InvalidCallError),
        ({"cursor": "a", "after_cursor": "b"}, InvalidCallError),
        ({"cursor": "a", "since": SINCE}, InvalidCallError),
        ({"cursor": "a\0b"}, InvalidCallError),
        ({"identifier": "a\0b"}, InvalidCallError),
        ({"unit": 5}, InvalidCallError),
    ],
)
def test_plan_refuses_bad_arguments(kwargs: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        plan(**kwargs)


# ------------------------------------------------------------------------ where it runs

HOSTILE = ["a;b", "$(reboot)", "`id`", "x'y", 'x"y', "a\nb", "-oProxyCommand=x", "a b", "*"]


def test_the_local_and_container_argv() -> None:
    args = plan(lines=1).args
    assert journalctl_argv(RemoteTarget(), args) == ["journalctl", *args]
    assert journalctl_argv(RemoteTarget(machine="web-1"), args) == [
        "journalctl", "--machine=web-1", *args,
    ]  # fmt: skip


@pytest.mark.parametrize("name", ["-x", "a;b", "a b", "$(x)", "a/b", "", ".host", "a\nb"])
def test_a_bad_container_name_is_refused(name: str) -> None:
    with pytest.raises(InvalidMachineCallError):
        journalctl_argv(RemoteTarget(machine=name), ["--lines=1"])
    with pytest.raises((InvalidMachineCallError, InvalidCallError)):
        journalctl_argv(RemoteTarget(host=f"web1/{name}"), ["--lines=1"])


@pytest.mark.parametrize("value", HOSTILE)
def test_every_remote_word_reaches_the_remote_journalctl_as_one_argument(value: str) -> None:
    p = plan(matches=[f"A={value}"], identifier=value, cursor=value, lines=1)
    argv = journalctl_argv(RemoteTarget(host="admin@web1:2222", ssh_config="/x/cfg"), p.args)
    dest = argv.index("--")
    assert argv[dest + 1] == "admin@web1"
    assert argv[argv.index("-p") + 1] == "2222"
    assert argv[argv.index("-F") + 1] == "/x/cfg"
    assert len(argv) == dest + 3  # one remote command string
    # what the remote shell makes of it: exactly journalctl and sysd's words
    assert shlex.split(argv[-1]) == ["journalctl", *p.args]
    assert f"--identifier={value}" in p.args and f"A={value}" in p.args


@pytest.mark.parametrize(
    ("unit", "mangled"),
    [("a;b", r"a\x3bb.service"), ("x\ny", r"x\x0ay.service"),
     ("$(reboot)", r"\x24\x28reboot\x29.service"), ("-x", "-x.service"),
     ("a'b", r"a\x27b.service")],
)  # fmt: skip
def test_hostile_unit_names_are_mangled_as_journalctl_does_and_stay_one_word(
    unit: str, mangled: str
) -> None:
    p = plan(unit=unit, lines=1)
    assert f"--unit={mangled}" in p.args
    argv = journalctl_argv(RemoteTarget(host="h1"), p.args)
    assert shlex.split(argv[-1]) == ["journalctl", *p.args]


def test_sudo_and_a_container_over_ssh() -> None:
    argv = journalctl_argv(RemoteTarget(host="web1/box", sudo=True), ["--lines=1"])
    assert shlex.split(argv[-1]) == [
        "sudo", "-n", "--", "journalctl", "--machine=box", "--lines=1",
    ]  # fmt: skip


@pytest.mark.parametrize("host", ["-oProxyCommand=x", "a b", "a;b@c", "web1:99999", "", "a\nb"])
def test_a_bad_host_is_refused_before_ssh_runs(host: str) -> None:
    with pytest.raises((InvalidCallError, ValueError)):
        journalctl_argv(RemoteTarget(host=host), ["--lines=1"])


def test_the_ssh_config_defaults_to_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYSD_SSH_CONFIG", "/lab/ssh_config")
    argv = journalctl_argv(RemoteTarget(host="h1"), ["--lines=1"])
    assert argv[argv.index("-F") + 1] == "/lab/ssh_config"


def test_directory_is_not_for_remote_journals() -> None:
    import sysd.journal

    with pytest.raises(InvalidCallError, match="directory"):
        sysd.journal.entries(host="h1", directory="/tmp")
