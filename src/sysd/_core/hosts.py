"""Host lists for fleets: plain lists, host files, Ansible inventories, ``--limit``
patterns, and the batches of a rolling action (no I/O but the reading of the
files named, through the ``read`` callable given).

What ``-H`` / ``sysd.fleet(hosts)`` accept::

    ["web1", "admin@web2:2222"]         names, [user@]host[:port]
    "web[1-3],db1"                      comma-separated, with clush/Ansible ranges
    "@hosts.txt"                        a file: one host per line, # comments
    "inventory.ini" / "inventory.yml"   an Ansible inventory (every host)
    "inventory.ini:web:&prod:!web3"     ... with a pattern, as ``ansible --limit``

In inventories ``ansible_host``, ``ansible_port`` and ``ansible_user`` (host or
group variables; a host's own win, then the deeper group's) say where to ssh;
the inventory name is what results are keyed by.
"""

from __future__ import annotations

import fnmatch
import importlib
import re
import shlex
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ..errors import InvalidHostListError, MissingDependencyError
from .hostrange import expand

__all__ = [
    "Host",
    "Inventory",
    "batch_sizes",
    "failure_limit",
    "load",
    "parse_host",
    "parse_host_file",
    "parse_ini",
    "parse_yaml",
    "plan_batches",
]

_T = TypeVar("_T")

_HOSTNAME = re.compile(r"^(?:[A-Za-z0-9_][A-Za-z0-9_.-]*|\[[0-9A-Fa-f:.]+\])$")
_USER = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*\$?$")
INVENTORY_SUFFIXES = (".ini", ".yml", ".yaml", ".cfg", ".inventory")
_YAML_SUFFIXES = (".yml", ".yaml")


@dataclass(frozen=True, slots=True)
class Host:
    """One host of a fleet: ``name`` keys its results (the inventory name, or the text
    given); ``address``/``user``/``port`` say where ssh goes (None: ssh's own default,
    ``~/.ssh/config`` applies)."""

    name: str
    address: str | None = None
    user: str | None = None
    port: int | None = None

    @property
    def destination(self) -> str:
        return self.address or self.name

    @property
    def spec(self) -> str:
        """``[user@]host[:port]``, as ``connect(host=...)`` takes it."""
        text = self.destination
        if self.user:
            text = f"{self.user}@{text}"
        if self.port is not None:
            text = f"{text}:{self.port}"
        return text

    def __str__(self) -> str:
        return self.name


def _check_hostname(text: str, whole: str, source: str | None) -> str:
    if not _HOSTNAME.match(text):
        raise InvalidHostListError(
            f"invalid host name {text!r}" + (f" in {whole!r}" if whole != text else ""),
            source=source,
            hint="a host is [user@]name[:port]; names are letters, digits, '.', '-', '_'"
            " and do not start with '-'",
        )
    return text


def _port(value: object, whole: str, source: str | None) -> int:
    text = str(value).strip()
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise InvalidHostListError(f"invalid port {value!r} for {whole!r}", source=source)
    return int(text)


def _user(value: object, whole: str, source: str | None) -> str:
    text = str(value).strip()
    if not _USER.match(text):
        raise InvalidHostListError(f"invalid user {value!r} for {whole!r}", source=source)
    return text


def parse_host(text: str, *, source: str | None = None) -> Host:
    """``[user@]host[:port]`` -> a Host named by the text given (validated: nothing an
    ssh command line could take for an option)."""
    whole = text.strip()
    if not whole:
        raise InvalidHostListError("empty host name", source=source)
    user: str | None = None
    rest = whole
    if "@" in rest:
        user_text, _, rest = rest.rpartition("@")
        user = _user(user_text, whole, source)
    port: int | None = None
    name, colon, port_text = rest.rpartition(":")
    if colon and not rest.endswith("]") and rest.count(":") == 1:
        port = _port(port_text, whole, source)
        rest = name
    _check_hostname(rest, whole, source)
    if user is None and port is None:
        return Host(whole)
    return Host(whole, rest, user, port)


def _hosts_of(items: Iterable[str], source: str | None) -> list[Host]:
    out: dict[str, Host] = {}
    for item in items:
        try:
            names = expand(item.strip())
        except InvalidHostListError as exc:
            exc.source = source
            raise
        for name in names:
            host = parse_host(name, source=source)
            out.setdefault(host.name, host)
    return list(out.values())


def parse_host_file(text: str, *, source: str | None = None) -> list[Host]:
    """A host file: one host per line (ranges allowed), ``#`` starts a comment, blank
    lines are skipped."""
    items = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            items.append(line)
    return _hosts_of(items, source)


# ------------------------------------------------------------------ inventories


@dataclass
class _Group:
    hosts: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    vars: dict[str, Any] = field(default_factory=dict)


class Inventory:
    """An Ansible inventory: hosts (in inventory order, with their own variables) and
    groups (hosts, children, variables).  ``all`` holds every host, ``ungrouped`` those
    in no other group.  :meth:`select` takes an ``ansible --limit`` pattern."""

    def __init__(self, source: str | None = None) -> None:
        self.source = source
        self.host_vars: dict[str, dict[str, Any]] = {}
        self.groups: dict[str, _Group] = {"all": _Group(), "ungrouped": _Group()}

    # building
    def add_host(self, name: str, group: str, variables: Mapping[str, Any] | None = None) -> None:
        host_vars = self.host_vars.setdefault(name, {})
        if variables:
            host_vars.update(variables)
        members = self.group(group).hosts
        if name not in members:
            members.append(name)

    def group(self, name: str) -> _Group:
        if not name or any(c.isspace() for c in name) or name.startswith(("&", "!", "~")):
            raise InvalidHostListError(f"invalid group name {name!r}", source=self.source)
        return self.groups.setdefault(name, _Group())

    def add_child(self, parent: str, child: str) -> None:
        self.group(child)
        children = self.group(parent).children
        if child not in children:
            children.append(child)

    def _finish(self) -> Inventory:
        grouped = {
            h for g, grp in self.groups.items() if g not in ("all", "ungrouped") for h in grp.hosts
        }
        ungrouped = self.groups["ungrouped"]
        ungrouped.hosts = [h for h in self.host_vars if h not in grouped]
        return self

    # reading
    def members(self, group: str) -> list[str]:
        """Every host of a group, its children's too, in inventory order."""
        if group == "all":
            return list(self.host_vars)
        seen: set[str] = set()
        found: set[str] = set()
        todo = [group]
        while todo:
            name = todo.pop()
            if name in seen:
                continue  # a cycle of children: each group once
            seen.add(name)
            grp = self.groups.get(name)
            if grp is not None:
                found.update(grp.hosts)
                todo.extend(grp.children)
        return [h for h in self.host_vars if h in found]

    def _depths(self) -> dict[str, int]:
        """How deep each group is under ``all`` (children deeper than their parents)."""
        depth = {"all": 0}
        parents: dict[str, list[str]] = {}
        for name, grp in self.groups.items():
            for child in grp.children:
                parents.setdefault(child, []).append(name)

        def of(name: str, path: frozenset[str]) -> int:
            if name in depth:
                return depth[name]
            ups = [p for p in parents.get(name, []) if p not in path]
            depth[name] = 1 + max((of(p, path | {name}) for p in ups), default=0)
            return depth[name]

        for name in self.groups:
            of(name, frozenset())
        return depth

    def variables(self, host: str) -> dict[str, Any]:
        """The host's variables: ``all``'s, then its groups' (shallow to deep, by name),
        then its own."""
        depth = self._depths()
        groups = [g for g in self.groups if g != "all" and host in self.members(g)]
        merged: dict[str, Any] = dict(self.groups["all"].vars)
        for name in sorted(groups, key=lambda g: (depth.get(g, 1), g)):
            merged.update(self.groups[name].vars)
        merged.update(self.host_vars.get(host, {}))
        return merged

    def host(self, name: str) -> Host:
        """The Host of an inventory name, ``ansible_host``/``_port``/``_user`` applied."""
        v = self.variables(name)
        address = v.get("ansible_host", v.get("ansible_ssh_host"))
        port = v.get("ansible_port", v.get("ansible_ssh_port"))
        user = v.get("ansible_user", v.get("ansible_ssh_user"))
        where = f"{name} ({self.source})" if self.source else name
        if address is not None:
            address = _check_hostname(str(address).strip(), where, self.source)
        if address is None:
            _check_hostname(name, where, self.source)
        return Host(
            name,
            address,
            _user(user, where, self.source) if user is not None else None,
            _port(port, where, self.source) if port is not None else None,
        )

    def _term(self, term: str) -> list[str]:
        if term in ("all", "*"):
            return list(self.host_vars)
        if term in self.groups:
            return self.members(term)
        if term in self.host_vars:
            return [term]
        if term.startswith("~"):
            try:
                rx = re.compile(term[1:])
            except re.error as exc:
                raise InvalidHostListError(
                    f"bad regular expression {term!r}: {exc}", source=self.source
                ) from None
            match: Callable[[str], bool] = lambda s: rx.match(s) is not None  # noqa: E731
        elif any(c in term for c in "*?["):
            match = lambda s: fnmatch.fnmatchcase(s, term)  # noqa: E731
        else:
            return []
        found: set[str] = set()
        for name in self.groups:
            if match(name):
                found.update(self.members(name))
        found.update(h for h in self.host_vars if match(h))
        return [h for h in self.host_vars if h in found]

    def select(self, pattern: str | None = None) -> list[Host]:
        """The hosts a pattern names, as ``ansible --limit`` reads it: terms joined by
        ``:`` or ``,``; a plain term (group, host, ``web*`` glob, ``~regex``) adds,
        ``&term`` keeps only hosts also in it, ``!term`` removes.  A term that names
        nothing, or a pattern that leaves no host, is an InvalidHostListError."""
        pattern = (pattern or "all").strip()
        terms = [t.strip() for t in re.split(r"[:,]", pattern)]
        if any(not t for t in terms):
            raise InvalidHostListError(f"empty term in pattern {pattern!r}", source=self.source)
        plus = [t for t in terms if not t.startswith(("&", "!"))]
        chosen: list[str] = []
        for term in plus or ["all"]:
            for h in self._named(term):
                if h not in chosen:
                    chosen.append(h)
        for term in terms:
            if term.startswith("&"):
                keep = set(self._named(term[1:]))
                chosen = [h for h in chosen if h in keep]
        for term in terms:
            if term.startswith("!"):
                drop = set(self._named(term[1:]))
                chosen = [h for h in chosen if h not in drop]
        if not chosen:
            raise InvalidHostListError(f"pattern {pattern!r} leaves no host", source=self.source)
        return [self.host(h) for h in chosen]

    def _named(self, term: str) -> list[str]:
        found = self._term(term)
        if not found and term not in self.groups:
            groups = ", ".join(g for g in self.groups if g not in ("all", "ungrouped"))
            raise InvalidHostListError(
                f"{term!r} names no host or group" + (f" of {self.source}" if self.source else ""),
                source=self.source,
                hint=f"groups: {groups}" if groups else "the inventory has no groups",
            )
        return found


def _split_host_port(text: str, source: str | None) -> tuple[str, dict[str, Any]]:
    """An inventory host key ``name[:port]`` -> (name, {ansible_port} when given)."""
    name, colon, port = text.rpartition(":")
    if colon and port.isdigit() and name.count(":") == 0:
        return name, {"ansible_port": _port(port, text, source)}
    return text, {}


def parse_ini(text: str, *, source: str | None = None) -> Inventory:
    """An Ansible INI inventory: ``[group]`` host lines with ``key=value`` variables,
    ``[group:children]``, ``[group:vars]``; hosts before any section are ungrouped;
    ``#`` and ``;`` start comment lines; ``web[01:20]`` ranges."""
    inv = Inventory(source)
    section, kind = "ungrouped", "hosts"
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        where = f"{source or 'inventory'}:{number}"
        if line.startswith("["):
            if not line.endswith("]"):
                raise InvalidHostListError(f"{where}: bad section line {line!r}", source=source)
            name, _, kind = line[1:-1].strip().partition(":")
            kind = kind or "hosts"
            if kind not in ("hosts", "children", "vars"):
                raise InvalidHostListError(
                    f"{where}: unknown section kind {kind!r}",
                    source=source,
                    hint="sections are [group], [group:children] and [group:vars]",
                )
            section = name.strip()
            inv.group(section)
            continue
        if kind == "vars":
            key, eq, value = line.partition("=")
            if not eq or not key.strip():
                raise InvalidHostListError(
                    f"{where}: expected key=value, got {line!r}", source=source
                )
            inv.groups[section].vars[key.strip()] = _ini_value(value.strip())
            continue
        try:
            words = shlex.split(line, comments=True)
        except ValueError as exc:
            raise InvalidHostListError(f"{where}: {exc}", source=source) from None
        if not words:
            continue
        if kind == "children":
            inv.add_child(section, words[0])
            continue
        variables: dict[str, Any] = {}
        for word in words[1:]:
            key, eq, value = word.partition("=")
            if not eq or not key:
                raise InvalidHostListError(
                    f"{where}: expected key=value after the host, got {word!r}", source=source
                )
            variables[key] = _ini_value(value)
        for name in _expand(words[0], where, source):
            host, port = _split_host_port(name, source)
            inv.add_host(host, section, {**port, **variables})
    return inv._finish()


def _ini_value(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _expand(text: str, where: str, source: str | None) -> list[str]:
    try:
        return expand(text)
    except InvalidHostListError as exc:
        raise InvalidHostListError(f"{where}: {exc.text}", source=source, hint=exc.hint) from None


def inventory_from_data(data: object, *, source: str | None = None) -> Inventory:
    """An inventory from the structure of an Ansible YAML inventory (groups with
    ``hosts``, ``children``, ``vars``; ``all`` or any group at the top)."""
    inv = Inventory(source)
    if data is None:
        return inv._finish()
    if not isinstance(data, Mapping):
        raise InvalidHostListError(
            "a YAML inventory is a mapping of groups (all: {hosts: ..., children: ...})",
            source=source,
        )
    for name, body in data.items():
        _yaml_group(inv, str(name), body, frozenset())
    return inv._finish()


def _yaml_group(inv: Inventory, name: str, body: object, path: frozenset[str]) -> None:
    source = inv.source
    grp = inv.group(name)
    if body is None:
        return
    if not isinstance(body, Mapping):
        raise InvalidHostListError(f"group {name!r}: expected a mapping", source=source)
    unknown = set(body) - {"hosts", "children", "vars"}
    if unknown:
        raise InvalidHostListError(
            f"group {name!r}: unknown key(s) {', '.join(sorted(map(str, unknown)))}",
            source=source,
            hint="a group holds hosts:, children: and vars:",
        )
    for key in ("hosts", "children", "vars"):
        value = body.get(key)
        if value is not None and not isinstance(value, Mapping):
            raise InvalidHostListError(f"group {name!r}: {key}: expected a mapping", source=source)
    grp.vars.update(body.get("vars") or {})
    for host_key, host_vars in (body.get("hosts") or {}).items():
        if host_vars is not None and not isinstance(host_vars, Mapping):
            raise InvalidHostListError(
                f"host {host_key!r} in {name!r}: expected a mapping of variables", source=source
            )
        for host_name in _expand(str(host_key), f"group {name!r}", source):
            host, port = _split_host_port(host_name, source)
            inv.add_host(host, name, {**port, **dict(host_vars or {})})
    for child_key, child_body in (body.get("children") or {}).items():
        child = str(child_key)
        inv.add_child(name, child)
        if child not in path:
            _yaml_group(inv, child, child_body, path | {name})


def parse_yaml(text: str, *, source: str | None = None) -> Inventory:
    """An Ansible YAML inventory (needs PyYAML: ``pip install 'sysd[fleet]'``)."""
    try:
        yaml: Any = importlib.import_module("yaml")
    except ImportError:
        raise MissingDependencyError(
            f"reading the YAML inventory {source or ''} needs PyYAML, which is not installed",
            hint="pip install 'sysd[fleet]' (or PyYAML); INI inventories need nothing",
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidHostListError(
            f"not valid YAML: {' '.join(str(exc).split())}", source=source
        ) from None
    return inventory_from_data(data, source=source)


# ------------------------------------------------------------------ -H / hosts=


def _is_inventory(path: str) -> bool:
    return path.lower().endswith(INVENTORY_SUFFIXES)


def _inventory(path: str, pattern: str | None, read: Callable[[str], str]) -> list[Host]:
    text = _read(path, read)
    if path.lower().endswith(_YAML_SUFFIXES):
        inv = parse_yaml(text, source=path)
    else:
        inv = parse_ini(text, source=path)
    return inv.select(pattern)


def _read(path: str, read: Callable[[str], str]) -> str:
    try:
        return read(path)
    except OSError as exc:
        raise InvalidHostListError(
            f"cannot read host list {path}: {exc.strerror or exc}", source=path
        ) from None
    except UnicodeDecodeError:
        raise InvalidHostListError(f"host list {path} is not UTF-8 text", source=path) from None


def _items(text: str) -> list[str]:
    """Split ``-H`` text on commas that are not inside a range (``web[1-3,7],db1``)."""
    out, depth, start = [], 0, 0
    for i, c in enumerate(text):
        if c == "[":
            depth += 1
        elif c == "]":
            depth -= 1
        elif c == "," and depth == 0:
            out.append(text[start:i])
            start = i + 1
    out.append(text[start:])
    return [item.strip() for item in out if item.strip()]


def load(
    hosts: str | Host | Iterable[str | Host], read: Callable[[str], str] | None = None
) -> list[Host]:
    """The hosts ``-H`` text or ``fleet(hosts)`` names, in order, each once.

    A string is comma-separated items; each item (or each string of a list) is a
    host (ranges expand), ``@file`` (a host file; an inventory when it ends in
    .ini/.yml/.yaml), or ``inventory.ini[:pattern]``.  ``read(path)`` reads a file
    (default: as UTF-8 text)."""
    if read is None:
        read = _read_text
    items: list[str | Host]
    if isinstance(hosts, Host):
        items = [hosts]
    elif isinstance(hosts, str):
        items = list(_items(hosts))
    else:
        items = list(hosts)
    out: dict[str, Host] = {}
    for item in items:
        if isinstance(item, Host):
            found = [item]
        elif not isinstance(item, str):
            raise InvalidHostListError(f"a host is a string or a Host, not {item!r}")
        elif item.startswith("@"):
            path = item[1:]
            if not path:
                raise InvalidHostListError("'@' needs a file name: @hosts.txt")
            if _is_inventory(path):
                found = _inventory(path, None, read)
            else:
                found = parse_host_file(_read(path, read), source=path)
        else:
            path, colon, pattern = item.partition(":")
            if _is_inventory(path):
                found = _inventory(path, pattern if colon else None, read)
            else:
                found = _hosts_of([item], None)
        for host in found:
            out.setdefault(host.name, host)
    if not out:
        raise InvalidHostListError("no hosts given")
    return list(out.values())


def _read_text(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()


# ------------------------------------------------------------------ rolling


def _percent(value: str, what: str, lo: float) -> float:
    number = value[:-1].strip()
    try:
        pct = float(number)
    except ValueError:
        pct = -1.0
    if not lo <= pct <= 100 or number.lower() in ("nan", "inf"):
        raise InvalidHostListError(
            f"{what}={value!r}: a percentage is {'0' if lo == 0 else 'above 0'} to 100%"
        )
    return pct


def _count(value: object, what: str, lo: int) -> int | str:
    if isinstance(value, bool):
        raise InvalidHostListError(f"{what} must be a number or a percentage, not {value!r}")
    if isinstance(value, int):
        if value < lo:
            raise InvalidHostListError(f"{what} must be >= {lo}, not {value}")
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("%"):
            _percent(text, what, 0 if lo == 0 else 1e-9)
            return text
        if text.isdigit():
            return _count(int(text), what, lo)
    raise InvalidHostListError(
        f"{what} must be a number or a percentage such as '10%', not {value!r}"
    )


def batch_sizes(batch: int | str | Sequence[int | str], total: int) -> list[int]:
    """The sizes of the batches of a rolling action over ``total`` hosts (as Ansible's
    ``serial``): a count, a percentage of the hosts (at least 1), or a list of those
    (``[1, "25%"]``: one host first, then a quarter at a time; the last repeats)."""
    if isinstance(batch, int | str):
        steps: list[object] = [batch]
    elif isinstance(batch, list | tuple):
        steps = list(batch)
    else:
        raise InvalidHostListError(
            f"batch must be a number, a percentage such as '10%' or a list, not {batch!r}"
        )
    if not steps:
        raise InvalidHostListError("batch= needs at least one size")
    sizes = []
    for step in steps:
        checked = _count(step, "batch", 1)
        if isinstance(checked, str):
            pct = _percent(checked, "batch", 1e-9)
            sizes.append(max(1, int(total * pct / 100)))
        else:
            sizes.append(checked)
    out: list[int] = []
    left = total
    i = 0
    while left > 0:
        size = min(sizes[min(i, len(sizes) - 1)], left)
        out.append(size)
        left -= size
        i += 1
    return out


def plan_batches(hosts: Sequence[_T], batch: int | str | Sequence[int | str]) -> list[list[_T]]:
    """The hosts in batches, in order (see :func:`batch_sizes`)."""
    out: list[list[_T]] = []
    start = 0
    for size in batch_sizes(batch, len(hosts)):
        out.append(list(hosts[start : start + size]))
        start += size
    return out


def failure_limit(max_failures: int | str, total: int) -> int:
    """How many failed hosts a rolling action tolerates: a count, or a percentage of
    the hosts (rounded down: ``"5%"`` of 10 hosts is 0).  It stops before the next
    batch once more hosts than that failed."""
    checked = _count(max_failures, "max_failures", 0)
    if isinstance(checked, str):
        return int(total * _percent(checked, "max_failures", 0) / 100)
    return checked
