"""Random and mutated bytes into the parser: a message or a ProtocolError, nothing else.

(RELIABILITY.md 10 and 12.)  No I/O: the decoder and the auth state machine
are pure, so hypothesis can drive them directly.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sysd._bus.auth import ClientAuth
from sysd._bus.wire import Decoder, Message, MessageType
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


def test_deep_nesting_is_protocol_error() -> None:
    sig = "a" * 40 + "y"
    data = bytearray(VALID)
    # rewrite the body signature header field in place is fiddly; craft by hand instead
    msg = Message(
        message_type=MessageType.METHOD_RETURN, reply_serial=1, serial=2, signature="ay", body=[b""]
    )
    raw = bytearray(msg._marshall(False))
    idx = raw.find(b"\x01g\x00\x02ay\x00")
    assert idx > 0
    del data
    fake = raw[:idx] + b"\x01g\x00" + bytes([len(sig)]) + sig.encode() + b"\x00"
    decoder = Decoder()
    decoder.feed(bytes(fake) + b"\0" * 64)
    try:
        while decoder.next() is not None:
            pass
    except ProtocolError:
        pass


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
