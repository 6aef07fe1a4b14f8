"""Sockets: ``bus_append_socket_property()``."""

from __future__ import annotations

from typing import Final

from . import _tables as T
from ._c import UNQUOTE, Bad, dbus_str
from ._kit import (
    Assignment,
    Handler,
    Out,
    boolean,
    i32,
    i64,
    mode,
    parse_ip_protocol,
    sec_rename,
    size1024,
    string,
    strv,
    table_or_number,
    u32,
)
from .service import exec_command

__all__ = ["HANDLERS", "LIST_WORDS"]


def ip_tos(out: Out, field: str, eq: str) -> None:
    n = table_or_number(T.IP_TOS_BY_NAME, 0xFF, eq)
    if n is None:
        raise Bad("low-delay, throughput, reliability, low-cost or a number 0-255")
    out.append(Assignment(field, "i", n))


def socket_protocol(out: Out, field: str, eq: str) -> None:
    n = parse_ip_protocol(eq)
    if n is None:
        raise Bad("an IP protocol name such as udp or sctp, or its number")
    out.append(Assignment(field, "i", n))


def listen(out: Out, field: str, eq: str) -> None:
    """ListenStream= & co -> ``Listen`` ``a(ss)`` of (type, address)."""
    value = [(field[6:], dbus_str(eq))] if eq else []
    out.append(Assignment("Listen", "a(ss)", value))


HANDLERS: Final[dict[str, Handler]] = {
    **dict.fromkeys(
        ("Accept", "FlushPending", "Writable", "KeepAlive", "NoDelay", "FreeBind", "Transparent",
         "Broadcast", "PassCredentials", "PassSecurity", "PassPacketInfo", "ReusePort",
         "RemoveOnStop", "SELinuxContextFromNet"),
        boolean,
    ),
    **dict.fromkeys(("Priority", "IPTTL", "Mark"), i32),
    "IPTOS": ip_tos,
    **dict.fromkeys(
        ("Backlog", "MaxConnections", "MaxConnectionsPerSource", "KeepAliveProbes",
         "TriggerLimitBurst"),
        u32,
    ),
    "SocketMode": mode,
    "DirectoryMode": mode,
    "MessageQueueMaxMessages": i64,
    "MessageQueueMessageSize": i64,
    **dict.fromkeys(
        ("TimeoutSec", "KeepAliveTimeSec", "KeepAliveIntervalSec", "DeferAcceptSec",
         "TriggerLimitIntervalSec"),
        sec_rename,
    ),
    **dict.fromkeys(("ReceiveBuffer", "SendBuffer", "PipeSize"), size1024),
    **dict.fromkeys(("ExecStartPre", "ExecStartPost", "ExecReload", "ExecStopPost"), exec_command),
    **dict.fromkeys(
        ("SmackLabel", "SmackLabelIPIn", "SmackLabelIPOut", "TCPCongestion", "BindToDevice",
         "BindIPv6Only", "FileDescriptorName", "SocketUser", "SocketGroup", "Timestamping"),
        string,
    ),
    "Symlinks": strv(UNQUOTE),
    "SocketProtocol": socket_protocol,
    **dict.fromkeys(
        ("ListenStream", "ListenDatagram", "ListenSequentialPacket", "ListenNetlink",
         "ListenSpecial", "ListenMessageQueue", "ListenFIFO", "ListenUSBFunction"),
        listen,
    ),
}  # fmt: skip

LIST_WORDS: Final = frozenset({"Symlinks"})
