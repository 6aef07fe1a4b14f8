"""One journal entry: a read-only mapping of field name -> value, decoded on access."""

from __future__ import annotations

from collections.abc import ItemsView, Iterator, Mapping, ValuesView
from datetime import UTC, datetime, timedelta
from typing import Any, Final

__all__ = ["Entry", "Value"]

Value = str | bytes


_DECODE_AHEAD: Final = 4096  # values up to this size are decoded with the index
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_USEC: Final = timedelta(microseconds=1)


def decode(raw: bytes) -> Value:
    """UTF-8 text as ``str``; anything else stays ``bytes``."""
    try:
        return raw.decode()
    except UnicodeDecodeError:
        return raw


class Entry(Mapping[str, Value]):
    """A journal entry: field name -> ``str`` (``bytes`` when the value is not UTF-8).

    Values are the full data (no 64 KiB cut).  Nothing is decoded until a field is first
    asked for; then values up to 4 KiB are decoded together, longer ones only when they
    are touched.  A field that occurs several times maps to its first value;
    :meth:`getall` returns every one.  The entry's address is not among the fields: ``cursor``,
    ``timestamp`` (``__REALTIME_TIMESTAMP``), ``monotonic`` and ``boot_id`` are
    attributes.

    >>> e = Entry([b"MESSAGE=hi", b"PRIORITY=6", b"_SYSTEMD_UNIT=a.service"], 10**15, 5, bytes(16))
    >>> e.message, e.priority, e.unit, e["PRIORITY"], e.timestamp.year
    ('hi', 6, 'a.service', '6', 2001)
    """

    __slots__ = ("_boot", "_cursor", "_index", "_items", "_monotonic", "_pending", "_realtime")

    _items: list[bytes]
    _index: dict[str, Value] | None
    _pending: int
    _realtime: int | None
    _monotonic: int | None
    _boot: bytes | None
    _cursor: bytes | str | None

    def __init__(
        self,
        items: list[bytes],
        realtime_usec: int | None = None,
        monotonic_usec: int | None = None,
        boot_id: bytes | None = None,
        cursor: bytes | str | None = None,
    ) -> None:
        self._items = items  # b"FIELD=value", in the entry's order
        self._index = None
        # the address: given, or read from the cursor when first asked for (sd-journal's
        # cursor holds b=, m= and t= of the entry object: two library calls saved per entry)
        self._realtime = realtime_usec
        self._monotonic = monotonic_usec
        self._boot = boot_id
        self._cursor = cursor

    def _address(self) -> None:
        """Fill realtime, monotonic and boot ID from the cursor (zeros if it has none)."""
        cursor = self._cursor
        parts: dict[str, str] = {}
        if cursor is not None:
            text = cursor.decode("ascii", "replace") if isinstance(cursor, bytes) else cursor
            parts = dict(p.split("=", 1) for p in text.split(";") if "=" in p)
        try:
            realtime = int(parts.get("t", "0"), 16)
            monotonic = int(parts.get("m", "0"), 16)
            boot = bytes.fromhex(parts.get("b", "0" * 32))
            if len(boot) != 16:
                raise ValueError("not a boot ID")
        except ValueError:
            realtime = monotonic = 0
            boot = bytes(16)
        if self._realtime is None:
            self._realtime = realtime
        if self._monotonic is None:
            self._monotonic = monotonic
        if self._boot is None:
            self._boot = boot

    @property
    def realtime_usec(self) -> int:
        """``__REALTIME_TIMESTAMP``: when journald received the entry, µs since the epoch."""
        if self._realtime is None:
            self._address()
        return self._realtime  # type: ignore[return-value]

    @property
    def monotonic_usec(self) -> int:
        """``__MONOTONIC_TIMESTAMP``: µs since the boot :attr:`boot_id` (CLOCK_MONOTONIC)."""
        if self._monotonic is None:
            self._address()
        return self._monotonic  # type: ignore[return-value]

    # -------------------------------------------------------------- the mapping

    def _build(self) -> dict[str, Value]:
        """The index, built when a field is first asked for.

        Values up to 4 KiB are decoded here, in one go per item (one ``decode()`` and a
        ``str.partition`` beat splitting bytes and decoding the two halves); longer ones
        stay bytes until they are touched, as do those that are not UTF-8.
        """
        index: dict[str, Value] = {}
        pending = 0  # values still bytes
        value: Value
        for item in self._items:
            if len(item) <= _DECODE_AHEAD:
                try:
                    key, _, value = item.decode().partition("=")
                except UnicodeDecodeError:
                    name, _, raw = item.partition(b"=")
                    key, value = name.decode("latin-1"), raw
                    pending += 1
            else:
                name, _, raw = item.partition(b"=")
                key, value = name.decode("latin-1"), raw
                pending += 1
            if key not in index:  # a repeated field: the first value wins
                index[key] = value
        self._index = index
        self._pending = pending
        return index

    def _decoded(self, key: str, value: Value) -> Value:
        """A value of the index as returned: bytes decoded (and kept) when they are UTF-8."""
        if value.__class__ is str:
            return value
        try:
            text = value.decode()  # type: ignore[union-attr]
        except UnicodeDecodeError:
            return value
        self._index[key] = text  # type: ignore[index]
        self._pending -= 1
        return text

    def items(self) -> ItemsView[str, Value]:
        index = self._index
        if index is None:
            index = self._build()
        if not self._pending:
            return index.items()  # read-only view of decoded values: iterates at C speed
        return _Items(self)

    def values(self) -> ValuesView[Value]:
        index = self._index
        if index is None:
            index = self._build()
        if not self._pending:
            return index.values()
        return _Values(self)

    def __getitem__(self, name: str) -> Value:
        index = self._index
        if index is None:
            index = self._build()
        value = index[name]
        if value.__class__ is str:
            return value
        return self._decoded(name, value)

    def __contains__(self, name: object) -> bool:
        index = self._index
        if index is None:
            index = self._build()
        return name in index

    def __iter__(self) -> Iterator[str]:
        index = self._index
        if index is None:
            index = self._build()
        return iter(index)

    def __len__(self) -> int:
        index = self._index
        if index is None:
            index = self._build()
        return len(index)

    def get(self, name: str, default: Any = None) -> Any:
        index = self._index
        if index is None:
            index = self._build()
        value = index.get(name)
        if value is None:
            return default
        if value.__class__ is str:
            return value
        return self._decoded(name, value)

    def raw(self, name: str) -> bytes:
        """The value as bytes, exactly as stored (``KeyError`` when the field is absent)."""
        index = self._index
        if index is None:
            index = self._build()
        value = index[name]
        return value.encode() if isinstance(value, str) else value

    def getall(self, name: str) -> list[Value]:
        """Every value of a field that may occur several times (``[]`` when absent)."""
        prefix = name.encode() + b"="
        n = len(prefix)
        return [decode(item[n:]) for item in self._items if item.startswith(prefix)]

    def as_dict(self) -> dict[str, Value]:
        """All fields decoded at once (first value of repeated fields): a plain dict."""
        index = self._index
        if index is None:
            index = self._build()
        if self._pending:
            for key, value in list(index.items()):
                self._decoded(key, value)
        return dict(index)

    @property
    def data(self) -> list[bytes]:
        """The raw ``FIELD=value`` items in the entry's order, repeated fields included."""
        return list(self._items)

    # ------------------------------------------------------------- attributes

    @property
    def message(self) -> Value | None:
        """``MESSAGE`` (None when the entry has none)."""
        value: Value | None = self.get("MESSAGE")
        return value

    @property
    def timestamp(self) -> datetime:
        """When journald received the entry (``__REALTIME_TIMESTAMP``), aware, UTC."""
        return _EPOCH + timedelta(microseconds=self.realtime_usec)

    @property
    def monotonic(self) -> timedelta:
        """``__MONOTONIC_TIMESTAMP``: time since the boot :attr:`boot_id` was written in."""
        return self.monotonic_usec * _ONE_USEC

    @property
    def priority(self) -> int | None:
        """``PRIORITY`` as an int 0 (emerg) .. 7 (debug); None when absent or not a number."""
        raw = self.get("PRIORITY")
        if isinstance(raw, str) and raw.isdigit():
            return int(raw)
        return None

    @property
    def unit(self) -> str | None:
        """``_SYSTEMD_UNIT``: the system unit the writer ran in."""
        value = self.get("_SYSTEMD_UNIT")
        return value if isinstance(value, str) else None

    @property
    def user_unit(self) -> str | None:
        """``_SYSTEMD_USER_UNIT``: the user unit the writer ran in."""
        value = self.get("_SYSTEMD_USER_UNIT")
        return value if isinstance(value, str) else None

    @property
    def identifier(self) -> str | None:
        """``SYSLOG_IDENTIFIER``."""
        value = self.get("SYSLOG_IDENTIFIER")
        return value if isinstance(value, str) else None

    @property
    def pid(self) -> int | None:
        """``_PID`` (the writer's process, as journald saw it)."""
        value = self.get("_PID")
        return int(value) if isinstance(value, str) and value.isdigit() else None

    @property
    def boot_id(self) -> str:
        """The boot the entry was written in, as 32 hex digits (``_BOOT_ID``)."""
        if self._boot is None:
            self._address()
        return self._boot_bytes.hex()

    @property
    def cursor(self) -> str | None:
        """Where this entry is, to resume after it (``after_cursor=``); None if not read."""
        cursor = self._cursor
        if isinstance(cursor, bytes):
            cursor = self._cursor = cursor.decode("ascii", "replace")
        return cursor

    def __repr__(self) -> str:
        message = self.get("MESSAGE")
        if isinstance(message, str) and len(message) > 60:
            message = message[:57] + "..."
        return f"<Entry {self.timestamp.isoformat()} {message!r}>"

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            Entry,
            (self._items, self.realtime_usec, self.monotonic_usec, self._boot, self.cursor),
        )

    @property
    def _boot_bytes(self) -> bytes:
        if self._boot is None:
            self._address()
        return self._boot  # type: ignore[return-value]


class _Items(ItemsView[str, Value]):
    """``entry.items()`` while some values are still bytes (long or binary)."""

    _mapping: Entry

    def __iter__(self) -> Iterator[tuple[str, Value]]:
        entry = self._mapping
        for key, value in list(entry._index.items()):  # type: ignore[union-attr]
            yield key, entry._decoded(key, value)


class _Values(ValuesView[Value]):
    _mapping: Entry

    def __iter__(self) -> Iterator[Value]:
        entry = self._mapping
        for key, value in list(entry._index.items()):  # type: ignore[union-attr]
            yield entry._decoded(key, value)
