"""Host names folded for display, clush style, and the ranges written back out (no I/O).

::

    fold(["web1", "web2", "web3", "web7"])  ->  "web[1-3,7]"
    fold(["db01", "db02", "lb"])            ->  "db[01-02],lb"
    expand("web[1-3,7]")                    ->  ["web1", "web2", "web3", "web7"]

The last run of digits in a name is what folds (as ``clush -b`` and ``nodeset``
do); zero padding is kept: ``web09 web10`` fold to ``web[09-10]`` and never join
``web9``.  Names without digits are listed as they are.
"""

from __future__ import annotations

import re

from ..errors import InvalidHostListError

__all__ = ["expand", "fold"]

_LAST_DIGITS = re.compile(r"^(.*?)(\d+)(\D*)$")
_RANGE = re.compile(r"\[([^\[\]]*)\]")
_MAX_EXPANSION = 100_000


def _split(name: str) -> tuple[str, str, str] | None:
    m = _LAST_DIGITS.match(name)
    if m is None:
        return None
    return m.group(1), m.group(2), m.group(3)


def _fits(text: str, width: int) -> bool:
    """``text`` is how a range of padding ``width`` (0: none) writes its number."""
    if width:
        return len(text) == width or (len(text) > width and text[0] != "0")
    return text == "0" or text[0] != "0"


def _ranges(numbers: list[str]) -> list[str]:
    """``["1", "2", "3", "7"]`` -> ``["1-3", "7"]``, padding kept."""
    items = sorted(set(numbers), key=lambda t: (int(t), len(t), t))
    out: list[str] = []
    start = last = items[0]
    width = len(start) if start[0] == "0" and len(start) > 1 else 0
    for text in items[1:]:
        if int(text) == int(last) + 1 and _fits(text, width):
            last = text
            continue
        out.append(start if start == last else f"{start}-{last}")
        start = last = text
        width = len(start) if start[0] == "0" and len(start) > 1 else 0
    out.append(start if start == last else f"{start}-{last}")
    return out


def fold(names: list[str] | tuple[str, ...] | set[str]) -> str:
    """The names as one folded text: ``web[1-3,7],db1`` (sorted by prefix, duplicates once)."""
    groups: dict[tuple[str, str], list[str]] = {}
    plain: list[str] = []
    for name in dict.fromkeys(names):
        parts = _split(name)
        if parts is None:
            plain.append(name)
        else:
            groups.setdefault((parts[0], parts[2]), []).append(parts[1])
    out: list[tuple[str, str]] = [(name, name) for name in plain]
    for (prefix, suffix), numbers in groups.items():
        ranges = _ranges(numbers)
        if len(ranges) == 1 and "-" not in ranges[0]:
            text = f"{prefix}{ranges[0]}{suffix}"
        else:
            text = f"{prefix}[{','.join(ranges)}]{suffix}"
        out.append((prefix + suffix, text))
    return ",".join(text for _, text in sorted(out))


def _expand_one(body: str, whole: str) -> list[str]:
    out: list[str] = []
    for part in body.split(","):
        lo, sep, hi = part.partition("-")
        if not sep:
            lo, sep, hi = part.partition(":")  # ansible's web[01:50]
        if not lo.isdigit() or (sep and not hi.isdigit()):
            raise InvalidHostListError(
                f"bad range [{body}] in {whole!r}",
                hint="a range is [1-3,7] or [01:50] (digits only)",
            )
        if not sep:
            out.append(lo)
            continue
        if int(hi) < int(lo):
            raise InvalidHostListError(f"range [{body}] in {whole!r} goes backwards")
        width = len(lo) if lo[0] == "0" and len(lo) > 1 else 0
        if int(hi) - int(lo) >= _MAX_EXPANSION:
            raise InvalidHostListError(f"range [{body}] in {whole!r} is too large")
        out.extend(str(n).zfill(width) for n in range(int(lo), int(hi) + 1))
    return out


def expand(text: str) -> list[str]:
    """``web[1-3,7]`` -> the names it stands for (several brackets multiply; ``a:b`` as
    in Ansible inventories works too).  InvalidHostListError for a bad range."""
    m = _RANGE.search(text)
    if m is None:
        if "[" in text or "]" in text:
            raise InvalidHostListError(f"unbalanced bracket in {text!r}")
        return [text]
    head, tail = text[: m.start()], text[m.end() :]
    if "[" in head or "]" in head:
        raise InvalidHostListError(f"unbalanced bracket in {text!r}")
    out: list[str] = []
    for number in _expand_one(m.group(1), text):
        for rest in expand(tail):
            out.append(f"{head}{number}{rest}")
            if len(out) > _MAX_EXPANSION:
                raise InvalidHostListError(f"{text!r} stands for too many hosts")
    return out
