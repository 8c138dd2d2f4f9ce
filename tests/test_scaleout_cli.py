"""The queue commands at their edges: bad input, no Redis on the plain path, run-due --queue, reassign."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import redis

from crawler.scaleout.keys import Keys
from tests.support.common import REPO, run_cli
from tests.support.redis_server import RedisServer, free_port

pytestmark = pytest.mark.scaleout


def _registry(path: Path, *, enabled: bool = True) -> Path:
    path.write_text('[portals.p1]\nname = "p"\nstart_urls = ["http://127.0.0.1:9/"]\nschedule = "1d"\n'
                    f"enabled = {'true' if enabled else 'false'}\n", encoding="utf-8")
    return path


def _one_line_error(proc: subprocess.CompletedProcess[str], command: str, *needles: str) -> None:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"crawler {command}: error: "), proc.stderr
    assert "Traceback" not in proc.stderr and all(n in lines[0] for n in needles), lines[0]


@pytest.mark.parametrize(("args", "needles"), [
    (["--queue", "http://127.0.0.1:6379"], ["--queue expects redis://", "'http://127.0.0.1:6379'"]),
    (["--queue", "redis://:secret@127.0.0.1:99999/0"], ["--queue expects redis://", ":***@"]),
    (["--queue", "redis://127.0.0.1:6379/0", "--machine", "a b"], ["--machine", "'a b'"]),
    (["--queue", "redis://127.0.0.1:6379/0", "--set", "SCALEOUT_HEARTBEAT_TIMEOUT=200"], ["at most 120 s"]),
])
def test_worker_refuses_bad_input_before_writing_anything(tmp_path: Path, args: list[str],
                                                          needles: list[str]) -> None:
    root = tmp_path / "archive"
    proc = run_cli("worker", *args, "--portals", str(_registry(tmp_path / "p.toml")), "--archive-root", str(root),
                   timeout=60)
    _one_line_error(proc, "worker", *needles)
    assert not root.exists() and "secret" not in proc.stderr


def test_an_unreachable_redis_is_bad_input(tmp_path: Path) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    root = tmp_path / "archive"
    worker = run_cli("worker", "--queue", url, "--portals", str(_registry(tmp_path / "p.toml")), "--archive-root",
                     str(root), timeout=60)
    _one_line_error(worker, "worker", f"cannot reach Redis at {url} (--queue)")
    due = run_cli("run-due", "--queue", url, "--portals", str(tmp_path / "p.toml"), "--archive-root", str(root),
                  timeout=60)
    _one_line_error(due, "run-due", "cannot reach Redis")
    assert not root.exists()


def test_plain_run_due_needs_no_redis_and_imports_neither_redis_nor_dramatiq(tmp_path: Path) -> None:
    registry = _registry(tmp_path / "p.toml", enabled=False)
    script = ("import sys; from crawler.cli import main; "
              f"code = main(['run-due', '--portals', {str(registry)!r}, '--archive-root', {str(tmp_path)!r}]); "
              "loaded = sorted(m for m in ('redis', 'dramatiq') if m in sys.modules); print(code, loaded)")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert proc.stdout.strip().splitlines()[-1] == "0 []", proc.stdout + proc.stderr


def test_run_due_queue_assigns_queues_once_and_reassign_moves(redis_server: RedisServer, namespace: str,
                                                              tmp_path: Path) -> None:
    registry = _registry(tmp_path / "p.toml")
    ns = ("--set", f"SCALEOUT_NAMESPACE={namespace}")
    keys, client = Keys(namespace), redis.Redis(host=redis_server.host, port=redis_server.port,
                                                decode_responses=True)
    nobody = run_cli("run-due", "--queue", redis_server.url, "--portals", str(registry), *ns, timeout=60)
    assert nobody.returncode == 1 and "p1: no live worker" in nobody.stdout
    client.zadd(keys.machines, {"m7": int(client.time()[0]) * 1000})  # as a worker's heartbeat does
    first = run_cli("run-due", "--queue", redis_server.url, "--portals", str(registry), *ns, timeout=60)
    again = run_cli("run-due", "--queue", redis_server.url, "--portals", str(registry), *ns, timeout=60)
    assert first.returncode == 0 and "p1: queued on m7" in first.stdout, first.stdout + first.stderr
    assert again.returncode == 0 and "p1: already queued on m7" in again.stdout
    assert client.llen(keys.queue_key("m7")) == 1
    moved = run_cli("reassign", "p1", "m8", "--queue", redis_server.url, "--portals", str(registry), *ns,
                    timeout=60)
    assert moved.returncode == 0 and "p1: m7 -> m8" in moved.stdout, moved.stdout + moved.stderr
    assert client.hget(keys.assignments, "p1") == "m8" and not client.exists(keys.queued("p1"))
    status = run_cli("queue-status", "--queue", redis_server.url, *ns, timeout=60)
    assert status.returncode == 0 and "m7" in status.stdout and "p1" in status.stdout
    both = run_cli("run-due", "--queue", redis_server.url, "--portals", str(registry), "--state", "x.sqlite", *ns,
                   timeout=60)
    _one_line_error(both, "run-due", "--state does not apply with --queue")


def test_a_crawl_with_an_older_fencing_token_does_not_run(tmp_path: Path) -> None:
    """The state has seen token 5: a run holding token 3 (a stale lease holder) stops before its first request."""
    import sqlite3

    from crawler.recurring.fencing import install_fence
    from crawler.recurring.state import CrawlState

    out = tmp_path / "p1"
    state = CrawlState(out / "state.sqlite")
    install_fence(state.db, "p1", 5, "w9~elsewhere")
    state.close()
    proc = run_cli("crawl", "--portal", "p1", "--portals", str(_registry(tmp_path / "p.toml")), "--out", str(out),
                   "--set", "SCALEOUT_FENCING_TOKEN=3", timeout=120)
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert "NOT RUN: a run with a newer lease token holds this portal" in proc.stdout
    runs = sqlite3.connect(out / "state.sqlite").execute("SELECT count(*) FROM runs").fetchone()
    assert runs == (0,)  # no run was started: nothing was written under the older token
