"""Every unit type: ``bus_append_unit_property()`` (dependencies, conditions, actions)."""

from __future__ import annotations

from typing import Final

from . import _tables as T
from ._c import UNQUOTE, Bad, dbus_str, safe_atou8
from ._kit import Assignment, Handler, Out, boolean, sec_rename, string, strv, u32

__all__ = ["HANDLERS", "LIST_WORDS"]


def action_exit_status(out: Out, field: str, eq: str) -> None:
    """SuccessActionExitStatus=, FailureActionExitStatus=: 0..255, empty for none (-1)."""
    if not eq:
        out.append(Assignment(field, "i", -1))
        return
    n = safe_atou8(eq)
    if n is None:
        raise Bad("an exit status between 0 and 255, or empty")
    out.append(Assignment(field, "i", n))


def condition(out: Out, field: str, eq: str) -> None:
    """Condition*=, Assert*= -> ``Conditions``/``Asserts`` ``a(sbbs)``: ``[|][!]PARAMETER``."""
    name = "Conditions" if field.startswith("Condition") else "Asserts"
    if not eq:
        out.append(Assignment(name, "a(sbbs)", []))
        return
    trigger = eq[:1] == "|"
    p = eq[1:] if trigger else eq
    negate = p[:1] == "!"
    if negate:
        p = p[1:]
    out.append(Assignment(name, "a(sbbs)", [(field, trigger, negate, dbus_str(p))]))


_words = strv(UNQUOTE)

HANDLERS: Final[dict[str, Handler]] = {
    **dict.fromkeys(
        ("Description", "SourcePath", "OnFailureJobMode", "JobTimeoutAction",
         "JobTimeoutRebootArgument", "StartLimitAction", "FailureAction", "SuccessAction",
         "RebootArgument", "CollectMode"),
        string,
    ),
    **dict.fromkeys(
        ("StopWhenUnneeded", "RefuseManualStart", "RefuseManualStop", "AllowIsolate",
         "IgnoreOnIsolate", "DefaultDependencies"),
        boolean,
    ),
    **dict.fromkeys(("JobTimeoutSec", "JobRunningTimeoutSec", "StartLimitIntervalSec"), sec_rename),
    "StartLimitBurst": u32,
    "SuccessActionExitStatus": action_exit_status,
    "FailureActionExitStatus": action_exit_status,
    **dict.fromkeys(T.UNIT_DEPENDENCIES, _words),
    **dict.fromkeys(("Documentation", "RequiresMountsFor", "Markers"), _words),
    **{prefix + suffix: condition
       for prefix in ("Condition", "Assert") for suffix in T.CONDITION_SUFFIXES},
}  # fmt: skip

LIST_WORDS: Final = frozenset(
    {*T.UNIT_DEPENDENCIES, "Documentation", "RequiresMountsFor", "Markers"}
)
