"""A :mod:`logging` handler writing to the journal with structured fields."""

from __future__ import annotations

import logging
import traceback
from typing import Any, Final

from ._errors import JournalNotFoundError
from ._query import field_valid
from ._writer import FieldValue, send_fields

__all__ = ["JournalHandler", "priority_for_level"]

# Attributes every LogRecord has: not "extra" fields.
_RECORD_ATTRS: Final = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}


def priority_for_level(levelno: int) -> int:
    """The syslog priority for a logging level (as systemd-python maps them).

    DEBUG -> 7, INFO -> 6, WARNING -> 4, ERROR -> 3, CRITICAL -> 2, above -> 1.
    """
    if levelno <= logging.DEBUG:
        return 7
    if levelno <= logging.INFO:
        return 6
    if levelno <= logging.WARNING:
        return 4
    if levelno <= logging.ERROR:
        return 3
    if levelno <= logging.CRITICAL:
        return 2
    return 1


class JournalHandler(logging.Handler):
    """Send log records to the journal.

    Each record becomes one entry: ``MESSAGE`` (the formatted record, with the
    traceback when there is one), ``PRIORITY`` (from the level), ``CODE_FILE``,
    ``CODE_LINE``, ``CODE_FUNC``, ``LOGGER`` (the logger's name), ``THREAD_NAME``,
    ``PROCESS_NAME``, ``EXCEPTION_TEXT`` (the traceback alone), ``SYSLOG_IDENTIFIER``
    (``identifier``, default the program's name), the handler's own ``fields`` and the
    record's ``extra=`` values whose upper-cased names are valid field names (others are
    left out).  When journald is not running, records are dropped silently (as
    libsystemd does); other failures go to :meth:`logging.Handler.handleError`.

    >>> import logging
    >>> log = logging.getLogger("demo")
    >>> log.addHandler(JournalHandler(identifier="demo", SERVICE_VERSION="1.2"))
    >>> log.warning("disk %s almost full", "/srv", extra={"mount": "/srv"})  # doctest: +SKIP
    """

    def __init__(
        self,
        level: int = logging.NOTSET,
        *,
        identifier: str | None = None,
        **fields: FieldValue,
    ) -> None:
        super().__init__(level)
        self.fields: dict[str, FieldValue] = {}
        for name, value in fields.items():
            key = name.upper()
            if not field_valid(key, allow_protected=False):
                from ._errors import InvalidJournalFieldError

                raise InvalidJournalFieldError(f"invalid journal field name {name!r}", field=name)
            self.fields[key] = value
        if identifier is not None:
            self.fields["SYSLOG_IDENTIFIER"] = identifier

    def record_fields(self, record: logging.LogRecord) -> list[tuple[str, Any]]:
        """The fields an entry for ``record`` gets (see the class documentation)."""
        message = self.format(record)
        pairs: list[tuple[str, Any]] = [
            ("MESSAGE", message),
            ("PRIORITY", priority_for_level(record.levelno)),
            ("LOGGER", record.name),
            ("CODE_FILE", record.pathname),
            ("CODE_LINE", record.lineno),
            ("CODE_FUNC", record.funcName or ""),
        ]
        if record.threadName:
            pairs.append(("THREAD_NAME", record.threadName))
        if record.processName:
            pairs.append(("PROCESS_NAME", record.processName))
        if record.exc_info and record.exc_info[0] is not None:
            text = record.exc_text or "".join(traceback.format_exception(*record.exc_info))
            pairs.append(("EXCEPTION_TEXT", text.rstrip("\n")))
        elif record.exc_text:
            pairs.append(("EXCEPTION_TEXT", record.exc_text))
        if record.stack_info:
            pairs.append(("STACK_INFO", record.stack_info))
        taken = {name for name, _ in pairs}
        for name, value in record.__dict__.items():
            if name in _RECORD_ATTRS or name.startswith("_"):
                continue
            key = name.upper()
            if key in taken or not field_valid(key, allow_protected=False):
                continue
            plain = isinstance(value, (str, bytes, int, float)) and not isinstance(value, bool)
            pairs.append((key, value if plain else str(value)))
            taken.add(key)
        pairs += [(k, v) for k, v in self.fields.items() if k not in taken]
        return pairs

    def emit(self, record: logging.LogRecord) -> None:
        try:
            send_fields(self.record_fields(record))
        except JournalNotFoundError:
            pass
        except RecursionError:  # as logging.StreamHandler does
            raise
        except Exception:
            self.handleError(record)
