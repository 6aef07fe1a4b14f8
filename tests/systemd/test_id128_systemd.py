"""sysd.id128 and ``sysd id128`` against systemd 252's ``systemd-id128``, inside the sandbox.

The library's IDs must be the tool's (machine, boot, app-specific, invocation — also the
keyring path of a system service without ``$INVOCATION_ID``), and ``sysd id128 ARGS``
must print what ``systemd-id128 ARGS`` prints, with the same exit status, for every verb
and option (``new`` differs only in its random ID).
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from sysd import id128

ROOT = Path(__file__).resolve().parents[2]
SEED = 20261207
ENV = {
    "PATH": "/usr/bin:/bin:/usr/sbin:/sbin",
    "LANG": "C.UTF-8",
    "SYSTEMD_COLORS": "0",
    "PYTHONPATH": str(ROOT / "src"),
}


def run(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(argv), capture_output=True, text=True, timeout=60, check=False, env=env or ENV
    )


def oracle(*args: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("systemd-id128", path=ENV["PATH"])
    if exe is None:
        pytest.fail("systemd-id128 (systemd 252) is needed as the oracle for this test")
    return run(exe, *args)


def ours(*args: str) -> subprocess.CompletedProcess[str]:
    return run(sys.executable, "-m", "sysd", "id128", *args)


def app_ids() -> list[str]:
    rng = random.Random(SEED)
    ids = [uuid.UUID(int=rng.getrandbits(128)) for _ in range(6)]
    return [ids[0].hex, str(ids[1]), ids[2].hex.upper(), str(ids[3]).upper(), ids[4].hex]


def test_machine_and_boot_id_are_the_tools() -> None:
    assert id128.machine_id().hex == oracle("machine-id").stdout.strip()
    assert str(id128.machine_id()) == oracle("machine-id", "-u").stdout.strip()
    assert id128.boot_id().hex == oracle("boot-id").stdout.strip()
    assert str(id128.boot_id()) == oracle("boot-id", "--uuid").stdout.strip()


@pytest.mark.parametrize("app", app_ids())
def test_app_specific_is_the_tools(app: str) -> None:
    expected = oracle("machine-id", f"--app-specific={app}").stdout.strip()
    assert id128.machine_id(app_specific=app).hex == expected
    assert id128.app_specific(id128.machine_id(), app).hex == expected
    boot = oracle("boot-id", "-a", app).stdout.strip()
    assert id128.boot_id(app_specific=app).hex == boot


def test_unprivileged_user_reads_the_same(as_user) -> None:  # type: ignore[no-untyped-def]
    proc = as_user(
        f"""
        import json, sys
        sys.path.insert(0, {str(ROOT / "src")!r})
        from sysd import id128
        print(json.dumps([id128.machine_id().hex, id128.boot_id().hex,
                          id128.machine_id(app_specific={app_ids()[0]!r}).hex]))
        """
    )
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    assert got == [
        oracle("machine-id").stdout.strip(),
        oracle("boot-id").stdout.strip(),
        oracle("machine-id", "-a", app_ids()[0]).stdout.strip(),
    ]


CLI_CASES = [
    [],
    ["machine-id"],
    ["machine-id", "-u"],
    ["-u", "boot-id"],
    ["boot-id", "--uuid"],
    ["machine-id", "-a", app_ids()[0]],
    ["machine-id", "--app-specific", app_ids()[1]],
    ["boot-id", f"--app-specific={app_ids()[2]}", "-u"],
    ["machine-id", "-a", "00000000000000000000000000000000"],  # null: not app-specific
    ["machine-id", "-p"],
    ["machine-id", "-a", "nope"],
    ["machine-id", "-a", app_ids()[0] + "0"],
    ["invocation-id"],  # not in a unit here: "No such device or address"
    ["invocation-id", "-a", app_ids()[0]],
    ["show"],
    ["show", "-u"],
    ["show", "esp", "swap", "root", "usr-verity-sig", "root-secondary"],
    ["show", "-p", "esp", "swap"],
    ["-p", "show", "linux-generic"],
    ["show", "esp", "01020304-0506-0708-090a-0b0c0d0e0f10", "-u"],
    ["show", "C12A7328F81F11D2BA4B00A0C93EC93B"],
    ["show", "nope", "esp"],
    ["show", "-p", "esp", "nope"],
    ["new", "extra"],
    ["frobnicate"],
    ["machine-id", "boot-id"],
]


@pytest.mark.parametrize("args", CLI_CASES, ids=lambda a: " ".join(a) or "(none)")
def test_cli_is_systemd_id128(args: list[str]) -> None:
    want = oracle(*args)
    got = ours(*args)
    assert (got.stdout, got.stderr, got.returncode) == (want.stdout, want.stderr, want.returncode)


@pytest.mark.parametrize("args", [["new"], ["new", "-u"], ["-p", "new"]])
def test_cli_new_has_the_tools_shape(args: list[str]) -> None:
    want = oracle(*args)
    got = ours(*args)
    assert got.returncode == want.returncode == 0
    hexes = re.compile(r"[0-9a-f]{2}(?:[-,]?[0-9a-f]{2})+")
    assert hexes.sub("ID", got.stdout) == hexes.sub("ID", want.stdout)
    first = got.stdout.splitlines()[1 if "-p" in args else 0]
    assert uuid.UUID(first).version == 4


INVOCATION_PROBE = """
import json, os, subprocess, sys
sys.path.insert(0, {src!r})
from sysd import id128
tool = subprocess.run(["systemd-id128", "invocation-id"], capture_output=True, text=True)
cli = subprocess.run([sys.executable, "-m", "sysd", "id128", "invocation-id"],
                     capture_output=True, text=True, env={{**os.environ, "PYTHONPATH": {src!r}}})
ours = id128.invocation_id()
print(json.dumps({{"env": os.environ.get("INVOCATION_ID"),
                   "ours": None if ours is None else ours.hex,
                   "tool": [tool.returncode, tool.stdout.strip(), tool.stderr.strip()],
                   "cli": [cli.returncode, cli.stdout.strip(), cli.stderr.strip()]}}))
"""


@pytest.mark.parametrize("keep_env", [True, False], ids=["environment", "keyring"])
def test_invocation_id_in_a_unit(keep_env: bool) -> None:
    """In a system service: from $INVOCATION_ID, and without it from the kernel keyring
    (where PID 1 stores it for system services) — whatever systemd-id128 finds there.  In
    the nspawn sandbox the keyring is out of reach (both say there is none); the key
    itself is read in tests/core/test_id128_keyring.py, on the host."""
    unit = f"sysd-test-invocation-{os.getpid()}-{int(keep_env)}.service"
    code = INVOCATION_PROBE.format(src=str(ROOT / "src"))
    argv = [sys.executable, "-c", code]
    if not keep_env:
        argv = ["/usr/bin/env", "-u", "INVOCATION_ID", *argv]
    proc = run(
        "systemd-run", "--wait", "--pipe", "--quiet", "--collect", f"--unit={unit}",
        "-p", "KeyringMode=private", *argv,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["tool"] == out["cli"]
    if keep_env:
        assert out["env"] and out["ours"] == uuid.UUID(out["env"]).hex
        assert out["tool"][1] == out["ours"]
    else:
        assert out["env"] is None
        if out["tool"][0] == 0:  # the keyring is reachable here: the same key
            assert out["ours"] == out["tool"][1]
        else:  # not reachable (locked down): both say there is none
            assert out["ours"] is None
            assert "No such device or address" in out["tool"][2]
