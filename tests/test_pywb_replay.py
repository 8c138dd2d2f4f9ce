"""Replay of a real crawl in a real pywb ``wayback`` (its own virtualenv, built by ``make install``) on 127.0.0.1.

Three ways to serve the same WARCs:

* ``default/ours``: pywb's default rules, our own index (``crawler index``);
* ``default/added``: pywb's default rules, pywb's own index (``wb-manager add``);
* ``exact/ours``: our index with pywb's fuzzy matching removed (``archives.pywb.disable_fuzzy_matching``).

All three must replay release pages byte for byte, GBK and gzip pages, redirects, and every captured dataproxy
POST with the list its body asked for. They differ on a POST body that was never captured: the default rules
answer 200 with some other capture of the same path (the test pins that down), the exact rules answer 404.
"""

from __future__ import annotations

import gzip
import http.client
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from archives import pywb
from archives.warc_writer import timestamp17
from tests.support.archive_crawl import ArchiveCrawl, Exchange, archive_crawl
from tests.support.common import run_cli

SERVED = [("default", "ours"), ("default", "added"), ("exact", "ours")]
_RELEASE_LINK = re.compile(rb"/art/\d+/\d+/\d+/art_\d+_\d+\.html")


@dataclass
class Replay:
    servers: dict[str, pywb.Wayback]
    crawl: ArchiveCrawl

    def request(self, server: str, coll: str, exchange_url: str, ts: str, mod: str = "id_", *,
                method: str = "GET", body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        wayback = self.servers[server]
        conn = http.client.HTTPConnection("127.0.0.1", wayback.port, timeout=30)
        try:
            conn.request(method, f"/{coll}/{ts}{mod}/{exchange_url}", body=body, headers=headers or {})
            answer = conn.getresponse()
            return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
        finally:
            conn.close()


def _ts(exchange: Exchange) -> str:
    return re.sub(r"\D", "", exchange.warc_date)[:14]


@pytest.fixture(scope="module")
def replay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replay]:
    try:
        pywb.pywb_tool("wayback")
        pywb.pywb_tool("wb-manager")
    except pywb.PywbError as exc:
        pytest.fail(f"pywb is not installed: {exc}")
    crawl = archive_crawl(tmp_path_factory)
    base = tmp_path_factory.mktemp("pywb")
    index = base / "crawl.cdxj"
    proc = run_cli("index", str(crawl.warc_dir), "-o", str(index))
    assert proc.returncode == 0, proc.stderr
    pywb.build_collection(base / "default", "ours", crawl.warc_files, index=index)
    pywb.build_collection(base / "default", "added", crawl.warc_files)
    pywb.build_collection(base / "exact", "ours", crawl.warc_files, index=index)
    pywb.disable_fuzzy_matching(base / "exact")
    with pywb.Wayback(base / "default") as default, pywb.Wayback(base / "exact") as exact:
        yield Replay({"default": default, "exact": exact}, crawl)


def _release(crawl: ArchiveCrawl, *, charset: str | None = None, encoding: str | None = None) -> Exchange:
    for row in crawl.rows:
        exchange = crawl.response_for(row["url"])
        if charset and row["charset"]["used"] != charset:
            continue
        if (exchange.headers.get("content-encoding") or None) != encoding:
            continue
        return exchange
    raise AssertionError(f"the crawl has no release page with charset {charset} and encoding {encoding}")


def test_wayback_listens_on_loopback_only(replay: Replay) -> None:
    """The listening socket itself is bound to 127.0.0.1 (wayback's default would be 0.0.0.0)."""
    listening: dict[int, set[str]] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            if state == "0A":  # LISTEN
                address, port = local.split(":")
                listening.setdefault(int(port, 16), set()).add(address)
    for wayback in replay.servers.values():
        assert listening.get(wayback.port) == {"0100007F"}, (wayback.port, listening.get(wayback.port))


@pytest.mark.parametrize(("server", "coll"), SERVED)
def test_raw_replay_of_a_release_page(replay: Replay, server: str, coll: str) -> None:
    exchange = _release(replay.crawl, charset="utf-8")
    status, headers, body = replay.request(server, coll, exchange.url, _ts(exchange),
                                           headers={"Accept-Encoding": "gzip"})
    assert status == 200
    assert body == exchange.payload
    assert headers.get("content-encoding") == exchange.headers.get("content-encoding")
    status, _, body = replay.request(server, coll, exchange.url, _ts(exchange))
    assert status == 200 and body == exchange.decoded


@pytest.mark.parametrize(("server", "coll"), SERVED)
def test_gzip_encoded_response_replays(replay: Replay, server: str, coll: str) -> None:
    exchange = _release(replay.crawl, encoding="gzip")
    assert exchange.payload[:2] == b"\x1f\x8b"
    status, headers, body = replay.request(server, coll, exchange.url, _ts(exchange),
                                           headers={"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers.get("content-encoding") == "gzip"
    assert body == exchange.payload, "with Accept-Encoding: gzip the stored (compressed) bytes come back"
    status, headers, body = replay.request(server, coll, exchange.url, _ts(exchange))
    assert status == 200
    assert "content-encoding" not in headers
    assert body == gzip.decompress(exchange.payload)
    assert b"</html>" in body.lower()


@pytest.mark.parametrize(("server", "coll"), SERVED)
@pytest.mark.parametrize("mod", ["id_", "mp_"])
def test_gbk_page_keeps_its_chinese_text(replay: Replay, server: str, coll: str, mod: str) -> None:
    exchange = _release(replay.crawl, charset="gb18030")
    row = next(r for r in replay.crawl.rows if r["url"] == exchange.url)
    title = row["title"]
    assert not title.isascii()
    status, _, body = replay.request(server, coll, exchange.url, _ts(exchange), mod)
    assert status == 200
    if mod == "id_":
        assert body == exchange.decoded
    text = body.decode("gb18030")
    assert title in " ".join(text.split()), f"{title!r} not in the replayed page"
    assert "\ufffd" not in text


@pytest.mark.parametrize(("server", "coll"), SERVED)
def test_redirect_replays_as_a_redirect(replay: Replay, server: str, coll: str) -> None:
    source = replay.crawl.base_url + "col/col1229004/"
    target_url = replay.crawl.base_url + "col/col1229004/index.html"
    exchange = replay.crawl.response_for(source)
    assert exchange.status == 302
    # raw mode: the stored 302 and its Location header as the portal sent it
    status, headers, _ = replay.request(server, coll, source, _ts(exchange))
    assert status == 302
    assert headers["location"] == exchange.headers["location"] == "/col/col1229004/index.html"
    # rewritten mode: Location points back into the archive
    status, headers, _ = replay.request(server, coll, source, _ts(exchange), "mp_")
    assert status == 302
    location = headers["location"]
    assert location.startswith(f"/{coll}/") and location.endswith("mp_/" + target_url), location
    status, _, body = replay.request(server, coll, target_url, location.split("/")[2][:14], "mp_")
    assert status == 200 and "政策文件" in body.decode("utf-8")
    target = replay.crawl.response_for(target_url)
    status, _, body = replay.request(server, coll, target.url, _ts(target))
    assert status == 200 and body == target.decoded


def _form(exchange: Exchange) -> bytes:
    return exchange.request_body


def _release_links(xml: bytes) -> list[bytes]:
    return _RELEASE_LINK.findall(xml)


@pytest.mark.parametrize(("server", "coll"), SERVED)
def test_every_captured_post_replays_the_list_its_body_asked_for(replay: Replay, server: str, coll: str) -> None:
    posts = replay.crawl.posts()
    shared = [p for p in posts if sum(q.url == p.url for q in posts) > 1]
    assert len(shared) >= 2, "the crawl should hold POSTs that differ only in their body"
    for post in posts:
        status, _, body = replay.request(server, coll, post.url, _ts(post), method="POST", body=_form(post),
                                         headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 200, post.url
        links = _release_links(body)
        assert links == _release_links(post.decoded), (
            f"{post.url} with body {post.request_body[:80]!r} replayed another list")
        assert body == post.decoded  # the page past a list's end (the walk's last ask) replays empty, as captured
        if links:
            columns = {m.split(b"_")[1] for m in links}
            assert columns == {dict(parse_qsl(post.request_body.decode()))["columnid"].encode()}
    assert sum(bool(_release_links(p.decoded)) for p in posts) >= len(posts) // 2, "most POSTs should list releases"


def _uncaptured(replay: Replay) -> tuple[Exchange, bytes]:
    post = replay.crawl.posts()[0]
    form = dict(parse_qsl(post.request_body.decode()))
    form["columnid"], form["unitid"] = "7777777", "1234567"
    return post, urlencode(form).encode()


@pytest.mark.parametrize("coll", ["ours", "added"])
def test_default_pywb_answers_an_uncaptured_post_with_another_capture(replay: Replay, coll: str) -> None:
    """pywb's catch-all fuzzy rule: a POST nobody captured gets 200 and a captured list of the same path.

    Nothing in the response says it is a fuzzy match (same Content-Location and Link as an exact hit), so only a
    comparison with the stored response for that body can tell. Pinned here so that a pywb upgrade that
    changes it is noticed.
    """
    post, body = _uncaptured(replay)
    status, headers, answer = replay.request("default", coll, post.url, _ts(post), method="POST", body=body,
                                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200
    same_path = [p.decoded for p in replay.crawl.posts() if urlsplit(p.url).path == urlsplit(post.url).path]
    assert answer in same_path, "expected pywb to serve one of the captured lists (fuzzy match)"
    assert b"7777777" not in answer
    # Content-Location names the URL of the capture served, which carries no body: when only the body differs
    # (several columns POST to one URL) the answer looks exactly like a hit
    [served] = {p.url for p in replay.crawl.posts() if p.decoded == answer}
    assert headers["content-location"].endswith("id_/" + served)
    assert "memento-datetime" in headers and 'rel="original"' in headers["link"]
    # a plain GET of the POST-only URL is answered the same way
    status, _, answer = replay.request("default", coll, post.url, _ts(post))
    assert status == 200 and answer in same_path


def test_exact_match_pywb_refuses_an_uncaptured_post(replay: Replay) -> None:
    post, body = _uncaptured(replay)
    status, _, answer = replay.request("exact", "ours", post.url, _ts(post), method="POST", body=body,
                                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 404
    assert not _release_links(answer)
    status, _, _ = replay.request("exact", "ours", post.url, _ts(post))
    assert status == 404, "a GET must not be answered with a POST capture"
    missing = replay.crawl.base_url + "art/2030/1/1/art_1229001_1.html"
    status, _, _ = replay.request("exact", "ours", missing, timestamp17()[:14])
    assert status == 404


def test_missing_pywb_venv_fails_with_make_install_hint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(pywb.PYWB_VENV_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(pywb.PywbError, match="make install"):
        pywb.pywb_tool("wayback")
