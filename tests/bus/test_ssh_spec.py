"""ssh command lines (pure): host specs, quoting of remote arguments, ssh failures typed.

The real ssh path (a real sshd per lab host) is tests/fleet/test_ssh_transport.py.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

import sysd
from sysd._bus.sshspec import (
    BRIDGE,
    NOT_BOOTED,
    SshHost,
    bridge_command,
    classify,
    master_argv,
    parse_host,
    remote_command,
    ssh_argv,
)

HOSTILE = [
    "a;b",
    "$(id)",
    "`id`",
    "'q'\"",
    "x\ny",
    "-rf",
    "--help",
    "",
    "*",
    "~root",
    "a b\tc",
    "\\x\\",
    "é€",
    "${HOME}",
    "!!",
    "a|b&c>d<e",
    "'",
    '"',
]


@pytest.mark.parametrize(
    ("spec", "host"),
    [
        ("web1", SshHost(None, "web1")),
        ("admin@web2:2222", SshHost("admin", "web2", 2222)),
        ("web-3.example.com", SshHost(None, "web-3.example.com")),
        ("10.0.0.7:22", SshHost(None, "10.0.0.7", 22)),
        ("[::1]:2200", SshHost(None, "::1", 2200)),
        ("root@[fe80::1%eth0]", SshHost("root", "fe80::1%eth0")),
        ("fe80::2", SshHost(None, "fe80::2")),
        ("jdoe@corp.example@bastion", SshHost("jdoe@corp.example", "bastion")),
        ("h_1:65535", SshHost(None, "h_1", 65535)),
    ],
)
def test_parse_host(spec: str, host: SshHost) -> None:
    assert parse_host(spec) == host
    assert parse_host(str(host)) == host  # str() gives a spec back


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "-oProxyCommand=evil",
        "-p",
        "web1 -oX",
        "web1\n",
        "web\t1",
        "web\x00",
        "web;id",
        "web$(id)",
        "`id`",
        "web'1",
        "a@",
        "@web",
        "-x@web",
        "user name@web",
        "web:0",
        "web:65536",
        "web:22x",
        "web:",
        "web:-1",
        "[::1",
        "[web1]:22",
        "[::1]x",
        ".web",
        "web/x",
        "web%1",
        "x" * 600,
    ],
)
def test_parse_host_refuses(spec: str) -> None:
    with pytest.raises(sysd.InvalidHostError) as info:
        parse_host(spec)
    assert isinstance(info.value, ValueError) and info.value.hint


def test_ssh_argv_shape() -> None:
    argv = ssh_argv("admin@web1:2222", ["journalctl", "-u", "a b"], ssh_config="/c")
    assert argv == [
        "ssh",
        "-F",
        "/c",
        "-o",
        "BatchMode=yes",
        "-x",
        "-T",
        "-p",
        "2222",
        "--",
        "admin@web1",
        "journalctl -u 'a b'",
    ]
    through = ssh_argv("web1", ["true"], control_path="/run/x%y/c", sudo=True, tty=True)
    assert through[through.index("-S") + 1] == "/run/x%%y/c"  # ssh expands %-tokens
    assert "-tt" in through and "ControlMaster=no" in through
    assert through[-1] == "sudo -n -- true" and through[-2] == "web1"
    with pytest.raises(sysd.InvalidHostError):
        ssh_argv("-oProxyCommand=x", ["true"])
    with pytest.raises(ValueError):
        ssh_argv("web1", "true")  # a string is not an argv
    with pytest.raises(ValueError):
        ssh_argv("web1", [])
    with pytest.raises(ValueError, match="NUL"):
        ssh_argv("web1", ["a\0b"])


def test_master_argv() -> None:
    argv = master_argv(parse_host("u@h:22"), "/run/d/control", None)
    assert argv[-2:] == ["--", "u@h"] and argv[argv.index("-p") + 1] == "22"
    for opt in ("ControlMaster=yes", "ControlPath=/run/d/control", "BatchMode=yes"):
        assert opt in argv
    assert "-N" in argv and "-F" not in argv


SHELLS = [s for s in ("sh", "dash", "bash", "zsh", "ksh") if shutil.which(s)]


@pytest.mark.parametrize("shell", SHELLS)
def test_remote_command_arrives_byte_exact(shell: str) -> None:
    """What sshd does with the command string: ``$SHELL -c STRING``."""
    command = remote_command(["printf", "%s\\0", *HOSTILE])
    out = subprocess.run([shell, "-c", command], capture_output=True, check=True).stdout
    assert out.split(b"\0")[:-1] == [h.encode() for h in HOSTILE]


def test_bridge_command_runs_the_bridge_with_its_arguments() -> None:
    argv = bridge_command(machine="ctr", sudo=True)
    # run the guard locally with printf in place of sudo: it gets exactly its args
    fake = list(argv)
    at = fake.index("sudo")
    fake[at : at + 1] = ["printf", "%s\n"]
    script = fake[2].replace("test -d /run/systemd/system", "true")
    out = subprocess.run(
        ["sh", "-c", script, *fake[3:]], capture_output=True, text=True, check=False
    )
    assert out.stdout.split() == ["-n", "--", BRIDGE, "--machine=ctr"]
    assert "sudo" in argv and "--user" in bridge_command(user=True)
    with pytest.raises(ValueError):
        bridge_command(user=True, sudo=True)


REFUSED = "admin@web1: Permission denied (publickey).\n"
CHANGED = (
    "@@@@@@@@@@@@@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n"
    "Host key for sysd-lab has changed and you have requested strict checking.\n"
    "Host key verification failed.\n"
)
UNKNOWN = (
    "No ED25519 host key is known for sysd-lab and you have requested strict checking.\n"
    "Host key verification failed.\n"
)


@pytest.mark.parametrize(
    ("rc", "stderr", "kw", "cls"),
    [
        (
            255,
            "ssh: connect to host 127.0.0.1 port 1: Connection refused\n",
            {},
            "HostUnreachableError",
        ),
        (
            255,
            "ssh: Could not resolve hostname x: Name or service not known\n",
            {},
            "HostUnreachableError",
        ),
        (
            255,
            "kex_exchange_identification: Connection closed by remote host\n",
            {},
            "HostUnreachableError",
        ),
        (255, REFUSED, {}, "HostAuthenticationError"),
        (255, CHANGED, {}, "HostKeyError"),
        (255, UNKNOWN, {}, "HostKeyError"),
        (255, "", {}, "RemoteHostError"),
        (
            127,
            "bash: systemd-stdio-bridge: command not found\n",
            {"program": BRIDGE},
            "RemoteBridgeMissingError",
        ),
        (
            127,
            "sh: 1: exec: systemd-stdio-bridge: not found\n",
            {"program": BRIDGE},
            "RemoteBridgeMissingError",
        ),
        (
            1,
            "sudo: systemd-stdio-bridge: command not found\n",
            {"program": BRIDGE},
            "RemoteBridgeMissingError",
        ),
        (
            1,
            "sudo: a password is required\n",
            {"program": BRIDGE, "sudo": True},
            "SudoPasswordRequiredError",
        ),
        (
            127,
            "bash: sudo: command not found\n",
            {"program": BRIDGE, "sudo": True},
            "RemoteHostError",
        ),
        (NOT_BOOTED, "sysd: not booted with systemd (no /run...)\n", {}, "RemoteNotBootedError"),
        (1, "", {"program": BRIDGE}, None),
        (0, "", {}, None),
    ],
)
def test_classify(rc: int, stderr: str, kw: dict[str, object], cls: str | None) -> None:
    err = classify("admin@web1", rc, stderr, **kw)  # type: ignore[arg-type]
    if cls is None:
        assert err is None
        return
    assert err is not None and type(err).__name__ == cls, err
    assert isinstance(err, sysd.RemoteHostError) and isinstance(err, sysd.BusConnectError)
    assert err.host == "admin@web1" and "admin@web1" in str(err) and err.hint
    assert "\n" not in str(err) and err.returncode == rc and err.stderr == stderr


@pytest.mark.parametrize(
    ("program", "named"),
    [(BRIDGE, "/usr/bin/systemd-stdio-bridge"), ("journalctl", "/usr/bin/journalctl")],
)
def test_sudo_hint_names_the_program_sudo_ran(program: str, named: str) -> None:
    err = classify("admin@web1", 1, "sudo: a password is required\n", program=program, sudo=True)
    assert type(err).__name__ == "SudoPasswordRequiredError"
    assert err is not None and err.hint is not None and f"NOPASSWD: {named})" in err.hint
    other = "journalctl" if program == BRIDGE else "systemd-stdio-bridge"
    assert other not in err.hint
