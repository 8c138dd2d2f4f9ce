"""The ``--queue`` value: a Redis URL, checked before anything is written, and a client that answered PING.

Accepted: ``redis://[[user]:password@]host[:port][/db]`` and ``rediss://…`` (TLS). A password may come from the
environment variable ``ARCHIVER_REDIS_PASSWORD`` instead of the URL, so it stays out of ``ps`` and of logs.
Messages show the URL with the password masked.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit, urlunsplit

if TYPE_CHECKING:
    import redis

PASSWORD_ENV = "ARCHIVER_REDIS_PASSWORD"
EXPECTED = "redis://[[user]:password@]host[:port][/db] or rediss://… (TLS)"
SCHEMES = ("redis", "rediss")


class RedisUrlError(ValueError):
    """The URL is malformed or names a Redis that does not answer; the message is one line for the user."""


@dataclass(frozen=True)
class RedisUrl:
    """A validated Redis URL: ``url`` as given (plus a password from the environment), ``shown`` masked."""

    url: str
    shown: str
    host: str
    port: int
    db: int
    option: str = "--queue"

    def client(self, *, decode_responses: bool = False, timeout: float = 10.0) -> redis.Redis:
        """A client for this Redis (not yet connected)."""
        import redis

        return redis.Redis.from_url(self.url, decode_responses=decode_responses, socket_timeout=timeout,
                                    socket_connect_timeout=timeout, health_check_interval=30)

    def connect(self, *, decode_responses: bool = False, timeout: float = 10.0) -> redis.Redis:
        """A client that answered PING; RedisUrlError naming the URL otherwise."""
        import redis

        client = self.client(decode_responses=decode_responses, timeout=timeout)
        try:
            client.ping()
        except redis.AuthenticationError as exc:
            raise RedisUrlError(f"Redis at {self.shown} ({self.option}) refused the password ({exc}); give it in "
                                f"the URL or in {PASSWORD_ENV}") from None
        except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
            reason = (str(exc).splitlines() or [type(exc).__name__])[0].rstrip(".")
            raise RedisUrlError(f"cannot reach Redis at {self.shown} ({self.option}): {reason}; expected a running "
                                "Redis server there") from None
        except redis.ResponseError as exc:
            raise RedisUrlError(f"Redis at {self.shown} ({self.option}) answered PING with an error: {exc}") from None
        return client


def parse_redis_url(value: str, option: str = "--queue") -> RedisUrl:
    """Validate a Redis URL given as ``option``; RedisUrlError with one line naming it and the expected form."""
    bad = RedisUrlError(f"{option} expects {EXPECTED}, got {_mask(value)!r}")
    if not isinstance(value, str) or not value or any(ch.isspace() for ch in value):
        raise bad
    try:
        parts = urlsplit(value)
        port = parts.port or 6379
    except ValueError:
        raise bad from None
    if parts.scheme not in SCHEMES or not parts.hostname or parts.fragment:
        raise bad
    path = parts.path.strip("/")
    if path and not (path.isdigit() and int(path) < 10_000):
        raise bad
    url = value
    if parts.password is None and os.environ.get(PASSWORD_ENV):
        user = quote(parts.username or "", safe="")
        netloc = f"{user}:{quote(os.environ[PASSWORD_ENV], safe='')}@{parts.netloc.rpartition('@')[2]}"
        url = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return RedisUrl(url=url, shown=_mask(value), host=parts.hostname, port=port, db=int(path or 0), option=option)


def _mask(value: object) -> str:
    """The URL with its password replaced by ``***`` (anything unparsable is shown as it is)."""
    text = str(value)
    try:
        parts = urlsplit(text)
        if parts.password is None:
            return text
    except ValueError:
        return text
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user = userinfo.partition(":")[0]
    return urlunsplit((parts.scheme, f"{user}:***@{hostport}", parts.path, parts.query, parts.fragment))
