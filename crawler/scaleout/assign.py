"""Stickiness: each portal runs on the machine whose local disk holds its directory and SQLite state.

The first time ``run-due --queue`` enqueues a portal, one Lua script assigns it to the live machine with the
fewest portals (live: a worker of it beat within the heartbeat timeout, by Redis's clock) and records
``portal -> machine`` in ``{ns}:assign``; from then on the portal's jobs go to that machine's queue
(``runs-{machine}``), which all worker processes of the machine share. Nothing moves a portal by itself: when
its machine is gone, its jobs wait in that machine's queue (docs/scaleout.md: what to do then).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crawler.scaleout.keys import Keys, check_name

if TYPE_CHECKING:
    import redis

_ASSIGN = """
if redis.replicate_commands then redis.replicate_commands() end
local owner = redis.call('HGET', KEYS[1], ARGV[1])
if owner then
    return owner
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local live = redis.call('ZRANGEBYSCORE', KEYS[3], now - tonumber(ARGV[2]), '+inf')
if #live == 0 then
    return false
end
local best, best_load = nil, nil
for _, machine in ipairs(live) do
    local load = tonumber(redis.call('HGET', KEYS[2], machine) or '0')
    if best == nil or load < best_load or (load == best_load and machine < best) then
        best, best_load = machine, load
    end
end
redis.call('HSET', KEYS[1], ARGV[1], best)
redis.call('HINCRBY', KEYS[2], best, 1)
return best
"""


def machine_of(client: redis.Redis, keys: Keys, portal: str) -> str | None:
    """The machine a portal is assigned to (None before its first enqueue)."""
    value = client.hget(keys.assignments, portal)
    return _text(value) if value is not None else None


def assign(client: redis.Redis, keys: Keys, portal: str, live_window: float) -> str | None:
    """The portal's machine, assigning it to the least-loaded live machine the first time (None: no live one)."""
    script = client.register_script(_ASSIGN)
    result = script(keys=[keys.assignments, keys.machine_load, keys.machines],
                    args=[portal, max(1, round(live_window * 1000))])
    return _text(result) if result else None


def reassign(client: redis.Redis, keys: Keys, portal: str, machine: str) -> str | None:
    """Move a portal to another machine (after its directory and state were moved there); the old machine.

    Jobs still queued on the old machine are dropped when they come up (the job checks the assignment), and the
    queued marker goes, so the next ``run-due --queue`` queues the portal on its new machine.
    """
    check_name(machine, "the machine")
    old = machine_of(client, keys, portal)
    pipe = client.pipeline()
    pipe.hset(keys.assignments, portal, machine)
    pipe.hincrby(keys.machine_load, machine, 1)
    if old is not None:
        pipe.hincrby(keys.machine_load, old, -1)
    pipe.delete(keys.queued(portal))
    pipe.execute()
    return old


def live_machines(client: redis.Redis, keys: Keys, live_window: float) -> list[tuple[str, float]]:
    """Every machine with its seconds since the last heartbeat, the live ones (within the window) first."""
    now_ms = redis_now_ms(client)
    members: list[tuple[Any, float]] = client.zrange(keys.machines, 0, -1, withscores=True)  # type: ignore[assignment]
    rows = [(_text(name), (now_ms - float(score)) / 1000) for name, score in members]
    return sorted(rows, key=lambda row: (row[1] > live_window, row[1]))


def redis_now_ms(client: Any) -> int:
    """Redis's clock, in milliseconds since the epoch (one clock for every machine)."""
    now = client.time()
    return int(now[0]) * 1000 + int(now[1]) // 1000


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
