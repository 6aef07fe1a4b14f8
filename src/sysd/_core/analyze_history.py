"""The state history of chosen units as an SVG picture, without I/O: what
``plot(units=..., since=...)`` draws (systemd-analyze has no such picture).

The input is the units' state transitions, as systemd's manager logs them (its
``Starting``/``Started``/``Stopping``/``Stopped``/``Failed to start``/``Reloading``
messages and the ``Failed with result``/``Deactivated successfully`` ones, told apart
by their MESSAGE_ID from ``sd-messages.h``), plus each unit's state now.  From them:
one row per unit, a bar per span of time the unit spent in one state, coloured with
the boot plot's classes (activating red, active pink, deactivating dark) and three
more (failed, inactive, reloading); a time axis in seconds from ``since``; a legend.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Final, NamedTuple

from .analyze_plot import _STYLE, SCALE_Y, escape

__all__ = [
    "MESSAGE_STATES",
    "STATES",
    "Span",
    "Transition",
    "history_spans",
    "history_svg",
    "state_of",
]

# systemd 252's sd-messages.h: the manager's messages about a unit's jobs and results
STARTING: Final = "7d4958e842da4a758f6c1cdc7b36dcc5"
STARTED: Final = "39f53479d3a045ac8e11786248231fbf"
FAILED: Final = "be02cf6855d2428ba40df7e9d022f03d"
STOPPING: Final = "de5b426a63be47a7b6ac3eaac82e2f6f"
STOPPED: Final = "9d1aaa27d60140bd96365438aad20286"
RELOADING: Final = "d34d037fff1847e6ae669a370e694725"
RELOADED: Final = "7b05ebc668384222baa8881179cfda54"
SUCCESS: Final = "7ad2d189f7e94e70a38c781354912448"
FAILURE_RESULT: Final = "d9b373ed55a64feb8242e02dbe79a49c"

MESSAGE_STATES: Final[Mapping[str, str]] = {
    STARTING: "activating",
    STARTED: "active",
    FAILED: "failed",
    STOPPING: "deactivating",
    STOPPED: "inactive",
    RELOADING: "reloading",
    RELOADED: "active",
    SUCCESS: "inactive",
    FAILURE_RESULT: "failed",
}

# the states drawn, in the legend's order
STATES: Final = ("activating", "active", "reloading", "deactivating", "failed", "inactive")

# a start job that ended without the unit failing (job_done_mid(): every result but
# "done" is logged as "failed to start"): the unit stayed (or went back to) inactive
_NOT_A_FAILURE: Final = frozenset(
    {"dependency", "skipped", "canceled", "collected", "invalid", "assert", "unsupported"}
)

GRAPH_WIDTH: Final = 1000.0  # pixels for the whole time range
LABEL_WIDTH: Final = 8.0  # pixels per byte of a unit's name, as the boot plot reckons
_STEPS: Final = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800)
_STEPS_MORE: Final = (21600, 43200, 86400, 172800, 604800)


class Transition(NamedTuple):
    """A unit entered ``state`` (one of :data:`STATES`) at ``time``."""

    unit: str
    time: datetime
    state: str


class Span(NamedTuple):
    """The unit was ``state`` from ``start`` to ``end`` (seconds from ``since``)."""

    state: str
    start: float
    end: float


def state_of(message_id: str, job_result: str | None = None) -> str | None:
    """The state a manager message about a unit says it entered (None: not one of
    those messages).  ``job_result``: the message's JOB_RESULT field."""
    state = MESSAGE_STATES.get(message_id.lower())
    if message_id.lower() == FAILED and job_result in _NOT_A_FAILURE:
        return "inactive"
    return state


def history_spans(
    units: Sequence[str],
    transitions: Sequence[Transition],
    current: Mapping[str, str],
    since: datetime,
    now: datetime,
) -> dict[str, list[Span]]:
    """Each unit's spans between ``since`` and ``now``, in the order of ``units``.

    A unit's transitions are taken in time order; a transition into the state it is
    already in continues its span.  Before the first transition the state is not known
    and nothing is drawn; after the last one the span runs to ``now``.  A unit with no
    transition in the range is drawn in its ``current`` state all along (a state outside
    :data:`STATES`, such as ``maintenance``, as inactive)."""
    total = max((now - since).total_seconds(), 0.0)
    out: dict[str, list[Span]] = {}
    for unit in units:
        mine = sorted(
            (t for t in transitions if t.unit == unit and since <= t.time <= now),
            key=lambda t: t.time,
        )
        spans: list[Span] = []
        if not mine:
            state = current.get(unit, "inactive")
            spans.append(Span(state if state in STATES else "inactive", 0.0, total))
        for t in mine:
            at = (t.time - since).total_seconds()
            if spans and spans[-1].state == t.state:
                continue
            if spans:
                spans[-1] = spans[-1]._replace(end=at)
            spans.append(Span(t.state, at, total))
        out[unit] = spans
    return out


def _step(total: float) -> int:
    """Seconds between the axis' ticks: about ten of them, at round numbers."""
    for step in (*_STEPS, *_STEPS_MORE):
        if total / step <= 12:
            return step
    return int(total // 10) or 1


def _attr(text: str) -> str:
    return escape(text).replace('"', "&quot;")


_EXTRA_STYLE: Final = (
    "      rect.failed       { fill: rgb(255,160,0); fill-opacity: 0.9; }\n"
    "      rect.inactive     { fill: rgb(200,200,200); fill-opacity: 0.5; }\n"
    "      rect.reloading    { fill: rgb(150,150,255); fill-opacity: 0.7; }\n"
)


def history_svg(
    spans: Mapping[str, Sequence[Span]], since: datetime, now: datetime, version: str = ""
) -> str:
    """The picture: one row per unit (a ``<g class="unit">`` holding its bars and its
    name), the time axis in seconds from ``since``, a legend of the states."""
    total = max((now - since).total_seconds(), 1e-6)
    scale = GRAPH_WIDTH / total
    label = max((LABEL_WIDTH * len(u.encode()) for u in spans), default=0.0) + 10.0
    rows = len(spans)
    height = 100.0 + SCALE_Y * (rows + len(STATES) + 2) + 20.0
    out: list[str] = [
        '<?xml version="1.0" standalone="no"?>\n'
        '<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
        '"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n',
        f'<svg width="{40.0 + label + GRAPH_WIDTH:.0f}px" height="{height:.0f}px" '
        'version="1.1" xmlns="http://www.w3.org/2000/svg">\n\n',
        f"<!-- The state history of systemd units, drawn by sysd {escape(version[:16])} -->\n\n",
        _STYLE.replace("    ]]>", _EXTRA_STYLE + "    ]]>"),
        '<rect class="background" width="100%" height="100%" />\n',
        f'<text x="20" y="30">State history since {escape(since.isoformat())} '
        f"({total:.1f}s)</text>\n",
        f'<g class="graph" transform="translate({20.0 + label:.3f},100)">\n',
        f'<rect class="box" x="0" y="0" width="{GRAPH_WIDTH:.3f}" '
        f'height="{SCALE_Y * rows:.3f}" />\n',
    ]
    step = _step(total)
    tick = 0
    while tick <= total:
        x = tick * scale
        out.append(
            f'  <line class="sec1" x1="{x:.3f}" y1="0" x2="{x:.3f}" y2="{SCALE_Y * rows:.3f}" />\n'
            f'  <text class="sec" x="{x:.3f}" y="-5.000" >{tick}s</text>\n'
        )
        tick += step
    for y, (unit, unit_spans) in enumerate(spans.items()):
        out.append(f'  <g class="unit" data-unit="{_attr(unit)}">\n')
        for s in unit_spans:
            out.append(
                f'    <rect class="{s.state}" x="{s.start * scale:.3f}" '
                f'y="{SCALE_Y * y:.3f}" width="{(s.end - s.start) * scale:.3f}" '
                f'height="{SCALE_Y - 1.0:.3f}" data-start="{s.start:.6f}" '
                f'data-end="{s.end:.6f}" />\n'
            )
        out.append(
            f'    <text class="right" x="-5.000" y="{SCALE_Y * y + 14.0:.3f}">'
            f"{escape(unit)}</text>\n  </g>\n"
        )
    out.append("</g>\n")
    out.append(f'<g class="legend" transform="translate(20,{100.0 + SCALE_Y * (rows + 1):.3f})">\n')
    for y, state in enumerate(STATES):
        out.append(
            f'  <rect class="{state}" x="0" y="{SCALE_Y * y:.3f}" width="30.000" '
            f'height="{SCALE_Y - 1.0:.3f}" />\n'
            f'  <text class="left" x="40.000" y="{SCALE_Y * y + 14.0:.3f}">'
            f"{state.capitalize()}</text>\n"
        )
    out.append("</g>\n\n</svg>\n")
    return "".join(out)
