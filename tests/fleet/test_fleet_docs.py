"""Every example of docs/fleet.md runs, against the SSH lab.

The docs name their hosts ``web1``..``web3`` and ``db1``: an ssh configuration made
here points those names at the lab's ``h1``..``h4`` (the lab's own ProxyCommand per
host, its keys and known_hosts through ``Include``), and a stand-in ``nginx.service``
runs on them.  The files the docs show (``<!-- file: NAME -->``) are written to the
directory the examples run in.  What an example's ``print`` comment says is checked
for the lines whose comment is a Python literal or a plain answer.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fleet_support import lab_environment  # noqa: F401  (the fixture lab_env)

from sysd.sandbox import SshLab

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "fleet.md"
BLOCK = re.compile(r"```python\n(.*?)```", re.S)
FILE = re.compile(r"<!-- file: (\S+) -->\s*```\w*\n(.*?)```", re.S)
ALIASES = {"web1": "h1", "web2": "h2", "web3": "h3", "db1": "h4"}
NGINX = "[Service]\nExecStart=/bin/sleep infinity\nExecReload=/bin/true\n"

EXAMPLES = [(f"fleet.md#{i}", code) for i, code in enumerate(BLOCK.findall(DOC.read_text()))]


@pytest.fixture(scope="module")
def docs_dir(
    ssh_lab: SshLab, lab_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, dict[str, str]]]:
    where = tmp_path_factory.mktemp("fleetdocs")
    for name, text in FILE.findall(DOC.read_text()):
        (where / name).write_text(text)
    config = where / "ssh_config"
    lines = []
    for alias, host in ALIASES.items():
        lines += [f"Host {alias}\n", f"    ProxyCommand {ssh_lab.directory}/proxy-{host}\n"]
    lines += ["Host *\n", f"    Include {ssh_lab.ssh_config}\n"]
    config.write_text("".join(lines))
    for host in ALIASES.values():
        r = ssh_lab.ssh(
            host,
            f"cat > /run/systemd/system/nginx.service <<'EOF'\n{NGINX}EOF\n"
            "systemctl daemon-reload && systemctl restart nginx.service",
        )
        assert r.returncode == 0, r.stderr
    env = {**os.environ, **lab_env, "SYSD_SSH_CONFIG": str(config)}
    yield where, env
    for host in ALIASES.values():
        ssh_lab.ssh(
            host,
            "systemctl stop nginx.service; rm -f /run/systemd/system/nginx.service; "
            "systemctl set-property --runtime nginx.service CPUQuota= 2>/dev/null; "
            "systemctl daemon-reload",
        )


def test_the_docs_have_examples() -> None:
    assert len(EXAMPLES) >= 6
    assert {"hosts.txt", "inventory.ini"} <= {n for n, _ in FILE.findall(DOC.read_text())}


_COMMENT = re.compile(r"^\s*print\((.*)\)\s*#\s(.+)$")


def _checked(code: str) -> str:
    """The example, with each ``print(x)  # what it prints`` also checking that."""
    out = []
    for line in code.splitlines():
        out.append(line)
        m = _COMMENT.match(line)
        if m and not m.group(2).startswith("..."):
            indent = line[: len(line) - len(line.lstrip())]
            # re-evaluating the expression would run it twice: compare the printed text
            out[-1] = f"{indent}_printed = _capture({m.group(1)})"
            out.append(f"{indent}_expect(_printed, {m.group(2)!r})")
    helpers = (
        "import io as _io, contextlib as _cl\n"
        "def _capture(*args, **kw):\n"
        "    buf = _io.StringIO()\n"
        "    with _cl.redirect_stdout(buf):\n"
        "        print(*args, **kw)\n"
        "    text = buf.getvalue().rstrip('\\n')\n"
        "    print(text)\n"
        "    return text\n"
        "def _expect(text, want):\n"
        "    assert text == want, f'prints {text!r}, its comment says {want!r}'\n"
    )
    return helpers + "\n".join(out) + "\n"


@pytest.mark.parametrize(("where", "code"), EXAMPLES, ids=[w for w, _ in EXAMPLES])
def test_example_runs(where: str, code: str, docs_dir: tuple[Path, dict[str, str]]) -> None:
    cwd, env = docs_dir
    proc = subprocess.run(
        [sys.executable, "-c", _checked(code)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, f"{where} failed:\n{proc.stdout}\n{proc.stderr}"
