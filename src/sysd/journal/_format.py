"""journalctl's output formats, byte for byte (no I/O).

A port of ``src/shared/logs-show.c`` (systemd 252): ``output_short`` (short,
short-full, short-iso, short-iso-precise, short-precise, short-monotonic,
short-unix, short-delta, with-unit), ``output_verbose``, ``output_export``,
``output_json`` (json, json-pretty, json-sse, json-seq) and ``output_cat``, with
``print_multiline()``, ``strip_tab_ansi()``, ``ellipsize_mem()`` and
``utf8_is_printable()``.  Output is bytes: entries may hold any bytes.

Where the result cannot match journalctl exactly:

* JSON objects list their keys in the entry's order (``__CURSOR``,
  ``__REALTIME_TIMESTAMP``, ``__MONOTONIC_TIMESTAMP``, ``_BOOT_ID``, then the fields);
  journalctl's order is that of a hash table with a random seed, so it changes from
  one run to the next.  The values are formatted the same way.
* Month and day names are English (journalctl follows ``LC_TIME``); documentation
  links are never turned into terminal hyperlinks.
"""

from __future__ import annotations

import re
import struct
import time
import unicodedata
from collections.abc import Callable, Iterable
from typing import Final

from ._entry import Entry

__all__ = ["OUTPUT_MODES", "Formatter", "format_bytes", "is_printable", "strip_tab_ansi"]

OUTPUT_MODES: Final = (
    "short", "short-full", "short-iso", "short-iso-precise", "short-precise",
    "short-monotonic", "short-unix", "short-delta", "with-unit", "verbose", "export",
    "json", "json-pretty", "json-sse", "json-seq", "cat",
)  # fmt: skip

PRINT_LINE_THRESHOLD: Final = 3
PRINT_CHAR_THRESHOLD: Final = 300
JSON_THRESHOLD: Final = 4096
USEC_PER_SEC: Final = 1_000_000
_VALID_TS_LIMIT: Final = 1 << 55  # VALID_REALTIME / VALID_MONOTONIC

ANSI_NORMAL: Final = b"\x1b[0m"
ANSI_HIGHLIGHT: Final = b"\x1b[0;1;39m"
ANSI_HIGHLIGHT_RED: Final = b"\x1b[0;1;31m"
ANSI_HIGHLIGHT_YELLOW: Final = b"\x1b[0;1;38;5;185m"
ANSI_GREY: Final = b"\x1b[0;38;5;245m"
ANSI_BLUE: Final = b"\x1b[0;34m"
ANSI_GREEN: Final = b"\x1b[0;32m"
ANSI_HIGHLIGHT_BLUE: Final = b"\x1b[0;1;34m"

_MONTHS: Final = ("Jan", "Feb", "Mar", "Apr", "May", "Jun",
                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")  # fmt: skip
_DAYS: Final = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

# Code points utf8_is_printable() refuses: C0 controls but TAB and LF, DEL and C1, and
# the "non-characters" unichar_is_valid() refuses.
_NOT_PRINTABLE: Final = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\ufdd0-\ufdef"
    + "".join(f"{chr(p * 0x10000 + 0xFFFE)}{chr(p * 0x10000 + 0xFFFF)}" for p in range(17))
    + "]"
)


def is_printable(data: bytes, *, newline: bool = True) -> bool:
    """utf8_is_printable_newline(): valid UTF-8 without control characters but TAB (and LF)."""
    try:
        text = data.decode()
    except UnicodeDecodeError:
        return False
    if _NOT_PRINTABLE.search(text):
        return False
    return newline or "\n" not in text


def format_bytes(n: int) -> str:
    """``FORMAT_BYTES()``: IEC units with one decimal, ``B`` below 1K."""
    factors = [(suffix, 1024 ** (6 - i)) for i, suffix in enumerate("EPTGMK")]
    for i, (suffix, factor) in enumerate(factors):
        if n >= factor:
            if i != len(factors) - 1:
                decimal = (n // factors[i + 1][1] * 10 // 1024) % 10
            else:
                decimal = (n * 10 // factor) % 10
            return f"{n // factor}.{decimal}{suffix}"
    return f"{n}B"


def _log_colors(priority: int) -> tuple[bytes, bytes, bytes]:
    """get_log_colors(): (on, off, highlight)."""
    if priority <= 3:
        return ANSI_HIGHLIGHT_RED, ANSI_NORMAL, ANSI_HIGHLIGHT
    if priority <= 4:
        return ANSI_HIGHLIGHT_YELLOW, ANSI_NORMAL, ANSI_HIGHLIGHT
    if priority <= 5:
        return ANSI_HIGHLIGHT, ANSI_NORMAL, ANSI_HIGHLIGHT_RED
    if priority >= 7:
        return ANSI_GREY, ANSI_NORMAL, ANSI_HIGHLIGHT_RED
    return b"", b"", b""


def _cstr(data: bytes) -> bytes:
    """What printf's ``%.*s`` prints of ``data``: up to the first NUL."""
    nul = data.find(b"\0")
    return data if nul < 0 else data[:nul]


# ------------------------------------------------------------------- strip_tab_ansi


def strip_tab_ansi(data: bytes, highlight: list[int] | None = None) -> bytes:
    """TABs to 8 spaces, ANSI colour (CSI ... m) and OSC (ESC ] ... BEL) sequences and
    carriage returns before a newline or the end removed; ``highlight`` shifted in place."""
    if b"\t" not in data and b"\x1b" not in data and b"\r" not in data:
        return data
    out = bytearray()
    shift = [0, 0]

    def advance(diff: int, size: int) -> None:
        if highlight is None:
            return
        if diff < highlight[0]:
            shift[0] += size
        if diff < highlight[1]:
            shift[1] += size

    state = "other"
    begin = 0
    n_cr = 0
    size = len(data)
    i = 0
    while i < size + 1:
        c = data[i] if i < size else None
        if state == "other":
            if c is None:
                i += 1
                continue
            if c == 0x0D:
                n_cr += 1
                i += 1
                continue
            if c == 0x0A:
                n_cr = 0
            out += b"\r" * n_cr
            n_cr = 0
            if c == 0x1B:
                state = "escape"
            elif c == 0x09:
                out += b"        "
                advance(i, 7)
            else:
                out.append(c)
        elif state == "escape":
            if c is None:
                out.append(0x1B)
                advance(i, 1)
                i += 1
                continue
            if c == 0x5B:  # [
                state, begin = "csi", i + 1
            elif c == 0x5D:  # ]
                state, begin = "cso", i + 1
            else:
                out.append(0x1B)
                out.append(c)
                advance(i, 1)
                state = "other"
        elif state == "csi":
            if c is None or c not in b"01234567890;m":
                out += b"\x1b["
                advance(i, 2)
                state = "other"
                i = begin - 1
            elif c == 0x6D:  # m
                state = "other"
        elif c is None or (c != 0x07 and c < 32) or c > 126:  # cso: ends badly
            out += b"\x1b]"
            advance(i, 2)
            state = "other"
            i = begin - 1
        elif c == 0x07:  # cso: ends with BEL
            state = "other"
        i += 1
    if highlight is not None:
        highlight[0] += shift[0]
        highlight[1] += shift[1]
    return bytes(out)


# -------------------------------------------------------------------- ellipsize_mem


def _wide(c: str) -> bool:
    return unicodedata.east_asian_width(c) in ("W", "F")


def ellipsize_mem(data: bytes, new_length: int, percent: int, *, utf8: bool = True) -> bytes:
    """ellipsize_mem(): cut to ``new_length`` columns with an ellipsis at ``percent``%."""
    if new_length == 0:
        return b""
    try:
        text = data.decode("ascii")
        ascii_only = True
    except UnicodeDecodeError:
        ascii_only = False
    if ascii_only:
        if len(data) <= new_length:
            return data
        if new_length == 1:
            return "…".encode() if utf8 else b"."
        if new_length == 2 and not utf8:
            return b".."
        need = 1 if utf8 else 3
        x = ((new_length - need) * percent + 50) // 100
        suffix_len = new_length - x - need
        mark = "…".encode() if utf8 else b"..."
        return data[:x] + mark + (data[len(data) - suffix_len :] if suffix_len else b"")
    text = data.decode("utf-8", "replace")
    x = ((new_length - 1) * percent) // 100
    k = 0
    i = 0
    while i < len(text):
        w = 2 if _wide(text[i]) else 1
        if k + w <= x:
            k += w
            i += 1
        else:
            break
    j = len(text)
    while j > i:
        w = 2 if _wide(text[j - 1]) else 1
        if k + w <= new_length:
            k += w
            j -= 1
        else:
            break
    if i == j:
        return data
    if j < len(text):
        j += 1
    elif i > 0:
        i -= 1
    return (text[:i] + "…" + text[j:]).encode()


# -------------------------------------------------------------------- print_multiline


def print_multiline(
    out: bytearray,
    prefix: int,
    n_columns: int,
    *,
    full: bool,
    color: bool,
    priority: int,
    audit: bool,
    message: bytes,
    highlight: list[int] | None,
    utf8: bool = True,
) -> bool:
    """Append a message, continuation lines indented by ``prefix``; True if ellipsized."""
    color_on = color_off = highlight_on = b""
    if color:
        color_on, color_off, highlight_on = _log_colors(priority)
        if audit and not color_on:
            color_on, color_off = ANSI_BLUE, ANSI_NORMAL
    ellipsized = False
    if not message:
        out += b"\n"
    size = len(message)
    pos = 0
    line = 0
    while pos < size:
        end = message.find(b"\n", pos)
        if end < 0:
            end = size
        length = end - pos
        indent = b" " * (prefix if line > 0 else 0)
        tail_line = line + 1 == PRINT_LINE_THRESHOLD or end + 1 >= PRINT_CHAR_THRESHOLD
        text = message[pos:end]
        if full or (prefix + length + 1 < n_columns and not tail_line):
            if highlight is not None and pos <= highlight[0] < length:
                h0, h1 = highlight
                out += indent + color_on + _cstr(message[pos : pos + h0])
                out += highlight_on + _cstr(message[pos + h0 : pos + min(length, h1)])
                if length > h1:
                    out += color_on + _cstr(message[pos + h1 : pos + length])
                out += color_off + b"\n"
            else:
                out += indent + color_on + _cstr(text) + color_off + b"\n"
            pos, line = end + 1, line + 1
            continue
        ellipsized = True
        if prefix < n_columns and n_columns - prefix >= 3:
            if n_columns - prefix > length + 3:
                out += indent + color_on + _cstr(text) + b"..." + color_off + b"\n"
            else:
                cut = ellipsize_mem(text, n_columns - prefix, 100 if tail_line else 90, utf8=utf8)
                out += indent + color_on + _cstr(cut) + color_off + b"\n"
        else:
            out += b"...\n"
        if tail_line:
            break
        pos, line = end + 1, line + 1
    return ellipsized


# ------------------------------------------------------------------------- helpers


def _safe_atou64(raw: bytes) -> int | None:
    """safe_atou64(): strtoull base 0 after whitespace, 0b/0o prefixes; None if invalid."""
    s = raw.lstrip(b" \t\n\r")
    base = 10
    low = s[:2].lower()
    if low == b"0b":
        base, s = 2, s[2:]
    elif low == b"0o":
        base, s = 8, s[2:]
    negative = False
    if s[:1] in (b"+", b"-"):
        negative = s[:1] == b"-"
        s = s[1:]
    if base == 10:
        if s[:2].lower() == b"0x":
            base, s = 16, s[2:]
        elif s[:1] == b"0" and len(s) > 1:
            base = 8
    try:
        value = int(s, base) if s and s.isalnum() else None
    except ValueError:
        return None
    if value is None or value >= 1 << 64:
        return None
    if negative and value != 0:
        return None
    return value


def _fields(entry: Entry, wanted: frozenset[bytes]) -> dict[bytes, bytes]:
    """parse_fieldv(): the last value of each wanted field."""
    found: dict[bytes, bytes] = {}
    for item in entry._items:
        eq = item.find(b"=")
        if eq > 0:
            name = item[:eq]
            if name in wanted:
                found[name] = item[eq + 1 :]
    return found


def _dual_timestamp(entry: Entry) -> tuple[int | None, int | None]:
    """get_dual_timestamp(): the source timestamps when the entry has valid ones."""
    realtime = monotonic = None
    for item in entry._items:
        if item.startswith(b"_SOURCE_REALTIME_TIMESTAMP="):
            realtime = item[27:]
        elif item.startswith(b"_SOURCE_MONOTONIC_TIMESTAMP="):
            monotonic = item[28:]
        else:
            continue
        if realtime is not None and monotonic is not None:
            break
    rt = _safe_atou64(realtime) if realtime is not None else None
    if rt is None or not 0 < rt < _VALID_TS_LIMIT:
        rt = entry.realtime_usec
    mono = _safe_atou64(monotonic) if monotonic is not None else None
    if mono is None or not mono < _VALID_TS_LIMIT:
        mono = entry.monotonic_usec
    return rt, mono


def _tm(seconds: int, utc: bool) -> time.struct_time:
    return time.gmtime(seconds) if utc else time.localtime(seconds)


def _gmtoff(tm: time.struct_time) -> str:
    off = tm.tm_gmtoff or 0
    sign = "-" if off < 0 else "+"
    off = abs(off) // 60
    return f"{sign}{off // 60:02d}{off % 60:02d}"


def format_timestamp(usec: int, *, utc: bool = False, us: bool = False) -> str | None:
    """format_timestamp_style(): ``"Mon 2024-05-06 10:00:00 CEST"`` (``.123456`` with ``us``)."""
    if usec <= 0 or usec >= 2**64 - 1:
        return None
    seconds, micro = divmod(usec, USEC_PER_SEC)
    try:
        tm = _tm(seconds, utc)
    except (OverflowError, OSError, ValueError):
        return None
    if tm.tm_year > 9999:
        return "--- XXXX-XX-XX XX:XX:XX"
    text = (
        f"{_DAYS[tm.tm_wday]} {tm.tm_year:04d}-{tm.tm_mon:02d}-{tm.tm_mday:02d} "
        f"{tm.tm_hour:02d}:{tm.tm_min:02d}:{tm.tm_sec:02d}"
    )
    if us:
        text += f".{micro:06d}"
    return text + " " + ("UTC" if utc else (tm.tm_zone or ""))


def _json_string(data: bytes, color: bool = False) -> bytes:
    """json_format_string() for text that passed utf8_is_printable(); in green with
    ``color``, inside the quotes (JSON_FORMAT_COLOR)."""
    text = (
        data.replace(b"\\", b"\\\\").replace(b'"', b'\\"').replace(b"\n", b"\\n")
        .replace(b"\t", b"\\t")
    )  # fmt: skip
    if color:
        return b'"' + ANSI_GREEN + text + ANSI_NORMAL + b'"'
    return b'"' + text + b'"'


def _json_value(name: bytes, value: bytes, show_all: bool) -> bytes | list[int] | None:
    if not show_all and len(name) + 1 + len(value) >= JSON_THRESHOLD:
        return None
    if is_printable(value):
        return value
    return list(value)


# ------------------------------------------------------------------------ formatter


class Formatter:
    """Formats entries as ``journalctl -o MODE`` does; call it with an :class:`Entry`.

    ``full``: never ellipsize (journalctl's default; ``systemctl status`` when not on a
    terminal); else messages are cut to ``columns``.  ``show_all``: print unprintable
    and long fields (``--all``).  ``color``: ANSI colours by priority.  ``utc``: UTC
    instead of local time.  The formatter keeps the previous entry's timestamp for
    ``short-delta``.

    >>> from sysd.journal import Entry
    >>> e = Entry([b"MESSAGE=hi", b"SYSLOG_IDENTIFIER=demo", b"_PID=7", b"_HOSTNAME=box"],
    ...           1_700_000_000_000_000, 1, bytes(16), "s=0")
    >>> Formatter("short-unix")(e)
    b'1700000000.000000 box demo[7]: hi\\n'
    >>> Formatter("cat")(e)
    b'hi\\n'
    """

    def __init__(
        self,
        mode: str = "short",
        *,
        full: bool = True,
        show_all: bool = False,
        color: bool = False,
        utc: bool = False,
        columns: int = 80,
        no_hostname: bool = False,
        utf8: bool = True,
        output_fields: Iterable[str] | None = None,
    ) -> None:
        if mode not in OUTPUT_MODES:
            raise ValueError(f"unknown output mode {mode!r}: one of {', '.join(OUTPUT_MODES)}")
        self.mode = mode
        self.full = full
        self.show_all = show_all
        self.color = color
        self.utc = utc
        self.columns = columns
        self.no_hostname = no_hostname
        self.utf8 = utf8
        self.ellipsized = False
        # --output-fields: the fields verbose, export and JSON show (their headers always),
        # and those cat prints in place of MESSAGE (in the order given)
        self._cat_fields = list(dict.fromkeys(output_fields or ()))
        self._only = frozenset(f.encode() for f in self._cat_fields) or None
        self._previous: tuple[int | None, int | None, bytes] | None = None
        funcs: dict[str, Callable[[Entry, list[int] | None], bytes]] = {
            "verbose": self._verbose,
            "export": self._export,
            "cat": self._cat,
        }
        self._func = funcs.get(mode) or (self._json if mode.startswith("json") else self._short)

    def __call__(self, entry: Entry, *, highlight: tuple[int, int] | None = None) -> bytes:
        """The entry as journalctl prints it (``b""`` for entries it skips).

        ``highlight``: the byte span of MESSAGE a ``--grep`` matched (coloured).
        """
        return self._func(entry, list(highlight) if highlight is not None else None)

    # ------------------------------------------------------------------- short

    _SHORT_FIELDS: Final = frozenset(
        {b"_PID", b"_COMM", b"MESSAGE", b"PRIORITY", b"_TRANSPORT", b"_HOSTNAME",
         b"SYSLOG_PID", b"SYSLOG_IDENTIFIER", b"CONFIG_FILE", b"_SYSTEMD_UNIT",
         b"_SYSTEMD_USER_UNIT", b"DOCUMENTATION"}
    )  # fmt: skip

    def _shall_print(self, value: bytes) -> bool:
        if self.show_all:
            return True
        return len(value) < PRINT_CHAR_THRESHOLD and is_printable(value)

    def _realtime_text(self, usec: int) -> str:
        mode = self.mode
        if mode in ("short-full", "with-unit"):
            return format_timestamp(usec, utc=self.utc) or ""
        seconds, micro = divmod(usec, USEC_PER_SEC)
        if mode == "short-unix":
            return f"{seconds:10d}.{micro:06d}"
        tm = _tm(seconds, self.utc)
        if mode in ("short-iso", "short-iso-precise"):
            frac = f".{micro:06d}" if mode == "short-iso-precise" else ""
            return (
                f"{tm.tm_year:04d}-{tm.tm_mon:02d}-{tm.tm_mday:02d}T"
                f"{tm.tm_hour:02d}:{tm.tm_min:02d}:{tm.tm_sec:02d}{frac}{_gmtoff(tm)}"
            )
        text = (
            f"{_MONTHS[tm.tm_mon - 1]} {tm.tm_mday:02d} "
            f"{tm.tm_hour:02d}:{tm.tm_min:02d}:{tm.tm_sec:02d}"
        )
        if mode == "short-precise":
            text += f".{micro:06d}"
        return text

    def _monotonic_text(self, mono: int | None, realtime: int | None, boot: bytes) -> str:
        if mono is None or mono >= _VALID_TS_LIMIT:
            raise ValueError("No valid monotonic timestamp available")
        text = f"[{mono // USEC_PER_SEC:5d}.{mono % USEC_PER_SEC:06d}"
        if self.mode == "short-delta":
            prev = self._previous
            if prev is not None and prev[1] is not None and prev[2] == boot:
                delta, mark = max(0, mono - prev[1]), " "
            elif (
                prev is not None and realtime is not None and prev[0] is not None
                and 0 < realtime < _VALID_TS_LIMIT and 0 < prev[0] < _VALID_TS_LIMIT
            ):  # fmt: skip
                delta, mark = max(0, realtime - prev[0]), "*"
            else:
                return text + " " * 16 + "]"
            text += f" <{delta // USEC_PER_SEC:5d}.{delta % USEC_PER_SEC:06d}{mark}>"
        return text + "]"

    def _short(self, entry: Entry, highlight: list[int] | None) -> bytes:
        realtime, mono = _dual_timestamp(entry)
        boot = entry._boot_bytes
        previous = self._previous
        self._previous = (realtime, mono, boot)
        f = _fields(entry, self._SHORT_FIELDS)
        message = f.get(b"MESSAGE")
        if message is None:
            return b""
        show_all = self.show_all
        if not show_all:
            message = strip_tab_ansi(message, highlight)
        priority_raw = f.get(b"PRIORITY", b"")
        priority = 6
        if len(priority_raw) == 1 and 0x30 <= priority_raw[0] <= 0x37:
            priority = priority_raw[0] - 0x30
        audit = f.get(b"_TRANSPORT") == b"audit"
        if self.mode in ("short-monotonic", "short-delta"):
            self._previous = previous
            try:
                stamp = self._monotonic_text(mono, realtime, boot)
            finally:
                self._previous = (realtime, mono, boot)
        else:
            if realtime is None or not 0 < realtime < _VALID_TS_LIMIT:
                raise ValueError("No valid realtime timestamp available")
            stamp = self._realtime_text(realtime)
        out = bytearray(stamp.encode())
        n = len(out)
        hostname = None if self.no_hostname else f.get(b"_HOSTNAME")
        if hostname is not None and self._shall_print(hostname):
            out += b" " + hostname
            n += len(hostname) + 1
        unit = f.get(b"_SYSTEMD_UNIT")
        user_unit = f.get(b"_SYSTEMD_USER_UNIT")
        identifier = f.get(b"SYSLOG_IDENTIFIER")
        comm = f.get(b"_COMM")
        if self.mode == "with-unit" and (
            (unit is not None and self._shall_print(unit))
            or (user_unit is not None and self._shall_print(user_unit))
        ):
            if unit is not None:
                out += b" " + unit
                n += len(unit) + 1
            if user_unit is not None:
                out += (b"/" if unit is not None else b" ") + user_unit
                n += (len(unit) if unit is not None else 0) + 1  # sic: logs-show.c
        elif identifier is not None and self._shall_print(identifier):
            out += b" " + identifier
            n += len(identifier) + 1
        elif comm is not None and self._shall_print(comm):
            out += b" " + comm
            n += len(comm) + 1
        else:
            out += b" unknown"
        pid = f.get(b"_PID")
        fake_pid = f.get(b"SYSLOG_PID")
        if pid is not None and self._shall_print(pid):
            out += b"[" + pid + b"]"
            n += len(pid) + 2
        elif fake_pid is not None and self._shall_print(fake_pid):
            out += b"[" + fake_pid + b"]"
            n += len(fake_pid) + 2
        out += b": "
        if not show_all and not is_printable(message):
            out += f"[{format_bytes(len(message))} blob data]\n".encode()
        else:
            self.ellipsized |= print_multiline(
                out, n + 2, self.columns, full=self.full or show_all, color=self.color,
                priority=priority, audit=audit, message=message, highlight=highlight,
                utf8=self.utf8,
            )  # fmt: skip
        return bytes(out)

    # ----------------------------------------------------------------- verbose

    def _verbose(self, entry: Entry, highlight: list[int] | None) -> bytes:
        realtime, _ = _dual_timestamp(entry)
        if realtime is None or not 0 < realtime < _VALID_TS_LIMIT:
            raise ValueError("No valid realtime timestamp available")
        stamp = format_timestamp(realtime, utc=self.utc, us=True) or "(no timestamp)"
        out = bytearray(f"{stamp} [{entry.cursor or ''}]\n".encode())
        for item in entry._items:
            eq = item.find(b"=")
            if eq <= 0:
                raise ValueError("Invalid field.")
            name, value = item[:eq], item[eq + 1 :]
            if self._only is not None and name not in self._only:
                continue
            on = off = b""
            if self.color and name == b"MESSAGE":
                on, off = ANSI_HIGHLIGHT, ANSI_NORMAL
            if self.show_all or (
                (len(item) < PRINT_CHAR_THRESHOLD or self.full) and is_printable(item)
            ):
                out += b"    " + on + name + b"="
                print_multiline(
                    out, 4 + len(name) + 1, 0, full=True, color=False, priority=0,
                    audit=False, message=value, highlight=None,
                )  # fmt: skip
                out += off
            else:
                out += b"    " + on + name + f"=[{format_bytes(len(value))} blob data]".encode()
                out += off + b"\n"
        return bytes(out)

    # ------------------------------------------------------------------ export

    def _export(self, entry: Entry, highlight: list[int] | None) -> bytes:
        out = bytearray(
            f"__CURSOR={entry.cursor or ''}\n__REALTIME_TIMESTAMP={entry.realtime_usec}\n"
            f"__MONOTONIC_TIMESTAMP={entry.monotonic_usec}\n_BOOT_ID={entry.boot_id}\n".encode()
        )
        for item in entry._items:
            if item.startswith(b"_BOOT_ID="):
                continue
            eq = item.find(b"=")
            if eq <= 0:
                raise ValueError("Invalid field.")
            if self._only is not None and item[:eq] not in self._only:
                continue
            if is_printable(item, newline=False):
                out += item
            else:
                value = item[eq + 1 :]
                out += item[:eq] + b"\n" + struct.pack("<Q", len(value)) + value
            out += b"\n"
        out += b"\n"
        return bytes(out)

    # -------------------------------------------------------------------- json

    def json_object(self, entry: Entry) -> dict[bytes, list[bytes | list[int] | None]]:
        """The fields ``output_json()`` puts in the object (values in order, per name)."""
        show_all = self.show_all
        obj: dict[bytes, list[bytes | list[int] | None]] = {}
        for name, value in (
            (b"__CURSOR", (entry.cursor or "").encode()),
            (b"__REALTIME_TIMESTAMP", str(entry.realtime_usec).encode()),
            (b"__MONOTONIC_TIMESTAMP", str(entry.monotonic_usec).encode()),
            (b"_BOOT_ID", entry.boot_id.encode()),
        ):
            obj[name] = [_json_value(name, value, show_all)]
        for item in entry._items:
            if item.startswith(b"_BOOT_ID="):
                continue
            eq = item.find(b"=", 0, JSON_THRESHOLD)
            if eq < 0:
                continue
            if eq == 0:
                raise ValueError("Invalid field.")
            name = item[:eq]
            if self._only is not None and name not in self._only:
                continue
            obj.setdefault(name, []).append(_json_value(name, item[eq + 1 :], show_all))
        return obj

    def _json(self, entry: Entry, highlight: list[int] | None) -> bytes:
        pretty = self.mode == "json-pretty"
        parts = []
        for name, values in self.json_object(entry).items():
            color = self.color  # json_variant_dump()'s colours: strings, numbers, null
            if len(values) == 1:
                value = _dump(values[0], pretty, b"\t", color)
            else:
                dumped = [_dump(v, pretty, b"\t\t", color) for v in values]
                value = _dump_array(dumped, pretty, b"\t")
            key = _json_string(name, color)
            parts.append(b"\t" + key + b" : " + value if pretty else key + b":" + value)
        body = b"{\n" + b",\n".join(parts) + b"\n}\n" if pretty else b"{" + b",".join(parts) + b"}"
        if self.mode == "json-sse":
            return b"data: " + body + b"\n\n"
        if self.mode == "json-seq":
            return b"\x1e" + body + b"\n"
        return body if pretty else body + b"\n"

    # --------------------------------------------------------------------- cat

    def _cat(self, entry: Entry, highlight: list[int] | None) -> bytes:
        priority_raw = None
        for item in entry._items:  # sd_journal_get_data(): the first of each
            if item.startswith(b"PRIORITY="):
                priority_raw = item
                break
        priority = 6
        if priority_raw is not None and len(priority_raw) == 10 and 0x30 <= priority_raw[9] <= 0x37:
            priority = priority_raw[9] - 0x30
        if not self._cat_fields:
            return self._cat_field(entry, b"MESSAGE", priority, highlight)
        out = b""
        for field in self._cat_fields:
            if not _GET_DATA_FIELD.fullmatch(field):  # sd_journal_get_data() refuses it
                raise ValueError("Failed to get data: Invalid argument")
            name = field.encode()
            out += self._cat_field(entry, name, priority, highlight if name == b"MESSAGE" else None)
        return out

    def _cat_field(
        self, entry: Entry, name: bytes, priority: int, highlight: list[int] | None
    ) -> bytes:
        """output_cat_field(): the first value of one field, nothing when it is absent."""
        prefix = name + b"="
        value = next((i[len(prefix) :] for i in entry._items if i.startswith(prefix)), None)
        if value is None:
            return b""
        if not self.color:
            return value + b"\n"
        on, off, high = _log_colors(priority)
        if highlight is not None:
            h0, h1 = highlight
            return on + value[:h0] + high + value[h0:h1] + on + value[h1:] + off + b"\n"
        return on + value + off + b"\n"


# sd-journal's field_is_valid(), which sd_journal_get_data() applies to the name asked for
_GET_DATA_FIELD: Final = re.compile(r"(?!__)[A-Z0-9_]+")


def _dump(
    value: bytes | list[int] | None, pretty: bool, prefix: bytes, color: bool = False
) -> bytes:
    if value is None:
        return ANSI_HIGHLIGHT + b"null" + ANSI_NORMAL if color else b"null"
    if isinstance(value, bytes):
        return _json_string(value, color)
    numbers = [str(v).encode() for v in value]
    if color:
        numbers = [ANSI_HIGHLIGHT_BLUE + n + ANSI_NORMAL for n in numbers]
    return _dump_array(numbers, pretty, prefix)


def _dump_array(items: list[bytes], pretty: bool, prefix: bytes) -> bytes:
    if not items:
        return b"[]"
    if not pretty:
        return b"[" + b",".join(items) + b"]"
    inner = prefix + b"\t"
    return b"[\n" + b",\n".join(inner + i for i in items) + b"\n" + prefix + b"]"
