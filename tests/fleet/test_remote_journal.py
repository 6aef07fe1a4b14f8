"""The remote journal over real ssh (the lab): entries equal ``journalctl -o export`` run on
that host, byte for byte; follow sees a new line; closing ends the remote journalctl;
hostile strings reach it as literal values; ssh and sudo failures are typed.
"""

from __future__ import annotations

import os
import random
import shlex
import subprocess
import sys
import time
import uuid
from typing import Any

import pytest

import sysd
import sysd.journal
from sysd._bus.address import resolve
from sysd._bus.ssh import live_masters
from sysd._core.journal_export import parse_export
from sysd.errors import RemoteJournalError
from sysd.journal import Entry, Formatter
from sysd.journal._remote import RemoteEntries
from sysd.sandbox import SshLab

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# a native-protocol writer run on the remote host (its python3): multi-line and binary
# fields, as sysd.journal.send() writes them
SEND = r"""
import socket, struct, sys
def field(name, value):
    if b"\n" in value:
        return name + b"\n" + struct.pack("<Q", len(value)) + value + b"\n"
    return name + b"=" + value + b"\n"
tag = sys.argv[1].encode()
msgs = [
    [(b"MESSAGE", b"plain"), (b"PRIORITY", b"6")],
    [(b"MESSAGE", b"two\nlines"), (b"BLOB", b"\x00\xff\x01\n"), (b"PRIORITY", b"3")],
    [(b"MESSAGE", b"h\xc3\xa9 \xe9t\xe9"), (b"WORDS", b"a"), (b"WORDS", b"b")],
    [(b"MESSAGE", b"x" * 70000), (b"EMPTY", b"")],
]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
for fields in msgs:
    data = b"".join(field(n, v) for n, v in fields + [(b"TEST_TAG", tag)])
    s.sendto(data, "/run/systemd/journal/socket")
"""


def ssh_bytes(lab: SshLab, host: str, words: list[str], user: str | None = None) -> bytes:
    dest = f"{user}@{host}" if user else host
    return subprocess.run(
        ["ssh", "-F", lab.ssh_config, "-o", "ControlPath=none", "--", dest, shlex.join(words)],
        capture_output=True, check=True, timeout=60, stdin=subprocess.DEVNULL,
    ).stdout  # fmt: skip


def log_on(lab: SshLab, host: str, count: int = 4) -> str:
    """Write the test's entries on ``host``; wait until journalctl there has them."""
    tag = uuid.uuid4().hex
    r = lab.ssh(host, f"python3 - {tag}", input=SEND)
    assert r.returncode == 0, r.stderr
    deadline = time.monotonic() + 20
    while True:
        out = ssh_bytes(lab, host, ["journalctl", "-o", "cat", f"TEST_TAG={tag}"])
        if out.count(b"\n") >= count or time.monotonic() > deadline:
            return tag
        time.sleep(0.2)


def key(e: Entry) -> tuple[Any, ...]:
    return (e.cursor, e.realtime_usec, e.monotonic_usec, e.boot_id, sorted(e.data))


def children() -> set[int]:
    """This process's ssh and journalctl children (running or not yet reaped)."""
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
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        if comm in ("ssh", "journalctl") and int(stat[stat.rindex(")") + 2 :].split()[1]) == me:
            out.add(int(name))
    return out


def remote_journalctls(lab: SshLab, host: str) -> int:
    r = lab.ssh(host, "pgrep -c -x journalctl || true")
    return int(r.stdout.strip() or 0)


def drain(it: Any, lab: SshLab, host: str, limit: float = 60) -> list[Entry]:
    """Every entry of a (not following) remote reader, within ``limit`` seconds; past it,
    fail with what runs here and there (a hang seen once under heavy load: the ssh whose
    output the reader waited for did not end)."""
    out: list[Entry] = []
    deadline = time.monotonic() + limit
    while True:
        try:
            entry = it.next_nowait()
        except StopIteration:
            return out
        if entry is not None:
            out.append(entry)
            continue
        if time.monotonic() > deadline:
            ps = ["ps", "-ef", "--forest"]
            here = subprocess.run(ps, capture_output=True, text=True, check=False).stdout
            mine = [ln for ln in here.splitlines() if "ssh" in ln or "journalctl" in ln]
            there = lab.ssh(host.rpartition("@")[2].partition("/")[0], "ps -ef", timeout=20)
            raise AssertionError(
                f"no end after {limit} s: {it!r}\nhere:\n"
                + "\n".join(mine)
                + f"\nthere:\n{there.stdout}"
            )
        it.wait(0.5)


def read(lab: SshLab, **kwargs: Any) -> list[Entry]:
    with sysd.journal.entries(ssh_config=lab.ssh_config, **kwargs) as it:
        return drain(it, lab, kwargs["host"])


def test_remote_entries_are_journalctl_export_on_that_host_byte_for_byte(ssh_lab: SshLab) -> None:
    tag = log_on(ssh_lab, "h1")
    raw = ssh_bytes(ssh_lab, "h1", ["journalctl", "-o", "export", f"TEST_TAG={tag}"])
    assert b"BLOB\n" in raw and b"MESSAGE\n" in raw
    with sysd.journal.entries(
        host="h1", ssh_config=ssh_lab.ssh_config, matches=[f"TEST_TAG={tag}"]
    ) as it:
        got = drain(it, ssh_lab, "h1")
    assert isinstance(it, RemoteEntries)
    assert len(got) == 4
    assert b"".join(Formatter("export")(e) for e in got) == raw
    assert [key(e) for e in got] == [key(e) for e in parse_export(raw)]
    assert got[1]["BLOB"] == b"\x00\xff\x01\n" and got[1].message == "two\nlines"
    assert got[2].getall("WORDS") == ["a", "b"] and got[2].raw("MESSAGE") == b"h\xc3\xa9 \xe9t\xe9"
    assert len(got[3].raw("MESSAGE")) == 70000 and got[3]["EMPTY"] == ""
    # the last lines, with priority: what journalctl -n 2 -p err shows there
    want = ssh_bytes(ssh_lab, "h1", ["journalctl", "-o", "export", "-p", "err", f"TEST_TAG={tag}"])
    with sysd.journal.entries(
        host="h1", ssh_config=ssh_lab.ssh_config, matches=[f"TEST_TAG={tag}"], priority="err",
        lines=2,
    ) as it:  # fmt: skip
        assert b"".join(Formatter("export")(e) for e in drain(it, ssh_lab, "h1")) == want


def test_the_hosts_are_told_apart(ssh_lab: SshLab) -> None:
    tag = log_on(ssh_lab, "h2")
    assert len(read(ssh_lab, host="h2", matches=[f"TEST_TAG={tag}"])) == 4
    assert read(ssh_lab, host="h3", matches=[f"TEST_TAG={tag}"]) == []


def test_remote_follow_sees_a_new_line_and_close_ends_the_remote_process(
    ssh_lab: SshLab,
) -> None:
    tag = log_on(ssh_lab, "h4")
    before = children()
    assert remote_journalctls(ssh_lab, "h4") == 0
    it = sysd.journal.entries(
        host="h4", ssh_config=ssh_lab.ssh_config, matches=[f"TEST_TAG={tag}"], lines=1,
        follow=True,
    )  # fmt: skip
    try:
        first = next(it)
        assert len(first.raw("MESSAGE")) == 70000
        r = ssh_lab.ssh("h4", f"logger --journald <<'EOF'\nMESSAGE=new line\nTEST_TAG={tag}\nEOF")
        assert r.returncode == 0, r.stderr
        assert next(it).message == "new line"
        assert remote_journalctls(ssh_lab, "h4") == 1
    finally:
        it.close()
    assert children() == before  # the local ssh is gone
    deadline = time.monotonic() + 15
    while remote_journalctls(ssh_lab, "h4") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert remote_journalctls(ssh_lab, "h4") == 0


HOSTILE = ["a;touch /tmp/pwned", "$(touch /tmp/pwned)", "`touch /tmp/pwned`", "it's", 'say "hi"',
           "two\nlines", "-oProxyCommand=x", "--since=tomorrow", "* ?"]  # fmt: skip


def test_hostile_match_strings_reach_the_remote_journalctl_as_values(ssh_lab: SshLab) -> None:
    tag = uuid.uuid4().hex
    # one entry per hostile value, written by the native protocol writer above
    script = SEND.replace(
        "msgs = [",
        f"msgs = [[(b'MESSAGE', b'hostile %d' % i), "
        f"(b'HOSTILE', v.encode())] for i, v in enumerate({HOSTILE!r})] or [",
    )
    r = ssh_lab.ssh("h5", f"python3 - {tag}", input=script)
    assert r.returncode == 0, r.stderr
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        raw = ssh_bytes(ssh_lab, "h5", ["journalctl", "-o", "cat", f"TEST_TAG={tag}"])
        if raw.count(b"hostile") == len(HOSTILE):
            break
        time.sleep(0.2)
    for i, value in enumerate(HOSTILE):
        got = read(ssh_lab, host="h5", matches=[f"TEST_TAG={tag}", f"HOSTILE={value}"])
        assert [e.message for e in got] == [f"hostile {i}"], value
        assert got[0]["HOSTILE"] == value
    nothing = read(ssh_lab, host="h5", matches=[f"TEST_TAG={tag}"], unit=HOSTILE[:3],
                   identifier=HOSTILE, grep=HOSTILE[1])  # fmt: skip
    assert nothing == []
    assert ssh_lab.ssh("h5", "test -e /tmp/pwned").returncode == 1


def test_ssh_and_sudo_failures_are_typed(ssh_lab: SshLab) -> None:
    before = children()  # the lab's sandboxes are children of this process too
    # RemoteJournalError, or the transport's typed per-host error (HostUnreachableError,
    # SudoPasswordRequiredError) once sysd._bus.sshspec is there to classify ssh's output
    with pytest.raises((RemoteJournalError, ConnectionError), match="down") as info:
        read(ssh_lab, host="down", lines=1)
    assert "Connection refused" in str(getattr(info.value, "stderr", ""))
    assert len(read(ssh_lab, host="admin@h1", sudo=True, lines=1)) == 1
    with pytest.raises((RemoteJournalError, PermissionError), match="password"):
        read(ssh_lab, host="nopw@h1", sudo=True, lines=1)
    assert children() == before


def test_unit_logs_of_a_host_connection(ssh_lab: SshLab, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYSD_SSH_CONFIG", ssh_lab.ssh_config)
    want = ssh_bytes(
        ssh_lab, "h1", ["journalctl", "-o", "export", "-u", "systemd-journald", "-n", "3"]
    )
    target = resolve(host="h1")
    with RemoteEntries.for_target(target, "systemd-journald", lines=3) as it:
        assert b"".join(Formatter("export")(e) for e in drain(it, ssh_lab, "h1")) == want
    with sysd.connect(host="h1", ssh_config=ssh_lab.ssh_config) as sd:
        handshakes = ssh_lab.handshakes("h1")
        with sd.unit("systemd-journald.service").logs(lines=3) as it2:
            assert isinstance(it2, RemoteEntries)
            assert b"".join(Formatter("export")(e) for e in drain(it2, ssh_lab, "h1")) == want
        for _ in range(3):  # through the connection's master: no handshake of their own
            assert len(read(ssh_lab, host="h1", lines=2)) == 2
        assert ssh_lab.handshakes("h1") == handshakes
    assert live_masters() == []  # the last user's release ended the master


def test_a_reader_alone_starts_and_ends_the_hosts_master(ssh_lab: SshLab) -> None:
    before = ssh_lab.handshakes("h3")
    with sysd.journal.entries(host="h3", ssh_config=ssh_lab.ssh_config, lines=1) as it:
        assert len(live_masters()) == 1
        assert len(drain(it, ssh_lab, "h3")) == 1
    assert live_masters() == []
    assert ssh_lab.handshakes("h3") == before + 1


def test_cli_logs_on_a_host(ssh_lab: SshLab) -> None:
    tag = log_on(ssh_lab, "h2")
    env = {"PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "LANG": "C.UTF-8", "SYSTEMD_COLORS": "0",
           "PYTHONPATH": os.path.join(ROOT, "src"), **ssh_lab.env}  # fmt: skip
    for options in (["-o", "export"], ["-n", "2", "-o", "export"],
                    ["--utc", "-o", "short-iso-precise"], ["-r", "-o", "cat"]):  # fmt: skip
        want = ssh_bytes(ssh_lab, "h2", ["journalctl", *options, f"TEST_TAG={tag}"])
        proc = subprocess.run(
            [sys.executable, "-m", "sysd", "logs", "-H", "h2", *options, f"TEST_TAG={tag}"],
            capture_output=True, env=env, timeout=60, check=False,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == want, options


def test_ctrl_c_at_random_points_leaves_no_ssh_master_or_remote_journalctl(
    ssh_lab: SshLab,
) -> None:
    sys.path.insert(0, os.path.join(ROOT, "tests", "reliability"))
    from reliability_support import interrupt_after

    tag = log_on(ssh_lab, "h5")
    before = children()
    rng = random.Random(5555)
    interrupted = 0
    for _ in range(10):
        # anywhere from before the handshake to the middle of following
        delay = rng.uniform(0, 1.5)
        try:
            with (
                interrupt_after(delay),
                sysd.journal.entries(
                    host="h5", ssh_config=ssh_lab.ssh_config, matches=[f"TEST_TAG={tag}"],
                    lines=2, follow=True,
                ) as it,
            ):  # fmt: skip
                while True:
                    if it.next_nowait() is None:
                        it.wait(0.1)
        except KeyboardInterrupt:
            interrupted += 1
        assert children() == before
        assert live_masters() == []
    assert interrupted == 10
    deadline = time.monotonic() + 15
    while remote_journalctls(ssh_lab, "h5") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert remote_journalctls(ssh_lab, "h5") == 0


def test_async_readers_of_several_hosts_merge_and_cancel(ssh_lab: SshLab) -> None:
    import asyncio

    import sysd.journal.aio

    tags = {h: log_on(ssh_lab, h) for h in ("h2", "h3")}

    async def one(host: str) -> list[tuple[int, str, Entry]]:
        it = sysd.journal.aio.entries(
            host=host, ssh_config=ssh_lab.ssh_config, matches=[f"TEST_TAG={tags[host]}"]
        )
        async with it:
            return [(e.realtime_usec, host, e) async for e in it]

    async def main() -> None:
        before = children()
        a, b = await asyncio.gather(one("h2"), one("h3"))
        merged = sorted(a + b, key=lambda t: (t[0], t[1]))
        assert [h for _, h, _ in merged].count("h2") == 4 and len(merged) == 8
        assert children() == before and live_masters() == []
        # following on a host, cancelled: the stream, its master and journalctl end
        follower = sysd.journal.aio.follow(
            host="h2", ssh_config=ssh_lab.ssh_config, matches=[f"TEST_TAG={tags['h2']}"],
            lines=1,
        )  # fmt: skip
        first = asyncio.create_task(follower.__anext__())
        entry = await asyncio.wait_for(first, 60)
        assert len(entry.raw("MESSAGE")) == 70000
        waiting = asyncio.create_task(follower.__anext__())
        await asyncio.sleep(0.2)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert children() == before and live_masters() == []

    asyncio.run(main())
    deadline = time.monotonic() + 15
    while remote_journalctls(ssh_lab, "h2") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert remote_journalctls(ssh_lab, "h2") == 0
