"""The blocking connection's queued send: bookkeeping a Ctrl-C cannot split, against the old.

``Connection._flush`` (src/sysd/_bus/sync.py) used to do ``n = sock.send(view)`` and then
take ``n`` bytes off its queue; a KeyboardInterrupt raised right after the send returned
lost ``n`` and the message was sent again.  It now stores the result from C code
(``list.extend`` over ``zip((view,), map(sock.send, (view,)))``) and applies it at most
once.  This measures what that costs per queued message: 64 messages of 120 bytes sent
through a socketpair (drained after each batch), best of 5 x 200 batches, the two ways
alternated in one process.  The single-call fast path of ``call()`` is not affected.

    .venv/bin/python bench/send_bookkeeping_ab.py

Results: bench/RESULTS.md, "Blocking send: bookkeeping a Ctrl-C cannot split".
"""

from __future__ import annotations

import socket
import timeit
from collections import deque

A, B = socket.socketpair()
A.setblocking(False)
B.setblocking(False)
MESSAGES = [b"x" * 120 for _ in range(64)]


def _drain() -> None:
    while True:
        try:
            B.recv(65536)
        except BlockingIOError:
            return


def before() -> None:
    out = deque((memoryview(m), []) for m in MESSAGES)
    while out:
        view, _fds = out[0]
        n = A.send(view)
        if n == len(view):
            out.popleft()
        else:
            out[0] = (view[n:], [])
    _drain()


def after() -> None:
    out = deque((memoryview(m), []) for m in MESSAGES)
    sent: list[tuple[memoryview, int]] = []
    while True:
        while sent:
            view, n = sent[0]
            if out and out[0][0] is view:
                if n == len(view):
                    out.popleft()
                else:
                    out[0] = (view[n:], [])
            del sent[0]
        if not out:
            break
        view, _fds = out[0]
        sent.extend(zip((view,), map(A.send, (view,)), strict=True))
    _drain()


def main() -> None:
    per = {}
    for fn in (before, after, before, after):
        t = min(timeit.repeat(fn, number=200, repeat=5)) / 200 / len(MESSAGES)
        per[fn.__name__] = min(per.get(fn.__name__, t), t)
    b, a = per["before"], per["after"]
    print(
        f"per queued message (send syscall included): before {b * 1e9:.0f} ns, "
        f"after {a * 1e9:.0f} ns, +{(a - b) * 1e9:.0f} ns ({a / b:.2f}x)"
    )


if __name__ == "__main__":
    main()
