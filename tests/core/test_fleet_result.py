"""FleetResult, RollingReport and FleetLogs (pure), and the CLI's fleet routing (tables)."""

from __future__ import annotations

import io
from typing import Any

import pytest

from sysd._core.fleet import FleetLogs, FleetResult
from sysd.cli import _fleet_words
from sysd.cli.fleet import Progress, worst
from sysd.errors import BusConnectError, FleetError, NoSuchUnitError


def _result() -> FleetResult[str]:
    return FleetResult(
        {
            "web1": "active",
            "web2": "active",
            "web3": "failed",
            "down": BusConnectError("refused"),
            "down2": BusConnectError("refused"),
            "other": BusConnectError("timed out"),
            "web7": "active",
        }
    )


def test_ok_failed_and_order() -> None:
    r = _result()
    assert list(r.ok) == ["web1", "web2", "web3", "web7"]
    assert list(r.failed) == ["down", "down2", "other"]
    assert list(r) == ["web1", "web2", "web3", "down", "down2", "other", "web7"]
    assert len(r) == 7
    assert r["web3"] == "failed"
    with pytest.raises(BusConnectError):
        r["down"]
    assert repr(r) == "<FleetResult 4 ok, 3 failed>"


def test_by_value_groups_equal_answers_and_equal_errors() -> None:
    groups = _result().by_value()
    assert [(v if isinstance(v, str) else str(v), hosts) for v, hosts in groups] == [
        ("active", ["web1", "web2", "web7"]),
        ("refused", ["down", "down2"]),
        ("failed", ["web3"]),
        ("timed out", ["other"]),
    ]


def test_folded() -> None:
    assert [(str(v), hosts) for v, hosts in _result().folded()] == [
        ("active", "web[1-2,7]"),
        ("refused", "down,down2"),
        ("failed", "web3"),
        ("timed out", "other"),
    ]


def test_by_value_unhashable_and_uncomparable() -> None:
    class Odd:
        def __eq__(self, other: object) -> bool:
            raise RuntimeError("no")

        __hash__ = None  # type: ignore[assignment]

    odd = Odd()
    r: FleetResult[Any] = FleetResult({"a": [1], "b": [1], "c": odd, "d": [2]})
    assert [hosts for _, hosts in r.by_value()] == [["a", "b"], ["c"], ["d"]]


def test_raise_for_failures() -> None:
    with pytest.raises(FleetError) as info:
        _result().raise_for_failures()
    error = info.value
    assert isinstance(error, RuntimeError)
    assert set(error.failed) == {"down", "down2", "other"}
    assert isinstance(error.__cause__, BusConnectError)
    assert str(error).startswith("3 of 7 hosts failed down,down2,other; down: refused")
    ok: FleetResult[int] = FleetResult({"a": 1})
    assert ok.raise_for_failures() is ok


def test_skipped_counts_as_failure() -> None:
    r: FleetResult[str] = FleetResult({"a": "done"}, skipped=["b", "c"])
    assert r.hosts == ["a", "b", "c"]
    with pytest.raises(FleetError, match="2 skipped: b,c") as info:
        r.raise_for_failures()
    assert info.value.skipped == ["b", "c"]


class _E:
    def __init__(self, t: int, text: str) -> None:
        self.realtime_usec = t
        self.text = text


def test_logs_merged_by_time_ties_keep_host_order() -> None:
    logs: FleetLogs[_E] = FleetLogs(
        {
            "h1": [_E(1, "a"), _E(5, "b")],
            "h2": [_E(2, "c"), _E(5, "d")],
            "down": BusConnectError("refused"),
            "h3": [],
        }
    )
    assert [(h, e.text) for h, e in logs.merged()] == [
        ("h1", "a"),
        ("h2", "c"),
        ("h1", "b"),
        ("h2", "d"),
    ]


FLEET_WORDS = [
    (["-H", "web1", "is-active", "x"], False),
    (["-H", "admin@web1:2222", "status"], False),
    (["-H", "web1/container", "status"], False),
    (["is-active", "x"], False),
    (["-H", "web1,web2", "is-active", "x"], True),
    (["--host=web[1-3]", "is-active", "x"], True),
    (["-H@hosts.txt", "is-active", "x"], True),
    (["is-active", "x", "-H", "@hosts"], True),
    (["-H", "inventory.ini", "status", "x"], True),
    (["-H", "inv.yml:web:!web3", "status", "x"], True),
    (["-H", "web1", "restart", "x", "--rolling"], True),
    (["run", "--", "-H", "a,b"], False),
]


@pytest.mark.parametrize(("words", "fleet"), FLEET_WORDS)
def test_cli_routes_several_hosts_to_the_fleet(words: list[str], fleet: bool) -> None:
    assert _fleet_words(words) is fleet


WORST = [
    ([], 0),
    ([0, 0], 0),
    ([0, 3], 3),
    ([3, 4, 0], 4),
    ([4, 1, 3], 1),
    ([5, 0], 5),
    ([5, 1], 1),
    ([3, 5], 5),
]


@pytest.mark.parametrize(("codes", "rc"), WORST)
def test_worst_exit_status(codes: list[int], rc: int) -> None:
    assert worst(codes) == rc


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_line_on_a_terminal_only() -> None:
    tty = _Tty()
    p = Progress(3, tty)
    p("a", True)
    p("b", False)
    p.clear()
    assert tty.getvalue() == (
        "\r\x1b[K1/3 done, 0 failed, 2 pending\r\x1b[K2/3 done, 1 failed, 1 pending\r\x1b[K"
    )
    pipe = io.StringIO()
    q = Progress(2, pipe)
    q("a", True)
    q.clear()
    assert pipe.getvalue() == ""


def test_error_exit_codes() -> None:
    from sysd.cli.fleet import _error_code

    assert _error_code(BusConnectError("x")) == 1
    assert _error_code(NoSuchUnitError("Unit x.service not found.")) == 5
