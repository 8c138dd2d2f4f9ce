"""Issue 13: every release URL accounted for, lost-release answers as failure rows, the verdict, bad input.

Crawls are real (`crawler crawl` or the fault-crawl child against the loopback fault server); the conservation law
(`tests.support.invariants.assert_accounted`) is checked after each of them by the helpers themselves.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from crawler.fetch.soft404 import is_index_url, soft_404_reason
from crawler.report.ledger_store import ARCHIVED, FAILED, FETCHED, QUEUED, SKIPPED, LedgerStore
from crawler.report.verdict import Exit, decide
from tests.support.common import run_cli
from tests.support.fault_crawl import run_fault_crawl
from tests.support.faultserver import FaultServer, html_page, redirect, respond, sequence
from tests.support.invariants import assert_accounted, load_report

HTML = [("Content-Type", "text/html; charset=utf-8")]
SOFT_404 = ("<html><head><title>页面不存在</title></head><body><div class='error'>"
            "对不起，您访问的页面不存在或已被删除！<a href='/index.html'>返回首页</a></div></body></html>").encode()
#: The error template of a Hanweb site: a short page in the site's chrome, with no release labels.
HANWEB_ERROR = ("<html><head><title>测试区人民政府</title><link href='/module/error/css/error.css'></head><body>"
                "<div class='top'>首页 | 政务公开 | 政务服务</div><div class='err404'><img src='/module/error/"
                "images/404.png'>很抱歉，您要访问的内容已删除或不存在。</div></body></html>").encode()
RELEASE_ABOUT_404 = html_page("本站于今日起启用新域名，旧链接可能显示“页面不存在”，请从首页进入。"
                              "发布日期：2024-01-01 来源：办公室", title="关于启用新域名的通知").decode()


# -- units: the soft-404 rules, the ledger, the verdict --------------------------------------------------------

def test_soft_404_rules() -> None:
    assert soft_404_reason(SOFT_404.decode()) is not None
    assert soft_404_reason(HANWEB_ERROR.decode()) is not None  # no error title: short, template marks
    assert soft_404_reason(RELEASE_ABOUT_404) is None  # a release that talks about missing pages stays a release
    assert soft_404_reason(html_page("正文" * 50, title="关于2024年第404号文件的通知").decode()) is None
    assert soft_404_reason("<html><head><title>404 Not Found</title></head><body>nginx</body></html>")
    assert is_index_url("http://x.gov.cn/") and is_index_url("http://x.gov.cn/index.html")
    assert is_index_url("http://x.gov.cn/col/col123/index.html") and is_index_url("http://x.gov.cn/zwgk/")
    assert not is_index_url("http://x.gov.cn/art/2024/1/1/art_1_2.html")


def test_ledger_states_move_forward_and_the_first_outcome_wins() -> None:
    store = LedgerStore()
    assert store.learn("u1", "10", "list", 2) and not store.learn("u1", "11", "list2", 2)
    store.learn("u2", "10", "list", 2)
    store.learn("u3", None, None, 1)
    store.alias("u1-final", "u1")
    assert store.resolve("u1-final") == "u1" and store.resolve("nope") is None
    assert store.advance("u1", FETCHED) and store.advance("u1", QUEUED) and not store.advance("u1", FETCHED)
    assert store.advance("u1", ARCHIVED) and not store.advance("u1", FAILED, "late")
    assert store.advance("u2", FAILED, "http_500") and not store.advance("u2", ARCHIVED)
    assert store.advance("u3", SKIPPED, "robots")
    assert store.totals() == {(ARCHIVED, None): 1, (FAILED, "http_500"): 1, (SKIPPED, "robots"): 1}
    assert store.by_column() == {"10": {"listed": 2, "archived": 1, "failed": 1, "skipped": 0, "open": 0},
                                 "11": {"listed": 1, "archived": 1, "failed": 0, "skipped": 0, "open": 0}}
    assert not list(store.open_entries())
    store.learn("u4", "10", "list", 2)
    store.learn("u4", "10", "list", 2)  # listed twice: the dupefilter drops one copy, the other is fetched
    assert not store.drop_copy("u4") and store.drop_copy("u4")
    store.close()


def _stats(**extra: Any) -> dict[str, Any]:
    base = {"finish_reason": "finished", "ledger/learnt": 10, "ledger/archived": 10, "ledger/failed": 0,
            "ledger/skipped": 0, "lists/declared_total/7": 10, "ledger/column/7/listed": 10}
    base.update({k.replace("__", "/"): v for k, v in extra.items()})
    return base


@pytest.mark.parametrize(("stats", "outcome", "words"), [
    (_stats(), "complete", "10 of 10 listed releases archived"),
    (_stats(**{"ledger__archived": 8, "ledger__failed": 2, "ledger__failed__http_500": 2}), "incomplete",
     "2 listed releases failed (http_500 2)"),
    (_stats(**{"ledger__column__7__listed": 4, "ledger__learnt": 4, "ledger__archived": 4}), "incomplete",
     "column 7: lists named 4 of the 10 releases it declares (6 missing)"),
    (_stats(**{"failures__kind__page": 2, "lists__failed__7": 2}), "incomplete", "2 list, column or home pages"),
    (_stats(**{"ledger__archived": 9, "ledger__skipped": 1, "ledger__skipped__depth_limit": 1}), "incomplete",
     "skipped by limits (depth_limit 1)"),
    (_stats(**{"ledger__archived": 9, "ledger__skipped": 1, "ledger__skipped__robots": 1}), "complete", ""),
    (_stats(finish_reason="shutdown"), "interrupted", "Ctrl-C"),
    (_stats(finish_reason="portal_locked"), "not_run", "another run holds"),
    (_stats(finish_reason="jsonl_write_failed", **{"output__write_failed__releases.jsonl":
                                                   "JsonlWriteError: [Errno 28] No space left on device"}),
     "failed", "disk full"),
    (_stats(**{"ledger__learnt": 0, "ledger__archived": 0, "start__failed": 1,
               "start__failed_url": "http://127.0.0.1:9/", "start__failed_reason": "connect_refused"}),
     "failed", "start URL refused: http://127.0.0.1:9/ (connect_refused: nothing is listening there)"),
    (_stats(**{"ledger__learnt": 0, "ledger__archived": 0, "home__pages": 1, "home__url": "http://x/"}),
     "failed", "not a portal the spider knows: http://x/"),
    (_stats(**{"ledger__learnt": 0, "ledger__archived": 0, "home__pages": 1, "home__hanweb": 1}), "failed",
     "nothing listed"),
    (_stats(**{"ledger__archived": 0, "ledger__skipped": 10, "ledger__skipped__robots": 10}), "failed",
     "nothing archived"),
    (_stats(**{"ledger__archived": 0, "ledger__skipped": 10, "ledger__skipped__unchanged": 10}), "complete", ""),
    (_stats(**{"recurring__flagged": "release_count_drop"}), "flagged", "dropped sharply"),
    # issue 11: a column short of its total whose lists were all walked to their end has a stale total (a note);
    # a list cut by the trap cap, or whose every form failed, makes the run incomplete and names the column
    (_stats(**{"ledger__column__7__listed": 4, "ledger__learnt": 4, "ledger__archived": 4,
               "lists__exhausted__7": 1}), "complete", "4 of 4 listed releases archived"),
    (_stats(**{"lists__truncated__7": 1}), "incomplete", "column 7: a list widget stopped at LIST_MAX_PAGES"),
    (_stats(**{"lists__unfinished__7": 1}), "incomplete", "column 7: a list widget answered no list in any form"),
    (_stats(**{"failures__kind__page": 2, "lists__failed__7": 2, "lists__exhausted__7": 1}), "complete", ""),
])
def test_verdict_rules(stats: dict[str, Any], outcome: str, words: str) -> None:
    verdict = decide(stats)
    assert verdict.outcome == outcome, verdict
    assert words in verdict.headline + " " + " ".join(verdict.details), verdict
    assert verdict.exit_status == {"complete": 0, "failed": 1, "flagged": 3, "not_run": 4, "incomplete": 5,
                                   "interrupted": 5}[outcome]


def test_a_stale_total_of_an_exhausted_column_is_a_note_and_its_list_end_in_the_columns() -> None:
    from crawler.report.verdict import columns

    stats = _stats(**{"ledger__column__7__listed": 4, "ledger__learnt": 4, "ledger__archived": 4,
                      "lists__exhausted__7": 1, "lists__truncated__8": 1})
    assert any("column 7: 4 of 10" in note for note in decide(stats).notes)
    assert {c.column_id: c.list_end for c in columns(stats)} == {"7": "exhausted", "8": "truncated"}


def test_exit_statuses_are_one_list_and_the_docs_say_the_same() -> None:
    assert [(e.name, e.value) for e in Exit] == [("OK", 0), ("PROBLEM", 1), ("BAD_INPUT", 2), ("FLAGGED", 3),
                                                  ("NOT_RUN", 4), ("INCOMPLETE", 5)]
    docs = (Path(__file__).resolve().parent.parent / "docs" / "report.md").read_text("utf-8")
    for word, code in (("complete", 0), ("failed", 1), ("bad input", 2), ("flagged", 3), ("not run", 4),
                       ("incomplete", 5)):
        assert f"| {code} | {word}" in docs, (code, word)


# -- lost-release answers: each a failure row with its reason, the page that listed it, the run id ---------------

def column_page(urls: list[str], total: int | None = None) -> bytes:
    records = "".join(f"<record><![CDATA[<li><a href=\"{u}\">标题{i}</a><span>2024-01-0{i % 9 + 1}</span></li>]]>"
                      f"</record>" for i, u in enumerate(urls))
    declared = f"<script>var totalRecord = {total};</script>" if total is not None else ""
    return (f"<html><head><title>通知公告</title></head><body>{declared}<script type=\"text/xml\"><datastore>"
            f"<recordset>{records}</recordset></datastore></script></body></html>").encode()


def _release(n: int) -> str:
    return f"/art/2024/1/{n % 28 + 1}/art_7_{9000 + n}.html"


def test_each_lost_release_answer_is_a_failure_row_with_its_reason(tmp_path: Path) -> None:
    bad = {
        "no_content": respond(204, b""),
        "unsolicited_304": respond(304, b"", [("ETag", '"x"')]),
        "mailto": redirect("mailto:office@example.gov.cn"),
        "home": redirect("/index.html"),
        "column": redirect("/col/col7/index.html"),
        "refresh_js": respond(200, b'<html><head><meta http-equiv="refresh" content="0;url=javascript:void(0)">'
                                   b"</head><body></body></html>", HTML),
        "refresh_home": respond(200, b'<html><head><meta http-equiv="refresh" content="0;url=/"></head></html>',
                                HTML),
        "soft404": respond(200, SOFT_404, HTML),
        "hanweb_error": respond(200, HANWEB_ERROR, HTML),
        "not_followed": respond(300, b"choose", HTML),
    }
    reasons = {"no_content": "no_content", "unsolicited_304": "unsolicited_304", "mailto": "redirect_scheme",
               "home": "soft_404", "column": "soft_404", "refresh_js": "redirect_scheme",
               "refresh_home": "soft_404", "soft404": "soft_404", "hanweb_error": "soft_404",
               "not_followed": "http_300"}
    with FaultServer() as fs:
        paths = {kind: _release(i) for i, kind in enumerate(bad)}
        good = [_release(100 + i) for i in range(3)]
        for kind, handler in bad.items():
            fs.route(paths[kind], handler)
        for i, path in enumerate(good):
            fs.route(path, respond(200, html_page(f"正文{i}" * 40, title=f"好的{i}"), HTML))
        fs.route("/index.html", respond(200, html_page("首页"), HTML))
        start = fs.route("/col/col7/index.html", respond(200, column_page([*paths.values(), *good]), HTML))
        crawl = run_fault_crawl(tmp_path / "out", start_url=start, spider="hanweb",
                                settings={"RECURRING_ENABLED": False})
    assert {row["url"] for row in crawl.rows()} == {fs.url(p) for p in good}
    for kind, path in paths.items():
        url = fs.url(path)
        [row] = [f for f in crawl.failures if f["url"] == url or url in (f["redirect_urls"] or [])]
        assert row["reason"] == reasons[kind], (kind, row)
        assert row["release"] is True and row["via"] == start and row["portal"] == "test", row
        assert row["run_id"] == crawl.stats["run/id"]
    report = assert_accounted(crawl.out_dir)
    assert report["verdict"]["outcome"] == "incomplete"
    assert report["releases"]["failed_by_reason"]["soft_404"] == 5


def test_a_soft_404_on_a_later_run_is_a_removal_not_a_change(tmp_path: Path) -> None:
    out = tmp_path / "out"
    settings = {"RECURRING_REFRESH": True, "RECURRING_FLUSH_INTERVAL": 0.2}
    with FaultServer() as fs:
        path = _release(1)
        fs.route(path, sequence(respond(200, html_page("正文" * 40, title="原来的标题"), HTML),
                                respond(200, SOFT_404, HTML)))
        start = fs.route("/col/col7/index.html", respond(200, column_page([path]), HTML))
        first = run_fault_crawl(out, start_url=start, spider="hanweb", settings=settings)
        second = run_fault_crawl(out, start_url=start, spider="hanweb", settings=settings)
    assert len(first.rows()) == 1 and first.rows()[0]["title"] == "原来的标题"
    assert len(second.rows()) == 1, "the error page made a row"
    events = [json.loads(line) for line in (out / "events.jsonl").read_text("utf-8").splitlines()]
    assert [e["event"] for e in events] == ["release_removed"], events
    assert events[0]["new"]["reason"] == "soft_404"
    schema = json.loads((Path(__file__).resolve().parent.parent / "crawler" / "recurring" / "schemas" /
                         "events-v1.schema.json").read_text("utf-8"))
    Draft202012Validator(schema).validate(events[0])
    assert not [f for f in second.failures if f["release"]], second.failures
    report = load_report(out)
    assert report["releases"]["skipped_by_reason"] == {"removed": 1}


def test_off_site_links_are_counted_per_host_not_failure_rows(tmp_path: Path) -> None:
    with FaultServer() as fs:
        good = _release(1)
        fs.route(good, respond(200, html_page("正文" * 40), HTML))
        links = "".join(f"<a href='http://www.other0.gov.cn/col/col{i}/index.html'>x</a>" for i in range(3))
        page = column_page([good, "http://www.other1.gov.cn/art/2024/1/1/art_9_1.html",
                            "http://www.other1.gov.cn/art/2024/1/1/art_9_2.html"]).replace(
            b"</body>", links.encode() + b"<a href='/col/col8/index.html'>c</a></body>")
        fs.route("/col/col8/index.html", respond(200, column_page([]), HTML))
        start = fs.route("/col/col7/index.html", respond(200, page, HTML))
        crawl = run_fault_crawl(tmp_path / "out", start_url=start, spider="hanweb",
                                settings={"RECURRING_ENABLED": False})
    assert crawl.failures == []
    report = load_report(crawl.out_dir)
    assert report["offsite"]["by_host"] == {"www.other0.gov.cn": 3, "www.other1.gov.cn": 2}
    assert report["releases"]["skipped_by_reason"] == {"offsite": 2}
    assert report["verdict"]["outcome"] == "complete"


def test_lists_that_cannot_be_reached_make_the_run_incomplete_and_name_the_column(tmp_path: Path) -> None:
    with FaultServer() as fs:
        listed = [_release(i) for i in range(5)]
        for path in listed:
            fs.route(path, respond(200, html_page("正文" * 40), HTML))
        page = column_page(listed, total=40).replace(
            b"</body>", b"<script>$('#div1').jpage({proxyUrl:'/module/web/jpage/dataproxy.jsp',perPage:5,"
                        b"totalRecord:40,groupSize:1,ajaxParam:{col:1,webid:1,columnid:7,unitid:55}});</script></body>")
        fs.route("/module/web/jpage/dataproxy.jsp*", respond(500, b"busy", HTML))
        start = fs.route("/col/col7/index.html", respond(200, page, HTML))
        proc = run_cli("crawl", "--start-url", start, "--portal", "lists", "--out", str(tmp_path / "out"),
                       "--delay", "0", "--set", "ARCHIVER_ALLOWED_IPS=127.0.0.1", "--set", "ROBOTSTXT_OBEY=False",
                       "--set", "RETRY_TIMES=0", "--set", "PROGRESS_ENABLED=False", timeout=120)
    assert proc.returncode == Exit.INCOMPLETE, proc.stdout + proc.stderr
    first = proc.stdout.splitlines()[0]
    assert first.startswith("INCOMPLETE:") and "35 releases declared but never listed (column 7" in first, first
    assert "column 7 (通知公告): lists named 5 of the 40 releases it declares (35 missing)" in proc.stdout
    assert "list pages could not be fetched" in proc.stdout


# -- bad input: one line naming the input, exit 2, nothing written, no request ---------------------------------

@pytest.mark.parametrize(("args", "words"), [
    (["--portal", "my portal"], "--portal 'my portal': a portal id is 1-64 of a-z"),
    (["--portal", "ok", "--start-url", "www.example.gov.cn/"], "--start-url 'www.example.gov.cn/': expected an "
                                                                  "http:// or https:// URL with a host"),
    (["--portal", "ok", "--start-url", "http://"], "--start-url 'http://'"),
    (["--start-url", "{start}"], "--start-url needs --portal ID too"),
    (["--portal", "ok", "--set", "DOWNLAOD_DELAY=0"], "unknown setting 'DOWNLAOD_DELAY' (did you mean "
                                                       "DOWNLOAD_DELAY?)"),
    (["--portal", "ok", "--set", "DOWNLOAD_DELAY=abc"], "--set DOWNLOAD_DELAY=abc: DOWNLOAD_DELAY expects a number"),
    (["--portal", "ok", "--set", "RETRY_TIMES=two"], "RETRY_TIMES expects an integer"),
    (["--portal", "ok", "--set", "ROBOTSTXT_OBEY=maybe"], "ROBOTSTXT_OBEY expects true or false"),
    (["--portal", "ok", "--set", "NOEQUALS"], "--set expects NAME=VALUE"),
])
def test_bad_input_is_refused_before_anything_is_written(tmp_path: Path, args: list[str], words: str) -> None:
    out = tmp_path / "out"
    with FaultServer() as fs:
        start = fs.route("/index.html", respond(200, html_page("首页"), HTML))
        full = [a.replace("{start}", start) for a in args]
        if "--start-url" not in full and "--start-url" not in args:
            full += ["--start-url", start]
        proc = run_cli("crawl", *full, "--out", str(out), "--set", "ARCHIVER_ALLOWED_IPS=127.0.0.1", timeout=60)
        assert fs.hits() == 0
    assert proc.returncode == Exit.BAD_INPUT, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("crawler crawl: error: ") and words in lines[0], proc.stderr
    assert not out.exists()


def test_an_out_dir_of_another_portal_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "releases.jsonl").write_text(json.dumps({"portal": "binjiang", "url": "http://x/"}) + "\n")
    before = sorted(p.name for p in out.iterdir())
    proc = run_cli("crawl", "--portal", "xihu", "--start-url", "http://127.0.0.1:9/", "--out", str(out), timeout=60)
    assert proc.returncode == Exit.BAD_INPUT
    assert proc.stderr.strip() == (f"crawler crawl: error: --out {out}: it holds a crawl of portal 'binjiang', not "
                                   "'xihu'; give each portal its own output directory")
    assert sorted(p.name for p in out.iterdir()) == before


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_start_url_with_nothing_listening_fails_and_says_so(tmp_path: Path) -> None:
    port = _free_port()
    proc = run_cli("crawl", "--portal", "nobody", "--start-url", f"http://127.0.0.1:{port}/", "--out",
                   str(tmp_path / "out"), "--set", "ARCHIVER_ALLOWED_IPS=127.0.0.1", "--set", "RETRY_TIMES=0",
                   "--set", "ROBOTSTXT_OBEY=False", timeout=120)
    assert proc.returncode == Exit.PROBLEM, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[0] == (f"FAILED: start URL refused: http://127.0.0.1:{port}/ (connect_refused: "
                                           "nothing is listening there)")
    assert load_report(tmp_path / "out")["verdict"]["outcome"] == "failed"


def test_a_site_that_is_no_portal_is_said_so_in_one_line(tmp_path: Path) -> None:
    with FaultServer() as fs:
        start = fs.route("/", respond(200, b"<html><head><title>Welcome to nginx!</title></head><body><h1>Welcome"
                                           b"</h1><a href='/about.html'>about</a></body></html>", HTML))
        proc = run_cli("crawl", "--portal", "nginx", "--start-url", start, "--out", str(tmp_path / "out"),
                       "--set", "ARCHIVER_ALLOWED_IPS=127.0.0.1", "--set", "ROBOTSTXT_OBEY=False", timeout=120)
    assert proc.returncode == Exit.PROBLEM
    assert proc.stdout.splitlines()[0] == (f"FAILED: not a portal the spider knows: {start} has no Hanweb "
                                           "generator meta and no column links")


def test_the_progress_line_says_what_is_archived_known_failed_and_left() -> None:
    from crawler.progress import progress_line

    stats = {"response_received_count": 1520, "ledger/rows_archived": 1310, "ledger/learnt": 1402,
             "failures/count": 3, "failures/kind/release": 2, "skips/robots": 8,
             "lists/declared_total/1": 1500, "lists/declared_total/2": 500}
    line = progress_line(stats, 60.0)
    assert line.startswith("pages 1520  releases 1310/1402 known  failures 3  21.8/s  left 680 of 2000 declared, "
                           "about 30s"), line
    assert "left" not in progress_line({"ledger/learnt": 5}, 1.0)
