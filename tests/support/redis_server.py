"""A real Redis for the scaleout tests: the one on 127.0.0.1:6379 when it answers, else a private redis-server.

No mock Redis, ever. The private server listens on a free loopback port with no persistence and goes away
with the session; ``make test`` installs Debian's redis-server package when neither is there
(``.ci/ensure-redis``). Other test runs share the Redis on 6379, so every test works in a namespace of its
own (``t<random>-<n>``) and the session deletes every key of its namespaces at the end.
"""

from __future__ import annotations

import itertools
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SHARED = ("127.0.0.1", 6379)


@dataclass(frozen=True)
class RedisServer:
    """Where the tests' Redis is, and the session's namespace prefix."""

    host: str
    port: int
    prefix: str
    private: bool

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"


def answers(host: str, port: int, timeout: float = 1.0) -> bool:
    """True when a Redis on host:port answers PING with PONG (a password-protected one does not count)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_private(directory: Path) -> tuple[subprocess.Popen[bytes], int]:
    """A redis-server on a free loopback port, no persistence; fails the session if none is installed."""
    exe = shutil.which("redis-server") or ("/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists()
                                           else None)
    if exe is None:
        pytest.fail("no Redis answers on 127.0.0.1:6379 and redis-server is not installed: run `make test` "
                    "(it installs Debian's redis-server package) or `apt-get install redis-server`")
    port = free_port()
    proc = subprocess.Popen([exe, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
                             "--dir", str(directory), "--protected-mode", "yes"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while not answers("127.0.0.1", port):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"the private redis-server on 127.0.0.1:{port} did not start")
        time.sleep(0.05)
    return proc, port


def delete_namespace(server: RedisServer) -> int:
    """Delete every key under the session's prefix; how many there were."""
    import redis

    client = redis.Redis(host=server.host, port=server.port)
    keys = list(client.scan_iter(match=f"{server.prefix}*", count=1000))
    for start in range(0, len(keys), 500):
        client.delete(*keys[start:start + 500])
    client.close()
    return len(keys)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """The session's Redis (see the module docstring)."""
    prefix = f"t{secrets.token_hex(5)}"
    proc = None
    if answers(*SHARED):
        server = RedisServer(SHARED[0], SHARED[1], prefix, private=False)
    else:
        proc, port = start_private(tmp_path_factory.mktemp("redis"))
        server = RedisServer("127.0.0.1", port, prefix, private=True)
    try:
        yield server
    finally:
        try:
            delete_namespace(server)
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=10)


_numbers = itertools.count(1)


@pytest.fixture
def namespace(redis_server: RedisServer) -> str:
    """A namespace of this test's own (its keys are deleted with the session's)."""
    return f"{redis_server.prefix}-{next(_numbers)}"
