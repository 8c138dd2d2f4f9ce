"""One portal-run job on a worker: check the message, count the attempt, take the lease, run the crawl, record.

The crawl is the same ``crawler crawl --portal ID --portals REGISTRY --out ROOT/ID`` command ``run-due`` starts
(its ``crawl_command``, handed in by the CLI), so a portal keeps its own output directory, WARC files, state, lock,
report and exit status however it is run. The job adds, through ``--set``: the lease's fencing token, the WARC
host name ``{worker}~{host}`` (WARC 1.1 Annex C), the shared per-host rate limit and the namespace; the Redis URL
goes through the environment (``ARCHIVER_REDIS_URL``), never the command line.

Outcomes. Final (the message is acked): done, flagged, not run (locked, not due, fenced), duplicate (another
run holds the lease), lease lost (the crawl was stopped), bad input, bad message, reassigned (the portal moved
to another machine while the job waited), given up after ``SCALEOUT_MAX_ATTEMPTS``. Retried by Dramatiq
(RetryableJobError): a failed or incomplete crawl, a crawl killed by a signal, a worker shutdown mid-crawl.
A worker killed mid-job never returns: its message is redelivered (``crawler.scaleout.broker``) and counts as
an attempt.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler.report.verdict import Exit
from crawler.scaleout import child
from crawler.scaleout.assign import machine_of
from crawler.scaleout.broker import RetryableJobError
from crawler.scaleout.lease import LeaseKeeper, PortalLease
from crawler.scaleout.ratelimit import REDIS_URL_ENV

if TYPE_CHECKING:
    import redis

    from crawler.scaleout.config import ScaleoutConfig

logger = logging.getLogger("crawler.scaleout")

_PORTAL_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
#: Exit statuses of ``crawler crawl``: the one list, ``Exit`` in crawler/report/verdict.py (a room below this one).
EXIT_OK, EXIT_CRAWL_PROBLEM, EXIT_BAD_INPUT = int(Exit.OK), int(Exit.PROBLEM), int(Exit.BAD_INPUT)
EXIT_FLAGGED, EXIT_NOT_RUN, EXIT_INCOMPLETE = int(Exit.FLAGGED), int(Exit.NOT_RUN), int(Exit.INCOMPLETE)
#: Exit statuses that end a job (the rest, a failed crawl, are retried). An incomplete crawl is final: its verdict
#: names what is missing, and the next scheduled run tries again.
FINAL_EXITS = {EXIT_OK: "done", EXIT_FLAGGED: "flagged", EXIT_NOT_RUN: "not run", EXIT_BAD_INPUT: "bad input",
               EXIT_INCOMPLETE: "incomplete"}
ATTEMPTS_TTL = 7 * 86400
#: A job interrupted by its worker's shutdown is queued again at once (another worker, or this one restarted,
#: resumes it), not after the failure backoff.
SHUTDOWN_RETRY_MS = 1000


@dataclass
class WorkerContext:
    """What every job of one worker process shares."""

    client: redis.Redis
    config: ScaleoutConfig
    worker_id: str
    host: str
    registry: Path
    archive_root: Path
    redis_url: str
    #: The ``crawler crawl`` command line of a portal: (portal, expected last run id, extra NAME=VALUE settings).
    #: The CLI room gives ``run-due``'s own (this room does not import the CLI).
    crawl_command: Callable[[str, int, list[str]], list[str]]
    overrides: list[str] = field(default_factory=list)
    shutdown: threading.Event = field(default_factory=threading.Event)

    @property
    def holder(self) -> str:
        """The lease holder and WARC host part: ``{worker}~{host}``."""
        return f"{self.worker_id}~{self.host}"


@dataclass(frozen=True)
class JobResult:
    """How a job ended (when it was not retried)."""

    outcome: str
    exit_code: int | None = None
    detail: str = ""


def run_job(ctx: WorkerContext, message_id: str, portal: Any, expect_last_run: Any) -> JobResult:
    """Run one portal-run message; raise RetryableJobError for what should run again."""
    keys = ctx.config.keys
    if not isinstance(portal, str) or not _PORTAL_ID.match(portal) or type(expect_last_run) is not int:
        logger.error("job %s: malformed message (portal=%r, expect_last_run=%r); dropped", message_id, portal,
                     expect_last_run)
        return JobResult("bad message")
    registered = _registered(ctx, portal)
    if registered is not None:
        logger.error("job %s: portal %s: %s; dropped", message_id, portal, registered)
        _finish_marker(ctx, portal)
        return JobResult("bad message", detail=registered)
    owner = machine_of(ctx.client, keys, portal)
    if owner is not None and owner != ctx.config.machine:  # reassigned while this job waited: not our disk now
        logger.warning("portal %s: assigned to machine %s now, not %s; job dropped", portal, owner,
                       ctx.config.machine)
        return JobResult("reassigned", detail=owner)
    attempt = int(ctx.client.incr(keys.attempts(message_id)))
    ctx.client.expire(keys.attempts(message_id), ATTEMPTS_TTL)
    if attempt > ctx.config.max_attempts:
        logger.error("portal %s: gave up after %d attempts (SCALEOUT_MAX_ATTEMPTS)", portal, attempt - 1)
        _record(ctx, portal, job="gave up", attempts=attempt - 1)
        _finish_marker(ctx, portal)
        return JobResult("gave up")
    out = ctx.archive_root / portal
    from crawler.recurring.fencing import newest_token

    lease = PortalLease(ctx.client, keys, portal, ctx.holder, ctx.config.lease_ttl)
    token = lease.acquire(floor=newest_token(out / "state.sqlite", portal))
    if token is None:
        held = lease.held_by
        text = f"token {held.token}, {held.holder}, {held.ttl_ms / 1000:.0f} s left" if held else "unknown"
        if attempt > 1:  # maybe our own earlier delivery, killed: its lease runs out soon
            raise RetryableJobError(f"portal {portal}: lease still held ({text}) after a redelivery; retry later")
        logger.info("portal %s: not crawled: another run holds it (%s)", portal, text)
        return JobResult("duplicate", detail=text)
    try:
        expect = _expectation(out / "state.sqlite", portal, expect_last_run)
        if expect is None:
            logger.info("portal %s: not crawled: another run finished since it was queued", portal)
            _record(ctx, portal, job="not due", token=token, **_last_run(out / "state.sqlite", portal))
            _finish_marker(ctx, portal)
            return JobResult("not run")
        code, lost = _crawl(ctx, portal, expect, lease, attempt)
    finally:
        lease.release()
    if lost:  # another run may hold the portal now: it is that run's to finish
        _record(ctx, portal, job="lease lost", exit=code, token=token, attempts=attempt)
        _finish_marker(ctx, portal)
        return JobResult("lease lost", code, lost)
    return _conclude(ctx, portal, code, token, attempt)


def _registered(ctx: WorkerContext, portal: str) -> str | None:
    """Why the portal cannot run from this machine's registry (None: it can)."""
    from crawler.recurring.portals import PortalConfigError, load_registry

    try:
        portals = load_registry(ctx.registry)
    except PortalConfigError as exc:
        raise RetryableJobError(f"the portal registry of this worker is broken: {exc}") from None
    if portal not in portals:
        return f"not in the registry {ctx.registry}"
    return None


def _expectation(state_path: Path, portal: str, expected: int) -> int | None:
    """The last run id the crawl should find (RECURRING_EXPECT_LAST_RUN), or None when it is no longer due.

    The state's last run when it is the queued one or older (a state that was rebuilt knows fewer runs), or
    when it came later but never finished (an earlier delivery of this job, killed with its worker: the crawl
    resumes it); None when a finished run came after the queued one.
    """
    last = _last_run(state_path, portal)
    last_id = int(last.get("run_id") or 0)
    if last_id <= expected or last.get("outcome") in (None, "", "crashed"):
        return last_id
    return None


def _crawl(ctx: WorkerContext, portal: str, expect: int, lease: PortalLease, attempt: int) -> tuple[int, str]:
    """Run the crawl child while the lease holds; its exit status, and why the lease was lost ("" if it was not)."""
    token = lease.token
    command = ctx.crawl_command(portal, expect, [
        f"SCALEOUT_FENCING_TOKEN={token}", f"WARC_CRAWLHOST={ctx.holder}", "SCALEOUT_RATE_LIMIT_ENABLED=True",
        f"SCALEOUT_NAMESPACE={ctx.config.namespace}", *ctx.overrides])
    env = {**os.environ, REDIS_URL_ENV: ctx.redis_url}
    proc = child.spawn(command, env=env)
    try:
        logger.info("portal %s: crawling (pid %d, lease token %d, attempt %d)", portal, proc.pid, token, attempt)
        _record(ctx, portal, job="running", token=token, attempts=attempt, pid=proc.pid)
        lease_keeper = LeaseKeeper(lease)
        while proc.poll() is None:
            if ctx.shutdown.wait(0.25):
                code = child.stop(proc, ctx.config.shutdown_grace)
                _record(ctx, portal, job="interrupted", exit=code, **_last_run(ctx.archive_root / portal /
                                                                               "state.sqlite", portal))
                raise RetryableJobError(f"portal {portal}: crawl interrupted by the worker's shutdown (exit {code})",
                                        delay=SHUTDOWN_RETRY_MS)
            if not lease_keeper.tick():
                code = child.stop(proc, ctx.config.shutdown_grace)
                logger.error("portal %s: lease lost (%s); crawl stopped (exit %d)", portal, lease_keeper.lost, code)
                return code, lease_keeper.lost
        return int(proc.returncode), ""
    finally:
        if proc.poll() is None:  # an exception (time limit, Redis error) while the crawl runs
            child.stop(proc, ctx.config.shutdown_grace)


def _conclude(ctx: WorkerContext, portal: str, code: int, token: int, attempt: int) -> JobResult:
    """Record how the crawl ended; final outcomes clear the queued marker, the rest are retried."""
    last = _last_run(ctx.archive_root / portal / "state.sqlite", portal)
    verdict = _verdict(ctx.archive_root / portal)
    word = FINAL_EXITS.get(code)
    _record(ctx, portal, job=word or "failed", exit=code, token=token, attempts=attempt, verdict=verdict, **last)
    logger.info("portal %s: %s (exit %d%s)", portal, word or "failed", code, f", verdict {verdict}" if verdict else "")
    if word is None and attempt < ctx.config.max_attempts:
        raise RetryableJobError(f"portal {portal}: crawl exit {code}; will retry")
    _finish_marker(ctx, portal)
    return JobResult(word or "failed", code)


def _last_run(state_path: Path, portal: str) -> dict[str, Any]:
    """The portal's last run in its state (run_id, started_at, ended_at, outcome); {} when there is none."""
    if not state_path.is_file():
        return {}
    from crawler.recurring.state import CrawlState, StateError

    try:
        state = CrawlState(state_path)
    except StateError:
        return {}
    try:
        row = state.last_run(portal)
    finally:
        state.close()
    if row is None:
        return {}
    return {"run_id": row["run_id"], "started_at": row["started_at"], "ended_at": row["ended_at"],
            "outcome": row["outcome"]}


def _verdict(out: Path) -> str | None:
    """The verdict of the portal's report.json, when the crawl writes one."""
    try:
        report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    value = report.get("verdict") if isinstance(report, dict) else None
    if isinstance(value, dict):
        value = value.get("outcome") or value.get("status") or value.get("verdict")
    return str(value) if value is not None else None


def _record(ctx: WorkerContext, portal: str, **fields: Any) -> None:
    """Mirror the portal's last job into ``{ns}:portal:{id}`` (what ``run-due --queue`` and monitoring read)."""
    import redis

    values: dict[Any, Any] = {"machine": ctx.config.machine, "worker": ctx.holder,
                              "updated_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                              **{k: ("" if v is None else str(v)) for k, v in fields.items()}}
    try:
        ctx.client.hset(ctx.config.keys.portal(portal), mapping=values)
    except redis.RedisError as exc:  # the crawl's own outputs are what count; the mirror catches up next job
        logger.warning("portal %s: could not record the job in Redis: %s", portal, exc)


def _finish_marker(ctx: WorkerContext, portal: str) -> None:
    """The job is over for good: ``run-due --queue`` may queue the portal again when it is due."""
    import redis

    try:
        ctx.client.delete(ctx.config.keys.queued(portal))
    except redis.RedisError as exc:  # the marker expires by itself (2 x SCALEOUT_JOB_TIME_LIMIT)
        logger.warning("portal %s: could not clear its queued marker: %s", portal, exc)
