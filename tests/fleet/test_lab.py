"""The SSH lab itself: every host answers over real ssh, the error-path hosts fail as meant.

The fleet tests below rely on these properties; if one breaks, this file says which.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from sysd.errors import SandboxError
from sysd.sandbox import SshLab


def test_every_host_is_its_own_running_systemd(ssh_lab: SshLab) -> None:
    for host in ssh_lab.hosts:
        r = ssh_lab.ssh(
            host,
            "cat /etc/sysd-lab/name; systemctl is-system-running; "
            "systemctl --failed --no-legend --plain | cat",
        )
        name, state, *_failed = r.stdout.split("\n")
        assert name == host, (r.stdout, r.stderr)
        # degraded: a unit failed at boot on a loaded machine (the output names it)
        assert state in ("running", "degraded"), (r.stdout, r.stderr)
    assert len({ssh_lab.sandbox(h).name for h in ssh_lab.hosts}) == len(ssh_lab.hosts)


def test_handshakes_count_each_connection(ssh_lab: SshLab) -> None:
    before = ssh_lab.handshakes("h2")
    for _ in range(2):
        assert ssh_lab.ssh("h2", "true").returncode == 0
    assert ssh_lab.handshakes("h2") == before + 2


def test_roots_shell_start_up_is_debians_stock_one(ssh_lab: SshLab) -> None:
    # the hosts are overlays of this machine: its root's .bashrc (a developer's) must not
    # run in every ssh session there, as no server's would
    r = ssh_lab.ssh("h1", 'cmp ~/.bashrc /etc/skel/.bashrc && echo "$PATH"')
    assert r.returncode == 0, r.stderr
    assert ".pyenv" not in r.stdout and ".cargo" not in r.stdout


def test_users_and_sudo(ssh_lab: SshLab) -> None:
    r = ssh_lab.ssh("h1", "id -un; sudo -n id -un", user="admin")
    assert (r.returncode, r.stdout.split()) == (0, ["admin", "root"]), r.stderr
    r = ssh_lab.ssh("h1", "id -un; sudo -n true", user="nopw")
    assert r.returncode == 1
    assert r.stdout.split() == ["nopw"]
    assert "a password is required" in r.stderr
    assert "unable to resolve host" not in r.stderr


def test_error_path_hosts(ssh_lab: SshLab) -> None:
    down = ssh_lab.ssh("down", "true")
    assert down.returncode == 255
    assert "Connection refused" in down.stderr
    nobridge = ssh_lab.ssh("nobridge", "systemctl is-system-running; systemd-stdio-bridge")
    assert nobridge.returncode == 127
    assert nobridge.stdout.split()[0] in ("running", "degraded")
    nosystemd = ssh_lab.ssh("nosystemd", "systemctl is-system-running")
    assert nosystemd.stdout.strip() == "offline"


def test_the_real_bridge_answers_over_ssh(ssh_lab: SshLab) -> None:
    # busctl's own ssh transport would need ssh on PATH with our config: use the bridge by hand
    hello = b"\0AUTH EXTERNAL 30\r\nBEGIN\r\n"  # uid 0, as the bridge authenticates us itself
    r = subprocess.run(
        ["ssh", "-F", ssh_lab.ssh_config, "h3", "systemd-stdio-bridge"],
        input=hello,
        check=False,
        capture_output=True,
        timeout=60,
    )
    assert r.stdout.startswith(b"OK "), (r.returncode, r.stdout, r.stderr)


def test_close_removes_everything() -> None:
    lab = SshLab(n=1, special=False)
    with lab:
        assert lab.ssh("h1", "true").returncode == 0
        directory = lab.directory
        box = lab.sandbox("h1")
    assert not os.path.exists(directory)
    assert not box.running
    with pytest.raises(SandboxError):
        lab.ssh_config  # noqa: B018 - the property raises once closed
