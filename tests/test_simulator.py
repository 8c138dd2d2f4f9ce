"""Tests for the simulated Hanweb portal: a real subprocess on 127.0.0.1,
checked over HTTP and raw sockets."""

from __future__ import annotations

import gzip
import http.client
import inspect
import itertools
import json
import re
import socket
import subprocess
import sys
import time
import tracemalloc
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator.portal import COLUMNS, SEED_INDEX, SimulatedPortal
from simulator.server import write_truth
from simulator.templates import attachment_href

ROOT = Path(__file__).resolve().parents[1]
RELEASES = 200
HIDDEN = "Produced By 大汉网络 大汉版通发布系统"
TRUTH_KEYS = {
    "release_id",
    "url",
    "column",
    "title",
    "release_date",
    "release_datetime",
    "release_time_precision",
    "release_source",
    "hits",
    "source",
    "index_no",
    "doc_no",
    "body_text",
    "language",
    "charset_used",
    "attachments",
}
SEED_TITLE = (
    "CPPCC Chairman Meeting of Binjiang District to Inspect the Deep Development Work of Maker Spaces"
)
RECORD = re.compile(r"<record><!\[CDATA\[(.*?)\]\]></record>", re.S)
HREF = re.compile(r'<a href="([^"]+)"')


class Sim:
    """A running simulator subprocess."""

    def __init__(self, proc: subprocess.Popen[str], base: str) -> None:
        self.proc = proc
        self.base = base
        parts = urllib.parse.urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80

    def request(
        self, path: str, method: str = "GET", body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()

    def get_text(self, path: str) -> str:
        status, _, body = self.request(path)
        assert status == 200, path
        return body.decode("utf-8")

    def stats(self) -> dict:
        return json.loads(self.request("/__sim__/stats")[2])


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sim]:
    """The simulator as a real subprocess on 127.0.0.1, port 0; its stderr goes to a log file."""
    log = tmp_path_factory.mktemp("sim") / "stderr.log"
    args = [
        sys.executable,
        "-m",
        "simulator",
        "--port",
        "0",
        "--releases",
        str(RELEASES),
        "--seed",
        "0",
    ]
    with (
        log.open("w") as err,
        subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=err, text=True) as proc,
    ):
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            match = re.match(r"listening on (http://127\.0\.0\.1:\d+/)$", line.strip())
            assert match, f"unexpected first line {line!r}"
            yield Sim(proc, match.group(1))
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    assert "Traceback" not in log.read_text(), log.read_text()


@pytest.fixture(scope="module")
def portal() -> SimulatedPortal:
    return SimulatedPortal(RELEASES, seed=0)


def _first(portal: SimulatedPortal, **want: str) -> int:
    for i in range(portal.releases):
        r = portal.release(i)
        if all(getattr(r, k) == v for k, v in want.items()):
            return i
    raise AssertionError(f"no release with {want}")


def _path(href: str) -> str:
    return urllib.parse.urlsplit(href).path if href.startswith("http") else href


def _column_params(html: str) -> dict[str, str]:
    out = {
        "nextgroup": re.search(r'<nextgroup><!\[CDATA\[<a href="([^"]+)"></a>\]\]></nextgroup>', html).group(
            1
        )
    }
    for key in ("proxyUrl", "webname"):
        out[key] = re.search(key + r":'([^']*)'", html).group(1)
    for key in ("totalRecord", "perPage", "columnid", "unitid"):
        out[key] = re.search(key + r":(\d+)", html).group(1)
    return out


def _list_column(sim: Sim, column_path: str) -> list[str]:
    """Every release href of a column, walking its dataproxy the way the column page says."""
    html = sim.get_text(column_path)
    p = _column_params(html)
    total, per = int(p["totalRecord"]), int(p["perPage"])
    hrefs = []
    if re.search(r"[?&]page=", p["nextgroup"]):
        for page in range(1, -(-total // per) + 1):
            url = re.sub(r"page=\d+", f"page={page}", p["nextgroup"])
            status, _, body = sim.request(url)
            assert status == 200
            hrefs += HREF.findall("".join(RECORD.findall(body.decode("utf-8"))))
    else:
        form = urllib.parse.urlencode(
            {
                "col": 1,
                "appid": 1,
                "webid": 1,
                "path": "/",
                "columnid": p["columnid"],
                "sourceContentType": 1,
                "unitid": p["unitid"],
                "webname": p["webname"],
                "permissiontype": 0,
            }
        )
        for start in range(1, total + 1, 3 * per):
            url = f"{p['proxyUrl']}?startrecord={start}&endrecord={start + 3 * per - 1}&perpage={per}"
            status, _, body = sim.request(
                url, "POST", form.encode(), {"Content-Type": "application/x-www-form-urlencoded"}
            )
            assert status == 200
            hrefs += HREF.findall("".join(RECORD.findall(body.decode("utf-8"))))
    return [_path(h) for h in hrefs]


# -- site structure --------------------------------------------------------------------------------------


def test_robots(sim: Sim) -> None:
    status, headers, body = sim.request("/robots.txt")
    assert status == 200 and headers["content-type"].startswith("text/plain")
    assert body.decode().splitlines() == ["User-agent: *", "Disallow: /private/"]


def test_home_links(sim: Sim) -> None:
    html = sim.get_text("/")
    assert (
        "<meta name='Generator' content='大汉版通'>" in html
        and "<meta name='Author' content='大汉网络'>" in html
    )
    for column in COLUMNS:
        if column.link == "iframe":
            assert f'<IFRAME src="{column.path}"' in html
        elif column.link == "redirect":
            assert f'href="/col/col{column.cid}/"' in html
        else:
            assert f'href="{column.path}"' in html
    assert 'href="/private/secret.html"' in html and 'href="/col/col9999/index.html"' in html
    assert "/module/visitcount/visit.jsp?type=1&" in html
    assert html.rstrip().endswith(
        f"<a href='http://www.hanweb.com' style='display:none'>{HIDDEN}</a>\r\n"
        "<script language=\"javascript\" src='/script/pagecontrol.js'></script>\r\n</body>\r\n</html>"
    )
    assert sim.request("/col/col9999/index.html")[0] == 404


def test_redirecting_column_link(sim: Sim) -> None:
    column = next(c for c in COLUMNS if c.link == "redirect")
    status, headers, _ = sim.request(f"/col/col{column.cid}/")
    assert status == 302 and headers["location"] == column.path


def test_column_page_embeds_first_page(sim: Sim, portal: SimulatedPortal) -> None:
    for column in COLUMNS:
        html = sim.get_text(column.path)
        p = _column_params(html)
        assert p["proxyUrl"] == column.proxy and p["nextgroup"].startswith(column.proxy + "?")
        assert int(p["totalRecord"]) == portal.column_total(column) and p["perPage"] == "15"
        assert bool(re.search(r"[?&]page=", p["nextgroup"])) == (column.style == "get")
        records = RECORD.findall(html.split('<script type="text/xml">', 1)[1].split("</script>", 1)[0])
        assert len(records) == 15
        expected = [portal.release(i) for i in portal.column_indices(column, 0, 15)]
        assert [_path(HREF.search(r).group(1)) for r in records] == [r.path for r in expected]
        first = expected[0]
        assert f'title="{first.title}"' in records[0] and f"<span>{first.release_date}</span>" in records[0]
        assert f"visit.jsp?type=2&i_webid=1&i_columnid={column.cid}" in html


def test_get_dataproxy_page_two(sim: Sim, portal: SimulatedPortal) -> None:
    column = next(c for c in COLUMNS if c.style == "get")
    p = _column_params(sim.get_text(column.path))
    status, headers, body = sim.request(re.sub(r"page=1\b", "page=2", p["nextgroup"]))
    assert status == 200 and headers["content-type"].startswith("text/xml")
    xml = body.decode("utf-8")
    total = portal.column_total(column)
    assert f"<totalrecord>{total}</totalrecord><totalpage>{-(-total // 15)}</totalpage>" in xml
    want = [portal.release(i).path for i in portal.column_indices(column, 15, 30)]
    assert [_path(h) for h in HREF.findall("".join(RECORD.findall(xml)))] == want and want


def test_post_dataproxy_range_and_errors(sim: Sim, portal: SimulatedPortal) -> None:
    column = next(c for c in COLUMNS if c.style == "post")
    total = portal.column_total(column)
    form = (
        f"col=1&appid=1&webid=1&path=%2F&columnid={column.cid}&sourceContentType=1&unitid={column.unitid}"
        "&webname=x&permissiontype=0"
    ).encode()
    hdrs = {"Content-Type": "application/x-www-form-urlencoded"}
    status, _, body = sim.request(f"{column.proxy}?startrecord=4&endrecord=9&perpage=15", "POST", form, hdrs)
    assert status == 200
    want = [portal.release(i).path for i in portal.column_indices(column, 3, 9)]
    assert [_path(h) for h in HREF.findall(body.decode())] == want and len(want) == 6
    # endrecord beyond the total is clipped
    status, _, body = sim.request(
        f"{column.proxy}?startrecord=16&endrecord=5000&perpage=15", "POST", form, hdrs
    )
    assert status == 200 and len(RECORD.findall(body.decode())) == total - 15
    # malformed parameters, the wrong form for this column, the wrong proxy path
    assert sim.request(f"{column.proxy}?startrecord=x&endrecord=9&perpage=15", "POST", form, hdrs)[0] == 400
    assert sim.request(f"{column.proxy}?startrecord=9&endrecord=4&perpage=15", "POST", form, hdrs)[0] == 400
    assert (
        sim.request(f"{column.proxy}?startrecord=1&endrecord=9&perpage=15", "POST", b"col=1", hdrs)[0] == 400
    )
    assert sim.request(f"{column.proxy}?page=1&columnid={column.cid}&unitid={column.unitid}")[0] == 400
    other = (
        "/module/jpage/dataproxy.jsp" if column.proxy.startswith("/module/web/") else "/module/web/jpage/x"
    )
    assert sim.request(f"{other}?startrecord=1&endrecord=9&perpage=15", "POST", form, hdrs)[0] == 404


def test_all_pages_union_is_every_release_once(sim: Sim, portal: SimulatedPortal) -> None:
    listed: list[str] = []
    for column in COLUMNS:
        listed += _list_column(sim, column.path)
    assert len(listed) == RELEASES == len(set(listed))
    assert sorted(listed) == sorted(portal.release(i).path for i in range(RELEASES))


# -- release pages ---------------------------------------------------------------------------------------


def test_seed_release_page(sim: Sim, portal: SimulatedPortal) -> None:
    seed = portal.release(SEED_INDEX)
    assert seed.path.startswith("/art/2016/8/15/art_") and seed.language == "en"
    status, headers, body = sim.request(seed.path)
    assert status == 200 and headers["content-type"] == "text/html; charset=UTF-8"
    assert int(headers["content-length"]) == len(body)
    html = body.decode("utf-8")
    assert SEED_TITLE in html
    assert (
        'ReleaseDate: 2016-08-15 11:16:50 ArticleHits: <script language="javascript" src="/module/visitcount/'
        "articlehits.jsp?colid=" in html
    )
    seed_text = (ROOT / "simulator/data/seed_release.txt").read_text(encoding="utf-8")
    paragraphs = [b for b in seed_text.split("\n\n")[1:] if not b.startswith("Produced By")]
    zoom = html.split('<div id="zoom">', 1)[1].split("</div>", 1)[0]
    for paragraph in paragraphs:
        assert f"<p>{paragraph.replace('&', '&amp;')}</p>" in zoom
    assert zoom.count(HIDDEN) == 1 and html.count(HIDDEN) == 2
    assert "<!--ZJEG_RSS.content.begin--><META name=ContentStart>" in zoom
    assert "<META name=ContentEnd><!--ZJEG_RSS.content.end-->" in zoom
    truth = portal.truth(SEED_INDEX, sim.base)
    assert truth["title"] == SEED_TITLE and truth["release_datetime"] == "2016-08-15T11:16:50+08:00"
    assert truth["hits"] is None and truth["body_text"] == "\n\n".join(paragraphs)


def test_chinese_release_page_matches_truth(sim: Sim, portal: SimulatedPortal) -> None:
    for i in range(RELEASES):
        r = portal.release(i)
        if r.language != "zh" or r.charset != "utf-8" or r.transport == "gzip":
            continue
        html = sim.get_text(r.path)
        assert f"发布日期：{r.date_text}</span>" in html and f"来源：{r.source}</span>" in html
        assert f"<span>浏览次数：{r.hits_text}</span>" in html
        maketime = re.search(r"<meta name='Maketime' content='([^']+)'>", html).group(1)
        assert not maketime.startswith(r.release_date)
        assert f"visit.jsp?type=3&i_webid=1&i_columnid={r.column.cid}&i_articleid={r.article_id}" in html
        for paragraph in r.paragraphs:
            assert paragraph in html
        if r.index_no:
            assert f"索引号：</td><td>{r.index_no}</td>" in html and f"文号：</td><td>{r.doc_no}</td>" in html
        for url, name in r.attachments:
            href = attachment_href(url, f"127.0.0.2:{sim.port}")  # object-store files sit on the asset host
            assert html.index(f'<a href="{href}" target="_blank">{name}</a>') > html.index(
                "ZJEG_RSS.content.begin"
            )
        assert ("ZJEG_RSS.content.end" in html) == r.end_marker


def test_truth_date_forms_and_hits(portal: SimulatedPortal) -> None:
    seen = set()
    for i in range(RELEASES):
        r, t = portal.release(i), portal.truth(i)
        seen.add(r.date_form)
        if r.date_form == "ymd_hms":
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00", t["release_datetime"])
            assert t["release_time_precision"] == "second"
        elif r.date_form == "ymd_hm":
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:00\+08:00", t["release_datetime"])  # schema 2
            assert t["release_time_precision"] == "minute"
        else:
            assert t["release_datetime"] is None and t["release_time_precision"] is None
        assert t["release_date"] == "{}-{:02d}-{:02d}".format(*map(int, r.path.split("/")[2:5]))
        if r.hits_text:
            assert int(r.hits_text.replace(",", "")) == t["hits"]
        else:
            assert t["hits"] is None
    assert seen == {"ymd_hms", "ymd_hm", "ymd", "cn", "slash"}
    assert any("," in portal.release(i).hits_text for i in range(RELEASES))


def test_release_page_sizes(sim: Sim, portal: SimulatedPortal) -> None:
    for i in range(0, RELEASES, 5):
        status, _, body = sim.request(portal.release(i).path)
        assert status == 200 and 20_000 <= len(body) <= 45_000, (i, len(body))


def test_unknown_or_mismatched_release_is_404(sim: Sim, portal: SimulatedPortal) -> None:
    r = portal.release(8)
    y, m, d = r.when.year, r.when.month, r.when.day
    assert sim.request(r.path)[0] == 200
    assert sim.request(f"/art/{y}/{m:02d}/{d:02d}/art_{r.column.cid}_{r.article_id}.html")[0] == 404
    assert sim.request(f"/art/{y + 1}/{m}/{d}/art_{r.column.cid}_{r.article_id}.html")[0] == 404
    assert sim.request(f"/art/{y}/{m}/{d}/art_{r.column.cid}_{r.article_id + 10**6}.html")[0] == 404
    assert sim.request(f"/art/{y}/{m}/{d}/art_{COLUMNS[0].cid}_{r.article_id}.html")[0] == 404


# -- transport and encodings -----------------------------------------------------------------------------


def test_gzip_only_when_accepted(sim: Sim, portal: SimulatedPortal) -> None:
    r = portal.release(_first(portal, transport="gzip", charset="utf-8"))
    status, headers, body = sim.request(r.path, headers={"Accept-Encoding": "gzip, deflate"})
    assert status == 200 and headers["content-encoding"] == "gzip" and body[:2] == b"\x1f\x8b"
    assert int(headers["content-length"]) == len(body)
    assert r.title in gzip.decompress(body).decode("utf-8")
    status, headers, body = sim.request(r.path)
    assert "content-encoding" not in headers and r.title in body.decode("utf-8")


def _raw_get(sim: Sim, path: str) -> tuple[str, bytes]:
    with socket.create_connection((sim.host, sim.port), timeout=10) as sock:
        sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: {sim.host}:{sim.port}\r\nConnection: close\r\n\r\n".encode()
        )
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return head.decode("latin-1"), body


def test_chunked_is_really_chunked(sim: Sim, portal: SimulatedPortal) -> None:
    r = portal.release(_first(portal, transport="chunked", charset="utf-8"))
    head, body = _raw_get(sim, r.path)
    assert head.startswith("HTTP/1.1 200")
    assert re.search(r"(?im)^transfer-encoding: chunked$", head) and not re.search(
        r"(?im)^content-length:", head
    )
    pieces, rest = [], body
    while True:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            break
        pieces.append(rest[:size])
        rest = rest[size + 2 :]
    assert len(pieces) >= 2
    assert r.title in b"".join(pieces).decode("utf-8")
    plain = portal.release(_first(portal, transport="plain", charset="utf-8"))
    head, body = _raw_get(sim, plain.path)
    assert int(re.search(r"(?im)^content-length: (\d+)$", head).group(1)) == len(body)


def test_gbk_pages(sim: Sim, portal: SimulatedPortal) -> None:
    r = portal.release(_first(portal, charset="gbk-as-gb2312"))
    status, headers, body = sim.request(r.path)
    assert status == 200 and headers["content-type"] == "text/html; charset=gb2312"
    text = body.decode("gb18030")
    assert "镕" in text and r.title in text and portal.truth(r.index)["charset_used"] == "gb18030"
    with pytest.raises(UnicodeDecodeError):
        body.decode("gb2312")
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    r = portal.release(_first(portal, charset="gbk-meta-only"))
    status, headers, body = sim.request(r.path)
    assert headers["content-type"] == "text/html"
    assert b'<meta http-equiv="Content-Type" content="text/html; charset=gbk">' in body
    assert r.paragraphs[0] in body.decode("gb18030")


# -- counters, private, downloads, stats -----------------------------------------------------------------


def test_counters_private_and_stats(sim: Sim) -> None:
    before = sim.stats()
    status, _, body = sim.request("/module/visitcount/articlehits.jsp?colid=1487419&artid=2410000")
    assert status == 200 and re.fullmatch(rb"document\.write\(\d+\);", body)
    assert sim.request("/module/visitcount/visit.jsp?type=3&i_webid=1&i_columnid=1&i_articleid=2")[0] == 200
    assert sim.request("/vc/vc/interface/artcount/artcount.jsp?i_columnid=1&i_articleid=2")[0] == 200
    assert sim.request("/private/secret.html")[0] == 200
    after = sim.stats()
    assert after["counter_hits"] == before["counter_hits"] + 3
    assert after["private_hits"] == before["private_hits"] + 1
    assert after["requests"]["counter"] == before["requests"].get("counter", 0) + 3
    assert set(after) == {"counter_hits", "private_hits", "requests"}


def test_attachment_download(sim: Sim, portal: SimulatedPortal) -> None:
    r = next(portal.release(i) for i in range(RELEASES) if portal.release(i).attachments)
    url, _name = r.attachments[0]
    status, headers, body = sim.request(url)
    assert status == 200 and body
    assert headers["content-type"] in {"application/pdf", "application/msword", "application/vnd.ms-excel"}
    filename = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["filename"][0]
    assert headers["content-disposition"] == f'attachment; filename="{filename}"'
    assert sim.request(url)[2] == body
    assert sim.request("/module/download/downfile.jsp?filename=../../etc/passwd")[0] == 404


# -- truth, determinism, scale ---------------------------------------------------------------------------


def test_truth_cli_writes_jsonl(tmp_path: Path, sim: Sim, portal: SimulatedPortal) -> None:
    out = tmp_path / "truth.jsonl"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "simulator",
            "--releases",
            str(RELEASES),
            "--truth",
            str(out),
            "--base-url",
            sim.base,
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=60,
    )
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    asset_base = f"http://127.0.0.2:{sim.port}/"
    assert len(rows) == RELEASES
    for row in rows:
        assert set(row) == TRUTH_KEYS, set(row) ^ TRUTH_KEYS
        assert row["url"].startswith(sim.base) and set(row["column"]) == {"id", "name"}
        assert row["language"] in {"en", "zh"} and row["charset_used"] in {"utf-8", "gb18030"}
        assert all(set(a) == {"url", "name"} and a["url"].startswith((sim.base, asset_base))
                   for a in row["attachments"])
    assert rows[SEED_INDEX]["title"] == SEED_TITLE
    assert rows == list(portal.iter_truth(sim.base, asset_base))
    assert any(a["url"].startswith(asset_base) for row in rows for a in row["attachments"])
    assert len({r["release_id"] for r in rows}) == RELEASES


def test_determinism() -> None:
    a, b, c = SimulatedPortal(300, seed=7), SimulatedPortal(300, seed=7), SimulatedPortal(300, seed=8)
    assert [a.truth(i) for i in range(0, 300, 17)] == [b.truth(i) for i in range(0, 300, 17)]
    assert [a.truth(i)["body_text"] for i in range(1, 300, 17)] != [
        c.truth(i)["body_text"] for i in range(1, 300, 17)
    ]
    assert a.truth(SEED_INDEX) == c.truth(SEED_INDEX)


def test_large_portal_is_on_demand(tmp_path: Path) -> None:
    big = SimulatedPortal(100_000)
    started = time.perf_counter()
    last = big.release(99_999)
    assert time.perf_counter() - started < 0.5
    assert last.release_id == f"demo:{last.column.cid}_{last.article_id}" and last.when.year == 2024
    assert big.find(last.path) == last
    rows = big.iter_truth("http://127.0.0.1:1")
    assert inspect.isgenerator(rows)
    assert [r["release_id"] for r in itertools.islice(rows, 3)] == [
        big.release(i).release_id for i in range(3)
    ]
    listing = big.column_indices(COLUMNS[2], 45, 60)
    assert (
        len(listing) == 15
        and all(i % len(COLUMNS) == 2 for i in listing)
        and listing == sorted(listing)[::-1]
    )
    # streaming: writing 3,000 rows keeps memory flat (no list of rows)
    mid = SimulatedPortal(3_000)
    tracemalloc.start()
    try:
        assert write_truth(mid, str(tmp_path / "t.jsonl"), "http://127.0.0.1:1") == 3_000
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2_000_000, peak


def test_body_text_convention_matches_rendered_pages() -> None:
    """The truth's body_text is what architecture.md's block rule yields from the rendered `div#zoom`."""
    from lxml import html as lxml_html

    from simulator import templates

    big = SimulatedPortal(5_000, seed=3)
    for i in range(0, 5_000, 97):
        r = big.release(i)
        page = templates.release_page(big, r, "127.0.0.1:1")
        raw = page.encode("utf-8" if r.charset == "utf-8" else "gbk")
        doc = lxml_html.fromstring(raw.decode(big.truth(i)["charset_used"]))
        zoom = doc.xpath('//div[@id="zoom"]')[0]
        hidden = zoom.xpath('.//a[@href="http://www.hanweb.com"]')
        assert len(hidden) == 1
        hidden[0].drop_tree()
        blocks = [" ".join(p.text_content().split()) for p in zoom.xpath(".//p")]
        assert "\n\n".join(b for b in blocks if b) == big.truth(i)["body_text"]
        heading = doc.xpath("//h1/text()") or doc.xpath('//td[@class="title"]/text()')
        assert heading == [r.title]
