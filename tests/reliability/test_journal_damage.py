"""Journal files damaged under a reader (RELIABILITY 37): the entries before the damage,
then a typed JournalCorruptError, or, while following, a JournalDamageWarning, a count
on the reader, and following goes on, as journalctl -f skips such files.

Each test gets a journald of its own: a journal namespace (``LogNamespace=``), whose
files live in their own directory (``/var/log/journal/MACHINE.NAMESPACE``), so that the
files damaged here are no other test's and the followed directory receives new entries
from a real journald.  Nothing here is timed: waits are bounded, assertions are on
entries, errors, warnings and counters.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import sysd.journal
import sysd.journal.aio
from sysd.journal import (
    Entries,
    Entry,
    JournalCorruptError,
    JournalDamageWarning,
    _files,
    send_fields,
)
from sysd.journal._reader import DEFAULT_POLL_INTERVAL, IDLE_POLL_INTERVAL, poll_delay

ROOT = Path(__file__).resolve().parents[2]
LINES = 3000


def _run(*argv: str, check: bool = True) -> str:
    proc = subprocess.run(list(argv), capture_output=True, text=True, timeout=60, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"{argv} exited {proc.returncode}: {proc.stderr}")
    return proc.stdout


def _until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.02)


@dataclass
class Namespace:
    """A journald of the test's own, and the archived file holding its LINES entries."""

    name: str
    directory: Path
    socket: str
    archived: Path

    @property
    def tag(self) -> str:
        return f"TEST_TAG={self.name}"

    def send(self, message: str) -> None:
        send_fields({"MESSAGE": message, "TEST_TAG": self.name}, socket_path=self.socket)

    def read(self, **kwargs: Any) -> Entries:
        return sysd.journal.entries(directory=self.directory, matches=[self.tag], **kwargs)


@pytest.fixture
def damage_ns(systemd_host: None) -> Iterator[Namespace]:
    name = f"sysdjd{uuid.uuid4().hex[:8]}"
    keeper = f"sysd-test-{name}.service"
    socket = f"/run/systemd/journal.{name}/socket"
    machine = Path("/etc/machine-id").read_text().strip()
    directory = Path(f"/var/log/journal/{machine}.{name}")
    # a unit logging to the namespace keeps its journald (socket-activated) running
    _run("systemd-run", f"--unit={keeper}", "-p", f"LogNamespace={name}", "sleep", "infinity")
    try:
        _until(lambda: os.path.exists(socket), 30, f"{socket} exists")
        ns = Namespace(name, directory, socket, directory)
        for i in range(1, LINES + 1):
            ns.send(f"line {i}")

        def stored() -> bool:
            with ns.read(fields=["MESSAGE"]) as it:
                return sum(1 for _ in it) == LINES

        _until(stored, 30, f"{LINES} entries in the namespace's journal")
        _run("journalctl", f"--namespace={name}", "--rotate")
        archived = [p for p in directory.iterdir() if "@" in p.name]
        assert len(archived) == 1, archived  # a new namespace: the one rotated away
        ns.archived = archived[0]
        with sysd.journal.entries(directory=directory, matches=[ns.tag]) as it:
            assert sum(1 for _ in it) == LINES  # all in the archived file (+ none active)
        yield ns
    finally:
        _run("systemctl", "stop", keeper, f"systemd-journald@{name}.service", check=False)
        shutil.rmtree(directory, ignore_errors=True)


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _prefix(got: list[Entry]) -> int:
    """How many of ``got`` are lines 1..k in order (the entries before the damage)."""
    k = 0
    for entry in got:
        if entry.message != f"line {k + 1}":
            break
        k += 1
    return k


def _next(it: Entries, timeout: float = 15) -> Entry:
    deadline = time.monotonic() + timeout
    while True:
        entry = it.next_nowait()
        if entry is not None:
            return entry
        if time.monotonic() > deadline:
            raise AssertionError(f"no entry within {timeout} s")
        it.wait(0.05)


def _truncate(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2)


def _zero(path: Path) -> None:
    size = path.stat().st_size
    with open(path, "r+b") as f:  # in place: a reader's memory map sees the zeros
        f.write(bytes(size))


DAMAGE = {"truncated": _truncate, "zeroed": _zero}


# --------------------------------------------------------------------- following


def test_a_damaged_archived_file_is_skipped_when_following_starts(damage_ns: Namespace) -> None:
    # journald sets damaged files aside as *.journal~; journalctl -f skips them
    bad = damage_ns.directory / "system@0000-damaged.journal~"
    shutil.copy(damage_ns.archived, bad)
    _truncate(bad)
    got: list[Entry] = []
    fds = _fds()
    with pytest.warns(JournalDamageWarning) as record, damage_ns.read(follow=True) as it:
        while len(got) < LINES:
            got.append(_next(it))
        damage_ns.send("after")
        assert _next(it).message == "after"  # following goes on
        stats = it.statistics()
    assert _prefix(got) == LINES  # the intact file, whole
    assert stats.skipped_files == 1
    (warning,) = [w.message for w in record]
    assert isinstance(warning, JournalDamageWarning)
    assert warning.path == str(bad) and warning.problem == "truncated"
    # not following: the entries, then the typed error (RELIABILITY 37)
    with damage_ns.read() as it, pytest.raises(JournalCorruptError) as info:
        got = []
        for entry in it:
            got.append(entry)
    assert info.value.path == str(bad)
    assert [e.message for e in got][-1] == "after"
    assert _fds() == fds and not list(Path("/dev/shm").glob("sysd-journal-*"))


def test_sysd_logs_follow_skips_a_damaged_file(damage_ns: Namespace) -> None:
    bad = damage_ns.directory / "system@0000-damaged.journal~"
    shutil.copy(damage_ns.archived, bad)
    _zero(bad)
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONPATH": str(ROOT / "src")}
    argv = [sys.executable, "-m", "sysd", "logs", "-f", "-o", "cat", "-D",
            str(damage_ns.directory), damage_ns.tag]  # fmt: skip
    with subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as proc:  # before: it ended at once with JournalCorruptError
        try:
            assert proc.stdout is not None and proc.stderr is not None
            last = [proc.stdout.readline() for _ in range(10)]  # -f: the last 10 first
            assert last == [f"line {i}\n".encode() for i in range(LINES - 9, LINES + 1)]
            damage_ns.send("after")
            assert proc.stdout.readline() == b"after\n"  # still following
            assert (
                proc.stderr.readline()
                == (
                    f"sysd logs: journal file {bad} (bad header, {bad.stat().st_size} bytes): "
                    "ignoring the file, following goes on\n"
                ).encode()
            )
        finally:
            proc.terminate()
            proc.wait(10)


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_file_damaged_under_a_follower_is_skipped_and_following_goes_on(
    damage_ns: Namespace, damage: str
) -> None:
    got: list[Entry] = []
    with damage_ns.read(follow=True) as it:
        for _ in range(100):
            got.append(_next(it))
        DAMAGE[damage](damage_ns.archived)
        damage_ns.send("after damage")
        with pytest.warns(JournalDamageWarning) as record:
            while got[-1].message != "after damage":
                got.append(_next(it))
            damage_ns.send("later")  # the warning comes at the latest before this
            assert _next(it).message == "later"  # following goes on
        stats = it.statistics()
    k = _prefix(got)
    assert 100 <= k < LINES, k  # what was read before the damage, in order, no gap
    assert [e.message for e in got[k:]] == ["after damage"]
    assert stats.skipped_files == 1
    assert [w.message.path for w in record] == [str(damage_ns.archived)]  # type: ignore[union-attr]


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_file_damaged_under_an_asyncio_follower(damage_ns: Namespace, damage: str) -> None:
    async def main() -> tuple[list[Entry], Any]:
        got: list[Entry] = []
        async with sysd.journal.aio.entries(
            directory=damage_ns.directory, matches=[damage_ns.tag], follow=True
        ) as it:
            async for entry in it:
                got.append(entry)
                if len(got) == 100:
                    DAMAGE[damage](damage_ns.archived)
                    damage_ns.send("after damage")
                if entry.message == "after damage":
                    damage_ns.send("later")  # the warning comes at the latest before this
                if entry.message == "later":
                    break
            return got, it.statistics()

    with pytest.warns(JournalDamageWarning):
        got, stats = asyncio.run(asyncio.wait_for(main(), 60))
    k = _prefix(got)
    assert 100 <= k < LINES and [e.message for e in got[k:]] == ["after damage", "later"]
    assert stats.skipped_files == 1


# ----------------------------------------------------------------- not following


def _read_blocking(ns: Namespace, damage: Callable[[Path], None]) -> tuple[list[Entry], Any]:
    got: list[Entry] = []
    it = ns.read()
    try:
        for entry in it:
            got.append(entry)
            if len(got) == 100:
                damage(ns.archived)
    except JournalCorruptError as exc:
        assert it.closed
        return got, exc
    return got, None


def _read_asyncio(ns: Namespace, damage: Callable[[Path], None]) -> tuple[list[Entry], Any]:
    async def main() -> tuple[list[Entry], Any]:
        got: list[Entry] = []
        try:
            async with sysd.journal.aio.entries(directory=ns.directory, matches=[ns.tag]) as it:
                async for entry in it:
                    got.append(entry)
                    if len(got) == 100:
                        damage(ns.archived)
        except JournalCorruptError as exc:
            return got, exc
        return got, None

    return asyncio.run(asyncio.wait_for(main(), 60))


@pytest.mark.parametrize("reader", [_read_blocking, _read_asyncio], ids=["blocking", "asyncio"])
@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_file_damaged_under_a_reader_gives_its_entries_then_a_typed_error(
    damage_ns: Namespace, damage: str, reader: Any
) -> None:
    fds = _fds()
    got, error = reader(damage_ns, DAMAGE[damage])
    assert _fds() == fds  # the journal files, inotify and copies released
    # before: the iterator simply ended, with no error, after the first few hundred
    assert isinstance(error, JournalCorruptError), error
    assert 100 <= _prefix(got) == len(got) < LINES  # the entries before the damage, in order
    assert error.path == str(damage_ns.archived) and error.cursor == got[-1].cursor


def _fake_journal(path: Path, size: int = 4096) -> None:
    """A file whose header and tail object look like an archived journal file's."""
    header = bytearray(256)
    header[:8] = _files.SIGNATURE
    header[16] = 2  # STATE_ARCHIVED
    header[88:104] = (256).to_bytes(8, "little") + (size - 256).to_bytes(8, "little")
    header[136:144] = (256).to_bytes(8, "little")  # tail object: an entry array, 64 bytes
    tail = bytes([6]) + bytes(7) + (64).to_bytes(8, "little")
    path.write_bytes(bytes(header) + tail + bytes(size - 256 - len(tail)))


def test_file_health_reports_each_damage_once(tmp_path: Path) -> None:
    archived, active = tmp_path / "system@1.journal", tmp_path / "system.journal"
    _fake_journal(archived)
    _fake_journal(active)
    health = _files.Health(lambda: _files.directory_files(str(tmp_path)))
    assert health.check() == []
    os.truncate(archived, 2048)  # under the reader
    assert [(d.path, d.problem) for d in health.check()] == [(str(archived), "truncated")]
    assert health.check() == []  # once
    with open(active, "r+b") as f:  # zeroed from the tail object on, header intact
        f.seek(256)
        f.write(bytes(4096 - 256))
    assert [d.problem for d in health.check()] == ["bad tail object"]
    # journald creates an active file empty and writes its header a moment later: not
    # damage; an archived name is never created in place: damage
    active.unlink()
    active.write_bytes(b"")
    (tmp_path / "system@2.journal~").write_bytes(b"LPKS")
    assert [d.path for d in health.check()] == [str(tmp_path / "system@2.journal~")]
    _fake_journal(active)
    assert health.check() == []
    # what a reader opening the files is told: every damaged one
    first = _files.Health(lambda: _files.directory_files(str(tmp_path)))
    assert len(first.check()) == 2 and first.checks == 1


# ------------------------------------------------------------------------ idling


def test_the_poll_backs_off_when_idle_and_speeds_up_with_entries() -> None:
    delays = [poll_delay(DEFAULT_POLL_INTERVAL, n) for n in range(200)]
    assert delays[0] == DEFAULT_POLL_INTERVAL and delays[-1] == IDLE_POLL_INTERVAL
    assert delays == sorted(delays)
    # fast for longer than the gaps between entries of a busy writer (the benchmark's 30 ms)
    assert sum(d for d in delays if d == DEFAULT_POLL_INTERVAL) >= 0.05
    # an idle follower settles at a few wakeups a second within about a second
    settled = next(n for n, d in enumerate(delays) if d == IDLE_POLL_INTERVAL)
    assert sum(delays[:settled]) < 1.5 and settled < 40
    assert poll_delay(1.0, 100) == 1.0  # a slower poll asked for is never made faster


def test_an_idle_follower_wakes_a_few_times_a_second(damage_ns: Namespace) -> None:
    with damage_ns.read(follow=True, lines=0) as it:
        for _ in range(40):  # nothing comes: each wait is longer, up to the idle rate
            assert it.next_nowait() is None
            it.wait()
        stats = it.statistics()
        assert stats.idle_polls >= 40 and stats.poll_interval == IDLE_POLL_INTERVAL
        assert stats.wakeups == 40
        damage_ns.send("wake up")
        assert _next(it, 5).message == "wake up"  # inotify (or the slow poll) brings it
        assert it.statistics().poll_interval == DEFAULT_POLL_INTERVAL  # fast again
