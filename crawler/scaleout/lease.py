"""One run per portal at a time, cluster-wide: a lease in Redis with a fencing token.

``acquire`` is one Lua script: if nobody holds ``{ns}:lease:{portal}``, take a token from ``INCR
{ns}:fence:{portal}`` (never below ``floor + 1``, the newest token the portal's own state has seen, so a Redis that
lost its data cannot hand out an old token again) and ``SET`` the lease to ``"{token} {holder}"`` with a TTL.
``renew`` and ``release`` act only while the lease still holds that exact value (compare-and-set in Lua), so a
holder whose lease expired and was taken by another never extends or deletes the new holder's lease.

The token goes to the crawl, which records it in the portal's state and refuses to commit once a newer token
was recorded there (``crawler.recurring.fencing``): a paused or partitioned holder that lost its lease cannot
clobber what the new holder wrote.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from crawler.scaleout.keys import Keys

if TYPE_CHECKING:
    import redis

_ACQUIRE = """
local holder = redis.call('GET', KEYS[1])
if holder then
    return {0, holder, redis.call('PTTL', KEYS[1])}
end
local token = redis.call('INCR', KEYS[2])
local floor = tonumber(ARGV[3])
if token <= floor then
    token = floor + 1
    redis.call('SET', KEYS[2], token)
end
redis.call('SET', KEYS[1], token .. ' ' .. ARGV[1], 'PX', ARGV[2])
return {token, '', 0}
"""

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""


@dataclass(frozen=True)
class Holder:
    """Who holds a lease: its token, its holder text (``worker~host``) and the milliseconds left."""

    token: int
    holder: str
    ttl_ms: int


class PortalLease:
    """The lease of one portal for one holder; ``acquire`` returns the fencing token or None when held."""

    def __init__(self, client: redis.Redis, keys: Keys, portal: str, holder: str, ttl: float) -> None:
        if ttl <= 0:
            raise ValueError(f"SCALEOUT_LEASE_TTL must be > 0 seconds, got {ttl}")
        self.client, self.keys, self.portal, self.holder = client, keys, portal, holder
        self.ttl_ms = max(1, round(ttl * 1000))
        self.token = 0
        #: Who held the lease when ``acquire`` found it taken.
        self.held_by: Holder | None = None
        self._scripts = {name: client.register_script(text)
                         for name, text in (("acquire", _ACQUIRE), ("renew", _RENEW), ("release", _RELEASE))}

    @property
    def value(self) -> str:
        """The lease's value while this holder holds it."""
        return f"{self.token} {self.holder}"

    def acquire(self, floor: int = 0) -> int | None:
        """Take the lease with a token above ``floor``; None (and ``held_by`` set) when another run holds it."""
        token, holder, ttl = self._scripts["acquire"](keys=[self.keys.lease(self.portal), self.keys.fence(self.portal)],
                                                      args=[self.holder, self.ttl_ms, int(floor)])
        if int(token) == 0:
            self.held_by = parse_holder(_text(holder), int(ttl))
            return None
        self.token = int(token)
        return self.token

    def renew(self) -> bool:
        """Extend the lease by the TTL; False when it is no longer ours (expired, or taken by another)."""
        if not self.token:
            return False
        return bool(self._scripts["renew"](keys=[self.keys.lease(self.portal)], args=[self.value, self.ttl_ms]))

    def release(self) -> bool:
        """Give the lease up if it is still ours; True when it was."""
        if not self.token:
            return False
        released = bool(self._scripts["release"](keys=[self.keys.lease(self.portal)], args=[self.value]))
        self.token = 0
        return released


def parse_holder(value: str, ttl_ms: int = -1) -> Holder:
    """``"{token} {holder}"`` as a Holder."""
    token, _, holder = value.partition(" ")
    return Holder(int(token) if token.isdigit() else 0, holder, ttl_ms)


def current_holder(client: redis.Redis, keys: Keys, portal: str) -> Holder | None:
    """Who holds the portal's lease now (None when nobody does)."""
    pipe = client.pipeline()
    pipe.get(keys.lease(portal))
    pipe.pttl(keys.lease(portal))
    value, ttl = pipe.execute()
    return parse_holder(_text(value), int(ttl)) if value is not None else None


class LeaseKeeper:
    """Renews a lease every TTL/4 while a run goes on, and says when the run must stop.

    The lease is lost when a renewal finds it no longer ours, or when no renewal succeeded for a whole TTL
    (Redis unreachable): by then it may have expired and been taken, so the run cannot go on safely.
    """

    def __init__(self, lease: PortalLease, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.lease = lease
        self.ttl = lease.ttl_ms / 1000
        self.interval = self.ttl / 4
        self._monotonic = monotonic
        now = self._monotonic()
        self.last_ok = now
        self.next_at = now + self.interval
        #: Why the lease was lost ("" while held).
        self.lost = ""

    def tick(self) -> bool:
        """Renew when due; True while the lease is held."""
        if self.lost:
            return False
        now = self._monotonic()
        if now < self.next_at:
            return True
        import redis

        try:
            held = self.lease.renew()
        except (redis.RedisError, OSError) as exc:
            self.next_at = now + min(1.0, self.interval)
            if now - self.last_ok >= self.ttl * 0.9:
                self.lost = f"no renewal for {now - self.last_ok:.0f} s (Redis: {exc})"
                return False
            return True
        if not held:
            self.lost = "the lease expired or another run took it"
            return False
        self.last_ok, self.next_at = now, now + self.interval
        return True


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value or "")
