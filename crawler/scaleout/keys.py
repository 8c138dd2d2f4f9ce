"""Every Redis key and queue name of the cluster, under one namespace (``SCALEOUT_NAMESPACE``).

Several archives (or test sessions) can share one Redis by using different namespaces; everything of one
namespace matches ``{namespace}:*``, so ``crawler queue-status`` and clean-up find it all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
#: Dramatiq treats queue names ending in these as its delay and dead-letter queues.
_RESERVED_SUFFIXES = (".DQ", ".XQ")
#: The queue of machine M is ``runs-M`` (Dramatiq queue names: a letter first, then [A-Za-z0-9._-]).
QUEUE_PREFIX = "runs-"


class BadName(ValueError):
    """A namespace, machine or worker name that cannot be used."""


def check_name(value: str, what: str) -> str:
    """Return ``value`` if it is 1-63 of ``[A-Za-z0-9._-]`` starting with a letter or digit; else raise."""
    if not isinstance(value, str) or not _NAME.match(value) or value.endswith(_RESERVED_SUFFIXES):
        raise BadName(f"{what} expects 1-63 characters of A-Z, a-z, 0-9, '.', '_' and '-', starting with a "
                         f"letter or digit (not ending in .DQ or .XQ), got {value!r}")
    return value


def sanitize_host(host: str) -> str:
    """A host name as a machine or worker name: other characters become ``-``, at most 63."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", host).strip("._-")[:63]
    return cleaned or "localhost"


@dataclass(frozen=True)
class Keys:
    """Key names of one namespace."""

    namespace: str

    def __post_init__(self) -> None:
        check_name(self.namespace, "SCALEOUT_NAMESPACE")

    @property
    def dramatiq(self) -> str:
        """The namespace Dramatiq's Redis broker prefixes its keys with."""
        return f"{self.namespace}:dq"

    @staticmethod
    def queue(machine: str) -> str:
        """The Dramatiq queue of one machine's portal runs."""
        return QUEUE_PREFIX + machine

    def queue_key(self, machine: str) -> str:
        """The Redis list of the machine's queued message ids (Dramatiq's layout: ``{namespace}:{queue}``)."""
        return f"{self.dramatiq}:{self.queue(machine)}"

    def lease(self, portal: str) -> str:
        """The portal's lease: ``{token} {worker}``, with a TTL, while a run holds it."""
        return f"{self.namespace}:lease:{portal}"

    def fence(self, portal: str) -> str:
        """The portal's fencing counter (INCR gives each lease a larger token)."""
        return f"{self.namespace}:fence:{portal}"

    @property
    def assignments(self) -> str:
        """Hash portal -> machine (stickiness)."""
        return f"{self.namespace}:assign"

    @property
    def machine_load(self) -> str:
        """Hash machine -> number of portals assigned to it."""
        return f"{self.namespace}:assign-count"

    @property
    def machines(self) -> str:
        """Sorted set machine -> last heartbeat (ms since the epoch, Redis clock)."""
        return f"{self.namespace}:machines"

    def portal(self, portal: str) -> str:
        """Hash of the portal's last job: run id, start, outcome, exit status, verdict, worker."""
        return f"{self.namespace}:portal:{portal}"

    def queued(self, portal: str) -> str:
        """Set while a job for the portal is queued or running (run-due does not enqueue it again)."""
        return f"{self.namespace}:queued:{portal}"

    def attempts(self, message_id: str) -> str:
        """Deliveries of one message (a worker killed mid-job is a delivery too)."""
        return f"{self.namespace}:attempts:{message_id}"

    def rate(self, host: str) -> str:
        """The host's next allowed request time (GCRA's theoretical arrival time, microseconds)."""
        return f"{self.namespace}:rate:{host.lower()}"
