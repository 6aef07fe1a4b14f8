"""The string primitives of systemd 252's ``src/basic`` that the property language stands on.

Each function is a port of the C function it is named after and gives the same answer for the
same input, including the corners (``safe_atou("0x10") == 16``, ``parse_size("1.5K", 1024) ==
1536``, ``extract_first_word`` with every flag combination used by ``bus-unit-util.c``).

Failures raise :class:`Bad` with a short description of what was expected; the dispatcher in
:mod:`sysd._core.properties` turns it into :class:`~sysd.errors.InvalidPropertyError` naming the
property and the value.

Strings are ``str``.  systemd works on bytes; where an escape produces a byte that is not ASCII
(``\\xff``), it is kept as a lone surrogate (``"\\udcff"``, as :func:`os.fsdecode` does) and
:func:`dbus_str` later turns the result into the UTF-8 text sd-bus would accept, or refuses it
exactly where sd-bus refuses to append a string that is not valid UTF-8.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = [
    "CUNESCAPE",
    "DONT_COALESCE_SEPARATORS",
    "KEEP_QUOTE",
    "NAME_MAX",
    "RELAX",
    "RETAIN_ESCAPE",
    "RETAIN_SEPARATORS",
    "UINT32_MAX",
    "UINT64_MAX",
    "UNESCAPE_RELAX",
    "UNESCAPE_SEPARATORS",
    "UNQUOTE",
    "WHITESPACE",
    "Bad",
    "cunescape",
    "cunescape_one",
    "dbus_str",
    "dbus_strv",
    "extract_first_word",
    "extract_many_words",
    "parse_boolean",
    "parse_mode",
    "parse_permyriad",
    "parse_permyriad_unbounded",
    "parse_range",
    "parse_size",
    "path_simplify",
    "safe_atoi",
    "safe_atoi64",
    "safe_atou",
    "safe_atou8",
    "safe_atou64",
    "safe_atoux64",
    "split_words",
    "uint32_scale_from_permyriad",
    "unbase64mem",
    "unhexmem",
    "unichar_is_valid",
]

UINT32_MAX: Final = 0xFFFF_FFFF
UINT64_MAX: Final = 0xFFFF_FFFF_FFFF_FFFF
INT32_MIN: Final = -(2**31)
INT32_MAX: Final = 2**31 - 1
INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1

#: systemd's WHITESPACE (string-util.h); C's isspace() adds \v and \f.
WHITESPACE: Final = " \t\n\r"
_C_SPACE: Final = " \t\n\v\f\r"


class Bad(Exception):
    """Input that systemd's parser refuses; ``args[0]`` says what was expected."""


# ----------------------------------------------------------------------- strtol & friends

_DIGIT_VALUE: Final = {c: i for i, c in enumerate("0123456789abcdefghijklmnopqrstuvwxyz")}
_DIGIT_VALUE.update({c.upper(): i for c, i in list(_DIGIT_VALUE.items()) if c.isalpha()})


def _strtol(s: str, base: int) -> int | None:
    """glibc ``strtol``/``strtoul`` over the whole of ``s`` (2.36: no ``0b`` prefix).

    Returns the mathematical value with its sign (callers apply the C type's wrap-around and
    range checks), or None when no digits were found or characters are left over.
    """
    n = len(s)
    i = 0
    while i < n and s[i] in _C_SPACE:
        i += 1
    negative = False
    if i < n and s[i] in "+-":
        negative = s[i] == "-"
        i += 1
    if base in (0, 16) and s[i : i + 1] == "0" and s[i + 1 : i + 2] in ("x", "X"):
        # "0x" followed by no hex digit converts just the "0" and stops at the "x".
        if s[i + 2 : i + 3] and _DIGIT_VALUE.get(s[i + 2], 99) < 16:
            i += 2
            base = 16
        else:
            return None
    elif base == 0:
        base = 8 if s[i : i + 1] == "0" else 10
    start = i
    value = 0
    while i < n:
        d = _DIGIT_VALUE.get(s[i], 99)
        if d >= base:
            return None
        value = value * base + d
        i += 1
    if i == start:
        return None
    return -value if negative else value


def _mangle_base(s: str) -> tuple[str, int]:
    """systemd's ``mangle_base()``: Python-style ``0b``/``0o`` prefixes for base 0."""
    if s[:2] in ("0b", "0B"):
        return s[2:], 2
    if s[:2] in ("0o", "0O"):
        return s[2:], 8
    return s, 0


def _is_plain_decimal(s: str) -> bool:
    # The common case, read without the generic machinery: "0" or digits not starting with 0.
    return s.isascii() and s.isdigit() and (s[0] != "0" or len(s) == 1)


def _safe_atoux(s: str, base: int, bits: int, refuse_plus_minus: bool = False) -> int | None:
    """``safe_atou_full``/``safe_atollu_full`` (unsigned, ``bits`` wide)."""
    if base == 0 and _is_plain_decimal(s):
        plain = int(s)
        return plain if plain < (1 << bits) else None
    s = s.lstrip(WHITESPACE)
    if refuse_plus_minus and s[:1] in ("+", "-"):
        return None
    if base == 0:
        s, base = _mangle_base(s)
    v = _strtol(s, base)
    if v is None or v > UINT64_MAX or v < -UINT64_MAX:
        return None  # EINVAL, or ERANGE from strtoul itself
    if v < 0:
        v &= UINT64_MAX  # strtoul negates in unsigned arithmetic
        if s[:1] == "-":
            return None
    if v >= (1 << bits):
        return None
    return v


def safe_atou(s: str) -> int | None:
    """``safe_atou()``: unsigned 32-bit, base 0 (decimal, 0x hex, 0 octal, 0b, 0o)."""
    return _safe_atoux(s, 0, 32)


def safe_atou8(s: str) -> int | None:
    """``safe_atou8()``."""
    v = _safe_atoux(s, 0, 32)
    return v if v is not None and v <= 255 else None


def safe_atou64(s: str) -> int | None:
    """``safe_atou64()``."""
    return _safe_atoux(s, 0, 64)


def safe_atoux64(s: str) -> int | None:
    """``safe_atoux64()``: hexadecimal, optional 0x."""
    return _safe_atoux(s, 16, 64)


def _safe_atoi_bits(s: str, lo: int, hi: int) -> int | None:
    if _is_plain_decimal(s):
        plain = int(s)
        return plain if plain <= hi else None
    s, base = _mangle_base(s.lstrip(WHITESPACE))
    v = _strtol(s, base)
    if v is None or v < INT64_MIN or v > INT64_MAX or v < lo or v > hi:
        return None
    return v


def safe_atoi(s: str) -> int | None:
    """``safe_atoi()``: signed 32-bit, base 0."""
    return _safe_atoi_bits(s, INT32_MIN, INT32_MAX)


def safe_atoi64(s: str) -> int | None:
    """``safe_atoi64()``: signed 64-bit, base 0."""
    return _safe_atoi_bits(s, INT64_MIN, INT64_MAX)


def parse_mode(s: str) -> int | None:
    """``parse_mode()``: octal, no sign, at most 07777."""
    v = _safe_atoux(s, 8, 32, refuse_plus_minus=True)
    return v if v is not None and v <= 0o7777 else None


_BOOL: Final = {
    **dict.fromkeys(("1", "yes", "y", "true", "t", "on"), True),
    **dict.fromkeys(("0", "no", "n", "false", "f", "off"), False),
}


def parse_boolean(s: str) -> bool | None:
    """``parse_boolean()`` (ASCII case-insensitive)."""
    v = _BOOL.get(s)
    if v is None and s.isascii():
        v = _BOOL.get(s.lower())
    return v


# ----------------------------------------------------------------------- sizes, percentages

_IEC: Final = (
    ("E", 1024**6), ("P", 1024**5), ("T", 1024**4), ("G", 1024**3), ("M", 1024**2), ("K", 1024),
    ("B", 1), ("", 1),
)  # fmt: skip
_SI: Final = (
    ("E", 1000**6), ("P", 1000**5), ("T", 1000**4), ("G", 1000**3), ("M", 1000**2), ("K", 1000),
    ("B", 1), ("", 1),
)  # fmt: skip


def _strtoull_prefix(s: str, i: int) -> tuple[int, int] | None:
    """``strtoull(s + i, &e, 10)``: (value wrapped to 64 bits, end index); None on ERANGE.

    If nothing converts, the end index is ``i`` (C sets ``e`` to the start).
    """
    n = len(s)
    j = i
    while j < n and s[j] in _C_SPACE:
        j += 1
    negative = False
    if j < n and s[j] in "+-":
        negative = s[j] == "-"
        j += 1
    k = j
    while k < n and "0" <= s[k] <= "9":
        k += 1
    if k == j:
        return 0, i
    v = int(s[j:k])
    if v > UINT64_MAX:
        return None
    return ((-v) & UINT64_MAX if negative else v), k


def parse_size(t: str, base: int) -> int:
    """``parse_size()``: ``"1.5G 512M"`` with IEC (1024) or SI (1000) suffixes -> bytes."""
    if _is_plain_decimal(t):
        v = int(t)
        if v > UINT64_MAX:
            raise Bad("a size that fits in 64 bits")
        return v
    table = _IEC if base == 1024 else _SI
    n = len(t)
    p = 0
    r = 0
    start = 0
    while True:
        while p < n and t[p] in WHITESPACE:
            p += 1
        conv = _strtoull_prefix(t, p)
        if conv is None:
            raise Bad("a size that fits in 64 bits")
        value, e = conv
        if e == p:
            raise Bad("a size such as 512M, 1.5G or 4096")
        if t[p] == "-":
            raise Bad("a size that is not negative")
        frac = 0.0
        if t[e : e + 1] == ".":
            e += 1
            if e < n and "0" <= t[e] <= "9":
                conv2 = _strtoull_prefix(t, e)
                if conv2 is None:
                    raise Bad("a size that fits in 64 bits")
                l2, e2 = conv2
                frac = float(l2)
                while e < e2:
                    frac /= 10
                    e += 1
        while e < n and t[e] in WHITESPACE:
            e += 1
        for i in range(start, len(table)):
            suffix, factor = table[i]
            if t.startswith(suffix, e):
                break
        else:  # pragma: no cover - "" always matches
            raise Bad("a size such as 512M, 1.5G or 4096")
        if ((value + (frac > 0)) & UINT64_MAX) > UINT64_MAX // factor:
            raise Bad("a size that fits in 64 bits")
        tmp = value * factor + int(frac * factor)
        if tmp > UINT64_MAX - r:
            raise Bad("a size that fits in 64 bits")
        r += tmp
        p = e + len(suffix)
        start = i + 1
        if p >= n:
            return r


def _parts_whole(p: str, symbol: str) -> int | None:
    v = safe_atoi(p[: -len(symbol)])
    return v if v is not None and v >= 0 else None


def _parts_scaled(p: str, symbol: str, places: int) -> int | None:
    body = p[: -len(symbol)]
    dot = body.find(".")
    q = 0
    if dot >= 0:
        decimals = body[dot + 1 :]
        if not 1 <= len(decimals) <= places:
            return None
        for c in decimals:
            if not "0" <= c <= "9":
                return None
        q = int(decimals.ljust(places, "0"))
        body = body[:dot]
    v = safe_atoi(body)
    scale = 100 if places == 2 else 10
    if v is None or v < 0 or v > (INT32_MAX - q) // scale:
        return None
    return v * scale + q


def parse_permyriad_unbounded(p: str) -> int | None:
    """``parse_permyriad_unbounded()``: ``"12.34%"``, ``"5‰"``, ``"7‱"`` -> 1/10000ths."""
    if p.endswith("‱"):
        return _parts_whole(p, "‱")
    if p.endswith("‰"):
        return _parts_scaled(p, "‰", 1)
    if p.endswith("%"):
        return _parts_scaled(p, "%", 2)
    return None


def parse_permyriad(p: str) -> int | None:
    """``parse_permyriad()``: at most 100%."""
    v = parse_permyriad_unbounded(p)
    return v if v is not None and v <= 10000 else None


def uint32_scale_from_permyriad(v: int) -> int:
    """``UINT32_SCALE_FROM_PERMYRIAD()``."""
    return (min(max(v, 0), 10000) * UINT32_MAX + 5000) // 10000


# ----------------------------------------------------------------------- escapes and words

RELAX: Final = 1 << 0
CUNESCAPE: Final = 1 << 1
UNESCAPE_RELAX: Final = 1 << 2
UNESCAPE_SEPARATORS: Final = 1 << 3
KEEP_QUOTE: Final = 1 << 4
UNQUOTE: Final = 1 << 5
DONT_COALESCE_SEPARATORS: Final = 1 << 6
RETAIN_ESCAPE: Final = 1 << 7
RETAIN_SEPARATORS: Final = 1 << 8

_SIMPLE_ESCAPES: Final = {
    "a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92, '"': 34, "'": 39, "s": 32,
}  # fmt: skip
_HEX: Final = {c: int(c, 16) for c in "0123456789abcdefABCDEF"}


def unichar_is_valid(ch: int) -> bool:
    """``unichar_is_valid()``: no surrogates, no noncharacters, nothing past U+10FFFF."""
    return not (
        ch >= 0x110000
        or (ch & 0xFFFFF800) == 0xD800
        or 0xFDD0 <= ch <= 0xFDEF
        or (ch & 0xFFFE) == 0xFFFE
    )


def cunescape_one(p: str, i: int, accept_nul: bool) -> tuple[int, bool, int] | None:
    """``cunescape_one()`` at ``p[i]`` (just after the backslash).

    Returns (code, eight_bit, length consumed) or None when the sequence is not valid.
    ``eight_bit`` means ``code`` is a raw byte rather than a code point.
    """
    c = p[i : i + 1]
    v = _SIMPLE_ESCAPES.get(c)
    if v is not None:
        return v, False, 1
    if c == "x":
        a, b = _HEX.get(p[i + 1 : i + 2]), _HEX.get(p[i + 2 : i + 3])
        if a is None or b is None or (a == 0 and b == 0 and not accept_nul):
            return None
        return a << 4 | b, True, 3
    if c in ("u", "U"):
        width = 4 if c == "u" else 8
        code = 0
        for k in range(i + 1, i + 1 + width):
            d = _HEX.get(p[k : k + 1])
            if d is None:
                return None
            code = code << 4 | d
        if code == 0 and not accept_nul:
            return None
        if c == "U" and not unichar_is_valid(code):
            return None
        return code, False, width + 1
    if c and "0" <= c <= "7":
        digits = p[i : i + 3]
        if len(digits) < 3 or not all("0" <= d <= "7" for d in digits):
            return None
        m = int(digits, 8)
        if (m == 0 and not accept_nul) or m > 255:
            return None
        return m, True, 3
    return None


def _unescaped_char(code: int, eight_bit: bool) -> str:
    if eight_bit and code >= 0x80:
        return chr(0xDC00 + code)  # a raw byte, as os.fsdecode would keep it
    if 0xD800 <= code <= 0xDFFF:
        # C would UTF-8-encode a surrogate: never valid UTF-8, so every string it lands in is
        # refused by sd-bus.  Refuse it here (keeping it would alias the raw-byte surrogates).
        raise Bad("no escaped UTF-16 surrogate (\\uD800-\\uDFFF)")
    return chr(code)


def cunescape(s: str, accept_nul: bool = False) -> bytes:
    """``cunescape()`` (flags 0 or UNESCAPE_ACCEPT_NUL) -> the bytes."""
    if "\\" not in s:
        return s.encode("utf-8", "surrogateescape")
    out = bytearray()
    i = 0
    n = len(s)
    while i < n:
        c = s[i]
        if c != "\\":
            out += c.encode("utf-8", "surrogateescape")
            i += 1
            continue
        if i + 1 >= n:
            raise Bad("no trailing backslash")
        r = cunescape_one(s, i + 1, accept_nul)
        if r is None:
            raise Bad("valid C escapes only (\\n, \\t, \\xNN, \\NNN, \\uNNNN, ...)")
        code, eight_bit, length = r
        if eight_bit:
            out.append(code)
        else:
            out += chr(code).encode("utf-8", "surrogatepass")
        i += 1 + length
    return bytes(out)


def extract_first_word(
    p: str | None, separators: str | None, flags: int
) -> tuple[str | None, str | None]:
    """``extract_first_word()``: (word, rest).

    ``rest`` is None where C sets the cursor to NULL (end of input reached), which matters to
    callers that test ``if (p)``.  ``word`` is None when there was no word at all.
    """
    if p is None:
        return None, None
    if separators is None:
        separators = WHITESPACE
    if "\\" not in p and not (flags & (UNQUOTE | KEEP_QUOTE) and ('"' in p or "'" in p)):
        return _extract_plain(p, separators, flags)
    n = len(p)
    i = 0
    # Skip leading separators.  With DONT_COALESCE_SEPARATORS, C has already allocated the
    # word, so an empty word is returned instead of "no word".
    while True:
        if i >= n:
            return ("" if flags & DONT_COALESCE_SEPARATORS else None), None
        c = p[i]
        if c in separators:
            if flags & DONT_COALESCE_SEPARATORS:
                if not flags & RETAIN_SEPARATORS:
                    i += 1
                return "", p[i:]
            i += 1
            continue
        break

    out: list[str] = []
    quote = ""
    backslash = False
    while True:
        if backslash:
            if i >= n:
                if flags & UNESCAPE_RELAX and (not quote or flags & RELAX):
                    out.append("\\")
                    return "".join(out), None
                if flags & RELAX:
                    return "".join(out), None
                raise Bad("no trailing backslash")
            c = p[i]
            if flags & (CUNESCAPE | UNESCAPE_SEPARATORS):
                r = cunescape_one(p, i, False) if flags & CUNESCAPE else None
                if r is not None:
                    code, eight_bit, length = r
                    i += length - 1
                    out.append(_unescaped_char(code, eight_bit))
                elif flags & UNESCAPE_SEPARATORS and (c in separators or c == "\\"):
                    out.append(c)
                elif flags & UNESCAPE_RELAX:
                    out.append("\\")
                    out.append(c)
                else:
                    raise Bad("valid C escapes only (\\n, \\t, \\xNN, \\NNN, \\uNNNN, ...)")
            else:
                out.append(c)
            backslash = False
            i += 1
        elif quote:
            while True:
                if i >= n:
                    if flags & RELAX:
                        return "".join(out), None
                    raise Bad("balanced quotes")
                c = p[i]
                if c == quote:
                    quote = ""
                    if flags & UNQUOTE:
                        break
                elif c == "\\" and not flags & RETAIN_ESCAPE:
                    backslash = True
                    break
                out.append(c)
                if not quote:
                    break
                i += 1
            i += 1
        else:
            while True:
                if i >= n:
                    return "".join(out), None
                c = p[i]
                if c in "'\"" and flags & (KEEP_QUOTE | UNQUOTE):
                    quote = c
                    if flags & UNQUOTE:
                        break
                elif c == "\\" and not flags & RETAIN_ESCAPE:
                    backslash = True
                    break
                elif c in separators:
                    if flags & DONT_COALESCE_SEPARATORS:
                        if not flags & RETAIN_SEPARATORS:
                            i += 1
                        return "".join(out), p[i:]
                    if not flags & RETAIN_SEPARATORS:
                        while True:
                            if i >= n:
                                return "".join(out), None
                            if p[i] not in separators:
                                break
                            i += 1
                    return "".join(out), p[i:]
                out.append(c)
                if quote:
                    break
                i += 1
            i += 1


_SEPARATOR_RES: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = {}


def _separator_res(separators: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    res = _SEPARATOR_RES.get(separators)
    if res is None:
        cls = "[" + re.escape(separators) + "]"
        res = _SEPARATOR_RES[separators] = (re.compile(cls), re.compile(cls + "*"))
    return res


def _run_end(run: re.Pattern[str], p: str, pos: int) -> int:
    m = run.match(p, pos)
    return m.end() if m is not None else pos


def _extract_plain(p: str, separators: str, flags: int) -> tuple[str | None, str | None]:
    """extract_first_word() for text without backslashes or (active) quotes."""
    one, run = _separator_res(separators)
    if flags & DONT_COALESCE_SEPARATORS:
        m = one.search(p)
        if m is None:
            return p, None
        end = m.start()
        return p[:end], p[end if flags & RETAIN_SEPARATORS else end + 1 :]
    start = _run_end(run, p, 0)
    n = len(p)
    if start == n:
        return None, None
    m = one.search(p, start)
    if m is None:
        return p[start:], None
    end = m.start()
    if flags & RETAIN_SEPARATORS:
        return p[start:end], p[end:]
    after = _run_end(run, p, end)
    return p[start:end], (p[after:] if after < n else None)


def extract_many_words(
    p: str | None, separators: str | None, flags: int, count: int
) -> tuple[list[str | None], str | None, int]:
    """``extract_many_words()``: up to ``count`` words -> (words padded with None, rest, found)."""
    words: list[str | None] = [None] * count
    found = 0
    for k in range(count):
        w, p = extract_first_word(p, separators, flags)
        if w is None:
            break
        words[k] = w
        found += 1
    return words, p, found


_SPECIAL_WORD_CHARS: Final = frozenset(" \t\n\r'\"\\")
_WHITESPACE_RUN: Final = re.compile("[ \t\n\r]+")


def split_words(s: str, flags: int) -> list[str]:
    """``strv_split_full(s, NULL, flags)`` / the ``extract_first_word`` loop over whitespace."""
    if _SPECIAL_WORD_CHARS.isdisjoint(s):
        return [s] if s else []
    if "\\" not in s and '"' not in s and "'" not in s:
        return [w for w in _WHITESPACE_RUN.split(s) if w]
    words: list[str] = []
    rest: str | None = s
    while True:
        w, rest = extract_first_word(rest, None, flags)
        if w is None:
            return words
        words.append(w)


# ----------------------------------------------------------------------- UTF-8 as sd-bus sees it

_NONCHARACTERS: Final = re.compile(
    "[\ufdd0-\ufdef"
    + "".join(f"{chr(plane << 16 | 0xFFFE)}{chr(plane << 16 | 0xFFFF)}" for plane in range(17))
    + "]"
)


def dbus_str(s: str) -> str:
    """The string sd-bus would put on the wire for ``s``, or :class:`Bad` where it refuses.

    sd-bus checks ``utf8_is_valid()`` on every string it appends: well-formed UTF-8 without
    surrogates or noncharacters.  Raw bytes kept as lone surrogates are decoded here.
    """
    if s.isascii():
        return s
    try:
        text = s.encode("utf-8", "surrogateescape").decode("utf-8")
    except UnicodeError:
        raise Bad("valid UTF-8 text") from None
    if _NONCHARACTERS.search(text):
        raise Bad("valid UTF-8 text (no Unicode noncharacters)")
    return text


def dbus_strv(words: list[str]) -> list[str]:
    """:func:`dbus_str` for each word."""
    for w in words:
        if not w.isascii():
            return [dbus_str(x) for x in words]
    return words


# ----------------------------------------------------------------------- hex, base64, ranges


def unhexmem(s: str) -> bytes:
    """``unhexmem()``: hex digits, whitespace between them ignored."""
    digits = [c for c in s if c not in WHITESPACE]
    if len(digits) % 2:
        raise Bad("an even number of hexadecimal digits")
    values = [_HEX.get(c) for c in digits]
    if None in values:
        raise Bad("hexadecimal digits")
    return bytes((values[k] or 0) << 4 | (values[k + 1] or 0) for k in range(0, len(values), 2))


_B64: Final = {c: i for i, c in enumerate(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
)}  # fmt: skip
_PAD: Final = 64


def unbase64mem(s: str) -> bytes:
    """``unbase64mem()``: strict base64 (padding required), whitespace ignored anywhere."""
    symbols: list[int] = []
    for ch in s:
        if ch in WHITESPACE:
            continue
        if ch == "=":
            symbols.append(_PAD)
            continue
        v = _B64.get(ch)
        if v is None:
            raise Bad("base64 data")
        symbols.append(v)
    out = bytearray()
    n = len(symbols)
    k = 0
    while k < n:
        group = symbols[k : k + 4]
        k += 4
        if len(group) < 4:
            raise Bad("base64 data (length a multiple of 4, with = padding)")
        a, b, c, d = group
        if _PAD in (a, b):
            raise Bad("base64 data (padding only at the end)")
        if c == _PAD:
            if d != _PAD or b & 15 or k < n:
                raise Bad("base64 data (padding only at the end)")
            out.append((a << 2 | b >> 4) & 0xFF)
            break
        if d == _PAD:
            if c & 3 or k < n:
                raise Bad("base64 data (padding only at the end)")
            out.append((a << 2 | b >> 4) & 0xFF)
            out.append((b << 4 | c >> 2) & 0xFF)
            break
        out.append((a << 2 | b >> 4) & 0xFF)
        out.append((b << 4 | c >> 2) & 0xFF)
        out.append((c << 6 | d) & 0xFF)
    return bytes(out)


def parse_range(t: str) -> tuple[int, int] | None:
    """``parse_range()``: ``"N"`` or ``"N-M"`` (unsigned)."""
    word, rest = extract_first_word(t, "-", DONT_COALESCE_SEPARATORS)
    if word is None:
        return None
    lower = safe_atou(word)
    if lower is None:
        return None
    if rest is None:
        return lower, lower
    if not rest:
        return None
    upper = safe_atou(rest)
    if upper is None:
        return None
    return lower, upper


# ----------------------------------------------------------------------- paths

NAME_MAX: Final = 255


def _skip_slash_or_dot(p: str, i: int) -> int:
    n = len(p)
    while i < n:
        if p[i] == "/":
            i += 1
        elif p.startswith("./", i):
            i += 2
        else:
            break
    return i


def path_simplify(path: str) -> str:
    """``path_simplify()``: drop redundant slashes and ``.`` components (keeps ``..``)."""
    if not path:
        return path
    absolute = path[0] == "/"
    parts: list[str] = []
    n = len(path)
    i = 1 if absolute else 0
    while True:
        first = _skip_slash_or_dot(path, i)
        if first >= n or path[first:] == ".":
            break
        end = path.find("/", first)
        if end < 0:
            end = n
        component = path[first:end]
        if len(component.encode("utf-8", "surrogateescape")) > NAME_MAX:
            # An invalid component: C stops and keeps the rest verbatim.
            rest = path[i:]
            head = ("/" if absolute else "") + "/".join(parts)
            return head + ("/" if parts else "") + rest
        parts.append(component)
        nxt = _skip_slash_or_dot(path, end)
        i = nxt + (1 if path[nxt:] == "." else 0)
    if absolute:
        return "/" + "/".join(parts)
    return "/".join(parts) or "."
