"""Writing one section of bench/RESULTS.md, shared by the benchmark scripts."""

from __future__ import annotations

from pathlib import Path


def replace_section(path: Path, title: str, section: str) -> None:
    """Replace the section headed ``title`` (up to the next "## "), or append it."""
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == title), None)
    if start is None:
        new = text.rstrip("\n") + "\n\n" + section
    else:
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines)
        )
        tail = "".join(lines[end:])
        new = "".join(lines[:start]) + section + ("\n" + tail if tail else "")
    path.write_text(new)
