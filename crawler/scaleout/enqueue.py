"""``run-due --queue``: put each due portal's run on the queue of the machine that holds it.

The portals' states live on the workers' disks, so this side learns when a portal last ran from what the
workers mirror into Redis after every job (``{ns}:portal:{id}``: run id, start, outcome). A portal is due by
its registry schedule, as for the plain ``run-due``; a portal whose job is still queued or running
(``{ns}:queued:{id}``) is not queued again. The job carries the last run id seen here; the worker checks it
against the portal's own state before crawling, so a run that happened meanwhile is not repeated.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from crawler.scaleout.assign import assign

if TYPE_CHECKING:
    import redis

    from crawler.recurring.portals import Portal
    from crawler.scaleout.broker import QueueBroker
    from crawler.scaleout.config import ScaleoutConfig

logger = logging.getLogger("crawler.scaleout")


@dataclass(frozen=True)
class Enqueued:
    """What happened to one due portal: ``queued`` (on ``machine``), ``already queued``, or ``no live worker``."""

    portal: str
    status: str
    machine: str | None = None


def last_started(client: redis.Redis, config: ScaleoutConfig, portal: str) -> tuple[datetime | None, int]:
    """When the portal's last run started and its id, as the workers mirrored them (None, 0: never ran)."""
    from crawler.recurring.state import parse_iso

    started, run_id = client.hmget(config.keys.portal(portal), ["started_at", "run_id"])
    text = _text(started)
    return (parse_iso(text) if text else None), int(_text(run_id) or 0)


def due_portals(client: redis.Redis, config: ScaleoutConfig, portals: dict[str, Portal],
                now: datetime | None = None) -> list[tuple[str, int]]:
    """The enabled portals due now, with the last run id each job will expect."""
    now = now or datetime.now(UTC)
    due = []
    for portal in portals.values():
        started, run_id = last_started(client, config, portal.id)
        if portal.enabled and portal.schedule.is_due(started, now):
            due.append((portal.id, run_id))
    return due


def enqueue_due(client: redis.Redis, broker: QueueBroker, config: ScaleoutConfig,
                portals: dict[str, Portal]) -> list[Enqueued]:
    """Queue every due portal on its machine's queue (assigning new portals to the least-loaded live machine)."""
    from crawler.scaleout.broker import portal_message

    keys = config.keys
    marker_ttl = round(2 * config.job_time_limit)
    results = []
    for portal_id, run_id in due_portals(client, config, portals):
        machine = assign(client, keys, portal_id, config.heartbeat_timeout)
        if machine is None:
            results.append(Enqueued(portal_id, "no live worker"))
            continue
        if not client.set(keys.queued(portal_id), machine, nx=True, ex=marker_ttl):
            results.append(Enqueued(portal_id, "already queued", machine))
            continue
        try:
            broker.enqueue(portal_message(keys.queue(machine), portal_id, run_id))
        except BaseException:
            client.delete(keys.queued(portal_id))
            raise
        results.append(Enqueued(portal_id, "queued", machine))
    return results


def _text(value: object) -> str:
    if value is None:
        return ""
    return value.decode() if isinstance(value, bytes) else str(value)
