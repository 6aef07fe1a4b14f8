"""sysd.connect(host=...) over real ssh to real sshd and systemd (the SshLab).

One multiplexed master per host (the lab's handshake counter), typed per-host errors
within the connect deadline (RELIABILITY 53), remote arguments arriving byte-exact
(54), and no ssh process, control socket or private directory left behind after close,
an error, a Ctrl-C or a cancellation at randomized points (55).
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import sysd
import sysd.aio
from sysd._bus import ssh
from sysd.sandbox import SshLab

MARK = "SYSD_LAB_HOST"
HOSTILE = [
    "a;b",
    "$(touch /tmp/sysd-pwned)",
    "`touch /tmp/sysd-pwned`",
    "'q'\"",
    "x\ny\n",
    "-rf",
    "--help",
    "",
    "*",
    "~root",
    "a b\tc",
    "\\x\\",
    "é€",
    "${HOME}",
    "a|b&c>/tmp/sysd-pwned<e",
    "'",
    '"',
    "--machine=x",
]


def ssh_children() -> list[str]:
    """This process's ssh children (masters, bridges, probes), as 'pid cmdline'."""
    me = str(os.getpid())
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[1] == me and stat.split("(", 1)[1].startswith("ssh)"):
            found.append(f"{pid} {cmd.decode(errors='replace')}")
    return found


@pytest.fixture(scope="module")
def lab(ssh_lab: SshLab) -> SshLab:
    """The session's lab, each host's system manager marked with its name."""
    for host in ssh_lab.hosts:
        r = ssh_lab.ssh(host, f"systemctl set-environment {MARK}={host}")
        assert r.returncode == 0, r.stderr
    return ssh_lab


@pytest.fixture(autouse=True)
def private_tmp(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Masters' directories in a short private directory (sockets need short paths),
    checked empty afterwards."""
    monkeypatch.delenv("SYSD_SSH_CONFIG", raising=False)
    short = Path(tempfile.mkdtemp(prefix="sysd-h20-", dir="/tmp"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(short))  # where sysd puts them
    try:
        yield short
        assert_clean(short)
    finally:
        shutil.rmtree(short, ignore_errors=True)


def assert_clean(tmp: Path) -> None:
    assert ssh.live_masters() == []
    assert ssh_children() == []
    assert sorted(p.name for p in tmp.glob("sysd-ssh-*")) == []


def marked(sd: sysd.Systemd) -> str | None:
    return sd.environment().get(MARK)


# --------------------------------------------------------------------------- multiplexing


def test_connections_and_commands_to_a_host_share_one_handshake(lab: SshLab) -> None:
    before = lab.handshakes("h1")
    cfg = lab.ssh_config
    with (
        sysd.connect(host="h1", ssh_config=cfg) as a,
        sysd.connect(host="h1", ssh_config=cfg) as b,
        ssh.lease_sync("h1", ssh_config=cfg) as lease,
    ):
        assert marked(a) == marked(b) == "h1"
        out = subprocess.run(
            lease.argv(["cat", "/etc/sysd-lab/name"]), capture_output=True, check=True
        )
        assert out.stdout == b"h1\n"
        with sysd.connect(host="h1", ssh_config=cfg) as c:
            assert c.version == a.version
        ((label, control),) = ssh.live_masters()
        assert label == "h1" and os.stat(control).st_mode & 0o777 and control == lease.control_path
        assert os.stat(os.path.dirname(control)).st_mode & 0o777 == 0o700
    assert lab.handshakes("h1") == before + 1
    assert not os.path.exists(os.path.dirname(control))


def test_ssh_config_from_the_environment(lab: SshLab, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYSD_SSH_CONFIG", lab.ssh_config)
    with sysd.connect(host="root@h2") as sd:
        assert marked(sd) == "h2"
        assert sd.target.scope == "remote"


def test_async_connections_to_every_host_at_once(lab: SshLab) -> None:
    before = {h: lab.handshakes(h) for h in lab.hosts}

    async def one(host: str) -> str | None:
        async with await sysd.aio.connect(host=host, ssh_config=lab.ssh_config) as sd:
            return (await sd.environment()).get(MARK)

    async def main() -> list[str | None]:
        return await asyncio.gather(*(one(h) for h in lab.hosts * 3))

    assert asyncio.run(main()) == lab.hosts * 3
    # three connections per host, started together: one handshake each
    assert {h: lab.handshakes(h) - before[h] for h in lab.hosts} == dict.fromkeys(lab.hosts, 1)


def test_lease_takes_ssh_config_from_the_environment(
    lab: SshLab, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYSD_SSH_CONFIG", lab.ssh_config)
    with ssh.lease_sync("h4") as lease:
        assert lease.ssh_config == lab.ssh_config
        out = subprocess.run(
            lease.argv(["cat", "/etc/sysd-lab/name"]), capture_output=True, check=True
        )
        assert out.stdout == b"h4\n"


def test_a_dead_master_is_replaced(lab: SshLab) -> None:
    before = lab.handshakes("h3")
    with ssh.lease_sync("h3", ssh_config=lab.ssh_config) as first:
        master = first._master
        assert master is not None and master.proc is not None
        master.proc.kill()  # the connection dropped
        master.proc.wait()
        with sysd.connect(host="h3", ssh_config=lab.ssh_config) as sd:
            assert marked(sd) == "h3"
            assert len(ssh.live_masters()) == 1
    assert lab.handshakes("h3") == before + 2


def test_a_forked_child_leaves_the_parents_master_alone(lab: SshLab) -> None:
    with sysd.connect(host="h3", ssh_config=lab.ssh_config) as sd:
        pid = os.fork()
        if pid == 0:  # the child closes its copy of the connection, and exits
            try:
                sd.close()
            finally:
                os._exit(0)
        assert os.waitpid(pid, 0)[1] == 0
        assert marked(sd) == "h3"  # the parent's bridge and master still work


# --------------------------------------------------------------------------- sudo, user


def test_sudo_runs_the_bridge_as_root(lab: SshLab) -> None:
    with sysd.connect(host="admin@h3", sudo=True, ssh_config=lab.ssh_config) as sd:
        assert marked(sd) == "h3"
        sd.set_environment({"SYSD_H20_SUDO": "1"})  # root only: sudo reached the bridge
        sd.unset_environment(["SYSD_H20_SUDO"])
    with sysd.connect(host="admin@h3", ssh_config=lab.ssh_config) as sd:
        assert marked(sd) == "h3"  # unprivileged: reads work, changes are refused
        with pytest.raises(sysd.AccessDeniedError):
            sd.set_environment({"SYSD_H20_SUDO": "1"})


def test_user_reaches_the_remote_users_manager(lab: SshLab) -> None:
    box = lab.sandbox("h4")
    box.exec(["systemctl", "start", "user@4301.service"], check=True, capture=True)
    try:
        with sysd.connect(host="admin@h4", user=True, ssh_config=lab.ssh_config) as sd:
            # the user manager (systemd 252's bridge would give the system one for --user)
            assert sd.manager_property("ControlGroup").endswith("/user@4301.service")
    finally:
        box.exec(["systemctl", "stop", "user@4301.service"], capture=True)


# --------------------------------------------------------------------------- errors


def _config(tmp: Path, lab: SshLab, known_hosts: str) -> str:
    """The lab's config with another known_hosts (first value wins in ssh_config)."""
    kh = tmp / "known_hosts"
    kh.write_text(known_hosts)
    cfg = tmp / "ssh_config"
    cfg.write_text(f"UserKnownHostsFile {kh}\nInclude {lab.ssh_config}\n")
    return str(cfg)


def _wrong_key(tmp: Path) -> str:
    key = tmp / "other"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    kind, blob = (tmp / "other.pub").read_text().split()[:2]
    (tmp / "other").unlink()
    (tmp / "other.pub").unlink()
    return f"sysd-lab {kind} {blob}\n"


ERRORS: list[tuple[str, dict[str, Any], type[sysd.RemoteHostError], str]] = [
    ("down", {}, sysd.HostUnreachableError, "Connection refused"),
    ("ghost@h1", {}, sysd.HostAuthenticationError, "Permission denied"),
    ("nobridge", {}, sysd.RemoteBridgeMissingError, "systemd-stdio-bridge"),
    ("nosystemd", {}, sysd.RemoteNotBootedError, "not booted with systemd"),
    ("nopw@h1", {"sudo": True}, sysd.SudoPasswordRequiredError, "password"),
    ("nobridge", {"sudo": True, "user": False}, sysd.RemoteBridgeMissingError, "bridge"),
    ("h1", {"known_hosts": "wrong"}, sysd.HostKeyError, "differs"),
    ("h1", {"known_hosts": ""}, sysd.HostKeyError, "unknown host key"),
]


def _kwargs(lab: SshLab, tmp: Path, kw: dict[str, Any]) -> dict[str, Any]:
    kw = dict(kw)
    known = kw.pop("known_hosts", None)
    if known is None:
        kw["ssh_config"] = lab.ssh_config
    else:
        kw["ssh_config"] = _config(tmp, lab, _wrong_key(tmp) if known == "wrong" else known)
    return kw


@pytest.mark.parametrize(("host", "kw", "cls", "text"), ERRORS, ids=str)
def test_typed_errors_name_the_host(
    lab: SshLab,
    tmp_path: Path,
    host: str,
    kw: dict[str, Any],
    cls: type[sysd.RemoteHostError],
    text: str,
) -> None:
    kw = _kwargs(lab, tmp_path, kw)
    start = time.monotonic()
    with pytest.raises(cls) as info:
        sysd.connect(host=host, timeout=20, **kw)
    assert time.monotonic() - start < 20
    err = info.value
    assert type(err) is cls, repr(err)
    assert err.host == host and host in str(err) and text in str(err) + (err.stderr or "")
    assert err.hint and "\n" not in str(err)
    assert isinstance(err, sysd.BusConnectError)


@pytest.mark.parametrize(("host", "kw", "cls", "text"), ERRORS[:5], ids=str)
def test_typed_errors_async(
    lab: SshLab,
    tmp_path: Path,
    host: str,
    kw: dict[str, Any],
    cls: type[sysd.RemoteHostError],
    text: str,
) -> None:
    kw = _kwargs(lab, tmp_path, kw)

    async def main() -> None:
        with pytest.raises(cls) as info:
            await sysd.aio.connect(host=host, timeout=20, **kw)
        assert type(info.value) is cls and info.value.host == host

    asyncio.run(main())


def test_a_down_host_does_not_hold_up_the_others(lab: SshLab) -> None:
    async def one(host: str) -> str:
        try:
            async with await sysd.aio.connect(host=host, ssh_config=lab.ssh_config) as sd:
                return (await sd.environment())[MARK]
        except sysd.RemoteHostError as exc:
            return type(exc).__name__

    async def main() -> list[str]:
        return await asyncio.gather(*(one(h) for h in ["h1", "down", "nobridge", "h2"]))

    assert asyncio.run(main()) == ["h1", "HostUnreachableError", "RemoteBridgeMissingError", "h2"]


def test_the_deadline_bounds_a_host_that_never_answers(lab: SshLab, tmp_path: Path) -> None:
    hang = tmp_path / "hang"
    hang.write_text("#!/bin/sh\nexec sleep 3600.0203\n")
    hang.chmod(0o755)
    cfg = tmp_path / "ssh_config"
    cfg.write_text(f"Host silent\n    ProxyCommand {hang}\nInclude {lab.ssh_config}\n")
    start = time.monotonic()
    with pytest.raises(sysd.HostUnreachableError, match="silent"):
        sysd.connect(host="silent", ssh_config=str(cfg), timeout=2)
    assert time.monotonic() - start < 6
    # the ssh killed while connecting took its ProxyCommand with it
    assert [p for p in os.listdir("/proc") if _cmdline(p) == b"sleep\x003600.0203\x00"] == []


def _cmdline(pid: str) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


# --------------------------------------------------------------------------- quoting


@pytest.mark.parametrize("sudo", [False, True])
def test_hostile_arguments_arrive_byte_exact(lab: SshLab, sudo: bool) -> None:
    with ssh.lease_sync("admin@h2", ssh_config=lab.ssh_config) as lease:
        out = subprocess.run(
            lease.argv(["printf", "%s\\0", *HOSTILE], sudo=sudo),
            capture_output=True,
            check=True,
        )
    assert out.stdout.split(b"\0")[:-1] == [h.encode() for h in HOSTILE]
    assert lab.ssh("h2", "test -e /tmp/sysd-pwned").returncode == 1


@pytest.mark.parametrize(
    "spec", ["h1;touch /tmp/sysd-pwned", "-oProxyCommand=touch /tmp/sysd-pwned", "h1 h2", "$(id)"]
)
def test_hostile_host_specs_are_refused_before_ssh_runs(lab: SshLab, spec: str) -> None:
    before = lab.handshakes("h1")
    with pytest.raises(sysd.InvalidHostError):
        sysd.connect(host=spec, ssh_config=lab.ssh_config)
    assert ssh_children() == [] and lab.handshakes("h1") == before
    assert not os.path.exists("/tmp/sysd-pwned")


# --------------------------------------------------------------------------- interruption


def test_ctrl_c_at_random_points_leaves_nothing(lab: SshLab, private_tmp: Path) -> None:
    sys.path.insert(0, str(Path(__file__).parents[1] / "reliability"))
    from reliability_support import interrupt_after, raised_where

    def work() -> None:
        with sysd.connect(host="h5", ssh_config=lab.ssh_config) as sd:
            assert marked(sd) == "h5"
            with sysd.connect(host="h5", ssh_config=lab.ssh_config) as sd2:
                sd2.ping()

    # the interrupts are spread over the time the work takes on this machine now (a fixed
    # range put most of them after it on a quiet machine, and none late on a loaded one)
    t0 = time.monotonic()
    work()
    took = time.monotonic() - t0
    assert_clean(private_tmp)
    rng = random.Random(1420)
    where: list[str] = []
    deadline = time.monotonic() + 75
    for _ in range(16):
        if time.monotonic() > deadline:
            break
        delay = rng.uniform(0.0, took * 1.2)
        try:
            with interrupt_after(delay):
                work()
                time.sleep(max(2.0, took))  # the alarm lands here when the work was faster
        except KeyboardInterrupt as exc:
            where.append(raised_where(exc)[0])
        assert_clean(private_tmp)
    print("interrupted at:", where)
    inside = [w for w in where if not w.startswith("test_ssh_transport.py")]
    assert len(where) >= 8 and len(inside) >= 4, where


def test_cancel_at_random_points_leaves_nothing(lab: SshLab, private_tmp: Path) -> None:
    rng = random.Random(1421)

    async def work() -> None:
        async with await sysd.aio.connect(host="h5", ssh_config=lab.ssh_config) as sd:
            await sd.ping()
            async with ssh.lease("h5", ssh_config=lab.ssh_config) as lease:
                assert lease.control_path
            await sd.ping()

    async def main() -> int:
        cancelled = 0
        for _ in range(12):
            task = asyncio.create_task(work())
            await asyncio.sleep(rng.uniform(0.0, 0.5))
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                cancelled += 1
            assert_clean(private_tmp)
        return cancelled

    assert asyncio.run(asyncio.wait_for(main(), 90)) >= 3


def test_a_program_that_exits_without_closing_leaves_nothing(lab: SshLab, tmp_path: Path) -> None:
    """Connections left open at exit (and a KeyboardInterrupt ending the program): the
    masters end at interpreter exit, their bridges with them."""
    # a TMPDIR too long for a socket path (sysd falls back to /tmp), and a short one
    long = tmp_path / ("x" * 60)
    long.mkdir()
    scratch = Path(tempfile.mkdtemp(prefix="sysd-h20-", dir="/tmp"))
    try:
        _exit_without_closing(lab, long)
        _exit_without_closing(lab, scratch)
    finally:
        scratch.rmdir()


def _exit_without_closing(lab: SshLab, scratch: Path) -> None:
    code = (
        "import sysd\n"
        "sds = [sysd.connect(host=h) for h in ('h1', 'h2', 'h2')]\n"
        "print(sds[0].version)\n"
        "raise KeyboardInterrupt\n"
    )
    env = {**os.environ, **lab.env, "TMPDIR": str(scratch)}
    env.pop("XDG_RUNTIME_DIR", None)
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert "KeyboardInterrupt" in proc.stderr and proc.stdout.strip(), proc.stderr
    leftovers = []
    for pid in os.listdir("/proc"):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if str(scratch).encode() in cmd:
            leftovers.append(cmd.replace(b"\0", b" ").decode())
    assert leftovers == []
    assert list(scratch.iterdir()) == []


# --------------------------------------------------------------------------- docs


def test_the_docs_ssh_examples_run_against_the_lab(lab: SshLab) -> None:
    """docs/connecting.md's ssh examples (marked not run for the sandbox docs test), with
    the lab's hosts for web1/web2."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "connecting.md").read_text()
    section = text.split("## Remote hosts over ssh", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) == 2
    box = lab.sandbox("h2")
    box.exec(["systemctl", "start", "user@4301.service"], check=True, capture=True)
    try:
        for block in blocks:
            code = block.replace('"web1"', '"h1"').replace("@web2", "@h2")
            proc = subprocess.run(
                [sys.executable, "-c", code],
                capture_output=True,
                text=True,
                timeout=120,
                env={**os.environ, **lab.env},
                check=False,
            )
            assert proc.returncode == 0, proc.stderr
        assert "down HostUnreachableError" in proc.stdout
        assert "nobridge RemoteBridgeMissingError" in proc.stdout
    finally:
        box.exec(["systemctl", "stop", "user@4301.service"], capture=True)
        lab.ssh("h2", "systemctl unset-environment DEPLOYED")
