"""The D-Bus message stream without I/O: framing, fds, calls, replies, matches.

Both connection shells (blocking and asyncio) feed received bytes and file
descriptors into a :class:`Decoder` and build outgoing calls with
:func:`encode_call`; everything that can go wrong with the bytes themselves is
decided here, once, and raised as a sysd error.
"""

from __future__ import annotations

import array
import os
import socket
import struct
from collections import deque
from collections.abc import Sequence
from typing import Any

from .._core.replies import METHOD_REPLIES, PROPERTY_SIGNATURES
from ..errors import DBusError, InvalidCallError, ProtocolError, error_from_dbus
from .codec import (
    Marshaller,
    Message,
    MessageFlag,
    MessageType,
    Unmarshaller,
    Variant,
    get_signature_tree,
    map_fds,
    pin_empty_signature,
)
from .padding import check_body
from .strict import check_header, check_known, check_message

_empty_tree = get_signature_tree  # called with "" per message: see codec.pin_empty_signature

__all__ = [
    "DBUS_DEST",
    "DBUS_IFACE",
    "DBUS_PATH",
    "MAX_IN_FLIGHT",
    "Decoder",
    "Message",
    "MessageType",
    "Variant",
    "close_fds",
    "encode",
    "encode_call",
    "match_rule",
    "reply_value",
    "unwrap",
]

DBUS_DEST = "org.freedesktop.DBus"
DBUS_PATH = "/org/freedesktop/DBus"
DBUS_IFACE = "org.freedesktop.DBus"
PROPERTIES_INTERFACE = "org.freedesktop.DBus.Properties"


class _Default:
    def __repr__(self) -> str:
        return "DEFAULT"


DEFAULT: Any = _Default()  # "use the connection's default timeout"
INTERACTIVE_TIMEOUT = 300.0  # a human may be typing a password into a polkit agent
CMSG_SPACE = socket.CMSG_SPACE(253 * array.array("i").itemsize)  # D-Bus allows 253 fds
RECV_SIZE = 65536

# dbus-daemon allows 128 unanswered calls per client by default; stay well below it.
MAX_IN_FLIGHT = 64

# One call of a batch (``call_many``): destination, path, interface, member, signature, args.
Call = tuple[str | None, str, str | None, str, str, Sequence[Any]]

METHOD_CALL = MessageType.METHOD_CALL
METHOD_RETURN = MessageType.METHOD_RETURN
ERROR = MessageType.ERROR
SIGNAL = MessageType.SIGNAL

FLAG_NONE = MessageFlag(0)
FLAG_NO_REPLY = MessageFlag.NO_REPLY_EXPECTED
FLAG_INTERACTIVE = MessageFlag.ALLOW_INTERACTIVE_AUTHORIZATION


_HEADER = struct.Struct("<III")
_HEADER_BE = struct.Struct(">III")
_MAX_MESSAGE = 128 * 1024 * 1024  # the D-Bus specification's maximum message size
# The header of a message streamed in pieces is checked before the first piece goes to the
# unmarshaller, so it is gathered first; real headers are a few hundred bytes.
_MAX_HEADER = 1024 * 1024
# A streamed message's bytes are gathered once more for the padding check into a buffer kept
# for the next one; one larger than this is let go after use.
_KEEP_WHOLE = 4 * 1024 * 1024


class _Feed:
    """What the unmarshaller reads: exactly one whole message at a time."""

    __slots__ = ("chunk",)

    def __init__(self) -> None:
        self.chunk: bytes | bytearray | None = None

    def read(self, n: int) -> bytes | bytearray | None:
        chunk, self.chunk = self.chunk, None
        return chunk


class Decoder:
    """Turns received bytes (and fds) into messages.

    Frames messages itself (the fixed 16-byte header gives the length) and hands
    the unmarshaller one complete message per call.  A message larger than one
    receive (``RECV_SIZE``, a ListUnits reply of a thousand units) goes to the
    unmarshaller piece by piece as it arrives instead: gathering it first made
    two more transient copies of it, which pushed the heap past glibc's trim
    threshold and cost a hundred page faults per reply.

    File descriptors: the sender passes them with the first byte of the message
    that carries them, but one receive can return bytes of earlier messages
    before that one (Linux's unix stream sockets glue the queued writes without
    fds in front of the one with fds, and stop after it).  So a batch belongs to
    the *last* message that starts within the receive it came with: we remember
    each batch's stream range and give it to the message starting in that range
    that reaches its end.  Fds nobody claims are closed.
    """

    __slots__ = (
        "_buf",
        "_consumed",
        "_fds",
        "_feed",
        "_known",
        "_known_kind",
        "_msg_body",
        "_msg_size",
        "_msg_start",
        "_pos",
        "_streaming",
        "_unmarshaller",
        "_whole",
    )

    def __init__(self) -> None:
        self._feed = _Feed()
        self._unmarshaller = Unmarshaller(stream=self._feed)  # type: ignore[arg-type]
        # fds not yet claimed: (stream offset of the receive's first byte, of its end, fds)
        self._fds: deque[tuple[int, int, list[int]]] = deque()
        self._buf: bytes | bytearray = b""
        self._pos = 0
        self._consumed = 0  # stream offset of self._buf[self._pos]
        self._streaming = 0  # bytes of a large message not yet handed to the unmarshaller
        self._msg_start = 0  # stream offset and size of that message
        self._msg_size = 0
        self._msg_body = 0  # and the length of its body
        # the bytes of that message gathered again, for the padding check (reused: grown
        # once to the largest streamed message, so that a reply costs no fresh pages)
        self._whole = bytearray()
        # the header fields (after a leading reply serial) of the last message that passed
        # every check, and its endianness and type: the next one with the same bytes needs
        # only its serials and body looked at (check_known)
        self._known = b"\xff"
        self._known_kind = -1

    def feed(self, data: bytes, fds: Sequence[int] = ()) -> None:
        buf = self._buf
        pos = self._pos
        if fds:
            first = self._consumed + len(buf) - pos
            self._fds.append((first, first + len(data), list(fds)))
        if pos == len(buf):  # nothing buffered: keep the received bytes as they are
            self._buf = data
            self._pos = 0
        elif type(buf) is bytes:
            self._buf = bytearray(memoryview(buf)[pos:])
            self._buf += data
            self._pos = 0
        else:
            buf += data

    def next(self) -> Message | None:
        """The next complete message, or None until more bytes arrive.

        Raises ProtocolError (and closes any pending fds) when the bytes are
        not D-Bus; the stream cannot be resynchronised after that.
        """
        if self._streaming:
            return self._stream()
        buf = self._buf
        pos = self._pos
        avail = len(buf) - pos
        if avail < 16:
            return None
        endian = buf[pos]
        if endian == 0x6C:  # 'l'
            body_len, _serial, fields_len = _HEADER.unpack_from(buf, pos + 4)
        elif endian == 0x42:  # 'B'
            body_len, _serial, fields_len = _HEADER_BE.unpack_from(buf, pos + 4)
        else:
            self.close()
            raise ProtocolError(f"malformed message from the bus (endianness byte {endian!r})")
        size = 16 + ((fields_len + 7) & ~7) + body_len
        if size > _MAX_MESSAGE:
            self.close()
            raise ProtocolError(f"malformed message from the bus ({size} bytes is too long)")
        if avail < size:
            if size <= RECV_SIZE:
                return None  # a small message cut by the receive: wait for the rest
            header = 16 + ((fields_len + 7) & ~7)
            if avail < header:
                if header > _MAX_HEADER:
                    self.close()
                    raise ProtocolError(
                        f"malformed message from the bus ({fields_len} bytes of header fields)"
                    )
                return None
            try:
                check_header(buf, pos, fields_len)
            except ProtocolError:
                self.close()
                raise
            self._streaming = size
            self._msg_start = self._consumed
            self._msg_size = size
            self._msg_body = body_len
            if len(self._whole) < size:
                self._whole = bytearray(size)
            return self._stream()
        fields = pos + 16
        if fields_len >= 8 and buf.startswith(b"\x05\x01u\x00", fields):
            fields += 8  # the reply serial: its value differs from reply to reply
        kind = endian << 8 | buf[pos + 1]
        known = self._known
        end = pos + size
        header_end = end - body_len
        if (
            kind == self._known_kind
            and header_end - fields == len(known)
            and buf.startswith(known, fields)
        ):
            known_header = True
        else:
            known_header = False
            try:
                check_header(buf, pos, fields_len)
            except ProtocolError:
                self.close()
                raise
        if not known_header:
            key = bytes(memoryview(buf)[fields:header_end])  # remembered once checked below
        if end == len(buf):
            if pos == 0 and type(buf) is bytes:
                chunk: bytes = buf  # the received bytes as they are: no copy
            else:
                chunk = bytes(memoryview(buf)[pos:end])
            self._buf = b""
            self._pos = 0
        else:
            chunk = bytes(memoryview(buf)[pos:end])
            if end > 65536 and type(buf) is bytearray:
                del buf[:end]
                self._pos = 0
            else:
                self._pos = end
        start = self._consumed
        self._consumed = start + size
        # _unmarshall() and _finish() inline: one Python call less each per message
        feed = self._feed
        feed.chunk = chunk
        if _empty_tree("").root_type is None:
            pin_empty_signature()
        try:
            msg = self._unmarshaller.unmarshall()
        except Exception as exc:  # the codec raises many kinds on garbage
            feed.chunk = None
            self.close()
            raise ProtocolError(
                f"malformed message from the bus ({type(exc).__name__}: {exc!s:.200})"
            ) from exc
        feed.chunk = None
        if msg is None:  # the header promised fewer bytes than the message has
            self.close()
            raise ProtocolError("malformed message from the bus (truncated)")
        try:
            if known_header:
                check_known(msg)
            else:
                if msg.message_type is None:
                    raise ProtocolError("message of unknown type")
                check_message(msg)
                self._known = key
                self._known_kind = kind
            if body_len:
                check_body(chunk, 0, size - body_len, size, msg.signature, msg.body)
        except ProtocolError:
            self.close()
            raise
        if self._fds:
            self._claim_fds(msg, start, size)
        return msg

    def _stream(self) -> Message | None:
        """Hand what has arrived of a large message to the unmarshaller."""
        buf = self._buf
        pos = self._pos
        take = min(len(buf) - pos, self._streaming)
        if not take:
            return None
        if pos == 0 and take == len(buf) and type(buf) is bytes:
            chunk: bytes = buf
        else:
            chunk = bytes(memoryview(buf)[pos : pos + take])
        if pos + take == len(buf):
            self._buf = b""
            self._pos = 0
        else:
            self._pos = pos + take
        done = self._msg_size - self._streaming
        self._whole[done : done + take] = chunk
        self._consumed += take
        self._streaming -= take
        msg = self._unmarshall(chunk)
        if self._streaming:
            if msg is not None:  # the header promised more bytes than the message has
                self.close()
                raise ProtocolError("malformed message from the bus (length mismatch)")
            return None
        if msg is None:
            self.close()
            raise ProtocolError("malformed message from the bus (truncated)")
        return self._finish(msg, self._msg_start, self._msg_size)

    def _unmarshall(self, chunk: bytes) -> Message | None:
        self._feed.chunk = chunk
        pin_empty_signature()
        try:
            return self._unmarshaller.unmarshall()
        except Exception as exc:  # the codec raises many kinds on garbage
            self.close()
            raise ProtocolError(
                f"malformed message from the bus ({type(exc).__name__}: {exc!s:.200})"
            ) from exc
        finally:
            self._feed.chunk = None

    def _finish(self, msg: Message, start: int, size: int) -> Message:
        if msg.message_type is None:
            self.close()
            raise ProtocolError("message of unknown type")
        try:
            check_message(msg)
            whole = self._whole
            if len(whole) > _KEEP_WHOLE:
                self._whole = bytearray()
            body_len = self._msg_body
            if body_len:
                check_body(whole, 0, size - body_len, size, msg.signature, msg.body)
        except ProtocolError:
            self.close()
            raise
        if self._fds:
            self._claim_fds(msg, start, size)
        return msg

    def _claim_fds(self, msg: Message, start: int, size: int) -> None:
        """Give ``msg`` the fds received with it; close those that nobody can claim any more.

        A batch is ``msg``'s when ``msg`` starts within the receive the batch came
        with and no other message starts after it there (``msg`` reaches the end of
        that receive).  A batch whose receive ended before ``msg`` started belonged
        to no message (the sender broke the rule): closed.
        """
        stop = start + size
        fds: list[int] = []
        pending = self._fds
        while pending:
            first, end, batch = pending[0]
            if end <= start:
                pending.popleft()
                close_fds(batch)
            elif first <= start and stop >= end:
                pending.popleft()
                fds.extend(batch)
            else:  # a later message's: one that starts after msg within that receive, or later
                break
        if fds:
            msg.unix_fds = fds

    def close(self) -> None:
        while self._fds:
            close_fds(self._fds.popleft()[2])

    @property
    def buffered(self) -> int:
        return len(self._buf) - self._pos


def fds_of(ancdata: list[tuple[int, int, bytes]]) -> list[int]:
    """The file descriptors in recvmsg()'s ancillary data."""
    fds: list[int] = []
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            arr = array.array("i")
            arr.frombytes(data[: len(data) - (len(data) % arr.itemsize)])
            fds.extend(arr)
    return fds


def close_fds(fds: Sequence[int]) -> None:
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


def encode(msg: Message, unix_fds: bool) -> bytes:
    try:
        return bytes(msg._marshall(unix_fds))
    except Exception as exc:
        raise InvalidCallError(f"cannot encode {msg.member or msg.message_type}: {exc}") from exc


_PREFIX = struct.Struct("<BBBBII")
_FIELDS_CACHE: dict[tuple[str | None, str, str | None, str, str], tuple[bytes, int]] = {}
_FIELDS_CACHE_MAX = 1024
# A whole call but for its 16-byte prefix, for calls whose arguments are all strings (the
# signature has only s, o and g: a value equal to a cached string is that string): Get,
# GetUnit, ListUnits, GetAll repeat with the same arguments.
_CALLS: dict[tuple[Any, ...], tuple[bytes, int]] = {}
_STRINGS_ONLY: dict[str, bool] = {}
_CALL_BODY_MAX = 4096  # longer arguments are marshalled each time (the cache stays < ~5 MB)


def encode_call(
    serial: int,
    destination: str | None,
    path: str,
    interface: str | None,
    member: str,
    signature: str = "",
    args: Sequence[Any] = (),
    *,
    no_reply: bool = False,
    interactive: bool = False,
    unix_fds: bool = True,
) -> tuple[bytes, list[int]]:
    """Build and marshal a method call; invalid names or args raise InvalidCallError.

    The header fields of a call (destination, path, interface, member,
    signature) are marshalled and validated once and cached; a call then costs
    its body's marshalling and a 16-byte prefix.
    """
    flags = 0
    if no_reply:
        flags |= FLAG_NO_REPLY
    if interactive:
        flags |= FLAG_INTERACTIVE
    if "h" not in signature and "v" not in signature:
        strings = _STRINGS_ONLY.get(signature)
        if strings is None:
            strings = _STRINGS_ONLY[signature] = not signature.strip("sog")
        if strings and type(args) is tuple:
            whole = (destination, path, interface, member, signature, args)
            hit = _CALLS.get(whole)
            if hit is not None:
                return _PREFIX.pack(0x6C, 1, flags, 1, hit[1], serial) + hit[0], []
        else:
            whole = None
        key = (destination, path, interface, member, signature)
        cached = _FIELDS_CACHE.get(key)
        if cached is not None and len(args) == cached[1]:
            fields = cached[0]
            try:
                body = Marshaller(signature, list(args)).marshall() if signature else b""
            except Exception as exc:
                raise InvalidCallError(
                    f"invalid call {interface}.{member} on {path} ({signature!r}): {exc}"
                ) from exc
            if whole is not None and len(body) <= _CALL_BODY_MAX:
                if len(_CALLS) >= _FIELDS_CACHE_MAX:
                    _CALLS.clear()
                _CALLS[whole] = (fields + body, len(body))
            return _PREFIX.pack(0x6C, 1, flags, 1, len(body), serial) + fields + body, []
    data, fds = _encode_call_slow(
        serial, destination, path, interface, member, signature, args, MessageFlag(flags), unix_fds
    )
    if not fds and "h" not in signature and "v" not in signature:
        (fields_len,) = struct.unpack_from("<I", data, 12)
        if len(_FIELDS_CACHE) >= _FIELDS_CACHE_MAX:
            _FIELDS_CACHE.clear()
        _FIELDS_CACHE[(destination, path, interface, member, signature)] = (
            bytes(data[12 : 16 + ((fields_len + 7) & ~7)]),
            len(args),
        )
    return data, fds


def encode_calls(
    last_serial: int, calls: Sequence[Call], *, interactive: bool, unix_fds: bool
) -> list[tuple[int, bytes, list[int]]]:
    """Encode a batch (``call_many``) with the serials after ``last_serial``: all of it
    before any is sent, so that a bad argument anywhere raises with nothing sent."""
    encoded = []
    serial = last_serial
    for destination, path, interface, member, signature, args in calls:
        serial += 1
        try:
            data, fds = encode_call(
                serial,
                destination,
                path,
                interface,
                member,
                signature,
                args,
                interactive=interactive,
                unix_fds=unix_fds,
            )
        except InvalidCallError as exc:
            exc.add_note(f"call {serial - last_serial} of {len(calls)} in the batch; none was sent")
            raise
        encoded.append((serial, data, fds))
    return encoded


def _encode_call_slow(
    serial: int,
    destination: str | None,
    path: str,
    interface: str | None,
    member: str,
    signature: str,
    args: Sequence[Any],
    flags: MessageFlag,
    unix_fds: bool,
) -> tuple[bytes, list[int]]:
    body = list(args)
    fds: list[int] = []
    try:
        if "h" in signature or "v" in signature:  # an fd may hide in a variant
            index: dict[int, int] = {}

            def to_index(fd: int) -> int:
                if not isinstance(fd, int) or isinstance(fd, bool) or fd < 0:
                    raise InvalidCallError(f"not a file descriptor: {fd!r}")
                return index.setdefault(fd, len(index))

            body = map_fds(signature, body, to_index)
            fds = list(index)
            if fds and not unix_fds:
                raise InvalidCallError(
                    "this connection cannot pass file descriptors "
                    "(the peer did not agree, or the transport is not a unix socket)"
                )
        msg = Message(
            destination=destination,
            path=path,
            interface=interface,
            member=member,
            signature=signature,
            body=body,
            serial=serial,
            flags=flags,
            unix_fds=fds,
        )
        data = msg._marshall(unix_fds)
    except InvalidCallError:
        raise
    except Exception as exc:
        raise InvalidCallError(
            f"invalid call {interface}.{member} on {path} ({signature!r}): {exc}"
        ) from exc
    return bytes(data), fds


def encode_reply(serial: int, call: Message, *, error: str | None = None, text: str = "") -> bytes:
    """A reply to a method call the peer made to us (we only answer Peer methods)."""
    if error is None:
        msg = Message(
            message_type=METHOD_RETURN,
            reply_serial=call.serial,
            destination=call.sender,
            serial=serial,
        )
    else:
        msg = Message(
            message_type=ERROR,
            reply_serial=call.serial,
            destination=call.sender,
            error_name=error,
            signature="s",
            body=[text],
            serial=serial,
        )
    return bytes(msg._marshall(False))


def answer_call(serial: int, call: Message) -> bytes | None:
    """What to send back when the peer calls us (None: nothing)."""
    if call.flags & FLAG_NO_REPLY:
        return None
    if call.interface == "org.freedesktop.DBus.Peer" and call.member == "Ping":
        return encode_reply(serial, call)
    return encode_reply(
        serial,
        call,
        error="org.freedesktop.DBus.Error.UnknownMethod",
        text=f"sysd clients export no objects ({call.interface}.{call.member})",
    )


def unwrap(value: Any) -> Any:
    """Replace dbus-fast Variants by their values, recursively.

    A variant's value is only walked when its signature holds another variant:
    ``a{sv}`` of plain values (GetAll) costs one dict comprehension.
    """
    tp = type(value)
    if tp is Variant:
        inner = value.value
        return unwrap(inner) if "v" in value.signature else inner
    if tp is dict:
        # a GetAll reply: a variant of plain values is taken as it is, without a call
        return {
            k: v.value if type(v) is Variant and "v" not in v.signature else unwrap(v)
            for k, v in value.items()
        }
    if tp is list:
        if value and type(value[0]) in (int, str, bool, float):
            return value
        return [unwrap(v) for v in value]
    if tp is tuple:
        return tuple(unwrap(v) for v in value)
    return value


def reply_value(
    msg: Message,
    interface: str | None = None,
    member: str | None = None,
    interactive: bool = False,
) -> Any:
    """The Python value of a reply: None, the single value, or a tuple of values.

    Error replies raise the typed :class:`~sysd.errors.DBusError`; the call's
    ``interface``, ``member`` and ``interactive`` flag pick its hint.
    """
    if msg.message_type is ERROR:
        raise error_of(msg, interface, member, interactive)
    body = msg.body
    sig = msg.signature
    expected = METHOD_REPLIES.get((interface, member))  # type: ignore[arg-type]
    if expected is not None and sig != expected:
        if msg.unix_fds:
            close_fds(msg.unix_fds)
        raise ProtocolError(
            f"malformed reply to {interface}.{member}: signature {sig!r}, expected {expected!r}"
        )
    if sig == "v" and not msg.unix_fds:  # Get: the commonest reply, without a walk
        var = body[0]
        vsig = var.signature
        if "v" not in vsig and "h" not in vsig:
            return var.value
    if msg.unix_fds or "h" in sig:
        fds = msg.unix_fds or []

        def to_fd(i: int) -> int:
            if not 0 <= i < len(fds):
                close_fds(fds)
                raise ProtocolError(f"reply refers to file descriptor #{i} but carries {len(fds)}")
            return fds[i]

        body = map_fds(sig, body, to_fd)
    if "v" in sig:
        body = [unwrap(v) for v in body]
    n = len(body)
    if n == 1:
        return body[0]
    if n == 0:
        return None
    return tuple(body)


_SCALARS: dict[str, type] = {"s": str, "o": str, "g": str, "b": bool, "d": float}
_SCALARS.update(dict.fromkeys("ynqiuxth", int))


def _fits(sig: str, value: Any) -> bool:
    """Whether an unwrapped value has the Python type its signature gives (outermost)."""
    kind = _SCALARS.get(sig[0])
    if kind is not None:
        return type(value) is kind
    if sig[0] == "a":
        if sig[1] == "{":
            return type(value) is dict
        if sig == "ay":
            return type(value) is bytes
        return type(value) is list
    if sig[0] == "(":
        return type(value) in (list, tuple)
    return True  # a variant: any value


def check_property(interface: str, name: str, value: Any) -> None:
    """Raise ProtocolError when systemd's property has a type its schema does not give."""
    sigs = PROPERTY_SIGNATURES.get(interface)
    if sigs is not None:
        sig = sigs.get(name)
        if sig is not None and not _fits(sig, value):
            raise ProtocolError(
                f"malformed reply: property {interface}.{name} is {type(value).__name__}, "
                f"not the {sig!r} systemd gives it"
            )


def check_properties(interface: str, props: dict[str, Any]) -> None:
    """:func:`check_property` for each of a GetAll reply's properties."""
    sigs = PROPERTY_SIGNATURES.get(interface)
    if sigs is None:
        return
    get = sigs.get
    for name, value in props.items():
        sig = get(name)
        if sig is not None and not _fits(sig, value):
            check_property(interface, name, value)


def error_of(
    msg: Message,
    interface: str | None = None,
    member: str | None = None,
    interactive: bool = False,
) -> DBusError:
    text = msg.body[0] if msg.body and isinstance(msg.body[0], str) else ""
    if msg.unix_fds:
        close_fds(msg.unix_fds)
    return error_from_dbus(
        msg.error_name or "org.freedesktop.DBus.Error.Failed",
        text,
        interface=interface,
        member=member,
        interactive=interactive,
    )


def _quote(value: str) -> str:
    return "'" + value.replace("'", "'\\''") + "'"


def match_rule(
    *,
    sender: str | None = None,
    path: str | None = None,
    path_namespace: str | None = None,
    interface: str | None = None,
    member: str | None = None,
    arg0: str | None = None,
) -> str:
    """A bus match rule for signals (values quoted as the spec requires)."""
    parts = ["type='signal'"]
    for key, value in (
        ("sender", sender),
        ("path", path),
        ("path_namespace", path_namespace),
        ("interface", interface),
        ("member", member),
        ("arg0", arg0),
    ):
        if value is not None:
            parts.append(f"{key}={_quote(value)}")
    return ",".join(parts)
