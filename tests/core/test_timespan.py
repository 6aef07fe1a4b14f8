"""sysd._core.timespan against systemd 252's own vectors (test-time-util.c, re-checked on 252)."""

from __future__ import annotations

import json
import os
import pickle
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sysd import timespan as public
from sysd._core import timespan as ts
from sysd.errors import InvalidTimespanError, SysdError


def _conformance_dir() -> Path:
    override = os.environ.get("SYSD_CONFORMANCE_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[3] / "shared" / "conformance"


VECTORS: dict[str, Any] = json.loads(
    (_conformance_dir() / "timespan_vectors.json").read_text(encoding="utf-8")
)


def _nsec(text: str) -> int:
    value = ts.parse_nsec(text)
    return ts.NSEC_INFINITY if value is None else value


# C function of the vectors -> the Python function (integer results, as in C)
PARSERS: dict[str, Callable[..., int]] = {
    "parse_sec": ts.parse_usec,
    "parse_time": ts.parse_usec,
    "parse_sec_fix_0": ts.parse_sec_fix_0,
    "parse_sec_def_infinity": ts.parse_sec_def_infinity,
    "parse_nsec": _nsec,
}


def _parse_id(v: dict[str, Any]) -> str:
    unit = f",{v['default_unit_usec']}" if "default_unit_usec" in v else ""
    return f"{v['func']}({v['input']!r}{unit})"


@pytest.mark.parametrize("vector", VECTORS["parse"], ids=[_parse_id(v) for v in VECTORS["parse"]])
def test_parse_vector(vector: dict[str, Any]) -> None:
    args = [vector["input"]]
    if "default_unit_usec" in vector:
        args.append(vector["default_unit_usec"])
    parse = PARSERS[vector["func"]]
    if vector["ok"]:
        assert parse(*args) == vector["value"]
    else:
        with pytest.raises(InvalidTimespanError) as info:
            parse(*args)
        assert repr(vector["input"]) in str(info.value)


def _format_id(v: dict[str, Any]) -> str:
    extra = f",bufsize={v['bufsize']}" if "bufsize" in v else ""
    return f"{v['usec']},{v['accuracy_usec']}{extra}"


@pytest.mark.parametrize(
    "vector", VECTORS["format_timespan"], ids=[_format_id(v) for v in VECTORS["format_timespan"]]
)
def test_format_timespan_vector(vector: dict[str, Any]) -> None:
    text = ts.format_usec(vector["usec"], vector["accuracy_usec"], bufsize=vector.get("bufsize"))
    assert text == vector["text"]
    if "parse_sec_back" in vector:
        assert ts.parse_usec(text) == vector["parse_sec_back"]


@pytest.mark.parametrize(
    "vector",
    VECTORS["format_timestamp_utc"],
    ids=[str(v["usec"]) for v in VECTORS["format_timestamp_utc"]],
)
def test_format_timestamp_utc_vector(vector: dict[str, Any]) -> None:
    assert ts.format_timestamp_utc(vector["usec"]) == vector["text"]


@pytest.mark.parametrize(
    "vector",
    VECTORS["usec_arith"],
    ids=[f"{v['func']}({v['args'][0]},{v['args'][1]})" for v in VECTORS["usec_arith"]],
)
def test_usec_arith_vector(vector: dict[str, Any]) -> None:
    assert getattr(ts, vector["func"])(*vector["args"]) == vector["result"]


# ------------------------------------------------------------------ error paths


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("xyz", "expected a number at position 1"),
        ("5x", "unexpected 'x' at position 2"),
        ("12.34.56", "unexpected '.'"),
        ("3.", "'.' at position 2 is not followed by a digit"),
        ("3.s", "not followed by a digit"),
        ("-5s", "negative"),
        ("\v-5s", "negative"),
        ("infinity 5", "'infinity' cannot be combined"),
        ("5 infinity", "expected a number"),
        ("11111111111111y", "too large"),
        ("99999999999999999999", "too large"),
        ("584542y", "too large"),
        ("5s\0", "expected a number"),
    ],
)
def test_invalid_text_raises_typed_error_naming_it(text: str, needle: str) -> None:
    with pytest.raises(InvalidTimespanError) as info:
        ts.parse_usec(text)
    err = info.value
    assert isinstance(err, ValueError) and isinstance(err, SysdError)
    assert repr(text) in str(err)
    assert needle in str(err)
    assert str(pickle.loads(pickle.dumps(err))) == str(err)
    with pytest.raises(InvalidTimespanError):
        public.parse(text)


def test_bad_unit_gets_a_hint() -> None:
    with pytest.raises(InvalidTimespanError) as info:
        ts.parse("5 parsecs")
    assert info.value.hint is not None and "min" in info.value.hint


@pytest.mark.parametrize("value", [-1, timedelta(microseconds=-1), ts.USEC_INFINITY + 1])
def test_format_refuses_out_of_range(value: int | timedelta) -> None:
    with pytest.raises(InvalidTimespanError, match="between 0 and"):
        ts.format(value)


def test_argument_errors() -> None:
    with pytest.raises(ValueError, match="default_unit"):
        ts.parse_usec("5", default_unit=0)
    with pytest.raises(ValueError, match="accuracy"):
        ts.format_usec(5, -1)
    with pytest.raises(ValueError, match="bufsize"):
        ts.format_usec(5, bufsize=0)


# ------------------------------------------------------------- further behaviour


@pytest.mark.parametrize(
    ("text", "usec"),
    [
        ("1h 30min", 5_400_000_000),
        ("1M", ts.USEC_PER_MONTH),
        ("1m", ts.USEC_PER_MINUTE),
        ("2 weeks 1 day", 15 * ts.USEC_PER_DAY),
        ("5 msec", 5000),
        ("1.5 hr", 5_400_000_000),
        ("\v5", 5_000_000),  # strtoll() skips \v and \f, systemd's WHITESPACE does not
        ("\v-0", 0),  # ... and then even accepts a "-0"
        ("0.0000001s", 0),  # digits below a microsecond count for nothing
        ("1.99999999999999999999s", 1_999_999),
    ],
)
def test_parse_more(text: str, usec: int) -> None:
    assert ts.parse_usec(text) == usec


def test_nsec_words() -> None:
    assert ts.parse_nsec("5ns") == 5
    assert ts.parse_nsec("1.5us") == 1500
    assert ts.parse_nsec(" infinity ") is None


def test_timedelta_layer() -> None:
    assert ts.parse("90") == timedelta(seconds=90)
    assert ts.parse("infinity") is None
    assert ts.format(timedelta(hours=1, minutes=30)) == "1h 30min"
    assert ts.format(None) == "infinity"
    assert ts.format(1_500_000) == "1.500000s"
    assert ts.format(timedelta(seconds=1.234567), timedelta(milliseconds=1)) == "1.234s"
    assert ts.format(timedelta(days=400), accuracy=ts.USEC_PER_DAY) == "1y 1month 4d"
    assert ts.to_usec(None) == ts.USEC_INFINITY
    assert ts.to_timedelta(ts.USEC_INFINITY) is None
    assert ts.to_timedelta(ts.USEC_INFINITY - 1) == timedelta(microseconds=ts.USEC_INFINITY - 1)


def test_format_timestamp_with_microseconds() -> None:
    assert ts.format_timestamp_utc(1_500_000, us=True) == "Thu 1970-01-01 00:00:01.500000 UTC"
    assert ts.format_timestamp_utc(1_700_000_000_000_000) == "Tue 2023-11-14 22:13:20 UTC"


def test_public_module_reexports_core() -> None:
    assert sorted(public.__all__) == sorted(ts.__all__)
    for name in public.__all__:
        assert getattr(public, name) is getattr(ts, name)


# ------------------------------------------------------------------- properties

# parse_time() refuses a count >= USEC_INFINITY / unit, so "584542y" does not parse back
_PARSEABLE_MAX = 584542 * ts.USEC_PER_YEAR - 1
_USEC = st.integers(min_value=0, max_value=_PARSEABLE_MAX)


def test_systemd_formats_a_span_it_cannot_parse() -> None:
    # Checked on libsystemd-shared-252: format_timespan() gives "584542y", parse_time() -ERANGE.
    top = 584542 * ts.USEC_PER_YEAR
    assert ts.format_usec(top) == "584542y"
    with pytest.raises(InvalidTimespanError, match="too large"):
        ts.parse_usec("584542y")
    assert ts.parse_usec(ts.format_usec(top - 1)) == top - 1


@given(_USEC)
def test_format_parses_back_exactly(usec: int) -> None:
    assert ts.parse_usec(ts.format_usec(usec)) == usec


@given(_USEC, st.sampled_from([1, 10, 1000, ts.USEC_PER_SEC, ts.USEC_PER_MINUTE]))
def test_format_parses_back_at_accuracy(usec: int, accuracy: int) -> None:
    # what test-time-util.c asserts for its samples
    assert ts.parse_usec(ts.format_usec(usec, accuracy)) // accuracy == usec // accuracy


@given(st.text())
def test_only_typed_errors_escape(text: str) -> None:
    try:
        value = ts.parse_usec(text)
    except InvalidTimespanError:
        return
    assert 0 <= value <= ts.USEC_INFINITY
