"""The Ansible module sysd.systemd.unit (ansible/), run by ansible-core from PyPI against
the sandbox as a local host (``ansible -i localhost, -c local``): each transition, a
truthful ``changed`` (the second run of the same task is unchanged), check mode changes
nothing, failing units carry their report, bad parameters fail clearly, and the same
actions give the same ``changed`` and state as ``ansible.builtin.systemd_service``.
What the host looks like is asked of systemctl, not of sysd."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from throwaway_units import Units

ROOT = Path(__file__).resolve().parents[2]
ANSIBLE_DIR = ROOT / "ansible"
BIN = Path(sys.executable).parent
ETC = Path("/etc/systemd/system")
SLEEPER = "[Service]\nExecStart=/bin/sleep infinity\n[Install]\nWantedBy=multi-user.target\n"
RELOADABLE = (
    "[Service]\nExecStart=/bin/sleep infinity\nExecReload=/bin/true\n"
    "[Install]\nWantedBy=multi-user.target\n"
)

pytestmark = pytest.mark.skipif(
    not (BIN / "ansible").exists(), reason="ansible-core is not installed (the test extra has it)"
)


def ansible_env(tmp: Path) -> dict[str, str]:
    return os.environ | {
        "LC_ALL": "C.UTF-8",
        "ANSIBLE_COLLECTIONS_PATH": str(ANSIBLE_DIR),
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "ANSIBLE_LOCAL_TEMP": str(tmp / "local"),
        "ANSIBLE_REMOTE_TEMP": str(tmp / "remote"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "PYTHONWARNINGS": "ignore",
    }


_LINE = re.compile(r"^localhost \| (SUCCESS|CHANGED|FAILED!) => ", re.M)


def adhoc(tmp: Path, args: str, module: str = "sysd.systemd.unit", *flags: str) -> dict[str, Any]:
    """One ad-hoc task on localhost; its result, with ``failed`` set as Ansible decided."""
    proc = subprocess.run(
        [str(BIN / "ansible"), "-i", "localhost,", "-c", "local", "localhost",
         "-m", module, "-a", args, *flags],
        capture_output=True, text=True, timeout=120, env=ansible_env(tmp), check=False,
    )  # fmt: skip
    match = _LINE.search(proc.stdout)
    assert match, f"no result from ansible:\n{proc.stdout}\n{proc.stderr}"
    result: dict[str, Any] = json.loads(proc.stdout[match.end() :])
    result["failed"] = match.group(1) == "FAILED!"
    assert (proc.returncode != 0) == result["failed"], proc.stdout
    result.setdefault("changed", False)
    result["stderr_text"] = proc.stderr
    return result


def unit(tmp: Path, args: str, *flags: str) -> dict[str, Any]:
    return adhoc(tmp, args, "sysd.systemd.unit", *flags)


def systemctl(*args: str) -> str:
    proc = subprocess.run(["systemctl", *args], capture_output=True, text=True, check=False)
    return proc.stdout.strip()


def show(name: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in systemctl("show", name).splitlines() if "=" in line)


def state(name: str) -> tuple[str, str]:
    return systemctl("is-active", name), systemctl("is-enabled", name)


def etc_later(units: Units, name: str) -> None:
    """Clean up what enable/mask leave in /etc."""
    units.paths.append(ETC / name)
    units.enabled.append(name)


@pytest.fixture
def tmp(tmp_path: Path) -> Path:
    return tmp_path


# ------------------------------------------------------------- transitions


def test_start_stop_twice_each(units: Units, tmp: Path) -> None:
    name = units.add("start", SLEEPER)
    units.reload()
    first = unit(tmp, f"name={name} state=started")
    assert first["changed"] and first["actions"] == ["start"] and not first["failed"]
    assert first["before"]["active_state"] == "inactive" and first["state"] == "started"
    assert first["status"]["ActiveState"] == "active" == systemctl("is-active", name)
    assert [j["action"] for j in first["jobs"]] == ["start"]
    second = unit(tmp, f"name={name} state=started")
    assert not second["changed"] and second["actions"] == [] and second["jobs"] == []
    stopped = unit(tmp, f"name={name} state=stopped")
    assert stopped["changed"] and stopped["actions"] == ["stop"]
    assert systemctl("is-active", name) == "inactive" and stopped["state"] == "stopped"
    assert not unit(tmp, f"name={name} state=stopped")["changed"]


def test_enable_disable_and_bare_name(units: Units, tmp: Path) -> None:
    name = units.add("enable", SLEEPER)
    units.reload()
    etc_later(units, name)
    bare = name.removesuffix(".service")  # .service is added, as systemctl does
    enabled = unit(tmp, f"name={bare} enabled=true")
    assert enabled["changed"] and enabled["actions"] == ["enable"] and enabled["name"] == name
    assert state(name) == ("inactive", "enabled") and enabled["enabled"] is True
    assert not unit(tmp, f"name={bare} enabled=true")["changed"]
    disabled = unit(tmp, f"name={name} enabled=false")
    assert disabled["changed"] and state(name) == ("inactive", "disabled")
    assert not unit(tmp, f"name={name} enabled=false")["changed"]


def test_started_and_enabled_in_one_task(units: Units, tmp: Path) -> None:
    name = units.add("both", SLEEPER)
    units.reload()
    etc_later(units, name)
    result = unit(tmp, f"name={name} state=started enabled=true")
    assert result["actions"] == ["enable", "start"] and state(name) == ("active", "enabled")
    assert not unit(tmp, f"name={name} state=started enabled=true")["changed"]


def test_mask_then_unmask_and_start(units: Units, tmp: Path) -> None:
    name = units.add("mask", SLEEPER)
    units.reload()
    etc_later(units, name)
    masked = unit(tmp, f"name={name} masked=true")
    assert masked["changed"] and masked["masked"] is True
    assert systemctl("is-enabled", name) == "masked"
    assert not unit(tmp, f"name={name} masked=true")["changed"]
    refused = unit(tmp, f"name={name} state=started")  # masked: typed error, hint
    assert refused["failed"] and refused["error"] == "InvalidEnsureError"
    assert "masked" in refused["msg"] and "masked=False" in refused["hint"]
    back = unit(tmp, f"name={name} masked=false state=started")
    assert back["actions"] == ["unmask", "start"] and state(name) == ("active", "disabled")
    assert not unit(tmp, f"name={name} masked=false state=started")["changed"]


def test_restarted_always_changes_and_reloaded(units: Units, tmp: Path) -> None:
    name = units.add("restart", RELOADABLE)
    units.reload()
    started = unit(tmp, f"name={name} state=restarted")  # inactive: restart starts it
    assert started["changed"] and started["actions"] == ["restart"]
    pid = show(name)["MainPID"]
    assert pid != "0"
    again = unit(tmp, f"name={name} state=restarted")
    assert again["changed"] and show(name)["MainPID"] not in ("0", pid)
    reloaded = unit(tmp, f"name={name} state=reloaded")
    assert reloaded["changed"] and reloaded["actions"] == ["reload"]
    assert systemctl("is-active", name) == "active"
    unit(tmp, f"name={name} state=stopped")
    from_inactive = unit(tmp, f"name={name} state=reloaded")  # inactive: reloaded starts it
    assert from_inactive["actions"] == ["start"] and systemctl("is-active", name) == "active"


def test_daemon_reload_when_the_file_changed(units: Units, tmp: Path) -> None:
    name = units.add("edited", SLEEPER)
    units.reload()
    assert unit(tmp, f"name={name} state=started")["changed"]
    (Path("/run/systemd/system") / name).write_text(SLEEPER.replace("infinity", "12345"))
    assert show(name)["NeedDaemonReload"] == "yes"
    result = unit(tmp, f"name={name} state=restarted")
    assert result["actions"] == ["daemon-reload", "restart"]
    assert "12345" in show(name)["ExecStart"]
    # daemon_reload=true with nothing to reload: done, not a change
    only = unit(tmp, f"name={name} daemon_reload=true")
    assert only["actions"] == ["daemon-reload"] and not only["changed"]
    assert not unit(tmp, "daemon_reload=true")["changed"]


def test_no_block_and_force(units: Units, tmp: Path) -> None:
    name = units.add("noblock", SLEEPER)
    units.reload()
    etc_later(units, name)
    queued = unit(tmp, f"name={name} state=started no_block=true")
    assert queued["changed"] and queued["actions"] == ["start"]
    deadline = time.monotonic() + 60
    while systemctl("is-active", name) != "active" and time.monotonic() < deadline:
        time.sleep(0.05)  # polls the outcome of a job nobody waited for; not a timing
    assert systemctl("is-active", name) == "active"
    # a link of another kind where mask puts its own: refused (as systemctl mask refuses),
    # then replaced with force
    linked = tmp / "linked" / name  # `systemctl link`'s kind of link
    linked.parent.mkdir()
    linked.write_text(SLEEPER)
    (ETC / name).symlink_to(linked)
    units.reload()
    assert systemctl("is-enabled", name) == "linked"
    refused = unit(tmp, f"name={name} masked=true")
    assert refused["failed"] and refused["error"] == "UnitExistsError", refused
    assert "already exists" in refused["msg"] and not refused["changed"]
    masking = subprocess.run(["systemctl", "mask", name], capture_output=True, check=False)
    assert masking.returncode != 0
    forced = unit(tmp, f"name={name} masked=true force=true")
    assert forced["changed"] and forced["actions"] == ["mask"] and not forced["failed"]
    assert (ETC / name).resolve() == Path("/dev/null")
    assert systemctl("is-enabled", name) == "masked"


# -------------------------------------------------------------- check mode


def test_check_mode_changes_nothing(units: Units, tmp: Path) -> None:
    name = units.add("check", SLEEPER)
    units.reload()
    etc_later(units, name)
    before = show(name)
    result = unit(tmp, f"name={name} state=started enabled=true", "--check")
    assert result["changed"] and result["actions"] == ["enable", "start"] and result["jobs"] == []
    assert result["before"] == result["after"]
    assert normal(show(name)) == normal(before) and state(name) == ("inactive", "disabled")
    masked = unit(tmp, f"name={name} masked=true", "--check")
    assert masked["changed"] and masked["actions"] == ["mask"]
    assert normal(show(name)) == normal(before) and not (ETC / name).exists()
    assert unit(tmp, f"name={name} state=restarted", "--check")["actions"] == ["restart"]
    assert normal(show(name)) == normal(before)
    # nothing to do: unchanged in check mode too
    assert not unit(tmp, f"name={name} state=stopped", "--check")["changed"]


def test_check_mode_on_a_running_unit(units: Units, tmp: Path) -> None:
    name = units.add("checkrun", SLEEPER)
    units.reload()
    unit(tmp, f"name={name} state=started")
    before = show(name)
    result = unit(tmp, f"name={name} state=stopped", "--check")
    assert result["changed"] and result["actions"] == ["stop"]
    after = show(name)
    assert after["MainPID"] == before["MainPID"] and after["InvocationID"] == before["InvocationID"]
    assert {k: v for k, v in normal(after).items() if not _counter(k)} == {
        k: v for k, v in normal(before).items() if not _counter(k)
    }


def normal(props: dict[str, str]) -> dict[str, list[str]]:
    """Dependency lists (After=, Wants=, ...) come in hash order: compare them as sets."""
    return {k: sorted(v.split(" ")) for k, v in props.items()}


def _counter(key: str) -> bool:
    """Properties a running unit's kernel counters move on their own."""
    return key.startswith(("Memory", "CPUUsage", "Tasks", "IO", "IP")) and "Accounting" not in key


# ---------------------------------------------------------------- failures


def test_failing_unit_reports(units: Units, tmp: Path) -> None:
    name = units.add(
        "fails", "[Service]\nType=oneshot\nExecStart=/bin/sh -c 'echo boom-{tag}; exit 3'\n"
    )
    units.reload()
    result = unit(tmp, f"name={name} state=started")
    assert result["failed"] and result["error"] == "JobFailedError"
    assert name in result["msg"]
    assert result["job"]["result"] == "failed" and result["job"]["service_result"] == "exit-code"
    assert result["job"]["exit_code"] == 3
    report = result["report"]
    assert report["unit"] == name and report["result"] == "exit-code"
    assert report["exec_main_status"] == 3
    assert any(f"boom-{units.tag}" in line for line in report["logs"])
    assert f"boom-{units.tag}" in result["report_text"]
    assert systemctl("is-active", name) == "failed"


def test_settle_catches_a_service_that_dies(units: Units, tmp: Path) -> None:
    dies = "[Service]\nExecStart=/bin/sh -c 'echo dying-{tag}; sleep 0.5; exit 1'\n"
    name = units.add("dies", dies)
    units.reload()
    result = unit(tmp, f"name={name} state=started settle=5s")
    assert result["failed"] and result["error"] == "UnitSettleError"
    assert result["job"]["reason"] == "left-active" and result["job"]["result"] == "done"
    assert result["report"]["result"] == "exit-code"
    assert any(f"dying-{units.tag}" in line for line in result["report"]["logs"])
    healthy = units.add("healthy", SLEEPER)
    units.reload()
    ok = unit(tmp, f"name={healthy} state=started settle=1s")
    assert ok["changed"] and not ok["failed"] and systemctl("is-active", healthy) == "active"


def test_condition_is_a_warning_not_a_failure(units: Units, tmp: Path) -> None:
    name = units.add("cond", "[Unit]\nConditionPathExists=/nonexistent\n" + SLEEPER)
    units.reload()
    result = unit(tmp, f"name={name} state=started")
    assert not result["failed"] and result["ok"] is False and result["state"] == "stopped"
    assert "does not hold" in result["stderr_text"]


@pytest.mark.parametrize(
    ("args", "error", "text"),
    [
        ("name=x.service state=bogus", None, "value of state must be one of"),
        ("state=started", None, "missing parameter(s) required by 'state': name"),
        ("name=x.service scope=cluster", None, "value of scope must be one of"),
        ("enabled=true", None, "missing parameter(s) required by 'enabled': name"),
        ("name=x.service enabled=maybe", None, "enabled"),
        ("name=x.service nonsense=1", None, "Unsupported parameters"),
        ("name=web*.service state=started", "InvalidParameter", "glob"),
        ("name=x.service state=started scope=global", "InvalidParameter", "global"),
        ("name=x.service state=started settle=5s no_block=true", "InvalidParameter", "no_block"),
        ("name=x.service state=started settle=-5s", "InvalidEnsureError", "settle"),
        ("name=x.service state=started settle=soon", "InvalidEnsureError", "settle"),
        ("name=x.service state=stopped settle=5s", "InvalidEnsureError", "settle"),
        ("name=x.service state=started masked=true", "InvalidEnsureError", "masked"),
        ("name=bad/name state=started", "InvalidUnitNameError", "bad/name"),
        ("name=sysdt-nonexistent-9.service state=started", "UnitNotFoundError", "not found"),
    ],
)
def test_bad_parameters_fail_clearly(
    units: Units, tmp: Path, args: str, error: str | None, text: str
) -> None:
    result = unit(tmp, args)
    assert result["failed"] and not result["changed"]
    assert text in result["msg"], result["msg"]
    if error is not None:
        assert result["error"] == error


def test_user_scope_without_a_user_manager(tmp: Path) -> None:
    """root's user manager is not running in the sandbox: a typed error with a hint."""
    if systemctl("is-active", f"user@{os.geteuid()}.service") == "active":
        pytest.skip("a user manager runs for this user")
    result = unit(tmp, "name=x.service state=started scope=user")
    assert result["failed"] and result["error"].endswith("Error") and result.get("hint")


def test_missing_sysd_on_the_target(tmp: Path) -> None:
    python = shutil.which("python3", path="/usr/bin:/bin")
    if python is None or subprocess.run([python, "-c", "import sysd"], check=False).returncode == 0:
        pytest.skip("no system python3 without sysd")
    proc = subprocess.run(
        [str(BIN / "ansible"), "-i", "localhost,", "-c", "local", "localhost",
         "-m", "sysd.systemd.unit", "-a", "name=x.service state=started"],
        capture_output=True, text=True, timeout=120,
        env=ansible_env(tmp) | {"ANSIBLE_PYTHON_INTERPRETER": python}, check=False,
    )  # fmt: skip
    assert proc.returncode != 0 and "sysd" in proc.stdout and "FAILED" in proc.stdout


# ----------------------------------------------- differential: systemd_service


STEPS = [
    "state=started",
    "state=started",
    "state=stopped",
    "state=stopped",
    "enabled=true",
    "enabled=true",
    "state=started enabled=true",
    "enabled=false",
    "enabled=false",
    "state=restarted",
    "state=reloaded",
    "state=stopped",
    "state=reloaded",
    "state=stopped",
    "masked=true",
    "masked=true",
    "masked=false",
    "masked=false",
    "state=stopped enabled=false",
]


def _steps_playbook(module: str, unit_name: str, out: Path) -> str:
    """One play running every step (check mode, then for real), each followed by the
    unit's is-active/is-enabled as systemctl says; all results written to ``out``."""
    tasks, names = [], []
    for i, step in enumerate(STEPS):
        args = dict(kv.split("=", 1) for kv in step.split())
        for mode, check in (("c", True), ("r", False)):
            tasks.append({
                "name": f"{mode}{i} {step}", module: {"name": unit_name, **args},
                "check_mode": check, "register": f"{mode}{i}",
            })  # fmt: skip
            tasks.append({
                "name": f"s{mode}{i}",
                "ansible.builtin.shell": f"systemctl is-active {unit_name}; "
                f"systemctl is-enabled {unit_name}",
                "register": f"s{mode}{i}", "changed_when": False, "failed_when": False,
            })  # fmt: skip
            names += [f"{mode}{i}", f"s{mode}{i}"]
    listing = ", ".join(names)
    tasks.append({
        "name": "results",
        "ansible.builtin.copy": {"content": f"{{{{ [{listing}] | to_json }}}}", "dest": str(out)},
    })  # fmt: skip
    return json.dumps([{"hosts": "localhost", "gather_facts": False, "tasks": tasks}])


def test_same_as_systemd_service(units: Units, tmp: Path) -> None:
    """Each step on two identical units, one driven by each module (one playbook each):
    the same changed, the same resulting is-active/is-enabled, check mode first, then
    for real."""
    ours = units.add("ours", RELOADABLE)
    theirs = units.add("theirs", RELOADABLE)
    units.reload()
    etc_later(units, ours)
    etc_later(units, theirs)
    runs = {}
    for who, module, name in (
        ("ours", "sysd.systemd.unit", ours),
        ("theirs", "ansible.builtin.systemd_service", theirs),
    ):
        book, out = tmp / f"{who}.yml", tmp / f"{who}.json"
        book.write_text(_steps_playbook(module, name, out))  # JSON is YAML
        proc = subprocess.run(
            [str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(book)],
            capture_output=True, text=True, timeout=600, env=ansible_env(tmp), check=False,
        )  # fmt: skip
        assert proc.returncode == 0, f"{module}:\n{proc.stdout[-4000:]}"
        runs[who] = json.loads(out.read_text())
    assert len(runs["ours"]) == len(runs["theirs"]) == 4 * len(STEPS)
    for k in range(0, len(runs["ours"]), 2):
        step = STEPS[k // 4]
        a, b = runs["ours"][k], runs["theirs"][k]
        mode = "check" if (k // 2) % 2 == 0 else "real"
        assert not a.get("failed") and not b.get("failed"), (step, mode, a, b)
        assert a["changed"] == b["changed"], (step, mode, a, b)
        assert runs["ours"][k + 1]["stdout"] == runs["theirs"][k + 1]["stdout"], (step, mode)
        assert runs["ours"][k + 1]["stdout"].split()[0] in ("active", "inactive")
        if "state" in b and "state=" in step:
            assert a["state"] == b["state"], (step, mode, a, b)


# ------------------------------------------------------------------- docs


def _yaml_examples() -> list[str]:
    text = (ROOT / "docs" / "ansible.md").read_text()
    return re.findall(r"```yaml\n(.*?)```", text, re.S)


def test_docs_playbooks_run(units: Units, tmp: Path) -> None:
    """Every playbook in docs/ansible.md runs (on demo units created here), twice: the
    second run changes nothing (unless the playbook says it is not idempotent)."""
    for stem, text in (("web", SLEEPER), ("worker", RELOADABLE)):
        path = Path("/run/systemd/system") / f"{stem}.service"
        assert not path.exists()
        path.write_text(text)
        units.paths.append(path)
        etc_later(units, f"{stem}.service")
    units.reload()
    examples = _yaml_examples()
    assert examples
    for i, play in enumerate(examples):
        book = tmp / f"play{i}.yml"
        book.write_text(play)
        recaps = []
        for _ in range(2):
            proc = subprocess.run(
                [str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(book)],
                capture_output=True, text=True, timeout=180, env=ansible_env(tmp), check=False,
            )  # fmt: skip
            assert proc.returncode == 0, f"docs/ansible.md playbook {i}:\n{proc.stdout}"
            recaps.append(re.search(r"localhost\s*: ok=\d+\s+changed=(\d+)", proc.stdout))
        first, second = recaps
        assert first and second, proc.stdout
        if "not idempotent" not in play:
            assert second.group(1) == "0", f"playbook {i} is not idempotent:\n{proc.stdout}"


# ------------------------------------------------------- documentation blocks


def test_documentation_matches_the_argument_spec(tmp: Path) -> None:
    """What validate-modules checks first (ansible-test itself needs the network to
    bootstrap): DOCUMENTATION parses (ansible-doc), names the same options with the same
    types, defaults, choices and aliases as the argument spec, and EXAMPLES/RETURN are there."""
    proc = subprocess.run(
        [str(BIN / "ansible-doc"), "--json", "-t", "module", "sysd.systemd.unit"],
        capture_output=True, text=True, timeout=120, env=ansible_env(tmp), check=True,
    )  # fmt: skip
    doc = json.loads(proc.stdout)["sysd.systemd.unit"]
    path = ANSIBLE_DIR / "ansible_collections/sysd/systemd/plugins/modules/unit.py"
    loader = importlib.util.spec_from_file_location("sysd_ansible_unit", path)
    assert loader is not None and loader.loader is not None
    module = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(module)  # the module file itself, not in sys.modules
    spec = module.ARGUMENT_SPEC
    options = doc["doc"]["options"]
    assert sorted(options) == sorted(spec)
    for name, arg in spec.items():
        opt = options[name]
        assert opt["type"] == arg["type"], name
        assert opt.get("default") == arg.get("default"), name
        assert opt.get("choices") == arg.get("choices"), name
        assert opt.get("aliases", []) == arg.get("aliases", []), name
        assert opt["description"], name
    assert doc["doc"]["attributes"]["check_mode"]["support"] == "full"
    assert "sysd.systemd.unit:" in doc["examples"]
    assert {"changed", "actions", "report", "report_text", "status"} <= set(doc["return"])
