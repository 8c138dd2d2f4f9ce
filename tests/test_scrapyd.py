"""The project deploys to scrapyd: an egg built by scrapyd-deploy, a real scrapyd on 127.0.0.1, schedule.json.

The portal lock is taken when the spider opens, so a crawl scrapyd starts honours a lock held elsewhere.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crawler.recurring.locks import PortalLock
from crawler.recurring.state import CrawlState
from simulator.process import SimulatorProcess
from tests.support.common import BIN, REPO
from tests.support.recurring_support import read_lines

RELEASES = 15
PROJECT = "district_portal_archiver"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _call(base: str, path: str, fields: list[tuple[str, str]] | None = None, egg: bytes | None = None) -> Any:
    if egg is not None:
        boundary = uuid.uuid4().hex
        parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                 for k, v in fields or []]
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="egg"; filename="p.egg"\r\n'
                     f"Content-Type: application/octet-stream\r\n\r\n".encode() + egg + b"\r\n")
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        request = urllib.request.Request(base + path, data=body,
                                         headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    elif fields is not None:
        request = urllib.request.Request(base + path, data=urllib.parse.urlencode(fields).encode())
    else:
        request = urllib.request.Request(base + path)
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.load(answer)


@pytest.fixture(scope="module")
def scrapyd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, bytes]]:
    """A scrapyd on 127.0.0.1 and the project's egg (built by scrapyd-deploy from a copy of the tree)."""
    tmp = tmp_path_factory.mktemp("scrapyd")
    tree = tmp / "tree"
    tree.mkdir()
    for name in ("crawler", "spiders", "pipelines", "archives"):
        shutil.copytree(REPO / name, tree / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("scrapy.cfg", "pyproject.toml", "README.md"):
        shutil.copy(REPO / name, tree / name)
    built = subprocess.run([str(BIN / "scrapyd-deploy"), "--build-egg", str(tmp / "p.egg")], cwd=tree,
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    port = _free_port()
    home = tmp / "home"
    home.mkdir()
    (home / "scrapyd.conf").write_text(
        f"[scrapyd]\nbind_address = 127.0.0.1\nhttp_port = {port}\neggs_dir = {home / 'eggs'}\n"
        f"logs_dir = {home / 'logs'}\nitems_dir =\ndbs_dir = {home / 'dbs'}\nmax_proc = 2\npoll_interval = 0.2\n",
        encoding="utf-8")
    server = subprocess.Popen([str(BIN / "scrapyd")], cwd=home, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                assert _call(base, "daemonstatus.json")["status"] == "ok"
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "scrapyd did not start"
                time.sleep(0.2)
        yield base, (tmp / "p.egg").read_bytes()
    finally:
        server.terminate()
        server.wait(timeout=30)


def _run_job(base: str, fields: list[tuple[str, str]]) -> None:
    job = _call(base, "schedule.json", fields)
    assert job["status"] == "ok", job
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        jobs = _call(base, f"listjobs.json?project={PROJECT}")
        if any(j["id"] == job["jobid"] for j in jobs["finished"]):
            return
        time.sleep(0.3)
    raise AssertionError(f"job {job['jobid']} did not finish")


def test_a_crawl_scheduled_through_scrapyd_archives_and_honours_the_lock(scrapyd: tuple[str, bytes],
                                                                         tmp_path: Path) -> None:
    base, egg = scrapyd
    added = _call(base, "addversion.json", [("project", PROJECT), ("version", "1")], egg=egg)
    assert added["status"] == "ok" and added["spiders"] >= 1, added
    out = tmp_path / "out"
    with SimulatorProcess(RELEASES, 2, extra_args=["--asset-host", ""]) as sim:
        fields = [("project", PROJECT), ("spider", "hanweb"), ("start_url", sim.base_url), ("portal", "demo")]
        for name, value in (("WARC_OUTPUT_DIR", out / "warc"), ("JSONL_OUTPUT_PATH", out / "releases.jsonl"),
                            ("FAILURES_OUTPUT_PATH", out / "failures.jsonl"), ("ARCHIVER_ALLOWED_IPS", "127.0.0.1"),
                            ("DOWNLOAD_DELAY", "0"), ("ATTACHMENTS_ENABLED", "False"),
                            ("REQUISITES_ENABLED", "False")):
            fields.append(("setting", f"{name}={value}"))
        with PortalLock(out / "demo.lock"):  # another run holds the portal
            _run_job(base, fields)
            assert not read_lines(out / "releases.jsonl")
            assert sim.stats()["requests"].get("release", 0) == 0
        _run_job(base, fields)
    rows = read_lines(out / "releases.jsonl")
    assert len({r["release_id"] for r in rows}) == len(rows) == RELEASES
    assert list((out / "warc").glob("*.warc.gz")) and not list((out / "warc").glob("*.open"))
    state = CrawlState(out / "state.sqlite")
    try:
        assert [r["outcome"] for r in state.runs("demo")] == ["complete"]
    finally:
        state.close()
