"""The SCALEOUT_* settings (defaults in crawler/settings.py), parsed and checked once."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING

from crawler import wiring
from crawler.scaleout.keys import Keys, check_name, sanitize_host

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

#: Longest time (s) a dead worker's job may wait before it is back on its queue.
REQUEUE_BOUND = 120.0


def check_timings(heartbeat_interval: float, heartbeat_timeout: float, lease_ttl: float) -> None:
    """Refuse settings under which a dead worker's job could wait longer than REQUEUE_BOUND, a live worker
    could be taken for dead, or a dead worker's lease could outlive the requeue of its job."""
    if heartbeat_interval <= 0 or heartbeat_timeout < 3 * heartbeat_interval:
        raise ValueError(f"SCALEOUT_HEARTBEAT_TIMEOUT ({heartbeat_timeout} s) must be at least 3 x "
                         f"SCALEOUT_HEARTBEAT_INTERVAL ({heartbeat_interval} s), which must be > 0")
    if heartbeat_timeout + heartbeat_interval > REQUEUE_BOUND:
        raise ValueError(f"SCALEOUT_HEARTBEAT_TIMEOUT + SCALEOUT_HEARTBEAT_INTERVAL must be at most "
                         f"{REQUEUE_BOUND:.0f} s (a dead worker's job is requeued within that), got "
                         f"{heartbeat_timeout + heartbeat_interval} s")
    if not 0 < lease_ttl < heartbeat_timeout - heartbeat_interval:
        raise ValueError(f"SCALEOUT_LEASE_TTL ({lease_ttl} s) must be > 0 and below SCALEOUT_HEARTBEAT_TIMEOUT - "
                         f"SCALEOUT_HEARTBEAT_INTERVAL ({heartbeat_timeout - heartbeat_interval} s), so a dead "
                         "worker's lease has expired when its job comes back")


@dataclass(frozen=True)
class ScaleoutConfig:
    """What the worker and ``run-due --queue`` need to know."""

    namespace: str
    machine: str
    heartbeat_interval: float
    heartbeat_timeout: float
    lease_ttl: float
    max_attempts: int
    retry_backoff: float
    retry_backoff_max: float
    job_time_limit: float
    shutdown_grace: float

    @property
    def keys(self) -> Keys:
        return Keys(self.namespace)

    @property
    def max_retries(self) -> int:
        """Dramatiq retries of a failed job (the first attempt is not a retry)."""
        return self.max_attempts - 1

    @classmethod
    def from_settings(cls, settings: BaseSettings, machine: str | None = None) -> ScaleoutConfig:
        """Read and check the settings; ValueError naming the setting when one is out of range."""
        config = cls(
            namespace=check_name(str(wiring.get(settings, "SCALEOUT_NAMESPACE")), "SCALEOUT_NAMESPACE"),
            machine=check_name(machine or str(wiring.get(settings, "SCALEOUT_MACHINE") or "")
                               or sanitize_host(socket.gethostname()), "the machine name (--machine)"),
            heartbeat_interval=wiring.getfloat(settings, "SCALEOUT_HEARTBEAT_INTERVAL"),
            heartbeat_timeout=wiring.getfloat(settings, "SCALEOUT_HEARTBEAT_TIMEOUT"),
            lease_ttl=wiring.getfloat(settings, "SCALEOUT_LEASE_TTL"),
            max_attempts=wiring.getint(settings, "SCALEOUT_MAX_ATTEMPTS"),
            retry_backoff=wiring.getfloat(settings, "SCALEOUT_RETRY_BACKOFF"),
            retry_backoff_max=wiring.getfloat(settings, "SCALEOUT_RETRY_BACKOFF_MAX"),
            job_time_limit=wiring.getfloat(settings, "SCALEOUT_JOB_TIME_LIMIT"),
            shutdown_grace=wiring.getfloat(settings, "SCALEOUT_SHUTDOWN_GRACE"),
        )
        check_timings(config.heartbeat_interval, config.heartbeat_timeout, config.lease_ttl)
        if config.max_attempts < 1:
            raise ValueError(f"SCALEOUT_MAX_ATTEMPTS must be >= 1, got {config.max_attempts}")
        if not 0 < config.retry_backoff <= config.retry_backoff_max:
            raise ValueError(f"SCALEOUT_RETRY_BACKOFF ({config.retry_backoff} s) must be > 0 and at most "
                             f"SCALEOUT_RETRY_BACKOFF_MAX ({config.retry_backoff_max} s)")
        if config.job_time_limit < 3600:
            raise ValueError(f"SCALEOUT_JOB_TIME_LIMIT must be at least 3600 s (longer than the longest crawl), "
                             f"got {config.job_time_limit}")
        if config.shutdown_grace < 0:
            raise ValueError(f"SCALEOUT_SHUTDOWN_GRACE must be >= 0, got {config.shutdown_grace}")
        return config
