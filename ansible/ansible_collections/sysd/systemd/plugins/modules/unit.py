#!/usr/bin/python
# Copyright: sysd contributors
# GNU Lesser General Public License v2.1+ (see LICENSE in the sysd repository)
"""Ansible module sysd.systemd.unit: systemd unit state through sysd's ensure()."""

# ruff: noqa: E402  (Ansible's layout: the documentation blocks come before the imports)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: unit
short_description: Manage systemd units through sysd (D-Bus), idempotently
version_added: "0.1.0"
description:
  - Brings a systemd unit to the state asked (started, stopped, restarted, reloaded,
    enabled, masked) with sysd's C(ensure()), over D-Bus, without running C(systemctl).
  - Takes the parameters of M(ansible.builtin.systemd_service), plus O(settle).
  - V(changed) is true only when something was (or, in check mode, would be) done, as
    systemd itself reports the unit before and after.
  - Check mode is C(ensure(dry_run=True)) - nothing is sent that changes the host.
  - When a job fails, or a started unit does not stay up for O(settle), the task fails
    with the unit's failure report (job and service result, the failed step, exit status,
    and the journal lines of the failing invocation) in RV(report).
  - A unit asked to be active that has failed once its jobs are done fails the task too,
    with its report (M(ansible.builtin.systemd_service) reports success there).
  - The daemon-reload a unit needs (its NeedDaemonReload) is done before the unit is
    touched, without O(daemon_reload) having to be set.
requirements:
  - Python >= 3.11 and the C(sysd) package on the managed host (set
    C(ansible_python_interpreter) to a Python that has it).
  - systemd as the host's init (or a user manager for O(scope=user)).
author:
  - sysd contributors
options:
  name:
    description:
      - Name of the unit. A name without a suffix gets C(.service), as with C(systemctl).
      - Glob patterns are not accepted.
      - Needed with O(state), O(enabled) and O(masked).
    type: str
    aliases: [service, unit]
  state:
    description:
      - V(started)/V(stopped) are idempotent (nothing is done when the unit already is).
      - V(restarted) always restarts (starts an inactive unit); V(reloaded) reloads an
        active unit and starts an inactive one. Both always report V(changed).
    type: str
    choices: [reloaded, restarted, started, stopped]
  enabled:
    description:
      - Whether the unit starts on boot (its unit file enabled). Static, alias, indirect
        and generated units count as enabled, as C(systemctl is-enabled) says.
    type: bool
  force:
    description:
      - Enable or mask with C(--force) semantics (replace conflicting symlinks).
    type: bool
  masked:
    description:
      - Whether the unit is masked (cannot be started). V(false) unmasks it first, so that
        O(state=started) and O(enabled=true) can follow in the same task.
    type: bool
  daemon_reload:
    description:
      - Reload systemd's configuration before anything else, whether or not the unit
        needs it. Counted as a change only when the unit needed it (its
        NeedDaemonReload), as a reload of unchanged files changes nothing.
      - Without it, a daemon-reload is still done (and reported) when the unit's file
        changed on disk.
    type: bool
    default: false
    aliases: [daemon-reload]
  daemon_reexec:
    description:
      - Re-execute systemd before anything else. Not counted as a change, as
        M(ansible.builtin.systemd_service) does.
    type: bool
    default: false
    aliases: [daemon-reexec]
  scope:
    description:
      - V(system) - the system manager; V(user) - the manager of the user Ansible runs as
        (needs its user manager running; C(XDG_RUNTIME_DIR) defaults to
        C(/run/user/UID)).
      - V(global) (unit files of every user, without a manager) is not supported by sysd;
        the task fails with a hint to use M(ansible.builtin.systemd_service).
    type: str
    default: system
    choices: [system, user, global]
  no_block:
    description:
      - Queue the jobs and return without waiting for them (C(systemctl --no-block)).
        The result then shows the state right after queueing. Not with O(settle).
    type: bool
    default: false
  settle:
    description:
      - After a successful start or restart, watch the unit for this long (a systemd
        time span such as V(5s) or V(1min 30s)) and fail if it leaves active, its main
        process dies, or it is started again (a restart loop). Catches a service that dies
        right after a start that C(systemctl) called successful.
      - Needs O(state=started), V(restarted) or V(reloaded).
    type: str
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - The managed host's Python needs C(sysd); the module fails with a clear message when
    it is missing.
seealso:
  - module: ansible.builtin.systemd_service
"""

EXAMPLES = r"""
- name: Start a service and keep it started at boot, failing if it dies within 5 s
  sysd.systemd.unit:
    name: nginx
    state: started
    enabled: true
    settle: 5s

- name: Stop and mask a service
  sysd.systemd.unit:
    name: cups.service
    state: stopped
    masked: true

- name: Restart after a config change (reloads systemd first if the unit file changed)
  sysd.systemd.unit:
    name: web.service
    state: restarted

- name: Reload systemd's configuration only
  sysd.systemd.unit:
    daemon_reload: true

- name: A unit of the user's own manager
  sysd.systemd.unit:
    name: syncthing.service
    state: started
    scope: user
"""

RETURN = r"""
name:
  description: The unit's primary name (C(.service) added, aliases resolved).
  returned: when O(name) was given
  type: str
  sample: nginx.service
changed:
  description: Whether anything was done (in check mode, would be done).
  returned: always
  type: bool
actions:
  description: The actions taken (in check mode, that would be taken), in order.
  returned: always
  type: list
  elements: str
  sample: [daemon-reload, enable, start]
state:
  description:
    - V(started) when the unit is active afterwards, else V(stopped); in check mode, what
      O(state) would make it.
  returned: when O(name) was given
  type: str
  sample: started
enabled:
  description: Whether the unit is enabled afterwards (as C(systemctl is-enabled) exits 0).
  returned: when O(name) was given
  type: bool
masked:
  description: Whether the unit is masked afterwards.
  returned: when O(name) was given
  type: bool
ok:
  description:
    - Whether the state asked for holds afterwards. False without a failure when a
      start job was done but a Condition kept the unit inactive (a warning says so).
  returned: when O(name) was given
  type: bool
before:
  description: The unit's states before (active_state, sub_state, unit_file_state, load_state).
  returned: when O(name) was given
  type: dict
  sample: {active_state: inactive, sub_state: dead, unit_file_state: disabled, load_state: loaded}
after:
  description: The unit's states afterwards (the same as O(before) in check mode).
  returned: when O(name) was given
  type: dict
jobs:
  description: Each job run, with its action, id and result.
  returned: when O(name) was given
  type: list
  elements: dict
  sample: [{action: start, job_id: 1234, result: done}]
status:
  description:
    - The unit's ActiveState, SubState, UnitFileState and LoadState afterwards, under
      the names of C(systemctl show) (a subset of M(ansible.builtin.systemd_service)'s).
  returned: when O(name) was given
  type: dict
  sample: {ActiveState: active, SubState: running, UnitFileState: enabled, LoadState: loaded}
error:
  description:
    - The sysd exception's class name (e.g. C(JobFailedError), C(UnitSettleError)),
      C(UnitFailed) for a unit that ended failed, C(InvalidParameter) for a parameter
      problem the module finds itself.
  returned: failure
  type: str
hint:
  description: What to do about the failure, when sysd knows.
  returned: failure, when there is a hint
  type: str
job:
  description: The failed job (unit, job_type, result, service_result, exit_code, exit_signal).
  returned: when a job failed or the unit did not settle
  type: dict
report:
  description:
    - The unit's failure report as values (job and unit results, failed_step,
      exec_main_status, conditions, n_restarts, invocation_id, logs - the failing
      invocation's journal lines).
  returned: when a job failed, the unit did not settle, or it ended failed
  type: dict
report_text:
  description: The same report as text, as C(sysd start) prints it.
  returned: when a job failed or the unit did not settle
  type: str
"""

import json
import os
import traceback
from typing import Any

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

try:
    import sysd
    from sysd.errors import JobError, SysdError
except ImportError:
    SYSD_IMPORT_ERROR: str | None = traceback.format_exc()
else:
    SYSD_IMPORT_ERROR = None

ARGUMENT_SPEC: dict[str, Any] = dict(
    name=dict(type="str", aliases=["service", "unit"]),
    state=dict(type="str", choices=["reloaded", "restarted", "started", "stopped"]),
    enabled=dict(type="bool"),
    force=dict(type="bool"),
    masked=dict(type="bool"),
    daemon_reload=dict(type="bool", default=False, aliases=["daemon-reload"]),
    daemon_reexec=dict(type="bool", default=False, aliases=["daemon-reexec"]),
    scope=dict(type="str", default="system", choices=["system", "user", "global"]),
    no_block=dict(type="bool", default=False),
    settle=dict(type="str"),
)

_INSTALL = ("unmask", "enable", "disable", "mask")


class _Refused(Exception):
    """A parameter problem found by the module itself (before sysd is asked)."""


class _UnitFailed(Exception):
    """The jobs were done, but the unit asked to be active ended failed."""

    def __init__(self, message: str, result: dict[str, Any], report: Any) -> None:
        super().__init__(message)
        self.result = result
        self.report = report


def _state_dict(state: Any) -> dict[str, str]:
    return {
        "active_state": state.active_state,
        "sub_state": state.sub_state,
        "unit_file_state": state.unit_file_state,
        "load_state": state.load_state,
    }


def _ensure_args(params: dict[str, Any]) -> dict[str, Any]:
    state = params["state"]
    return dict(
        active={"started": True, "stopped": False}.get(state),
        enabled=params["enabled"],
        masked=params["masked"],
        restart=state == "restarted",
        reload=state == "reloaded",
        settle=params["settle"],
    )


def _state(asked: str | None, after: Any, check: bool) -> str:
    """``started``/``stopped``: as the unit is afterwards; in check mode, as it would be."""
    if check and asked is not None:
        return "stopped" if asked == "stopped" else "started"
    return "started" if after.is_active else "stopped"


def _check(params: dict[str, Any]) -> None:
    name = params["name"]
    if name is not None and any(c in name for c in "*?["):
        raise _Refused(f"glob patterns are not supported, found one in the unit name {name!r}")
    if params["scope"] == "global":
        raise _Refused(
            "scope=global (unit files of every user, no manager) is not supported by "
            "sysd.systemd.unit; use ansible.builtin.systemd_service for it"
        )
    if params["settle"] is not None and params["no_block"]:
        raise _Refused("settle watches the unit after its job ended: not with no_block=true")


def _connect(scope: str) -> Any:
    if scope == "user":
        os.environ.setdefault("XDG_RUNTIME_DIR", f"/run/user/{os.geteuid()}")
        return sysd.connect(user=True)
    return sysd.connect()


def _apply(sd: Any, name: str, args: dict[str, Any], force: bool, no_block: bool) -> Any:
    """What ensure() does, step by step, for what it cannot be asked (force, no_block):
    the plan is ensure's own (a dry run); afterwards the unit is read again the same way."""
    planned = sd.ensure(name, dry_run=True, **args)[0]
    unit = sd.unit(planned.unit)
    installed = False
    for action in planned.actions:
        if action == "daemon-reload":
            sd.daemon_reload()
        elif action in _INSTALL:
            extra = {"force": True} if force and action in ("enable", "mask") else {}
            changes = getattr(sd, action)([planned.unit], reload=False, **extra)
            installed = installed or bool(changes)
        else:
            if installed:
                sd.daemon_reload()
                installed = False
            getattr(unit, action)(wait=not no_block)
    if installed:
        sd.daemon_reload()
    # the state now, and whether it is what was asked (restart/reload ask for active)
    wanted = {k: args.get(k) for k in ("active", "enabled", "masked")}
    if args.get("restart") or args.get("reload"):
        wanted["active"] = True
    now = sd.ensure(planned.unit, dry_run=True, **wanted)[0]
    return planned, now.before, now.ok


def run(module: AnsibleModule) -> dict[str, Any]:
    params = module.params
    check = module.check_mode
    name = params["name"]
    result: dict[str, Any] = {"changed": False, "actions": []}
    with _connect(params["scope"]) as sd:
        if params["daemon_reexec"]:
            result["actions"].append("daemon-reexec")
            if not check:
                sd.daemon_reexec()
        if params["daemon_reload"]:
            result["actions"].append("daemon-reload")
            if name is not None:  # a change when the unit needed it (its NeedDaemonReload)
                result["changed"] = "daemon-reload" in sd.ensure(name, dry_run=True)[0].actions
            if not check:
                sd.daemon_reload()
        if name is None:
            return result
        args = _ensure_args(params)
        if all(params[k] is None for k in ("state", "enabled", "masked")):
            args = {}  # only a reload/reexec asked: the unit is reported, not touched
        if params["daemon_reload"]:
            args["daemon_reload"] = False  # done (or, in check mode, listed) above
        if check or not (params["force"] or params["no_block"]):
            change = sd.ensure(name, dry_run=check, **args)[0]
            after, ok = change.after, change.ok
        else:
            change, after, ok = _apply(sd, name, args, bool(params["force"]), params["no_block"])
        jobs = [j._asdict() for j in change.jobs]
        result.update(
            name=change.unit,
            changed=result["changed"] or change.changed,
            actions=result["actions"] + list(change.actions),
            state=_state(params["state"], after, check),
            enabled=after.is_enabled,
            masked=after.is_masked,
            ok=ok,
            before=_state_dict(change.before),
            after=_state_dict(after),
            jobs=jobs,
            status={
                "ActiveState": after.active_state,
                "SubState": after.sub_state,
                "UnitFileState": after.unit_file_state,
                "LoadState": after.load_state,
            },
        )
        if not ok and not check and not params["no_block"] and after.active_state == "failed":
            report = sd.unit(change.unit).failure_report()
            raise _UnitFailed(
                f"{change.unit} failed right after the "
                f"{change.jobs[-1].action if change.jobs else 'start'}"
                + (f": {report.result}" if report.result else ""),
                result,
                report,
            )
        if not ok and not check and not params["no_block"]:
            module.warn(
                f"{change.unit}: the jobs succeeded but the state asked for does not hold "
                f"(ActiveState={after.active_state}); a Condition may have kept it inactive"
            )
    return result


def _failure(exc: Exception) -> dict[str, Any]:
    text = getattr(exc, "text", None) or str(exc)
    out: dict[str, Any] = {"msg": text, "error": type(exc).__name__}
    hint = getattr(exc, "hint", None)
    if hint:
        out["hint"] = hint
        out["msg"] = f"{text} (hint: {hint})"
    if isinstance(exc, JobError):
        out["job"] = {
            "unit": exc.unit,
            "job_type": exc.job_type,
            "result": exc.result,
            "service_result": exc.service_result,
            "exit_code": exc.exit_code,
            "exit_signal": exc.exit_signal,
        }
        for extra in ("reason", "settle", "invocation_id"):
            if getattr(exc, extra, None) is not None:
                out["job"][extra] = getattr(exc, extra)
        report = exc.report
        if report is not None:
            # JSON-ready values (plain types only: Ansible serializes the result)
            out["report"] = json.loads(json.dumps(report.as_dict(), default=str))
            out["report_text"] = report.render()
    return out


def main() -> None:
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        supports_check_mode=True,
        required_one_of=[["state", "enabled", "masked", "daemon_reload", "daemon_reexec"]],
        required_by=dict(state=("name",), enabled=("name",), masked=("name",)),
    )
    if SYSD_IMPORT_ERROR is not None:
        module.fail_json(msg=missing_required_lib("sysd"), exception=SYSD_IMPORT_ERROR)
    try:
        _check(module.params)
        result = run(module)
    except _Refused as exc:
        module.fail_json(msg=str(exc), error="InvalidParameter")
    except _UnitFailed as exc:
        out = dict(exc.result, msg=str(exc), error="UnitFailed", report_text=exc.report.render())
        out["report"] = json.loads(json.dumps(exc.report.as_dict(), default=str))
        out["hint"] = "settle= watches a unit for a while after its start"
        module.fail_json(**out)
    except SysdError as exc:
        module.fail_json(name=module.params["name"], **_failure(exc))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
