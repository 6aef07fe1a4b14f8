"""Every Python example in the README and docs/ runs, against the real systemd.

A block preceded by an HTML comment ``<!-- not run -->`` is skipped (for
examples that need something a sandbox lacks, such as ssh to another host).
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import tokenize
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"(<!-- not run -->\s*)?```python\n(.*?)```", re.S)


def _examples() -> list[tuple[str, str]]:
    out = []
    for doc in DOCS:
        for i, match in enumerate(BLOCK.finditer(doc.read_text())):
            if match.group(1):
                continue
            out.append((f"{doc.relative_to(ROOT)}#{i}", match.group(2)))
    return out


EXAMPLES = _examples()


@pytest.fixture
def journald_restored(systemd_host: None) -> Iterator[None]:
    """The README sets CPUQuota=20% on journald (runtime): take it back afterwards, or
    every later test would share a throttled journald where cgroups are enforced."""
    yield
    subprocess.run(
        ["systemctl", "set-property", "--runtime", "systemd-journald.service", "CPUQuota="],
        capture_output=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(("where", "code"), EXAMPLES, ids=[w for w, _ in EXAMPLES])
def test_example_runs(where: str, code: str, journald_restored: None) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 0, f"{where} failed:\n{proc.stdout}\n{proc.stderr}"


# ------------------------------------------------------------- what they print

# Runs a block with a print() that checks, for the lines in EXPECTED, that what is
# printed is what the comment says: the comment is the printed text, optionally
# followed by an explanation (" here", ": not started by systemd").
_RUNNER = """\
import builtins, json, sys
code, expected = sys.argv[1], {int(k): v for k, v in json.loads(sys.argv[2]).items()}
real_print = builtins.print
def print(*args, sep=" ", **kw):
    frame = sys._getframe(1)
    if frame.f_code.co_filename == "<doc>" and frame.f_lineno in expected:
        text = sep.join(map(str, args))
        want = expected[frame.f_lineno]
        if not (want == text or want.startswith((text + " ", text + ":"))):
            raise SystemExit(f"line {frame.f_lineno} prints {text!r}, its comment says {want!r}")
    real_print(*args, sep=sep, **kw)
exec(compile(code, "<doc>", "exec"), {"__name__": "__main__", "print": print})
"""


def expected_prints(code: str) -> dict[int, str]:
    """Top-level ``print(...)`` lines and the output their comment promises: a comment on
    the same line, or (when it has none) a comment line right below it."""
    lines = code.splitlines()
    comments: dict[int, tuple[int, str]] = {}  # line -> (column, comment)
    for tok in tokenize.generate_tokens(io.StringIO(code).readline):
        if tok.type == tokenize.COMMENT:
            comments[tok.start[0]] = (tok.start[1], tok.string[1:].strip())
    out: dict[int, str] = {}
    for n, line in enumerate(lines, 1):
        if not line.startswith("print("):
            continue
        if n in comments:
            out[n] = comments[n][1]
        elif comments.get(n + 1, (-1, ""))[0] == 0:
            out[n] = comments[n + 1][1]
    return out


PRINTED = [(w, c) for w, c in EXAMPLES if expected_prints(c)]


def test_printed_values_are_checked_where_promised() -> None:
    readme = [c for w, c in PRINTED if w.startswith("README.md")]
    assert any(
        "Assignment(name='MemoryMax'" in v for c in readme for v in expected_prints(c).values()
    )
    assert expected_prints("print(1)  # 1 here\nx = 2\nprint(x)\n# 2\n    print(3)  # 4\n") == {
        1: "1 here",
        3: "2",
    }


@pytest.mark.parametrize(("where", "code"), PRINTED, ids=[w for w, _ in PRINTED])
def test_example_prints_what_its_comments_say(
    where: str, code: str, journald_restored: None
) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _RUNNER, code, json.dumps(expected_prints(code))],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 0, f"{where}:\n{proc.stdout}\n{proc.stderr}"
