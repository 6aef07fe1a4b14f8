"""``sysd.fleet(hosts)``: the single-host API over many hosts at once (docs/fleet.md).

Every method runs on every host, at most ``concurrency`` hosts at a time, and
returns a :class:`FleetResult`: each host's value or its typed error (an
unreachable host is a ``BusConnectError`` for that host, the others answer).
One connection per host (``connect(host=...)`` over ssh), made on first use and
reused by every later call; all of them closed by ``close()``/``with``, and on
cancellation or Ctrl-C during a call.

``fleet.rolling(action, unit, ...)`` runs an action batch by batch, watches each
started unit settle, and stops before the next batch once too many hosts failed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from .._core import unitname
from .._core.ensure import settle_seconds
from .._core.fleet import FleetLogs, FleetResult, RollingReport
from .._core.hostrange import fold
from .._core.hosts import Host, failure_limit, load, plan_batches
from ..errors import InvalidHostListError, RollingCheckError, SysdError
from ._backend import AsyncLock, abandoned_when, gather_limited, sleep

if TYPE_CHECKING:
    from .._core.ensure import Change
    from .._core.properties import Assignment
    from .._core.report import FailureReport
    from .._core.run import RunResult
    from .._core.status import UnitStatus
    from ..journal import Entry
    from .systemd import AsyncSystemd, UnitInfo

__all__ = ["AsyncFleet", "fleet"]

_T = TypeVar("_T")

ACTIONS = ("start", "stop", "restart", "reload", "try-restart", "reload-or-restart")
_SETTLED = ("start", "restart", "try-restart", "reload-or-restart")


class AsyncFleet:
    """Many hosts, one API: see the module docstring and docs/fleet.md."""

    def __init__(
        self,
        hosts: str | Host | Iterable[str | Host],
        *,
        concurrency: int = 64,
        timeout: float | None = 25.0,
        user: bool = False,
        sudo: bool = False,
        ssh_config: str | None = None,
    ) -> None:
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise InvalidHostListError(f"concurrency must be an int >= 1, not {concurrency!r}")
        self.hosts: list[Host] = load(hosts)
        self.concurrency = concurrency
        self.timeout = timeout
        self.user = user
        self.sudo = sudo
        self.ssh_config = ssh_config
        self._by_name = {h.name: h for h in self.hosts}
        self._conns: dict[str, AsyncSystemd] = {}
        self._errors: dict[str, Exception] = {}
        self._locks: dict[str, AsyncLock] = {h.name: AsyncLock() for h in self.hosts}
        self._closed = False
        # told (host, ok) as each host's part of a call ends: the CLI's progress line
        self.progress: Callable[[str, bool], None] | None = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {fold([h.name for h in self.hosts])}>"

    @property
    def names(self) -> list[str]:
        return [h.name for h in self.hosts]

    # ------------------------------------------------------------ connections

    async def connection(self, host: str | Host) -> AsyncSystemd:
        """The host's connection (made on first use, then reused).  A host that could
        not be reached keeps its error for this fleet (make a new fleet to retry)."""
        name = host.name if isinstance(host, Host) else host
        if name not in self._by_name:
            raise KeyError(f"{name!r} is not a host of this fleet")
        if self._closed:
            raise InvalidHostListError("this fleet is closed")
        async with self._locks[name]:
            if name in self._conns:
                return self._conns[name]
            if name in self._errors:
                raise self._errors[name]
            try:
                sd = await self._connect(self._by_name[name])
            except Exception as exc:
                self._errors[name] = exc
                raise
            if self._closed:  # closed (Ctrl-C) while this one was connecting
                await sd.aclose()
                raise InvalidHostListError("this fleet is closed")
            self._conns[name] = sd
            return sd

    async def _connect(self, host: Host) -> AsyncSystemd:
        from .systemd import connect

        with abandoned_when(lambda: self._closed):  # closed meanwhile: stop waiting
            return await connect(
                host=host.spec,
                user=self.user,
                sudo=self.sudo,
                ssh_config=self.ssh_config,
                timeout=self.timeout,
            )

    async def aclose(self) -> None:
        """Close every connection (idempotent)."""
        self._closed = True
        conns, self._conns = list(self._conns.values()), {}
        for sd in conns:
            try:
                await sd.aclose()
            except Exception:  # closing the others matters more
                pass

    async def __aenter__(self) -> AsyncFleet:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def each(
        self,
        fn: Callable[[AsyncSystemd], Awaitable[_T]],
        hosts: Iterable[str | Host] | None = None,
    ) -> FleetResult[_T]:
        """``fn(sd)`` on every host (or those named), at most ``concurrency`` at once."""
        names = (
            self.names if hosts is None else [h.name if isinstance(h, Host) else h for h in hosts]
        )

        results = await gather_limited(
            [_bound(self, n, fn) for n in names], self.concurrency, self.aclose
        )
        return FleetResult(dict(zip(names, results, strict=True)))

    # ------------------------------------------------------------ reading

    async def is_active(self, unit: str) -> FleetResult[bool]:
        name = unitname.normalize(unit)

        async def one(sd: AsyncSystemd) -> bool:
            return await (await sd.unit(name)).is_active()

        return await self.each(one)

    async def active_state(self, unit: str) -> FleetResult[str]:
        """``systemctl is-active``'s answer per host (``"active"``, ``"inactive"``...)."""
        name = unitname.normalize(unit)

        async def one(sd: AsyncSystemd) -> str:
            return await (await sd.unit(name)).active_state()

        return await self.each(one)

    async def status(self, unit: str) -> FleetResult[UnitStatus]:
        name = unitname.normalize(unit)

        async def one(sd: AsyncSystemd) -> UnitStatus:
            return await (await sd.unit(name)).status()

        return await self.each(one)

    async def list_units(
        self,
        patterns: Iterable[str] = (),
        *,
        states: Iterable[str] = (),
        types: Iterable[str] = (),
    ) -> FleetResult[list[UnitInfo]]:
        pats, sts, tys = list(patterns), list(states), list(types)

        async def one(sd: AsyncSystemd) -> list[UnitInfo]:
            return await sd.list_units(pats, states=sts, types=tys)

        return await self.each(one)

    async def call(
        self,
        destination: str | None,
        path: str,
        interface: str | None,
        member: str,
        signature: str = "",
        args: Sequence[Any] = (),
    ) -> FleetResult[Any]:
        """Any D-Bus method on every host (as ``sd.call``)."""

        async def one(sd: AsyncSystemd) -> Any:
            return await sd.call(destination, path, interface, member, signature, args)

        return await self.each(one)

    async def logs(self, unit: str, lines: int | None = 10, **kwargs: Any) -> FleetLogs[Entry]:
        """Each host's last ``lines`` journal entries of ``unit`` (``unit.logs()`` over
        that host's connection); ``.merged()`` interleaves them by time."""
        name = unitname.normalize(unit)

        async def one(sd: AsyncSystemd) -> list[Entry]:
            entries = (await sd.unit(name)).logs(lines=lines, **kwargs)
            out = []
            async with entries:
                async for entry in entries:
                    out.append(entry)
            return out

        result = await self.each(one)
        return FleetLogs(result.results)

    # ------------------------------------------------------------ control

    async def _job(
        self, action: str, unit: str, mode: str, timeout: float | None
    ) -> FleetResult[str]:
        name = unitname.normalize(unit)
        method = action.replace("-", "_")

        async def one(sd: AsyncSystemd) -> str:
            job = await getattr(await sd.unit(name), method)(mode, timeout=timeout)
            return str(job.result or "done")

        return await self.each(one)

    async def start(
        self, unit: str, mode: str = "replace", *, timeout: float | None = None
    ) -> FleetResult[str]:
        """Start the unit on every host and wait for the jobs: each host's job result
        (``"done"``) or its typed JobError (with ``.report``)."""
        return await self._job("start", unit, mode, timeout)

    async def stop(
        self, unit: str, mode: str = "replace", *, timeout: float | None = None
    ) -> FleetResult[str]:
        return await self._job("stop", unit, mode, timeout)

    async def restart(
        self, unit: str, mode: str = "replace", *, timeout: float | None = None
    ) -> FleetResult[str]:
        return await self._job("restart", unit, mode, timeout)

    async def reload(
        self, unit: str, mode: str = "replace", *, timeout: float | None = None
    ) -> FleetResult[str]:
        return await self._job("reload", unit, mode, timeout)

    async def ensure(
        self,
        unit: str,
        active: bool | None = None,
        enabled: bool | None = None,
        masked: bool | None = None,
        *,
        restart: bool = False,
        reload: bool = False,
        settle: timedelta | float | str | None = None,
        dry_run: bool = False,
        daemon_reload: bool | str = "auto",
    ) -> FleetResult[Change]:
        """``unit.ensure(...)`` on every host (options checked once, before any host)."""
        from .._core.ensure import request
        from .ensure import ensure

        req = request(active, enabled, masked, restart, reload, settle, dry_run, daemon_reload)
        name = unitname.normalize(unit)

        async def one(sd: AsyncSystemd) -> Change:
            return await ensure(sd, name, req)

        return await self.each(one)

    async def set_properties(
        self,
        unit: str,
        properties: str | Mapping[str, object] | Iterable[str],
        *,
        runtime: bool = False,
    ) -> FleetResult[list[Assignment]]:
        """``unit.set_properties(...)`` on every host (parsed once, before any host)."""
        from .unit import to_assignments

        name = unitname.normalize(unit)
        assignments = to_assignments(name, properties)

        async def one(sd: AsyncSystemd) -> list[Assignment]:
            return await (await sd.unit(name)).set_properties(assignments, runtime=runtime)

        return await self.each(one)

    async def run(self, cmd: Sequence[str], **kwargs: Any) -> FleetResult[RunResult]:
        """``sd.run(cmd, wait=True, ...)`` on every host: each host's RunResult."""
        command = list(cmd)

        async def one(sd: AsyncSystemd) -> RunResult:
            result: RunResult = await sd.run(command, wait=True, **kwargs)
            return result

        return await self.each(one)

    # ------------------------------------------------------------ rolling

    async def rolling(
        self,
        action: str,
        unit: str,
        *,
        batch: int | str | Sequence[int | str] = 1,
        settle: timedelta | float | str | None = "5s",
        max_failures: int | str = 0,
        pause: timedelta | float | str | None = None,
        check: Callable[[AsyncSystemd, str], Awaitable[object]] | None = None,
    ) -> RollingReport:
        """``action`` (start, stop, restart, reload, try-restart, reload-or-restart) on
        ``unit``, batch by batch in host order.  Each started unit is watched for
        ``settle`` (it must stay active, keep its main process, not restart);
        ``check(sd, host)``, when given, runs next and fails the host by raising or
        returning False.  Once more hosts than ``max_failures`` (a count or ``"5%"``)
        failed, it stops before the next batch: those hosts are ``skipped``, untouched.
        ``pause`` waits between batches.  Options are checked before any host."""
        if action not in ACTIONS:
            raise InvalidHostListError(
                f"unknown rolling action {action!r}", hint=f"one of {', '.join(ACTIONS)}"
            )
        name = unitname.normalize(unit)
        seconds = settle_seconds(settle) if action in _SETTLED else None
        wait = settle_seconds(pause) or 0.0
        limit = failure_limit(max_failures, len(self.hosts))
        batches = plan_batches(self.names, batch)
        report = RollingReport(action, name)
        report.limit = limit

        def one(host: str) -> Callable[[AsyncSystemd], Awaitable[str]]:
            async def run(sd: AsyncSystemd) -> str:
                return await _step(sd, host, action, name, seconds, check)

            return run

        for i, hosts in enumerate(batches):
            if i and len(report.failed) > limit:
                report.stopped = True
                report.skipped = [h for later in batches[i:] for h in later]
                break
            if i and wait:
                await sleep(wait)
            report.batches.append(hosts)
            done = await gather_limited(
                [_bound(self, h, one(h)) for h in hosts], self.concurrency, self.aclose
            )
            for host, value in zip(hosts, done, strict=True):
                report.results[host] = value
                if isinstance(value, Exception):
                    report.reports[host] = await self._report(host, name, value)
        return report

    async def _report(self, host: str, unit: str, error: Exception) -> FailureReport | None:
        """The failure report of a failed host: the one on the error, or a fresh one
        (None when the host cannot be reached)."""
        report = getattr(error, "report", None)
        if report is not None:
            return report  # type: ignore[no-any-return]
        sd = self._conns.get(host)
        if sd is None:
            return None
        from .report import failure_report

        try:
            return await failure_report(sd, unit)
        except SysdError:
            return None


def _bound(
    fleet: AsyncFleet, host: str, fn: Callable[[AsyncSystemd], Awaitable[_T]]
) -> Callable[[], Awaitable[_T]]:
    """``fn`` on the host's connection; ``fleet.progress(host, ok)`` told when it ends."""

    async def run() -> _T:
        try:
            value = await fn(await fleet.connection(host))
        except Exception:
            if fleet.progress is not None:
                fleet.progress(host, False)
            raise
        if fleet.progress is not None:
            fleet.progress(host, True)
        return value

    return run


async def _step(
    sd: AsyncSystemd,
    host: str,
    action: str,
    name: str,
    seconds: float | None,
    check: Callable[[AsyncSystemd, str], Awaitable[object]] | None,
) -> str:
    from .ensure import settle

    unit = await sd.unit(name)
    job = await getattr(unit, action.replace("-", "_"))()
    if seconds is not None and job.result in (None, "done"):
        await settle(sd, unit, action, job.id, seconds)
    if check is not None and await check(sd, host) is False:
        raise RollingCheckError(f"{host}: the check after {action} {name} failed")
    return str(job.result or "done")


def fleet(
    hosts: str | Host | Iterable[str | Host],
    *,
    concurrency: int = 64,
    timeout: float | None = 25.0,
    user: bool = False,
    sudo: bool = False,
    ssh_config: str | None = None,
) -> AsyncFleet:
    """A fleet of hosts: a list (``["web1", "admin@web2:2222"]``), ``"@hosts.txt"``, or an
    Ansible inventory (``"inventory.ini:web"``); see :class:`AsyncFleet`.  Nothing is
    contacted until the first call; use it with ``with`` (or call ``close()``)."""
    return AsyncFleet(
        hosts,
        concurrency=concurrency,
        timeout=timeout,
        user=user,
        sudo=sudo,
        ssh_config=ssh_config,
    )
