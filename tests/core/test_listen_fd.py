"""ListenFd stands for its fd number (code ported from python-systemd passes listen_fds()[0]
where an int is expected), and stays a (fd, name) pair."""

from __future__ import annotations

import asyncio
import operator
import os
import select
import selectors
import socket
import stat
from collections.abc import Iterator

import pytest

from sysd.daemon import ListenFd


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    a, b = socket.socketpair()
    yield a, b
    a.close()
    b.close()


def test_socket_from_a_listen_fd(pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = pair
    entry = ListenFd(os.dup(a.fileno()), "web")
    # python-systemd habit: socket.socket(fileno=listen_fds()[0])
    with socket.socket(fileno=entry) as sock:  # type: ignore[arg-type]
        assert sock.fileno() == entry.fd
        assert sock.family == socket.AF_UNIX and sock.type == socket.SOCK_STREAM
        sock.sendall(b"ping")
        assert b.recv(4) == b"ping"


def test_int_like_uses(pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = pair
    entry = ListenFd(a.fileno(), "web")
    assert int(entry) == operator.index(entry) == entry.fileno() == entry.fd
    assert stat.S_ISSOCK(os.fstat(entry).st_mode)  # type: ignore[arg-type]
    assert stat.S_ISSOCK(os.stat(entry).st_mode)  # type: ignore[arg-type]
    assert os.get_inheritable(entry) is False  # type: ignore[arg-type]
    b.sendall(b"x")
    assert select.select([entry], [], [], 5)[0] == [entry]
    poller = select.poll()
    poller.register(entry, select.POLLIN)
    assert poller.poll(5000) == [(entry.fd, select.POLLIN)]
    with selectors.DefaultSelector() as sel:
        sel.register(entry, selectors.EVENT_READ, "data")
        (key, _), *_ = sel.select(5)
        assert key.fd == entry.fd and key.data == "data"
    assert os.read(entry, 1) == b"x"  # type: ignore[arg-type]
    assert [10, 20, 30, 40, 50, 60][ListenFd(2, "n")] == 30  # __index__: usable as an index


def test_asyncio_reader(pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = pair
    entry = ListenFd(a.fileno(), "web")

    async def main() -> bytes:
        loop = asyncio.get_running_loop()
        ready = loop.create_future()
        loop.add_reader(entry, ready.set_result, None)
        try:
            b.sendall(b"y")
            await asyncio.wait_for(ready, 5)
        finally:
            loop.remove_reader(entry)
        return os.read(entry.fd, 1)

    assert asyncio.run(main()) == b"y"


def test_still_a_named_pair() -> None:
    entry = ListenFd(3, "web")
    fd, name = entry
    assert (fd, name) == (3, "web") == tuple(entry)
    assert entry == ListenFd(3, "web") and entry != 3  # type: ignore[comparison-overlap]
    assert entry._replace(name="dns").name == "dns"
    assert repr(entry) == "ListenFd(fd=3, name='web')"
