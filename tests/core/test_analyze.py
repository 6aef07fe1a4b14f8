"""sysd._core.analyze and analyze_plot: systemd-analyze 252's time, blame, critical-chain
and plot computations, with tables from its C code (analyze-time-data.c, analyze-blame.c,
analyze-critical-chain.c, analyze-plot.c).

The sandbox is a container (no firmware, loader, kernel or initrd timestamps): the
differential tests against systemd-analyze (tests/systemd/test_analyze.py) cover that
case; the full-boot case (a machine booted with firmware, a boot loader and an initrd)
is covered here, from the C logic.
"""

from __future__ import annotations

import pickle
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest

from sysd._core.analyze import (
    BootTimes,
    ChainNode,
    UnitTimes,
    blame_lines,
    blame_order,
    boot_times,
    build_chain,
    chain_children,
    chain_lines,
    chain_node_times,
    fit_widths,
    format_msec,
    startup_from,
    unit_time,
    unit_times,
)
from sysd._core.analyze_plot import SCALE_X, SCALE_Y, HostInfo, plot_svg, plot_units
from sysd._core.timespan import USEC_INFINITY
from sysd.errors import BootNotFinishedError, SysdError

MS = 1000
S = 1000 * MS

# A real boot: UEFI firmware and a loader (their stamps count back from the kernel's
# start), an initrd, the security module set up by PID 1.
FULL_BOOT = {
    "FirmwareTimestampMonotonic": 4 * S,
    "LoaderTimestampMonotonic": 2 * S,
    "KernelTimestamp": 1_700_000_000 * S,  # realtime: not used for the phases
    "InitRDTimestampMonotonic": 1_500 * MS,
    "UserspaceTimestampMonotonic": 3_200 * MS,
    "FinishTimestampMonotonic": 9_876_543,
    "SecurityStartTimestampMonotonic": 3_210 * MS,
    "SecurityFinishTimestampMonotonic": 3_260 * MS,
    "GeneratorsStartTimestampMonotonic": 3_300 * MS,
    "GeneratorsFinishTimestampMonotonic": 3_350 * MS,
    "UnitsLoadStartTimestampMonotonic": 3_400 * MS,
    "UnitsLoadFinishTimestampMonotonic": 3_450 * MS,
    "InitRDSecurityStartTimestampMonotonic": 1_510 * MS,
    "InitRDSecurityFinishTimestampMonotonic": 1_520 * MS,
    "InitRDGeneratorsStartTimestampMonotonic": 1_530 * MS,
    "InitRDGeneratorsFinishTimestampMonotonic": 1_540 * MS,
    "InitRDUnitsLoadStartTimestampMonotonic": 1_550 * MS,
    "InitRDUnitsLoadFinishTimestampMonotonic": 1_560 * MS,
}

# A container (what the sandbox is): no security module set up, so systemd-analyze
# counts from the manager's start.
CONTAINER = {
    "UserspaceTimestampMonotonic": 100 * S,
    "FinishTimestampMonotonic": 100 * S + 383_456,
    "GeneratorsStartTimestampMonotonic": 100 * S + 10 * MS,
    "GeneratorsFinishTimestampMonotonic": 100 * S + 20 * MS,
    "UnitsLoadStartTimestampMonotonic": 100 * S + 30 * MS,
    "UnitsLoadFinishTimestampMonotonic": 100 * S + 90 * MS,
}


# ------------------------------------------------------------------------------ boot


def test_full_boot_keeps_the_stamps_and_the_kernel_ends_at_the_initrd() -> None:
    boot = boot_times(FULL_BOOT)
    assert boot.reverse_offset == 0
    assert boot.kernel_done == 1_500 * MS  # the initrd's start
    assert boot.finish == 9_876_543
    no_initrd = boot_times({**FULL_BOOT, "InitRDTimestampMonotonic": 0})
    assert no_initrd.kernel_done == 3_200 * MS  # userspace's start


@pytest.mark.parametrize(
    ("props", "system"),
    [(CONTAINER, True), (FULL_BOOT, False)],
    ids=["container", "user-manager"],
)
def test_containers_and_user_managers_count_from_the_managers_start(
    props: dict[str, int], system: bool
) -> None:
    boot = boot_times(props, system=system)
    start = props["UserspaceTimestampMonotonic"]
    assert boot.reverse_offset == start
    assert (boot.firmware, boot.loader, boot.kernel, boot.initrd, boot.userspace) == (0,) * 5
    assert (boot.security_start, boot.security_finish, boot.kernel_done) == (0, 0, 0)
    assert boot.finish == props["FinishTimestampMonotonic"] - start
    assert boot.generators_start == props["GeneratorsStartTimestampMonotonic"] - start
    assert boot.unitsload_finish == props["UnitsLoadFinishTimestampMonotonic"] - start


@pytest.mark.parametrize("system", [True, False])
def test_a_manager_still_starting_up_is_a_typed_error(system: bool) -> None:
    with pytest.raises(BootNotFinishedError) as info:
        boot_times({**CONTAINER, "FinishTimestampMonotonic": 0}, system=system)
    exc = info.value
    assert isinstance(exc, SysdError) and isinstance(exc, RuntimeError)
    assert exc.text == (
        "Bootup is not yet finished (org.freedesktop.systemd1.Manager.FinishTimestampMonotonic=0)"
    )
    assert exc.finish_timestamp == 0 and exc.user is (not system)
    assert "list-jobs" in str(exc) and "\n" not in str(exc)
    assert ("--user" in str(exc)) is (not system)
    back = pickle.loads(pickle.dumps(exc))
    assert (back.user, back.finish_timestamp, str(back)) == (exc.user, 0, str(exc))


# pretty_boot_time(): (manager props, default target Id, its ActiveEnterTimestampMonotonic)
STARTUP_CASES = [
    (
        "full",
        FULL_BOOT,
        "graphical.target",
        9_700 * MS,
        "Startup finished in 2s (firmware) + 2s (loader) + 1.500s (kernel) + "
        "1.700s (initrd) + 6.676s (userspace) = 13.876s \n"
        "graphical.target reached after 6.500s in userspace.",
    ),
    (
        "no-initrd-no-firmware",
        {
            **FULL_BOOT,
            "FirmwareTimestampMonotonic": 0,
            "LoaderTimestampMonotonic": 0,
            "InitRDTimestampMonotonic": 0,
        },
        "multi-user.target",
        5 * S,
        "Startup finished in 3.200s (kernel) + 6.676s (userspace) = 9.876s \n"
        "multi-user.target reached after 1.800s in userspace.",
    ),
    (
        "container-never-reached",
        CONTAINER,
        "graphical.target",
        0,
        "Startup finished in 383ms (userspace) \ngraphical.target was never reached.",
    ),
    (
        "container-reached",
        CONTAINER,
        "multi-user.target",
        100 * S + 251_999,
        "Startup finished in 383ms (userspace) \n"
        "multi-user.target reached after 251ms in userspace.",
    ),
    (
        "target-unreadable",
        CONTAINER,
        "graphical.target",
        USEC_INFINITY,
        "Startup finished in 383ms (userspace) \nCould not get time to reach graphical.target.",
    ),
    (
        "no-default-target",
        CONTAINER,
        None,
        USEC_INFINITY,
        "Startup finished in 383ms (userspace) \ncould not find default.target.",
    ),
]


@pytest.mark.parametrize(
    ("props", "target", "activated", "text"),
    [c[1:] for c in STARTUP_CASES],
    ids=[c[0] for c in STARTUP_CASES],
)
def test_startup_text_is_pretty_boot_times(
    props: dict[str, int], target: str | None, activated: int, text: str
) -> None:
    st = startup_from(boot_times(props), target, activated)
    assert st.text == text
    assert st.target == target


def test_startup_phases_are_timedeltas_and_none_where_there_are_none() -> None:
    full = startup_from(boot_times(FULL_BOOT), "graphical.target", 9_700 * MS)
    assert full.firmware == timedelta(seconds=2)
    assert full.loader == timedelta(seconds=2)
    assert full.kernel == timedelta(seconds=1.5)
    assert full.initrd == timedelta(seconds=1.7)
    assert full.userspace == timedelta(microseconds=6_676_543)
    assert full.total == timedelta(microseconds=13_876_543)
    assert full.target_reached == timedelta(seconds=6.5)
    box = startup_from(boot_times(CONTAINER), "graphical.target", 0)
    assert (box.firmware, box.loader, box.kernel, box.initrd, box.total) == (None,) * 5
    assert box.userspace == timedelta(microseconds=383_456)
    assert box.target_reached is None


@pytest.mark.parametrize(
    ("usec", "text"),
    [(0, "0"), (999, "999us"), (383_456, "383ms"), (6_676_543, "6.676s"), (90 * S, "1min 30s"),
     (-1, "infinity"), (-2, "584542y 2w 2d 20h 1min 49.551s")],
)  # fmt: skip
def test_format_msec_is_format_timespan_to_the_millisecond(usec: int, text: str) -> None:
    # a difference below zero wraps around as C's unsigned arithmetic does
    assert format_msec(usec) == text


# ------------------------------------------------------------------------------ units

# acquire_time_data(): (activating, activated, deactivating, deactivated) -> time
UNIT_CASES = [
    ("started", (100, 150, 0, 0), 50),
    ("failed-to-start", (100, 0, 0, 300), 200),
    ("stopped-after-start", (100, 150, 400, 500), 50),
    ("deactivated-before", (100, 0, 0, 50), 0),
    ("still-activating", (100, 0, 0, 0), 0),
]


@pytest.mark.parametrize(
    ("stamps", "took"), [c[1:] for c in UNIT_CASES], ids=[c[0] for c in UNIT_CASES]
)
def test_unit_time_taken(stamps: tuple[int, int, int, int], took: int) -> None:
    props = dict(
        zip(
            (
                "InactiveExitTimestampMonotonic",
                "ActiveEnterTimestampMonotonic",
                "ActiveExitTimestampMonotonic",
                "InactiveEnterTimestampMonotonic",
            ),
            stamps,
            strict=True,
        )
    )
    t = unit_times("x.service", props)
    assert t is not None and t.time == took
    assert (t.activating, t.activated, t.deactivating, t.deactivated) == stamps


def test_units_that_never_started_are_left_out_and_the_offset_is_taken_off() -> None:
    assert unit_times("x.service", {"ActiveEnterTimestampMonotonic": 5}) is None
    t = unit_times(
        "x.service",
        {"InactiveExitTimestampMonotonic": 1_000_100, "ActiveEnterTimestampMonotonic": 1_000_150},
        reverse_offset=1_000_000,
    )
    assert t == UnitTimes("x.service", 100, 150, 0, 0, 50)  # unset stamps stay 0
    typed = unit_time(t)
    assert typed.time == timedelta(microseconds=50)
    assert typed.activating == timedelta(microseconds=100)
    assert (typed.deactivating, typed.deactivated) == (None, None)


def _t(name: str, activating: int, activated: int, took: int | None = None) -> UnitTimes:
    return UnitTimes(
        name, activating, activated, 0, 0, activated - activating if took is None else took
    )


def test_blame_lists_units_that_took_time_longest_first_ties_in_manager_order() -> None:
    times = [
        _t("a.service", 10, 20),
        _t("b.target", 30, 30),  # took no time: not listed
        _t("c.service", 10, 40),
        _t("d.service", 50, 60),  # the same as a: after it, as listed
    ]
    assert [t.name for t in blame_order(times)] == ["c.service", "a.service", "d.service"]
    assert blame_lines(times) == ["30us c.service", "10us a.service", "10us d.service"]


def test_blame_right_aligns_the_times() -> None:
    times = [_t("slow.service", 0 + 1, 1 + 1_234_567), _t("quick.mount", 1, 1 + 7 * MS)]
    assert blame_lines(times) == ["1.234s slow.service", "   7ms quick.mount"]


def test_blame_on_a_narrow_terminal_cuts_as_format_table_does() -> None:
    # format-table: each column its minimum, the rest by weight, never more than asked
    assert fit_widths([6, 29], 20) == [6, 13]
    assert fit_widths([6, 29], 80) == [6, 29]
    assert fit_widths([6, 29], 3) == [1, 1]
    times = [_t("a-very-long-unit-name.service", 1, 1 + 1_234_567)]
    assert blame_lines(times, width=20) == ["1.234s a-very-long-\u2026"]
    assert blame_lines(times, width=20, ellipsis="...") == ["1.234s a-very-lon..."]
    assert blame_lines([]) == []


# ------------------------------------------------------------------------- critical chain

BOX = BootTimes(finish=1000 * MS)
TIMES = {
    t.name: t
    for t in (
        _t("multi-user.target", 500 * MS, 500 * MS),
        _t("a.service", 400 * MS, 450 * MS),
        _t("b.service", 450 * MS, 450 * MS),
        _t("basic.target", 200 * MS, 200 * MS),
        _t("x.service", 250 * MS, 300 * MS),
        _t("late.service", 1500 * MS, 1600 * MS),  # after startup finished
    )
}
AFTER = {
    "graphical.target": ["x.service", "multi-user.target", "late.service", "nothing.service"],
    "multi-user.target": ["basic.target", "a.service", "b.service"],
    "a.service": ["basic.target"],
    "b.service": ["basic.target"],
    "basic.target": [],
}


def test_chain_children_are_the_last_to_become_active_within_the_fuzz() -> None:
    after = AFTER["graphical.target"]
    assert chain_children(after, TIMES, BOX) == ["multi-user.target"]
    assert chain_children(after, TIMES, BOX, fuzz=200 * MS) == ["multi-user.target", "x.service"]
    # ties keep the After= order (glibc's qsort is a stable merge sort)
    assert chain_children(AFTER["multi-user.target"], TIMES, BOX) == ["a.service", "b.service"]
    assert chain_children(["nothing.service", "late.service"], TIMES, BOX) == []


def test_chain_node_times_are_the_at_and_plus_times() -> None:
    assert chain_node_times(TIMES["a.service"], BOX) == (400 * MS, 50 * MS)
    assert chain_node_times(TIMES["b.service"], BOX) == (450 * MS, None)
    full = BootTimes(userspace=300 * MS, finish=1000 * MS)
    assert chain_node_times(TIMES["basic.target"], full) == (None, None)  # before userspace
    assert chain_node_times(None, BOX) == (None, None)


def _chain(fuzz: int = 0) -> list[ChainNode]:
    kids = build_chain("graphical.target", TIMES, BOX, AFTER.__getitem__, fuzz)
    return [ChainNode("graphical.target", None, None, kids, timed=False)]


def test_chain_tree_marks_units_shown_before_as_repeated() -> None:
    (root,) = _chain()
    (multi,) = root.children
    a, b = multi.children
    assert (a.unit, a.at, a.took) == ("a.service", timedelta(seconds=0.4), timedelta(seconds=0.05))
    assert (b.unit, b.at, b.took) == ("b.service", timedelta(seconds=0.45), None)
    assert a.children[0].repeated is False and a.children[0].unit == "basic.target"
    assert b.children == (ChainNode("basic.target", timedelta(seconds=0.2), None, (), True),)


def test_chain_lines_are_systemd_analyzes_tree() -> None:
    assert chain_lines(_chain()) == [
        "\u2514\u2500multi-user.target @500ms",
        "  \u251c\u2500a.service @400ms +50ms",
        "  \u2502 \u2514\u2500basic.target @200ms",
        "  \u2514\u2500b.service @450ms",
        "    \u2514\u2500basic.target @200ms",
        "      \u2514\u2500...",
    ]


def test_chain_lines_in_ascii_with_colour_and_a_timed_root() -> None:
    kids = build_chain("multi-user.target", TIMES, BOX, AFTER.__getitem__)
    root = ChainNode("multi-user.target", timedelta(seconds=0.5), None, kids)
    slow = ChainNode("a.service", timedelta(seconds=0.4), timedelta(seconds=0.05))
    lines = chain_lines(
        [root, slow], tree=("|-", "`-", "| ", "  "), red="\x1b[0;1;31m", normal="\x1b[0m"
    )
    assert lines == [
        "multi-user.target @500ms",
        "|-\x1b[0;1;31ma.service @400ms +50ms\x1b[0m",
        "| `-basic.target @200ms",
        "`-b.service @450ms",
        "  `-basic.target @200ms",
        "    `-...",
        # a root that took time prints its + time only, as list_dependencies() does
        "\x1b[0;1;31ma.service +50ms\x1b[0m",
    ]


# ------------------------------------------------------------------------------ plot

PLOT_TIMES = [
    _t("early.service", 1_000 * MS, 1_200 * MS),  # before userspace (from the initrd)
    _t("b.service", 4 * S, 5 * S),
    _t("a.service", 3_500 * MS, 3_500 * MS),
    _t("failed.service", 6 * S, 0, took=0)._replace(deactivated=6_500 * MS),
    _t("late.service", 20 * S, 21 * S),  # after startup finished: not drawn
]
HOST = HostInfo("box", "Linux", "6.1.0", "#1 SMP", "Debian <12>", "kvm", "x86-64")


def _svg(boot: BootTimes) -> ET.Element:
    text = plot_svg(boot, PLOT_TIMES, "Startup finished in 1s (userspace) ", "252.39-1", HOST)
    return ET.fromstring(text.split("\n", 2)[2])  # after the XML declaration and DOCTYPE


def _rects(root: ET.Element, cls: str) -> list[dict[str, str]]:
    ns = "{http://www.w3.org/2000/svg}"
    return [r.attrib for r in root.iter(f"{ns}rect") if r.get("class") == cls]


def _labels(root: ET.Element) -> list[str]:
    ns = "{http://www.w3.org/2000/svg}"
    return [t.text or "" for t in root.iter(f"{ns}text") if t.get("class") in ("left", "right")]


def test_plot_of_a_full_boot_draws_every_phase_and_the_units_in_start_order() -> None:
    boot = boot_times(FULL_BOOT)
    root = _svg(boot)
    assert _labels(root) == [
        "firmware",
        "loader",
        "kernel",
        "initrd",
        "early.service (200ms)",
        "systemd",
        "a.service",
        "b.service (1s)",
        "failed.service",
        "Activating",
        "Active",
        "Deactivating",
        "Setting up security module",
        "Generators",
        "Loading unit files",
    ]
    (firmware,) = _rects(root, "firmware")
    assert firmware["x"] == f"{SCALE_X * -4 * S:.3f}" and firmware["width"] == "200.000"
    (kernel,) = _rects(root, "kernel")
    assert (kernel["x"], kernel["width"], kernel["y"]) == ("0.000", "150.000", f"{2 * SCALE_Y:.3f}")
    # the security, generators and unit-loading bars of the initrd and of PID 1, and the legend's
    assert len(_rects(root, "security")) == 3 and len(_rects(root, "unitsload")) == 3
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "Debian <12> box (Linux 6.1.0 #1 SMP) x86-64 kvm" in texts  # escaped, parsed back


def test_plot_bars_are_at_the_unit_timestamps() -> None:
    boot = boot_times(FULL_BOOT)
    root = _svg(boot)
    drawn = {t.name: t for t in plot_units(PLOT_TIMES, boot)}
    assert list(drawn) == ["early.service", "a.service", "b.service", "failed.service"]
    b = drawn["b.service"]
    assert (b.activating, b.activated, b.deactivating) == (4 * S, 5 * S, boot.finish)
    failed = drawn["failed.service"]  # never active: drawn active from its deactivation
    assert (failed.activated, failed.deactivating) == (6_500 * MS, 6_500 * MS)
    activating = _rects(root, "activating")[:-1]  # the last one is the legend's
    assert [float(r["x"]) for r in activating] == [
        round(SCALE_X * t.activating, 3) for t in drawn.values()
    ]
    assert [float(r["width"]) for r in activating] == [
        round(SCALE_X * (t.activated - t.activating), 3) for t in drawn.values()
    ]


def test_plot_of_a_container_has_only_the_managers_row() -> None:
    boot = boot_times(CONTAINER)
    text = plot_svg(boot, [], "Startup finished in 383ms (userspace) ", "252.39-1~deb12u2")
    assert '<svg width="880px" height="270px" version="1.1"' in text
    assert "systemd-analyze version 252.39-1~deb12u2 -->" in text
    assert '<text x="20" y="30">' not in text  # no host line without host info
    root = ET.fromstring(text.split("\n", 2)[2])
    assert _labels(root)[0] == "systemd"
    assert "firmware" not in _labels(root) and "Setting up security module" not in _labels(root)
