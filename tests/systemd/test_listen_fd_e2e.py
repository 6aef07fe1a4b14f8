"""A socket-activated service written the python-systemd way —
``socket.socket(fileno=listen_fds()[0])`` — works with sysd.daemon under real systemd."""

from __future__ import annotations

import socket
import subprocess
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SERVICE = """
import os, select, socket, stat, sys
sys.path.insert(0, {src!r})
from sysd import daemon

(entry,) = daemon.listen_fds()
assert stat.S_ISSOCK(os.fstat(entry).st_mode)
listener = socket.socket(fileno=entry)          # as ported from python-systemd
while True:
    select.select([listener], [], [])
    conn, _ = listener.accept()
    with conn:
        conn.sendall(f"{{entry.name}} {{int(entry)}} ".encode() + conn.recv(64).upper())
"""


def test_python_systemd_style_listen_fd(systemd_host: None) -> None:
    tag = uuid.uuid4().hex[:8]
    unit = f"sysd-test-listenfd-{tag}"
    path = f"/run/{unit}.sock"
    script = Path(f"/run/{unit}.py")
    script.write_text(SERVICE.format(src=str(ROOT / "src")))
    try:
        subprocess.run(
            ["systemd-run", "--quiet", f"--unit={unit}",
             f"--socket-property=ListenStream={path}",
             "--socket-property=FileDescriptorName=web",
             sys.executable, str(script)],
            check=True, timeout=60,
        )  # fmt: skip
        with socket.socket(socket.AF_UNIX) as client:
            client.settimeout(30)
            client.connect(path)
            client.sendall(b"hello")
            reply = b""
            while chunk := client.recv(64):  # the service closes after answering
                reply += chunk
            assert reply == b"web 3 HELLO"
    finally:
        subprocess.run(
            ["systemctl", "stop", f"{unit}.socket", f"{unit}.service"], check=False, timeout=60
        )
        script.unlink(missing_ok=True)
