"""The remote journal's reader against the sandbox's own journald: ``journalctl -o export``
parsed by sysd equals what sysd's local reader returns, entry for entry and byte for byte;
the same filters give the same entries through journalctl (the remote reader's code path,
with a local journalctl: ``RemoteTarget()``) as through the local reader; following,
closing, Ctrl-C and cancellation end the process.
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest

import sysd
import sysd.journal
import sysd.journal.aio
from sysd._core.journal_export import ExportParser, parse_export
from sysd.errors import JournalNotFoundError, RemoteJournalError
from sysd.journal import Entry, send
from sysd.journal._remote import AsyncRemoteEntries, RemoteEntries, RemoteTarget

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, "..", "reliability"))
from reliability_support import interrupt_after  # noqa: E402

LOCAL = RemoteTarget()  # journalctl on this machine, through the remote reader's code path


def key(e: Entry) -> tuple[Any, ...]:
    """Everything an entry holds; ``_BOOT_ID``'s place among the fields aside (export
    prints it as a header line: see sysd._core.journal_export)."""
    data = [i for i in e.data if not i.startswith(b"_BOOT_ID=")]
    return (e.cursor, e.realtime_usec, e.monotonic_usec, e.boot_id, e.getall("_BOOT_ID"), data)


def local(**kwargs: Any) -> list[Entry]:
    with sysd.journal.entries(**kwargs) as it:
        return list(it)


def remote(**kwargs: Any) -> list[Entry]:
    with RemoteEntries(LOCAL, **kwargs) as it:
        return list(it)


def children() -> set[int]:
    """This process's child processes (running or not yet reaped)."""
    me = os.getpid()
    out = set()
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        if int(stat[stat.rindex(")") + 2 :].split()[1]) == me:
            out.add(int(name))
    return out


@pytest.fixture(scope="module")
def logged(systemd_host: None) -> tuple[str, list[Entry]]:
    """Entries of every kind, each tagged: multi-line, binary, large, repeated fields."""
    tag = uuid.uuid4().hex
    send("plain one", TEST_TAG=tag, priority="info", SYSLOG_IDENTIFIER="rj-a")
    send("two\nlines\n", TEST_TAG=tag, priority="warning", SYSLOG_IDENTIFIER="rj-b")
    send("binary", TEST_TAG=tag, priority="err", BLOB=b"\x00\xff\x01\n", NUL=b"x\x00y")
    send("tab\there and ctrl \x1b[1m", TEST_TAG=tag, priority="debug", WORDS=["a", "b", "c"])
    send("big " + "x" * 100_000, TEST_TAG=tag, priority="notice", EMPTY="")
    send("h\u00e9 \u2603 " + "latin1-\xe9", TEST_TAG=tag, NOTUTF8=b"\xe9t\xe9", priority=6)
    for i in range(6):
        send(f"seq {i} boom" if i % 2 else f"seq {i}", TEST_TAG=tag, SEQ=i, priority=i % 8)
    deadline = time.monotonic() + 20
    while True:
        got = local(matches=[f"TEST_TAG={tag}"])
        if len(got) >= 12 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert len(got) == 12
    return tag, got


def test_export_output_parses_to_the_local_readers_entries(logged: tuple[str, list[Entry]]) -> None:
    tag, entries = logged
    raw = subprocess.run(
        ["journalctl", "-o", "export", f"TEST_TAG={tag}"], capture_output=True, check=True
    ).stdout
    assert b"BLOB\n" in raw and b"MESSAGE\n" in raw  # binary-safe fields were written
    parsed = parse_export(raw)
    assert [key(e) for e in parsed] == [key(e) for e in entries]
    for a, b in zip(parsed, entries, strict=True):
        assert a.as_dict() == b.as_dict()
        assert sorted(a.data) == sorted(b.data)  # byte for byte, repeated fields too
    # any chunking, one byte at a time too
    p = ExportParser()
    one = [e for i in range(len(raw)) for e in p.feed(raw[i : i + 1])]
    p.close()
    assert [key(e) for e in one] == [key(e) for e in entries]
    by_cursor = {e.cursor: e for e in parsed}
    for e in entries:  # the same cursors, one at a time
        (single,) = remote(cursor=e.cursor, lines=1, matches=[f"TEST_TAG={tag}"])
        assert key(single) == key(e) == key(by_cursor[e.cursor])


def cases(entries: list[Entry]) -> list[dict[str, Any]]:
    t = [e.timestamp for e in entries]
    mid = entries[5]
    return [
        {},
        {"lines": 3},
        {"lines": 0},
        {"lines": 100},
        {"reverse": True},
        {"reverse": True, "lines": 4},
        {"priority": "warning"},
        {"priority": ("notice", "debug")},
        {"priority": "debug", "lines": 2},
        {"identifier": ["rj-a", "rj-b"]},
        {"grep": "boom"},
        {"grep": "BOOM"},
        {"grep": "boom", "lines": 2},
        {"grep": "seq", "reverse": True, "lines": 2},
        {"since": t[3]},
        {"until": t[7]},
        {"since": t[3], "until": t[7]},
        {"since": t[3], "lines": 2},
        {"until": t[7], "lines": 3},
        {"since": t[2], "until": t[7], "lines": 4},
        {"until": t[7], "reverse": True},
        {"since": t[3] - timedelta(microseconds=1), "until": t[7] + timedelta(microseconds=1)},
        {"cursor": mid.cursor},
        {"after_cursor": mid.cursor},
        {"cursor": mid.cursor, "lines": 2},
        {"after_cursor": mid.cursor, "reverse": True, "lines": 3},
        {"after_cursor": mid.cursor, "until": t[8]},
        {"after_cursor": mid.cursor, "reverse": True, "until": t[3]},
        {"cursor": mid.cursor, "grep": "boom", "lines": 1},
        {"fields": ["MESSAGE", "_BOOT_ID", "WORDS", "BLOB"]},
        {"fields": ["SEQ"], "lines": 3},
        {"boot": True, "lines": 5},
        {"boot": 0, "priority": 3},
        {"matches": ["SEQ=1", "SEQ=3", "+", "SEQ=5"]},
        {"unit": "sysd-no-such-unit"},
    ]


def test_the_same_filters_through_journalctl_give_the_same_entries(
    logged: tuple[str, list[Entry]],
) -> None:
    tag, entries = logged
    sizes = []
    for case in cases(entries):
        kwargs = dict(case)
        kwargs["matches"] = [f"TEST_TAG={tag}", *kwargs.get("matches", [])]
        want = [key(e) for e in local(**kwargs)]
        got = [key(e) for e in remote(**kwargs)]
        assert got == want, case
        sizes.append(len(want))
    # lines=0, grep BOOM (capitals: case-sensitive) and the unknown unit select nothing
    # the cases select different things (not all nothing, not all everything)
    assert sizes.count(0) == 3 and len(set(sizes)) >= 8, list(
        zip(sizes, cases(entries), strict=True)
    )


def test_no_unit_matching_a_glob_is_nothing_as_locally(systemd_host: None) -> None:
    with RemoteEntries(LOCAL, unit="sysd-nothing-like-this-*", lines=5) as it:
        assert list(it) == [] and it.no_such_units
    with sysd.journal.entries(unit="sysd-nothing-like-this-*", lines=5) as it2:
        assert list(it2) == [] and it2.no_such_units


def test_errors_of_the_process_are_typed(systemd_host: None) -> None:
    with pytest.raises(JournalNotFoundError, match="journalctl on"):
        remote(boot="0123456789abcdef0123456789abcdef", lines=1)
    box = sysd.journal.entries(machine="sysd-no-such-box", lines=1)
    with pytest.raises(RemoteJournalError, match="container sysd-no-such-box") as info, box as it:
        list(it)
    assert info.value.status not in (0, None) and info.value.stderr
    assert children() == set()


def wait_for_remote(it: RemoteEntries, timeout: float = 15) -> Entry:
    deadline = time.monotonic() + timeout
    while True:
        entry = it.next_nowait()
        if entry is not None:
            return entry
        left = deadline - time.monotonic()
        assert left > 0, "no entry in time"
        it.wait(min(left, 0.2))


def test_follow_sees_new_entries_and_close_ends_the_process(systemd_host: None) -> None:
    tag = uuid.uuid4().hex
    send("before", TEST_TAG=tag)
    deadline = time.monotonic() + 15
    while not local(matches=[f"TEST_TAG={tag}"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    before = children()
    it = RemoteEntries(LOCAL, matches=[f"TEST_TAG={tag}"], lines=5, follow=True)
    (pid,) = children() - before
    assert wait_for_remote(it).message == "before"
    send("after", TEST_TAG=tag)
    assert wait_for_remote(it).message == "after"
    assert it.next_nowait() is None
    it.close()
    assert children() == before
    assert not os.path.exists(f"/proc/{pid}")
    # follow with grep and lines: the last matches first, then new ones that match
    with RemoteEntries(LOCAL, matches=[f"TEST_TAG={tag}"], grep="^a", lines=5, follow=True) as g:
        assert wait_for_remote(g).message == "after"
        send("bystander", TEST_TAG=tag)
        send("again", TEST_TAG=tag)
        assert wait_for_remote(g).message == "again"
    assert children() == before


def test_interrupts_at_random_points_leave_no_process_behind(systemd_host: None) -> None:
    tag = uuid.uuid4().hex
    for i in range(30):
        send(f"line {i}", TEST_TAG=tag)
    rng = random.Random(1414)
    before = children()
    interrupted = 0
    for _ in range(25):
        delay = rng.uniform(0, 0.03)
        try:
            with (
                interrupt_after(delay),
                RemoteEntries(LOCAL, matches=[f"TEST_TAG={tag}"], lines=20, follow=True) as it,
            ):
                while True:
                    if it.next_nowait() is None:
                        it.wait(0.05)
        except KeyboardInterrupt:
            interrupted += 1
        assert children() == before
    assert interrupted == 25


def test_async_follow_is_cancellable_and_ends_the_process(systemd_host: None) -> None:
    tag = uuid.uuid4().hex

    async def main() -> None:
        before = children()
        it = sysd.journal.aio.follow(host=None, machine=None, matches=[f"TEST_TAG={tag}"])
        assert not isinstance(it, AsyncRemoteEntries)  # no host/machine: the local reader
        await it.aclose()
        follower = AsyncRemoteEntries(LOCAL, matches=[f"TEST_TAG={tag}"], lines=0, follow=True)
        got: list[Entry] = []

        async def consume() -> None:
            async for entry in follower:
                got.append(entry)

        task = asyncio.create_task(consume())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 15
        while not children() - before and loop.time() < deadline:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.3)  # journalctl -n 0 -f starts at the tail as it finds it
        send("async remote", TEST_TAG=tag)
        while not got and loop.time() < deadline:
            await asyncio.sleep(0.01)
        assert [e.message for e in got] == ["async remote"]
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert children() == before
        # a short read ends by itself; async with closes
        async with AsyncRemoteEntries(LOCAL, matches=[f"TEST_TAG={tag}"]) as short:
            assert [e.message async for e in short] == ["async remote"]
        assert children() == before

    asyncio.run(main())


ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))


def sysd_cli(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "LANG": "C.UTF-8", "SYSTEMD_COLORS": "0",
           "PYTHONPATH": os.path.join(ROOT, "src")}  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "sysd", *argv], capture_output=True, text=True, env=env,
        timeout=60, check=False,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["logs", "-M", "sysd-no-such-box", "-n", "1"], "container sysd-no-such-box"),
        (["-M", "sysd-no-such-box", "logs", "-n", "1"], "container sysd-no-such-box"),
        (["logs", "-M", "a;b"], "invalid"),
        (["logs", "-H", "-oProxyCommand=touch /tmp/pwned", "-n", "1"], "invalid host"),
        (["logs", "-H", "web1", "/usr/bin/true"], "path matches are not supported"),
        (["logs", "-H", "web1", "--list-boots"], "not supported with -H/-M"),
        (["logs", "-H", "web1", "-D", "/tmp"], "not supported with -H/-M"),
        (["logs", "-H", "web1", "-M", "box"], "not allowed with"),
        (["logs", "-H", "web1", "-f", "-U", "today"], "--until is not supported"),
    ],
)
def test_cli_remote_errors(systemd_host: None, argv: list[str], said: str) -> None:
    proc = sysd_cli(*argv)
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert said in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert not os.path.exists("/tmp/pwned")
