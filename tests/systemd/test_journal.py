"""sysd.journal against the real journald of the sandbox; ``sysd logs -f`` and the journal
lines of ``sysd status`` (the rest of ``sysd logs`` against journalctl:
test_cli_diff_logs.py).

Every test writes its own entries with a unique ``TEST_TAG`` and reads them back; timing
checks are loose (follow latency: well under a second), never the benchmark's targets.
"""

from __future__ import annotations

import asyncio
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import sysd
import sysd.journal
import sysd.journal.aio
from sysd.errors import InvalidCallError
from sysd.journal import (
    AsyncEntries,
    Entries,
    Entry,
    InvalidJournalFieldError,
    InvalidTimestampError,
    JournalCorruptError,
    JournalError,
    JournalHandler,
    JournalNotFoundError,
    send,
)

ROOT = Path(__file__).resolve().parents[2]
ENV = {
    "PATH": "/usr/bin:/bin:/usr/sbin:/sbin",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "SYSTEMD_COLORS": "0",
    "TZ": "Europe/Berlin",
    "PYTHONPATH": str(ROOT / "src"),
    "COLUMNS": "80",
}


def new_tag() -> str:
    return uuid.uuid4().hex


def wait_for(n: int, timeout: float = 15, **kwargs: Any) -> list[Entry]:
    """The entries selected by ``kwargs`` once there are at least ``n`` (journald is async)."""
    deadline = time.monotonic() + timeout
    while True:
        with sysd.journal.entries(**kwargs) as it:
            got = list(it)
        if len(got) >= n or time.monotonic() > deadline:
            return got
        time.sleep(0.05)


def next_within(it: Entries, timeout: float) -> Entry:
    deadline = time.monotonic() + timeout
    while True:
        entry = it.next_nowait()
        if entry is not None:
            return entry
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no entry within {timeout} s")
        it.wait(min(left, 0.05))


def tagged(tag: str, n: int, **kwargs: Any) -> list[Entry]:
    return wait_for(n, matches=[f"TEST_TAG={tag}"], **kwargs)


def send_retrying(message: str, timeout: float = 30, **fields: Any) -> None:
    """send(), retried while journald restarts."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            send(message, **fields)
            return
        except JournalNotFoundError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def run(*argv: str, check: bool = True, env: dict[str, str] | None = None) -> bytes:
    proc = subprocess.run(list(argv), capture_output=True, timeout=120, check=False, env=env or ENV)
    if check and proc.returncode != 0:
        raise AssertionError(f"{argv} exited {proc.returncode}: {proc.stderr.decode()}")
    return proc.stdout


def current_boot() -> str:
    return Path("/proc/sys/kernel/random/boot_id").read_text().strip().replace("-", "")


# ------------------------------------------------------------------------ writing


def test_send_and_read_back(systemd_host: None) -> None:
    tag = new_tag()
    before = datetime.now(UTC)
    send("hello journal", priority="notice", TEST_TAG=tag, NUMBER=5, WORDS=["a", "b"])
    (e,) = tagged(tag, 1)
    assert e.message == "hello journal" and e.priority == 5
    assert e["NUMBER"] == "5" and e.getall("WORDS") == ["a", "b"]
    assert e.identifier == os.path.basename(sys.argv[0]) and e.pid == os.getpid()
    assert e["_TRANSPORT"] == "journal" and e.boot_id == current_boot()
    assert before - timedelta(seconds=5) <= e.timestamp <= datetime.now(UTC)
    assert e.cursor and e.cursor.startswith("s=")
    assert e.monotonic > timedelta(0)


def test_binary_values(systemd_host: None) -> None:
    tag = new_tag()
    send("bin", TEST_TAG=tag, BLOB=b"\x00\xff\x01", NL=b"a\nb\x00c", UTF="h\u00e9", NUL=b"x\x00")
    (e,) = tagged(tag, 1)
    assert e["BLOB"] == b"\x00\xff\x01"
    assert e["NL"] == "a\nb\x00c" and e.raw("NL") == b"a\nb\x00c"
    assert e["UTF"] == "h\u00e9" and e["NUL"] == "x\x00"


@pytest.mark.parametrize("size", [70 * 1024, 1536 * 1024])
@pytest.mark.parametrize("path", ["default", "memfd"])
def test_large_messages_are_read_full_size(
    systemd_host: None, monkeypatch: pytest.MonkeyPatch, size: int, path: str
) -> None:
    from sysd.journal import _writer

    if path == "memfd":  # a send buffer too small for the datagram: the memfd path
        monkeypatch.setattr(_writer, "_SNDBUF", 4096)
    _writer._SOCKET.reset()
    try:
        tag = new_tag()
        body = (uuid.uuid4().hex * (size // 32 + 1))[:size]
        send(body, TEST_TAG=tag, TAIL="end")
        (e,) = tagged(tag, 1)
        assert len(e.raw("MESSAGE")) == size and e.message == body and e["TAIL"] == "end"
        (only,) = tagged(tag, 1, fields=["MESSAGE"])
        assert only.message == body and list(only) == ["MESSAGE"]
    finally:
        _writer._SOCKET.reset()


def test_unprivileged_user_sends_a_big_message_and_reads_it(
    systemd_host: None, as_user: Any
) -> None:
    tag = new_tag()
    code = f"""
        import sysd.journal, time
        body = "u" * (1536 * 1024)
        sysd.journal.send(body, TEST_TAG="{tag}")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            got = list(sysd.journal.entries(matches=["TEST_TAG={tag}"]))
            if got:
                break
            time.sleep(0.1)
        print(len(got), len(got[0].message) if got else 0)
    """
    proc = as_user(code, env={"PYTHONPATH": str(ROOT / "src")})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["1", str(1536 * 1024)]
    (e,) = tagged(tag, 1)  # as root, from the system journal view
    assert len(e.raw("MESSAGE")) == 1536 * 1024


def test_logging_handler(systemd_host: None) -> None:
    import logging

    tag = new_tag()
    log = logging.getLogger(f"sysd.journal.test.{tag}")
    handler = JournalHandler(identifier="handler-test", TEST_TAG=tag)
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("careful %s", "now", extra={"request_id": 42})
        try:
            1 / 0  # noqa: B018
        except ZeroDivisionError:
            log.exception("it broke")
    finally:
        log.removeHandler(handler)
    first, second = tagged(tag, 2)
    assert first.message == "careful now" and first.priority == 4
    assert first["CODE_FUNC"] == "test_logging_handler" and first["CODE_FILE"] == __file__
    assert first["LOGGER"] == log.name and first["REQUEST_ID"] == "42"
    assert first.identifier == "handler-test"
    assert second.priority == 3 and "ZeroDivisionError" in second["EXCEPTION_TEXT"]


# ------------------------------------------------------------------------ reading


@pytest.fixture
def ten(systemd_host: None) -> tuple[str, list[Entry]]:
    tag = new_tag()
    for i in range(10):
        send(f"message {i}", TEST_TAG=tag, SEQ=i)
    return tag, tagged(tag, 10)


def seqs(entries: Any) -> list[int]:
    return [int(e["SEQ"]) for e in entries]


def test_lines_reverse_and_cursors(ten: tuple[str, list[Entry]]) -> None:
    tag, entries = ten
    match = [f"TEST_TAG={tag}"]
    assert seqs(entries) == list(range(10))

    def read(**kwargs: Any) -> list[int]:
        with sysd.journal.entries(matches=match, **kwargs) as it:
            return seqs(it)

    assert read(lines=3) == [7, 8, 9]
    assert read(lines=0) == []
    assert read(lines=50) == list(range(10))
    assert read(reverse=True) == list(range(9, -1, -1))
    assert read(reverse=True, lines=2) == [9, 8]
    c = entries[4].cursor
    assert c is not None
    assert read(cursor=c) == list(range(4, 10))
    assert read(after_cursor=c) == list(range(5, 10))
    assert read(cursor=c, lines=2) == [4, 5]
    assert read(after_cursor=c, reverse=True) == [3, 2, 1, 0]
    assert read(after_cursor=entries[-1].cursor) == []
    it = sysd.journal.entries(matches=match, lines=2)
    assert seqs(it) == [8, 9] and it.cursor == entries[-1].cursor and it.closed
    # a cursor whose entry is gone (same place, other entry): resume there, skip nothing
    vanished = re.sub(r"x=[0-9a-f]+", "x=1", c)
    assert read(after_cursor=vanished) == list(range(4, 10))
    with pytest.raises(InvalidCallError):
        sysd.journal.entries(cursor="garbage")
    with pytest.raises(InvalidCallError):
        sysd.journal.entries(cursor=c, after_cursor=c)


def test_since_and_until(ten: tuple[str, list[Entry]]) -> None:
    tag, entries = ten
    match = [f"TEST_TAG={tag}"]
    third = entries[3].timestamp
    seventh = entries[7].timestamp

    def read(**kwargs: Any) -> list[int]:
        return seqs(sysd.journal.entries(matches=match, **kwargs))

    assert read(since=third) == list(range(3, 10))
    assert read(until=seventh) == list(range(8))
    assert read(since=third, until=seventh) == list(range(3, 8))
    assert read(since=third, until=seventh, reverse=True) == list(range(7, 2, -1))
    assert read(since=third, lines=2) == [8, 9]  # (sysd logs -S -n: the first N, its own)
    assert read(since=seventh, lines=5) == [7, 8, 9]
    assert read(until=seventh, lines=2) == [6, 7]
    assert read(since=third, until=seventh, lines=10) == list(range(3, 8))
    usec = entries[3].realtime_usec
    stamp = f"@{usec // 10**6}.{usec % 10**6:06d}"
    assert read(since=stamp) == list(range(3, 10))
    assert read(since="-1h") == list(range(10))
    assert read(until="-1h") == []
    assert read(since=third.astimezone(None).replace(tzinfo=None)) == list(range(3, 10))
    with pytest.raises(InvalidTimestampError):
        sysd.journal.entries(since="the day after tomorrow")
    with pytest.raises(InvalidCallError):
        sysd.journal.entries(since=seventh, until=third)
    with pytest.raises(InvalidCallError):
        sysd.journal.entries(since=third, cursor=entries[0].cursor)


def test_priority_grep_identifier_and_fields(systemd_host: None) -> None:
    tag = new_tag()
    for prio, ident, text in [
        (2, "one", "Crit thing"), (3, "one", "an error here"), (4, "two", "ERROR shouting"),
        (6, "two", "all fine"), (7, "three", "debug error detail"),
    ]:  # fmt: skip
        send(text, priority=prio, TEST_TAG=tag, SYSLOG_IDENTIFIER=ident)
    match = [f"TEST_TAG={tag}"]
    assert len(tagged(tag, 5)) == 5

    def messages(**kwargs: Any) -> list[str]:
        return [str(e.message) for e in sysd.journal.entries(matches=match, **kwargs)]

    assert messages(priority="warning") == ["Crit thing", "an error here", "ERROR shouting"]
    assert messages(priority="err..warning") == ["an error here", "ERROR shouting"]
    assert messages(priority=(4, 3)) == messages(priority="err..warning")
    assert messages(grep="error") == ["an error here", "ERROR shouting", "debug error detail"]
    assert messages(grep="ERROR") == ["ERROR shouting"]
    assert messages(grep=re.compile("er{2}or", re.I)) == messages(grep="error")
    assert messages(grep="error", lines=2) == ["ERROR shouting", "debug error detail"]
    assert messages(grep="error", lines=1, reverse=True) == ["debug error detail"]
    assert messages(grep="error", priority="info") == ["an error here", "ERROR shouting"]
    assert messages(identifier="two") == ["ERROR shouting", "all fine"]
    assert messages(identifier=["one", "three"]) == [
        "Crit thing", "an error here", "debug error detail",
    ]  # fmt: skip
    either = [*match, "SYSLOG_IDENTIFIER=one", "+", *match, "PRIORITY=7"]
    assert [e.message for e in sysd.journal.entries(matches=either)] == [
        "Crit thing", "an error here", "debug error detail",
    ]  # fmt: skip
    assert messages(grep="nothing matches this") == []
    only = list(sysd.journal.entries(matches=match, fields=["MESSAGE", "PRIORITY"], grep="fine"))
    assert [dict(e) for e in only] == [{"MESSAGE": "all fine", "PRIORITY": "6"}]
    assert only[0].cursor
    with pytest.raises(InvalidJournalFieldError):
        sysd.journal.entries(priority="loud")
    with pytest.raises(InvalidJournalFieldError):
        sysd.journal.entries(fields=["bad name"])
    with pytest.raises(InvalidJournalFieldError):
        sysd.journal.entries(matches=["lower=case"])
    with pytest.raises(InvalidJournalFieldError):
        sysd.journal.entries(grep="(")


def test_a_units_logs(systemd_host: None) -> None:
    name = f"sysdj-{new_tag()[:10]}"
    run("systemd-run", f"--unit={name}", "--wait", "sh", "-c", "echo hi; echo there >&2")
    wanted = json.loads(
        "[" + ",".join(run("journalctl", "-u", name, "-o", "json").decode().splitlines()) + "]"
    )
    got = wait_for(len(wanted), unit=name)
    assert [e.cursor for e in got] == [w["__CURSOR"] for w in wanted]
    messages = [e.message for e in got]
    assert "hi" in messages and "there" in messages
    hi = got[messages.index("hi")]
    assert hi.unit == f"{name}.service" and hi["_TRANSPORT"] == "stdout"
    assert any(e.pid == 1 and e["UNIT"] == f"{name}.service" for e in got)  # from PID 1
    assert [e.cursor for e in sysd.journal.entries(unit=f"{name}*")] == [e.cursor for e in got]
    assert [e.cursor for e in Entries.for_unit(name, lines=2)] == [e.cursor for e in got[-2:]]
    assert list(sysd.journal.entries(unit="sysdj-no-such-unit-*")) == []
    assert list(sysd.journal.entries(unit="sysdj-no-such-unit")) == []
    with pytest.raises(JournalError, match="another machine"):
        Entries.for_unit(name, scope="remote")

    async def main() -> list[str | None]:
        async with AsyncEntries.for_unit(name, lines=None) as it:
            return [e.cursor async for e in it]

    assert asyncio.run(main()) == [e.cursor for e in got]


def test_user_unit_logs_as_the_unprivileged_user(systemd_host: None, as_user: Any) -> None:
    name = f"sysdj-user-{new_tag()[:8]}"
    code = f"""
        import subprocess, time, sysd.journal
        subprocess.run(["systemd-run", "--user", "--unit={name}", "--wait", "sh", "-c",
                        "echo from-user-unit"], check=True, capture_output=True)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            got = [e.message for e in sysd.journal.entries(user_unit="{name}")]
            if "from-user-unit" in got:
                break
            time.sleep(0.1)
        print(got)
    """
    proc = as_user(code, env={"PYTHONPATH": str(ROOT / "src")})
    assert proc.returncode == 0, proc.stderr
    assert "from-user-unit" in proc.stdout


def test_boots(systemd_host: None) -> None:
    tag = new_tag()
    send("boot", TEST_TAG=tag)
    (e,) = tagged(tag, 1)
    boot = current_boot()
    for value in (True, 0, boot):
        assert [x.cursor for x in tagged(tag, 1, boot=value)] == [e.cursor]
    with pytest.raises(JournalNotFoundError):
        sysd.journal.entries(boot=-5)
    with pytest.raises(InvalidCallError):
        sysd.journal.entries(boot="not-a-boot-id")
    boots = sysd.journal.list_boots()
    assert boots[-1][0] == boot and boots[-1][1] <= e.timestamp


# ------------------------------------------------------------------------ following


def test_follow_latency(systemd_host: None) -> None:
    tag = new_tag()
    latencies = []
    with sysd.journal.entries(matches=[f"TEST_TAG={tag}"], follow=True, lines=0) as it:
        for i in range(20):
            start = time.monotonic()
            send(f"follow {i}", TEST_TAG=tag)
            e = next_within(it, 5)
            latencies.append(time.monotonic() - start)
            assert e.message == f"follow {i}"
            time.sleep(0.01)
    latencies.sort()
    assert latencies[len(latencies) // 2] < 0.1, latencies  # the target is 10 ms: bench/


def test_follow_shows_the_last_lines_then_new_ones(ten: tuple[str, list[Entry]]) -> None:
    tag, _ = ten
    with sysd.journal.entries(matches=[f"TEST_TAG={tag}"], follow=True, lines=2) as it:
        assert [int(next_within(it, 5)["SEQ"]) for _ in range(2)] == [8, 9]
        assert it.next_nowait() is None
        send("later", TEST_TAG=tag, SEQ=10)
        assert next_within(it, 5)["SEQ"] == "10"
    with sysd.journal.entries(
        matches=[f"TEST_TAG={tag}"], follow=True, lines=1, grep="message"
    ) as it:
        assert next_within(it, 5)["SEQ"] == "9"
        send("another message", TEST_TAG=tag, SEQ=11)
        send("not this one", TEST_TAG=tag, SEQ=12)
        send("a message again", TEST_TAG=tag, SEQ=13)
        assert [next_within(it, 5)["SEQ"] for _ in range(2)] == ["11", "13"]


def test_follow_survives_rotation_vacuum_and_a_journald_restart(systemd_host: None) -> None:
    tag = new_tag()
    with sysd.journal.entries(matches=[f"TEST_TAG={tag}"], follow=True, lines=0) as it:
        send("before", TEST_TAG=tag)
        assert next_within(it, 5).message == "before"
        run("journalctl", "--rotate")
        send("after rotate", TEST_TAG=tag)
        assert next_within(it, 10).message == "after rotate"
        run("journalctl", "--vacuum-files=1")
        send("after vacuum", TEST_TAG=tag)
        assert next_within(it, 10).message == "after vacuum"
        run("systemctl", "restart", "systemd-journald.service")
        send_retrying("after restart", TEST_TAG=tag)
        assert next_within(it, 15).message == "after restart"
        pid = int(run("systemctl", "show", "-P", "MainPID", "systemd-journald.service"))
        os.kill(pid, 9)  # a crash: journald sets the file aside as dirty and starts a new one
        send_retrying("after a crash", TEST_TAG=tag)
        assert next_within(it, 15).message == "after a crash"
        # journald truncates the files it archives, under the reader's memory map: before
        # the SIGBUS handler (sysd.journal._sigbus) this killed the reader within a few rounds
        for i in range(6):
            run("systemctl", "reset-failed", "systemd-journald.service", check=False)
            for argv in (["journalctl", "--rotate"], ["journalctl", "--vacuum-files=1"],
                         ["systemctl", "restart", "systemd-journald.service"]):  # fmt: skip
                run(*argv)
                send_retrying(f"round {i} {argv[-1]}", TEST_TAG=tag)
                assert next_within(it, 15).message == f"round {i} {argv[-1]}"


def test_follow_idles_without_spinning(systemd_host: None) -> None:
    with sysd.journal.entries(matches=[f"TEST_TAG={new_tag()}"], follow=True, lines=0) as it:
        start_cpu, start = time.process_time(), time.monotonic()
        while time.monotonic() - start < 1.0:
            assert it.next_nowait() is None
            it.wait(0.2)
        cpu = time.process_time() - start_cpu
    assert cpu < 0.25, cpu  # loose: the benchmark measures the real figure


def test_async_follow_is_cancellable_and_never_blocks_the_loop(systemd_host: None) -> None:
    tag = new_tag()
    backlog = new_tag()
    run("systemd-cat", "-t", backlog, "seq", "1", "20000")
    assert len(wait_for(20000, identifier=backlog, fields=["MESSAGE"])) == 20000

    async def main() -> None:
        loop = asyncio.get_running_loop()
        gaps: list[float] = []
        stop = False

        async def ticker() -> None:
            last = loop.time()
            while not stop:
                await asyncio.sleep(0.001)
                now = loop.time()
                gaps.append(now - last)
                last = now

        tick = asyncio.create_task(ticker())
        async with sysd.journal.aio.entries(identifier=backlog) as it:
            count = sum([1 async for _ in it])
        assert count == 20000
        stop = True
        await tick
        # a read on the loop would stall it for the whole backlog (seconds); the slack is
        # for a loaded 2-core machine descheduling us
        assert max(gaps) < 0.5, max(gaps)

        it2 = sysd.journal.aio_follow(matches=[f"TEST_TAG={tag}"], lines=0)
        got: list[Entry] = []

        async def consume() -> None:
            async for entry in it2:
                got.append(entry)

        task = asyncio.create_task(consume())
        # lines=0 starts at the tail as it is when the reader is open (in a worker
        # thread): an entry sent before then is not followed, so wait for that, not 0.3 s
        deadline = loop.time() + 15
        while it2._reader is None and loop.time() < deadline:
            await asyncio.sleep(0.005)
        assert it2._reader is not None
        send("async one", TEST_TAG=tag)
        deadline = loop.time() + 5
        while not got and loop.time() < deadline:
            await asyncio.sleep(0.005)
        assert [e.message for e in got] == ["async one"]
        start = loop.time()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert loop.time() - start < 2  # at once, not after a poll or a timeout (slack: load)
        await it2.aclose()
        assert it2._reader is None
        with pytest.raises(StopAsyncIteration):
            await it2.__anext__()

        # cancelled while the journal is being opened in the worker thread
        early = sysd.journal.aio.entries(matches=[f"TEST_TAG={tag}"])
        opening = asyncio.create_task(early.__anext__())
        await asyncio.sleep(0)
        opening.cancel()
        with pytest.raises(asyncio.CancelledError):
            await opening
        await early.aclose()

    asyncio.run(main())


# ---------------------------------------------------------------- damage, absence


def _count_in_file(path: str, ident: str) -> int:
    """How many entries of ``ident`` the journal file at ``path`` holds (journalctl --file)."""
    out = subprocess.run(
        ["journalctl", "--file", path, "-t", ident, "-o", "cat", "--no-pager"],
        capture_output=True, env=ENV, check=False,
    ).stdout  # fmt: skip
    return out.count(b"\n")


@pytest.fixture
def archived(systemd_host: None, tmp_path: Path) -> tuple[str, Path, int]:
    """A rotated-away system journal file holding (little but) 3000 entries of a fresh
    identifier.

    The file is found by what it holds, not by its mtime: other tests write to the
    journal (and journald may rotate on its own) at the same time, so "the newest
    archived file" need not be the one with our entries.  When journald happened to
    rotate in the middle of the 3000 lines, they are split over two files: try again.
    """
    for _attempt in range(3):
        ident = f"sysdj-{new_tag()[:10]}"
        run("journalctl", "--rotate")
        run(
            "systemd-cat", "-t", ident, "sh", "-c",
            "for i in $(seq 1 3000); do echo line $i; done",
        )  # fmt: skip
        assert len(wait_for(3000, identifier=ident, fields=["MESSAGE"])) == 3000
        run("journalctl", "--rotate")
        files = glob.glob("/var/log/journal/*/*@*.journal") + glob.glob(
            "/run/log/journal/*/*@*.journal"
        )
        for path in sorted(files, key=os.path.getmtime, reverse=True):
            if _count_in_file(path, ident) == 3000:
                return ident, Path(path), os.path.getsize(path)
    raise AssertionError("no archived journal file holds all 3000 entries after 3 tries")


def read_until_error(**kwargs: Any) -> tuple[list[Entry], JournalError | None, float]:
    start = time.monotonic()
    got: list[Entry] = []
    try:
        for e in sysd.journal.entries(**kwargs):
            got.append(e)
    except JournalError as exc:
        return got, exc, time.monotonic() - start
    return got, None, time.monotonic() - start


def test_a_truncated_journal_file_gives_its_entries_then_a_typed_error(
    archived: tuple[str, Path, int], tmp_path: Path
) -> None:
    ident, source, size = archived
    whole = tmp_path / "whole"
    whole.mkdir()
    shutil.copy(source, whole / "system.journal")
    complete, error, _ = read_until_error(directory=whole, identifier=ident)
    assert error is None and len(complete) == 3000
    cut = tmp_path / "cut"
    cut.mkdir()
    damaged = cut / "system@0.journal"
    shutil.copy(source, damaged)
    os.truncate(damaged, int(size * 0.85))
    got, error, elapsed = read_until_error(directory=cut, identifier=ident)
    assert isinstance(error, JournalCorruptError), error
    assert 0 < len(got) < 3000 and elapsed < 10
    assert [e.message for e in got] == [f"line {i}" for i in range(1, len(got) + 1)]
    assert error.path == str(damaged) and error.paths == (str(damaged),)
    assert error.cursor == got[-1].cursor and "truncated" in str(error)
    assert not glob.glob("/dev/shm/sysd-journal-*")  # the fixed-up copy is gone
    # with an intact file beside it, both are read, then the error
    shutil.copy(source, cut / "system@1.journal")
    both, error, _ = read_until_error(directory=cut, identifier=ident)  # the same entries
    assert isinstance(error, JournalCorruptError) and len(both) == 3000


def test_hopeless_journal_files(archived: tuple[str, Path, int], tmp_path: Path) -> None:
    ident, source, size = archived
    tiny = tmp_path / "tiny"
    tiny.mkdir()
    shutil.copy(source, tiny / "system.journal")
    os.truncate(tiny / "system.journal", 100)  # not even a header
    got, error, elapsed = read_until_error(directory=tiny)
    assert got == [] and isinstance(error, JournalCorruptError) and elapsed < 5
    garbage = tmp_path / "garbage"
    garbage.mkdir()
    data = bytearray(source.read_bytes())
    data[:8] = b"NOTAJRNL"
    (garbage / "system.journal").write_bytes(bytes(data))
    got, error, _ = read_until_error(directory=garbage)
    assert got == [] and isinstance(error, JournalCorruptError)
    # garbage inside a file: libsystemd skips what it cannot read; nothing hangs or crashes
    middle = tmp_path / "middle"
    middle.mkdir()
    data = bytearray(source.read_bytes())
    data[size // 2 : size // 2 + 65536] = os.urandom(65536)
    (middle / "system.journal").write_bytes(bytes(data))
    got, error, elapsed = read_until_error(directory=middle, identifier=ident)
    assert elapsed < 10 and (error is None or isinstance(error, JournalCorruptError))


def test_no_journal_is_a_clear_error(systemd_host: None, tmp_path: Path, as_user: Any) -> None:
    with pytest.raises(JournalNotFoundError, match="no journal directory") as info:
        sysd.journal.entries(directory=tmp_path / "missing")
    assert isinstance(info.value, FileNotFoundError) and info.value.path
    with pytest.raises(JournalNotFoundError, match="no journal files in"):
        sysd.journal.entries(directory=tmp_path)
    (tmp_path / "file").write_text("x")
    with pytest.raises(JournalNotFoundError, match="not a directory"):
        sysd.journal.entries(directory=tmp_path / "file")
    source = next(iter(glob.glob("/var/log/journal/*/system*.journal*")))
    base = Path(tempfile.mkdtemp(prefix="sysdj-perm-", dir="/tmp"))
    try:
        base.chmod(0o755)
        (base / "open").mkdir(mode=0o755)
        shutil.copy(source, base / "open" / "system.journal")
        (base / "open" / "system.journal").chmod(0o600)
        (base / "closed").mkdir(mode=0o700)
        code = f"""
            import sysd.journal
            for name in ("open", "closed"):
                try:
                    sysd.journal.entries(directory="{base}/" + name)
                except PermissionError as exc:
                    print(type(exc).__name__, exc.errno)
        """
        proc = as_user(code, env={"PYTHONPATH": str(ROOT / "src")})
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.split("\n")[:2] == ["JournalPermissionError 13"] * 2, proc.stdout
    finally:
        shutil.rmtree(base)


# ------------------------------------------------------------------------------ CLI


# `sysd logs` against journalctl, option by option and format by format:
# tests/systemd/test_cli_diff_logs.py


def test_cli_follow(systemd_host: None) -> None:
    tag = new_tag()
    send("first", TEST_TAG=tag)
    assert tagged(tag, 1)
    with subprocess.Popen(
        [sys.executable, "-m", "sysd", "logs", "-f", "-o", "cat", f"TEST_TAG={tag}"],
        env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    ) as proc:  # fmt: skip
        try:
            assert proc.stdout is not None
            assert proc.stdout.readline() == b"first\n"
            send("second", TEST_TAG=tag)
            assert proc.stdout.readline() == b"second\n"
        finally:
            proc.terminate()
            proc.wait(10)


# -------------------------------------------------------------------- sysd status


def _journal_part(text: bytes) -> list[bytes]:
    lines = text.splitlines()
    return [
        line for line in lines
        if re.match(rb"^[A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d ", line)
        or line.startswith((b"Notice:", b"Warning: "))
    ]  # fmt: skip


def test_status_shows_the_last_journal_lines(systemd_host: None) -> None:
    unit = f"sysdj-status-{new_tag()[:8]}"
    run(
        "systemd-run", f"--unit={unit}", "-p", "Type=oneshot", "-p", "RemainAfterExit=yes",
        "sh", "-c", "for i in $(seq 1 15); do echo status line $i; done",
    )  # fmt: skip
    assert len(wait_for(17, unit=unit)) >= 17
    try:
        for extra in ([], ["-n", "3"], ["-n", "0"], ["--lines", "25"]):
            mine = run(sys.executable, "-m", "sysd", "status", *extra, unit, check=False)
            theirs = run("systemctl", "status", "--no-pager", *extra, unit, check=False)
            assert _journal_part(mine) == _journal_part(theirs), extra
        default = _journal_part(run(sys.executable, "-m", "sysd", "status", unit))
        assert len(default) == 10 and default[-2].endswith(b"status line 15")
        none = run(sys.executable, "-m", "sysd", "status", "-n", "0", unit)
        assert _journal_part(none) == [] and not none.endswith(b"\n\n")
    finally:
        run("systemctl", "stop", f"{unit}.service", check=False)


# ------------------------------------------------------------------ reader errors


def test_closed_readers_and_fork(systemd_host: None) -> None:
    from sysd.journal import _lib

    it = sysd.journal.entries(lines=1)
    it.close()
    it.close()
    assert list(it) == [] and it.closed and "closed" in repr(it)
    with pytest.raises(JournalError, match="closed"):
        it.fileno()
    j = _lib.Journal.open()
    j.close()
    with pytest.raises(JournalError, match="closed"):
        j.read_batch(1)
    with pytest.raises(JournalError, match="closed"):
        j.next()
    live = _lib.Journal.open()
    pid = os.fork()
    if pid == 0:  # the child: sd-journal refuses a handle from before fork()
        code = 3
        try:
            live.next()
        except JournalError as exc:
            code = 0 if exc.errno == 10 and "fork" in str(exc) else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    live.close()
    assert os.waitstatus_to_exitcode(status) == 0
