"""Random and mutated bytes into the parser: a message or a ProtocolError, nothing else.

(RELIABILITY.md 10 and 12.)  No I/O: the decoder and the auth state machine
are pure, so hypothesis can drive them directly.
"""

from __future__ import annotations

import os
import random
import struct
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sysd._bus.auth import ClientAuth
from sysd._bus.codec import MessageFlag
from sysd._bus.strict import signature_valid
from sysd._bus.wire import Decoder, Message, MessageType, Variant, encode_call
from sysd.errors import BusAuthenticationError, ProtocolError


def _valid() -> bytes:
    msg = Message(
        message_type=MessageType.METHOD_RETURN,
        reply_serial=7,
        signature="a{sv}(sas)",
        body=[{}, ["x", ["a", "b"]]],
        serial=9,
    )
    return bytes(msg._marshall(False))


VALID = _valid()


def _drain(data: bytes, chunks: list[int]) -> None:
    decoder = Decoder()
    pos = 0
    for size in [*chunks, len(data)]:
        decoder.feed(data[pos : pos + size])
        pos += size
        try:
            while decoder.next() is not None:
                pass
        except ProtocolError:
            return


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=512), st.lists(st.integers(1, 64), max_size=8))
def test_random_bytes(data: bytes, chunks: list[int]) -> None:
    _drain(data, chunks)


@settings(max_examples=1500, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.integers(0, 255)), min_size=1, max_size=6)
)
def test_mutated_valid_message(edits: list[tuple[int, int]]) -> None:
    data = bytearray(VALID)
    for pos, value in edits:
        data[pos] = value
    _drain(bytes(data), [])


def test_valid_message_in_pieces() -> None:
    decoder = Decoder()
    stream = VALID * 3
    got = []
    for i in range(len(stream)):
        decoder.feed(stream[i : i + 1])
        while (msg := decoder.next()) is not None:
            got.append(msg)
    assert len(got) == 3
    assert got[2].body == [{}, ("x", ["a", "b"])]


def test_oversized_length_is_protocol_error() -> None:
    header = bytearray(VALID[:16])
    header[4:8] = (0x7FFFFFFF).to_bytes(4, "little")  # body length far beyond the limit
    decoder = Decoder()
    decoder.feed(bytes(header) + b"\0" * 64)
    try:
        decoder.next()
    except ProtocolError:
        return
    raise AssertionError("an oversized message was accepted")


def _raw(sig: str, body: list[object], **fields: object) -> bytes:
    fields.setdefault("message_type", MessageType.METHOD_RETURN)
    fields.setdefault("reply_serial", 1)
    msg = Message(serial=2, signature=sig, body=body, validate=False, **fields)  # type: ignore[arg-type]
    return bytes(msg._marshall(False))


def _refused(data: bytes) -> str:
    decoder = Decoder()
    decoder.feed(data)
    try:
        msg = decoder.next()
    except ProtocolError as exc:
        return str(exc)
    raise AssertionError(f"accepted: {msg}")


def _accepted(data: bytes) -> Message:
    decoder = Decoder()
    decoder.feed(data)
    msg = decoder.next()
    assert msg is not None
    return msg


def _refused_after(clean: bytes, bad: bytes) -> str:
    """Refused by a decoder that has just accepted ``clean`` (same header fields: the
    decoder then checks only the serials and the body; the rest must still be refused)."""
    decoder = Decoder()
    decoder.feed(clean)
    assert decoder.next() is not None
    decoder.feed(bad)
    try:
        msg = decoder.next()
    except ProtocolError as exc:
        return str(exc)
    raise AssertionError(f"accepted after a clean one: {msg}")


def _nest(depth: int, inner: str, open_: str, close: str) -> str:
    return open_ * depth + inner + close * depth


@pytest.mark.parametrize(
    ("sig", "ok"),
    [
        ("a" * 32 + "y", True),
        ("a" * 33 + "y", False),  # dbus-fast alone allows 64
        (_nest(32, "y", "(", ")"), True),
        (_nest(33, "y", "(", ")"), False),
        ("a" * 32 + _nest(32, "y", "(", ")"), True),  # 64 in all: the specification's maximum
        ("a" * 31 + "a{s" + _nest(31, "y", "(", ")") + "}", True),
        ("a" * 31 + "a{s" + _nest(32, "y", "(", ")") + "}", False),  # a dict entry is a struct
        ("{sy}", False),  # a dict entry outside an array
        ("a{vy}", False),  # a key that is not basic
        ("()", False),
    ],
)
def test_signature_nesting_limits(sig: str, ok: bool) -> None:
    assert signature_valid(sig) is ok
    if sig[0] == "a" and sig.count("a") + sig.count("(") + sig.count("{") <= 64:
        data = _raw(
            sig, [{} if sig.startswith("a{") else []]
        )  # dbus-fast itself marshals up to 64 levels of either
        if ok:
            assert _accepted(data).signature == sig
        else:
            assert "invalid signature" in _refused(data)


def test_deep_signatures_in_variants_and_signature_values() -> None:
    deep = "a" * 33 + "y"
    assert "invalid signature" in _refused(_raw("v", [Variant(deep, [])]))
    assert "invalid signature" in _refused(_raw("a{sv}", [{"X": Variant(deep, [])}]))
    assert _accepted(_raw("v", [Variant("a" * 32 + "y", [])])).body
    assert "invalid signature" in _refused(_raw("g", [deep]))
    assert _accepted(_raw("g", ["a" * 32 + "y"])).body == ["a" * 32 + "y"]


def test_deep_nesting_is_protocol_error() -> None:
    sig = "a" * 40 + "y"
    msg = Message(
        message_type=MessageType.METHOD_RETURN, reply_serial=1, serial=2, signature="ay", body=[b""]
    )
    raw = bytearray(msg._marshall(False))
    idx = raw.find(b"\x01g\x00\x02ay\x00")
    assert idx > 0
    fake = raw[:idx] + b"\x01g\x00" + bytes([len(sig)]) + sig.encode() + b"\x00"
    decoder = Decoder()
    decoder.feed(bytes(fake) + b"\0" * 64)
    with pytest.raises(ProtocolError):
        while decoder.next() is not None:
            pass


def _with_nul(data: bytes, marker: bytes) -> bytes:
    assert data.count(marker) == 1
    return data.replace(marker, marker[:-1] + b"\0")


@pytest.mark.parametrize(
    ("sig", "body"),
    [
        ("s", ["a.service\x01"]),
        ("as", [["x", "a.service\x01"]]),
        ("a{sv}", [{"Id\x01": Variant("s", "x")}]),
        ("a{sv}", [{"Id": Variant("s", "a.service\x01")}]),
        ("a{sv}", [{"Id": Variant("as", ["a.service\x01"])}]),
        ("a(ssssssouso)", [[("a.service\x01", "", "", "", "", "", "/", 0, "", "/")]]),
        ("sa{sv}as", ["i", {}, ["a.service\x01"]]),
        ("v", [Variant("(ss)", ("x", "a.service\x01"))]),
    ],
)
def test_nul_inside_a_string_is_protocol_error(sig: str, body: list[object]) -> None:
    clean = _raw(sig, body)
    assert _accepted(clean).signature == sig
    marker = b"a.service\x01" if b"a.service\x01" in clean else b"Id\x01"
    assert "NUL" in _refused(_with_nul(clean, marker))
    assert "NUL" in _refused_after(clean, _with_nul(clean, marker))


@pytest.mark.parametrize(
    ("sig", "body", "good", "bad"),
    [
        ("o", ["/a/bc"], "/a/bc", "/a/b/"),
        ("o", ["/a/bc"], "/a/bc", "a/bcd"),
        ("ao", [["/", "/a/b"]], "/a/b", "/a-b"),
        ("uoss", [1, "/job/11", "x", "done"], "/job/11", "/job//1"),
        ("a(ssssssouso)", [[("", "", "", "", "", "", "/u/xyz", 0, "", "/")]], "/u/xyz", "/u/x.z"),
        ("v", [Variant("o", "/a/bc")], "/a/bc", "/a/\xe4"),
        ("a{oa{sa{sv}}}", [{"/a/bc": {}}], "/a/bc", "/a//c"),
    ],
)
def test_invalid_object_path_is_protocol_error(
    sig: str, body: list[object], good: str, bad: str
) -> None:
    clean = _raw(sig, body)
    assert _accepted(clean).body
    assert len(good.encode()) == len(bad.encode()) and clean.count(good.encode()) == 1
    assert "invalid object path" in _refused(clean.replace(good.encode(), bad.encode()))
    assert "invalid object path" in _refused_after(
        clean, clean.replace(good.encode(), bad.encode())
    )


def test_a_known_header_still_has_its_serials_and_type_checked() -> None:
    clean = _raw("s", ["active"])
    zero_serial = clean[:8] + b"\0\0\0\0" + clean[12:]
    assert "serial 0" in _refused_after(clean, zero_serial)
    # the reply serial leads the header fields: its value is not part of what is compared
    assert clean[16:20] == b"\x05\x01u\x00"
    zero_reply = clean[:20] + b"\0\0\0\0" + clean[24:]
    assert "reply serial" in _refused_after(clean, zero_reply)
    # the same header fields under another message type are checked afresh: a signal
    # needs a path, an interface and a member, which a method return does not carry
    as_signal = clean[:1] + bytes([MessageType.SIGNAL.value]) + clean[2:]
    assert "signal without" in _refused_after(clean, as_signal)
    decoder = Decoder()
    for serial in range(2, 6):  # and the known header is accepted again and again
        decoder.feed(clean[:8] + struct.pack("<I", serial) + clean[12:])
        msg = decoder.next()
        assert msg is not None and msg.serial == serial and msg.body == ["active"]


def test_invalid_header_fields_are_protocol_errors() -> None:
    signal = {
        "message_type": MessageType.SIGNAL,
        "reply_serial": 0,
        "path": "/org/freedesktop/systemd1",
        "interface": "org.freedesktop.systemd1.Manager",
        "member": "JobRemoved",
    }
    clean = _raw("", [], **signal)
    assert _accepted(clean).member == "JobRemoved"
    assert "object path" in _refused(clean.replace(b"/org/freedesktop/", b"/org/freedesktop."))
    assert "interface" in _refused(clean.replace(b"systemd1.Manager", b"systemd1.Manage-"))
    assert "member" in _refused(clean.replace(b"JobRemoved", b"Job.emoved"))
    for missing in ("path", "interface", "member"):
        fields = dict(signal)
        fields.pop(missing)
        assert "signal without" in _refused(_raw("", [], **fields))
    assert "reply serial" in _refused(_raw("s", ["x"], reply_serial=0))
    error = _raw("s", ["x"], message_type=MessageType.ERROR, error_name="org.example.Bad")
    assert _accepted(error).error_name == "org.example.Bad"
    assert "error name" in _refused(error.replace(b"org.example.Bad", b"org..xample.Bad"))
    destination = _raw("", [], destination=":1.42")
    assert "destination" in _refused(destination.replace(b":1.42", b":1..2"))
    sender = destination.replace(b"\x06\x01s\x00", b"\x07\x01s\x00")  # dbus-fast writes no sender
    assert _accepted(sender).sender == ":1.42"
    assert "sender" in _refused(sender.replace(b":1.42", b"1.42."))
    # a header field with the wrong type: PATH as a string
    typed = bytearray(clean)
    at = typed.find(b"\x01\x01o\x00")
    typed[at + 2] = ord("s")
    assert "wrong type" in _refused(bytes(typed))


def test_nonzero_padding_is_protocol_error() -> None:
    clean = _raw("s", ["x"], destination=":1.7")
    assert _accepted(clean).body == ["x"]
    fields_len = int.from_bytes(clean[12:16], "little")
    body = 16 + ((fields_len + 7) & ~7)
    checked = 0
    for i in range(16, body):
        data = bytearray(clean)
        if data[i] != 0:
            continue
        data[i] = 0x20
        try:
            _refused(bytes(data))
        except AssertionError:
            # a zero that is part of a value (a length, a serial): changing it is not padding
            continue
        checked += 1
    # the padding after the destination (":1.7" + NUL: 3 bytes) and after the signature
    assert checked >= 4
    data = bytearray(clean)
    data[16 + fields_len] = 0x20 if fields_len < body - 16 else data[16 + fields_len]
    if fields_len < body - 16:
        assert "padding" in _refused(bytes(data))


def _fd_messages(n: int, size: int = 0) -> list[bytes]:
    return [_raw("s", [f"m{i}" + "x" * size], destination=":1.7") for i in range(n)]


def _claimed(chunks: Sequence[tuple[bytes, list[int]]]) -> list[list[int]]:
    decoder = Decoder()
    got: list[list[int]] = []
    for data, fds in chunks:
        decoder.feed(data, fds)
        while (msg := decoder.next()) is not None:
            got.append(list(msg.unix_fds))
    return got


def test_fds_go_to_the_last_message_starting_in_their_receive() -> None:
    # Linux glues queued bytes without fds in front of the write that carries fds, and
    # stops after it: the fds belong to the message that write starts (a reply to
    # logind's Inhibit arrived behind the tail of a signal and lost its fd)
    r, w = os.pipe()
    try:
        a, b, c = _fd_messages(3)
        assert _claimed([(a[:10], []), (a[10:] + b, [w])]) == [[], [w]]
        assert _claimed([(a + b + c, [w])]) == [[], [], [w]]
        assert _claimed([(a + b[:5], [w]), (b[5:] + c, [])]) == [[], [w], []]
        assert _claimed([(a, [w]), (b, [r])]) == [[w], [r]]
        # a message larger than one receive (streamed to the unmarshaller)
        big = _fd_messages(1, 300_000)[0]
        assert _claimed([(a[:7], []), (a[7:] + big[:4096], [w]), (big[4096:], [])]) == [[], [w]]
    finally:
        os.close(r)
        os.close(w)


def test_fds_of_no_message_are_closed() -> None:
    # fds received with bytes in the middle of a message, where no message starts: a
    # sender that broke the rule; nobody claims them, and they are closed, not leaked
    r, w = os.pipe()
    os.close(r)
    a, b = _fd_messages(2)
    assert _claimed([(a[:10], []), (a[10:20], [w]), (a[20:] + b, [])]) == [[], []]
    with pytest.raises(OSError):
        os.fstat(w)


def test_unclaimed_fds_are_closed() -> None:
    r, w = os.pipe()
    decoder = Decoder()
    decoder.feed(VALID, [w])
    msg = decoder.next()
    assert msg is not None and msg.unix_fds == [w]
    os.close(w)
    decoder = Decoder()
    decoder.feed(b"\xff" * 32, [r])
    try:
        decoder.next()
    except ProtocolError:
        pass
    try:
        os.fstat(r)
    except OSError:
        return
    os.close(r)
    raise AssertionError("fd of a broken stream was not closed")


@settings(max_examples=1000, deadline=None)
@given(st.binary(max_size=600), st.booleans())
def test_auth_random_answers(data: bytes, fds: bool) -> None:
    auth = ClientAuth(negotiate_fds=fds)
    try:
        auth.feed(data)
    except BusAuthenticationError:
        pass


def test_auth_happy_paths() -> None:
    guid = b"0123456789abcdef0123456789abcdef"
    auth = ClientAuth(negotiate_fds=True)
    assert auth.initial().startswith(b"\0AUTH EXTERNAL\r\nDATA\r\nNEGOTIATE_UNIX_FD\r\nBEGIN\r\n")
    rest = auth.feed(b"DATA\r\nOK " + guid + b"\r\nAGREE_UNIX_FD\r\nlMSG")
    assert auth.done and auth.unix_fds and rest == b"lMSG"
    auth = ClientAuth(negotiate_fds=True)
    auth.feed(b"OK " + guid + b"\r\n")  # old sd-bus: no DATA line
    auth.feed(b"ERROR no fds here\r\n")
    assert auth.done and not auth.unix_fds


def test_auth_done_with_many_message_bytes_behind_it() -> None:
    guid = b"0123456789abcdef0123456789abcdef"
    auth = ClientAuth(negotiate_fds=True)
    tail = b"l" * 60000  # messages that arrived in the same read as the last line
    rest = auth.feed(b"DATA\r\nOK " + guid + b"\r\nAGREE_UNIX_FD\r\n" + tail)
    assert auth.done and rest == tail


# ------------------------------------------------- real systemd messages, mutated

DATA = Path(__file__).resolve().parent / "data"
# real traffic of systemd 252 (tests/bus/data/record.py): its private socket, where sd-bus
# speaks, and the system bus, where dbus-daemon relays it and adds its own messages
RECORDED = [DATA / "systemd252.bin", DATA / "systemd252_bus.bin"]


def _split_stream(data: bytes) -> list[bytes]:
    messages = []
    pos = 0
    while pos < len(data):
        body_len, _serial, fields_len = struct.unpack_from("<III", data, pos + 4)
        size = 16 + ((fields_len + 7) & ~7) + body_len
        messages.append(data[pos : pos + size])
        pos += size
    return messages


REAL = [m for path in RECORDED for m in _split_stream(path.read_bytes())]


@pytest.mark.parametrize("path", RECORDED, ids=lambda p: p.name)
def test_recorded_systemd_messages_are_accepted(path: Path) -> None:
    # what systemd 252 and dbus-daemon really send passes every check
    decoder = Decoder()
    decoder.feed(path.read_bytes())
    got = []
    while (msg := decoder.next()) is not None:
        got.append(msg)
    assert len(got) == len(_split_stream(path.read_bytes())) >= 20
    kinds = {(m.message_type, m.signature) for m in got}
    assert (MessageType.METHOD_RETURN, "a(ssssssouso)") in kinds
    assert (MessageType.SIGNAL, "sa{sv}as") in kinds
    assert (MessageType.SIGNAL, "uoss") in kinds
    assert (MessageType.ERROR, "s") in kinds


def test_mutated_systemd_messages_give_messages_or_protocol_errors() -> None:
    # RELIABILITY 12 on real traffic: flip, overwrite, insert, delete and cut bytes of
    # recorded systemd messages; the decoder yields messages or raises ProtocolError, and
    # nothing else, on every one.  Bounded and seeded, so a failure is reproducible.
    rng = random.Random(11)
    interesting = [0x00, 0x01, 0x2F, 0x7F, 0x80, 0xFF, 0x61, 0x28, 0x29, 0x7B]
    refused = 0
    for _ in range(int(os.environ.get("SYSD_FUZZ_N", "20000"))):
        data = bytearray(rng.choice(REAL))
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(data))
            what = rng.random()
            if what < 0.6:
                data[i] = rng.choice(interesting) if rng.random() < 0.5 else rng.randrange(256)
            elif what < 0.75:
                data[i : i + 1] = b""
            elif what < 0.9:
                data[i:i] = bytes([rng.randrange(256)])
            else:
                del data[i:]
            if not data:
                data = bytearray(b"\0")
        decoder = Decoder()
        cut = rng.randrange(len(data) + 1)
        try:
            for chunk in (bytes(data[:cut]), bytes(data[cut:])):
                decoder.feed(chunk)
                while decoder.next() is not None:
                    pass
        except ProtocolError:
            refused += 1
    assert refused > 5000  # most mutations break a rule; the rest are still D-Bus


@pytest.mark.parametrize(
    ("sig", "args"),
    [
        ("ss", ("org.freedesktop.systemd1.Unit", "ActiveState")),
        ("", ()),
        ("so", ("x", "/a/b")),
        ("su", ("x", 7)),  # not only strings: the body is marshalled every time
        ("ss", ["a", "b"]),  # a list is not cached (not hashable), same bytes
    ],
)
def test_repeated_calls_encode_as_the_first(sig: str, args: Sequence[object]) -> None:
    """The cached encodings of a repeated call equal a fresh marshal, serial and flags included."""
    for serial, interactive in ((3, False), (4, False), (5, True), (6, False)):
        data, fds = encode_call(
            serial, "org.x", "/org/x", "org.x.I", "M", sig, args, interactive=interactive
        )
        flags = MessageFlag.ALLOW_INTERACTIVE_AUTHORIZATION if interactive else MessageFlag(0)
        fresh = Message(
            destination="org.x",
            path="/org/x",
            interface="org.x.I",
            member="M",
            signature=sig,
            body=list(args),
            serial=serial,
            flags=flags,
        )
        assert (data, fds) == (bytes(fresh._marshall(False)), [])
        decoder = Decoder()
        decoder.feed(data)
        msg = decoder.next()
        assert msg is not None and msg.serial == serial and msg.body == list(args)
