"""invocation_id() from the kernel keyring, against systemd-id128 on the same key.

Inside the sandbox (nspawn) the keyring is not reachable, so this runs on the host: a
child joins a new anonymous session keyring, stores an ``invocation_id`` key there as PID 1
does for system services (root-owned, permissions as given), and asks both sysd and
``systemd-id128 invocation-id`` (with ``$INVOCATION_ID`` unset).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"

CHILD = """
import ctypes, json, os, subprocess, sys, uuid
libc = ctypes.CDLL(None, use_errno=True)
sc = libc.syscall
sc.restype = ctypes.c_long
ADD_KEY, KEYCTL = 248, 250  # x86_64
assert sc(ctypes.c_long(KEYCTL), ctypes.c_long(1), ctypes.c_char_p(None)) >= 0  # JOIN_SESSION
ident = uuid.uuid4()
key = sc(ctypes.c_long(ADD_KEY), ctypes.c_char_p(b"user"), ctypes.c_char_p(b"invocation_id"),
         ctypes.c_char_p(ident.bytes), ctypes.c_long(16), ctypes.c_long(-3))  # session keyring
assert key >= 0, ctypes.get_errno()
perm = int(sys.argv[1], 16)
assert sc(ctypes.c_long(KEYCTL), ctypes.c_long(5), ctypes.c_long(key), ctypes.c_long(perm)) >= 0
os.environ.pop("INVOCATION_ID", None)
tool = subprocess.run(["systemd-id128", "invocation-id"], capture_output=True, text=True)
cli = subprocess.run([sys.executable, "-m", "sysd", "id128", "invocation-id"],
                     capture_output=True, text=True)
from sysd import id128
try:
    found = id128.invocation_id()
    ours = None if found is None else found.hex
except OSError as exc:
    ours = [type(exc).__name__, exc.errno]
print(json.dumps({"key": ident.hex, "ours": ours,
                  "tool": [tool.returncode, tool.stdout, tool.stderr],
                  "cli": [cli.returncode, cli.stdout, cli.stderr]}))
"""


@pytest.mark.host
@pytest.mark.skipif(platform.machine() != "x86_64", reason="the child uses x86_64 syscalls")
@pytest.mark.parametrize(
    ("perm", "expected"),
    [
        ("0b0b0000", "found"),  # what PID 1 sets: possessor and user may view, read, search
        ("0b000000", "found"),
        ("01010000", "none"),  # not searchable: request_key() cannot find it (EACCES)
        ("3f0b0000", "refused"),  # writable, so not necessarily systemd's: EPERM
        ("0b0b0b00", "refused"),
    ],
)
def test_invocation_id_from_the_keyring(perm: str, expected: str) -> None:
    if os.geteuid() != 0 or shutil.which("systemd-id128") is None:
        pytest.fail("needs root and systemd-id128 (systemd 252) on the host")
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(CHILD), perm],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "PYTHONPATH": str(SRC)},
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["cli"] == out["tool"]
    if expected == "found":
        assert out["ours"] == out["key"] == out["tool"][1].strip()
    elif expected == "none":
        assert out["ours"] is None
        assert "No such device or address" in out["tool"][2]
    else:
        assert out["ours"] == ["Id128Error", 1]
        assert "Operation not permitted" in out["tool"][2]
