#!/usr/bin/env python3
"""Generate sysd's typed schemas of systemd's D-Bus interfaces from systemd's own introspection.

    python tools/gen_schema.py              # ask a live systemd; rewrite the XML and the Python
    python tools/gen_schema.py --check      # exit 1 if the checked-in files differ from the live
                                            # systemd (interfaces) or from the XML (Python)
    python tools/gen_schema.py --from-xml   # regenerate the Python from the checked-in XML only
    python tools/gen_schema.py --from-xml --check   # CI: is the Python up to date with the XML?

Run the live modes as root against the systemd you want to describe, e.g. inside the sandbox:
``python -m sysd sandbox run -- python tools/gen_schema.py``.

What it reads (live mode): ``org.freedesktop.DBus.Introspectable.Introspect`` of

* ``/org/freedesktop/systemd1`` (``org.freedesktop.systemd1.Manager``);
* one unit object per unit type: the unit ``sysd-gen-schema-probe.<type>`` (``sysd\\x2dgen.mount``
  for mounts), which ``LoadUnit`` creates on demand even when no such unit file exists
  (``LoadState=not-found``) and garbage-collects afterwards.  systemd chooses a unit's
  interfaces from its type alone, so a stub shows exactly what every unit of the type has;
* the job of a transient oneshot ``sysd-gen-schema-job-<random>.service`` running
  ``/bin/sleep 30``, stopped again right after (``org.freedesktop.systemd1.Job``).

An interface no object offers is taken from the documentation instead (``--docs``, else
``$SYSTEMD_SOURCE/man/org.freedesktop.systemd1.xml``, else ``../src-systemd/*/man/...``) and
its XML header says so; the documented listings are systemd's own introspection output, so
they serialise exactly like the live form (systemd 252: identical for all 14 interfaces).

``--check`` compares the interfaces themselves: a live systemd of another version whose
interfaces are the same passes (with a note); the Python must match the checked-in XML.

What it writes:

* ``src/sysd/_core/data/introspection/<Interface>.xml``: the ``<interface>`` element of each
  ``org.freedesktop.systemd1.*`` interface, re-serialised canonically (systemd's member order,
  fixed attribute order and indentation), with a header naming the source;
* ``src/sysd/_core/schema.py``: every interface's properties, methods and signals as data;
* ``src/sysd/_core/status_generated.py``: the typed snapshot field descriptors per interface.

Field names (the snake_case rule), applied to the D-Bus name:

1. whole-word fixes first, so acronyms glued to words split where a reader expects:
   ``SELinux`` -> selinux, ``AppArmor`` -> apparmor, ``CPUs`` -> cpus, ``IPv4/IPv6`` -> ipv4/ipv6,
   ``SysFS`` -> sysfs, ``InitRD`` -> initrd, ``KExec`` -> kexec, ``APIVFS`` -> api_vfs,
   ``IPTOS``/``IPTTL`` -> ip_tos/ip_ttl, ``TTYVHangup`` -> tty_vhangup,
   ``TTYVTDisallocate`` -> tty_vt_disallocate, ``UMask`` -> umask, ``SUIDSGID`` -> suid_sgid,
   ``USec``/``NSec`` stay one word;
2. split CamelCase, a run of capitals being one word (``CPUUsage`` -> cpu, usage;
   ``IOReadIOPSMax`` -> io, read, iops, max; digits stay with the word before them),
   lower-case, join with ``_``;
3. when the value converts to a ``timedelta`` or ``datetime`` the unit word (``usec``, ``nsec``)
   is dropped, wherever it stands: ``CPUUsageNSec`` -> cpu_usage, ``TimeoutStartUSec`` ->
   timeout_start, ``NextElapseUSecRealtime`` -> next_elapse_realtime; values left in raw
   units keep it (``IODeviceLatencyTargetUSec`` a(st) -> io_device_latency_target_usec);
4. names that would then collide take a fixed rename from :data:`RENAMES` (``RestartUSec`` ->
   restart_sec next to ``Restart`` -> restart); the generator refuses a collision or a clash
   with the snapshot API (:data:`RESERVED`) that no rename resolves, so a newer systemd can
   never silently rename an existing field.

Converter kinds come from :func:`sysd._core.convert.kind_for`, which lists the properties each
rule applies to.
"""

from __future__ import annotations

import argparse
import difflib
import keyword
import os
import re
import sys
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from sysd._core import convert  # noqa: E402

XML_DIR = ROOT / "src/sysd/_core/data/introspection"
SCHEMA_PY = ROOT / "src/sysd/_core/schema.py"
STATUS_PY = ROOT / "src/sysd/_core/status_generated.py"
# where --docs is looked for when not given: $SYSTEMD_SOURCE, else systemd source trees
# unpacked next to the checkout (../src-systemd/systemd-*/)
DOCS_NAME = "man/org.freedesktop.systemd1.xml"

PREFIX = "org.freedesktop.systemd1."
MANAGER_PATH = "/org/freedesktop/systemd1"
MANAGER_IFACE = PREFIX + "Manager"
EMITS = "org.freedesktop.DBus.Property.EmitsChangedSignal"

# unit type -> its type interface (short name), in systemd's own order (unit_type_table)
UNIT_TYPES: dict[str, str] = {
    "service": "Service",
    "mount": "Mount",
    "swap": "Swap",
    "socket": "Socket",
    "target": "Target",
    "device": "Device",
    "automount": "Automount",
    "timer": "Timer",
    "path": "Path",
    "slice": "Slice",
    "scope": "Scope",
}
# every interface, in the order schema.py lists them
INTERFACES: tuple[str, ...] = ("Manager", "Unit", *UNIT_TYPES.values(), "Job")
PROBE_NAMES: dict[str, str] = {t: f"sysd-gen-schema-probe.{t}" for t in UNIT_TYPES}
PROBE_NAMES["mount"] = "sysd\\x2dgen.mount"  # a mount unit's name must be a path's escape
JOB_UNIT = "sysd-gen-schema-job-{}.service"  # a fresh name per run: transient names linger

# Rule 1 of the naming rule: whole-word fixes, applied before splitting.
WORD_FIXES: tuple[tuple[str, str], ...] = (
    ("SELinux", "Selinux"),
    ("AppArmor", "Apparmor"),
    ("CPUs", "Cpus"),
    ("IPv4", "Ipv4"),
    ("IPv6", "Ipv6"),
    ("SysFS", "Sysfs"),
    ("InitRD", "Initrd"),
    ("KExec", "Kexec"),
    ("APIVFS", "ApiVfs"),
    ("IPTOS", "IpTos"),
    ("IPTTL", "IpTtl"),
    ("TTYVHangup", "TtyVhangup"),
    ("TTYVTDisallocate", "TtyVtDisallocate"),
    ("UMask", "Umask"),
    ("SUIDSGID", "SuidSgid"),
    ("USec", "Usec"),
    ("NSec", "Nsec"),
)
WORD_RE = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+[0-9]*|[A-Z]+|[0-9]+")
UNIT_WORDS = frozenset({"usec", "nsec"})
TIME_KINDS = frozenset({"timestamp", "monotonic", "before_boot", "usec", "nsec", "seconds"})

# Rule 4: fixed renames for names that collide once the unit word is dropped.
RENAMES: dict[str, str] = {
    "RestartUSec": "restart_sec",  # Restart (s) is the policy; RestartSec= the delay
}
# Names the snapshot classes use themselves (sysd._core.status); no field may take them.
RESERVED = frozenset(
    {
        "raw",
        "dbus",
        "as_dict",
        "as_json_dict",
        "to_json",
        "from_dbus",
        "unit_type",
        "is_active",
        "is_failed",
        "since",
        "get",
        "keys",
        "fields",
        "interfaces",
        "unit_name",
    }
)


# ---------------------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Arg:
    name: str
    type: str
    direction: str  # "in" / "out" for methods, "" for signals


@dataclass(frozen=True)
class Member:
    kind: str  # "property" / "method" / "signal"
    name: str
    type: str = ""  # properties: the signature
    access: str = ""  # properties: "read" / "readwrite"
    args: tuple[Arg, ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()


@dataclass
class Interface:
    name: str  # full D-Bus name
    source: str  # one line: where the definition came from
    members: list[Member] = field(default_factory=list)

    @property
    def short(self) -> str:
        return self.name.removeprefix(PREFIX)

    def of(self, kind: str) -> list[Member]:
        return [m for m in self.members if m.kind == kind]


def parse_interface(elem: ET.Element, source: str) -> Interface:
    iface = Interface(elem.attrib["name"], source)
    for child in elem:
        if child.tag not in ("property", "method", "signal"):
            continue
        annotations = tuple(
            (a.attrib["name"], a.attrib["value"]) for a in child if a.tag == "annotation"
        )
        args = tuple(
            Arg(
                a.attrib.get("name", ""),
                a.attrib["type"],
                a.attrib.get("direction", "in" if child.tag == "method" else ""),
            )
            for a in child
            if a.tag == "arg"
        )
        iface.members.append(
            Member(
                child.tag,
                child.attrib["name"],
                child.attrib.get("type", ""),
                child.attrib.get("access", ""),
                args,
                annotations,
            )
        )
    return iface


# ------------------------------------------------------------------------------ canonical XML


def _q(value: str) -> str:
    return (
        value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def interface_body(iface: Interface) -> str:
    """The ``<interface>`` element, canonically: what --check compares.

    Properties, then methods, then signals, each in systemd's order (so the live and the
    documented form of an interface serialise the same); attributes in a fixed order.
    """
    out = [f'<interface name="{_q(iface.name)}">']
    for m in iface.of("property") + iface.of("method") + iface.of("signal"):
        if m.kind == "property":
            head = f'<property name="{_q(m.name)}" type="{_q(m.type)}" access="{_q(m.access)}"'
        else:
            head = f'<{m.kind} name="{_q(m.name)}"'
        if not m.args and not m.annotations:
            out.append(f" {head}/>")
            continue
        out.append(f" {head}>")
        for a in m.args:
            direction = f' direction="{a.direction}"' if m.kind == "method" else ""
            out.append(f'  <arg name="{_q(a.name)}" type="{_q(a.type)}"{direction}/>')
        for name, value in m.annotations:
            out.append(f'  <annotation name="{_q(name)}" value="{_q(value)}"/>')
        out.append(f" </{m.kind}>")
    out.append("</interface>")
    return "\n".join(out) + "\n"


def interface_file(iface: Interface) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<!-- GENERATED by tools/gen_schema.py - do not edit.\n"
        f"     source: {iface.source} -->\n" + interface_body(iface)
    )


SOURCE_RE = re.compile(r"source: (.*?) -->", re.S)


def read_xml_dir(directory: Path | None = None) -> dict[str, Interface]:
    directory = directory or XML_DIR
    found: dict[str, Interface] = {}
    for short in INTERFACES:
        path = directory / f"{short}.xml"
        if not path.exists():
            raise SystemExit(f"gen_schema: {path} is missing; run the generator against systemd")
        text = path.read_text()
        m = SOURCE_RE.search(text)
        source = " ".join(m.group(1).split()) if m else "unknown"
        found[PREFIX + short] = parse_interface(ET.fromstring(text), source)
    return found


# ------------------------------------------------------------------------------ live systemd


def fetch_live(docs: Path | None) -> dict[str, Interface]:
    import sysd
    from sysd import Variant

    def introspect(sd: sysd.Systemd, path: str) -> dict[str, ET.Element]:
        text = sd.call(None, path, "org.freedesktop.DBus.Introspectable", "Introspect")
        root = ET.fromstring(text)
        return {
            e.attrib["name"]: e
            for e in root.findall("interface")
            if e.attrib["name"].startswith(PREFIX)
        }

    found: dict[str, Interface] = {}
    with sysd.connect() as sd:
        version = sd.version
        where = f"live introspection of systemd {version}"

        def take(elems: dict[str, ET.Element], short: str, path: str) -> None:
            name = PREFIX + short
            if name in elems and name not in found:
                found[name] = parse_interface(elems[name], f"{where}, object {path}")

        take(introspect(sd, MANAGER_PATH), "Manager", MANAGER_PATH)
        units: dict[str, Interface] = {}
        for unit_type, short in UNIT_TYPES.items():
            path = sd.call(
                None, MANAGER_PATH, MANAGER_IFACE, "LoadUnit", "s", (PROBE_NAMES[unit_type],)
            )
            elems = introspect(sd, path)
            take(elems, short, path)
            if PREFIX + "Unit" in elems:
                units[unit_type] = parse_interface(
                    elems[PREFIX + "Unit"], f"{where}, object {path}"
                )
        if units:
            first = next(iter(units.values()))
            for unit_type, other in units.items():
                if other.members != first.members:
                    print(f"gen_schema: warning: the Unit interface of a {unit_type} differs")
            found[PREFIX + "Unit"] = first

        job_unit = JOB_UNIT.format(uuid.uuid4().hex[:12])
        exec_start = [("/bin/sleep", ["/bin/sleep", "30"], False)]
        props = [("Type", Variant("s", "oneshot")), ("ExecStart", Variant("a(sasb)", exec_start))]
        try:
            job = sd.call(
                None,
                MANAGER_PATH,
                MANAGER_IFACE,
                "StartTransientUnit",
                "ssa(sv)a(sa(sv))",
                (job_unit, "fail", props, []),
            )
            take(introspect(sd, job), "Job", "/org/freedesktop/systemd1/job/<n>")
        except sysd.SysdError as exc:
            print(f"gen_schema: no job object to introspect ({exc}); using the documentation")
        finally:
            for member, args in (
                ("StopUnit", (job_unit, "replace")),
                ("ResetFailedUnit", (job_unit,)),
            ):
                try:
                    sd.call(None, MANAGER_PATH, MANAGER_IFACE, member, "s" * len(args), args)
                except sysd.SysdError:
                    pass

    missing = [s for s in INTERFACES if PREFIX + s not in found]
    if missing:
        documented = from_docs(docs, version)
        for short in missing:
            if PREFIX + short not in documented:
                raise SystemExit(f"gen_schema: no object and no documentation for {short}")
            print(f"gen_schema: {short}: no live object; taken from the documentation")
            found[PREFIX + short] = documented[PREFIX + short]
    return found


# ------------------------------------------------------------------ the documentation fallback

PROGRAMLISTING_RE = re.compile(r"<programlisting[^>]*>(.*?)</programlisting>", re.S)
IFACE_RE = re.compile(r"^\s*interface (org\.freedesktop\.systemd1\.\w+) \{\s*$")
ANNOT_RE = re.compile(r'^@([\w.]+)\("([^"]*)"\)$')
PROP_RE = re.compile(r"^(readonly|readwrite) (\S+) (\w+) = .*;$")
CALL_RE = re.compile(r"^(\w+)\((.*)\);$", re.S)


def _find_docs(docs: Path | None) -> Path | None:
    if docs is not None:
        return docs
    source = os.environ.get("SYSTEMD_SOURCE")
    if source and (Path(source) / DOCS_NAME).is_file():
        return Path(source) / DOCS_NAME
    hits = sorted((ROOT.parent / "src-systemd").glob(f"*/{DOCS_NAME}"))
    return hits[-1] if hits else None


def from_docs(docs: Path | None, version: str) -> dict[str, Interface]:
    """Parse the interface listings of ``man/org.freedesktop.systemd1.xml`` (D-Bus IDL text)."""
    path = _find_docs(docs)
    if path is None:
        return {}
    text = path.read_text()
    found: dict[str, Interface] = {}
    for listing in PROGRAMLISTING_RE.findall(text):
        lines = listing.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").splitlines()
        i = 0
        while i < len(lines):
            m = IFACE_RE.match(lines[i])
            i += 1
            if not m or m.group(1) in found:
                continue
            source = f"documentation {path.name} (no live object; systemd {version} running)"
            iface = Interface(m.group(1), source)
            section = ""
            annotations: list[tuple[str, str]] = []
            statement = ""
            while i < len(lines) and lines[i].strip() != "};":
                line = lines[i].strip()
                i += 1
                if line in ("methods:", "signals:", "properties:"):
                    section = line[:-1]
                    continue
                if a := ANNOT_RE.match(line):
                    annotations.append((a.group(1), a.group(2)))
                    continue
                statement = f"{statement} {line}".strip()
                if not statement.endswith(";"):
                    continue
                iface.members.append(_doc_member(section, statement, tuple(annotations)))
                statement, annotations = "", []
            found[iface.name] = iface
    return found


def _doc_member(section: str, statement: str, annotations: tuple[tuple[str, str], ...]) -> Member:
    if section == "properties":
        m = PROP_RE.match(statement)
        if not m:
            raise SystemExit(f"gen_schema: cannot read documented property {statement!r}")
        access = "read" if m.group(1) == "readonly" else "readwrite"
        return Member("property", m.group(3), m.group(2), access, (), annotations)
    m = CALL_RE.match(statement)
    if not m:
        raise SystemExit(f"gen_schema: cannot read documented member {statement!r}")
    args: list[Arg] = []
    for part in filter(None, (p.strip() for p in m.group(2).split(","))):
        words = part.split()
        if section == "methods":
            args.append(Arg(words[2], words[1], words[0]))
        else:
            args.append(Arg(words[1], words[0], ""))
    return Member(section[:-1], m.group(1), "", "", tuple(args), annotations)


# ------------------------------------------------------------------------------ field names


def field_name(name: str, kind: str) -> str:
    """The snake_case attribute name of property ``name`` (the rule in the module docstring)."""
    if name in RENAMES:
        return RENAMES[name]
    text = name
    for old, new in WORD_FIXES:
        text = text.replace(old, new)
    words = [w.lower() for w in WORD_RE.findall(text)]
    if "".join(WORD_RE.findall(text)) != text:
        raise SystemExit(f"gen_schema: cannot split {name!r} into words")
    if kind in TIME_KINDS or kind == "device_usec":
        words = [w for w in words if w not in UNIT_WORDS]
    snake = "_".join(words)
    return snake + "_" if keyword.iskeyword(snake) else snake


# Properties systemd has always had: typed without "| None"; a dict without them gives the
# default shown (only hand-made dicts lack them).
ALWAYS: dict[tuple[str, str], str] = {
    ("Unit", "Id"): '""',
    ("Unit", "Description"): '""',
    ("Unit", "LoadState"): '""',
    ("Unit", "ActiveState"): '""',
    ("Unit", "SubState"): '""',
    ("Manager", "Version"): '""',
    ("Job", "Id"): "0",
    ("Job", "JobType"): '""',
    ("Job", "State"): '""',
}


@dataclass(frozen=True)
class Prop:
    name: str
    signature: str
    field: str
    kind: str
    access: str
    emits_change: str
    pytype: str
    default: str


def properties(iface: Interface) -> list[Prop]:
    out = []
    for m in iface.of("property"):
        kind = convert.kind_for(m.name, m.type)
        emits = dict(m.annotations).get(EMITS, "true")
        pytype = convert.python_type(kind, m.type)
        default = ALWAYS.get((iface.short, m.name), "None")
        if default == "None" and not pytype.endswith("| None"):
            pytype += " | None"
        out.append(
            Prop(m.name, m.type, field_name(m.name, kind), kind, m.access, emits, pytype, default)
        )
    return out


def check_names(interfaces: dict[str, Interface]) -> None:
    """Field names unique in every snapshot class (Unit + type interface), none reserved."""
    unit = properties(interfaces[PREFIX + "Unit"])
    groups = {"Manager": [], "Job": [], **{s: unit for s in UNIT_TYPES.values()}}
    problems = []
    for short, base in groups.items():
        seen: dict[str, str] = {}
        for p in [*base, *properties(interfaces[PREFIX + short])]:
            if p.field in RESERVED or p.field.startswith("_"):
                problems.append(f"{short}: {p.name} -> {p.field} is reserved")
            if p.field in seen and seen[p.field] != p.name:
                problems.append(f"{short}: {p.name} and {seen[p.field]} both -> {p.field}")
            seen[p.field] = p.name
    if problems:
        raise SystemExit(
            "gen_schema: field names clash (add to RENAMES):\n  " + "\n  ".join(problems)
        )


# ------------------------------------------------------------------------------ Python output

LINE = 100


def s(text: str) -> str:
    """A Python string literal in double quotes (ruff's style)."""
    out = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{out}"'


def tup(items: Sequence[str]) -> str:
    if len(items) == 1:
        return f"({items[0]},)"
    return "(" + ", ".join(items) + ")"


def call(func: str, args: Sequence[str], indent: int, suffix: str = ",") -> list[str]:
    """``func(args)`` as ruff formats it: on one line if it fits, else the arguments on one
    indented line if they fit, else one argument per line with a magic trailing comma."""
    pad = " " * indent
    one = f"{pad}{func}({', '.join(args)}){suffix}"
    if len(one) <= LINE:
        return [one]
    inner = f"{pad}    {', '.join(args)}"
    if len(inner) <= LINE:
        return [f"{pad}{func}(", inner, f"{pad}){suffix}"]
    return [f"{pad}{func}(", *[f"{pad}    {a}," for a in args], f"{pad}){suffix}"]


def group(calls: Iterable[tuple[str, list[str]]]) -> list[str]:
    """A tuple argument of ``Interface(...)``: one call per line, as ruff formats it."""
    items = list(calls)
    if not items:
        return ["    (),"]
    if len(items) == 1:
        func, args = items[0]
        one = f"    ({func}({', '.join(args)}),),"
        if len(one) <= LINE:
            return [one]
    lines = ["    ("]
    for func, args in items:
        lines += call(func, args, 8)
    return [*lines, "    ),"]


def version_of(interfaces: dict[str, Interface]) -> str:
    m = re.search(r"systemd ([^\s,)]+)", interfaces[PREFIX + "Manager"].source)
    return m.group(1) if m else "unknown"


def render_schema(interfaces: dict[str, Interface]) -> str:
    version = version_of(interfaces)
    out = [
        "# GENERATED by tools/gen_schema.py from src/sysd/_core/data/introspection/*.xml"
        " - do not edit.",
        f'"""systemd\'s D-Bus interfaces as data, from systemd {version}\'s own introspection.',
        "",
        "One :class:`Interface` per ``org.freedesktop.systemd1`` interface: its properties",
        "(D-Bus name, signature, snake_case field name, converter kind -- see",
        ":mod:`sysd._core.convert` --, access, and the ``EmitsChangedSignal`` annotation:",
        "``true``, ``invalidates``, ``const`` or ``false``), methods and signals, in systemd's",
        "order; ``source`` says whether the interface came from a live object's introspection or",
        "from the documentation.  For feature detection::",
        "",
        '    SERVICE.has_method("BindMount")',
        '    UNIT.property("ActivationDetails")  # None on a systemd without it',
        "",
        "Regenerate with ``python tools/gen_schema.py`` (live systemd) or",
        "``python tools/gen_schema.py --from-xml``.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "from typing import Final, NamedTuple",
        "",
        "__all__ = [",
        '    "INTERFACES",',
        '    "SYSTEMD_VERSION",',
        '    "UNIT_TYPE_INTERFACES",',
        '    "Interface",',
        '    "Method",',
        '    "Property",',
        '    "Signal",',
        *[f'    "{short.upper()}",' for short in INTERFACES],
        "]",
        "",
        "",
        "class Property(NamedTuple):",
        '    """One property: ``name`` on the bus, ``field`` on a snapshot."""',
        "",
        "    name: str",
        "    signature: str",
        "    field: str",
        "    kind: str",
        "    access: str",
        "    emits_change: str",
        "",
        "",
        "class Method(NamedTuple):",
        "    name: str",
        "    in_signature: str",
        "    out_signature: str",
        "    in_names: tuple[str, ...]",
        "    out_names: tuple[str, ...]",
        "    annotations: tuple[tuple[str, str], ...]",
        "",
        "",
        "class Signal(NamedTuple):",
        "    name: str",
        "    signature: str",
        "    names: tuple[str, ...]",
        "",
        "",
        "class Interface(NamedTuple):",
        "    name: str",
        "    source: str",
        "    properties: tuple[Property, ...]",
        "    methods: tuple[Method, ...]",
        "    signals: tuple[Signal, ...]",
        "",
        "    def property(self, name: str) -> Property | None:",
        '        """The property with this D-Bus name, or None."""',
        "        return next((p for p in self.properties if p.name == name), None)",
        "",
        "    def method(self, name: str) -> Method | None:",
        "        return next((m for m in self.methods if m.name == name), None)",
        "",
        "    def has_method(self, name: str) -> bool:",
        "        return any(m.name == name for m in self.methods)",
        "",
        "    def has_signal(self, name: str) -> bool:",
        "        return any(s.name == name for s in self.signals)",
        "",
        "",
        "P = Property",
        "M = Method",
        "S = Signal",
        "",
        f"SYSTEMD_VERSION: Final = {s(version)}",
    ]
    for short in INTERFACES:
        iface = interfaces[PREFIX + short]
        out += ["", f"{short.upper()}: Final = Interface("]
        out.append(f"    {s(iface.name)},")
        origin = "documentation" if iface.source.startswith("documentation") else "introspection"
        out.append(f"    {s(origin)},")
        out += group(
            (
                "P",
                [s(p.name), s(p.signature), s(p.field), s(p.kind), s(p.access), s(p.emits_change)],
            )
            for p in properties(iface)
        )
        calls = []
        for m in iface.of("method"):
            ins = [a for a in m.args if a.direction == "in"]
            outs = [a for a in m.args if a.direction == "out"]
            args = [
                s(m.name),
                s("".join(a.type for a in ins)),
                s("".join(a.type for a in outs)),
                tup([s(a.name) for a in ins]) if ins else "()",
                tup([s(a.name) for a in outs]) if outs else "()",
                tup([tup([s(k), s(v)]) for k, v in m.annotations]) if m.annotations else "()",
            ]
            calls.append(("M", args))
        out += group(calls)
        out += group(
            (
                "S",
                [
                    s(sig.name),
                    s("".join(a.type for a in sig.args)),
                    tup([s(a.name) for a in sig.args]) if sig.args else "()",
                ],
            )
            for sig in iface.of("signal")
        )
        out.append(")")
    out += [
        "",
        "INTERFACES: Final[dict[str, Interface]] = {",
        *[f"    {short.upper()}.name: {short.upper()}," for short in INTERFACES],
        "}",
        "",
        "# unit type -> the interface its objects implement besides org.freedesktop.systemd1.Unit",
        "UNIT_TYPE_INTERFACES: Final[dict[str, str]] = {",
        *[f"    {s(t)}: {short.upper()}.name," for t, short in UNIT_TYPES.items()],
        "}",
    ]
    return "\n".join(out) + "\n"


TYPE_IMPORTS = {
    "datetime": "from datetime import datetime",
    "timedelta": "from datetime import timedelta",
    "UUID": "from uuid import UUID",
    "IPv4Network": "from ipaddress import IPv4Network",
    "IPv6Network": "from ipaddress import IPv6Network",
    "Mapping": "from collections.abc import Mapping",
    "Any": "from typing import Any",
    "ExecCommand": "from .convert import ExecCommand",
    "MonotonicTimer": "from .convert import MonotonicTimer",
    "CalendarTimer": "from .convert import CalendarTimer",
}


def render_status(interfaces: dict[str, Interface]) -> str:
    version = version_of(interfaces)
    classes: list[str] = []
    used: set[str] = set()
    for short in INTERFACES:
        iface = interfaces[PREFIX + short]
        props = properties(iface)
        source = "_type_props" if short in UNIT_TYPES.values() else "_props"
        lines = [
            "",
            "",
            f"class {short}Fields:",
            f'    """``{iface.name}``: {len(props)} properties."""',
            "",
            "    __slots__ = ()",
            f"    INTERFACE: ClassVar[str] = {s(iface.name)}",
            f"    _SOURCE: ClassVar[str] = {s(source)}",
        ]
        if props:
            lines.append("")
        for p in props:
            used.update(w for w in re.findall(r"\w+", p.pytype) if w in TYPE_IMPORTS)
            args = [s(p.name), s(p.signature), s(p.kind)]
            if p.default != "None":
                args.append(p.default)
            head = f"    {p.field}: Field[{p.pytype}] = "
            one = f"{head}Field({', '.join(args)})"
            if len(one) <= LINE:
                lines.append(one)
            elif len(head) + len("Field(") <= LINE and len(f"        {', '.join(args)}") <= LINE:
                lines += [f"{head}Field(", f"        {', '.join(args)}", "    )"]
            elif len(head) + 1 <= LINE and len(f"        Field({', '.join(args)})") <= LINE:
                lines += [f"{head}(", f"        Field({', '.join(args)})", "    )"]
            else:
                raise SystemExit(f"gen_schema: cannot lay out {p.name}: {one}")
        classes += lines
    imports = sorted({TYPE_IMPORTS[u] for u in used if not TYPE_IMPORTS[u].startswith("from .")})
    local = sorted(u for u in used if TYPE_IMPORTS[u].startswith("from ."))
    std = _merge_imports([*imports, "from typing import ClassVar"])
    preamble = [
        "# GENERATED by tools/gen_schema.py from src/sysd/_core/data/introspection/*.xml"
        " - do not edit.",
        f'"""Typed snapshot fields of systemd\'s D-Bus interfaces (systemd {version}).',
        "",
        "One mixin per interface, each attribute a :class:`~sysd._core.convert.Field` reading one",
        "D-Bus property: :mod:`sysd._core.status` combines them into the snapshot classes.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        *std,
        "",
        "from .convert import " + ", ".join(sorted([*local, "Field"])),
        "",
        "__all__ = [",
        *[f'    "{short}Fields",' for short in INTERFACES],
        "]",
    ]
    return "\n".join(preamble + classes) + "\n"


def _merge_imports(lines: Iterable[str]) -> list[str]:
    by_module: dict[str, set[str]] = {}
    for line in lines:
        _, module, _, names = line.split(" ", 3)
        by_module.setdefault(module, set()).update(n.strip() for n in names.split(","))
    return [f"from {m} import {', '.join(sorted(n))}" for m, n in sorted(by_module.items())]


# -------------------------------------------------------------------------------------- main


def outputs(interfaces: dict[str, Interface]) -> dict[Path, str]:
    check_names(interfaces)
    return {SCHEMA_PY: render_schema(interfaces), STATUS_PY: render_status(interfaces)}


def review(interfaces: dict[str, Interface]) -> None:
    """Print what a human should look at after a regeneration."""
    raw_t = sorted(
        {
            p.name
            for i in interfaces.values()
            for p in properties(i)
            if p.signature == "t" and p.kind == "raw"
        }
    )
    print(f"gen_schema: 't' properties left raw (bit masks, ids): {', '.join(raw_t)}")


def _rel(path: Path) -> Path:
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


def _diff(path: Path, new: str) -> list[str]:
    old = path.read_text() if path.exists() else ""
    if old == new:
        return []
    rel = _rel(path)
    return list(
        difflib.unified_diff(
            old.splitlines(), new.splitlines(), f"a/{rel}", f"b/{rel}", lineterm=""
        )
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="compare, do not write; exit 1 on a difference"
    )
    parser.add_argument(
        "--from-xml", action="store_true", help="use the checked-in XML, not a live systemd"
    )
    parser.add_argument(
        "--docs", type=Path, help="man/org.freedesktop.systemd1.xml for interfaces no object offers"
    )
    args = parser.parse_args(argv)

    problems: list[str] = []
    if args.from_xml:
        interfaces = read_xml_dir()
    else:
        interfaces = fetch_live(args.docs)
        for iface in interfaces.values():
            path = XML_DIR / f"{iface.short}.xml"
            if args.check:
                old = read_xml_dir()[iface.name] if path.exists() else None
                if old is None or interface_body(old) != interface_body(iface):
                    new = interface_body(iface)
                    before = interface_body(old) if old else ""
                    problems += difflib.unified_diff(
                        before.splitlines(),
                        new.splitlines(),
                        f"a/{_rel(path)}",
                        "live",
                        lineterm="",
                    )
                elif old.source != iface.source:
                    print(
                        f"gen_schema: {iface.short}: same interface, other source ({iface.source})"
                    )
            else:
                XML_DIR.mkdir(parents=True, exist_ok=True)
                path.write_text(interface_file(iface))
        if args.check:
            interfaces = read_xml_dir()  # the Python must match the checked-in XML

    for path, text in outputs(interfaces).items():
        if args.check:
            problems += _diff(path, text)
        elif not path.exists() or path.read_text() != text:
            path.write_text(text)
            print(f"gen_schema: wrote {_rel(path)}")
    if args.check:
        if problems:
            print("\n".join(problems))
            print(
                "gen_schema: out of date: run python tools/gen_schema.py"
                + (" --from-xml" if args.from_xml else "")
            )
            return 1
        print("gen_schema: up to date")
    else:
        review(interfaces)
    return 0


if __name__ == "__main__":
    sys.exit(main())
