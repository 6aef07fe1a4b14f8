"""Host lists, inventories, --limit patterns, folding and batches (pure tables)."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from sysd._core import hosts
from sysd._core.hostrange import expand, fold
from sysd._core.hosts import Host, batch_sizes, failure_limit, load, parse_host, plan_batches
from sysd.errors import InvalidHostListError, MissingDependencyError

# ----------------------------------------------------------------- folding

FOLD = [
    (["web1", "web2", "web3", "web7"], "web[1-3,7]"),
    (["web3", "web1", "web2"], "web[1-3]"),
    (["web1"], "web1"),
    (["web1", "web1"], "web1"),
    (["web01", "web02", "web03"], "web[01-03]"),
    (["web09", "web10"], "web[09-10]"),
    (["web9", "web10"], "web[9-10]"),
    (["web9", "web09"], "web[9,09]"),
    (["web01", "web2"], "web[01,2]"),
    (["lb", "db1", "db2"], "db[1-2],lb"),
    (["a1.example.com", "a2.example.com"], "a[1-2].example.com"),
    (["rack1-node1", "rack1-node2", "rack2-node1"], "rack1-node[1-2],rack2-node1"),
    (["web0", "web1"], "web[0-1]"),
    (["web099", "web100"], "web[099-100]"),
    (["web1", "web2", "db1"], "db1,web[1-2]"),
    ([], ""),
]


@pytest.mark.parametrize(("names", "folded"), FOLD)
def test_fold(names: list[str], folded: str) -> None:
    assert fold(names) == folded


@pytest.mark.parametrize(("names", "folded"), [row for row in FOLD if row[0]])
def test_fold_expands_back(names: list[str], folded: str) -> None:
    expanded: list[str] = []
    for item in hosts._items(folded):
        expanded += expand(item)
    assert sorted(expanded) == sorted(set(names))


EXPAND = [
    ("web1", ["web1"]),
    ("web[1-3]", ["web1", "web2", "web3"]),
    ("web[1-2,7]", ["web1", "web2", "web7"]),
    ("web[01:03]", ["web01", "web02", "web03"]),
    ("r[1-2]n[1-2]", ["r1n1", "r1n2", "r2n1", "r2n2"]),
    ("a[8-10].x", ["a8.x", "a9.x", "a10.x"]),
]


@pytest.mark.parametrize(("text", "names"), EXPAND)
def test_expand(text: str, names: list[str]) -> None:
    assert expand(text) == names


@pytest.mark.parametrize("text", ["web[", "web]", "web[a-b]", "web[3-1]", "web[1-]", "x[0-999999]"])
def test_expand_errors(text: str) -> None:
    with pytest.raises(InvalidHostListError):
        expand(text)


# ----------------------------------------------------------------- one host

HOST = [
    ("web1", Host("web1")),
    ("admin@web2:2222", Host("admin@web2:2222", "web2", "admin", 2222)),
    ("admin@web2", Host("admin@web2", "web2", "admin", None)),
    ("web2:22", Host("web2:22", "web2", None, 22)),
    ("10.0.0.1", Host("10.0.0.1")),
    ("[::1]", Host("[::1]")),
]


@pytest.mark.parametrize(("text", "host"), HOST)
def test_parse_host(text: str, host: Host) -> None:
    assert parse_host(text) == host


def test_host_spec() -> None:
    assert Host("web1").spec == "web1"
    assert Host("w", "10.0.0.1", "admin", 2222).spec == "admin@10.0.0.1:2222"


@pytest.mark.parametrize(
    "text",
    ["", "-oProxyCommand=x", "web;ls", "web 1", "$(id)", "a@-b", "web:0", "web:99999",
     "web:x", "-x@web", "we'b", "web\nls", "@web"],
)  # fmt: skip
def test_parse_host_rejects(text: str) -> None:
    with pytest.raises(InvalidHostListError):
        parse_host(text)


# ----------------------------------------------------------------- lists and files

FILES = {
    "hosts.txt": "# the web tier\nweb1\nweb2   # the new one\n\n  admin@db1:2222\nweb[3-4]\n",
    "inv.ini": """
# ungrouped first
bastion ansible_host=10.0.0.9

[web]
web[1:3] ansible_user=deploy
web4:2200 ansible_host=w4.example.com

[db]
db1 ansible_port=5022 ansible_user="root"

[prod:children]
web
db

[prod:vars]
ansible_user=ops
ansible_port=22

[web:vars]
ansible_port=2222
""",
    "inv.yml": """
all:
  vars:
    ansible_user: everyone
  hosts:
    bastion:
      ansible_host: 10.0.0.9
  children:
    web:
      hosts:
        web[1:2]:
        web3:
          ansible_user: me
      vars:
        ansible_port: 2222
    db:
      hosts:
        db1:
    prod:
      children:
        web:
        db:
""",
}


def read(path: str) -> str:
    if path not in FILES:
        raise FileNotFoundError(2, "No such file or directory", path)
    return FILES[path]


LOAD: list[tuple[Any, list[str]]] = [
    ("web1", ["web1"]),
    ("web1,web2", ["web1", "web2"]),
    ("web[1-3,7],db1", ["web1", "web2", "web3", "web7", "db1"]),
    (["web1", "admin@web2:2222"], ["web1", "admin@web2:2222"]),
    ("web1,web1", ["web1"]),
    ("@hosts.txt", ["web1", "web2", "admin@db1:2222", "web3", "web4"]),
    ("@hosts.txt,web9", ["web1", "web2", "admin@db1:2222", "web3", "web4", "web9"]),
    ("inv.ini", ["bastion", "web1", "web2", "web3", "web4", "db1"]),
    ("@inv.ini", ["bastion", "web1", "web2", "web3", "web4", "db1"]),
    ("inv.ini:web", ["web1", "web2", "web3", "web4"]),
    ("inv.ini:all", ["bastion", "web1", "web2", "web3", "web4", "db1"]),
    ("inv.ini:ungrouped", ["bastion"]),
    ("inv.ini:prod:!web", ["db1"]),
    ("inv.ini:web:db", ["web1", "web2", "web3", "web4", "db1"]),
    ("inv.ini:db:web", ["db1", "web1", "web2", "web3", "web4"]),  # the pattern's order
    ("inv.ini:prod:&web", ["web1", "web2", "web3", "web4"]),
    ("inv.ini:web*", ["web1", "web2", "web3", "web4"]),
    ("inv.ini:w*", ["web1", "web2", "web3", "web4"]),  # the group web and its hosts
    ("inv.ini:web?:!web4", ["web1", "web2", "web3"]),
    ("inv.ini:~web[12]", ["web1", "web2"]),
    ("inv.ini:!web", ["bastion", "db1"]),
    ("inv.ini:web1", ["web1"]),
    ("inv.yml", ["bastion", "web1", "web2", "web3", "db1"]),
    ("inv.yml:prod:!db", ["web1", "web2", "web3"]),
    ("inv.yml:ungrouped", ["bastion"]),
]


@pytest.mark.parametrize(("spec", "names"), LOAD)
def test_load(spec: Any, names: list[str]) -> None:
    assert [h.name for h in load(spec, read)] == names


INI_HOSTS = {
    # ansible_user: web's hosts say deploy (host var wins over prod's ops)
    # ansible_port: web:vars (deeper than prod) says 2222; web4's own 2200 wins
    "bastion": Host("bastion", "10.0.0.9"),
    "web1": Host("web1", None, "deploy", 2222),
    "web4": Host("web4", "w4.example.com", "ops", 2200),
    "db1": Host("db1", None, "root", 5022),
}


@pytest.mark.parametrize(("name", "host"), INI_HOSTS.items())
def test_ini_variables(name: str, host: Host) -> None:
    by_name = {h.name: h for h in load("inv.ini", read)}
    assert by_name[name] == host


YAML_HOSTS = {
    "bastion": Host("bastion", "10.0.0.9", "everyone"),
    "web1": Host("web1", None, "everyone", 2222),
    "web3": Host("web3", None, "me", 2222),
    "db1": Host("db1", None, "everyone"),
}


@pytest.mark.parametrize(("name", "host"), YAML_HOSTS.items())
def test_yaml_variables(name: str, host: Host) -> None:
    by_name = {h.name: h for h in load("inv.yml", read)}
    assert by_name[name] == host


def test_host_spec_from_inventory() -> None:
    by_name = {h.name: h for h in load("inv.ini", read)}
    assert by_name["web4"].spec == "ops@w4.example.com:2200"


BAD: list[tuple[Any, str]] = [
    ("", "no hosts"),
    ([], "no hosts"),
    ("@", "needs a file"),
    ("@missing.txt", "cannot read"),
    ("missing.ini", "cannot read"),
    ("inv.ini:nosuch", "names no host or group"),
    ("inv.ini:web:!nosuch", "names no host or group"),
    ("inv.ini:web:&db", "leaves no host"),
    ("inv.ini:web::db", "empty term"),
    ("inv.ini:~web[", "bad regular expression"),
    ("-oProxyCommand=id", "invalid host name"),
    ("web[1-", "unbalanced"),
    ([3], "a host is a string"),
]


@pytest.mark.parametrize(("spec", "message"), BAD)
def test_load_errors(spec: Any, message: str) -> None:
    with pytest.raises(InvalidHostListError, match=message.replace("[", r"\[")):
        load(spec, read)


BAD_INI = [
    ("[web\nweb1\n", "bad section"),
    ("[web:nosuch]\n", "unknown section kind"),
    ("[web:vars]\nnovalue\n", "expected key=value"),
    ("web1 port\n", "expected key=value after the host"),
    ("web1 ansible_port=x\n", "invalid port"),
    ("web1 ansible_user='a b'\n", "invalid user"),
    ("web1 ansible_host=-oProxyCommand=id\n", "invalid host name"),
    ("web1 'unclosed\n", "No closing quotation"),
    ("-x\n", "invalid host name"),
]


@pytest.mark.parametrize(("text", "message"), BAD_INI)
def test_ini_errors(text: str, message: str) -> None:
    with pytest.raises(InvalidHostListError, match=message) as info:
        hosts.parse_ini(text, source="bad.ini").select()
    assert info.value.source == "bad.ini"


BAD_YAML = [
    ("- a\n- b\n", "mapping of groups"),
    ("all:\n  hosts: [a, b]\n", "expected a mapping"),
    ("all:\n  host:\n    a:\n", "unknown key"),
    ("all:\n  hosts:\n    a: 3\n", "mapping of variables"),
    ("all: [\n", "not valid YAML"),
]


@pytest.mark.parametrize(("text", "message"), BAD_YAML)
def test_yaml_errors(text: str, message: str) -> None:
    with pytest.raises(InvalidHostListError, match=message):
        hosts.parse_yaml(text, source="bad.yml")


def test_yaml_children_cycle_terminates() -> None:
    text = "a:\n  hosts: {h1: }\n  children:\n    b:\n      children:\n        a:\n"
    inv = hosts.parse_yaml(text)
    assert [h.name for h in inv.select("b")] == ["h1"]


def test_ini_children_cycle_terminates() -> None:
    inv = hosts.parse_ini("[a]\nh1\n[a:children]\nb\n[b:children]\na\n")
    assert [h.name for h in inv.select("b")] == ["h1"]


def test_yaml_without_pyyaml(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "yaml", None)  # `import yaml` raises ImportError
    with pytest.raises(MissingDependencyError, match="PyYAML") as info:
        load("inv.yml", read)
    assert isinstance(info.value, ImportError)
    assert "sysd[fleet]" in str(info.value)
    assert [h.name for h in load("inv.ini:db", read)] == ["db1"]  # INI needs nothing


# ----------------------------------------------------------------- batches

BATCHES: list[tuple[Any, int, list[int]]] = [
    (1, 5, [1, 1, 1, 1, 1]),
    (2, 5, [2, 2, 1]),
    (10, 5, [5]),
    ("2", 5, [2, 2, 1]),
    ("10%", 20, [2] * 10),
    ("10%", 5, [1] * 5),  # at least one
    ("50%", 5, [2, 2, 1]),
    ("100%", 5, [5]),
    ([1, "50%"], 7, [1, 3, 3]),
    ([1, 2, 10], 8, [1, 2, 5]),
    (3, 0, []),
]


@pytest.mark.parametrize(("batch", "total", "sizes"), BATCHES)
def test_batch_sizes(batch: Any, total: int, sizes: list[int]) -> None:
    assert batch_sizes(batch, total) == sizes


def test_plan_batches_keeps_order() -> None:
    assert plan_batches(["a", "b", "c", "d", "e"], 2) == [["a", "b"], ["c", "d"], ["e"]]


@pytest.mark.parametrize("batch", [0, -1, True, "0", "0%", "101%", "x%", "abc", 1.5, [], None])
def test_batch_errors(batch: Any) -> None:
    with pytest.raises(InvalidHostListError):
        batch_sizes(batch, 5)


LIMITS: list[tuple[Any, int, int]] = [
    (0, 10, 0),
    (1, 10, 1),
    ("5%", 10, 0),
    ("5%", 100, 5),
    ("10%", 25, 2),
    ("0%", 10, 0),
    ("100%", 10, 10),
    ("3", 10, 3),
]


@pytest.mark.parametrize(("value", "total", "limit"), LIMITS)
def test_failure_limit(value: Any, total: int, limit: int) -> None:
    assert failure_limit(value, total) == limit


@pytest.mark.parametrize("value", [-1, True, "-1%", "101%", "many", None, 0.5])
def test_failure_limit_errors(value: Any) -> None:
    with pytest.raises(InvalidHostListError):
        failure_limit(value, 10)
