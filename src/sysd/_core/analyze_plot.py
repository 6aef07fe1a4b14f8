"""The SVG of ``systemd-analyze plot``, without I/O: a port of systemd 252's
``src/analyze/analyze-plot.c``.

One bar per unit that started before the manager finished starting up, in the order
the units began activating: red while activating, pink while active, dark while
deactivating, the unit's name (and how long it took to start) beside it; above them the
startup phases (firmware, loader, kernel, initrd, the manager itself with its security
setup, generators and unit loading).  The numbers and the layout are systemd-analyze's,
byte for byte, except that text is escaped for XML (systemd 252 writes a host name or OS
name with ``&`` or ``<`` into the file as it is, which then is not valid XML).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, NamedTuple

from .analyze import BootTimes, UnitTimes, format_msec

__all__ = ["SCALE_X", "SCALE_Y", "HostInfo", "plot_svg", "plot_units"]

SCALE_X: Final = 0.1 / 1000.0  # pixels per µs
SCALE_Y: Final = 20.0
_WRAP: Final = 1 << 64


def escape(text: str) -> str:
    """``&``, ``<`` and ``>`` as XML entities (xml.sax.saxutils.escape, whose import
    costs a one-shot ``sysd analyze`` a tenth of its time)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class HostInfo(NamedTuple):
    """The plot's title line: from systemd-hostnamed (None when it could not be asked)
    and the manager."""

    hostname: str | None
    kernel_name: str | None
    kernel_release: str | None
    kernel_version: str | None
    os_pretty_name: str | None
    virtualization: str
    architecture: str


def _span(x1: int | float, x2: int | float) -> float:
    """``(x2) - (x1)`` in svg_bar(): unsigned 64-bit when both are timestamps."""
    if isinstance(x1, int) and isinstance(x2, int):
        return float((x2 - x1) % _WRAP)
    return float(x2) - float(x1)


def _bar(out: list[str], cls: str, x1: int | float, x2: int | float, y: int) -> None:
    out.append(
        f'  <rect class="{cls}" x="{SCALE_X * x1:.3f}" y="{SCALE_Y * y:.3f}" '
        f'width="{SCALE_X * _span(x1, x2):.3f}" height="{SCALE_Y - 1.0:.3f}" />\n'
    )


def _text(out: list[str], left: bool, x: int | float, y: int, text: str) -> None:
    out.append(
        f'  <text class="{"left" if left else "right"}" '
        f'x="{SCALE_X * x + (5.0 if left else -5.0):.3f}" y="{SCALE_Y * y + 14.0:.3f}">'
        f"{escape(text)}</text>\n"
    )


def _graph_box(out: list[str], height: float, begin: float, end: float) -> None:
    out.append(
        f'<rect class="box" x="0" y="0" width="{SCALE_X * (end - begin):.3f}" '
        f'height="{SCALE_Y * height:.3f}" />\n'
    )
    i = int(begin / 100000) * 100000
    while i <= end:
        x = SCALE_X * i
        if i % 5000000 == 0 or i % 1000000 == 0:
            cls = "sec5" if i % 5000000 == 0 else "sec1"
            out.append(
                f'  <line class="{cls}" x1="{x:.3f}" y1="0" x2="{x:.3f}" '
                f'y2="{SCALE_Y * height:.3f}" />\n'
                f'  <text class="sec" x="{x:.3f}" y="{-5.0:.3f}" >{0.000001 * i:.1f}s</text>\n'
            )
        else:
            out.append(
                f'  <line class="sec01" x1="{x:.3f}" y1="0" x2="{x:.3f}" '
                f'y2="{SCALE_Y * height:.3f}" />\n'
            )
        i += 100000


_STYLE: Final = (
    '<defs>\n  <style type="text/css">\n    <![CDATA[\n'
    "      rect       { stroke-width: 1; stroke-opacity: 0; }\n"
    "      rect.background   { fill: rgb(255,255,255); }\n"
    "      rect.activating   { fill: rgb(255,0,0); fill-opacity: 0.7; }\n"
    "      rect.active       { fill: rgb(200,150,150); fill-opacity: 0.7; }\n"
    "      rect.deactivating { fill: rgb(150,100,100); fill-opacity: 0.7; }\n"
    "      rect.kernel       { fill: rgb(150,150,150); fill-opacity: 0.7; }\n"
    "      rect.initrd       { fill: rgb(150,150,150); fill-opacity: 0.7; }\n"
    "      rect.firmware     { fill: rgb(150,150,150); fill-opacity: 0.7; }\n"
    "      rect.loader       { fill: rgb(150,150,150); fill-opacity: 0.7; }\n"
    "      rect.userspace    { fill: rgb(150,150,150); fill-opacity: 0.7; }\n"
    "      rect.security     { fill: rgb(144,238,144); fill-opacity: 0.7; }\n"
    "      rect.generators   { fill: rgb(102,204,255); fill-opacity: 0.7; }\n"
    "      rect.unitsload    { fill: rgb( 82,184,255); fill-opacity: 0.7; }\n"
    "      rect.box   { fill: rgb(240,240,240); stroke: rgb(192,192,192); }\n"
    "      line       { stroke: rgb(64,64,64); stroke-width: 1; }\n"
    "//    line.sec1  { }\n"
    "      line.sec5  { stroke-width: 2; }\n"
    "      line.sec01 { stroke: rgb(224,224,224); stroke-width: 1; }\n"
    "      text       { font-family: Verdana, Helvetica; font-size: 14px; }\n"
    "      text.left  { font-family: Verdana, Helvetica; font-size: 14px; text-anchor: start; }\n"
    "      text.right { font-family: Verdana, Helvetica; font-size: 14px; text-anchor: end; }\n"
    "      text.sec   { font-size: 10px; }\n"
    "    ]]>\n   </style>\n</defs>\n\n"
)


class _Row:
    """A unit's bar, clamped into the startup as plot does (mutable, as in C)."""

    __slots__ = ("activated", "activating", "deactivated", "deactivating", "name", "time")

    def __init__(self, t: UnitTimes) -> None:
        self.name: str | None = t.name
        self.activating = t.activating
        self.activated = t.activated
        self.deactivating = t.deactivating
        self.deactivated = t.deactivated
        self.time = t.time


def plot_units(times: Sequence[UnitTimes], boot: BootTimes) -> list[UnitTimes]:
    """The units plot draws, in its order, with the timestamps its bars use (clamped
    to the end of startup; a unit that started after that is left out)."""
    rows, _width, _m = _layout(times, boot)
    return [
        UnitTimes(r.name, r.activating, r.activated, r.deactivating, r.deactivated, r.time)
        for r in rows
        if r.name is not None
    ]


def _layout(times: Sequence[UnitTimes], boot: BootTimes) -> tuple[list[_Row], float, int]:
    rows = [_Row(t) for t in sorted(times, key=lambda t: t.activating)]  # stable, as glibc's
    width = SCALE_X * (boot.firmware + boot.finish)
    width = max(width, 800.0)
    m = 1
    if boot.firmware > boot.loader:
        m += 1
    if boot.loader > 0:
        m += 1
        width = max(width, 1000.0)
    if boot.initrd > 0:
        m += 1
    if boot.kernel_done > 0:
        m += 1
    for u in rows:
        if u.activating > boot.finish:
            u.name = None
            continue
        assert u.name is not None
        text_width = 8.0 * len(u.name.encode())
        text_start = (boot.firmware + u.activating) * SCALE_X
        if text_width > text_start and text_width + text_start > width:
            width = text_width + text_start
        if (
            u.deactivated > u.activating
            and u.deactivated <= boot.finish
            and u.activated == 0
            and u.deactivating == 0
        ):
            u.activated = u.deactivating = u.deactivated
        if u.activated < u.activating or u.activated > boot.finish:
            u.activated = boot.finish
        if u.deactivating < u.activated or u.deactivating > boot.finish:
            u.deactivating = boot.finish
        if u.deactivated < u.deactivating or u.deactivated > boot.finish:
            u.deactivated = boot.finish
        m += 1
    return rows, width, m


def _unit(out: list[str], u: _Row, width: float, y: int) -> int:
    if u.name is None:
        return 0
    _bar(out, "activating", u.activating, u.activated, y)
    _bar(out, "active", u.activated, u.deactivating, y)
    _bar(out, "deactivating", u.deactivating, u.deactivated, y)
    left = u.activating * SCALE_X < width / 2
    label = f"{u.name} ({format_msec(u.time)})" if u.time else u.name
    _text(out, left, u.activating, y, label)
    return 1


def plot_svg(
    boot: BootTimes,
    times: Sequence[UnitTimes],
    startup_text: str,
    version: str,
    host: HostInfo | None = None,
) -> str:
    """``verb_plot()``: the SVG for the boot times, the units' times (as
    ``acquire_time_data()`` returns them), ``systemd-analyze time``'s text, the systemd
    version for the comment, and the title line's host (None: no title line)."""
    rows, width, m = _layout(times, boot)
    out: list[str] = [
        '<?xml version="1.0" standalone="no"?>\n'
        '<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
        '"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n',
        f'<svg width="{80.0 + width:.0f}px" height="{150.0 + (m * SCALE_Y) + 5 * SCALE_Y:.0f}px" '
        'version="1.1" xmlns="http://www.w3.org/2000/svg">\n\n',
        "<!-- This file is a systemd-analyze SVG file. It is best rendered in a   -->\n"
        "<!-- browser such as Chrome, Chromium or Firefox. Other applications     -->\n"
        "<!-- that render these files properly but much slower are ImageMagick,   -->\n"
        "<!-- gimp, inkscape, etc. To display the files on your system, just      -->\n"
        "<!-- point your browser to this file.                                    -->\n\n"
        f"<!-- This plot was generated by systemd-analyze version {version[:16]:<16} -->\n\n",
        _STYLE,
        '<rect class="background" width="100%" height="100%" />\n',
        f'<text x="20" y="50">{escape(startup_text)}</text>',
    ]
    if host is not None:
        out.append(
            f'<text x="20" y="30">{escape(host.os_pretty_name or "Linux")} '
            f"{escape(host.hostname or '')} ({escape(host.kernel_name or '')} "
            f"{escape(host.kernel_release or '')} {escape(host.kernel_version or '')}) "
            f"{escape(host.architecture)} {escape(host.virtualization)}</text>"
        )
    out.append(f'<g transform="translate({20.0 + SCALE_X * boot.firmware:.3f},100)">\n')
    _graph_box(out, m, -float(boot.firmware), float(boot.finish))
    y = 0
    if boot.firmware > 0:
        _bar(out, "firmware", -float(boot.firmware), -float(boot.loader), y)
        _text(out, True, -float(boot.firmware), y, "firmware")
        y += 1
    if boot.loader > 0:
        _bar(out, "loader", -float(boot.loader), 0.0, y)
        _text(out, True, -float(boot.loader), y, "loader")
        y += 1
    if boot.kernel_done > 0:
        _bar(out, "kernel", 0, boot.kernel_done, y)
        _text(out, True, 0, y, "kernel")
        y += 1
    if boot.initrd > 0:
        _bar(out, "initrd", boot.initrd, boot.userspace, y)
        if boot.initrd_security_start < boot.initrd_security_finish:
            _bar(out, "security", boot.initrd_security_start, boot.initrd_security_finish, y)
        if boot.initrd_generators_start < boot.initrd_generators_finish:
            _bar(out, "generators", boot.initrd_generators_start, boot.initrd_generators_finish, y)
        if boot.initrd_unitsload_start < boot.initrd_unitsload_finish:
            _bar(out, "unitsload", boot.initrd_unitsload_start, boot.initrd_unitsload_finish, y)
        _text(out, True, boot.initrd, y, "initrd")
        y += 1
    i = 0
    while i < len(rows) and rows[i].activating < boot.userspace:
        y += _unit(out, rows[i], width, y)
        i += 1
    _bar(out, "active", boot.userspace, boot.finish, y)
    if boot.security_start > 0:
        _bar(out, "security", boot.security_start, boot.security_finish, y)
    _bar(out, "generators", boot.generators_start, boot.generators_finish, y)
    _bar(out, "unitsload", boot.unitsload_start, boot.unitsload_finish, y)
    _text(out, True, boot.userspace, y, "systemd")
    y += 1
    for u in rows[i:]:
        y += _unit(out, u, width, y)
    out.append("</g>\n")
    # the legend
    out.append('<g transform="translate(20,100)">\n')
    y += 1
    legend = [("activating", "Activating"), ("active", "Active"), ("deactivating", "Deactivating")]
    if boot.security_start > 0:
        legend.append(("security", "Setting up security module"))
    legend += [("generators", "Generators"), ("unitsload", "Loading unit files")]
    for cls, label in legend:
        _bar(out, cls, 0, 300000, y)
        _text(out, True, 400000, y, label)
        y += 1
    out.append("</g>\n\n")
    out.append("</svg>\n")
    return "".join(out)
