"""``crawler queue-status --queue redis://…``: what an operator watches (docs/scaleout.md, Monitoring).

Machines with the age of their last heartbeat; per machine queue the jobs waiting, running, waiting for a
retry and dead-lettered; the leases held (portal, fencing token, holder, time left); per portal its machine
and the last job the workers recorded (job outcome, crawl exit status, run outcome, report verdict).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crawler.scaleout.assign import live_machines
from crawler.scaleout.keys import QUEUE_PREFIX
from crawler.scaleout.lease import current_holder

if TYPE_CHECKING:
    import redis

    from crawler.scaleout.config import ScaleoutConfig


def queue_depths(client: redis.Redis, config: ScaleoutConfig, machine: str) -> dict[str, int]:
    """Jobs of one machine's queue: waiting, running (fetched, not acked), delayed (retries), dead letters."""
    base = config.keys.queue_key(machine)
    running = 0
    for key in client.scan_iter(match=f"{config.keys.dramatiq}:__acks__.*.{QUEUE_PREFIX}{machine}", count=500):
        running += int(client.scard(key))
    return {"waiting": int(client.llen(base)), "running": running,
            "delayed": int(client.hlen(f"{base}.DQ.msgs")), "dead": int(client.zcard(f"{base}.XQ"))}


def status_lines(client: redis.Redis, config: ScaleoutConfig) -> list[str]:
    """The report, line by line."""
    keys = config.keys
    lines = [f"namespace {config.namespace}"]
    machines = live_machines(client, keys, config.heartbeat_timeout)
    assigned = {_text(k): _text(v) for k, v in client.hgetall(keys.assignments).items()}
    names = sorted({m for m, _age in machines} | set(assigned.values()))
    ages = dict(machines)
    lines.append(f"{'machine':<20} {'state':<6} {'beat':>8} {'portals':>7} {'waiting':>7} {'running':>7} "
                 f"{'retry':>5} {'dead':>5}")
    for machine in names:
        age = ages.get(machine)
        live = age is not None and age <= config.heartbeat_timeout
        depth = queue_depths(client, config, machine)
        beat = f"{age:.0f}s" if age is not None else "never"
        lines.append(f"{machine:<20} {'live' if live else 'GONE':<6} {beat:>8} "
                     f"{sum(1 for m in assigned.values() if m == machine):>7} {depth['waiting']:>7} "
                     f"{depth['running']:>7} {depth['delayed']:>5} {depth['dead']:>5}")
    lines.append(f"{'portal':<16} {'machine':<16} {'job':<12} {'exit':>4} {'run':>5} {'outcome':<10} "
                 f"{'verdict':<10} lease")
    portals = sorted(set(assigned) | {_text(k).rpartition(":")[2] for k in
                                      client.scan_iter(match=f"{keys.namespace}:portal:*", count=500)})
    for portal in portals:
        record = {_text(k): _text(v) for k, v in client.hgetall(keys.portal(portal)).items()}
        holder = current_holder(client, keys, portal)
        lease = (f"token {holder.token} {holder.holder} ({holder.ttl_ms / 1000:.0f}s left)" if holder else "-")
        lines.append(f"{portal:<16} {assigned.get(portal, '-'):<16} {record.get('job', '-'):<12} "
                     f"{record.get('exit', '') or '-':>4} {record.get('run_id', '') or '-':>5} "
                     f"{record.get('outcome', '') or '-':<10} {record.get('verdict', '') or '-':<10} {lease}")
    return lines


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
